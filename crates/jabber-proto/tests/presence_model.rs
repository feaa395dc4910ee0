//! Presence (issue 10, §4): the commands byte-exact, the unavailable presence owed at
//! logout after each of them, incoming presence as typed events, and the model of
//! others' presence — ranking, negative priority, our own other resources, its bounds,
//! and its end with the connection.

mod support;

use std::num::NonZeroU64;
use std::time::Duration;

use jabber_proto::client::{CloseReason, Config, Error, Event, PresenceEvent};
use jabber_proto::jid::Jid;
use jabber_proto::stanza::{Presence, Show, StanzaCondition};
use support::{Harness, SEED};

fn config() -> Config {
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
    c
}

fn jid(s: &str) -> Jid {
    Jid::parse(s).expect("a valid JID")
}

fn presence_events(events: &[Event]) -> Vec<&PresenceEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Presence(p) => Some(p),
            _ => None,
        })
        .collect()
}

/// `(resource, priority)` of the best resource of `bare`.
fn best(h: &Harness, bare: &str) -> Option<(String, i8)> {
    h.client
        .presence()
        .best(&jid(bare))
        .map(|r| (r.jid.resource().unwrap_or_default().to_string(), r.priority))
}

// ---- commands ----

#[test]
fn send_presence_byte_exact() {
    let mut h = Harness::logged_in(config());
    let romeo = jid("romeo@example.net/orchard");
    let cases = [
        (
            Presence::available()
                .show(Show::Chat)
                .status("free")
                .priority(3),
            "<presence><show>chat</show><status>free</status><priority>3</priority></presence>",
        ),
        (
            Presence::available().show(Show::Xa).priority(-1),
            "<presence><show>xa</show><priority>-1</priority></presence>",
        ),
        (
            Presence::available().to(&romeo).show(Show::Dnd),
            "<presence to='romeo@example.net/orchard'><show>dnd</show></presence>",
        ),
        (
            Presence::unavailable().to(&romeo),
            "<presence to='romeo@example.net/orchard' type='unavailable'/>",
        ),
        (
            Presence::unavailable().status("invisible"),
            "<presence type='unavailable'><status>invisible</status></presence>",
        ),
    ];
    for (builder, wire) in cases {
        let p = builder.build().expect("valid");
        h.client.send_presence(h.now, &p).expect("sent");
        assert_eq!(h.sent(), wire);
    }
}

#[test]
fn send_presence_refuses_other_types_and_before_login() {
    let mut h = Harness::logged_in(config());
    let romeo = jid("romeo@example.net");
    for p in [Presence::subscribe(&romeo), Presence::subscribed(&romeo)] {
        let p = p.build().expect("valid");
        assert_eq!(
            h.client.send_presence(h.now, &p),
            Err(Error::WrongPresenceType)
        );
    }
    assert_eq!(h.sent(), "");

    let mut h = Harness::open(config());
    let p = Presence::available().build().expect("valid");
    assert_eq!(h.client.send_presence(h.now, &p), Err(Error::WrongPhase));
    assert_eq!(h.sent(), "");
}

#[test]
fn unavailable_owed_at_close_follows_every_command() {
    let romeo = jid("romeo@example.net");
    let available = Presence::available()
        .show(Show::Away)
        .build()
        .expect("valid");
    let unavailable = Presence::unavailable().build().expect("valid");
    let directed = Presence::available().to(&romeo).build().expect("valid");
    let directed_off = Presence::unavailable().to(&romeo).build().expect("valid");
    // (commands, whether unavailable is owed at close)
    let cases: [(&[&Presence], bool); 5] = [
        (&[&available], true),
        (&[&available, &unavailable], false),
        (&[&directed], false),
        (&[&available, &directed_off], true),
        (&[&unavailable, &available], true),
    ];
    for (commands, owed) in cases {
        let mut h = Harness::logged_in(config());
        for p in commands {
            h.client.send_presence(h.now, p).expect("sent");
        }
        h.sent();
        assert_eq!(h.client.is_available(), owed, "{commands:?}");
        let now = h.now;
        h.client.close(now);
        let expected = if owed {
            "<presence type='unavailable'/></stream:stream>"
        } else {
            "</stream:stream>"
        };
        assert_eq!(h.sent(), expected, "{commands:?}");
    }
}

// ---- events ----

