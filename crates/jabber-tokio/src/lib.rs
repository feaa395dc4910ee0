//! # jabber-tokio
//!
//! Drives the [`jabber_proto`] core over tokio. The adapter holds no protocol logic: it
//! moves bytes between a [`tokio::net::TcpStream`] and the core (through jabber-net's
//! [`Link`](jabber_net::Link), which adds direct TLS — the same TLS pump as the other
//! adapters), feeds it the time, and sleeps until data arrives, a [`Sender`] queues a
//! command, or the core's next deadline passes. Every decision — login, keepalive,
//! dead-peer detection, closing — is the core's.
//!
//! ```no_run
//! use jabber_tokio::{Config, Connection, Credentials, Event, Jid, Message, MessageType, StanzaEvent};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), jabber_tokio::Error> {
//!     // Direct TLS (port 5223), the certificate checked for "example.com".
//!     let mut conn = Connection::connect("example.com:5223", Config::new("example.com", jabber_tokio::fresh_seed())).await?;
//!     let me = conn.login(Credentials::new("alice", "secret", "laptop")).await?;
//!     println!("logged in as {}", me.jid);
//!
//!     // Another task sends while this one reads the events.
//!     let sender = conn.sender();
//!     tokio::spawn(async move {
//!         let bob = Jid::parse("bob@example.com").expect("a valid address");
//!         let hello = Message::new(MessageType::Chat, &bob, "hello").expect("a valid message");
//!         if let Err(e) = sender.send(hello).await {
//!             eprintln!("not sent: {e}");
//!         }
//!     });
//!
//!     while let Some(event) = conn.next_event().await? {
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
//! [`Connection`] owns the socket, the core and a queue of events, and spawns nothing:
//! it works while it is polled — by [`Connection::next_event`], its
//! [`Stream`](futures_core::Stream) of events, or a call that waits
//! ([`login`](Connection::login), [`register`](Connection::register),
//! [`flush`](Connection::flush), [`close`](Connection::close)). Each poll runs the
//! commands [`Sender`]s queued, writes what the core has to send (partial writes
//! advance it), reads what arrived, fires the core's timers with a
//! [`tokio::time::Sleep`] re-armed to the core's next deadline, and queues the core's
//! events; it returns `Pending` only when the socket, the timer and the command queue
//! all have the task's waker. The adapter reads the system's clock and hands the time
//! to the link with every call; the core's clock ([`jabber_proto::time::Instant`],
//! milliseconds, mapped by [`jabber_net::Clock`]) counts from the moment the TCP
//! connection was established.
//!
//! Since all of that state is in the `Connection`, its futures can be dropped at any
//! point without losing a byte or an event: `next_event` is cancel-safe and fits
//! `tokio::select!` and `tokio::time::timeout` as it is.
//!
//! A connection ends in one of two ways:
//! - the core reports [`Event::Closed`]: the adapter writes the closing bytes, shuts the
//!   socket down, delivers the event, and [`Connection::next_event`] returns `Ok(None)`
//!   (the stream ends) from then on;
//! - the socket fails (a read or write error, a TLS error, no progress within the write
//!   timeout): the events queued before come first, then the error as [`Error::Io`] or
//!   [`Error::Tls`]; the socket is shut down and every later call returns an error of
//!   the same kind (the stream ends after the first).
//!
//! Either way the [`Sender`]s' calls fail with [`Error::Client`] from then on. Dropping
//! the `Connection` closes the socket without logging out.
//!
//! ## Over WebSocket
//!
//! [`WebSocketConnection`] runs the same core in its WebSocket framing (RFC 7395) over
//! `ws:` or `wss:`, one message per element, with the same login and events;
//! [`discover_websocket`] finds a domain's endpoint from its `host-meta` (XEP-0156).
//!
//! Anything the core offers beyond the shortcuts here (IQs, password change, ...) is
//! reached through [`Connection::with_client`] in the task that polls the connection, and
//! [`Sender::command`] in the others.
#![forbid(unsafe_code)]

mod connection;
pub mod files;
mod sender;
mod session;
mod websocket;

pub use connection::Connection;
pub use files::{FileServer, download, upload};
pub use jabber_net::{Backoff, Item, Reconnect, Resumed};
pub use jabber_net::{Error, LoggedIn, Options, Tls, fresh_seed};
pub use sender::Sender;
pub use session::Session;
pub use websocket::{WebSocketConnection, discover_websocket, discover_websocket_at};

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
