//! A session that outlives its connections: when one dies, it reconnects with
//! exponential backoff ([`jabber_net::Reconnect`]) and resumes the stream-managed session
//! (XEP-0198) when the server allows, else logs in anew.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use jabber_net::{Backoff, Reconnect, Resumed};
use jabber_proto::client::{CloseReason, Config, Event};
use jabber_proto::features::stream_management::Resumption;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::xml::Element;

use crate::{Connection, Error, LoggedIn, Next, Options};

/// What [`Session::next`] found.
#[derive(Debug)]
#[non_exhaustive]
pub enum Item {
    /// An event of the current connection (its `Closed` only when the session ends).
    Event(Event),
    /// Nothing within the time given.
    TimedOut,
    /// The connection was lost; reconnection starts.
    Disconnected(Option<CloseReason>),
    /// Attempt `attempt` (1 for the first) will be made after `delay`, at the next call.
    Attempt {
        /// The attempt's number since the loss.
        attempt: u32,
        /// How long the next call sleeps before it.
        delay: Duration,
    },
    /// The attempt failed; another follows unless the maximum is reached.
    AttemptFailed(Error),
    /// Connected again: the session resumed, or a new one started.
    Reconnected(Resumed),
    /// The maximum number of attempts was reached, or reconnection was stopped.
    GaveUp,
}

/// A blocking session over [`Connection`]s, reconnecting when one is lost.
///
/// Nothing happens between calls: losses are noticed, and attempts made, inside
/// [`next`](Self::next), which sleeps for the backoff delay of an attempt it announced.
pub struct Session {
    addrs: Vec<SocketAddr>,
    config: Config,
    options: Options,
    credentials: Credentials,
    conn: Option<Connection>,
    reconnect: Reconnect,
    /// The lost session, to resume on the next connection.
    resumption: Option<Resumption>,
    /// An attempt announced and not yet made.
    announced: Option<Duration>,
    /// The session ended for good.
    done: bool,
    /// A loss noticed (maybe by `send`) and not yet reported by `next`.
    loss: Option<Option<CloseReason>>,
}

impl Session {
    /// Connects and logs in (no retry: a first failure is the caller's to see). Each
    /// connection gets a fresh seed; `backoff` governs reconnection.
    pub fn connect(
        addr: impl ToSocketAddrs,
        config: Config,
        options: Options,
        credentials: Credentials,
        backoff: Backoff,
    ) -> Result<(Session, LoggedIn), Error> {
        let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
        let mut conn = Connection::connect_with(&addrs[..], config.clone(), options.clone())?;
        let logged_in = conn.login(credentials.clone())?;
        let session = Session {
            addrs,
            config,
            options,
            credentials,
            conn: Some(conn),
            reconnect: Reconnect::new(backoff, crate::fresh_seed().get()),
            resumption: None,
            announced: None,
            done: false,
            loss: None,
        };
        Ok((session, logged_in))
    }

    /// The current connection, while there is one.
    pub fn connection(&mut self) -> Option<&mut Connection> {
        self.conn.as_mut()
    }

    /// Whether a connection is up.
    pub fn is_connected(&self) -> bool {
        self.conn.as_ref().is_some_and(|c| !c.is_closed())
    }

    /// No more reconnection: after the current connection the session ends.
    pub fn stop_reconnecting(&mut self) {
        self.reconnect.stop();
    }

    /// Sends a stanza. While disconnected with a session to resume, it waits with the
    /// session's unacknowledged stanzas and goes out on resumption (or, refused, in the
    /// new session, reported as a possible duplicate); the same bound holds
    /// (`Config::sm_max_unacked`).
    pub fn send(&mut self, stanza: impl Into<Element>) -> Result<(), Error> {
        let stanza = stanza.into();
        if let Some(conn) = self.conn.as_mut().filter(|c| !c.is_closed()) {
            let queued = |c: &Connection| c.client().resumption().map(|r| r.unacked.len());
            let before = queued(conn);
            match conn.send(stanza.clone()) {
                Ok(()) => return Ok(()),
                Err(e @ Error::Client(_)) => return Err(e),
                Err(_) => {
                    // The transport failed: the stanza is with the lost session if the
                    // core took it before the write failed, else it joins it below.
                    let taken = before.is_some() && queued(conn) > before;
                    self.lost();
                    if taken {
                        return Ok(());
                    }
                }
            }
        }
        match &mut self.resumption {
            Some(r) if r.unacked.len() < usize::from(self.config.sm_max_unacked) => {
                r.unacked.push(stanza);
                Ok(())
            }
            Some(_) => Err(Error::Client(jabber_proto::client::Error::UnackedQueueFull)),
            None => Err(Error::Client(jabber_proto::client::Error::Closed)),
        }
    }

    /// The next item, waiting at most `wait` for an event of the connection; `Ok(None)`
    /// once the session ended. Reconnection attempts happen here.
    pub fn next(&mut self, wait: Duration) -> Result<Option<Item>, Error> {
        if let Some(reason) = self.loss.take() {
            return Ok(Some(Item::Disconnected(reason)));
        }
        if let Some(conn) = &mut self.conn {
            let next = conn.next_event_timeout(wait);
            let reason = match next {
                Ok(Next::Event(Event::Closed(reason))) => {
                    if reason.is_clean() || self.reconnect.is_stopped() {
                        self.conn = None;
                        self.done = true;
                        return Ok(Some(Item::Event(Event::Closed(reason))));
                    }
                    Some(reason)
                }
                Ok(Next::Event(e)) => return Ok(Some(Item::Event(e))),
                Ok(Next::TimedOut) => return Ok(Some(Item::TimedOut)),
                Ok(Next::Ended) => None,
                Err(_) => conn.client().close_reason().cloned(),
            };
            self.lost();
            self.loss = None;
            return Ok(Some(Item::Disconnected(reason)));
        }
        if self.done {
            return Ok(None);
        }
        let Some(delay) = self.announced.take() else {
            return Ok(Some(match self.reconnect.next_delay() {
                Some(delay) => {
                    self.announced = Some(delay);
                    Item::Attempt {
                        attempt: self.reconnect.attempts(),
                        delay,
                    }
                }
                None => {
                    self.done = true;
                    Item::GaveUp
                }
            }));
        };
        std::thread::sleep(delay);
        match self.attempt() {
            Ok(resumed) => {
                self.reconnect.succeeded();
                Ok(Some(Item::Reconnected(resumed)))
            }
            Err(e) => Ok(Some(Item::AttemptFailed(e))),
        }
    }

    /// The connection is gone: keep what resumes it.
    fn lost(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.loss = Some(conn.client().close_reason().cloned());
            if let Some(r) = conn.client().resumption() {
                self.resumption = Some(r);
            }
        }
    }

    fn attempt(&mut self) -> Result<Resumed, Error> {
        let mut config = self.config.clone();
        config.seed = crate::fresh_seed();
        let mut conn = Connection::connect_with(&self.addrs[..], config, self.options.clone())?;
        let outcome = match self.resumption.clone() {
            Some(r) => conn.resume(self.credentials.clone(), r),
            None => conn
                .login(self.credentials.clone())
                .map(Resumed::NewSession),
        };
        if outcome.is_ok() {
            // Resumed or replaced: what the old session held has gone out again.
            self.resumption = None;
            self.conn = Some(conn);
        }
        outcome
    }

    /// Logs out: closes the current connection cleanly and ends the session.
    pub fn close(mut self) -> Result<Option<CloseReason>, Error> {
        self.done = true;
        match self.conn.take() {
            Some(conn) => conn.close().map(Some),
            None => Ok(None),
        }
    }
}
