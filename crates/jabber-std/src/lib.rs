//! # jabber-std
//!
//! Drives the [`jabber_proto`] core over a blocking [`std::net::TcpStream`], with direct
//! TLS by default (through jabber-net's [`Link`](jabber_net::Link), the TLS pump all
//! adapters share). The adapter holds no protocol logic: it moves bytes between the
//! socket and the core, feeds it the time, and sleeps in `read` until data arrives or
//! the core's next deadline passes. Every decision — login, keepalive, dead-peer
//! detection, closing — is the core's.
//!
//! ```no_run
//! use jabber_std::{Config, Connection, Credentials, Event, StanzaEvent};
//!
//! fn main() -> Result<(), jabber_std::Error> {
//!     // Direct TLS (port 5223), the certificate checked for "example.com".
//!     let mut conn = Connection::connect("example.com:5223", Config::new("example.com", jabber_std::fresh_seed()))?;
//!     let me = conn.login(Credentials::new("alice", "secret", "laptop"))?;
//!     println!("logged in as {}", me.jid);
//!     while let Some(event) = conn.next_event()? {
//!         match event {
//!             Event::Stanza(StanzaEvent::Message(m)) => println!("{:?}: {:?}", m.from(), m.body()),
//!             Event::Closed(reason) => println!("closed: {reason}"),
//!             _ => {}
//!         }
//!     }
//!     Ok(())
//! }
//! ```
//!
//! ## How it works
//!
//! [`Connection`] owns the socket, a [`Client`] and a queue of events. After every input
//! (bytes read, end of input, a deadline passed) and every command it drains the core:
//! it writes all pending bytes, moves the events into its queue and re-arms the read
//! timeout from the link's [`poll_timeout`](jabber_net::Link::poll_timeout) (the core's
//! [`Client::poll_timeout`], or the write timeout of bytes waiting). The adapter is the
//! one that reads the system's clock, and hands its time to the link with every call
//! ([`jabber_net::Clock`] maps it to the core's [`jabber_proto::time::Instant`]:
//! milliseconds since the TCP connection was established).
//!
//! A connection ends in one of two ways:
//! - the core reports [`Event::Closed`]: the adapter flushes the closing bytes, shuts the
//!   socket down, delivers the event, and [`Connection::next_event`] returns `Ok(None)`
//!   from then on;
//! - the transport fails (a read or write error, a write that makes no progress within
//!   the write timeout, or TLS): the error is returned as [`Error::Io`] or [`Error::Tls`],
//!   the socket is shut down, events that were already queued (also those from the same
//!   input) can still be taken, and every later call returns an error of the same kind.
//!
//! Anything the core offers beyond the shortcuts here (IQs, registration, password
//! change, ...) is reached through [`Connection::with_client`], which runs the command
//! and then drains.
#![forbid(unsafe_code)]

mod connection;
pub mod files;
mod session;

pub use connection::{Connection, Events, Next};
pub use files::{FileServer, download, upload};
pub use jabber_net::{Backoff, Item, Reconnect, Resumed};
pub use jabber_net::{Error, LoggedIn, Options, Tls, fresh_seed};
pub use session::Session;

/// The core this crate drives, for everything not re-exported here.
pub use jabber_proto;

pub use jabber_proto::client::{
    AccountEvent, Client, CloseReason, Config, Event, IqEvent, RosterEvent, SessionEvent,
    StanzaEvent, StreamEvent,
};
pub use jabber_proto::client::{PresenceEvent, SubscriptionEvent};
pub use jabber_proto::features::roster::Roster;
pub use jabber_proto::jid::Jid;
pub use jabber_proto::negotiation::auth::{Credentials, LoginError};
pub use jabber_proto::stanza::{Message, MessageType, Presence};
pub use jabber_proto::xml::Element;

// The README's examples (the adapter and the core's drain loop) are compiled as doctests
// here, where both crates are in reach, so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
