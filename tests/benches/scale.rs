//! Scale: thousands of concurrent logged-in sessions (1,000 by default, 10,000 from
//! `scripts/bench-scale`) from one thread against a local ejabberd set up for scale
//! ([`Server::start_for_scale`]), exchanging messages among themselves — through
//! `jabber-mio` (one `Driver`, the subject) and, in the same run against the same server,
//! through `jabber-tokio` (one current-thread runtime, a task per connection: the anchor).
//!
//! `bash scripts/bench-scale` (it raises the open-file limit first), or
//! `cargo bench -p jabber-tests --bench scale -- [--sessions N] [--messages M] [--tls]
//! [--only-mio]` (`--only-mio`: one jabber-mio run without the anchor, for profiling).
//!
//! Reported per driver: the client's heap per session (counted by the allocator: exact,
//! not RSS; stats_alloc counts a reallocation's growth in bytes allocated/freed), its RSS
//! growth per session, the server's RSS growth per session, CPU time of the driving
//! thread for the logins and for the exchange, and messages per second (sent
//! and received by this one thread, end to end through the server). The summary goes to
//! stdout and `target/scale-summary[-tls].md`.

use std::alloc::System;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jabber_mio::{
    Config, Credentials, Driver, Event, Options, Output, SessionEvent, SessionId, StanzaEvent, Tls,
};
use jabber_proto::jid::Jid;
use jabber_proto::stanza::{Message, MessageType};
use jabber_tests::certs::TestCa;
use jabber_tests::{Server, ServerKind};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const PASSWORD: &str = "pw-scale";
/// Logins in flight at once, so that connects do not pile up in the accept queue.
const LOGIN_WINDOW: usize = 100;

struct Args {
    sessions: usize,
    messages: usize,
    tls: bool,
    /// `--only-mio`: one jabber-mio run and no anchor, for profiling the driver.
    only_mio: bool,
}

fn args() -> Args {
    let mut a = Args {
        sessions: 1000,
        messages: 10,
        tls: false,
        only_mio: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--sessions" => {
                a.sessions = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.sessions)
            }
            "--messages" => {
                a.messages = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.messages)
            }
            "--tls" => a.tls = true,
            "--only-mio" => a.only_mio = true,
            _ => {}
        }
    }
    a
}

/// CPU time of the calling thread, in nanoseconds (`/proc/thread-self/schedstat`). Both
/// drivers run all their work on this thread (the tokio runtime is current-thread).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

