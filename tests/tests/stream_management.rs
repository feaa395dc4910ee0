//! XEP-0198 on real servers (ejabberd's mod_stream_mgmt, prosody's mod_smacks), over
//! XMPP 1.0 with STARTTLS and the run's test CA: stream management enabled and acking,
//! the TCP connection cut by a loopback proxy this test runs, the session resumed on a
//! new connection (no new binding) with nothing lost either way; and the zero-loss run,
//! 10,000 messages through 10 cuts at seeded random moments, reporting duplicates.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use jabber_net::{Options, Tls};
use jabber_proto::client::{Config, Event, SmEvent, StanzaEvent};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::stanza::{Message, MessageType};
use jabber_std::{Backoff, Connection, Item, Next, Resumed};
use jabber_tests::adapters::{
    self, MioAdapter, StdAdapter,
    reconnecting::{Reconnecting, ReconnectingAdapter},
};
use jabber_tests::{Server, ServerKind, TestCa};

fn test_tls() -> Tls {
    let mut tls = Tls::default().trust(TestCa::get().ca_der().to_vec());
    tls.no_builtin_roots = true;
    tls
}

fn config(server: &Server) -> Config {
    let mut c = Config::new(server.domain(), jabber_net::fresh_seed());
    c.version = Some("1.0".into());
    c.console = std::env::var_os("SM_DEBUG").is_some();
    c
}

/// A loopback TCP proxy in front of the server that can cut every connection through it
/// at once (both directions shut down; bytes in flight are lost).
struct Proxy {
    addr: SocketAddr,
    live: Arc<Mutex<Vec<TcpStream>>>,
    /// While set, connections are accepted and closed at once (a server that is down).
    blocked: Arc<AtomicBool>,
    /// While set, what the server sends is read and dropped (counted in `dropped`): the
    /// bytes a cut loses, made certain.
    holding: Arc<AtomicBool>,
    dropped: Arc<AtomicUsize>,
}

impl Proxy {
    fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let live = Arc::new(Mutex::new(Vec::new()));
        let registry = Arc::clone(&live);
        let blocked = Arc::new(AtomicBool::new(false));
        let refusing = Arc::clone(&blocked);
        let holding = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicUsize::new(0));
        let hold = (Arc::clone(&holding), Arc::clone(&dropped));
        thread::spawn(move || {
            for down in listener.incoming() {
                let Ok(down) = down else { continue };
                if refusing.load(Ordering::SeqCst) {
                    let _ = down.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(up) = TcpStream::connect(upstream) else {
                    continue;
                };
                let _ = down.set_nodelay(true);
                let _ = up.set_nodelay(true);
                let clones = (
                    down.try_clone(),
                    up.try_clone(),
                    down.try_clone(),
                    up.try_clone(),
                );
                let (Ok(d1), Ok(u1), Ok(d2), Ok(u2)) = clones else {
                    continue;
                };
                registry.lock().expect("the registry").extend([d2, u2]);
                let hold = (Arc::clone(&hold.0), Arc::clone(&hold.1));
                thread::spawn(move || pump(d1, up, None));
                thread::spawn(move || pump(u1, down, Some(hold)));
            }
        });
        Proxy {
            addr,
            live,
            blocked,
            holding,
            dropped,
        }
    }

    /// Drops what the server sends from now on (`true`), or passes it on again.
    fn hold(&self, holding: bool) {
        self.holding.store(holding, Ordering::SeqCst);
    }

    /// How many bytes of the server's were dropped while holding.
    fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }

    /// Closes new connections at once (`true`) or passes them on again (`false`).
    fn block(&self, blocked: bool) {
        self.blocked.store(blocked, Ordering::SeqCst);
    }

    /// Cuts every connection; returns how many there were.
    fn cut(&self) -> usize {
        let mut live = self.live.lock().expect("the registry");
        let n = live.len() / 2;
        for s in live.drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        n
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, hold: Option<(Arc<AtomicBool>, Arc<AtomicUsize>)>) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) if hold.as_ref().is_some_and(|h| h.0.load(Ordering::SeqCst)) => {
                if let Some((_, dropped)) = &hold {
                    dropped.fetch_add(n, Ordering::SeqCst);
                }
            }
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