#[test]
fn incoming_presence_is_typed_by_kind() {
    let mut h = Harness::logged_in(config());
    h.server(
        "<presence from='juliet@example.com/balcony'><show>away</show><status>out</status>\
         <priority>5</priority></presence>\
         <presence from='juliet@example.com/balcony' type='unavailable'/>\
         <presence from='romeo@example.net' type='error'><error type='cancel'>\
         <remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>\
         <presence from='example.com' type='probe'/>\
         <presence from='nurse@example.com/x' type='error'/>",
    );
    let events = h.events();
    let [
        PresenceEvent::Available(on),
        PresenceEvent::Unavailable(off),
        PresenceEvent::Error { error, presence },
        PresenceEvent::Probe(probe),
        PresenceEvent::Error {
            error: bare_error, ..
        },
    ] = presence_events(&events).as_slice()
    else {
        panic!("{events:?}")
    };
    assert_eq!(
        (on.show(), on.status().as_deref(), on.priority()),
        (Some(Show::Away), Some("out"), 5)
    );
    assert!(
        off.from()
            .is_some_and(|f| f == jid("juliet@example.com/balcony"))
    );
    assert_eq!(error.condition, StanzaCondition::RemoteServerNotFound);
    assert!(
        presence
            .from()
            .is_some_and(|f| f == jid("romeo@example.net"))
    );
    assert!(probe.from().is_some_and(|f| f == jid("example.com")));
    assert_eq!(bare_error.condition, StanzaCondition::UndefinedCondition);
    assert_eq!(h.events().len(), 0);
    // None of it needed an answer.
    assert_eq!(h.sent(), "");
}

// ---- the model ----

#[test]
fn best_resource_by_priority_then_show_then_recency() {
    let mut h = Harness::logged_in(config());
    let juliet = "juliet@example.com";
    h.server(&format!(
        "<presence from='{juliet}/a'><priority>1</priority></presence>"
    ));
    assert_eq!(best(&h, juliet), Some(("a".into(), 1)));
    // Higher priority wins whatever the shows.
    h.server(&format!(
        "<presence from='{juliet}/b'><show>away</show><priority>2</priority></presence>"
    ));
    assert_eq!(best(&h, juliet), Some(("b".into(), 2)));
    // Same priority: chat > available > away > xa > dnd.
    for (show, expected) in [("xa", "b"), ("away", "c"), ("chat", "c")] {
        h.server(&format!(
            "<presence from='{juliet}/c'><show>{show}</show><priority>2</priority></presence>"
        ));
        assert_eq!(
            best(&h, juliet).map(|b| b.0),
            Some(expected.into()),
            "{show}"
        );
    }
    // b catches up to chat: equal in priority and show, the most recent wins.
    h.server(&format!(
        "<presence from='{juliet}/b'><show>chat</show><priority>2</priority></presence>"
    ));
    assert_eq!(best(&h, juliet).map(|b| b.0), Some("b".into()));
    h.server(&format!(
        "<presence from='{juliet}/c'><show>chat</show><priority>2</priority></presence>"
    ));
    assert_eq!(best(&h, juliet).map(|b| b.0), Some("c".into()));
    assert_eq!(h.client.presence().resources(&jid(juliet)).len(), 3);
    // A full address asks about its bare one.
    assert!(
        h.client
            .presence()
            .best(&jid("juliet@example.com/zzz"))
            .is_some()
    );
}

#[test]
fn show_ranks_available_above_away_and_chat_above_available() {
    let order = [
        None,
        Some("dnd"),
        Some("xa"),
        Some("away"),
        None,
        Some("chat"),
    ];
    // Each lower show leaves r0 the best; r4 ties with r0 and is newer; chat wins.
    let expect_best = ["r0", "r0", "r0", "r0", "r4", "r5"];
    let mut h = Harness::logged_in(config());
    for (i, show) in order.iter().enumerate() {
        let show = show
            .map(|s| format!("<show>{s}</show>"))
            .unwrap_or_default();
        h.server(&format!(
            "<presence from='nurse@example.com/r{i}'>{show}</presence>"
        ));
        assert_eq!(
            best(&h, "nurse@example.com").map(|b| b.0),
            Some(expect_best[i].to_string()),
            "after r{i}"
        );
    }
    h.server("<presence from='nurse@example.com/r5' type='unavailable'/>");
    assert_eq!(
        best(&h, "nurse@example.com").map(|b| b.0),
        Some("r4".into())
    );
}

