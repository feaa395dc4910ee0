//! Sessions that outlive their connections: when one is lost, the driver keeps its
//! [`SessionId`], arms the backoff delay in its one timer queue, then connects without
//! blocking and resumes the stream-managed session (XEP-0198) or logs in anew. Every
//! decision is [`Recovery`]'s, as in the other adapters; this file only connects, arms
//! timers and reports.
//!
//! The state is boxed in the session (`Session::reconnect`): a session that does not
//! reconnect pays one pointer.

use std::collections::VecDeque;
use std::io::{self, ErrorKind};
use std::net::{Shutdown, SocketAddr};
use std::time::Instant;

use jabber_net::{Backoff, Clock, Error, Item, Link, Options, Recovery, Step};
use jabber_proto::client::{CloseReason, Config, Event, SessionEvent};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::xml::Element;
use mio::net::TcpStream;
use mio::{Interest, Token};

use super::{Driver, Output, SessionId, not_running};

/// Where a reconnecting session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The first login runs: a failure now is final (the caller's to see).
    Starting,
    /// Logged in on the current connection.
    Up,
    /// The current connection ended without ending the session: take it down.
    Lost,
    /// The current attempt failed (reported): take its connection down.
    AttemptFailed,
    /// No connection; the next [`Step`] decides.
    Down,
    /// No connection; the next attempt starts at this time (armed in the timer queue).
    Waiting(Instant),
    /// An attempt is connecting and resuming or logging in; `queued_before` stanzas of
    /// the resumption went to it, those queued after wait for its outcome.
    Attempting {
        /// Stanzas of the resumption given to the attempt.
        queued_before: usize,
    },
}

/// What a reconnecting session keeps across its connections.
#[derive(Debug)]
pub(crate) struct Reconnecting {
    addrs: Vec<SocketAddr>,
    config: Config,
    options: Options,
    credentials: Credentials,
    recovery: Recovery,
    phase: Phase,
    /// Stanzas sent while the last attempt ran, that the core of the new connection did
    /// not take yet (its send buffer or unacked queue full): they go out on
    /// `Event::Writable`, before anything sent later. Empty (no heap) otherwise.
    pending: VecDeque<Element>,
}

impl Reconnecting {
    /// When the session wants to be woken while it has no connection: the attempt's
    /// time when waiting for one, `Some(None)` when it waits for nothing, `None` while
    /// it has a connection (whose deadlines apply).
    pub(crate) fn offline_deadline(&self) -> Option<Option<Instant>> {
        match self.phase {
            Phase::Waiting(at) => Some(Some(at)),
            Phase::Down => Some(None),
            _ => None,
        }
    }

    /// Whether the session has no connection to read, write or time.
    pub(crate) fn is_offline(&self) -> bool {
        self.offline_deadline().is_some()
    }

    /// Whether stanzas of an attempt still wait for the core (a send must not pass them).
    fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Gives the core what waits for it, in order, as long as it takes it. A stanza the
    /// core will never take (too large) is reported as [`Item::NotSent`]; a closed core
    /// keeps the rest here, for the loss that follows to carry them.
    fn flush(
        &mut self,
        link: &mut Link,
        clock: &Clock,
        id: SessionId,
        outputs: &mut VecDeque<(SessionId, Output)>,
    ) {
        use jabber_proto::client::Error as ClientError;
        while let Some(stanza) = self.pending.front() {
            let stanza = stanza.clone();
            match link.command(clock.now(), |c, now| c.send(now, stanza)) {
                Ok(()) => {}
                // Full: `Event::Writable` comes back. Closed: the loss requeues them.
                Err(ClientError::SendBufferFull | ClientError::UnackedQueueFull) => return,
                Err(ClientError::Closed) => return,
                Err(error) => {
                    let stanzas = self.pending.pop_front().into_iter().collect();
                    let item = Item::NotSent { stanzas, error };
                    outputs.push_back((id, Output::Reconnection(item)));
                    continue;
                }
            }
            self.pending.pop_front();
        }
    }

