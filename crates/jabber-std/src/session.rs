//! A session that outlives its connections: when one dies, it reconnects with
//! exponential backoff and resumes the stream-managed session (XEP-0198) when the server
//! allows, else logs in anew. The decisions are `jabber_net::Recovery`'s; this file
//! only sleeps, connects and logs in.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use jabber_net::{Backoff, Item, Recovery, Resumed, Step};
use jabber_proto::client::{Config, Event};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::xml::Element;

use crate::{CloseReason, Connection, Error, LoggedIn, Next, Options};

/// A blocking session over [`Connection`]s, reconnecting when one is lost.
///
/// Nothing happens between calls: losses are noticed, and attempts made, inside
/// [`next`](Self::next), which sleeps for the backoff delay of an attempt it announced.
/// An attempt connects first where the server asked resumption to happen (XEP-0198
/// `<enabled location/>`), then to the session's addresses.
///
/// ```no_run
/// use std::time::Duration;
/// use jabber_std::{Backoff, Config, Credentials, Event, Item, Options, Session};
///
/// # fn main() -> Result<(), jabber_std::Error> {
/// let mut config = Config::new("example.com", jabber_std::fresh_seed());
/// config.version = Some("1.0".into()); // stream management needs XMPP 1.0
/// let creds = Credentials::new("alice", "secret", "phone");
/// let (mut session, _) = Session::connect(
///     "example.com:5222", config, Options::default(), creds, Backoff::default())?;
/// while let Some(item) = session.next(Duration::from_secs(30))? {
///     match item {
///         Item::Event(Event::Stanza(stanza)) => println!("{stanza:?}"),
///         Item::Attempt { attempt, delay } => println!("reconnecting ({attempt}) in {delay:?}"),
///         Item::Reconnected(how) => println!("back: {how:?}"),
///         Item::GaveUp => break,
///         _ => {}
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Session {
    addrs: Vec<SocketAddr>,
    config: Config,
    options: Options,
    credentials: Credentials,
    conn: Option<Connection>,
    recovery: Recovery,
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
        let max_queued = usize::from(config.sm_max_unacked);
        let session = Session {
            addrs,
            config,
            options,
            credentials,
            conn: Some(conn),
            recovery: Recovery::new(backoff, crate::fresh_seed().get(), max_queued),
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
        self.recovery.stop();
    }

    /// Sends a stanza. While disconnected with a session to resume, it waits with the
    /// session's unacknowledged stanzas and goes out on resumption (or, refused, in the
    /// new session, reported as a possible duplicate); the same bound holds
    /// (`Config::sm_max_unacked`).
    pub fn send(&mut self, stanza: impl Into<Element>) -> Result<(), Error> {
        let stanza = stanza.into();
        if self.conn.as_ref().is_some_and(Connection::is_closed) {
            self.lost();
        }
        if let Some(conn) = self.conn.as_mut() {
            let before = Recovery::unacked(conn.client());
            return match conn.send(stanza.clone()) {
                Ok(()) => Ok(()),
                Err(e @ Error::Client(_)) => Err(e),
                Err(_) => {
                    // The transport failed.
                    let (link, now) = conn.link_mut();
                    let result = self.recovery.send_failed(link, now, before, stanza);
                    self.conn = None;
                    result
                }
            };
        }
        self.recovery.queue(stanza)
    }

    /// The next item, waiting at most `wait` for an event of the connection; `Ok(None)`
    /// once the session ended. Reconnection attempts happen here.
    pub fn next(&mut self, wait: Duration) -> Result<Option<Item>, Error> {
        if let Some(conn) = &mut self.conn {
            match conn.next_event_timeout(wait) {
                Ok(Next::Event(Event::Closed(reason))) if self.recovery.ends_session(&reason) => {
                    self.conn = None;
                    return Ok(Some(Item::Event(Event::Closed(reason))));
                }
                Ok(Next::Event(Event::Closed(_)) | Next::Ended) | Err(_) => self.lost(),
                Ok(Next::Event(e)) => return Ok(Some(Item::Event(e))),
                Ok(Next::TimedOut) => return Ok(Some(Item::TimedOut)),
            }
        }
        Ok(match self.recovery.step() {
            Step::Report(item) => Some(item),
            Step::Done => None,
            Step::Attempt(delay) => {
                std::thread::sleep(delay);
                let outcome = self.attempt();
                Some(self.recovery.attempted(outcome))
            }
        })
    }

    /// The connection is gone: keep what resumes it.
    fn lost(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            let (link, now) = conn.link_mut();
            self.recovery.lost(link, now);
        }
    }

    fn attempt(&mut self) -> Result<Resumed, Error> {
        let mut config = self.config.clone();
        config.seed = crate::fresh_seed();
        // Where the server asked resumption to happen first (XEP-0198), if it resolves.
        let port = self.addrs.first().map_or(5222, SocketAddr::port);
        let preferred = self
            .recovery
            .location(port)
            .and_then(|(host, port)| (host.as_str(), port).to_socket_addrs().ok())
            .into_iter()
            .flatten();
        let addrs = jabber_net::prefer(preferred, &self.addrs);
        let mut conn = Connection::connect_with(&addrs[..], config, self.options.clone())?;
        let outcome = match self.recovery.resumption() {
            Some(r) => conn.resume(self.credentials.clone(), r),
            None => conn
                .login(self.credentials.clone())
                .map(Resumed::NewSession),
        };
        if outcome.is_ok() {
            self.conn = Some(conn);
        }
        outcome
    }

    /// Logs out: closes the current connection cleanly and ends the session.
    ///
    /// Stanzas waiting while disconnected end with the session unsent: to have them
    /// reported ([`Item::NotSent`]) instead, call
    /// [`stop_reconnecting`](Self::stop_reconnecting) and read `next` until it ends.
    pub fn close(mut self) -> Result<Option<CloseReason>, Error> {
        self.recovery.finish();
        match self.conn.take() {
            Some(conn) => conn.close().map(Some),
            None => Ok(None),
        }
    }
}
