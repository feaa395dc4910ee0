//! Classic authentication, `jabber:iq:auth` (XEP-0078, the seed protocol's §3).
//!
//! The client first asks which fields the server wants (`get`), then sends the
//! credentials (`set`) with either a `<digest>` (SHA-1 of stream id and password) or the
//! `<password>` itself. The digest is preferred; the plaintext password goes out only on
//! an encrypted transport or when [`Config::allow_plaintext`](crate::client::Config) says
//! so.

use alloc::string::String;
use core::fmt;

use sha1::{Digest, Sha1};

use crate::ns;
use crate::stanza::{StanzaCondition, StanzaError};
use crate::xml::{BuildError, Element, ElementRef};

/// What a user logs in with.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The account's local part (`alice` in `alice@example.com`).
    pub username: String,
    /// The password.
    pub password: String,
    /// The resource to bind, e.g. a name for this computer (`"laptop"`).
    pub resource: String,
}

impl Credentials {
    /// Credentials for `username` with `password`, on `resource`.
    pub fn new(username: &str, password: &str, resource: &str) -> Credentials {
        Credentials {
            username: String::from(username),
            password: String::from(password),
            resource: String::from(resource),
        }
    }
}

impl fmt::Debug for Credentials {
    // The password stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .field("resource", &self.resource)
            .finish()
    }
}

/// How the password is proven.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMethod {
    /// `<digest>`: lowercase hex SHA-1 of stream id + password.
    Digest,
    /// `<password>`: the password itself.
    Plaintext,
}

/// The fields a server asks for in its answer to the `get`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuthFields {
    /// `<password/>` is offered.
    pub password: bool,
    /// `<digest/>` is offered.
    pub digest: bool,
    /// `<resource/>` is asked for.
    pub resource: bool,
}

impl AuthFields {
    /// Reads the fields of a `<query xmlns='jabber:iq:auth'>`.
    pub fn from_query(query: ElementRef<'_>) -> AuthFields {
        AuthFields {
            password: query.child("password", ns::IQ_AUTH).is_some(),
            digest: query.child("digest", ns::IQ_AUTH).is_some(),
            resource: query.child("resource", ns::IQ_AUTH).is_some(),
        }
    }

    /// The method to use: the digest when offered and `digest_usable` (a stream id exists
    /// to hash, and the configuration wants it), else the plaintext password if
    /// `plaintext_ok`.
    ///
    /// `digest_failed` excludes the digest (after the server refused it).
    pub fn choose(
        &self,
        digest_usable: bool,
        digest_failed: bool,
        plaintext_ok: bool,
    ) -> Result<AuthMethod, LoginError> {
        if self.digest && digest_usable && !digest_failed {
            Ok(AuthMethod::Digest)
        } else if self.password && plaintext_ok {
            Ok(AuthMethod::Plaintext)
        } else if digest_failed {
            Err(LoginError::DigestNotSupported)
        } else if self.password {
            Err(LoginError::PlaintextNotAllowed)
        } else {
            Err(LoginError::NoCommonMethod)
        }
    }
}

/// The `<digest>` value: lowercase hex SHA-1 of `stream_id` followed by `password`.
///
/// ```
/// use jabber_proto::negotiation::auth::digest;
/// // The example of XEP-0078 §3.
/// assert_eq!(digest("3EE948B0", "Calli0pe"), "48fc78be9ec8f86d8ce1c39c320c97c21d62334d");
/// ```
pub fn digest(stream_id: &str, password: &str) -> String {
    let mut h = Sha1::new();
    h.update(stream_id.as_bytes());
    h.update(password.as_bytes());
    hex::encode(h.finalize())
}

/// The payload of the first request: `<query xmlns='jabber:iq:auth'><username/></query>`.
pub fn fields_query(username: &str) -> Result<Element, BuildError> {
    Element::builder("query", ns::IQ_AUTH)
        .child(Element::builder("username", ns::IQ_AUTH).text(username))
        .build()
}