fn backoff() -> Backoff {
    Backoff {
        initial: Duration::from_millis(400),
        max: Duration::from_secs(1),
        max_attempts: Some(30),
    }
}

/// Bob, directly on the server.
fn bob(server: &Server) -> Connection {
    let mut conn =
        Connection::connect_with(server.addr(), config(server), Options::starttls(test_tls()))
            .expect("bob connects");
    conn.login(Credentials::new("bob", "Bob-sm", "desk"))
        .expect("bob logs in");
    conn
}

/// Bob in a thread of his own (a server pings and drops a client that does not read):
/// he counts the messages he gets until he has `want` distinct ones or `secs` passed, and
/// sends "while away" to whoever the returned sender names.
fn spawn_bob(
    server: &Server,
    want: usize,
    secs: u64,
) -> (
    Jid,
    mpsc::Sender<Jid>,
    thread::JoinHandle<HashMap<String, usize>>,
) {
    let mut conn = bob(server);
    let jid = conn.client().jid().expect("bound").clone();
    let (tx, rx) = mpsc::channel::<Jid>();
    let handle = thread::spawn(move || {
        let mut got: HashMap<String, usize> = HashMap::new();
        let deadline = Instant::now() + Duration::from_secs(secs);
        while got.len() < want && Instant::now() < deadline {
            if let Ok(to) = rx.try_recv() {
                conn.send(chat(&to, "while away")).expect("bob sends");
            }
            if let Next::Event(Event::Stanza(StanzaEvent::Message(m))) = conn
                .next_event_timeout(Duration::from_millis(50))
                .expect("bob stays connected")
            {
                if let Some(body) = m.body() {
                    *got.entry(body.into_owned()).or_default() += 1;
                }
            }
        }
        got
    });
    (jid, tx, handle)
}

fn start(kind: ServerKind) -> (Server, Proxy) {
    let server = Server::start(kind).expect("the server starts");
    server.register("alice", "Alice-sm").expect("alice");
    server.register("bob", "Bob-sm").expect("bob");
    let proxy = Proxy::start(server.addr());
    (server, proxy)
}

fn chat(to: &Jid, body: &str) -> Message {
    Message::new(MessageType::Chat, to, body).expect("a message")
}

/// Alice through the proxy on a reconnecting session of `adapter` (resource `resource`),
/// logged in with stream management enabled; her full JID.
///
/// prosody 0.12.3 keeps the old connection's XML parser state across a resumption: after
/// a cut in the middle of a stanza, the resumed stream's first bytes continue that
/// stanza, so prosody answers `not-well-formed` or "XML stanza is too big", or waits
/// forever for the element to end (the stream then neither reads nor writes). The
/// liveness settings below detect the last case; the session then logs in anew and
/// reports the resent stanzas as possible duplicates. ejabberd resumes every time.
fn alice_on(
    adapter: &dyn ReconnectingAdapter,
    server: &Server,
    proxy: &Proxy,
    resource: &str,
) -> (Box<dyn Reconnecting>, Jid) {
    let creds = Credentials::new("alice", "Alice-sm", resource);
    let mut config = config(server);
    // Liveness (XEP-0199 when idle, then the dead-peer time): a stream that goes silent
    // without closing is given up and resumed elsewhere.
    config.keepalive_interval = Some(Duration::from_secs(2));
    config.dead_peer_timeout = Some(Duration::from_secs(6));
    // Acks asked for soon: the scenarios wait for them before a cut.
    config.sm_ack_delay_ms = 200;
    let options = Options::starttls(test_tls());
    let (mut session, logged_in) = adapter
        .connect_reconnecting(proxy.addr, config, options, creds, backoff())
        .expect("alice logs in");
    let name = adapter.name();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(
            Instant::now() < deadline,
            "{name}: stream management not enabled"
        );
        match session.next(Duration::from_millis(200)).expect("alive") {
            Some(Item::Event(Event::StreamManagement(SmEvent::Enabled { resumable }))) => {
                assert!(resumable, "{} allows resumption", server.kind());
                return (session, logged_in.jid);
            }
            Some(_) => {}
            None => panic!("{name}: the session ended"),
        }
    }
}

