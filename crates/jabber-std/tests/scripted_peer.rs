//! The adapter's I/O against a scripted TCP peer on loopback: a thread that reads what
//! the client sends and writes fixed XMPP text. The protocol itself is the core's and is
//! tested there; these tests check that bytes, end of input, timers and errors cross the
//! socket as they should.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::num::NonZeroU64;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use jabber_proto::features::roster::Subscription;
use jabber_proto::negotiation::auth::digest;
use jabber_std::{
    CloseReason, Config, Connection, Credentials, Error, Event, Jid, LoginError, Message,
    MessageType, Next, Options, StanzaEvent, StreamEvent,
};

/// How long the peer waits for anything before the test fails.
const PATIENCE: Duration = Duration::from_secs(5);
const PASSWORD: &str = "s3cret";
const SERVER_HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='s1'>";

/// The server side of one connection.
struct Peer {
    sock: TcpStream,
    /// Received and not yet matched.
    pending: Vec<u8>,
}

impl Peer {
    /// Reads until `pattern` arrives; returns everything up to and including it.
    fn read_until(&mut self, pattern: &str) -> String {
        let pattern = pattern.as_bytes();
        loop {
            if let Some(i) = self
                .pending
                .windows(pattern.len())
                .position(|w| w == pattern)
            {
                let rest = self.pending.split_off(i + pattern.len());
                let got = std::mem::replace(&mut self.pending, rest);
                return String::from_utf8(got).expect("the client sends UTF-8");
            }
            let mut chunk = [0; 4096];
            match self.sock.read(&mut chunk) {
                Ok(0) => panic!(
                    "end of input while waiting for {:?}; got {:?}",
                    String::from_utf8_lossy(pattern),
                    String::from_utf8_lossy(&self.pending)
                ),
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(e) => panic!(
                    "{e} while waiting for {:?}; got {:?}",
                    String::from_utf8_lossy(pattern),
                    String::from_utf8_lossy(&self.pending)
                ),
            }
        }
    }

    /// Reads until the client shuts the connection down; returns what came before.
    fn read_to_end(&mut self) -> String {
        let mut rest = std::mem::take(&mut self.pending);
        self.sock
            .read_to_end(&mut rest)
            .expect("the client shuts the socket down");
        String::from_utf8(rest).expect("the client sends UTF-8")
    }

    fn write(&mut self, text: &str) {
        self.sock.write_all(text.as_bytes()).expect("peer write");
    }

    /// Writes `text` one byte per `write` call (Nagle is off: one segment each).
    fn write_bytewise(&mut self, text: &str) {
        for b in text.as_bytes() {
            self.sock
                .write_all(std::slice::from_ref(b))
                .expect("peer write");
        }
    }

    /// Reads our stream header and answers with the server's.
    fn open_stream(&mut self) {
        self.read_until("<stream:stream");
        let header = self.read_until(">");
        assert!(header.contains("to='example.com'"), "{header}");
        self.write(SERVER_HEADER);
    }

    /// The iq:auth exchange; returns the id of the `set`.
    fn authenticate(&mut self) -> String {
        let get = self.read_until("</iq>");
        assert!(get.contains("<username>alice</username>"), "{get}");
        self.write(&format!(
            "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'>\
             <username/><digest/><resource/></query></iq>",
            id_of(&get)
        ));
        let set = self.read_until("</iq>");
        let proof = format!("<digest>{}</digest>", digest("s1", PASSWORD));
        assert!(set.contains(&proof), "{set}");
        assert!(set.contains("<resource>laptop</resource>"), "{set}");
        id_of(&set)
    }

    /// A login with neither roster nor presence ([`lite_config`]).
    fn login(&mut self) {
        self.open_stream();
        let id = self.authenticate();
        self.write(&format!("<iq type='result' id='{id}'/>"));
    }
}

