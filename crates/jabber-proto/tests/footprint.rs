//! Memory footprint of one idle, logged-in `Client` (docs/performance.md, "Idle client
//! footprint").
//!
//! A counting global allocator (`stats_alloc`; the workspace forbids `unsafe_code`, so no
//! hand-written `GlobalAlloc`) measures the heap bytes still live after a client was
//! created, logged in against a scripted server (fetch_roster on, empty roster, initial
//! presence on) and drained of every output. Everything the test itself needs — the
//! server's bytes, the credentials — is built before counting starts and dropped after it
//! ends, and every event is dropped as it is polled, so the bytes counted are the
//! client's own (its `Config` included). The roster travels in the `SessionReady` event
//! and is not kept by the client.
//!
//! The counts are of allocations, not timings, so the test is deterministic — as long as
//! nothing else allocates meanwhile. The allocator is global, so this binary runs without
//! libtest (`harness = false` in Cargo.toml): libtest's own thread allocates while the test
//! starts (its bookkeeping and output), which showed up in about one run in six as 706
//! stray bytes. `main` runs the tests on the main thread and reports them in libtest's
//! format.
//!
//! The same allocator also counts allocations: busy reads (several stanzas each, every
//! read ending on a stanza boundary) must cost each stanza its element's one buffer and
//! nothing at the read boundaries, and a quiet moment must give back what they kept.

mod support;

use std::alloc::System;
use std::mem::size_of;
use std::num::NonZeroU64;

use jabber_proto::client::{Client, Config, Event, SessionEvent, SessionState};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::stanza::IqType;
use jabber_proto::time::Instant;
use jabber_proto::xml::Element;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

use support::{CLASSIC_HEADER, SEED, wire_id};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The target for one idle logged-in client: `size_of::<Client>()` plus live heap.
const TARGET: usize = 2048;

/// The server's side of a digest login on a classic stream, then an empty roster.
struct Script {
    header: Vec<u8>,
    auth_fields: Vec<u8>,
    auth_ok: Vec<u8>,
    roster: Vec<u8>,
}

impl Script {
    fn new() -> Script {
        Script {
            header: CLASSIC_HEADER.as_bytes().to_vec(),
            auth_fields: format!(
                "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'>\
                 <username/><password/><digest/><resource/></query></iq>",
                wire_id(1)
            )
            .into_bytes(),
            auth_ok: format!("<iq type='result' id='{}'/>", wire_id(2)).into_bytes(),
            roster: format!(
                "<iq type='result' id='{}'><query xmlns='jabber:iq:roster'/></iq>",
                wire_id(3)
            )
            .into_bytes(),
        }
    }
}

/// Live heap bytes (allocated minus freed) since `region` started.
fn live(region: &Region<'_, System>) -> isize {
    let c = region.change();
    c.bytes_allocated as isize - c.bytes_deallocated as isize
}

/// Writes everything the client wants to send (into nothing) and drops every event;
/// returns whether a `SessionReady` was among them.
fn drain(client: &mut Client) -> bool {
    while let Some(bytes) = client.poll_transmit() {
        let n = bytes.len();
        client.advance_transmit(n);
    }
    let mut ready = false;
    while let Some(event) = client.poll_event() {
        ready |= matches!(event, Event::Session(SessionEvent::Ready { .. }));
    }
    ready
}

/// Live heap after each step of one login, the last being the idle client.
#[derive(Debug, PartialEq, Eq)]
struct Steps {
    config: isize,
    new: isize,
    header: isize,
    auth_fields: isize,
    auth_ok: isize,
    roster: isize,
    idle: isize,
}

/// Creates a client, logs it in against `script`, drains it, and returns it with the
/// live heap after each step. `config` and `credentials` are built inside the count
/// (they become the client's); the script's bytes outside.
fn logged_in_client(script: &Script, now: Instant) -> (Client, Steps) {
    let region = Region::new(GLOBAL);
    let mut config = Config::new("example.com", NonZeroU64::MIN);
    config.seed = NonZeroU64::new(SEED).expect("a non-zero seed");
    // The script is a classic (jabber:iq:auth) login: say so, whatever the default.
    config.version = None;
    let config_live = live(&region);
    let mut client = Client::new(config, now);
    drain(&mut client);
    let new = live(&region);
    client
        .login(now, Credentials::new("alice", "pw", "desk"))
        .expect("login starts");
    client
        .handle_input(now, &script.header)
        .expect("input taken");
    drain(&mut client);
    let header = live(&region);
    client
        .handle_input(now, &script.auth_fields)
        .expect("input taken");
    drain(&mut client);
    let auth_fields = live(&region);
    client
        .handle_input(now, &script.auth_ok)
        .expect("input taken");
    drain(&mut client);
    let auth_ok = live(&region);
    client
        .handle_input(now, &script.roster)
        .expect("input taken");
    let roster = live(&region);
    let ready = drain(&mut client);
    let idle = live(&region);
    assert!(ready, "the login completes with SessionReady");
    let steps = Steps {
        config: config_live,
        new,
        header,
        auth_fields,
        auth_ok,
        roster,
        idle,
    };
    (client, steps)
}

