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
    /// SASL with this mechanism, on an XMPP 1.0 stream (RFC 6120 §6).
    Sasl(super::sasl::Mechanism),
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
/// needed for the digest. A [`AuthMethod::Sasl`] method is refused: it is not one of
/// `jabber:iq:auth`.
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
        // Not a jabber:iq:auth method: nothing to build.
        AuthMethod::Sasl(m) => return Err(BuildError::InvalidName(String::from(m.name()))),
    };
    Element::builder("query", ns::IQ_AUTH)
        .child(Element::builder("username", ns::IQ_AUTH).text(&credentials.username))
        .child(proof)
        .child(Element::builder("resource", ns::IQ_AUTH).text(&credentials.resource))
        .build()
}

/// Whether an error answer to our `<digest>` lets the client try the plaintext
/// `<password>` next (the plaintext rule still applies).
///
/// Yes only when the refusal says the request was not taken as sent, so the password was
/// never checked: `not-acceptable` (406, XEP-0078's "required information not
/// provided", what a server that wants a `<password>` says) or `feature-not-implemented`
/// (501). Anything else — `not-authorized` (401) above all — may mean the password was
/// checked and is wrong, and resending it as plaintext would be a second failed attempt
/// on the server. A classic error that has only a `code` counts by the condition
/// [`StanzaError::from_stanza`] derives from it; the text is not read (free-form and
/// localised).
///
/// What the real servers answer (docs/auth-refusals.md): ejabberd 23.01 refuses a wrong
/// digest with a bare `not-authorized`; with SCRAM storage it cannot check a digest, but
/// it then leaves `<digest/>` out of the fields (so [`AuthFields::choose`] never picks
/// it), and a digest sent anyway gets the same `not-authorized` as a wrong one. Its
/// `not-acceptable` means an empty username or resource. prosody 0.12 has no digest: it
/// answers one, right or wrong, with the field list again (a result, not an error, so
/// not this function's case; that answer did not check the password either).
///
/// ```
/// use jabber_proto::negotiation::auth::digest_refusal_allows_fallback;
/// use jabber_proto::stanza::{StanzaCondition, StanzaError};
/// let wrong = StanzaError::new(StanzaCondition::NotAuthorized);
/// assert!(!digest_refusal_allows_fallback(&wrong));
/// let unsupported = StanzaError::new(StanzaCondition::FeatureNotImplemented);
/// assert!(digest_refusal_allows_fallback(&unsupported));
/// ```
pub fn digest_refusal_allows_fallback(error: &StanzaError) -> bool {
    matches!(
        error.condition,
        StanzaCondition::NotAcceptable | StanzaCondition::FeatureNotImplemented
    )
}

/// Why a login failed. Reported by
/// [`SessionEvent::LoginFailed`](crate::client::SessionEvent::LoginFailed); the
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
    /// [`Config::require_tls`](crate::client::Config::require_tls) is on and the server
    /// offered no STARTTLS on an unencrypted transport (or an attacker removed it):
    /// no credential was sent.
    TlsRequired,
    /// The server answered our `<starttls/>` with `<failure/>`.
    TlsRefused,
    /// The server refused the SASL exchange.
    Sasl(super::sasl::SaslFailure),
    /// The server's side of SCRAM is wrong: a bad nonce, too few iterations, or a
    /// server signature that does not prove it knows the password.
    Scram(super::scram::ScramError),
    /// [`Config::channel_binding`](crate::client::Config::channel_binding) is
    /// [`Required`](super::channel_binding::ChannelBindingPolicy::Required) and the
    /// server offers no `-PLUS` mechanism, lists no channel-binding type we have, the
    /// transport gives no channel data, or the login would be the classic one: no
    /// credential was sent.
    ChannelBindingRequired,
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
            LoginError::TlsRequired => f.write_str(
                "TLS is required and the server did not offer it; no credential was sent",
            ),
            LoginError::TlsRefused => f.write_str("the server refused STARTTLS"),
            LoginError::Sasl(failure) => write!(f, "SASL failure: {failure}"),
            LoginError::Scram(e) => write!(f, "SCRAM: {e}"),
            LoginError::ChannelBindingRequired => f.write_str(
                "channel binding is required and the server offers none we can use; \
                 no credential was sent",
            ),
        }
    }
}