    /// Reports the stanzas still waiting for the core as [`Item::NotSent`]: the session
    /// ends before they could go out.
    fn report_pending(&mut self, id: SessionId, outputs: &mut VecDeque<(SessionId, Output)>) {
        if self.pending.is_empty() {
            return;
        }
        let item = Item::NotSent {
            stanzas: self.pending.drain(..).collect(),
            error: jabber_proto::client::Error::Closed,
        };
        outputs.push_back((id, Output::Reconnection(item)));
    }

    /// Whether the current connection must be taken down.
    pub(crate) fn is_lost(&self) -> bool {
        matches!(self.phase, Phase::Lost | Phase::AttemptFailed)
    }

    /// An event of the current connection: `Some` to output it as it is, `None` when it
    /// was taken here (the close of a lost connection, the outcome of an attempt, which
    /// become [`Output::Reconnection`]s).
    pub(crate) fn on_event(
        &mut self,
        event: Event,
        link: &mut Link,
        clock: &Clock,
        id: SessionId,
        outputs: &mut VecDeque<(SessionId, Output)>,
    ) -> Option<Event> {
        match self.phase {
            Phase::Starting => {
                if matches!(event, Event::Session(SessionEvent::Ready { .. })) {
                    self.phase = Phase::Up;
                }
                Some(event)
            }
            Phase::Up => match event {
                Event::Closed(reason) if !self.recovery.ends_session(&reason) => {
                    self.phase = Phase::Lost;
                    None
                }
                Event::Closed(reason) => {
                    // The session ends with this connection: what still waited for its
                    // core will never go out.
                    self.report_pending(id, outputs);
                    Some(Event::Closed(reason))
                }
                Event::Writable => {
                    self.flush(link, clock, id, outputs);
                    Some(Event::Writable)
                }
                other => Some(other),
            },
            Phase::Attempting { queued_before } => match event {
                Event::Closed(reason) if self.recovery.ends_session(&reason) => {
                    Some(Event::Closed(reason))
                }
                Event::Closed(reason) => {
                    let item = self.recovery.attempted(Err(Error::Closed(reason)));
                    outputs.push_back((id, Output::Reconnection(item)));
                    self.phase = Phase::AttemptFailed;
                    None
                }
                e if jabber_net::is_resume_outcome(&e) => {
                    // Stanzas sent while this attempt ran: not in the resumption it took.
                    let late = self
                        .recovery
                        .resumption()
                        .map(|mut r| r.unacked.split_off(queued_before.min(r.unacked.len())))
                        .unwrap_or_default();
                    let item = self.recovery.attempted(jabber_net::resume_outcome(e));
                    if matches!(item, Item::Reconnected(_)) {
                        self.phase = Phase::Up;
                        outputs.push_back((id, Output::Reconnection(item)));
                        self.pending.extend(late);
                        self.flush(link, clock, id, outputs);
                    } else {
                        outputs.push_back((id, Output::Reconnection(item)));
                        self.phase = Phase::AttemptFailed;
                    }
                    None
                }
                other => Some(other),
            },
            // What a connection taken down still had: nothing the application needs.
            Phase::Lost | Phase::AttemptFailed | Phase::Down | Phase::Waiting(_) => None,
        }
    }
}

