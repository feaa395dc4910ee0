//! File transfer (§8) on a scripted server: the iq:oob offers we make and those made to
//! us, the upload service search and slot requests (XEP-0363), byte-exact for what we
//! send, typed for what we receive; replies from the wrong address dropped and reported;
//! the x:oob message payload both ways.

mod support;

use std::num::NonZeroU64;
use std::time::Duration;

use jabber_proto::client::{Config, Error, Event, TransferEvent};
use jabber_proto::features::files::{
    MAX_UPLOAD_CANDIDATES, OobRefusal, PutHeader, UploadError, UploadFile, UploadService,
    UploadSlot,
};
use jabber_proto::jid::Jid;
use jabber_proto::stanza::ext::Oob;
use jabber_proto::stanza::{Message, Stanza, StanzaCondition};
use jabber_proto::time::Timestamp;
use support::{Harness, SEED, wire_id};

fn config() -> Config {
    let mut c = Config::new(
        "example.com",
        NonZeroU64::new(SEED).expect("a non-zero seed"),
    );
    c.version = None;
    c.fetch_roster = false;
    c.initial_presence = false;
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    c.oob_offers = true;
    c
}

fn jid(s: &str) -> Jid {
    Jid::parse(s).expect("a valid JID")
}

fn transfers(h: &mut Harness) -> Vec<TransferEvent> {
    h.events()
        .into_iter()
        .map(|e| match e {
            Event::Transfer(t) => t,
            other => panic!("unexpected event {other:?}"),
        })
        .collect()
}

fn rose() -> Oob {
    Oob {
        url: "https://example.org/rose.jpg".into(),
        desc: Some("A rose & a thorn".into()),
    }
}

#[test]
fn an_offer_goes_to_a_full_address_byte_exact_and_its_acceptance_is_reported() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let bob = jid("bob@example.com/phone");
    let id = h.client.offer_oob(now, &bob, &rose()).expect("offered");
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}' to='bob@example.com/phone'><query xmlns='jabber:iq:oob'>\
             <url>https://example.org/rose.jpg</url><desc>A rose &amp; a thorn</desc></query></iq>",
            wire_id(3)
        )
    );
    // Someone else answering in Bob's name is reported and changes nothing.
    h.server(&format!(
        "<iq type='result' id='{}' from='mallory@example.com/x'/>",
        wire_id(3)
    ));
    assert_eq!(
        transfers(&mut h),
        [TransferEvent::Spoofed {
            id,
            from: Some(jid("mallory@example.com/x"))
        }]
    );
    h.server(&format!(
        "<iq type='result' id='{}' from='bob@example.com/phone'/>",
        wire_id(3)
    ));
    assert_eq!(transfers(&mut h), [TransferEvent::OfferAccepted { id }]);
    assert_eq!(h.sent(), "");
}

#[test]
fn a_refused_offer_carries_its_error_and_a_silent_receiver_times_out() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let bob = jid("bob@example.com/phone");
    let declined = h.client.offer_oob(now, &bob, &rose()).expect("offered");
    let lost = h.client.offer_oob(now, &bob, &rose()).expect("offered");
    h.sent();
    h.server(&format!(
        "<iq type='error' id='{}' from='bob@example.com/phone'><error code='406' type='modify'>\
         <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        wire_id(3)
    ));
    match transfers(&mut h).as_slice() {
        [TransferEvent::OfferRefused { id, error: Some(e) }] => {
            assert_eq!(*id, declined);
            assert_eq!(e.condition, StanzaCondition::NotAcceptable);
            assert_eq!(e.code, Some(406));
        }
        other => panic!("{other:?}"),
    }
    h.advance(Duration::from_secs(61));
    assert_eq!(
        transfers(&mut h),
        [TransferEvent::OfferRefused {
            id: lost,
            error: None
        }]
    );
}

