//! Every blocking policy the API can build survives the trip: what the client sends to
//! store it, handed back by the server as the answer to a load, comes out as the same
//! policy, in force; and every carbon survives write -> parse.

mod support;

use std::num::NonZeroU64;

use jabber_proto::client::{Config, Event, ServiceEvent};
use jabber_proto::features::block_policy::{BlockMode, BlockPolicy};
use jabber_proto::jid::Jid;
use jabber_proto::stanza::ext::{Carbon, CarbonDirection, Forwarded};
use jabber_proto::stanza::{Delay, Message, Stanza};
use jabber_proto::stream::{Item, StreamParser};
use jabber_proto::time::Timestamp;
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

/// Addresses of every shape: with or without a local part and a resource, the resource
/// with markup characters, spaces and non-ASCII.
fn jid() -> impl Strategy<Value = Jid> {
    (
        proptest::option::of("[a-z0-9._-]{1,8}"),
        "[a-z]{1,8}(\\.[a-z]{2,3})?",
        proptest::option::of("[ -~\u{e9}\u{4e2d}]{1,10}"),
    )
        .prop_filter_map("a valid JID", |(local, domain, resource)| {
            Jid::new(local.as_deref(), &domain, resource.as_deref()).ok()
        })
}

fn policy() -> impl Strategy<Value = BlockPolicy> {
    (
        proptest::sample::select(vec![
            BlockMode::Off,
            BlockMode::Listed,
            BlockMode::RosterOnly,
        ]),
        any::<bool>(),
        proptest::collection::vec(jid(), 0..6),
    )
        .prop_map(|(mode, subscriptions, jids)| {
            jids.into_iter().fold(
                BlockPolicy::new(mode).blocking_subscriptions(subscriptions),
                BlockPolicy::with_jid,
            )
        })
}

proptest! {
    #[test]
    fn a_saved_policy_loads_back_unchanged(policy in policy()) {
        let mut h = Harness::logged_in(config());
        let now = h.now;
        h.client.set_block_policy(now, policy.clone()).expect("sent");
        let sent = h.sent();
        // The server stores the <query/> it was sent and returns it to a load.
        let start = sent.find("<query").expect("a query");
        let end = sent.find("</query>").expect("its end") + "</query>".len();
        let stored = &sent[start..end];
        let id = h.client.load_block_policy(now).expect("sent");
        let load_wire = wire_id(4);
        h.sent();
        h.server(&format!("<iq type='result' id='{load_wire}'>{stored}</iq>"));
        prop_assert_eq!(
            h.events(),
            vec![Event::Services(ServiceEvent::BlockPolicy { id, policy: Some(policy.clone()) })]
        );
        prop_assert_eq!(h.client.block_policy(), Some(&policy));
        let el = policy.to_element().expect("builds");
        prop_assert_eq!(BlockPolicy::from_element(el.root()), Some(policy));
    }

    #[test]
    fn a_carbon_survives_write_then_parse(
        sent in any::<bool>(),
        to in jid(),
        body in "[ -~\u{e9}]{0,20}",
        stamp_ms in proptest::option::of(0i64..4_102_444_800_000),
    ) {
        let message = Message::chat(&to).body(&body).build().expect("a message");
        let delay = stamp_ms.map(|ms| {
            Delay::new(Timestamp::from_unix_millis(ms).expect("in range"))
        });
        let carbon = Carbon {
            direction: if sent { CarbonDirection::Sent } else { CarbonDirection::Received },
            forwarded: Some(Forwarded { message, delay }),
        };
        let wrapper = Message::normal(&to)
            .extension(&Wrapped(carbon.clone()))
            .build()
            .expect("a message");
        // Written as bytes and read back by the stream parser.
        let xml = wrapper.element().to_string();
        let mut parser = StreamParser::new(Default::default());
        parser.push(b"<stream:stream xmlns='jabber:client' \
            xmlns:stream='http://etherx.jabber.org/streams'>");
        parser.push(xml.as_bytes());
        let _header = parser.next_item();
        let Some(Ok(Item::Element(el))) = parser.next_item() else {
            panic!("an element from {xml}");
        };
        let Ok(Stanza::Message(read)) = Stanza::try_from(el) else {
            panic!("a message from {xml}");
        };
        let got = Carbon::of(&read).expect("a carbon");
        prop_assert_eq!(got.direction, carbon.direction);
        let (got, want) = (got.forwarded.expect("forwarded"), carbon.forwarded.expect("forwarded"));
        prop_assert_eq!(got.delay, want.delay);
        prop_assert_eq!(got.message.element().to_string(), want.message.element().to_string());
        prop_assert_eq!(got.message.body(), want.message.body());
    }
}

/// A carbon as a payload of the wrapping message.
struct Wrapped(Carbon);

impl jabber_proto::stanza::ext::Extension for Wrapped {
    fn from_child(_: jabber_proto::xml::ElementRef<'_>) -> Option<Wrapped> {
        None
    }

    fn to_element(&self) -> Result<jabber_proto::xml::Element, jabber_proto::xml::BuildError> {
        self.0.to_element()
    }
}
