//! What a driver relies on beyond bytes in and out: the finished state, resets, the
//! writable signal, owned transmit buffers and the bound on undrained events.

mod support;

use core::time::Duration;
use std::num::NonZeroU64;

use jabber_proto::client::{
    Client, CloseReason, Config, Error, Event, StanzaEvent, State, StreamEvent,
};
use jabber_proto::jid::Jid;
use jabber_proto::stanza::{Message, MessageType};
use jabber_proto::time::Instant;
use support::{Harness, SERVER_HEADER};

fn config() -> Config {
    let mut c = Config::new("example.com", NonZeroU64::MIN);
    c.version = Some("1.0".into());
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    c
}

fn message(n: usize) -> String {
    format!("<message from='a@example.com/r' id='m{n}'><body>{n}</body></message>")
}

fn message_ids(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Stanza(StanzaEvent::Message(m)) => m.id().map(String::from),
            _ => None,
        })
        .collect()
}

/// A client with room for one event and a 60-second IQ timeout that has just sent a ping;
/// its handle and wire id.
fn pinging_with_room_for_one_event() -> (Harness, jabber_proto::client::IqId, String) {
    let mut c = config();
    c.max_events = 1;
    c.iq_timeout = Duration::from_secs(60);
    let mut h = Harness::open(c);
    let now = h.now;
    let ping = jabber_proto::xml::Element::builder("ping", "urn:xmpp:ping")
        .build()
        .expect("valid");
    let id = h
        .client
        .send_iq(now, None, jabber_proto::stanza::IqType::Get, ping)
        .expect("sent");
    let wire = h.sent();
    let wire_id = wire
        .split("id='")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("an id")
        .to_owned();
    (h, id, wire_id)
}

#[test]
fn finished_means_closed_and_every_byte_written() {
    let mut h = Harness::open(config());
    let now = h.now;
    h.client.close(now);
    h.server("</stream:stream>");
    assert!(h.client.is_closed());
    assert!(!h.client.is_finished(), "our close is not written yet");
    assert_eq!(h.sent(), "</stream:stream>");
    assert!(h.client.is_finished());
    assert_eq!(h.client.poll_timeout(), None);
}

#[test]
fn a_reset_ends_at_once_drops_output_and_keeps_parsed_events() {
    let mut h = Harness::open(config());
    let now = h.now;
    let to = Jid::parse("b@example.com").expect("jid");
    let m = Message::new(MessageType::Chat, &to, "unsent").expect("message");
    h.client.send(now, m).expect("sent");
    h.server(&message(1));
    h.client.handle_reset(now);
    assert_eq!(h.client.state(), State::Closed);
    assert!(
        h.client.is_finished(),
        "nothing can be written after a reset"
    );
    assert_eq!(h.sent(), "");
    let events = h.events();
    assert_eq!(message_ids(&events), ["m1"]);
    assert_eq!(events.last(), Some(&Event::Closed(CloseReason::Reset)));
    assert!(!CloseReason::Reset.is_clean());
    // Sticky: later input changes nothing.
    h.server(&message(2));
    h.client.handle_reset(now);
    assert_eq!(h.events(), vec![]);
}

#[test]
fn a_refused_command_is_followed_by_writable_once_the_buffer_drains() {
    let to = Jid::parse("b@example.com").expect("jid");
    let msg = || Message::new(MessageType::Chat, &to, &"x".repeat(100)).expect("message");
    let mut c = config();
    let size = {
        let mut probe = Harness::open(config());
        let now = probe.now;
        probe.client.send(now, msg()).expect("sent");
        probe.sent().len()
    };
    c.max_unsent_bytes = 4 * size;
    let mut h = Harness::open(c);
    let now = h.now;
    for _ in 0..4 {
        h.client.send(now, msg()).expect("fits");
    }
    assert_eq!(h.client.send(now, msg()), Err(Error::SendBufferFull));
    // Less than one message written: it would not fit yet.
    h.client.advance_transmit(size - 1);
    assert_eq!(h.events(), vec![]);
    // Room for one message: the refused command fits again.
    h.client.advance_transmit(1);
    assert_eq!(h.events(), vec![Event::Writable]);
    h.client.advance_transmit(size);
    assert_eq!(h.events(), vec![], "said once");
    h.client.send(now, msg()).expect("fits again");
}

