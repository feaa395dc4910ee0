//! The blocking policy and message carbons against real ejabberd and prosody, through the
//! blocking adapter (`jabber-std`):
//! - the policy (roster-only, one listed address, subscriptions too) set on one login is
//!   saved to private storage and put on the server's block list; a new login on
//!   another connection loads it back; then the listed sender is stopped by the server,
//!   a stranger's message and subscription request by the policy in the core (counted,
//!   never delivered), and a contact on the roster gets through;
//! - carbons between two resources of one account, both directions: what one resource
//!   sends is a sent copy on the other, what a contact sends to one resource's full JID
//!   a received copy on the other.
//!
//! One server of each kind, started by the test that uses it (the two run in parallel).

use std::time::{Duration, Instant};

use jabber_proto::client::{
    CarbonEvent, Config, Event, IqId, RosterEvent, ServiceEvent, StanzaEvent,
};
use jabber_proto::features::block_policy::{BlockMode, BlockPolicy};
use jabber_proto::features::roster::RosterItem;
use jabber_proto::jid::Jid;
use jabber_proto::stanza::Message;
use jabber_std::{Connection, Next, Options};
use jabber_tests::{Server, ServerKind};

const PASSWORD: &str = "policy-pw";
const WAIT: Duration = Duration::from_secs(15);

fn config(server: &Server, carbons: bool) -> Config {
    let mut c = Config::new(server.domain(), jabber_net::fresh_seed());
    // These tests are about features, not the login: the classic login on plain TCP
    // (1.0 with STARTTLS is tested in xmpp1.rs and conformance).
    c.version = None;
    c.iq_timeout = Duration::from_secs(20);
    // prosody 0.12 offers no digest: the password crosses loopback as it is.
    c.allow_plaintext = server.kind() == ServerKind::Prosody;
    c.carbons = carbons;
    c
}

fn login(server: &Server, user: &str, resource: &str, carbons: bool) -> Connection {
    let mut conn =
        Connection::connect_with(server.addr(), config(server, carbons), Options::plain())
            .unwrap_or_else(|e| panic!("{}: connect: {e}", server.kind()));
    conn.login(jabber_proto::negotiation::auth::Credentials::new(
        user, PASSWORD, resource,
    ))
    .unwrap_or_else(|e| panic!("{}: login as {user}: {e}", server.kind()));
    conn
}

/// Waits for the event `pick` accepts; returns it and every other event seen meanwhile.
fn wait<T>(
    conn: &mut Connection,
    what: &str,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> (T, Vec<Event>) {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match conn.next_event_timeout(left) {
            Ok(Next::Event(e)) => {
                if let Some(t) = pick(&e) {
                    return (t, seen);
                }
                seen.push(e);
            }
            other => panic!("no {what}: {other:?}; saw {seen:#?}"),
        }
    }
}

/// The service event answering `id` (or, for a policy set, following it).
fn service(
    conn: &mut Connection,
    what: &str,
    want: impl Fn(&ServiceEvent) -> bool,
) -> ServiceEvent {
    wait(conn, what, |e| match e {
        Event::Services(s) if want(s) => Some(s.clone()),
        _ => None,
    })
    .0
}

fn answer_to(id: IqId) -> impl Fn(&ServiceEvent) -> bool {
    move |s| match s {
        ServiceEvent::BlockPolicy { id: i, .. }
        | ServiceEvent::BlockPolicySaved { id: i }
        | ServiceEvent::BlockList { id: i, .. }
        | ServiceEvent::Failed { id: i, .. }
        | ServiceEvent::Spoofed { id: i, .. } => *i == id,
        _ => false,
    }
}

/// A round trip to the server on `conn`: what it sent before has been routed.
fn round_trip(conn: &mut Connection) {
    let id = conn
        .with_client(|c, now| c.blocklist_get(now))
        .expect("transport")
        .expect("sent");
    service(conn, "a round trip", answer_to(id));
}

fn chat(to: &Jid, body: &str) -> Message {
    Message::chat(to).body(body).build().expect("a message")
}

fn body_of(e: &Event) -> Option<String> {
    match e {
        Event::Stanza(StanzaEvent::Message(m)) => Some(m.body().unwrap_or_default().into()),
        _ => None,
    }
}

fn carbons_enabled(conn: &mut Connection, kind: ServerKind) {
    wait(conn, "carbons enabled", |e| match e {
        Event::Carbons(CarbonEvent::Enabled) => Some(()),
        Event::Carbons(other) => panic!("{kind}: carbons not enabled: {other:?}"),
        _ => None,
    });
}

