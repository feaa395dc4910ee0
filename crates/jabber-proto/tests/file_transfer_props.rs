//! Property tests for the file-transfer payloads: slots, slot refusals and iq:oob
//! offers read from hostile input never panic and keep only what the rules allow (PUT
//! headers from the XEP's list, without line breaks; `http`/`https` URLs); what we
//! write reads back as the same value.

mod support;

use std::num::NonZeroU64;

use jabber_proto::client::{Config, Event, TransferEvent};
use jabber_proto::features::files::oob::{offer_query, read_query};
use jabber_proto::features::files::{PutHeader, UploadError, UploadFile, UploadSlot};
use jabber_proto::stanza::ext::Oob;
use jabber_proto::stream::{Item, Limits, StreamParser, Writer};
use jabber_proto::xml::Element;
use proptest::prelude::*;
use support::{Harness, SEED, wire_id};

/// `el` as the client writes it inside its stream, parsed back.
fn write_parse(el: &Element) -> Element {
    let mut bytes = b"<stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams'>"
        .to_vec();
    Writer::new("jabber:client").element(&mut bytes, el.root());
    let mut p = StreamParser::new(Limits::default());
    p.push(&bytes);
    assert!(matches!(p.next_item(), Some(Ok(Item::Header(_)))));
    match p.next_item() {
        Some(Ok(Item::Element(back))) => back,
        other => panic!("{other:?} for {el}"),
    }
}

/// Text with what XML must escape, line breaks, spaces and non-ASCII.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 <>&'\"\r\nψé:/%]{0,16}"
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Authorization".to_string()),
        Just("COOKIE".to_string()),
        Just("expires".to_string()),
        Just("Host".to_string()),
        Just("Content-Length".to_string()),
        "[A-Za-z-]{1,12}",
    ]
}

fn url() -> impl Strategy<Value = String> {
    prop_oneof![
        "https://[a-z.]{1,10}/[a-zA-Z0-9%._-]{0,12}",
        "http://[a-z.]{1,10}:[0-9]{1,5}/[a-z]{0,6}",
        "(ftp|file|javascript|HTTPS|xmpp):[a-z/ ]{0,10}",
        text(),
    ]
}

fn slot_element(put: &str, get: &str, headers: &[(String, String)]) -> Element {
    let ns = "urn:xmpp:http:upload:0";
    let mut put_el = Element::builder("put", ns).attr("url", put);
    for (name, value) in headers {
        put_el = put_el.child(
            Element::builder("header", ns)
                .attr("name", name)
                .text(value),
        );
    }
    Element::builder("slot", ns)
        .child(put_el)
        .child(Element::builder("get", ns).attr("url", get))
        .build()
        .expect("a slot")
}

