//! What every adapter must do, written once against the [`Session`] interface and run
//! through `jabber-std`, `jabber-mio` and `jabber-tokio` against scripted peers on
//! loopback ([`jabber_tests::scripted`]). Test names carry the adapter
//! (`mio::logout_waits_for_the_server_close`), so a failure names it.
//!
//! Scenarios: a login over a classic stream (events that overtake it stay queued), a
//! refused login, registration, a message read in one-byte pieces and its echo,
//! keepalives, a dead peer, the ways a connection ends (the server's close, end of
//! input, a stream error, a reset, a server that stops reading, logout), direct TLS
//! against a plaintext server, connecting (refused, timed out), and the order of writes
//! and events. The protocol is the core's; these check that bytes, end of input, timers
//! and errors cross each adapter's socket as they should. What one adapter alone has
//! (mio's sessions on one poll, tokio's `Sender`, `Stream` and cancel-safety, std's
//! blocking calls) is tested in that adapter's crate.
//!
//! A custom `main` (see [`jabber_tests::runner`]): each adapter runs every scenario in
//! a thread of its own.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use jabber_net::{Error, Options};
use jabber_proto::client::{
    self, CloseReason, Config, Event, SessionEvent, StanzaEvent, StreamEvent,
};
use jabber_proto::features::roster::Subscription;
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::LoginError;
use jabber_proto::stanza::{Message, MessageType};
use jabber_proto::stream::Condition;
use jabber_tests::adapters::{self, Adapter, Next, Session};
use jabber_tests::runner::{self, Filter, Scenario};
use jabber_tests::scripted::{self, gate};

/// How long the client side waits for anything before the scenario fails.
const LIMIT: Duration = Duration::from_secs(10);

struct Ctx {
    adapter: Box<dyn Adapter>,
}

/// The scenarios, in the order they run, named after their functions.
fn scenarios() -> Vec<Scenario<Ctx>> {
    macro_rules! named {
        ($($f:ident),* $(,)?) => { vec![$((stringify!($f), $f as fn(&Ctx))),*] };
    }
    named![
        login_keeps_other_events_queued,
        refused_login_closes_the_stream,
        registration_then_the_stream_closes,
        message_in_one_byte_writes_and_the_echo,
        send_is_written_before_any_wait,
        answer_goes_out_before_the_event_of_the_same_input,
        keepalive_whitespace_reaches_the_peer,
        silent_peer_is_declared_dead,
        peer_closing_tcp_is_end_of_input,
        stream_error_closes_after_the_events_before_it,
        logout_waits_for_the_server_close,
        reset_is_an_io_error_after_the_events_before_it,
        unreading_server_fails_the_write_timeout,
        direct_tls_against_plaintext_is_a_tls_error,
        refused_connection_is_an_io_error,
        connect_timeout_is_an_io_error,
        flood_beyond_the_event_bound_arrives_whole_and_in_order,
        a_flood_during_login_is_bounded,
    ]
}

fn main() -> ExitCode {
    let filter = Filter::from_args();
    let started = Instant::now();
    let filter = &filter;
    let tallies = runner::in_parallel(adapters::all().into_iter().map(|make| {
        move || {
            let ctx = Ctx { adapter: make() };
            let group = ctx.adapter.name();
            runner::run_scenarios(group, &ctx, &scenarios(), filter, &|_: &Ctx| String::new())
        }
    }));
    runner::finish(&tallies, started)
}

// ---- what differs between the adapters by design ----

/// mio's `connect` returns before the TCP connection is up; a failure to connect comes
/// from the first wait. std's and tokio's `connect` wait for it.
fn connects_later(ctx: &Ctx) -> bool {
    ctx.adapter.name() == "mio"
}

/// After a transport failure, std's and tokio's `Connection` repeat it on every call
/// (their documented contract); mio's driver forgets the session, so later waits end and
/// commands are refused as on a closed session.
fn repeats_failures(ctx: &Ctx) -> bool {
    ctx.adapter.name() != "mio"
}

