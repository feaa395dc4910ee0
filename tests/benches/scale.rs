//! Scale: 1,000 concurrent logged-in sessions on one `jabber-mio` thread against a local
//! ejabberd, exchanging messages among themselves.
//!
//! `bash scripts/bench-scale` (it raises the open-file limit first), or
//! `cargo bench -p jabber-tests --bench scale -- [--sessions N] [--messages M] [--tls]`.
//!
//! Reported: the client's heap per session (counted by the allocator: exact, not RSS;
//! stats_alloc already counts a reallocation's growth in bytes allocated/freed),
//! its RSS growth per session, the server's RSS growth per session, CPU time of this
//! process (user + system) for the logins and for the exchange, and messages per second
//! (sent and received by this one thread, end to end through the server). The summary
//! goes to stdout and `target/scale-summary.md`.

use std::alloc::System;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use jabber_mio::{Config, Credentials, Driver, Event, Options, Output, SessionId, Tls};
use jabber_proto::jid::Jid;
use jabber_proto::stanza::{Message, MessageType};
use jabber_tests::certs::TestCa;
use jabber_tests::{Server, ServerKind};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const PASSWORD: &str = "pw-scale";
/// Logins in flight at once: ejabberd's accept queue is short.
const LOGIN_WINDOW: usize = 100;

struct Args {
    sessions: usize,
    messages: usize,
    tls: bool,
}

fn args() -> Args {
    let mut a = Args {
        sessions: 1000,
        messages: 10,
        tls: false,
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
            _ => {}
        }
    }
    a
}

