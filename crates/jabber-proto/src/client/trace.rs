//! Console entries as `tracing` events, with the `tracing` feature; without it, nothing.
//!
//! Each entry is one event at `TRACE` level with target `jabber_proto::console`, naming
//! the connection by [`Config::name`], or by its seed in hexadecimal.

use super::Config;
use crate::console::ConsoleEntry;

/// Whether a subscriber wants console entries now.
#[cfg(feature = "tracing")]
pub(crate) fn enabled() -> bool {
    tracing::enabled!(target: "jabber_proto::console", tracing::Level::TRACE)
}

/// Without the feature, no one wants them.
#[cfg(not(feature = "tracing"))]
pub(crate) fn enabled() -> bool {
    false
}

/// Traces one entry (already masked).
#[cfg(feature = "tracing")]
pub(crate) fn entry(config: &Config, entry: &ConsoleEntry) {
    tracing::trace!(
        target: "jabber_proto::console",
        connection = %config.connection_name(),
        direction = entry.direction.as_str(),
        time_ms = entry.time.as_millis(),
        xml = %entry.xml,
    );
}

#[cfg(not(feature = "tracing"))]
pub(crate) fn entry(_config: &Config, _entry: &ConsoleEntry) {}

/// The last element traced was refused (the send buffer was full) and not sent.
#[cfg(feature = "tracing")]
pub(crate) fn refused(config: &Config) {
    if enabled() {
        tracing::trace!(
            target: "jabber_proto::console",
            connection = %config.connection_name(),
            "the element traced last was refused and not sent"
        );
    }
}

#[cfg(not(feature = "tracing"))]
pub(crate) fn refused(_config: &Config) {}
