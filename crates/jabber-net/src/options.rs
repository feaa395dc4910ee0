//! Transport settings: what the core does not decide.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::Tls;

/// Settings of the transport, the same for every adapter. The protocol's settings
/// (stream timeouts, the XMPP keepalive, limits) are in the core's `Config`.
///
/// By default the connection is direct TLS (the classic port 5223: TLS from the first
/// byte) with the server's certificate checked against the usual root store. Turn it off
/// for a plaintext port with [`Options::plain`] or `options.tls = None`.
///
/// ```
/// use std::time::Duration;
/// use jabber_net::Options;
/// let mut options = Options::default();
/// options.connect_timeout = Duration::from_secs(3);
/// options.tcp_keepalive = None;
/// assert!(options.tls.is_some());
/// assert!(Options::plain().tls.is_none());
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// How long one connection attempt may take, per resolved address. Default 10 s.
    /// (Resolving the name itself is not bounded by it.)
    pub connect_timeout: Duration,
    /// TCP keepalive: after this long without traffic the kernel probes the peer. `None`
    /// leaves the system's setting (usually off). Default 120 s. It complements the
    /// core's own keepalive: it costs no bytes at the XMPP level and keeps idle NAT
    /// entries alive.
    pub tcp_keepalive: Option<Duration>,
    /// Time between two TCP keepalive probes, where the platform allows setting it.
    /// Default 30 s.
    pub tcp_keepalive_interval: Duration,
    /// Bytes that wait this long for the socket to take any of them fail the connection
    /// with [`ErrorKind::TimedOut`](std::io::ErrorKind::TimedOut). `None`: no limit.
    /// Default 60 s.
    pub write_timeout: Option<Duration>,
    /// Direct TLS, or `None` for plain TCP. Default: on, see [`Tls`].
    pub tls: Option<Tls>,
    /// On plain TCP, the TLS settings for STARTTLS, which the core negotiates on an
    /// XMPP 1.0 stream whenever the server offers it (and, with
    /// `Config::require_tls`, insists on). `None` refuses STARTTLS: the connection then
    /// fails with an [`Error::Tls`](crate::Error::Tls) when the core asks for it. Default: the usual roots, like [`tls`](Self::tls).
    pub starttls: Option<Tls>,
    /// Write a capture of the session to this file (see
    /// [`jabber_proto::replay`]): everything received, the commands with secrets masked,
    /// what was sent, every event, with their times and the config's seed. Default none.
    /// Received bytes are kept as they came (after TLS), so a server that echoes a
    /// secret back puts it in the file.
    pub capture: Option<PathBuf>,
    /// The DNS servers a server lookup (`connect_domain`) asks; empty (the default): the
    /// system's (`/etc/resolv.conf`).
    pub dns_servers: Vec<SocketAddr>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            connect_timeout: Duration::from_secs(10),
            tcp_keepalive: Some(Duration::from_secs(120)),
            tcp_keepalive_interval: Duration::from_secs(30),
            write_timeout: Some(Duration::from_secs(60)),
            tls: Some(Tls::default()),
            starttls: Some(Tls::default()),
            capture: None,
            dns_servers: Vec::new(),
        }
    }
}

impl Options {
    /// The defaults without direct TLS: plain TCP, e.g. to port 5222. On an XMPP 1.0
    /// stream (the core's default) the core upgrades it with STARTTLS (see
    /// [`starttls`](Self::starttls)) and, with `Config::require_tls`, logs in only then.
    /// On a classic stream passwords cross the network readable unless the core sends a
    /// digest; the core refuses plaintext passwords unless its `Config::allow_plaintext`
    /// says otherwise.
    pub fn plain() -> Options {
        Options {
            tls: None,
            ..Options::default()
        }
    }

    /// Plain TCP upgraded with STARTTLS configured by `tls` (port 5222, XMPP 1.0).
    pub fn starttls(tls: Tls) -> Options {
        Options {
            tls: None,
            starttls: Some(tls),
            ..Options::default()
        }
    }

    /// The defaults with TLS configured by `tls`.
    pub fn tls(tls: Tls) -> Options {
        Options {
            tls: Some(tls),
            ..Options::default()
        }
    }
}
