//! # jabber-proto
//!
//! The sans-IO core of the jabber XMPP client. It never touches a socket, a file, a clock
//! or a random number generator: bytes and the current time go in; bytes to send, typed
//! events and the next deadline come out. Any runtime can drive it — blocking sockets,
//! `mio`, `tokio`, io_uring, a game loop, a microcontroller.
//!
//! Layers, bottom up:
//! - [`stream`]: framing, tokenising and writing the XML stream ([`stream::StreamParser`],
//!   [`stream::Writer`]);
//! - [`xml`]: the element tree both directions share;
//! - [`jid`]: addresses;
//! - [`stanza`]: messages, presences and IQs as typed values;
//! - [`client`]: the connection state machine ([`Client`]).
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod client;
pub mod jid;
mod names;
mod limits;
pub mod ns;
pub mod stanza;
pub mod stream;
pub mod time;
pub mod xml;

pub use client::{Client, Config, Event};
pub use limits::Limits;