#[test]
fn negative_priority_is_online_but_ranks_last_and_skips_bare_messages() {
    let mut h = Harness::logged_in(config());
    h.server(
        "<presence from='bot@example.com/a'><show>chat</show><priority>-1</priority></presence>",
    );
    let b = h
        .client
        .presence()
        .best(&jid("bot@example.com"))
        .cloned()
        .expect("online");
    assert_eq!(b.priority, -1);
    assert!(!b.receives_bare_messages());
    h.server(
        "<presence from='bot@example.com/b'><show>dnd</show><priority>0</priority></presence>",
    );
    let b = h
        .client
        .presence()
        .best(&jid("bot@example.com"))
        .cloned()
        .expect("online");
    assert_eq!(b.jid, jid("bot@example.com/b"));
    assert!(b.receives_bare_messages());
    // Invalid or out-of-range priorities count as 0 (RFC 6121 §4.7.2.3).
    h.server("<presence from='bot@example.com/c'><priority>300</priority></presence>");
    let c = h
        .client
        .presence()
        .resources(&jid("bot@example.com"))
        .iter()
        .find(|r| r.jid == jid("bot@example.com/c"))
        .cloned();
    assert_eq!(c.map(|c| c.priority), Some(0));
}

#[test]
fn unavailable_removes_the_resource_and_bare_unavailable_all() {
    let mut h = Harness::logged_in(config());
    h.server(
        "<presence from='juliet@example.com/a'/><presence from='juliet@example.com/b'/>\
         <presence from='romeo@example.net/x'/>",
    );
    let contacts: Vec<_> = h.client.presence().contacts().cloned().collect();
    assert_eq!(
        contacts,
        [jid("juliet@example.com"), jid("romeo@example.net")]
    );
    h.server("<presence from='JULIET@example.com/a' type='unavailable'/>");
    let left: Vec<_> = h
        .client
        .presence()
        .resources(&jid("juliet@example.com"))
        .iter()
        .map(|r| r.jid.clone())
        .collect();
    assert_eq!(left, [jid("juliet@example.com/b")]);
    h.server("<presence from='juliet@example.com' type='unavailable'/>");
    assert!(!h.client.presence().is_available(&jid("juliet@example.com")));
    h.server("<presence from='romeo@example.net/x' type='unavailable'/>");
    assert_eq!(h.client.presence().contacts().count(), 0);
    // Unavailable from someone never seen changes nothing and is still reported.
    h.server("<presence from='ghost@example.com/x' type='unavailable'/>");
    assert!(matches!(
        h.events().last(),
        Some(Event::Presence(PresenceEvent::Unavailable(_)))
    ));
}

#[test]
fn own_other_resources_are_tracked_but_not_this_session() {
    let mut h = Harness::logged_in(config());
    // The server's echo of our own broadcast (to and from our full JID), and our phone.
    h.server(
        "<presence from='alice@example.com/desk' to='alice@example.com/desk'/>\
         <presence from='Alice@Example.com/phone'><priority>-1</priority></presence>",
    );
    let own: Vec<_> = h
        .client
        .presence()
        .resources(&jid("alice@example.com"))
        .iter()
        .map(|r| r.jid.resource().map(str::to_string))
        .collect();
    assert_eq!(own, [Some("phone".to_string())]);
    // Both were reported.
    assert_eq!(presence_events(&h.events()).len(), 2);
    // Presence without a sender is our server speaking for our account: not a resource.
    h.server("<presence/>");
    assert_eq!(
        h.client
            .presence()
            .resources(&jid("alice@example.com"))
            .len(),
        1
    );
}

#[test]
fn the_bound_on_contacts_leaves_newcomers_untracked_but_reported() {
    let mut c = config();
    c.max_contacts = 2;
    let mut h = Harness::logged_in(c);
    h.server(
        "<presence from='a@example.com/r'/><presence from='b@example.com/r'/>\
         <presence from='c@example.com/r'/><presence from='a@example.com/s'/>",
    );
    assert_eq!(presence_events(&h.events()).len(), 4);
    let p = h.client.presence();
    assert_eq!(p.contacts().count(), 2);
    assert!(!p.is_available(&jid("c@example.com")));
    assert_eq!(p.resources(&jid("a@example.com")).len(), 2);
    assert_eq!(p.untracked(), 1);
    // Room again once a contact goes.
    h.server(
        "<presence from='b@example.com/r' type='unavailable'/><presence from='c@example.com/r'/>",
    );
    assert!(h.client.presence().is_available(&jid("c@example.com")));
}