#[test]
fn an_offer_may_wait_longer_than_a_protocol_exchange() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let bob = jid("bob@example.com/phone");
    let id = h
        .client
        .offer_oob_within(now, &bob, &rose(), Duration::from_secs(600))
        .expect("offered");
    h.sent();
    h.advance(Duration::from_secs(599));
    assert!(
        h.events().is_empty(),
        "still waiting after the usual IQ timeout"
    );
    h.advance(Duration::from_secs(1));
    assert_eq!(
        transfers(&mut h),
        [TransferEvent::OfferRefused { id, error: None }]
    );
}

#[test]
fn an_offer_needs_a_resource_and_a_session() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    assert_eq!(
        h.client.offer_oob(now, &jid("bob@example.com"), &rose()),
        Err(Error::NotFullJid)
    );
    assert_eq!(h.sent(), "");
    let mut fresh = Harness::open(config());
    let now = fresh.now;
    assert_eq!(
        fresh
            .client
            .offer_oob(now, &jid("bob@example.com/phone"), &rose()),
        Err(Error::WrongPhase)
    );
}

#[test]
fn an_offer_made_to_us_is_an_event_answered_byte_exact() {
    let mut h = Harness::logged_in(config());
    let offer_xml = "<iq type='set' id='o1' from='romeo@example.net/orchard' to='alice@example.com/desk'>\
         <query xmlns='jabber:iq:oob' sid='s7'><url> http://example.net/verse.txt </url>\
         <desc>A verse</desc></query></iq>";
    for (refusal, expected) in [
        (
            None,
            "<iq type='result' id='o1' to='romeo@example.net/orchard'/>".to_string(),
        ),
        (
            Some(OobRefusal::Declined),
            "<iq type='error' id='o1' to='romeo@example.net/orchard'><error type='modify' code='406'>\
             <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
                .to_string(),
        ),
        (
            Some(OobRefusal::NotFound),
            "<iq type='error' id='o1' to='romeo@example.net/orchard'><error type='cancel' code='404'>\
             <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
                .to_string(),
        ),
    ] {
        h.server(offer_xml);
        assert_eq!(h.sent(), "", "nothing is answered before the application decides");
        let offer = match transfers(&mut h).pop() {
            Some(TransferEvent::Offer(offer)) => offer,
            other => panic!("{other:?}"),
        };
        assert_eq!(offer.from(), &jid("romeo@example.net/orchard"));
        assert_eq!(offer.url(), "http://example.net/verse.txt");
        assert_eq!(offer.desc(), Some("A verse"));
        assert_eq!(offer.sid(), Some("s7"));
        let now = h.now;
        match refusal {
            None => h.client.accept_oob(now, &offer).expect("accepted"),
            Some(r) => h.client.refuse_oob(now, &offer, r).expect("refused"),
        }
        assert_eq!(h.sent(), expected);
    }
}

