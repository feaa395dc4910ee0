//! The blocking policy on a scripted server: what it sends to save and load itself and
//! to keep the server's block list in line (byte-exact), what it drops and counts, and
//! storage answers from a wrong address dropped and reported, never applied.

mod support;

use std::num::NonZeroU64;

use jabber_proto::client::{Config, Error, Event, ServiceEvent, StanzaEvent, SubscriptionEvent};
use jabber_proto::features::block_policy::{BlockMode, BlockPolicy, BlockedCounts};
use jabber_proto::jid::Jid;
use jabber_proto::stanza::{StanzaCondition, StanzaError};
use support::{Harness, SEED, wire_id};

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

fn counts(messages: u64, subscriptions: u64) -> BlockedCounts {
    let mut c = BlockedCounts::default();
    c.messages = messages;
    c.subscriptions = subscriptions;
    c
}

/// The bodies of the messages delivered among `events`.
fn bodies(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Stanza(StanzaEvent::Message(m)) => Some(m.body().unwrap_or_default().into()),
            _ => None,
        })
        .collect()
}

fn message(from: &str, body: &str) -> String {
    format!("<message from='{from}' type='chat'><body>{body}</body></message>")
}

#[test]
fn setting_a_policy_saves_it_then_syncs_the_server_list_byte_exact() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let first = BlockPolicy::new(BlockMode::RosterOnly)
        .with_jid(jid("mallory@example.net"))
        .with_jid(jid("spam.example"))
        .blocking_subscriptions(true);
    let id = h.client.set_block_policy(now, first.clone()).expect("sent");
    assert_eq!(h.client.block_policy(), Some(&first), "in force at once");
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}'><query xmlns='jabber:iq:private'>\
             <policy xmlns='urn:jabber-rs:block-policy:0' mode='roster-only' \
             subscriptions='true'><item jid='mallory@example.net'/>\
             <item jid='spam.example'/></policy></query></iq>",
            wire_id(3)
        )
    );
    // Stored: now the server's list follows.
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(3)));
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}'><block xmlns='urn:xmpp:blocking'>\
             <item jid='mallory@example.net'/><item jid='spam.example'/></block></iq>",
            wire_id(4)
        )
    );
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(4)));
    assert_eq!(
        h.events(),
        [
            Event::Services(ServiceEvent::BlockPolicySaved { id }),
            Event::Services(ServiceEvent::BlockListSynced { id }),
        ]
    );

    // One address dropped from the list (canonically the same one kept): unblocked only.
    let second = BlockPolicy::new(BlockMode::Listed).with_jid(jid("Mallory@Example.NET"));
    let id2 = h.client.set_block_policy(now, second).expect("sent");
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}'><query xmlns='jabber:iq:private'>\
             <policy xmlns='urn:jabber-rs:block-policy:0' mode='listed'>\
             <item jid='Mallory@Example.NET'/></policy></query></iq>",
            wire_id(5)
        )
    );
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(5)));
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}'><unblock xmlns='urn:xmpp:blocking'>\
             <item jid='spam.example'/></unblock></iq>",
            wire_id(6)
        )
    );
    h.server(&format!(
        "<iq type='error' id='{}'><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        wire_id(6)
    ));
    assert_eq!(
        h.events(),
        [
            Event::Services(ServiceEvent::BlockPolicySaved { id: id2 }),
            Event::Services(ServiceEvent::BlockListSyncFailed {
                id: id2,
                error: Some(StanzaError::new(StanzaCondition::ServiceUnavailable)),
            }),
        ]
    );

    // A save that fails leaves the server's list alone (the policy is in force locally).
    let failing = BlockPolicy::new(BlockMode::Listed).with_jid(jid("eve@example.net"));
    let id3 = h
        .client
        .set_block_policy(now, failing.clone())
        .expect("sent");
    h.sent();
    h.server(&format!(
        "<iq type='error' id='{}'><error type='wait'>\
         <resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        wire_id(7)
    ));
    assert_eq!(h.sent(), "", "nothing synced after a failed save");
    assert_eq!(
        h.events(),
        [Event::Services(ServiceEvent::Failed {
            id: id3,
            error: Some(StanzaError::new(StanzaCondition::ResourceConstraint)),
        })]
    );
    assert_eq!(h.client.block_policy(), Some(&failing));

    // Off: the list stays stored, but the server's list no longer holds it — the
    // difference taken from what was last synced (mallory), not from the failed save.
    let off = BlockPolicy::new(BlockMode::Off).with_jid(jid("mallory@example.net"));
    h.client.set_block_policy(now, off).expect("sent");
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}'><query xmlns='jabber:iq:private'>\
             <policy xmlns='urn:jabber-rs:block-policy:0' mode='off'>\
             <item jid='mallory@example.net'/></policy></query></iq>",
            wire_id(8)
        )
    );
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(8)));
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}'><unblock xmlns='urn:xmpp:blocking'>\
             <item jid='Mallory@Example.NET'/></unblock></iq>",
            wire_id(9)
        )
    );
    // Unchanged server list: only the save.
    let same = BlockPolicy::new(BlockMode::Off).blocking_subscriptions(true);
    h.client.set_block_policy(now, same).expect("sent");
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}'><query xmlns='jabber:iq:private'>\
             <policy xmlns='urn:jabber-rs:block-policy:0' mode='off' subscriptions='true'/>\
             </query></iq>",
            wire_id(10)
        )
    );
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(10)));
    assert_eq!(h.sent(), "");
}

