//! Conferences (§7) on a scripted server with a virtual clock: the MUC join (byte-exact)
//! and the room's answer as typed events, the room roster, nickname changes and
//! conflicts, subjects, groupchat and private messages, invitations both ways, leaving
//! (the late update ignored), groupchat 1.0, the trust rule (a room's stanzas only from
//! the room's address), the bounds, XEP-0410 self-ping driven by the clock, rooms
//! across a resumed and a new session, and chunking.

mod support;

use std::num::NonZeroU64;
use std::time::Duration;

use jabber_proto::client::{ConferenceEvent, Config, Error, Event, PresenceEvent, StanzaEvent};
use jabber_proto::features::conference::{
    Affiliation, DropReason, History, InviteKind, JoinOptions, Protocol, Role, RoomState, emote, me,
};
use jabber_proto::jid::Jid;
use jabber_proto::stanza::StanzaCondition;
use jabber_proto::stanza::ext::Invitation;
use support::{Harness, SEED, wire_id};

const ROOM: &str = "coven@chat.example.com";

fn config() -> Config {
    let mut c = Config::new("example.com", NonZeroU64::new(SEED).expect("non-zero"));
    // A classic server is scripted: the classic stream, stated (1.0 is the default).
    c.version = None;
    c.fetch_roster = false;
    c.initial_presence = false;
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    c.conference.self_ping_secs = 0;
    c
}

fn jid(s: &str) -> Jid {
    Jid::parse(s).expect("a valid JID")
}

fn room() -> Jid {
    jid(ROOM)
}

/// The conference events among `events`; any other event fails the test unless
/// `others` allows it.
fn conf(events: Vec<Event>) -> Vec<ConferenceEvent> {
    events
        .into_iter()
        .map(|e| match e {
            Event::Conference(c) => c,
            other => panic!("not a conference event: {other:?}"),
        })
        .collect()
}

/// Logged in, `coven` joined as `alice` with bob already there; everything drained.
fn joined(config: Config) -> Harness {
    let mut h = Harness::logged_in(config);
    let now = h.now;
    h.client
        .join_room(now, &room(), "alice", JoinOptions::default())
        .expect("join");
    h.sent();
    h.server(
        "<presence from='coven@chat.example.com/bob'>\
         <x xmlns='http://jabber.org/protocol/muc#user'>\
         <item affiliation='owner' role='moderator'/></x></presence>\
         <presence from='coven@chat.example.com/alice'>\
         <x xmlns='http://jabber.org/protocol/muc#user'>\
         <item affiliation='member' role='participant'/>\
         <status code='110'/></x></presence>",
    );
    assert!(matches!(
        conf(h.events()).last(),
        Some(ConferenceEvent::Joined { .. })
    ));
    // A quiet moment: the parser gives back what the busy read kept (its timer goes).
    h.advance(Duration::ZERO);
    h
}

#[test]
fn join_presence_is_byte_exact() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let options = JoinOptions::default()
        .password("cauldron")
        .history(History::last(5));
    h.client
        .join_room(now, &room(), "alice", options)
        .expect("join");
    assert_eq!(
        h.sent(),
        "<presence to='coven@chat.example.com/alice'>\
         <x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='5'/>\
         <password>cauldron</password></x></presence>"
    );
    assert_eq!(
        h.client.room(&room()).map(|r| r.state()),
        Some(RoomState::Joining)
    );
    // Groupchat 1.0: the same presence without <x/>.
    let other = jid("other@chat.example.com");
    let gc = JoinOptions::default().protocol(Protocol::Groupchat);
    h.client.join_room(now, &other, "alice", gc).expect("join");
    assert_eq!(h.sent(), "<presence to='other@chat.example.com/alice'/>");
    // Twice the same room is the caller's mistake.
    assert_eq!(
        h.client
            .join_room(now, &room(), "alice", JoinOptions::default()),
        Err(Error::WrongPhase)
    );
    assert_eq!(h.sent(), "");
}

#[test]
fn occupants_come_first_then_our_own_presence_by_status_110() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    h.client
        .join_room(now, &room(), "alice", JoinOptions::default())
        .expect("join");
    h.sent();
    h.server(
        "<presence from='coven@chat.example.com/bob'><show>away</show>\
         <x xmlns='http://jabber.org/protocol/muc#user'>\
         <item affiliation='owner' role='moderator' jid='bob@example.net/home'/></x></presence>",
    );
    let events = conf(h.events());
    let [ConferenceEvent::OccupantJoined { room: r, occupant }] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert_eq!(r, &room());
    assert_eq!(occupant.nick, "bob");
    assert_eq!(
        (occupant.role, occupant.affiliation),
        (Role::Moderator, Affiliation::Owner)
    );
    assert_eq!(occupant.jid, Some(jid("bob@example.net/home")));
    // The room named us differently than asked (it may): our nickname is its.
    h.server(
        "<presence from='coven@chat.example.com/Alice'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant'/>\
         <status code='110'/><status code='210'/></x></presence>",
    );
    let events = conf(h.events());
    assert!(
        matches!(events.as_slice(), [
        ConferenceEvent::OccupantJoined { .. },
        ConferenceEvent::Joined { nick, created: false, .. },
    ] if nick == "Alice"),
        "{events:?}"
    );
    let view = h.client.room(&room()).expect("the room");
    assert_eq!(view.state(), RoomState::Joined);
    assert_eq!(view.nick(), "Alice");
    let nicks: Vec<&str> = view.occupants().map(|o| o.nick.as_str()).collect();
    assert_eq!(nicks, ["Alice", "bob"]);
    // Room occupants are not contacts.
    assert!(h.client.presence().resources(&room()).is_empty());
}

