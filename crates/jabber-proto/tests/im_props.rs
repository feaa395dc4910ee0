//! Every presence and roster value the API can build survives write → parse unchanged
//! (issue 10): the bytes the client would send, parsed back by the stream parser, give
//! the same element and the same typed value; and a presence a contact sends in any
//! chunking gives the same model.

mod support;

use std::num::NonZeroU64;

use jabber_proto::client::Config;
use jabber_proto::features::roster::{self, Roster, RosterItem};
use jabber_proto::jid::Jid;
use jabber_proto::stanza::{Presence, PresenceBuilder, Show, Stanza};
use jabber_proto::stream::{Item, Limits, StreamParser, Writer};
use jabber_proto::xml::Element;
use proptest::prelude::*;
use support::{Harness, SEED};

/// Text XML can carry (any char but the ones XML 1.0 forbids), markup included.
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            4 => proptest::char::range('a', 'z'),
            1 => prop::sample::select(vec!['<', '>', '&', '\'', '"', ' ', 'é', '🜚', '\t']),
            1 => any::<char>().prop_filter("XML chars", |c| {
                matches!(*c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
            }),
        ],
        0..12,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn jid() -> impl Strategy<Value = Jid> {
    (
        "[a-z][a-z0-9.]{0,8}",
        "[a-z]{1,8}\\.(com|net)",
        proptest::option::of("[A-Za-z0-9 ]{1,8}"),
    )
        .prop_map(|(l, d, r)| Jid::new(Some(&l), &d, r.as_deref()).expect("a valid JID"))
}

fn show() -> impl Strategy<Value = Show> {
    prop::sample::select(vec![Show::Away, Show::Chat, Show::Dnd, Show::Xa])
}

fn presence() -> impl Strategy<Value = PresenceBuilder> {
    let base = prop_oneof![
        Just(Presence::available()),
        Just(Presence::unavailable()),
        jid().prop_map(|j| Presence::subscribe(&j)),
        jid().prop_map(|j| Presence::subscribed(&j)),
        jid().prop_map(|j| Presence::unsubscribe(&j)),
        jid().prop_map(|j| Presence::unsubscribed(&j)),
    ];
    (
        base,
        proptest::option::of(jid()),
        proptest::option::of("[a-z0-9]{1,6}"),
        proptest::option::of(show()),
        proptest::option::of(text()),
        proptest::option::of(any::<i8>()),
    )
        .prop_map(|(mut b, to, id, show, status, priority)| {
            if let Some(to) = to {
                b = b.to(&to);
            }
            if let Some(id) = id {
                b = b.id(&id);
            }
            if let Some(show) = show {
                b = b.show(show);
            }
            if let Some(status) = status {
                b = b.status(&status);
            }
            if let Some(p) = priority {
                b = b.priority(p);
            }
            b
        })
}

fn roster_item() -> impl Strategy<Value = RosterItem> {
    (
        jid(),
        proptest::option::of(text()),
        proptest::collection::vec(text(), 0..4),
    )
        .prop_map(|(j, name, groups)| {
            let mut item = RosterItem::new(j.to_bare());
            if let Some(name) = name {
                item = item.with_name(&name);
            }
            for g in groups {
                item = item.with_group(&g);
            }
            item
        })
}

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

proptest! {
    #[test]
    fn presence_survives_write_parse(b in presence()) {
        let p = b.build().expect("text is XML-safe");
        let el = Element::from(p.clone());
        let back = write_parse(&el);
        prop_assert_eq!(&back, &el);
        let Ok(Stanza::Presence(typed)) = Stanza::try_from(back) else {
            panic!("not a presence: {el}")
        };
        prop_assert_eq!(typed.kind(), p.kind());
        prop_assert_eq!(typed.show(), p.show());
        prop_assert_eq!(typed.status(), p.status());
        prop_assert_eq!(typed.priority(), p.priority());
        prop_assert_eq!(&typed, &p);
    }

    #[test]
    fn roster_items_survive_write_parse(items in proptest::collection::vec(roster_item(), 1..4)) {
        for item in items {
            let query = roster::set_query(&item).expect("text is XML-safe");
            let back = write_parse(&query);
            prop_assert_eq!(&back, &query);
            let roster = Roster::from_query(back.root());
            prop_assert_eq!(roster.items, vec![item]);
        }
    }

    #[test]
    fn a_contacts_presence_gives_the_same_model_in_any_chunking(
        b in presence(),
        from in jid(),
        cut in any::<prop::sample::Index>(),
    ) {
        let p = b.build().expect("text is XML-safe");
        let wire = p.element().to_string().replacen(
            "<presence",
            &format!("<presence from='{from}'"),
            1,
        );
        let mut whole = Harness::logged_in(config());
        whole.server(&wire);
        let mut split = Harness::logged_in(config());
        let at = cut.index(wire.len() + 1);
        let (a, b) = wire.as_bytes().split_at(at);
        split.client.handle_input(split.now, a).expect("taken");
        split.client.handle_input(split.now, b).expect("taken");
        prop_assert_eq!(whole.events(), split.events());
        let bare = from.to_bare();
        prop_assert_eq!(
            whole.client.presence().resources(&bare),
            split.client.presence().resources(&bare)
        );
        prop_assert_eq!(whole.client.pending_subscriptions(), split.client.pending_subscriptions());
    }
}
