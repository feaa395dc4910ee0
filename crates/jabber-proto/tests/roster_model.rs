//! The roster model (issue 10, §5): built only from the server's answer to the fetch
//! and its pushes (never from our own requests), every push acknowledged, removal,
//! its bound, roster versioning (RFC 6121 §2.6) opt-in through `Config::roster_cache`,
//! and the spoofing checks — a push or a fetch result from the wrong address changes
//! nothing.

mod support;

use std::num::NonZeroU64;

use jabber_proto::client::{Config, Event, IqEvent, RosterEvent, SessionEvent};
use jabber_proto::features::roster::{Roster, RosterCache, RosterItem, Subscription};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use support::{CLASSIC_HEADER, Harness, SEED, wire_id};

fn config() -> Config {
    let mut c = Config::new(
        "example.com",
        NonZeroU64::new(SEED).expect("a non-zero seed"),
    );
    // A classic server is scripted: the classic stream, stated (1.0 is the default).
    c.version = None;
    c.initial_presence = false;
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    c
}

fn jid(s: &str) -> Jid {
    Jid::parse(s).expect("a valid JID")
}

/// Logged in as alice@example.com/desk; the roster fetch (IQ 3) is out, unanswered,
/// and returned as sent.
fn fetching(config: Config) -> (Harness, String) {
    let mut h = Harness::new(config);
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
    h.events();
    let sent = h.sent();
    (h, sent)
}

/// Logged in, the roster `items` (XML) answered and the events drained.
fn with_roster(config: Config, items: &str) -> Harness {
    let (mut h, _) = fetching(config);
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:roster'>{items}</query></iq>",
        wire_id(3)
    ));
    assert!(
        h.events()
            .iter()
            .any(|e| matches!(e, Event::Session(SessionEvent::Ready { .. })))
    );
    h.sent();
    h
}

fn items(h: &Harness) -> Vec<(String, Option<String>, Subscription, Vec<String>)> {
    h.client
        .roster()
        .items()
        .map(|i| {
            (
                i.jid.to_string(),
                i.name.clone(),
                i.subscription,
                i.groups.clone(),
            )
        })
        .collect()
}

fn push(id: &str, from: Option<&str>, item: &str) -> String {
    let from = from.map(|f| format!(" from='{f}'")).unwrap_or_default();
    format!("<iq type='set' id='{id}'{from}><query xmlns='jabber:iq:roster'>{item}</query></iq>")
}

const JULIET: &str = "<item jid='juliet@example.com' name='Juliet' subscription='both'>\
                      <group>Friends</group></item>";

#[test]
fn the_fetch_result_is_the_model_and_ready_carries_it() {
    let (mut h, sent) = fetching(config());
    assert_eq!(
        sent,
        format!(
            "<iq type='get' id='{}'><query xmlns='jabber:iq:roster'/></iq>",
            wire_id(3)
        )
    );
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:roster'>{JULIET}\
         <item jid='romeo@example.net' subscription='to' ask='subscribe'/></query></iq>",
        wire_id(3)
    ));
    let ready_roster = h.events().into_iter().find_map(|e| match e {
        Event::Session(SessionEvent::Ready { roster, .. }) => roster,
        _ => None,
    });
    assert_eq!(ready_roster, Some(h.client.roster().to_roster()));
    assert_eq!(
        items(&h),
        [
            (
                "juliet@example.com".into(),
                Some("Juliet".into()),
                Subscription::Both,
                vec!["Friends".to_string()]
            ),
            ("romeo@example.net".into(), None, Subscription::To, vec![]),
        ]
    );
    assert!(
        h.client
            .roster()
            .get(&jid("romeo@example.net/orchard"))
            .is_some_and(|i| i.pending_out)
    );
    // Not versioned unless asked for.
    assert_eq!(h.client.roster().version(), None);
}

#[test]
fn pushes_update_and_remove_and_are_acknowledged() {
    let mut h = with_roster(config(), JULIET);
    h.server(&push(
        "p1",
        None,
        "<item jid='juliet@example.com' name='Jules' subscription='both'>\
         <group>Family</group><group>Verona</group></item>",
    ));
    assert_eq!(h.sent(), "<iq type='result' id='p1'/>");
    h.server(&push(
        "p2",
        Some("Alice@Example.com"),
        "<item jid='nurse@example.com' subscription='none'/>",
    ));
    assert_eq!(
        h.sent(),
        "<iq type='result' id='p2' to='Alice@Example.com'/>"
    );
    assert_eq!(
        items(&h),
        [
            (
                "juliet@example.com".into(),
                Some("Jules".into()),
                Subscription::Both,
                vec!["Family".to_string(), "Verona".to_string()]
            ),
            ("nurse@example.com".into(), None, Subscription::None, vec![]),
        ]
    );
    h.server(&push(
        "p3",
        Some("alice@example.com"),
        "<item jid='JULIET@example.com' subscription='remove'/>",
    ));
    assert_eq!(
        h.sent(),
        "<iq type='result' id='p3' to='alice@example.com'/>"
    );
    assert_eq!(h.client.roster().len(), 1);
    assert!(h.client.roster().get(&jid("juliet@example.com")).is_none());
    let pushes = h
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::Roster(RosterEvent::Push(_))))
        .count();
    assert_eq!(pushes, 3);
}

