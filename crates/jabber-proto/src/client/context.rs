//! What every feature module shares: the stream's state, the bytes to send, the events,
//! the IQ table, time and the session's address.
//!
//! A feature module owns its own state and gets a `&mut Cx` for each input or command
//! [`Client`](super::Client) routes to it; it writes, tracks requests and reports through
//! the context only, so the rules of writing (nothing after our close, the send-buffer
//! bound, the event bound) live here once.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use super::capture::{self, CaptureLog, CaptureRecord, RecordKind};
use super::iq_table::{IqTable, Owner};
use super::{CloseReason, Config, Error, Event, IqId, State};
use crate::console::{Console, ConsoleEntry, Direction};
use crate::features::stream_management::{self, SmError, StreamManagement};
use crate::jid::Jid;
use crate::negotiation::features::StreamFeatures;
use crate::negotiation::sasl::ChannelBinding;
use crate::ns;
use crate::stanza::{Iq, IqType, StanzaCondition, StanzaError};
use crate::stream::{Framing, StreamHeader, Writer};
use crate::time::Instant;
use crate::xml::Element;

/// Most bytes of spare capacity the parser's buffers keep once empty: an idle client
/// should not hold on to what its largest burst needed. Smaller buffers are kept, so
/// steady small traffic does not allocate anew for every read.
pub(crate) const IDLE_KEEP_BYTES: usize = 256;

/// Most bytes of spare capacity the parser's buffers keep after an input larger than
/// [`IDLE_KEEP_BYTES`]: busy traffic (full 1460-byte reads) reuses them instead of
/// freeing and allocating them again on every read. The next small input or timer
/// brings them back to [`IDLE_KEEP_BYTES`]; a larger burst is freed at once.
pub(crate) const BUSY_KEEP_BYTES: usize = 4096;

/// How long after a busy input the room it kept is given back at the latest, when no
/// small input or other timer comes first: a client without timers (keepalive off,
/// nothing pending) would otherwise keep it for good.
pub(crate) const BUSY_LINGER: Duration = Duration::from_secs(1);

/// Events an emptied queue keeps room for: one, so the usual input — one stanza, one
/// event — allocates nothing for its event, and a burst leaves no more behind.
const IDLE_EVENTS: usize = 1;

/// Room for events a drained queue keeps while the traffic stays busy: inputs that each
/// bring several events (a 1460-byte read of small stanzas) would otherwise grow and
/// shrink the queue on every read. The room goes once an input queues no more than
/// [`IDLE_EVENTS`], at the next timer, or at once when a burst needed more than this.
const BUSY_EVENTS: usize = 16;

/// Over WebSocket, the bytes before each message in the send buffer: its length.
const WS_PREFIX: usize = core::mem::size_of::<usize>();

/// The answer to one of the client's own requests, as its owner sees it.
pub(crate) enum Reply<'a> {
    Result(&'a Iq),
    Error(StanzaError),
    Timeout,
}

