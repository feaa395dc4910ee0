//! # jabber-net
//!
//! What the socket adapters (`jabber-std`, `jabber-mio`, `jabber-tokio`) share, so that
//! each rule lives in one place:
//!
//! - [`Link`]: the [`Client`] with an optional TLS session in front of it. rustls is
//!   sans-IO like the core, so the link is too: bytes read from the socket go in,
//!   bytes for the socket come out. Every adapter moves bytes the same way, with or
//!   without TLS.
//! - [`Options`] and [`Tls`]: transport settings (connect timeout, TCP keepalive, direct
//!   TLS with certificate verification on by default).
//! - [`Clock`]: the mapping between the system's monotonic clock and the core's
//!   [`Instant`](jabber_proto::time::Instant).
//! - [`Error`] and the outcome helpers of the blocking-style calls (`login`, `register`).
//!
//! It holds no protocol logic: that is the core's.
#![forbid(unsafe_code)]

mod clock;
mod error;
mod link;
mod options;
mod outcome;
mod seed;
mod socket;
mod tls;

pub use clock::Clock;
pub use error::Error;
pub use link::{LINGER, Link};
pub use options::Options;
pub use outcome::{
    LoggedIn, filled_registration_form, is_login_outcome, is_registration_outcome, login_outcome,
    registration_failure, registration_outcome, write_timed_out,
};
pub use seed::fresh_seed;
pub use socket::configure_socket;
pub use tls::Tls;

/// rustls, for the certificate types [`Tls`] takes.
pub use rustls;

pub use jabber_proto::client::Client;