#[test]
fn our_own_set_and_remove_change_nothing_until_the_push() {
    let mut h = with_roster(config(), JULIET);
    let now = h.now;
    let romeo = RosterItem::new(jid("romeo@example.net")).with_name("Romeo");
    let id = h.client.roster_set(now, &romeo).expect("sent");
    h.client
        .roster_remove(now, &jid("juliet@example.com"))
        .expect("sent");
    // The requests went out; the model is what the server last said.
    assert!(h.sent().contains("romeo@example.net"));
    assert_eq!(h.client.roster().len(), 1);
    assert!(h.client.roster().get(&jid("romeo@example.net")).is_none());
    // The result alone changes nothing either ...
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(4)));
    assert!(matches!(
        h.events().as_slice(),
        [Event::Iq(IqEvent::Result { id: got, .. })] if *got == id
    ));
    assert!(h.client.roster().get(&jid("romeo@example.net")).is_none());
    // ... the push does.
    h.server(&push(
        "p1",
        None,
        "<item jid='romeo@example.net' name='Romeo' subscription='none'/>",
    ));
    assert_eq!(
        h.client
            .roster()
            .get(&jid("romeo@example.net"))
            .and_then(|i| i.name.clone()),
        Some("Romeo".into())
    );
}

#[test]
fn a_push_from_anyone_but_our_account_is_refused_and_changes_nothing() {
    let mut h = with_roster(config(), JULIET);
    let before = h.client.roster().to_roster();
    // Another account, our own full JID (pushes come from the bare one), our server's
    // domain, a contact.
    for from in [
        "mallory@evil.example",
        "alice@example.com/desk",
        "example.com",
        "juliet@example.com",
    ] {
        h.server(&push(
            "spoof",
            Some(from),
            "<item jid='juliet@example.com' subscription='remove'/>\
             <item jid='mallory@evil.example' subscription='both'/>",
        ));
        assert_eq!(
            h.sent(),
            format!(
                "<iq type='error' id='spoof' to='{from}'><error type='cancel'>\
                 <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
            ),
            "{from}"
        );
        assert_eq!(h.events(), vec![], "{from}");
        assert_eq!(h.client.roster().to_roster(), before, "{from}");
    }
}

#[test]
fn a_roster_result_from_the_wrong_address_is_ignored() {
    let (mut h, _) = fetching(config());
    h.server(&format!(
        "<iq type='result' id='{}' from='mallory@evil.example'><query xmlns='jabber:iq:roster'>\
         <item jid='mallory@evil.example' subscription='both'/></query></iq>",
        wire_id(3)
    ));
    assert_eq!(h.events(), vec![]);
    assert!(h.client.roster().is_empty());
    // The real answer still completes the fetch.
    h.server(&format!(
        "<iq type='result' id='{}' from='alice@example.com'><query xmlns='jabber:iq:roster'>{JULIET}</query></iq>",
        wire_id(3)
    ));
    assert!(
        h.events()
            .iter()
            .any(|e| matches!(e, Event::Session(SessionEvent::Ready { .. })))
    );
    let jids: Vec<_> = h.client.roster().items().map(|i| i.jid.clone()).collect();
    assert_eq!(jids, [jid("juliet@example.com")]);
}

#[test]
fn the_bound_keeps_the_model_from_growing() {
    let mut c = config();
    c.max_roster_items = 2;
    let (mut h, _) = fetching(c);
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:roster'>\
         <item jid='a@example.com'/><item jid='b@example.com'/><item jid='c@example.com'/>\
         </query></iq>",
        wire_id(3)
    ));
    let events = h.events();
    assert!(
        matches!(
            events.as_slice(),
            [
                Event::Roster(RosterEvent::Truncated { dropped: 1 }),
                Event::Session(SessionEvent::Ready { .. })
            ]
        ),
        "{events:?}"
    );
    assert_eq!(h.client.roster().len(), 2);
    // A push of a new item at the bound: acknowledged, reported, not kept.
    h.server(&push("p1", None, "<item jid='d@example.com'/>"));
    assert_eq!(h.sent(), "<iq type='result' id='p1'/>");
    let events = h.events();
    assert!(
        matches!(
            events.as_slice(),
            [
                Event::Roster(RosterEvent::Push(_)),
                Event::Roster(RosterEvent::Truncated { dropped: 1 })
            ]
        ),
        "{events:?}"
    );
    assert_eq!(h.client.roster().len(), 2);
    assert_eq!(h.client.roster().dropped(), 2);
    // Updating a kept one, or removing one and adding another, works at the bound.
    h.server(&push("p2", None, "<item jid='a@example.com' name='A'/>"));
    h.server(&push(
        "p3",
        None,
        "<item jid='b@example.com' subscription='remove'/><item jid='d@example.com'/>",
    ));
    let jids: Vec<_> = h
        .client
        .roster()
        .items()
        .map(|i| i.jid.to_string())
        .collect();
    assert_eq!(jids, ["a@example.com", "d@example.com"]);
}

