//! The connection state machine.
//!
//! ```text
//!   Client::new ──► Opening ──(server header)──► Open ──close()──► Closing
//!                     │                           │                  │
//!                     └──── stream error, bad XML, end of input, ────┴──► Closed
//!                           server close, close timeout                 (one Closed event)
//! ```

mod config;
mod error;
mod event;
mod iq_table;
mod session;

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

pub use config::Config;
pub use error::Error;
pub use event::{CloseReason, Event};
pub use iq_table::IqId;
pub use session::SessionState;

use iq_table::IqTable;
use session::{Internal, Phase};

use crate::features::keepalive::Keepalive;
use crate::jid::Jid;
use crate::ns;
use crate::stanza::{InvalidReason, Iq, IqType, Stanza, StanzaCondition, StanzaError};
use crate::stream::{Item, ParseError, StreamError, StreamHeader, StreamParser, Writer};
use crate::time::Instant;
use crate::xml::Element;

/// Most bytes of spare capacity a buffer keeps once it is empty (the bytes to send, the
/// parser's buffers): an idle client should not hold on to what its largest burst
/// needed. Smaller buffers are kept, so steady small traffic does not allocate anew for
/// every read or write.
const IDLE_KEEP_BYTES: usize = 256;

/// Events an emptied queue keeps room for: one (an `Event` is 120 bytes), so the usual
/// input — one stanza, one event — allocates nothing for its event, and a burst leaves
/// no more behind.
const IDLE_EVENTS: usize = 1;

/// Where the connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// Our stream header is sent; the server's has not arrived.
    Opening,
    /// Both stream headers exchanged: stanzas flow.
    Open,
    /// We sent `</stream:stream>` and wait for the server's.
    Closing,
    /// Over. Only the closing bytes may still be waiting in
    /// [`poll_transmit`](Client::poll_transmit).
    Closed,
}

/// One client connection, without I/O.
///
/// The methods fall into four groups, in the manner of `quinn-proto`:
/// - **getters** (`&self`): [`state`](Self::state), [`server_header`](Self::server_header),
///   [`wants_write`](Self::wants_write), ...
/// - **inputs**: [`handle_input`](Self::handle_input), [`handle_eof`](Self::handle_eof),
///   [`handle_timeout`](Self::handle_timeout);
/// - **commands**: [`send`](Self::send), [`send_iq`](Self::send_iq),
///   [`respond`](Self::respond), [`close`](Self::close) — a refused command returns an
///   [`Error`] and changes nothing;
/// - **outputs**: [`poll_transmit`](Self::poll_transmit) with
///   [`advance_transmit`](Self::advance_transmit), [`poll_event`](Self::poll_event),
///   [`poll_timeout`](Self::poll_timeout).
///
/// **The drain rule:** after every input and every command, drain all three outputs: write
/// the bytes, handle the events, and re-arm the timer with `poll_timeout`.
///
/// ```
/// use jabber_proto::client::{Client, Config, Event, State};
/// use jabber_proto::time::Instant;
///
/// let now = Instant::from_millis(0);
/// let mut client = Client::new(Config::new("example.com"), now);
/// // The stream header is ready to be written to the socket.
/// let out = client.poll_transmit().unwrap().to_vec();
/// assert!(out.starts_with(b"<?xml version='1.0'?><stream:stream"));
/// client.advance_transmit(out.len());
///
/// // Bytes from the socket, in whatever pieces they come.
/// client.handle_input(now, b"<stream:stream xmlns='jabber:client' ");
/// client.handle_input(now, b"xmlns:stream='http://etherx.jabber.org/streams' id='s1'>");
/// assert!(matches!(client.poll_event(), Some(Event::StreamOpened(_))));
/// assert_eq!(client.state(), State::Open);
/// ```
#[derive(Debug)]
pub struct Client {
    config: Config,
    state: State,
    parser: StreamParser,
    out: Vec<u8>,
    out_pos: usize,
    events: VecDeque<Event>,
    iqs: IqTable,
    server_header: Option<StreamHeader>,
    close_deadline: Option<Instant>,
    /// The latest time any input or command brought; writes without a `now` of their own
    /// ([`send`](Self::send)) are stamped with it.
    now: Instant,
    keepalive: Keepalive,
    phase: Phase,
    /// `<stream:features>` arrived (on a `version='1.0'` stream).
    features_received: bool,
    /// ... and announced `jabber:iq:auth` (XEP-0078 §4).
    iq_auth_feature: bool,
    /// A registration request is in flight (or queued).
    registration_busy: bool,
    /// `request_registration` was called before the stream (or its features) arrived;
    /// it fails if they have not by this deadline.
    registration_queued: Option<Instant>,
    /// Why the connection ended, once it has (boxed: a live client needs no room for it).
    close_reason: Option<Box<CloseReason>>,
}

