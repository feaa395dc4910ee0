//! The sans-IO contract of `Client`, driven by a scripted server and a virtual clock.

mod support;

use core::time::Duration;
use std::num::NonZeroU64;

use jabber_proto::client::{
    CloseReason, Config, Error, Event, IqEvent, PresenceEvent, StanzaEvent, State, StreamEvent,
};
use jabber_proto::jid::Jid;
use jabber_proto::ns;
use jabber_proto::stanza::{IqType, MessageType, StanzaCondition, StanzaError};
use jabber_proto::stream::{Condition, ParseError};
use jabber_proto::xml::Element;
use support::{Harness, SERVER_HEADER};

/// The stream contract alone: a `version='1.0'` stream, no keepalive timers.
fn config() -> Config {
    let mut c = Config::new("example.com", NonZeroU64::MIN);
    c.seed = NonZeroU64::new(0x1234_5678_9abc_def0).expect("a non-zero seed");
    c.version = Some("1.0".into());
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    c
}

fn ping() -> Element {
    Element::builder("ping", ns::PING)
        .build()
        .expect("a valid element")
}

#[test]
fn opening_sends_declaration_and_header_byte_exact() {
    let mut h = Harness::new(config());
    assert_eq!(
        h.sent(),
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>"
    );
    assert_eq!(h.client.state(), State::Opening);
    assert_eq!(h.client.poll_timeout(), None);
}

#[test]
fn classic_header_without_version_or_declaration() {
    let mut c = config();
    c.version = None;
    c.send_declaration = false;
    c.lang = Some("en".into());
    let mut h = Harness::new(c);
    assert_eq!(
        h.sent(),
        "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' \
         to='example.com' xml:lang='en'>"
    );
}

#[test]
fn commands_before_the_stream_opens_are_refused() {
    let mut h = Harness::new(config());
    h.sent();
    let now = h.now;
    assert_eq!(
        h.client.send_iq(now, None, IqType::Get, ping()),
        Err(Error::NotOpen)
    );
    let msg = Element::builder("message", ns::CLIENT).build().unwrap();
    assert_eq!(h.client.send(h.now, msg), Err(Error::NotOpen));
    assert_eq!(h.sent(), "");
}

#[test]
fn server_header_opens_the_stream_whatever_the_chunking() {
    let mut h = Harness::new(config());
    h.sent();
    h.server_bytewise(SERVER_HEADER);
    let events = h.events();
    let [Event::Stream(StreamEvent::Opened(header))] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(header.id(), Some("s1"));
    assert_eq!(
        h.client.server_header().and_then(|h| h.from()),
        Some("example.com")
    );
    assert_eq!(h.client.state(), State::Open);
}

#[test]
fn iq_result_is_correlated_by_handle() {
    let mut h = Harness::open(config());
    let now = h.now;
    let id = h.client.send_iq(now, None, IqType::Get, ping()).unwrap();
    assert_eq!(
        h.sent(),
        "<iq type='get' id='8888888-1'><ping xmlns='urn:xmpp:ping'/></iq>"
            .replace("8888888", &wire_prefix())
    );
    assert_eq!(h.client.pending_iqs(), 1);
    h.server(&format!(
        "<iq type='result' id='{}-1' from='example.com'/>",
        wire_prefix()
    ));
    let events = h.events();
    let [Event::Iq(IqEvent::Result { id: got, iq })] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(*got, id);
    assert!(iq.payload().is_none());
    assert_eq!(h.client.pending_iqs(), 0);
    assert_eq!(h.client.poll_timeout(), None);
}

fn wire_prefix() -> String {
    let seed: u64 = 0x1234_5678_9abc_def0;
    format!("{:08x}", (seed ^ (seed >> 32)) as u32)
}

#[test]
fn iq_ids_depend_on_the_seed() {
    let mut a = Harness::open(config());
    let mut other = config();
    other.seed = NonZeroU64::new(7).expect("a non-zero seed");
    let mut b = Harness::open(other);
    let (na, nb) = (a.now, b.now);
    a.client.send_iq(na, None, IqType::Get, ping()).unwrap();
    b.client.send_iq(nb, None, IqType::Get, ping()).unwrap();
    assert_ne!(a.sent(), b.sent());
}

