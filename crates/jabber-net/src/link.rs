//! The core with an optional TLS session in front of it.

use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use jabber_proto::client::{self, Client, CloseReason, Config, Event};
use jabber_proto::negotiation::sasl::{ChannelBinding, ChannelBindingKind};
use jabber_proto::time::Instant;
use rustls::pki_types::ServerName;

use crate::{Error, Options};

/// Plaintext taken out of rustls per step; on the stack, so idle links cost nothing.
const PLAIN_CHUNK: usize = 4096;

/// Encrypted output kept for reuse between writes; larger buffers are released once
/// drained, so that an idle link holds little.
const KEEP_OUT: usize = 4096;

/// How long the last bytes may take to leave once the core has closed (its stream end,
/// a stream error); after that the link is finished with them unsent. The write timeout
/// may cut it shorter.
pub const LINGER: Duration = Duration::from_secs(5);

/// A [`Client`] and, with direct TLS, a rustls session in front of it: the part of a
/// connection every adapter needs, free of I/O and of clocks.
///
/// It has the core's shape, one layer up, and the same groups of methods:
/// - **inputs**, each with the current time: [`handle_input`](Self::handle_input) (bytes
///   read from the socket), [`handle_eof`](Self::handle_eof),
///   [`handle_reset`](Self::handle_reset) (the socket failed: a reset, a broken pipe),
///   [`handle_timeout`](Self::handle_timeout);
/// - **commands**: [`command`](Self::command) runs one of the core's with the time;
/// - **outputs**: [`poll_transmit`](Self::poll_transmit) with
///   [`advance_transmit`](Self::advance_transmit) (which takes the time of the write as
///   well: progress restarts the write timeout), [`poll_event`](Self::poll_event),
///   [`poll_timeout`](Self::poll_timeout);
/// - **getters**: [`client`](Self::client), [`is_finished`](Self::is_finished),
///   [`wants_input`](Self::wants_input), [`wants_write`](Self::wants_write), ...
///
/// The drain rule is the core's: after every input and command, write what
/// `poll_transmit` offers, take the events, and wake at `poll_timeout` to call
/// `handle_timeout`. Close the socket once [`is_finished`](Self::is_finished).
///
/// **Time** is the core's [`Instant`] (milliseconds since an origin the caller picks,
/// [`Clock`](crate::Clock) maps the system's clock to it); the link reads no clock.
/// Besides the core's timers it keeps two of its own, on the caller's time: the write
/// timeout ([`Options::write_timeout`]: bytes for the socket of which it took nothing
/// for that long fail the connection) and the [`LINGER`] time of the last bytes after the
/// core closed. The time given to each call should not go backwards; an earlier one
/// counts as the latest seen.
///
/// **Input and the event bound.** The core refuses input while
/// [`Config::max_events`] events wait undrained. The link passes that on without losing
/// or reordering a byte, and holds at most one input's worth:
/// - without TLS, [`handle_input`](Self::handle_input) returns the core's
///   `Error::Client(EventQueueFull)` and takes none of the bytes: offer them again after
///   draining the events;
/// - with TLS, an input the link takes is taken whole; when the core fills up while
///   decrypting it, the plaintext stays in rustls and the ciphertext not yet decrypted
///   stays in the link. Then further input is refused as above, and
///   [`poll_timeout`](Self::poll_timeout) is due at once as soon as the core has room:
///   [`handle_timeout`](Self::handle_timeout) (or the next input) resumes, in order.
///
/// [`wants_input`](Self::wants_input) tells beforehand: when it is true, the next
/// `handle_input` takes the bytes. An adapter that drains the events after every input
/// and runs `handle_timeout` when `wants_input` is false never sees the refusal.
///
/// An `Err` from an input is fatal to the transport (a TLS failure, a stalled write): the
/// adapter drops the socket and repeats the error. The exception is
/// `Error::Client(EventQueueFull)`, which changes nothing.
///
/// ```
/// use std::num::NonZeroU64;
/// use jabber_net::{Link, Options};
/// use jabber_proto::client::{CloseReason, Config, Event, StreamEvent};
/// use jabber_proto::time::Instant;
///
/// // A virtual clock: the test decides what time it is.
/// let t0 = Instant::from_millis(0);
/// let config = Config::new("example.com", NonZeroU64::new(7).unwrap());
/// let mut link = Link::new(config, &Options::plain(), t0)?;
///
/// // The "socket" is a Vec: write what the link offers.
/// let mut wire = Vec::new();
/// while let Some(bytes) = link.poll_transmit() {
///     wire.extend_from_slice(bytes);
///     let n = bytes.len();
///     link.advance_transmit(t0, n);
/// }
/// assert!(wire.starts_with(b"<?xml version='1.0'?><stream:stream"));
///
/// // The server answers 20 ms later.
/// let t1 = Instant::from_millis(20);
/// link.handle_input(t1, b"<stream:stream xmlns='jabber:client' \
///     xmlns:stream='http://etherx.jabber.org/streams' id='s1'>")?;
/// assert!(matches!(link.poll_event(), Some(Event::Stream(StreamEvent::Opened(_)))));
///
/// // The server ends the stream; the core answers with its own end, which the socket
/// // does not take: it is given up on exactly LINGER after the close.
/// link.handle_input(t1, b"</stream:stream>")?;
/// assert!(matches!(link.poll_event(), Some(Event::Closed(CloseReason::Peer))));
/// let given_up = t1 + jabber_net::LINGER;
/// assert_eq!(link.poll_timeout(), Some(given_up));
/// link.handle_timeout(Instant::from_millis(given_up.as_millis() - 1))?;
/// assert!(!link.is_finished());
/// link.handle_timeout(given_up)?;
/// assert!(link.is_finished());
/// # Ok::<(), jabber_net::Error>(())
/// ```
#[derive(Debug)]
pub struct Link {
    client: Client,
    tls: Option<Box<rustls::ClientConnection>>,
    /// Encrypted bytes for the socket and how many of them were written.
    out: Vec<u8>,
    out_pos: usize,
    /// `close_notify` was queued after the core closed.
    tls_closed: bool,
    /// The server's TLS stream ended (close_notify) and the core was told.
    tls_ended: bool,
    /// Ciphertext of a taken input that rustls has not seen yet, because the core ran
    /// out of room first. At most one input's worth: input is refused while it waits.
    backlog: Vec<u8>,
    /// Decrypting stopped at the core's event bound: plaintext waits in rustls.
    plain_paused: bool,
    /// The transport reached end of input (or was reset): nothing can follow it.
    eof: bool,
    /// rustls was told of the end of input.
    eof_fed: bool,
    /// The core was told of the end of input.
    eof_told: bool,
    /// The latest time given.
    now: Instant,
    write_timeout: Option<Duration>,
    /// Since when bytes have been waiting for the socket without any taken.
    stalled_since: Option<Instant>,
    /// When the core was first seen closed; the last bytes have until then + LINGER.
    closed_at: Option<Instant>,
    /// Nothing more is written: the core abandoned its output (a dead, unreading or
    /// reset peer), the socket was reset, or the last bytes outlived the linger time.
    output_gone: bool,
    /// The TLS handshake is done, traced, and its channel binding given to the core.
    tls_up_traced: bool,
    /// STARTTLS's settings, until used.
    starttls: Option<Box<crate::Tls>>,
    /// Starting STARTTLS failed where no error could be returned (after a write): the
    /// next input or timeout returns it.
    deferred: Option<Error>,
}

