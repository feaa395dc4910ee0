//! The discovery commands, the discovery config and a registration by data form in a
//! capture: sessions using them replay to the same events and the same bytes, whole and
//! in pieces (the data form's password masked in the capture, as the console shows it).

mod support;

use std::num::NonZeroU64;

use jabber_proto::client::{AccountEvent, CaptureRecord, Config, Event, RecordKind};
use jabber_proto::features::disco::{Discovery, Identity};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::negotiation::register::Field;
use jabber_proto::replay::{self, FILE_HEADER, Options};
use jabber_proto::stanza::Presence;
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
    c.allow_plaintext = true;
    let mut d = Discovery::default();
    d.identity = Identity::new("client", "bot")
        .with_name("replayed")
        .with_lang("en");
    d.features.push("urn:example:app".into());
    d.caps_node = "urn:example:node".into();
    d.max_caps = 7;
    c.discovery = Some(Box::new(d));
    c
}

fn records(h: &mut Harness) -> Vec<CaptureRecord> {
    std::iter::from_fn(|| h.client.poll_capture()).collect()
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
fn discovery_replays_to_the_same_events_and_bytes() {
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
    let juliet = Jid::parse("juliet@example.com/balcony").expect("a JID");
    h.client.disco_info(now, &juliet, Some("n")).expect("sent");
    h.client
        .disco_items(now, &Jid::parse("example.com").expect("a JID"), None)
        .expect("sent");
    h.client
        .send_presence(now, &Presence::available().build().expect("a presence"))
        .expect("sent");
    drain(&mut h);
    h.server(&format!(
        "<iq type='result' id='{}' from='mallory@example.com/x'>\
         <query xmlns='http://jabber.org/protocol/disco#info'/></iq>\
         <iq type='result' id='{}' from='juliet@example.com/balcony'>\
         <query xmlns='http://jabber.org/protocol/disco#info' node='n'>\
         <identity category='client' type='pc'/></query></iq>\
         <iq type='result' id='{}' from='example.com'>\
         <query xmlns='http://jabber.org/protocol/disco#items'>\
         <item jid='muc.example.com'/></query></iq>\
         <iq type='get' id='q1' from='bob@example.com/x'>\
         <query xmlns='http://jabber.org/protocol/disco#info'/></iq>\
         <presence from='bob@example.com/x'><c xmlns='http://jabber.org/protocol/caps' \
         hash='sha-1' node='urn:b' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>",
        wire_id(3),
        wire_id(3),
        wire_id(4),
    ));
    drain(&mut h);
    h.server(&format!(
        "<iq type='result' id='{}' from='bob@example.com/x'>\
         <query xmlns='http://jabber.org/protocol/disco#info'>\
         <identity category='client' name='Exodus 0.9.1' type='pc'/>\
         <feature var='http://jabber.org/protocol/caps'/>\
         <feature var='http://jabber.org/protocol/disco#info'/>\
         <feature var='http://jabber.org/protocol/disco#items'/>\
         <feature var='http://jabber.org/protocol/muc'/></query></iq>",
        wire_id(5),
    ));
    drain(&mut h);
    for kind in ["Info", "Items", "Spoofed", "Capabilities"] {
        assert!(
            events.iter().any(|e| e.contains(&format!("{kind} "))),
            "no {kind} in {events:#?}"
        );
    }
    let records = records(&mut h);
    check(&events, &records);
}

#[test]
fn a_registration_by_data_form_replays_with_its_password_masked() {
    let mut h = Harness::new(config());
    let mut events = Vec::new();
    let now = h.now;
    h.client.request_registration(now).expect("asked");
    h.server(CLASSIC_HEADER);
    h.sent();
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:register'><username/><password/>\
         <x xmlns='jabber:x:data' type='form'>\
         <field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>\
         <field var='username' type='text-single'/>\
         <field var='password' type='text-private'/></x></query></iq>",
        wire_id(1)
    ));
    let mut form = None;
    for e in h.events() {
        if let Event::Account(AccountEvent::RegistrationForm(f)) = &e {
            form = Some(f.clone());
        }
        events.push(format!("{e:?}"));
    }
    let mut form = form.expect("the form");
    form.set(Field::Username, "alice");
    form.set(Field::Password, "s3cret");
    h.client.submit_registration(now, &form).expect("sent");
    h.sent();
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
    h.sent();
    events.extend(h.events().iter().map(|e| format!("{e:?}")));
    let records = records(&mut h);
    let all: Vec<u8> = records.iter().flat_map(|r| r.data.clone()).collect();
    assert!(!String::from_utf8_lossy(&all).contains("s3cret"));
    check(&events, &records);
}