/// Resident set size of a process, in KiB, from `/proc/PID/status`.
fn rss_kib(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn open_file_limit() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// Live heap bytes since `region` started.
fn live(region: &Region<'_, System>) -> i64 {
    let c = region.change();
    c.bytes_allocated as i64 - c.bytes_deallocated as i64
}

/// What one driver's run measured.
struct Report {
    heap_logged_in: i64,
    heap_idle: i64,
    rss_growth_kib: u64,
    server_rss_growth_kib: u64,
    login_wall: Duration,
    login_cpu: Duration,
    exchange_wall: Duration,
    exchange_cpu: Duration,
}

/// The run's fixed inputs.
struct Setup {
    tls: bool,
    sessions: usize,
    messages: usize,
    addr: SocketAddr,
    options: Options,
    domain: String,
    server_pid: String,
}

impl Setup {
    fn config(&self) -> Config {
        let mut config = Config::new(&self.domain, jabber_net::fresh_seed());
        config.iq_timeout = Duration::from_secs(60);
        config.initial_presence = false;
        config.fetch_roster = false;
        // Classic (jabber:iq:auth) logins, as measured before the default became 1.0.
        config.version = None;
        // Inside TLS the password goes as it is (allowed: the transport is encrypted);
        // over plain TCP the digest.
        config.use_digest = !self.tls;
        config
    }

    fn creds(&self, i: usize) -> Credentials {
        Credentials::new(&format!("u{i}"), PASSWORD, "scale")
    }

    /// Session `i`'s `k`-th message goes to this session.
    fn peer(&self, i: usize, k: usize) -> usize {
        (i + 1 + k * 37) % self.sessions
    }
}

fn main() {
    let args = args();
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes benches
    }
    let need = args.sessions as u64 + 64;
    let limit = open_file_limit();
    assert!(
        limit >= need,
        "open-file limit {limit} < {need}: run `ulimit -n 65536` first (scripts/bench-scale does)"
    );
    let server = Server::start_for_scale(ServerKind::Ejabberd).expect("ejabberd");
    let t = Instant::now();
    server
        .register_many("u", args.sessions, PASSWORD)
        .expect("accounts");
    eprintln!(
        "{} accounts in {:.1} s",
        args.sessions,
        t.elapsed().as_secs_f64()
    );
    let (addr, options) = if args.tls {
        let mut tls = Tls::default().trust(TestCa::get().ca_der().to_vec());
        tls.no_builtin_roots = true;
        (server.tls_addr(), Options::tls(tls))
    } else {
        (server.addr(), Options::plain())
    };
    let setup = Setup {
        tls: args.tls,
        sessions: args.sessions,
        messages: args.messages,
        addr,
        options,
        domain: server.domain().to_string(),
        server_pid: server.pid().to_string(),
    };
    let jids: Vec<Jid> = (0..args.sessions)
        .map(|i| Jid::parse(&format!("u{i}@{}/scale", server.domain())).expect("a JID"))
        .collect();
    if args.only_mio {
        let mio = run_mio(&setup, &jids);
        let n = setup.sessions as f64;
        let total = (setup.sessions * setup.messages) as f64;
        println!(
            "jabber-mio alone, {} sessions: heap {:.0} B/session, login CPU {:.0} µs/login \
             ({:.2} s wall), exchange CPU {:.1} µs/message ({:.2} s wall)",
            setup.sessions,
            mio.heap_logged_in as f64 / n,
            mio.login_cpu.as_secs_f64() * 1e6 / n,
            mio.login_wall.as_secs_f64(),
            mio.exchange_cpu.as_secs_f64() * 1e6 / total,
            mio.exchange_wall.as_secs_f64(),
        );
        return;
    }
    // Each driver runs twice, alternating; the second run of each is reported (the
    // first warms the server's caches for both alike).
    let mut mio = run_mio(&setup, &jids);
    // RSS says something only on a fresh process and server: the first run's.
    let first_rss = (mio.rss_growth_kib, mio.server_rss_growth_kib);
    let mut tokio = run_tokio(&setup, &jids);
    mio = best(mio, run_mio(&setup, &jids));
    tokio = best(tokio, run_tokio(&setup, &jids));
    let mut out = table(&setup, &args, &mio, &tokio);
    let n = setup.sessions as f64;
    let _ = writeln!(
        out,
        "\nFirst run (jabber-mio, fresh process and server): client RSS growth {:.1} KiB per \
         session, ejabberd RSS growth {:.1} KiB per session.",
        first_rss.0 as f64 / n,
        first_rss.1 as f64 / n
    );
    println!("{out}");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target")
        .join(if args.tls {
            "scale-summary-tls.md"
        } else {
            "scale-summary.md"
        });
    let _ = std::fs::write(path, out);
}

/// The faster of two runs (by exchange wall time).
fn best(a: Report, b: Report) -> Report {
    if b.exchange_wall < a.exchange_wall {
        b
    } else {
        a
    }
}

fn table(setup: &Setup, args: &Args, mio: &Report, tokio: &Report) -> String {
    let n = setup.sessions as f64;
    let total = (setup.sessions * setup.messages) as f64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| {} sessions, {} messages over {}, one thread | jabber-mio (one Driver) | jabber-tokio (a task per connection) | mio / tokio |\n|---|---:|---:|---:|",
        setup.sessions,
        setup.sessions * setup.messages,
        if args.tls { "direct TLS" } else { "plain TCP" }
    );
    let mut row = |name: &str, a: f64, b: f64, unit: &str, digits: usize| {
        let _ = writeln!(
            out,
            "| {name} | {a:.digits$} {unit} | {b:.digits$} {unit} | {:.2} |",
            a / b
        );
    };
    row(
        "client heap per session, logged in",
        mio.heap_logged_in as f64 / n,
        tokio.heap_logged_in as f64 / n,
        "B",
        0,
    );
    row(
        "client heap per session, after 1 s idle",
        mio.heap_idle as f64 / n,
        tokio.heap_idle as f64 / n,
        "B",
        0,
    );
    row(
        "logins: wall",
        mio.login_wall.as_secs_f64(),
        tokio.login_wall.as_secs_f64(),
        "s",
        2,
    );
    row(
        "logins: client CPU per login",
        mio.login_cpu.as_secs_f64() * 1e6 / n,
        tokio.login_cpu.as_secs_f64() * 1e6 / n,
        "µs",
        0,
    );
    row(
        "exchange: wall",
        mio.exchange_wall.as_secs_f64(),
        tokio.exchange_wall.as_secs_f64(),
        "s",
        2,
    );
    row(
        "exchange: client CPU",
        mio.exchange_cpu.as_secs_f64(),
        tokio.exchange_cpu.as_secs_f64(),
        "s",
        2,
    );
    row(
        "messages per second, end to end",
        total / mio.exchange_wall.as_secs_f64(),
        total / tokio.exchange_wall.as_secs_f64(),
        "",
        0,
    );
    row(
        "client CPU per message (its send and its receipt)",
        mio.exchange_cpu.as_secs_f64() * 1e6 / total,
        tokio.exchange_cpu.as_secs_f64() * 1e6 / total,
        "µs",
        1,
    );
    out
}

