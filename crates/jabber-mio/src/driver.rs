//! The event loop: sessions, their tokens, the timer queue and the outputs.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

use jabber_net::{CaptureFile, Clock, Error, Link, Options};
use jabber_proto::client::{self, Client, CloseReason, Config, Event, SessionState};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::time::Instant as CoreInstant;
use jabber_proto::xml::Element;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use crate::session::Session;
use crate::timers::Timers;

pub(crate) mod reconnect;

/// Bytes read from a socket at most per `read` call; one buffer serves every session.
const READ_BUFFER: usize = 16 * 1024;

/// Readiness events taken from the poll at once.
const EVENTS: usize = 1024;

/// Stale timer entries tolerated, beyond the live sessions, before the heap is rebuilt.
const STALE_TIMERS: usize = 1024;

/// Bytes read from one session per turn of the loop, so that a peer that sends fast
/// cannot starve the others or the timers; the rest is read on the next turn.
const READ_BUDGET: usize = 16 * READ_BUFFER;

/// A session of a [`Driver`]. Ids are not reused: a slot that held a session that ended
/// gets a new generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId {
    slot: u32,
    generation: u32,
}

/// What a session reports, taken with [`Driver::poll_output`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Output {
    /// The TCP connection is established (with TLS, the handshake starts now).
    Connected,
    /// An event of the session's core. After [`Event::Closed`] the session is over.
    Event(Event),
    /// The transport failed (connecting, a socket error, TLS, the connect or write
    /// timeout). The session is over; no `Event::Closed` follows.
    Failed(Error),
    /// A session of [`Driver::connect_reconnecting`] lost its connection, attempts to
    /// reconnect, is back or gave up (never `Item::Event` or `Item::TimedOut`: events
    /// are [`Output::Event`]s). After `GaveUp` the session is over.
    Reconnection(jabber_net::Item),
}

#[derive(Debug, Default)]
struct Slot {
    /// Boxed: the slot vector grows by doubling, and its spare capacity then costs 16
    /// bytes a slot instead of a whole session's (about 1 KiB; at 10,000 sessions the
    /// spare 6,384 slots held 650 B per session), and growing it moves no sessions.
    session: Option<Box<Session>>,
    generation: u32,
    /// Among this turn's readiness already (in the padding: costs no space).
    in_turn: bool,
}

/// Many sessions on one [`mio::Poll`], driven from the calling thread.
///
/// Call [`poll`](Self::poll) in a loop and take [`poll_output`](Self::poll_output) until
/// it is `None` after each call; commands ([`login`](Self::login), [`send`](Self::send),
/// [`command`](Self::command), ...) run at once and write what they can before they
/// return. That is one write call per command: to send several stanzas on a session,
/// send them in one [`command`](Self::command) closure, which writes them together.
#[derive(Debug)]
pub struct Driver {
    poll: Poll,
    events: Events,
    slots: Vec<Slot>,
    free: Vec<usize>,
    live: usize,
    timers: Timers,
    outputs: VecDeque<(SessionId, Output)>,
    buf: Box<[u8]>,
    /// Readiness of the last `poll`, kept to reuse its allocation.
    ready: Vec<(usize, bool)>,
    /// Slots that stopped reading at the read budget.
    unread: Vec<usize>,
}

impl Driver {
    /// A driver with no sessions.
    pub fn new() -> io::Result<Driver> {
        Ok(Driver {
            poll: Poll::new()?,
            events: Events::with_capacity(EVENTS),
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            timers: Timers::default(),
            outputs: VecDeque::new(),
            buf: vec![0; READ_BUFFER].into_boxed_slice(),
            ready: Vec::new(),
            unread: Vec::new(),
        })
    }

    // ---- getters ----

    /// How many sessions are running (connecting included; not those that ended).
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no session is running.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The core of a running session, for its getters.
    pub fn client(&self, id: SessionId) -> Option<&Client> {
        self.session(id).map(|s| s.link.client())
    }

    /// Whether a session runs over TLS; `None` if it is not running.
    pub fn is_tls(&self, id: SessionId) -> Option<bool> {
        self.session(id).map(|s| s.link.is_tls())
    }

