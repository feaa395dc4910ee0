//! The connection state machine.
//!
//! ```text
//!   Client::new ──► Opening ──(server header)──► Open ──close()──► Closing
//!                     │                           │                  │
//!                     └──── stream error, bad XML, end of input, ────┴──► Closed
//!                           reset, server close, close timeout          (one Closed event)
//! ```
//!
//! [`Client`] keeps what every feature shares — the stream, the bytes to send, the
//! events, the IQ table, time and the session's address, in one context — and routes
//! each input to the feature that owns it: the login and account exchanges
//! (`negotiation`), the roster, our presence and the keepalive (`features`).

mod capture;
mod conference;
mod config;
mod context;
mod disco;
mod error;
mod event;
mod files;
mod im;
mod iq_table;
mod messages;
mod policy;
mod services;
mod session;
mod stream_management;
mod trace;

use alloc::format;
use alloc::vec::Vec;

pub use crate::features::conference::ConferenceEvent;
/// How [`Config::framing`] frames the stream (defined in the stream layer).
pub use crate::stream::Framing;
pub use capture::{CAPTURE_NS, CaptureRecord, RecordKind};
pub use config::{Config, ConnectionName};
pub use error::Error;
pub use event::CarbonEvent;
pub use event::DiscoEvent;
pub use event::ServiceEvent;
pub use event::SmEvent;
pub use event::TransferEvent;
pub use event::{
    AccountEvent, CloseReason, Event, IqEvent, RosterEvent, SessionEvent, StanzaEvent, StreamEvent,
};
pub use event::{PresenceEvent, SubscriptionEvent};
pub use iq_table::{InFlightIq, IqId};
pub use messages::AutoAnswers;
pub use session::SessionState;

pub(crate) use context::{Cx, Reply};
pub(crate) use iq_table::Owner;

use crate::console::{ConsoleEntry, Direction};
use crate::features::caps::Capabilities;
use crate::features::contacts::Contacts;
use crate::features::disclosure::Responders;
use crate::features::keepalive::Keepalive;
use crate::features::messaging::Messaging;
use crate::features::presence::OwnPresence;
use crate::features::roster::{Roster, RosterSync};
use crate::features::subscriptions::Subscriptions;
use crate::jid::Jid;
use crate::negotiation::account::Account;
use crate::negotiation::features::StreamFeatures;
use crate::negotiation::login::{Login, Next};
use crate::negotiation::sasl::ChannelBinding;
use crate::ns;
use crate::stanza::{InvalidReason, Iq, IqType, Stanza, StanzaCondition, StanzaError};
use crate::stream::framing;
use crate::stream::{Item, ParseError, StreamError, StreamHeader, StreamParser, Writer};
use crate::time::Instant;
use crate::xml::Element;

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
///   [`wants_write`](Self::wants_write), [`is_finished`](Self::is_finished), ...
/// - **inputs**: [`handle_input`](Self::handle_input), [`handle_eof`](Self::handle_eof),
///   [`handle_reset`](Self::handle_reset), [`handle_timeout`](Self::handle_timeout);
/// - **commands**, each taking the current time: [`send`](Self::send),
///   [`send_iq`](Self::send_iq), [`respond`](Self::respond), [`close`](Self::close),
///   [`login`](Self::login), ... — a refused command returns an [`Error`] and changes
///   nothing;
/// - **outputs**: [`poll_transmit`](Self::poll_transmit) with
///   [`advance_transmit`](Self::advance_transmit) (or [`take_transmit`](Self::take_transmit)
///   for completion-based I/O), [`poll_event`](Self::poll_event),
///   [`poll_timeout`](Self::poll_timeout).
///
/// **The drain rule:** after every input and every command, drain all three outputs: write
/// the bytes, handle the events, and re-arm the timer with `poll_timeout`.
///
/// ```
/// use core::num::NonZeroU64;
/// use jabber_proto::client::{Client, Config, Event, State, StreamEvent};
/// use jabber_proto::time::Instant;
///
/// let now = Instant::from_millis(0);
/// let seed = NonZeroU64::new(7).unwrap();
/// let mut client = Client::new(Config::new("example.com", seed), now);
/// // The stream header is ready to be written to the socket.
/// let out = client.poll_transmit().unwrap().to_vec();
/// assert!(out.starts_with(b"<?xml version='1.0'?><stream:stream"));
/// client.advance_transmit(out.len());
///
/// // Bytes from the socket, in whatever pieces they come.
/// client.handle_input(now, b"<stream:stream xmlns='jabber:client' ").unwrap();
/// client.handle_input(now, b"xmlns:stream='http://etherx.jabber.org/streams' id='s1'>").unwrap();
/// assert!(matches!(client.poll_event(), Some(Event::Stream(StreamEvent::Opened(_)))));
/// assert_eq!(client.state(), State::Open);
/// ```
#[derive(Debug)]
pub struct Client {
    cx: Cx,
    parser: StreamParser,
    /// Parsing stopped at the event bound, maybe with input left in the parser: it
    /// resumes at the next input or timeout (`poll_timeout` is then due at once).
    input_paused: bool,
    login: Login,
    account: Account,
    roster: RosterSync,
    presence: OwnPresence,
    keepalive: Keepalive,
    contacts: Contacts,
    subscriptions: Subscriptions,
    messaging: Messaging,
    responders: Responders,
    block_policy: crate::features::block_policy::PolicyState,
    carbons: crate::features::carbons::Carbons,
    /// Contacts' verified capabilities (XEP-0115).
    caps: Capabilities,
    /// Conference rooms (boxed, none while there are none).
    conference: crate::features::conference::Conferences,
}

