//! The file-transfer commands in a capture: a session that offers a URL, answers an offer
//! made to it, searches for an upload service and asks it for a slot replays to the same
//! events and the same bytes, whole and in pieces.

mod support;

use std::num::NonZeroU64;

use jabber_proto::client::{CaptureRecord, Config, Event, RecordKind, TransferEvent};
use jabber_proto::features::files::{OobOffer, OobRefusal, UploadFile};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::replay::{self, FILE_HEADER, Options};
use jabber_proto::stanza::ext::Oob;
use support::{CLASSIC_HEADER, Harness, SEED, wire_id};

fn config() -> Config {
    let mut c = Config::new("example.com", NonZeroU64::new(SEED).expect("non-zero"));
    c.version = None;
    c.capture = true;
    c.oob_offers = true;
    c.fetch_roster = false;
    c.initial_presence = false;
    c.allow_plaintext = true;
    // The virtual clock jumps minutes: no keepalive, no dead-peer verdict.
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    c
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

/// Drains what the client sent, and its events (as text, the offers kept).
fn drain(h: &mut Harness, events: &mut Vec<String>, offers: &mut Vec<OobOffer>) {
    h.sent();
    for e in h.events() {
        events.push(format!("{e:?}"));
        if let Event::Transfer(TransferEvent::Offer(o)) = e {
            offers.push(*o);
        }
    }
}

#[test]
fn file_transfer_replays_to_the_same_events_and_bytes() {
    let mut h = Harness::new(config());
    let mut events: Vec<String> = Vec::new();
    let mut offers = Vec::new();
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
    drain(&mut h, &mut events, &mut offers);

    let bob = Jid::parse("bob@example.com/phone").expect("jid");
    let oob = Oob {
        url: "https://example.org/a.txt".into(),
        desc: None,
    };
    h.client.offer_oob(now, &bob, &oob).expect("offered");
    h.client.find_upload_service(now).expect("search");
    let late = h
        .client
        .offer_oob_within(now, &bob, &oob, std::time::Duration::from_secs(300))
        .expect("offered");
    let service = Jid::parse("upload.example.com").expect("jid");
    h.client
        .request_upload_slot(now, &service, &UploadFile::new("a.txt", 3))
        .expect("asked");
    // A refused command is captured too.
    assert!(h.client.offer_oob(now, &bob.to_bare(), &oob).is_err());
    drain(&mut h, &mut events, &mut offers);
    h.server(&format!(
        "<iq type='result' id='{}' from='bob@example.com/phone'/>\
         <iq type='result' id='{}' from='example.com'>\
         <query xmlns='http://jabber.org/protocol/disco#items'><item jid='upload.example.com'/></query></iq>\
         <iq type='result' id='{}' from='upload.example.com'><slot xmlns='urn:xmpp:http:upload:0'>\
         <put url='https://up.example.com/a.txt'><header name='Cookie'>c=1</header></put>\
         <get url='https://dl.example.com/a.txt'/></slot></iq>\
         <iq type='set' id='o1' from='romeo@example.net/orchard'>\
         <query xmlns='jabber:iq:oob'><url>http://example.net/v.txt</url></query></iq>\
         <iq type='set' id='o2' from='romeo@example.net/orchard'>\
         <query xmlns='jabber:iq:oob'><url>http://example.net/w.txt</url></query></iq>",
        wire_id(3),
        wire_id(4),
        wire_id(6),
    ));
    drain(&mut h, &mut events, &mut offers);
    h.server(&format!(
        "<iq type='result' id='{}' from='upload.example.com'><query xmlns='http://jabber.org/protocol/disco#info'>\
         <feature var='urn:xmpp:http:upload:0'/></query></iq>",
        wire_id(8),
    ));
    // The long offer times out at its own deadline, after the usual one.
    h.now = h.now + std::time::Duration::from_secs(299);
    h.client.handle_timeout(h.now);
    drain(&mut h, &mut events, &mut offers);
    assert!(!events.iter().any(|e| e.contains("OfferRefused")));
    h.now = h.now + std::time::Duration::from_secs(2);
    h.client.handle_timeout(h.now);
    drain(&mut h, &mut events, &mut offers);
    assert!(
        events
            .iter()
            .any(|e| e.contains(&format!("OfferRefused {{ id: {late:?}")))
    );
    let now = h.now;
    assert_eq!(offers.len(), 2);
    h.client.accept_oob(now, &offers[0]).expect("accepted");
    h.client
        .refuse_oob(now, &offers[1], OobRefusal::Declined)
        .expect("refused");
    drain(&mut h, &mut events, &mut offers);
    for kind in ["OfferAccepted", "Slot ", "UploadService", "Offer("] {
        assert!(
            events.iter().any(|e| e.contains(kind)),
            "no {kind} in {events:#?}"
        );
    }
    // Recorded and re-issued as given: a URL with spaces around it, an empty description.
    let loose = Oob {
        url: " https://example.org/b.txt ".into(),
        desc: Some(String::new()),
    };
    h.client.offer_oob(now, &bob, &loose).expect("offered");
    let blank = Oob {
        url: "  ".into(),
        desc: None,
    };
    assert_eq!(
        h.client.offer_oob(now, &bob, &blank),
        Err(jabber_proto::client::Error::NoUrl)
    );
    drain(&mut h, &mut events, &mut offers);
    let records: Vec<CaptureRecord> = std::iter::from_fn(|| h.client.poll_capture()).collect();
    check(&events, &records);
}
