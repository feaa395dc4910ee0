//! Drives a `Client` in WebSocket framing (RFC 7395) with fuzzer-made messages: the
//! server's `<open/>` first (so the fuzzer spends its time on what follows), then each
//! message as one `handle_input`, each followed by a second of virtual time.
//!
//! Input: byte 0 = flags (bit 0: log in with PLAIN, bit 1: the application closes
//! half-way, bit 2: no server `<open/>` in front, bit 3: over `ws:`, the transport not
//! encrypted — else `wss:`); then messages, each a length byte and that many bytes (the
//! last one takes what is left).
//!
//! Checked: no panic; `Closed` once and last; every `take_transmit` is exactly one
//! complete element (`<open/>` first, then elements; nothing after our `<close/>`); no
//! whitespace is ever sent; the password never leaves without `transport_encrypted`.
#![no_main]

use std::num::NonZeroU64;
use std::time::Duration;

use jabber_proto::client::{Client, Config, Event};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::negotiation::sasl::{Mechanism, MechanismSet};
use jabber_proto::stream::{Framing, Item, StreamParser, framing};
use jabber_proto::time::Instant;
use libfuzzer_sys::fuzz_target;

const OPEN: &[u8] = b"<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' \
    id='ws1' version='1.0'/>";

struct Check {
    client: Client,
    /// Parses what we send, message by message, as the server would.
    ours: StreamParser,
    closed_events: usize,
    our_close_sent: bool,
    login: bool,
    /// The transport is encrypted (`wss:`), as the config says.
    encrypted: bool,
}

impl Check {
    fn drain(&mut self) {
        while let Some(event) = self.client.poll_event() {
            assert_eq!(self.closed_events, 0, "an event after Closed: {event:?}");
            if matches!(event, Event::Closed(_)) {
                self.closed_events += 1;
            }
        }
        while let Some(message) = self.client.take_transmit() {
            assert!(!self.our_close_sent, "a message after our <close/>");
            assert!(!message.is_empty() && !message[0].is_ascii_whitespace());
            let text = String::from_utf8_lossy(&message);
            if self.login && !self.encrypted {
                // "alice\0pw" in base64 (PLAIN): never over `ws:`.
                assert!(!text.contains("AGFsaWNlAHB3"), "the PLAIN credential over ws: {text:?}");
            }
            if message.starts_with(b"<open ") {
                // A new stream (the first, or the restart after SASL).
                self.ours = StreamParser::websocket(jabber_fuzz::limits());
            }
            self.ours.push(&message);
            match self.ours.next_item() {
                Some(Ok(Item::Header(_))) => {}
                Some(Ok(Item::Element(el))) => {
                    self.our_close_sent = framing::is_close(el.root());
                }
                other => panic!("not one element: {text:?} -> {other:?}"),
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, mut rest)) = data.split_first() else {
        return;
    };
    let mut config = Config::new("example.com", NonZeroU64::new(7).unwrap());
    config.framing = Framing::WebSocket;
    config.limits = jabber_fuzz::limits();
    config.max_events = 16;
    let login = flags & 1 != 0;
    let encrypted = flags & 8 == 0;
    config.transport_encrypted = encrypted;
    config.sasl_mechanisms = MechanismSet::only(Mechanism::Plain);
    let mut now = Instant::from_millis(0);
    let mut check = Check {
        client: Client::new(config, now),
        ours: StreamParser::websocket(jabber_fuzz::limits()),
        closed_events: 0,
        our_close_sent: false,
        login,
        encrypted,
    };
    if login {
        let _ = check.client.login(now, Credentials::new("alice", "pw", "desk"));
    }
    // The server's side of our `<open/>`, so our parser accepts our first message.
    check.drain();
    if flags & 4 == 0 {
        let _ = check.client.handle_input(now, OPEN);
        check.drain();
    }
    let mut step = 0;
    while !rest.is_empty() {
        let len = usize::from(rest[0]);
        let (message, tail) = rest[1..].split_at(len.min(rest.len() - 1));
        rest = tail;
        let _ = check.client.handle_input(now, message);
        check.drain();
        now = now + Duration::from_secs(1);
        check.client.handle_timeout(now);
        check.drain();
        step += 1;
        if flags & 2 != 0 && step == 2 {
            check.client.close(now);
            check.drain();
        }
    }
    check.client.handle_eof(now);
    check.drain();
    now = now + Duration::from_secs(120);
    check.client.handle_timeout(now);
    check.drain();
    assert!(check.closed_events <= 1);
});
