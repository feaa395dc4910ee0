//! The adapter's I/O against a scripted TCP peer on loopback: a tokio task that reads what
//! the client sends and writes fixed XMPP text. The protocol itself is the core's and is
//! tested there; these tests check that bytes, end of input, timers, commands from other
//! tasks and errors cross the socket as they should, that waiting costs no CPU, and that
//! dropping a wait loses nothing.
//!
//! Most tests run on the current-thread runtime, so the peer and the connection take
//! turns on one thread: a connection that blocked the thread or spun would stall them.

use std::future::poll_fn;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::num::NonZeroU64;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures_core::{FusedStream, Stream};
use jabber_proto::client;
use jabber_proto::features::roster::Subscription;
use jabber_proto::negotiation::auth::digest;
use jabber_proto::stanza::IqType;
use jabber_tokio::{
    CloseReason, Config, Connection, Credentials, Element, Error, Event, Jid, LoginError, Message,
    MessageType, Options, StanzaEvent, StreamEvent,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;

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
    /// How much of `pending` is known not to start a match.
    scanned: usize,
}

impl Peer {
    /// Reads until `pattern` arrives; returns everything up to and including it.
    async fn read_until(&mut self, pattern: &str) -> String {
        let pattern = pattern.as_bytes();
        loop {
            if let Some(i) = self.pending[self.scanned..]
                .windows(pattern.len())
                .position(|w| w == pattern)
            {
                let end = self.scanned + i + pattern.len();
                let rest = self.pending.split_off(end);
                let got = std::mem::replace(&mut self.pending, rest);
                self.scanned = 0;
                return String::from_utf8(got).expect("the client sends UTF-8");
            }
            self.scanned = self.pending.len().saturating_sub(pattern.len() - 1);
            let mut chunk = [0; 64 * 1024];
            match timeout(PATIENCE, self.sock.read(&mut chunk)).await {
                Ok(Ok(0)) => panic!(
                    "end of input while waiting for {:?}; got {:?}",
                    String::from_utf8_lossy(pattern),
                    String::from_utf8_lossy(&self.pending)
                ),
                Ok(Ok(n)) => self.pending.extend_from_slice(&chunk[..n]),
                Ok(Err(e)) => panic!(
                    "{e} while waiting for {:?}",
                    String::from_utf8_lossy(pattern)
                ),
                Err(_) => panic!(
                    "nothing within {PATIENCE:?} while waiting for {:?}; got {:?}",
                    String::from_utf8_lossy(pattern),
                    String::from_utf8_lossy(&self.pending)
                ),
            }
        }
    }

    /// Reads exactly one byte.
    async fn read_byte(&mut self) -> u8 {
        if !self.pending.is_empty() {
            self.scanned = 0;
            return self.pending.remove(0);
        }
        timeout(PATIENCE, self.sock.read_u8())
            .await
            .expect("a byte in time")
            .expect("a byte")
    }

    /// Reads until the client shuts the connection down; returns what came before.
    async fn read_to_end(&mut self) -> String {
        let mut rest = std::mem::take(&mut self.pending);
        timeout(PATIENCE, self.sock.read_to_end(&mut rest))
            .await
            .expect("the client shuts the socket down in time")
            .expect("the client shuts the socket down");
        String::from_utf8(rest).expect("the client sends UTF-8")
    }

    async fn write(&mut self, text: &str) {
        self.sock
            .write_all(text.as_bytes())
            .await
            .expect("peer write");
    }

    /// Writes `text` one byte per `write` call (Nagle is off: one segment each), letting
    /// the client run between them so that it reads them one at a time.
    async fn write_bytewise(&mut self, text: &str) {
        for b in text.as_bytes() {
            self.sock
                .write_all(std::slice::from_ref(b))
                .await
                .expect("peer write");
            tokio::task::yield_now().await;
        }
    }

    /// Reads our stream header and answers with the server's.
    async fn open_stream(&mut self) {
        self.read_until("<stream:stream").await;
        let header = self.read_until(">").await;
        assert!(header.contains("to='example.com'"), "{header}");
        self.write(SERVER_HEADER).await;
    }

