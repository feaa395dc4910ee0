//! Presence subscriptions (issue 10, §5): the four commands byte-exact, the four
//! incoming kinds as typed events, and the pending requests — remembered once, until
//! answered, bounded, forgotten with the connection.

mod support;

use std::num::NonZeroU64;

use jabber_proto::client::{Config, Error, Event, SubscriptionEvent};
use jabber_proto::jid::Jid;
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

fn subscription_events(events: Vec<Event>) -> Vec<SubscriptionEvent> {
    events
        .into_iter()
        .filter_map(|e| match e {
            Event::Subscription(s) => Some(s),
            _ => None,
        })
        .collect()
}

fn pending(h: &Harness) -> Vec<String> {
    h.client
        .pending_subscriptions()
        .iter()
        .map(|j| j.to_string())
        .collect()
}

#[test]
fn commands_byte_exact_and_always_to_the_bare_address() {
    let mut h = Harness::logged_in(config());
    let romeo = jid("romeo@example.net/orchard");
    let now = h.now;
    h.client.subscribe(now, &romeo).expect("sent");
    assert_eq!(
        h.sent(),
        "<presence to='romeo@example.net' type='subscribe'/>"
    );
    h.client.approve_subscription(now, &romeo).expect("sent");
    assert_eq!(
        h.sent(),
        "<presence to='romeo@example.net' type='subscribed'/>"
    );
    h.client.unsubscribe(now, &romeo).expect("sent");
    assert_eq!(
        h.sent(),
        "<presence to='romeo@example.net' type='unsubscribe'/>"
    );
    h.client.deny_subscription(now, &romeo).expect("sent");
    assert_eq!(
        h.sent(),
        "<presence to='romeo@example.net' type='unsubscribed'/>"
    );
    // None of them is our broadcast presence: nothing owed at logout.
    assert!(!h.client.is_available());
}

#[test]
fn commands_need_a_session() {
    let mut h = Harness::open(config());
    let romeo = jid("romeo@example.net");
    let now = h.now;
    assert_eq!(h.client.subscribe(now, &romeo), Err(Error::WrongPhase));
    assert_eq!(
        h.client.approve_subscription(now, &romeo),
        Err(Error::WrongPhase)
    );
    assert_eq!(h.sent(), "");
    let mut h = Harness::logged_in(config());
    h.client.close(now);
    assert_eq!(h.client.unsubscribe(now, &romeo), Err(Error::Closed));
}

#[test]
fn incoming_kinds_are_typed_events() {
    let mut h = Harness::logged_in(config());
    h.server(
        "<presence from='romeo@example.net/orchard' type='subscribe'><status>hi</status></presence>\
         <presence from='nurse@example.com' type='subscribed'/>\
         <presence from='tybalt@example.com' type='unsubscribed'/>\
         <presence from='mercutio@example.com' type='unsubscribe'/>",
    );
    let events = subscription_events(h.events());
    let [
        SubscriptionEvent::Request(request),
        SubscriptionEvent::Approved(_),
        SubscriptionEvent::Revoked(_),
        SubscriptionEvent::Unsubscribed(_),
    ] = events.as_slice()
    else {
        panic!("{events:?}")
    };
    assert_eq!(request.status().as_deref(), Some("hi"));
    let contacts: Vec<_> = events
        .iter()
        .filter_map(SubscriptionEvent::contact)
        .collect();
    assert_eq!(
        contacts,
        [
            jid("romeo@example.net"),
            jid("nurse@example.com"),
            jid("tybalt@example.com"),
            jid("mercutio@example.com")
        ]
    );
    // Only the request waits for an answer, by the contact's bare address.
    assert_eq!(pending(&h), ["romeo@example.net"]);
    // Nothing is answered on the application's behalf.
    assert_eq!(h.sent(), "");
}

#[test]
fn a_request_waits_once_until_answered() {
    let mut h = Harness::logged_in(config());
    h.server(
        "<presence from='romeo@example.net' type='subscribe'/>\
         <presence from='juliet@example.com' type='subscribe'/>\
         <presence from='ROMEO@example.net/other' type='subscribe'/>",
    );
    // The repeat (same contact, compared canonically) is neither remembered nor
    // reported again.
    assert_eq!(subscription_events(h.events()).len(), 2);
    assert_eq!(pending(&h), ["romeo@example.net", "juliet@example.com"]);

    let now = h.now;
    h.client
        .approve_subscription(now, &jid("Romeo@example.net"))
        .expect("sent");
    assert_eq!(pending(&h), ["juliet@example.com"]);
    h.client
        .deny_subscription(now, &jid("juliet@example.com/x"))
        .expect("sent");
    assert!(pending(&h).is_empty());
    assert_eq!(
        h.sent(),
        "<presence to='Romeo@example.net' type='subscribed'/>\
         <presence to='juliet@example.com' type='unsubscribed'/>"
    );
    // Answered, a new request is a new one.
    h.server("<presence from='romeo@example.net' type='subscribe'/>");
    assert_eq!(subscription_events(h.events()).len(), 1);
    assert_eq!(pending(&h), ["romeo@example.net"]);
}

#[test]
fn their_unsubscribe_withdraws_their_request() {
    let mut h = Harness::logged_in(config());
    h.server(
        "<presence from='romeo@example.net' type='subscribe'/>\
         <presence from='romeo@example.net' type='unsubscribe'/>",
    );
    assert!(pending(&h).is_empty());
    assert_eq!(subscription_events(h.events()).len(), 2);
}

#[test]
fn requests_beyond_the_bound_are_reported_not_remembered() {
    let mut c = config();
    c.max_pending_subscriptions = 2;
    let mut h = Harness::logged_in(c);
    h.server(
        "<presence from='a@example.com' type='subscribe'/>\
         <presence from='b@example.com' type='subscribe'/>\
         <presence from='c@example.com' type='subscribe'/>",
    );
    assert_eq!(subscription_events(h.events()).len(), 3);
    assert_eq!(pending(&h), ["a@example.com", "b@example.com"]);
    // Approving one that was not remembered still sends the answer.
    let now = h.now;
    h.client
        .approve_subscription(now, &jid("c@example.com"))
        .expect("sent");
    assert_eq!(h.sent(), "<presence to='c@example.com' type='subscribed'/>");
    assert_eq!(pending(&h), ["a@example.com", "b@example.com"]);
}

#[test]
fn without_a_sender_nothing_is_reported() {
    let mut h = Harness::logged_in(config());
    h.server("<presence type='subscribe'/>");
    assert!(subscription_events(h.events()).is_empty());
    assert!(pending(&h).is_empty());
}

#[test]
fn pending_requests_end_with_the_connection() {
    let mut h = Harness::logged_in(config());
    h.server("<presence from='romeo@example.net' type='subscribe'/>");
    assert_eq!(pending(&h).len(), 1);
    h.client.handle_reset(h.now);
    assert!(pending(&h).is_empty());
}

#[test]
fn chunking_does_not_change_the_requests() {
    let input = "<presence from='a@example.com' type='subscribe'><status>it&apos;s me</status></presence>\
                 <presence from='b@example.com' type='subscribed'/>\
                 <presence from='a@example.com/x' type='subscribe'/>";
    let mut whole = Harness::logged_in(config());
    whole.server(input);
    let mut bytes = Harness::logged_in(config());
    bytes.server_bytewise(input);
    assert_eq!(whole.events(), bytes.events());
    assert_eq!(pending(&whole), pending(&bytes));
}
