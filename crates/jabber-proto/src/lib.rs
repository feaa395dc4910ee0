//! # jabber-proto
//!
//! The sans-IO core of the jabber XMPP client. It never touches a socket, a file, a clock
//! or a random number generator: bytes and the current time go in; bytes to send, typed
//! events and the next deadline come out. Any runtime can drive it — blocking sockets,
//! `mio`, `tokio`, io_uring, a game loop, a microcontroller.
//!
//! Layers, bottom up:
//! - the element tree both directions share, and its serialisation: [`xml`];
//! - the XML stream, framed, tokenised and written: [`stream`];
//! - addresses: [`jid`];
//! - messages, presences and IQs as typed values: [`stanza`];
//! - the connection state machine: [`Client`].
//!
//! ## The loop every runtime writes
//!
//! After **every** input and **every** command, drain the three outputs: bytes to send,
//! events, and the next deadline. Here the "socket" is a scripted server:
//!
//! ```
//! use core::num::NonZeroU64;
//! use jabber_proto::client::{Client, Config, Event, StanzaEvent};
//! use jabber_proto::time::Instant;
//!
//! let server_says: &[&[u8]] = &[
//!     b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
//!       xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='x1'>",
//!     b"<message from='juliet@example.com/balcony' type='chat'><body>Hi!</body></message>",
//!     b"</stream:stream>",
//! ];
//! let mut now = Instant::from_millis(0);
//! let seed = NonZeroU64::new(0x5eed).unwrap(); // a fresh value per connection
//! let mut client = Client::new(Config::new("example.com", seed), now);
//! let mut wire = Vec::new(); // stands for the socket's write side
//! let mut input = server_says.iter();
//! loop {
//!     // 1. Outputs: bytes (partial writes are fine), then events, then the deadline.
//!     while let Some(bytes) = client.poll_transmit() {
//!         let n = bytes.len(); // a real socket may accept fewer
//!         wire.extend_from_slice(&bytes[..n]);
//!         client.advance_transmit(n);
//!     }
//!     while let Some(event) = client.poll_event() {
//!         if let Event::Stanza(StanzaEvent::Message(m)) = &event {
//!             println!("{}: {}", m.from().unwrap(), m.body().unwrap());
//!         }
//!     }
//!     if client.is_finished() {
//!         break;
//!     }
//!     let deadline = client.poll_timeout();
//!     // 2. Wait for input, a command from the application, or the deadline.
//!     // 3. Feed what happened.
//!     // Read only while the core takes input: it holds at most `Config::max_events`
//!     // undrained events, and input that waits at that bound resumes through the timer.
//!     if client.wants_input() {
//!         match input.next() {
//!             Some(bytes) => client.handle_input(now, bytes).expect("input wanted"),
//!             None => client.handle_eof(now),
//!         }
//!     }
//!     if let Some(d) = deadline {
//!         if d <= now {
//!             client.handle_timeout(now);
//!         }
//!     }
//!     now = now + core::time::Duration::from_millis(10);
//! }
//! assert!(wire.ends_with(b"</stream:stream>"));
//! ```
//!
//! ## Guarantees
//! - Every buffer is bounded by [`Limits`]; hostile input gets a typed error and the
//!   matching stream error, never a panic or unbounded memory.
//! - Chunking never changes the outcome: any split of the input yields the same events.
//! - Local misuse is returned to the caller ([`client::Error`]); the peer's faults are
//!   events. The end of a connection is one [`Event::Closed`], and nothing follows it.
//! - The event queue is bounded ([`Config::max_events`]): an application that stops
//!   draining stops the parsing, never grows memory.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod client;
pub mod console;
pub mod features;
pub mod jid;
mod names;
pub mod negotiation;
pub mod ns;
pub mod replay;
pub mod stanza;
pub mod stream;
pub mod time;
pub mod utc;
pub mod xml;

pub use client::{Client, Config, Event};
pub use stream::Limits;
