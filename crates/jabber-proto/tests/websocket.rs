//! XMPP over WebSocket (RFC 7395) on scripted transcripts: `<open/>` and `<close/>`
//! byte-exact, one element per message both ways, the restart after SASL, a redirect
//! (`see-other-uri`), messages that are not one element, and no whitespace keepalive.

mod support;

use std::num::NonZeroU64;
use std::time::Duration;

use jabber_proto::client::{CloseReason, Config, Event, SessionEvent, State, StreamEvent};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::negotiation::sasl::{Mechanism, MechanismSet};
use jabber_proto::stream::{Framing, ParseError};
use support::{Harness, SEED, wire_id};

const OPEN: &str = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' \
    version='1.0'/>";
const CLOSE: &str = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>";
const SERVER_OPEN: &str = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' \
    from='example.com' id='ws-1' version='1.0' xml:lang='en'/>";
const SASL_FEATURES: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>\
    <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\
    <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>\
    </mechanisms></stream:features>";
const BIND_FEATURES: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>\
    <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";

fn config() -> Config {
    let mut c = Config::new("example.com", NonZeroU64::new(SEED).expect("non-zero"));
    c.framing = Framing::WebSocket;
    c.transport_encrypted = true; // wss:
    c.sasl_mechanisms = MechanismSet::only(Mechanism::Plain);
    c.fetch_roster = false;
    c.initial_presence = false;
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    c
}

/// Every message the client wants to send, one per `take_transmit`.
fn messages(h: &mut Harness) -> Vec<String> {
    std::iter::from_fn(|| h.client.take_transmit())
        .map(|m| String::from_utf8(m).expect("UTF-8"))
        .collect()
}

fn closed_reason(events: &[Event]) -> Option<&CloseReason> {
    events.iter().find_map(|e| match e {
        Event::Closed(r) => Some(r),
        _ => None,
    })
}

#[test]
fn open_is_byte_exact_without_declaration() {
    let mut h = Harness::new(config());
    assert_eq!(messages(&mut h), [OPEN]);
    let mut c = config();
    c.lang = Some("de".into());
    let mut h = Harness::new(c);
    assert_eq!(
        messages(&mut h),
        [
            "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' \
          version='1.0' xml:lang='de'/>"
        ]
    );
}

#[test]
fn close_is_byte_exact_and_the_servers_close_ends_it_cleanly() {
    let mut h = Harness::new(config());
    messages(&mut h);
    h.server(SERVER_OPEN);
    let now = h.now;
    h.client.close(now);
    assert_eq!(messages(&mut h), [CLOSE]);
    assert_eq!(h.client.state(), State::Closing);
    h.server(CLOSE);
    assert_eq!(closed_reason(&h.events()), Some(&CloseReason::Local));
    assert!(h.client.is_finished());
}

#[test]
fn a_server_close_is_answered_with_ours() {
    let mut h = Harness::new(config());
    messages(&mut h);
    h.server(SERVER_OPEN);
    h.server(CLOSE);
    assert_eq!(messages(&mut h), [CLOSE]);
    assert_eq!(closed_reason(&h.events()), Some(&CloseReason::Peer));
}

#[test]
fn see_other_uri_is_a_typed_close_reason() {
    let mut h = Harness::new(config());
    messages(&mut h);
    // Instead of opening, the server sends the client elsewhere (RFC 7395 §3.6.1).
    h.server(
        "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' \
         see-other-uri='wss://other.example.com/xmpp'/>",
    );
    assert_eq!(messages(&mut h), [CLOSE]);
    let events = h.events();
    assert_eq!(
        closed_reason(&events),
        Some(&CloseReason::SeeOtherUri(
            "wss://other.example.com/xmpp".into()
        ))
    );
    assert!(!events.iter().any(|e| matches!(e, Event::Stream(_))));
}