#[test]
fn writable_also_follows_taking_the_buffer() {
    let to = Jid::parse("b@example.com").expect("jid");
    let mut c = config();
    c.max_unsent_bytes = 400;
    let mut h = Harness::open(c);
    let now = h.now;
    let msg = |n| Message::new(MessageType::Chat, &to, &"y".repeat(n)).expect("message");
    h.client.send(now, msg(150)).expect("fits");
    assert_eq!(h.client.send(now, msg(300)), Err(Error::SendBufferFull));
    assert!(h.client.take_transmit().is_some());
    assert_eq!(h.events(), vec![Event::Writable]);
    h.client.send(now, msg(300)).expect("fits now");
}

#[test]
fn writable_comes_only_once_the_refused_write_fits() {
    let to = Jid::parse("b@example.com").expect("jid");
    let mut c = config();
    c.max_unsent_bytes = 600;
    let mut h = Harness::open(c);
    let now = h.now;
    let msg = |n| Message::new(MessageType::Chat, &to, &"y".repeat(n)).expect("message");
    h.client.send(now, msg(150)).expect("fits");
    h.client.send(now, msg(150)).expect("fits");
    let waiting = h.client.poll_transmit().expect("bytes").len();
    // A 300-byte body needs more than half the buffer: draining to half is not enough.
    assert_eq!(h.client.send(now, msg(300)), Err(Error::SendBufferFull));
    let big = {
        let mut probe = Harness::open(config());
        let now = probe.now;
        probe.client.send(now, msg(300)).expect("sent");
        probe.sent().len()
    };
    let first_step = waiting - 250;
    h.client.advance_transmit(first_step);
    assert!(
        250 <= 300 && 250 + big > 600,
        "the test's premise: half drained, no room"
    );
    assert_eq!(h.events(), vec![], "not yet: it would not fit");
    h.client.advance_transmit(waiting - first_step);
    assert_eq!(h.events(), vec![Event::Writable]);
    h.client.send(now, msg(300)).expect("fits");
}

#[test]
fn a_stanza_larger_than_the_send_buffer_is_refused_for_good() {
    let to = Jid::parse("b@example.com").expect("jid");
    let mut c = config();
    c.max_unsent_bytes = 200;
    let mut h = Harness::open(c);
    let now = h.now;
    let big = Message::new(MessageType::Chat, &to, &"y".repeat(300)).expect("message");
    assert_eq!(h.client.send(now, big), Err(Error::StanzaTooLarge));
    assert_eq!(h.sent(), "");
    // No Writable is owed for it: it will never fit.
    let small = Message::new(MessageType::Chat, &to, "z").expect("message");
    h.client.send(now, small).expect("fits");
    assert!(h.client.take_transmit().is_some());
    assert_eq!(h.events(), vec![]);
}

#[test]
fn take_transmit_hands_out_exactly_the_unwritten_bytes() {
    let mut whole = Harness::new(config());
    let expected = whole.sent();
    let mut h = Harness::new(config());
    let first = h.client.poll_transmit().expect("header").len();
    h.client.advance_transmit(7);
    let taken = h.client.take_transmit().expect("the rest");
    assert_eq!(taken, expected.as_bytes()[7..]);
    assert_eq!(taken.len(), first - 7);
    assert!(!h.client.wants_write());
    assert_eq!(h.client.take_transmit(), None);
    assert_eq!(h.client.poll_transmit(), None);
    // What is written afterwards starts afresh, in order.
    let now = h.now;
    h.client.close(now);
    assert_eq!(
        h.client.take_transmit().expect("close"),
        b"</stream:stream>"
    );
}

#[test]
fn the_event_queue_is_bounded_and_parsing_resumes_through_the_timer() {
    let mut c = config();
    c.max_events = 3;
    let mut h = Harness::new(c);
    h.sent();
    let burst: String = (0..10).map(message).collect();
    h.server(&format!("{SERVER_HEADER}{burst}"));
    // Three events wait (the header and two messages); the rest of the input is kept,
    // unparsed, and more input is refused without being taken.
    assert!(!h.client.wants_input());
    let now = h.now;
    assert_eq!(
        h.client.handle_input(now, message(10).as_bytes()),
        Err(Error::EventQueueFull)
    );
    let mut events = Vec::new();
    for _ in 0..3 {
        events.push(h.client.poll_event().expect("queued"));
    }
    assert_eq!(h.client.poll_event(), None);
    // Room again: the timer is due at once and resumes parsing; until it has, new input
    // is not wanted (it would be parsed only after what waits).
    assert!(!h.client.wants_input());
    assert_eq!(h.client.poll_timeout(), Some(now));
    h.client.handle_timeout(now);
    events.extend(h.events());
    h.client.handle_timeout(now);
    events.extend(h.events());
    h.client.handle_timeout(now);
    events.extend(h.events());
    assert!(h.client.wants_input());
    h.client
        .handle_input(now, message(10).as_bytes())
        .expect("taken now");
    events.extend(h.events());
    assert!(matches!(events[0], Event::Stream(StreamEvent::Opened(_))));
    let ids: Vec<String> = (0..=10).map(|n| format!("m{n}")).collect();
    assert_eq!(message_ids(&events), ids, "nothing lost, nothing reordered");
    assert_eq!(h.client.poll_timeout(), None);
}

