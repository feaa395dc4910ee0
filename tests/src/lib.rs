//! Cross-crate and real-server tests for jabber; the tests live in `tests/tests/`.
//!
//! The library part is the harness those tests share: [`servers`] runs real
//! XMPP servers (ejabberd, prosody) on loopback for the length of a test,
//! and [`certs`] holds the throw-away CA their direct-TLS listeners use; [`scripted`]
//! plays a server script on loopback for the adapters' I/O tests, and [`adapters`] is
//! one interface over the three adapters.
#![forbid(unsafe_code)]

pub mod adapters;
pub mod certs;
pub mod dns;
pub mod http_upload;
pub mod runner;
pub mod scenario;
pub mod scripted;
pub mod servers;
pub mod strip_tls;
mod watchdog;
pub mod ws_listeners;

pub use certs::TestCa;
pub use servers::{PasswordStorage, Server, ServerKind, free_port};
pub mod browser;
pub mod http_script;
