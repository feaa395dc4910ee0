//! The blocking connection: a `TcpStream`, a `Client` and the loop between them.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::iter::FusedIterator;
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant as StdInstant};

use jabber_net::{CaptureFile, Clock, Link, LoggedIn, Resumed};
use jabber_proto::client::{Client, CloseReason, Config, Event};
use jabber_proto::features::stream_management::Resumption;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::time::Instant;
use jabber_proto::xml::Element;

use crate::{Error, Options};

/// Bytes read from the socket at most per `read` call.
const READ_BUFFER: usize = 16 * 1024;

/// One XMPP connection over a blocking [`TcpStream`], with direct TLS unless
/// [`Options::tls`] is `None`.
///
/// Every method that waits ([`login`](Self::login), [`next_event`](Self::next_event),
/// [`close`](Self::close), ...) keeps the core's timers running: keepalives are sent and a
/// silent server is detected while it blocks. Nothing happens between calls; a program
/// that stops calling for a long time will find the keepalive late and may be declared
/// dead by the server.
///
/// Dropping a `Connection` closes the socket without logging out; [`close`](Self::close)
/// ends the stream cleanly first.
pub struct Connection {
    stream: TcpStream,
    /// The core, behind TLS when it is on.
    link: Link,
    /// The system's clock as the core's: its origin is the moment TCP connected.
    clock: Clock,
    /// Events taken from the core and not yet delivered.
    events: VecDeque<Event>,
    buf: Box<[u8]>,
    /// The `Closed` event was handed to the caller (or consumed by `login`).
    ended: bool,
    /// The socket was shut down.
    shut: bool,
    /// The transport failed: the error, repeated by every later call.
    failure: Option<Error>,
    /// Where the session is captured, with `Options::capture`.
    capture: Option<CaptureFile>,
}

/// What [`Connection::next_event_timeout`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum Next {
    /// An event.
    Event(Event),
    /// Nothing happened within the time given; the connection goes on.
    TimedOut,
    /// The connection is over: [`Event::Closed`] was delivered before.
    Ended,
}

/// How many times the core's event bound a wait as long as a download may queue
/// (16,384 events with the default bound).
const KEEPING: usize = 16;

impl Connection {
    /// Connects to `addr` (e.g. `"example.com:5223"`) with default [`Options`] — direct
    /// TLS, the certificate checked for `config.domain` against the usual roots — and
    /// sends the stream header. Log in next with [`login`](Self::login). For a plaintext
    /// port use [`connect_with`](Self::connect_with) and [`Options::plain`].
    ///
    /// Give each connection a seed of its own in the config
    /// ([`fresh_seed`](crate::fresh_seed) draws one), so that two connections do not
    /// share IQ ids.
    pub fn connect(addr: impl ToSocketAddrs, config: Config) -> Result<Connection, Error> {
        Connection::connect_with(addr, config, Options::default())
    }

    /// Like [`connect`](Self::connect), with transport [`Options`]: each resolved address
    /// is tried in turn, each for at most `options.connect_timeout`; the first that
    /// accepts is used. The error is the last address's.
    pub fn connect_with(
        addr: impl ToSocketAddrs,
        config: Config,
        options: Options,
    ) -> Result<Connection, Error> {
        let stream = connect_tcp(addr, options.connect_timeout)
            .inspect_err(|e| jabber_net::trace::connect_failed(&config, e))?;
        Connection::over(stream, config, options)
    }

    /// Connects to the XMPP service of `domain` (normally `config.domain`) found in the
    /// DNS: the `_xmpps-client._tcp` (direct TLS, XEP-0368) and `_xmpp-client._tcp`
    /// (STARTTLS) SRV records in RFC 2782 order, else `domain` itself on port 5222 (see
    /// [`jabber_net::srv::endpoints`]). Each endpoint's addresses are tried in turn, each
    /// for at most `options.connect_timeout`; the first that accepts is used, with direct
    /// TLS or STARTTLS as its record says ([`Options::for_endpoint`]). The weighted order
    /// draws on `config.seed`. The error is the last attempt's.
    ///
    /// An explicit address overrides the lookup: use [`connect_with`](Self::connect_with).
    /// [`Options::dns_servers`] picks the DNS servers (default: the system's).
    pub fn connect_domain(
        domain: &str,
        config: Config,
        options: Options,
    ) -> Result<Connection, Error> {
        let resolver = jabber_net::resolve::BlockingResolver::new(&options)?;
        let mut last = jabber_net::resolve::no_endpoint(domain);
        for endpoint in resolver.endpoints(domain, jabber_net::resolve::lookup_seed(&config)) {
            let Some(endpoint_options) = options.for_endpoint(&endpoint) else {
                continue;
            };
            let addrs = match resolver.addresses(&endpoint) {
                Ok(addrs) => addrs,
                Err(e) => {
                    last = e;
                    continue;
                }
            };
            match connect_tcp(&addrs[..], options.connect_timeout) {
                Ok(stream) => return Connection::over(stream, config, endpoint_options),
                Err(e) => last = e,
            }
        }
        jabber_net::trace::connect_failed(&config, &last);
        Err(last.into())
    }

