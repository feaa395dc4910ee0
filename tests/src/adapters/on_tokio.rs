//! The tokio adapter on a current-thread runtime owned by the adapter value: each call
//! blocks on the connection's own futures (they are cancel-safe, so a timed-out wait
//! loses nothing).

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use jabber_net::{Error, LoggedIn, Options};
use jabber_proto::client::{self, CloseReason, Config};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::xml::Element;
use jabber_tokio::Connection;
use tokio::runtime::Runtime;

use super::{Adapter, Command, Next, Session};

/// `jabber-tokio`: connections polled by the caller, no task spawned.
#[derive(Debug)]
pub struct TokioAdapter {
    rt: Rc<Runtime>,
}

impl TokioAdapter {
    /// An adapter with its own current-thread runtime.
    pub fn new() -> std::io::Result<TokioAdapter> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(TokioAdapter { rt: Rc::new(rt) })
    }

    /// The adapter's runtime.
    pub(super) fn runtime(&self) -> Rc<Runtime> {
        self.rt.clone()
    }
}

impl Adapter for TokioAdapter {
    fn name(&self) -> &'static str {
        "tokio"
    }

    fn connect(
        &self,
        addr: SocketAddr,
        config: Config,
        options: Options,
    ) -> Result<Box<dyn Session>, Error> {
        let conn = self
            .rt
            .block_on(Connection::connect_with(addr, config, options))?;
        Ok(Box::new(TokioSession {
            rt: self.rt.clone(),
            conn,
        }))
    }
}

#[derive(Debug)]
struct TokioSession {
    rt: Rc<Runtime>,
    conn: Connection,
}

impl Session for TokioSession {
    fn login(&mut self, credentials: Credentials) -> Result<LoggedIn, Error> {
        self.rt.block_on(self.conn.login(credentials))
    }

    fn send(&mut self, stanza: Element) -> Result<(), Error> {
        self.conn.send(stanza)?;
        self.rt.block_on(self.conn.flush())
    }

    fn command(&mut self, f: Command) -> Result<Result<(), client::Error>, Error> {
        let result = self.conn.with_client(f)?;
        self.rt.block_on(self.conn.flush())?;
        Ok(result)
    }

    fn next_event(&mut self, wait: Duration) -> Result<Next, Error> {
        let conn = &mut self.conn;
        match self
            .rt
            .block_on(async { tokio::time::timeout(wait, conn.next_event()).await })
        {
            Ok(Ok(Some(event))) => Ok(Next::Event(event)),
            Ok(Ok(None)) => Ok(Next::Ended),
            Ok(Err(e)) => Err(e),
            Err(_elapsed) => Ok(Next::TimedOut),
        }
    }

    fn is_tls(&self) -> bool {
        self.conn.is_tls()
    }

    fn jid(&self) -> Option<Jid> {
        self.conn.client().jid().cloned()
    }

    fn close(self: Box<Self>) -> Result<CloseReason, Error> {
        let TokioSession { rt, conn } = *self;
        rt.block_on(conn.close())
    }

    fn is_closed(&self) -> bool {
        self.conn.is_closed()
    }

    fn register(&mut self, username: &str, password: &str) -> Result<(), Error> {
        self.rt.block_on(self.conn.register(username, password))
    }
}
