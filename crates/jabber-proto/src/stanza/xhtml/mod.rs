//! XHTML-IM (XEP-0071): styled message bodies, built valid and read safely.
//!
//! Both directions meet in one **safe representation**, [`Html`]: bodies holding a tree
//! of a closed set of [`Node`] kinds (text, line break, styled span, paragraph, quote,
//! link, image, list), each with a [`Style`] of XEP-0071's recommended CSS properties and
//! typed values, links and images only to [`SafeUri`]s. Nothing else can be expressed in
//! it, so nothing else can come out of it.
//!
//! - **Outbound**, [`HtmlBuilder`] appends text, styled runs and text with overlapping
//!   style ranges ([`HtmlBuilder::styled_ranges`]), and opens and closes
//!   containers innermost-first: strict nesting is the only thing it can express (the
//!   cheat sheet's `<b><i>wow!</b></i>` cannot be written), and what XHTML-IM's content
//!   model forbids (a paragraph in a span, a link in a link, text directly in a list, an
//!   unsafe link) is refused with an [`XhtmlError`]. [`Html::to_element`] writes the
//!   `<html/>` element, [`Html::plain_text`] the `<body/>` fallback from the same tree, and
//!   [`Html::message`] a message carrying both.
//! - **Inbound**, [`Message::html`] and [`Html::from_element`] read leniently: legacy
//!   `<b>`, `<i>`, `<u>`, `<font color face size>`, `<strong>`, `<em>` and friends become
//!   styles, unknown elements keep their text (XHTML's "ignore"), while script-like
//!   elements (`script`, `style`, `iframe`, `object`, `svg`, `math`, ...) and elements of
//!   other namespaces are dropped with their content; every attribute not understood
//!   (`on*`, `class`, ...) is ignored; links and images whose scheme is not allowed lose
//!   their target. Depth, node count and text are bounded by [`XhtmlLimits`], and the walk
//!   keeps its stack on the heap: hostile nesting cannot overflow the call stack.
//!
//! ```
//! use jabber_proto::stanza::xhtml::{Html, XhtmlLimits};
//! use jabber_proto::xml::Element;
//! # use jabber_proto::stanza::xhtml::{NS_XHTML, NS_XHTML_IM};
//! // What a careless (or hostile) client may send, as the stream layer parsed it:
//! // <html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>
//! //   <font color='red' onclick='steal()'>hi</font><script>steal()</script>
//! //   <a href='JavaScript:steal()'>click</a></body></html>
//! # let x = |n: &str| Element::builder(n, NS_XHTML);
//! # let html = Element::builder("html", NS_XHTML_IM).child(x("body")
//! #     .child(x("font").attr("color", "red").attr("onclick", "steal()").text("hi"))
//! #     .child(x("script").text("steal()"))
//! #     .child(x("a").attr("href", "JavaScript:steal()").text("click"))).build().unwrap();
//! let read = Html::from_element(html.root(), &XhtmlLimits::default()).unwrap();
//! assert_eq!(
//!     read.html.to_element().to_string(),
//!     "<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>\
//!      <span style='color:#ff0000'>hi</span>click</body></html>"
//! );
//! assert_eq!(read.html.plain_text(), "hiclick");
//! assert_eq!((read.removed.elements, read.removed.attributes, read.removed.links), (1, 1, 1));
//! ```

mod builder;
mod css;
mod render;
mod sanitize;
mod uri;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::num::NonZeroU16;

pub use builder::HtmlBuilder;
pub use css::{
    Color, FamilyName, FontFamily, FontSize, FontStyle, FontWeight, GenericFamily, Length,
    MAX_FONT_FAMILIES, MAX_FONT_NAME_BYTES, SizeKeyword, Style, TextAlign, TextDecoration, Unit,
};
pub use uri::{MAX_URI_BYTES, SafeUri};

use super::Message;
use crate::xml::ElementRef;

/// Namespace of the `<html/>` wrapper.
pub const NS_XHTML_IM: &str = "http://jabber.org/protocol/xhtml-im";
/// Namespace of the XHTML content, from `<body/>` down.
pub const NS_XHTML: &str = "http://www.w3.org/1999/xhtml";

