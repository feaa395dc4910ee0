//! Drives `Client` with a valid server header followed by fuzzer bytes, in fuzzer-chosen
//! chunks, interleaved with virtual time, IQs, closes and partial writes.
//!
//! Input: byte 0 = number `n` of control bytes, then `n` control bytes, then the server's
//! bytes after its header. Each control byte is one step:
//!
//! | byte        | step                                                          |
//! |-------------|---------------------------------------------------------------|
//! | `00`–`7F`   | deliver the next `b + 1` bytes of the server stream           |
//! | `80`–`BF`   | advance the clock by `(b & 0x3F)` seconds, `handle_timeout`   |
//! | `C0`–`CF`   | `send_iq` get (ping; odd: to the server's domain)             |
//! | `D0`–`DF`   | `close`                                                       |
//! | `E0`–`E7`   | `handle_eof`                                                  |
//! | `E8`–`EB`   | `handle_reset`                                                |
//! | `EC`–`EF`   | `take_transmit`: all pending bytes as an owned buffer         |
//! | `F0`–`FF`   | write only `b & 0x0F` of the pending bytes this step          |
//!
//! An input of even length runs with `Config::max_events` = 4, so the event bound (parsing
//! paused, input refused, resumed through the timer) is exercised; odd, with the default.
//!
//! Every other step writes all pending bytes. When the control bytes run out, the rest of
//! the stream is delivered at once, the clock jumps two minutes, and the input ends.
//!
//! Checked: no panic; `IqRequest`s are answered; each IQ handle is resolved at most once
//! and only if it was issued; once the client is closed it produces no byte beyond those
//! queued by then (its closing ones) and no event after `Closed`; `Closed` comes exactly
//! once, and always after end of input or a reset; no deadline is left in the past after
//! `handle_timeout` (except the one that resumes paused parsing, due at once while there
//! is room for events); refused input is offered again and never lost; everything sent
//! is UTF-8 and a well-formed client stream that ends with `</stream:stream>` whenever the
//! stream was closed by either side and the transport could still take bytes.
#![no_main]

use std::num::NonZeroU64;
use std::collections::BTreeSet;
use std::time::Duration;

use jabber_proto::Limits;
use jabber_proto::client::{Client, CloseReason, Config, Event, IqEvent, IqId, StanzaEvent, StreamEvent};
use jabber_proto::jid::Jid;
use jabber_proto::stanza::{IqType, StanzaCondition, StanzaError};
use jabber_proto::stream::{Item, StreamParser};
use jabber_proto::time::Instant;
use jabber_proto::xml::Element;
use libfuzzer_sys::fuzz_target;

/// The server's stream header, as ejabberd sends it.
const HEADER: &[u8] = b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='4217446383215346765' \
    from='example.com' version='1.0' xml:lang='en'>";

struct Sim {
    client: Client,
    now: Instant,
    /// Bytes written to the "socket".
    sent: Vec<u8>,
    /// `sent` plus pending bytes, frozen once the client is closed.
    frozen: Option<usize>,
    closed: Option<CloseReason>,
    opened: bool,
    /// IQ handles issued and not yet resolved.
    outstanding: BTreeSet<IqId>,
    /// Every handle issued.
    issued: BTreeSet<IqId>,
    responses: u32,
}

impl Sim {
    fn new(max_events: usize) -> Sim {
        let mut config = Config::new("example.com", NonZeroU64::MIN);
        config.max_events = max_events;
        // The simulated server is classic (jabber:iq:auth): stated, the default is 1.0.
        config.version = None;
        config.limits = {
            let mut l = Limits::default();
            l.max_stanza_bytes = 1024;
            l.max_depth = 16;
            l.max_attributes = 16;
            l
        };
        config.iq_namespaces = vec!["jabber:iq:roster".into(), "jabber:iq:version".into()];
        config.iq_timeout = Duration::from_secs(60);
        config.close_timeout = Duration::from_secs(10);
        let now = Instant::ZERO;
        let mut sim = Sim {
            client: Client::new(config, now),
            now,
            sent: Vec::new(),
            frozen: None,
            closed: None,
            opened: false,
            outstanding: BTreeSet::new(),
            issued: BTreeSet::new(),
            responses: 0,
        };
        sim.settle(None);
        sim
    }

