//! Idle client footprint at scale: 100,000 logged-in, idle `Client`s in one process.
//!
//! Each client has its own seed (so its own IQ ids) and its own account name, and is
//! driven through a digest login on a classic stream — server header, auth fields, auth
//! result, then an empty roster — with server bytes built before the clock starts, so the
//! time measured is the client's work: `Client::new`, `login`, four `handle_input`s and
//! draining every output after each. Then all clients sit idle until their keepalive is
//! due, and one sweep calls `handle_timeout` on each (each writes its single whitespace)
//! and drains it.
//!
//! Reported: the live heap of all clients (a counting allocator: bytes allocated minus
//! bytes freed, the server's bytes excluded), per client with `size_of::<Client>()`, the
//! time to create and log in all of them, and the time of the sweep.
//!
//! A last table shows what releasing idle buffers costs a busy connection: one client
//! receiving chat messages, one message per `handle_input`, each event polled.
//!
//! Run with `cargo bench -p jabber-proto --bench idle_clients` (the bench profile: fat
//! LTO). `JABBER_IDLE_CLIENTS=n` changes the number of clients. Without `--bench` (as under
//! `cargo test --benches`) it runs 1,000 clients, to prove the paths work.
//!
//! The workspace forbids `unsafe_code`, so the counting allocator is
//! `stats_alloc::StatsAlloc<System>`; it adds two atomic additions to every allocation,
//! for this measurement and the previous one alike.

use std::alloc::System;
use std::hint::black_box;
use std::mem::size_of;
use std::num::NonZeroU64;
use std::time::{Duration, Instant as StdInstant};

use jabber_proto::client::{Client, Config, Event, SessionEvent, SessionState};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::time::Instant;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The number of clients in `cargo bench`.
const FULL: usize = 100_000;

/// Chat messages the busy client receives.
const MESSAGES: usize = 200_000;

/// The header of a classic stream, as ejabberd sends it (the same as the core's tests).
const CLASSIC_HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='3EE948B0' from='example.com'>";

/// Login starts at 1 s; the roster arrives 10 ms later, so the last byte received comes
/// after the last byte sent, and the first thing the keepalive does is the whitespace
/// (one interval after the last write), not the ping (one interval after the last read).
const LOGIN_AT: u64 = 1_000;
const ROSTER_AT: u64 = 1_010;

