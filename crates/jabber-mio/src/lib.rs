//! # jabber-mio
//!
//! Many XMPP sessions on one [`mio::Poll`]: a [`Driver`] owns the poll, a socket, a
//! [`Link`](jabber_net::Link) (the core, with direct TLS unless turned off) and a token
//! per session, and one timer queue fed by every session's deadline. The adapter holds
//! no protocol logic: it moves bytes, feeds the time and sleeps until the earliest
//! deadline or the next readiness event.
//!
//! ```no_run
//! use jabber_mio::{Config, Credentials, Driver, Event, Options, Output, SessionEvent};
//!
//! fn main() -> Result<(), jabber_mio::Error> {
//!     let mut driver = Driver::new()?;
//!     let addr = "127.0.0.1:5223".parse().expect("address");
//!     let alice = driver.connect(addr, Config::new("example.com", jabber_mio::fresh_seed()), &Options::default())?;
//!     driver.login(alice, Credentials::new("alice", "secret", "mio"))?;
//!     loop {
//!         driver.poll(None)?;
//!         while let Some((id, output)) = driver.poll_output() {
//!             match output {
//!                 Output::Event(Event::Session(SessionEvent::Ready { jid, .. })) => println!("{id:?}: {jid}"),
//!                 Output::Event(Event::Closed(reason)) => {
//!                     println!("{id:?} closed: {reason}");
//!                     return Ok(());
//!                 }
//!                 Output::Failed(e) => return Err(e),
//!                 _ => {}
//!             }
//!         }
//!     }
//! }
//! ```
//!
//! ## How it works
//!
//! - Connecting is non-blocking; [`Output::Connected`] tells when the TCP connection is
//!   up, and the connect timeout is one of the session's deadlines.
//! - Sockets are registered readable always and writable only while bytes wait for
//!   them: a partial write leaves the rest in the session until mio says the socket
//!   can take more.
//! - Each session's next deadline (its core's, or the write timeout) is pushed into one
//!   binary heap; entries that a later deadline replaced are skipped when they come up.
//! - After every input and every command the session is drained, as the core requires:
//!   bytes written, events queued as [`Output`]s, the deadline re-armed.
//! - Reading is edge-triggered (until the socket has nothing more), within a budget per
//!   session and turn, so that a peer that sends fast cannot starve the others.
//! - A session ends with [`Output::Event`]`(Event::Closed(_))` (the core's verdict) or
//!   [`Output::Failed`] (the socket or TLS failed), after the events its core produced
//!   before. Its [`SessionId`] is then unknown to the driver, and commands on it return
//!   [`Error::Client`]`(Closed)`. The socket may stay a little longer to deliver the last
//!   bytes ([`jabber_net::LINGER`] at most), except after a dead peer or an unreading
//!   one, which are dropped at once. A session of [`Driver::connect_reconnecting`]
//!   outlives a lost connection instead (see below) and ends with `Event::Closed` or
//!   [`Output::Reconnection`]`(Item::GaveUp)`.
//! - The core's clock stands still while connecting: the connect timeout bounds that
//!   phase, and the core's own timers start when the connection is up.
//!
//! ## Reconnecting sessions
//!
//! [`Driver::connect_reconnecting`] makes a session that outlives its connections: when
//! one is lost after the login, the [`SessionId`] stays valid, the backoff delay is a
//! deadline in the same timer queue (the loop never sleeps for it), and each attempt
//! resumes the stream-managed session (XEP-0198: no new binding, roster or presence) or
//! logs in anew. The steps come as [`Output::Reconnection`] items, decided by
//! [`jabber_net::Recovery`] as in the other adapters. Stanzas sent meanwhile wait with the
//! session to resume (`Config::sm_max_unacked` bounds them);
//! [`stop_reconnecting`](Driver::stop_reconnecting) and [`close`](Driver::close) end it.
//!
//! ```no_run
//! use std::time::Duration;
//! use jabber_mio::{Backoff, Config, Credentials, Driver, Event, Item, Options, Output};
//!
//! fn main() -> Result<(), jabber_mio::Error> {
//!     let mut driver = Driver::new()?;
//!     let addr = "127.0.0.1:5223".parse().expect("address");
//!     let mut config = Config::new("example.com", jabber_mio::fresh_seed());
//!     config.version = Some("1.0".into()); // stream management needs XMPP 1.0
//!     let backoff = Backoff { max_attempts: Some(20), ..Backoff::default() };
//!     let creds = Credentials::new("alice", "secret", "mio");
//!     let _alice = driver.connect_reconnecting(&[addr], config, &Options::default(), creds, backoff)?;
//!     loop {
//!         driver.poll(Some(Duration::from_secs(30)))?;
//!         while let Some((id, output)) = driver.poll_output() {
//!             match output {
//!                 Output::Reconnection(Item::Attempt { attempt, delay }) => {
//!                     println!("{id:?}: attempt {attempt} in {delay:?}");
//!                 }
//!                 Output::Reconnection(Item::Reconnected(how)) => println!("{id:?} back: {how:?}"),
//!                 Output::Reconnection(Item::GaveUp) | Output::Event(Event::Closed(_)) => {
//!                     return Ok(());
//!                 }
//!                 // Before the first login, or once reconnection stopped.
//!                 Output::Failed(e) => return Err(e),
//!                 _ => {}
//!             }
//!         }
//!     }
//! }
//! ```
#![forbid(unsafe_code)]

mod driver;
mod session;
mod timers;

pub use driver::{Driver, Output, SessionId};

pub use jabber_net::{Backoff, Item, Resumed};
pub use jabber_net::{Error, LoggedIn, Options, Tls, fresh_seed};
/// The core this crate drives, for everything not re-exported here.
pub use jabber_proto;
pub use jabber_proto::client::{
    AccountEvent, Client, CloseReason, Config, Event, IqEvent, RosterEvent, SessionEvent,
    StanzaEvent, StreamEvent,
};
pub use jabber_proto::client::{PresenceEvent, SubscriptionEvent};
pub use jabber_proto::negotiation::auth::Credentials;
