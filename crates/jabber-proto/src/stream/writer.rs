//! Serialising: the XML declaration, the stream header, top-level elements, the close.
//!
//! Everything we send goes through here, so escaping and namespace declarations are
//! decided in one place. Elements are validated when built (see
//! [`ElementBuilder`](crate::xml::ElementBuilder)), so whatever reaches the writer can be
//! written: it has no error path.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::StreamHeader;
use crate::ns;
use crate::xml::{ElementRef, Node};

/// Namespace context an element is written in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scope<'a> {
    /// The default namespace in scope ("" for none).
    pub(crate) default_ns: &'a str,
    /// Whether the `stream` prefix is bound to the streams namespace.
    pub(crate) stream_prefix: bool,
}

impl Scope<'_> {
    pub(crate) const STANDALONE: Scope<'static> = Scope {
        default_ns: "",
        stream_prefix: false,
    };
}

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
}

impl Writer {
    /// The writer of a client stream (`jabber:client`): a constant, so a connection need
    /// not store one.
    pub(crate) const CLIENT: Writer = Writer {
        content_ns: Cow::Borrowed(ns::CLIENT),
        one_line: false,
    };

    /// A writer for a stream whose default namespace is `content_ns` (`jabber:client`).
    pub fn new(content_ns: &str) -> Writer {
        Writer {
            content_ns: ns::shared(content_ns),
            one_line: false,
        }
    }

    /// With `true`, line feeds and tabs in text are written as character references too,
    /// so every element takes exactly one line (the value is unchanged).
    #[must_use]
    pub fn one_line(mut self, one_line: bool) -> Writer {
        self.one_line = one_line;
        self
    }

    /// `<?xml version='1.0'?>`
    pub fn declaration(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"<?xml version='1.0'?>");
    }

    /// The stream header's start tag, declaring the writer's content namespace as default
    /// and the `stream` prefix.
    pub fn header(&self, out: &mut Vec<u8>, header: &StreamHeader) {
        out.extend_from_slice(b"<stream:stream");
        // The writer's namespace, not the header's: elements are written against it.
        write_attr(out, "xmlns", &self.content_ns, self.one_line);
        write_attr(out, "xmlns:stream", ns::STREAM, self.one_line);
        write_attrs(out, header.element().root(), self.one_line);
        out.push(b'>');
    }

    /// A top-level element of the stream (a stanza, `<stream:features>`, ...).
    pub fn element(&self, out: &mut Vec<u8>, el: ElementRef<'_>) {
        let scope = Scope {
            default_ns: &self.content_ns,
            stream_prefix: true,
        };
        write_element(out, el, &scope, self.one_line);
    }

    /// `</stream:stream>`
    pub fn close(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"</stream:stream>");
    }
}

/// Writes `el` and its subtree in `scope`.
pub(crate) fn write_element(
    out: &mut Vec<u8>,
    el: ElementRef<'_>,
    scope: &Scope<'_>,
    one_line: bool,
) {
    let el_ns = el.ns();
    let prefixed = scope.stream_prefix && el_ns == ns::STREAM;
    out.push(b'<');
    if prefixed {
        out.extend_from_slice(b"stream:");
    }
    out.extend_from_slice(el.name().as_bytes());
    let mut inner = *scope;
    if !prefixed && el_ns != scope.default_ns {
        write_attr(out, "xmlns", el_ns, one_line);
        inner.default_ns = el_ns;
    }
    write_attrs(out, el, one_line);
    if el.is_empty() {
        out.extend_from_slice(b"/>");
        return;
    }
    out.push(b'>');
    for node in el.nodes() {
        match node {
            Node::Text(t) => escape(out, t, false, one_line),
            Node::Element(child) => write_element(out, child, &inner, one_line),
        }
    }
    out.extend_from_slice(b"</");
    if prefixed {
        out.extend_from_slice(b"stream:");
    }
    out.extend_from_slice(el.name().as_bytes());
    out.push(b'>');
}

/// Attributes in order; those in a namespace other than `xml` get a generated prefix,
/// declared on the same element.
fn write_attrs(out: &mut Vec<u8>, el: ElementRef<'_>, one_line: bool) {
    let mut declared: Vec<&str> = Vec::new();
    for a in el.attrs() {
        out.push(b' ');
        match a.ns {
            "" => {}
            ns::XML => out.extend_from_slice(b"xml:"),
            other => {
                let i = match declared.iter().position(|d| *d == other) {
                    Some(i) => i,
                    None => {
                        declared.push(other);
                        let i = declared.len() - 1;
                        out.extend_from_slice(b"xmlns:ns");
                        push_number(out, i);
                        out.extend_from_slice(b"='");
                        escape(out, other, true, one_line);
                        out.extend_from_slice(b"' ");
                        i
                    }
                };
                out.extend_from_slice(b"ns");
                push_number(out, i);
                out.push(b':');
            }
        }
        out.extend_from_slice(a.name.as_bytes());
        out.extend_from_slice(b"='");
        escape(out, a.value, true, one_line);
        out.push(b'\'');
    }
}

fn push_number(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn write_attr(out: &mut Vec<u8>, name: &str, value: &str, one_line: bool) {
    out.push(b' ');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"='");
    escape(out, value, true, one_line);
    out.push(b'\'');
}

/// Escapes text (`attr == false`) or a single-quoted attribute value. Whitespace that the
/// reader would normalise is written as a character reference so the value survives.
fn escape(out: &mut Vec<u8>, s: &str, attr: bool, one_line: bool) {
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'\'' if attr => b"&apos;",
            b'\r' => b"&#13;",
            b'\n' if attr || one_line => b"&#10;",
            b'\t' if attr || one_line => b"&#9;",
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        out.extend_from_slice(rep);
        run = i + 1;
    }
    out.extend_from_slice(&bytes[run..]);
}