    /// Starts the session over a connected socket.
    fn over(stream: TcpStream, config: Config, options: Options) -> Result<Connection, Error> {
        if let Ok(peer) = stream.peer_addr() {
            jabber_net::trace::connected(&config, peer, options.tls.is_some());
        }
        jabber_net::configure_socket(&stream, &options)?;
        let capture = CaptureFile::for_options(&options)?;
        // std refuses a zero timeout; the link reads zero as no limit too.
        stream.set_write_timeout(options.write_timeout.filter(|t| !t.is_zero()))?;
        let clock = Clock::start();
        let link = Link::new(config, &options, clock.now())?;
        let mut conn = Connection {
            stream,
            link,
            clock,
            events: VecDeque::new(),
            buf: vec![0; READ_BUFFER].into_boxed_slice(),
            ended: false,
            shut: false,
            failure: None,
            capture,
        };
        conn.drain()?;
        Ok(conn)
    }

    /// Logs in (`jabber:iq:auth`, see [`Client::login`]) and blocks until the session is
    /// ready. Events that arrive meanwhile and are not about the login (the stream
    /// header, early messages, ...) stay queued for [`next_event`](Self::next_event).
    ///
    /// Fails with [`Error::Login`] when the server refuses (the core then closes the
    /// stream), [`Error::Closed`] when the connection ends first, [`Error::Client`] when
    /// a login is not possible now (already logged in, closing, ...), or with
    /// `Error::Client(EventQueueFull)` when `Config::max_events` other events piled up
    /// meanwhile: take them with `next_event`; the login's outcome follows among them.
    pub fn login(&mut self, credentials: Credentials) -> Result<LoggedIn, Error> {
        self.with_client(|client, now| client.login(now, credentials))??;
        jabber_net::login_outcome(self.wait_for(|e| matches!(e, Event::Session(_)))?)
    }

    /// Logs in resuming an earlier session (XEP-0198, see [`Client::resume`]) and blocks
    /// until it is resumed or, refused, a new session is ready. Fails like
    /// [`login`](Self::login).
    pub fn resume(
        &mut self,
        credentials: Credentials,
        resumption: Resumption,
    ) -> Result<Resumed, Error> {
        self.with_client(|client, now| client.resume(now, credentials, resumption))??;
        jabber_net::resume_outcome(self.wait_for(jabber_net::is_resume_outcome)?)
    }

    /// Registers a new account in band (XEP-0077, see [`Client::request_registration`]):
    /// asks for the form, fills in `username` and `password`, submits it, and blocks until
    /// the server answers. On success the core closes the stream: log in on a new
    /// connection. Events not about the registration stay queued.
    ///
    /// Fails with [`Error::UsernameTaken`] when the name exists (the stream stays open:
    /// call `register` again with another name), [`Error::Registration`] for other
    /// refusals (a form asking for more than a name and a password needs
    /// [`with_client`](Self::with_client) and [`Client::submit_registration`]), and
    /// [`Error::Client`]`(PlaintextNotAllowed)` on an unencrypted transport unless
    /// [`Config::allow_plaintext`] is set: the password goes out as it is.
    pub fn register(&mut self, username: &str, password: &str) -> Result<(), Error> {
        self.with_client(|client, now| client.request_registration(now))??;
        let answer = self.wait_for(|e| matches!(e, Event::Account(_)))?;
        let form = jabber_net::filled_registration_form(answer, username, password)?;
        self.with_client(|client, now| client.submit_registration(now, &form))??;
        jabber_net::registration_outcome(self.wait_for(|e| matches!(e, Event::Account(_)))?)
    }

