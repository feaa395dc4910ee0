//! # jabber-net
//!
//! What the socket adapters (`jabber-std`, `jabber-mio`, `jabber-tokio`) share, so that
//! each rule lives in one place:
//!
//! - [`Link`]: the [`Client`] with an optional TLS session in front of it. rustls is
//!   sans-IO like the core, so the link is too, and has the core's contract: bytes read
//!   from the socket go in ([`Link::handle_input`], [`Link::handle_eof`],
//!   [`Link::handle_reset`]), bytes for the socket, events and the next deadline come
//!   out ([`Link::poll_transmit`], [`Link::poll_event`], [`Link::poll_timeout`]), and
//!   every input and command takes the current time as the core's
//!   [`Instant`](jabber_proto::time::Instant). It reads no clock: its own timers — the
//!   write timeout of bytes the socket does not take, the [`LINGER`] time of the last
//!   bytes — run on the caller's time, so a test drives it on a virtual clock (see
//!   [`Link`]'s example). Every adapter moves bytes the same way, with or without TLS.
//! - [`Clock`]: for the adapters, which read the system's monotonic clock: the mapping
//!   from it to the core's `Instant` and back (holdable while a non-blocking connect is
//!   under way).
//! - [`Options`] and [`Tls`]: transport settings (connect timeout, TCP keepalive, write
//!   timeout, direct TLS with certificate verification on by default).
//! - [`Error`], [`is_reset`] and the outcome helpers of the blocking-style calls (`login`,
//!   `register`).
//!
//! - [`srv`] and [`resolve`]: where to connect for a domain (SRV records, RFC 2782
//!   order, XEP-0368 direct TLS, the `domain:5222` fallback).
//!
//! It holds no protocol logic: that is the core's.
#![forbid(unsafe_code)]

mod capture;
mod cert_hash;
mod clock;
mod error;
pub mod host_meta;
mod link;
mod options;
mod outcome;
mod reconnect;
pub mod resolve;
mod seed;
mod socket;
pub mod srv;
mod tls;
pub mod trace;
pub mod transfer;

pub use capture::CaptureFile;
pub use clock::Clock;
pub use error::Error;
pub use link::{LINGER, Link, channel_bindings};
pub use options::Options;
pub use outcome::{
    LoggedIn, filled_registration_form, login_outcome, registration_failure, registration_outcome,
    write_timed_out,
};
pub use outcome::{Resumed, is_resume_outcome, resume_outcome};
pub use reconnect::{Backoff, Item, Reconnect, Recovery, Step, prefer};
pub use seed::fresh_seed;
pub use socket::{configure_socket, is_reset};
pub use tls::Tls;

/// rustls, for the certificate types [`Tls`] takes.
pub use rustls;

pub use jabber_proto::client::Client;