    /// The running sessions.
    pub fn sessions(&self) -> impl Iterator<Item = SessionId> + '_ {
        self.slots.iter().enumerate().filter_map(|(slot, s)| {
            s.session
                .as_ref()
                .filter(|session| !session.over)
                .map(|session| SessionId {
                    slot: slot as u32,
                    generation: session.generation,
                })
        })
    }

    /// The current time on a session's core clock.
    pub fn now(&self, id: SessionId) -> Option<CoreInstant> {
        self.session(id).map(|s| s.clock.now())
    }

    // ---- commands ----

    /// Starts connecting to `addr` without blocking; the core's stream header goes out
    /// as soon as the connection is up ([`Output::Connected`]). With `options.tls` (the
    /// default) the connection is direct TLS. Give each connection a seed of its own
    /// ([`fresh_seed`](crate::fresh_seed)). The core's clock stands still until the connection is up,
    /// so connecting does not count against its timers; `options.connect_timeout` bounds
    /// it instead.
    ///
    /// A failure to start (no socket, an address the system rejects at once) is an
    /// `Err` here; a failure while connecting is an [`Output::Failed`] later.
    pub fn connect(
        &mut self,
        addr: SocketAddr,
        config: Config,
        options: &Options,
    ) -> Result<SessionId, Error> {
        let mut stream = TcpStream::connect(addr)
            .inspect_err(|e| jabber_net::trace::connect_failed(&config, e))?;
        jabber_net::configure_socket(&stream, options)?;
        let capture = CaptureFile::for_options(options)?.map(Box::new);
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(Slot::default());
            self.slots.len() - 1
        });
        let generation = self.slots[slot].generation;
        // The core's clock stands still until the connection is up.
        let mut clock = Clock::start();
        clock.hold();
        let link = match Link::new(config, options, clock.now()) {
            Ok(link) => link,
            Err(e) => {
                self.free.push(slot);
                return Err(e);
            }
        };
        let token = Token(slot);
        if let Err(e) = self.poll.registry().register(
            &mut stream,
            token,
            Interest::READABLE | Interest::WRITABLE,
        ) {
            self.free.push(slot);
            return Err(e.into());
        }
        self.slots[slot].session = Some(Box::new(Session {
            stream,
            link,
            clock,
            generation,
            connect_deadline: Instant::now().checked_add(options.connect_timeout),
            armed: None,
            writable: true,
            over: false,
            capture,
            fallbacks: Vec::new(),
            fallback_config: None,
            reconnect: None,
        }));
        self.live += 1;
        self.settle(slot);
        Ok(SessionId {
            slot: slot as u32,
            generation,
        })
    }

    /// Starts connecting to the XMPP service of `domain` (normally `config.domain`) found
    /// in the DNS: the `_xmpps-client._tcp` (direct TLS, XEP-0368) and
    /// `_xmpp-client._tcp` (STARTTLS) SRV records in RFC 2782 order, else `domain` on
    /// port 5222 (see [`jabber_net::srv::endpoints`]). The addresses of every endpoint
    /// are tried in turn, each with the TLS its record says
    /// ([`Options::for_endpoint`]): a connect that fails or times out moves on to the
    /// next, under the same [`SessionId`]; [`Output::Failed`] reports the last failure.
    /// The weighted order draws on `config.seed`.
    ///
    /// Commands given before [`Output::Connected`] (a login) survive a move to an address
    /// of the same kind (direct TLS or not); a move between kinds starts a fresh core
    /// and is skipped once a login runs: log in after `Connected` to allow every one.
    ///
    /// The lookup itself blocks the calling thread (it is done before the first
    /// connect, with [`BlockingResolver`](jabber_net::resolve::BlockingResolver)); a loop
    /// that must never block resolves elsewhere and calls [`connect`](Self::connect).
    pub fn connect_domain(
        &mut self,
        domain: &str,
        config: Config,
        options: &Options,
    ) -> Result<SessionId, Error> {
        let resolver = jabber_net::resolve::BlockingResolver::new(options)?;
        let seed = jabber_net::resolve::lookup_seed(&config);
        let mut last = jabber_net::resolve::no_endpoint(domain);
        let mut candidates = Vec::new();
        for endpoint in resolver.endpoints(domain, seed) {
            let Some(endpoint_options) = options.for_endpoint(&endpoint) else {
                continue;
            };
            match resolver.addresses(&endpoint) {
                Ok(addrs) => {
                    candidates.extend(addrs.into_iter().map(|a| (a, endpoint_options.clone())));
                }
                Err(e) => last = e,
            }
        }
        // Last first: the next to try is popped.
        candidates.reverse();
        while let Some((addr, endpoint_options)) = candidates.pop() {
            match self.connect(addr, config.clone(), &endpoint_options) {
                Ok(id) => {
                    if let Some(session) = self.slots[id.slot as usize].session.as_mut() {
                        session.fallbacks = candidates;
                        session.fallback_config = Some(Box::new(config));
                    }
                    return Ok(id);
                }
                Err(Error::Io(e)) => last = e,
                Err(e) => return Err(e),
            }
        }
        jabber_net::trace::connect_failed(&config, &last);
        Err(last.into())
    }

    /// A connect that failed or timed out: the next address of
    /// [`connect_domain`](Self::connect_domain)'s list, if any is left, under the same
    /// slot and generation; else the session fails with `error`.
    fn connect_failed(&mut self, slot: usize, error: Error) {
        let Some(session) = self.slots.get_mut(slot).and_then(|s| s.session.as_mut()) else {
            return;
        };
        while let Some((addr, options)) = session.fallbacks.pop() {
            // Nothing went out yet (no writes while connecting): the link's bytes, and
            // so the commands already given, are kept when the next address speaks the
            // same TLS (direct or not). Across kinds the core starts afresh, which is
            // taken only while no login runs.
            let same_kind = options.tls.is_some() == session.link.is_tls();
            if !same_kind && session.link.client().session_state() != SessionState::Unauthenticated
            {
                continue;
            }
            let Ok(mut stream) = TcpStream::connect(addr) else {
                continue;
            };
            if jabber_net::configure_socket(&stream, &options).is_err() {
                continue;
            }
            let link = if same_kind {
                None
            } else {
                // The config as given, not the link's: that one says "encrypted" after
                // direct TLS, and a plain connection taking it over would skip STARTTLS
                // and send the credentials in the clear.
                let Some(config) = session.fallback_config.as_deref().cloned() else {
                    continue;
                };
                match Link::new(config, &options, session.clock.now()) {
                    Ok(link) => Some(link),
                    Err(_) => continue,
                }
            };
            let registry = self.poll.registry();
            let _ = registry.deregister(&mut session.stream);
            if registry
                .register(
                    &mut stream,
                    Token(slot),
                    Interest::READABLE | Interest::WRITABLE,
                )
                .is_err()
            {
                continue;
            }
            let _ = session.stream.shutdown(Shutdown::Both);
            session.stream = stream;
            if let Some(link) = link {
                session.link = link;
            }
            session.writable = true;
            session.connect_deadline = Instant::now().checked_add(options.connect_timeout);
            self.settle(slot);
            return;
        }
        self.fail(slot, error);
    }

    /// Runs any command on a session's core with the current time, then drains the
    /// session. `Err(Client(Closed))` if the session is not running.
    ///
    /// Leave the outputs to the driver: an event `f` takes with [`Client::poll_event`]
    /// is not output (and a `Closed` taken that way leaves the session running until
    /// its last bytes are out).
    pub fn command<R>(
        &mut self,
        id: SessionId,
        f: impl FnOnce(&mut Client, CoreInstant) -> R,
    ) -> Result<R, Error> {
        let slot = self.slot_of(id)?;
        let session = self.slots[slot].session.as_mut().ok_or(not_running())?;
        let result = session.link.command(session.clock.now(), f);
        self.settle(slot);
        Ok(result)
    }

    /// Starts a login (`jabber:iq:auth`); the outcome is an [`SessionEvent::Ready`](crate::SessionEvent::Ready) or
    /// [`SessionEvent::LoginFailed`](crate::SessionEvent::LoginFailed) output.
    pub fn login(&mut self, id: SessionId, credentials: Credentials) -> Result<(), Error> {
        self.command(id, |client, now| client.login(now, credentials))??;
        Ok(())
    }

    /// Sends a stanza.
    /// On a reconnecting session without a connection, the stanza waits for it (see
    /// [`connect_reconnecting`](Self::connect_reconnecting)).
    pub fn send(&mut self, id: SessionId, stanza: impl Into<Element>) -> Result<(), Error> {
        let Some(stanza) = self.hold_if_away(id, stanza.into())? else {
            return Ok(());
        };
        self.command(id, |client, now| client.send(now, stanza))??;
        Ok(())
    }

    /// Closes a session's stream; its [`Event::Closed`] output follows when the server
    /// closed its side or the core's close timeout passed.
    /// A reconnecting session reconnects no more; without a connection it ends at once
    /// with `Event::Closed(Local)`.
    pub fn close(&mut self, id: SessionId) -> Result<(), Error> {
        if self.close_reconnecting(id)? {
            return Ok(());
        }
        self.command(id, |client, now| client.close(now))
    }

    /// Drops a session at once: no logout, the socket is closed, and outputs of the
    /// session not yet taken are dropped too.
    pub fn abort(&mut self, id: SessionId) {
        if let Ok(slot) = self.slot_of(id) {
            self.remove(slot);
            self.outputs.retain(|(owner, _)| *owner != id);
        }
    }

    // ---- the loop ----

    /// Waits for readiness or the earliest deadline (at most `timeout`; `None`: no limit
    /// but the deadlines), handles what happened and drains the sessions concerned.
    /// Returns early on a signal. Take the outputs with [`poll_output`](Self::poll_output).
    pub fn poll(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let now = Instant::now();
        let until_timer = self
            .timers
            .next()
            .map(|at| at.saturating_duration_since(now));
        let wait = match (until_timer, timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // Sessions with bytes left unread (the read budget) go on without waiting.
        let wait = if self.unread.is_empty() {
            wait
        } else {
            Some(Duration::ZERO)
        };
        match self.poll.poll(&mut self.events, wait) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        }
        let mut ready = std::mem::take(&mut self.ready);
        ready.clear();
        ready.extend(self.events.iter().map(|e| {
            let broken = e.is_error() || e.is_read_closed() || e.is_write_closed();
            (e.token().0, e.is_readable() || broken)
        }));
        // A slot's flag, not a search of `ready` for each unread slot: that was
        // O(unread × events) a turn, with thousands of sessions at the read budget.
        for &(slot, _) in &ready {
            if let Some(s) = self.slots.get_mut(slot) {
                s.in_turn = true;
            }
        }
        let mut unread = std::mem::take(&mut self.unread);
        for slot in unread.drain(..) {
            if let Some(s) = self.slots.get_mut(slot).filter(|s| !s.in_turn) {
                s.in_turn = true;
                ready.push((slot, true));
            }
        }
        self.unread = unread;
        for &(slot, _) in &ready {
            if let Some(s) = self.slots.get_mut(slot) {
                s.in_turn = false;
            }
        }
        for &(slot, readable) in &ready {
            self.on_ready(slot, readable);
        }
        self.ready = ready;
        self.on_timers();
        Ok(())
    }

    /// The next output of any session, in the order they happened.
    pub fn poll_output(&mut self) -> Option<(SessionId, Output)> {
        self.outputs.pop_front()
    }

    /// Readiness of a slot: completes a connect, reads what arrived, and settles (which
    /// writes what is pending: writable readiness needs nothing else).
    fn on_ready(&mut self, slot: usize, readable: bool) {
        let Some(session) = self.slots.get_mut(slot).and_then(|s| s.session.as_mut()) else {
            return;
        };
        if session.reconnect.as_ref().is_some_and(|r| r.is_offline()) {
            return;
        }
        let id = SessionId {
            slot: slot as u32,
            generation: session.generation,
        };
        if session.connect_deadline.is_some() {
            match connected(&session.stream) {
                Ok(false) => return,
                Ok(true) => {
                    session.connect_deadline = None;
                    session.clock.release();
                    let tls = session.link.is_tls();
                    jabber_net::trace::connected(
                        session.link.client().config(),
                        addr_of(&session.stream),
                        tls,
                    );
                    self.outputs.push_back((id, Output::Connected));
                }
                Err(e) => return self.connect_failed(slot, e.into()),
            }
        }
        if readable {
            let was_over = session.over;
            let read = read_some(session, id, &mut self.buf, &mut self.outputs);
            if session.over && !was_over {
                self.live -= 1;
            }
            match read {
                Ok(true) => {}
                Ok(false) => self.unread.push(slot),
                Err(e) => return self.fail(slot, e),
            }
        }
        self.settle(slot);
    }

    fn on_timers(&mut self) {
        let now = Instant::now();
        while let Some((at, slot, generation)) = self.timers.pop_due(now) {
            let Some(session) = self.slots.get_mut(slot).and_then(|s| s.session.as_mut()) else {
                continue;
            };
            if session.generation != generation || session.armed != Some(at) {
                continue; // replaced by a later deadline
            }
            session.armed = None;
            if session.reconnect.as_ref().is_some_and(|r| r.is_offline()) {
                self.attempt(slot);
                continue;
            }
            if session.connect_deadline.is_some() {
                let e = io::Error::new(ErrorKind::TimedOut, "connecting timed out");
                self.connect_failed(slot, e.into());
                continue;
            }
            if let Err(e) = session.link.handle_timeout(session.clock.now()) {
                self.fail(slot, e);
                continue;
            }
            self.settle(slot);
        }
        self.prune_timers();
    }

    /// Rebuilds the timer heap when stale entries pile up (every write that makes
    /// progress moves the write timeout, every byte received the keepalive).
    fn prune_timers(&mut self) {
        if self.timers.len() > 2 * self.slots.len() + STALE_TIMERS {
            let live = self.slots.iter().enumerate().filter_map(|(slot, s)| {
                let session = s.session.as_ref()?;
                Some((session.armed?, slot, session.generation))
            });
            self.timers.rebuild(live);
        }
    }

    /// The drain after every input and command: writes what the socket takes, queues
    /// the events, ends a finished session, and re-arms interest and timer.
    fn settle(&mut self, slot: usize) {
        let Some(session) = self.slots.get_mut(slot).and_then(|s| s.session.as_mut()) else {
            return;
        };
        if session.reconnect.as_ref().is_some_and(|r| r.is_offline()) {
            return;
        }
        let id = SessionId {
            slot: slot as u32,
            generation: session.generation,
        };
        let connecting = session.connect_deadline.is_some();
        let written = if connecting {
            Ok(())
        } else {
            write_all(session)
        };
        let ended = take_events(session, id, &mut self.outputs);
        if ended {
            self.live -= 1;
        }
        let mut written = written.err();
        if session.reconnect.as_ref().is_some_and(|r| r.is_lost())
            && self.connection_lost(slot, &mut written)
        {
            return;
        }
        if let Some(e) = written {
            return self.fail(slot, e);
        }
        let session = self.slots[slot].session.as_mut().expect("settled above");
        // Finished: the last bytes are out, or given up on (a dead or unreading peer,
        // or the link's linger time passed).
        if session.link.is_finished() {
            self.remove(slot);
            return;
        }
        let want_write = connecting || session.link.wants_write();
        if want_write != session.writable {
            let interest = if want_write {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            if let Err(e) =
                self.poll
                    .registry()
                    .reregister(&mut session.stream, Token(slot), interest)
            {
                return self.fail(slot, e.into());
            }
            session.writable = want_write;
        }
        let deadline = session.deadline();
        if deadline != session.armed {
            if let Some(at) = deadline {
                self.timers.push(at, slot, session.generation);
            }
            session.armed = deadline;
            self.prune_timers();
        }
    }

    /// Ends a session on a transport failure. Events the core produced before (a
    /// message read just before a reset) are output first; once the core has reported
    /// `Closed`, the failure to deliver the last bytes is not worth reporting.
    fn fail(&mut self, slot: usize, error: Error) {
        let Some(session) = self.slots.get_mut(slot).and_then(|s| s.session.as_mut()) else {
            return;
        };
        let id = SessionId {
            slot: slot as u32,
            generation: session.generation,
        };
        if take_events(session, id, &mut self.outputs) {
            self.live -= 1;
        }
        let mut error = Some(error);
        if session.reconnect.is_some() && self.connection_lost(slot, &mut error) {
            return;
        }
        let (Some(session), Some(error)) = (
            self.slots.get_mut(slot).and_then(|s| s.session.as_mut()),
            error,
        ) else {
            return;
        };
        if !session.over {
            self.outputs.push_back((id, Output::Failed(error)));
        }
        self.remove(slot);
    }

    fn remove(&mut self, slot: usize) {
        let Some(mut session) = self.slots.get_mut(slot).and_then(|s| s.session.take()) else {
            return;
        };
        // The peer may be gone already; nothing is left to do about either.
        let _ = self.poll.registry().deregister(&mut session.stream);
        let _ = session.stream.shutdown(Shutdown::Both);
        self.slots[slot].generation = self.slots[slot].generation.wrapping_add(1);
        self.free.push(slot);
        if !session.over {
            self.live -= 1;
        }
    }

    /// A running session: not one that ended and only delivers its last bytes.
    fn session(&self, id: SessionId) -> Option<&Session> {
        self.slots
            .get(id.slot as usize)
            .and_then(|s| s.session.as_deref())
            .filter(|s| s.generation == id.generation && !s.over)
    }

    fn slot_of(&self, id: SessionId) -> Result<usize, Error> {
        match self.session(id) {
            Some(_) => Ok(id.slot as usize),
            None => Err(not_running()),
        }
    }
}