impl<'a> Reply<'a> {
    /// `iq` is `None` for a timeout.
    pub(crate) fn from_iq(iq: Option<&'a Iq>) -> Reply<'a> {
        match iq {
            None => Reply::Timeout,
            Some(iq) if iq.kind() == IqType::Result => Reply::Result(iq),
            Some(iq) => Reply::Error(error_of(iq)),
        }
    }
}

/// The error an error reply carries; `undefined-condition` when it carries none.
pub(crate) fn error_of(iq: &Iq) -> StanzaError {
    iq.error()
        .unwrap_or_else(|| StanzaError::new(StanzaCondition::UndefinedCondition))
}

/// The shared context of one connection.
#[derive(Debug)]
pub(crate) struct Cx {
    pub(crate) config: Config,
    pub(crate) state: State,
    /// The latest time any input or command brought; what is written is stamped with it.
    pub(crate) now: Instant,
    out: Vec<u8>,
    out_pos: usize,
    /// Over WebSocket, the messages in `out` not yet wholly sent: their length prefixes
    /// are bookkeeping, not bytes for the server, and the send bound does not count them.
    out_messages: u32,
    /// When we last wrote anything (the keepalive's idle clock).
    pub(crate) last_sent: Instant,
    events: VecDeque<Event>,
    pub(crate) iqs: IqTable,
    pub(crate) server_header: Option<StreamHeader>,
    close_deadline: Option<Instant>,
    /// Why the connection ended, once it has (boxed: a live client needs no room for it).
    close_reason: Option<Box<CloseReason>>,
    /// Our full address, once logged in.
    pub(crate) jid: Option<Jid>,
    /// `<stream:features>` arrived (on a `version='1.0'` stream) ...
    pub(crate) features_received: bool,
    /// ... and announced `jabber:iq:auth` (XEP-0078 §4).
    pub(crate) iq_auth_offered: bool,
    /// The features of the stream's current start, until logged in (boxed: most of a
    /// connection's life has none).
    pub(crate) features: Option<Box<StreamFeatures>>,
    /// A command was refused for a full send buffer: [`Event::Writable`] is owed once
    /// this many bytes fit (the largest refused write since the last `Writable`).
    owed_room: Option<usize>,
    /// The console's entries, only when [`Config::console`] is on (boxed: off, it costs
    /// one word).
    console: Option<Box<Console>>,
    /// The capture's records, only when [`Config::capture`] is on (boxed, like the
    /// console).
    capture: Option<Box<CaptureLog>>,
    /// Channel-binding data the transport gave, best first (boxed: most connections
    /// never have any; one word where a `Vec` takes three).
    #[allow(clippy::box_collection)]
    channel_bindings: Option<Box<Vec<ChannelBinding>>>,
    /// `<proceed/>` came: nothing is written until the driver's TLS is up.
    pub(crate) tls_pending: bool,
    /// An XMPP 1.0 login negotiates (STARTTLS, SASL, bind): the application's commands
    /// that write wait for it.
    pub(crate) negotiating: bool,
    /// When the room a busy input kept goes (see [`BUSY_LINGER`]).
    pub(crate) busy_until: Option<Instant>,
    /// The input being parsed is captured item by item, masked (during SASL).
    pub(crate) mask_input: bool,
    /// The stream restarted (after STARTTLS or SASL): the server's next header is not a
    /// new stream for the application.
    pub(crate) restarting: bool,
    /// This client replays a capture, whose passwords are masked: what only the password
    /// can prove (a SCRAM server signature) is taken as recorded.
    pub(crate) replaying: bool,
    /// XEP-0198 stream management, while enabled or being resumed (boxed: none without).
    pub(crate) sm: Option<Box<StreamManagement>>,
}

impl Cx {
    pub(crate) fn new(config: Config, now: Instant, out: Vec<u8>) -> Cx {
        let console = config.console.then(Box::default);
        let capture = config.capture.then(|| {
            let mut log = Box::<CaptureLog>::default();
            let xml = capture::config_element(&config)
                .map(|c| capture::to_xml(&c))
                .unwrap_or_default();
            log.push(
                CaptureRecord::new(RecordKind::Config, now, xml),
                config.capture_max_bytes,
            );
            log
        });
        Cx {
            console,
            capture,
            iqs: IqTable::new(config.seed),
            config,
            state: State::Opening,
            now,
            out,
            out_pos: 0,
            out_messages: 0,
            last_sent: now,
            events: VecDeque::new(),
            server_header: None,
            close_deadline: None,
            close_reason: None,
            jid: None,
            features_received: false,
            iq_auth_offered: false,
            features: None,
            owed_room: None,
            channel_bindings: None,
            tls_pending: false,
            negotiating: false,
            busy_until: None,
            mask_input: false,
            restarting: false,
            replaying: false,
            sm: None,
        }
    }