/// Most bodies (languages) in one `<html/>`; the reader drops further ones.
pub const MAX_BODIES: usize = 16;

/// Bounds on what reading (and building) XHTML-IM may produce, per body (at most
/// [`MAX_BODIES`] of them).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct XhtmlLimits {
    /// Deepest nesting of containers inside a body (a list and its item are two levels).
    /// Deeper markup keeps its text without its structure. Default 16; values above
    /// [`XhtmlLimits::CEILING_DEPTH`] count as the ceiling.
    pub max_depth: usize,
    /// Most nodes (text runs, breaks, images, containers, list items) in a body.
    /// Reading stops there. Default 1024.
    pub max_nodes: usize,
    /// Most bytes of text (image `alt` included) in a body. Reading stops there.
    /// Default 64 KiB.
    pub max_text_bytes: usize,
}

impl XhtmlLimits {
    /// The hard ceiling on `max_depth`: rendering recurses once per level.
    pub const CEILING_DEPTH: usize = 64;

    fn depth(&self) -> usize {
        self.max_depth.min(Self::CEILING_DEPTH)
    }
}

impl Default for XhtmlLimits {
    fn default() -> Self {
        XhtmlLimits {
            max_depth: 16,
            max_nodes: 1024,
            max_text_bytes: 64 << 10,
        }
    }
}

/// XHTML-IM content: one body, or several in distinct languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Html {
    bodies: Vec<Body>,
}

/// One `<body/>`: its language, style and content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Body {
    lang: Option<String>,
    style: Style,
    nodes: Vec<Node>,
}

/// A node of the safe representation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Node {
    /// Text (never empty; adjacent runs are merged).
    Text(String),
    /// `<br/>`
    Break,
    /// `<span style>`: inline text with a style.
    Span(Container),
    /// `<p>`: a paragraph.
    Paragraph(Container),
    /// `<blockquote>`: quoted text.
    Quote(Container),
    /// `<a href>`: a link to a [`SafeUri`].
    Link(Link),
    /// `<img/>`
    Image(Image),
    /// `<ul>` or `<ol>`.
    List(List),
}

/// A styled container of nodes (span, paragraph, quote, list item).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    style: Style,
    children: Vec<Node>,
}

impl Container {
    /// Its style.
    pub fn style(&self) -> &Style {
        &self.style
    }

    /// Its content.
    pub fn children(&self) -> &[Node] {
        &self.children
    }
}

/// A link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    href: SafeUri,
    style: Style,
    children: Vec<Node>,
}

impl Link {
    /// The target (its scheme is `http`, `https`, `xmpp` or `mailto`). An `xmpp:` URI
    /// may carry a query action (XEP-0147, such as `?remove`): ask before acting on it.
    pub fn href(&self) -> &SafeUri {
        &self.href
    }

    /// Its style.
    pub fn style(&self) -> &Style {
        &self.style
    }

    /// The linked content. Show the target too when it differs (XEP-0071 §11.2).
    pub fn children(&self) -> &[Node] {
        &self.children
    }
}

/// An image by reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    src: SafeUri,
    alt: String,
    width: Option<NonZeroU16>,
    height: Option<NonZeroU16>,
    style: Style,
}

impl Image {
    /// An image at `src` (scheme `http`, `https` or `cid`) with its alternative text.
    pub fn new(src: &str, alt: &str) -> Result<Image, XhtmlError> {
        let src = SafeUri::image(src).ok_or(XhtmlError::UnsafeUri)?;
        builder::check_text(alt)?;
        Ok(Image {
            src,
            alt: String::from(alt),
            width: None,
            height: None,
            style: Style::default(),
        })
    }

    /// The same image with its size hints, in pixels.
    pub fn with_size(mut self, width: Option<NonZeroU16>, height: Option<NonZeroU16>) -> Image {
        self.width = width;
        self.height = height;
        self
    }