    fn produced(&self) -> usize {
        self.sent.len() + self.client.poll_transmit().map_or(0, <[u8]>::len)
    }

    /// After every call into the client: once closed, nothing more is produced.
    fn check_frozen(&mut self) {
        if self.client.is_closed() {
            let produced = self.produced();
            match self.frozen {
                None => self.frozen = Some(produced),
                Some(f) => assert_eq!(f, produced, "bytes produced after the client closed"),
            }
            assert_eq!(
                self.client.poll_timeout(),
                None,
                "timer running after close"
            );
        }
    }

    /// Drains events (answering requests, and resuming paused parsing when its timer is
    /// due), then writes `write` pending bytes (all if `None`).
    fn settle(&mut self, write: Option<usize>) {
        self.check_frozen();
        loop {
            self.drain_events();
            if !self.client.poll_timeout().is_some_and(|t| t <= self.now) {
                break;
            }
            self.client.handle_timeout(self.now);
            self.check_frozen();
        }
        self.write(write);
        self.check_frozen();
    }

    fn drain_events(&mut self) {
        while let Some(event) = self.client.poll_event() {
            assert!(self.closed.is_none(), "event after Closed: {event:?}");
            match event {
                Event::Stream(StreamEvent::Opened(_)) => {
                    assert!(!self.opened, "StreamOpened twice");
                    self.opened = true;
                }
                Event::Iq(IqEvent::Result { id, .. })
                | Event::Iq(IqEvent::Error { id, .. })
                | Event::Iq(IqEvent::Timeout { id }) => {
                    assert!(self.issued.contains(&id), "{id} was never issued");
                    assert!(self.outstanding.remove(&id), "{id} resolved twice");
                }
                Event::Stanza(StanzaEvent::IqRequest(iq)) => {
                    assert!(iq.kind().is_request());
                    self.responses += 1;
                    let response = match self.responses % 3 {
                        0 => Ok(None),
                        1 => Ok(Some(
                            Element::builder("query", "jabber:iq:version")
                                .child(Element::builder("name", "jabber:iq:version").text("fuzz"))
                                .build()
                                .expect("valid payload"),
                        )),
                        _ => Err(StanzaError::new(StanzaCondition::FeatureNotImplemented)),
                    };
                    let was_closed = self.client.is_closed();
                    let r = self.client.respond(self.now, &iq, response);
                    assert!(!(was_closed && r.is_ok()), "respond accepted after close");
                    self.check_frozen();
                }
                Event::Closed(reason) => {
                    assert!(
                        self.client.is_closed(),
                        "Closed event but state {:?}",
                        self.client.state()
                    );
                    // Outstanding IQs are dropped with the connection.
                    self.outstanding.clear();
                    self.closed = Some(reason);
                }
                Event::Stanza(StanzaEvent::Message(_))
                | Event::Presence(_)
                | Event::Subscription(_)
                | Event::Stream(StreamEvent::Element(_))
                | Event::Stanza(StanzaEvent::Invalid(_)) => {}
                _ => {}
            }
        }
        if self.client.is_closed() {
            assert!(self.closed.is_some(), "state Closed without a Closed event");
        }
    }

    fn write(&mut self, write: Option<usize>) {
        let mut budget = write.unwrap_or(usize::MAX);
        while budget > 0 {
            let Some(bytes) = self.client.poll_transmit() else {
                break;
            };
            let n = bytes.len().min(budget);
            assert!(n > 0, "poll_transmit returned an empty slice");
            self.sent.extend_from_slice(&bytes[..n]);
            self.client.advance_transmit(n);
            budget -= n;
        }
        self.check_frozen();
    }