/// std's and tokio's `login` keep the other events in a queue of their own while they
/// wait, bounded by `Config::max_events`; mio has no waiting login (its wrapper here
/// waits through the driver's outputs).
fn bounds_waiting_calls(ctx: &Ctx) -> bool {
    ctx.adapter.name() != "mio"
}

// ---- helpers ----

impl Ctx {
    fn connect(&self, addr: SocketAddr, config: Config) -> Box<dyn Session> {
        self.connect_with(addr, config, Options::plain())
    }

    fn connect_with(&self, addr: SocketAddr, config: Config, options: Options) -> Box<dyn Session> {
        self.adapter
            .connect(addr, config, options)
            .unwrap_or_else(|e| panic!("connect: {e}"))
    }

    /// A session logged in with [`scripted::lite_config`] (the peer must
    /// [`Peer::login`]).
    fn logged_in(&self, addr: SocketAddr, config: Config) -> Box<dyn Session> {
        let mut session = self.connect(addr, config);
        let me = session.login(scripted::creds()).expect("login");
        assert_eq!(me.jid, jid("alice@example.com/laptop"));
        session
    }
}

fn jid(s: &str) -> Jid {
    Jid::parse(s).expect("jid")
}

fn chat(body: &str) -> Message {
    scripted::chat("bob@example.com/phone", body)
}

/// The next event, which must come within [`LIMIT`].
fn next(session: &mut dyn Session) -> Event {
    match session.next_event(LIMIT) {
        Ok(Next::Event(event)) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

/// The events up to `Closed` and its reason; checks that nothing follows and that the
/// session refuses commands.
fn events_to_close(session: &mut dyn Session) -> (Vec<Event>, CloseReason) {
    let mut events = Vec::new();
    loop {
        match session.next_event(LIMIT) {
            Ok(Next::Event(Event::Closed(reason))) => {
                assert!(matches!(session.next_event(LIMIT), Ok(Next::Ended)));
                assert!(session.is_closed());
                assert_refuses_commands(session);
                return (events, reason);
            }
            Ok(Next::Event(event)) => events.push(event),
            other => panic!("ended without Closed ({other:?}) after {events:?}"),
        }
    }
}

/// Sending, logging in and any command are refused on a session that is over.
fn assert_refuses_commands(session: &mut dyn Session) {
    match session.send(chat("late").into()) {
        Err(Error::Client(client::Error::Closed)) => {}
        other => panic!("a send after the end: {other:?}"),
    }
    match session.login(scripted::creds()) {
        Err(Error::Client(client::Error::Closed)) => {}
        other => panic!("a login after the end: {other:?}"),
    }
    match session.command(Box::new(|c, now| c.send(now, chat("late")))) {
        Err(Error::Client(client::Error::Closed)) | Ok(Err(client::Error::Closed)) => {}
        other => panic!("a command after the end: {other:?}"),
    }
}

/// After the transport failed with an error of `kind` (already returned once): later
/// waits and commands, as the adapter answers them.
fn assert_failed_for_good(ctx: &Ctx, session: &mut dyn Session, kind: ErrorKind) {
    assert!(session.is_closed());
    if repeats_failures(ctx) {
        match session.next_event(LIMIT) {
            Err(Error::Io(e)) => assert_eq!(e.kind(), kind, "{e}"),
            other => panic!("the failure is not sticky: {other:?}"),
        }
        assert!(matches!(
            session.send(chat("x").into()),
            Err(Error::Io(e)) if e.kind() == kind
        ));
    } else {
        assert!(matches!(session.next_event(LIMIT), Ok(Next::Ended)));
        assert_refuses_commands(session);
    }
}

/// The error a wait returns; only `Opened` may come before it.
/// `n` chat messages whose bodies are their numbers, `0..n`.
fn numbered_messages(n: usize) -> String {
    (0..n)
        .map(|i| format!("<message from='bob@example.com/x'><body>{i}</body></message>"))
        .collect()
}

/// The numbers in the bodies of the messages among `events`, in order.
fn numbered_bodies(events: &[Event]) -> Vec<usize> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Stanza(StanzaEvent::Message(m)) => m.body().and_then(|b| b.parse().ok()),
            _ => None,
        })
        .collect()
}