/// Runs `session` until `done` holds for an item (or the deadline passes), returning
/// the items seen.
fn pump_on(
    session: &mut dyn Reconnecting,
    secs: u64,
    mut done: impl FnMut(&Item) -> bool,
) -> Vec<Item> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        match session
            .next(Duration::from_millis(100))
            .expect("no adapter error")
        {
            Some(item) => {
                let stop = done(&item);
                seen.push(item);
                if stop {
                    return seen;
                }
            }
            None => break,
        }
    }
    panic!("not reached in {secs} s: {seen:?}");
}

/// Runs until the server acknowledged everything alice sent.
fn until_acked(session: &mut dyn Reconnecting, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while session.unacked() != Some(0) {
        assert!(Instant::now() < deadline, "{what}: no ack");
        session.next(Duration::from_millis(50)).expect("alive");
    }
}

/// One definition, every adapter's reconnecting session (jabber-std, jabber-mio,
/// jabber-tokio): the connection cut after acknowledged messages, messages sent while
/// away and bob's message waiting at the server; the session resumed on a new
/// connection (no new binding: the same full JID), everything delivered exactly once.
fn resume_after_a_cut(kind: ServerKind) {
    let (server, proxy) = start(kind);
    for make in adapters::reconnecting::all() {
        let adapter = make();
        let name = adapter.name();
        let what = format!("{kind} on {name}");
        let (bob_jid, bob_tx, bob) = spawn_bob(&server, 8, 40);
        let (mut alice, alice_jid) = alice_on(&*adapter, &server, &proxy, &format!("{name}-cut"));
        for i in 0..5 {
            alice
                .send(chat(&bob_jid.to_bare(), &format!("m{i}")).into())
                .expect("sent");
        }
        // Acked by the server (5 stanzas: one <r/>), then the cut.
        until_acked(&mut *alice, &what);
        // (Connections of the adapters before stay in the proxy's list: at least one.)
        assert!(proxy.cut() >= 1, "{what}");
        // While alice is away: hers go out into the dead connection or wait with the
        // session, bob's wait at the server.
        for i in 5..8 {
            alice
                .send(chat(&bob_jid.to_bare(), &format!("m{i}")).into())
                .expect("queued");
        }
        bob_tx.send(alice_jid.clone()).expect("bob is there");
        let items = pump_on(&mut *alice, 20, |i| matches!(i, Item::Reconnected(_)));
        assert!(
            items.iter().any(|i| matches!(i, Item::Disconnected(_))),
            "{what}: {items:?}"
        );
        assert!(
            items
                .iter()
                .any(|i| matches!(i, Item::Attempt { attempt: 1, .. })),
            "{what}: {items:?}"
        );
        let Some(Item::Reconnected(outcome)) = items.last() else {
            unreachable!()
        };
        assert!(
            matches!(outcome, Resumed::Resumed { jid, .. } if *jid == alice_jid),
            "{what}: {outcome:?}"
        );
        // What the server held for alice arrives on the resumed stream; no new session
        // means no new binding, roster or presence.
        let items = pump_on(&mut *alice, 10, |i| {
            matches!(i, Item::Event(Event::Stanza(StanzaEvent::Message(m)))
                if m.body().as_deref() == Some("while away"))
        });
        assert!(
            !items
                .iter()
                .any(|i| matches!(i, Item::Event(Event::Session(_)))),
            "{what}: {items:?}"
        );
        let got = bob.join().expect("bob");
        for i in 0..8 {
            assert_eq!(
                got.get(&format!("m{i}")),
                Some(&1),
                "{what}: m{i} in {got:?}"
            );
        }
        alice.close().expect("closed");
    }
}