impl Client {
    /// A connection to `config.domain`; our stream header is queued for transmission at
    /// once.
    pub fn new(config: Config, now: Instant) -> Client {
        let parser = StreamParser::framed(config.limits.clone(), config.framing);
        let writer = Writer::CLIENT;
        let header = stream_header(&config);
        let websocket = config.framing.is_websocket();
        // Over WebSocket each message is a document of its own, without declaration.
        let declaration = config.send_declaration && !websocket;
        let write_header = |writer: &Writer, out: &mut Vec<u8>| {
            if declaration {
                writer.declaration(out);
            }
            writer.header(out, &header);
        };
        let mut out = Vec::new();
        if !websocket {
            write_header(&writer, &mut out);
        }
        let keepalive = Keepalive::new(now, config.keepalive_interval, config.dead_peer_timeout);
        let responders = Responders::new(now, config.disclosure.is_some());
        let mut cx = Cx::new(config, now, out);
        if websocket {
            cx.emit_header(&header);
        } else {
            cx.record(Direction::Out, |buf| write_header(&Writer::CONSOLE, buf));
        }
        Client {
            cx,
            parser,
            input_paused: false,
            login: Login::default(),
            account: Account::default(),
            roster: RosterSync::default(),
            presence: OwnPresence::default(),
            keepalive,
            contacts: Contacts::default(),
            subscriptions: Subscriptions::default(),
            messaging: Messaging::default(),
            responders,
            block_policy: Default::default(),
            carbons: Default::default(),
            caps: Capabilities::default(),
            conference: Default::default(),
        }
    }

    /// A client that replays a capture (see [`replay`](crate::replay)): passwords there
    /// are masked, so what only the password proves is taken as recorded.
    pub(crate) fn replaying(mut self) -> Client {
        self.cx.replaying = true;
        self
    }

    // ---- getters ----

    /// Where the connection is.
    pub fn state(&self) -> State {
        self.cx.state
    }

    /// Whether the connection is over (the `Closed` event has been queued). Bytes may
    /// still wait in [`poll_transmit`](Self::poll_transmit); see
    /// [`is_finished`](Self::is_finished).
    pub fn is_closed(&self) -> bool {
        self.cx.state == State::Closed
    }

    /// Whether the driver is done with this connection: it is closed and no byte waits
    /// to be written (after a dead, unreading or reset peer the client has already
    /// dropped what it had not written). Close the transport then.
    pub fn is_finished(&self) -> bool {
        self.is_closed() && !self.wants_write()
    }

