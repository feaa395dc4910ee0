//! Every vCard and every private-storage value the API can build survives the trip: what
//! the client sends to store it, handed back by the server as the answer to a read, comes
//! out as the same value.

mod support;

use std::num::NonZeroU64;

use jabber_proto::client::{Config, Event, ServiceEvent};
use jabber_proto::features::vcard::{
    Address, Email, Organization, PersonName, Photo, Telephone, Vcard, VcardType,
};
use jabber_proto::xml::Element;
use proptest::prelude::*;
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

/// Text with markup characters, whitespace (a carriage return included) and non-ASCII.
fn text() -> impl Strategy<Value = String> {
    "[ -~\t\n\r\u{e9}\u{4e2d}\u{1f600}]{0,12}"
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text())
}

fn types() -> impl Strategy<Value = Vec<VcardType>> {
    proptest::collection::vec(proptest::sample::select(VcardType::ALL), 0..4)
}

fn photo() -> impl Strategy<Value = Photo> {
    prop_oneof![
        (opt_text(), proptest::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(mime_type, data)| Photo::Binary { mime_type, data }),
        text().prop_map(Photo::External),
    ]
}

fn address() -> impl Strategy<Value = Address> {
    (
        types(),
        [opt_text(), opt_text(), opt_text(), opt_text()],
        [opt_text(), opt_text(), opt_text()],
    )
        .prop_map(
            |(types, [pobox, extended, street, locality], [region, pc, country])| Address {
                types,
                pobox,
                extended,
                street,
                locality,
                region,
                postal_code: pc,
                country,
            },
        )
}

/// Fields this crate does not type: in vcard-temp under other names, or in another
/// namespace, with attributes and children.
fn other_field() -> impl Strategy<Value = Element> {
    (
        prop_oneof![
            "(TITLE|ROLE|DESC|NOTE|X-[A-Z]{1,4})".prop_map(|n| (n, "vcard-temp".to_owned())),
            "[a-z]{1,5}".prop_map(|n| (n, "urn:example:ext".to_owned())),
        ],
        proptest::option::of(text()),
        text(),
    )
        .prop_map(|((name, ns), attr, body)| {
            let mut b = Element::builder(&name, &ns);
            if let Some(v) = attr {
                b = b.attr("kind", &v);
            }
            b.child(Element::builder("part", &ns).text(&body))
                .text(&body)
                .build()
                .expect("a valid element")
        })
}

prop_compose! {
    fn vcard()(
        full_name in opt_text(),
        name in proptest::option::of([opt_text(), opt_text(), opt_text(), opt_text(), opt_text()]),
        nickname in opt_text(),
        photo in proptest::option::of(photo()),
        birthday in opt_text(),
        addresses in proptest::collection::vec(address(), 0..3),
        telephones in proptest::collection::vec((text(), types()), 0..3),
        emails in proptest::collection::vec((text(), types()), 0..3),
        organization in proptest::option::of((text(), proptest::collection::vec(text(), 0..3))),
        url in opt_text(),
        other in proptest::collection::vec(other_field(), 0..3),
    ) -> Vcard {
        let mut v = Vcard::default();
        v.full_name = full_name;
        v.name = name.map(|[family, given, middle, prefix, suffix]| PersonName {
            family, given, middle, prefix, suffix,
        });
        v.nickname = nickname;
        v.photo = photo;
        v.birthday = birthday;
        v.addresses = addresses;
        v.telephones = telephones
            .into_iter()
            .map(|(number, types)| Telephone { number, types })
            .collect();
        v.emails = emails
            .into_iter()
            .map(|(address, types)| Email { address, types })
            .collect();
        v.organization = organization.map(|(name, units)| Organization { name, units });
        v.url = url;
        v.other = other;
        v
    }
}