    /// The same image with a style.
    pub fn with_style(mut self, style: Style) -> Image {
        self.style = style;
        self
    }

    /// The source. Fetching it reveals the reader's presence (XEP-0071 §11.3).
    pub fn src(&self) -> &SafeUri {
        &self.src
    }

    /// The alternative text (may be empty).
    pub fn alt(&self) -> &str {
        &self.alt
    }

    /// Width hint in pixels.
    pub fn width(&self) -> Option<NonZeroU16> {
        self.width
    }

    /// Height hint in pixels.
    pub fn height(&self) -> Option<NonZeroU16> {
        self.height
    }

    /// Its style.
    pub fn style(&self) -> &Style {
        &self.style
    }
}

/// A list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct List {
    ordered: bool,
    style: Style,
    items: Vec<Container>,
}

impl List {
    /// `<ol>` (true) or `<ul>`.
    pub fn is_ordered(&self) -> bool {
        self.ordered
    }

    /// Its style.
    pub fn style(&self) -> &Style {
        &self.style
    }

    /// The items.
    pub fn items(&self) -> &[Container] {
        &self.items
    }
}

impl Body {
    /// `xml:lang` of the body.
    pub fn lang(&self) -> Option<&str> {
        self.lang.as_deref()
    }

    /// The body's own style.
    pub fn style(&self) -> &Style {
        &self.style
    }

    /// The content.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The content as plain text: paragraphs and list items on lines of their own, list
    /// items marked `- ` or `1. `, quoted lines prefixed `> `, a link followed by
    /// `<target>` when its text differs, an image as its `alt` text (else its source).
    pub fn plain_text(&self) -> String {
        render::plain_text(&self.nodes)
    }
}

impl Html {
    /// Content made of these bodies: at least one and at most [`MAX_BODIES`], and when
    /// more than one, each with a distinct `xml:lang` (XEP-0071 §5).
    pub fn new(bodies: Vec<Body>) -> Result<Html, XhtmlError> {
        if bodies.is_empty() {
            return Err(XhtmlError::NoBody);
        }
        if bodies.len() > MAX_BODIES {
            return Err(XhtmlError::TooLarge);
        }
        if bodies.len() > 1 {
            for (i, b) in bodies.iter().enumerate() {
                let Some(lang) = &b.lang else {
                    return Err(XhtmlError::DuplicateLang);
                };
                if bodies[..i].iter().any(|o| o.lang.as_ref() == Some(lang)) {
                    return Err(XhtmlError::DuplicateLang);
                }
            }
        }
        Ok(Html { bodies })
    }

    /// The bodies (empty only when read from an `<html/>` without any).
    pub fn bodies(&self) -> &[Body] {
        &self.bodies
    }

    /// The first body.
    pub fn body(&self) -> Option<&Body> {
        self.bodies.first()
    }

    /// The first body as plain text (see [`Body::plain_text`]); empty without a body.
    pub fn plain_text(&self) -> String {
        self.body().map(Body::plain_text).unwrap_or_default()
    }

    /// Reads an `<html xmlns='http://jabber.org/protocol/xhtml-im'/>` element leniently
    /// into the safe representation, with what had to be removed.
    pub fn from_element(el: ElementRef<'_>, limits: &XhtmlLimits) -> Result<Sanitized, NotXhtmlIm> {
        if !el.is("html", NS_XHTML_IM) {
            return Err(NotXhtmlIm);
        }
        Ok(sanitize::sanitize(el, limits))
    }
}

/// What [`Html::from_element`] read, and what it left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sanitized {
    /// The safe representation.
    pub html: Html,
    /// What was removed on the way.
    pub removed: Removed,
}

/// Counts of what reading left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Removed {
    /// Elements dropped with their content: script-like ones, foreign namespaces.
    pub elements: usize,
    /// Attributes ignored (event handlers, `class`, `id`, anything not understood).
    pub attributes: usize,
    /// CSS declarations dropped from `style` attributes.
    pub styles: usize,
    /// Links whose target was refused (their text is kept).
    pub links: usize,
    /// Images whose source was refused (their `alt` text is kept).
    pub images: usize,
    /// Reading stopped at [`XhtmlLimits::max_nodes`] or [`XhtmlLimits::max_text_bytes`].
    pub truncated: bool,
}

