//! Errors of the inbound stream: what the peer sent wrong, or where its input ended.

use alloc::string::String;
use core::fmt;

use super::Condition;

/// Why the inbound stream cannot go on. Every variant is the peer's fault (or the
/// transport's, for the two end-of-input variants) and maps to the stream error condition
/// RFC 6120 prescribes; see [`condition`](ParseError::condition).
///
/// Errors are final: a [`StreamParser`](super::StreamParser) returns one once from
/// [`next_item`](super::StreamParser::next_item), then `None` for every later call; it
/// keeps the error for [`error`](super::StreamParser::error), ignores further input and
/// holds no buffered input.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// A character XML 1.0 cannot carry, raw or as a character reference (code point given;
    /// surrogates included).
    ForbiddenChar {
        /// The code point.
        code: u32,
    },
    /// A comment (`<!--`).
    Comment,
    /// A processing instruction, or an XML declaration anywhere but the start of the stream.
    ProcessingInstruction,
    /// A document type declaration or other `<!` markup that is not CDATA.
    Doctype,
    /// An XML declaration with a version other than 1.0 or an unparsable body.
    BadXmlDeclaration,
    /// An XML declaration naming an encoding other than UTF-8.
    UnsupportedEncoding(String),
    /// An entity reference other than the five XML predefines.
    UndefinedEntity(String),
    /// A malformed `&...;` reference.
    BadReference,
    /// An end tag that does not match the open element.
    MismatchedTag,
    /// The same attribute twice on one element (same name, or same namespace and local name).
    DuplicateAttribute(String),
    /// A prefix with no namespace declaration in scope.
    UnboundPrefix(String),
    /// A namespace declaration XML Namespaces forbids (empty prefixed URI, rebinding `xml`
    /// or `xmlns`).
    BadNamespaceDeclaration,
    /// A raw `<` inside an attribute value.
    LtInAttributeValue,
    /// The sequence `]]>` in character data.
    CdataEndInText,
    /// Other malformed markup (bad names, missing `=`, unquoted values, ...).
    Malformed(&'static str),
    /// Non-whitespace text at stream level, between top-level elements.
    TextOutsideStanza,
    /// Non-whitespace data after `</stream:stream>`.
    DataAfterClose,
    /// The root element is not `stream` in `http://etherx.jabber.org/streams`.
    BadRoot,
    /// The stream's default namespace is missing or is not the expected content namespace.
    BadContentNamespace,
    /// A top-level element, stream header or XML declaration larger than the limit.
    StanzaTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Elements nested deeper than the limit.
    TooDeep {
        /// The limit.
        limit: u32,
    },
    /// More attributes on one element than the limit.
    TooManyAttributes {
        /// The limit.
        limit: u32,
    },
    /// Input ended inside the stream header or a top-level element.
    TruncatedStanza,
    /// Input ended between top-level elements, before `</stream:stream>`.
    UnclosedStream,
    /// A WebSocket message that does not hold a complete element (RFC 7395 §3.3.3: each
    /// message is one complete element).
    PartialMessage,
    /// A WebSocket message that holds more than one element, or text beside it.
    ExtraInMessage,
    /// Over WebSocket: an element before the stream's `<open/>`, or a second `<open/>`.
    MisplacedOpen,
    /// Over WebSocket: a message was pushed before the one before it was drained (a
    /// driver's mistake, not the peer's; [`Client`](crate::client::Client) never makes it).
    UndrainedMessage,
}

impl ParseError {
    /// The stream error condition to report to the peer (RFC 6120 §4.9.3).
    pub fn condition(&self) -> Condition {
        use ParseError::*;
        match self {
            InvalidUtf8 | UnsupportedEncoding(_) => Condition::UnsupportedEncoding,
            Comment | ProcessingInstruction | Doctype | UndefinedEntity(_) => {
                Condition::RestrictedXml
            }
            BadRoot | BadContentNamespace => Condition::InvalidNamespace,
            StanzaTooLarge { .. } | TooDeep { .. } | TooManyAttributes { .. } => {
                Condition::PolicyViolation
            }
            TextOutsideStanza | DataAfterClose | BadXmlDeclaration | ExtraInMessage
            | MisplacedOpen => Condition::BadFormat,
            ForbiddenChar { .. }
            | BadReference
            | MismatchedTag
            | DuplicateAttribute(_)
            | UnboundPrefix(_)
            | BadNamespaceDeclaration
            | LtInAttributeValue
            | CdataEndInText
            | Malformed(_)
            | TruncatedStanza
            | UnclosedStream
            | PartialMessage => Condition::NotWellFormed,
            UndrainedMessage => Condition::InternalServerError,
        }
    }

    /// Whether input ended too early (as opposed to being malformed).
    pub fn is_end_of_input(&self) -> bool {
        matches!(
            self,
            ParseError::TruncatedStanza | ParseError::UnclosedStream
        )
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ParseError::*;
        match self {
            InvalidUtf8 => f.write_str("input is not valid UTF-8"),
            ForbiddenChar { code } => write!(f, "character U+{code:04X} is not allowed in XML"),
            Comment => f.write_str("comments are not allowed in XMPP"),
            ProcessingInstruction => f.write_str("processing instructions are not allowed in XMPP"),
            Doctype => f.write_str("document type declarations are not allowed in XMPP"),
            BadXmlDeclaration => {
                f.write_str("malformed XML declaration or XML version other than 1.0")
            }
            UnsupportedEncoding(e) => write!(f, "encoding {e:?} is not supported (only UTF-8)"),
            UndefinedEntity(name) => write!(f, "entity reference &{name}; is not allowed in XMPP"),
            BadReference => f.write_str("malformed character or entity reference"),
            MismatchedTag => f.write_str("end tag does not match the open element"),
            DuplicateAttribute(name) => write!(f, "attribute {name:?} appears twice"),
            UnboundPrefix(p) => write!(f, "namespace prefix {p:?} is not declared"),
            BadNamespaceDeclaration => {
                f.write_str("namespace declaration not allowed by XML Namespaces")
            }
            LtInAttributeValue => f.write_str("'<' inside an attribute value"),
            CdataEndInText => f.write_str("']]>' inside character data"),
            Malformed(what) => write!(f, "malformed XML: {what}"),
            TextOutsideStanza => f.write_str("text between top-level elements"),
            DataAfterClose => f.write_str("data after the end of the stream"),
            BadRoot => {
                f.write_str("root element is not <stream> in http://etherx.jabber.org/streams")
            }
            BadContentNamespace => {
                f.write_str("stream has a missing or unexpected default namespace")
            }
            StanzaTooLarge { limit } => write!(f, "element larger than the limit of {limit} bytes"),
            TooDeep { limit } => write!(f, "elements nested deeper than the limit of {limit}"),
            TooManyAttributes { limit } => write!(f, "more than {limit} attributes on one element"),
            TruncatedStanza => f.write_str("input ended inside an element"),
            UnclosedStream => f.write_str("input ended before the stream was closed"),
            PartialMessage => f.write_str("a WebSocket message without a complete element"),
            ExtraInMessage => f.write_str("a WebSocket message with more than one element"),
            UndrainedMessage => {
                f.write_str("a WebSocket message pushed before the last one was drained")
            }
            MisplacedOpen => f.write_str("an element before <open/>, or a second <open/>"),
        }
    }
}

impl core::error::Error for ParseError {}