impl Driver {
    /// Connects to `addrs` (tried in turn) and logs in like [`connect`](Self::connect)
    /// then [`login`](Self::login), for a session that reconnects when its connection is
    /// lost after the login succeeded; a failure before is final, as for any session.
    ///
    /// After a loss the [`SessionId`] stays valid. The session reports
    /// [`Output::Reconnection`] items as the shared [`Recovery`] decides them:
    /// [`Item::Disconnected`], then for each attempt [`Item::Attempt`] (its number and the
    /// backoff delay, jittered from `config.seed`), armed in the driver's timer queue,
    /// then either [`Item::Reconnected`] (the stream-managed session resumed, or a new
    /// session whose re-sent stanzas the core reports as possible duplicates) or
    /// [`Item::AttemptFailed`]; [`Item::GaveUp`] after `backoff.max_attempts` or
    /// [`stop_reconnecting`](Self::stop_reconnecting) ends the session. An orderly close
    /// or a stream error that refuses us (see [`Recovery::ends_session`]) ends it with
    /// its `Event::Closed`, as for any session. Each attempt has a fresh seed.
    ///
    /// [`send`](Self::send) while the connection is down queues the stanza with the
    /// session to resume (bounded by `Config::sm_max_unacked`); without a resumable
    /// session (no XEP-0198) it is refused with `Error::Client(Closed)`. Sent while an
    /// attempt runs, it goes out after the attempt's outcome. A stanza taken that way
    /// that can never go out (refused by the new connection's core as too large, or
    /// beyond what a resumption carries when the connection drops again at once) is
    /// reported with [`Item::NotSent`], never dropped unseen. Other commands
    /// ([`command`](Self::command)) and [`client`](Self::client) reach the current core:
    /// while the session is down, the lost connection's (which refuses commands with
    /// `Closed`, also when its transport failed without an end the core saw); during an
    /// attempt, the attempt's. [`is_connected`](Self::is_connected) tells which.
    /// [`close`](Self::close) during an attempt ends the session with
    /// `Event::Closed(Local)` whatever becomes of the attempt. The session counts in
    /// [`len`](Self::len) until it ends. Where the server named a place to resume at
    /// (XEP-0198 `<enabled location/>`) as an address literal, an attempt connects there
    /// first (a host name is not looked up: the driver never blocks on DNS).
    pub fn connect_reconnecting(
        &mut self,
        addrs: &[SocketAddr],
        config: Config,
        options: &Options,
        credentials: Credentials,
        backoff: Backoff,
    ) -> Result<SessionId, Error> {
        let recovery = Recovery::new(
            backoff,
            config.seed.get(),
            usize::from(config.sm_max_unacked),
        );
        // The first address that starts connecting; the rest are its fallbacks.
        let mut last = io::Error::new(ErrorKind::InvalidInput, "no address");
        let mut started = None;
        for (i, &addr) in addrs.iter().enumerate() {
            match self.connect(addr, config.clone(), options) {
                Ok(id) => {
                    started = Some((id, &addrs[i + 1..]));
                    break;
                }
                Err(Error::Io(e)) => last = e,
                Err(e) => return Err(e),
            }
        }
        let Some((id, rest)) = started else {
            return Err(last.into());
        };
        if let Some(session) = self.slots[id.slot as usize].session.as_mut() {
            session.fallbacks = fallbacks(rest, options);
            session.reconnect = Some(Box::new(Reconnecting {
                addrs: addrs.to_vec(),
                config,
                options: options.clone(),
                credentials: credentials.clone(),
                recovery,
                phase: Phase::Starting,
                pending: VecDeque::new(),
            }));
        }
        if let Err(e) = self.login(id, credentials) {
            self.abort(id);
            return Err(e);
        }
        Ok(id)
    }

    /// No more reconnection for session `id`: after its current connection the session
    /// ends; while it waits for an attempt, it gives up now ([`Item::GaveUp`]).
    /// Nothing for a session that does not reconnect.
    pub fn stop_reconnecting(&mut self, id: SessionId) {
        let Ok(slot) = self.slot_of(id) else { return };
        let Some(r) = self.reconnecting(slot) else {
            return;
        };
        r.recovery.stop();
        if r.is_offline() {
            self.step(slot);
        }
    }

    /// Whether session `id` has a connection up and logged in (for a reconnecting
    /// session: not waiting for, nor in the middle of, an attempt). `None` if it is not
    /// running.
    pub fn is_connected(&self, id: SessionId) -> Option<bool> {
        let session = self.session(id)?;
        Some(match session.reconnect.as_deref() {
            Some(r) => r.phase == Phase::Up,
            None => session.connect_deadline.is_none() && session.link.client().jid().is_some(),
        })
    }

    fn reconnecting(&mut self, slot: usize) -> Option<&mut Reconnecting> {
        self.slots
            .get_mut(slot)?
            .session
            .as_mut()?
            .reconnect
            .as_deref_mut()
    }

