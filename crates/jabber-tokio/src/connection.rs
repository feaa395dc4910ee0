//! The async connection: a tokio `TcpStream`, the core behind jabber-net's [`Link`], and
//! the poll function between them.

use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io::{self, ErrorKind};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant as StdInstant};

use futures_core::{FusedStream, Stream};
use jabber_net::{CaptureFile, Clock, Link, LoggedIn};
use jabber_proto::client::{Client, CloseReason, Config, Event};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::time::Instant;
use jabber_proto::xml::Element;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio::sync::mpsc;
use tokio::time::Sleep;

use crate::sender::{COMMAND_QUEUE, Command, Sender};
use crate::{Error, Options};

/// Bytes read from the socket at most per `read` call.
const READ_BUFFER: usize = 16 * 1024;

/// One XMPP connection over a tokio [`TcpStream`], with direct TLS unless
/// [`Options::tls`] is `None`.
///
/// The connection does its work only while it is polled — by
/// [`next_event`](Self::next_event), the [`Stream`] implementation,
/// [`login`](Self::login), [`register`](Self::register), [`flush`](Self::flush) or
/// [`close`](Self::close). Each poll runs the commands queued by [`Sender`]s, writes
/// what the core has to send, reads what the server sent, and fires the core's timers;
/// keepalives are sent and a silent server is detected meanwhile. No task is spawned: a
/// program that stops polling for a long time will find the keepalive late and may be
/// declared dead by the server. Poll it from one task, e.g. a loop on `next_event` (with
/// `tokio::select!` for the program's other inputs), and hand [`Sender`]s to the others.
///
/// All its state lives in the `Connection` itself, so every future it returns except
/// [`close`](Self::close) can be dropped at any `.await` without losing a byte or an
/// event (see [`next_event`](Self::next_event)).
///
/// Dropping a `Connection` closes the socket without logging out; [`close`](Self::close)
/// ends the stream cleanly first.
///
/// It needs a tokio runtime with the I/O and time drivers (`enable_all`), of either
/// flavour. Its timers run on the system's monotonic clock (the core's
/// [`Clock`](jabber_net::Clock)), not on tokio's: do not drive it under tokio's paused
/// test clock (`start_paused`), whose automatic advance would fire the timer again and
/// again before the real deadline — a busy loop.
pub struct Connection {
    stream: TcpStream,
    /// The core, behind TLS when it is on.
    link: Link,
    /// The system's clock as the core's: its origin is the moment TCP connected.
    clock: Clock,
    /// Events taken from the core and not yet delivered. A `Closed` at the front waits
    /// until the socket is shut down.
    events: VecDeque<Event>,
    /// Armed for the link's deadline; created on first use.
    timer: Option<Pin<Box<Sleep>>>,
    /// The deadline `timer` is armed for; `None` once it fired.
    timer_at: Option<StdInstant>,
    /// Commands from the [`Sender`]s; `tx` makes more senders.
    commands: mpsc::Receiver<Command>,
    tx: mpsc::Sender<Command>,
    /// The command queue was closed (the connection is over).
    commands_closed: bool,
    /// The `Closed` event was handed to the caller (or consumed by `login`).
    ended: bool,
    /// The socket was shut down (or given up on).
    shut: bool,
    /// The transport failed: a copy of the error, repeated by every later call.
    failure: Option<Error>,
    /// The error itself, until a call has returned it.
    fresh_failure: Option<Error>,
    /// The `Stream` returned `None` or an error: it is over.
    stream_done: bool,
    /// The socket reached end of input: a socket at its end is always readable, so it is
    /// not read again (that would spin while the last bytes linger).
    read_eof: bool,
    /// Where the session is captured, with `Options::capture` (boxed: rarely on).
    capture: Option<Box<CaptureFile>>,
}

impl Connection {
    /// Connects to `addr` (e.g. `"example.com:5223"`) with default [`Options`] — direct
    /// TLS, the certificate checked for `config.domain` against the usual roots — and
    /// sends the stream header. Log in next with [`login`](Self::login). For a plaintext
    /// port use [`connect_with`](Self::connect_with) and [`Options::plain`].
    ///
    /// Give each connection a seed of its own in the config
    /// ([`fresh_seed`](crate::fresh_seed) draws one), so that two connections do not
    /// share IQ ids.
    pub async fn connect(addr: impl ToSocketAddrs, config: Config) -> Result<Connection, Error> {
        Connection::connect_with(addr, config, Options::default()).await
    }