fn is_web(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && url.len() > 8
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Whether a slot with these URLs and headers is usable: web URLs, and credentials only
/// over `https`.
fn usable(put: &str, get: &str, headers: &[(String, String)]) -> bool {
    let secret = headers.iter().any(|(n, _)| {
        matches!(
            PutHeader::from_name(n),
            Some(PutHeader::Authorization | PutHeader::Cookie)
        )
    });
    is_web(put) && is_web(get) && (!secret || put.to_ascii_lowercase().starts_with("https://"))
}

proptest! {
    #[test]
    fn slots_keep_only_allowed_headers_without_line_breaks(
        put in url(),
        get in url(),
        headers in proptest::collection::vec((header_name(), text()), 0..6),
    ) {
        let el = write_parse(&slot_element(&put, &get, &headers));
        let slot = UploadSlot::from_element(el.root());
        if usable(&put, &get, &headers) {
            let slot = slot.expect("a slot with web URLs reads");
            prop_assert_eq!(&slot.put_url, &put);
            prop_assert_eq!(&slot.get_url, &get);
            let expected: Vec<(PutHeader, String)> = headers
                .iter()
                .filter_map(|(n, v)| {
                    Some((PutHeader::from_name(n)?, v.replace(['\r', '\n'], "")))
                })
                .collect();
            prop_assert_eq!(&slot.put_headers, &expected);
            for (_, v) in &slot.put_headers {
                prop_assert!(!v.contains('\r') && !v.contains('\n'));
            }
        } else {
            prop_assert_eq!(slot, None);
        }
    }

    #[test]
    fn offers_we_write_read_back(url in text(), desc in proptest::option::of(text())) {
        let oob = Oob { url: url.clone(), desc: desc.clone() };
        let back = write_parse(&offer_query(&oob, None).expect("buildable"));
        let read = read_query(back.root());
        // The URL and description are read trimmed; an empty URL is no offer.
        let trimmed = url.trim();
        if trimmed.is_empty() {
            prop_assert_eq!(read, None);
        } else {
            let read = read.expect("an offer");
            prop_assert_eq!(read.url, trimmed);
            let desc = desc.as_deref().map(str::trim).filter(|d| !d.is_empty()).map(String::from);
            prop_assert_eq!(read.desc, desc);
        }
    }

    #[test]
    fn slot_requests_read_back(name in text(), size in any::<u64>(), kind in proptest::option::of(text())) {
        let mut file = UploadFile::new(&name, size);
        file.content_type = kind;
        let back = write_parse(&file.request().expect("buildable"));
        // The writer escapes what attribute normalisation would change: exact.
        prop_assert_eq!(UploadFile::from_request(back.root()), Some(file));
    }

    /// Any reply to a slot request, from the service, ends it with exactly one typed
    /// event and never panics.
    #[test]
    fn any_slot_reply_gives_one_event(
        body in "[a-z<>/='\" :]{0,60}",
        error in any::<bool>(),
        real in proptest::option::of((url(), url(), proptest::collection::vec((header_name(), text()), 0..4))),
    ) {
        let mut c = Config::new("example.com", NonZeroU64::new(SEED).expect("non-zero"));
        c.version = None;
        c.fetch_roster = false;
        c.initial_presence = false;
        let mut h = Harness::logged_in(c);
        let now = h.now;
        let service = jabber_proto::jid::Jid::parse("upload.example.com").expect("jid");
        h.client
            .request_upload_slot(now, &service, &UploadFile::new("a", 1))
            .expect("asked");
        h.sent();
        let inner = match (&real, error) {
            (_, true) => format!(
                "<error type='cancel'><x xmlns='urn:xmpp:http:upload:0'>{}</x></error>",
                escape(&body)
            ),
            // A real slot, with <put>, <header/>s and <get>.
            (Some((put, get, headers)), false) => slot_element(put, get, headers).to_string(),
            (None, false) => format!("<slot xmlns='urn:xmpp:http:upload:0'>{}</slot>", escape(&body)),
        };
        let kind = if error { "error" } else { "result" };
        h.server(&format!(
            "<iq type='{kind}' id='{}' from='upload.example.com'>{inner}</iq>",
            wire_id(3)
        ));
        let events = h.events();
        prop_assert_eq!(events.len(), 1);
        let one = matches!(
            &events[0],
            Event::Transfer(TransferEvent::Slot { .. } | TransferEvent::SlotFailed { .. })
        );
        prop_assert!(one);
        if let (Some((put, get, headers)), false) = (&real, error) {
            match &events[0] {
                Event::Transfer(TransferEvent::Slot { slot, .. }) => {
                    prop_assert!(usable(put, get, headers));
                    prop_assert_eq!(&slot.put_url, put);
                    prop_assert_eq!(&slot.get_url, get);
                }
                Event::Transfer(TransferEvent::SlotFailed { error, .. }) => {
                    prop_assert!(!usable(put, get, headers));
                    prop_assert_eq!(error, &UploadError::Malformed);
                }
                other => prop_assert!(false, "{:?}", other),
            }
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