/// Distinct seeds whose IQ-id prefixes differ too.
fn seed(i: usize) -> u64 {
    (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The wire id of the `n`th IQ a client seeded with `seed` sends.
fn wire_id(seed: u64, n: u64) -> String {
    format!("{:08x}-{n}", (seed ^ (seed >> 32)) as u32)
}

/// Five-character account names ("alice" in the footprint test), all different.
fn username(i: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut name = String::from("u");
    let mut n = i;
    for _ in 0..4 {
        name.push(char::from(DIGITS[n % 36]));
        n /= 36;
    }
    name
}

/// What client `i` is given; it keeps the config and uses up the credentials.
fn setup(i: usize) -> (Config, Credentials) {
    let mut config = Config::new("example.com", NonZeroU64::MIN);
    config.seed = NonZeroU64::new(seed(i)).expect("a non-zero seed");
    // The script is a classic (jabber:iq:auth) login: stated, the default is XMPP 1.0.
    config.version = None;
    (config, Credentials::new(&username(i), "pw", "desk"))
}

/// The server's bytes for client `i` after the stream header, built before anything is
/// measured.
struct Script {
    auth_fields: Vec<u8>,
    auth_ok: Vec<u8>,
    roster: Vec<u8>,
}

impl Script {
    fn new(i: usize) -> Script {
        let seed = seed(i);
        Script {
            auth_fields: format!(
                "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'>\
                 <username/><password/><digest/><resource/></query></iq>",
                wire_id(seed, 1)
            )
            .into_bytes(),
            auth_ok: format!("<iq type='result' id='{}'/>", wire_id(seed, 2)).into_bytes(),
            roster: format!(
                "<iq type='result' id='{}'><query xmlns='jabber:iq:roster'/></iq>",
                wire_id(seed, 3)
            )
            .into_bytes(),
        }
    }
}

/// Writes out everything queued (the bytes go nowhere) and drops every event; returns
/// the bytes written and whether a `SessionReady` was among the events.
fn drain(client: &mut Client) -> (usize, bool) {
    let mut written = 0;
    while let Some(bytes) = client.poll_transmit() {
        let n = bytes.len();
        written += n;
        client.advance_transmit(n);
    }
    let mut ready = false;
    while let Some(event) = client.poll_event() {
        ready |= matches!(event, Event::Session(SessionEvent::Ready { .. }));
    }
    (written, ready)
}

fn log_in((config, credentials): (Config, Credentials), script: &Script, header: &[u8]) -> Client {
    let now = Instant::from_millis(LOGIN_AT);
    let mut client = Client::new(config, now);
    drain(&mut client);
    client.login(now, credentials).expect("login starts");
    for input in [header, &script.auth_fields, &script.auth_ok] {
        client.handle_input(now, input).expect("input taken");
        drain(&mut client);
    }
    client
        .handle_input(Instant::from_millis(ROSTER_AT), &script.roster)
        .expect("input taken");
    let (_, ready) = drain(&mut client);
    assert!(ready, "the login completes");
    client
}

fn live(region: &Region<'_, System>) -> isize {
    let c = region.change();
    c.bytes_allocated as isize - c.bytes_deallocated as isize
}

struct Idle {
    clients: usize,
    heap: isize,
    login: Duration,
    sweep: Duration,
    sweep_heap: isize,
}

fn idle_clients(n: usize) -> Idle {
    let header = CLASSIC_HEADER.as_bytes();
    let mut clients: Vec<Client> = Vec::with_capacity(n);
    // Counted from here: the inputs are freed before the count is read, so what remains
    // is the clients' (their configs included; the credentials are freed once used).
    let region = Region::new(GLOBAL);
    let mut setups: Vec<(Config, Credentials)> = (0..n).map(setup).collect();
    let scripts: Vec<Script> = (0..n).map(Script::new).collect();

    let start = StdInstant::now();
    for (setup, script) in setups.drain(..).zip(&scripts) {
        clients.push(log_in(setup, script, header));
    }
    let login = start.elapsed();
    drop(setups);
    drop(scripts);
    let heap = live(&region);
    for c in &clients {
        assert_eq!(c.session_state(), SessionState::Ready);
        assert!(c.poll_transmit().is_none());
    }

    // All clients wrote last at LOGIN_AT: their keepalive whitespace is due one interval
    // later, and it is the first deadline of each.
    let due = Instant::from_millis(LOGIN_AT)
        + Config::new("example.com", NonZeroU64::MIN)
            .keepalive_interval
            .expect("on");
    assert!(clients.iter().all(|c| c.poll_timeout() == Some(due)));
    let region = Region::new(GLOBAL);
    let start = StdInstant::now();
    let mut written = 0;
    for c in &mut clients {
        c.handle_timeout(due);
        let (n, _) = drain(c);
        written += n;
    }
    let sweep = start.elapsed();
    let sweep_heap = live(&region);
    assert_eq!(written, n, "one whitespace each");
    assert!(clients.iter().all(|c| c.poll_timeout() > Some(due)));
    black_box(&clients);
    Idle {
        clients: n,
        heap,
        login,
        sweep,
        sweep_heap,
    }
}

struct Busy {
    micros_per_message: f64,
    allocs_per_message: f64,
}

/// One logged-in client receiving `n` chat messages, one per read, each event polled.
fn busy_client(n: usize) -> Busy {
    let mut client = log_in(setup(0), &Script::new(0), CLASSIC_HEADER.as_bytes());
    let messages: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            format!(
                "<message from='bob@example.com/x' to='u0000@example.com/desk' type='chat' \
                 id='m{i}'><body>hello there number {i}, how are you?</body>\
                 <x xmlns='jabber:x:event'><composing/></x></message>"
            )
            .into_bytes()
        })
        .collect();
    let now = Instant::from_millis(ROSTER_AT);
    let mut best = Busy {
        micros_per_message: f64::MAX,
        allocs_per_message: 0.0,
    };
    for _ in 0..3 {
        let region = Region::new(GLOBAL);
        let start = StdInstant::now();
        for m in &messages {
            client.handle_input(now, m).expect("input taken");
            while let Some(event) = client.poll_event() {
                black_box(event);
            }
        }
        let elapsed = start.elapsed();
        let stats = region.change();
        let micros = elapsed.as_secs_f64() * 1e6 / n as f64;
        if micros < best.micros_per_message {
            best = Busy {
                micros_per_message: micros,
                allocs_per_message: (stats.allocations + stats.reallocations) as f64 / n as f64,
            };
        }
    }
    best
}

fn thousands(v: usize) -> String {
    let digits = v.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bench_mode = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list");
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let n = match std::env::var("JABBER_IDLE_CLIENTS") {
        Ok(v) => v.parse().expect("JABBER_IDLE_CLIENTS is a number"),
        Err(_) if bench_mode => FULL,
        Err(_) => 1_000,
    };
    let messages = if bench_mode { MESSAGES } else { 1_000 };

    let idle = idle_clients(n);
    let busy = busy_client(messages);

    let stack = size_of::<Client>();
    let per_client = idle.heap as f64 / idle.clients as f64;
    let total = stack as f64 + per_client;
    let per_us = |d: Duration| d.as_secs_f64() * 1e6 / idle.clients as f64;
    println!("## Idle clients\n");
    println!(
        "{} logged-in idle clients (fetch_roster on, empty roster, everything drained).\n",
        thousands(idle.clients)
    );
    println!("| measure | value |");
    println!("|---|---:|");
    println!("| `size_of::<Client>()` | {stack} B |");
    println!(
        "| live heap, all clients | {:.1} MiB ({} B) |",
        idle.heap as f64 / (1 << 20) as f64,
        thousands(idle.heap as usize)
    );
    println!("| live heap per client | {per_client:.1} B |");
    println!("| per client, inline + heap | {total:.1} B |");
    println!(
        "| all clients, inline + heap | {:.1} MiB |",
        total * idle.clients as f64 / (1 << 20) as f64
    );
    println!(
        "| create + log in, per client | {:.2} µs (all: {:.2?}) |",
        per_us(idle.login),
        idle.login
    );
    println!(
        "| keepalive sweep (`handle_timeout` + drain), per client | {:.3} µs (all: {:.2?}) |",
        per_us(idle.sweep),
        idle.sweep
    );
    println!(
        "| live heap change over the sweep | {} B |",
        idle.sweep_heap
    );
    println!("\n## Busy client\n");
    println!(
        "One client, {} chat messages of about 190 bytes, one per `handle_input`.\n",
        thousands(messages)
    );
    println!("| µs per message | allocations per message |");
    println!("|---:|---:|");
    println!(
        "| {:.3} | {:.2} |",
        busy.micros_per_message, busy.allocs_per_message
    );
}
