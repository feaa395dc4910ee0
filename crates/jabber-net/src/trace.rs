//! The link's and the adapters' decisions as `tracing` events (the `tracing` feature):
//! connect, the TLS handshake's result, the close, linger, the write timeout, capture
//! failures. Each names the connection as the core's console does
//! ([`Config::connection_name`]). Without the feature, these do nothing.

// Without the feature the arguments go unread.
#![cfg_attr(not(feature = "tracing"), allow(unused_variables))]

use std::fmt::Display;
use std::net::SocketAddr;

use jabber_proto::client::Config;

#[cfg(feature = "tracing")]
macro_rules! event {
    ($level:ident, $config:expr, $($rest:tt)*) => {
        tracing::$level!(target: "jabber_net", connection = %$config.connection_name(), $($rest)*)
    };
}

#[cfg(not(feature = "tracing"))]
macro_rules! event {
    ($($any:tt)*) => {};
}

/// The transport connected to `addr` (`tls`: direct TLS follows).
pub fn connected(config: &Config, addr: SocketAddr, tls: bool) {
    event!(debug, config, %addr, tls, "connected");
}

/// Connecting failed.
pub fn connect_failed(config: &Config, error: &dyn Display) {
    event!(warn, config, %error, "connect failed");
}

/// The TLS handshake completed.
pub(crate) fn tls_established(config: &Config, version: &dyn Display, suite: &dyn Display) {
    event!(debug, config, %version, %suite, "TLS established");
}

/// TLS failed (a handshake refused, a bad record).
pub(crate) fn tls_failed(config: &Config, error: &dyn Display) {
    event!(warn, config, %error, "TLS failed");
}

/// The core closed; `reason` is why.
pub(crate) fn closed(config: &Config, reason: &dyn Display) {
    event!(debug, config, %reason, "closed");
}

/// The last bytes did not leave within the linger time and were given up.
pub(crate) fn linger_expired(config: &Config, unsent: usize) {
    event!(
        warn,
        config,
        unsent,
        "linger time over: last bytes given up"
    );
}

/// The socket took nothing for the write timeout.
pub(crate) fn write_timed_out(config: &Config, unsent: usize) {
    event!(warn, config, unsent, "write timeout");
}

/// The capture file could not be written; the capture ends.
pub(crate) fn capture_failed(config: &Config, error: &dyn Display) {
    event!(warn, config, %error, "capture file failed; capture stopped");
}