    /// Blocks until an event `pick` accepts (or [`Event::Closed`]) is queued, and takes
    /// it out of the queue; the others stay for [`next_event`](Self::next_event).
    pub(crate) fn wait_for(&mut self, pick: impl Fn(&Event) -> bool) -> Result<Event, Error> {
        // Bounded like the core's queue, counting only what arrives while waiting.
        let limit = self.events.len() + self.link.client().config().max_events.max(1);
        self.wait_within(pick, limit)
    }

    /// Like [`wait_for`](Self::wait_for) with a bound [`KEEPING`] times larger on what
    /// queues up meanwhile: for a wait as long as a download (a file offer's answer),
    /// which the application cannot interrupt to drain the queue. The other events stay
    /// queued, in order; a peer flooding us for that long still meets a bound.
    pub(crate) fn wait_for_keeping(
        &mut self,
        pick: impl Fn(&Event) -> bool,
    ) -> Result<Event, Error> {
        let max = self.link.client().config().max_events.max(1);
        let limit = self.events.len() + max.saturating_mul(KEEPING);
        self.wait_within(pick, limit)
    }

    fn wait_within(&mut self, pick: impl Fn(&Event) -> bool, limit: usize) -> Result<Event, Error> {
        // Only what arrived since the last look is looked at: a long wait stays linear.
        let mut checked = 0;
        loop {
            let found = self
                .events
                .iter()
                .skip(checked)
                .position(|e| pick(e) || matches!(e, Event::Closed(_)))
                .map(|i| i + checked);
            checked = self.events.len();
            match found.and_then(|i| self.events.remove(i)) {
                Some(Event::Closed(reason)) => {
                    self.ended = true;
                    return Err(Error::Closed(reason));
                }
                Some(event) => return Ok(event),
                None if self.events.len() >= limit => {
                    // Bounded like the core's own queue: the outcome, behind these, comes
                    // through `next_event`.
                    return Err(Error::Client(jabber_proto::client::Error::EventQueueFull));
                }
                None => self.step(None)?,
            }
        }
    }

    /// The next event, blocking until one arrives. `Ok(None)` once [`Event::Closed`] has
    /// been delivered (the socket is shut down by then).
    pub fn next_event(&mut self) -> Result<Option<Event>, Error> {
        loop {
            if let Some(event) = self.pop() {
                return Ok(Some(event));
            }
            if self.ended {
                return Ok(None);
            }
            self.step(None)?;
        }
    }

    /// The next event, waiting at most `wait` for it. `Duration::ZERO` only takes what
    /// is queued or already readable, without blocking.
    pub fn next_event_timeout(&mut self, wait: Duration) -> Result<Next, Error> {
        let limit = StdInstant::now().checked_add(wait);
        let mut waited = false;
        loop {
            if let Some(event) = self.pop() {
                return Ok(Next::Event(event));
            }
            if self.ended {
                return Ok(Next::Ended);
            }
            if waited && limit.is_some_and(|l| StdInstant::now() >= l) {
                return Ok(Next::TimedOut);
            }
            self.step(limit)?;
            waited = true;
        }
    }