/// How far [`deliver`] got with rustls's plaintext.
enum Plain {
    /// All of it is with the core.
    Drained,
    /// The core has no room for more; the rest waits in rustls.
    Paused,
    /// The server's close_notify: its TLS stream ended.
    Ended,
}

impl Link {
    /// A link for a connection established at `now`. With `options.tls`, the TLS session
    /// checks the server's certificate for `config.domain` (or the name the options
    /// give) and the core is told the transport is encrypted.
    pub fn new(mut config: Config, options: &Options, now: Instant) -> Result<Link, Error> {
        if options.capture.is_some() {
            config.capture = true;
        }
        let tls = match &options.tls {
            None => None,
            Some(tls) => {
                config.transport_encrypted = true;
                Some(session(tls, &config.domain)?)
            }
        };
        let mut link = Link {
            client: Client::new(config, now),
            tls,
            out: Vec::new(),
            out_pos: 0,
            tls_closed: false,
            tls_ended: false,
            backlog: Vec::new(),
            plain_paused: false,
            eof: false,
            eof_fed: false,
            eof_told: false,
            now,
            // A zero limit would fail every write that has to wait at all: no limit.
            write_timeout: options.write_timeout.filter(|t| !t.is_zero()),
            stalled_since: None,
            closed_at: None,
            output_gone: false,
            tls_up_traced: false,
            starttls: options.starttls.clone().map(Box::new),
            deferred: None,
        };
        link.settle();
        Ok(link)
    }