    /// Why the connection ended (the reason [`Event::Closed`] carried), once it has.
    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.cx.close_reason()
    }

    /// The server's stream header, once received.
    pub fn server_header(&self) -> Option<&StreamHeader> {
        self.cx.server_header.as_ref()
    }

    /// Whether bytes are waiting in [`poll_transmit`](Self::poll_transmit).
    pub fn wants_write(&self) -> bool {
        self.cx.unsent() > 0
    }

    /// Whether the client waits for its driver to start TLS (STARTTLS: the server sent
    /// `<proceed/>`). Write what [`poll_transmit`](Self::poll_transmit) still holds as
    /// it is, then start the TLS handshake on the transport, and call
    /// [`handle_tls_ready`](Self::handle_tls_ready) once it is up. Until then the client
    /// writes nothing, refuses commands ([`Error::WrongPhase`]) and ignores input: bytes
    /// the server sent in plaintext after `<proceed/>` are an injection, never parsed.
    pub fn wants_tls(&self) -> bool {
        self.cx.tls_pending
    }

    /// Whether to read more input now: false while [`Config::max_events`] events wait to
    /// be drained (then [`handle_input`](Self::handle_input) refuses bytes), and while
    /// input left unparsed at that bound waits for [`handle_timeout`](Self::handle_timeout)
    /// (then due at once; input offered meanwhile is parsed after it and may be refused).
    /// A driver reads the socket only while this holds.
    pub fn wants_input(&self) -> bool {
        !self.is_closed() && !self.cx.events_full() && !self.input_paused
    }

    /// IQs the application sent and that are not answered yet (the client's own
    /// requests — login, roster, probes — are not counted).
    pub fn pending_iqs(&self) -> usize {
        self.cx.iqs.app_len()
    }

    /// The settings in use.
    pub fn config(&self) -> &Config {
        &self.cx.config
    }

    // ---- inputs ----

    /// Bytes received from the server, in any chunking. Ignored once closed. Over
    /// WebSocket ([`Config::framing`]), one call per received message, which must hold
    /// exactly one complete element (an empty input is no message) — else the server's
    /// fault: a stream error and the end, [`ParseError::PartialMessage`] or
    /// [`ExtraInMessage`](crate::stream::ParseError::ExtraInMessage).
    ///
    /// Refused with [`Error::EventQueueFull`] — none of the bytes taken — while
    /// [`Config::max_events`] events wait in [`poll_event`](Self::poll_event) (input left
    /// unparsed at that bound is parsed first, and may fill the queue again). A driver that
    /// reads only while [`wants_input`](Self::wants_input) holds, and otherwise calls
    /// [`handle_timeout`](Self::handle_timeout) when [`poll_timeout`](Self::poll_timeout)
    /// is due, never sees it.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) -> Result<(), Error> {
        // During SASL the server's bytes (its challenge, its signature) would let a
        // capture's reader test password guesses offline: they are captured as the
        // items they make, masked, instead of as received.
        let mask = self.cx.capturing() && self.login.in_sasl();
        if mask {
            self.cx.mask_input = true;
        } else {
            self.cx.capture(RecordKind::Input, now, || bytes.to_vec());
        }
        let result = self.input(now, bytes);
        self.cx.mask_input = false;
        self.capture_refusal(now, &result);
        result
    }

    fn input(&mut self, now: Instant, bytes: &[u8]) -> Result<(), Error> {
        if self.is_closed() || self.cx.tls_pending {
            return Ok(());
        }
        self.cx.tick(now);
        if !bytes.is_empty() {
            // The server is alive even when its bytes must wait for the application.
            self.keepalive.on_received(now);
        }
        self.resume_input();
        if self.is_closed() {
            // What was waiting ended the connection: these bytes are ignored, as after it.
            return Ok(());
        }
        if self.cx.events_full() {
            return Err(Error::EventQueueFull);
        }
        self.parser.push(bytes);
        let busy = bytes.len() > context::IDLE_KEEP_BYTES;
        let keep = if busy {
            context::BUSY_KEEP_BYTES
        } else {
            context::IDLE_KEEP_BYTES
        };
        self.cx.busy_until = busy.then(|| now + context::BUSY_LINGER);
        self.drain_parser(keep);
        self.cx.release_idle_events();
        Ok(())
    }

    /// The transport reached end of input (the server closed the connection).
    pub fn handle_eof(&mut self, now: Instant) {
        self.cx.capture(RecordKind::Eof, now, Vec::new);
        if self.is_closed() {
            return;
        }
        self.cx.tick(now);
        self.parser.push_eof();
        self.drain_parser(context::IDLE_KEEP_BYTES);
    }

    /// The transport failed (a connection reset, a broken pipe): unlike
    /// [`handle_eof`](Self::handle_eof), nothing can be written any more, so the
    /// connection ends at once with [`CloseReason::Reset`] and unsent bytes are dropped.
    /// Events already parsed are still delivered before [`Event::Closed`].
    pub fn handle_reset(&mut self, now: Instant) {
        self.cx.capture(RecordKind::Reset, now, Vec::new);
        if self.is_closed() {
            return;
        }
        self.cx.tick(now);
        self.cx.finish(CloseReason::Reset);
        self.forget_if_closed();
    }

    /// Time has passed; fires every deadline at or before `now` — except, while input
    /// waits unparsed at the event bound, those that wait for the server (IQ replies, its
    /// close, a queued login), which the waiting input may answer. Calling it early or
    /// twice is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.cx.capture(RecordKind::Timeout, now, Vec::new);
        if self.is_closed() {
            return;
        }
        self.cx.tick(now);
        // The latest time seen: a driver's clock that jitters back fires nothing late.
        let now = self.cx.now;
        let paused = self.input_paused;
        self.resume_input();
        if self.is_closed() {
            return;
        }
        // While input waited unparsed at the event bound, the driver did not read the
        // socket, so what waits for the server (IQ replies, its close, the stream for a
        // queued login, a sign of life) may be in it or in the parser: those timers wait —
        // for the application to drain, then for one more read.
        if !paused {
            while let Some((id, owner)) = self.cx.iqs.pop_expired(now) {
                match owner {
                    // After our close the session is over; its timeouts mean nothing.
                    Some(owner) if self.cx.is_open() => self.on_own_reply(id, owner, None),
                    Some(_) => {}
                    None => self.cx.push(IqEvent::Timeout { id }),
                }
            }
            if self.cx.close_deadline().is_some_and(|d| d <= now) {
                self.cx.finish(CloseReason::LocalTimeout);
            }
            if !self.is_closed() {
                self.login.on_timeout(&mut self.cx, now);
                self.account.on_timeout(&mut self.cx, now);
            }
        }
        if !self.is_closed() {
            let logged_in = self.login.is_logged_in();
            let reading = !paused;
            self.keepalive
                .on_timeout(&mut self.cx, now, logged_in, reading);
            self.sm_on_timeout(now);
            if !paused {
                self.conference.on_timeout(&mut self.cx, now);
            }
            self.cx.check_server_reads();
        }
        // A quiet moment: what busy traffic kept goes.
        self.parser.release_idle(context::IDLE_KEEP_BYTES);
        self.cx.release_idle_events();
        self.cx.busy_until = None;
        self.forget_if_closed();
    }

    /// The TLS the client asked for with [`wants_tls`](Self::wants_tls) is up: the
    /// stream restarts over it (the new header is queued at once). `channel_binding`:
    /// what the TLS session gives for the `-PLUS` SASL mechanisms, best first
    /// (`tls-exporter` on TLS 1.3, then `tls-server-end-point`), as with
    /// [`handle_channel_binding`](Self::handle_channel_binding).
    ///
    /// Refused with [`Error::WrongPhase`] when no TLS was asked for.
    pub fn handle_tls_ready(
        &mut self,
        now: Instant,
        channel_binding: Vec<ChannelBinding>,
    ) -> Result<(), Error> {
        self.capture_command(now, || {
            capture::channel_binding("tls-ready", &channel_binding)
        });
        let result = self.tls_ready(now, channel_binding);
        self.capture_refusal(now, &result);
        result
    }

    fn tls_ready(&mut self, now: Instant, binding: Vec<ChannelBinding>) -> Result<(), Error> {
        if !self.wants_tls() || !self.cx.is_open() {
            return Err(Error::WrongPhase);
        }
        self.cx.tick(now);
        self.cx.tls_pending = false;
        self.cx.config.transport_encrypted = true;
        self.cx.set_channel_bindings(binding);
        let next = self.login.on_tls_ready(&mut self.cx);
        self.follow_login(next);
        // TLS a registration asked for (before its form): the stream restarts.
        if let Some(next) = self.account.on_tls_ready() {
            self.follow_login(next);
        }
        Ok(())
    }

    /// Channel-binding data of a transport that was encrypted from the start (direct
    /// TLS), once its handshake is done, best first: the `-PLUS` SASL mechanisms bind the
    /// login to it (RFC 5056; `tls-exporter`, RFC 9266, on TLS 1.3). Give it before the
    /// server's features arrive — that is, before handing the client any decrypted
    /// byte. Without it, the client uses SCRAM without binding (and says it could not
    /// bind, so a server that offered `-PLUS` detects a downgrade only when we claim
    /// support; see [`scram`](crate::negotiation::scram)).
    pub fn handle_channel_binding(&mut self, now: Instant, channel_binding: Vec<ChannelBinding>) {
        self.capture_command(now, || {
            capture::channel_binding("channel-binding", &channel_binding)
        });
        self.cx.tick(now);
        self.cx.set_channel_bindings(channel_binding);
    }

    // ---- commands ----

    /// Sends a stanza (or any top-level element).
    pub fn send(&mut self, now: Instant, stanza: impl Into<Element>) -> Result<(), Error> {
        let stanza = stanza.into();
        self.capture_command(now, || capture::command("send").child(stanza.clone()));
        let result = self.send_element(now, stanza);
        self.capture_refusal(now, &result);
        result
    }

    fn send_element(&mut self, now: Instant, stanza: Element) -> Result<(), Error> {
        self.cx.check_open()?;
        self.cx.tick(now);
        let before = self.cx.out_len();
        self.cx.emit(&stanza);
        self.cx.check_room(before)?;
        self.presence.on_sent(&stanza);
        self.responders.on_activity(now);
        Ok(())
    }

    /// Sends an IQ get or set carrying `payload` to `to` (`None`: our own account/server)
    /// and returns the handle its outcome will carry ([`IqEvent`]).
    pub fn send_iq(
        &mut self,
        now: Instant,
        to: Option<&Jid>,
        kind: IqType,
        payload: Element,
    ) -> Result<IqId, Error> {
        let record = || {
            let mut b = capture::command("send-iq").attr("type", kind.as_str());
            if let Some(to) = to {
                b = b.attr("to", to.as_str());
            }
            b.child(payload.clone())
        };
        self.capture_command(now, record);
        let result = self.request(now, to, kind, payload, None);
        self.capture_refusal(now, &result);
        result
    }

    fn request(
        &mut self,
        now: Instant,
        to: Option<&Jid>,
        kind: IqType,
        payload: Element,
        owner: Option<Owner>,
    ) -> Result<IqId, Error> {
        self.cx.tick(now);
        let before = self.cx.out_len();
        let id = self.cx.request(to, kind, payload, owner)?;
        if let Err(e) = self.cx.check_room(before) {
            self.cx.iqs.forget(id);
            return Err(e);
        }
        Ok(id)
    }

    /// A request a feature sends for the application (its answer comes as that
    /// feature's event, routed by `owner`): only within a session.
    pub(super) fn session_request(
        &mut self,
        now: Instant,
        to: Option<&Jid>,
        kind: IqType,
        payload: Element,
        owner: Owner,
    ) -> Result<IqId, Error> {
        if !self.login.is_logged_in() {
            self.cx.check_open()?;
            return Err(Error::WrongPhase);
        }
        self.request(now, to, kind, payload, Some(owner))
    }

    /// Answers a [`StanzaEvent::IqRequest`]: a result (with an optional payload) or an
    /// error.
    pub fn respond(
        &mut self,
        now: Instant,
        request: &Iq,
        response: Result<Option<Element>, StanzaError>,
    ) -> Result<(), Error> {
        let record = || {
            let b = capture::command("respond").child(request.element().clone());
            match &response {
                Ok(payload) => {
                    b.child(capture::command("result").children(payload.iter().cloned()))
                }
                Err(error) => capture::with_child(b, error.to_element(capture::CAPTURE_NS)),
            }
        };
        self.capture_command(now, record);
        let result = self.answer(now, request, response);
        self.capture_refusal(now, &result);
        result
    }

    fn answer(
        &mut self,
        now: Instant,
        request: &Iq,
        response: Result<Option<Element>, StanzaError>,
    ) -> Result<(), Error> {
        self.cx.check_open()?;
        if !request.kind().is_request() {
            return Err(Error::NotARequest);
        }
        self.cx.tick(now);
        let before = self.cx.out_len();
        self.cx.reply(request.element(), response)?;
        self.cx.check_room(before)
    }

    /// Closes the stream: withdraws our presence if it was announced (RFC 6121 §4.5.1),
    /// sends `</stream:stream>` and waits (at most [`Config::close_timeout`]) for the
    /// server's. Does nothing if already closing.
    pub fn close(&mut self, now: Instant) {
        self.cx.capture(RecordKind::Command, now, || {
            capture_xml(capture::command("close"))
        });
        self.cx.tick(now);
        if self.cx.tls_pending {
            // After `<proceed/>` the server waits for TLS: our close cannot be written
            // in plaintext, and nothing is owed on a stream that never started over TLS.
            self.cx.finish(CloseReason::Local);
            return;
        }
        self.presence.on_close(&mut self.cx);
        if self.cx.is_open() {
            crate::features::stream_management::on_close(&mut self.cx);
        }
        self.cx.close();
    }

    /// Runs a command, capturing it (as the element `record` builds, only when capturing)
    /// and its refusal. Every command goes through here or records itself like
    /// [`close`](Self::close).
    fn captured<T>(
        &mut self,
        now: Instant,
        record: impl FnOnce() -> crate::xml::ElementBuilder,
        run: impl FnOnce(&mut Self) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.capture_command(now, record);
        let result = run(self);
        self.capture_refusal(now, &result);
        result
    }

    fn capture_command(
        &mut self,
        now: Instant,
        record: impl FnOnce() -> crate::xml::ElementBuilder,
    ) {
        if self.cx.capturing() {
            let xml = capture_xml(record());
            self.cx.capture(RecordKind::Command, now, || xml);
        }
    }

    fn capture_refusal<T>(&mut self, now: Instant, result: &Result<T, Error>) {
        if let Err(e) = result {
            self.cx
                .capture(RecordKind::Refused, now, || capture::refusal(e));
        }
    }

    // ---- outputs ----

    /// Bytes to write to the transport, if any. After writing `n` of them, call
    /// [`advance_transmit`](Self::advance_transmit)`(n)`. Over WebSocket
    /// ([`Config::framing`]), at most one message: send it as one WebSocket message and
    /// advance by its length (the next message follows).
    pub fn poll_transmit(&self) -> Option<&[u8]> {
        self.cx.poll_transmit()
    }

    /// Marks `n` bytes of [`poll_transmit`](Self::poll_transmit) as written.
    pub fn advance_transmit(&mut self, n: usize) {
        let now = self.cx.now;
        // "all" when it empties the buffer: a replay, whose masked secrets may differ in
        // length, then empties its own.
        let all = n >= self.cx.poll_transmit().map_or(0, <[u8]>::len);
        self.cx.capture(RecordKind::Advance, now, || {
            format!("{n}{}", if all { " all" } else { "" }).into_bytes()
        });
        self.cx.advance_transmit(n);
    }

    /// Every byte waiting to be written, as an owned buffer: for completion-based I/O
    /// (io_uring, IOCP, a WASM host) that needs the buffer to outlive the call. The
    /// bytes count as written for the client; the driver writes all of them, in order,
    /// before any later ones. Over WebSocket ([`Config::framing`]), exactly one message
    /// per call: one complete element, to send as one WebSocket message.
    pub fn take_transmit(&mut self) -> Option<Vec<u8>> {
        let now = self.cx.now;
        self.cx.capture(RecordKind::Take, now, Vec::new);
        self.cx.take_transmit()
    }

    /// The oldest traffic not yet taken, as XML with secrets masked, when
    /// [`Config::console`] is on (see [`console`](crate::console)); always `None` when it
    /// is off. Drain it with the other outputs.
    ///
    /// ```
    /// use core::num::NonZeroU64;
    /// use jabber_proto::client::{Client, Config};
    /// use jabber_proto::console::Direction;
    /// use jabber_proto::negotiation::auth::Credentials;
    /// use jabber_proto::time::Instant;
    ///
    /// let now = Instant::from_millis(5);
    /// let mut config = Config::new("example.com", NonZeroU64::new(7).unwrap());
    /// config.console = true;
    /// config.version = None; // a classic stream
    /// config.allow_plaintext = true;
    /// let mut client = Client::new(config, now);
    /// client.login(now, Credentials::new("alice", "s3cret", "desk")).unwrap();
    /// client.handle_input(now, b"<stream:stream xmlns='jabber:client' \
    ///     xmlns:stream='http://etherx.jabber.org/streams' id='s1'>").unwrap();
    /// // The server wants the plaintext password (an ejabberd-like echo of its own id).
    /// let id = String::from_utf8(client.take_transmit().unwrap()).unwrap();
    /// let id = id.rsplit("id='").next().unwrap().split('\'').next().unwrap().to_owned();
    /// let fields = format!("<iq type='result' id='{id}'><query xmlns='jabber:iq:auth'>\
    ///     <username/><password/><resource/></query></iq>");
    /// client.handle_input(now, fields.as_bytes()).unwrap();
    ///
    /// let mut log = Vec::new();
    /// while let Some(entry) = client.poll_console() {
    ///     let arrow = if entry.direction == Direction::Out { "->" } else { "<-" };
    ///     log.push(format!("{} {arrow} {}", entry.time.as_millis(), entry.xml));
    /// }
    /// let last = log.last().unwrap();
    /// assert!(last.contains("<password>***</password>"), "{last}");
    /// assert!(!log.concat().contains("s3cret"));
    /// ```
    pub fn poll_console(&mut self) -> Option<ConsoleEntry> {
        self.cx.poll_console()
    }

    /// Console entries dropped so far to stay within [`Config::console_max_bytes`]: a gap
    /// in what [`poll_console`](Self::poll_console) gave. Zero while the console is off.
    pub fn console_dropped(&self) -> u64 {
        self.cx.console_dropped()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        let event = self.cx.poll_event()?;
        let now = self.cx.now;
        self.cx
            .capture(RecordKind::Event, now, || format!("{event:?}").into_bytes());
        Some(event)
    }

    /// The oldest capture record not yet taken, when [`Config::capture`] is on; always
    /// `None` when it is off. A driver writes them, in order, to a capture file
    /// ([`replay::write_record`](crate::replay::write_record)); drain it with the other
    /// outputs.
    pub fn poll_capture(&mut self) -> Option<CaptureRecord> {
        self.cx.poll_capture()
    }

    /// Capture records dropped so far to stay within [`Config::capture_max_bytes`] (a
    /// [`RecordKind::Gap`] marks where). Zero while the capture is off.
    pub fn capture_dropped(&self) -> u64 {
        self.cx.capture_dropped()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called; `None` when no
    /// timer is running. Input left unparsed at the event bound makes it due at once,
    /// once there is room for events.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_closed() {
            return None;
        }
        let reading = !self.input_paused;
        let keepalive = self
            .keepalive
            .next_deadline(&self.cx, self.login.is_logged_in(), reading);
        if self.input_paused {
            // Due at once when there is room to resume; the server's timers wait (see
            // `handle_timeout`).
            let resume = (!self.cx.events_full()).then_some(self.cx.now);
            return [resume, keepalive].into_iter().flatten().min();
        }
        [
            self.cx.iqs.next_deadline(),
            self.cx.close_deadline(),
            self.login.deadline(&self.cx),
            self.account.deadline(&self.cx),
            keepalive,
            self.sm_deadline(),
            self.cx.busy_until,
            self.conference.deadline(&self.cx),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ---- routing ----

    fn resume_input(&mut self) {
        if self.input_paused && !self.cx.events_full() {
            self.input_paused = false;
            // The time the socket went unread does not count against the server.
            self.keepalive.on_received(self.cx.now);
            self.drain_parser(context::IDLE_KEEP_BYTES);
        }
    }

    /// Parses what is buffered; then, between items, frees parser buffers with more than
    /// `keep` bytes of capacity.
    fn drain_parser(&mut self, keep: usize) {
        while !self.is_closed() {
            if self.cx.events_full() {
                self.input_paused = true;
                return;
            }
            let Some(item) = self.parser.next_item() else {
                break;
            };
            match item {
                Ok(Item::Header(header)) => {
                    let console = self.cx.writer(true);
                    self.cx
                        .record(Direction::In, |buf| console.header(buf, &header));
                    if self.cx.state == State::Opening {
                        self.cx.state = State::Open;
                    }
                    self.cx.server_header = Some(header.compact());
                    if self.cx.restarting {
                        // The same connection's stream, restarted: nothing new for the
                        // application; the features follow.
                        self.cx.restarting = false;
                    } else {
                        self.cx.push(StreamEvent::Opened(header));
                    }
                    self.on_stream_ready();
                }
                Ok(Item::Element(el)) => {
                    let console = self.cx.writer(true);
                    self.cx
                        .record(Direction::In, |buf| console.element(buf, el.root()));
                    self.on_element(el);
                    self.cx.check_server_reads();
                }
                Ok(Item::Close) => {
                    self.cx
                        .record(Direction::In, |buf| Writer::CONSOLE.close(buf));
                    self.on_peer_close(None);
                }
                Err(e) => self.on_parse_error(e),
            }
        }
        self.parser.shrink_idle(keep);
        self.forget_if_closed();
    }

    /// The stream opened or its features arrived: negotiation that waited may start.
    fn on_stream_ready(&mut self) {
        self.account.on_stream_ready(&mut self.cx);
        let next = self.login.on_stream_ready(&mut self.cx);
        self.follow_login(next);
    }

    fn on_parse_error(&mut self, e: ParseError) {
        if e.is_end_of_input() {
            let reason = if self.cx.state == State::Closing {
                CloseReason::Local
            } else {
                CloseReason::EndOfInput {
                    mid_element: e == ParseError::TruncatedStanza,
                }
            };
            self.cx.finish(reason);
            return;
        }
        // The server's fault: tell it why, then close (RFC 6120 §4.9.1.1) — unless our
        // side of the stream is already closed, after which nothing may follow.
        if self.cx.state != State::Closing {
            let error = StreamError::new(e.condition()).to_element();
            self.cx.emit(&error);
            self.cx.emit_close();
        }
        self.cx.finish(CloseReason::Protocol(e));
    }

    /// The server closed the stream (`</stream:stream>`, or over WebSocket `<close/>`,
    /// maybe pointing elsewhere): we close ours in turn, unless we already did.
    fn on_peer_close(&mut self, see_other_uri: Option<alloc::string::String>) {
        if self.cx.state == State::Closing {
            return self.cx.finish(CloseReason::Local);
        }
        self.cx.emit_close();
        self.cx.finish(match see_other_uri {
            Some(uri) => CloseReason::SeeOtherUri(uri),
            None => CloseReason::Peer,
        });
    }

    fn on_element(&mut self, el: Element) {
        if self.cx.config.framing.is_websocket() && framing::is_close(el.root()) {
            let uri = framing::see_other_uri(el.root()).map(alloc::string::String::from);
            return self.on_peer_close(uri);
        }
        // The namespace is resolved once; each test below would resolve it again.
        let el_ns = el.ns();
        let streams = el_ns == ns::STREAM;
        let stream_error = if streams {
            StreamError::from_element(el.root())
        } else {
            None
        };
        if let Some(error) = stream_error {
            if self.cx.state != State::Closing {
                self.cx.emit_close();
            }
            self.cx.finish(CloseReason::StreamError(error));
            return;
        }
        if streams && el.name() == "features" {
            // A version-less stream has no features; prosody sends them anyway.
            if !self.cx.stream_has_features() {
                return;
            }
            let features = StreamFeatures::from_element(el.root());
            self.cx.features_received = true;
            self.cx.iq_auth_offered = features.iq_auth;
            if !self.login.is_logged_in() {
                self.cx.features = Some(alloc::boxed::Box::new(features.clone()));
            }
            self.cx.push(StreamEvent::Features(el));
            self.account.on_stream_ready(&mut self.cx);
            let next = self.login.on_features(&mut self.cx, &features);
            self.follow_login(next);
            return;
        }
        if el_ns == ns::SM {
            return self.on_sm_element(el);
        }
        if crate::features::stream_management::is_stanza_in(el_ns, el.name()) {
            crate::features::stream_management::on_stanza_received(&mut self.cx);
        }
        if el_ns == ns::SASL || el_ns == ns::TLS {
            if let Some(next) = self.login.on_nonza(&mut self.cx, &el) {
                self.follow_login(next);
                return;
            }
            if let Some(next) = self.account.on_tls_nonza(&mut self.cx, &el) {
                self.follow_login(next);
                return;
            }
        }
        let reply = el.name() == "iq" && matches!(el.attr("type"), Some("result" | "error"));
        let negotiating = self.login.negotiating() || self.account.negotiating(&self.cx);
        if negotiating && el_ns == ns::CLIENT && !reply {
            // Before authentication a server sends no stanza but the answers to our bind
            // and session requests (matched to them by the IQ table); anything else (in
            // plaintext before STARTTLS, an injection) is not routed anywhere.
            return;
        }
        match Stanza::try_from(el) {
            Ok(Stanza::Message(m)) => self.on_message(m),
            Ok(Stanza::Presence(p)) => self.on_presence(p),
            Ok(Stanza::Iq(iq)) => self.on_iq(iq),
            Err(invalid) if invalid.reason == InvalidReason::NotAStanza => {
                self.cx.push(StreamEvent::Element(invalid.element));
            }
            Err(invalid) => {
                let el = &invalid.element;
                let is_request = el.is("iq", ns::CLIENT)
                    && el.attr("id").is_some()
                    && matches!(el.attr("type"), Some("get" | "set"));
                if is_request {
                    let _ = self
                        .cx
                        .reply(el, Err(StanzaError::new(StanzaCondition::BadRequest)));
                }
                self.cx.push(StanzaEvent::Invalid(invalid));
            }
        }
    }

    fn on_iq(&mut self, iq: Iq) {
        if iq.kind().is_request() {
            return self.on_iq_request(iq);
        }
        // A reply nobody asked for, or from the wrong address, is ignored (RFC 6120
        // §8.2.3); the request it claims to answer keeps waiting.
        let Some((id, owner)) = self.cx.iqs.take_reply(
            iq.id().unwrap_or_default(),
            iq.from(),
            &self.cx.config.domain,
            self.cx.jid.as_ref(),
        ) else {
            crate::features::services::on_unmatched_reply(&mut self.cx, &iq);
            crate::features::caps::on_unmatched_reply(&mut self.cx, &iq);
            crate::features::files::on_unmatched_reply(&mut self.cx, &iq);
            return;
        };
        if let Some(owner) = owner {
            // Once our side is closed the session has nothing left to do: a late login
            // or registration reply must not make us write again.
            if self.cx.is_open() {
                self.on_own_reply(id, owner, Some(&iq));
            }
            return;
        }
        let event = if iq.kind() == IqType::Result {
            IqEvent::Result { id, iq }
        } else {
            let error = context::error_of(&iq);
            IqEvent::Error { id, error, iq }
        };
        self.cx.push(event);
    }

    /// An IQ get or set: the application's if it asked for the namespace, else the
    /// feature's that handles it, else `service-unavailable` (RFC 6120 §8.4).
    fn on_iq_request(&mut self, iq: Iq) {
        let payload_ns = iq.payload().map(|p| p.ns()).unwrap_or_default();
        if self.cx.config.iq_namespaces.iter().any(|n| n == payload_ns) {
            return self.cx.push(StanzaEvent::IqRequest(iq));
        }
        let utc = self.messaging.utc(self.cx.now);
        let handled = self.keepalive.on_request(&mut self.cx, &iq)
            || self.roster.on_request(&mut self.cx, &iq)
            || self.responders.on_request(&mut self.cx, &iq, utc)
            || crate::features::blocking::on_request(&mut self.cx, &iq)
            || crate::features::disco::on_request(&mut self.cx, &iq)
            || self.conference.on_request(&mut self.cx, &iq)
            || crate::features::files::on_request(&mut self.cx, &iq);
        if !handled {
            let refusal = StanzaError::new(StanzaCondition::ServiceUnavailable);
            let _ = self.cx.reply(iq.element(), Err(refusal));
        }
    }

    /// A reply (or a timeout: `iq` is `None`) to one of the client's own requests, routed
    /// to the feature that sent it.
    fn on_own_reply(&mut self, id: IqId, owner: Owner, iq: Option<&Iq>) {
        let reply = Reply::from_iq(iq);
        match owner {
            Owner::Login(step) => {
                let next = self.login.on_reply(&mut self.cx, step, reply);
                self.follow_login(next);
            }
            Owner::Account(step) => self.account.on_reply(&mut self.cx, step, reply),
            Owner::Roster => {
                let roster = self.roster.on_reply(&mut self.cx, reply);
                self.session_ready(roster);
            }
            Owner::Keepalive => self.keepalive.on_reply(&self.cx, reply),
            Owner::Service(request) => {
                crate::features::services::on_reply(&mut self.cx, id, request, reply);
            }
            Owner::BlockPolicy(step) => self.block_policy.on_reply(&mut self.cx, id, step, reply),
            Owner::Carbons => self.carbons.on_reply(&mut self.cx, reply),
            Owner::Disco(request) => {
                crate::features::caps::on_reply(&mut self.caps, &mut self.cx, id, request, reply);
            }
            Owner::Conference(request) => {
                self.conference.on_reply(&mut self.cx, id, request, reply);
            }
            Owner::Transfer(request) => {
                crate::features::files::on_reply(&mut self.cx, id, request, iq);
            }
        }
    }

    /// Does what the login asks for after an input.
    pub(crate) fn follow_login(&mut self, next: Next) {
        self.cx.negotiating = self.login.negotiating();
        match next {
            Next::Wait => {}
            Next::Restart => self.restart_stream(),
            Next::StartTls => {
                // What the server sent after `<proceed/>` in plaintext is not part of any
                // stream (RFC 6120 §5.4.3.3): an injection, dropped unread.
                self.parser.reset();
                self.cx.tls_pending = true;
            }
            Next::LoggedIn => {
                self.cx.negotiating = false;
                let (leftover, carried) = self.sm_on_bound();
                self.cx.features = None;
                self.start_session();
                self.sm_resend(leftover, carried);
            }
            Next::Resume => crate::features::stream_management::send_resume(&mut self.cx),
        }
    }

    /// A new stream on the same transport (RFC 6120 §4.3.3): after STARTTLS and after
    /// SASL. The server answers with a new header and new features.
    fn restart_stream(&mut self) {
        // Nothing learnt on the stream before survives it (RFC 6120 §5.4.3.3, §6.4.6).
        self.contacts = Contacts::default();
        self.subscriptions = Subscriptions::default();
        self.parser.reset();
        self.cx.restarting = true;
        self.cx.features_received = false;
        self.cx.iq_auth_offered = false;
        self.cx.features = None;
        let header = stream_header(&self.cx.config);
        self.cx.emit_header(&header);
    }

    /// Logged in: fetch the roster and announce our presence, as configured; the session
    /// is ready once the roster arrived.
    fn start_session(&mut self) {
        self.responders.on_activity(self.cx.now);
        // A new session is in no room: those carried from an old one are dropped.
        self.conference.on_new_session(&mut self.cx);
        let fetching = self.cx.config.fetch_roster && self.roster.fetch(&mut self.cx);
        if self.cx.config.initial_presence {
            self.presence.announce(&mut self.cx);
        }
        self.carbons.on_session(&mut self.cx);
        if !fetching {
            self.session_ready(None);
        }
    }

    /// The session is up (the roster, if asked for, arrived): [`SessionEvent::Ready`],
    /// once.
    fn session_ready(&mut self, roster: Option<Roster>) {
        if let (Some(method), Some(jid)) = (self.login.ready(), self.cx.jid.clone()) {
            self.cx.push(SessionEvent::Ready {
                jid,
                roster,
                method,
            });
        }
    }

    /// A presence: subscriptions to their feature, the rest to the presence model.
    fn on_presence(&mut self, presence: crate::stanza::Presence) {
        use crate::stanza::PresenceType as T;
        // A room's presence is the room's: neither a contact's nor one to query.
        let Some(presence) = self.conference.on_presence(&mut self.cx, presence) else {
            return;
        };
        // No capabilities query to someone the blocking policy shuts out.
        if presence.kind() != T::Available
            || !self
                .block_policy
                .shuns(&self.cx, || presence.from(), self.roster.view())
        {
            self.caps.on_presence(&mut self.cx, &presence);
        }
        match presence.kind() {
            T::Subscribe if self.drops_subscription(&presence) => {}
            T::Subscribe | T::Subscribed | T::Unsubscribe | T::Unsubscribed => {
                self.subscriptions.on_presence(&mut self.cx, presence);
            }
            _ => self.contacts.on_presence(&mut self.cx, presence),
        }
    }

    /// Once the connection is over, what it knew of others' presence and their
    /// requests means nothing (the roster model stays: it is what the application saves).
    fn forget_if_closed(&mut self) {
        if self.is_closed() {
            self.contacts.clear();
            self.subscriptions.clear();
            self.caps.on_closed();
            self.conference.on_closed();
        }
    }
}

/// A command's element as capture XML; empty when it holds what XML cannot carry (the
/// command itself is then refused, and the replay reports the empty record).
fn capture_xml(builder: crate::xml::ElementBuilder) -> Vec<u8> {
    builder
        .build()
        .map(|e| capture::to_xml(&e))
        .unwrap_or_default()
}

/// Our stream header for `config`.
fn stream_header(config: &Config) -> StreamHeader {
    let mut header = StreamHeader::new(ns::CLIENT).with_to(&config.domain);
    if let Some(v) = &config.version {
        header = header.with_version(v);
    }
    if let Some(lang) = &config.lang {
        header = header.with_lang(lang);
    }
    header
}