/// A request whose reply the cut lost: the server still holds the reply unacknowledged,
/// sends it again on the resumed stream, and it reaches the request's handle (through
/// jabber-std; the carrying is the core's and `Recovery`'s, shared by every adapter).
fn reply_lost_in_a_cut_reaches_its_handle(kind: ServerKind) {
    use jabber_proto::client::{IqEvent, ServiceEvent};
    let (server, proxy) = start(kind);
    let mut config = config(&server);
    config.sm_ack_delay_ms = 200;
    let creds = Credentials::new("alice", "Alice-sm", "in-flight");
    let (mut alice, logged_in) = jabber_std::Session::connect(
        proxy.addr,
        config,
        Options::starttls(test_tls()),
        creds,
        backoff(),
    )
    .expect("alice logs in");
    let mut enabled = false;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !enabled {
        assert!(
            Instant::now() < deadline,
            "{kind}: stream management not enabled"
        );
        if let Some(Item::Event(Event::StreamManagement(SmEvent::Enabled { .. }))) =
            alice.next(Duration::from_millis(200)).expect("alive")
        {
            enabled = true;
        }
    }
    // The server's answer goes nowhere: it stays unacknowledged at the server.
    proxy.hold(true);
    let id = alice
        .connection()
        .expect("connected")
        .with_client(|client, now| client.vcard_get(now, None))
        .expect("the transport")
        .expect("asked");
    let deadline = Instant::now() + Duration::from_secs(10);
    while proxy.dropped() == 0 {
        assert!(
            Instant::now() < deadline,
            "{kind}: no answer from the server"
        );
        alice.next(Duration::from_millis(20)).expect("alive");
    }
    proxy.cut();
    proxy.hold(false);
    let items = pump_on(&mut alice, 20, |i| matches!(i, Item::Reconnected(_)));
    let Some(Item::Reconnected(outcome)) = items.last() else {
        unreachable!()
    };
    assert!(
        matches!(outcome, Resumed::Resumed { jid, .. } if *jid == logged_in.jid),
        "{kind}: {outcome:?}"
    );
    // The server's answer: ejabberd's empty card, prosody's `item-not-found` for an
    // account without one (never a timeout, which says no answer came).
    let items = pump_on(&mut alice, 10, |i| match i {
        Item::Event(Event::Services(ServiceEvent::Vcard { id: got, .. })) => *got == id,
        Item::Event(Event::Services(ServiceEvent::Failed { id: got, error })) => {
            assert!(error.is_some(), "{kind}: the request timed out");
            *got == id
        }
        _ => false,
    });
    assert!(
        !items
            .iter()
            .any(|i| matches!(i, Item::Event(Event::Iq(IqEvent::Lost { .. })))),
        "{kind}: {items:?}"
    );
    alice.close().expect("closed");
}

#[test]
fn ejabberd_reply_lost_in_a_cut_reaches_its_handle() {
    reply_lost_in_a_cut_reaches_its_handle(ServerKind::Ejabberd);
}

#[test]
fn prosody_reply_lost_in_a_cut_reaches_its_handle() {
    reply_lost_in_a_cut_reaches_its_handle(ServerKind::Prosody);
}

#[test]
fn ejabberd_resume_after_a_cut() {
    resume_after_a_cut(ServerKind::Ejabberd);
}

#[test]
fn prosody_resume_after_a_cut() {
    resume_after_a_cut(ServerKind::Prosody);
}

