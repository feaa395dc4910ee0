//! Connection settings.

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use crate::Limits;

/// Settings of one connection. Start from [`Config::new`] and change fields.
///
/// ```
/// use core::time::Duration;
/// use jabber_proto::client::Config;
/// let mut config = Config::new("example.com");
/// config.iq_timeout = Duration::from_secs(30);
/// config.seed = 0x5eed;
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The server's domain: the `to` of our stream header.
    pub domain: String,
    /// Bounds on what the server can make us buffer.
    pub limits: Limits,
    /// Seeds the ids of the IQs we send, so runs are reproducible and two connections do
    /// not reuse each other's ids. Give each connection a different value.
    pub seed: u64,
    /// How long a sent IQ waits for its reply before an [`IqTimeout`](super::Event::IqTimeout)
    /// event. Default 60 s.
    pub iq_timeout: Duration,
    /// How long [`close`](super::Client::close) waits for the server to close its side.
    /// Default 10 s.
    pub close_timeout: Duration,
    /// Send `<?xml version='1.0'?>` before the stream header. Default true.
    pub send_declaration: bool,
    /// The `version` attribute of our stream header; `None` for a classic stream.
    /// Default `Some("1.0")`.
    pub version: Option<String>,
    /// The `xml:lang` of our stream header. Default none.
    pub lang: Option<String>,
    /// Namespaces of incoming IQ requests the application answers
    /// ([`IqRequest`](super::Event::IqRequest) events). Requests in any other namespace
    /// get a `service-unavailable` error reply from the core (RFC 6120 §8.4).
    pub iq_namespaces: Vec<String>,
}

impl Config {
    /// Defaults for a connection to `domain`.
    pub fn new(domain: &str) -> Config {
        Config {
            domain: String::from(domain),
            limits: Limits::default(),
            seed: 0,
            iq_timeout: Duration::from_secs(60),
            close_timeout: Duration::from_secs(10),
            send_declaration: true,
            version: Some(String::from("1.0")),
            lang: None,
            iq_namespaces: Vec::new(),
        }
    }
}
