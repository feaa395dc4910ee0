//! Captures of live sessions on ejabberd and prosody (direct TLS, through the blocking
//! adapter's `Options::capture`) replay to the same events and the same bytes sent, in
//! any chunking, and hold no password; the captures kept in `tests/captures/` replay to
//! what they recorded.
//!
//! `JABBER_WRITE_CAPTURES=1 cargo test -p jabber-tests --test captures` refreshes the
//! kept captures from the live sessions (after a change to what the client sends or to
//! the events' form).

use std::path::{Path, PathBuf};
use std::time::Duration;

use jabber_net::{Options, Tls};
use jabber_proto::client::{Config, Event, IqEvent, RecordKind, RosterEvent, StanzaEvent};
use jabber_proto::features::roster::RosterItem;
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::replay::{self, Options as ReplayOptions};
use jabber_proto::stanza::{IqType, Message, MessageType};
use jabber_proto::xml::Element;
use jabber_std::Connection;
use jabber_tests::scenario::wait_for;
use jabber_tests::{Server, ServerKind, TestCa};

const PASSWORD: &str = "Capture-s3cret";

/// How long a live session waits for each answer.
const WAIT: Duration = Duration::from_secs(10);

fn kept_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures")
}

/// A session on `kind` captured to a file: login over direct TLS, a message to
/// ourselves, a roster change seen as a push, an IQ to the server, logout. Returns the
/// capture's bytes.
fn live_session(kind: ServerKind) -> Vec<u8> {
    let server = Server::start(kind).expect("the server starts");
    server.register("alice", PASSWORD).expect("an account");
    let path = std::env::temp_dir().join(format!(
        "jabber-capture-{}-{}.jcap",
        kind.name(),
        std::process::id()
    ));
    let mut tls = Tls::default().trust(TestCa::get().ca_der().to_vec());
    tls.no_builtin_roots = true;
    let mut options = Options::tls(tls);
    options.capture = Some(path.clone());
    let mut config = Config::new(server.domain(), jabber_net::fresh_seed());
    // A classic (jabber:iq:auth) login, stated: the default is XMPP 1.0.
    config.version = None;
    let mut conn = Connection::connect_with(server.tls_addr(), config, options).expect("connected");
    let me = conn
        .login(Credentials::new("alice", PASSWORD, "capture"))
        .expect("logged in");
    let bare = me.jid.to_bare();
    conn.send(Message::new(MessageType::Chat, &bare, "to myself").expect("a message"))
        .expect("sent");
    wait_for(&mut conn, WAIT, |e| {
        (matches!(e, Event::Stanza(StanzaEvent::Message(m)) if m.body().as_deref() == Some("to myself"))).then_some(())
    });
    let bob = Jid::parse(&format!("bob@{}", server.domain())).expect("a JID");
    conn.with_client(|c, now| c.roster_set(now, &RosterItem::new(bob).with_name("Bob")))
        .expect("the connection lives")
        .expect("sent");
    wait_for(&mut conn, WAIT, |e| {
        matches!(e, Event::Roster(RosterEvent::Push(_))).then_some(())
    });
    let version = Element::builder("query", "jabber:iq:version")
        .build()
        .expect("a query");
    let server_jid = Jid::parse(server.domain()).expect("a JID");
    conn.with_client(|c, now| c.send_iq(now, Some(&server_jid), IqType::Get, version))
        .expect("the connection lives")
        .expect("sent");
    // prosody has no version module by default: an error answers, which is as good.
    wait_for(&mut conn, WAIT, |e| {
        matches!(e, Event::Iq(IqEvent::Result { .. } | IqEvent::Error { .. })).then_some(())
    });
    conn.close().expect("closed");
    let bytes = std::fs::read(&path).expect("the capture was written");
    let _ = std::fs::remove_file(&path);
    if std::env::var_os("JABBER_WRITE_CAPTURES").is_some() {
        std::fs::create_dir_all(kept_dir()).expect("the captures directory");
        std::fs::write(
            kept_dir().join(format!("{}-session.jcap", kind.name())),
            &bytes,
        )
        .expect("kept");
    }
    bytes
}

/// Replays `bytes` whole and in pieces of 1 and 7 bytes; each replay must match the
/// capture to its end. Returns the events.
fn replays_exactly(name: &str, bytes: &[u8]) -> Vec<String> {
    let records = replay::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let report = replay::replay(&records, &ReplayOptions::default());
    assert_eq!(report.difference, None, "{name}");
    assert!(!report.incomplete, "{name}");
    assert_eq!(report.replayed, records.len(), "{name}");
    let recorded: Vec<String> = records
        .iter()
        .filter(|r| r.kind == RecordKind::Event)
        .map(|r| String::from_utf8_lossy(&r.data).into_owned())
        .collect();
    assert_eq!(report.events, recorded, "{name}");
    for n in [1, 7] {
        let pieces = replay::replay(&records, &ReplayOptions::chunked(n));
        assert_eq!(pieces.difference, None, "{name}, pieces of {n}");
        assert_eq!(pieces.events, report.events, "{name}, pieces of {n}");
    }
    report.events
}

fn check_live(kind: ServerKind) {
    let bytes = live_session(kind);
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains(PASSWORD),
        "{kind}: the password is in the capture"
    );
    let events = replays_exactly(kind.name(), &bytes);
    for what in ["Ready", "to myself", "Push", "Iq(", "Closed"] {
        assert!(
            events.iter().any(|e| e.contains(what)),
            "{kind}: no {what} among {events:#?}"
        );
    }
}

#[test]
fn a_live_ejabberd_session_replays_exactly() {
    check_live(ServerKind::Ejabberd);
}

#[test]
fn a_live_prosody_session_replays_exactly() {
    check_live(ServerKind::Prosody);
}

#[test]
fn kept_captures_replay_to_their_events() {
    if std::env::var_os("JABBER_WRITE_CAPTURES").is_some() {
        // The live tests are rewriting them in parallel; the next run checks them.
        return;
    }
    let mut kept: Vec<PathBuf> = std::fs::read_dir(kept_dir())
        .expect("tests/captures")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "jcap"))
        .collect();
    kept.sort();
    let names: Vec<String> = kept
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    for server in ["ejabberd", "prosody"] {
        assert!(
            names.iter().any(|n| n.starts_with(server)),
            "no kept capture from {server}: {names:?}"
        );
    }
    for path in kept {
        let bytes = std::fs::read(&path).expect("readable");
        let name = path.display().to_string();
        let events = replays_exactly(&name, &bytes);
        assert!(events.iter().any(|e| e.contains("Ready")), "{name}");
        assert!(
            events.last().is_some_and(|e| e.starts_with("Closed")),
            "{name}"
        );
        assert!(
            !String::from_utf8_lossy(&bytes).contains(PASSWORD),
            "{name}"
        );
    }
}
