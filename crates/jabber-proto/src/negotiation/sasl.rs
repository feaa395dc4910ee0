//! SASL in XMPP (RFC 6120 §6): which mechanism to use, the elements that carry it, and
//! the failure conditions. The SCRAM exchange itself is [`scram`](super::scram).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::scram::ScramHash;
use crate::ns;
use crate::xml::{BuildError, Element, ElementRef};

/// A SASL mechanism the client can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mechanism {
    /// SCRAM with this hash; `plus`: with channel binding.
    Scram {
        /// The hash.
        hash: ScramHash,
        /// `-PLUS`: bound to the TLS channel.
        plus: bool,
    },
    /// `PLAIN` (RFC 4616): the password itself, so only over TLS unless allowed.
    Plain,
}

impl Mechanism {
    /// The mechanism's name as the server lists it.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Scram { hash, plus } => hash.mechanism(plus),
            Mechanism::Plain => "PLAIN",
        }
    }

    /// Every mechanism we implement, strongest first: bound SCRAM, then SCRAM by hash,
    /// then PLAIN.
    pub const PREFERENCE: [Mechanism; 7] = [
        Mechanism::Scram {
            hash: ScramHash::Sha512,
            plus: true,
        },
        Mechanism::Scram {
            hash: ScramHash::Sha256,
            plus: true,
        },
        Mechanism::Scram {
            hash: ScramHash::Sha1,
            plus: true,
        },
        Mechanism::Scram {
            hash: ScramHash::Sha512,
            plus: false,
        },
        Mechanism::Scram {
            hash: ScramHash::Sha256,
            plus: false,
        },
        Mechanism::Scram {
            hash: ScramHash::Sha1,
            plus: false,
        },
        Mechanism::Plain,
    ];

    /// The strongest mechanism of `offered` we may use: `-PLUS` only with channel-binding
    /// data (`can_bind`), PLAIN only when `plain_ok` (an encrypted transport, or the
    /// application allowed it).
    pub fn choose(offered: &[String], can_bind: bool, plain_ok: bool) -> Option<Mechanism> {
        Self::PREFERENCE.into_iter().find(|m| {
            let allowed = match m {
                Mechanism::Scram { plus, .. } => !plus || can_bind,
                Mechanism::Plain => plain_ok,
            };
            allowed && offered.iter().any(|o| o == m.name())
        })
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

crate::names::named_enum! {
    /// A SASL failure condition (RFC 6120 §6.5).
    #[non_exhaustive]
    pub enum SaslCondition {
        /// The client aborted.
        Aborted => "aborted",
        /// The account is disabled.
        AccountDisabled => "account-disabled",
        /// The credentials have expired.
        CredentialsExpired => "credentials-expired",
        /// The mechanism needs an encrypted transport.
        EncryptionRequired => "encryption-required",
        /// Bad base64.
        IncorrectEncoding => "incorrect-encoding",
        /// The authorization identity is invalid.
        InvalidAuthzid => "invalid-authzid",
        /// The mechanism is not supported.
        InvalidMechanism => "invalid-mechanism",
        /// The request is malformed.
        MalformedRequest => "malformed-request",
        /// The mechanism is weaker than the server allows.
        MechanismTooWeak => "mechanism-too-weak",
        /// Wrong credentials.
        NotAuthorized => "not-authorized",
        /// A temporary problem on the server: try again later.
        TemporaryAuthFailure => "temporary-auth-failure",
    }
}

/// A channel-binding type (RFC 5056) the transport can give data for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChannelBindingKind {
    /// `tls-exporter` (RFC 9266): keying material exported from a TLS 1.3 session.
    TlsExporter,
    /// `tls-server-end-point` (RFC 5929 §4): the hash of the server's certificate.
    TlsServerEndPoint,
}

impl ChannelBindingKind {
    /// The type's registered name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelBindingKind::TlsExporter => "tls-exporter",
            ChannelBindingKind::TlsServerEndPoint => "tls-server-end-point",
        }
    }
}

/// Channel-binding data from the transport, for the `-PLUS` mechanisms
/// ([`Client::handle_channel_binding`](crate::Client::handle_channel_binding)).
#[derive(Clone, PartialEq, Eq)]
pub struct ChannelBinding {
    /// Its type.
    pub kind: ChannelBindingKind,
    /// The data for it.
    pub data: Vec<u8>,
}

impl fmt::Debug for ChannelBinding {
    // The data identifies the TLS session; logs get its size only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelBinding")
            .field("kind", &self.kind)
            .field("bytes", &self.data.len())
            .finish()
    }
}

/// A `<failure/>` from the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaslFailure {
    /// The condition; `None` for one we do not know.
    pub condition: Option<SaslCondition>,
    /// The server's explanation.
    pub text: Option<String>,
}

impl SaslFailure {
    /// Reads a `<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>`.
    pub fn from_element(failure: ElementRef<'_>) -> SaslFailure {
        let condition = failure
            .children()
            .filter(|c| c.ns() == ns::SASL && c.name() != "text")
            .find_map(|c| SaslCondition::from_name(c.name()));
        let text = failure
            .child("text", ns::SASL)
            .map(|t| t.text().into_owned());
        SaslFailure { condition, text }
    }
}

