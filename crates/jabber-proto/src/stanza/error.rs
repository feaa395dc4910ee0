//! Stanza errors (RFC 6120 §8.3), with the classic numeric codes (XEP-0086).

use alloc::string::{String, ToString};
use core::fmt;

use crate::ns;
use crate::xml::{BuildError, Element, ElementRef};

crate::names::named_enum! {
    /// What the error means for a retry (RFC 6120 §8.3.2).
    pub enum ErrorType {
        /// Retry after providing credentials.
        Auth => "auth",
        /// Do not retry.
        Cancel => "cancel",
        /// Proceed; the condition was only a warning.
        Continue => "continue",
        /// Retry after changing the data sent.
        Modify => "modify",
        /// Retry after waiting.
        Wait => "wait",
    }
}

crate::names::named_enum! {
    /// A defined stanza error condition (RFC 6120 §8.3.3).
    #[non_exhaustive]
    pub enum StanzaCondition {
        /// Malformed or unprocessable request.
        BadRequest => "bad-request",
        /// A resource or session with that name already exists.
        Conflict => "conflict",
        /// The feature is not implemented.
        FeatureNotImplemented => "feature-not-implemented",
        /// Lacking permission.
        Forbidden => "forbidden",
        /// The recipient is gone.
        Gone => "gone",
        /// The server failed internally.
        InternalServerError => "internal-server-error",
        /// The addressed item does not exist.
        ItemNotFound => "item-not-found",
        /// The address is malformed.
        JidMalformed => "jid-malformed",
        /// The request does not meet the recipient's criteria.
        NotAcceptable => "not-acceptable",
        /// No entity may do this.
        NotAllowed => "not-allowed",
        /// Credentials are needed.
        NotAuthorized => "not-authorized",
        /// A local policy was violated.
        PolicyViolation => "policy-violation",
        /// The recipient is temporarily unavailable.
        RecipientUnavailable => "recipient-unavailable",
        /// The recipient moved.
        Redirect => "redirect",
        /// Registration is required first.
        RegistrationRequired => "registration-required",
        /// The remote server does not exist.
        RemoteServerNotFound => "remote-server-not-found",
        /// The remote server did not answer in time.
        RemoteServerTimeout => "remote-server-timeout",
        /// Not enough resources.
        ResourceConstraint => "resource-constraint",
        /// The service is not offered.
        ServiceUnavailable => "service-unavailable",
        /// A subscription is required first.
        SubscriptionRequired => "subscription-required",
        /// Another condition.
        UndefinedCondition => "undefined-condition",
        /// The request was not expected now.
        UnexpectedRequest => "unexpected-request",
    }
}

impl StanzaCondition {
    /// The condition a classic numeric error code stands for (XEP-0086).
    pub fn from_code(code: u16) -> StanzaCondition {
        use StanzaCondition::*;
        match code {
            302 => Redirect,
            400 => BadRequest,
            401 => NotAuthorized,
            402 | 403 => Forbidden,
            404 => ItemNotFound,
            405 => NotAllowed,
            406 => NotAcceptable,
            407 => RegistrationRequired,
            408 | 504 => RemoteServerTimeout,
            409 => Conflict,
            500 => InternalServerError,
            501 => FeatureNotImplemented,
            502 | 503 => ServiceUnavailable,
            _ => UndefinedCondition,
        }
    }

    /// The classic numeric code for this condition (XEP-0086's mapping), when it has one.
    pub fn code(self) -> Option<u16> {
        use StanzaCondition::*;
        Some(match self {
            Redirect => 302,
            BadRequest | JidMalformed => 400,
            NotAuthorized => 401,
            Forbidden => 403,
            ItemNotFound | RecipientUnavailable | RemoteServerNotFound => 404,
            NotAllowed => 405,
            NotAcceptable => 406,
            RegistrationRequired | SubscriptionRequired => 407,
            Conflict => 409,
            InternalServerError | ResourceConstraint | UndefinedCondition => 500,
            FeatureNotImplemented => 501,
            ServiceUnavailable => 503,
            RemoteServerTimeout => 504,
            Gone => 302,
            UnexpectedRequest => 400,
            // Defined after XEP-0086; no classic code.
            PolicyViolation => return None,
        })
    }