#[test]
fn a_room_presence_from_another_address_is_not_the_rooms() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    h.client
        .join_room(now, &room(), "alice", JoinOptions::default())
        .expect("join");
    h.sent();
    // Status 110 from another room, another service, and a contact: none is our room's.
    for from in [
        "other@chat.example.com/alice",
        "coven@chat.evil.example/alice",
        "coven@example.com/alice",
    ] {
        h.server(&format!(
            "<presence from='{from}'><x xmlns='http://jabber.org/protocol/muc#user'>\
             <item affiliation='owner' role='moderator'/><status code='110'/></x></presence>"
        ));
        let events = h.events();
        assert!(
            matches!(
                events.as_slice(),
                [Event::Presence(PresenceEvent::Available(_))]
            ),
            "{from}: {events:?}"
        );
        h.server(&format!(
            "<message from='{from}' type='groupchat'><body>hi</body></message>"
        ));
        let events = h.events();
        assert!(
            matches!(events.as_slice(), [Event::Stanza(StanzaEvent::Message(_))]),
            "{from}: {events:?}"
        );
    }
    let view = h.client.room(&room()).expect("the room");
    assert_eq!(view.state(), RoomState::Joining);
    assert_eq!(view.occupants().count(), 0);
}

#[test]
fn a_room_we_create_is_configured_as_an_instant_room() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    h.client
        .join_room(now, &room(), "alice", JoinOptions::default())
        .expect("join");
    h.sent();
    h.server(
        "<presence from='coven@chat.example.com/alice'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/>\
         <status code='110'/><status code='201'/></x></presence>",
    );
    let events = conf(h.events());
    assert!(
        matches!(
            events.last(),
            Some(ConferenceEvent::Joined { created: true, .. })
        ),
        "{events:?}"
    );
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}' to='coven@chat.example.com'>\
             <query xmlns='http://jabber.org/protocol/muc#owner'>\
             <x xmlns='jabber:x:data' type='submit'/></query></iq>",
            wire_id(3)
        )
    );
    // Only the room may answer.
    h.server(&format!(
        "<iq type='result' id='{}' from='mallory@example.com'/>",
        wire_id(3)
    ));
    assert_eq!(h.events(), []);
    h.server(&format!(
        "<iq type='result' id='{}' from='coven@chat.example.com'/>",
        wire_id(3)
    ));
    assert_eq!(
        conf(h.events()),
        [ConferenceEvent::Configured { room: room() }]
    );
}

#[test]
fn a_nick_conflict_retries_under_another_nick_when_asked() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let options = JoinOptions::default().retry_nick(true);
    h.client
        .join_room(now, &room(), "alice", options)
        .expect("join");
    h.sent();
    let conflict = |nick: &str| {
        format!(
            "<presence from='coven@chat.example.com/{nick}' type='error'>\
             <x xmlns='http://jabber.org/protocol/muc'/>\
             <error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             </error></presence>"
        )
    };
    h.server(&conflict("alice"));
    assert_eq!(
        conf(h.events()),
        [ConferenceEvent::NickConflict {
            room: room(),
            nick: "alice".into(),
            retry: Some("alice_".into())
        }]
    );
    assert_eq!(
        h.sent(),
        "<presence to='coven@chat.example.com/alice_'>\
         <x xmlns='http://jabber.org/protocol/muc'/></presence>"
    );
    // At most three more nicknames, then the join is given up.
    for nick in ["alice_", "alice__"] {
        h.server(&conflict(nick));
        h.events();
        h.sent();
    }
    h.server(&conflict("alice___"));
    assert_eq!(
        conf(h.events()),
        [ConferenceEvent::NickConflict {
            room: room(),
            nick: "alice___".into(),
            retry: None
        }]
    );
    assert_eq!(h.sent(), "");
    assert!(h.client.room(&room()).is_none());
}

#[test]
fn a_nick_conflict_without_retry_gives_up_and_other_refusals_are_errors() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    h.client
        .join_room(now, &room(), "alice", JoinOptions::default())
        .expect("join");
    h.sent();
    h.server(
        "<presence from='coven@chat.example.com/alice' type='error'>\
         <error type='cancel' code='409'/></presence>",
    );
    assert!(matches!(
        conf(h.events()).as_slice(),
        [ConferenceEvent::NickConflict { retry: None, .. }]
    ));
    assert_eq!(h.sent(), "");
    h.client
        .join_room(now, &room(), "alice", JoinOptions::default())
        .expect("join again");
    h.sent();
    h.server(
        "<presence from='coven@chat.example.com/alice' type='error'>\
         <error type='auth'><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         </error></presence>",
    );
    let events = conf(h.events());
    let [ConferenceEvent::Error { error, .. }] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert_eq!(error.condition, StanzaCondition::NotAuthorized);
    assert!(h.client.room(&room()).is_none());
}

