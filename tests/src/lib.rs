//! Cross-crate and real-server tests for jabber; the tests live in `tests/tests/`.
//!
//! The library part is the harness those tests share: [`servers`] runs real
//! XMPP servers (ejabberd, prosody) on loopback for the length of a test.
#![forbid(unsafe_code)]

pub mod servers;

pub use servers::{Server, ServerKind, free_port};