fn not_running() -> Error {
    Error::Client(client::Error::Closed)
}

/// Whether a non-blocking connect has completed: `Ok(false)` while it is in progress.
fn connected(stream: &TcpStream) -> io::Result<bool> {
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    match stream.peer_addr() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotConnected => Ok(false),
        Err(e) => Err(e),
    }
}

/// Moves the core's events to the outputs; whether `Event::Closed` was among them
/// (the session is then over for the application). The `Closed` a reset makes the core
/// report is not output: the session's [`Output::Failed`] reports the reset instead.
fn take_events(
    session: &mut Session,
    id: SessionId,
    outputs: &mut VecDeque<(SessionId, Output)>,
) -> bool {
    let mut ended = false;
    while let Some(event) = session.link.poll_event() {
        if matches!(event, Event::Closed(CloseReason::Reset)) {
            continue;
        }
        let event = match session.reconnect.as_deref_mut() {
            Some(r) => match r.on_event(event, &mut session.link, &session.clock, id, outputs) {
                Some(event) => event,
                None => continue,
            },
            None => event,
        };
        if matches!(event, Event::Closed(_)) && !session.over {
            session.over = true;
            ended = true;
        }
        outputs.push_back((id, Output::Event(event)));
    }
    if let Some(capture) = &mut session.capture {
        capture.write_from(&mut session.link);
    }
    ended
}