impl core::error::Error for LoginError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;
    use crate::stream::{Item, StreamParser};

    /// Parses one stanza as received inside a `jabber:client` stream.
    fn stanza(xml: &str) -> Element {
        let mut parser = StreamParser::new(Limits::default());
        parser.push(
            b"<stream:stream xmlns='jabber:client' \
              xmlns:stream='http://etherx.jabber.org/streams' id='s'>",
        );
        parser.push(xml.as_bytes());
        let mut items = core::iter::from_fn(|| parser.next_item());
        assert!(matches!(items.next(), Some(Ok(Item::Header(_)))));
        match items.next() {
            Some(Ok(Item::Element(e))) => e,
            other => panic!("no stanza in {xml}: {other:?}"),
        }
    }

    fn error_of(xml: &str) -> Option<StanzaError> {
        StanzaError::from_stanza(stanza(xml).root())
    }

    fn fields_of(xml: &str) -> AuthFields {
        let iq = stanza(xml);
        let query = iq.root().child("query", ns::IQ_AUTH).expect("a query");
        AuthFields::from_query(query)
    }

    // The answers below are the servers' own bytes (docs/auth-refusals.md), captured on
    // loopback from ejabberd 23.01 and prosody 0.12.3 (split over lines only).

    /// ejabberd, any storage: a wrong digest (plain storage), and a digest it cannot
    /// check (SCRAM storage; the password was right) — the same refusal.
    const EJABBERD_DIGEST_REFUSED: &str = "<iq xml:lang='en' type='error' id='s1'>\
        <query xmlns='jabber:iq:auth'><username>alice</username><resource>rb</resource>\
        <digest>01461949aff9e9302e5e9a02b7fb29b480ab462f</digest></query>\
        <error type='auth'>\
        <not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>";

    #[test]
    fn ejabberd_offers_the_digest_only_when_it_can_check_it() {
        let plain = fields_of(
            "<iq xml:lang='en' type='result' id='g1'><query xmlns='jabber:iq:auth'>\
             <username/><resource/><password/><digest/></query></iq>",
        );
        assert!(plain.digest && plain.password);
        let scram = fields_of(
            "<iq xml:lang='en' type='result' id='g1'><query xmlns='jabber:iq:auth'>\
             <username/><resource/><password/></query></iq>",
        );
        assert!(!scram.digest && scram.password);
        assert_eq!(
            scram.choose(true, false, true),
            Ok(AuthMethod::Plaintext),
            "never a digest the server did not offer"
        );
    }

    #[test]
    fn ejabberd_not_authorized_never_falls_back() {
        let wrong = error_of(EJABBERD_DIGEST_REFUSED).expect("an error");
        assert_eq!(wrong.condition, StanzaCondition::NotAuthorized);
        assert_eq!(wrong.kind, crate::stanza::ErrorType::Auth);
        assert_eq!((wrong.code, wrong.text.as_deref()), (None, None));
        assert!(!digest_refusal_allows_fallback(&wrong));
        // SCRAM storage, right password: nothing tells it apart from a wrong one.
        let unchecked = error_of(
            "<iq xml:lang='en' type='error' id='s1'><query xmlns='jabber:iq:auth'>\
             <username>alice</username><resource>ra</resource>\
             <digest>f09a8ce0506a90e948df28895399c8a280024f95</digest>\
             </query><error type='auth'>\
             <not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        )
        .expect("an error");
        assert_eq!(unchecked, wrong);
        assert!(!digest_refusal_allows_fallback(&unchecked));
    }

    #[test]
    fn observed_refusals() {
        // (what, reply, fallback allowed) — every error answer the servers gave.
        let cases = [
            (
                "ejabberd: unknown user, digest",
                "<iq xml:lang='en' type='error' id='s1'><query xmlns='jabber:iq:auth'>\
                 <username>nobody</username><resource>rf</resource>\
                 <digest>75fe6446d02a82ff7647594c10b2de05fbf9d70c</digest>\
                 </query><error type='auth'>\
                 <not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
                false,
            ),
            (
                "ejabberd: wrong plaintext (SCRAM storage: also the right one)",
                "<iq xml:lang='en' type='error' id='s1'><query xmlns='jabber:iq:auth'>\
                 <username>alice</username><resource>rd</resource><password>wrong</password>\
                 </query><error type='auth'>\
                 <not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
                false,
            ),
            (
                "ejabberd: empty resource (password not checked)",
                "<iq xml:lang='en' type='error' id='s1'><query xmlns='jabber:iq:auth'>\
                 <username>alice</username><resource/>\
                 <digest>5dead46526a24aa68e6d5a30f3ba3ace7c4dd87c</digest></query>\
                 <error type='modify'>\
                 <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
                 <text xml:lang='en' xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>\
                 Both the username and the resource are required</text></error></iq>",
                true,
            ),
            (
                "ejabberd: malformed username",
                "<iq xml:lang='en' type='error' id='s1'><query xmlns='jabber:iq:auth'>\
                 <username>a b</username><resource>rj</resource><password>secret</password>\
                 </query><error type='modify'>\
                 <jid-malformed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
                false,
            ),
            (
                "prosody: wrong plaintext or unknown user",
                "<iq id='s1' type='error'><error type='auth'>\
                 <not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
                false,
            ),
            (
                "prosody: malformed username",
                "<iq id='s1' type='error'><error type='modify'>\
                 <bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
                false,
            ),
        ];
        for (what, xml, fallback) in cases {
            let error = error_of(xml).unwrap_or_else(|| panic!("{what}: an error"));
            assert_eq!(digest_refusal_allows_fallback(&error), fallback, "{what}");
        }
    }

    #[test]
    fn prosody_answers_a_digest_with_the_fields_not_an_error() {
        // Right or wrong digest, known or unknown user, either storage.
        let reply = "<iq id='s1' type='result'><query xmlns='jabber:iq:auth'>\
                     <username/><password/><resource/></query></iq>";
        assert_eq!(error_of(reply), None);
        let offered = fields_of(reply);
        assert!(!offered.digest && offered.password);
        for success in [
            "<iq xml:lang='en' type='result' id='s1'/>",
            "<iq id='s1' type='result'/>",
        ] {
            assert_eq!(error_of(success), None);
        }
    }

    #[test]
    fn other_refusals() {
        let cases = [
            // Classic servers: a code and a text, no condition element.
            (
                "<iq type='error' id='a'><error code='401'>Unauthorized</error></iq>",
                false,
            ),
            (
                "<iq type='error' id='a'><error code='406'>Not Acceptable</error></iq>",
                true,
            ),
            (
                "<iq type='error' id='a'><error code='501'>Not Implemented</error></iq>",
                true,
            ),
            (
                "<iq type='error' id='a'><error code='500'>Internal</error></iq>",
                false,
            ),
            (
                "<iq type='error' id='a'><error type='cancel'>\
                 <feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
                 </error></iq>",
                true,
            ),
            (
                "<iq type='error' id='a'><error type='cancel' code='409'>\
                 <conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
                false,
            ),
            (
                "<iq type='error' id='a'><error type='cancel'>\
                 <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
                 </error></iq>",
                false,
            ),
        ];
        for (xml, fallback) in cases {
            let error = error_of(xml).expect("an error");
            assert_eq!(digest_refusal_allows_fallback(&error), fallback, "{xml}");
        }
    }

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