fn failure(session: &mut dyn Session) -> Error {
    loop {
        match session.next_event(LIMIT) {
            Ok(Next::Event(Event::Stream(StreamEvent::Opened(_)))) => {}
            Err(e) => return e,
            other => panic!("expected an error, got {other:?}"),
        }
    }
}

// ---- logging in ----

fn login_keeps_other_events_queued(ctx: &Ctx) {
    let peer = scripted::serve(|mut peer| {
        peer.open_stream();
        let (id, user) = peer.authenticate();
        assert_eq!(user, scripted::USER);
        peer.write(&format!("<iq type='result' id='{id}'/>"));
        let roster_get = peer.read_until("</iq>");
        assert!(roster_get.contains("jabber:iq:roster"), "{roster_get}");
        peer.read_until("<presence/>");
        // A message overtakes the roster: it must wait in the queue, not be lost.
        peer.write(
            "<message from='bob@example.com/phone' type='chat'><body>early</body></message>",
        );
        peer.write(&format!(
            "<iq type='result' id='{}'><query xmlns='jabber:iq:roster'>\
             <item jid='bob@example.com' name='Bob' subscription='both'/></query></iq>",
            scripted::id_of(&roster_get)
        ));
        peer.close_stream();
    });
    let mut session = ctx.connect(peer.addr(), scripted::config());
    assert!(!session.is_tls());
    let me = session.login(scripted::creds()).expect("login");
    assert_eq!(me.jid, jid("alice@example.com/laptop"));
    let roster = me.roster.expect("roster");
    assert_eq!(roster.items.len(), 1);
    assert_eq!(roster.items[0].jid.as_str(), "bob@example.com");
    assert_eq!(roster.items[0].subscription, Subscription::Both);

    let (events, reason) = events_to_close(&mut *session);
    let [
        Event::Stream(StreamEvent::Opened(_)),
        Event::Stanza(StanzaEvent::Message(m)),
    ] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!(m.body().as_deref(), Some("early"));
    assert_eq!(reason, CloseReason::Peer);
    peer.finish();
}