fn run(kind: ServerKind) {
    let server = Server::start(kind).unwrap_or_else(|e| panic!("{kind}: start: {e}"));
    let users = ["pol-alice", "pol-bob", "pol-mallory", "pol-carol"];
    for user in users {
        server.register(user, PASSWORD).expect("an account");
    }
    let bare = |user: &str| Jid::new(Some(user), server.domain(), None).expect("a JID");
    let [alice, bob, mallory, carol] = users.map(bare);

    // First login: nothing stored yet; bob onto the roster; the policy set.
    let mut a = login(&server, "pol-alice", "desk", false);
    let id = a
        .with_client(|c, now| c.load_block_policy(now))
        .expect("transport")
        .expect("sent");
    assert_eq!(
        service(&mut a, "the first load", answer_to(id)),
        ServiceEvent::BlockPolicy { id, policy: None },
        "{kind}: nothing stored yet"
    );
    a.with_client(|c, now| c.roster_set(now, &RosterItem::new(bob.clone())))
        .expect("transport")
        .expect("sent");
    wait(&mut a, "the roster push", |e| {
        matches!(e, Event::Roster(RosterEvent::Push(_))).then_some(())
    });
    let policy = BlockPolicy::new(BlockMode::RosterOnly)
        .with_jid(mallory.clone())
        .blocking_subscriptions(true);
    let id = a
        .with_client(|c, now| c.set_block_policy(now, policy.clone()))
        .expect("transport")
        .expect("sent");
    let mut saved = false;
    let mut synced = false;
    while !(saved && synced) {
        match service(&mut a, "the save and the sync", |_| true) {
            ServiceEvent::BlockPolicySaved { id: i } if i == id => saved = true,
            ServiceEvent::BlockListSynced { id: i } if i == id => synced = true,
            ServiceEvent::BlockPush { .. } => {}
            other => panic!("{kind}: {other:?}"),
        }
    }
    let id = a
        .with_client(|c, now| c.blocklist_get(now))
        .expect("transport")
        .expect("sent");
    assert_eq!(
        service(&mut a, "the server's list", answer_to(id)),
        ServiceEvent::BlockList {
            id,
            jids: vec![mallory.clone()]
        },
        "{kind}: the server holds the policy's list"
    );
    a.close().expect("closed");

    // A new login on another connection: the policy follows the account.
    let mut a2 = login(&server, "pol-alice", "laptop", true);
    carbons_enabled(&mut a2, kind);
    let id = a2
        .with_client(|c, now| c.load_block_policy(now))
        .expect("transport")
        .expect("sent");
    assert_eq!(
        service(&mut a2, "the second load", answer_to(id)),
        ServiceEvent::BlockPolicy {
            id,
            policy: Some(policy.clone())
        },
        "{kind}"
    );
    assert_eq!(a2.client().block_policy(), Some(&policy), "{kind}");

    // The listed sender (the server blocks it) and a stranger (the core does), each
    // routed before the contact's message is sent.
    let laptop = alice.with_resource("laptop").expect("a JID");
    let mut m = login(&server, "pol-mallory", "x", false);
    m.send(chat(&laptop, "from mallory")).expect("sent");
    round_trip(&mut m);
    let mut c = login(&server, "pol-carol", "x", false);
    c.send(chat(&laptop, "from carol")).expect("sent");
    c.with_client(|c, now| c.subscribe(now, &alice))
        .expect("transport")
        .expect("sent");
    round_trip(&mut c);
    let mut b = login(&server, "pol-bob", "x", false);
    b.send(chat(&laptop, "from bob")).expect("sent");
    let (_, before) = wait(&mut a2, "bob's message", |e| {
        (body_of(e).as_deref() == Some("from bob")).then_some(())
    });
    let delivered: Vec<_> = before.iter().filter_map(body_of).collect();
    assert_eq!(delivered, Vec::<String>::new(), "{kind}: {before:#?}");
    assert!(
        !before.iter().any(|e| matches!(e, Event::Subscription(_))),
        "{kind}: {before:#?}"
    );
    // One message counted: carol's. Mallory's never reached the core (the server's
    // list stopped it; had it come, the policy would have counted it too).
    let counts = a2.client().blocked_counts();
    assert_eq!(
        (counts.messages, counts.subscriptions),
        (1, 1),
        "{kind}: carol's message and request dropped by the policy"
    );
    assert!(
        !a2.client().pending_subscriptions().contains(&carol),
        "{kind}: carol's request not remembered"
    );

    // Carbons between two resources of alice, both directions.
    let mut phone = login(&server, "pol-alice", "phone", true);
    carbons_enabled(&mut phone, kind);
    a2.send(chat(&bob, "sent from the laptop")).expect("sent");
    let (copy, _) = wait(&mut phone, "the sent carbon", |e| match e {
        Event::Carbons(CarbonEvent::Sent(f)) => Some(f.clone()),
        Event::Stanza(StanzaEvent::Message(m)) => {
            panic!("{kind}: a copy delivered as a message: {m:?}")
        }
        _ => None,
    });
    assert_eq!(
        copy.message.body().as_deref(),
        Some("sent from the laptop"),
        "{kind}"
    );
    assert_eq!(
        copy.message.to().map(|t| t.bare().to_owned_jid()),
        Some(bob.clone())
    );
    b.send(chat(&laptop, "to the laptop")).expect("sent");
    let (copy, _) = wait(&mut phone, "the received carbon", |e| match e {
        Event::Carbons(CarbonEvent::Received(f)) => Some(f.clone()),
        Event::Stanza(StanzaEvent::Message(m)) => {
            panic!("{kind}: a copy delivered as a message: {m:?}")
        }
        _ => None,
    });
    assert_eq!(
        copy.message.body().as_deref(),
        Some("to the laptop"),
        "{kind}"
    );
    assert_eq!(
        copy.message.from().map(|f| f.bare().to_owned_jid()),
        Some(bob.clone()),
        "{kind}"
    );
    wait(&mut a2, "the message itself", |e| {
        (body_of(e).as_deref() == Some("to the laptop")).then_some(())
    });

    for conn in [a2, phone, m, c, b] {
        conn.close().expect("closed");
    }
}

#[test]
fn policy_and_carbons_on_ejabberd() {
    run(ServerKind::Ejabberd);
}

#[test]
fn policy_and_carbons_on_prosody() {
    run(ServerKind::Prosody);
}