/// Traffic far above the buffers' idle allowance, after which the client is idle again:
/// 20 chat messages with 1 KiB bodies in one read (a 20 KiB input, 20 events in one
/// burst), a 4 KiB message sent, and an IQ round trip.
struct Burst {
    messages: Vec<u8>,
    iq_result: Vec<u8>,
    body: String,
}

impl Burst {
    fn new() -> Burst {
        let body = "x".repeat(1024);
        let messages = (0..20)
            .map(|i| {
                format!(
                    "<message from='bob@example.com/x' type='chat' id='b{i}'>\
                     <body>{body}</body></message>"
                )
            })
            .collect::<String>()
            .into_bytes();
        Burst {
            messages,
            iq_result: format!(
                "<iq type='result' id='{}'><query xmlns='jabber:iq:version'/></iq>",
                wire_id(4)
            )
            .into_bytes(),
            body: "y".repeat(4096),
        }
    }

    /// Runs the burst through `client` and drains it; returns the number of events.
    fn run(&self, client: &mut Client, now: Instant) -> usize {
        client
            .handle_input(now, &self.messages)
            .expect("input taken");
        let mut events = 0;
        while client.poll_event().is_some() {
            events += 1;
        }
        let message = Element::builder("message", "jabber:client")
            .attr("to", "bob@example.com")
            .child(Element::builder("body", "jabber:client").text(&self.body))
            .build()
            .expect("a valid message");
        client.send(now, message).expect("sent");
        let query = Element::builder("query", "jabber:iq:version")
            .build()
            .expect("a valid query");
        client.send_iq(now, None, IqType::Get, query).expect("sent");
        drain(client);
        client
            .handle_input(now, &self.iq_result)
            .expect("input taken");
        while client.poll_event().is_some() {
            events += 1;
        }
        events
    }
}

/// Heap bytes a clone of `value` takes: what the client holds for it, give or take
/// spare capacity.
fn heap_of_clone<T: Clone>(value: &T) -> isize {
    let region = Region::new(GLOBAL);
    let copy = value.clone();
    let n = live(&region);
    drop(copy);
    n
}

