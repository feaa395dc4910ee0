//! Serialising a stream: the XML declaration, the stream header, top-level elements, the
//! close.
//!
//! Everything we send goes through here. The element trees themselves are serialised by
//! the XML layer (escaping, namespace declarations); this adds the stream's framing and
//! the namespaces the stream header binds. Like that, it has no error path.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::{Framing, StreamHeader};
use crate::ns;
use crate::xml::ElementRef;
use crate::xml::serialize::{Scope, write_attr, write_attrs, write_element};

/// Writes the pieces of an XMPP stream.
///
/// ```
/// use jabber_proto::stream::{StreamHeader, Writer};
/// use jabber_proto::xml::Element;
/// let header = StreamHeader::new("jabber:client").with_to("example.com").with_version("1.0");
/// let writer = Writer::new(header.content_ns());
/// let mut out = Vec::new();
/// writer.header(&mut out, &header);
/// let msg = Element::builder("message", "jabber:client")
///     .attr("to", "juliet@example.com")
///     .child(Element::builder("body", "jabber:client").text("<3 & 'more'"))
///     .build()
///     .unwrap();
/// writer.element(&mut out, msg.root());
/// writer.close(&mut out);
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' \
///      to='example.com' version='1.0'>\
///      <message to='juliet@example.com'><body>&lt;3 &amp; 'more'</body></message>\
///      </stream:stream>"
/// );
/// ```
#[derive(Clone, Debug)]
pub struct Writer {
    content_ns: Cow<'static, str>,
    one_line: bool,
    mask: bool,
    framing: Framing,
}

impl Writer {
    /// The writer of a client stream (`jabber:client`): a constant, so a connection need
    /// not store one.
    pub(crate) const CLIENT: Writer = Writer {
        content_ns: Cow::Borrowed(ns::CLIENT),
        one_line: false,
        mask: false,
        framing: Framing::Stream,
    };

    /// The client stream's writer for the console: secrets masked.
    pub(crate) const CONSOLE: Writer = Writer {
        content_ns: Cow::Borrowed(ns::CLIENT),
        one_line: false,
        mask: true,
        framing: Framing::Stream,
    };

    /// [`CLIENT`](Self::CLIENT) (or, with `mask`, [`CONSOLE`](Self::CONSOLE)) for a
    /// stream framed as `framing`.
    pub(crate) const fn client(framing: Framing, mask: bool) -> Writer {
        Writer {
            content_ns: Cow::Borrowed(ns::CLIENT),
            one_line: false,
            mask,
            framing,
        }
    }

    /// A writer for a stream whose default namespace is `content_ns` (`jabber:client`).
    pub fn new(content_ns: &str) -> Writer {
        Writer {
            content_ns: ns::shared(content_ns),
            one_line: false,
            mask: false,
            framing: Framing::Stream,
        }
    }

    /// Writes for `framing`: with [`Framing::WebSocket`], the header is `<open/>`, the
    /// close `<close/>` (RFC 7395), and every element declares its namespaces itself.
    #[must_use]
    pub fn framing(mut self, framing: Framing) -> Writer {
        self.framing = framing;
        self
    }

    /// With `true`, line feeds and tabs in text are written as character references too,
    /// so every element takes exactly one line (the value is unchanged).
    #[must_use]
    pub fn one_line(mut self, one_line: bool) -> Writer {
        self.one_line = one_line;
        self
    }

    /// With `true`, the content of every element that carries a secret (a password, a
    /// digest, a SASL payload: [`console::is_secret`](crate::console::is_secret)) is
    /// written as [`MASK`](crate::console::MASK): for logs and the console, never the wire.
    #[must_use]
    pub fn masked(mut self, mask: bool) -> Writer {
        self.mask = mask;
        self
    }

    /// `<?xml version='1.0'?>`
    pub fn declaration(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"<?xml version='1.0'?>");
    }

    /// The stream header's start tag, declaring the writer's content namespace as default
    /// and the `stream` prefix; over WebSocket, `<open/>` with the header's attributes.
    pub fn header(&self, out: &mut Vec<u8>, header: &StreamHeader) {
        if self.framing == Framing::WebSocket {
            out.extend_from_slice(b"<open");
            write_attr(out, "xmlns", ns::FRAMING, self.one_line);
            write_attrs(out, header.element().root(), self.one_line);
            out.extend_from_slice(b"/>");
            return;
        }
        out.extend_from_slice(b"<stream:stream");
        // The writer's namespace, not the header's: elements are written against it.
        write_attr(out, "xmlns", &self.content_ns, self.one_line);
        write_attr(out, "xmlns:stream", ns::STREAM, self.one_line);
        write_attrs(out, header.element().root(), self.one_line);
        out.push(b'>');
    }

    /// A top-level element of the stream (a stanza, `<stream:features>`, ...).
    pub fn element(&self, out: &mut Vec<u8>, el: ElementRef<'_>) {
        // As bound by the header: the content namespace as default, and `stream`; over
        // WebSocket nothing encloses the element, so it declares what it uses.
        let scope = match self.framing {
            Framing::WebSocket => Scope::STANDALONE,
            Framing::Stream => Scope {
                default_ns: &self.content_ns,
                prefix: Some(("stream", ns::STREAM)),
            },
        };
        write_element(out, el, &scope, self.one_line, self.mask);
    }

    /// `</stream:stream>`; over WebSocket,
    /// `<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>`.
    pub fn close(&self, out: &mut Vec<u8>) {
        if self.framing == Framing::WebSocket {
            out.extend_from_slice(b"<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
            return;
        }
        out.extend_from_slice(b"</stream:stream>");
    }
}