#[test]
fn iq_error_carries_the_stanza_error() {
    let mut h = Harness::open(config());
    let to = Jid::parse("juliet@example.com/balcony").unwrap();
    let now = h.now;
    let id = h
        .client
        .send_iq(now, Some(&to), IqType::Set, ping())
        .unwrap();
    h.sent();
    h.server(&format!(
        "<iq type='error' id='{}-1' from='juliet@EXAMPLE.com/balcony'><error type='cancel' code='503'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>nope</text></error></iq>",
        wire_prefix()
    ));
    let events = h.events();
    let [Event::Iq(IqEvent::Error { id: got, error, .. })] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(*got, id);
    assert_eq!(error.condition, StanzaCondition::ServiceUnavailable);
    assert_eq!(error.code, Some(503));
    assert_eq!(error.text.as_deref(), Some("nope"));
}

#[test]
fn classic_numeric_error_codes_are_understood() {
    let mut h = Harness::open(config());
    let now = h.now;
    h.client.send_iq(now, None, IqType::Set, ping()).unwrap();
    h.server(&format!(
        "<iq type='error' id='{}-1'><error code='409'>Conflict</error></iq>",
        wire_prefix()
    ));
    let events = h.events();
    let [Event::Iq(IqEvent::Error { error, .. })] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(error.condition, StanzaCondition::Conflict);
    assert_eq!(error.code, Some(409));
    assert_eq!(error.text.as_deref(), Some("Conflict"));
}

#[test]
fn a_reply_from_the_wrong_address_is_not_a_reply() {
    let mut h = Harness::open(config());
    let to = Jid::parse("juliet@example.com/balcony").unwrap();
    let now = h.now;
    let id = h
        .client
        .send_iq(now, Some(&to), IqType::Get, ping())
        .unwrap();
    h.sent();
    // Spoofed: same id, another sender; and no sender at all.
    h.server(&format!(
        "<iq type='result' id='{}-1' from='mallory@example.com/x'/>",
        wire_prefix()
    ));
    h.server(&format!("<iq type='result' id='{}-1'/>", wire_prefix()));
    assert_eq!(h.events(), vec![]);
    assert_eq!(h.client.pending_iqs(), 1);
    // The real reply still completes the request.
    h.server(&format!(
        "<iq type='result' id='{}-1' from='juliet@example.com/balcony'/>",
        wire_prefix()
    ));
    assert!(
        matches!(h.events().as_slice(), [Event::Iq(IqEvent::Result { id: got, .. })] if *got == id)
    );
}

#[test]
fn a_request_to_our_server_accepts_the_domain_or_no_from() {
    let mut h = Harness::open(config());
    let now = h.now;
    h.client.send_iq(now, None, IqType::Get, ping()).unwrap();
    h.client.send_iq(now, None, IqType::Get, ping()).unwrap();
    h.server(&format!(
        "<iq type='result' id='{}-1' from='other.example'/>",
        wire_prefix()
    ));
    assert_eq!(h.events(), vec![]);
    h.server(&format!("<iq type='result' id='{}-1'/>", wire_prefix()));
    h.server(&format!(
        "<iq type='result' id='{}-2' from='Example.COM'/>",
        wire_prefix()
    ));
    assert_eq!(h.events().len(), 2);
}

#[test]
fn unanswered_iq_times_out_on_the_virtual_clock() {
    let mut c = config();
    c.iq_timeout = Duration::from_secs(30);
    let mut h = Harness::open(c);
    let t0 = h.now;
    let id = h.client.send_iq(t0, None, IqType::Get, ping()).unwrap();
    assert_eq!(h.client.poll_timeout(), Some(t0 + Duration::from_secs(30)));
    h.advance(Duration::from_millis(29_999));
    assert_eq!(h.events(), vec![]);
    h.advance(Duration::from_millis(1));
    assert_eq!(h.events(), vec![Event::Iq(IqEvent::Timeout { id })]);
    assert_eq!(h.client.poll_timeout(), None);
    // A late reply is ignored.
    h.server(&format!("<iq type='result' id='{}-1'/>", wire_prefix()));
    assert_eq!(h.events(), vec![]);
}

#[test]
fn timeouts_fire_in_deadline_order() {
    let mut c = config();
    c.iq_timeout = Duration::from_secs(10);
    let mut h = Harness::open(c);
    let a = h.client.send_iq(h.now, None, IqType::Get, ping()).unwrap();
    h.advance(Duration::from_secs(3));
    let b = h.client.send_iq(h.now, None, IqType::Get, ping()).unwrap();
    h.run_to_deadline();
    assert_eq!(h.events(), vec![Event::Iq(IqEvent::Timeout { id: a })]);
    h.run_to_deadline();
    assert_eq!(h.events(), vec![Event::Iq(IqEvent::Timeout { id: b })]);
    assert_eq!(h.run_to_deadline(), None);
}