#[test]
fn the_bound_on_resources_keeps_the_best_ones() {
    let mut c = config();
    c.max_resources = 2;
    let mut h = Harness::logged_in(c);
    let bare = "juliet@example.com";
    h.server(&format!(
        "<presence from='{bare}/a'><priority>5</priority></presence>\
         <presence from='{bare}/b'><priority>1</priority></presence>"
    ));
    // Ranks below both: left out.
    h.server(&format!(
        "<presence from='{bare}/c'><priority>0</priority></presence>"
    ));
    let names = |h: &Harness| {
        let mut v: Vec<_> = h
            .client
            .presence()
            .resources(&jid(bare))
            .iter()
            .map(|r| r.jid.resource().unwrap_or_default().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&h), ["a", "b"]);
    assert_eq!(h.client.presence().untracked(), 1);
    // Ranks above the worst: replaces it, and is the best.
    h.server(&format!(
        "<presence from='{bare}/d'><priority>9</priority></presence>"
    ));
    assert_eq!(names(&h), ["a", "d"]);
    assert_eq!(best(&h, bare), Some(("d".into(), 9)));
    assert_eq!(h.client.presence().untracked(), 2);
    // A known resource updates in place at the bound.
    h.server(&format!(
        "<presence from='{bare}/a'><priority>10</priority></presence>"
    ));
    assert_eq!(best(&h, bare), Some(("a".into(), 10)));
    assert_eq!(h.client.presence().untracked(), 2);
}

#[test]
fn the_model_ends_with_the_connection() {
    for end in ["close", "reset", "eof", "timeout"] {
        let mut c = config();
        c.dead_peer_timeout = Some(Duration::from_secs(180));
        let mut h = Harness::logged_in(c);
        h.server("<presence from='juliet@example.com/a'/>");
        assert!(h.client.presence().is_available(&jid("juliet@example.com")));
        match end {
            "close" => h.server("</stream:stream>"),
            "reset" => h.client.handle_reset(h.now),
            "eof" => h.client.handle_eof(h.now),
            _ => h.advance(Duration::from_secs(181)),
        }
        assert!(h.client.is_closed(), "{end}");
        assert_eq!(h.client.presence().contacts().count(), 0, "{end}");
        let events = h.events();
        assert!(matches!(events.last(), Some(Event::Closed(_))), "{end}");
        if end == "timeout" {
            assert!(matches!(
                events.last(),
                Some(Event::Closed(CloseReason::PeerTimeout))
            ));
        }
    }
}

#[test]
fn chunking_does_not_change_the_model() {
    let input = "<presence from='juliet@example.com/a'><show>away</show><priority>3</priority></presence>\
                 <presence from='juliet@example.com/b'><show>chat</show><priority>3</priority></presence>\
                 <presence from='romeo@example.net/x'><status>hi &amp; bye</status></presence>\
                 <presence from='juliet@example.com/b' type='unavailable'/>";
    let mut whole = Harness::logged_in(config());
    whole.server(input);
    let mut bytes = Harness::logged_in(config());
    bytes.server_bytewise(input);
    assert_eq!(whole.events(), bytes.events());
    for bare in ["juliet@example.com", "romeo@example.net"] {
        let (a, b) = (whole.client.presence(), bytes.client.presence());
        assert_eq!(a.resources(&jid(bare)), b.resources(&jid(bare)));
    }
    assert_eq!(best(&whole, "juliet@example.com"), Some(("a".into(), 3)));
    assert_eq!(
        whole
            .client
            .presence()
            .best(&jid("romeo@example.net"))
            .and_then(|r| r.status.clone()),
        Some("hi & bye".to_string())
    );
}

#[test]
fn the_model_keeps_a_bounded_status() {
    use jabber_proto::features::contacts::STATUS_KEEP_BYTES;
    let mut h = Harness::logged_in(config());
    // Two-byte characters, so the cut falls inside one unless it is done at a boundary.
    let long = "é".repeat(STATUS_KEEP_BYTES);
    h.server(&format!(
        "<presence from='juliet@example.com/a'><status>x{long}</status></presence>"
    ));
    let events = h.events();
    let [PresenceEvent::Available(p)] = presence_events(&events).as_slice() else {
        panic!("{events:?}")
    };
    // The event has it whole; the model its first bytes, cut between characters.
    assert_eq!(p.status().map(|s| s.len()), Some(1 + 2 * STATUS_KEEP_BYTES));
    let kept = h
        .client
        .presence()
        .best(&jid("juliet@example.com"))
        .and_then(|r| r.status.clone())
        .expect("a status");
    assert_eq!(kept.len(), STATUS_KEEP_BYTES - 1);
    assert!(format!("x{long}").starts_with(&kept));
}