    // ---- getters ----

    /// The oldest capture record not yet taken ([`Client::poll_capture`]); with
    /// [`Options::capture`], [`CaptureFile::write_from`](crate::CaptureFile::write_from)
    /// takes them.
    pub fn poll_capture(&mut self) -> Option<jabber_proto::client::CaptureRecord> {
        self.client.poll_capture()
    }

    /// Bytes not yet written: the core's and TLS's.
    fn unsent_bytes(&self) -> usize {
        self.out.len() - self.out_pos + self.client.poll_transmit().map_or(0, <[u8]>::len)
    }

    /// The core, for its getters.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Whether the transport is TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Whether the core has closed (its `Event::Closed` is queued or taken). The last
    /// bytes may still wait: see [`is_finished`](Self::is_finished).
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Whether the connection is over: the core closed and nothing is left for the
    /// socket — every byte (with TLS, `close_notify` too) was written, or none will be:
    /// the core dropped its output ([`CloseReason::abandons_output`]), the socket was
    /// reset, or the last bytes did not leave within [`LINGER`]. Close the socket then.
    pub fn is_finished(&self) -> bool {
        self.client.is_closed()
            && (self.output_gone || (self.client.is_finished() && !self.wants_write()))
    }

    /// Whether bytes wait for the socket (in the core, in rustls, or encrypted here).
    pub fn wants_write(&self) -> bool {
        if self.output_gone {
            return false;
        }
        self.client.wants_write()
            || self.out_pos < self.out.len()
            || self.tls.as_ref().is_some_and(|tls| {
                tls.wants_write() || (self.client.is_closed() && !self.tls_closed)
            })
    }

    /// Whether [`handle_input`](Self::handle_input) takes bytes now. False while
    /// [`Config::max_events`] events wait undrained, or while input the link or the core
    /// paused on waits: drain the events and call
    /// [`handle_timeout`](Self::handle_timeout) (then due at once), then ask again. A
    /// deadline that is due does not stop reading: read first, then call
    /// `handle_timeout`, so that an answer already in the socket is not timed out. After
    /// the end of input, and once the core has closed, input is taken and dropped.
    pub fn wants_input(&self) -> bool {
        if self.eof || self.client.is_closed() {
            return true;
        }
        !self.input_waits() && self.client.wants_input()
    }

    /// Input taken that has not reached the core yet.
    fn input_waits(&self) -> bool {
        !self.client.is_closed()
            && (self.plain_paused
                || !self.backlog.is_empty()
                || (self.eof && !self.eof_told && !self.tls_ended))
    }

    // ---- inputs ----