#[test]
fn offers_are_answered_service_unavailable_unless_the_application_takes_them() {
    let mut c = config();
    c.oob_offers = false;
    let mut h = Harness::logged_in(c);
    h.server(
        "<iq type='set' id='o4' from='romeo@example.net/orchard'>\
         <query xmlns='jabber:iq:oob'><url>http://x/y</url></query></iq>",
    );
    assert_eq!(
        h.sent(),
        "<iq type='error' id='o4' to='romeo@example.net/orchard'><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    );
    assert!(transfers(&mut h).is_empty());
    assert!(
        !Config::new("example.com", NonZeroU64::new(SEED).expect("seed")).oob_offers,
        "off by default"
    );
}

#[test]
fn a_malformed_offer_is_refused_without_an_event() {
    let mut h = Harness::logged_in(config());
    h.server(
        "<iq type='set' id='o2' from='romeo@example.net/orchard'>\
         <query xmlns='jabber:iq:oob'><desc>no URL</desc></query></iq>\
         <iq type='get' id='o3' from='romeo@example.net/orchard'>\
         <query xmlns='jabber:iq:oob'><url>http://x/y</url></query></iq>",
    );
    let sent = h.sent();
    for id in ["o2", "o3"] {
        assert!(
            sent.contains(&format!(
                "<iq type='error' id='{id}' to='romeo@example.net/orchard'><error type='modify'>\
                 <bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
            )),
            "{sent}"
        );
    }
    assert!(h.events().is_empty());
}

#[test]
fn the_upload_service_search_asks_the_server_and_its_items_and_reports_the_first_found() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let search = h.client.find_upload_service(now).expect("searching");
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='get' id='{}' to='example.com'>\
             <query xmlns='http://jabber.org/protocol/disco#items'/></iq>",
            wire_id(3)
        )
    );
    h.server(&format!(
        "<iq type='result' id='{}' from='example.com'><query xmlns='http://jabber.org/protocol/disco#items'>\
         <item jid='conference.example.com'/><item jid='upload.example.com' name='Upload'/>\
         <item jid='example.com' node='announce'/></query></iq>",
        wire_id(3)
    ));
    let info = |n: u64, to: &str| {
        format!(
            "<iq type='get' id='{}' to='{to}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
            wire_id(n)
        )
    };
    assert_eq!(
        h.sent(),
        [
            info(4, "example.com"),
            info(5, "conference.example.com"),
            info(6, "upload.example.com")
        ]
        .concat()
    );
    assert!(h.events().is_empty());
    h.server(&format!(
        "<iq type='result' id='{}' from='example.com'><query xmlns='http://jabber.org/protocol/disco#info'>\
         <identity category='server' type='im'/><feature var='http://jabber.org/protocol/disco#info'/>\
         </query></iq>",
        wire_id(4)
    ));
    assert!(h.events().is_empty(), "other candidates are still asked");
    h.server(&format!(
        "<iq type='result' id='{}' from='upload.example.com'><query xmlns='http://jabber.org/protocol/disco#info'>\
         <identity category='store' type='file'/><feature var='urn:xmpp:http:upload:0'/>\
         <x xmlns='jabber:x:data' type='result'>\
         <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:http:upload:0</value></field>\
         <field var='max-file-size'><value>5242880</value></field></x></query></iq>",
        wire_id(6)
    ));
    assert_eq!(
        transfers(&mut h),
        [TransferEvent::UploadService {
            id: search,
            service: Some(Box::new(UploadService {
                jid: jid("upload.example.com"),
                max_file_size: Some(5_242_880)
            }))
        }]
    );
    // The search is over: a late answer, or the silence of the others, says nothing more.
    h.server(&format!(
        "<iq type='result' id='{}' from='conference.example.com'><query xmlns='http://jabber.org/protocol/disco#info'>\
         <feature var='urn:xmpp:http:upload:0'/></query></iq>",
        wire_id(5)
    ));
    h.advance(Duration::from_secs(120));
    assert!(h.events().is_empty());
    assert_eq!(h.client.pending_iqs(), 0);
}

#[test]
fn a_search_without_a_service_ends_once_with_none_and_asks_a_bounded_number() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let search = h.client.find_upload_service(now).expect("searching");
    h.sent();
    let items: String = (0..100)
        .map(|i| format!("<item jid='svc{i}.example.com'/>"))
        .collect();
    h.server(&format!(
        "<iq type='result' id='{}' from='example.com'><query xmlns='http://jabber.org/protocol/disco#items'>{items}</query></iq>",
        wire_id(3)
    ));
    let asked = h.sent().matches("disco#info").count();
    assert_eq!(asked, MAX_UPLOAD_CANDIDATES);
    // One refuses, the rest never answer.
    h.server(&format!(
        "<iq type='error' id='{}' from='example.com'><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        wire_id(4)
    ));
    assert!(h.events().is_empty());
    h.advance(Duration::from_secs(61));
    assert_eq!(
        transfers(&mut h),
        [TransferEvent::UploadService {
            id: search,
            service: None
        }]
    );
}