// ---- jabber-mio: one Driver ----

fn run_mio(setup: &Setup, jids: &[Jid]) -> Report {
    let mut driver = Driver::new().expect("poll");
    // The benchmark's own bookkeeping is allocated before the count starts.
    let mut ids: Vec<SessionId> = Vec::with_capacity(setup.sessions);
    let mut index: HashMap<SessionId, usize> = HashMap::with_capacity(setup.sessions);
    let server_rss_before = rss_kib(&setup.server_pid);
    let rss_before = rss_kib("self");
    let cpu_before = cpu_time();
    let heap = Region::new(GLOBAL);
    let started = Instant::now();

    let mut next = 0;
    let mut in_flight = 0;
    let mut ready = 0;
    while ready < setup.sessions {
        while in_flight < LOGIN_WINDOW && next < setup.sessions {
            let id = driver
                .connect(setup.addr, setup.config(), &setup.options)
                .expect("connect");
            driver.login(id, setup.creds(next)).expect("login");
            index.insert(id, next);
            ids.push(id);
            next += 1;
            in_flight += 1;
        }
        driver.poll(Some(Duration::from_secs(5))).expect("poll");
        while let Some((id, output)) = driver.poll_output() {
            match output {
                Output::Event(Event::Session(SessionEvent::Ready { .. })) => {
                    ready += 1;
                    in_flight -= 1;
                }
                Output::Event(Event::Session(SessionEvent::LoginFailed(e))) => {
                    panic!("login {}: {e}", index[&id])
                }
                Output::Event(Event::Closed(r)) => panic!("session {} closed: {r}", index[&id]),
                Output::Failed(e) => panic!("session {} failed: {e}", index[&id]),
                _ => {}
            }
        }
    }
    let login_wall = started.elapsed();
    let login_cpu = cpu_time() - cpu_before;
    let heap_logged_in = live(&heap);
    let rss_after = rss_kib("self");
    let server_rss_after = rss_kib(&setup.server_pid);
    let idle_until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < idle_until {
        driver.poll(Some(Duration::from_millis(100))).expect("poll");
        while driver.poll_output().is_some() {}
    }
    let heap_idle = live(&heap);

    let total = setup.sessions * setup.messages;
    // Made before the clock starts, as for the tokio run.
    let outgoing: Vec<Vec<Message>> = (0..setup.sessions)
        .map(|i| {
            (0..setup.messages)
                .map(|k| {
                    let to = &jids[setup.peer(i, k)];
                    Message::new(MessageType::Chat, to, &format!("m{i}-{k}")).expect("message")
                })
                .collect()
        })
        .collect();
    let cpu_before = cpu_time();
    let t = Instant::now();
    // Like each tokio task: a session's messages in one command, so one write each.
    for (id, messages) in ids.iter().zip(outgoing) {
        driver
            .command(*id, |client, now| {
                messages.into_iter().try_for_each(|m| client.send(now, m))
            })
            .expect("session")
            .expect("send");
    }
    let mut received = 0;
    let limit = Instant::now() + Duration::from_secs(120);
    while received < total {
        assert!(
            Instant::now() < limit,
            "only {received} of {total} messages arrived"
        );
        driver.poll(Some(Duration::from_secs(1))).expect("poll");
        while let Some((id, output)) = driver.poll_output() {
            match output {
                Output::Event(Event::Stanza(StanzaEvent::Message(m))) if m.body().is_some() => {
                    received += 1
                }
                Output::Event(Event::Closed(r)) => panic!("session {} closed: {r}", index[&id]),
                Output::Failed(e) => panic!("session {} failed: {e}", index[&id]),
                _ => {}
            }
        }
    }
    let exchange_wall = t.elapsed();
    let exchange_cpu = cpu_time() - cpu_before;

    for id in &ids {
        driver.close(*id).expect("close");
    }
    let limit = Instant::now() + Duration::from_secs(60);
    while !driver.is_empty() && Instant::now() < limit {
        driver.poll(Some(Duration::from_secs(1))).expect("poll");
        while driver.poll_output().is_some() {}
    }
    assert!(
        driver.is_empty(),
        "{} sessions did not log out",
        driver.len()
    );
    Report {
        heap_logged_in,
        heap_idle,
        rss_growth_kib: rss_after.saturating_sub(rss_before),
        server_rss_growth_kib: server_rss_after.saturating_sub(server_rss_before),
        login_wall,
        login_cpu,
        exchange_wall,
        exchange_cpu,
    }
}

// ---- jabber-tokio: a task per connection on one current-thread runtime ----