    /// [`send`](Self::send) on a reconnecting session without a logged-in connection:
    /// the stanza waits with the session to resume (`Ok(None)`); `Ok(Some)` gives it
    /// back to send on the connection. While stanzas of the last attempt wait for the
    /// core, a send is refused as the core refuses one when full
    /// (`UnackedQueueFull`; `Event::Writable` says when to retry).
    pub(super) fn hold_if_away(
        &mut self,
        id: SessionId,
        stanza: Element,
    ) -> Result<Option<Element>, Error> {
        let slot = self.slot_of(id)?;
        match self.reconnecting(slot) {
            Some(r) if r.is_offline() || matches!(r.phase, Phase::Attempting { .. }) => {
                r.recovery.queue(stanza)?;
                Ok(None)
            }
            Some(r) if r.phase == Phase::Up && r.has_pending() => {
                Err(Error::Client(jabber_proto::client::Error::UnackedQueueFull))
            }
            _ => Ok(Some(stanza)),
        }
    }

    /// [`close`](Self::close) on a reconnecting session: no more reconnection; without a
    /// connection, the session ends at once (`true`) with `Event::Closed(Local)`.
    pub(super) fn close_reconnecting(&mut self, id: SessionId) -> Result<bool, Error> {
        let slot = self.slot_of(id)?;
        let Some(r) = self.reconnecting(slot) else {
            return Ok(false);
        };
        r.recovery.finish();
        if !r.is_offline() {
            return Ok(false);
        }
        // What the session still has to say (stanzas taken while offline, never sent),
        // then the end.
        let mut reports = Vec::new();
        while let Step::Report(item) = r.recovery.step() {
            reports.push((id, Output::Reconnection(item)));
        }
        self.outputs.extend(reports);
        self.outputs
            .push_back((id, Output::Event(Event::Closed(CloseReason::Local))));
        self.remove(slot);
        Ok(true)
    }

    /// The connection of a reconnecting session is gone (`error`, or its core closed):
    /// reports it, takes the socket down and goes on with the next step. `false` when
    /// the session does not reconnect (now): the caller ends it as any other.
    /// An error it reports is taken out of `error`.
    pub(super) fn connection_lost(&mut self, slot: usize, error: &mut Option<Error>) -> bool {
        let Some(session) = self.slots.get_mut(slot).and_then(|s| s.session.as_mut()) else {
            return false;
        };
        let id = SessionId {
            slot: slot as u32,
            generation: session.generation,
        };
        let Some(r) = session.reconnect.as_deref_mut() else {
            return false;
        };
        if session.over || r.phase == Phase::Starting {
            return false;
        }
        match r.phase {
            Phase::Up | Phase::Lost => {
                if r.recovery.is_done() {
                    r.report_pending(id, &mut self.outputs);
                    return false;
                }
                r.recovery.lost(&mut session.link, session.clock.now());
                // After what the core held: what it had not taken yet.
                r.recovery.requeue(std::mem::take(&mut r.pending));
            }
            Phase::Attempting { .. } => {
                let error = error.take().unwrap_or_else(|| {
                    let reason = session.link.client().close_reason().cloned();
                    Error::Closed(reason.unwrap_or(CloseReason::Reset))
                });
                let output = if r.recovery.is_done() {
                    // Closed by the application while the attempt ran: the session ends
                    // as the close asked, whatever became of the attempt.
                    Output::Event(Event::Closed(CloseReason::Local))
                } else {
                    Output::Reconnection(r.recovery.attempted(Err(error)))
                };
                self.outputs.push_back((id, output));
            }
            Phase::AttemptFailed => {}
            Phase::Starting | Phase::Down | Phase::Waiting(_) => return true,
        }
        r.phase = Phase::Down;
        // The peer may be gone already; nothing is left to do about either.
        let _ = self.poll.registry().deregister(&mut session.stream);
        let _ = session.stream.shutdown(Shutdown::Both);
        session.connect_deadline = None;
        session.fallbacks.clear();
        session.writable = false;
        self.step(slot);
        true
    }