#[test]
fn versioning_sends_ver_and_keeps_the_cache_on_an_empty_result() {
    let cached = Roster {
        items: vec![
            RosterItem::new(jid("juliet@example.com"))
                .with_name("Juliet")
                .with_group("Friends"),
        ],
    };
    let mut c = config();
    c.roster_cache = Some(RosterCache::new("v7", cached.clone()));
    let (mut h, sent) = fetching(c);
    assert_eq!(
        sent,
        format!(
            "<iq type='get' id='{}'><query xmlns='jabber:iq:roster' ver='v7'/></iq>",
            wire_id(3)
        )
    );
    assert!(h.client.config().roster_cache.is_none(), "taken at login");
    // Unchanged: an empty result (RFC 6121 §2.6.3); the cached roster is the roster.
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(3)));
    let ready = h.events().into_iter().find_map(|e| match e {
        Event::Session(SessionEvent::Ready { roster, .. }) => roster,
        _ => None,
    });
    assert_eq!(ready, Some(cached.clone()));
    assert_eq!(h.client.roster().to_roster(), cached);
    assert_eq!(h.client.roster().version(), Some("v7"));
    // The changes come as pushes, each with its version.
    h.server(
        "<iq type='set' id='p1'><query xmlns='jabber:iq:roster' ver='v8'>\
         <item jid='romeo@example.net' subscription='none'/></query></iq>",
    );
    assert_eq!(h.sent(), "<iq type='result' id='p1'/>");
    assert_eq!(h.client.roster().version(), Some("v8"));
    assert_eq!(h.client.roster().len(), 2);
}

#[test]
fn versioning_takes_a_full_result_with_its_version() {
    let mut c = config();
    c.roster_cache = Some(RosterCache::new("", Roster::default()));
    let (mut h, sent) = fetching(c);
    assert!(
        sent.contains("<query xmlns='jabber:iq:roster' ver=''/>"),
        "{sent}"
    );
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:roster' ver='v1'>{JULIET}</query></iq>",
        wire_id(3)
    ));
    h.events();
    assert_eq!(h.client.roster().version(), Some("v1"));
    assert_eq!(h.client.roster().len(), 1);
    // A result replaces the cached roster whole (RFC 6121 §2.6.3).
    let mut c = config();
    let stale = Roster {
        items: vec![RosterItem::new(jid("gone@example.com"))],
    };
    c.roster_cache = Some(RosterCache::new("v0", stale));
    let (mut h, _) = fetching(c);
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:roster' ver='v1'>{JULIET}</query></iq>",
        wire_id(3)
    ));
    let jids: Vec<_> = h
        .client
        .roster()
        .items()
        .map(|i| i.jid.to_string())
        .collect();
    assert_eq!(jids, ["juliet@example.com"]);
}

#[test]
fn an_unversioned_server_version_is_not_kept() {
    // Without the opt-in, a `ver` the server sends anyway is not recorded.
    let mut h = with_roster(config(), JULIET);
    h.server(
        "<iq type='set' id='p1'><query xmlns='jabber:iq:roster' ver='v9'>\
         <item jid='romeo@example.net'/></query></iq>",
    );
    assert_eq!(h.client.roster().version(), None);
}

#[test]
fn the_model_outlives_the_connection_to_be_saved() {
    let mut h = with_roster(config(), JULIET);
    h.server("</stream:stream>");
    assert!(h.client.is_closed());
    assert_eq!(h.client.roster().len(), 1);
}

#[test]
fn chunking_does_not_change_the_model() {
    let input = format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:roster'>{JULIET}</query></iq>{}",
        wire_id(3),
        push(
            "p1",
            None,
            "<item jid='romeo@example.net' name='R&amp;J'><group>A</group></item>"
        )
    );
    let (mut whole, _) = fetching(config());
    whole.server(&input);
    let (mut bytes, _) = fetching(config());
    bytes.server_bytewise(&input);
    assert_eq!(whole.events(), bytes.events());
    assert_eq!(whole.sent(), bytes.sent());
    assert_eq!(items(&whole), items(&bytes));
    assert_eq!(whole.client.roster().len(), 2);
}
