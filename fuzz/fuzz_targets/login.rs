//! Drives the login machine with arbitrary server bytes after a valid classic header.
//!
//! Input: byte 0 holds flags (bit 0: `allow_plaintext`, bit 1: `transport_encrypted`,
//! bit 2: `fetch_roster`, bit 3: a `version='1.0'` stream, bit 4: register instead of
//! log in, bit 5: the application closes the stream after chunk number `flags >> 6`),
//! byte 1 the chunk size (1–256), the rest is what the server sends after its header.
//! Each chunk is followed by 7 virtual seconds.
//!
//! Checked: no panic; the plaintext password never leaves unless allowed; at most one of
//! `SessionReady` / `LoginFailed`; `Closed` comes once and last; nothing is sent after our
//! `</stream:stream>`; the final session state agrees with the events; no deadline in the
//! past.
#![no_main]

use std::num::NonZeroU64;
use std::time::Duration;

use jabber_proto::client::{Client, Config, Event, SessionEvent, SessionState};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::time::Instant;
use libfuzzer_sys::fuzz_target;

const HEADER: &[u8] = b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='3EE948B0' from='example.com'>";
const HEADER_1_0: &[u8] = b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='3EE948B0' from='example.com' \
    version='1.0'>";
const PASSWORD: &str = "pw-Zq9xK";

fn drain(client: &mut Client, sent: &mut Vec<u8>, events: &mut Vec<Event>) {
    while let Some(b) = client.poll_transmit() {
        sent.extend_from_slice(b);
        let n = b.len();
        client.advance_transmit(n);
    }
    while let Some(e) = client.poll_event() {
        assert!(
            !matches!(events.last(), Some(Event::Closed(_))),
            "event after Closed: {e:?}"
        );
        events.push(e);
    }
}

fuzz_target!(|data: &[u8]| {
    let [flags, chunk, body @ ..] = data else {
        return;
    };
    let mut config = Config::new("example.com", NonZeroU64::MIN);
    config.allow_plaintext = flags & 1 != 0;
    config.transport_encrypted = flags & 2 != 0;
    config.fetch_roster = flags & 4 != 0;
    let v1 = flags & 8 != 0;
    // Stated either way: the default is XMPP 1.0.
    config.version = v1.then(|| "1.0".into());
    let register = flags & 16 != 0;
    let plaintext_ok = config.allow_plaintext || config.transport_encrypted;

    let mut now = Instant::ZERO;
    let mut client = Client::new(config, now);
    if !register {
        client
            .login(now, Credentials::new("alice", PASSWORD, "r"))
            .expect("a fresh client takes a login");
    }
    let (mut sent, mut events) = (Vec::new(), Vec::new());
    drain(&mut client, &mut sent, &mut events);
    let header = if v1 { HEADER_1_0 } else { HEADER };
    client.handle_input(now, header).expect("drained before every input");
    if register && client.request_registration(now).is_err() {
        return;
    }
    drain(&mut client, &mut sent, &mut events);
    let close_after = (flags & 32 != 0).then_some(usize::from(flags >> 6));
    for (i, piece) in body.chunks(usize::from(*chunk) + 1).enumerate() {
        client.handle_input(now, piece).expect("drained before every input");
        if close_after == Some(i) {
            client.close(now);
        }
        now = now + Duration::from_secs(7);
        client.handle_timeout(now);
        drain(&mut client, &mut sent, &mut events);
        if let Some(t) = client.poll_timeout() {
            assert!(t > now, "deadline in the past");
        }
    }

    let text = String::from_utf8_lossy(&sent);
    if !plaintext_ok {
        assert!(!text.contains(PASSWORD), "plaintext password sent: {text}");
    }
    if let Some(at) = text.find("</stream:stream>") {
        let after = &text[at + "</stream:stream>".len()..];
        assert!(after.is_empty(), "sent after our close: {after:?}");
    }
    let count = |f: fn(&Event) -> bool| events.iter().filter(|e| f(e)).count();
    let ready = count(|e| matches!(e, Event::Session(SessionEvent::Ready { .. })));
    let failed = count(|e| matches!(e, Event::Session(SessionEvent::LoginFailed(_))));
    let closed = count(|e| matches!(e, Event::Closed(_)));
    assert!(ready + failed <= 1, "{events:?}");
    assert!(closed <= 1);
    match client.session_state() {
        SessionState::Ready => assert_eq!(ready, 1),
        SessionState::Ended => {
            assert!(failed + closed >= 1 || close_after.is_some(), "{events:?}")
        }
        SessionState::Authenticating | SessionState::LoggedIn => {
            assert_eq!(failed + closed, 0, "{events:?}")
        }
        SessionState::Unauthenticated => assert!(register, "login forgotten: {events:?}"),
        _ => {}
    }
    if client.is_closed() {
        assert_eq!(closed, 1, "closed without a Closed event");
    }
});