    /// The iq:auth exchange; returns the id of the `set`.
    async fn authenticate(&mut self) -> String {
        let get = self.read_until("</iq>").await;
        assert!(get.contains("<username>alice</username>"), "{get}");
        self.write(&format!(
            "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'>\
             <username/><digest/><resource/></query></iq>",
            id_of(&get)
        ))
        .await;
        let set = self.read_until("</iq>").await;
        let proof = format!("<digest>{}</digest>", digest("s1", PASSWORD));
        assert!(set.contains(&proof), "{set}");
        assert!(set.contains("<resource>laptop</resource>"), "{set}");
        id_of(&set)
    }

    /// A login with neither roster nor presence ([`lite_config`]).
    async fn login(&mut self) {
        self.open_stream().await;
        let id = self.authenticate().await;
        self.write(&format!("<iq type='result' id='{id}'/>")).await;
    }
}

/// The `id` attribute of the first element in `xml` (the client quotes with `'`).
fn id_of(xml: &str) -> String {
    let start = xml.find(" id='").expect("an id") + 5;
    let len = xml[start..].find('\'').expect("a closing quote");
    xml[start..start + len].to_owned()
}

/// Starts a peer running `script` on the first connection to the returned address.
async fn serve<F, Fut>(script: F) -> (SocketAddr, JoinHandle<()>)
where
    F: FnOnce(Peer) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    serve_on(listener, script)
}

/// [`serve`] on a listener of the test's own.
fn serve_on<F, Fut>(listener: TcpListener, script: F) -> (SocketAddr, JoinHandle<()>)
where
    F: FnOnce(Peer) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let addr = listener.local_addr().expect("local address");
    let handle = tokio::spawn(async move {
        let (sock, _) = timeout(PATIENCE, listener.accept())
            .await
            .expect("a connection in time")
            .expect("accept");
        sock.set_nodelay(true).expect("nodelay");
        script(Peer {
            sock,
            pending: Vec::new(),
            scanned: 0,
        })
        .await;
    });
    (addr, handle)
}

/// A listener whose connections have a receive buffer fixed at 64 KiB: a client's
/// send buffer (4 MiB at most) and this cannot hold 8 MiB while the peer does not read.
fn small_window_listener() -> TcpListener {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(64 * 1024).expect("buffer size");
    socket
        .bind("127.0.0.1:0".parse().expect("address"))
        .expect("bind");
    socket.listen(1).expect("listen")
}