#[test]
fn nick_changes_roles_and_departures() {
    let mut h = joined(config());
    let now = h.now;
    h.client
        .change_nick(now, &room(), "hecate")
        .expect("nick change");
    assert_eq!(h.sent(), "<presence to='coven@chat.example.com/hecate'/>");
    h.server(
        "<presence from='coven@chat.example.com/alice' type='unavailable'>\
         <x xmlns='http://jabber.org/protocol/muc#user'>\
         <item affiliation='member' role='participant' nick='hecate'/>\
         <status code='303'/><status code='110'/></x></presence>\
         <presence from='coven@chat.example.com/hecate'>\
         <x xmlns='http://jabber.org/protocol/muc#user'>\
         <item affiliation='member' role='participant'/><status code='110'/></x></presence>",
    );
    let events = conf(h.events());
    assert!(
        matches!(&events[0], ConferenceEvent::NickChanged { old, new, own: true, .. }
        if old == "alice" && new == "hecate"),
        "{events:?}"
    );
    assert!(
        matches!(&events[1], ConferenceEvent::OccupantChanged { occupant, .. }
        if occupant.nick == "hecate")
    );
    assert_eq!(h.client.room(&room()).map(|r| r.nick()), Some("hecate"));
    // Bob becomes a visitor, then leaves.
    h.server(
        "<presence from='coven@chat.example.com/bob'>\
         <x xmlns='http://jabber.org/protocol/muc#user'>\
         <item affiliation='owner' role='visitor'/></x></presence>\
         <presence from='coven@chat.example.com/bob' type='unavailable'>\
         <x xmlns='http://jabber.org/protocol/muc#user'>\
         <item affiliation='owner' role='none'/></x></presence>",
    );
    let events = conf(h.events());
    assert!(
        matches!(&events[..], [
        ConferenceEvent::OccupantChanged { occupant: a, .. },
        ConferenceEvent::OccupantLeft { occupant: b, .. },
    ] if a.role == Role::Visitor && b.nick == "bob"),
        "{events:?}"
    );
    assert!(
        h.client
            .room(&room())
            .and_then(|r| r.occupant("bob"))
            .is_none()
    );
    // A refused change of nickname.
    h.client.change_nick(now, &room(), "bob").expect("change");
    h.sent();
    h.server(
        "<presence from='coven@chat.example.com/bob' type='error'>\
         <error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         </error></presence>",
    );
    assert_eq!(
        conf(h.events()),
        [ConferenceEvent::NickConflict {
            room: room(),
            nick: "bob".into(),
            retry: None
        }]
    );
    assert_eq!(
        h.client.room(&room()).map(|r| r.state()),
        Some(RoomState::Joined)
    );
}

#[test]
fn subject_messages_private_messages_and_notices() {
    let mut h = joined(config());
    let now = h.now;
    h.server(
        "<message from='coven@chat.example.com/bob' type='groupchat'>\
         <subject>Spells</subject></message>\
         <message from='coven@chat.example.com/bob' type='groupchat'>\
         <body>/me stirs the cauldron</body></message>\
         <message from='coven@chat.example.com/bob' type='chat'>\
         <body>psst</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>\
         <message from='coven@chat.example.com' type='groupchat'>\
         <body>carol has joined.</body></message>",
    );
    let events = conf(h.events());
    let [
        ConferenceEvent::Subject { nick, subject, .. },
        ConferenceEvent::Message {
            nick: from,
            message,
            ..
        },
        ConferenceEvent::PrivateMessage {
            nick: private,
            message: pm,
            ..
        },
        ConferenceEvent::Notice {
            message: notice, ..
        },
    ] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!((nick.as_deref(), subject.as_str()), (Some("bob"), "Spells"));
    assert_eq!(from, "bob");
    let body = message.body().expect("a body");
    assert_eq!(
        emote(from, &body).as_deref(),
        Some("bob stirs the cauldron")
    );
    assert_eq!(message.me().as_deref(), Some("stirs the cauldron"));
    assert_eq!(
        (private.as_str(), pm.body().as_deref()),
        ("bob", Some("psst"))
    );
    assert_eq!(notice.body().as_deref(), Some("carol has joined."));
    assert_eq!(
        h.client.room(&room()).and_then(|r| r.subject()),
        Some("Spells")
    );

    // What we send, byte-exact.
    h.client
        .send_groupchat(now, &room(), &me("waves"))
        .expect("groupchat");
    h.client
        .set_subject(now, &room(), "Potions")
        .expect("subject");
    h.client
        .send_private(now, &room(), "bob", "hello")
        .expect("private");
    assert_eq!(
        h.sent(),
        "<message to='coven@chat.example.com' type='groupchat'><body>/me waves</body></message>\
         <message to='coven@chat.example.com' type='groupchat'><subject>Potions</subject></message>\
         <message to='coven@chat.example.com/bob' type='chat'><body>hello</body>\
         <x xmlns='http://jabber.org/protocol/muc#user'/></message>"
    );
    // Not in that room: refused, nothing sent.
    let elsewhere = jid("elsewhere@chat.example.com");
    assert_eq!(
        h.client.send_groupchat(now, &elsewhere, "hi"),
        Err(Error::NotInRoom)
    );
    assert_eq!(h.sent(), "");
    // A refused message.
    h.server(
        "<message from='coven@chat.example.com' type='error'>\
         <error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         </error></message>",
    );
    assert!(matches!(
        conf(h.events()).as_slice(),
        [ConferenceEvent::Error { error, .. }] if error.condition == StanzaCondition::NotAcceptable
    ));
}

