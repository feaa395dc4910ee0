//! The account-service commands and the disclosure config in a capture: a session using
//! each of them replays to the same events and the same bytes, whole and in pieces.

mod support;

use std::num::NonZeroU64;
use std::time::Duration;

use jabber_proto::client::{CaptureRecord, Config, RecordKind};
use jabber_proto::features::disclosure::{Disclosure, SoftwareVersion, TimeZone};
use jabber_proto::features::vcard::{Photo, Vcard};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::replay::{self, FILE_HEADER, Options};
use jabber_proto::time::{Timestamp, TzOffset};
use jabber_proto::xml::Element;
use support::{CLASSIC_HEADER, Harness, SEED, wire_id};

fn config() -> Config {
    let mut c = Config::new(
        "example.com",
        NonZeroU64::new(SEED).expect("a non-zero seed"),
    );
    // A classic server is scripted: the classic stream, stated (1.0 is the default).
    c.version = None;
    c.capture = true;
    c.fetch_roster = false;
    let mut d = Disclosure::default();
    d.software = Some(SoftwareVersion::new("jabber", "0.1.0").with_os("Linux"));
    d.time = Some(TimeZone::new(TzOffset::from_minutes(90).expect("an offset")).with_name("X"));
    d.last_activity = true;
    c.disclosure = Some(Box::new(d));
    c
}

fn run() -> (Vec<String>, Vec<CaptureRecord>) {
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

    h.advance(Duration::from_secs(2));
    let now = h.now;
    let mut card = Vcard::default();
    card.full_name = Some("Alice".into());
    card.photo = Some(Photo::Binary {
        mime_type: Some("image/gif".into()),
        data: b"GIF89a".to_vec(),
    });
    h.client.vcard_set(now, &card).expect("sent");
    h.client
        .vcard_get(now, Some(&Jid::parse("bob@example.com").expect("a JID")))
        .expect("sent");
    let prefs = Element::builder("prefs", "urn:example:prefs")
        .attr("v", "1")
        .build()
        .expect("a valid element");
    h.client.private_set(now, &prefs).expect("sent");
    h.client
        .private_get(now, "prefs", "urn:example:prefs")
        .expect("sent");
    assert!(h.client.private_get(now, "x", "jabber:client").is_err());
    h.client
        .check_update(now, &Jid::parse("update.example.com").expect("a JID"))
        .expect("sent");
    let romeo = Jid::parse("romeo@example.net").expect("a JID");
    h.client.blocklist_get(now).expect("sent");
    h.client
        .block(now, std::slice::from_ref(&romeo))
        .expect("sent");
    h.client.unblock(now, &[romeo]).expect("sent");
    h.client.unblock_all(now).expect("sent");
    assert!(h.client.block(now, &[]).is_err());
    h.client.set_utc(
        now,
        Timestamp::from_unix_millis(1_700_000_000_000).expect("a time"),
    );
    drain(&mut h);
    h.advance(Duration::from_millis(1500));
    h.server(&format!(
        "<iq type='result' id='{}'/>\
         <iq type='result' id='{}' from='mallory@example.com'><vCard xmlns='vcard-temp'/></iq>\
         <iq type='result' id='{}' from='bob@example.com'><vCard xmlns='vcard-temp'><FN>Bob</FN></vCard></iq>\
         <iq type='result' id='{}'/>\
         <iq type='result' id='{}'><query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs' v='1'/></query></iq>\
         <iq type='set' id='push1'><block xmlns='urn:xmpp:blocking'><item jid='x@example.org'/></block></iq>\
         <iq type='get' id='q1' from='bob@example.com/x'><query xmlns='jabber:iq:version'/></iq>\
         <iq type='get' id='q2' from='bob@example.com/x'><time xmlns='urn:xmpp:time'/></iq>\
         <iq type='get' id='q3' from='bob@example.com/x'><query xmlns='jabber:iq:time'/></iq>\
         <iq type='get' id='q4' from='bob@example.com/x'><query xmlns='jabber:iq:last'/></iq>",
        wire_id(3),
        wire_id(4),
        wire_id(4),
        wire_id(5),
        wire_id(6),
    ));
    drain(&mut h);
    // The update query and the block-list commands are never answered.
    h.advance(Duration::from_secs(61));
    drain(&mut h);
    let records = std::iter::from_fn(|| h.client.poll_capture()).collect();
    (events, records)
}

#[test]
fn account_services_replay_to_the_same_events_and_bytes() {
    let (events, records) = run();
    for kind in [
        "Vcard",
        "VcardSaved",
        "PrivateData",
        "PrivateSaved",
        "Spoofed",
        "Failed",
    ] {
        assert!(
            events.iter().any(|e| e.contains(&format!("{kind} "))),
            "no {kind} in {events:#?}"
        );
    }
    let mut file = FILE_HEADER.as_bytes().to_vec();
    for r in &records {
        replay::write_record(&mut file, r);
    }
    let read = replay::parse(&file).expect("the file reads back");
    assert_eq!(read, records);
    let sent: Vec<String> = records
        .iter()
        .filter(|r| r.kind == RecordKind::Sent)
        .map(|r| String::from_utf8_lossy(&r.data).into_owned())
        .collect();
    for answer in [
        "<name>jabber</name>",
        "<tzo>+01:30</tzo><utc>2023-11-14T22:13:21.500Z</utc>",
        "<utc>20231114T22:13:21</utc><tz>X</tz>",
        "seconds='3'",
    ] {
        assert!(
            sent.iter().any(|s| s.contains(answer)),
            "{answer} not in {sent:#?}"
        );
    }
    for options in [Options::default(), Options::chunked(1), Options::chunked(7)] {
        let report = replay::replay(&records, &options);
        assert_eq!(report.difference, None, "{options:?}");
        assert!(!report.incomplete);
        assert_eq!(report.events, events, "{options:?}");
        assert_eq!(report.sent, sent, "{options:?}");
    }
}

#[test]
fn a_replay_with_another_wall_clock_differs() {
    let (_, mut records) = run();
    let set_utc = records
        .iter_mut()
        .find(|r| r.kind == RecordKind::Command && r.data.starts_with(b"<set-utc"))
        .expect("the wall clock was captured");
    set_utc.data = String::from_utf8_lossy(&set_utc.data)
        .replace("T22:13:20Z", "T22:14:20Z")
        .into_bytes();
    let diff = replay::replay(&records, &Options::default())
        .difference
        .expect("the time answers differ");
    assert_eq!(diff.kind, RecordKind::Sent);
    assert!(diff.found.contains("22:14:21"), "{diff:?}");
}