impl fmt::Display for SaslFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.condition {
            Some(c) => f.write_str(c.as_str())?,
            None => f.write_str("unknown condition")?,
        }
        if let Some(text) = &self.text {
            write!(f, " ({text})")?;
        }
        Ok(())
    }
}

/// `<auth mechanism='...'>` with the initial response (base64; `=` for an empty one).
pub fn auth(mechanism: Mechanism, initial: &[u8]) -> Result<Element, BuildError> {
    Element::builder("auth", ns::SASL)
        .attr("mechanism", mechanism.name())
        .text(&encode(initial))
        .build()
}

/// `<response>` to a challenge.
pub fn response(data: &[u8]) -> Result<Element, BuildError> {
    Element::builder("response", ns::SASL)
        .text(&encode(data))
        .build()
}

/// PLAIN's message (RFC 4616): no authorization identity, the username, the password.
pub fn plain_message(username: &str, password: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(username.len() + password.len() + 2);
    m.push(0);
    m.extend_from_slice(username.as_bytes());
    m.push(0);
    m.extend_from_slice(password.as_bytes());
    m
}

/// The data a `<challenge>` or `<success>` carries: `None` when it is not base64.
pub fn data_of(el: ElementRef<'_>) -> Option<Vec<u8>> {
    let text = el.text();
    let text = text.trim();
    if text.is_empty() || text == "=" {
        return Some(Vec::new());
    }
    B64.decode(text).ok()
}

fn encode(data: &[u8]) -> String {
    if data.is_empty() {
        String::from("=")
    } else {
        B64.encode(data)
    }
}

impl Mechanism {
    /// The mechanism named `name` (as [`name`](Self::name) gives it), of those we
    /// implement.
    pub fn from_name(name: &str) -> Option<Mechanism> {
        Self::PREFERENCE.into_iter().find(|m| m.name() == name)
    }

    /// Its place in [`PREFERENCE`](Self::PREFERENCE): its bit in a [`MechanismSet`].
    fn index(self) -> u8 {
        match self {
            Mechanism::Scram { hash, plus } => {
                let by_hash = match hash {
                    ScramHash::Sha512 => 0,
                    ScramHash::Sha256 => 1,
                    ScramHash::Sha1 => 2,
                };
                if plus { by_hash } else { by_hash + 3 }
            }
            Mechanism::Plain => 6,
        }
    }
}

/// The SASL mechanisms a login may use
/// ([`Config::sasl_mechanisms`](crate::client::Config::sasl_mechanisms)); the strongest
/// of them the server offers is chosen. A bit per mechanism: one byte in every config.
///
/// ```
/// use jabber_proto::negotiation::sasl::{Mechanism, MechanismSet};
/// use jabber_proto::negotiation::scram::ScramHash;
/// let sha1 = Mechanism::Scram { hash: ScramHash::Sha1, plus: false };
/// let set = MechanismSet::only(Mechanism::Plain).with(sha1);
/// assert!(set.contains(sha1) && !set.contains(Mechanism::Scram { hash: ScramHash::Sha256, plus: false }));
/// assert_eq!(set.to_string(), "SCRAM-SHA-1 PLAIN");
/// assert_eq!("SCRAM-SHA-1 PLAIN".parse(), Ok(set));
/// assert!(MechanismSet::ALL.contains(Mechanism::Plain));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MechanismSet(u8);

impl MechanismSet {
    /// Every mechanism we implement (the default).
    pub const ALL: MechanismSet = MechanismSet((1 << Mechanism::PREFERENCE.len()) - 1);
    /// None: every SASL login fails with
    /// [`LoginError::NoCommonMethod`](super::auth::LoginError::NoCommonMethod).
    pub const NONE: MechanismSet = MechanismSet(0);

    /// Only `m`.
    pub fn only(m: Mechanism) -> MechanismSet {
        MechanismSet::NONE.with(m)
    }

    /// This set and `m`.
    #[must_use]
    pub fn with(self, m: Mechanism) -> MechanismSet {
        MechanismSet(self.0 | 1 << m.index())
    }

    /// This set without `m`.
    #[must_use]
    pub fn without(self, m: Mechanism) -> MechanismSet {
        MechanismSet(self.0 & !(1 << m.index()))
    }

    /// `m` is in the set.
    pub fn contains(self, m: Mechanism) -> bool {
        self.0 & 1 << m.index() != 0
    }

    /// The mechanisms in the set, strongest first.
    pub fn iter(self) -> impl Iterator<Item = Mechanism> {
        Mechanism::PREFERENCE
            .into_iter()
            .filter(move |m| self.contains(*m))
    }
}

impl Default for MechanismSet {
    fn default() -> MechanismSet {
        MechanismSet::ALL
    }
}

/// The names, strongest first, separated by spaces (empty for [`NONE`](MechanismSet::NONE)).
impl fmt::Display for MechanismSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(m.name())?;
        }
        Ok(())
    }
}

impl fmt::Debug for MechanismSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Mechanism::name))
            .finish()
    }
}

/// Reads what [`Display`](fmt::Display) writes; a name we do not implement is an error.
impl core::str::FromStr for MechanismSet {
    type Err = ();

    fn from_str(s: &str) -> Result<MechanismSet, ()> {
        s.split_ascii_whitespace()
            .try_fold(MechanismSet::NONE, |set, name| {
                Mechanism::from_name(name).map(|m| set.with(m)).ok_or(())
            })
    }
}