#[test]
fn invitations_both_ways() {
    let mut h = joined(config());
    let now = h.now;
    // Mediated, through the room, and its decline.
    h.client
        .invite(now, &room(), &jid("carol@example.org"), Some("join us"))
        .expect("invite");
    h.client
        .decline_invite(
            now,
            &jid("den@chat.example.com"),
            &jid("dave@example.org"),
            None,
        )
        .expect("decline");
    // Direct (XEP-0249).
    let mut invitation = Invitation::new(&room());
    invitation.reason = Some("come".into());
    h.client
        .invite_direct(now, &jid("erin@example.org"), &invitation)
        .expect("direct");
    assert_eq!(
        h.sent(),
        "<message to='coven@chat.example.com'><x xmlns='http://jabber.org/protocol/muc#user'>\
         <invite to='carol@example.org'><reason>join us</reason></invite></x></message>\
         <message to='den@chat.example.com'><x xmlns='http://jabber.org/protocol/muc#user'>\
         <decline to='dave@example.org'/></x></message>\
         <message to='erin@example.org'><x xmlns='jabber:x:conference' \
         jid='coven@chat.example.com' reason='come'/></message>"
    );
    // Received: a mediated one from a room we are not in, a direct one from anyone, a
    // decline of ours.
    h.server(
        "<message from='den@chat.example.com'>\
         <x xmlns='http://jabber.org/protocol/muc#user'>\
         <invite from='dave@example.org/x'><reason>tea?</reason></invite>\
         <password>pw</password></x></message>\
         <message from='frank@example.org/pc'>\
         <x xmlns='jabber:x:conference' jid='lair@chat.example.org'/></message>\
         <message from='coven@chat.example.com'>\
         <x xmlns='http://jabber.org/protocol/muc#user'>\
         <decline from='carol@example.org'><reason>busy</reason></decline></x></message>",
    );
    let events = conf(h.events());
    let [
        ConferenceEvent::Invited(mediated),
        ConferenceEvent::Invited(direct),
        ConferenceEvent::Declined(decline),
    ] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!(mediated.kind, InviteKind::Mediated);
    assert_eq!(mediated.room, jid("den@chat.example.com"));
    assert_eq!(mediated.from, Some(jid("dave@example.org/x")));
    assert_eq!(mediated.reason.as_deref(), Some("tea?"));
    assert_eq!(mediated.password.as_deref(), Some("pw"));
    assert_eq!(direct.kind, InviteKind::Direct);
    assert_eq!(direct.room, jid("lair@chat.example.org"));
    assert_eq!(direct.from, Some(jid("frank@example.org/pc")));
    assert_eq!(decline.room, room());
    assert_eq!(decline.from, Some(jid("carol@example.org")));
    assert_eq!(decline.reason.as_deref(), Some("busy"));
    // An "invitation" from an occupant's address is not the room's: only a direct one
    // would count, and it carries none.
    h.server(
        "<message from='coven@chat.example.com/bob'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><invite from='x@y'/></x></message>",
    );
    assert!(matches!(
        conf(h.events()).as_slice(),
        [ConferenceEvent::PrivateMessage { .. }]
    ));
}

#[test]
fn leaving_ignores_the_rooms_late_update() {
    let mut h = joined(config());
    let now = h.now;
    h.client
        .leave_room(now, &room(), Some("bye"))
        .expect("leave");
    assert_eq!(
        h.sent(),
        "<presence to='coven@chat.example.com/alice' type='unavailable'>\
         <status>bye</status></presence>"
    );
    assert_eq!(
        h.client.room(&room()).map(|r| r.state()),
        Some(RoomState::Leaving)
    );
    assert_eq!(
        h.client.leave_room(now, &room(), None),
        Err(Error::WrongPhase)
    );
    // What the room still sends before our own unavailable presence says nothing new.
    h.server(
        "<presence from='coven@chat.example.com/bob' type='unavailable'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item role='none'/></x></presence>\
         <presence from='coven@chat.example.com/alice' type='unavailable'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item role='none'/>\
         <status code='110'/></x></presence>",
    );
    assert_eq!(conf(h.events()), [ConferenceEvent::Left { room: room() }]);
    assert!(h.client.room(&room()).is_none());
    assert_eq!(
        h.client.send_groupchat(now, &room(), "hi"),
        Err(Error::NotInRoom)
    );
}

#[test]
fn kicked_and_destroyed_rooms_are_dropped() {
    let mut h = joined(config());
    h.server(
        "<presence from='coven@chat.example.com/alice' type='unavailable'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item role='none'/>\
         <status code='307'/><status code='110'/></x></presence>",
    );
    assert_eq!(
        conf(h.events()),
        [ConferenceEvent::Dropped {
            room: room(),
            reason: DropReason::Removed(307)
        }]
    );
    let view = h.client.room(&room()).expect("kept for a rejoin");
    assert_eq!(view.state(), RoomState::Dropped);
    assert_eq!(view.occupants().count(), 0);
    let now = h.now;
    h.client.rejoin_room(now, &room()).expect("rejoin");
    assert_eq!(
        h.sent(),
        "<presence to='coven@chat.example.com/alice'>\
         <x xmlns='http://jabber.org/protocol/muc'/></presence>"
    );
    h.server(
        "<presence from='coven@chat.example.com/alice'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item role='participant'/>\
         <status code='110'/></x></presence>\
         <presence from='coven@chat.example.com/alice' type='unavailable'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item role='none'/>\
         <destroy/><status code='110'/></x></presence>",
    );
    let events = conf(h.events());
    assert!(
        matches!(
            events.last(),
            Some(ConferenceEvent::Dropped {
                reason: DropReason::Destroyed,
                ..
            })
        ),
        "{events:?}"
    );
}

#[test]
fn groupchat_1_0_recognises_our_own_nick() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let options = JoinOptions::default().protocol(Protocol::Groupchat);
    h.client
        .join_room(now, &room(), "alice", options)
        .expect("join");
    h.sent();
    h.server(
        "<presence from='coven@chat.example.com/bob'/>\
         <presence from='coven@chat.example.com/alice'/>",
    );
    let events = conf(h.events());
    assert!(
        matches!(events.last(), Some(ConferenceEvent::Joined { nick, .. }) if nick == "alice"),
        "{events:?}"
    );
    h.client.leave_room(now, &room(), None).expect("leave");
    h.sent();
    h.server("<presence from='coven@chat.example.com/alice' type='unavailable'/>");
    assert_eq!(conf(h.events()), [ConferenceEvent::Left { room: room() }]);
}