    /// The error type that usually goes with this condition (RFC 6120 §8.3.3).
    pub fn default_type(self) -> ErrorType {
        use StanzaCondition::*;
        match self {
            BadRequest | JidMalformed | NotAcceptable | PolicyViolation | Redirect => {
                ErrorType::Modify
            }
            NotAuthorized | Forbidden | RegistrationRequired | SubscriptionRequired => {
                ErrorType::Auth
            }
            RecipientUnavailable | RemoteServerTimeout | ResourceConstraint | UnexpectedRequest => {
                ErrorType::Wait
            }
            _ => ErrorType::Cancel,
        }
    }
}

/// An `<error/>` child of a stanza.
///
/// ```
/// use jabber_proto::stanza::{ErrorType, StanzaCondition, StanzaError};
/// let e = StanzaError::new(StanzaCondition::ItemNotFound).with_text("no such user");
/// assert_eq!((e.kind, e.text.as_deref()), (ErrorType::Cancel, Some("no such user")));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StanzaError {
    /// Retry semantics.
    pub kind: ErrorType,
    /// The condition; derived from `code` when a classic server sent only a code.
    pub condition: StanzaCondition,
    /// The classic numeric code (`code='409'`), if present.
    pub code: Option<u16>,
    /// Human-readable text, if present.
    pub text: Option<String>,
}

impl StanzaError {
    /// An error with the usual type for `condition`.
    pub fn new(condition: StanzaCondition) -> StanzaError {
        StanzaError {
            kind: condition.default_type(),
            condition,
            code: None,
            text: None,
        }
    }

    /// The same error with a human-readable text.
    #[must_use]
    pub fn with_text(mut self, text: &str) -> StanzaError {
        self.text = Some(String::from(text));
        self
    }

    /// The same error with another type (retry semantics) than the condition's usual one.
    #[must_use]
    pub fn with_type(mut self, kind: ErrorType) -> StanzaError {
        self.kind = kind;
        self
    }

    /// The same error with a classic numeric code, for peers that read only codes.
    #[must_use]
    pub fn with_code(mut self, code: u16) -> StanzaError {
        self.code = Some(code);
        self
    }

    /// Reads the `<error/>` child of `stanza`; `None` when it has none.
    ///
    /// Accepts both forms servers send: RFC 6120 (`type` plus a condition element) and
    /// classic (`code` plus text content).
    pub fn from_stanza(stanza: ElementRef<'_>) -> Option<StanzaError> {
        let err = stanza
            .children()
            .find(|c| c.name() == "error" && c.ns() == stanza.ns())?;
        let code = err.attr("code").and_then(|c| c.trim().parse().ok());
        let named = err
            .children()
            .filter(|c| c.ns() == ns::STANZA_ERRORS)
            .find_map(|c| StanzaCondition::from_name(c.name()));
        let condition = named
            .or(code.map(StanzaCondition::from_code))
            .unwrap_or(StanzaCondition::UndefinedCondition);
        let kind = err
            .attr("type")
            .and_then(ErrorType::from_name)
            .unwrap_or(condition.default_type());
        let text = err
            .child("text", ns::STANZA_ERRORS)
            .map(|t| t.text().to_string())
            .or_else(|| Some(err.text().trim().to_string()).filter(|t| !t.is_empty()));
        Some(StanzaError {
            kind,
            condition,
            code,
            text,
        })
    }

    /// The `<error/>` element, in the stanza namespace `stanza_ns` (`jabber:client`).
    pub fn to_element(&self, stanza_ns: &str) -> Result<Element, BuildError> {
        let mut b = Element::builder("error", stanza_ns).attr("type", self.kind.as_str());
        if let Some(code) = self.code {
            b = b.attr("code", &code.to_string());
        }
        b = b.child(Element::builder(self.condition.as_str(), ns::STANZA_ERRORS));
        if let Some(text) = &self.text {
            b = b.child(Element::builder("text", ns::STANZA_ERRORS).text(text));
        }
        b.build()
    }
}

impl fmt::Display for StanzaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.condition, self.kind)?;
        if let Some(code) = self.code {
            write!(f, " code {code}")?;
        }
        if let Some(text) = &self.text {
            write!(f, ": {text}")?;
        }
        Ok(())
    }
}

impl core::error::Error for StanzaError {}