    /// An iterator over the events, as [`next_event`](Self::next_event) returns them;
    /// it ends after [`Event::Closed`] or after an error.
    ///
    /// It borrows the connection: to answer events (send, respond), loop on
    /// [`next_event`](Self::next_event) instead.
    pub fn events(&mut self) -> Events<'_> {
        Events {
            conn: self,
            done: false,
        }
    }

    /// Sends a stanza (any top-level element), e.g. a [`Message`](crate::Message).
    pub fn send(&mut self, stanza: impl Into<Element>) -> Result<(), Error> {
        self.with_client(|client, now| client.send(now, stanza))??;
        Ok(())
    }

    /// The core, for its getters ([`state`](Client::state), [`jid`](Client::jid),
    /// [`pending_iqs`](Client::pending_iqs), ...).
    pub fn client(&self) -> &Client {
        self.link.client()
    }

    /// Runs any command on the core with the current time, then drains it (writes its
    /// bytes, queues its events). This is how to reach what has no shortcut here:
    ///
    /// ```no_run
    /// # fn f(conn: &mut jabber_std::Connection) -> Result<(), jabber_std::Error> {
    /// conn.with_client(|client, now| client.request_registration(now))??;
    /// # Ok(()) }
    /// ```
    ///
    /// The outer `Result` is the transport's, the inner one (if `f` returns one) the
    /// command's. After the socket failed, `f` is not run and the failure is returned.
    ///
    /// Leave the outputs to the adapter: an event `f` takes with
    /// [`Client::poll_event`] does not reach [`next_event`](Self::next_event).
    pub fn with_client<R>(
        &mut self,
        f: impl FnOnce(&mut Client, Instant) -> R,
    ) -> Result<R, Error> {
        self.check_failed()?;
        let result = self.link.command(self.clock.now(), f);
        self.drain()?;
        Ok(result)
    }

    /// The current time on the core's clock (milliseconds since the connection was
    /// established).
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// The link and the current time, for [`Recovery`](jabber_net::Recovery) to take
    /// a lost connection's session (see `Session`).
    pub(crate) fn link_mut(&mut self) -> (&mut Link, Instant) {
        (&mut self.link, self.clock.now())
    }

    /// Whether the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        self.link.is_tls()
    }

    /// Whether the connection is over: the core closed (its [`Event::Closed`] may still
    /// be queued) or the socket failed. Queued events can still be taken.
    pub fn is_closed(&self) -> bool {
        self.link.client().is_closed() || self.failure.is_some()
    }

    /// Logs out: closes the stream, waits for the server to close its side (the core
    /// gives up after [`Config::close_timeout`]), shuts the socket down and returns why
    /// the connection ended — [`CloseReason::Local`] on a clean logout. Events still
    /// queued or arriving meanwhile are dropped; to see them, close with
    /// [`with_client`](Self::with_client)`(|c, now| c.close(now))` and read on with
    /// [`next_event`](Self::next_event).
    ///
    /// On a connection that already ended, returns the reason it ended with.
    pub fn close(mut self) -> Result<CloseReason, Error> {
        if self.failure.is_none() && !self.link.client().is_closed() {
            self.link
                .command(self.clock.now(), |client, now| client.close(now));
            self.drain()?;
        }
        loop {
            // A failure comes first: after a reset the core's reason is the reset.
            self.check_failed()?;
            if let Some(reason) = self.link.client().close_reason() {
                return Ok(reason.clone());
            }
            self.step(None)?;
        }
    }

    /// The local address of the socket.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }

    /// The server's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    // ---- the loop ----

    fn pop(&mut self) -> Option<Event> {
        let event = self.events.pop_front()?;
        if matches!(event, Event::Closed(_)) {
            self.ended = true;
        }
        Some(event)
    }

    /// The error every call returns after the socket failed.
    fn check_failed(&self) -> Result<(), Error> {
        match &self.failure {
            None => Ok(()),
            Some(e) => Err(e.repeat()),
        }
    }

    /// Records a fatal transport error and shuts the socket down.
    fn fail(&mut self, e: impl Into<Error>) -> Error {
        let e = e.into();
        self.failure = Some(e.repeat());
        self.shut_down();
        e
    }

    fn shut_down(&mut self) {
        if !self.shut {
            self.shut = true;
            // The peer may be gone already; there is nothing left to do about it.
            let _ = self.stream.shutdown(Shutdown::Both);
        }
    }

    /// One input: waits for bytes until the link's next deadline (or `limit`, if
    /// earlier), feeds what happened, and drains.
    fn step(&mut self, limit: Option<StdInstant>) -> Result<(), Error> {
        self.check_failed()?;
        if self.link.client().is_closed() {
            // Callers only wait while the core runs or its `Closed` event is undelivered;
            // getting here means a `with_client` closure took that event. Nothing more
            // can come.
            self.ended = true;
            return Err(Error::Client(jabber_proto::client::Error::Closed));
        }
        let read = if self.link.wants_input() {
            let deadline = self.link.poll_timeout().and_then(|t| self.clock.to_std(t));
            let deadline = match (deadline, limit) {
                (Some(d), Some(l)) => Some(d.min(l)),
                (d, l) => d.or(l),
            };
            let wait = deadline.map(|d| d.saturating_duration_since(StdInstant::now()));
            match wait {
                Some(Duration::ZERO) => self.read_ready(),
                wait => self.read_blocking(wait),
            }
        } else {
            // Input paused at the core's event bound: the timeout below resumes it.
            Ok(None)
        };
        let now = self.clock.now();
        let handled = match read {
            Ok(Some(0)) => self.link.handle_eof(now),
            Ok(Some(n)) => self.link.handle_input(now, &self.buf[..n]),
            Ok(None) => Ok(()),
            Err(e) => {
                if jabber_net::is_reset(&e) {
                    self.link.handle_reset(now);
                }
                Err(Error::Io(e))
            }
        };
        if let Err(e) = handled.and_then(|()| self.link.handle_timeout(self.clock.now())) {
            // What the core made of the input before the failure still counts.
            self.take_events();
            return Err(self.fail(e));
        }
        self.drain()
    }

    /// Reads, blocking at most `wait` (`None`: without limit). `Ok(None)`: nothing came.
    fn read_blocking(&mut self, wait: Option<Duration>) -> io::Result<Option<usize>> {
        // A zero read timeout means "none" to std; the caller handles zero separately.
        let timeout = wait.map(|w| w.max(Duration::from_millis(1)));
        self.stream.set_read_timeout(timeout)?;
        read_once(&mut self.stream, &mut self.buf)
    }

    /// Reads only what is already there.
    fn read_ready(&mut self) -> io::Result<Option<usize>> {
        self.stream.set_nonblocking(true)?;
        let read = read_once(&mut self.stream, &mut self.buf);
        self.stream.set_nonblocking(false)?;
        read
    }

    /// Drains the core: writes all its bytes, queues its events, and shuts the socket
    /// down once the core has closed and its last bytes are out.
    fn drain(&mut self) -> Result<(), Error> {
        let closed = self.link.client().is_closed();
        let written = self.flush();
        if let Err(e) = &written {
            if jabber_net::is_reset(e) {
                self.link.handle_reset(self.clock.now());
            }
        }
        self.take_events();
        if closed {
            // The connection is over either way; a failure to deliver the closing bytes
            // changes nothing for the caller.
            self.shut_down();
            return Ok(());
        }
        written.map_err(|e| self.fail(e))
    }

    /// Moves the core's events into the queue. The `Closed` a reset makes the core
    /// report is not among them: the socket's error reports the reset instead.
    fn take_events(&mut self) {
        while let Some(event) = self.link.poll_event() {
            if !matches!(event, Event::Closed(CloseReason::Reset)) {
                self.events.push_back(event);
            }
        }
        if let Some(capture) = &mut self.capture {
            capture.write_from(&mut self.link);
        }
    }

    /// Writes until the core has nothing more to send (partial writes advance it).
    fn flush(&mut self) -> io::Result<()> {
        let mut lingering = false;
        loop {
            if !lingering && self.link.client().is_closed() {
                // The last bytes: a blocking write may wait only as long as the link's
                // deadline (its linger time, or the write timeout) allows.
                lingering = true;
                if let Some(deadline) = self.link.poll_timeout().and_then(|t| self.clock.to_std(t))
                {
                    let left = deadline.saturating_duration_since(StdInstant::now());
                    self.stream
                        .set_write_timeout(Some(left.max(Duration::from_millis(1))))?;
                }
            }
            let Some(bytes) = self.link.poll_transmit() else {
                return Ok(());
            };
            match self.stream.write(bytes) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => self.link.advance_transmit(self.clock.now(), n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // A blocking socket reports its write timeout as WouldBlock on Unix.
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(jabber_net::write_timed_out());
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("local", &self.stream.local_addr().ok())
            .field("peer", &self.stream.peer_addr().ok())
            .field("tls", &self.link.is_tls())
            .field("state", &self.link.client().state())
            .field("session", &self.link.client().session_state())
            .field("queued_events", &self.events.len())
            .field("failure", &self.failure)
            .finish_non_exhaustive()
    }
}

/// The events of a [`Connection`], from [`Connection::events`].
#[derive(Debug)]
pub struct Events<'a> {
    conn: &'a mut Connection,
    done: bool,
}

impl Iterator for Events<'_> {
    type Item = Result<Event, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.conn.next_event() {
            Ok(Some(event)) => Some(Ok(event)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl FusedIterator for Events<'_> {}

/// One `read`: `Ok(Some(n))` with `n` bytes (0: end of input), `Ok(None)` when the
/// timeout passed or a signal interrupted it.
fn read_once(stream: &mut TcpStream, buf: &mut [u8]) -> io::Result<Option<usize>> {
    match stream.read(buf) {
        Ok(n) => Ok(Some(n)),
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn connect_tcp(addr: impl ToSocketAddrs, timeout: Duration) -> io::Result<TcpStream> {
    let mut last = None;
    for addr in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(ErrorKind::InvalidInput, "the address resolved to nothing")
    }))
}