#[test]
fn occupants_and_rooms_are_bounded() {
    let mut c = config();
    c.conference.max_occupants = 2;
    c.conference.max_rooms = 1;
    let mut h = joined(c);
    // bob and alice fill the room; carol and dave are counted, not kept.
    h.server(
        "<presence from='coven@chat.example.com/carol'/>\
         <presence from='coven@chat.example.com/dave'/>",
    );
    assert_eq!(h.events(), []);
    let view = h.client.room(&room()).expect("the room");
    assert_eq!(view.occupants().count(), 2);
    assert_eq!(view.occupants_dropped(), 2);
    let now = h.now;
    assert_eq!(
        h.client.join_room(
            now,
            &jid("other@chat.example.com"),
            "alice",
            JoinOptions::default()
        ),
        Err(Error::TooManyRooms)
    );
    assert_eq!(h.sent(), "");
}

#[test]
fn commands_need_a_session() {
    let mut h = Harness::open(config());
    let now = h.now;
    assert_eq!(
        h.client
            .join_room(now, &room(), "alice", JoinOptions::default()),
        Err(Error::WrongPhase)
    );
    assert_eq!(
        h.client
            .invite_direct(now, &room(), &Invitation::new(&room())),
        Err(Error::WrongPhase)
    );
    assert!(h.client.rooms().next().is_none());
}

/// The self-ping of `coven` as the client sends it, with the `n`th IQ id.
fn ping(n: u64) -> String {
    format!(
        "<iq type='get' id='{}' to='coven@chat.example.com/alice'>\
         <ping xmlns='urn:xmpp:ping'/></iq>",
        wire_id(n)
    )
}

#[test]
fn self_ping_runs_on_the_virtual_clock() {
    let mut c = config();
    c.conference.self_ping_secs = 300;
    let mut h = joined(c);
    let joined_at = h.now;
    let interval = Duration::from_secs(300);
    assert_eq!(h.client.poll_timeout(), Some(joined_at + interval));
    // A stanza from the room shows we are in it: the ping waits again.
    h.advance(Duration::from_secs(100));
    h.server(
        "<message from='coven@chat.example.com/bob' type='groupchat'><body>x</body></message>",
    );
    h.events();
    assert_eq!(h.sent(), "");
    assert_eq!(h.client.poll_timeout(), Some(h.now + interval));
    assert_eq!(
        h.run_to_deadline(),
        Some(joined_at + Duration::from_secs(400))
    );
    assert_eq!(h.sent(), ping(3));
    // No second ping while one is out: the next deadline is its IQ timeout.
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.now + Duration::from_secs(60))
    );
    // An answer from anyone but our occupant address does not count.
    h.server(&format!(
        "<iq type='result' id='{}' from='coven@chat.example.com/bob'/>",
        wire_id(3)
    ));
    assert_eq!(h.events(), []);
    h.server(&format!(
        "<iq type='result' id='{}' from='coven@chat.example.com/alice'/>",
        wire_id(3)
    ));
    assert_eq!(h.events(), []);
    assert_eq!(h.client.poll_timeout(), Some(h.now + interval));
    // "Not a client that answers pings" still means joined.
    h.run_to_deadline();
    assert_eq!(h.sent(), ping(4));
    h.server(&format!(
        "<iq type='error' id='{}' from='coven@chat.example.com/alice'>\
         <error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         </error></iq>",
        wire_id(4)
    ));
    assert_eq!(h.events(), []);
    // No answer at all: unknown, asked again an interval after the timeout.
    h.run_to_deadline();
    assert_eq!(h.sent(), ping(5));
    let asked = h.now;
    h.run_to_deadline();
    assert_eq!(h.now, asked + Duration::from_secs(60), "the IQ timeout");
    assert_eq!(h.events(), []);
    assert_eq!(h.client.poll_timeout(), Some(h.now + interval));
    // The service restarted and forgot us: not-acceptable.
    h.run_to_deadline();
    assert_eq!(h.sent(), ping(6));
    h.server(&format!(
        "<iq type='error' id='{}' from='coven@chat.example.com/alice'>\
         <error type='cancel'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         </error></iq>",
        wire_id(6)
    ));
    let events = conf(h.events());
    assert!(
        matches!(events.as_slice(), [ConferenceEvent::Dropped {
        reason: DropReason::SelfPing(e), ..
    }] if e.condition == StanzaCondition::NotAcceptable),
        "{events:?}"
    );
    assert_eq!(
        h.client.poll_timeout(),
        None,
        "no ping for a room we are not in"
    );
    let now = h.now;
    h.client.rejoin_room(now, &room()).expect("rejoin");
    assert!(
        h.sent()
            .starts_with("<presence to='coven@chat.example.com/alice'>")
    );
}

#[test]
fn chunking_changes_no_event() {
    let script = "<presence from='coven@chat.example.com/bob'>\
         <x xmlns='http://jabber.org/protocol/muc#user'>\
         <item affiliation='owner' role='moderator'/></x></presence>\
         <presence from='coven@chat.example.com/alice'>\
         <x xmlns='http://jabber.org/protocol/muc#user'>\
         <item affiliation='member' role='participant'/><status code='110'/></x></presence>\
         <message from='coven@chat.example.com/bob' type='groupchat'><subject>s</subject></message>\
         <message from='coven@chat.example.com/bob' type='groupchat'><body>b</body></message>\
         <message from='x@example.org'><x xmlns='jabber:x:conference' jid='a@b.c'/></message>";
    let run = |bytewise: bool| {
        let mut h = Harness::logged_in(config());
        let now = h.now;
        h.client
            .join_room(now, &room(), "alice", JoinOptions::default())
            .expect("join");
        h.sent();
        if bytewise {
            h.server_bytewise(script);
        } else {
            h.server(script);
        }
        h.events()
    };
    let whole = run(false);
    assert_eq!(whole.len(), 6, "{whole:?}");
    assert_eq!(run(true), whole);
}

