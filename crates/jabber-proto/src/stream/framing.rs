//! How a stream is cut into pieces on the wire: one TCP byte stream (RFC 6120), or
//! WebSocket messages of one complete element each (RFC 7395).
//!
//! Over WebSocket there is no enclosing `<stream:stream>`: the stream header is an
//! `<open/>` element, the stream's end a `<close/>` element, both in
//! [`ns::FRAMING`], and every element declares its own namespaces. Everything between —
//! stanzas, features, SASL, stream management — is the same XML, parsed and written by
//! the same code; only the framing differs.

use crate::ns;
use crate::xml::ElementRef;

/// How the stream is framed on its transport ([`Config::framing`](crate::client::Config)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Framing {
    /// One XML stream over a byte stream (TCP, TLS): `<stream:stream>` ...
    /// `</stream:stream>`, in any chunking.
    #[default]
    Stream,
    /// XMPP over WebSocket (RFC 7395): each input is one received WebSocket message, each
    /// output one message to send, each holding exactly one complete element; `<open/>`
    /// and `<close/>` frame the stream.
    WebSocket,
}

impl Framing {
    /// The name used in captures: `stream` or `websocket`.
    pub fn as_str(self) -> &'static str {
        match self {
            Framing::Stream => "stream",
            Framing::WebSocket => "websocket",
        }
    }

    /// The framing named `name` (see [`as_str`](Self::as_str)).
    pub fn from_name(name: &str) -> Option<Framing> {
        match name {
            "stream" => Some(Framing::Stream),
            "websocket" => Some(Framing::WebSocket),
            _ => None,
        }
    }

    /// Whether this is [`Framing::WebSocket`].
    pub fn is_websocket(self) -> bool {
        self == Framing::WebSocket
    }
}

/// Whether `el` is the WebSocket framing's `<open/>`.
pub(crate) fn is_open(el: ElementRef<'_>) -> bool {
    el.is("open", ns::FRAMING)
}

/// Whether `el` is the WebSocket framing's `<close/>`.
pub fn is_close(el: ElementRef<'_>) -> bool {
    el.is("close", ns::FRAMING)
}

/// Where a `<close/>` tells the client to reconnect instead (RFC 7395 §3.6.1): its
/// `see-other-uri`, if any.
pub fn see_other_uri(el: ElementRef<'_>) -> Option<&str> {
    el.attr("see-other-uri")
        .filter(|_| is_close(el))
        .filter(|uri| !uri.is_empty())
}