/// Waits for the peer's script and passes its panic on.
async fn finish(peer: JoinHandle<()>) {
    if let Err(e) = peer.await {
        std::panic::resume_unwind(e.into_panic());
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

fn bob() -> Jid {
    Jid::parse("bob@example.com/phone").expect("jid")
}

fn chat(body: &str) -> Message {
    Message::new(MessageType::Chat, &bob(), body).expect("valid message")
}

async fn connect(addr: SocketAddr, config: Config) -> Connection {
    Connection::connect_with(addr, config, Options::plain())
        .await
        .expect("connect")
}

/// The events up to and including `Closed`, then checks that nothing follows.
async fn events_to_close(conn: &mut Connection) -> (Vec<Event>, CloseReason) {
    let mut events = Vec::new();
    loop {
        match conn.next_event().await.expect("no I/O error") {
            Some(Event::Closed(reason)) => {
                assert!(conn.next_event().await.expect("no I/O error").is_none());
                assert!(conn.is_closed());
                return (events, reason);
            }
            Some(event) => events.push(event),
            None => panic!("ended without Closed after {events:?}"),
        }
    }
}

/// The next item of the connection as a [`Stream`].
async fn next_item(conn: &mut Connection) -> Option<Result<Event, Error>> {
    poll_fn(|cx| Pin::new(&mut *conn).poll_next(cx)).await
}

#[tokio::test]
async fn login_over_a_classic_stream_keeps_other_events_queued() {
    let (addr, peer) = serve(|mut peer| async move {
        peer.open_stream().await;
        let id = peer.authenticate().await;
        peer.write(&format!("<iq type='result' id='{id}'/>")).await;
        let roster_get = peer.read_until("</iq>").await;
        assert!(roster_get.contains("jabber:iq:roster"), "{roster_get}");
        peer.read_until("<presence/>").await;
        // A message overtakes the roster: it must wait in the queue, not be lost.
        peer.write(
            "<message from='bob@example.com/phone' type='chat'><body>early</body></message>",
        )
        .await;
        peer.write(&format!(
            "<iq type='result' id='{}'><query xmlns='jabber:iq:roster'>\
             <item jid='bob@example.com' name='Bob' subscription='both'/></query></iq>",
            id_of(&roster_get)
        ))
        .await;
        peer.write("</stream:stream>").await;
        assert_eq!(peer.read_to_end().await, "</stream:stream>");
    })
    .await;
    let mut conn = connect(addr, config()).await;
    assert!(!conn.is_tls());
    let me = conn.login(creds()).await.expect("login");
    assert_eq!(me.jid, Jid::parse("alice@example.com/laptop").expect("jid"));
    let roster = me.roster.expect("roster");
    assert_eq!(roster.items.len(), 1);
    assert_eq!(roster.items[0].jid.as_str(), "bob@example.com");
    assert_eq!(roster.items[0].subscription, Subscription::Both);

    let (events, reason) = events_to_close(&mut conn).await;
    let [
        Event::Stream(StreamEvent::Opened(_)),
        Event::Stanza(StanzaEvent::Message(m)),
    ] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!(m.body().as_deref(), Some("early"));
    assert_eq!(reason, CloseReason::Peer);
    finish(peer).await;
}

#[tokio::test]
async fn refused_login_is_an_error_and_the_stream_closes() {
    let (addr, peer) = serve(|mut peer| async move {
        peer.open_stream().await;
        let id = peer.authenticate().await;
        peer.write(&format!(
            "<iq type='error' id='{id}'><error code='401' type='auth'>\
             <not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        ))
        .await;
        peer.read_until("</stream:stream>").await;
        peer.write("</stream:stream>").await;
        assert_eq!(peer.read_to_end().await, "");
    })
    .await;
    let mut conn = connect(addr, lite_config()).await;
    match conn.login(creds()).await {
        Err(Error::Login(e @ LoginError::Refused(_))) => assert_eq!(e.code(), Some(401)),
        other => panic!("{other:?}"),
    }
    let (_, reason) = events_to_close(&mut conn).await;
    assert_eq!(reason, CloseReason::Local);
    finish(peer).await;
}

#[tokio::test]
async fn registration_in_band_then_the_stream_closes() {
    let (addr, peer) = serve(|mut peer| async move {
        peer.open_stream().await;
        let get = peer.read_until("</iq>").await;
        assert!(
            get.contains("type='get'") && get.contains("jabber:iq:register"),
            "{get}"
        );
        peer.write(&format!(
            "<iq type='result' id='{}'><query xmlns='jabber:iq:register'>\
             <username/><password/></query></iq>",
            id_of(&get)
        ))
        .await;
        let set = peer.read_until("</iq>").await;
        assert!(set.contains("<username>carol</username>"), "{set}");
        assert!(set.contains("<password>pw</password>"), "{set}");
        peer.write(&format!("<iq type='result' id='{}'/>", id_of(&set)))
            .await;
        peer.read_until("</stream:stream>").await;
        peer.write("</stream:stream>").await;
        assert_eq!(peer.read_to_end().await, "");
    })
    .await;
    let mut config = lite_config();
    config.allow_plaintext = true;
    let mut conn = connect(addr, config).await;
    conn.register("carol", "pw").await.expect("registered");
    let (events, reason) = events_to_close(&mut conn).await;
    assert!(
        matches!(events.as_slice(), [Event::Stream(StreamEvent::Opened(_))]),
        "{events:?}"
    );
    assert_eq!(reason, CloseReason::Local);
    finish(peer).await;
}

#[tokio::test]
async fn a_message_in_one_byte_writes_and_the_echo() {
    let (addr, peer) = serve(|mut peer| async move {
        peer.login().await;
        peer.write_bytewise(
            "<message from='bob@example.com/phone' type='chat'><body>h\u{e9}llo \u{2603}</body></message>",
        )
        .await;
        let echo = peer.read_until("</message>").await;
        assert!(echo.contains("to='bob@example.com/phone'"), "{echo}");
        assert!(echo.contains("<body>h\u{e9}llo \u{2603}</body>"), "{echo}");
        peer.write("</stream:stream>").await;
        assert_eq!(peer.read_to_end().await, "</stream:stream>");
    })
    .await;
    let mut conn = connect(addr, lite_config()).await;
    conn.login(creds()).await.expect("login");
    let message = loop {
        match conn.next_event().await.expect("no I/O error") {
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
    let (_, reason) = events_to_close(&mut conn).await;
    assert_eq!(reason, CloseReason::Peer);
    finish(peer).await;
}

#[tokio::test]
async fn the_events_as_a_stream_end_after_closed() {
    let (addr, peer) = serve(|mut peer| async move {
        peer.open_stream().await;
        peer.write("<message from='example.com'><body>one</body></message>")
            .await;
        peer.write("<presence from='bob@example.com/phone'/>").await;
        peer.write("</stream:stream>").await;
        assert_eq!(peer.read_to_end().await, "</stream:stream>");
    })
    .await;
    let mut conn = connect(addr, config()).await;
    let mut events = Vec::new();
    while let Some(item) = next_item(&mut conn).await {
        events.push(item.expect("no I/O error"));
    }
    assert!(conn.is_terminated());
    assert!(next_item(&mut conn).await.is_none());
    let [
        Event::Stream(StreamEvent::Opened(_)),
        Event::Stanza(StanzaEvent::Message(m)),
        Event::Stanza(StanzaEvent::Presence(_)),
        Event::Closed(CloseReason::Peer),
    ] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!(m.body().as_deref(), Some("one"));
    assert!(matches!(conn.next_event().await, Ok(None)));
    finish(peer).await;
}

/// Commands from another task, on a runtime with two worker threads: they run while the
/// owner waits for events, their verdicts come back, and they fail once the connection
/// is over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_in_another_task() {
    let (addr, peer) = serve(|mut peer| async move {
        peer.login().await;
        for i in 0..3 {
            let message = peer.read_until("</message>").await;
            assert!(message.contains(&format!("<body>n{i}</body>")), "{message}");
        }
        peer.write("</stream:stream>").await;
        assert_eq!(peer.read_to_end().await, "</stream:stream>");
    })
    .await;
    let mut conn = connect(addr, lite_config()).await;
    conn.login(creds()).await.expect("login");
    let sender = conn.sender();
    let task = tokio::spawn(async move {
        let jid = sender
            .command(|client, _| client.jid().cloned())
            .await
            .expect("the command ran");
        assert_eq!(
            jid.as_ref().map(Jid::as_str),
            Some("alice@example.com/laptop")
        );
        // The core's refusal comes back to the sender.
        let payload = Element::builder("query", "jabber:iq:version")
            .build()
            .expect("payload");
        let refused = sender
            .command(move |client, now| client.send_iq(now, None, IqType::Result, payload))
            .await
            .expect("the command ran");
        assert_eq!(refused, Err(client::Error::NotARequest));
        for i in 0..3 {
            sender.send(chat(&format!("n{i}"))).await.expect("sent");
        }
        sender.closed().await;
        assert!(sender.is_closed());
        match sender.send(chat("late")).await {
            Err(Error::Client(client::Error::Closed)) => {}
            other => panic!("{other:?}"),
        }
    });
    let (events, reason) = events_to_close(&mut conn).await;
    assert!(
        matches!(events.as_slice(), [Event::Stream(StreamEvent::Opened(_))]),
        "{events:?}"
    );
    assert_eq!(reason, CloseReason::Peer);
    if let Err(e) = task.await {
        std::panic::resume_unwind(e.into_panic());
    }
    // A sender made after the end fails at once; closing it is a no-op.
    let late = conn.sender();
    assert!(late.is_closed());
    assert!(matches!(
        late.send(chat("later")).await,
        Err(Error::Client(client::Error::Closed))
    ));
    late.close().await;
    finish(peer).await;
}

#[tokio::test]
async fn a_sender_logs_out_and_the_owner_sees_the_end() {
    let (addr, peer) = serve(|mut peer| async move {
        peer.login().await;
        peer.read_until("</stream:stream>").await;
        peer.write("<message from='example.com'><body>bye</body></message>")
            .await;
        peer.write("</stream:stream>").await;
        assert_eq!(peer.read_to_end().await, "");
    })
    .await;
    let mut conn = connect(addr, lite_config()).await;
    conn.login(creds()).await.expect("login");
    let sender = conn.sender();
    let task = tokio::spawn(async move { sender.close().await });
    let (events, reason) = events_to_close(&mut conn).await;
    let [
        Event::Stream(StreamEvent::Opened(_)),
        Event::Stanza(StanzaEvent::Message(m)),
    ] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!(m.body().as_deref(), Some("bye"));
    assert_eq!(reason, CloseReason::Local);
    task.await.expect("the sender's task");
    finish(peer).await;
}

#[tokio::test]
async fn the_keepalive_whitespace_reaches_the_peer_and_waiting_is_idle() {
    let interval = Duration::from_millis(100);
    let (addr, peer) = serve(|mut peer| async move {
        peer.open_stream().await;
        // The next bytes the client sends, once it has been idle for the interval.
        for _ in 0..3 {
            assert_eq!(peer.read_byte().await, b' ');
        }
        peer.write("<message from='example.com'><body>heard you</body></message>")
            .await;
        peer.write("</stream:stream>").await;
        assert_eq!(peer.read_to_end().await, "</stream:stream>");
    })
    .await;
    let mut config = config();
    config.keepalive_interval = Some(interval);
    let started = Instant::now();
    let mut conn = connect(addr, config).await;
    // Count the polls while waiting for the message: a handful per keepalive, not a spin.
    let mut polls = 0;
    let mut events = Vec::new();
    while events.len() < 2 {
        let event = poll_fn(|cx| {
            polls += 1;
            conn.poll_next_event(cx)
        })
        .await;
        events.push(event.expect("an event").expect("no I/O error"));
    }
    assert!(started.elapsed() >= 3 * interval);
    assert!(polls <= 20, "{polls} polls for 3 keepalives");
    let [
        Event::Stream(StreamEvent::Opened(_)),
        Event::Stanza(StanzaEvent::Message(m)),
    ] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!(m.body().as_deref(), Some("heard you"));
    let (_, reason) = events_to_close(&mut conn).await;
    assert_eq!(reason, CloseReason::Peer);
    finish(peer).await;
}

#[tokio::test]
async fn a_silent_peer_is_declared_dead() {
    let (addr, peer) = serve(|mut peer| async move {
        peer.login().await;
        // Silence; the client gives up and shuts the socket down.
        peer.read_to_end().await;
    })
    .await;
    let mut config = lite_config();
    // Long enough that a loaded machine cannot reach it between the steps below.
    let dead = Duration::from_millis(1_500);
    config.dead_peer_timeout = Some(dead);
    // The dead-peer clock starts at the last byte read, during `login`: measure from
    // before it, so scheduling delays can only make `waited` longer.
    let started = Instant::now();
    let mut conn = connect(addr, config).await;
    conn.login(creds()).await.expect("login");

    let wait = Duration::from_millis(100);
    assert!(matches!(
        timeout(wait, conn.next_event()).await,
        Ok(Ok(Some(Event::Stream(StreamEvent::Opened(_)))))
    ));
    let before = Instant::now();
    assert!(timeout(wait, conn.next_event()).await.is_err());
    assert!(before.elapsed() >= wait);
    assert!(!conn.is_closed());

    let mut polls = 0;
    let event = poll_fn(|cx| {
        polls += 1;
        conn.poll_next_event(cx)
    })
    .await;
    assert!(
        matches!(event, Some(Ok(Event::Closed(CloseReason::PeerTimeout)))),
        "{event:?}"
    );
    assert!(polls <= 5, "{polls} polls for one deadline");
    let waited = started.elapsed();
    assert!(waited >= dead, "{waited:?}");
    assert!(waited < Duration::from_secs(10), "{waited:?}");
    assert!(matches!(conn.next_event().await, Ok(None)));
    finish(peer).await;
}

#[tokio::test]
async fn an_idle_connection_without_timers_is_not_polled() {
    let (go, went) = oneshot::channel::<()>();
    let (addr, peer) = serve(|mut peer| async move {
        peer.login().await;
        went.await.expect("go");
        peer.write("</stream:stream>").await;
        assert_eq!(peer.read_to_end().await, "</stream:stream>");
    })
    .await;
    let mut config = lite_config();
    config.keepalive_interval = None;
    config.dead_peer_timeout = None;
    let mut conn = connect(addr, config).await;
    conn.login(creds()).await.expect("login");
    assert!(matches!(
        conn.next_event().await,
        Ok(Some(Event::Stream(StreamEvent::Opened(_))))
    ));
    let mut polls = 0;
    let idle = poll_fn(|cx| {
        polls += 1;
        conn.poll_next_event(cx)
    });
    // `biased`: when the sleep ends, the connection is not polled once more.
    tokio::select! {
        biased;
        () = tokio::time::sleep(Duration::from_millis(300)) => {}
        event = idle => panic!("{event:?}"),
    }
    assert_eq!(polls, 1, "woken while nothing happened");
    go.send(()).expect("the peer waits");
    let (events, reason) = events_to_close(&mut conn).await;
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(reason, CloseReason::Peer);
    finish(peer).await;
}

/// Waits cut short — by `timeout`, by a `select!` branch that lost — in the middle of a
/// stanza being read and of a stanza being written: nothing is lost either way.
#[tokio::test]
async fn dropped_waits_lose_no_event_and_no_byte() {
    // Larger than what the socket buffers hold while the peer does not read (its receive
    // buffer is fixed at 64 KiB, the client's send buffer grows to 4 MiB at most).
    const BIG: usize = 8 << 20;
    let (go, went) = oneshot::channel::<()>();
    let (addr, peer) = serve_on(small_window_listener(), |mut peer| async move {
        peer.login().await;
        peer.write("<message from='bob@example.com/phone' type='chat'><body>first ha")
            .await;
        went.await.expect("go");
        peer.write("lf</body></message>").await;
        // The big message whole, then the one sent after it.
        let big = peer.read_until("</message>").await;
        let body = big
            .split_once("<body>")
            .and_then(|(_, rest)| rest.split_once("</body>"))
            .map(|(body, _)| body)
            .expect("a body");
        assert!(body.len() == BIG && body.bytes().all(|b| b == b'x'));
        let after = peer.read_until("</message>").await;
        assert!(after.contains("<body>after</body>"), "{after}");
        peer.write("</stream:stream>").await;
        assert_eq!(peer.read_to_end().await, "</stream:stream>");
    });
    let mut config = lite_config();
    config.max_unsent_bytes = 2 * BIG;
    let mut conn = connect(addr, config).await;
    conn.login(creds()).await.expect("login");
    assert!(matches!(
        conn.next_event().await,
        Ok(Some(Event::Stream(StreamEvent::Opened(_))))
    ));

    // Half a stanza arrives; the waits for it are dropped.
    assert!(
        timeout(Duration::from_millis(100), conn.next_event())
            .await
            .is_err()
    );
    tokio::select! {
        event = conn.next_event() => panic!("{event:?}"),
        () = tokio::time::sleep(Duration::from_millis(50)) => {}
    }

    // A stanza the socket cannot take while the peer does not read: the writes stop
    // part-way, and the waits for them are dropped.
    conn.send(chat(&"x".repeat(BIG))).expect("send");
    assert!(
        timeout(Duration::from_millis(100), conn.flush())
            .await
            .is_err()
    );
    tokio::select! {
        flushed = conn.flush() => panic!("{flushed:?}"),
        () = tokio::time::sleep(Duration::from_millis(50)) => {}
    }
    conn.send(chat("after")).expect("send");

    go.send(()).expect("the peer waits");
    match conn.next_event().await {
        Ok(Some(Event::Stanza(StanzaEvent::Message(m)))) => {
            assert_eq!(m.body().as_deref(), Some("first half"))
        }
        other => panic!("{other:?}"),
    }
    let (events, reason) = events_to_close(&mut conn).await;
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(reason, CloseReason::Peer);
    finish(peer).await;
}

#[tokio::test]
async fn a_server_that_reads_nothing_fails_the_write_timeout() {
    const BIG: usize = 8 << 20;
    let (done, finished) = oneshot::channel::<()>();
    let (addr, peer) = serve_on(small_window_listener(), |mut peer| async move {
        peer.login().await;
        // Reads nothing more until the client has given up.
        finished.await.expect("done");
    });
    let mut config = lite_config();
    config.max_unsent_bytes = 2 * BIG;
    let mut options = Options::plain();
    let limit = Duration::from_millis(300);
    options.write_timeout = Some(limit);
    let mut conn = Connection::connect_with(addr, config, options)
        .await
        .expect("connect");
    conn.login(creds()).await.expect("login");
    // The write timeout counts from the last write that made progress, during `send` or
    // after it: measure from before it.
    let started = Instant::now();
    conn.send(chat(&"x".repeat(BIG))).expect("send");
    assert!(matches!(
        conn.next_event().await,
        Ok(Some(Event::Stream(StreamEvent::Opened(_))))
    ));
    match conn.next_event().await {
        Err(Error::Io(e)) => assert_eq!(e.kind(), ErrorKind::TimedOut),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() >= limit);
    assert!(conn.is_closed());
    done.send(()).expect("the peer waits");
    finish(peer).await;
}

/// `send` and `with_client` hand their bytes to the socket at once: the peer gets them
/// while nobody polls the connection.
#[tokio::test]
async fn a_command_is_written_without_a_poll() {
    let (addr, peer) = serve(|mut peer| async move {
        peer.login().await;
        let message = peer.read_until("</message>").await;
        assert!(message.contains("<body>at once</body>"), "{message}");
    })
    .await;
    let mut conn = connect(addr, lite_config()).await;
    conn.login(creds()).await.expect("login");
    conn.send(chat("at once")).expect("send");
    // Only the peer runs now.
    finish(peer).await;
    drop(conn);
}

#[tokio::test]
async fn the_peer_closing_tcp_is_end_of_input() {
    for (last_words, mid_element) in [
        ("", false),
        ("<message from='bob@example.com'><body>cut sh", true),
    ] {
        let (addr, peer) = serve(move |mut peer| async move {
            peer.login().await;
            peer.write(last_words).await;
            peer.sock.shutdown().await.expect("shutdown");
            assert_eq!(peer.read_to_end().await, "");
        })
        .await;
        let mut conn = connect(addr, lite_config()).await;
        conn.login(creds()).await.expect("login");
        let (_, reason) = events_to_close(&mut conn).await;
        assert_eq!(reason, CloseReason::EndOfInput { mid_element });
        finish(peer).await;
    }
}

#[tokio::test]
async fn logout_waits_for_the_server_close() {
    let (addr, peer) = serve(|mut peer| async move {
        peer.login().await;
        peer.read_until("</stream:stream>").await;
        peer.write("</stream:stream>").await;
        assert_eq!(peer.read_to_end().await, "");
    })
    .await;
    let mut conn = connect(addr, lite_config()).await;
    conn.login(creds()).await.expect("login");
    assert_eq!(conn.close().await.expect("close"), CloseReason::Local);
    finish(peer).await;
}

#[tokio::test]
async fn a_connection_reset_is_an_io_error_every_time() {
    let (addr, peer) = serve(|mut peer| async move {
        peer.login().await;
        // Closing with a zero linger time sends a reset instead of a FIN.
        socket2::SockRef::from(&peer.sock)
            .set_linger(Some(Duration::ZERO))
            .expect("linger");
    })
    .await;
    let mut conn = connect(addr, lite_config()).await;
    conn.login(creds()).await.expect("login");
    let sender = conn.sender();
    // As a stream: the event queued before, the error, then the end.
    assert!(matches!(
        next_item(&mut conn).await,
        Some(Ok(Event::Stream(StreamEvent::Opened(_))))
    ));
    match next_item(&mut conn).await {
        Some(Err(Error::Io(e))) => assert_eq!(e.kind(), ErrorKind::ConnectionReset),
        other => panic!("{other:?}"),
    }
    assert!(next_item(&mut conn).await.is_none());
    assert!(conn.is_terminated());
    assert!(conn.is_closed());
    // Every call after it fails the same way.
    for _ in 0..2 {
        let Err(Error::Io(again)) = conn.next_event().await else {
            panic!("the failure is not sticky")
        };
        assert_eq!(again.kind(), ErrorKind::ConnectionReset);
        assert_eq!(
            again.to_string().matches("failed earlier").count(),
            1,
            "{again}"
        );
    }
    assert!(matches!(conn.send(chat("x")), Err(Error::Io(_))));
    assert!(matches!(conn.flush().await, Err(Error::Io(_))));
    assert!(matches!(
        sender.send(chat("x")).await,
        Err(Error::Client(client::Error::Closed))
    ));
    assert!(matches!(conn.close().await, Err(Error::Io(_))));
    finish(peer).await;
}

#[tokio::test]
async fn direct_tls_speaks_tls_and_a_plaintext_answer_is_a_tls_error() {
    let (addr, peer) = serve(|mut peer| async move {
        // A TLS handshake record (0x16) of TLS 1.x (0x03): the ClientHello.
        assert_eq!(peer.read_byte().await, 0x16);
        assert_eq!(peer.read_byte().await, 0x03);
        peer.write(SERVER_HEADER).await;
        // The rest of the ClientHello, then the end.
        let mut rest = Vec::new();
        timeout(PATIENCE, peer.sock.read_to_end(&mut rest))
            .await
            .expect("the client shuts the socket down in time")
            .expect("the client shuts the socket down");
    })
    .await;
    let mut conn = Connection::connect(addr, config()).await.expect("connect");
    assert!(conn.is_tls());
    match conn.next_event().await {
        Err(Error::Tls(_)) => {}
        other => panic!("{other:?}"),
    }
    assert!(matches!(conn.next_event().await, Err(Error::Tls(_))));
    drop(conn);
    finish(peer).await;
}

#[tokio::test]
async fn a_refused_connection_is_an_io_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    match Connection::connect_with(addr, config(), Options::plain()).await {
        Err(Error::Io(e)) => assert_eq!(e.kind(), ErrorKind::ConnectionRefused),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_connect_timeout_is_an_io_error() {
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
        match timeout(short, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => fillers.push(s),
            Err(_) => break,
            Ok(Err(e)) => panic!("{e}"),
        }
    }
    assert!(fillers.len() < 16, "the accept queue never filled");

    let mut options = Options::plain();
    options.connect_timeout = short;
    let started = Instant::now();
    match Connection::connect_with(addr, config(), options).await {
        Err(Error::Io(e)) => assert_eq!(e.kind(), ErrorKind::TimedOut),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn the_connection_and_its_sender_can_move_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send::<Connection>();
    send_sync::<jabber_tokio::Sender>();
}

/// The drain rule: a ping and a message in one segment; the answer to the ping is
/// written before the message is handed over, so a caller that then stops polling for a
/// while does not leave the server's ping unanswered.
#[tokio::test]
async fn an_answer_goes_out_before_the_event_of_the_same_input() {
    let (answered_tx, answered_rx) = tokio::sync::oneshot::channel();
    let (addr, peer) = serve(|mut peer| async move {
        peer.login().await;
        peer.write(
            "<iq type='get' id='ping1' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>\
             <message from='bob@example.com/phone'><body>hi</body></message>",
        )
        .await;
        // The answer is the client's next stanza, an empty `<iq .../>`.
        let pong = timeout(Duration::from_secs(1), peer.read_until("/>"))
            .await
            .expect("the ping answered while the client is not polled");
        assert!(
            pong.contains("id='ping1'") && pong.contains("type='result'"),
            "{pong}"
        );
        let _ = answered_tx.send(());
        peer.write("</stream:stream>").await;
        assert_eq!(peer.read_to_end().await, "</stream:stream>");
    })
    .await;
    let mut conn = connect(addr, lite_config()).await;
    conn.login(creds()).await.expect("login");
    loop {
        match conn.next_event().await.expect("no I/O error") {
            Some(Event::Stanza(StanzaEvent::Message(_))) => break,
            Some(_) => {}
            None => panic!("ended before the message"),
        }
    }
    // Not polling the connection now: only what was already written can reach the peer.
    answered_rx.await.expect("the peer saw the answer");
    let (_, reason) = events_to_close(&mut conn).await;
    assert_eq!(reason, CloseReason::Peer);
    finish(peer).await;
}
