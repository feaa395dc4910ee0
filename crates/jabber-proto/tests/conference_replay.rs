//! The conference commands and config in a capture: a session using every command (and
//! one that resumes with a room carried) replays to the same events and the same bytes,
//! whole and in pieces.

mod support;

use std::num::NonZeroU64;

use jabber_proto::client::{CaptureRecord, Config, RecordKind};
use jabber_proto::features::conference::{History, JoinOptions, Protocol};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::replay::{self, FILE_HEADER, Options};
use jabber_proto::stanza::ext::Invitation;
use support::{CLASSIC_HEADER, Harness, SEED, wire_id};

fn config() -> Config {
    let mut c = Config::new("example.com", NonZeroU64::new(SEED).expect("non-zero"));
    c.version = None;
    c.capture = true;
    c.fetch_roster = false;
    c.allow_plaintext = true;
    c.conference.max_occupants = 7;
    c.conference.max_rooms = 3;
    c.conference.self_ping_secs = 42;
    c
}

fn jid(s: &str) -> Jid {
    Jid::parse(s).expect("a JID")
}

fn check(events: &[String], records: &[CaptureRecord]) {
    let mut file = FILE_HEADER.as_bytes().to_vec();
    for r in records {
        replay::write_record(&mut file, r);
    }
    assert_eq!(replay::parse(&file).expect("the file reads back"), records);
    let sent: Vec<String> = records
        .iter()
        .filter(|r| r.kind == RecordKind::Sent)
        .map(|r| String::from_utf8_lossy(&r.data).into_owned())
        .collect();
    for options in [Options::default(), Options::chunked(1), Options::chunked(7)] {
        let report = replay::replay(records, &options);
        assert_eq!(report.difference, None, "{options:?}");
        assert!(!report.incomplete);
        assert_eq!(report.events, events, "{options:?}");
        assert_eq!(report.sent, sent, "{options:?}");
    }
}

#[test]
fn conference_commands_replay_to_the_same_events_and_bytes() {
    let mut h = Harness::new(config());
    let mut events = Vec::new();
    let mut drain = |h: &mut Harness| {
        h.sent();
        events.extend(h.events().iter().map(|e| format!("{e:?}")));
    };
    let now = h.now;
    h.client
        .login(now, Credentials::new("alice", "pw", "desk"))
        .expect("login starts");
    h.server(CLASSIC_HEADER);
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'><digest/></query></iq>",
        wire_id(1)
    ));
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
    drain(&mut h);
    let room = jid("coven@chat.example.com");
    let options = JoinOptions::default()
        .password("p")
        .history(History::last(3))
        .retry_nick(true)
        .instant(false);
    h.client
        .join_room(now, &room, "alice", options)
        .expect("join");
    h.client
        .join_room(now, &room, "alice", JoinOptions::default())
        .expect_err("refused, and captured so");
    h.server(
        "<presence from='coven@chat.example.com/alice' type='error'>\
         <error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>\
         </presence>\
         <presence from='coven@chat.example.com/bob'/>\
         <presence from='coven@chat.example.com/alice_'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item role='participant'/>\
         <status code='110'/></x></presence>",
    );
    drain(&mut h);
    h.client.send_groupchat(now, &room, "hi").expect("sent");
    h.client.set_subject(now, &room, "s").expect("sent");
    h.client
        .send_private(now, &room, "bob", "psst")
        .expect("sent");
    h.client.change_nick(now, &room, "hecate").expect("sent");
    h.client
        .invite(now, &room, &jid("carol@example.org"), Some("come"))
        .expect("sent");
    h.client
        .decline_invite(
            now,
            &jid("den@chat.example.com"),
            &jid("d@example.org"),
            None,
        )
        .expect("sent");
    let mut invitation = Invitation::new(&room);
    invitation.password = Some("p".into());
    h.client
        .invite_direct(now, &jid("erin@example.org"), &invitation)
        .expect("sent");
    h.client.browse(now, &jid("example.com")).expect("sent");
    h.client.configure_instant_room(now, &room).expect("sent");
    let gc = jid("old@chat.example.com");
    h.client
        .join_room(
            now,
            &gc,
            "alice",
            JoinOptions::default().protocol(Protocol::Groupchat),
        )
        .expect("join");
    drain(&mut h);
    h.server(&format!(
        "<iq type='error' id='{}' from='example.com'><error code='404'/></iq>\
         <presence from='old@chat.example.com/alice'/>",
        wire_id(3)
    ));
    drain(&mut h);
    // The configured self-ping interval: a replay with another would differ here.
    h.advance(std::time::Duration::from_secs(42));
    let wire = h.sent();
    assert!(wire.contains("urn:xmpp:ping"), "{wire}");
    let now = h.now;
    h.client.leave_room(now, &gc, Some("bye")).expect("leave");
    h.client.rejoin_room(now, &room).expect("rejoin");
    drain(&mut h);
    assert!(
        events.iter().any(|e| e.contains("NickConflict")),
        "{events:#?}"
    );
    assert!(
        events.iter().any(|e| e.contains("BrowseFailed")),
        "{events:#?}"
    );
    let records: Vec<_> = std::iter::from_fn(|| h.client.poll_capture()).collect();
    check(&events, &records);
}

#[test]
fn carried_rooms_replay() {
    use jabber_proto::features::conference::CarriedRoom;
    let mut h = Harness::new(config());
    let now = h.now;
    let room = CarriedRoom::new(
        &jid("coven@chat.example.com"),
        "alice",
        JoinOptions::default().password("p"),
    );
    h.client.carry_rooms(now, vec![room]).expect("carried");
    h.client
        .login(now, Credentials::new("alice", "pw", "desk"))
        .expect("login starts");
    h.server(CLASSIC_HEADER);
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'><digest/></query></iq>",
        wire_id(1)
    ));
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
    h.sent();
    let mut events: Vec<String> = h.events().iter().map(|e| format!("{e:?}")).collect();
    h.client
        .rejoin_room(now, &jid("coven@chat.example.com"))
        .expect("rejoin");
    assert!(h.sent().contains("<password>p</password>"));
    events.extend(h.events().iter().map(|e| format!("{e:?}")));
    assert!(
        events.iter().any(|e| e.contains("NewSession")),
        "{events:#?}"
    );
    let records: Vec<_> = std::iter::from_fn(|| h.client.poll_capture()).collect();
    check(&events, &records);
}