impl Removed {
    /// Whether nothing was removed.
    pub fn is_empty(&self) -> bool {
        *self == Removed::default()
    }
}

/// The element is not XHTML-IM's `<html/>` wrapper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotXhtmlIm;

impl fmt::Display for NotXhtmlIm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not an XHTML-IM <html/> element")
    }
}

impl core::error::Error for NotXhtmlIm {}

/// Why the builder refused a step.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum XhtmlError {
    /// A paragraph, quote or list inside a span, link or paragraph (XHTML allows blocks
    /// only in the body, a quote or a list item).
    BlockInInline,
    /// A list item outside a list.
    NotInList,
    /// Text or an element directly inside a list: only items go there.
    OutsideItem,
    /// A link inside a link.
    NestedLink,
    /// `end` with nothing open.
    NothingOpen,
    /// `build` with containers still open.
    Unclosed,
    /// Deeper than [`XhtmlLimits::max_depth`].
    TooDeep,
    /// More than [`XhtmlLimits::max_nodes`] nodes or [`XhtmlLimits::max_text_bytes`] in
    /// a body, or more than [`MAX_BODIES`] bodies.
    TooLarge,
    /// A link or image target whose scheme is not allowed (or not a URI with a scheme).
    UnsafeUri,
    /// A style value the reader would not keep (more than [`MAX_FONT_FAMILIES`]
    /// families, a font weight outside 100–900).
    InvalidStyle,
    /// A style range out of bounds or not on character boundaries.
    BadRange,
    /// A character XML cannot carry.
    ForbiddenChar {
        /// The character.
        ch: char,
    },
    /// A language tag that is not letters, digits and `-` (at most 35).
    InvalidLang,
    /// No body, or several without distinct languages.
    NoBody,
    /// Several bodies without distinct `xml:lang`s.
    DuplicateLang,
}

impl fmt::Display for XhtmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XhtmlError::BlockInInline => f.write_str("block inside inline content"),
            XhtmlError::NotInList => f.write_str("list item outside a list"),
            XhtmlError::OutsideItem => f.write_str("content directly inside a list"),
            XhtmlError::NestedLink => f.write_str("link inside a link"),
            XhtmlError::NothingOpen => f.write_str("nothing to close"),
            XhtmlError::Unclosed => f.write_str("containers left open"),
            XhtmlError::TooDeep => f.write_str("nested too deep"),
            XhtmlError::TooLarge => f.write_str("too many nodes or too much text"),
            XhtmlError::UnsafeUri => f.write_str("URI scheme not allowed"),
            XhtmlError::InvalidStyle => f.write_str("style value out of range"),
            XhtmlError::BadRange => f.write_str("style range out of bounds"),
            XhtmlError::ForbiddenChar { ch } => {
                write!(
                    f,
                    "character U+{:04X} cannot be carried by XML",
                    u32::from(*ch)
                )
            }
            XhtmlError::InvalidLang => f.write_str("invalid language tag"),
            XhtmlError::NoBody => f.write_str("no body"),
            XhtmlError::DuplicateLang => f.write_str("bodies without distinct languages"),
        }
    }
}

impl core::error::Error for XhtmlError {}

impl Message {
    /// The message's XHTML-IM content, read safely with the default [`XhtmlLimits`];
    /// `None` without an `<html/>` child.
    pub fn html(&self) -> Option<Sanitized> {
        self.html_with(&XhtmlLimits::default())
    }

    /// [`Message::html`] with chosen limits.
    pub fn html_with(&self, limits: &XhtmlLimits) -> Option<Sanitized> {
        let el = self.element().child("html", NS_XHTML_IM)?;
        Html::from_element(el, limits).ok()
    }
}

/// Whether `lang` is a plausible language tag: 1–35 letters, digits and `-`.
fn is_lang(lang: &str) -> bool {
    (1..=35).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}