    /// Bytes read from the socket at `now` (dropped after [`handle_eof`](Self::handle_eof),
    /// [`handle_reset`](Self::handle_reset), or once the core has closed).
    /// `Error::Client(EventQueueFull)` takes none of them: see the event bound in the
    /// [type's docs](Link). Other errors are fatal.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) -> Result<(), Error> {
        self.tick(now);
        let result = self.input(now, bytes);
        self.settle();
        result.and_then(|()| self.deferred.take().map_or(Ok(()), Err))
    }

    /// The socket reached end of input at `now`. With TLS, plaintext still waiting at
    /// the event bound reaches the core first.
    pub fn handle_eof(&mut self, now: Instant) -> Result<(), Error> {
        self.tick(now);
        let result = if std::mem::replace(&mut self.eof, true) {
            Ok(())
        } else if self.tls.is_none() {
            self.eof_told = true;
            self.client.handle_eof(now);
            Ok(())
        } else {
            self.resume(now)
        };
        self.settle();
        result
    }

    /// The socket failed at `now` (a connection reset, a broken pipe, an aborted
    /// connection): the core ends at once with [`CloseReason::Reset`] (unless it had
    /// closed before), nothing more is written and later input is ignored. Events the
    /// core had already produced stay queued before its `Closed`.
    pub fn handle_reset(&mut self, now: Instant) {
        self.tick(now);
        self.eof = true;
        self.client.handle_reset(now);
        // Also when the core had closed before: its last bytes can no longer leave.
        self.give_up_output();
        self.settle();
    }

    /// Runs what is due at `now`: the write timeout (an `Err` of kind `TimedOut` when
    /// bytes waited too long for the socket), input paused at the event bound, the
    /// core's timers, and the linger time. Calling it early or twice is harmless.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        self.tick(now);
        if self.wants_write() {
            let stall = self.stalled_since.zip(self.write_timeout);
            if stall.is_some_and(|(since, limit)| now >= since + limit) {
                crate::trace::write_timed_out(self.client.config(), self.unsent_bytes());
                return Err(Error::Io(crate::write_timed_out()));
            }
        }
        // Paused input first: bytes that arrived count for the core's dead-peer timer.
        let result = self.resume(now);
        self.client.handle_timeout(now);
        self.settle();
        result.and_then(|()| self.deferred.take().map_or(Ok(()), Err))
    }

    fn input(&mut self, now: Instant, bytes: &[u8]) -> Result<(), Error> {
        if self.eof || self.client.is_closed() {
            // A socket yields nothing after its end; rustls must not see more either. A
            // closed core drops input: rustls need not decrypt it (after our
            // close_notify, rustls even asserts on a record it cannot parse).
            return Ok(());
        }
        if self.tls.is_none() {
            return self.client.handle_input(now, bytes).map_err(Error::Client);
        }
        self.resume(now)?;
        if self.input_waits() || !self.client.wants_input() {
            return Err(Error::Client(client::Error::EventQueueFull));
        }
        let taken = self.pump(now, bytes).inspect_err(|e| {
            if matches!(e, Error::Tls(_)) {
                crate::trace::tls_failed(self.client.config(), e);
            }
        })?;
        if taken < bytes.len() {
            self.backlog.extend_from_slice(&bytes[taken..]);
        }
        Ok(())
    }

    /// Moves input that waits (TLS only) on to the core, as far as it has room.
    fn resume(&mut self, now: Instant) -> Result<(), Error> {
        if self.tls.is_none() {
            return Ok(());
        }
        if !self.client.is_closed() {
            // An empty input makes the core parse what it paused on first, so that the
            // plaintext handed to it next is not refused; still full, it refuses nothing.
            let _ = self.client.handle_input(now, &[]);
        }
        if !self.input_waits() {
            return Ok(());
        }
        let mut backlog = std::mem::take(&mut self.backlog);
        let taken = self.pump(now, &backlog)?;
        if taken < backlog.len() && !self.client.is_closed() {
            backlog.drain(..taken);
            self.backlog = backlog;
        }
        Ok(())
    }

    /// Hands rustls's plaintext to the core, then `input` to rustls, then the end of
    /// input, as long as the core has room. Returns how much of `input` rustls took (or
    /// dropped: after close_notify nothing is part of the TLS stream).
    fn pump(&mut self, now: Instant, input: &[u8]) -> Result<usize, Error> {
        let Some(tls) = self.tls.as_deref_mut() else {
            return Ok(0);
        };
        let mut rest = input;
        loop {
            if self.client.is_closed() {
                // What follows is dropped by the core anyway.
                rest = &[];
                self.plain_paused = false;
                break;
            }
            match deliver(tls, &mut self.client, now, &mut self.tls_up_traced)? {
                Plain::Paused => {
                    self.plain_paused = true;
                    break;
                }
                Plain::Ended => {
                    self.plain_paused = false;
                    rest = &[];
                    if !self.tls_ended {
                        // A server may wait for our close_notify before it closes TCP;
                        // the core decides what this end means.
                        self.tls_ended = true;
                        self.client.handle_eof(now);
                    }
                    break;
                }
                Plain::Drained => self.plain_paused = false,
            }
            if !rest.is_empty() {
                // `&[u8]` as `Read` advances `rest` by what rustls took (a record at
                // most); it takes nothing after the server's close_notify.
                if tls.read_tls(&mut rest)? == 0 {
                    rest = &[];
                } else {
                    decrypt(tls, &mut self.client, now)?;
                }
            } else if self.eof && !self.eof_fed {
                // An empty read tells rustls the transport ended. A missing
                // close_notify changes nothing for XMPP: the stream's own end (or its
                // absence) is what the core judges.
                self.eof_fed = true;
                tls.read_tls(&mut &[][..])?;
                decrypt(tls, &mut self.client, now)?;
            } else {
                if self.eof_fed && !self.eof_told {
                    self.eof_told = true;
                    if !self.tls_ended {
                        self.client.handle_eof(now);
                    }
                }
                break;
            }
        }
        Ok(input.len() - rest.len())
    }

    // ---- commands ----

    /// Runs a command on the core at `now`. Drain afterwards.
    pub fn command<R>(&mut self, now: Instant, f: impl FnOnce(&mut Client, Instant) -> R) -> R {
        self.tick(now);
        let result = f(&mut self.client, now);
        self.settle();
        result
    }

    // ---- outputs ----

    /// Bytes for the socket, if any. Write them (any part) and call
    /// [`advance_transmit`](Self::advance_transmit) with how many were taken.
    pub fn poll_transmit(&mut self) -> Option<&[u8]> {
        if self.output_gone {
            return None;
        }
        if self.tls.is_none() {
            if !self.client.wants_write() {
                self.stalled_since = None;
            }
            return self.client.poll_transmit();
        }
        if self.out_pos == self.out.len() {
            self.refill();
        }
        if self.out_pos == self.out.len() {
            self.stalled_since = None;
            return None;
        }
        Some(&self.out[self.out_pos..])
    }

    /// `n` bytes of what [`poll_transmit`](Self::poll_transmit) offered were written at
    /// `now`. Progress restarts the write timeout.
    pub fn advance_transmit(&mut self, now: Instant, n: usize) {
        self.tick(now);
        if n > 0 && !self.output_gone {
            if self.tls.is_none() {
                self.client.advance_transmit(n);
            } else {
                self.out_pos = (self.out_pos + n).min(self.out.len());
            }
            self.stalled_since = None;
        }
        self.settle();
    }

    /// The next event of the core.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.client.poll_event()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due next: the core's deadline,
    /// the write timeout or the linger time of bytes the socket has not taken, or at
    /// once (the latest time given) when input paused at the event bound can go on.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let resume = (self.input_waits() && self.client.wants_input()).then_some(self.now);
        let unsent = self.wants_write();
        let stall = self
            .stalled_since
            .filter(|_| unsent)
            .zip(self.write_timeout)
            .map(|(since, limit)| since + limit);
        let linger = self.closed_at.filter(|_| unsent).map(|at| at + LINGER);
        [self.client.poll_timeout(), resume, stall, linger]
            .into_iter()
            .flatten()
            .min()
    }

    // ---- bookkeeping ----

    fn tick(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    /// After every call with a time: notes the core's close, gives up on the last bytes
    /// when their linger time is over, and starts or stops the write timeout.
    fn settle(&mut self) {
        let now = self.now;
        // STARTTLS: once the core's last plaintext (its `<starttls/>`) is written.
        if self.tls.is_none()
            && self.client.wants_tls()
            && !self.client.wants_write()
            && !self.client.is_closed()
        {
            if let Err(e) = self.start_tls(now) {
                self.deferred.get_or_insert(e);
            }
        }
        if self.client.is_closed() {
            if self.closed_at.is_none() {
                self.closed_at = Some(now);
                if let Some(reason) = self.client.close_reason() {
                    crate::trace::closed(self.client.config(), &format_args!("{reason:?}"));
                }
                // Input still waiting is moot: a closed core drops it.
                self.plain_paused = false;
                self.backlog = Vec::new();
            }
            if self
                .client
                .close_reason()
                .is_some_and(CloseReason::abandons_output)
            {
                // The core dropped its bytes; what it had already handed to TLS goes too.
                self.give_up_output();
            }
            if self.closed_at.is_some_and(|at| now >= at + LINGER) && !self.output_gone {
                crate::trace::linger_expired(self.client.config(), self.unsent_bytes());
                self.give_up_output();
            }
        }
        if !self.wants_write() {
            self.stalled_since = None;
        } else if self.stalled_since.is_none() {
            self.stalled_since = Some(now);
        }
    }

    /// Starts the TLS session the core asked for and tells the core it is there: its
    /// new stream header goes into TLS, written once the handshake is done.
    fn start_tls(&mut self, now: Instant) -> Result<(), Error> {
        let Some(settings) = self.starttls.take() else {
            return Err(Error::Tls(rustls::Error::General(String::from(
                "the server's STARTTLS was accepted, but Options::starttls is None",
            ))));
        };
        self.tls = Some(session(&settings, &self.client.config().domain)?);
        self.client
            .handle_tls_ready(now, Vec::new())
            .map_err(Error::Client)
    }

    fn give_up_output(&mut self) {
        self.output_gone = true;
        self.out = Vec::new();
        self.out_pos = 0;
        self.stalled_since = None;
    }

    /// Moves the core's plaintext into rustls and rustls's records into `out`.
    fn refill(&mut self) {
        let Some(tls) = self.tls.as_deref_mut() else {
            return;
        };
        if self.out.capacity() > KEEP_OUT {
            self.out = Vec::new();
        }
        self.out.clear();
        self.out_pos = 0;
        while let Some(bytes) = self.client.poll_transmit() {
            // rustls buffers plaintext until the handshake is done, up to a limit; what
            // does not fit stays in the core for the next round.
            match tls.writer().write(bytes) {
                Ok(n) if n > 0 => self.client.advance_transmit(n),
                _ => break,
            }
        }
        if self.client.is_closed() && !self.client.wants_write() && !self.tls_closed {
            self.tls_closed = true;
            tls.send_close_notify();
        }
        while tls.wants_write() {
            // Writing into a Vec cannot fail.
            if tls.write_tls(&mut self.out).is_err() {
                break;
            }
        }
    }
}