fn run_tokio(setup: &Setup, jids: &[Jid]) -> Report {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let n = setup.sessions;
    let ready = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(AtomicUsize::new(0));
    let go = Arc::new(tokio::sync::Notify::new());
    let going = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(tokio::sync::Notify::new());
    let window = Arc::new(tokio::sync::Semaphore::new(LOGIN_WINDOW));
    let mut tasks = Vec::with_capacity(n);
    // The messages each task will send are made before the count starts (the mio run
    // makes them after it), so the heap counted is the sessions'.
    let mut outgoing: Vec<Vec<Message>> = (0..n)
        .map(|i| {
            (0..setup.messages)
                .map(|k| {
                    let to = &jids[setup.peer(i, k)];
                    Message::new(MessageType::Chat, to, &format!("m{i}-{k}")).expect("message")
                })
                .collect()
        })
        .collect();
    let server_rss_before = rss_kib(&setup.server_pid);
    let rss_before = rss_kib("self");
    let cpu_before = cpu_time();
    let heap = Region::new(GLOBAL);
    let started = Instant::now();
    let _guard = rt.enter();
    for i in 0..n {
        let (config, creds, options, addr) = (
            setup.config(),
            setup.creds(i),
            setup.options.clone(),
            setup.addr,
        );
        let outgoing = std::mem::take(&mut outgoing[i]);
        let (ready, received, go, going, stop, window) = (
            ready.clone(),
            received.clone(),
            go.clone(),
            going.clone(),
            stop.clone(),
            window.clone(),
        );
        tasks.push(rt.spawn(async move {
            let permit = window.acquire_owned().await.expect("window");
            let mut conn = jabber_tokio::Connection::connect_with(addr, config, options)
                .await
                .expect("connect");
            conn.login(creds).await.expect("login");
            drop(permit);
            ready.fetch_add(1, Ordering::SeqCst);
            // Waiting for the start, the task goes on reading: a logged-in session must
            // answer the server's pings (the test ejabberd drops one silent for 6 s, and
            // 10,000 logins take longer than that).
            let notified = go.notified();
            tokio::pin!(notified);
            if !going.load(Ordering::SeqCst) {
                loop {
                    tokio::select! {
                        _ = &mut notified => break,
                        event = conn.next_event() => match event {
                            // A peer woken first may have sent already.
                            Ok(Some(Event::Stanza(StanzaEvent::Message(m)))) if m.body().is_some() => {
                                received.fetch_add(1, Ordering::SeqCst);
                            }
                            Ok(Some(Event::Closed(r))) => panic!("session {i} closed: {r}"),
                            Ok(Some(_)) => {}
                            Ok(None) => panic!("session {i} ended"),
                            Err(e) => panic!("session {i} failed: {e}"),
                        },
                    }
                }
            }
            // All ten in one command: one write, as the mio run does.
            conn.with_client(|client, now| {
                outgoing.into_iter().try_for_each(|m| client.send(now, m))
            })
            .expect("session")
            .expect("send");
            conn.flush().await.expect("flush");
            let stopping = stop.notified();
            tokio::pin!(stopping);
            loop {
                tokio::select! {
                    _ = &mut stopping => break,
                    event = conn.next_event() => match event {
                        Ok(Some(Event::Stanza(StanzaEvent::Message(m)))) if m.body().is_some() => {
                            received.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(Some(Event::Closed(r))) => panic!("session {i} closed: {r}"),
                        Ok(Some(_)) => {}
                        Ok(None) => panic!("session {i} ended"),
                        Err(e) => panic!("session {i} failed: {e}"),
                    },
                }
            }
            conn.close().await.expect("logout")
        }));
    }
    // Drive the runtime until every session is logged in.
    rt.block_on(async {
        while ready.load(Ordering::SeqCst) < n {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    let login_wall = started.elapsed();
    let login_cpu = cpu_time() - cpu_before;
    let heap_logged_in = live(&heap);
    let rss_after = rss_kib("self");
    let server_rss_after = rss_kib(&setup.server_pid);
    rt.block_on(tokio::time::sleep(Duration::from_secs(1)));
    let heap_idle = live(&heap);

    let total = setup.sessions * setup.messages;
    let cpu_before = cpu_time();
    let t = Instant::now();
    going.store(true, Ordering::SeqCst);
    go.notify_waiters();
    rt.block_on(async {
        let limit = Instant::now() + Duration::from_secs(120);
        while received.load(Ordering::SeqCst) < total {
            assert!(Instant::now() < limit, "only some messages arrived");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    let exchange_wall = t.elapsed();
    let exchange_cpu = cpu_time() - cpu_before;
    stop.notify_waiters();
    rt.block_on(async {
        for task in tasks {
            task.await.expect("a session task");
        }
    });
    Report {
        heap_logged_in,
        heap_idle,
        rss_growth_kib: rss_after.saturating_sub(rss_before),
        server_rss_growth_kib: server_rss_after.saturating_sub(server_rss_before),
        login_wall,
        login_cpu,
        exchange_wall,
        exchange_cpu,
    }
}