#[test]
fn unhandled_iq_requests_get_service_unavailable() {
    let mut h = Harness::open(config());
    h.server("<iq type='get' id='v1' from='romeo@example.com/orchard'><query xmlns='jabber:iq:version'/></iq>");
    assert_eq!(h.events(), vec![]);
    assert_eq!(
        h.sent(),
        "<iq type='error' id='v1' to='romeo@example.com/orchard'><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    );
}

#[test]
fn pings_are_answered_by_the_core() {
    let mut h = Harness::open(config());
    h.server("<iq type='get' id='p1' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert_eq!(h.events(), vec![]);
    assert_eq!(h.sent(), "<iq type='result' id='p1' to='example.com'/>");
}

#[test]
fn handled_namespaces_become_requests_the_application_answers() {
    let mut c = config();
    c.iq_namespaces.push("jabber:iq:version".into());
    let mut h = Harness::open(c);
    h.server("<iq type='get' id='v1' from='romeo@example.com/orchard'><query xmlns='jabber:iq:version'/></iq>");
    let events = h.events();
    let [Event::Stanza(StanzaEvent::IqRequest(iq))] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(h.sent(), "");
    let answer = Element::builder("query", "jabber:iq:version")
        .child(Element::builder("name", "jabber:iq:version").text("jabber"))
        .build()
        .unwrap();
    h.client.respond(h.now, iq, Ok(Some(answer))).unwrap();
    assert_eq!(
        h.sent(),
        "<iq type='result' id='v1' to='romeo@example.com/orchard'><query xmlns='jabber:iq:version'>\
         <name>jabber</name></query></iq>"
    );
    h.client
        .respond(h.now, iq, Err(StanzaError::new(StanzaCondition::Forbidden)))
        .unwrap();
    assert!(
        h.sent()
            .contains("<forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>")
    );
}

#[test]
fn invalid_iq_requests_get_bad_request() {
    let mut h = Harness::open(config());
    h.server("<iq type='get' id='x1'/>");
    assert!(matches!(
        h.events().as_slice(),
        [Event::Stanza(StanzaEvent::Invalid(_))]
    ));
    assert!(
        h.sent()
            .contains("<iq type='error' id='x1'><error type='modify'><bad-request")
    );
    // An IQ with no id cannot be answered; it is only reported.
    h.server("<iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert!(matches!(
        h.events().as_slice(),
        [Event::Stanza(StanzaEvent::Invalid(_))]
    ));
    assert_eq!(h.sent(), "");
}

#[test]
fn messages_and_presences_are_typed_events() {
    let mut h = Harness::open(config());
    h.server(
        "<message from='juliet@example.com/balcony' type='chat' id='m1'><body>Wherefore &amp; why</body>\
         <thread>t1</thread></message><presence from='juliet@example.com/balcony'><show>away</show>\
         <status>out</status><priority>5</priority></presence>",
    );
    let events = h.events();
    let [
        Event::Stanza(StanzaEvent::Message(m)),
        Event::Presence(PresenceEvent::Available(p)),
    ] = events.as_slice()
    else {
        panic!("{events:?}")
    };
    assert_eq!(m.kind(), MessageType::Chat);
    assert_eq!(m.body().as_deref(), Some("Wherefore & why"));
    assert_eq!(m.thread().as_deref(), Some("t1"));
    assert_eq!(m.from().unwrap().resource(), Some("balcony"));
    assert_eq!(p.priority(), 5);
    assert_eq!(p.status().as_deref(), Some("out"));
}

#[test]
fn sending_a_stanza_writes_it_byte_exact() {
    let mut h = Harness::open(config());
    let to = Jid::parse("juliet@example.com").unwrap();
    let m = jabber_proto::stanza::Message::new(MessageType::Chat, &to, "it's <3 & more").unwrap();
    h.client.send(h.now, m).unwrap();
    assert_eq!(
        h.sent(),
        "<message to='juliet@example.com' type='chat'><body>it's &lt;3 &amp; more</body></message>"
    );
}

#[test]
fn partial_writes_resume_where_they_stopped() {
    let mut h = Harness::open(config());
    let to = Jid::parse("juliet@example.com").unwrap();
    h.client
        .send(
            h.now,
            jabber_proto::stanza::Message::new(MessageType::Chat, &to, "hello").unwrap(),
        )
        .unwrap();
    let mut written = Vec::new();
    while let Some(b) = h.client.poll_transmit() {
        written.push(b[0]);
        h.client.advance_transmit(1);
    }
    assert!(!h.client.wants_write());
    assert_eq!(
        written,
        b"<message to='juliet@example.com' type='chat'><body>hello</body></message>"
    );
}

#[test]
fn logout_waits_for_the_server_close() {
    let mut h = Harness::open(config());
    let now = h.now;
    h.client.send_iq(now, None, IqType::Get, ping()).unwrap();
    h.sent();
    h.client.close(now);
    assert_eq!(h.sent(), "</stream:stream>");
    assert_eq!(h.client.state(), State::Closing);
    assert_eq!(h.client.send(h.now, ping()), Err(Error::Closed));
    h.client.close(now); // idempotent
    assert_eq!(h.sent(), "");
    h.server("</stream:stream>");
    assert_eq!(h.events(), vec![Event::Closed(CloseReason::Local)]);
    assert!(h.client.is_closed());
    assert_eq!(h.client.poll_timeout(), None);
}

#[test]
fn logout_gives_up_after_the_close_timeout() {
    let mut c = config();
    c.close_timeout = Duration::from_secs(5);
    let mut h = Harness::open(c);
    let now = h.now;
    h.client.close(now);
    assert_eq!(h.client.poll_timeout(), Some(now + Duration::from_secs(5)));
    h.run_to_deadline();
    assert_eq!(h.events(), vec![Event::Closed(CloseReason::LocalTimeout)]);
}

#[test]
fn server_close_is_answered_with_ours() {
    let mut h = Harness::open(config());
    h.server("</stream:stream>");
    assert_eq!(h.sent(), "</stream:stream>");
    assert_eq!(h.events(), vec![Event::Closed(CloseReason::Peer)]);
}

#[test]
fn server_stream_error_is_one_event_then_closed() {
    let mut h = Harness::open(config());
    h.server(
        "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
         <text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new connection</text></stream:error>\
         </stream:stream>",
    );
    let events = h.events();
    let [Event::Closed(CloseReason::StreamError(e))] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(e.condition, Condition::Conflict);
    assert_eq!(e.text.as_deref(), Some("Replaced by new connection"));
    assert_eq!(h.sent(), "</stream:stream>");
}

#[test]
fn stream_error_before_the_header_exchange_completes() {
    let mut h = Harness::new(config());
    h.sent();
    h.server(SERVER_HEADER);
    h.server(
        "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
    );
    let events = h.events();
    assert!(
        matches!(events.as_slice(), [Event::Stream(StreamEvent::Opened(_)), Event::Closed(CloseReason::StreamError(e))]
        if e.condition == Condition::HostUnknown)
    );
}

#[test]
fn malformed_input_is_fatal_and_sticky() {
    let mut h = Harness::open(config());
    h.server("<message><body>x</body><!-- hi --></message>");
    let events = h.events();
    assert_eq!(
        events,
        vec![Event::Closed(CloseReason::Protocol(ParseError::Comment))]
    );
    assert_eq!(
        h.sent(),
        "<stream:error><restricted-xml xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"
    );
    // Nothing more: no events, no bytes, commands refused.
    h.server("<message><body>more</body></message></stream:stream>");
    h.client.handle_eof(h.now);
    h.advance(Duration::from_secs(3600));
    assert_eq!(h.events(), vec![]);
    assert_eq!(h.sent(), "");
    let now = h.now;
    assert_eq!(
        h.client.send_iq(now, None, IqType::Get, ping()),
        Err(Error::Closed)
    );
    assert_eq!(h.client.poll_timeout(), None);
}

#[test]
fn limits_violations_are_policy_violations() {
    let mut c = config();
    // The limit bounds the server's stream header too, so leave room for it.
    c.limits.max_stanza_bytes = 256;
    let mut h = Harness::open(c);
    h.server(&format!(
        "<message><body>{}</body></message>",
        "x".repeat(300)
    ));
    assert!(matches!(
        h.events().as_slice(),
        [Event::Closed(CloseReason::Protocol(
            ParseError::StanzaTooLarge { limit: 256 }
        ))]
    ));
    assert!(h.sent().starts_with("<stream:error><policy-violation "));
}

#[test]
fn end_of_input_is_reported_as_such() {
    let mut h = Harness::open(config());
    h.server("<message><bo");
    h.client.handle_eof(h.now);
    assert_eq!(
        h.events(),
        vec![Event::Closed(CloseReason::EndOfInput { mid_element: true })]
    );
    assert_eq!(h.sent(), "", "nothing is written to a dead transport");

    let mut h = Harness::open(config());
    h.client.handle_eof(h.now);
    assert_eq!(
        h.events(),
        vec![Event::Closed(CloseReason::EndOfInput {
            mid_element: false
        })]
    );
}

#[test]
fn end_of_input_while_closing_is_a_clean_local_close() {
    let mut h = Harness::open(config());
    let now = h.now;
    h.client.close(now);
    h.client.handle_eof(now);
    assert_eq!(h.events(), vec![Event::Closed(CloseReason::Local)]);
}

#[test]
fn top_level_elements_that_are_not_stanzas_are_events() {
    let mut h = Harness::open(config());
    h.server("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>");
    let events = h.events();
    let [Event::Stream(StreamEvent::Features(el))] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert!(el.is("features", ns::STREAM));
    h.server("<x xmlns='urn:example:other'/>");
    let events = h.events();
    let [Event::Stream(StreamEvent::Element(el))] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert!(el.is("x", "urn:example:other"));
}

#[test]
fn the_same_session_gives_the_same_events_bytewise() {
    let script = "<message from='a@example.com/r' type='chat'><body>caf\u{e9} \u{65e5}\u{672c}</body></message>\
        <iq type='get' id='p1' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>\
        <presence from='a@example.com/r' type='unavailable'/></stream:stream>";
    let mut whole = Harness::open(config());
    whole.server(script);
    let mut bytewise = Harness::open(config());
    bytewise.server_bytewise(script);
    assert_eq!(whole.events(), bytewise.events());
    assert_eq!(whole.sent(), bytewise.sent());
}

/// After our `</stream:stream>` nothing may follow (RFC 6120 §4.4): found by the
/// `client_input` fuzz target (fuzz/regressions/client_input/close-then-*).
#[test]
fn nothing_is_sent_after_our_close() {
    let inputs = [
        "<iq type='get' id='x'/>",
        "<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>",
        "<iq type='get' id='q'><query xmlns='u:x'/></iq>",
        ">",
    ];
    for input in inputs {
        let mut h = Harness::open(config());
        let now = h.now;
        h.client.close(now);
        assert_eq!(h.sent(), "</stream:stream>");
        h.server(input);
        assert_eq!(h.sent(), "", "{input}");
        h.server("</stream:stream>");
        assert_eq!(h.sent(), "", "{input}");
    }
}

#[test]
fn a_protocol_error_while_closing_ends_without_a_stream_error() {
    let mut h = Harness::open(config());
    let now = h.now;
    h.client.close(now);
    h.sent();
    h.server("<a><!-- no --></a>");
    assert_eq!(
        h.events(),
        vec![Event::Closed(CloseReason::Protocol(ParseError::Comment))]
    );
    assert_eq!(h.sent(), "");
}

#[test]
fn the_send_buffer_is_bounded_for_commands() {
    let to = Jid::parse("bob@example.com").unwrap();
    let msg = || jabber_proto::stanza::Message::new(MessageType::Chat, &to, &"x".repeat(100));
    // Sizes on the wire, to set a limit two messages fit under and nothing more.
    let mut probe = Harness::open(config());
    probe.client.send(probe.now, msg().unwrap()).unwrap();
    let m = probe.sent().len();
    let now = probe.now;
    probe
        .client
        .send_iq(now, None, IqType::Get, ping())
        .unwrap();
    let p = probe.sent().len();
    let mut c = config();
    c.max_unsent_bytes = 2 * m + m.min(p) - 1;
    let mut h = Harness::open(c);
    h.client.send(h.now, msg().unwrap()).unwrap();
    h.client.send(h.now, msg().unwrap()).unwrap();
    let queued = h.client.poll_transmit().map_or(0, <[u8]>::len);
    assert_eq!(
        h.client.send(h.now, msg().unwrap()),
        Err(Error::SendBufferFull)
    );
    let now = h.now;
    assert_eq!(
        h.client.send_iq(now, None, IqType::Get, ping()),
        Err(Error::SendBufferFull)
    );
    assert_eq!(h.client.pending_iqs(), 0, "the refused IQ is forgotten");
    assert_eq!(
        h.client.poll_transmit().map_or(0, <[u8]>::len),
        queued,
        "nothing of the refused stanzas is queued"
    );
    // Once the transport took the bytes, there is room again.
    h.sent();
    h.client.send(h.now, msg().unwrap()).unwrap();
    assert_eq!(h.client.state(), State::Open);
}

#[test]
fn a_server_that_does_not_read_our_answers_is_dropped() {
    let mut c = config();
    c.max_unsent_bytes = 1_000;
    let mut h = Harness::open(c);
    // Pings the client must answer, while nobody drains what it writes.
    for i in 0..100 {
        h.server(&format!(
            "<iq type='get' id='p{i}' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>"
        ));
        if h.client.is_closed() {
            break;
        }
    }
    assert_eq!(h.events(), vec![Event::Closed(CloseReason::SendBufferFull)]);
    let unsent = h.client.poll_transmit().map_or(0, <[u8]>::len);
    assert!(unsent <= 1_000 + 200, "bounded: {unsent}");
}