/// A TLS session for `domain` (or the name `tls` gives).
fn session(tls: &crate::Tls, domain: &str) -> Result<Box<rustls::ClientConnection>, Error> {
    let name = tls.server_name.as_deref().unwrap_or(domain);
    let name = ServerName::try_from(name.to_owned())
        .map_err(|e| Error::Tls(rustls::Error::General(format!("server name {name:?}: {e}"))))?;
    Ok(Box::new(rustls::ClientConnection::new(
        tls.client_config()?,
        name,
    )?))
}

/// The channel-binding data a finished handshake gives, best first: `tls-exporter` on
/// TLS 1.3 (RFC 9266), then `tls-server-end-point` (RFC 5929 §4.1: the certificate's
/// hash with the hash of its signature, left out when that type is undefined for it —
/// see `cert_hash`).
pub fn channel_bindings(tls: &rustls::ClientConnection) -> Vec<ChannelBinding> {
    let mut bindings = Vec::new();
    if tls.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3) {
        if let Ok(data) =
            tls.export_keying_material(vec![0u8; 32], b"EXPORTER-Channel-Binding", None)
        {
            bindings.push(ChannelBinding {
                kind: ChannelBindingKind::TlsExporter,
                data,
            });
        }
    }
    let cert = tls.peer_certificates().and_then(|c| c.first());
    if let Some(data) = cert.and_then(|c| crate::cert_hash::server_end_point(c.as_ref())) {
        bindings.push(ChannelBinding {
            kind: ChannelBindingKind::TlsServerEndPoint,
            data,
        });
    }
    bindings
}