#[test]
fn a_loaded_policy_is_what_the_server_list_is_synced_from() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    h.client.load_block_policy(now).expect("sent");
    h.sent();
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:private'>\
         <policy xmlns='urn:jabber-rs:block-policy:0' mode='listed'>\
         <item jid='mallory@example.net'/><item jid='eve@example.net'/></policy></query></iq>",
        wire_id(3)
    ));
    h.events();
    let policy = BlockPolicy::new(BlockMode::Listed)
        .with_jid(jid("mallory@example.net"))
        .with_jid(jid("trudy@example.net"));
    h.client.set_block_policy(now, policy).expect("sent");
    h.sent();
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(4)));
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}'><block xmlns='urn:xmpp:blocking'>\
             <item jid='trudy@example.net'/></block></iq>\
             <iq type='set' id='{}'><unblock xmlns='urn:xmpp:blocking'>\
             <item jid='eve@example.net'/></unblock></iq>",
            wire_id(5),
            wire_id(6)
        )
    );
}

#[test]
fn policy_commands_need_a_session() {
    let mut h = Harness::open(config());
    let now = h.now;
    let policy = BlockPolicy::new(BlockMode::Listed).with_jid(jid("mallory@example.net"));
    assert_eq!(
        h.client.set_block_policy(now, policy),
        Err(Error::WrongPhase)
    );
    assert_eq!(h.client.load_block_policy(now), Err(Error::WrongPhase));
    assert_eq!(
        h.client.block_policy(),
        None,
        "a refused command changes nothing"
    );
    assert_eq!(h.sent(), "");
}

#[test]
fn listed_senders_are_dropped_and_counted() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let policy = BlockPolicy::new(BlockMode::Listed)
        .with_jid(jid("mallory@example.net"))
        .with_jid(jid("eve@example.net/phone"))
        .with_jid(jid("spam.example"));
    h.client.set_block_policy(now, policy).expect("sent");
    h.sent();
    let input = [
        message("mallory@example.net/a", "m1"),
        message("MALLORY@example.net", "m2"),
        message("eve@example.net/phone", "e1"),
        message("eve@example.net/desk", "e2 passes"),
        message("bot@spam.example/x", "s1"),
        message("spam.example", "s2"),
        message("romeo@example.net/orchard", "r1 passes"),
        // A stranger's subscription request passes: subscriptions are not blocked.
        "<presence from='mallory@example.net' type='subscribe'/>".to_string(),
    ]
    .concat();
    // Chunking changes nothing.
    h.server_bytewise(&input);
    let events = h.events();
    assert_eq!(bodies(&events), ["e2 passes", "r1 passes"]);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Subscription(SubscriptionEvent::Request(_))))
    );
    assert_eq!(h.client.blocked_counts(), counts(5, 0));
}

#[test]
fn roster_only_drops_strangers_but_never_our_server_rooms_or_errors() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    h.server(
        "<iq type='set' id='push1'><query xmlns='jabber:iq:roster'>\
         <item jid='juliet@example.com' subscription='both'/></query></iq>",
    );
    h.sent();
    h.events();
    let policy = BlockPolicy::new(BlockMode::RosterOnly)
        .with_jid(jid("juliet@example.com/tablet"))
        .blocking_subscriptions(true);
    h.client.set_block_policy(now, policy).expect("sent");
    h.sent();
    let input = [
        message("juliet@example.com/balcony", "on the roster"),
        message("juliet@example.com/tablet", "listed resource"),
        message("stranger@example.net/x", "stranger"),
        message("example.com", "our server"),
        message("alice@example.com/phone", "our other resource"),
        "<message><body>no from</body></message>".to_string(),
        "<message from='room@conference.example.net/nick' type='groupchat'>\
         <body>a room</body></message>"
            .to_string(),
        "<message from='stranger@example.net' type='error'><body>bounced</body>\
         <error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         </error></message>"
            .to_string(),
        "<presence from='stranger@example.net' type='subscribe'/>".to_string(),
        "<presence from='juliet@example.com' type='subscribe'/>".to_string(),
    ]
    .concat();
    h.server(&input);
    let events = h.events();
    assert_eq!(
        bodies(&events),
        [
            "on the roster",
            "our server",
            "our other resource",
            "no from",
            "a room",
            "bounced"
        ]
    );
    let requests: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Subscription(s) => s.contact(),
            _ => None,
        })
        .collect();
    assert_eq!(requests, [jid("juliet@example.com")]);
    assert_eq!(h.client.blocked_counts(), counts(2, 1));
    assert_eq!(
        h.client.pending_subscriptions(),
        [jid("juliet@example.com")]
    );
}