/// The cheat sheet's conference protocol, on a 2001-style transcript.
#[test]
fn the_cheat_sheets_conference_protocol() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    // Browse the server for conference services.
    let server = jid("example.com");
    let id = h.client.browse(now, &server).expect("browse");
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='get' id='{}' to='example.com'><query xmlns='jabber:iq:browse'/></iq>",
            wire_id(3)
        )
    );
    h.server(&format!(
        "<iq type='result' id='{}' from='example.com'>\
         <service xmlns='jabber:iq:browse' jid='example.com' type='jabber' name='Jabber'>\
         <conference jid='conference.example.com' type='public' name='Chatrooms'>\
         <ns>jabber:iq:conference</ns></conference>\
         <service jid='users.example.com' type='jud' name='Users'/></service></iq>",
        wire_id(3)
    ));
    let events = conf(h.events());
    let [ConferenceEvent::Browsed { id: got, item, .. }] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert_eq!(*got, id);
    assert_eq!(item.category, "service");
    let services: Vec<_> = item.items.iter().filter(|i| i.is_conference()).collect();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0].jid, Some(jid("conference.example.com")));
    assert_eq!(services[0].namespaces, ["jabber:iq:conference"]);

    // Is the room name free? A room that does not exist answers 404.
    let cauldron = jid("cauldron@conference.example.com");
    h.client.browse(now, &cauldron).expect("browse");
    h.sent();
    h.server(&format!(
        "<iq type='error' id='{}' from='cauldron@conference.example.com'>\
         <error code='404'>Not Found</error></iq>",
        wire_id(4)
    ));
    assert!(matches!(
        conf(h.events()).as_slice(),
        [ConferenceEvent::BrowseFailed { free: true, .. }]
    ));

    // Join: presence to the bare room, then our nicknames in order of preference.
    let options = JoinOptions::default()
        .protocol(Protocol::Conference)
        .retry_nick(true);
    h.client
        .join_room(now, &cauldron, "alice", options)
        .expect("join");
    assert_eq!(
        h.sent(),
        format!(
            "<presence to='cauldron@conference.example.com'/>\
             <iq type='set' id='{}' to='cauldron@conference.example.com'>\
             <query xmlns='jabber:iq:browse'><nick>alice</nick><nick>alice_</nick>\
             <nick>alice__</nick><nick>alice___</nick></query></iq>",
            wire_id(5)
        )
    );
    h.server(&format!(
        "<iq type='result' id='{}' from='cauldron@conference.example.com'/>",
        wire_id(5)
    ));
    assert_eq!(
        conf(h.events()),
        [ConferenceEvent::Joined {
            room: cauldron.clone(),
            nick: "alice".into(),
            created: false
        }]
    );
    // The cheat sheet: presence once more, or the members may not see us.
    assert_eq!(h.sent(), "<presence to='cauldron@conference.example.com'/>");

    // The room's roster, with proxy JIDs; a push from anyone else is refused.
    h.server(
        "<iq type='set' id='r1' from='cauldron@conference.example.com'>\
         <conference xmlns='jabber:iq:conference' name='Cauldron'>\
         <user jid='cauldron@conference.example.com/a1b2' name='alice'/>\
         <user jid='cauldron@conference.example.com/c3d4' name='bob'/>\
         </conference></iq>\
         <iq type='set' id='r2' from='mallory@example.com'>\
         <conference xmlns='jabber:iq:conference'>\
         <user jid='cauldron@conference.example.com/e5' name='eve'/></conference></iq>",
    );
    let wire = h.sent();
    assert!(
        wire.starts_with("<iq type='result' id='r1' to='cauldron@conference.example.com'/>"),
        "{wire}"
    );
    assert!(
        wire.contains("id='r2'") && wire.contains("service-unavailable"),
        "{wire}"
    );
    let events = conf(h.events());
    assert!(
        matches!(&events[..], [
        ConferenceEvent::OccupantJoined { occupant: a, .. },
        ConferenceEvent::OccupantJoined { occupant: b, .. },
    ] if a.nick == "alice" && b.nick == "bob"
        && b.proxy == Some(jid("cauldron@conference.example.com/c3d4"))),
        "{events:?}"
    );

    // Presence from bob's proxy JID: his show; from a proxy the roster never named:
    // nothing.
    h.server(
        "<presence from='cauldron@conference.example.com/c3d4'><show>away</show></presence>\
         <presence from='cauldron@conference.example.com/ffff'/>",
    );
    let events = conf(h.events());
    assert!(
        matches!(&events[..], [
        ConferenceEvent::OccupantChanged { occupant, .. },
    ] if occupant.nick == "bob" && occupant.show == Some(jabber_proto::stanza::Show::Away)),
        "{events:?}"
    );

    // "has joined" from the bare room; a message from bob's proxy JID.
    h.server(
        "<message from='cauldron@conference.example.com' type='groupchat'>\
         <body>bob has joined.</body></message>\
         <message from='cauldron@conference.example.com/c3d4' type='groupchat'>\
         <body>hello</body></message>",
    );
    let events = conf(h.events());
    assert!(
        matches!(&events[..], [
        ConferenceEvent::Notice { .. },
        ConferenceEvent::Message { nick, .. },
    ] if nick == "bob"),
        "{events:?}"
    );

    // Who is bob really? Browse his proxy JID.
    let proxy = jid("cauldron@conference.example.com/c3d4");
    h.client.browse(now, &proxy).expect("browse");
    h.sent();
    h.server(&format!(
        "<iq type='result' id='{}' from='cauldron@conference.example.com/c3d4'>\
         <user xmlns='jabber:iq:browse' jid='bob@example.net/home' name='bob'/></iq>",
        wire_id(6)
    ));
    let events = conf(h.events());
    assert!(
        matches!(&events[..], [
        ConferenceEvent::OccupantChanged { occupant, .. },
        ConferenceEvent::Browsed { .. },
    ] if occupant.jid == Some(jid("bob@example.net/home"))),
        "{events:?}"
    );

    // A private message goes to the proxy JID.
    h.client
        .send_private(now, &cauldron, "bob", "psst")
        .expect("private");
    assert_eq!(
        h.sent(),
        "<message to='cauldron@conference.example.com/c3d4' type='chat'><body>psst</body></message>"
    );

    // Leaving: unavailable presence; the one last roster update confirms it.
    h.client.leave_room(now, &cauldron, None).expect("leave");
    assert_eq!(
        h.sent(),
        "<presence to='cauldron@conference.example.com' type='unavailable'/>"
    );
    h.server(
        "<iq type='set' id='r3' from='cauldron@conference.example.com'>\
         <conference xmlns='jabber:iq:conference'>\
         <user jid='cauldron@conference.example.com/a1b2' name='alice' type='remove'/>\
         </conference></iq>",
    );
    assert_eq!(
        conf(h.events()),
        [ConferenceEvent::Left {
            room: cauldron.clone()
        }]
    );
    assert!(h.client.room(&cauldron).is_none());
}

