//! XEP-0198 on real servers (ejabberd's mod_stream_mgmt, prosody's mod_smacks), over
//! XMPP 1.0 with STARTTLS and the run's test CA: stream management enabled and acking,
//! the TCP connection cut by a loopback proxy this test runs, the session resumed on a
//! new connection (no new binding) with nothing lost either way; and the zero-loss run,
//! 10,000 messages through 10 cuts at seeded random moments, reporting duplicates.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use jabber_net::{Options, Tls};
use jabber_proto::client::{Config, Event, SmEvent, StanzaEvent};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::stanza::{Message, MessageType};
use jabber_std::{Backoff, Connection, Item, Next, Resumed, Session};
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
}

impl Proxy {
    fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let live = Arc::new(Mutex::new(Vec::new()));
        let registry = Arc::clone(&live);
        thread::spawn(move || {
            for down in listener.incoming() {
                let Ok(down) = down else { continue };
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
                thread::spawn(move || pump(d1, up));
                thread::spawn(move || pump(u1, down));
            }
        });
        Proxy { addr, live }
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

fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
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

/// Alice through the proxy (reconnecting), logged in with stream management enabled.
///
/// prosody 0.12.3 keeps the old connection's XML parser state across a resumption: after
/// a cut in the middle of a stanza, the resumed stream's first bytes continue that
/// stanza, so prosody answers `not-well-formed` or "XML stanza is too big", or waits
/// forever for the element to end (the stream then neither reads nor writes). The
/// liveness settings below detect the last case; the session then logs in anew and
/// reports the resent stanzas as possible duplicates. ejabberd resumes every time.
fn alice(server: &Server, proxy: &Proxy) -> Session {
    let creds = Credentials::new("alice", "Alice-sm", "phone");
    let options = Options::starttls(test_tls());
    let mut config = config(server);
    // Liveness (XEP-0199 when idle, then the dead-peer time): a stream that goes silent
    // without closing is given up and resumed elsewhere.
    config.keepalive_interval = Some(Duration::from_secs(2));
    config.dead_peer_timeout = Some(Duration::from_secs(6));
    let (mut session, _) =
        Session::connect(proxy.addr, config, options, creds, backoff()).expect("alice logs in");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "stream management not enabled");
        match session.next(Duration::from_millis(200)).expect("alive") {
            Some(Item::Event(Event::StreamManagement(SmEvent::Enabled { resumable }))) => {
                assert!(resumable, "{} allows resumption", server.kind());
                return session;
            }
            Some(_) => {}
            None => panic!("the session ended"),
        }
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

/// Runs `session` until `done` holds for the number of unacknowledged stanzas (or the
/// deadline passes), returning the items seen.
fn pump_until(session: &mut Session, secs: u64, mut done: impl FnMut(&Item) -> bool) -> Vec<Item> {
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

fn unacked(session: &mut Session) -> Option<usize> {
    let conn = session.connection()?;
    Some(conn.client().resumption()?.unacked.len())
}

fn resume_after_a_cut(kind: ServerKind) {
    let (server, proxy) = start(kind);
    let (bob_jid, bob_tx, bob) = spawn_bob(&server, 8, 40);
    let mut alice = alice(&server, &proxy);
    let alice_jid = alice
        .connection()
        .and_then(|c| c.client().jid().cloned())
        .expect("bound");
    for i in 0..5 {
        alice
            .send(chat(&bob_jid.to_bare(), &format!("m{i}")))
            .expect("sent");
    }
    // Acked by the server (5 stanzas: one <r/>), then the cut.
    let deadline = Instant::now() + Duration::from_secs(10);
    while unacked(&mut alice) != Some(0) {
        assert!(Instant::now() < deadline, "{kind}: no ack");
        alice.next(Duration::from_millis(50)).expect("alive");
    }
    assert_eq!(proxy.cut(), 1);
    // While alice is away: hers go out into the dead connection, bob's wait at the server.
    for i in 5..8 {
        alice
            .send(chat(&bob_jid.to_bare(), &format!("m{i}")))
            .expect("queued");
    }
    bob_tx.send(alice_jid.clone()).expect("bob is there");
    let items = pump_until(&mut alice, 20, |i| matches!(i, Item::Reconnected(_)));
    let Some(Item::Reconnected(outcome)) = items.last() else {
        unreachable!()
    };
    assert!(
        matches!(outcome, Resumed::Resumed { jid, .. } if *jid == alice_jid),
        "{kind}: {outcome:?}"
    );
    // What the server held for alice arrives on the resumed stream.
    pump_until(&mut alice, 10, |i| {
        matches!(i, Item::Event(Event::Stanza(StanzaEvent::Message(m)))
            if m.body().as_deref() == Some("while away"))
    });
    let got = bob.join().expect("bob");
    for i in 0..8 {
        assert_eq!(
            got.get(&format!("m{i}")),
            Some(&1),
            "{kind}: m{i} in {got:?}"
        );
    }
    alice.close().expect("closed");
}

#[test]
fn ejabberd_resume_after_a_cut() {
    resume_after_a_cut(ServerKind::Ejabberd);
}

#[test]
fn prosody_resume_after_a_cut() {
    resume_after_a_cut(ServerKind::Prosody);
}

/// splitmix64: the seeded moments of the cuts.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const TOTAL: usize = 10_000;
const CUTS: usize = 10;

fn zero_loss(kind: ServerKind) {
    let started = Instant::now();
    let (server, proxy) = start(kind);
    let (bob_jid, _bob_tx, receiver) = spawn_bob(&server, TOTAL, 100);
    let bob_bare = bob_jid.to_bare();
    let mut alice = alice(&server, &proxy);
    let mut seed = 0x5eed_0198_u64;
    let mut moments: Vec<usize> = (0..CUTS)
        .map(|_| {
            seed = mix(seed);
            1 + (seed % (TOTAL as u64 - 2)) as usize
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
    for i in 0..TOTAL {
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
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Err(e) = alice.send(chat(&bob_bare, &body)) {
            // Disconnected without a session yet, or the unacked queue full: let the
            // session reconnect / the acks come.
            if Instant::now() > deadline {
                if let Some(conn) = alice.connection() {
                    let entries = conn
                        .with_client(|c, _| {
                            std::iter::from_fn(|| c.poll_console()).collect::<Vec<_>>()
                        })
                        .unwrap_or_default();
                    let shown = entries
                        .iter()
                        .filter(|e| !e.xml.starts_with("<r ") && !e.xml.starts_with("<message"));
                    for e in shown.rev().take(30).collect::<Vec<_>>().into_iter().rev() {
                        println!(
                            "console {:?} {} {}",
                            e.direction,
                            e.time.as_millis(),
                            &e.xml[..e.xml.len().min(200)]
                        );
                    }
                }
                panic!(
                    "{kind}: stuck at {i}: {e:?}; connected {}, unacked {:?}",
                    alice.is_connected(),
                    unacked(&mut alice)
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
    let missing: Vec<usize> = (0..TOTAL)
        .filter(|i| !got.contains_key(&format!("z{i}")))
        .collect();
    let duplicates: usize = got.values().map(|n| n - 1).sum();
    println!(
        "{kind} zero loss: {TOTAL} sent, {} received, {} missing, {duplicates} duplicates \
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
    let _ = alice.close();
}

#[test]
fn ejabberd_zero_loss_through_cuts() {
    zero_loss(ServerKind::Ejabberd);
}

#[test]
fn prosody_zero_loss_through_cuts() {
    zero_loss(ServerKind::Prosody);
}

/// The next item of a tokio session, within 20 s.
async fn next(alice: &mut jabber_tokio::Session) -> Item {
    tokio::time::timeout(Duration::from_secs(20), alice.next())
        .await
        .expect("an item in time")
        .expect("no adapter error")
        .expect("the session goes on")
}

/// The same through jabber-tokio's reconnecting session.
fn tokio_resume_after_a_cut(kind: ServerKind) {
    let (server, proxy) = start(kind);
    let (bob_jid, bob_tx, bob) = spawn_bob(&server, 8, 40);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let creds = Credentials::new("alice", "Alice-sm", "tablet");
        let mut config = config(&server);
        config.keepalive_interval = Some(Duration::from_secs(2));
        config.dead_peer_timeout = Some(Duration::from_secs(6));
        let options = Options::starttls(test_tls());
        let (mut alice, logged_in) =
            jabber_tokio::Session::connect(proxy.addr, config, options, creds, backoff())
                .await
                .expect("alice logs in");
        loop {
            if let Item::Event(Event::StreamManagement(SmEvent::Enabled { resumable })) =
                next(&mut alice).await
            {
                assert!(resumable);
                break;
            }
        }
        for i in 0..5 {
            alice
                .send(chat(&bob_jid.to_bare(), &format!("m{i}")))
                .expect("sent");
        }
        let unacked = |alice: &mut jabber_tokio::Session| {
            alice
                .connection()
                .and_then(|c| c.client().resumption())
                .map(|r| r.unacked.len())
        };
        while unacked(&mut alice) != Some(0) {
            let _ = tokio::time::timeout(Duration::from_millis(50), alice.next()).await;
        }
        assert_eq!(proxy.cut(), 1);
        for i in 5..8 {
            alice
                .send(chat(&bob_jid.to_bare(), &format!("m{i}")))
                .expect("queued");
        }
        bob_tx.send(logged_in.jid.clone()).expect("bob is there");
        let outcome = loop {
            if let Item::Reconnected(outcome) = next(&mut alice).await {
                break outcome;
            }
        };
        assert!(
            matches!(&outcome, Resumed::Resumed { jid, .. } if *jid == logged_in.jid),
            "{kind}: {outcome:?}"
        );
        loop {
            if let Item::Event(Event::Stanza(StanzaEvent::Message(m))) = next(&mut alice).await {
                if m.body().as_deref() == Some("while away") {
                    break;
                }
            }
        }
        let got = bob.join().expect("bob");
        for i in 0..8 {
            assert_eq!(
                got.get(&format!("m{i}")),
                Some(&1),
                "{kind}: m{i} in {got:?}"
            );
        }
        alice.close().await.expect("closed");
    });
}

#[test]
fn ejabberd_tokio_resume_after_a_cut() {
    tokio_resume_after_a_cut(ServerKind::Ejabberd);
}

#[test]
fn prosody_tokio_resume_after_a_cut() {
    tokio_resume_after_a_cut(ServerKind::Prosody);
}
