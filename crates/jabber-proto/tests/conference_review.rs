//! Conferences: the fixes of a review (issue 12), each on a scripted server with a
//! virtual clock — self-ping after a room's errors, leaving that always ends, requests
//! and rooms across connections, no spinning while closing, secrets masked, bounded
//! roster pushes, messages while leaving, addressing, and XEP-0249's continuation.

mod support;

use std::num::NonZeroU64;
use std::time::Duration;

use jabber_proto::client::{ConferenceEvent, Config, Event};
use jabber_proto::features::conference::{
    CarriedRoom, DropReason, JoinOptions, Protocol, RoomState,
};
use jabber_proto::jid::Jid;
use jabber_proto::stanza::StanzaCondition;
use jabber_proto::stanza::ext::Invitation;
use support::{Harness, SEED, wire_id};

const ROOM: &str = "coven@chat.example.com";

fn config() -> Config {
    let mut c = Config::new("example.com", NonZeroU64::new(SEED).expect("non-zero"));
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

fn conf(events: Vec<Event>) -> Vec<ConferenceEvent> {
    events
        .into_iter()
        .map(|e| match e {
            Event::Conference(c) => c,
            other => panic!("not a conference event: {other:?}"),
        })
        .collect()
}

const JOINED: &str = "<presence from='coven@chat.example.com/bob'>\
     <x xmlns='http://jabber.org/protocol/muc#user'>\
     <item affiliation='owner' role='moderator'/></x></presence>\
     <presence from='coven@chat.example.com/alice'>\
     <x xmlns='http://jabber.org/protocol/muc#user'>\
     <item affiliation='member' role='participant'/>\
     <status code='110'/></x></presence>";

/// Logged in, `coven` joined as `alice` with bob there; everything drained.
fn joined(config: Config) -> Harness {
    let mut h = Harness::logged_in(config);
    let now = h.now;
    h.client
        .join_room(now, &room(), "alice", JoinOptions::default())
        .expect("join");
    h.sent();
    h.server(JOINED);
    assert!(matches!(
        conf(h.events()).last(),
        Some(ConferenceEvent::Joined { .. })
    ));
    h.advance(Duration::ZERO);
    h
}

fn error_message(condition: &str) -> String {
    format!(
        "<message from='coven@chat.example.com' type='error'>\
         <error type='cancel'><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         </error></message>"
    )
}

fn self_ping_sent(wire: &str) -> bool {
    wire.contains("to='coven@chat.example.com/alice'><ping xmlns='urn:xmpp:ping'/>")
}

// ---- 1: errors do not postpone the self-ping; a forgotten occupant's pings at once ----

#[test]
fn an_error_from_the_room_does_not_postpone_the_self_ping() {
    let mut c = config();
    c.conference.self_ping_secs = 300;
    let mut h = joined(c);
    let due = h.client.poll_timeout().expect("a self-ping timer");
    h.advance(Duration::from_secs(100));
    // Forbidden says nothing of whether we are in: the ping stays where it was.
    h.server(&error_message("forbidden"));
    assert!(matches!(
        conf(h.events()).as_slice(),
        [ConferenceEvent::Error { .. }]
    ));
    assert_eq!(h.client.poll_timeout(), Some(due));
    // An error presence neither.
    h.server(
        "<presence from='coven@chat.example.com/alice' type='error'>\
         <error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         </error></presence>",
    );
    h.events();
    assert_eq!(h.client.poll_timeout(), Some(due));
}

#[test]
fn a_groupchat_refused_as_not_acceptable_self_pings_at_once() {
    for condition in ["not-acceptable", "item-not-found"] {
        let mut c = config();
        c.conference.self_ping_secs = 300;
        let mut h = joined(c);
        h.advance(Duration::from_secs(10));
        let now = h.now;
        h.client
            .send_groupchat(now, &room(), "anyone?")
            .expect("sent");
        h.sent();
        h.server(&error_message(condition));
        assert!(matches!(
            conf(h.events()).as_slice(),
            [ConferenceEvent::Error { .. }]
        ));
        assert_eq!(h.client.poll_timeout(), Some(h.now), "{condition}");
        h.run_to_deadline();
        assert!(self_ping_sent(&h.sent()), "{condition}");
    }
}

// ---- 2, 9: leaving always ends; nothing is reported meanwhile ----

fn leaving() -> Harness {
    let mut h = joined(config());
    let now = h.now;
    h.client.leave_room(now, &room(), None).expect("leave");
    assert_eq!(
        h.sent(),
        "<presence to='coven@chat.example.com/alice' type='unavailable'/>"
    );
    h
}

#[test]
fn an_error_presence_while_leaving_completes_the_leave() {
    let mut h = leaving();
    h.server(
        "<presence from='coven@chat.example.com/alice' type='error'>\
         <error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         </error></presence>",
    );
    assert_eq!(conf(h.events()), [ConferenceEvent::Left { room: room() }]);
    assert!(h.client.room(&room()).is_none());
}

#[test]
fn an_unconfirmed_leave_ends_after_the_iq_timeout() {
    let mut h = leaving();
    let left_at = h.now;
    assert_eq!(h.run_to_deadline(), Some(left_at + Duration::from_secs(60)));
    assert_eq!(conf(h.events()), [ConferenceEvent::Left { room: room() }]);
    assert!(h.client.room(&room()).is_none());
    assert_eq!(h.client.poll_timeout(), None);
}

#[test]
fn joining_a_room_being_left_ends_the_leave() {
    let mut h = leaving();
    let now = h.now;
    h.client
        .join_room(now, &room(), "alice", JoinOptions::default())
        .expect("join while leaving");
    assert!(
        h.sent()
            .starts_with("<presence to='coven@chat.example.com/alice'>")
    );
    assert_eq!(conf(h.events()), [ConferenceEvent::Left { room: room() }]);
    // The old leave's confirmation is not a refusal of the new join.
    h.server(
        "<presence from='coven@chat.example.com/alice' type='unavailable'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item role='none'/>\
         <status code='110'/></x></presence>",
    );
    assert_eq!(h.events(), []);
    assert_eq!(
        h.client.room(&room()).map(|r| r.state()),
        Some(RoomState::Joining)
    );
    h.server(JOINED);
    assert!(matches!(
        conf(h.events()).last(),
        Some(ConferenceEvent::Joined { .. })
    ));
}

#[test]
fn messages_while_leaving_are_not_reported() {
    let mut h = leaving();
    h.server(
        "<message from='coven@chat.example.com/bob' type='groupchat'><body>bye</body></message>\
         <message from='coven@chat.example.com/bob' type='chat'><body>psst</body></message>",
    );
    assert_eq!(h.events(), []);
}

// ---- 4: no spinning while closing ----

#[test]
fn a_closing_client_has_no_past_deadline() {
    let mut c = config();
    c.conference.self_ping_secs = 5;
    let mut h = joined(c);
    let now = h.now;
    h.client.close(now);
    h.sent();
    h.advance(Duration::from_secs(6));
    let next = h.client.poll_timeout();
    assert!(next.is_none_or(|t| t > h.now), "{next:?} at {:?}", h.now);
}

// ---- 5, 8, 10: the cheat sheet's protocol ----

/// `cauldron` joined in the cheat sheet's protocol, with self-ping on.
fn cheat_sheet_room() -> (Harness, Jid) {
    let mut c = config();
    c.conference.self_ping_secs = 300;
    cheat_sheet_room_with(c)
}

fn cheat_sheet_room_with(c: Config) -> (Harness, Jid) {
    let mut h = Harness::logged_in(c);
    let now = h.now;
    let cauldron = jid("cauldron@conference.example.com");
    let options = JoinOptions::default().protocol(Protocol::Conference);
    h.client
        .join_room(now, &cauldron, "alice", options)
        .expect("join");
    h.sent();
    h.server(&format!(
        "<iq type='result' id='{}' from='cauldron@conference.example.com'/>",
        wire_id(3)
    ));
    assert!(matches!(
        conf(h.events()).as_slice(),
        [ConferenceEvent::Joined { .. }]
    ));
    h.sent();
    (h, cauldron)
}

#[test]
fn cheat_sheet_rooms_are_not_self_pinged() {
    let (mut h, _) = cheat_sheet_room();
    assert_eq!(h.client.poll_timeout(), None);
    // Not after a stanza from the room either.
    h.server(
        "<message from='cauldron@conference.example.com' type='groupchat'>\
         <body>bob has joined.</body></message>",
    );
    h.events();
    assert_eq!(h.client.poll_timeout(), None);
    h.advance(Duration::from_secs(1000));
    assert_eq!(h.sent(), "");
}

#[test]
fn a_roster_push_repeating_a_line_yields_one_event() {
    let (mut h, _) = cheat_sheet_room();
    let line = "<user jid='cauldron@conference.example.com/c3d4' name='bob'/>";
    h.server(&format!(
        "<iq type='set' id='r1' from='cauldron@conference.example.com'>\
         <conference xmlns='jabber:iq:conference'>{}</conference></iq>",
        line.repeat(500)
    ));
    h.sent();
    let events = conf(h.events());
    assert!(
        matches!(events.as_slice(), [ConferenceEvent::OccupantJoined { occupant, .. }]
            if occupant.nick == "bob"),
        "{} events",
        events.len()
    );
}

#[test]
fn a_roster_push_removing_us_drops_the_room() {
    let (mut h, cauldron) = cheat_sheet_room();
    h.server(
        "<iq type='set' id='r1' from='cauldron@conference.example.com'>\
         <conference xmlns='jabber:iq:conference'>\
         <user jid='cauldron@conference.example.com/a1' name='alice' type='remove'/>\
         </conference></iq>",
    );
    h.sent();
    assert_eq!(
        conf(h.events()),
        [ConferenceEvent::Dropped {
            room: cauldron.clone(),
            reason: DropReason::Unlisted
        }]
    );
    assert_eq!(
        h.client.room(&cauldron).map(|r| r.state()),
        Some(RoomState::Dropped)
    );
}

// ---- 6: passwords masked ----

#[test]
fn room_passwords_are_masked_in_the_console_and_the_capture() {
    use jabber_proto::client::RecordKind;
    use jabber_proto::replay::{self, Options};
    let mut c = config();
    c.console = true;
    c.capture = true;
    let mut h = Harness::logged_in(c);
    let now = h.now;
    h.client
        .join_room(
            now,
            &room(),
            "alice",
            JoinOptions::default().password("cauldron"),
        )
        .expect("join");
    let mut invitation = Invitation::new(&room());
    invitation.password = Some("cauldron".into());
    h.client
        .invite_direct(now, &jid("bob@example.com"), &invitation)
        .expect("invite");
    assert!(h.sent().contains("password='cauldron'"), "the wire has it");
    // A mediated invitation carrying the password, received.
    h.server(
        "<message from='coven@chat.example.com'>\
         <x xmlns='http://jabber.org/protocol/muc#user'>\
         <invite from='bob@example.com'/><password>cauldron</password></x></message>",
    );
    h.events();
    let console: Vec<_> = std::iter::from_fn(|| h.client.poll_console()).collect();
    assert!(
        console
            .iter()
            .any(|e| e.xml.contains("<password>***</password>"))
    );
    assert!(console.iter().any(|e| e.xml.contains("password='***'")));
    for e in &console {
        assert!(
            !e.xml.contains("cauldron'") && !e.xml.contains(">cauldron<"),
            "{}",
            e.xml
        );
    }
    let records: Vec<_> = std::iter::from_fn(|| h.client.poll_capture()).collect();
    // What we recorded ourselves (the input is kept as it came, for the replay).
    for r in records.iter().filter(|r| r.kind != RecordKind::Input) {
        let text = String::from_utf8_lossy(&r.data);
        assert!(
            !text.contains("cauldron'") && !text.contains(">cauldron<"),
            "{text}"
        );
    }
    let report = replay::replay(&records, &Options::default());
    assert_eq!(report.difference, None);
    assert_eq!(report.replayed, records.len());
}

// ---- 11: the room's own address (already so: `Message::groupchat` takes the bare
// address; pinned here) ----

#[test]
fn groupchat_and_subject_to_an_occupant_address_go_to_the_room() {
    let mut h = joined(config());
    let now = h.now;
    let occupant = jid("coven@chat.example.com/bob");
    h.client.send_groupchat(now, &occupant, "hi").expect("sent");
    h.client.set_subject(now, &occupant, "s").expect("sent");
    assert_eq!(
        h.sent(),
        "<message to='coven@chat.example.com' type='groupchat'><body>hi</body></message>\
         <message to='coven@chat.example.com' type='groupchat'><subject>s</subject></message>"
    );
}

// ---- 12: carry_rooms within max_rooms ----

#[test]
fn carrying_rooms_twice_stays_within_max_rooms() {
    let mut c = config();
    c.conference.max_rooms = 2;
    let mut h = Harness::new(c);
    let now = h.now;
    let carried = |name: &str| {
        vec![CarriedRoom::new(
            &jid(&format!("{name}@chat.example.com")),
            "alice",
            JoinOptions::default(),
        )]
    };
    h.client.carry_rooms(now, carried("a")).expect("carried");
    h.client.carry_rooms(now, carried("b")).expect("carried");
    h.client.carry_rooms(now, carried("c")).expect("carried");
    h.client.carry_rooms(now, carried("a")).expect("carried");
    assert_eq!(h.client.rooms().count(), 2);
}

// ---- 15: XEP-0249's continuation ----

#[test]
fn a_direct_invitation_keeps_its_continuation() {
    let mut h = Harness::logged_in(config());
    h.server(
        "<message from='bob@example.com/home'>\
         <x xmlns='jabber:x:conference' jid='coven@chat.example.com' continue='true' \
         thread='e0ffe42b28561960c6b12b944a092794b9683a38'/></message>",
    );
    let events = conf(h.events());
    let [ConferenceEvent::Invited(invite)] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert_eq!(
        invite.continues.as_deref(),
        Some("e0ffe42b28561960c6b12b944a092794b9683a38")
    );
}

// ---- 3, 7: across connections ----

mod sessions {
    use super::*;
    use jabber_proto::client::SmEvent;
    use jabber_proto::features::stream_management::Resumption;
    use jabber_proto::negotiation::auth::Credentials;
    use support::SERVER_HEADER;

    const SM: &str = "urn:xmpp:sm:3";

    fn sm_config() -> Config {
        let mut c = config();
        c.version = Some("1.0".into());
        c.transport_encrypted = true;
        c.capture = true;
        c
    }

    fn authenticated(resumption: Option<Resumption>) -> Harness {
        let mut h = Harness::new(sm_config());
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

    /// The id of the last `<iq type='set'>` in `wire`.
    fn last_set_id(wire: &str) -> String {
        let at = wire.rfind("<iq type='set' id='").expect("an iq set") + 19;
        wire[at..].split('\'').next().expect("an id").to_string()
    }

    fn bind(h: &mut Harness, id: &str) {
        h.server(&format!(
            "<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
             <jid>alice@example.com/desk</jid></bind></iq>"
        ));
        h.server(&format!("<enabled xmlns='{SM}' id='sm-1' resume='true'/>"));
    }

    /// In `coven`, a browse out (acknowledged by the server), then the connection died.
    fn died_browsing() -> (Resumption, jabber_proto::client::IqId) {
        let mut h = authenticated(None);
        bind(&mut h, &wire_id(1));
        h.sent();
        h.events();
        let now = h.now;
        h.client
            .join_room(now, &room(), "alice", JoinOptions::default())
            .expect("join");
        h.server(JOINED);
        h.events();
        let id = h.client.browse(now, &room()).expect("browse");
        h.sent();
        h.server(&format!("<a xmlns='{SM}' h='2'/>"));
        h.client.handle_reset(now);
        let r = h.client.resumption().expect("resumable");
        assert_eq!(r.in_flight.len(), 1, "the browse is carried");
        (r, id)
    }

    #[test]
    fn a_browse_is_answered_across_a_resumed_stream() {
        let (r, id) = died_browsing();
        let mut h = authenticated(Some(r));
        h.server(&format!("<resumed xmlns='{SM}' previd='sm-1' h='2'/>"));
        let events = h.events();
        assert!(
            matches!(
                events.as_slice(),
                [Event::StreamManagement(SmEvent::Resumed { .. })]
            ),
            "{events:?}"
        );
        h.server(&format!(
            "<iq type='result' id='{}' from='coven@chat.example.com'>\
             <conference xmlns='jabber:iq:browse' jid='coven@chat.example.com'/></iq>",
            wire_id(2)
        ));
        let events = conf(h.events());
        assert!(
            matches!(events.as_slice(), [ConferenceEvent::Browsed { id: got, .. }] if *got == id),
            "{events:?}"
        );
        // The carried request is captured by name and replays.
        let records: Vec<_> = std::iter::from_fn(|| h.client.poll_capture()).collect();
        let report = jabber_proto::replay::replay(&records, &Default::default());
        assert_eq!(report.difference, None);
        assert_eq!(report.replayed, records.len());
    }

    #[test]
    fn a_browse_lost_with_a_refused_resumption_is_reported() {
        let (r, id) = died_browsing();
        let mut h = authenticated(Some(r));
        h.server(&format!(
            "<failed xmlns='{SM}'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             </failed>"
        ));
        assert_eq!(h.events(), [Event::StreamManagement(SmEvent::ResumeFailed)]);
        let wire = h.sent();
        bind(&mut h, &last_set_id(&wire));
        let events = h.events();
        assert!(
            events.contains(&Event::Conference(ConferenceEvent::BrowseFailed {
                id,
                from: room(),
                free: false,
                error: None
            })),
            "{events:?}"
        );
    }

    #[test]
    fn an_instant_configuration_lost_with_a_refused_resumption_is_reported() {
        let mut h = authenticated(None);
        bind(&mut h, &wire_id(1));
        h.sent();
        h.events();
        let now = h.now;
        h.client
            .join_room(now, &room(), "alice", JoinOptions::default())
            .expect("join");
        h.server(JOINED);
        h.events();
        h.client
            .configure_instant_room(now, &room())
            .expect("configure");
        h.sent();
        h.server(&format!("<a xmlns='{SM}' h='2'/>"));
        h.client.handle_reset(now);
        let r = h.client.resumption().expect("resumable");
        assert_eq!(r.in_flight.len(), 1, "the configuration is carried");
        let mut h = authenticated(Some(r));
        h.server(&format!(
            "<failed xmlns='{SM}'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             </failed>"
        ));
        h.events();
        let wire = h.sent();
        bind(&mut h, &last_set_id(&wire));
        let events = h.events();
        assert!(
            events.iter().any(|e| matches!(e,
                Event::Conference(ConferenceEvent::Error { room: r, error })
                    if *r == room() && error.condition == StanzaCondition::RemoteServerTimeout)),
            "{events:?}"
        );
    }

    #[test]
    fn a_conference_nickname_request_is_answered_across_a_resumed_stream() {
        let mut h = authenticated(None);
        bind(&mut h, &wire_id(1));
        h.sent();
        h.events();
        let now = h.now;
        let cauldron = jid("cauldron@conference.example.com");
        let options = JoinOptions::default().protocol(Protocol::Conference);
        h.client
            .join_room(now, &cauldron, "alice", options)
            .expect("join");
        h.sent();
        h.server(&format!("<a xmlns='{SM}' h='2'/>"));
        h.client.handle_reset(now);
        let r = h.client.resumption().expect("resumable");
        assert_eq!(r.in_flight.len(), 1, "the nickname request is carried");
        let mut h = authenticated(Some(r));
        h.server(&format!("<resumed xmlns='{SM}' previd='sm-1' h='2'/>"));
        h.events();
        h.server(&format!(
            "<iq type='result' id='{}' from='cauldron@conference.example.com'/>",
            wire_id(2)
        ));
        assert_eq!(
            conf(h.events()),
            [ConferenceEvent::Joined {
                room: cauldron.clone(),
                nick: "alice".into(),
                created: false
            }]
        );
        assert_eq!(
            h.client.room(&cauldron).map(|r| r.state()),
            Some(RoomState::Joined)
        );
    }

    /// In `coven`, leaving it, when the connection died.
    fn died_leaving() -> Resumption {
        let mut h = authenticated(None);
        bind(&mut h, &wire_id(1));
        h.sent();
        h.events();
        let now = h.now;
        h.client
            .join_room(now, &room(), "alice", JoinOptions::default())
            .expect("join");
        h.server(JOINED);
        h.events();
        h.client.leave_room(now, &room(), None).expect("leave");
        h.sent();
        h.client.handle_reset(now);
        h.client.resumption().expect("resumable")
    }

    #[test]
    fn a_room_being_left_is_left_in_a_new_session() {
        let r = died_leaving();
        assert_eq!(r.rooms.len(), 1, "carried");
        assert_eq!(r.rooms[0].state, RoomState::Leaving);
        let mut h = authenticated(Some(r));
        h.server(&format!(
            "<failed xmlns='{SM}'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             </failed>"
        ));
        h.events();
        let wire = h.sent();
        bind(&mut h, &last_set_id(&wire));
        let events = h.events();
        assert!(
            events.contains(&Event::Conference(ConferenceEvent::Left { room: room() })),
            "{events:?}"
        );
        assert!(h.client.room(&room()).is_none());
    }

    #[test]
    fn a_room_being_left_is_still_left_on_a_resumed_stream() {
        let mut h = authenticated(Some(died_leaving()));
        h.server(&format!("<resumed xmlns='{SM}' previd='sm-1' h='0'/>"));
        h.events();
        assert_eq!(
            h.client.room(&room()).map(|r| r.state()),
            Some(RoomState::Leaving)
        );
        h.server(
            "<presence from='coven@chat.example.com/alice' type='unavailable'>\
             <x xmlns='http://jabber.org/protocol/muc#user'><item role='none'/>\
             <status code='110'/></x></presence>",
        );
        assert_eq!(conf(h.events()), [ConferenceEvent::Left { room: room() }]);
    }
}

/// Join, leave before the room answered, join again: the room's answers to the first
/// join and to the leave could be taken for the new join's (a false `Dropped`), so the
/// new join waits until the leave has ended.
#[test]
fn a_room_left_while_joining_is_not_joined_again_until_the_leave_ends() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    h.client
        .join_room(now, &room(), "alice", JoinOptions::default())
        .expect("join");
    h.sent();
    h.client.leave_room(now, &room(), None).expect("leave");
    h.sent();
    assert_eq!(
        h.client
            .join_room(now, &room(), "alice", JoinOptions::default()),
        Err(jabber_proto::client::Error::WrongPhase)
    );
    // The room answers the join, then the leave: the room is left, nothing dropped.
    h.server(JOINED);
    h.server(
        "<presence from='coven@chat.example.com/alice' type='unavailable'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item role='none'/>\
         <status code='110'/></x></presence>",
    );
    let events = conf(h.events());
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ConferenceEvent::Dropped { .. })),
        "{events:?}"
    );
    assert_eq!(events.last(), Some(&ConferenceEvent::Left { room: room() }));
    let now = h.now;
    h.client
        .join_room(now, &room(), "alice", JoinOptions::default())
        .expect("joined again once the leave ended");
}

/// A push flipping one nick between two proxies line after line: at most two events per
/// occupant the room may hold, however long the push.
#[test]
fn a_roster_push_flipping_a_line_is_bounded() {
    let mut c = config();
    c.conference.max_occupants = 10;
    let (mut h, _) = cheat_sheet_room_with(c);
    let flip = "<user jid='cauldron@conference.example.com/p1' name='bob'/>\
                <user jid='cauldron@conference.example.com/p2' name='bob'/>";
    h.server(&format!(
        "<iq type='set' id='r1' from='cauldron@conference.example.com'>\
         <conference xmlns='jabber:iq:conference'>{}</conference></iq>",
        flip.repeat(500)
    ));
    h.sent();
    let events = conf(h.events());
    assert_eq!(events.len(), 20, "2 × max_occupants, not one per line");
}
