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
    let seed = config.seed.get();
    let name = config.name.as_deref();
    tracing::trace!(
        target: "jabber_proto::console",
        connection = %Name { name, seed },
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
        let seed = config.seed.get();
        let name = config.name.as_deref();
        tracing::trace!(
            target: "jabber_proto::console",
            connection = %Name { name, seed },
            "the element traced last was refused and not sent"
        );
    }
}

#[cfg(not(feature = "tracing"))]
pub(crate) fn refused(_config: &Config) {}

/// The connection's name, or its seed, without allocating.
#[cfg(feature = "tracing")]
struct Name<'a> {
    name: Option<&'a str>,
    seed: u64,
}

#[cfg(feature = "tracing")]
impl core::fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.name {
            Some(name) => f.write_str(name),
            None => write!(f, "{:016x}", self.seed),
        }
    }
}
