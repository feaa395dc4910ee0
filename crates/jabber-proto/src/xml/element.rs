//! The element tree: one buffer per element, its strings followed by its node table.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::node_table::{self, ATTRS, ELEMENT, END, NAME, TEXT, VALUE};
use crate::ns;

/// A byte range of an element's string buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Span {
    /// Set in `start` and `end` of spans of decoded values while an element is parsed
    /// (they are moved behind the raw text when it is complete).
    pub(crate) const EXTRA: u32 = 1 << 31;

    pub(crate) fn new(start: usize, end: usize) -> Span {
        // Limits::CEILING_BYTES keeps every offset below 2^30.
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
}

/// A namespace name: absent, one of the well-known names (no copy needed when an element
/// inherits it from the stream header), or a range of the string buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ns {
    None,
    Known(u8),
    At(Span),
}

/// Nodes in document order. An element is followed by its attributes, then by its
/// children; `end` is the index just past its subtree, so siblings are one jump apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RawNode {
    Element {
        name: Span,
        ns: Ns,
        attrs: u32,
        end: u32,
    },
    Attr {
        name: Span,
        ns: Ns,
        value: Span,
    },
    Text(Span),
}

impl RawNode {
    /// The same node with every string span (names, namespace names, values, text) passed
    /// through `span`, and an element's subtree end through `end`.
    pub(crate) fn map_spans(
        self,
        mut span: impl FnMut(Span) -> Span,
        end: impl FnOnce(u32) -> u32,
    ) -> RawNode {
        fn ns(n: Ns, span: &mut impl FnMut(Span) -> Span) -> Ns {
            match n {
                Ns::At(s) => Ns::At(span(s)),
                other => other,
            }
        }
        match self {
            RawNode::Element {
                name,
                ns: n,
                attrs,
                end: e,
            } => RawNode::Element {
                name: span(name),
                ns: ns(n, &mut span),
                attrs,
                end: end(e),
            },
            RawNode::Attr { name, ns: n, value } => RawNode::Attr {
                name: span(name),
                ns: ns(n, &mut span),
                value: span(value),
            },
            RawNode::Text(t) => RawNode::Text(span(t)),
        }
    }
}

/// An XML element with its attributes and children, namespaces resolved.
///
/// Parsed elements come from [`StreamParser`](crate::stream::StreamParser); new ones from
/// [`Element::builder`]. Reading goes through [`ElementRef`], a cheap copyable view of the
/// root or of any descendant; `Element` forwards the common getters to its root.
///
/// ```
/// use jabber_proto::xml::Element;
/// let msg = Element::builder("message", "jabber:client")
///     .attr("to", "juliet@example.com")
///     .child(Element::builder("body", "jabber:client").text("Art thou not Romeo?"))
///     .build()
///     .unwrap();
/// assert_eq!(msg.attr("to"), Some("juliet@example.com"));
/// assert_eq!(msg.child("body", "jabber:client").unwrap().text(), "Art thou not Romeo?");
/// ```
#[derive(Clone)]
pub struct Element {
    /// The strings — the raw text of a parsed element followed by the values decoded
    /// while parsing (text and attributes with references), or all strings of a built
    /// one — then, from `table` on, the nodes ([`node_table`]).
    pub(crate) buf: String,
    pub(crate) table: u32,
    /// The table has five digits per field, not two.
    pub(crate) wide: bool,
}

/// An element under construction: its strings and its nodes apart, until
/// [`pack`](Unpacked::pack) puts them in one buffer.
#[derive(Clone, Default)]
pub(crate) struct Unpacked {
    pub(crate) text: String,
    pub(crate) nodes: Vec<RawNode>,
}

/// A borrowed view of one element inside an [`Element`] tree.
#[derive(Clone, Copy)]
pub struct ElementRef<'a> {
    el: &'a Element,
    idx: usize,
}

/// A child node: an element or a run of text (entity references already decoded,
/// adjacent text and CDATA merged).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Node<'a> {
    /// A child element.
    Element(ElementRef<'a>),
    /// Character data.
    Text(&'a str),
}

/// An attribute of an element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attribute<'a> {
    /// Local name, without prefix.
    pub name: &'a str,
    /// Namespace name; empty for unprefixed attributes, which have no namespace.
    pub ns: &'a str,
    /// Value, references decoded and normalised as XML prescribes.
    pub value: &'a str,
}