/// Every adapter's reconnecting session when the server no longer has the session to
/// resume (another login with alice's resource replaced it while she was away, the
/// server unreachable meanwhile): a new session, the stanzas the server never
/// acknowledged sent again in it and reported as possible duplicates, each delivered.
fn new_session_when_resumption_fails(kind: ServerKind) {
    let (server, proxy) = start(kind);
    for make in adapters::reconnecting::all() {
        let adapter = make();
        let name = adapter.name();
        let what = format!("{kind} on {name}");
        let resource = format!("{name}-lost");
        let (bob_jid, _bob_tx, bob) = spawn_bob(&server, 3, 40);
        let (mut alice, alice_jid) = alice_on(&*adapter, &server, &proxy, &resource);
        until_acked(&mut *alice, &what);
        proxy.block(true);
        // (Connections of the adapters before stay in the proxy's list: at least one.)
        assert!(proxy.cut() >= 1, "{what}");
        for i in 0..3 {
            alice
                .send(chat(&bob_jid.to_bare(), &format!("f{i}")).into())
                .expect("queued");
        }
        // Alice is away and her attempts fail at the proxy ...
        pump_on(&mut *alice, 20, |i| matches!(i, Item::AttemptFailed(_)));
        // ... while another login with her resource replaces the session she left.
        let mut intruder = Connection::connect_with(
            server.addr(),
            config(&server),
            Options::starttls(test_tls()),
        )
        .expect("the intruder connects");
        intruder
            .login(Credentials::new("alice", "Alice-sm", &resource))
            .expect("the intruder logs in");
        intruder.close().expect("the intruder leaves");
        proxy.block(false);
        let (mut outcome, mut duplicates) = (None, None);
        pump_on(&mut *alice, 30, |i| {
            match i {
                Item::Reconnected(r) => outcome = Some(r.clone()),
                Item::Event(Event::StreamManagement(SmEvent::PossibleDuplicates(d))) => {
                    duplicates = Some(d.len())
                }
                Item::GaveUp => panic!("{what}: gave up"),
                _ => {}
            }
            outcome.is_some() && duplicates.is_some()
        });
        match outcome {
            Some(Resumed::NewSession(logged_in)) => {
                assert_eq!(logged_in.jid, alice_jid, "{what}");
            }
            other => panic!("{what}: {other:?}"),
        }
        assert_eq!(duplicates, Some(3), "{what}");
        let got = bob.join().expect("bob");
        for i in 0..3 {
            assert_eq!(
                got.get(&format!("f{i}")),
                Some(&1),
                "{what}: f{i} in {got:?}"
            );
        }
        alice.close().expect("closed");
    }
}

#[test]
fn ejabberd_new_session_when_resumption_fails() {
    new_session_when_resumption_fails(ServerKind::Ejabberd);
}

#[test]
fn prosody_new_session_when_resumption_fails() {
    new_session_when_resumption_fails(ServerKind::Prosody);
}