#[test]
fn login_restarts_with_a_new_open_one_element_per_message() {
    let mut h = Harness::new(config());
    let now = h.now;
    h.client
        .login(now, Credentials::new("alice", "pw", "desk"))
        .expect("login starts");
    assert_eq!(messages(&mut h), [OPEN]);
    h.server(SERVER_OPEN);
    assert!(matches!(
        h.events().as_slice(),
        [Event::Stream(StreamEvent::Opened(open))] if open.id() == Some("ws-1")
    ));
    // STARTTLS is offered but the transport is the TLS layer: straight to SASL.
    h.server(SASL_FEATURES);
    assert_eq!(
        messages(&mut h),
        ["<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHB3</auth>"]
    );
    h.server("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    // The restart is a new `<open/>`, alone in its message.
    assert_eq!(messages(&mut h), [OPEN]);
    h.server(SERVER_OPEN);
    h.server(BIND_FEATURES);
    assert_eq!(
        messages(&mut h),
        [format!(
            "<iq xmlns='jabber:client' type='set' id='{}'>\
             <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>desk</resource></bind></iq>",
            wire_id(1)
        )]
    );
    h.server(&format!(
        "<iq xmlns='jabber:client' type='result' id='{}'>\
         <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@example.com/desk</jid>\
         </bind></iq>",
        wire_id(1)
    ));
    let events = h.events();
    let opened = events
        .iter()
        .filter(|e| matches!(e, Event::Stream(StreamEvent::Opened(_))))
        .count();
    assert_eq!(opened, 0, "the restart is no new stream: {events:?}");
    assert!(
        matches!(events.last(), Some(Event::Session(SessionEvent::Ready { jid, .. }))
            if jid.as_str() == "alice@example.com/desk"),
        "{events:?}"
    );
    // Two commands, two messages.
    let now = h.now;
    let msg = |body: &str| {
        jabber_proto::xml::Element::builder("message", "jabber:client")
            .attr("to", "bob@example.com")
            .child(jabber_proto::xml::Element::builder("body", "jabber:client").text(body))
            .build()
            .expect("valid")
    };
    h.client.send(now, msg("one")).expect("sent");
    h.client.send(now, msg("two")).expect("sent");
    assert_eq!(
        messages(&mut h),
        [
            "<message xmlns='jabber:client' to='bob@example.com'><body>one</body></message>",
            "<message xmlns='jabber:client' to='bob@example.com'><body>two</body></message>",
        ]
    );
}

#[test]
fn poll_transmit_hands_out_one_message_and_resumes_within_it() {
    let mut h = Harness::new(config());
    messages(&mut h);
    h.server(SERVER_OPEN);
    let now = h.now;
    h.client.close(now); // `<close/>` queued behind nothing
    let mut c = config();
    c.lang = Some("en".into());
    // Two messages waiting: the `<open/>` and, after the server's, a stream error pair.
    let mut h2 = Harness::new(c);
    h2.server(SERVER_OPEN);
    h2.server("<message xmlns='jabber:client'><body>"); // half an element
    let first = h2.client.poll_transmit().expect("the open").to_vec();
    assert!(first.starts_with(b"<open ") && first.ends_with(b"/>"));
    // Partly written: the rest of the same message, then the next one.
    h2.client.advance_transmit(5);
    assert_eq!(h2.client.poll_transmit().expect("rest"), &first[5..]);
    h2.client.advance_transmit(first.len()); // more than is left: only to its end
    let error = String::from_utf8(h2.client.poll_transmit().expect("error").to_vec()).unwrap();
    assert_eq!(
        error,
        "<error xmlns='http://etherx.jabber.org/streams'>\
         <not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></error>"
    );
    h2.client.advance_transmit(error.len());
    assert_eq!(h2.client.take_transmit().as_deref(), Some(CLOSE.as_bytes()));
    assert_eq!(h2.client.take_transmit(), None);
    assert!(h2.client.is_finished());
    assert_eq!(
        closed_reason(&h2.events()),
        Some(&CloseReason::Protocol(ParseError::PartialMessage))
    );
    assert_eq!(messages(&mut h), [CLOSE]);
}

/// The close reason after the server's open and then `message`.
fn fault_after_open(message: &str) -> Option<CloseReason> {
    let mut h = Harness::new(config());
    messages(&mut h);
    h.server(SERVER_OPEN);
    h.server(message);
    let sent = messages(&mut h);
    assert_eq!(sent.last().map(String::as_str), Some(CLOSE), "{sent:?}");
    closed_reason(&h.events()).cloned()
}

#[test]
fn a_message_that_is_not_one_element_is_the_servers_fault() {
    let protocol = |e| Some(CloseReason::Protocol(e));
    assert_eq!(
        fault_after_open("<presence xmlns='jabber:client'/><presence xmlns='jabber:client'/>"),
        protocol(ParseError::ExtraInMessage)
    );
    assert_eq!(
        fault_after_open("<presence xmlns='jabber:client'/>text"),
        protocol(ParseError::ExtraInMessage)
    );
    assert_eq!(
        fault_after_open("<presence xmlns='jabber:client'>"),
        protocol(ParseError::PartialMessage)
    );
    assert_eq!(fault_after_open(" "), protocol(ParseError::PartialMessage));
    assert_eq!(
        fault_after_open("</open>"),
        protocol(ParseError::MismatchedTag)
    );
    assert_eq!(
        fault_after_open(SERVER_OPEN),
        protocol(ParseError::MisplacedOpen)
    );
    // Nothing inherited from `<open/>`: a prefix must be declared on the element.
    assert_eq!(
        fault_after_open("<stream:features/>"),
        protocol(ParseError::UnboundPrefix("stream".into()))
    );
    // The same restricted XML as on a TCP stream.
    assert_eq!(
        fault_after_open("<?xml version='1.0'?><presence xmlns='jabber:client'/>"),
        protocol(ParseError::ProcessingInstruction)
    );
    assert_eq!(
        fault_after_open("<!-- hi --><presence xmlns='jabber:client'/>"),
        protocol(ParseError::Comment)
    );
}

#[test]
fn an_element_before_open_is_the_servers_fault() {
    let mut h = Harness::new(config());
    messages(&mut h);
    h.server("<presence xmlns='jabber:client'/>");
    assert_eq!(
        closed_reason(&h.events()),
        Some(&CloseReason::Protocol(ParseError::MisplacedOpen))
    );
}

#[test]
fn whitespace_around_the_element_is_no_fault_nor_an_empty_read() {
    let mut h = Harness::new(config());
    messages(&mut h);
    h.server(SERVER_OPEN);
    h.server("\n <message xmlns='jabber:client' from='bob@example.com'/>\r\n");
    // No bytes: no message (a driver's empty read), not a message without an element.
    h.server("");
    h.server("<message xmlns='jabber:client' from='bob@example.com'/>");
    assert_eq!(h.client.state(), State::Open);
    let messages = h
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::Stanza(_)))
        .count();
    assert_eq!(messages, 2);
}

