//! One interface over the three adapters, so that a scenario is written once and run
//! through each (`tests/conformance.rs`). The wrappers only translate calls: every
//! behaviour under test is the adapter's own.

use std::net::SocketAddr;
use std::time::Duration;

use jabber_net::{Error, LoggedIn, Options};
use jabber_proto::client::{self, Client, CloseReason, Config, Event};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::time::Instant;
use jabber_proto::xml::Element;

mod on_mio;
mod on_std;
mod on_tokio;
pub mod reconnecting;

pub use on_mio::MioAdapter;
pub use on_std::StdAdapter;
pub use on_tokio::TokioAdapter;

/// A command run on a session's core.
pub type Command = Box<dyn FnOnce(&mut Client, Instant) -> Result<(), client::Error> + Send>;

/// What [`Session::next_event`] found.
#[derive(Debug)]
pub enum Next {
    /// An event of the core.
    Event(Event),
    /// Nothing within the time given.
    TimedOut,
    /// The session is over (its `Closed` event or failure was delivered before).
    Ended,
}

/// An adapter: makes sessions. One value serves one thread; sessions it makes may share
/// state (the mio adapter drives all of them on one poll).
pub trait Adapter {
    /// The adapter's name, part of every test name.
    fn name(&self) -> &'static str;

    /// Connects (and sends the stream header).
    fn connect(
        &self,
        addr: SocketAddr,
        config: Config,
        options: Options,
    ) -> Result<Box<dyn Session>, Error>;
}

/// One connection through an adapter, used as a blocking session.
pub trait Session {
    /// Logs in and waits for the outcome; other events stay queued.
    fn login(&mut self, credentials: Credentials) -> Result<LoggedIn, Error>;

    /// Sends a stanza.
    fn send(&mut self, stanza: Element) -> Result<(), Error>;

    /// Runs a command on the core (the outer error is the transport's).
    fn command(&mut self, f: Command) -> Result<Result<(), client::Error>, Error>;

    /// The next event, waiting at most `wait`. A transport failure is an `Err`; after it,
    /// std and tokio repeat the error (their `Connection`'s contract) and mio answers
    /// `Ended` (its driver forgets the session).
    fn next_event(&mut self, wait: Duration) -> Result<Next, Error>;

    /// Whether the session runs over TLS.
    fn is_tls(&self) -> bool;

    /// Our full JID, once logged in.
    fn jid(&self) -> Option<Jid>;

    /// Logs out and waits for the end; the reason it ended.
    fn close(self: Box<Self>) -> Result<CloseReason, Error>;

    /// Whether the session is over: its core closed or its transport failed (events
    /// may still be queued).
    fn is_closed(&self) -> bool;

    /// Registers an account in band and waits for the outcome (the core then closes the
    /// stream); other events stay queued.
    fn register(&mut self, username: &str, password: &str) -> Result<(), Error>;
}

/// The three adapters, each made in the thread that uses it.
pub fn all() -> [fn() -> Box<dyn Adapter>; 3] {
    [
        || Box::new(StdAdapter),
        || Box::new(MioAdapter::new().expect("a mio poll")),
        || Box::new(TokioAdapter::new().expect("a tokio runtime")),
    ]
}