/// splitmix64: the seeded moments of the cuts.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `total` messages through `cuts` cuts at seeded moments, on `adapter`'s reconnecting
/// session: every one arrives.
fn zero_loss(kind: ServerKind, adapter: &dyn ReconnectingAdapter, total: usize, cuts: usize) {
    let started = Instant::now();
    let name = adapter.name();
    let (server, proxy) = start(kind);
    let (bob_jid, _bob_tx, receiver) = spawn_bob(&server, total, 100);
    let bob_bare = bob_jid.to_bare();
    let (mut session, _) = alice_on(adapter, &server, &proxy, "phone");
    let alice = &mut *session;
    let mut seed = 0x5eed_0198_u64;
    let mut moments: Vec<usize> = (0..cuts)
        .map(|_| {
            seed = mix(seed);
            1 + (seed % (total as u64 - 2)) as usize
        })
        .collect();
    moments.sort_unstable();
    moments.dedup();
    let (mut disconnects, mut resumed, mut fresh, mut possible_dups) = (0, 0, 0, 0);
    let mut note = |item: &Item| match item {
        Item::Disconnected(reason) => {
            disconnects += 1;
            if std::env::var_os("SM_DEBUG").is_some() {
                println!("{kind}: disconnected: {reason:?}");
                if matches!(
                    reason,
                    Some(jabber_proto::client::CloseReason::StreamError(_))
                ) {
                    println!("{}", server.log_tail());
                }
            }
        }
        Item::Reconnected(Resumed::Resumed { .. }) => resumed += 1,
        Item::Reconnected(r) => {
            fresh += 1;
            if std::env::var_os("SM_DEBUG").is_some() {
                println!("{kind}: new session: {r:?}");
            }
        }
        Item::Event(Event::StreamManagement(SmEvent::PossibleDuplicates(d))) => {
            possible_dups += d.len()
        }
        Item::GaveUp => panic!("{kind}: gave up reconnecting"),
        Item::AttemptFailed(e) => println!("{kind}: attempt failed: {e}"),
        _ => {}
    };
    for i in 0..total {
        if moments.binary_search(&i).is_ok() {
            // A forced disconnect of a live connection, at this seeded moment.
            let deadline = Instant::now() + Duration::from_secs(20);
            while !alice.is_connected() {
                assert!(Instant::now() < deadline, "{kind}: not reconnected");
                let item = alice.next(Duration::from_millis(50)).expect("alive");
                item.iter().for_each(&mut note);
            }
            // (Connections of failed attempts may linger in the proxy's list: at least one.)
            assert!(proxy.cut() >= 1, "{kind}: a live connection to cut");
        }
        let body = format!("z{i}");
        // Long enough for a few rounds of prosody's wedged resumptions (see `alice_on`),
        // each ended by the dead-peer time.
        let deadline = Instant::now() + Duration::from_secs(45);
        while let Err(e) = alice.send(chat(&bob_bare, &body).into()) {
            // Disconnected without a session yet, or the unacked queue full: let the
            // session reconnect / the acks come.
            if Instant::now() > deadline {
                panic!(
                    "{kind} on {name}: stuck at {i}: {e:?}; connected {}, unacked {:?}",
                    alice.is_connected(),
                    alice.unacked()
                );
            }
            let item = alice.next(Duration::from_millis(20)).expect("alive");
            item.iter().for_each(&mut note);
        }
        if i % 64 == 0 {
            while let Some(item) = alice.next(Duration::ZERO).expect("alive") {
                let timed_out = matches!(item, Item::TimedOut);
                note(&item);
                if timed_out {
                    break;
                }
            }
        }
    }
    // Until bob has them all (or gives up): alice keeps her session going.
    while !receiver.is_finished() {
        if let Some(item) = alice.next(Duration::from_millis(50)).expect("alive") {
            note(&item);
        }
    }
    let got = receiver.join().expect("the receiver");
    let missing: Vec<usize> = (0..total)
        .filter(|i| !got.contains_key(&format!("z{i}")))
        .collect();
    let duplicates: usize = got.values().map(|n| n - 1).sum();
    println!(
        "{kind} on {name}, zero loss: {total} sent, {} received, {} missing, {duplicates} duplicates \
         (possible duplicates reported: {possible_dups}); {disconnects} disconnects, \
         {resumed} resumed, {fresh} new sessions; {:.1} s",
        got.len(),
        missing.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        disconnects >= moments.len(),
        "{kind}: {disconnects} disconnects"
    );
    assert!(missing.is_empty(), "{kind}: missing {missing:?}");
    let _ = session.close();
}

#[test]
fn ejabberd_zero_loss_through_cuts() {
    zero_loss(ServerKind::Ejabberd, &StdAdapter, 10_000, 10);
}

#[test]
fn prosody_zero_loss_through_cuts() {
    zero_loss(ServerKind::Prosody, &StdAdapter, 10_000, 10);
}

// The same definition through jabber-mio, shorter (the test binary's time).

#[test]
fn ejabberd_mio_zero_loss_through_cuts() {
    let mio = MioAdapter::new().expect("a mio poll");
    zero_loss(ServerKind::Ejabberd, &mio, 3_000, 5);
}

