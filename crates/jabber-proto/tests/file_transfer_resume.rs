//! File-transfer requests across a dead connection (XEP-0198): an offer and a slot
//! request in flight are carried to the connection that resumes the session, their
//! replies reach the same handles (and the capture of it replays); after a failed
//! resumption the unacknowledged one goes out again and the acknowledged one fails.

mod support;

use std::num::NonZeroU64;
use std::time::Duration;

use jabber_proto::client::{CaptureRecord, Config, Event, IqId, TransferEvent};
use jabber_proto::features::files::{UploadError, UploadFile};
use jabber_proto::features::stream_management::Resumption;
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::replay;
use jabber_proto::stanza::ext::Oob;
use support::{Harness, SEED, SERVER_HEADER, wire_id};

const SM: &str = "urn:xmpp:sm:3";
const PLAIN: &str = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
    <mechanism>PLAIN</mechanism></mechanisms></stream:features>";
const BIND_AND_SM: &str = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>\
    <sm xmlns='urn:xmpp:sm:3'/></stream:features>";

fn config() -> Config {
    let mut c = Config::new("example.com", NonZeroU64::new(SEED).expect("non-zero"));
    c.version = Some("1.0".into());
    c.transport_encrypted = true;
    c.fetch_roster = false;
    c.initial_presence = false;
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    c.iq_timeout = Duration::from_secs(30);
    c.capture = true;
    c
}

/// Authenticated by PLAIN (logging in, or resuming `resumption`), the restarted
/// stream's header in.
fn authenticated(resumption: Option<Resumption>) -> Harness {
    let mut h = Harness::new(config());
    let now = h.now;
    let creds = Credentials::new("alice", "pw", "desk");
    match resumption {
        None => h.client.login(now, creds).expect("login starts"),
        Some(r) => h.client.resume(now, creds, r).expect("resume starts"),
    }
    h.server(SERVER_HEADER);
    h.server(PLAIN);
    h.server("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    h.server(SERVER_HEADER);
    h.sent();
    h.events();
    h
}

fn bind_result(n: u64) -> String {
    format!(
        "<iq type='result' id='{}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
         <jid>alice@example.com/desk</jid></bind></iq>",
        wire_id(n)
    )
}

fn bob() -> Jid {
    Jid::parse("bob@example.com/phone").expect("a JID")
}

fn upload() -> Jid {
    Jid::parse("upload.example.com").expect("a JID")
}

/// A session that died with a slot request (acknowledged by the server) and an offer
/// (not acknowledged) waiting for replies.
fn died_with_transfers() -> (Resumption, IqId, IqId) {
    let mut h = authenticated(None);
    h.server(BIND_AND_SM);
    h.server(&bind_result(1));
    h.server(&format!("<enabled xmlns='{SM}' id='sm-1' resume='true'/>"));
    h.sent();
    h.events();
    let now = h.now;
    let slot = h
        .client
        .request_upload_slot(now, &upload(), &UploadFile::new("a.bin", 3))
        .expect("asked");
    h.server(&format!("<a xmlns='{SM}' h='1'/>"));
    let oob = Oob {
        url: "https://example.org/a.bin".into(),
        desc: None,
    };
    let offer = h.client.offer_oob(now, &bob(), &oob).expect("offered");
    h.sent();
    h.client.handle_reset(now);
    let r = h.client.resumption().expect("resumable");
    let carried: Vec<_> = r.in_flight.iter().map(|i| i.id()).collect();
    assert_eq!(carried, [slot, offer]);
    (r, slot, offer)
}

#[test]
fn carried_transfers_are_answered_after_resumption_and_replay() {
    let (r, slot, offer) = died_with_transfers();
    let mut h = authenticated(Some(r));
    h.server(BIND_AND_SM);
    h.server(&format!("<resumed xmlns='{SM}' previd='sm-1' h='1'/>"));
    h.sent();
    h.events();
    h.server(&format!(
        "<iq type='result' id='{}' from='upload.example.com'><slot xmlns='urn:xmpp:http:upload:0'>\
         <put url='https://up.example.com/a.bin'/><get url='https://dl.example.com/a.bin'/></slot></iq>\
         <iq type='result' id='{}' from='bob@example.com/phone'/>",
        wire_id(2),
        wire_id(3)
    ));
    let events = h.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Transfer(TransferEvent::Slot { id, .. }) if *id == slot)),
        "{events:?}"
    );
    assert!(
        events.contains(&Event::Transfer(TransferEvent::OfferAccepted { id: offer })),
        "{events:?}"
    );
    // The resumed session's capture, with its carried transfers, replays.
    let records: Vec<CaptureRecord> = std::iter::from_fn(|| h.client.poll_capture()).collect();
    let report = replay::replay(&records, &replay::Options::default());
    assert_eq!(report.difference, None);
    assert!(!report.incomplete);
    assert!(report.events.iter().any(|e| e.contains("OfferAccepted")));
}

#[test]
fn after_a_failed_resumption_the_unacknowledged_offer_goes_out_again() {
    let (r, slot, offer) = died_with_transfers();
    let mut h = authenticated(Some(r));
    h.server(BIND_AND_SM);
    h.sent();
    h.server(&format!(
        "<failed xmlns='{SM}'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>"
    ));
    h.sent();
    h.server(&bind_result(4));
    let wire = h.sent();
    assert!(
        wire.contains(&format!("id='{}' to='bob@example.com/phone'", wire_id(3))),
        "{wire}"
    );
    assert!(!wire.contains(&format!("id='{}'", wire_id(2))), "{wire}");
    let events = h.events();
    assert!(
        events.contains(&Event::Transfer(TransferEvent::SlotFailed {
            id: slot,
            error: UploadError::Timeout
        })),
        "{events:?}"
    );
    h.server(&format!(
        "<iq type='result' id='{}' from='bob@example.com/phone'/>",
        wire_id(3)
    ));
    assert!(
        h.events()
            .contains(&Event::Transfer(TransferEvent::OfferAccepted { id: offer }))
    );
}