    /// Moves the clock forward (never back: a driver's clock may jitter).
    pub(crate) fn tick(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    // ---- the stream ----

    pub(crate) fn is_open(&self) -> bool {
        self.state == State::Open
    }

    /// The stream is open and nothing stops the client writing on its own (between
    /// `<proceed/>` and TLS, nothing may be written).
    pub(crate) fn may_write(&self) -> bool {
        self.is_open() && !self.tls_pending
    }

    pub(crate) fn check_open(&self) -> Result<(), Error> {
        match self.state {
            // Between `<proceed/>` and TLS, nothing may be written; while the 1.0 login
            // negotiates, nothing of the application's (it would go out before TLS).
            State::Open if self.tls_pending || self.negotiating => Err(Error::WrongPhase),
            State::Open => Ok(()),
            State::Opening => Err(Error::NotOpen),
            State::Closing | State::Closed => Err(Error::Closed),
        }
    }

    pub(crate) fn check_not_closing(&self) -> Result<(), Error> {
        match self.state {
            State::Opening | State::Open => Ok(()),
            State::Closing | State::Closed => Err(Error::Closed),
        }
    }

    /// A plaintext password may go out: the transport is encrypted or the configuration
    /// allows it.
    pub(crate) fn check_plaintext(&self) -> Result<(), Error> {
        if self.config.transport_encrypted || self.config.allow_plaintext {
            Ok(())
        } else {
            Err(Error::PlaintextNotAllowed)
        }
    }

    /// A `version='1.0'` stream on both sides (RFC 6120 §4.7.5): features come first.
    pub(crate) fn stream_has_features(&self) -> bool {
        self.config.version.is_some()
            && self
                .server_header
                .as_ref()
                .and_then(|h| h.version())
                .is_some_and(|v| !v.starts_with("0."))
    }

    /// The stream is open and, on a 1.0 stream, its features have arrived: negotiation
    /// requests may go out.
    pub(crate) fn ready_to_negotiate(&self) -> bool {
        self.is_open() && (!self.stream_has_features() || self.features_received)
    }

    /// Channel-binding data the transport gave, best first.
    pub(crate) fn channel_binding(&self) -> &[ChannelBinding] {
        self.channel_bindings.as_deref().map_or(&[], Vec::as_slice)
    }

    pub(crate) fn set_channel_bindings(&mut self, bindings: Vec<ChannelBinding>) {
        self.channel_bindings = (!bindings.is_empty()).then(|| Box::new(bindings));
    }

    /// Sends `</stream:stream>` and waits at most the close timeout for the server's.
    /// Does nothing if already closing.
    pub(crate) fn close(&mut self) {
        if matches!(self.state, State::Opening | State::Open) {
            self.emit_close();
            self.state = State::Closing;
            self.close_deadline = Some(self.now + self.config.close_timeout);
        }
    }

    pub(crate) fn close_deadline(&self) -> Option<Instant> {
        self.close_deadline
    }

    /// Ends the connection with `reason`: one [`Event::Closed`], nothing after it.
    pub(crate) fn finish(&mut self, reason: CloseReason) {
        self.state = State::Closed;
        self.tls_pending = false;
        if let Some(sm) = self.sm.as_deref_mut() {
            // A resumed session still gets these replies.
            sm.keep_in_flight(self.iqs.in_flight(self.now), self.iqs.last_handle());
        }
        self.iqs.clear();
        self.close_deadline = None;
        if reason.abandons_output() {
            self.out = Vec::new();
            self.out_pos = 0;
            self.out_messages = 0;
        }
        self.close_reason = Some(Box::new(reason.clone()));
        // The last event always fits: the bound is on what input can pile up.
        self.push_event(Event::Closed(reason));
    }

    pub(crate) fn close_reason(&self) -> Option<&CloseReason> {
        self.close_reason.as_deref()
    }

    // ---- writing ----

    // Everything written goes through the `emit_*` methods below, and each records what
    // it wrote for the console through the masking writer: nothing can be sent unseen
    // or unmasked.

    /// The writer for this connection's framing; `mask`: for the console.
    pub(crate) fn writer(&self, mask: bool) -> Writer {
        Writer::client(self.config.framing, mask)
    }

    /// Appends what `write` writes to the bytes to send. Over WebSocket that is one
    /// message: its length goes before it (see [`WS_PREFIX`]), so the outputs hand out
    /// one message at a time and the buffer needs no second structure.
    fn write_out(&mut self, write: impl FnOnce(&Writer, &mut Vec<u8>)) {
        let writer = self.writer(false);
        if self.config.framing != Framing::WebSocket {
            return write(&writer, &mut self.out);
        }
        let start = self.out.len();
        self.out.extend_from_slice(&[0; WS_PREFIX]);
        write(&writer, &mut self.out);
        let len = self.out.len() - start - WS_PREFIX;
        self.out[start..start + WS_PREFIX].copy_from_slice(&len.to_le_bytes());
        self.out_messages += 1;
    }

    /// Drops what was written from `before` on (a message boundary); returns how many
    /// bytes of it were for the server (over WebSocket, without the length prefixes).
    fn truncate_out(&mut self, before: usize) -> usize {
        let mut written = self.out.len() - before;
        if self.config.framing == Framing::WebSocket {
            let mut at = before;
            while let Some(prefix) = self.out.get(at..at + WS_PREFIX) {
                let mut len = [0; WS_PREFIX];
                len.copy_from_slice(prefix);
                at += WS_PREFIX + usize::from_le_bytes(len);
                written -= WS_PREFIX;
                self.out_messages -= 1;
            }
        }
        self.out.truncate(before);
        written
    }

    /// Writes one element; every write resets the keepalive's idle clock.
    pub(crate) fn emit(&mut self, element: &Element) {
        self.write_out(|w, out| w.element(out, element.root()));
        let console = self.writer(true);
        self.record(Direction::Out, |buf| {
            console.element(buf, element.root());
        });
        self.last_sent = self.last_sent.max(self.now);
        // Stream management keeps what it counts, and asks for acks at its rate.
        let now = self.now;
        if let Some(sm) = self.sm.as_deref_mut() {
            if sm.on_sent(element, now, &self.config) {
                stream_management::request_ack(self);
            }
        }
    }

    /// Writes our stream header again (a stream restart).
    pub(crate) fn emit_header(&mut self, header: &StreamHeader) {
        self.write_out(|w, out| w.header(out, header));
        let console = self.writer(true);
        self.record(Direction::Out, |buf| console.header(buf, header));
        self.last_sent = self.last_sent.max(self.now);
    }

    /// Writes `</stream:stream>`.
    pub(crate) fn emit_close(&mut self) {
        self.write_out(|w, out| w.close(out));
        let console = self.writer(true);
        self.record(Direction::Out, |buf| console.close(buf));
        self.last_sent = self.last_sent.max(self.now);
    }

    /// Writes a single space (a whitespace keepalive). Never over WebSocket (RFC 7395
    /// §3.7 forbids it; the keepalive does not ask for one there).
    pub(crate) fn emit_whitespace(&mut self) {
        if self.config.framing == Framing::WebSocket {
            return;
        }
        self.out.push(b' ');
        self.record(Direction::Out, |buf| buf.push(b' '));
        self.last_sent = self.last_sent.max(self.now);
    }

    // ---- the console ----

    /// Whether traffic is being recorded: the console is on, or (with the `tracing`
    /// feature) a subscriber wants it. Off, recording costs this one check.
    pub(crate) fn recording(&self) -> bool {
        self.console.is_some() || self.capture.is_some() || super::trace::enabled()
    }

    /// Records one item of traffic that `write` serialises (masked, by
    /// [`Writer::CONSOLE`]), if anyone is recording.
    pub(crate) fn record(&mut self, direction: Direction, write: impl FnOnce(&mut Vec<u8>)) {
        if !self.recording() {
            return;
        }
        let mut buf = Vec::new();
        write(&mut buf);
        // Serialised from `&str`s, so always UTF-8; the lossy arm never runs.
        let xml = String::from_utf8(buf)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        let entry = ConsoleEntry {
            direction,
            time: self.now,
            xml,
        };
        super::trace::entry(&self.config, &entry);
        if direction == Direction::In && self.mask_input {
            if let Some(log) = &mut self.capture {
                let record =
                    CaptureRecord::new(RecordKind::Input, self.now, entry.xml.clone().into_bytes());
                log.push(record, self.config.capture_max_bytes);
            }
        }
        if direction == Direction::Out {
            if let Some(log) = &mut self.capture {
                let record =
                    CaptureRecord::new(RecordKind::Sent, self.now, entry.xml.clone().into_bytes());
                log.push(record, self.config.capture_max_bytes);
            }
        }
        if let Some(console) = &mut self.console {
            console.push(entry, self.config.console_max_bytes);
        }
    }

    // ---- the capture ----

    /// Whether calls are being captured.
    pub(crate) fn capturing(&self) -> bool {
        self.capture.is_some()
    }

    /// Captures one call or output at `time`, its data made by `data` only when capturing.
    pub(crate) fn capture(
        &mut self,
        kind: RecordKind,
        time: Instant,
        data: impl FnOnce() -> Vec<u8>,
    ) {
        if let Some(log) = &mut self.capture {
            log.push(
                CaptureRecord::new(kind, time, data()),
                self.config.capture_max_bytes,
            );
        }
    }

    pub(crate) fn poll_capture(&mut self) -> Option<CaptureRecord> {
        self.capture.as_mut()?.pop()
    }

    pub(crate) fn capture_dropped(&self) -> u64 {
        self.capture.as_ref().map_or(0, |c| c.dropped())
    }

    pub(crate) fn poll_console(&mut self) -> Option<ConsoleEntry> {
        self.console.as_mut()?.pop()
    }

    pub(crate) fn console_dropped(&self) -> u64 {
        self.console.as_ref().map_or(0, |c| c.dropped())
    }

    /// Bytes queued for the transport and not yet written (over WebSocket, the
    /// messages' payload: the same stanzas count the same in both framings).
    pub(crate) fn unsent(&self) -> usize {
        self.out.len() - self.out_pos - WS_PREFIX * self.out_messages as usize
    }

    pub(crate) fn out_len(&self) -> usize {
        self.out.len()
    }

    /// After an application command wrote from `before` on: undoes it if the unsent bytes
    /// now exceed [`Config::max_unsent_bytes`]. [`Event::Writable`] follows once the
    /// waiting bytes have drained far enough for the same write to fit; a write that
    /// could never fit is [`Error::StanzaTooLarge`] instead.
    pub(crate) fn check_room(&mut self, before: usize) -> Result<(), Error> {
        if self
            .sm
            .as_ref()
            .is_some_and(|sm| sm.over_bound(&self.config))
        {
            return Err(self.refuse_unacked(before));
        }
        if self.unsent() <= self.config.max_unsent_bytes {
            return Ok(());
        }
        let written = self.truncate_out(before);
        self.retract_recorded();
        super::trace::refused(&self.config);
        if written > self.config.max_unsent_bytes {
            return Err(Error::StanzaTooLarge);
        }
        self.owed_room = Some(self.owed_room.unwrap_or(0).max(written));
        Err(Error::SendBufferFull)
    }

    /// After the client wrote on its own (answers, keepalives, the session's requests):
    /// a server that leaves that much unread is not reading at all; one that leaves
    /// twice [`Config::sm_max_unacked`] stanzas unacknowledged is not acknowledging.
    pub(crate) fn check_server_reads(&mut self) {
        if self.state != State::Closed && self.unsent() > self.config.max_unsent_bytes {
            self.finish(CloseReason::SendBufferFull);
        }
        let unacking = self
            .sm
            .as_ref()
            .is_some_and(|sm| sm.over_hard_bound(&self.config));
        if self.state != State::Closed && unacking {
            self.fail_sm(SmError::Unacknowledged);
        }
    }

    /// The server broke stream management: the stream error, our close, the end.
    pub(crate) fn fail_sm(&mut self, e: SmError) {
        if matches!(self.state, State::Opening | State::Open) {
            self.emit(&stream_management::stream_error(&e));
            self.emit_close();
        }
        self.finish(CloseReason::StreamManagement(e));
    }

    /// The one element a refused command wrote was recorded (and counted): it was not
    /// sent after all — nor the ack request stream management wrote right after it.
    fn retract_recorded(&mut self) {
        let with_request = self
            .sm
            .as_deref_mut()
            .is_some_and(StreamManagement::retract_last);
        for _ in 0..1 + usize::from(with_request) {
            if let Some(console) = &mut self.console {
                console.retract_last();
            }
            if let Some(log) = &mut self.capture {
                log.retract_sent();
            }
        }
    }

    /// Undoes an application command's stanza that the full unacknowledged queue cannot
    /// take, asks the server for an ack, and owes [`Event::Writable`].
    fn refuse_unacked(&mut self, before: usize) -> Error {
        self.truncate_out(before);
        self.retract_recorded();
        let ask = self
            .sm
            .as_deref_mut()
            .is_some_and(StreamManagement::owe_writable);
        if ask {
            stream_management::request_ack(self);
        }
        Error::UnackedQueueFull
    }

    /// Over WebSocket, the length of the message at `out_pos` (its unsent part).
    fn message_len(&self) -> Option<usize> {
        if self.config.framing != Framing::WebSocket {
            return None;
        }
        let prefix = self.out.get(self.out_pos..self.out_pos + WS_PREFIX)?;
        let mut len = [0; WS_PREFIX];
        len.copy_from_slice(prefix);
        Some(usize::from_le_bytes(len))
    }

    pub(crate) fn poll_transmit(&self) -> Option<&[u8]> {
        let rest = self.out.get(self.out_pos..).filter(|b| !b.is_empty())?;
        match self.message_len() {
            Some(len) => rest.get(WS_PREFIX..WS_PREFIX + len),
            None => Some(rest),
        }
    }

    pub(crate) fn advance_transmit(&mut self, n: usize) {
        if let Some(len) = self.message_len() {
            // Within one message: at most to its end. Part of it: the rest is the
            // message now, its length written over bytes already sent.
            let n = n.min(len);
            if n == len {
                self.out_pos += WS_PREFIX + len;
                self.out_messages -= 1;
            } else if n > 0 {
                self.out_pos += n;
                let at = self.out_pos;
                self.out[at..at + WS_PREFIX].copy_from_slice(&(len - n).to_le_bytes());
            }
        } else {
            self.out_pos = (self.out_pos + n).min(self.out.len());
        }
        if self.out_pos == self.out.len() {
            // Written out: the buffer goes. A client sends in bursts its driver drains at
            // once, so an idle client holds no send buffer (one allocation per burst; the
            // input side, which steady traffic reuses, keeps its buffers).
            self.out = Vec::new();
            self.out_pos = 0;
            self.out_messages = 0;
        }
        self.note_drained();
    }

    pub(crate) fn take_transmit(&mut self) -> Option<Vec<u8>> {
        if self.unsent() == 0 {
            return None;
        }
        if let Some(len) = self.message_len() {
            // One message; the usual lone one keeps its allocation.
            let start = self.out_pos + WS_PREFIX;
            let taken = if self.out_pos == 0 && start + len == self.out.len() {
                let mut all = core::mem::take(&mut self.out);
                all.drain(..WS_PREFIX);
                all
            } else {
                self.out[start..start + len].to_vec()
            };
            self.out_pos = start + len;
            self.out_messages -= 1;
            if self.out_pos >= self.out.len() {
                self.out = Vec::new();
                self.out_pos = 0;
            }
            self.note_drained();
            return Some(taken);
        }
        let mut taken = core::mem::take(&mut self.out);
        if self.out_pos > 0 {
            taken.drain(..self.out_pos);
            self.out_pos = 0;
        }
        self.note_drained();
        Some(taken)
    }

    fn note_drained(&mut self) {
        let Some(room) = self.owed_room else {
            return;
        };
        if self.unsent() + room <= self.config.max_unsent_bytes {
            self.owed_room = None;
            // Only an open stream takes commands.
            if self.state == State::Open {
                self.push_event(Event::Writable);
            }
        }
    }

    // ---- events ----

    pub(crate) fn push(&mut self, event: impl Into<Event>) {
        self.push_event(event.into());
    }

    fn push_event(&mut self, event: Event) {
        self.events.push_back(event);
    }

    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front()?;
        if self.events.is_empty() && self.events.capacity() > BUSY_EVENTS {
            self.events.shrink_to(IDLE_EVENTS);
        }
        Some(event)
    }