    fn step(&mut self, op: u8, stream: &mut &[u8]) {
        let mut write = None;
        match op {
            0x00..=0x7F => {
                let n = (usize::from(op) + 1).min(stream.len());
                let (piece, rest) = stream.split_at(n);
                match self.client.handle_input(self.now, piece) {
                    Ok(()) => *stream = rest,
                    // Not taken: offered again by a later step, so nothing is lost.
                    Err(e) => {
                        assert_eq!(e, jabber_proto::client::Error::EventQueueFull);
                        assert!(!self.client.wants_input());
                    }
                }
            }
            0x80..=0xBF => {
                self.now = self.now + Duration::from_secs(u64::from(op & 0x3F));
                self.timeout();
            }
            0xC0..=0xCF => {
                let to = (op & 1 == 1).then(|| Jid::parse("example.com").expect("valid JID"));
                let ping = Element::builder("ping", "urn:xmpp:ping")
                    .build()
                    .expect("valid payload");
                let was_open = self.client.state() == jabber_proto::client::State::Open;
                match self
                    .client
                    .send_iq(self.now, to.as_ref(), IqType::Get, ping)
                {
                    Ok(id) => {
                        assert!(was_open, "send_iq accepted while not open");
                        assert!(self.issued.insert(id), "{id} issued twice");
                        self.outstanding.insert(id);
                    }
                    Err(_) => assert!(!was_open, "send_iq refused while open"),
                }
            }
            0xD0..=0xDF => self.client.close(self.now),
            0xE0..=0xE7 => self.eof(),
            0xE8..=0xEB => {
                self.client.handle_reset(self.now);
                assert!(self.client.is_finished(), "a reset leaves nothing to write");
            }
            0xEC..=0xEF => {
                if let Some(bytes) = self.client.take_transmit() {
                    assert!(!bytes.is_empty(), "take_transmit returned an empty buffer");
                    self.sent.extend_from_slice(&bytes);
                }
                assert!(!self.client.wants_write());
            }
            0xF0..=0xFF => write = Some(usize::from(op & 0x0F)),
        }
        self.settle(write);
    }

    fn timeout(&mut self) {
        self.client.handle_timeout(self.now);
        // Drained, so paused parsing (if any) has resumed: every deadline is ahead.
        self.settle(Some(0));
        if let Some(t) = self.client.poll_timeout() {
            assert!(
                t > self.now,
                "deadline {t:?} not after now {:?} after handle_timeout",
                self.now
            );
        }
    }

    fn eof(&mut self) {
        self.client.handle_eof(self.now);
        self.settle(None);
        assert!(
            self.client.is_closed(),
            "still {:?} after end of input",
            self.client.state()
        );
    }

    /// What was sent must be a well-formed client stream.
    fn check_output(&self) {
        let text = std::str::from_utf8(&self.sent).expect("the client sent invalid UTF-8");
        assert_eq!(self.sent.len(), self.frozen.expect("closed at the end"));
        let mut parser = StreamParser::new(Limits::default());
        parser.push(text.as_bytes());
        parser.push_eof();
        let mut items = Vec::new();
        while let Some(item) = parser.next_item() {
            items.push(item);
        }
        assert!(
            matches!(items.first(), Some(Ok(Item::Header(_)))),
            "output starts {items:?}"
        );
        let closes = text.matches("</stream:stream>").count();
        assert!(closes <= 1, "closed our stream {closes} times");
        match items.last() {
            Some(Ok(Item::Close)) => {}
            Some(Err(e)) if e.is_end_of_input() => {
                assert_eq!(closes, 0);
                // We may leave our stream open only when the transport ended first, or
                // could take no more (a dead, unreading or reset peer).
                assert!(
                    matches!(self.closed, Some(CloseReason::EndOfInput { .. }))
                        || self.closed.as_ref().is_some_and(CloseReason::abandons_output),
                    "stream left open after {:?}",
                    self.closed
                );
            }
            other => panic!("our output is not a well-formed stream: {other:?}\n{text}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (ops, body) = match data.split_first() {
        Some((&n, rest)) => rest.split_at(usize::from(n).min(rest.len())),
        None => (&[][..], data),
    };
    let mut stream_bytes = Vec::with_capacity(HEADER.len() + body.len());
    stream_bytes.extend_from_slice(HEADER);
    stream_bytes.extend_from_slice(body);
    let mut stream = &stream_bytes[..];

    let mut sim = Sim::new(if data.len() % 2 == 0 { 4 } else { 1024 });
    for &op in ops {
        sim.step(op, &mut stream);
    }
    // The rest at once, offered again (after draining) whenever it is refused.
    while !sim.client.is_closed() && sim.client.handle_input(sim.now, stream).is_err() {
        sim.settle(None);
    }
    sim.settle(None);
    sim.now = sim.now + Duration::from_secs(120);
    sim.timeout();
    sim.settle(None);
    sim.eof();
    sim.check_output();
});