mod sessions {
    //! Rooms across connections: kept on a resumed stream, dropped in a new session.

    use super::*;
    use jabber_proto::client::SmEvent;
    use jabber_proto::features::stream_management::Resumption;
    use jabber_proto::negotiation::auth::Credentials;
    use support::SERVER_HEADER;

    const SM: &str = "urn:xmpp:sm:3";

    fn sm_config() -> Config {
        let mut c = config();
        c.version = Some("1.0".into());
        // PLAIN over a transport the driver encrypted: the shortest 1.0 login.
        c.transport_encrypted = true;
        c.conference.self_ping_secs = 300;
        c
    }

    /// Through SASL; the restarted stream's features about to come.
    fn authenticated(resumption: Option<Resumption>) -> Harness {
        authenticated_with(sm_config(), resumption)
    }

    fn authenticated_with(config: Config, resumption: Option<Resumption>) -> Harness {
        let mut h = Harness::new(config);
        let now = h.now;
        let creds = Credentials::new("alice", "pw", "desk");
        match resumption {
            None => h.client.login(now, creds).expect("login"),
            Some(r) => h.client.resume(now, creds, r).expect("resume"),
        }
        h.server(SERVER_HEADER);
        h.server(
            "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
             <mechanism>PLAIN</mechanism></mechanisms></stream:features>",
        );
        h.server("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        h.server(SERVER_HEADER);
        h.server(
            "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>\
             <sm xmlns='urn:xmpp:sm:3'/></stream:features>",
        );
        h.sent();
        h.events();
        h
    }

    fn bind(h: &mut Harness, n: u64) {
        h.server(&format!(
            "<iq type='result' id='{}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
             <jid>alice@example.com/desk</jid></bind></iq>",
            wire_id(n)
        ));
        h.server(&format!("<enabled xmlns='{SM}' id='sm-1' resume='true'/>"));
        h.sent();
        h.events();
    }

    /// In `coven` with bob, then the connection reset.
    fn died_in_a_room() -> Resumption {
        let mut h = authenticated(None);
        bind(&mut h, 1);
        let now = h.now;
        h.client
            .join_room(now, &room(), "alice", JoinOptions::default())
            .expect("join");
        h.server(
            "<presence from='coven@chat.example.com/bob'/>\
             <presence from='coven@chat.example.com/alice'>\
             <x xmlns='http://jabber.org/protocol/muc#user'><item role='participant'/>\
             <status code='110'/></x></presence>",
        );
        h.events();
        h.sent();
        h.client.handle_reset(now);
        let r = h.client.resumption().expect("resumable");
        assert_eq!(r.rooms.len(), 1);
        assert_eq!(r.rooms[0].occupants.len(), 2);
        r
    }

    #[test]
    fn a_resumed_stream_keeps_the_rooms() {
        let mut h = authenticated(Some(died_in_a_room()));
        h.server(&format!("<resumed xmlns='{SM}' previd='sm-1' h='1'/>"));
        let events = h.events();
        assert!(
            matches!(
                events.as_slice(),
                [Event::StreamManagement(SmEvent::Resumed { .. })]
            ),
            "no rejoin, nothing dropped: {events:?}"
        );
        let wire = h.sent();
        assert!(!wire.contains("<presence"), "no rejoin: {wire}");
        let view = h.client.room(&room()).expect("kept");
        assert_eq!(view.state(), RoomState::Joined);
        assert_eq!(view.occupants().count(), 2);
        let now = h.now;
        h.client
            .send_groupchat(now, &room(), "back")
            .expect("in the room");
        // Self-ping starts over on the new connection (past stream management's acks).
        h.sent();
        let pinged = loop {
            let t = h.run_to_deadline().expect("a timer");
            if h.sent().contains("<ping xmlns='urn:xmpp:ping'/>") {
                break t;
            }
        };
        assert_eq!(pinged, now + Duration::from_secs(300));
    }

    #[test]
    fn a_new_session_reports_the_rooms_dropped() {
        let mut h = authenticated(Some(died_in_a_room()));
        h.server(&format!(
            "<failed xmlns='{SM}'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             </failed>"
        ));
        assert_eq!(h.events(), [Event::StreamManagement(SmEvent::ResumeFailed)]);
        h.sent();
        // Once the new session is bound, it is in no room.
        h.server(&format!(
            "<iq type='result' id='{}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
             <jid>alice@example.com/desk</jid></bind></iq>",
            wire_id(2)
        ));
        let events = h.events();
        assert!(
            events.contains(&Event::Conference(ConferenceEvent::Dropped {
                room: room(),
                reason: DropReason::NewSession
            })),
            "{events:?}"
        );
        h.sent();
        assert_eq!(
            h.client.room(&room()).map(|r| r.state()),
            Some(RoomState::Dropped)
        );
        let now = h.now;
        h.client.rejoin_room(now, &room()).expect("rejoin");
        assert!(
            h.sent()
                .contains("<presence to='coven@chat.example.com/alice'>")
        );
    }

    #[test]
    fn rooms_carried_into_a_plain_login_are_dropped_when_it_starts() {
        let carried = died_in_a_room().rooms;
        let mut h = Harness::new(config());
        let now = h.now;
        h.client
            .carry_rooms(now, carried.clone())
            .expect("before login");
        assert_eq!(
            h.client.room(&room()).map(|r| r.state()),
            Some(RoomState::Joined),
            "believed, until the session starts"
        );
        h.client
            .login(now, Credentials::new("alice", "pw", "desk"))
            .expect("login");
        h.server(support::CLASSIC_HEADER);
        h.server(&format!(
            "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'><digest/></query></iq>",
            wire_id(1)
        ));
        h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
        let events = h.events();
        assert!(
            events.contains(&Event::Conference(ConferenceEvent::Dropped {
                room: room(),
                reason: DropReason::NewSession
            })),
            "{events:?}"
        );
        assert_eq!(h.client.carried_rooms().len(), 1);
        assert_eq!(h.client.carry_rooms(now, carried), Err(Error::WrongPhase));
    }

    #[test]
    fn a_resumption_with_rooms_is_captured_and_replays() {
        use jabber_proto::replay::{self, Options};
        let mut c = sm_config();
        c.capture = true;
        let mut h = authenticated_with(c, Some(died_in_a_room()));
        h.server(&format!("<resumed xmlns='{SM}' previd='sm-1' h='1'/>"));
        let now = h.now;
        h.client
            .send_private(now, &room(), "bob", "still here")
            .expect("sent");
        h.sent();
        h.events();
        let records: Vec<_> = std::iter::from_fn(|| h.client.poll_capture()).collect();
        assert!(
            records
                .iter()
                .any(|r| String::from_utf8_lossy(&r.data).contains("<room "))
        );
        let report = replay::replay(&records, &Options::default());
        assert_eq!(report.difference, None);
        assert!(!report.incomplete);
        assert_eq!(report.replayed, records.len());
    }
}

#[test]
fn a_refused_command_changes_nothing() {
    let mut c = config();
    c.max_unsent_bytes = 1000;
    let mut h = joined(c);
    let now = h.now;
    // The buffer holds what the server has not read: the next join does not fit.
    h.client
        .send_groupchat(now, &room(), &"x".repeat(900))
        .expect("fits");
    let other = jid("other@chat.example.com");
    assert_eq!(
        h.client
            .join_room(now, &other, "alice", JoinOptions::default()),
        Err(Error::SendBufferFull)
    );
    assert!(h.client.room(&other).is_none(), "no half-joined room");
    assert_eq!(
        h.client.leave_room(now, &room(), Some("bye")),
        Err(Error::SendBufferFull)
    );
    assert_eq!(
        h.client.room(&room()).map(|r| r.state()),
        Some(RoomState::Joined),
        "still in, not leaving"
    );
    assert!(h.sent().ends_with("</body></message>"));
    // Unknown rooms.
    assert_eq!(
        h.client.leave_room(now, &other, None),
        Err(Error::NotInRoom)
    );
    assert_eq!(h.client.rejoin_room(now, &other), Err(Error::NotInRoom));
    assert_eq!(
        h.client.send_private(now, &other, "bob", "hi"),
        Err(Error::NotInRoom)
    );
    assert_eq!(h.sent(), "");
}

#[test]
fn a_room_created_without_instant_configuration_is_configured_on_request() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    h.client
        .join_room(now, &room(), "alice", JoinOptions::default().instant(false))
        .expect("join");
    h.sent();
    h.server(
        "<presence from='coven@chat.example.com/alice'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/>\
         <status code='110'/><status code='201'/></x></presence>",
    );
    h.events();
    assert_eq!(h.sent(), "", "left locked");
    let id = h
        .client
        .configure_instant_room(now, &room())
        .expect("asked");
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}' to='coven@chat.example.com'>\
             <query xmlns='http://jabber.org/protocol/muc#owner'>\
             <x xmlns='jabber:x:data' type='submit'/></query></iq>",
            wire_id(id.get())
        )
    );
    h.server(&format!(
        "<iq type='error' id='{}' from='coven@chat.example.com'>\
         <error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        wire_id(id.get())
    ));
    assert!(matches!(
        conf(h.events()).as_slice(),
        [ConferenceEvent::Error { error, .. }] if error.condition == StanzaCondition::Forbidden
    ));
    assert_eq!(
        h.client
            .configure_instant_room(now, &jid("other@chat.example.com")),
        Err(Error::NotInRoom)
    );
}
