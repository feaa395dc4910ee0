//! The core with an optional TLS session in front of it.

use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant as StdInstant};

use jabber_proto::client::{Client, CloseReason, Config, Event};
use jabber_proto::time::Instant;
use rustls::pki_types::ServerName;

use crate::{Clock, Error, Options};

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
/// connection every adapter needs, free of I/O. The adapter reads the socket into
/// [`handle_read`](Self::handle_read), writes what [`poll_write`](Self::poll_write)
/// offers, wakes at [`deadline`](Self::deadline) and calls
/// [`handle_timeout`](Self::handle_timeout), and takes events with
/// [`poll_event`](Self::poll_event) — the core's drain rule, one layer up.
///
/// Without TLS the bytes are the core's own. With TLS the core's plaintext is encrypted
/// on its way out and what arrives is decrypted before the core sees it. Either way the
/// core's clock is [`Clock`]'s.
///
/// An `Err` from an input is fatal to the transport (a TLS failure, a stalled write);
/// the adapter drops the socket and repeats the error.
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
    /// The transport reached end of input: nothing can follow it.
    eof: bool,
    clock: Clock,
    write_timeout: Option<Duration>,
    /// Since when bytes have been waiting for the socket without any taken.
    stalled_since: Option<StdInstant>,
    /// When the core was first seen closed; the last bytes have until then + LINGER.
    closed_at: Option<StdInstant>,
    /// The last bytes did not leave in time and were given up on.
    given_up: bool,
}

impl Link {
    /// A link for a connection established now. With `options.tls`, the TLS session
    /// checks the server's certificate for `config.domain` (or the name the options
    /// give) and the core is told the transport is encrypted.
    pub fn new(mut config: Config, options: &Options) -> Result<Link, Error> {
        let tls = match &options.tls {
            None => None,
            Some(tls) => {
                let name = tls.server_name.as_deref().unwrap_or(&config.domain);
                let name = ServerName::try_from(name.to_owned()).map_err(|e| {
                    Error::Tls(rustls::Error::General(format!("server name {name:?}: {e}")))
                })?;
                let session = rustls::ClientConnection::new(tls.client_config()?, name)?;
                config.transport_encrypted = true;
                Some(Box::new(session))
            }
        };
        let clock = Clock::start();
        Ok(Link {
            client: Client::new(config, Instant::ZERO),
            tls,
            out: Vec::new(),
            out_pos: 0,
            tls_closed: false,
            tls_ended: false,
            eof: false,
            clock,
            // A zero limit would fail every write that has to wait at all: no limit.
            write_timeout: options.write_timeout.filter(|t| !t.is_zero()),
            stalled_since: None,
            closed_at: None,
            given_up: false,
        })
    }

    // ---- getters ----

    /// The core, for its getters.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The clock the core runs on.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The current time on the core's clock.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Whether the transport is TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due next: the core's deadline,
    /// or the write timeout of bytes the socket has not taken.
    ///
    /// While the clock is held the core's deadlines do not count: its time stands still.
    pub fn deadline(&self) -> Option<StdInstant> {
        let core = if self.clock.is_held() {
            None
        } else {
            self.client
                .poll_timeout()
                .and_then(|t| self.clock.to_std(t))
        };
        let stall = self
            .stalled_since
            .zip(self.write_timeout)
            .and_then(|(since, limit)| since.checked_add(limit));
        let linger = self
            .closed_at
            .filter(|_| !self.given_up && self.has_unsent())
            .and_then(|at| at.checked_add(LINGER));
        [core, stall, linger].into_iter().flatten().min()
    }

    /// Whether bytes wait to be written (in the core, in rustls, or encrypted here).
    fn has_unsent(&self) -> bool {
        self.client.wants_write()
            || self.out_pos < self.out.len()
            || self.tls.as_ref().is_some_and(|tls| tls.wants_write())
    }

    /// Starts the linger time when the core has just closed.
    fn note_close(&mut self) {
        if self.closed_at.is_none() && self.client.is_closed() {
            self.closed_at = Some(StdInstant::now());
        }
    }

    /// Whether the connection is over: the core closed and every byte for the socket
    /// (with TLS, `close_notify` too) was written — or the core closed for a dead or an
    /// unreading peer, whose unsent bytes are dropped, or the last bytes did not leave
    /// within [`LINGER`] (see [`poll_write`](Self::poll_write)). The adapter shuts the
    /// socket then.
    pub fn is_finished(&mut self) -> bool {
        self.client.is_closed() && self.poll_write().is_none()
    }

    /// The core closed because the peer is dead or does not read: the core's contract is
    /// to drop the transport without waiting, so nothing more is written.
    fn abandoned(&self) -> bool {
        matches!(
            self.client.close_reason(),
            Some(CloseReason::PeerTimeout | CloseReason::SendBufferFull)
        )
    }

    // ---- the clock ----

    /// Holds the core's clock: for a transport that is not up yet (a non-blocking
    /// connect), so that waiting for it does not count against the core's timers.
    pub fn hold_clock(&mut self) {
        self.clock.hold();
    }

    /// Lets the core's clock run again, from where it was held.
    pub fn release_clock(&mut self) {
        self.clock.release();
    }

    // ---- inputs ----