#[test]
fn a_bounded_queue_gives_the_same_events_as_an_unbounded_one() {
    let script: String = std::iter::once(SERVER_HEADER.to_string())
        .chain((0..50).map(message))
        .chain(std::iter::once("</stream:stream>".to_string()))
        .collect();
    let drive = |max_events: usize, piece: usize| {
        let mut c = config();
        c.max_events = max_events;
        let mut client = Client::new(c, Instant::ZERO);
        let now = Instant::ZERO;
        let mut events = Vec::new();
        let mut rest = script.as_bytes();
        while !client.is_closed() {
            while let Some(e) = client.poll_event() {
                events.push(e);
            }
            if client.poll_timeout().is_some_and(|t| t <= now) {
                client.handle_timeout(now);
                continue;
            }
            let (chunk, tail) = rest.split_at(piece.min(rest.len()));
            if chunk.is_empty() {
                break;
            }
            client.handle_input(now, chunk).expect("drained first");
            rest = tail;
        }
        events.extend(std::iter::from_fn(|| client.poll_event()));
        events
    };
    let reference = drive(usize::MAX, script.len());
    assert_eq!(message_ids(&reference).len(), 50);
    for (max, piece) in [(1, 1), (1, 4096), (2, 7), (5, 64), (64, 4096)] {
        assert_eq!(
            drive(max, piece),
            reference,
            "max_events {max}, pieces of {piece}"
        );
    }
}

#[test]
fn the_queue_bound_holds_memory_whatever_the_application_does() {
    let mut c = config();
    c.max_events = 4;
    let mut h = Harness::new(c);
    h.sent();
    h.server(SERVER_HEADER);
    let now = h.now;
    let mut refused = 0;
    for n in 0..1000 {
        if h.client.handle_input(now, message(n).as_bytes()) == Err(Error::EventQueueFull) {
            refused += 1;
        }
    }
    // Never drained: the client took input until the bound and refused the rest.
    assert_eq!(refused, 1000 - 3);
    let events = h.events();
    assert_eq!(events.len(), 4);
    assert_eq!(message_ids(&events), ["m0", "m1", "m2"]);
    // Drained: input is taken again.
    h.advance(Duration::from_millis(1));
    h.server(&message(1000));
    assert_eq!(message_ids(&h.events()), ["m1000"]);
}

#[test]
fn refused_input_still_proves_the_server_alive() {
    let mut c = config();
    c.max_events = 1;
    c.dead_peer_timeout = Some(Duration::from_secs(180));
    let mut h = Harness::new(c);
    h.sent();
    h.server(SERVER_HEADER);
    // The application sits on its one event; the server goes on sending for 10 minutes.
    for _ in 0..10 {
        h.now = h.now + Duration::from_secs(60);
        let now = h.now;
        assert_eq!(
            h.client.handle_input(now, message(0).as_bytes()),
            Err(Error::EventQueueFull)
        );
        h.client.handle_timeout(now);
        assert!(!h.client.is_closed(), "a sending server is not dead");
    }
    assert!(matches!(
        h.events().as_slice(),
        [Event::Stream(StreamEvent::Opened(_))]
    ));
}

#[test]
fn a_reply_waiting_unparsed_at_the_bound_is_not_timed_out() {
    let (mut h, id, wire_id) = pinging_with_room_for_one_event();
    let wire_id = wire_id.as_str();
    h.server(&format!(
        "{}{}<iq type='result' id='{wire_id}'/>",
        message(1),
        message(2)
    ));
    // The application sits on its one event past the IQ's deadline.
    h.advance(Duration::from_secs(61));
    h.advance(Duration::from_secs(1));
    let mut events = Vec::new();
    while let Some(e) = h.client.poll_event() {
        events.push(e);
        if h.client.poll_timeout().is_some_and(|t| t <= h.now) {
            h.client.handle_timeout(h.now);
        }
    }
    assert_eq!(message_ids(&events), ["m1", "m2"]);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Iq(jabber_proto::client::IqEvent::Result { id: got, .. }) if *got == id)),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Iq(jabber_proto::client::IqEvent::Timeout { .. })))
    );
}

