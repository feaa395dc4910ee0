//! The two framings are one protocol: the same stanzas, over a TCP stream in any chunking
//! or over WebSocket one message each, give the same events and the same answers; and a
//! WebSocket session captures and replays like a TCP one.

mod support;

use std::num::NonZeroU64;

use jabber_proto::client::{Client, Config, Event, StreamEvent};
use jabber_proto::replay::{self, Options};
use jabber_proto::stream::{Framing, Item, StreamParser};
use jabber_proto::time::Instant;
use jabber_proto::{Limits, ns};
use proptest::collection::vec;
use proptest::prelude::*;
use support::SEED;

const TCP_HEADER: &str = "<stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='s1' version='1.0'>";
const WS_OPEN: &str = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' \
    id='s1' version='1.0'/>";

fn config(framing: Framing) -> Config {
    let mut c = Config::new("example.com", NonZeroU64::new(SEED).expect("non-zero"));
    c.framing = framing;
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    c
}

/// One stanza from the server, written for a stream whose elements get `xmlns` (empty
/// inside a TCP stream, which declares it once).
#[derive(Clone, Debug)]
enum Stanza {
    Message {
        from: u8,
        kind: &'static str,
        body: String,
    },
    Presence {
        from: u8,
        available: bool,
        status: String,
    },
    /// An IQ request nobody handles: the client answers `service-unavailable`.
    Request { from: u8, id: u16 },
    /// An element that is no stanza (`StreamEvent::Element`).
    Other { text: String },
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Stanza {
    fn xml(&self, xmlns: &str) -> String {
        match self {
            Stanza::Message { from, kind, body } => format!(
                "<message{xmlns} from='c{from}@example.net/r' type='{kind}'>\
                 <body>{}</body></message>",
                escape(body)
            ),
            Stanza::Presence {
                from,
                available,
                status,
            } => format!(
                "<presence{xmlns} from='c{from}@example.net/r'{}><status>{}</status></presence>",
                if *available {
                    ""
                } else {
                    " type='unavailable'"
                },
                escape(status)
            ),
            Stanza::Request { from, id } => format!(
                "<iq{xmlns} from='c{from}@example.net/r' type='get' id='q{id}'>\
                 <query xmlns='urn:example:unknown'/></iq>"
            ),
            Stanza::Other { text } => {
                format!("<thing xmlns='urn:example:x'>{}</thing>", escape(text))
            }
        }
    }
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 &<>'\"éß€\u{1F600}]{0,24}"
}

fn stanza() -> impl Strategy<Value = Stanza> {
    prop_oneof![
        (
            0u8..4,
            prop::sample::select(vec!["chat", "normal", "headline"]),
            text()
        )
            .prop_map(|(from, kind, body)| Stanza::Message { from, kind, body }),
        (0u8..4, any::<bool>(), text()).prop_map(|(from, available, status)| {
            Stanza::Presence {
                from,
                available,
                status,
            }
        }),
        (0u8..4, any::<u16>()).prop_map(|(from, id)| Stanza::Request { from, id }),
        text().prop_map(|text| Stanza::Other { text }),
    ]
}

/// What a client did with the server's input: its events after the stream opened, and
/// the elements it sent after its header, as standalone XML.
#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<Event>,
    sent: Vec<String>,
}

fn drain_events(client: &mut Client) -> Vec<Event> {
    std::iter::from_fn(|| client.poll_event())
        .filter(|e| !matches!(e, Event::Stream(StreamEvent::Opened(_))))
        .collect()
}

fn over_tcp(stanzas: &[Stanza], cuts: &[usize]) -> Outcome {
    let now = Instant::from_millis(1);
    let mut client = Client::new(config(Framing::Stream), now);
    client.take_transmit();
    let mut input = String::from(TCP_HEADER);
    for s in stanzas {
        input.push_str(&s.xml(""));
    }
    let input = input.as_bytes();
    let mut start = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    for cut in cuts.into_iter().chain([input.len()]) {
        client.handle_input(now, &input[start..cut]).expect("taken");
        start = cut;
    }
    let events = drain_events(&mut client);
    // Our side of the stream: parse what we sent behind a server-side header.
    let mut parser = StreamParser::new(Limits::default());
    parser.push(TCP_HEADER.as_bytes());
    parser.push(&client.take_transmit().unwrap_or_default());
    let sent = std::iter::from_fn(|| parser.next_item())
        .filter_map(|item| match item.expect("we send well-formed XML") {
            Item::Element(el) => Some(el.to_string()),
            _ => None,
        })
        .collect();
    Outcome { events, sent }
}

