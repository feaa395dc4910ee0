//! Building elements by hand, validated as they are built.

use alloc::string::{String, ToString};
use core::fmt;

use super::chars::{first_forbidden, is_ncname};
use super::element::{Element, RawNode, Unpacked};
use crate::ns;

/// Why an element could not be built. Each variant names a value XML cannot carry, so a
/// built [`Element`] is always writable.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// An element or attribute name is not an XML name without a colon.
    InvalidName(String),
    /// A name reserved by XML Namespaces (`xmlns`, or the `xmlns` namespace).
    ReservedName(String),
    /// Text, an attribute value or a namespace contains a character XML cannot carry.
    ForbiddenChar {
        /// The offending character.
        ch: char,
    },
    /// The same attribute (name and namespace) was given twice.
    DuplicateAttribute(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::InvalidName(n) => write!(f, "{n:?} is not a valid XML name"),
            BuildError::ReservedName(n) => write!(f, "{n:?} is reserved by XML Namespaces"),
            BuildError::ForbiddenChar { ch } => {
                write!(
                    f,
                    "character U+{:04X} cannot be carried by XML",
                    u32::from(*ch)
                )
            }
            BuildError::DuplicateAttribute(n) => write!(f, "attribute {n:?} given twice"),
        }
    }
}

impl core::error::Error for BuildError {}

const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// Builds an [`Element`]; the first invalid value is remembered and returned by
/// [`build`](ElementBuilder::build).
#[derive(Clone, Debug)]
#[must_use = "call build() to get the element"]
pub struct ElementBuilder {
    el: Unpacked,
    error: Option<BuildError>,
    /// The last node is text of the root itself (not of a child), so more text extends it.
    text_last: bool,
}

fn check_text(s: &str) -> Result<(), BuildError> {
    first_forbidden(s).map_or(Ok(()), |ch| Err(BuildError::ForbiddenChar { ch }))
}

fn check_name(name: &str) -> Result<(), BuildError> {
    if name == "xmlns" {
        Err(BuildError::ReservedName(name.to_string()))
    } else if is_ncname(name) {
        Ok(())
    } else {
        Err(BuildError::InvalidName(name.to_string()))
    }
}

fn check_ns(ns: &str) -> Result<(), BuildError> {
    if ns == XMLNS_NS {
        return Err(BuildError::ReservedName(ns.to_string()));
    }
    check_text(ns)
}

impl Element {
    /// Starts an element with a local name and a namespace (empty for none).
    pub fn builder(name: &str, ns: &str) -> ElementBuilder {
        let error = check_name(name).and_then(|()| check_ns(ns)).err();
        let el = Unpacked::new(name, ns);
        ElementBuilder {
            el,
            error,
            text_last: false,
        }
    }
}

impl ElementBuilder {
    fn fail(&mut self, e: BuildError) {
        self.error.get_or_insert(e);
    }

    fn set_end(&mut self) {
        let len = self.el.nodes.len() as u32;
        if let Some(RawNode::Element { end, .. }) = self.el.nodes.first_mut() {
            *end = len;
        }
    }

    /// Adds an attribute without a namespace.
    pub fn attr(self, name: &str, value: &str) -> Self {
        self.attr_ns(name, "", value)
    }

    /// Adds an attribute in a namespace (empty for none). `xml:lang` is
    /// `attr_ns("lang", jabber_proto::ns::XML, ..)`, or [`lang`](Self::lang).
    pub fn attr_ns(mut self, name: &str, ns: &str, value: &str) -> Self {
        if let Err(e) = check_name(name)
            .and_then(|()| check_ns(ns))
            .and_then(|()| check_text(value))
        {
            self.fail(e);
            return self;
        }
        if self.el.has_root_attr(name, ns) {
            self.fail(BuildError::DuplicateAttribute(name.to_string()));
            return self;
        }
        let node = RawNode::Attr {
            name: self.el.push_str(name),
            ns: self.el.push_ns(ns),
            value: self.el.push_str(value),
        };
        let RawNode::Element { attrs, .. } = &mut self.el.nodes[0] else {
            return self;
        };
        *attrs += 1;
        let at = *attrs as usize;
        self.el.nodes.insert(at, node);
        // Children moved one place to the right; so did the ends of their subtrees.
        for n in &mut self.el.nodes[at + 1..] {
            if let RawNode::Element { end, .. } = n {
                *end += 1;
            }
        }
        self.set_end();
        self
    }

    /// Adds `xml:lang`.
    pub fn lang(self, value: &str) -> Self {
        self.attr_ns("lang", ns::XML, value)
    }

    /// Appends text; adjacent text is merged into one node.
    pub fn text(mut self, text: &str) -> Self {
        if let Err(e) = check_text(text) {
            self.fail(e);
            return self;
        }
        if text.is_empty() {
            return self;
        }
        match self.el.nodes.last().copied() {
            Some(RawNode::Text(prev)) if self.text_last => {
                // Merged into the text before. An attribute added since put its strings
                // behind that text: then the text moves to the end first (its old bytes
                // stay unused; a builder that alternates text and attributes copies the
                // text each time, one that adds attributes first never does).
                let mut span = prev;
                if span.end as usize != self.el.text.len() {
                    let moved = String::from(
                        self.el
                            .text
                            .get(span.start as usize..span.end as usize)
                            .unwrap_or_default(),
                    );
                    span = self.el.push_str(&moved);
                }
                self.el.text.push_str(text);
                span.end = self.el.text.len() as u32;
                if let Some(last) = self.el.nodes.last_mut() {
                    *last = RawNode::Text(span);
                }
            }
            _ => {
                let span = self.el.push_str(text);
                self.el.nodes.push(RawNode::Text(span));
            }
        }
        self.text_last = true;
        self.set_end();
        self
    }