impl Element {
    /// A view of the root element.
    pub fn root(&self) -> ElementRef<'_> {
        ElementRef { el: self, idx: 0 }
    }

    /// Local name of the root element.
    pub fn name(&self) -> &str {
        self.root().name()
    }

    /// Namespace name of the root element.
    pub fn ns(&self) -> &str {
        self.root().ns()
    }

    /// Whether the root element has this local name and namespace.
    pub fn is(&self, name: &str, ns: &str) -> bool {
        self.root().is(name, ns)
    }

    /// Value of an attribute of the root without a namespace.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.root().attr(name)
    }

    /// The root's first child element with this name and namespace.
    pub fn child(&self, name: &str, ns: &str) -> Option<ElementRef<'_>> {
        self.root().child(name, ns)
    }

    /// The root's child elements.
    pub fn children(&self) -> Children<'_> {
        self.root().children()
    }

    /// The root's text content (its direct text children, concatenated).
    pub fn text(&self) -> Cow<'_, str> {
        self.root().text()
    }

    /// An element without attributes or children. Nothing is checked: the builder checks
    /// first, other callers pass constants.
    pub(crate) fn unchecked(name: &str, ns: &str) -> Element {
        Unpacked::new(name, ns).pack()
    }

    /// Puts `nodes` behind the strings in `text`: the element's one allocation when
    /// `text` has room for them.
    pub(crate) fn pack(mut text: String, nodes: &[RawNode]) -> Element {
        let table = text.len() as u32;
        let wide = node_table::needs_wide(text.len(), nodes.len());
        text.reserve_exact(nodes.len() * node_table::record_len(wide));
        node_table::encode(&mut text, nodes, wide);
        Element {
            buf: text,
            table,
            wide,
        }
    }

    /// Bytes [`pack`](Self::pack) adds for `nodes` nodes behind `text_len` bytes of
    /// strings.
    pub(crate) fn table_len(text_len: usize, nodes: usize) -> usize {
        nodes * node_table::record_len(node_table::needs_wide(text_len, nodes))
    }

    /// Frees spare capacity (for elements kept a long time).
    pub(crate) fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }

    /// Bytes held: strings and nodes.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn str(&self, span: Span) -> &str {
        self.buf
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }

    /// Whether the string at `span` is `s`: bytes compared, no character boundaries
    /// checked (lookups by name run for every stanza).
    pub(crate) fn str_is(&self, span: Span, s: &str) -> bool {
        // Names are short: a byte loop after the length check beats a call to `memcmp`.
        match self
            .buf
            .as_bytes()
            .get(span.start as usize..span.end as usize)
        {
            Some(b) => b.len() == s.len() && b.iter().zip(s.as_bytes()).all(|(x, y)| x == y),
            None => false,
        }
    }

    pub(crate) fn ns_str(&self, ns: Ns) -> &str {
        match ns {
            Ns::None => "",
            Ns::Known(i) => ns::KNOWN.get(usize::from(i)).copied().unwrap_or_default(),
            Ns::At(span) => self.str(span),
        }
    }
}

impl fmt::Debug for Unpacked {
    /// As the packed element's: XML with secrets masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.clone().pack(), f)
    }
}

impl Unpacked {
    /// An element without attributes or children.
    pub(crate) fn new(name: &str, ns: &str) -> Unpacked {
        let mut el = Unpacked {
            text: String::new(),
            nodes: Vec::with_capacity(1),
        };
        let name = el.push_str(name);
        let ns = el.push_ns(ns);
        el.nodes.push(RawNode::Element {
            name,
            ns,
            attrs: 0,
            end: 1,
        });
        el
    }

    /// The element in one buffer.
    pub(crate) fn pack(self) -> Element {
        Element::pack(self.text, &self.nodes)
    }

    fn str(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }

    fn ns_str(&self, ns: Ns) -> &str {
        match ns {
            Ns::None => "",
            Ns::Known(i) => ns::KNOWN.get(usize::from(i)).copied().unwrap_or_default(),
            Ns::At(span) => self.str(span),
        }
    }

    /// Whether the root has an attribute with this name and namespace.
    pub(crate) fn has_root_attr(&self, name: &str, ns: &str) -> bool {
        let Some(RawNode::Element { attrs, .. }) = self.nodes.first() else {
            return false;
        };
        self.nodes
            .iter()
            .skip(1)
            .take(*attrs as usize)
            .any(|n| match *n {
                RawNode::Attr {
                    name: a, ns: a_ns, ..
                } => self.str(a) == name && self.ns_str(a_ns) == ns,
                _ => false,
            })
    }

    pub(crate) fn push_str(&mut self, s: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(s);
        Span::new(start, self.text.len())
    }