fn over_websocket(stanzas: &[Stanza]) -> Outcome {
    let now = Instant::from_millis(1);
    let mut client = Client::new(config(Framing::WebSocket), now);
    client.take_transmit();
    client.handle_input(now, WS_OPEN.as_bytes()).expect("taken");
    for s in stanzas {
        let xml = s.xml(&format!(" xmlns='{}'", ns::CLIENT));
        client.handle_input(now, xml.as_bytes()).expect("taken");
    }
    let events = drain_events(&mut client);
    let mut parser = StreamParser::websocket(Limits::default());
    parser.push(WS_OPEN.as_bytes());
    assert!(matches!(parser.next_item(), Some(Ok(Item::Header(_)))));
    let sent = std::iter::from_fn(|| client.take_transmit())
        .map(|message| {
            parser.push(&message);
            match parser.next_item() {
                Some(Ok(Item::Element(el))) => el.to_string(),
                other => panic!("not one element per message: {other:?}"),
            }
        })
        .collect();
    Outcome { events, sent }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn both_framings_give_the_same_events_and_answers(
        stanzas in vec(stanza(), 0..12),
        cuts in vec(any::<usize>(), 0..8),
    ) {
        let tcp = over_tcp(&stanzas, &cuts);
        let ws = over_websocket(&stanzas);
        let unanswered = stanzas.iter().filter(|s| !matches!(s, Stanza::Request { .. }));
        prop_assert_eq!(tcp.events.len(), unanswered.count());
        prop_assert_eq!(ws, tcp);
    }

    #[test]
    fn no_websocket_message_makes_the_client_panic_or_keep_it(
        messages in vec(vec(any::<u8>(), 0..64), 0..6),
        xmlish in vec("[<>/a-z:='\" ]{0,40}", 0..6),
    ) {
        let now = Instant::from_millis(1);
        let mut client = Client::new(config(Framing::WebSocket), now);
        client.take_transmit(); // our `<open/>`
        let _ = client.handle_input(now, WS_OPEN.as_bytes());
        for m in messages.iter().map(Vec::as_slice).chain(xmlish.iter().map(String::as_bytes)) {
            let _ = client.handle_input(now, m);
            while client.poll_event().is_some() {}
            while let Some(out) = client.take_transmit() {
                // Whatever happened, each message we send is one element.
                let mut parser = StreamParser::websocket(Limits::default());
                parser.push(WS_OPEN.as_bytes());
                let _ = parser.next_item();
                parser.push(&out);
                let item = parser.next_item();
                prop_assert!(
                    matches!(item, Some(Ok(Item::Element(_)))),
                    "{:?}: {:?}",
                    String::from_utf8_lossy(&out),
                    item
                );
            }
        }
    }
}