#[test]
fn a_loaded_policy_replaces_the_local_one() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let id = h.client.load_block_policy(now).expect("sent");
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='get' id='{}'><query xmlns='jabber:iq:private'>\
             <policy xmlns='urn:jabber-rs:block-policy:0'/></query></iq>",
            wire_id(3)
        )
    );
    h.server(&format!(
        "<iq type='result' id='{}' from='alice@example.com'><query xmlns='jabber:iq:private'>\
         <policy xmlns='urn:jabber-rs:block-policy:0' mode='listed'>\
         <item jid='mallory@example.net'/><item jid='not an address@'/></policy></query></iq>",
        wire_id(3)
    ));
    let stored = BlockPolicy::new(BlockMode::Listed).with_jid(jid("mallory@example.net"));
    assert_eq!(
        h.events(),
        [Event::Services(ServiceEvent::BlockPolicy {
            id,
            policy: Some(stored.clone())
        })]
    );
    assert_eq!(h.client.block_policy(), Some(&stored));
    assert_eq!(h.sent(), "", "loading sends nothing to the server's list");
    h.server(&message("mallory@example.net/x", "dropped"));
    assert_eq!(bodies(&h.events()), Vec::<String>::new());
    assert_eq!(h.client.blocked_counts(), counts(1, 0));

    // Nothing stored (the empty element back): the local policy stays.
    let id = h.client.load_block_policy(now).expect("sent");
    h.sent();
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:private'>\
         <policy xmlns='urn:jabber-rs:block-policy:0'/></query></iq>",
        wire_id(4)
    ));
    assert_eq!(
        h.events(),
        [Event::Services(ServiceEvent::BlockPolicy {
            id,
            policy: None
        })]
    );
    assert_eq!(h.client.block_policy(), Some(&stored));

    // An error answer: Failed, and nothing changes.
    let id = h.client.load_block_policy(now).expect("sent");
    h.sent();
    h.server(&format!(
        "<iq type='error' id='{}'><error type='cancel'>\
         <feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        wire_id(5)
    ));
    assert_eq!(
        h.events(),
        [Event::Services(ServiceEvent::Failed {
            id,
            error: Some(StanzaError::new(StanzaCondition::FeatureNotImplemented)),
        })]
    );
    assert_eq!(h.client.block_policy(), Some(&stored));
}

#[test]
fn storage_answers_from_a_wrong_address_are_reported_and_never_applied() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let id = h.client.load_block_policy(now).expect("sent");
    h.sent();
    let forged = |from: &str| {
        format!(
            "<iq type='result' id='{}'{from}><query xmlns='jabber:iq:private'>\
             <policy xmlns='urn:jabber-rs:block-policy:0' mode='off'/></query></iq>",
            wire_id(3)
        )
    };
    for from in [
        "mallory@example.net",
        "juliet@example.com",
        "alice@example.com.evil",
        "conference.example.com",
    ] {
        h.server(&forged(&format!(" from='{from}'")));
        assert_eq!(
            h.events(),
            [Event::Services(ServiceEvent::Spoofed {
                id,
                from: Some(jid(from))
            })],
            "{from}"
        );
        assert_eq!(h.client.block_policy(), None, "{from}");
    }
    // The save's answer likewise.
    let policy = BlockPolicy::new(BlockMode::Listed).with_jid(jid("mallory@example.net"));
    let save = h
        .client
        .set_block_policy(now, policy.clone())
        .expect("sent");
    h.sent();
    h.server(&format!(
        "<iq type='result' id='{}' from='mallory@example.net'/>",
        wire_id(4)
    ));
    assert_eq!(
        h.events(),
        [Event::Services(ServiceEvent::Spoofed {
            id: save,
            from: Some(jid("mallory@example.net"))
        })]
    );
    // The real answers still come through, from our own account (full or bare).
    h.server(&forged(" from='alice@example.com/desk'"));
    assert_eq!(
        h.events(),
        [Event::Services(ServiceEvent::BlockPolicy {
            id,
            policy: Some(BlockPolicy::new(BlockMode::Off))
        })]
    );
    assert_eq!(
        h.client.block_policy(),
        Some(&BlockPolicy::new(BlockMode::Off))
    );
}