    pub(crate) fn push_ns(&mut self, uri: &str) -> Ns {
        if uri.is_empty() {
            Ns::None
        } else if let Some(i) = ns::known_index(uri) {
            Ns::Known(i)
        } else {
            Ns::At(self.push_str(uri))
        }
    }

    /// Appends `child` (a whole element) as the last node's subtree.
    pub(crate) fn append_unpacked(&mut self, child: Unpacked) {
        let text = self.text.len();
        let nodes = self.nodes.len();
        self.text.push_str(&child.text);
        self.nodes.extend(child.nodes.into_iter().map(|n| {
            n.map_spans(
                |s| Span::new(s.start as usize + text, s.end as usize + text),
                |end| (end as usize + nodes) as u32,
            )
        }));
    }

    /// Appends a copy of the subtree at `src`'s node `idx` to `self.nodes`, strings
    /// included.
    pub(crate) fn append_copy(&mut self, src: &Element, idx: usize) {
        let RawNode::Element { end, .. } = src.node(idx) else {
            return;
        };
        let base = self.nodes.len();
        for i in idx..end as usize {
            let copied = src.node(i).map_spans(
                |s| self.push_str(src.str(s)),
                |end| ((end as usize).saturating_sub(idx) + base) as u32,
            );
            self.nodes.push(copied);
        }
    }
}

impl<'a> ElementRef<'a> {
    // An ElementRef is only ever made for an element node: its fields are an element's.
    fn attr_count(&self) -> usize {
        self.el.field(self.idx, ATTRS) as usize
    }

    fn end(&self) -> usize {
        self.el.field(self.idx, END) as usize
    }

    /// Local name, without prefix.
    pub fn name(&self) -> &'a str {
        self.el.str(self.el.span(self.idx, NAME))
    }

    /// Namespace name; empty when the element is in no namespace.
    pub fn ns(&self) -> &'a str {
        self.el.ns_str(self.el.node_ns(self.idx))
    }

    /// Whether this element has this local name and namespace.
    pub fn is(&self, name: &str, ns: &str) -> bool {
        let rec = self.el.rec(self.idx);
        self.el.str_is(rec.span(NAME), name) && self.el.ns_str(rec.ns()) == ns
    }

    /// The attributes, in document order (namespace declarations are not attributes).
    pub fn attrs(&self) -> impl Iterator<Item = Attribute<'a>> + 'a {
        let el = self.el;
        (self.idx + 1..self.idx + 1 + self.attr_count())
            .map(move |i| el.rec(i))
            .filter(|rec| rec.is_attr())
            .map(move |rec| Attribute {
                name: el.str(rec.span(NAME)),
                ns: el.ns_str(rec.ns()),
                value: el.str(rec.span(VALUE)),
            })
    }

    /// Value of the attribute `name` that has no namespace.
    pub fn attr(&self, name: &str) -> Option<&'a str> {
        self.attr_ns(name, "")
    }

    /// Value of the attribute with this local name and namespace.
    pub fn attr_ns(&self, name: &str, ns: &str) -> Option<&'a str> {
        // Compares names before resolving anything else: this runs for every stanza.
        let el = self.el;
        (self.idx + 1..self.idx + 1 + self.attr_count()).find_map(|i| {
            let rec = el.rec(i);
            (rec.is_attr() && el.str_is(rec.span(NAME), name) && el.ns_str(rec.ns()) == ns)
                .then(|| el.str(rec.span(VALUE)))
        })
    }

    /// The `xml:lang` attribute of this element itself (not inherited).
    pub fn lang(&self) -> Option<&'a str> {
        self.attr_ns("lang", ns::XML)
    }

    /// Child nodes in document order.
    pub fn nodes(&self) -> Nodes<'a> {
        let rec = self.el.rec(self.idx);
        Nodes {
            el: self.el,
            next: self.idx + 1 + rec.field(ATTRS) as usize,
            end: rec.field(END) as usize,
        }
    }

    /// Child elements in document order.
    pub fn children(&self) -> Children<'a> {
        Children(self.nodes())
    }

    /// The first child element with this local name and namespace.
    pub fn child(&self, name: &str, ns: &str) -> Option<ElementRef<'a>> {
        self.children().find(|c| c.is(name, ns))
    }

    /// Whether the element has no children at all (no elements, no text).
    pub fn is_empty(&self) -> bool {
        self.nodes().next().is_none()
    }

    /// The direct text children, concatenated (borrowed when there is at most one).
    pub fn text(&self) -> Cow<'a, str> {
        let mut texts = self.nodes().filter_map(|n| match n {
            Node::Text(t) => Some(t),
            Node::Element(_) => None,
        });
        let Some(first) = texts.next() else {
            return Cow::Borrowed("");
        };
        match texts.next() {
            None => Cow::Borrowed(first),
            Some(second) => {
                let mut s = String::from(first);
                s.push_str(second);
                texts.for_each(|t| s.push_str(t));
                Cow::Owned(s)
            }
        }
    }

    /// An owned copy of this element and its subtree.
    pub fn to_element(&self) -> Element {
        let mut el = Unpacked::default();
        el.append_copy(self.el, self.idx);
        el.pack()
    }

    /// Number of nodes (element, attributes, children) in this subtree.
    fn len(&self) -> usize {
        self.end().saturating_sub(self.idx)
    }
}