/// The `id` attribute of the first element in `xml` (the client quotes with `'`).
fn id_of(xml: &str) -> String {
    let start = xml.find(" id='").expect("an id") + 5;
    let len = xml[start..].find('\'').expect("a closing quote");
    xml[start..start + len].to_owned()
}

/// Starts a peer running `script` on the first connection to the returned address.
fn serve(script: impl FnOnce(Peer) + Send + 'static) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local address");
    let handle = thread::spawn(move || {
        let (sock, _) = listener.accept().expect("accept");
        sock.set_read_timeout(Some(PATIENCE)).expect("timeout");
        sock.set_nodelay(true).expect("nodelay");
        script(Peer {
            sock,
            pending: Vec::new(),
        });
    });
    (addr, handle)
}

/// Waits for the peer's script and passes its panic on.
fn finish(peer: JoinHandle<()>) {
    if let Err(panic) = peer.join() {
        std::panic::resume_unwind(panic);
    }
}

fn config() -> Config {
    let mut config = Config::new("example.com", NonZeroU64::MIN);
    config.seed = NonZeroU64::new(0x5eed).expect("a non-zero seed");
    config
}

/// No roster fetch and no initial presence: the login is two IQs.
fn lite_config() -> Config {
    let mut config = config();
    config.fetch_roster = false;
    config.initial_presence = false;
    config
}

fn creds() -> Credentials {
    Credentials::new("alice", PASSWORD, "laptop")
}

/// The events up to and including `Closed`, then checks that nothing follows.
fn events_to_close(conn: &mut Connection) -> (Vec<Event>, CloseReason) {
    let mut events = Vec::new();
    loop {
        match conn.next_event().expect("no I/O error") {
            Some(Event::Closed(reason)) => {
                assert!(conn.next_event().expect("no I/O error").is_none());
                assert!(conn.is_closed());
                return (events, reason);
            }
            Some(event) => events.push(event),
            None => panic!("ended without Closed after {events:?}"),
        }
    }
}

#[test]
fn login_over_a_classic_stream_keeps_other_events_queued() {
    let (addr, peer) = serve(|mut peer| {
        peer.open_stream();
        let id = peer.authenticate();
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
            id_of(&roster_get)
        ));
        peer.write("</stream:stream>");
        assert_eq!(peer.read_to_end(), "</stream:stream>");
    });
    let mut conn = Connection::connect_with(addr, config(), Options::plain()).expect("connect");
    let me = conn.login(creds()).expect("login");
    assert_eq!(me.jid, Jid::parse("alice@example.com/laptop").expect("jid"));
    let roster = me.roster.expect("roster");
    assert_eq!(roster.items.len(), 1);
    assert_eq!(roster.items[0].jid.as_str(), "bob@example.com");
    assert_eq!(roster.items[0].subscription, Subscription::Both);

    let (events, reason) = events_to_close(&mut conn);
    let [
        Event::Stream(StreamEvent::Opened(_)),
        Event::Stanza(StanzaEvent::Message(m)),
    ] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!(m.body().as_deref(), Some("early"));
    assert_eq!(reason, CloseReason::Peer);
    finish(peer);
}