/// Reads until the socket has nothing more (mio's readiness is edge-triggered) or the
/// read budget is spent: `Ok(false)` then, to go on at the next turn. After the core
/// closed, what still arrives is read and dropped by it, so that closing the socket
/// does not turn into a reset for unread data.
///
/// Reading also stops while the link takes no input (its core's events are full, which
/// one read of many small stanzas can do): the events are output after each read, and
/// the link's deadline, due at once, resumes it in the same turn.
fn read_some(
    session: &mut Session,
    id: SessionId,
    buf: &mut [u8],
    outputs: &mut VecDeque<(SessionId, Output)>,
) -> Result<bool, Error> {
    let mut taken = 0;
    while taken < READ_BUDGET {
        if !session.link.wants_input() {
            return Ok(false);
        }
        let result = session.stream.read(buf);
        let now = session.clock.now();
        match result {
            Ok(0) => {
                session.link.handle_eof(now)?;
                return Ok(true);
            }
            Ok(n) => {
                taken += n;
                session.link.handle_input(now, &buf[..n])?;
                take_events(session, id, outputs);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(true),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                if jabber_net::is_reset(&e) {
                    session.link.handle_reset(now);
                }
                return Err(e.into());
            }
        }
    }
    Ok(false)
}

/// Writes until the link has nothing more or the socket is full.
fn write_all(session: &mut Session) -> Result<(), Error> {
    while let Some(bytes) = session.link.poll_transmit() {
        match session.stream.write(bytes) {
            Ok(0) => return Err(io::Error::from(ErrorKind::WriteZero).into()),
            Ok(n) => session.link.advance_transmit(session.clock.now(), n),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                if jabber_net::is_reset(&e) {
                    session.link.handle_reset(session.clock.now());
                }
                return Err(e.into());
            }
        }
    }
    Ok(())
}

/// The peer's address, for traces (unspecified if the socket cannot tell).
fn addr_of(stream: &TcpStream) -> std::net::SocketAddr {
    stream
        .peer_addr()
        .unwrap_or_else(|_| std::net::SocketAddr::from(([0, 0, 0, 0], 0)))
}
