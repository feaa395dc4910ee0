//! What a page gives to connect: the WebSocket URL, the account and its password, turned
//! into the core's [`Config`] and [`Credentials`].

use std::fmt;
use std::num::NonZeroU64;

use jabber_proto::client::Config;
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::stream::Framing;

/// The resource a session binds when the page names none.
pub const DEFAULT_RESOURCE: &str = "web";

/// The connection a page asks for (`new JabberClient({url, jid, password, ...})`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The server's WebSocket endpoint: `wss://host/path`, or `ws://` with
    /// [`allow_insecure`](Self::allow_insecure).
    pub url: String,
    /// The account, `user@domain` (a resource given here is the one asked for).
    pub jid: String,
    /// The account's password.
    pub password: String,
    /// The resource to bind when [`jid`](Self::jid) has none; [`DEFAULT_RESOURCE`] when
    /// `None`.
    pub resource: Option<String>,
    /// Accept a `ws://` URL: the connection is not encrypted, so the password proof and
    /// every stanza cross the network in the clear. For a server on loopback (tests,
    /// development). Default false.
    pub allow_insecure: bool,
}

/// Why [`Options`] make no connection; the page learns it from the constructor or
/// `connect()`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptionsError {
    /// The URL is neither `wss://` nor `ws://`.
    NotWebSocket,
    /// A `ws://` URL without [`Options::allow_insecure`].
    Insecure,
    /// The account is not a valid `user@domain` address.
    BadJid(String),
}

impl fmt::Display for OptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionsError::NotWebSocket => f.write_str("the url must start with wss:// or ws://"),
            OptionsError::Insecure => {
                f.write_str("a ws:// url is unencrypted: set allowInsecure to use it anyway")
            }
            OptionsError::BadJid(why) => write!(f, "the jid is not user@domain: {why}"),
        }
    }
}

impl std::error::Error for OptionsError {}

/// Whether `url` is encrypted (`wss://`), or `None` when it is no WebSocket URL. The
/// scheme is case-insensitive (RFC 3986 §3.1).
fn encrypted(url: &str) -> Option<bool> {
    let scheme = url.split_once("://")?.0;
    if scheme.eq_ignore_ascii_case("wss") {
        Some(true)
    } else if scheme.eq_ignore_ascii_case("ws") {
        Some(false)
    } else {
        None
    }
}

impl Options {
    /// The core's configuration and the login's credentials for these options, with
    /// `seed` for the session's ids (the browser draws it from `crypto.getRandomValues`).
    ///
    /// The TLS of a `wss://` connection is the browser's, so the core is told the
    /// transport is encrypted; over `ws://` (allowed explicitly) nothing is, and the
    /// core must not wait for a STARTTLS a WebSocket never offers (RFC 7395 §3.6).
    pub fn session(&self, seed: NonZeroU64) -> Result<(Config, Credentials, Jid), OptionsError> {
        let secure = encrypted(&self.url).ok_or(OptionsError::NotWebSocket)?;
        if !secure && !self.allow_insecure {
            return Err(OptionsError::Insecure);
        }
        let jid = Jid::parse(&self.jid).map_err(|e| OptionsError::BadJid(e.to_string()))?;
        let Some(user) = jid.local() else {
            return Err(OptionsError::BadJid("no user part".into()));
        };
        let resource = jid
            .resource()
            .or(self.resource.as_deref())
            .unwrap_or(DEFAULT_RESOURCE);
        let credentials = Credentials::new(user, &self.password, resource);
        let mut config = Config::new(jid.domain(), seed);
        config.framing = Framing::WebSocket;
        config.transport_encrypted = secure;
        config.require_tls = secure;
        Ok((config, credentials, jid.into_bare()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(url: &str, jid: &str) -> Options {
        Options {
            url: url.into(),
            jid: jid.into(),
            password: "secret".into(),
            resource: None,
            allow_insecure: false,
        }
    }

    const SEED: NonZeroU64 = NonZeroU64::MIN;

    #[test]
    fn wss_is_an_encrypted_transport() {
        let (config, credentials, jid) = options("WSS://example.com/ws", "alice@example.com")
            .session(SEED)
            .expect("valid");
        assert!(config.transport_encrypted);
        assert_eq!(config.framing, Framing::WebSocket);
        assert_eq!(config.domain, "example.com");
        assert_eq!(credentials.username, "alice");
        assert_eq!(credentials.resource, DEFAULT_RESOURCE);
        assert_eq!(jid.as_str(), "alice@example.com");
    }

    #[test]
    fn ws_needs_to_be_allowed() {
        let mut o = options("ws://127.0.0.1:5280/ws", "alice@localhost");
        assert_eq!(o.session(SEED).err(), Some(OptionsError::Insecure));
        o.allow_insecure = true;
        let (config, ..) = o.session(SEED).expect("allowed");
        assert!(!config.transport_encrypted);
        assert!(!config.require_tls);
    }

    #[test]
    fn other_schemes_and_bad_addresses_are_refused() {
        let refused = |url, jid| options(url, jid).session(SEED).err();
        assert_eq!(
            refused("https://example.com/ws", "a@example.com"),
            Some(OptionsError::NotWebSocket)
        );
        assert_eq!(
            refused("example.com", "a@example.com"),
            Some(OptionsError::NotWebSocket)
        );
        assert!(matches!(
            refused("wss://example.com", "example.com"),
            Some(OptionsError::BadJid(_))
        ));
        assert!(matches!(
            refused("wss://example.com", "a@@example.com"),
            Some(OptionsError::BadJid(_))
        ));
    }

    #[test]
    fn the_resource_comes_from_the_jid_then_the_option() {
        let mut o = options("wss://example.com", "alice@example.com/phone");
        o.resource = Some("tab".into());
        assert_eq!(o.session(SEED).expect("valid").1.resource, "phone");
        o.jid = "alice@example.com".into();
        assert_eq!(o.session(SEED).expect("valid").1.resource, "tab");
    }
}