/// Decrypts what rustls has read. On a record that fails (a bad certificate, a corrupt
/// record) the plaintext before it still goes to the core, as far as it has room, and
/// the error is returned: fatal, and rustls's alert is not worth waiting for.
fn decrypt(
    tls: &mut rustls::ClientConnection,
    client: &mut Client,
    now: Instant,
) -> Result<(), Error> {
    if let Err(e) = tls.process_new_packets() {
        // The TLS error says more than anything reading could report after it.
        let _ = deliver(tls, client, now, &mut true);
        return Err(Error::Tls(e));
    }
    Ok(())
}

/// Hands rustls's plaintext to the core while the core has room (and is open: once
/// closed it would drop it).
///
/// Once the handshake is done (`up` still false), first traces it and gives the core its
/// channel binding: before the core sees any decrypted byte, the server's features
/// among them.
fn deliver(
    tls: &mut rustls::ClientConnection,
    client: &mut Client,
    now: Instant,
    up: &mut bool,
) -> Result<Plain, Error> {
    if !*up && !tls.is_handshaking() {
        *up = true;
        let version = tls.protocol_version().map(|v| format!("{v:?}"));
        let suite = tls
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()));
        crate::trace::tls_established(
            client.config(),
            &version.unwrap_or_default(),
            &suite.unwrap_or_default(),
        );
        client.handle_channel_binding(now, channel_bindings(tls));
    }
    let mut plain = [0u8; PLAIN_CHUNK];
    loop {
        if client.is_closed() {
            return Ok(Plain::Drained);
        }
        if !client.wants_input() {
            // No room: stop if plaintext waits (read now, the core would refuse it).
            let waiting = tls
                .process_new_packets()
                .map_or(true, |state| state.plaintext_bytes_to_read() > 0);
            if waiting {
                return Ok(Plain::Paused);
            }
        }
        match tls.reader().read(&mut plain) {
            Ok(0) => return Ok(Plain::Ended),
            Ok(n) => client.handle_input(now, &plain[..n])?,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Plain::Drained),
            // The peer closed the TCP connection without close_notify: the same as a
            // clean end for XMPP, which has its own closing handshake.
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(Plain::Drained),
            Err(e) => return Err(Error::Io(e)),
        }
    }
}
