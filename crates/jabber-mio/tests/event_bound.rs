//! The core's event bound under the mio driver: one read can hold more stanzas than
//! `Config::max_events`; the core pauses and the driver resumes it (through the link's
//! `wants_input` and its deadline) instead of failing the session, and every stanza is
//! output, in order.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::num::NonZeroU64;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use jabber_mio::{CloseReason, Config, Driver, Event, Options, Output, StanzaEvent};

/// A server that, once the client's stream header is in, sends its own header, `count`
/// messages and its stream end in one write (more stanzas per read than the core's event
/// bound), then reads until the client closes.
fn flood(count: usize) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local address");
    let handle = thread::spawn(move || {
        let (mut sock, _) = listener.accept().expect("accept");
        sock.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&got).contains("<stream:stream") || !got.ends_with(b">") {
            let n = sock.read(&mut buf).expect("the client's header");
            assert!(n > 0, "the client left early");
            got.extend_from_slice(&buf[..n]);
        }
        let mut out = String::from(HEADER);
        for i in 0..count {
            out.push_str(&format!(
                "<message from='bob@example.com/x'><body>{i}</body></message>"
            ));
        }
        out.push_str("</stream:stream>");
        sock.write_all(out.as_bytes()).expect("the flood");
        while matches!(sock.read(&mut buf), Ok(n) if n > 0) {}
    });
    (addr, handle)
}

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='example.com'>";

/// A small event bound, and nothing else of the core's that could send or time out.
fn bounded_config() -> Config {
    let mut config = Config::new("example.com", NonZeroU64::new(11).expect("non-zero"));
    config.max_events = 2;
    config.keepalive_interval = None;
    config.dead_peer_timeout = None;
    config
}

fn body(event: &Event) -> Option<usize> {
    match event {
        Event::Stanza(StanzaEvent::Message(m)) => m.body().and_then(|b| b.parse().ok()),
        _ => None,
    }
}

#[test]
fn a_flood_beyond_the_event_bound_arrives_whole_and_in_order() {
    let count = 2_000;
    let (addr, server) = flood(count);
    let mut driver = Driver::new().expect("driver");
    let id = driver
        .connect(addr, bounded_config(), &Options::plain())
        .expect("connect");
    let started = Instant::now();
    let mut seen = Vec::new();
    let reason = 'run: loop {
        assert!(started.elapsed() < Duration::from_secs(20), "too slow");
        driver.poll(Some(Duration::from_millis(500))).expect("poll");
        while let Some((from, output)) = driver.poll_output() {
            assert_eq!(from, id);
            match output {
                Output::Connected => {}
                Output::Event(Event::Closed(reason)) => break 'run reason,
                Output::Event(event) => seen.extend(body(&event)),
                Output::Failed(e) => panic!("failed: {e}"),
                other => panic!("{other:?}"),
            }
        }
    };
    assert_eq!(reason, CloseReason::Peer);
    assert_eq!(seen, (0..count).collect::<Vec<_>>());
    // The last bytes leave and the socket closes; the server sees the end.
    while !driver.is_empty() {
        driver.poll(Some(Duration::from_millis(100))).expect("poll");
    }
    for _ in 0..50 {
        driver.poll(Some(Duration::from_millis(20))).expect("poll");
        if server.is_finished() {
            break;
        }
    }
    server.join().expect("the server");
}