    /// Like [`connect`](Self::connect), with transport [`Options`]: each resolved address
    /// is tried in turn, each for at most `options.connect_timeout`; the first that
    /// accepts is used. The error is the last address's.
    pub async fn connect_with(
        addr: impl ToSocketAddrs,
        config: Config,
        options: Options,
    ) -> Result<Connection, Error> {
        let stream = connect_tcp(addr, options.connect_timeout)
            .await
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
    pub async fn connect_domain(
        domain: &str,
        config: Config,
        options: Options,
    ) -> Result<Connection, Error> {
        let resolver = jabber_net::resolve::Resolver::new(&options)?;
        let seed = jabber_net::resolve::lookup_seed(&config);
        let mut last = jabber_net::resolve::no_endpoint(domain);
        for endpoint in resolver.endpoints(domain, seed).await {
            let Some(endpoint_options) = options.for_endpoint(&endpoint) else {
                continue;
            };
            let addrs = match resolver.addresses(&endpoint).await {
                Ok(addrs) => addrs,
                Err(e) => {
                    last = e;
                    continue;
                }
            };
            match connect_tcp(&addrs[..], options.connect_timeout).await {
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
        // Written synchronously: a capture is a debugging aid, its writes are small and
        // buffered.
        let capture = CaptureFile::for_options(&options)?.map(Box::new);
        let clock = Clock::start();
        let link = Link::new(config, &options, clock.now())?;
        let (tx, commands) = mpsc::channel(COMMAND_QUEUE);
        let mut conn = Connection {
            stream,
            link,
            clock,
            events: VecDeque::new(),
            timer: None,
            timer_at: None,
            commands,
            tx,
            commands_closed: false,
            ended: false,
            shut: false,
            failure: None,
            fresh_failure: None,
            stream_done: false,
            read_eof: false,
            capture,
        };
        conn.drain_now();
        match conn.take_failure() {
            Some(e) => Err(e),
            None => Ok(conn),
        }
    }

    /// Logs in (`jabber:iq:auth`, see [`Client::login`]) and waits until the session is
    /// ready. Events that arrive meanwhile and are not about the login (the stream
    /// header, early messages, ...) stay queued for [`next_event`](Self::next_event).
    ///
    /// Fails with [`Error::Login`] when the server refuses (the core then closes the
    /// stream), [`Error::Closed`] when the connection ends first, [`Error::Client`] when
    /// a login is not possible now (already logged in, closing, ...), or with
    /// `Error::Client(EventQueueFull)` when `Config::max_events` other events piled up
    /// meanwhile: take them with `next_event`; the login's outcome follows among them.
    ///
    /// Dropped before it completes, the login goes on: its outcome
    /// ([`SessionEvent::Ready`](crate::SessionEvent::Ready) or [`SessionEvent::LoginFailed`](crate::SessionEvent::LoginFailed)) comes from
    /// [`next_event`](Self::next_event) instead.
    pub async fn login(&mut self, credentials: Credentials) -> Result<LoggedIn, Error> {
        self.with_client(|client, now| client.login(now, credentials))??;
        jabber_net::login_outcome(self.wait_for(|e| matches!(e, Event::Session(_))).await?)
    }

    /// Logs in resuming an earlier session (XEP-0198, see [`Client::resume`]) and waits
    /// until it is resumed or, refused, a new session is ready. Fails like
    /// [`login`](Self::login); dropped before it completes, it goes on like a login.
    pub async fn resume(
        &mut self,
        credentials: Credentials,
        resumption: jabber_proto::features::stream_management::Resumption,
    ) -> Result<jabber_net::Resumed, Error> {
        self.with_client(|client, now| client.resume(now, credentials, resumption))??;
        jabber_net::resume_outcome(self.wait_for(jabber_net::is_resume_outcome).await?)
    }

    /// Registers a new account in band (XEP-0077, see [`Client::request_registration`]):
    /// asks for the form, fills in `username` and `password`, submits it, and waits until
    /// the server answers. On success the core closes the stream: log in on a new
    /// connection. Events not about the registration stay queued.
    ///
    /// Fails with [`Error::UsernameTaken`] when the name exists (the stream stays open:
    /// call `register` again with another name), [`Error::Registration`] for other
    /// refusals (a form asking for more than a name and a password needs
    /// [`with_client`](Self::with_client) and [`Client::submit_registration`]), and
    /// [`Error::Client`]`(PlaintextNotAllowed)` on an unencrypted transport unless
    /// [`Config::allow_plaintext`] is set: the password goes out as it is.
    ///
    /// Dropped before it completes, the registration goes on and its events come from
    /// [`next_event`](Self::next_event).
    pub async fn register(&mut self, username: &str, password: &str) -> Result<(), Error> {
        self.with_client(|client, now| client.request_registration(now))??;
        let answer = self.wait_for(|e| matches!(e, Event::Account(_))).await?;
        let form = jabber_net::filled_registration_form(answer, username, password)?;
        self.with_client(|client, now| client.submit_registration(now, &form))??;
        jabber_net::registration_outcome(self.wait_for(|e| matches!(e, Event::Account(_))).await?)
    }

    /// Waits until an event `pick` accepts (or [`Event::Closed`]) is queued, and takes
    /// it out of the queue; the others stay for [`next_event`](Self::next_event).
    async fn wait_for(&mut self, pick: impl Fn(&Event) -> bool) -> Result<Event, Error> {
        // Bounded like the core's queue, counting only what arrives while waiting.
        let limit = self.events.len() + self.link.client().config().max_events.max(1);
        poll_fn(|cx| {
            loop {
                let found = self
                    .events
                    .iter()
                    .position(|e| pick(e) || matches!(e, Event::Closed(_)));
                if let Some(i) = found {
                    // `Closed` waits for the socket's shutdown, as in `next_event`.
                    if self.shut || !matches!(self.events[i], Event::Closed(_)) {
                        return Poll::Ready(match self.events.remove(i) {
                            Some(Event::Closed(reason)) => {
                                self.ended = true;
                                Err(Error::Closed(reason))
                            }
                            Some(event) => Ok(event),
                            None => Err(crate::sender::closed()),
                        });
                    }
                }
                if self.ended {
                    return Poll::Ready(Err(match self.link.client().close_reason() {
                        Some(reason) => Error::Closed(reason.clone()),
                        None => crate::sender::closed(),
                    }));
                }
                if let Some(e) = self.take_failure() {
                    return Poll::Ready(Err(e));
                }
                if self.events.len() >= limit {
                    // Bounded like the core's own queue: the outcome, behind these, comes
                    // through `next_event`.
                    return Poll::Ready(Err(Error::Client(
                        jabber_proto::client::Error::EventQueueFull,
                    )));
                }
                ready!(self.poll_drive(cx));
            }
        })
        .await
    }

    /// The next event, waiting until one arrives. `Ok(None)` once [`Event::Closed`] has
    /// been delivered (the socket is shut down by then).
    ///
    /// **Cancel-safe.** The returned future holds nothing but a borrow: bytes read are
    /// handed to the core in the poll that read them, bytes written are taken from it in
    /// the poll that wrote them, and an event leaves the queue only in the poll that
    /// returns it. Dropping the future — in a `tokio::select!` branch that lost, or when
    /// `tokio::time::timeout` elapsed — loses nothing; the next call goes on where it
    /// stopped. So a wait with a limit is just
    ///
    /// ```no_run
    /// # async fn f(conn: &mut jabber_tokio::Connection) -> Result<(), jabber_tokio::Error> {
    /// use std::time::Duration;
    /// match tokio::time::timeout(Duration::from_secs(1), conn.next_event()).await {
    ///     Ok(Ok(Some(event))) => println!("{event:?}"),
    ///     Ok(Ok(None)) => println!("the connection is over"),
    ///     Ok(Err(e)) => return Err(e),
    ///     Err(_) => println!("nothing within a second"),
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// After a transport failure the events queued before it come first, then the
    /// error; every later call returns an error of the same kind.
    pub async fn next_event(&mut self) -> Result<Option<Event>, Error> {
        poll_fn(|cx| self.poll_next_event(cx)).await.transpose()
    }

    /// The poll function behind [`next_event`](Self::next_event) and the [`Stream`]
    /// implementation, for hand-written futures: `Ready(Some(Ok(event)))`,
    /// `Ready(Some(Err(e)))` on a transport failure (every later poll repeats it),
    /// `Ready(None)` once [`Event::Closed`] was delivered, or `Pending` with the task
    /// registered for the socket, the timer and the [`Sender`]s' queue.
    pub fn poll_next_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Event, Error>>> {
        loop {
            if let Some(event) = self.pop() {
                return Poll::Ready(Some(Ok(event)));
            }
            if self.ended {
                return Poll::Ready(None);
            }
            if let Some(e) = self.take_failure() {
                return Poll::Ready(Some(Err(e)));
            }
            ready!(self.poll_drive(cx));
        }
    }

    /// Sends a stanza (any top-level element), e.g. a [`Message`](crate::Message).
    ///
    /// The bytes go to the socket at once as far as it takes them without waiting; the
    /// rest goes out while the connection is next polled (or with [`flush`](Self::flush)).
    pub fn send(&mut self, stanza: impl Into<Element>) -> Result<(), Error> {
        self.with_client(|client, now| client.send(now, stanza))??;
        Ok(())
    }

    /// A handle for other tasks to send stanzas and run commands while this connection
    /// is polled elsewhere; see [`Sender`].
    pub fn sender(&self) -> Sender {
        Sender::new(self.tx.clone())
    }

    /// The core, for its getters ([`state`](Client::state), [`jid`](Client::jid),
    /// [`pending_iqs`](Client::pending_iqs), ...).
    pub fn client(&self) -> &Client {
        self.link.client()
    }

    /// Runs any command on the core with the current time, then drains it: its events are
    /// queued and its bytes go to the socket as far as it takes them without waiting (the
    /// rest while the connection is next polled, or with [`flush`](Self::flush)). This is
    /// how to reach what has no shortcut here:
    ///
    /// ```no_run
    /// # fn f(conn: &mut jabber_tokio::Connection) -> Result<(), jabber_tokio::Error> {
    /// conn.with_client(|client, now| client.change_password(now, "n3w"))??;
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
        if let Some(e) = self.take_failure() {
            return Err(e);
        }
        let result = self.link.command(self.clock.now(), f);
        self.drain_now();
        match self.take_failure() {
            Some(e) => Err(e),
            None => Ok(result),
        }
    }

    /// Waits until every byte the core has queued was handed to the socket. While it
    /// waits the connection runs as in [`next_event`](Self::next_event): events that
    /// arrive are queued, timers fire. Cancel-safe: dropped, it only stops waiting.
    ///
    /// Fails when the socket fails meanwhile, including when the server takes no byte
    /// within [`Options::write_timeout`].
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| {
            loop {
                if let Some(e) = self.take_failure() {
                    return Poll::Ready(Err(e));
                }
                if self.shut || !self.link.wants_write() {
                    return Poll::Ready(Ok(()));
                }
                ready!(self.poll_drive(cx));
            }
        })
        .await
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
    /// [`with_client`](Self::with_client)`(|c, now| c.close(now))` (or
    /// [`Sender::close`]) and read on with [`next_event`](Self::next_event).
    ///
    /// On a connection that already ended, returns the reason it ended with. Dropping
    /// the future drops the connection: the socket closes at once.
    pub async fn close(mut self) -> Result<CloseReason, Error> {
        if self.failure.is_none() && !self.link.client().is_closed() {
            self.link
                .command(self.clock.now(), |client, now| client.close(now));
        }
        poll_fn(|cx| {
            loop {
                self.events.clear();
                // A failure comes first: after a reset the core's reason is the reset.
                if let Some(e) = self.take_failure() {
                    return Poll::Ready(Err(e));
                }
                if self.shut {
                    if let Some(reason) = self.link.client().close_reason() {
                        return Poll::Ready(Ok(reason.clone()));
                    }
                }
                ready!(self.poll_drive(cx));
            }
        })
        .await
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

    /// The next deliverable event. `Closed` is delivered only once the socket is shut
    /// down, so that nothing of the connection is left when the caller sees it.
    fn pop(&mut self) -> Option<Event> {
        if !self.shut && matches!(self.events.front(), Some(Event::Closed(_))) {
            return None;
        }
        let event = self.events.pop_front()?;
        if matches!(event, Event::Closed(_)) {
            self.ended = true;
        }
        Some(event)
    }

    /// The transport's failure, if it failed: the error itself the first time, a copy
    /// after that.
    fn take_failure(&mut self) -> Option<Error> {
        if let Some(e) = self.fresh_failure.take() {
            return Some(e);
        }
        self.failure.as_ref().map(Error::repeat)
    }

    /// Records a fatal transport error and shuts the socket down. After the core closed
    /// there is nothing left to fail: the socket is given up on and `Closed` delivered.
    fn fail(&mut self, e: Error) {
        if self.link.client().is_closed() {
            self.shut_down();
            return;
        }
        if self.failure.is_none() {
            self.failure = Some(e.repeat());
            self.fresh_failure = Some(e);
        }
        self.shut_down();
        self.close_commands();
    }

    /// A socket error: as [`fail`](Self::fail); a reset (or a broken pipe) also tells
    /// the link, so that the core ends and drops what it had not written.
    fn fail_io(&mut self, e: io::Error) {
        let reset = jabber_net::is_reset(&e);
        // The failure is recorded while the core still runs: after the reset it is closed.
        self.fail(Error::Io(e));
        if reset {
            self.link.handle_reset(self.clock.now());
        }
    }

    fn shut_down(&mut self) {
        if !self.shut {
            self.shut = true;
            // The peer may be gone already; there is nothing left to do about it.
            let _ = socket2::SockRef::from(&self.stream).shutdown(Shutdown::Both);
        }
    }

    /// Refuses further commands and drops those still queued: their senders get
    /// `Error::Client(Closed)`. Repeated on every drain, for a sender that had room
    /// before the queue closed.
    fn close_commands(&mut self) {
        if !self.commands_closed {
            self.commands_closed = true;
            self.commands.close();
        }
        while self.commands.try_recv().is_ok() {}
    }

    /// One round over every source: the senders' commands, writing, reading, the timer.
    /// `Ready` when anything happened (the caller looks at the queue again), `Pending`
    /// when nothing could, with the task registered wherever something may happen next.
    fn poll_drive(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.shut && self.link.client().is_closed() && self.failure.is_none() {
            // Over, and its `Closed` is not queued: a `with_client` closure took it. (After
            // a failure, a reset closed the core: the failure is what callers report.)
            self.ended = true;
            return Poll::Ready(());
        }
        let mut progress = self.poll_commands(cx);
        if !self.shut {
            progress |= self.poll_write_out(cx);
        }
        // Reading goes on after the core closed (it drops what comes) until the socket
        // is shut down: closing a socket with unread bytes would send a reset instead.
        if !self.shut {
            progress |= self.poll_read_in(cx);
        }
        if !self.shut {
            progress |= self.poll_timer(cx);
        }
        // The drain rule: what the input or the timer made the core write (an answer to
        // a ping) goes out before any of its events is handed over, since the caller may
        // not poll again for a while.
        if !self.shut {
            progress |= self.poll_write_out(cx);
        }
        progress |= self.settle();
        if progress {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Runs the commands the senders queued (at most a queue's worth per round, so that
    /// their bytes go out in between).
    fn poll_commands(&mut self, cx: &mut Context<'_>) -> bool {
        if self.commands_closed {
            return false;
        }
        let mut ran = 0;
        while ran < COMMAND_QUEUE {
            match self.commands.poll_recv(cx) {
                Poll::Ready(Some(command)) => {
                    self.link.command(self.clock.now(), command);
                    ran += 1;
                }
                // The connection holds a sender itself: the queue does not end before
                // `close_commands`.
                Poll::Ready(None) | Poll::Pending => break,
            }
        }
        ran > 0
    }

    /// Writes until the link has nothing more or the socket takes nothing now (partial
    /// writes advance the link). Whether anything was written or failed.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        while let Some(bytes) = self.link.poll_transmit() {
            match Pin::new(&mut self.stream).poll_write(cx, bytes) {
                Poll::Ready(Ok(0)) => {
                    self.fail(Error::Io(ErrorKind::WriteZero.into()));
                    return true;
                }
                Poll::Ready(Ok(n)) => {
                    self.link.advance_transmit(self.clock.now(), n);
                    progress = true;
                }
                Poll::Ready(Err(e)) if e.kind() == ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => {
                    self.fail_io(e);
                    return true;
                }
                Poll::Pending => break,
            }
        }
        progress
    }

    /// One read, handed to the link. Whether anything arrived (or failed).
    fn poll_read_in(&mut self, cx: &mut Context<'_>) -> bool {
        if self.read_eof || !self.link.wants_input() {
            // Nothing more to read, or input paused at the core's event bound (the link's
            // deadline, due at once, resumes it in `poll_timer`).
            return false;
        }
        // On the stack: what is read goes to the link at once, so an idle connection
        // keeps no read buffer (thousands of connections, 16 KiB each, add up).
        let mut space = [0u8; READ_BUFFER];
        let mut buf = ReadBuf::new(&mut space);
        let n = match Pin::new(&mut self.stream).poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) => buf.filled().len(),
            Poll::Ready(Err(e)) if e.kind() == ErrorKind::Interrupted => return true,
            Poll::Ready(Err(e)) => {
                self.fail_io(e);
                return true;
            }
            Poll::Pending => return false,
        };
        let now = self.clock.now();
        let handled = if n == 0 {
            self.read_eof = true;
            self.link.handle_eof(now)
        } else {
            self.link.handle_input(now, &space[..n])
        };
        if let Err(e) = handled {
            self.fail(e);
        }
        true
    }

    /// Arms the timer for the link's deadline and polls it; when it fired, runs what is
    /// due. Whether it fired.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = self.link.poll_timeout().and_then(|t| self.clock.to_std(t)) else {
            return false;
        };
        let at = tokio::time::Instant::from_std(deadline);
        let timer = match &mut self.timer {
            Some(timer) => {
                if self.timer_at != Some(deadline) {
                    timer.as_mut().reset(at);
                }
                timer
            }
            None => self.timer.insert(Box::pin(tokio::time::sleep_until(at))),
        };
        self.timer_at = Some(deadline);
        if timer.as_mut().poll(cx).is_pending() {
            return false;
        }
        // Fired: re-armed on the next round even if the deadline stays the same.
        self.timer_at = None;
        if let Err(e) = self.link.handle_timeout(self.clock.now()) {
            self.fail(e);
        }
        true
    }

    /// After anything happened: queues the core's events; once the core has closed,
    /// refuses further commands and shuts the socket down when its last bytes are out.
    /// Whether the socket was shut down now.
    fn settle(&mut self) -> bool {
        while let Some(event) = self.link.poll_event() {
            // The `Closed` of a reset is not delivered: the socket's error reports it.
            if !matches!(event, Event::Closed(CloseReason::Reset)) {
                self.events.push_back(event);
            }
        }
        if let Some(capture) = &mut self.capture {
            capture.write_from(&mut self.link);
        }
        if !self.link.client().is_closed() {
            return false;
        }
        self.close_commands();
        if !self.shut && self.link.is_finished() {
            self.shut_down();
            return true;
        }
        false
    }

    /// Drains without waiting (after a command, outside any poll): writes what the socket
    /// takes now and queues the events. The rest is written while the connection is next
    /// polled.
    fn drain_now(&mut self) {
        while !self.shut {
            let Some(bytes) = self.link.poll_transmit() else {
                break;
            };
            match self.stream.try_write(bytes) {
                Ok(0) => self.fail(Error::Io(ErrorKind::WriteZero.into())),
                Ok(n) => self.link.advance_transmit(self.clock.now(), n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => self.fail_io(e),
            }
        }
        self.settle();
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

/// The events, as [`next_event`](Connection::next_event) returns them; the stream ends
/// after [`Event::Closed`] or after the first error. Polling it drives the connection
/// like `next_event`, and is as cancel-safe.
///
/// ```no_run
/// # async fn f(mut conn: jabber_tokio::Connection) -> Result<(), jabber_tokio::Error> {
/// use std::future::poll_fn;
/// use std::pin::Pin;
/// use futures_core::Stream;
/// // With `futures::StreamExt` or `tokio_stream::StreamExt`: `conn.next().await`.
/// while let Some(event) = poll_fn(|cx| Pin::new(&mut conn).poll_next(cx)).await {
///     println!("{:?}", event?);
/// }
/// # Ok(()) }
/// ```
impl Stream for Connection {
    type Item = Result<Event, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.stream_done {
            return Poll::Ready(None);
        }
        let item = ready!(this.poll_next_event(cx));
        if !matches!(item, Some(Ok(_))) {
            this.stream_done = true;
        }
        Poll::Ready(item)
    }
}

impl FusedStream for Connection {
    fn is_terminated(&self) -> bool {
        self.stream_done
    }
}

/// Resolves `addr` and connects to each address in turn, each for at most `timeout`.
async fn connect_tcp(addr: impl ToSocketAddrs, timeout: Duration) -> io::Result<TcpStream> {
    let mut last = None;
    for addr in tokio::net::lookup_host(addr).await? {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(e)) => last = Some(e),
            Err(_) => {
                last = Some(io::Error::new(
                    ErrorKind::TimedOut,
                    format!("connecting to {addr} took longer than {timeout:?}"),
                ));
            }
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(ErrorKind::InvalidInput, "the address resolved to nothing")
    }))
}