    /// Appends a child element (an [`Element`] or another builder).
    pub fn child(mut self, child: impl Into<ChildResult>) -> Self {
        match child.into().0 {
            Err(e) => self.fail(e),
            Ok(Child::Packed(c)) => {
                self.text_last = false;
                self.el.append_copy(&c, 0);
                self.set_end();
            }
            Ok(Child::Unpacked(c)) => {
                self.text_last = false;
                self.el.append_unpacked(c);
                self.set_end();
            }
        }
        self
    }

    /// Appends every element of an iterator as a child.
    pub fn children<I, C>(self, children: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<ChildResult>,
    {
        children.into_iter().fold(self, ElementBuilder::child)
    }

    /// The element, or the first invalid value given to the builder.
    pub fn build(self) -> Result<Element, BuildError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.el.pack()),
        }
    }
}

/// A child for [`ElementBuilder::child`]: an element, or a builder whose error is carried
/// over to the parent.
#[derive(Debug)]
pub struct ChildResult(Result<Child, BuildError>);

/// A child as given: a builder's stays unpacked, so nesting builders packs once, at the
/// outermost `build`.
#[derive(Debug)]
enum Child {
    Packed(Element),
    Unpacked(Unpacked),
}

impl From<Element> for ChildResult {
    fn from(e: Element) -> Self {
        ChildResult(Ok(Child::Packed(e)))
    }
}

impl From<&Element> for ChildResult {
    fn from(e: &Element) -> Self {
        ChildResult(Ok(Child::Packed(e.clone())))
    }
}

impl From<ElementBuilder> for ChildResult {
    fn from(b: ElementBuilder) -> Self {
        ChildResult(match b.error {
            Some(e) => Err(e),
            None => Ok(Child::Unpacked(b.el)),
        })
    }
}

impl From<super::ElementRef<'_>> for ChildResult {
    fn from(e: super::ElementRef<'_>) -> Self {
        ChildResult(Ok(Child::Packed(e.to_element())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_after_children_keep_the_tree_consistent() {
        let el = Element::builder("a", "urn:x")
            .child(Element::builder("b", "urn:x").child(Element::builder("c", "urn:y")))
            .text("t")
            .attr("k", "v")
            .attr("l", "w")
            .build()
            .unwrap();
        assert_eq!(el.attr("k"), Some("v"));
        assert_eq!(el.attr("l"), Some("w"));
        let b = el.child("b", "urn:x").unwrap();
        assert_eq!(b.child("c", "urn:y").unwrap().name(), "c");
        assert_eq!(el.text(), "t");
        assert_eq!(el.children().count(), 1);
    }

    #[test]
    fn rejects_what_xml_cannot_carry() {
        let e = |b: ElementBuilder| b.build().unwrap_err();
        assert_eq!(
            e(Element::builder("1a", "")),
            BuildError::InvalidName("1a".into())
        );
        assert_eq!(
            e(Element::builder("a:b", "")),
            BuildError::InvalidName("a:b".into())
        );
        assert_eq!(
            e(Element::builder("a", "").text("\u{1}")),
            BuildError::ForbiddenChar { ch: '\u{1}' }
        );
        assert_eq!(
            e(Element::builder("a", "").attr("k", "\u{FFFF}")),
            BuildError::ForbiddenChar { ch: '\u{FFFF}' }
        );
        assert_eq!(
            e(Element::builder("a", "").attr("xmlns", "x")),
            BuildError::ReservedName("xmlns".into())
        );
        assert_eq!(
            e(Element::builder("a", XMLNS_NS)),
            BuildError::ReservedName(XMLNS_NS.into())
        );
        assert_eq!(
            e(Element::builder("a", "").attr("k", "1").attr("k", "2")),
            BuildError::DuplicateAttribute("k".into())
        );
        // The first error wins, even when it comes from a child builder.
        let nested = Element::builder("a", "")
            .child(Element::builder("", ""))
            .text("\u{0}");
        assert_eq!(e(nested), BuildError::InvalidName(String::new()));
    }

    #[test]
    fn same_name_in_two_namespaces_is_two_attributes() {
        let el = Element::builder("a", "")
            .attr("lang", "x")
            .lang("en")
            .build()
            .unwrap();
        assert_eq!(el.root().lang(), Some("en"));
        assert_eq!(el.attr("lang"), Some("x"));
    }

    #[test]
    fn text_after_a_child_is_not_merged_into_the_child() {
        let el = Element::builder("a", "")
            .child(Element::builder("b", "").text("in"))
            .text("out")
            .build()
            .unwrap();
        assert_eq!(el.child("b", "").unwrap().text(), "in");
        assert_eq!(el.text(), "out");
        assert_eq!(el.to_string(), "<a><b>in</b>out</a>");
    }

    #[test]
    fn text_is_merged_across_an_attribute_added_between() {
        let split = Element::builder("e", "urn:x")
            .text("a")
            .attr("x", "1")
            .text("b")
            .build()
            .unwrap();
        let whole = Element::builder("e", "urn:x")
            .attr("x", "1")
            .text("ab")
            .build()
            .unwrap();
        assert_eq!(split.root().nodes().count(), 1);
        assert_eq!(split, whole);
        assert_eq!(split.text(), "ab");
        assert_eq!(split.attr("x"), Some("1"));
    }

    #[test]
    fn text_is_merged() {
        let el = Element::builder("a", "")
            .text("x")
            .text("")
            .text("y")
            .build()
            .unwrap();
        assert_eq!(el.root().nodes().count(), 1);
        assert_eq!(el.text(), "xy");
    }
}
