//! The mio adapter: every session of one adapter value runs on one shared [`Driver`],
//! so waiting on any session drives all of them (their keepalives included).

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use jabber_mio::{Driver, Output, SessionId};
use jabber_net::{Error, LoggedIn, Options};
use jabber_proto::client::{self, CloseReason, Config, Event};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::xml::Element;

use super::{Adapter, Command, Next, Session};

#[derive(Debug)]
struct Shared {
    driver: Driver,
    /// Outputs by session, in order, until that session takes them.
    queues: HashMap<SessionId, VecDeque<Output>>,
}

impl Shared {
    /// One round of the loop: waits at most `wait`, then sorts the outputs.
    fn turn(&mut self, wait: Duration) -> Result<(), Error> {
        self.driver.poll(Some(wait))?;
        while let Some((id, output)) = self.driver.poll_output() {
            // The connection being up is not an event of the interface.
            if !matches!(output, Output::Connected) {
                self.queues.entry(id).or_default().push_back(output);
            }
        }
        Ok(())
    }
}

/// `jabber-mio`: sessions on one [`Driver`].
#[derive(Debug)]
pub struct MioAdapter {
    shared: Rc<RefCell<Shared>>,
}

impl MioAdapter {
    /// An adapter with a fresh driver.
    pub fn new() -> std::io::Result<MioAdapter> {
        Ok(MioAdapter {
            shared: Rc::new(RefCell::new(Shared {
                driver: Driver::new()?,
                queues: HashMap::new(),
            })),
        })
    }
}

impl Adapter for MioAdapter {
    fn name(&self) -> &'static str {
        "mio"
    }

    fn connect(
        &self,
        addr: SocketAddr,
        config: Config,
        options: Options,
    ) -> Result<Box<dyn Session>, Error> {
        let id = self
            .shared
            .borrow_mut()
            .driver
            .connect(addr, config, &options)?;
        Ok(Box::new(MioSession {
            shared: self.shared.clone(),
            id,
            ended: false,
            reason: None,
        }))
    }
}

#[derive(Debug)]
struct MioSession {
    shared: Rc<RefCell<Shared>>,
    id: SessionId,
    ended: bool,
    /// Why the session ended, once its `Closed` event was taken.
    reason: Option<CloseReason>,
}

impl MioSession {
    /// Takes the first queued output `pick` accepts (or that ends the session), turning
    /// the loop until one comes or `wait` passes (`None`).
    fn take(
        &mut self,
        wait: Duration,
        pick: impl Fn(&Event) -> bool,
    ) -> Result<Option<Output>, Error> {
        let until = Instant::now() + wait;
        loop {
            let mut shared = self.shared.borrow_mut();
            let queue = shared.queues.entry(self.id).or_default();
            let found = queue.iter().position(|o| match o {
                Output::Event(e) => pick(e) || matches!(e, Event::Closed(_)),
                Output::Failed(_) => true,
                _ => false,
            });
            if let Some(output) = found.and_then(|i| queue.remove(i)) {
                match &output {
                    Output::Event(Event::Closed(reason)) => {
                        self.ended = true;
                        self.reason = Some(reason.clone());
                    }
                    Output::Failed(_) => self.ended = true,
                    _ => {}
                }
                return Ok(Some(output));
            }
            if self.ended {
                return Ok(None);
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            shared.turn(left)?;
        }
    }
}

impl MioSession {
    /// Waits for the event that ends a `what` (or the session's end: `Closed` is
    /// returned, a failure is the error).
    fn outcome(&mut self, pick: impl Fn(&Event) -> bool, what: &str) -> Result<Event, Error> {
        match self.take(Duration::from_secs(60), pick)? {
            Some(Output::Event(e)) => Ok(e),
            Some(Output::Failed(e)) => Err(e),
            _ => Err(Error::Io(std::io::Error::other(format!(
                "no {what} outcome within 60 s"
            )))),
        }
    }
}

impl Session for MioSession {
    fn login(&mut self, credentials: Credentials) -> Result<LoggedIn, Error> {
        self.shared
            .borrow_mut()
            .driver
            .login(self.id, credentials)?;
        jabber_net::login_outcome(self.outcome(|e| matches!(e, Event::Session(_)), "login")?)
    }

    fn send(&mut self, stanza: Element) -> Result<(), Error> {
        self.shared.borrow_mut().driver.send(self.id, stanza)
    }

    fn command(&mut self, f: Command) -> Result<Result<(), client::Error>, Error> {
        self.shared.borrow_mut().driver.command(self.id, f)
    }

    fn next_event(&mut self, wait: Duration) -> Result<Next, Error> {
        let was_ended = self.ended;
        match self.take(wait, |_| true)? {
            Some(Output::Event(e)) => Ok(Next::Event(e)),
            Some(Output::Failed(e)) => Err(e),
            _ if was_ended => Ok(Next::Ended),
            _ => Ok(Next::TimedOut),
        }
    }

    fn is_tls(&self) -> bool {
        self.shared.borrow().driver.is_tls(self.id).unwrap_or(false)
    }

    fn jid(&self) -> Option<Jid> {
        self.shared
            .borrow()
            .driver
            .client(self.id)
            .and_then(|c| c.jid().cloned())
    }

