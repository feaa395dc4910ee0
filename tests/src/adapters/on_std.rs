//! The blocking adapter, as it is.

use std::net::SocketAddr;
use std::time::Duration;

use jabber_net::{Error, LoggedIn, Options};
use jabber_proto::client::{self, CloseReason, Config};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::xml::Element;
use jabber_std::Connection;

use super::{Adapter, Command, Next, Session};

/// `jabber-std`: one blocking [`Connection`] per session.
#[derive(Debug)]
pub struct StdAdapter;

impl Adapter for StdAdapter {
    fn name(&self) -> &'static str {
        "std"
    }

    fn connect(
        &self,
        addr: SocketAddr,
        config: Config,
        options: Options,
    ) -> Result<Box<dyn Session>, Error> {
        Ok(Box::new(Connection::connect_with(addr, config, options)?))
    }
}

impl Session for Connection {
    fn login(&mut self, credentials: Credentials) -> Result<LoggedIn, Error> {
        Connection::login(self, credentials)
    }

    fn send(&mut self, stanza: Element) -> Result<(), Error> {
        Connection::send(self, stanza)
    }

    fn command(&mut self, f: Command) -> Result<Result<(), client::Error>, Error> {
        self.with_client(f)
    }

    fn next_event(&mut self, wait: Duration) -> Result<Next, Error> {
        Ok(match self.next_event_timeout(wait)? {
            jabber_std::Next::Event(e) => Next::Event(e),
            jabber_std::Next::TimedOut => Next::TimedOut,
            jabber_std::Next::Ended => Next::Ended,
        })
    }

    fn is_tls(&self) -> bool {
        Connection::is_tls(self)
    }

    fn jid(&self) -> Option<Jid> {
        self.client().jid().cloned()
    }

    fn close(self: Box<Self>) -> Result<CloseReason, Error> {
        Connection::close(*self)
    }

    fn is_closed(&self) -> bool {
        Connection::is_closed(self)
    }

    fn register(&mut self, username: &str, password: &str) -> Result<(), Error> {
        Connection::register(self, username, password)
    }
}
