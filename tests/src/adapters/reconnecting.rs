//! The reconnecting sessions of the three adapters behind one interface, so that a
//! reconnection scenario is written once (`tests/stream_management.rs`) and run through
//! each: jabber-std's and jabber-tokio's `Session`, jabber-mio's
//! `Driver::connect_reconnecting`. The wrappers only translate calls; every decision is
//! the adapter's (and `jabber_net::Recovery`'s).

use std::net::SocketAddr;
use std::time::Duration;

use jabber_net::{Backoff, Error, Item, LoggedIn, Options};
use jabber_proto::client::{Config, Error as ClientError, IqId};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::stanza::IqType;
use jabber_proto::xml::Element;

use super::{MioAdapter, StdAdapter, TokioAdapter};

/// An adapter that makes reconnecting sessions.
pub trait ReconnectingAdapter {
    /// The adapter's name, part of every test name.
    fn name(&self) -> &'static str;

    /// Connects and logs in (a failure now is final), reconnecting later with `backoff`.
    fn connect_reconnecting(
        &self,
        addr: SocketAddr,
        config: Config,
        options: Options,
        credentials: Credentials,
        backoff: Backoff,
    ) -> Result<(Box<dyn Reconnecting>, LoggedIn), Error>;
}

/// A session that outlives its connections, used as a blocking one.
pub trait Reconnecting {
    /// The next item, waiting at most `wait` for the connection (`Item::TimedOut` then);
    /// `Ok(None)` once the session ended. Attempts happen here: their backoff delay is
    /// waited out even beyond `wait` (jabber-tokio abandons an attempt it is cancelled
    /// in, so its wrapper does not cancel one).
    fn next(&mut self, wait: Duration) -> Result<Option<Item>, Error>;

    /// Sends a stanza (queued with the session to resume while disconnected).
    fn send(&mut self, stanza: Element) -> Result<(), Error>;

    /// Sends an IQ request on the current connection (the core's `send_iq`): the outer
    /// error is the adapter's (no connection: `Closed`), the inner the core's.
    fn send_iq(
        &mut self,
        to: Option<&Jid>,
        kind: IqType,
        payload: Element,
    ) -> Result<Result<IqId, ClientError>, Error>;

    /// Whether a connection is up.
    fn is_connected(&self) -> bool;

    /// The unacknowledged stanzas of the current connection's resumable session.
    fn unacked(&mut self) -> Option<usize>;

    /// No more reconnection.
    fn stop_reconnecting(&mut self);

    /// Logs out and ends the session.
    fn close(self: Box<Self>) -> Result<(), Error>;
}

/// The three adapters, each made in the thread that uses it.
pub fn all() -> [fn() -> Box<dyn ReconnectingAdapter>; 3] {
    [
        || Box::new(StdAdapter),
        || Box::new(MioAdapter::new().expect("a mio poll")),
        || Box::new(TokioAdapter::new().expect("a tokio runtime")),
    ]
}

// ---- jabber-std ----

impl ReconnectingAdapter for StdAdapter {
    fn name(&self) -> &'static str {
        "std"
    }

    fn connect_reconnecting(
        &self,
        addr: SocketAddr,
        config: Config,
        options: Options,
        credentials: Credentials,
        backoff: Backoff,
    ) -> Result<(Box<dyn Reconnecting>, LoggedIn), Error> {
        let (session, logged_in) =
            jabber_std::Session::connect(addr, config, options, credentials, backoff)?;
        Ok((Box::new(session), logged_in))
    }
}

impl Reconnecting for jabber_std::Session {
    fn next(&mut self, wait: Duration) -> Result<Option<Item>, Error> {
        jabber_std::Session::next(self, wait)
    }

    fn send(&mut self, stanza: Element) -> Result<(), Error> {
        jabber_std::Session::send(self, stanza)
    }

    fn send_iq(
        &mut self,
        to: Option<&Jid>,
        kind: IqType,
        payload: Element,
    ) -> Result<Result<IqId, ClientError>, Error> {
        let conn = self
            .connection()
            .ok_or(Error::Client(ClientError::Closed))?;
        conn.with_client(|c, now| c.send_iq(now, to, kind, payload))
    }

    fn is_connected(&self) -> bool {
        jabber_std::Session::is_connected(self)
    }

    fn unacked(&mut self) -> Option<usize> {
        let conn = self.connection()?;
        conn.client().unacked_stanzas()
    }

    fn stop_reconnecting(&mut self) {
        jabber_std::Session::stop_reconnecting(self);
    }

    fn close(self: Box<Self>) -> Result<(), Error> {
        jabber_std::Session::close(*self).map(|_| ())
    }
}

// ---- jabber-tokio ----

impl ReconnectingAdapter for TokioAdapter {
    fn name(&self) -> &'static str {
        "tokio"
    }

    fn connect_reconnecting(
        &self,
        addr: SocketAddr,
        config: Config,
        options: Options,
        credentials: Credentials,
        backoff: Backoff,
    ) -> Result<(Box<dyn Reconnecting>, LoggedIn), Error> {
        let rt = self.runtime();
        let (session, logged_in) = rt.block_on(jabber_tokio::Session::connect(
            addr,
            config,
            options,
            credentials,
            backoff,
        ))?;
        Ok((Box::new(TokioReconnecting { rt, session }), logged_in))
    }
}

struct TokioReconnecting {
    rt: std::rc::Rc<tokio::runtime::Runtime>,
    session: jabber_tokio::Session,
}

impl Reconnecting for TokioReconnecting {
    fn next(&mut self, wait: Duration) -> Result<Option<Item>, Error> {
        let session = &mut self.session;
        if !session.is_connected() {
            // Cancel-safe only while connected: an attempt runs to its outcome.
            return self.rt.block_on(session.next());
        }
        match self
            .rt
            .block_on(async { tokio::time::timeout(wait, session.next()).await })
        {
            Ok(result) => result,
            Err(_elapsed) => Ok(Some(Item::TimedOut)),
        }
    }

    fn send(&mut self, stanza: Element) -> Result<(), Error> {
        self.session.send(stanza)
    }

    fn send_iq(
        &mut self,
        to: Option<&Jid>,
        kind: IqType,
        payload: Element,
    ) -> Result<Result<IqId, ClientError>, Error> {
        let conn = self
            .session
            .connection()
            .ok_or(Error::Client(ClientError::Closed))?;
        conn.with_client(|c, now| c.send_iq(now, to, kind, payload))
    }

    fn is_connected(&self) -> bool {
        self.session.is_connected()
    }

    fn unacked(&mut self) -> Option<usize> {
        let conn = self.session.connection()?;
        conn.client().unacked_stanzas()
    }

    fn stop_reconnecting(&mut self) {
        self.session.stop_reconnecting();
    }

    fn close(self: Box<Self>) -> Result<(), Error> {
        let TokioReconnecting { rt, session } = *self;
        rt.block_on(session.close())
    }
}