#[test]
fn a_refused_item_list_still_asks_the_server_itself() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let search = h.client.find_upload_service(now).expect("searching");
    h.sent();
    h.server(&format!(
        "<iq type='error' id='{}' from='example.com'><error type='cancel'>\
         <feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        wire_id(3)
    ));
    assert!(
        h.sent()
            .contains("to='example.com'><query xmlns='http://jabber.org/protocol/disco#info'/>")
    );
    // The server's own domain answers without `from`, as our own server may.
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='http://jabber.org/protocol/disco#info'>\
         <feature var='urn:xmpp:http:upload:0'/></query></iq>",
        wire_id(4)
    ));
    assert_eq!(
        transfers(&mut h),
        [TransferEvent::UploadService {
            id: search,
            service: Some(Box::new(UploadService {
                jid: jid("example.com"),
                max_file_size: None
            }))
        }]
    );
}

fn slot_request(h: &mut Harness) -> jabber_proto::client::IqId {
    let now = h.now;
    let file = UploadFile::new("très cool.jpg", 23456).with_content_type("image/jpeg");
    let id = h
        .client
        .request_upload_slot(now, &jid("upload.example.com"), &file)
        .expect("asked");
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='get' id='{}' to='upload.example.com'><request xmlns='urn:xmpp:http:upload:0' \
             filename='très cool.jpg' size='23456' content-type='image/jpeg'/></iq>",
            wire_id(3)
        )
    );
    id
}

#[test]
fn a_slot_request_is_byte_exact_and_its_slot_keeps_only_the_allowed_headers() {
    let mut h = Harness::logged_in(config());
    let id = slot_request(&mut h);
    let slot = format!(
        "<iq type='result' id='{}' from='{{from}}'><slot xmlns='urn:xmpp:http:upload:0'>\
         <put url='https://upload.example.com/put/tr%C3%A8s.jpg'>\
         <header name='Authorization'>Basic Base64String==</header>\
         <header name='cookie'>foo=bar;\r\n user=romeo</header>\
         <header name='Host'>evil.example</header>\
         <header name='Expires'>Wed, 21 Oct 2026 07:28:00 GMT</header></put>\
         <get url='https://download.example.com/tr%C3%A8s.jpg'/></slot></iq>",
        wire_id(3)
    );
    // A slot from anyone but the service asked is dropped and reported.
    h.server(&slot.replace("{from}", "upload.evil.example"));
    assert_eq!(
        transfers(&mut h),
        [TransferEvent::Spoofed {
            id,
            from: Some(jid("upload.evil.example"))
        }]
    );
    h.server(&slot.replace("{from}", "upload.example.com"));
    assert_eq!(
        transfers(&mut h),
        [TransferEvent::Slot {
            id,
            slot: Box::new(UploadSlot {
                put_url: "https://upload.example.com/put/tr%C3%A8s.jpg".into(),
                put_headers: vec![
                    (PutHeader::Authorization, "Basic Base64String==".into()),
                    (PutHeader::Cookie, "foo=bar; user=romeo".into()),
                    (PutHeader::Expires, "Wed, 21 Oct 2026 07:28:00 GMT".into()),
                ],
                get_url: "https://download.example.com/tr%C3%A8s.jpg".into(),
            })
        }]
    );
}