/// Iterator over the child nodes of an element.
#[derive(Clone)]
pub struct Nodes<'a> {
    el: &'a Element,
    next: usize,
    end: usize,
}

impl<'a> Iterator for Nodes<'a> {
    type Item = Node<'a>;

    fn next(&mut self) -> Option<Node<'a>> {
        if self.next >= self.end {
            return None;
        }
        let idx = self.next;
        let rec = self.el.rec(idx);
        match rec.kind() & 3 {
            ELEMENT => {
                // Past the child's subtree (which the table never places before it).
                self.next = (rec.field(END) as usize).max(idx + 1);
                Some(Node::Element(ElementRef { el: self.el, idx }))
            }
            TEXT => {
                self.next += 1;
                Some(Node::Text(self.el.str(rec.span(NAME))))
            }
            _ => {
                // Attributes only follow their element; never reached from a child index.
                self.next = self.end;
                None
            }
        }
    }
}

/// Iterator over the child elements of an element.
#[derive(Clone)]
pub struct Children<'a>(Nodes<'a>);

impl<'a> Iterator for Children<'a> {
    type Item = ElementRef<'a>;

    fn next(&mut self) -> Option<ElementRef<'a>> {
        self.0.by_ref().find_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }
}

impl PartialEq for ElementRef<'_> {
    /// Structural equality: names, namespaces, attributes in order, children in order.
    fn eq(&self, other: &Self) -> bool {
        if self.len() != other.len() {
            return false;
        }
        let a = (self.idx..self.idx + self.len()).map(|i| self.el.node(i));
        let b = (other.idx..other.idx + other.len()).map(|i| other.el.node(i));
        a.zip(b).all(|(x, y)| match (x, y) {
            (
                RawNode::Element {
                    name: n1,
                    ns: s1,
                    attrs: a1,
                    end: e1,
                },
                RawNode::Element {
                    name: n2,
                    ns: s2,
                    attrs: a2,
                    end: e2,
                },
            ) => {
                a1 == a2
                    && (e1 as usize).wrapping_sub(self.idx) == (e2 as usize).wrapping_sub(other.idx)
                    && self.el.str(n1) == other.el.str(n2)
                    && self.el.ns_str(s1) == other.el.ns_str(s2)
            }
            (
                RawNode::Attr {
                    name: n1,
                    ns: s1,
                    value: v1,
                },
                RawNode::Attr {
                    name: n2,
                    ns: s2,
                    value: v2,
                },
            ) => {
                self.el.str(n1) == other.el.str(n2)
                    && self.el.ns_str(s1) == other.el.ns_str(s2)
                    && self.el.str(v1) == other.el.str(v2)
            }
            (RawNode::Text(t1), RawNode::Text(t2)) => self.el.str(t1) == other.el.str(t2),
            _ => false,
        })
    }
}

impl PartialEq for Element {
    fn eq(&self, other: &Self) -> bool {
        self.root() == other.root()
    }
}

impl Eq for Element {}

impl fmt::Display for ElementRef<'_> {
    /// Standalone XML: the root declares its namespace (one in the XML namespace uses the
    /// `xml` prefix, which needs no declaration).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        super::serialize::write_element(
            &mut out,
            *self,
            &super::serialize::Scope::STANDALONE,
            false,
            false,
        );
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

impl fmt::Debug for ElementRef<'_> {
    /// As [`Display`](fmt::Display), with secrets masked as the console masks them
    /// ([`console::is_secret`](crate::console::is_secret)): a password the server echoes
    /// back stays out of logs, and out of a capture's event records.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        super::serialize::write_element(
            &mut out,
            *self,
            &super::serialize::Scope::STANDALONE,
            false,
            true,
        );
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.root(), f)
    }
}

impl fmt::Debug for Element {
    /// As [`ElementRef`]'s: secrets masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.root(), f)
    }
}