    fn close(mut self: Box<Self>) -> Result<CloseReason, Error> {
        if let Some(reason) = &self.reason {
            return Ok(reason.clone());
        }
        if !self.ended {
            self.shared.borrow_mut().driver.close(self.id)?;
        }
        match self.take(Duration::from_secs(60), |_| false)? {
            Some(Output::Event(Event::Closed(reason))) => Ok(reason),
            Some(Output::Failed(e)) => Err(e),
            _ => Err(Error::Io(std::io::Error::other(
                "the session did not end within 60 s of its close",
            ))),
        }
    }

    fn is_closed(&self) -> bool {
        // The driver forgets a session once it ended.
        self.shared
            .borrow()
            .driver
            .client(self.id)
            .is_none_or(|c| c.is_closed())
    }

    fn register(&mut self, username: &str, password: &str) -> Result<(), Error> {
        // As the other adapters' `register`, on the driver's commands.
        self.command(Box::new(|c, now| c.request_registration(now)))??;
        let answer = self.outcome(|e| matches!(e, Event::Account(_)), "registration")?;
        let form = jabber_net::filled_registration_form(answer, username, password)?;
        self.command(Box::new(move |c, now| c.submit_registration(now, &form)))??;
        jabber_net::registration_outcome(
            self.outcome(|e| matches!(e, Event::Account(_)), "registration")?,
        )
    }
}

impl Drop for MioSession {
    fn drop(&mut self) {
        if let Ok(mut shared) = self.shared.try_borrow_mut() {
            shared.driver.abort(self.id);
            shared.queues.remove(&self.id);
        }
    }
}

// ---- reconnecting sessions (`Driver::connect_reconnecting`) ----

impl super::reconnecting::ReconnectingAdapter for MioAdapter {
    fn name(&self) -> &'static str {
        "mio"
    }

    fn connect_reconnecting(
        &self,
        addr: SocketAddr,
        config: Config,
        options: Options,
        credentials: Credentials,
        backoff: jabber_net::Backoff,
    ) -> Result<(Box<dyn super::reconnecting::Reconnecting>, LoggedIn), Error> {
        let id = self.shared.borrow_mut().driver.connect_reconnecting(
            &[addr],
            config,
            &options,
            credentials,
            backoff,
        )?;
        let mut session = MioReconnecting {
            inner: MioSession {
                shared: self.shared.clone(),
                id,
                ended: false,
                reason: None,
            },
        };
        // As the other adapters' connect: the login's outcome, other events kept.
        let outcome = session
            .inner
            .outcome(|e| matches!(e, Event::Session(_)), "login")?;
        let logged_in = jabber_net::login_outcome(outcome)?;
        Ok((Box::new(session), logged_in))
    }
}

/// A reconnecting session on the shared driver.
#[derive(Debug)]
struct MioReconnecting {
    inner: MioSession,
}

impl super::reconnecting::Reconnecting for MioReconnecting {
    fn next(&mut self, wait: Duration) -> Result<Option<jabber_net::Item>, Error> {
        use jabber_net::Item;
        let until = Instant::now() + wait;
        let id = self.inner.id;
        loop {
            let mut shared = self.inner.shared.borrow_mut();
            if let Some(output) = shared.queues.entry(id).or_default().pop_front() {
                return match output {
                    Output::Event(Event::Closed(reason)) => {
                        self.inner.ended = true;
                        Ok(Some(Item::Event(Event::Closed(reason))))
                    }
                    Output::Event(e) => Ok(Some(Item::Event(e))),
                    Output::Reconnection(Item::GaveUp) => {
                        self.inner.ended = true;
                        Ok(Some(Item::GaveUp))
                    }
                    Output::Reconnection(item) => Ok(Some(item)),
                    Output::Failed(e) => {
                        self.inner.ended = true;
                        Err(e)
                    }
                    _ => continue,
                };
            }
            if self.inner.ended {
                return Ok(None);
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Some(Item::TimedOut));
            }
            shared.turn(left)?;
        }
    }

    fn send(&mut self, stanza: Element) -> Result<(), Error> {
        self.inner.send(stanza)
    }

    fn send_iq(
        &mut self,
        to: Option<&jabber_proto::jid::Jid>,
        kind: jabber_proto::stanza::IqType,
        payload: Element,
    ) -> Result<Result<jabber_proto::client::IqId, jabber_proto::client::Error>, Error> {
        let id = self.inner.id;
        let mut shared = self.inner.shared.borrow_mut();
        shared
            .driver
            .command(id, |c, now| c.send_iq(now, to, kind, payload))
    }

    fn is_connected(&self) -> bool {
        let shared = self.inner.shared.borrow();
        shared.driver.is_connected(self.inner.id) == Some(true)
    }

    fn unacked(&mut self) -> Option<usize> {
        if !self.is_connected() {
            return None;
        }
        let shared = self.inner.shared.borrow();
        let client = shared.driver.client(self.inner.id)?;
        client.unacked_stanzas()
    }

    fn stop_reconnecting(&mut self) {
        let id = self.inner.id;
        self.inner.shared.borrow_mut().driver.stop_reconnecting(id);
    }

    fn close(self: Box<Self>) -> Result<(), Error> {
        Box::new(self.inner).close().map(|_| ())
    }
}
