//! Message carbons (XEP-0280) on a scripted server: the enable request after login
//! (byte-exact) and its answers, sent and received copies as typed events with their
//! forwarded message and delay, and forged copies — from a contact, a stranger, our
//! server, one of our own full JIDs, or no one — dropped and reported, never delivered.

mod support;

use std::num::NonZeroU64;
use std::time::Duration;

use jabber_proto::client::{CarbonEvent, Config, Event, SessionEvent, StanzaEvent};
use jabber_proto::features::block_policy::{BlockMode, BlockPolicy};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::stanza::ext::{CarbonDirection, Forwarded, Private};
use jabber_proto::stanza::{Delay, Message, StanzaCondition, StanzaError};
use jabber_proto::time::Timestamp;
use support::{CLASSIC_HEADER, Harness, SEED, wire_id};

fn config(carbons: bool) -> Config {
    let mut c = Config::new(
        "example.com",
        NonZeroU64::new(SEED).expect("a non-zero seed"),
    );
    // A classic server is scripted: the classic stream, stated (1.0 is the default).
    c.version = None;
    c.fetch_roster = false;
    c.initial_presence = false;
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    c.carbons = carbons;
    c
}

fn jid(s: &str) -> Jid {
    Jid::parse(s).expect("a valid JID")
}

/// Logs in as alice@example.com/desk; returns what the client sent after the login
/// succeeded.
fn login(h: &mut Harness) -> String {
    let now = h.now;
    h.client
        .login(now, Credentials::new("alice", "pw", "desk"))
        .expect("login starts");
    h.server(CLASSIC_HEADER);
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'><digest/></query></iq>",
        wire_id(1)
    ));
    h.sent();
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
    assert!(matches!(
        h.events().last(),
        Some(Event::Session(SessionEvent::Ready { .. }))
    ));
    h.sent()
}

fn enabled() -> Harness {
    let mut h = Harness::new(config(true));
    login(&mut h);
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(3)));
    assert_eq!(h.events(), [Event::Carbons(CarbonEvent::Enabled)]);
    h
}

const INNER: &str = "<message xmlns='jabber:client' from='juliet@example.com/balcony' \
    to='alice@example.com/phone' type='chat' id='m1'><body>Wherefore art thou?</body>\
    </message>";

fn carbon(from: Option<&str>, direction: &str) -> String {
    let from = from.map(|f| format!(" from='{f}'")).unwrap_or_default();
    format!(
        "<message{from} to='alice@example.com/desk' type='chat'>\
         <{direction} xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
         <delay xmlns='urn:xmpp:delay' stamp='2026-12-03T12:00:00Z'/>{INNER}</forwarded>\
         </{direction}></message>"
    )
}

fn inner_message() -> Message {
    let Event::Stanza(StanzaEvent::Message(m)) = ({
        let mut h = Harness::open(config(false));
        h.server(&INNER.replace(" xmlns='jabber:client'", ""));
        h.events().remove(0)
    }) else {
        panic!("a message");
    };
    m
}

#[test]
fn enabled_after_login_byte_exact_and_only_when_configured() {
    let mut h = Harness::new(config(true));
    assert_eq!(
        login(&mut h),
        format!(
            "<iq type='set' id='{}'><enable xmlns='urn:xmpp:carbons:2'/></iq>",
            wire_id(3)
        )
    );
    assert!(!h.client.carbons_enabled());
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(3)));
    assert_eq!(h.events(), [Event::Carbons(CarbonEvent::Enabled)]);
    assert!(h.client.carbons_enabled());

    let mut off = Harness::new(config(false));
    assert_eq!(login(&mut off), "", "off by default: nothing asked");
}

#[test]
fn an_error_or_no_answer_means_not_offered() {
    let mut h = Harness::new(config(true));
    login(&mut h);
    h.server(&format!(
        "<iq type='error' id='{}'><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        wire_id(3)
    ));
    assert_eq!(
        h.events(),
        [Event::Carbons(CarbonEvent::Unavailable {
            error: Some(StanzaError::new(StanzaCondition::ServiceUnavailable))
        })]
    );
    assert!(!h.client.carbons_enabled());

    let mut h = Harness::new(config(true));
    login(&mut h);
    h.advance(Duration::from_secs(61));
    assert_eq!(
        h.events(),
        [Event::Carbons(CarbonEvent::Unavailable { error: None })]
    );
    // An answer from anyone but our server is not one.
    let mut h = Harness::new(config(true));
    login(&mut h);
    h.server(&format!(
        "<iq type='result' id='{}' from='mallory@example.net'/>",
        wire_id(3)
    ));
    assert_eq!(h.events(), []);
    assert!(!h.client.carbons_enabled());
}

