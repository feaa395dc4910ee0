//! Transport settings: what the core does not decide.

use std::time::Duration;

/// Settings of the TCP transport. The protocol's settings (timeouts of the stream, the
/// XMPP keepalive, limits) are in [`Config`](crate::Config).
///
/// ```
/// use std::time::Duration;
/// use jabber_std::Options;
/// let mut options = Options::default();
/// options.connect_timeout = Duration::from_secs(3);
/// options.tcp_keepalive = None;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// How long one connection attempt may take, per resolved address. Default 10 s.
    /// (Resolving the name itself is not bounded by it.)
    pub connect_timeout: Duration,
    /// TCP keepalive: after this long without traffic the kernel probes the peer. `None`
    /// leaves the system's setting (usually off). Default 120 s. It complements the
    /// core's own keepalive ([`Config::keepalive_interval`](crate::Config)): it costs no
    /// bytes at the XMPP level and keeps idle NAT entries alive.
    pub tcp_keepalive: Option<Duration>,
    /// Time between two TCP keepalive probes, where the platform allows setting it.
    /// Default 30 s.
    pub tcp_keepalive_interval: Duration,
    /// A write that makes no progress for this long fails the connection with
    /// [`ErrorKind::TimedOut`](std::io::ErrorKind::TimedOut). `None` lets a write block
    /// as long as the kernel does. Default 60 s.
    pub write_timeout: Option<Duration>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            connect_timeout: Duration::from_secs(10),
            tcp_keepalive: Some(Duration::from_secs(120)),
            tcp_keepalive_interval: Duration::from_secs(30),
            write_timeout: Some(Duration::from_secs(60)),
        }
    }
}