    /// A quiet moment — a timer, or an input that queued at most [`IDLE_EVENTS`] — ends a
    /// busy stretch: the room it kept goes.
    pub(crate) fn release_idle_events(&mut self) {
        if self.events.len() <= IDLE_EVENTS && self.events.capacity() > IDLE_EVENTS {
            self.events.shrink_to(IDLE_EVENTS);
        }
    }

    /// The queue holds [`Config::max_events`]: input waits until the application drains.
    pub(crate) fn events_full(&self) -> bool {
        self.events.len() >= self.config.max_events.max(1)
    }

    // ---- IQs ----

    /// Sends an IQ request; `owner` marks the client's own (its reply goes to that
    /// feature, not to the application).
    pub(crate) fn request(
        &mut self,
        to: Option<&Jid>,
        kind: IqType,
        payload: Element,
        owner: Option<Owner>,
    ) -> Result<IqId, Error> {
        if matches!(owner, Some(Owner::Login(_))) {
            // The login's own requests (bind, session) are the negotiation itself.
            if self.state != State::Open || self.tls_pending {
                return Err(Error::WrongPhase);
            }
        } else {
            self.check_open()?;
        }
        if !kind.is_request() {
            return Err(Error::NotARequest);
        }
        // At least a millisecond: a reply cannot come in no time, and a deadline at `now`
        // would fire again as soon as it is handled.
        let deadline = self.now + self.config.iq_timeout.max(Duration::from_millis(1));
        let (id, wire_id) = self.iqs.insert(to.cloned(), deadline, owner);
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

    /// Writes the reply to the IQ request `request`. Once our side of the stream is closed
    /// nothing more may be sent (RFC 6120 §4.4), so the reply is dropped.
    pub(crate) fn reply(
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