#[test]
fn copies_from_our_own_bare_jid_become_typed_events() {
    let mut h = enabled();
    let expected = Forwarded {
        message: inner_message(),
        delay: Some(Delay::new(
            Timestamp::parse("2026-12-03T12:00:00Z").expect("a stamp"),
        )),
    };
    // Canonical comparison: the server may keep the case the account was created with.
    let input = [
        carbon(Some("alice@example.com"), "received"),
        carbon(Some("Alice@EXAMPLE.com"), "sent"),
    ]
    .concat();
    h.server_bytewise(&input);
    let events = h.events();
    assert_eq!(
        events,
        [
            Event::Carbons(CarbonEvent::Received(Box::new(expected.clone()))),
            Event::Carbons(CarbonEvent::Sent(Box::new(expected))),
        ]
    );
    let Event::Carbons(CarbonEvent::Received(f)) = &events[0] else {
        unreachable!()
    };
    assert_eq!(f.message.body().as_deref(), Some("Wherefore art thou?"));
    assert_eq!(
        f.message.from(),
        Some(jid("juliet@example.com/balcony").as_jid_ref())
    );
}

#[test]
fn forged_copies_are_dropped_and_reported_never_delivered() {
    // Even without carbons asked for: a forged copy is never a message.
    for mut h in [enabled(), {
        let mut h = Harness::new(config(false));
        login(&mut h);
        h
    }] {
        for direction in [CarbonDirection::Sent, CarbonDirection::Received] {
            for from in [
                Some("juliet@example.com/balcony"),
                Some("juliet@example.com"),
                Some("mallory@evil.example"),
                Some("example.com"),
                Some("alice@example.com/phone"),
                Some("alice@example.com.evil.example"),
                None,
            ] {
                h.server(&carbon(from, direction.as_str()));
                assert_eq!(
                    h.events(),
                    [Event::Carbons(CarbonEvent::Spoofed {
                        from: from.map(jid),
                        direction
                    })],
                    "{from:?} {direction:?}"
                );
                assert_eq!(h.sent(), "", "nothing answered");
            }
        }
    }
}

#[test]
fn a_copy_without_a_message_is_invalid() {
    let mut h = enabled();
    h.server(
        "<message from='alice@example.com'><received xmlns='urn:xmpp:carbons:2'>\
         <forwarded xmlns='urn:xmpp:forward:0'/></received></message>",
    );
    let events = h.events();
    assert!(
        matches!(events.as_slice(), [Event::Carbons(CarbonEvent::Invalid(_))]),
        "{events:?}"
    );
}

#[test]
fn received_copies_from_blocked_senders_are_dropped_sent_ones_kept() {
    let mut h = enabled();
    let now = h.now;
    let policy = BlockPolicy::new(BlockMode::Listed).with_jid(jid("juliet@example.com"));
    h.client.set_block_policy(now, policy).expect("sent");
    h.sent();
    h.server(&carbon(Some("alice@example.com"), "received"));
    h.server(&carbon(Some("alice@example.com"), "sent"));
    let events = h.events();
    assert!(
        matches!(events.as_slice(), [Event::Carbons(CarbonEvent::Sent(_))]),
        "{events:?}"
    );
    assert_eq!(h.client.blocked_counts().messages, 1);
}

#[test]
fn private_messages_carry_the_marker() {
    let m = Message::chat(&jid("juliet@example.com"))
        .id("p1")
        .body("between us")
        .private()
        .build()
        .expect("a message");
    assert_eq!(
        m.element().to_string(),
        "<message xmlns='jabber:client' to='juliet@example.com' type='chat' id='p1'>\
         <body>between us</body><private xmlns='urn:xmpp:carbons:2'/></message>"
    );
    assert_eq!(m.extension::<Private>(), Some(Private));
}
