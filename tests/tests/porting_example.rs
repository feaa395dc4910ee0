//! The runtime at the end of `docs/porting.md` (`crates/jabber-proto/examples/game_loop.rs`)
//! against real servers: its `run` logs in, gets its own message back and logs out
//! cleanly; with a peer (a `jabber-std` session on another thread) it logs out on the
//! peer's answer; with a wrong password it ends on its own instead of waiting forever.
//! One server of each kind, ejabberd and prosody. Also: the guide shows the example as it
//! is, and `Client` is `Send` and `Sync`, as the guide says.

use std::net::TcpStream;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use jabber_proto::client::{Client, CloseReason, Config, Event, StanzaEvent};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::stanza::{Message, MessageType};
use jabber_std::{Connection, Next, Options};
use jabber_tests::{Server, ServerKind};

// Its `main` and argument parsing are for the command line; the tests call `run`.
#[allow(dead_code)]
#[path = "../../crates/jabber-proto/examples/game_loop.rs"]
mod game_loop;

use game_loop::{Outcome, TEXT};

const PASSWORD: &str = "pw-game";
/// Far more than a round trip on loopback takes; a hung loop fails instead of blocking.
const LIMIT: Duration = Duration::from_secs(60);

fn config(server: &Server) -> Config {
    let mut config = Config::new(server.domain(), jabber_net::fresh_seed());
    config.allow_plaintext = true; // loopback; prosody offers no digest
    config.version = None; // the example's classic login, stated: the default is XMPP 1.0
    config
}

/// Runs the example's loop on a thread of its own, at most [`LIMIT`] long.
fn run(server: &Server, user: &str, password: &str, peer: Option<Jid>) -> Outcome {
    let stream = TcpStream::connect(server.addr()).expect("connect");
    let config = config(server);
    let credentials = Credentials::new(user, password, "game-loop");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || tx.send(game_loop::run(stream, config, credentials, peer)));
    match rx.recv_timeout(LIMIT) {
        Ok(result) => result.expect("the loop's socket"),
        Err(e) => panic!("the game loop did not end within {LIMIT:?}: {e}"),
    }
}

fn scenarios(kind: ServerKind) {
    let server = Server::start(kind).unwrap_or_else(|e| panic!("start {kind}: {e}"));
    for user in ["gamer", "peer"] {
        server
            .register(user, PASSWORD)
            .unwrap_or_else(|e| panic!("register {user} on {kind}: {e}"));
    }
    let gamer = Jid::parse(&format!("gamer@{}/game-loop", server.domain())).expect("a JID");

    // To itself: the message comes back, then a clean logout.
    let outcome = run(&server, "gamer", PASSWORD, None);
    assert_eq!(outcome.jid.as_ref(), Some(&gamer), "{kind}: {outcome:?}");
    assert_eq!(outcome.echo.as_deref(), Some(TEXT), "{kind}: {outcome:?}");
    assert_eq!(outcome.reason, CloseReason::Local, "{kind}: {outcome:?}");

    // To a peer, who answers from a blocking session on another thread.
    let mut peer = Connection::connect_with(server.addr(), config(&server), Options::plain())
        .expect("peer connects");
    let peer_jid = peer
        .login(Credentials::new("peer", PASSWORD, "desk"))
        .expect("peer logs in")
        .jid;
    let answering = thread::spawn(move || {
        loop {
            match peer.next_event_timeout(LIMIT).expect("peer's socket") {
                Next::Event(Event::Stanza(StanzaEvent::Message(m)))
                    if m.body().as_deref() == Some(TEXT) =>
                {
                    let from = m.from().expect("a sender").to_owned_jid();
                    let answer = Message::new(MessageType::Chat, &from, "pong").expect("valid");
                    peer.send(answer).expect("peer answers");
                    return (from, peer.close().expect("peer logs out"));
                }
                Next::Event(_) => {}
                other => panic!("peer: no message within {LIMIT:?}: {other:?}"),
            }
        }
    });
    let outcome = run(&server, "gamer", PASSWORD, Some(peer_jid.to_bare()));
    let (asked_by, peer_end) = answering.join().expect("the peer's thread");
    assert_eq!(asked_by, gamer, "{kind}");
    assert_eq!(peer_end, CloseReason::Local, "{kind}");
    assert_eq!(outcome.echo.as_deref(), Some("pong"), "{kind}: {outcome:?}");
    assert_eq!(outcome.reason, CloseReason::Local, "{kind}: {outcome:?}");

    // A refused login: no session, nothing sent, and the loop still ends by itself.
    let outcome = run(&server, "gamer", "wrong", None);
    assert_eq!(outcome.jid, None, "{kind}: {outcome:?}");
    assert_eq!(outcome.echo, None, "{kind}: {outcome:?}");
}

#[test]
fn game_loop_on_prosody() {
    scenarios(ServerKind::Prosody);
}

#[test]
fn game_loop_on_ejabberd() {
    scenarios(ServerKind::Ejabberd);
}

/// `docs/porting.md` ends with the example's source; it must be the file as it is.
#[test]
fn porting_guide_shows_the_example() {
    let guide = include_str!("../../docs/porting.md");
    let example = include_str!("../../crates/jabber-proto/examples/game_loop.rs");
    assert!(
        guide.contains(&format!("```rust\n{example}```")),
        "docs/porting.md does not show crates/jabber-proto/examples/game_loop.rs as it is"
    );
    assert!(
        example.lines().count() <= 150,
        "the example outgrew 150 lines"
    );
}

/// `docs/porting.md` says a client may move to (and be shared with) another thread.
#[test]
fn client_is_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Client>();
    send_sync::<Event>();
}