#[test]
fn the_limits_hold_per_message() {
    let mut c = config();
    c.limits.max_stanza_bytes = 100;
    let mut h = Harness::new(c);
    messages(&mut h);
    h.server(SERVER_OPEN);
    h.server(&format!(
        "<message xmlns='jabber:client'><body>{}</body></message>",
        "x".repeat(200)
    ));
    assert_eq!(
        closed_reason(&h.events()),
        Some(&CloseReason::Protocol(ParseError::StanzaTooLarge {
            limit: 100
        }))
    );
}

#[test]
fn no_whitespace_keepalive_but_pings_once_logged_in() {
    let mut c = config();
    c.keepalive_interval = Some(Duration::from_secs(60));
    c.iq_timeout = Duration::from_secs(600); // the login waits for the features
    let mut h = Harness::new(c);
    let now = h.now;
    h.client
        .login(now, Credentials::new("alice", "pw", "desk"))
        .expect("login starts");
    messages(&mut h);
    h.server(SERVER_OPEN);
    // Before login nothing is due on the keepalive's account: no whitespace.
    h.advance(Duration::from_secs(61));
    assert_eq!(messages(&mut h), Vec::<String>::new());
    h.server(SASL_FEATURES);
    h.server("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    h.server(SERVER_OPEN);
    h.server(BIND_FEATURES);
    h.server(&format!(
        "<iq xmlns='jabber:client' type='result' id='{}'>\
         <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@example.com/desk</jid>\
         </bind></iq>",
        wire_id(1)
    ));
    messages(&mut h);
    h.events();
    // A quiet minute: a ping (XEP-0199), never a bare space.
    h.advance(Duration::from_secs(61));
    let sent = messages(&mut h);
    assert_eq!(
        sent,
        [format!(
            "<iq xmlns='jabber:client' type='get' id='{}' to='example.com'>\
             <ping xmlns='urn:xmpp:ping'/></iq>",
            wire_id(2)
        )]
    );
    assert!(h.client.poll_timeout().is_some());
}

const PARSER_OPEN: &str =
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' id='s1' version='1.0'/>";

#[test]
fn a_message_over_the_limit_is_refused_before_it_is_buffered() {
    use jabber_proto::Limits;
    use jabber_proto::stream::{Item, StreamParser};
    let mut limits = Limits::default();
    limits.max_stanza_bytes = 100;
    let mut parser = StreamParser::websocket(limits);
    parser.push(PARSER_OPEN.as_bytes());
    assert!(matches!(parser.next_item(), Some(Ok(Item::Header(_)))));
    // Exactly at the limit is taken.
    let fits = format!("<a xmlns='urn:x'>{}</a>", "x".repeat(100 - 21));
    assert_eq!(fits.len(), 100);
    parser.push(fits.as_bytes());
    assert!(matches!(parser.next_item(), Some(Ok(Item::Element(_)))));
    // One byte more is refused unread: nothing of it is held.
    let over = format!("<a xmlns='urn:x'>{}</a>", "x".repeat(101 - 21));
    parser.push(over.as_bytes());
    assert_eq!(parser.buffered(), 0);
    assert_eq!(
        parser.next_item(),
        Some(Err(ParseError::StanzaTooLarge { limit: 100 }))
    );
    assert_eq!(parser.buffered(), 0);
    assert_eq!(parser.next_item(), None);
}

#[test]
fn a_message_pushed_before_the_last_was_drained_is_an_error() {
    use jabber_proto::Limits;
    use jabber_proto::stream::{Item, StreamParser};
    let mut parser = StreamParser::websocket(Limits::default());
    parser.push(PARSER_OPEN.as_bytes());
    assert!(matches!(parser.next_item(), Some(Ok(Item::Header(_)))));
    parser.push(b"<a xmlns='urn:x'/>");
    parser.push(b"<b xmlns='urn:x'/>");
    assert_eq!(parser.next_item(), Some(Err(ParseError::UndrainedMessage)));
    assert_eq!(parser.buffered(), 0);
    assert_eq!(parser.next_item(), None);
}