fn main() {
    idle_logged_in_client_fits_in_2_kib();
    // A panic above fails the run; here the test passed.
    println!("test idle_logged_in_client_fits_in_2_kib ... ok");
    busy_reads_allocate_per_stanza_only_and_quiet_gives_it_back();
    println!("test busy_reads_allocate_per_stanza_only_and_quiet_gives_it_back ... ok");
    println!("test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
}

/// One read of `n` small chat messages, each ending where the next begins (as a server
/// writes them), so every read ends on a stanza boundary. Every other body holds a
/// reference, whose decoded text must share its element's buffer.
fn busy_read(first: usize, n: usize) -> Vec<u8> {
    (first..first + n)
        .map(|i| {
            let body = if i % 2 == 0 {
                "hello there"
            } else {
                "salt &amp; pepper"
            };
            format!(
                "<message from='bob@example.com/x' type='chat' id='c{i:04}'>\
                 <body>{body}</body></message>"
            )
        })
        .collect::<String>()
        .into_bytes()
}

/// Feeds `reads` to `client`, draining its events after each; returns the allocations
/// (and reallocations) made meanwhile and the number of events.
fn feed_counted(client: &mut Client, now: Instant, reads: &[Vec<u8>]) -> (usize, usize) {
    let region = Region::new(GLOBAL);
    let mut events = 0;
    for read in reads {
        client.handle_input(now, read).expect("input taken");
        while client.poll_event().is_some() {
            events += 1;
        }
    }
    let c = region.change();
    (c.allocations + c.reallocations, events)
}

/// Busy traffic — reads of several stanzas, each ending on a stanza boundary — costs
/// each stanza its element's two buffers (text, decoded values included, and nodes) and
/// nothing at the read boundaries (no event
/// queue or read buffer freed and grown again per read); once the traffic is quiet (a
/// timer, or a read of one small item) the room it kept goes.
fn busy_reads_allocate_per_stanza_only_and_quiet_gives_it_back() {
    const PER_READ: usize = 8;
    const READS: usize = 10;
    let script = Script::new();
    let now = Instant::from_millis(1_000);
    let (mut client, _) = logged_in_client(&script, now);
    let warm_up = [busy_read(0, PER_READ)];
    let reads: Vec<Vec<u8>> = (1..=READS)
        .map(|r| busy_read(r * PER_READ, PER_READ))
        .collect();
    assert!(
        reads[0].len() > 256,
        "a busy read is above the idle allowance"
    );
    let keepalive = b" ".to_vec();

    // After a small read the parser may keep scratch room up to its idle allowance (the
    // decoded values' buffer, at most 256 B); a timer takes that too.
    for (quiet, allowance) in [("small read", 256), ("timer", 0)] {
        let region = Region::new(GLOBAL);
        let (_, events) = feed_counted(&mut client, now, &warm_up);
        assert_eq!(events, PER_READ);
        let (allocations, events) = feed_counted(&mut client, now, &reads);
        assert_eq!(events, PER_READ * READS);
        println!(
            "busy reads ({READS} × {PER_READ} messages): {allocations} allocations, \
             {:.2} per stanza",
            allocations as f64 / events as f64
        );
        assert!(
            allocations <= events,
            "{allocations} allocations for {events} stanzas: more than their elements' one \
             buffer each"
        );
        match quiet {
            "timer" => {
                // Without a small read, a deadline brings the room back within a second,
                // also for a client with no timer of its own.
                let at = client
                    .poll_timeout()
                    .expect("a deadline to give the room back");
                assert!(
                    at <= now + std::time::Duration::from_secs(1),
                    "{at:?} is too late"
                );
                client.handle_timeout(at)
            }
            _ => client.handle_input(now, &keepalive).expect("input taken"),
        }
        assert!(client.poll_event().is_none());
        let left = live(&region);
        println!("  after a quiet {quiet}: live heap change {left:>6} B");
        assert!(
            left <= allowance,
            "the busy stretch left {left} B behind after a {quiet}"
        );
    }
}

fn idle_logged_in_client_fits_in_2_kib() {
    let script = Script::new();
    let now = Instant::from_millis(1_000);

    // Twice: the second client shows the count does not depend on what ran before.
    let (first, first_steps) = logged_in_client(&script, now);
    drop(first);
    let (client, steps) = logged_in_client(&script, now);
    assert_eq!(first_steps, steps, "the count is deterministic");

    assert_eq!(client.session_state(), SessionState::Ready);
    assert!(client.poll_transmit().is_none() && client.pending_iqs() == 0);

    let stack = size_of::<Client>();
    let heap = usize::try_from(steps.idle).expect("live heap is not negative");
    let total = stack + heap;

    let config_heap = heap_of_clone(client.config());
    let header_heap = client.server_header().map_or(0, heap_of_clone);
    let jid_heap = client.jid().map_or(0, heap_of_clone);

    println!("idle logged-in client (fetch_roster on, empty roster, everything drained):");
    println!("  size_of::<Client>()            {stack:>6} B");
    println!("  live heap                      {heap:>6} B");
    println!("  total                          {total:>6} B  (target <= {TARGET} B)");
    println!("live heap after each step:");
    println!("  Config::new                    {:>6} B", steps.config);
    println!("  Client::new, header written    {:>6} B", steps.new);
    println!("  login + server header          {:>6} B", steps.header);
    println!(
        "  auth fields -> digest set      {:>6} B",
        steps.auth_fields
    );
    println!("  auth ok -> roster get, presence{:>6} B", steps.auth_ok);
    println!("  roster result (not drained)    {:>6} B", steps.roster);
    println!("  idle (drained)                 {:>6} B", steps.idle);
    println!("parts of the idle heap (heap of a clone):");
    println!("  config                         {config_heap:>6} B");
    println!("  server stream header           {header_heap:>6} B");
    println!("  own JID                        {jid_heap:>6} B");

    assert!(
        total <= TARGET,
        "idle client takes {total} B ({stack} B inline + {heap} B heap), over {TARGET} B"
    );

    // Idle again after a burst far above the buffers' allowance: nothing of it stays.
    let burst = Burst::new();
    let mut client = client;
    let region = Region::new(GLOBAL);
    let events = burst.run(&mut client, now);
    let after_burst = live(&region);
    assert_eq!(events, 21, "20 messages and the IQ's result");
    assert!(client.poll_transmit().is_none() && client.pending_iqs() == 0);
    println!("after a burst (20 KiB read, 21 events, 4 KiB sent, one IQ), idle again:");
    println!("  live heap change               {after_burst:>6} B");
    assert!(
        after_burst <= 0,
        "the burst left {after_burst} B behind in an idle client"
    );
}