fn slot_failure(reply: &str) -> UploadError {
    let mut h = Harness::logged_in(config());
    let id = slot_request(&mut h);
    if reply.is_empty() {
        h.advance(Duration::from_secs(61));
    } else {
        h.server(&reply.replace("{id}", &wire_id(3)));
    }
    match transfers(&mut h).as_slice() {
        [TransferEvent::SlotFailed { id: i, error }] if *i == id => error.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn slot_refusals_are_typed() {
    let too_large = slot_failure(
        "<iq type='error' id='{id}' from='upload.example.com'><error type='modify'>\
         <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>File too large. The maximum file size is 20000 bytes</text>\
         <file-too-large xmlns='urn:xmpp:http:upload:0'><max-file-size>20000</max-file-size></file-too-large>\
         </error></iq>",
    );
    match too_large {
        UploadError::TooLarge {
            max_file_size,
            error,
        } => {
            assert_eq!(max_file_size, Some(20000));
            assert_eq!(error.condition, StanzaCondition::NotAcceptable);
        }
        other => panic!("{other:?}"),
    }
    let quota = slot_failure(
        "<iq type='error' id='{id}' from='upload.example.com'><error type='wait'>\
         <resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         <retry xmlns='urn:xmpp:http:upload:0' stamp='2026-12-03T23:42:01Z'/></error></iq>",
    );
    assert!(
        matches!(quota, UploadError::Quota { retry: Some(t), .. } if t == Timestamp::parse("2026-12-03T23:42:01Z").unwrap())
    );
    let refused = slot_failure(
        "<iq type='error' id='{id}' from='upload.example.com'><error type='cancel'>\
         <not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
    );
    assert!(
        matches!(refused, UploadError::Refused(e) if e.condition == StanzaCondition::NotAllowed)
    );
    assert_eq!(slot_failure(""), UploadError::Timeout);
    assert_eq!(
        slot_failure("<iq type='result' id='{id}' from='upload.example.com'/>"),
        UploadError::Malformed
    );
    assert_eq!(
        slot_failure(
            "<iq type='result' id='{id}' from='upload.example.com'><slot xmlns='urn:xmpp:http:upload:0'>\
             <put url='file:///etc/passwd'/><get url='https://x.example/y'/></slot></iq>"
        ),
        UploadError::Malformed
    );
    // Credentials never go in cleartext.
    for header in ["Authorization", "cookie"] {
        assert_eq!(
            slot_failure(&format!(
                "<iq type='result' id='{{id}}' from='upload.example.com'><slot xmlns='urn:xmpp:http:upload:0'>\
                 <put url='http://x.example/p'><header name='{header}'>secret</header></put>\
                 <get url='https://x.example/y'/></slot></iq>"
            )),
            UploadError::Malformed,
            "{header}"
        );
    }
}

#[test]
fn a_cleartext_slot_without_credentials_is_taken() {
    let mut h = Harness::logged_in(config());
    let id = slot_request(&mut h);
    h.server(&format!(
        "<iq type='result' id='{}' from='upload.example.com'><slot xmlns='urn:xmpp:http:upload:0'>\
         <put url='http://x.example/p'><header name='Expires'>soon</header></put>\
         <get url='http://x.example/g'/></slot></iq>",
        wire_id(3)
    ));
    match transfers(&mut h).as_slice() {
        [TransferEvent::Slot { id: i, slot }] if *i == id => {
            assert_eq!(slot.put_url, "http://x.example/p");
            assert_eq!(slot.put_headers, vec![(PutHeader::Expires, "soon".into())]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_message_payload_is_written_byte_exact_and_read_back() {
    let m = Message::chat(&jid("bob@example.com"))
        .body("here")
        .oob("https://example.org/rose.jpg", Some("A rose"))
        .build()
        .expect("a message");
    let xml = m.element().to_string();
    assert_eq!(
        xml,
        "<message xmlns='jabber:client' to='bob@example.com' type='chat'><body>here</body>\
         <x xmlns='jabber:x:oob'><url>https://example.org/rose.jpg</url><desc>A rose</desc></x></message>"
    );
    let Ok(Stanza::Message(back)) = Stanza::try_from(m.element().clone()) else {
        panic!("a message")
    };
    assert_eq!(back.oob(), Some(rose_plain()));
}

fn rose_plain() -> Oob {
    Oob {
        url: "https://example.org/rose.jpg".into(),
        desc: Some("A rose".into()),
    }
}