/// A message of well-formed stanzas, mutated: a byte replaced, cut short, or repeated.
fn mutate(message: &str, how: u8, at: usize, byte: u8) -> Vec<u8> {
    let mut bytes = message.as_bytes().to_vec();
    let at = at % bytes.len().max(1);
    match how % 3 {
        0 => bytes[at] = byte,
        1 => bytes.truncate(at),
        _ => bytes.extend_from_within(..),
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_mutated_message_among_good_ones_leaves_nothing_buffered(
        stanzas in vec(stanza(), 1..10),
        which in any::<usize>(),
        how in any::<u8>(),
        at in any::<usize>(),
        byte in any::<u8>(),
    ) {
        let which = which % stanzas.len();
        let mut parser = StreamParser::websocket(Limits::default());
        parser.push(WS_OPEN.as_bytes());
        prop_assert!(matches!(parser.next_item(), Some(Ok(Item::Header(_)))));
        prop_assert_eq!(parser.buffered(), 0);
        let mut failed = false;
        for (i, s) in stanzas.iter().enumerate() {
            let xml = s.xml(&format!(" xmlns='{}'", ns::CLIENT));
            let message = if i == which { mutate(&xml, how, at, byte) } else { xml.into_bytes() };
            parser.push(&message);
            let mut items = 0;
            while let Some(item) = parser.next_item() {
                items += 1;
                if item.is_err() {
                    failed = true;
                }
            }
            // Each input is judged whole: nothing of it stays behind, good or bad, and
            // at most one item comes of it.
            prop_assert_eq!(parser.buffered(), 0);
            prop_assert!(items <= 1);
            if i < which {
                prop_assert!(!failed, "a good message failed");
            }
            if failed {
                prop_assert!(parser.error().is_some());
            }
        }
    }
}

#[test]
fn a_websocket_session_captures_and_replays() {
    let now = Instant::from_millis(1);
    let mut c = config(Framing::WebSocket);
    c.capture = true;
    let mut client = Client::new(c, now);
    client.take_transmit();
    client.handle_input(now, WS_OPEN.as_bytes()).expect("taken");
    let stanza = Stanza::Request { from: 1, id: 7 }.xml(" xmlns='jabber:client'");
    client.handle_input(now, stanza.as_bytes()).expect("taken");
    let reply = client.poll_transmit().expect("an answer").len();
    client.advance_transmit(3);
    client.advance_transmit(reply);
    client.close(now);
    client.take_transmit();
    let close = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>";
    client.handle_input(now, close.as_bytes()).expect("taken");
    let events: Vec<String> = std::iter::from_fn(|| client.poll_event())
        .map(|e| format!("{e:?}"))
        .collect();
    let records: Vec<_> = std::iter::from_fn(|| client.poll_capture()).collect();
    let config = records[0].data.clone();
    assert!(
        String::from_utf8_lossy(&config).contains("framing='websocket'"),
        "{}",
        String::from_utf8_lossy(&config)
    );
    for options in [Options::default(), Options::chunked(1)] {
        let report = replay::replay(&records, &options);
        assert_eq!(report.difference, None);
        assert_eq!(report.events, events);
        assert!(report.sent.iter().any(|s| s.starts_with("<open ")));
    }
}

/// How many of up to `most` same presences a client with `max_unsent_bytes` room takes
/// before it refuses one, nothing being written meanwhile; and the bytes then waiting.
fn presences_taken(
    framing: Framing,
    room: usize,
    most: usize,
) -> (usize, Option<jabber_proto::client::Error>, usize) {
    use jabber_proto::stanza::Presence;
    let now = Instant::from_millis(1);
    let mut c = config(framing);
    c.max_unsent_bytes = room;
    let mut client = Client::new(c, now);
    client.take_transmit();
    let open = if framing == Framing::WebSocket {
        WS_OPEN
    } else {
        TCP_HEADER
    };
    client.handle_input(now, open.as_bytes()).expect("taken");
    while client.take_transmit().is_some() {}
    let waiting = |client: &mut Client| {
        std::iter::from_fn(|| client.take_transmit())
            .map(|m| m.len())
            .sum()
    };
    for taken in 0..most {
        if let Err(e) = client.send(now, Presence::available().build().expect("valid")) {
            return (taken, Some(e), waiting(&mut client));
        }
    }
    (most, None, waiting(&mut client))
}

#[test]
fn both_framings_take_the_same_queue_of_presences() {
    // Room for exactly ten presences' payload (over WebSocket each message declares its
    // namespace, so it is longer): both framings take ten, and refuse the eleventh alike.
    for framing in [Framing::Stream, Framing::WebSocket] {
        let (_, _, one) = presences_taken(framing, usize::MAX, 1);
        let (taken, refusal, waiting) = presences_taken(framing, 10 * one, 1000);
        assert_eq!(taken, 10, "{framing:?}");
        assert_eq!(waiting, 10 * one);
        assert_eq!(refusal, Some(jabber_proto::client::Error::SendBufferFull));
    }
}