    /// The next steps of a session without a connection: reports, then an attempt armed
    /// in the timer queue, or the end.
    fn step(&mut self, slot: usize) {
        let Some(session) = self.slots.get_mut(slot).and_then(|s| s.session.as_mut()) else {
            return;
        };
        let id = SessionId {
            slot: slot as u32,
            generation: session.generation,
        };
        let Some(r) = session.reconnect.as_deref_mut() else {
            return;
        };
        loop {
            match r.recovery.step() {
                Step::Report(item) => self.outputs.push_back((id, Output::Reconnection(item))),
                Step::Attempt(delay) => {
                    // A delay beyond the clock's range is never due: the session waits
                    // (for a stop or a close) with no timer armed.
                    let Some(at) = Instant::now().checked_add(delay) else {
                        r.phase = Phase::Down;
                        return;
                    };
                    r.phase = Phase::Waiting(at);
                    session.armed = Some(at);
                    self.timers.push(at, slot, session.generation);
                    return;
                }
                Step::Done => {
                    r.phase = Phase::Down;
                    self.remove(slot);
                    return;
                }
            }
        }
    }

    /// The attempt armed by [`step`](Self::step) is due: connect without blocking (the
    /// addresses in turn, as one attempt), and resume or log in as soon as the stream
    /// allows; the outcome comes as the core's event.
    pub(super) fn attempt(&mut self, slot: usize) {
        if let Err(e) = self.start_attempt(slot) {
            if let Some(r) = self.reconnecting(slot) {
                let item = r.recovery.attempted(Err(e));
                r.phase = Phase::Down;
                let generation = self.slots[slot].generation;
                let id = SessionId {
                    slot: slot as u32,
                    generation,
                };
                self.outputs.push_back((id, Output::Reconnection(item)));
            }
            self.step(slot);
        }
    }

    fn start_attempt(&mut self, slot: usize) -> Result<(), Error> {
        let session = self.slots[slot].session.as_mut().ok_or_else(not_running)?;
        let r = session.reconnect.as_deref_mut().ok_or_else(not_running)?;
        let mut config = r.config.clone();
        config.seed = jabber_net::fresh_seed();
        // Where the server asked resumption to happen first (XEP-0198): an address
        // literal only, since the driver never blocks on a DNS lookup.
        let port = r.addrs.first().map_or(5222, SocketAddr::port);
        let preferred = r
            .recovery
            .location(port)
            .and_then(|(host, port)| host.parse::<std::net::IpAddr>().ok().map(|ip| (ip, port)))
            .map(SocketAddr::from);
        let addrs = jabber_net::prefer(preferred, &r.addrs);
        // The addresses in turn until one starts connecting; the rest are its fallbacks.
        let mut last = io::Error::new(ErrorKind::InvalidInput, "no address");
        let mut started = None;
        for (i, &addr) in addrs.iter().enumerate() {
            let stream = TcpStream::connect(addr)
                .and_then(|s| jabber_net::configure_socket(&s, &r.options).map(|()| s));
            match stream {
                Ok(stream) => {
                    started = Some((stream, i + 1));
                    break;
                }
                Err(e) => last = e,
            }
        }
        let (mut stream, next) = started.ok_or(last)?;
        let rest = &addrs[next..];
        let mut clock = Clock::start();
        clock.hold();
        let mut link = Link::new(config, &r.options, clock.now())?;
        let resumption = r.recovery.resumption();
        let queued_before = resumption.as_ref().map_or(0, |x| x.unacked.len());
        let credentials = r.credentials.clone();
        link.command(clock.now(), |c, now| match resumption {
            Some(resumption) => c.resume(now, credentials, resumption),
            None => c.login(now, credentials),
        })?;
        self.poll.registry().register(
            &mut stream,
            Token(slot),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        session.fallbacks = fallbacks(rest, &r.options);
        session.connect_deadline = Instant::now().checked_add(r.options.connect_timeout);
        r.phase = Phase::Attempting { queued_before };
        session.stream = stream;
        session.link = link;
        session.clock = clock;
        session.writable = true;
        self.settle(slot);
        Ok(())
    }
}

/// The addresses after the first, as the session's fallbacks (last first).
fn fallbacks(rest: &[SocketAddr], options: &Options) -> Vec<(SocketAddr, Options)> {
    rest.iter().rev().map(|a| (*a, options.clone())).collect()
}