#[test]
fn prosody_mio_zero_loss_through_cuts() {
    let mio = MioAdapter::new().expect("a mio poll");
    zero_loss(ServerKind::Prosody, &mio, 3_000, 5);
}

/// The next output of `driver`, within 20 s.
fn mio_next(driver: &mut jabber_mio::Driver) -> (jabber_mio::SessionId, jabber_mio::Output) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(output) = driver.poll_output() {
            return output;
        }
        assert!(Instant::now() < deadline, "no output within 20 s");
        driver
            .poll(Some(Duration::from_millis(100)))
            .expect("the poll");
    }
}

/// jabber-mio's attempts do not block its caller, so a stanza can be sent while one is
/// under way (connected, resuming): it waits for the attempt's outcome and goes out on
/// the resumed stream after it, once.
fn mio_send_during_an_attempt(kind: ServerKind) {
    use jabber_mio::{Driver, Output};
    let (server, proxy) = start(kind);
    let (bob_jid, _bob_tx, bob) = spawn_bob(&server, 2, 40);
    let to = bob_jid.to_bare();
    let mut config = config(&server);
    config.sm_ack_delay_ms = 200;
    let mut driver = Driver::new().expect("a driver");
    let id = driver
        .connect_reconnecting(
            &[proxy.addr],
            config,
            &Options::starttls(test_tls()),
            Credentials::new("alice", "Alice-sm", "mio-late"),
            backoff(),
        )
        .expect("alice connects");
    loop {
        match mio_next(&mut driver) {
            (_, Output::Event(Event::StreamManagement(SmEvent::Enabled { resumable }))) => {
                assert!(resumable);
                break;
            }
            (_, Output::Failed(e)) => panic!("{kind}: {e}"),
            _ => {}
        }
    }
    driver.send(id, chat(&to, "before")).expect("sent");
    let unacked = |driver: &jabber_mio::Driver| {
        driver
            .client(id)
            .and_then(|c| c.resumption())
            .map(|r| r.unacked.len())
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while unacked(&driver) != Some(0) {
        assert!(Instant::now() < deadline, "{kind}: no ack");
        driver.poll(Some(Duration::from_millis(50))).expect("poll");
    }
    assert_eq!(proxy.cut(), 1);
    // Lost, an attempt announced, then its TCP connection up: the attempt runs.
    let mut announced = false;
    loop {
        match mio_next(&mut driver) {
            (_, Output::Reconnection(Item::Attempt { .. })) => announced = true,
            (_, Output::Connected) if announced => break,
            (_, Output::Reconnection(Item::AttemptFailed(e))) => panic!("{kind}: {e}"),
            _ => {}
        }
    }
    assert_eq!(driver.is_connected(id), Some(false));
    driver
        .send(id, chat(&to, "late"))
        .expect("waits for the attempt");
    loop {
        match mio_next(&mut driver) {
            (_, Output::Reconnection(Item::Reconnected(outcome))) => {
                assert!(
                    matches!(outcome, Resumed::Resumed { .. }),
                    "{kind}: {outcome:?}"
                );
                break;
            }
            (_, Output::Reconnection(Item::AttemptFailed(e))) => panic!("{kind}: {e}"),
            _ => {}
        }
    }
    let got = bob.join().expect("bob");
    assert_eq!(got.get("before"), Some(&1), "{kind}: {got:?}");
    assert_eq!(got.get("late"), Some(&1), "{kind}: {got:?}");
    driver.close(id).expect("close");
    loop {
        if let (_, Output::Event(Event::Closed(_))) = mio_next(&mut driver) {
            break;
        }
    }
}

#[test]
fn ejabberd_mio_send_during_an_attempt() {
    mio_send_during_an_attempt(ServerKind::Ejabberd);
}

#[test]
fn prosody_mio_send_during_an_attempt() {
    mio_send_during_an_attempt(ServerKind::Prosody);
}