    /// Bytes read from the socket (ignored after [`handle_eof`](Self::handle_eof)).
    pub fn handle_read(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let result = self.read(bytes);
        self.note_close();
        result
    }

    /// The socket reached end of input.
    pub fn handle_eof(&mut self) -> Result<(), Error> {
        let result = self.end();
        self.note_close();
        result
    }

    fn read(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if self.eof {
            // A socket yields nothing after its end; rustls must not see more either.
            return Ok(());
        }
        let now = self.clock.now();
        let Some(tls) = self.tls.as_deref_mut() else {
            self.client.handle_input(now, bytes)?;
            return Ok(());
        };
        let mut rest = bytes;
        while !rest.is_empty() {
            // `&[u8]` as `Read` advances `rest` by what rustls took. After the server's
            // close_notify rustls takes nothing more: what follows it is not part of the
            // TLS stream and is dropped.
            if tls.read_tls(&mut rest)? == 0 {
                break;
            }
            decrypt(tls, &mut self.client, &mut self.tls_ended, now)?;
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), Error> {
        if std::mem::replace(&mut self.eof, true) {
            return Ok(());
        }
        let now = self.clock.now();
        if let Some(tls) = self.tls.as_deref_mut() {
            // An empty read tells rustls the transport ended; plaintext it still holds
            // goes to the core first. A missing close_notify changes nothing for XMPP:
            // the stream's own end (or its absence) is what the core judges.
            tls.read_tls(&mut &[][..])?;
            decrypt(tls, &mut self.client, &mut self.tls_ended, now)?;
            if self.tls_ended {
                return Ok(()); // the core was told at close_notify
            }
        }
        self.client.handle_eof(now);
        Ok(())
    }

    /// Runs what is due at the current time: the core's timers, and the write timeout
    /// (an `Err` of kind `TimedOut` when bytes waited too long for the socket).
    pub fn handle_timeout(&mut self) -> Result<(), Error> {
        let now_std = StdInstant::now();
        if let (Some(since), Some(limit)) = (self.stalled_since, self.write_timeout) {
            if now_std.saturating_duration_since(since) >= limit {
                return Err(Error::Io(crate::write_timed_out()));
            }
        }
        let now = self.clock.at(now_std);
        if self.client.poll_timeout().is_some_and(|t| t <= now) {
            self.client.handle_timeout(now);
        }
        self.note_close();
        if let Some(at) = self.closed_at {
            if now_std.saturating_duration_since(at) >= LINGER {
                self.given_up = true;
            }
        }
        Ok(())
    }

    // ---- commands ----

    /// Runs a command on the core with the current time. Drain afterwards.
    pub fn command<R>(&mut self, f: impl FnOnce(&mut Client, Instant) -> R) -> R {
        let now = self.clock.now();
        let result = f(&mut self.client, now);
        self.note_close();
        result
    }

    // ---- outputs ----

    /// Bytes for the socket, if any. Write them (any part) and call
    /// [`advance_write`](Self::advance_write) with how many were taken.
    pub fn poll_write(&mut self) -> Option<&[u8]> {
        if self.abandoned() || self.given_up {
            self.stalled_since = None;
            return None;
        }
        if self.tls.is_none() {
            let bytes = self.client.poll_transmit();
            if bytes.is_none() {
                self.stalled_since = None;
            } else if self.stalled_since.is_none() {
                self.stalled_since = Some(StdInstant::now());
            }
            return bytes;
        }
        if self.out_pos == self.out.len() {
            self.refill();
        }
        if self.out_pos == self.out.len() {
            self.stalled_since = None;
            return None;
        }
        if self.stalled_since.is_none() {
            self.stalled_since = Some(StdInstant::now());
        }
        Some(&self.out[self.out_pos..])
    }

    /// `n` bytes of what [`poll_write`](Self::poll_write) offered were written.
    pub fn advance_write(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        // Progress restarts the write timeout.
        self.stalled_since = Some(StdInstant::now());
        if self.tls.is_none() {
            self.client.advance_transmit(n);
        } else {
            self.out_pos = (self.out_pos + n).min(self.out.len());
        }
    }

    /// The next event of the core.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.client.poll_event()
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

/// Hands everything rustls has decrypted to the core — also what came before a record
/// that fails (a bad certificate, a corrupt record), whose error is then returned: fatal,
/// and rustls's alert is not worth waiting for. The server's close_notify ends the input
/// for the core (`ended` records that it was told).
fn decrypt(
    tls: &mut rustls::ClientConnection,
    client: &mut Client,
    ended: &mut bool,
    now: Instant,
) -> Result<(), Error> {
    let processed = tls.process_new_packets();
    let mut plain = [0u8; PLAIN_CHUNK];
    loop {
        match tls.reader().read(&mut plain) {
            Ok(0) => {
                // close_notify: the server's TLS stream ended. A server may wait for
                // ours before it closes TCP; the core decides what that end means.
                if !*ended {
                    *ended = true;
                    client.handle_eof(now);
                }
                break;
            }
            Ok(n) => client.handle_input(now, &plain[..n])?,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            // The peer closed the TCP connection without close_notify: the same as a
            // clean end for XMPP, which has its own closing handshake.
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => break,
            Err(e) => {
                // The TLS error, if there is one, says more than its effect on reading.
                processed?;
                return Err(Error::Io(e));
            }
        }
    }
    processed?;
    Ok(())
}
