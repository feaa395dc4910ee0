//! A session that outlives its connections: when one dies, it reconnects with
//! exponential backoff and resumes the stream-managed session (XEP-0198) when the server
//! allows, else logs in anew. The decisions are `jabber_net::Recovery`'s; this file
//! only waits, connects and logs in.

use std::net::SocketAddr;

use jabber_net::{Backoff, Item, Recovery, Resumed, Step};
use jabber_proto::client::{Config, Event};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::xml::Element;
use tokio::net::ToSocketAddrs;

use crate::{Connection, Error, LoggedIn, Options};

/// An asynchronous session over [`Connection`]s, reconnecting when one is lost.
///
/// Losses are noticed, and attempts made, inside [`next`](Self::next). It is
/// cancel-safe while connected (as [`Connection::next_event`]); cancelled during an
/// attempt, that attempt is abandoned and the next call announces another. An attempt
/// connects first where the server asked resumption to happen (XEP-0198
/// `<enabled location/>`), then to the session's addresses.
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
    pub async fn connect(
        addr: impl ToSocketAddrs,
        config: Config,
        options: Options,
        credentials: Credentials,
        backoff: Backoff,
    ) -> Result<(Session, LoggedIn), Error> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host(addr).await?.collect();
        let mut conn =
            Connection::connect_with(&addrs[..], config.clone(), options.clone()).await?;
        let logged_in = conn.login(credentials.clone()).await?;
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

    /// The next item; `Ok(None)` once the session ended. Reconnection attempts happen
    /// here.
    pub async fn next(&mut self) -> Result<Option<Item>, Error> {
        if let Some(conn) = &mut self.conn {
            match conn.next_event().await {
                Ok(Some(Event::Closed(reason))) if self.recovery.ends_session(&reason) => {
                    self.conn = None;
                    return Ok(Some(Item::Event(Event::Closed(reason))));
                }
                Ok(Some(Event::Closed(_)) | None) | Err(_) => self.lost(),
                Ok(Some(e)) => return Ok(Some(Item::Event(e))),
            }
        }
        Ok(match self.recovery.step() {
            Step::Report(item) => Some(item),
            Step::Done => None,
            Step::Attempt(delay) => {
                tokio::time::sleep(delay).await;
                let outcome = self.attempt().await;
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

    async fn attempt(&mut self) -> Result<Resumed, Error> {
        let mut config = self.config.clone();
        config.seed = crate::fresh_seed();
        // Where the server asked resumption to happen first (XEP-0198), if it resolves.
        let port = self.addrs.first().map_or(5222, SocketAddr::port);
        let mut preferred = Vec::new();
        if let Some((host, port)) = self.recovery.location(port) {
            if let Ok(found) = tokio::net::lookup_host((host.as_str(), port)).await {
                preferred.extend(found);
            }
        }
        let addrs = jabber_net::prefer(preferred, &self.addrs);
        let mut conn = Connection::connect_with(&addrs[..], config, self.options.clone()).await?;
        let outcome = match self.recovery.resumption() {
            Some(r) => conn.resume(self.credentials.clone(), r).await,
            None => conn
                .login(self.credentials.clone())
                .await
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
    pub async fn close(mut self) -> Result<(), Error> {
        self.recovery.finish();
        if let Some(conn) = self.conn.take() {
            conn.close().await?;
        }
        Ok(())
    }
}