/// User and system CPU time of this process, from `/proc/self/stat` (clock ticks).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after ") ".
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    let hz = 100; // USER_HZ on Linux
    Duration::from_millis((ticks(11) + ticks(12)) * 1000 / hz)
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
    let server = Server::start(ServerKind::Ejabberd).expect("ejabberd");
    let t = Instant::now();
    server
        .register_many("u", args.sessions, PASSWORD)
        .expect("accounts");
    eprintln!(
        "{} accounts in {:.1} s",
        args.sessions,
        t.elapsed().as_secs_f64()
    );
    let server_pid = server.pid().to_string();
    let (addr, options) = if args.tls {
        let mut tls = Tls::default().trust(TestCa::get().ca_der().to_vec());
        tls.no_builtin_roots = true;
        (server.tls_addr(), Options::tls(tls))
    } else {
        (server.addr(), Options::plain())
    };

    let mut driver = Driver::new().expect("poll");
    // The benchmark's own bookkeeping is allocated before the count starts.
    let mut ids: Vec<SessionId> = Vec::with_capacity(args.sessions);
    let mut index: HashMap<SessionId, usize> = HashMap::with_capacity(args.sessions);
    let server_rss_before = rss_kib(&server_pid);
    let rss_before = rss_kib("self");
    let cpu_before = cpu_time();
    let heap = Region::new(GLOBAL);
    let started = Instant::now();

    // ---- log in every session, LOGIN_WINDOW at a time ----
    let mut next = 0;
    let mut in_flight = 0;
    let mut ready = 0;
    while ready < args.sessions {
        while in_flight < LOGIN_WINDOW && next < args.sessions {
            let mut config = Config::new(server.domain());
            config.iq_timeout = Duration::from_secs(60);
            config.initial_presence = false;
            config.fetch_roster = false;
            let id = driver.connect(addr, config, &options).expect("connect");
            driver
                .login(id, Credentials::new(&format!("u{next}"), PASSWORD, "scale"))
                .expect("login");
            index.insert(id, next);
            ids.push(id);
            next += 1;
            in_flight += 1;
        }
        driver.poll(Some(Duration::from_secs(5))).expect("poll");
        while let Some((id, output)) = driver.poll_output() {
            match output {
                Output::Event(Event::SessionReady { .. }) => {
                    ready += 1;
                    in_flight -= 1;
                }
                Output::Event(Event::LoginFailed(e)) => panic!("login {}: {e}", index[&id]),
                Output::Event(Event::Closed(r)) => panic!("session {} closed: {r}", index[&id]),
                Output::Failed(e) => panic!("session {} failed: {e}", index[&id]),
                _ => {}
            }
        }
    }
    let login_wall = started.elapsed();
    let login_cpu = cpu_time() - cpu_before;
    let stats = heap.change();
    let heap_live = stats.bytes_allocated as i64 - stats.bytes_deallocated as i64;
    let rss_after = rss_kib("self");
    let server_rss_after = rss_kib(&server_pid);
    // A second of idling: the sessions settle (nothing arrives), then the heap again.
    let idle_until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < idle_until {
        driver.poll(Some(Duration::from_millis(100))).expect("poll");
        while driver.poll_output().is_some() {}
    }
    let stats = heap.change();
    let heap_idle = stats.bytes_allocated as i64 - stats.bytes_deallocated as i64;

    // ---- exchange: each session sends `messages` to others ----
    let jids: Vec<Jid> = (0..args.sessions)
        .map(|i| Jid::parse(&format!("u{i}@{}/scale", server.domain())).expect("a JID"))
        .collect();
    let total = args.sessions * args.messages;
    let cpu_before = cpu_time();
    let t = Instant::now();
    for k in 0..args.messages {
        for (i, id) in ids.iter().enumerate() {
            let to = &jids[(i + 1 + k * 37) % args.sessions];
            let body = format!("m{i}-{k}");
            let message = Message::new(MessageType::Chat, to, &body).expect("message");
            driver.send(*id, message).expect("send");
        }
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
                Output::Event(Event::Message(m)) if m.body().is_some() => received += 1,
                Output::Event(Event::Closed(r)) => panic!("session {} closed: {r}", index[&id]),
                Output::Failed(e) => panic!("session {} failed: {e}", index[&id]),
                _ => {}
            }
        }
    }
    let exchange_wall = t.elapsed();
    let exchange_cpu = cpu_time() - cpu_before;

    // ---- log out ----
    for id in &ids {
        driver.close(*id).expect("close");
    }
    let limit = Instant::now() + Duration::from_secs(60);
    while !driver.is_empty() && Instant::now() < limit {
        driver.poll(Some(Duration::from_secs(1))).expect("poll");
        while driver.poll_output().is_some() {}
    }

    let n = args.sessions as f64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| {} sessions, {} over {}, one mio thread | |\n|---|---|",
        args.sessions,
        total,
        if args.tls { "direct TLS" } else { "plain TCP" }
    );
    let _ = writeln!(
        out,
        "| client heap per session (allocator, live): logged in / after 1 s idle | {:.0} B / {:.0} B |",
        heap_live as f64 / n,
        heap_idle as f64 / n
    );
    let _ = writeln!(
        out,
        "| client RSS growth per session | {:.1} KiB |",
        rss_after.saturating_sub(rss_before) as f64 / n
    );
    let _ = writeln!(
        out,
        "| ejabberd RSS growth per session | {:.1} KiB |",
        server_rss_after.saturating_sub(server_rss_before) as f64 / n
    );
    let _ = writeln!(
        out,
        "| logins: wall / client CPU | {:.2} s / {:.2} s ({:.0} µs CPU per login) |",
        login_wall.as_secs_f64(),
        login_cpu.as_secs_f64(),
        login_cpu.as_secs_f64() * 1e6 / n
    );
    let _ = writeln!(
        out,
        "| exchange: wall / client CPU | {:.2} s / {:.2} s |",
        exchange_wall.as_secs_f64(),
        exchange_cpu.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "| messages per second (sent and received end to end) | {:.0} |",
        total as f64 / exchange_wall.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "| client CPU per message (send + receive) | {:.1} µs |",
        exchange_cpu.as_secs_f64() * 1e6 / total as f64
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