fn refused_login_closes_the_stream(ctx: &Ctx) {
    let peer = scripted::serve(|mut peer| {
        peer.open_stream();
        let (id, _) = peer.authenticate();
        peer.write(&format!(
            "<iq type='error' id='{id}'><error code='401' type='auth'>\
             <not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        ));
        peer.answer_close();
    });
    let mut session = ctx.connect(peer.addr(), scripted::lite_config());
    match session.login(scripted::creds()) {
        Err(Error::Login(e @ LoginError::Refused(_))) => assert_eq!(e.code(), Some(401)),
        other => panic!("{other:?}"),
    }
    let (events, reason) = events_to_close(&mut *session);
    assert!(
        matches!(events.as_slice(), [Event::Stream(StreamEvent::Opened(_))]),
        "{events:?}"
    );
    assert_eq!(reason, CloseReason::Local);
    peer.finish();
}

fn registration_then_the_stream_closes(ctx: &Ctx) {
    let peer = scripted::serve(|mut peer| {
        peer.open_stream();
        let get = peer.read_until("</iq>");
        assert!(
            get.contains("type='get'") && get.contains("jabber:iq:register"),
            "{get}"
        );
        peer.write(&format!(
            "<iq type='result' id='{}'><query xmlns='jabber:iq:register'>\
             <username/><password/></query></iq>",
            scripted::id_of(&get)
        ));
        let set = peer.read_until("</iq>");
        assert!(set.contains("<username>carol</username>"), "{set}");
        assert!(set.contains("<password>pw</password>"), "{set}");
        peer.write(&format!(
            "<iq type='result' id='{}'/>",
            scripted::id_of(&set)
        ));
        peer.answer_close();
    });
    let mut config = scripted::lite_config();
    config.allow_plaintext = true;
    let mut session = ctx.connect(peer.addr(), config);
    session.register("carol", "pw").expect("registered");
    let (events, reason) = events_to_close(&mut *session);
    assert!(
        matches!(events.as_slice(), [Event::Stream(StreamEvent::Opened(_))]),
        "{events:?}"
    );
    assert_eq!(reason, CloseReason::Local);
    peer.finish();
}

// ---- reading and writing ----

fn message_in_one_byte_writes_and_the_echo(ctx: &Ctx) {
    let peer = scripted::serve(|mut peer| {
        peer.login();
        peer.write_bytewise(
            "<message from='bob@example.com/phone' type='chat'><body>h\u{e9}llo \u{2603}</body></message>",
        );
        let echo = peer.read_until("</message>");
        assert!(echo.contains("to='bob@example.com/phone'"), "{echo}");
        assert!(echo.contains("<body>h\u{e9}llo \u{2603}</body>"), "{echo}");
        peer.close_stream();
    });
    let mut session = ctx.logged_in(peer.addr(), scripted::lite_config());
    let message = loop {
        match next(&mut *session) {
            Event::Stanza(StanzaEvent::Message(m)) => break m,
            Event::Stream(StreamEvent::Opened(_)) => {}
            other => panic!("{other:?}"),
        }
    };
    let body = message.body().expect("a body").into_owned();
    assert_eq!(body, "h\u{e9}llo \u{2603}");
    let from = Jid::from(message.from().expect("a sender"));
    let echo = Message::new(MessageType::Chat, &from, &body).expect("valid message");
    session.send(echo.into()).expect("send");
    let (events, reason) = events_to_close(&mut *session);
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(reason, CloseReason::Peer);
    peer.finish();
}

/// A stanza sent reaches the peer while the test waits for nothing from the session.
fn send_is_written_before_any_wait(ctx: &Ctx) {
    let peer = scripted::serve(|mut peer| {
        peer.login();
        let message = peer.read_until("</message>");
        assert!(message.contains("<body>at once</body>"), "{message}");
    });
    let mut session = ctx.logged_in(peer.addr(), scripted::lite_config());
    session.send(chat("at once").into()).expect("send");
    // Only the peer runs now.
    peer.finish();
}

/// The drain rule: a ping and a message in one segment; the answer to the ping is
/// written before the message is handed over, so a caller that then stops waiting on
/// the session for a while does not leave the server's ping unanswered.
fn answer_goes_out_before_the_event_of_the_same_input(ctx: &Ctx) {
    let (answered, seen_answer) = gate();
    let peer = scripted::serve(move |mut peer| {
        peer.login();
        peer.write(
            "<iq type='get' id='ping1' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>\
             <message from='bob@example.com/phone'><body>hi</body></message>",
        );
        // The answer is the client's next stanza, an empty `<iq .../>`.
        peer.set_patience(Duration::from_secs(1));
        let pong = peer.read_until("/>");
        assert!(
            pong.contains("id='ping1'") && pong.contains("type='result'"),
            "{pong}"
        );
        answered.open();
        peer.set_patience(scripted::PATIENCE);
        peer.close_stream();
    });
    let mut session = ctx.logged_in(peer.addr(), scripted::lite_config());
    loop {
        match next(&mut *session) {
            Event::Stanza(StanzaEvent::Message(m)) => {
                assert_eq!(m.body().as_deref(), Some("hi"));
                break;
            }
            Event::Stream(StreamEvent::Opened(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    // Not waiting on the session now: only what was already written can reach the peer.
    seen_answer.wait();
    let (_, reason) = events_to_close(&mut *session);
    assert_eq!(reason, CloseReason::Peer);
    peer.finish();
}

// ---- timers ----

fn keepalive_whitespace_reaches_the_peer(ctx: &Ctx) {
    let interval = Duration::from_millis(100);
    let peer = scripted::serve(|mut peer| {
        peer.open_stream();
        // The next bytes the client sends, once it has been idle for the interval.
        for _ in 0..3 {
            assert_eq!(peer.read_byte(), b' ');
        }
        peer.write("<message from='example.com'><body>heard you</body></message>");
        peer.close_stream();
    });
    let mut config = scripted::config();
    config.keepalive_interval = Some(interval);
    let started = Instant::now();
    let mut session = ctx.connect(peer.addr(), config);
    let (events, reason) = events_to_close(&mut *session);
    assert!(started.elapsed() >= 3 * interval);
    let [
        Event::Stream(StreamEvent::Opened(_)),
        Event::Stanza(StanzaEvent::Message(m)),
    ] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!(m.body().as_deref(), Some("heard you"));
    assert_eq!(reason, CloseReason::Peer);
    peer.finish();
}

fn silent_peer_is_declared_dead(ctx: &Ctx) {
    let peer = scripted::serve(|mut peer| {
        peer.login();
        // Silence, the socket open; the client gives up on a dead peer without writing
        // anything more (the core's contract for PeerTimeout) and shuts down.
        assert_eq!(peer.read_to_end(), "");
    });
    let mut config = scripted::lite_config();
    // Long enough that a loaded machine cannot reach it between the steps below.
    let dead = Duration::from_millis(2_000);
    config.dead_peer_timeout = Some(dead);
    // The dead-peer clock starts at the last byte read, during `login`: measure from
    // before it, so scheduling delays can only make `waited` longer.
    let started = Instant::now();
    let mut session = ctx.logged_in(peer.addr(), config);

    let wait = Duration::from_millis(100);
    assert!(matches!(
        session.next_event(wait),
        Ok(Next::Event(Event::Stream(StreamEvent::Opened(_))))
    ));
    assert!(matches!(
        session.next_event(Duration::ZERO),
        Ok(Next::TimedOut)
    ));
    let before = Instant::now();
    assert!(matches!(session.next_event(wait), Ok(Next::TimedOut)));
    assert!(before.elapsed() >= wait);
    assert!(!session.is_closed());

    let (events, reason) = events_to_close(&mut *session);
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(reason, CloseReason::PeerTimeout);
    let waited = started.elapsed();
    assert!(waited >= dead, "{waited:?}");
    assert!(waited < Duration::from_secs(10), "{waited:?}");
    peer.finish();
}

// ---- endings ----

fn peer_closing_tcp_is_end_of_input(ctx: &Ctx) {
    for (last_words, mid_element) in [
        ("", false),
        ("<message from='bob@example.com'><body>cut sh", true),
    ] {
        let peer = scripted::serve(move |mut peer| {
            peer.login();
            peer.write(last_words);
            peer.shutdown_write();
            assert_eq!(peer.read_to_end(), "");
        });
        let mut session = ctx.logged_in(peer.addr(), scripted::lite_config());
        let (events, reason) = events_to_close(&mut *session);
        assert!(
            matches!(events.as_slice(), [Event::Stream(StreamEvent::Opened(_))]),
            "{events:?}"
        );
        assert_eq!(reason, CloseReason::EndOfInput { mid_element });
        peer.finish();
    }
}

fn stream_error_closes_after_the_events_before_it(ctx: &Ctx) {
    let peer = scripted::serve(|mut peer| {
        peer.login();
        peer.write(
            "<message from='bob@example.com/phone'><body>before</body></message>\
             <stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
             </stream:error>",
        );
        // The client closes its stream in turn and shuts down.
        assert_eq!(peer.read_to_end(), "</stream:stream>");
    });
    let mut session = ctx.logged_in(peer.addr(), scripted::lite_config());
    let (events, reason) = events_to_close(&mut *session);
    let [
        Event::Stream(StreamEvent::Opened(_)),
        Event::Stanza(StanzaEvent::Message(m)),
    ] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!(m.body().as_deref(), Some("before"));
    match reason {
        CloseReason::StreamError(e) => assert_eq!(e.condition, Condition::Conflict),
        other => panic!("{other:?}"),
    }
    peer.finish();
}

fn logout_waits_for_the_server_close(ctx: &Ctx) {
    let peer = scripted::serve(|mut peer| {
        peer.login();
        peer.answer_close();
    });
    let session = ctx.logged_in(peer.addr(), scripted::lite_config());
    assert_eq!(session.close().expect("close"), CloseReason::Local);
    peer.finish();
}

/// What arrived before a reset is reported before the failure.
fn reset_is_an_io_error_after_the_events_before_it(ctx: &Ctx) {
    for last_words in [None, Some("last words")] {
        let (go, gate) = gate();
        let peer = scripted::serve(move |mut peer| {
            peer.login();
            // Not before the client has seen the login through.
            gate.wait();
            if let Some(body) = last_words {
                peer.write(&format!(
                    "<message from='bob@example.com/phone'><body>{body}</body></message>"
                ));
            }
            peer.reset();
        });
        let mut session = ctx.logged_in(peer.addr(), scripted::lite_config());
        go.open();
        // The message and the reset are both in the client's socket before it looks.
        peer.finish();
        assert!(matches!(
            next(&mut *session),
            Event::Stream(StreamEvent::Opened(_))
        ));
        if let Some(body) = last_words {
            match next(&mut *session) {
                Event::Stanza(StanzaEvent::Message(m)) => {
                    assert_eq!(m.body().as_deref(), Some(body))
                }
                other => panic!("{other:?}"),
            }
        }
        match session.next_event(LIMIT) {
            Err(Error::Io(e)) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
            other => panic!("{other:?}"),
        }
        assert_failed_for_good(ctx, &mut *session, ErrorKind::ConnectionReset);
    }
}

fn unreading_server_fails_the_write_timeout(ctx: &Ctx) {
    // More than the socket buffers hold while the peer does not read (its receive
    // buffer is fixed at 64 KiB, the client's send buffer grows to 4 MiB at most).
    const BIG: usize = 8 << 20;
    let (done, held) = gate();
    let peer = scripted::serve_on(scripted::small_window(64 << 10), move |mut peer| {
        peer.login();
        // Reads nothing more until the client has given up.
        held.hold();
    });
    let mut config = scripted::lite_config();
    config.max_unsent_bytes = 2 * BIG;
    let mut options = Options::plain();
    let limit = Duration::from_millis(300);
    options.write_timeout = Some(limit);
    let mut session = ctx.connect_with(peer.addr(), config, options);
    session.login(scripted::creds()).expect("login");
    // The write timeout counts from the last write that made progress, during `send` or
    // after it: measure from before it.
    let started = Instant::now();
    // std's blocking `send` is where the time runs out; the others report it from a wait.
    match session.send(chat(&"x".repeat(BIG)).into()) {
        Ok(()) => {}
        Err(Error::Io(e)) => assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}"),
        Err(e) => panic!("{e:?}"),
    }
    match failure(&mut *session) {
        Error::Io(e) => assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}"),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() >= limit);
    assert!(session.is_closed());
    done.open();
    peer.finish();
}

// ---- TLS and connecting ----

fn direct_tls_against_plaintext_is_a_tls_error(ctx: &Ctx) {
    let peer = scripted::serve(|mut peer| {
        // A TLS handshake record (0x16) of TLS 1.x (0x03): the ClientHello.
        assert_eq!(peer.read_byte(), 0x16);
        assert_eq!(peer.read_byte(), 0x03);
        peer.write(scripted::SERVER_HEADER);
        // The rest of the ClientHello, then the end.
        peer.read_bytes_to_end();
    });
    let mut session = ctx.connect_with(peer.addr(), scripted::config(), Options::default());
    assert!(session.is_tls());
    match session.next_event(LIMIT) {
        Err(Error::Tls(_)) => {}
        other => panic!("{other:?}"),
    }
    assert!(session.is_closed());
    if repeats_failures(ctx) {
        assert!(matches!(session.next_event(LIMIT), Err(Error::Tls(_))));
    } else {
        assert!(matches!(session.next_event(LIMIT), Ok(Next::Ended)));
    }
    drop(session);
    peer.finish();
}

/// Connects to `addr`, which cannot be reached; the error, from `connect` or (where the
/// adapter connects later) from the first wait — a login queued meanwhile.
fn connect_failure(ctx: &Ctx, addr: SocketAddr, options: Options) -> Error {
    match ctx.adapter.connect(addr, scripted::lite_config(), options) {
        Err(e) => e,
        Ok(mut session) if connects_later(ctx) => {
            let e = match session.login(scripted::creds()) {
                Err(e) => e,
                Ok(me) => panic!("logged in as {}", me.jid),
            };
            assert!(session.is_closed());
            assert!(matches!(session.next_event(LIMIT), Ok(Next::Ended)));
            assert_refuses_commands(&mut *session);
            e
        }
        Ok(_) => panic!("connected"),
    }
}

fn refused_connection_is_an_io_error(ctx: &Ctx) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    match connect_failure(ctx, addr, Options::plain()) {
        Error::Io(e) => assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}"),
        other => panic!("{other:?}"),
    }
}

fn connect_timeout_is_an_io_error(ctx: &Ctx) {
    let backlog = scripted::FullBacklog::new();
    let mut options = Options::plain();
    options.connect_timeout = Duration::from_millis(300);
    let started = Instant::now();
    match connect_failure(ctx, backlog.addr(), options) {
        Error::Io(e) => assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}"),
        other => panic!("{other:?}"),
    }
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(waited < Duration::from_millis(1_500), "{waited:?}");
}

/// One read can hold more stanzas than `Config::max_events`: the core pauses, and the
/// adapter resumes it (reading only while the link wants input, and running its timer,
/// due at once, otherwise) instead of failing; every stanza arrives, in order.
fn flood_beyond_the_event_bound_arrives_whole_and_in_order(ctx: &Ctx) {
    const COUNT: usize = 2_000;
    let peer = scripted::serve(|mut peer| {
        peer.open_stream();
        let mut flood = numbered_messages(COUNT);
        flood.push_str("</stream:stream>");
        // One write: far more stanzas per read than the bound.
        peer.write(&flood);
        assert_eq!(peer.read_to_end(), "</stream:stream>");
    });
    let mut config = scripted::lite_config();
    config.max_events = 2;
    config.keepalive_interval = None;
    config.dead_peer_timeout = None;
    let mut session = ctx.connect(peer.addr(), config);
    let (events, reason) = events_to_close(&mut *session);
    assert_eq!(reason, CloseReason::Peer);
    let bodies = numbered_bodies(&events);
    assert_eq!(bodies, (0..COUNT).collect::<Vec<_>>());
    peer.finish();
}

/// A server that floods messages before it answers the login: the waiting call keeps at
/// most `Config::max_events` of them and then says so, instead of queueing without
/// bound; nothing is lost, and the outcome follows among the events.
fn a_flood_during_login_is_bounded(ctx: &Ctx) {
    const FLOOD: usize = 500;
    let peer = scripted::serve(|mut peer| {
        peer.open_stream();
        let (id, _) = peer.authenticate();
        peer.write(&numbered_messages(FLOOD));
        peer.write(&format!("<iq type='result' id='{id}'/>"));
        peer.close_stream();
    });
    let mut config = scripted::lite_config();
    config.max_events = 16;
    let mut session = ctx.connect(peer.addr(), config);
    let outcome = session.login(scripted::creds());
    let (events, reason) = events_to_close(&mut *session);
    if bounds_waiting_calls(ctx) {
        assert!(
            matches!(outcome, Err(Error::Client(client::Error::EventQueueFull))),
            "{outcome:?}"
        );
        let ready = events.iter().find_map(|e| match e {
            Event::Session(SessionEvent::Ready { jid, .. }) => Some(jid.clone()),
            _ => None,
        });
        assert_eq!(ready, Some(jid("alice@example.com/laptop")));
    } else {
        assert_eq!(outcome.expect("login").jid, jid("alice@example.com/laptop"));
    }
    let bodies = numbered_bodies(&events);
    assert_eq!(bodies, (0..FLOOD).collect::<Vec<_>>());
    assert_eq!(reason, CloseReason::Peer);
    peer.finish();
}