/// The payload of the `set` carrying the credentials with `method`; `stream_id` is
/// needed for the digest.
pub fn credentials_query(
    credentials: &Credentials,
    method: AuthMethod,
    stream_id: &str,
) -> Result<Element, BuildError> {
    let proof = match method {
        AuthMethod::Digest => {
            Element::builder("digest", ns::IQ_AUTH).text(&digest(stream_id, &credentials.password))
        }
        AuthMethod::Plaintext => {
            Element::builder("password", ns::IQ_AUTH).text(&credentials.password)
        }
    };
    Element::builder("query", ns::IQ_AUTH)
        .child(Element::builder("username", ns::IQ_AUTH).text(&credentials.username))
        .child(proof)
        .child(Element::builder("resource", ns::IQ_AUTH).text(&credentials.resource))
        .build()
}

/// Why a login failed. Reported by [`Event::LoginFailed`](crate::client::Event); the
/// client then closes the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginError {
    /// The server refused: wrong password (401 `not-authorized`), missing field (406
    /// `not-acceptable`), resource in use (409 `conflict`), or iq:auth not offered.
    Refused(StanzaError),
    /// Only a plaintext password would do, and the transport is not encrypted while
    /// [`Config::allow_plaintext`](crate::client::Config) is off. Nothing was sent.
    PlaintextNotAllowed,
    /// The server did not take our `<digest>` (prosody 0.12 answers it with the field
    /// list again), and a plaintext password is not offered or not allowed. No password
    /// was sent.
    DigestNotSupported,
    /// The server offers neither a digest nor a password field.
    NoCommonMethod,
    /// The server answered with something that is neither success nor an error.
    UnexpectedReply,
    /// No answer within [`Config::iq_timeout`](crate::client::Config) (or, for a login
    /// called early, no stream to log in on by then).
    Timeout,
}

impl LoginError {
    /// The classic numeric error code (401, 406, 409, ...), when the server refused.
    pub fn code(&self) -> Option<u16> {
        match self {
            LoginError::Refused(e) => e.code.or_else(|| e.condition.code()),
            _ => None,
        }
    }

    /// The error condition, when the server refused.
    pub fn condition(&self) -> Option<StanzaCondition> {
        match self {
            LoginError::Refused(e) => Some(e.condition),
            _ => None,
        }
    }

    /// The server's explanation, if it gave one.
    pub fn text(&self) -> Option<&str> {
        match self {
            LoginError::Refused(e) => e.text.as_deref(),
            _ => None,
        }
    }
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoginError::Refused(e) => write!(f, "login refused: {e}"),
            LoginError::PlaintextNotAllowed => f.write_str(
                "the server wants a plaintext password and the transport is not encrypted \
                 (set Config::allow_plaintext to send it anyway)",
            ),
            LoginError::DigestNotSupported => f.write_str(
                "the server ignored the digest and plaintext passwords are not allowed here",
            ),
            LoginError::NoCommonMethod => f.write_str("the server offers no login method we know"),
            LoginError::UnexpectedReply => f.write_str("unexpected reply to the login request"),
            LoginError::Timeout => f.write_str("no reply to the login request"),
        }
    }
}

impl core::error::Error for LoginError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_lowercase_hex_of_id_then_password() {
        assert_eq!(
            digest("3EE948B0", "Calli0pe"),
            "48fc78be9ec8f86d8ce1c39c320c97c21d62334d"
        );
    }

    #[test]
    fn method_choice() {
        let both = AuthFields {
            password: true,
            digest: true,
            resource: true,
        };
        assert_eq!(both.choose(true, false, false), Ok(AuthMethod::Digest));
        assert_eq!(both.choose(false, false, true), Ok(AuthMethod::Plaintext));
        assert_eq!(both.choose(true, true, true), Ok(AuthMethod::Plaintext));
        assert_eq!(
            both.choose(true, true, false),
            Err(LoginError::DigestNotSupported)
        );
        assert_eq!(
            both.choose(false, false, false),
            Err(LoginError::PlaintextNotAllowed)
        );
        let digest_only = AuthFields {
            password: false,
            ..both
        };
        assert_eq!(
            digest_only.choose(true, true, true),
            Err(LoginError::DigestNotSupported)
        );
        assert_eq!(
            AuthFields::default().choose(true, false, true),
            Err(LoginError::NoCommonMethod)
        );
    }
}
