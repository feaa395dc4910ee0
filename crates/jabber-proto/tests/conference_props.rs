//! What rooms send, parsed whatever it holds: any sequence of room presences (statuses
//! 110, 201, 303, 307, items with roles, affiliations, nicknames and addresses, errors)
//! and messages never panics, never keeps more occupants than the bound, gives the
//! same events in any chunking, and — sent from any address but the room's — changes
//! nothing of the room.

mod support;

use std::num::NonZeroU64;

use jabber_proto::client::{ConferenceEvent, Config, Event};
use jabber_proto::features::conference::{JoinOptions, RoomState};
use jabber_proto::jid::Jid;
use proptest::prelude::*;
use support::{Harness, SEED};

const ROOM: &str = "coven@chat.example.com";

fn config() -> Config {
    let mut c = Config::new("example.com", NonZeroU64::new(SEED).expect("non-zero"));
    c.version = None;
    c.fetch_roster = false;
    c.initial_presence = false;
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    c.conference.max_occupants = 4;
    c
}

fn nick() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["alice", "bob", "carol", "dave", "erin", "frank"])
        .prop_map(String::from)
}

/// One stanza a room (or `from_room` false: a stranger at `evil.example`) could send.
fn stanza(from_room: bool) -> impl Strategy<Value = String> {
    let host = if from_room {
        ROOM
    } else {
        "coven@evil.example"
    };
    let item = (
        proptest::option::of(prop::sample::select(vec![
            "moderator",
            "participant",
            "visitor",
            "none",
            "bogus",
        ])),
        proptest::option::of(prop::sample::select(vec!["owner", "member", "none", "x"])),
        proptest::option::of(nick()),
        proptest::option::of(prop::sample::select(vec!["bob@example.net/x", "bad@", ""])),
    )
        .prop_map(|(role, aff, new, jid)| {
            let mut s = String::from("<item");
            for (name, v) in [("role", role), ("affiliation", aff), ("jid", jid)] {
                if let Some(v) = v {
                    s.push_str(&format!(" {name}='{v}'"));
                }
            }
            if let Some(n) = new {
                s.push_str(&format!(" nick='{n}'"));
            }
            s + "/>"
        });
    let codes = proptest::collection::vec(
        prop::sample::select(vec!["110", "201", "210", "303", "307", "301", "333", "x"]),
        0..4,
    );
    let presence = (
        nick(),
        prop::sample::select(vec!["", " type='unavailable'", " type='error'", " type='probe'"]),
        proptest::option::of(item),
        codes,
        any::<bool>(),
    )
        .prop_map(move |(nick, kind, item, codes, destroy)| {
            let mut x = String::new();
            if item.is_some() || !codes.is_empty() || destroy {
                x.push_str("<x xmlns='http://jabber.org/protocol/muc#user'>");
                x.push_str(item.as_deref().unwrap_or_default());
                for c in codes {
                    x.push_str(&format!("<status code='{c}'/>"));
                }
                if destroy {
                    x.push_str("<destroy/>");
                }
                x.push_str("</x>");
            }
            let error = if kind.contains("error") {
                "<error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
            } else {
                ""
            };
            format!("<presence from='{host}/{nick}'{kind}>{x}{error}</presence>")
        });
    let message = (
        proptest::option::of(nick()),
        prop::sample::select(vec!["groupchat", "chat", "normal", "error"]),
        prop::sample::select(vec!["<body>hi</body>", "<subject>s</subject>", ""]),
    )
        .prop_map(move |(nick, kind, payload)| {
            let from = match nick {
                Some(n) => format!("{host}/{n}"),
                None => String::from(host),
            };
            format!("<message from='{from}' type='{kind}'>{payload}</message>")
        });
    prop_oneof![3 => presence, 1 => message]
}

/// Joins `coven` as alice, feeds `script` in the given pieces, returns the events.
fn run(script: &str, splits: &[usize]) -> (Harness, Vec<Event>) {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    h.client
        .join_room(
            now,
            &Jid::parse(ROOM).expect("a JID"),
            "alice",
            JoinOptions::default(),
        )
        .expect("join");
    h.sent();
    let bytes = script.as_bytes();
    let mut at = 0;
    for &s in splits {
        let end = (at + s).min(bytes.len());
        h.client
            .handle_input(now, &bytes[at..end])
            .expect("input taken");
        at = end;
    }
    h.client
        .handle_input(now, &bytes[at..])
        .expect("input taken");
    let events = h.events();
    (h, events)
}

proptest! {
    #[test]
    fn room_stanzas_in_any_chunking(
        stanzas in proptest::collection::vec(stanza(true), 0..40),
        splits in proptest::collection::vec(1usize..40, 0..30),
    ) {
        let script = stanzas.concat();
        let (h, whole) = run(&script, &[]);
        let room = Jid::parse(ROOM).expect("a JID");
        if let Some(view) = h.client.room(&room) {
            // Ourselves beyond the bound at most.
            prop_assert!(view.occupants().count() <= 5);
        }
        let (_, chunked) = run(&script, &splits);
        prop_assert_eq!(chunked, whole);
    }

    #[test]
    fn a_strangers_room_stanzas_change_nothing(
        stanzas in proptest::collection::vec(stanza(false), 0..16),
    ) {
        let (h, events) = run(&stanzas.concat(), &[]);
        let room = Jid::parse(ROOM).expect("a JID");
        let view = h.client.room(&room).expect("still joining");
        prop_assert_eq!(view.state(), RoomState::Joining);
        prop_assert_eq!(view.occupants().count(), 0);
        let room_events = events.iter().filter(|e| matches!(e,
            Event::Conference(c) if !matches!(c, ConferenceEvent::Invited(_) | ConferenceEvent::Declined(_))
        ));
        prop_assert_eq!(room_events.count(), 0);
    }
}