impl Client {
    /// A connection to `config.domain`; our stream header is queued for transmission at
    /// once.
    pub fn new(config: Config, now: Instant) -> Client {
        let parser = StreamParser::new(config.limits.clone());
        let writer = Writer::CLIENT;
        let mut header = StreamHeader::new(ns::CLIENT).with_to(&config.domain);
        if let Some(v) = &config.version {
            header = header.with_version(v);
        }
        if let Some(lang) = &config.lang {
            header = header.with_lang(lang);
        }
        let mut out = Vec::new();
        if config.send_declaration {
            writer.declaration(&mut out);
        }
        writer.header(&mut out, &header);
        let config_keepalive = (config.keepalive_interval, config.dead_peer_timeout);
        Client {
            iqs: IqTable::new(config.seed),
            config,
            state: State::Opening,
            parser,
            out,
            out_pos: 0,
            events: VecDeque::new(),
            server_header: None,
            close_deadline: None,
            now,
            keepalive: Keepalive::new(now, config_keepalive.0, config_keepalive.1),
            phase: Phase::default(),
            features_received: false,
            iq_auth_feature: false,
            registration_busy: false,
            registration_queued: None,
            close_reason: None,
        }
    }

    // ---- getters ----

    /// Where the connection is.
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether the connection is over (the `Closed` event has been queued).
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Why the connection ended (the reason [`Event::Closed`] carried), once it has.
    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.close_reason.as_deref()
    }

    /// The server's stream header, once received.
    pub fn server_header(&self) -> Option<&StreamHeader> {
        self.server_header.as_ref()
    }

    /// Whether bytes are waiting in [`poll_transmit`](Self::poll_transmit).
    pub fn wants_write(&self) -> bool {
        self.out_pos < self.out.len()
    }

    /// IQs the application sent and that are not answered yet (the client's own
    /// requests — login, roster, probes — are not counted).
    pub fn pending_iqs(&self) -> usize {
        self.iqs.app_len()
    }

    /// The settings in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    // ---- inputs ----

    /// Bytes received from the server, in any chunking. Ignored once closed.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        if self.state == State::Closed {
            return;
        }
        self.now = self.now.max(now);
        if !bytes.is_empty() {
            self.keepalive.on_received(now);
        }
        self.parser.push(bytes);
        self.drain_parser();
        self.parser.shrink_idle(IDLE_KEEP_BYTES);
    }

    /// The transport reached end of input (the server closed the connection).
    pub fn handle_eof(&mut self, now: Instant) {
        if self.state == State::Closed {
            return;
        }
        self.now = self.now.max(now);
        self.parser.push_eof();
        self.drain_parser();
    }

    /// Time has passed; fires every deadline at or before `now`. Calling it early or
    /// twice is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Closed {
            return;
        }
        self.now = self.now.max(now);
        while let Some((id, internal)) = self.iqs.pop_expired(now) {
            match internal {
                // After our close the session is over; its timeouts mean nothing.
                Some(internal) if self.state == State::Open => {
                    self.on_internal_reply(internal, None);
                }
                Some(_) => {}
                None => self.events.push_back(Event::IqTimeout { id }),
            }
        }
        if self.close_deadline.is_some_and(|d| d <= now) {
            self.finish(CloseReason::LocalTimeout);
        }
        if self.state != State::Closed {
            self.run_session_timers(now);
            self.check_server_reads();
        }
    }

    // ---- commands ----

    /// Sends a stanza (or any top-level element).
    pub fn send(&mut self, stanza: impl Into<Element>) -> Result<(), Error> {
        self.check_open()?;
        let before = self.out.len();
        self.emit(&stanza.into());
        self.check_room(before)
    }

    /// Sends an IQ get or set carrying `payload` to `to` (`None`: our own account/server)
    /// and returns the handle its outcome will carry: [`Event::IqResult`],
    /// [`Event::IqError`] or [`Event::IqTimeout`].
    pub fn send_iq(
        &mut self,
        now: Instant,
        to: Option<&Jid>,
        kind: IqType,
        payload: Element,
    ) -> Result<IqId, Error> {
        self.now = self.now.max(now);
        let before = self.out.len();
        let id = self.request(to, kind, payload, None)?;
        if let Err(e) = self.check_room(before) {
            self.iqs.forget(id);
            return Err(e);
        }
        Ok(id)
    }

    /// Sends an IQ request stamped with `self.now`; `internal` marks the client's own.
    fn request(
        &mut self,
        to: Option<&Jid>,
        kind: IqType,
        payload: Element,
        internal: Option<Internal>,
    ) -> Result<IqId, Error> {
        self.check_open()?;
        if !kind.is_request() {
            return Err(Error::NotARequest);
        }
        // At least a millisecond: a reply cannot come in no time, and a deadline at `now`
        // would fire again as soon as it is handled.
        let deadline = self.now
            + self
                .config
                .iq_timeout
                .max(core::time::Duration::from_millis(1));
        let (id, wire_id) = self.iqs.insert(to.cloned(), deadline, internal);
        let mut b = Element::builder("iq", ns::CLIENT)
            .attr("type", kind.as_str())
            .attr("id", &wire_id);
        if let Some(to) = to {
            b = b.attr("to", to.as_str());
        }
        match b.child(payload).build() {
            Ok(iq) => {
                self.emit(&iq);
                Ok(id)
            }
            Err(e) => {
                self.iqs.cancel(&wire_id);
                Err(e.into())
            }
        }
    }

    /// Answers an [`Event::IqRequest`]: a result (with an optional payload) or an error.
    pub fn respond(
        &mut self,
        request: &Iq,
        response: Result<Option<Element>, StanzaError>,
    ) -> Result<(), Error> {
        self.check_open()?;
        if !request.kind().is_request() {
            return Err(Error::NotARequest);
        }
        let before = self.out.len();
        self.reply(request.element(), response)?;
        self.check_room(before)
    }

    /// Closes the stream: sends `</stream:stream>` and waits (at most
    /// [`Config::close_timeout`]) for the server's. Does nothing if already closing.
    pub fn close(&mut self, now: Instant) {
        self.now = self.now.max(now);
        if matches!(self.state, State::Opening | State::Open) {
            Writer::CLIENT.close(&mut self.out);
            self.state = State::Closing;
            self.close_deadline = Some(self.now + self.config.close_timeout);
        }
    }

    // ---- outputs ----

    /// Bytes to write to the transport, if any. After writing `n` of them, call
    /// [`advance_transmit`](Self::advance_transmit)`(n)`.
    pub fn poll_transmit(&self) -> Option<&[u8]> {
        self.out.get(self.out_pos..).filter(|b| !b.is_empty())
    }

    /// Marks `n` bytes of [`poll_transmit`](Self::poll_transmit) as written.
    pub fn advance_transmit(&mut self, n: usize) {
        self.out_pos = (self.out_pos + n).min(self.out.len());
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
            if self.out.capacity() > IDLE_KEEP_BYTES {
                self.out = Vec::new();
            }
        }
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front();
        if self.events.is_empty() && self.events.capacity() > IDLE_EVENTS {
            self.events.shrink_to(IDLE_EVENTS);
        }
        event
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called; `None` when no
    /// timer is running.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == State::Closed {
            return None;
        }
        [
            self.iqs.next_deadline(),
            self.close_deadline,
            self.session_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ---- internals ----

    /// Bytes queued for the transport and not yet written.
    fn unsent(&self) -> usize {
        self.out.len() - self.out_pos
    }

    /// After an application command wrote from `before` on: undoes it if the unsent bytes
    /// now exceed [`Config::max_unsent_bytes`].
    fn check_room(&mut self, before: usize) -> Result<(), Error> {
        if self.unsent() > self.config.max_unsent_bytes {
            self.out.truncate(before);
            return Err(Error::SendBufferFull);
        }
        Ok(())
    }

    /// After the client wrote on its own (answers, keepalives, the session's requests):
    /// a server that leaves that much unread is not reading at all.
    fn check_server_reads(&mut self) {
        if self.state != State::Closed && self.unsent() > self.config.max_unsent_bytes {
            self.finish(CloseReason::SendBufferFull);
        }
    }

    /// Writes one element; every write resets the keepalive's idle clock.
    fn emit(&mut self, element: &Element) {
        Writer::CLIENT.element(&mut self.out, element.root());
        self.keepalive.on_sent(self.now);
    }

    fn check_open(&self) -> Result<(), Error> {
        match self.state {
            State::Open => Ok(()),
            State::Opening => Err(Error::NotOpen),
            State::Closing | State::Closed => Err(Error::Closed),
        }
    }

    fn drain_parser(&mut self) {
        while self.state != State::Closed {
            let Some(item) = self.parser.next_item() else {
                break;
            };
            match item {
                Ok(Item::Header(header)) => {
                    if self.state == State::Opening {
                        self.state = State::Open;
                    }
                    self.server_header = Some(header.compact());
                    self.events.push_back(Event::StreamOpened(header));
                    self.start_queued();
                }
                Ok(Item::Element(el)) => {
                    self.on_element(el);
                    self.check_server_reads();
                }
                Ok(Item::Close) => {
                    if self.state != State::Closing {
                        Writer::CLIENT.close(&mut self.out);
                        self.finish(CloseReason::Peer);
                    } else {
                        self.finish(CloseReason::Local);
                    }
                }
                Err(e) => self.on_parse_error(e),
            }
        }
    }

    fn on_parse_error(&mut self, e: ParseError) {
        if e.is_end_of_input() {
            let reason = if self.state == State::Closing {
                CloseReason::Local
            } else {
                CloseReason::EndOfInput {
                    mid_element: e == ParseError::TruncatedStanza,
                }
            };
            self.finish(reason);
            return;
        }
        // The server's fault: tell it why, then close (RFC 6120 §4.9.1.1) — unless our
        // side of the stream is already closed, after which nothing may follow.
        if self.state != State::Closing {
            let error = StreamError::new(e.condition()).to_element();
            Writer::CLIENT.element(&mut self.out, error.root());
            Writer::CLIENT.close(&mut self.out);
        }
        self.finish(CloseReason::Protocol(e));
    }

    fn finish(&mut self, reason: CloseReason) {
        self.state = State::Closed;
        self.iqs.clear();
        self.close_deadline = None;
        self.close_reason = Some(Box::new(reason.clone()));
        self.events.push_back(Event::Closed(reason));
    }

    fn on_element(&mut self, el: Element) {
        if let Some(error) = StreamError::from_element(el.root()) {
            if self.state != State::Closing {
                Writer::CLIENT.close(&mut self.out);
            }
            self.finish(CloseReason::StreamError(error));
            return;
        }
        if el.is("features", ns::STREAM) {
            // A version-less stream has no features; prosody sends them anyway.
            if !self.stream_has_features() {
                return;
            }
            self.features_received = true;
            self.iq_auth_feature = el.child("auth", ns::FEATURE_IQ_AUTH).is_some();
            self.events.push_back(Event::Element(el));
            self.start_queued();
            return;
        }
        match Stanza::try_from(el) {
            Ok(Stanza::Message(m)) => self.events.push_back(Event::Message(m)),
            Ok(Stanza::Presence(p)) => self.events.push_back(Event::Presence(p)),
            Ok(Stanza::Iq(iq)) => self.on_iq(iq),
            Err(invalid) if invalid.reason == InvalidReason::NotAStanza => {
                self.events.push_back(Event::Element(invalid.element));
            }
            Err(invalid) => {
                let el = &invalid.element;
                let is_request = el.is("iq", ns::CLIENT)
                    && el.attr("id").is_some()
                    && matches!(el.attr("type"), Some("get" | "set"));
                if is_request {
                    let _ = self.reply(el, Err(StanzaError::new(StanzaCondition::BadRequest)));
                }
                self.events.push_back(Event::InvalidStanza(invalid));
            }
        }
    }

    fn on_iq(&mut self, iq: Iq) {
        match iq.kind() {
            IqType::Result | IqType::Error => {
                // A reply nobody asked for, or from the wrong address, is ignored (RFC 6120
                // §8.2.3); the request it claims to answer keeps waiting.
                let own = match &self.phase {
                    Phase::LoggedIn { jid, .. } => Some(jid),
                    _ => None,
                };
                let Some((id, internal)) = self.iqs.take_reply(
                    iq.id().unwrap_or_default(),
                    iq.from(),
                    &self.config.domain,
                    own,
                ) else {
                    return;
                };
                if let Some(internal) = internal {
                    // Once our side is closed the session has nothing left to do: a
                    // late login or registration reply must not make us write again.
                    if self.state == State::Open {
                        self.on_internal_reply(internal, Some(iq));
                    }
                    return;
                }
                let event = if iq.kind() == IqType::Result {
                    Event::IqResult { id, iq }
                } else {
                    let error = iq
                        .error()
                        .unwrap_or_else(|| StanzaError::new(StanzaCondition::UndefinedCondition));
                    Event::IqError { id, error, iq }
                };
                self.events.push_back(event);
            }
            IqType::Get | IqType::Set => {
                let (name, payload_ns) =
                    iq.payload().map(|p| (p.name(), p.ns())).unwrap_or_default();
                if self.config.iq_namespaces.iter().any(|n| n == payload_ns) {
                    self.events.push_back(Event::IqRequest(iq));
                } else if iq.kind() == IqType::Get && name == "ping" && payload_ns == ns::PING {
                    let _ = self.reply(iq.element(), Ok(None));
                } else if iq.kind() == IqType::Set && name == "query" && payload_ns == ns::IQ_ROSTER
                {
                    self.on_roster_push(iq);
                } else {
                    let _ = self.reply(
                        iq.element(),
                        Err(StanzaError::new(StanzaCondition::ServiceUnavailable)),
                    );
                }
            }
        }
    }

    /// Writes the reply to the IQ request `request`. Once our side of the stream is closed
    /// nothing more may be sent (RFC 6120 §4.4), so the reply is dropped.
    fn reply(
        &mut self,
        request: &Element,
        response: Result<Option<Element>, StanzaError>,
    ) -> Result<(), Error> {
        if self.state != State::Open {
            return Ok(());
        }
        let kind = if response.is_ok() {
            IqType::Result
        } else {
            IqType::Error
        };
        let mut b = Element::builder("iq", ns::CLIENT)
            .attr("type", kind.as_str())
            .attr("id", request.attr("id").unwrap_or_default());
        if let Some(from) = request.attr("from") {
            b = b.attr("to", from);
        }
        b = match response {
            Ok(None) => b,
            Ok(Some(payload)) => b.child(payload),
            Err(error) => b.child(error.to_element(ns::CLIENT)?),
        };
        let reply = b.build()?;
        self.emit(&reply);
        Ok(())
    }
}
