//! The session's typed commands, byte-exact: presence, roster changes, message ids, and
//! the unavailable presence owed at logout.

mod support;

use std::num::NonZeroU64;

use jabber_proto::client::{Config, Error, Event, IqEvent, SessionEvent};
use jabber_proto::features::roster::RosterItem;
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::AuthMethod;
use jabber_proto::stanza::{Message, MessageType, Presence, Show};
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

#[test]
fn presence_builders_byte_exact() {
    let romeo = jid("romeo@example.net");
    let cases = [
        (Presence::available(), "<presence/>"),
        (
            Presence::available()
                .show(Show::Dnd)
                .status("busy <3")
                .priority(-5),
            "<presence><show>dnd</show><status>busy &lt;3</status><priority>-5</priority></presence>",
        ),
        (
            Presence::available().to(&romeo).id("p1"),
            "<presence to='romeo@example.net' id='p1'/>",
        ),
        (
            Presence::unavailable().status("gone"),
            "<presence type='unavailable'><status>gone</status></presence>",
        ),
        // <show/> belongs to available presence only.
        (
            Presence::unavailable().show(Show::Away),
            "<presence type='unavailable'/>",
        ),
        (
            Presence::subscribe(&romeo),
            "<presence to='romeo@example.net' type='subscribe'/>",
        ),
        (
            Presence::subscribed(&romeo),
            "<presence to='romeo@example.net' type='subscribed'/>",
        ),
        (
            Presence::unsubscribe(&romeo),
            "<presence to='romeo@example.net' type='unsubscribe'/>",
        ),
        (
            Presence::unsubscribed(&romeo),
            "<presence to='romeo@example.net' type='unsubscribed'/>",
        ),
    ];
    for (builder, wire) in cases {
        let mut h = Harness::logged_in(config());
        let now = h.now;
        h.client
            .send(now, builder.build().expect("valid"))
            .expect("sent");
        assert_eq!(h.sent(), wire);
    }
}

#[test]
fn presence_values_survive_write_then_parse() {
    let p = Presence::available()
        .show(Show::Xa)
        .status("far")
        .priority(127)
        .build()
        .expect("valid");
    assert_eq!(p.show(), Some(Show::Xa));
    assert_eq!(p.status().as_deref(), Some("far"));
    assert_eq!(p.priority(), 127);
    let mut h = Harness::logged_in(config());
    h.server(
        &p.element()
            .to_string()
            .replace("<presence", "<presence from='b@example.com/r'"),
    );
    let events = h.events();
    let [Event::Presence(jabber_proto::client::PresenceEvent::Available(back))] = events.as_slice()
    else {
        panic!("one presence")
    };
    assert_eq!((back.show(), back.priority()), (Some(Show::Xa), 127));
    assert_eq!(back.status().as_deref(), Some("far"));
}

#[test]
fn closing_withdraws_announced_presence_first() {
    let mut c = config();
    c.initial_presence = true;
    let mut h = Harness::logged_in(c);
    assert!(h.client.is_available());
    let now = h.now;
    h.client.close(now);
    assert_eq!(h.sent(), "<presence type='unavailable'/></stream:stream>");
    assert!(!h.client.is_available());
}

#[test]
fn closing_owes_nothing_when_presence_was_never_sent_or_withdrawn() {
    // Never announced.
    let mut h = Harness::logged_in(config());
    let now = h.now;
    h.client.close(now);
    assert_eq!(h.sent(), "</stream:stream>");
    // Announced by the application, then withdrawn by it.
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let available = Presence::available().build().expect("valid");
    h.client.send(now, available).expect("sent");
    assert!(h.client.is_available());
    let gone = Presence::unavailable().build().expect("valid");
    h.client.send(now, gone).expect("sent");
    h.sent();
    h.client.close(now);
    assert_eq!(h.sent(), "</stream:stream>");
    // Directed presence is not a broadcast: nothing is owed for it.
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let directed = Presence::available().to(&jid("b@example.com")).build();
    h.client.send(now, directed.expect("valid")).expect("sent");
    h.sent();
    h.client.close(now);
    assert_eq!(h.sent(), "</stream:stream>");
}

#[test]
fn roster_set_and_remove_byte_exact_and_answered_by_handle() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let item = RosterItem::new(jid("juliet@example.com"))
        .with_name("Juliet")
        .with_group("Friends")
        .with_group("Verona");
    let id = h.client.roster_set(now, &item).expect("sent");
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}'><query xmlns='jabber:iq:roster'>\
             <item jid='juliet@example.com' name='Juliet'><group>Friends</group>\
             <group>Verona</group></item></query></iq>",
            wire_id(3)
        )
    );
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(3)));
    assert!(matches!(
        h.events().as_slice(),
        [Event::Iq(IqEvent::Result { id: got, .. })] if *got == id
    ));
    let id = h
        .client
        .roster_remove(now, &jid("juliet@example.com"))
        .expect("sent");
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}'><query xmlns='jabber:iq:roster'>\
             <item jid='juliet@example.com' subscription='remove'/></query></iq>",
            wire_id(4)
        )
    );
    assert_eq!(id.get(), 4);
}

#[test]
fn roster_commands_need_a_login() {
    let mut h = Harness::open(config());
    let now = h.now;
    let item = RosterItem::new(jid("juliet@example.com"));
    assert_eq!(h.client.roster_set(now, &item), Err(Error::WrongPhase));
    assert_eq!(h.sent(), "");
}

#[test]
fn message_ids_are_set_on_the_wire() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let m = Message::new(MessageType::Chat, &jid("b@example.com"), "hi")
        .and_then(|m| m.with_id("a1"))
        .and_then(|m| m.with_id("a2"))
        .expect("valid");
    h.client.send(now, m).expect("sent");
    assert_eq!(
        h.sent(),
        "<message to='b@example.com' type='chat' id='a2'><body>hi</body></message>"
    );
}

#[test]
fn the_login_says_which_method_proved_the_password() {
    let h = Harness::logged_in(config());
    assert_eq!(h.client.login_method(), Some(AuthMethod::Digest));
    let mut h = Harness::new(config());
    assert_eq!(h.client.login_method(), None);
    let now = h.now;
    let mut c = config();
    c.allow_plaintext = true;
    h = Harness::new(c);
    h.client
        .login(
            now,
            jabber_proto::negotiation::auth::Credentials::new("alice", "pw", "desk"),
        )
        .expect("login");
    h.server(support::CLASSIC_HEADER);
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'><password/></query></iq>",
        wire_id(1)
    ));
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
    let ready = h.events().into_iter().find_map(|e| match e {
        Event::Session(SessionEvent::Ready { method, .. }) => Some(method),
        _ => None,
    });
    assert_eq!(ready, Some(AuthMethod::Plaintext));
    assert_eq!(h.client.login_method(), Some(AuthMethod::Plaintext));
}