#[test]
fn refused_login_is_an_error_and_the_stream_closes() {
    let (addr, peer) = serve(|mut peer| {
        peer.open_stream();
        let id = peer.authenticate();
        peer.write(&format!(
            "<iq type='error' id='{id}'><error code='401' type='auth'>\
             <not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        ));
        peer.read_until("</stream:stream>");
        peer.write("</stream:stream>");
        assert_eq!(peer.read_to_end(), "");
    });
    let mut conn =
        Connection::connect_with(addr, lite_config(), Options::plain()).expect("connect");
    match conn.login(creds()) {
        Err(Error::Login(e @ LoginError::Refused(_))) => assert_eq!(e.code(), Some(401)),
        other => panic!("{other:?}"),
    }
    let (_, reason) = events_to_close(&mut conn);
    assert_eq!(reason, CloseReason::Local);
    finish(peer);
}

#[test]
fn a_message_in_one_byte_writes_and_the_echo() {
    let (addr, peer) = serve(|mut peer| {
        peer.login();
        peer.write_bytewise(
            "<message from='bob@example.com/phone' type='chat'><body>h\u{e9}llo \u{2603}</body></message>",
        );
        let echo = peer.read_until("</message>");
        assert!(echo.contains("to='bob@example.com/phone'"), "{echo}");
        assert!(echo.contains("<body>h\u{e9}llo \u{2603}</body>"), "{echo}");
        peer.write("</stream:stream>");
        assert_eq!(peer.read_to_end(), "</stream:stream>");
    });
    let mut conn =
        Connection::connect_with(addr, lite_config(), Options::plain()).expect("connect");
    conn.login(creds()).expect("login");
    let message = loop {
        match conn.next_event().expect("no I/O error") {
            Some(Event::Stanza(StanzaEvent::Message(m))) => break m,
            Some(_) => {}
            None => panic!("ended before the message"),
        }
    };
    let body = message.body().expect("a body").into_owned();
    assert_eq!(body, "h\u{e9}llo \u{2603}");
    let from = Jid::from(message.from().expect("a sender"));
    let echo = Message::new(MessageType::Chat, &from, &body).expect("valid message");
    conn.send(echo).expect("send");
    let (_, reason) = events_to_close(&mut conn);
    assert_eq!(reason, CloseReason::Peer);
    finish(peer);
}

#[test]
fn the_keepalive_whitespace_reaches_the_peer() {
    let (addr, peer) = serve(|mut peer| {
        peer.open_stream();
        // The next byte the client sends, once it has been idle for the interval.
        let mut byte = [0u8; 1];
        peer.sock.read_exact(&mut byte).expect("a keepalive");
        assert_eq!(&byte, b" ");
        peer.write("<message from='example.com'><body>heard you</body></message>");
        peer.write("</stream:stream>");
        assert_eq!(peer.read_to_end(), "</stream:stream>");
    });
    let mut config = config();
    config.keepalive_interval = Some(Duration::from_millis(200));
    let started = Instant::now();
    let mut conn = Connection::connect_with(addr, config, Options::plain()).expect("connect");
    let (events, reason) = events_to_close(&mut conn);
    assert!(started.elapsed() >= Duration::from_millis(200));
    let [
        Event::Stream(StreamEvent::Opened(_)),
        Event::Stanza(StanzaEvent::Message(m)),
    ] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!(m.body().as_deref(), Some("heard you"));
    assert_eq!(reason, CloseReason::Peer);
    finish(peer);
}

#[test]
fn a_silent_peer_is_declared_dead() {
    let (addr, peer) = serve(|mut peer| {
        peer.login();
        // Silence; the client gives up and shuts the socket down.
        peer.read_to_end();
    });
    let mut config = lite_config();
    // Long enough that a loaded machine cannot reach it between the steps below.
    config.dead_peer_timeout = Some(Duration::from_millis(2_000));
    // The dead-peer clock starts at the last byte read, during `login`: measure from
    // before it, so scheduling delays can only make `waited` longer.
    let started = Instant::now();
    let mut conn = Connection::connect_with(addr, config, Options::plain()).expect("connect");
    conn.login(creds()).expect("login");

    let wait = Duration::from_millis(100);
    assert!(matches!(
        conn.next_event_timeout(wait),
        Ok(Next::Event(Event::Stream(StreamEvent::Opened(_))))
    ));
    assert!(matches!(
        conn.next_event_timeout(Duration::ZERO),
        Ok(Next::TimedOut)
    ));
    let before = Instant::now();
    assert!(matches!(conn.next_event_timeout(wait), Ok(Next::TimedOut)));
    assert!(before.elapsed() >= wait);
    assert!(!conn.is_closed());

    assert!(matches!(
        conn.next_event(),
        Ok(Some(Event::Closed(CloseReason::PeerTimeout)))
    ));
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(2_000), "{waited:?}");
    assert!(waited < Duration::from_secs(10), "{waited:?}");
    assert!(matches!(conn.next_event_timeout(wait), Ok(Next::Ended)));
    assert!(matches!(conn.next_event(), Ok(None)));
    finish(peer);
}

#[test]
fn the_peer_closing_tcp_is_end_of_input() {
    for (last_words, mid_element) in [
        ("", false),
        ("<message from='bob@example.com'><body>cut sh", true),
    ] {
        let (addr, peer) = serve(move |mut peer| {
            peer.login();
            peer.write(last_words);
            peer.sock.shutdown(Shutdown::Write).expect("shutdown");
            assert_eq!(peer.read_to_end(), "");
        });
        let mut conn =
            Connection::connect_with(addr, lite_config(), Options::plain()).expect("connect");
        conn.login(creds()).expect("login");
        let (_, reason) = events_to_close(&mut conn);
        assert_eq!(reason, CloseReason::EndOfInput { mid_element });
        finish(peer);
    }
}

#[test]
fn logout_waits_for_the_server_close() {
    let (addr, peer) = serve(|mut peer| {
        peer.login();
        peer.read_until("</stream:stream>");
        peer.write("</stream:stream>");
        assert_eq!(peer.read_to_end(), "");
    });
    let mut conn =
        Connection::connect_with(addr, lite_config(), Options::plain()).expect("connect");
    conn.login(creds()).expect("login");
    assert_eq!(conn.close().expect("close"), CloseReason::Local);
    finish(peer);
}

#[test]
fn a_connection_reset_is_an_io_error_every_time() {
    let (addr, peer) = serve(|mut peer| {
        peer.login();
        // Closing with a zero linger time sends a reset instead of a FIN.
        let sock = socket2::Socket::from(peer.sock);
        sock.set_linger(Some(Duration::ZERO)).expect("linger");
    });
    let mut conn =
        Connection::connect_with(addr, lite_config(), Options::plain()).expect("connect");
    conn.login(creds()).expect("login");
    let first = loop {
        match conn.next_event() {
            Ok(Some(Event::Stream(StreamEvent::Opened(_)))) => {}
            other => break other,
        }
    };
    let Err(Error::Io(e)) = first else {
        panic!("{first:?}")
    };
    assert_eq!(e.kind(), ErrorKind::ConnectionReset);
    assert!(conn.is_closed());
    let Err(Error::Io(again)) = conn.next_event() else {
        panic!("the failure is not sticky")
    };
    assert_eq!(again.kind(), ErrorKind::ConnectionReset);
    assert!(matches!(
        conn.send(
            Message::new(
                MessageType::Chat,
                &Jid::parse("bob@example.com").expect("jid"),
                "x"
            )
            .expect("msg")
        ),
        Err(Error::Io(_))
    ));
    finish(peer);
}

#[test]
fn a_refused_connection_is_an_io_error() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    match Connection::connect_with(addr, config(), Options::plain()) {
        Err(Error::Io(e)) => assert_eq!(e.kind(), ErrorKind::ConnectionRefused),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_connect_timeout_is_an_io_error() {
    // A listener whose accept queue is full drops further SYNs, so connecting hangs.
    let listener =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
    listener.bind(&any.into()).expect("bind");
    listener.listen(0).expect("listen");
    let addr = listener
        .local_addr()
        .expect("local address")
        .as_socket()
        .expect("an IP address");
    let short = Duration::from_millis(150);
    let mut fillers = Vec::new();
    while fillers.len() < 16 {
        match TcpStream::connect_timeout(&addr, short) {
            Ok(s) => fillers.push(s),
            Err(e) if e.kind() == ErrorKind::TimedOut => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(fillers.len() < 16, "the accept queue never filled");

    let mut options = Options::plain();
    options.connect_timeout = short;
    let started = Instant::now();
    match Connection::connect_with(addr, config(), options) {
        Err(Error::Io(e)) => assert_eq!(e.kind(), ErrorKind::TimedOut),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
}