#[test]
fn input_that_ends_the_connection_while_resuming_is_not_refused() {
    let mut c = config();
    c.max_events = 1;
    let mut h = Harness::open(c);
    h.server(&format!("{}</stream:stream>", message(1)));
    let now = h.now;
    // The first message fills the queue; the server's close waits unparsed.
    assert_eq!(
        h.client.poll_event().map(|e| message_ids(&[e])),
        Some(vec!["m1".to_string()])
    );
    // Offered more input, the client first parses what waited: the close.
    assert_eq!(h.client.handle_input(now, b" "), Ok(()));
    assert!(h.client.is_closed());
    assert_eq!(h.events(), vec![Event::Closed(CloseReason::Peer)]);
}

#[test]
fn replies_from_our_server_match_its_domain_as_jids_compare() {
    let mut c = config();
    c.domain = "Example.COM.".into();
    let mut h = Harness::open(c);
    let now = h.now;
    let ping = || {
        jabber_proto::xml::Element::builder("ping", "urn:xmpp:ping")
            .build()
            .expect("valid")
    };
    let id_of = |wire: &str| {
        wire.split("id='")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("an id")
            .to_string()
    };
    for (from, answered) in [
        ("example.com", true),
        ("EXAMPLE.com.", true),
        ("evil.example", false),
        ("alice@example.com", false),
    ] {
        let id = h
            .client
            .send_iq(now, None, jabber_proto::stanza::IqType::Get, ping())
            .expect("sent");
        let wire = id_of(&h.sent());
        h.server(&format!("<iq type='result' id='{wire}' from='{from}'/>"));
        let events = h.events();
        let got = matches!(events.as_slice(),
            [Event::Iq(jabber_proto::client::IqEvent::Result { id: got, .. })] if *got == id);
        assert_eq!(got, answered, "a reply from {from}: {events:?}");
    }
}

#[test]
fn after_resuming_the_servers_timers_wait_for_one_more_read() {
    let (mut h, id, wire_id) = pinging_with_room_for_one_event();
    // Two messages fill the queue; the reply is still in the socket, unread, because
    // the driver does not read while input waits at the bound.
    h.server(&format!("{}{}", message(1), message(2)));
    assert!(!h.client.wants_input());
    h.advance(Duration::from_secs(61));
    let first = h.client.poll_event().expect("the first message");
    assert_eq!(message_ids(&[first]), ["m1"]);
    // Resuming parses the second message (which fills the queue again); the IQ's
    // deadline has passed, but the driver has not read since: no timeout.
    let due = h.client.poll_timeout().expect("due at once to resume");
    assert!(due <= h.now);
    h.client.handle_timeout(h.now);
    let second = h.client.poll_event().expect("the second message");
    assert_eq!(message_ids(&[second]), ["m2"]);
    assert_eq!(h.client.poll_event(), None);
    // Nothing is left unparsed; the next timeout only lets the driver read again.
    h.client.handle_timeout(h.now);
    assert_eq!(h.client.poll_event(), None, "timed out before a read");
    assert!(h.client.wants_input(), "the driver reads next");
    let now = h.now;
    h.client
        .handle_input(
            now,
            format!("<iq type='result' id='{wire_id}'/>").as_bytes(),
        )
        .expect("taken");
    h.client.handle_timeout(now);
    let events = h.events();
    assert!(
        matches!(events.as_slice(), [Event::Iq(jabber_proto::client::IqEvent::Result { id: got, .. })] if *got == id),
        "{events:?}"
    );
}

#[test]
fn time_spent_not_reading_does_not_count_against_the_server() {
    let mut c = config();
    c.max_events = 1;
    c.dead_peer_timeout = Some(Duration::from_secs(180));
    let mut h = Harness::open(c);
    let start = h.now;
    h.server(&format!("{}{}", message(1), message(2)));
    // Paused with a full queue: the socket is not read, so no dead-peer deadline runs.
    assert_eq!(h.client.poll_timeout(), None);
    h.advance(Duration::from_secs(600));
    assert!(!h.client.is_closed(), "declared dead while we did not read");
    assert_eq!(message_ids(&h.events()[..1]), ["m1"]);
    h.client.handle_timeout(h.now);
    assert_eq!(message_ids(&h.events()), ["m2"]);
    h.client.handle_timeout(h.now);
    assert!(h.client.wants_input());
    // The dead-peer clock restarts when reading does.
    let resumed = h.now;
    assert!(resumed > start + Duration::from_secs(180));
    assert_eq!(
        h.client.poll_timeout(),
        Some(resumed + Duration::from_secs(180))
    );
    h.advance(Duration::from_secs(179));
    assert!(!h.client.is_closed());
    h.advance(Duration::from_secs(1));
    assert_eq!(h.client.close_reason(), Some(&CloseReason::PeerTimeout));
}
