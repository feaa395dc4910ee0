//! The stream header: `<stream:stream ...>`.

use alloc::borrow::Cow;

use crate::ns;
use crate::xml::Element;

/// A stream header, received or to be sent.
///
/// It holds the root element's attributes (`from`, `to`, `id`, `version`, `xml:lang`, and
/// any others) as an [`Element`] without children, plus the stream's content namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamHeader {
    element: Element,
    content_ns: Cow<'static, str>,
}

impl StreamHeader {
    /// An empty header for a stream whose default namespace is `content_ns`.
    pub fn new(content_ns: &str) -> StreamHeader {
        let element = Element::unchecked("stream", ns::STREAM);
        StreamHeader {
            element,
            content_ns: ns::shared(content_ns),
        }
    }

    pub(crate) fn from_parts(element: Element, content_ns: Cow<'static, str>) -> StreamHeader {
        StreamHeader {
            element,
            content_ns,
        }
    }

    /// The same header (equal to this one) in the least room: the names and values of
    /// its attributes, without the raw start tag and its namespace declarations, and no
    /// spare capacity. For a header kept as long as its connection.
    pub(crate) fn compact(&self) -> StreamHeader {
        let root = self.element.root();
        let mut b = Element::builder(root.name(), root.ns());
        for a in root.attrs() {
            b = b.attr_ns(a.name, a.ns, a.value);
        }
        match b.build() {
            Ok(mut element) => {
                element.shrink_to_fit();
                StreamHeader {
                    element,
                    content_ns: self.content_ns.clone(),
                }
            }
            Err(_) => self.clone(),
        }
    }

    /// Sets an attribute: in place if it is already there, else at the end.
    fn with(self, name: &str, ns: &str, value: &str) -> StreamHeader {
        let mut b = Element::builder("stream", crate::ns::STREAM);
        let mut replaced = false;
        for a in self.element.root().attrs() {
            if a.name == name && a.ns == ns {
                b = b.attr_ns(name, ns, value);
                replaced = true;
            } else {
                b = b.attr_ns(a.name, a.ns, a.value);
            }
        }
        if !replaced {
            b = b.attr_ns(name, ns, value);
        }
        match b.build() {
            Ok(element) => StreamHeader { element, ..self },
            // A value XML cannot carry is left out rather than written.
            Err(_) => self,
        }
    }

    /// Sets `to`.
    #[must_use]
    pub fn with_to(self, to: &str) -> StreamHeader {
        self.with("to", "", to)
    }

    /// Sets `from`.
    #[must_use]
    pub fn with_from(self, from: &str) -> StreamHeader {
        self.with("from", "", from)
    }

    /// Sets `version`.
    #[must_use]
    pub fn with_version(self, version: &str) -> StreamHeader {
        self.with("version", "", version)
    }

    /// Sets `xml:lang`.
    #[must_use]
    pub fn with_lang(self, lang: &str) -> StreamHeader {
        self.with("lang", ns::XML, lang)
    }

    /// The root element (attributes only).
    pub fn element(&self) -> &Element {
        &self.element
    }

    /// The default namespace of the stream's content (`jabber:client`).
    pub fn content_ns(&self) -> &str {
        &self.content_ns
    }

    /// `from`: the server's domain in a header the server sent.
    pub fn from(&self) -> Option<&str> {
        self.element.attr("from")
    }

    /// `to`.
    pub fn to(&self) -> Option<&str> {
        self.element.attr("to")
    }

    /// `id`: the stream id the server chose (used by digest authentication).
    pub fn id(&self) -> Option<&str> {
        self.element.attr("id")
    }

    /// `version`; absent on a classic (pre-XMPP 1.0) stream.
    pub fn version(&self) -> Option<&str> {
        self.element.attr("version")
    }

    /// `xml:lang`.
    pub fn lang(&self) -> Option<&str> {
        self.element.root().lang()
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;

    use crate::stream::{Item, Limits, StreamParser};

    #[test]
    fn a_compact_header_is_the_same_header() {
        let mut parser = StreamParser::new(Limits::default());
        parser.push(
            b"<stream:stream xmlns='jabber:client' xml:lang='en' \
              xmlns:stream='http://etherx.jabber.org/streams' xmlns:x='urn:x' \
              id='a&amp;b&#x20;c' from='example.com' x:extra='1' version='1.0'>",
        );
        let Some(Ok(Item::Header(header))) = parser.next_item() else {
            panic!("a header");
        };
        let compact = header.compact();
        assert_eq!(compact, header);
        assert_eq!(format!("{compact:?}"), format!("{header:?}"));
        assert_eq!(compact.id(), Some("a&b c"));
        assert_eq!(compact.lang(), Some("en"));
        assert_eq!(compact.version(), Some("1.0"));
        assert_eq!(compact.content_ns(), "jabber:client");
        assert_eq!(
            compact.element().root().attr_ns("extra", "urn:x"),
            Some("1")
        );
        assert!(compact.element().held() < header.element().held());
    }
}