/// Any element an application might store: a name, a namespace private storage takes,
/// attributes, and children (text, elements in the same or another namespace).
fn private_data() -> impl Strategy<Value = Element> {
    let leaf = ("[a-z]{1,5}", "urn:(a|b):[a-z]{1,3}", text()).prop_map(|(name, ns, body)| {
        Element::builder(&name, &ns)
            .text(&body)
            .build()
            .expect("a valid element")
    });
    (
        "[a-z][a-z0-9-]{0,6}",
        "urn:example:[a-z]{1,4}",
        proptest::collection::btree_map("[a-z]{1,4}", text(), 0..3),
        proptest::collection::vec(prop_oneof![leaf.prop_map(Ok), text().prop_map(Err)], 0..4),
    )
        .prop_map(|(name, ns, attrs, children)| {
            let mut b = Element::builder(&name, &ns);
            for (k, v) in &attrs {
                b = b.attr(k, v);
            }
            for c in children {
                b = match c {
                    Ok(el) => b.child(el),
                    Err(t) => b.text(&t),
                };
            }
            b.build().expect("a valid element")
        })
}

/// What the client sent inside its only IQ: the payload's XML.
fn payload_sent(h: &mut Harness) -> String {
    let sent = h.sent();
    let start = sent.find('>').expect("an IQ") + 1;
    let end = sent.rfind("</iq>").expect("an IQ with a payload");
    sent[start..end].to_owned()
}

fn only_service_event(h: &mut Harness) -> ServiceEvent {
    match h.events().as_slice() {
        [Event::Services(e)] => e.clone(),
        other => panic!("expected one service event, got {other:?}"),
    }
}

/// Any vCard a server or a peer might send: known and unknown fields, in any order and
/// number, known sub-elements and markers where they belong or not, base64 or not.
fn hostile_card() -> impl Strategy<Value = Element> {
    let names = proptest::sample::select(vec![
        "FN", "N", "NICKNAME", "PHOTO", "BDAY", "ADR", "TEL", "EMAIL", "ORG", "URL", "TITLE",
        "FAMILY", "GIVEN", "TYPE", "BINVAL", "EXTVAL", "USERID", "NUMBER", "ORGNAME", "ORGUNIT",
        "HOME", "WORK", "CELL", "LOCALITY", "X-FOO",
    ]);
    let value = prop_oneof![text(), "[A-Za-z0-9+/=\n ]{0,16}"];
    let leaf = (names.clone(), prop::bool::weighted(0.9), value).prop_map(|(name, in_ns, body)| {
        let ns = if in_ns { "vcard-temp" } else { "urn:other" };
        Element::builder(name, ns)
            .text(&body)
            .build()
            .expect("valid")
    });
    let field = (names, proptest::collection::vec(leaf, 0..4)).prop_map(|(name, kids)| {
        Element::builder(name, "vcard-temp")
            .children(kids)
            .build()
            .expect("valid")
    });
    proptest::collection::vec(field, 0..10).prop_map(|fields| {
        Element::builder("vCard", "vcard-temp")
            .children(fields)
            .build()
            .expect("valid")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Reading never fails, and a card read, written back and read again is the card
    /// first read: nothing a client stores back changes what it had read.
    #[test]
    fn any_card_reads_and_writes_back_to_itself(card in hostile_card()) {
        let read = Vcard::from_element(card.root());
        let written = read.to_element().expect("what was read can be written");
        prop_assert_eq!(Vcard::from_element(written.root()), read);
    }

    #[test]
    fn every_vcard_survives_write_then_read(card in vcard()) {
        let mut h = Harness::logged_in(config());
        let now = h.now;
        h.client.vcard_set(now, &card).expect("stored");
        let xml = payload_sent(&mut h);
        let id = h.client.vcard_get(now, None).expect("asked");
        h.sent();
        h.server(&format!("<iq type='result' id='{}'>{xml}</iq>", wire_id(4)));
        prop_assert_eq!(
            only_service_event(&mut h),
            ServiceEvent::Vcard { id, vcard: Box::new(card) }
        );
    }

    #[test]
    fn every_private_value_survives_write_then_read(data in private_data()) {
        let mut h = Harness::logged_in(config());
        let now = h.now;
        h.client.private_set(now, &data).expect("stored");
        let xml = payload_sent(&mut h);
        let id = h.client.private_get(now, data.name(), data.ns()).expect("asked");
        h.sent();
        h.server(&format!("<iq type='result' id='{}'>{xml}</iq>", wire_id(4)));
        prop_assert_eq!(
            only_service_event(&mut h),
            ServiceEvent::PrivateData { id, data: Some(data) }
        );
    }
}