/// What the model holds, counted as `Config::max_presence_bytes` counts it.
fn model_bytes(h: &Harness) -> usize {
    let p = h.client.presence();
    p.contacts()
        .map(|bare| {
            std::mem::size_of::<Jid>()
                + std::mem::size_of::<Vec<jabber_proto::features::contacts::ResourcePresence>>()
                + bare.as_str().len()
                + p.resources(bare)
                    .iter()
                    .map(|r| {
                        std::mem::size_of::<jabber_proto::features::contacts::ResourcePresence>()
                            + r.jid.as_str().len()
                            + r.status.as_ref().map_or(0, String::len)
                    })
                    .sum::<usize>()
        })
        .sum()
}

#[test]
fn the_byte_budget_bounds_the_model_whatever_the_addresses() {
    let mut c = config();
    c.max_presence_bytes = 1_500;
    let mut h = Harness::logged_in(c);
    // Long resources (1,000 bytes each): the budget, not the counts, is the bound.
    let long = "r".repeat(1000);
    h.server(&format!(
        "<presence from='a@example.com/{long}1'/><presence from='b@example.com/{long}2'/>"
    ));
    assert_eq!(presence_events(&h.events()).len(), 2, "still reported");
    let p = h.client.presence();
    assert!(p.is_available(&jid("a@example.com")));
    assert!(!p.is_available(&jid("b@example.com")), "over the budget");
    assert_eq!(p.untracked(), 1);
    assert!(model_bytes(&h) <= 1_500);
    // An update that would go beyond drops the stale entry rather than keep it.
    let status = "s".repeat(500);
    h.server(&format!(
        "<presence from='a@example.com/{long}1'><status>{status}</status></presence>"
    ));
    h.events();
    assert!(!h.client.presence().is_available(&jid("a@example.com")));
    assert_eq!(h.client.presence().untracked(), 2);
    assert_eq!(model_bytes(&h), 0);
    // Room again: b fits now.
    h.server(&format!("<presence from='b@example.com/{long}2'/>"));
    h.events();
    assert!(h.client.presence().is_available(&jid("b@example.com")));
    // Unavailable gives the bytes back.
    h.server(&format!(
        "<presence from='b@example.com/{long}2' type='unavailable'/>\
         <presence from='a@example.com/{long}1'/>"
    ));
    h.events();
    assert!(h.client.presence().is_available(&jid("a@example.com")));
}

mod budget_props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Any sequence of available and unavailable presences, with any budget: the
        /// model never holds more than the budget.
        #[test]
        fn the_model_never_exceeds_its_budget(
            budget in 200usize..3_000,
            steps in proptest::collection::vec((0u8..4, 0u8..4, 0usize..300, any::<bool>(), 0u8..3), 1..40),
        ) {
            let mut c = config();
            c.max_presence_bytes = budget;
            c.max_resources = 2;
            let mut h = Harness::logged_in(c);
            for (contact, resource, len, available, status) in steps {
                let res = format!("{resource}{}", "x".repeat(len));
                let from = if resource == 3 {
                    format!("c{contact}@example.com")
                } else {
                    format!("c{contact}@example.com/{res}")
                };
                let xml = if available {
                    format!(
                        "<presence from='{from}'><priority>{status}</priority>\
                         <status>{}</status></presence>",
                        "t".repeat(usize::from(status) * 100)
                    )
                } else {
                    format!("<presence from='{from}' type='unavailable'/>")
                };
                h.server(&xml);
                h.events();
                prop_assert!(model_bytes(&h) <= budget, "{} > {budget}", model_bytes(&h));
            }
        }
    }
}

#[test]
fn a_contact_spelt_otherwise_gives_back_what_it_cost() {
    // KELVIN SIGN (3 bytes) and `k` (1 byte) are one address: the budget must be given
    // back as it was charged, whichever spelling ends the presence.
    let mut c = config();
    c.max_presence_bytes = 4_000;
    let mut h = Harness::logged_in(c);
    h.server(
        "<presence from='k@example.net/r'/>\
         <presence from='\u{212A}@example.net/r' type='unavailable'/>",
    );
    h.events();
    assert!(!h.client.presence().is_available(&jid("k@example.net")));
    let k = "k".repeat(300);
    let kelvin = "\u{212A}".repeat(300);
    for _ in 0..8 {
        h.server(&format!("<presence from='{kelvin}@example.net/r'/>"));
        h.server(&format!(
            "<presence from='{k}@example.net/r' type='unavailable'/>"
        ));
        h.events();
    }
    h.server(&format!("<presence from='{kelvin}@example.net/r'/>"));
    h.events();
    assert!(
        h.client
            .presence()
            .is_available(&jid(&format!("{k}@example.net")))
    );
    assert_eq!(h.client.presence().untracked(), 0);
}
