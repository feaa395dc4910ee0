//! Reading XHTML-IM leniently into the safe representation.
//!
//! The walk keeps two stacks on the heap: the input elements being read (at most one
//! entry per level of the input, which the stream's `max_depth` bounds) and the output
//! containers being filled (at most [`XhtmlLimits::max_depth`] deep; deeper markup is
//! read as if it were not there, so its text survives). Nothing recurses.
//!
//! Only what the closed set of node kinds can express is ever produced; every element,
//! attribute and value is classified against allow-lists, never passed through.

use alloc::string::String;
use alloc::vec::Vec;
use core::num::NonZeroU16;

use super::builder::{Open, OpenKind, push_text};
use super::css::{self, FontFamily, FontSize, GenericFamily, SizeKeyword, TextAlign};
use super::uri::{Purpose, SafeUri};
use super::{
    Body, Html, Image, MAX_BODIES, NS_XHTML, NS_XHTML_IM, Node, Removed, Sanitized, Style,
    XhtmlLimits,
};
use crate::xml::{ElementRef, Nodes};

/// Elements dropped with everything inside them: executable, embedded, interactive or
/// invisible content, and document metadata.
const DROPPED: &[&str] = &[
    "script",
    "style",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "param",
    "noscript",
    "noembed",
    "noframes",
    "template",
    "svg",
    "math",
    "head",
    "title",
    "meta",
    "link",
    "base",
    "basefont",
    "bgsound",
    "input",
    "button",
    "select",
    "textarea",
    "option",
    "optgroup",
    "datalist",
    "keygen",
    "output",
    "audio",
    "video",
    "source",
    "track",
    "canvas",
    "map",
    "area",
    "xml",
    "xmp",
    "plaintext",
    "listing",
    "portal",
    "slot",
    "dialog",
    "picture",
];

/// How an element of the XHTML namespace is read.
enum Kind {
    Dropped,
    Break,
    Image,
    Link,
    /// A span with this style (from the legacy element's meaning).
    Inline(Style),
    /// A paragraph with this style.
    Paragraph(Style),
    Quote,
    List(bool),
    Item,
    /// Not understood: its content is read as if it were not there.
    Transparent,
}

fn classify(name: &str, el: ElementRef<'_>) -> Kind {
    let is = |n: &str| name.eq_ignore_ascii_case(n);
    let one_of = |list: &[&str]| list.iter().any(|n| name.eq_ignore_ascii_case(n));
    let style = Style::default();
    if one_of(DROPPED) {
        Kind::Dropped
    } else if is("br") {
        Kind::Break
    } else if is("img") {
        Kind::Image
    } else if is("a") {
        Kind::Link
    } else if is("span") {
        Kind::Inline(style)
    } else if one_of(&["b", "strong"]) {
        Kind::Inline(style.bold())
    } else if one_of(&["i", "em", "cite", "dfn", "var"]) {
        Kind::Inline(style.italic())
    } else if one_of(&["u", "ins"]) {
        Kind::Inline(style.underline())
    } else if one_of(&["s", "strike", "del"]) {
        Kind::Inline(style.strike())
    } else if one_of(&["tt", "code", "kbd", "samp"]) {
        Kind::Inline(style.family(FontFamily::Generic(GenericFamily::Monospace)))
    } else if is("big") {
        Kind::Inline(style.size(FontSize::Keyword(SizeKeyword::Larger)))
    } else if is("small") {
        Kind::Inline(style.size(FontSize::Keyword(SizeKeyword::Smaller)))
    } else if is("font") {
        Kind::Inline(font_style(el))
    } else if one_of(&["p", "div", "pre", "address", "dl", "dt", "dd"]) {
        Kind::Paragraph(style)
    } else if one_of(&["h1", "h2", "h3", "h4", "h5", "h6"]) {
        Kind::Paragraph(style.bold())
    } else if is("center") {
        Kind::Paragraph(style.align(TextAlign::Center))
    } else if is("blockquote") {
        Kind::Quote
    } else if is("ol") {
        Kind::List(true)
    } else if one_of(&["ul", "dir", "menu"]) {
        Kind::List(false)
    } else if is("li") {
        Kind::Item
    } else {
        Kind::Transparent
    }
}

/// Attributes each kind reads; every other attribute is ignored (and counted).
fn reads(kind: &Kind, name: &str) -> bool {
    let styled = matches!(
        kind,
        Kind::Inline(_)
            | Kind::Paragraph(_)
            | Kind::Quote
            | Kind::List(_)
            | Kind::Item
            | Kind::Link
            | Kind::Image
    );
    let n = |x: &str| name.eq_ignore_ascii_case(x);
    (styled && n("style"))
        || (matches!(kind, Kind::Link) && n("href"))
        || (matches!(kind, Kind::Image) && (n("src") || n("alt") || n("width") || n("height")))
        || (matches!(kind, Kind::Inline(_)) && (n("color") || n("face") || n("size")))
}

/// An attribute without namespace, its name compared without case (legacy HTML).
fn attr<'a>(el: ElementRef<'a>, name: &str) -> Option<&'a str> {
    el.attrs()
        .find(|a| a.ns.is_empty() && a.name.eq_ignore_ascii_case(name))
        .map(|a| a.value)
}

/// `<font color face size>` as a style.
fn font_style(el: ElementRef<'_>) -> Style {
    let mut s = Style::default();
    if el.name().eq_ignore_ascii_case("font") {
        s.color = attr(el, "color").and_then(css::legacy_color);
        s.font_family = attr(el, "face")
            .map(css::legacy_font_face)
            .unwrap_or_default();
        s.font_size = attr(el, "size").and_then(css::legacy_font_size);
    }
    s
}

/// Whether an element's namespace is XHTML's, or the wrapper's or none (clients that
/// forgot to declare XHTML's).
fn is_html_ns(ns: &str) -> bool {
    ns == NS_XHTML || ns == NS_XHTML_IM || ns.is_empty()
}

/// A `width`/`height`: a positive whole number of pixels (an optional `px` is accepted).
fn pixels(v: &str) -> Option<NonZeroU16> {
    let v = v.trim();
    let v = v.strip_suffix("px").unwrap_or(v);
    if v.is_empty() || v.len() > 5 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u16>().ok().and_then(NonZeroU16::new)
}

struct Walker<'l> {
    limits: &'l XhtmlLimits,
    removed: Removed,
    nodes: usize,
    text_bytes: usize,
    links: usize,
    stopped: bool,
}

/// One input element being read: its remaining children, and the output stack's length
/// to return to when it ends.
struct Frame<'a> {
    nodes: Nodes<'a>,
    keep: usize,
    /// The output stack's length while its children are read: what is above it then is
    /// an item opened for stray content of a list.
    base: usize,
}

pub(super) fn sanitize(html: ElementRef<'_>, limits: &XhtmlLimits) -> Sanitized {
    let mut w = Walker {
        limits,
        removed: Removed::default(),
        nodes: 0,
        text_bytes: 0,
        links: 0,
        stopped: false,
    };
    let mut bodies: Vec<Body> = Vec::new();
    let mut any_body = false;
    for child in html.children() {
        if !(child.name().eq_ignore_ascii_case("body") && is_html_ns(child.ns())) {
            w.removed.elements += 1;
            continue;
        }
        any_body = true;
        if bodies.len() == MAX_BODIES {
            w.removed.elements += 1;
            continue;
        }
        let body = w.body(child);
        // One body per language (XEP-0071 §5): a repeated one is dropped.
        if bodies.iter().any(|b| b.lang == body.lang) {
            w.removed.elements += 1;
        } else {
            bodies.push(body);
        }
    }
    if !any_body && html.children().next().is_some() {
        // No <body/>: some clients put the content straight into the wrapper.
        w.removed.elements = 0;
        bodies.push(w.body(html));
    }
    Sanitized {
        html: Html { bodies },
        removed: w.removed,
    }
}

impl Walker<'_> {
    /// Reads one body, within a budget of its own.
    fn body(&mut self, el: ElementRef<'_>) -> Body {
        self.nodes = 0;
        self.text_bytes = 0;
        self.stopped = false;
        let mut lang = None;
        let mut style = Style::default();
        for a in el.attrs() {
            if a.ns == crate::ns::XML && a.name == "lang" && super::is_lang(a.value) {
                lang = Some(String::from(a.value));
            } else if a.ns.is_empty() && a.name.eq_ignore_ascii_case("style") && el.name() == "body"
            {
                style = self.style(a.value);
            } else {
                self.removed.attributes += 1;
            }
        }
        // The body itself is the bottom of the output stack, never popped; it takes what
        // a quote takes (blocks and inline content alike).
        let mut out = alloc::vec![Open::new(OpenKind::Quote, Style::default())];
        let mut frames = alloc::vec![Frame {
            nodes: el.nodes(),
            keep: 1,
            base: 1,
        }];
        while !self.stopped {
            let Some(frame) = frames.last_mut() else {
                break;
            };
            match frame.nodes.next() {
                None => {
                    let keep = frame.keep;
                    frames.pop();
                    close_to(&mut out, keep, &mut self.links);
                }
                Some(crate::xml::Node::Text(t)) => self.text(&mut out, t),
                Some(crate::xml::Node::Element(e)) => {
                    let base = frame.base;
                    if let Some(frame) = self.element(&mut out, e, base) {
                        frames.push(frame);
                    }
                }
            }
        }
        close_to(&mut out, 1, &mut self.links);
        let nodes = out.pop().map(|o| o.children).unwrap_or_default();
        Body { lang, style, nodes }
    }

    fn style(&mut self, css: &str) -> Style {
        let (style, dropped) = Style::parse(css);
        self.removed.styles += dropped;
        style
    }

    /// Counts one new node; false (and reading stops) past the limit.
    fn take_node(&mut self) -> bool {
        if self.nodes >= self.limits.max_nodes {
            self.stop();
            return false;
        }
        self.nodes += 1;
        true
    }

    fn stop(&mut self) {
        self.stopped = true;
        self.removed.truncated = true;
    }

    /// Whether `levels` more containers fit below the body.
    fn room(&self, out: &[Open], levels: usize) -> bool {
        out.len() - 1 + levels <= self.limits.depth()
    }

    /// Makes the top of `out` a place for content other than a list item: inside a
    /// list, an item of its own is opened for stray content. False if it cannot be.
    fn content_place(&mut self, out: &mut Vec<Open>) -> bool {
        if matches!(out.last().map(|o| &o.kind), Some(OpenKind::List { .. })) {
            // A list is opened only with room for its items.
            if !self.take_node() {
                return false;
            }
            out.push(Open::new(OpenKind::Item, Style::default()));
        }
        true
    }

    fn text(&mut self, out: &mut Vec<Open>, t: &str) {
        let in_list = matches!(out.last().map(|o| &o.kind), Some(OpenKind::List { .. }));
        if in_list && t.trim().is_empty() {
            return;
        }
        if !self.content_place(out) {
            return;
        }
        let mut t = t;
        let left = self.limits.max_text_bytes.saturating_sub(self.text_bytes);
        if t.len() > left {
            let mut cut = left;
            while !t.is_char_boundary(cut) {
                cut -= 1;
            }
            t = &t[..cut];
            self.stop();
        }
        if t.is_empty() {
            return;
        }
        let Some(top) = out.last_mut() else {
            return;
        };
        let new = !matches!(top.children.last(), Some(Node::Text(_)));
        if new && !self.take_node() {
            return;
        }
        self.text_bytes += t.len();
        let Some(top) = out.last_mut() else {
            return;
        };
        push_text(&mut top.children, t);
    }

    fn leaf(&mut self, out: &mut Vec<Open>, node: Node) {
        if !self.content_place(out) || !self.take_node() {
            return;
        }
        if let Some(top) = out.last_mut() {
            top.children.push(node);
        }
    }

    /// Reads one element: a leaf is placed at once; a container is opened (or read
    /// transparently) and its children come next, through the returned frame.
    fn element<'a>(
        &mut self,
        out: &mut Vec<Open>,
        el: ElementRef<'a>,
        base: usize,
    ) -> Option<Frame<'a>> {
        if !is_html_ns(el.ns()) {
            self.removed.elements += 1;
            return None;
        }
        let kind = classify(el.name(), el);
        if matches!(kind, Kind::Dropped) {
            self.removed.elements += 1;
            return None;
        }
        let ignored = el
            .attrs()
            .filter(|a| !a.ns.is_empty() || !reads(&kind, a.name))
            .count();
        self.removed.attributes += ignored;
        let own_style = |w: &mut Self| attr(el, "style").map(|s| w.style(s)).unwrap_or_default();
        let open = match kind {
            Kind::Dropped => return None,
            Kind::Break => {
                self.leaf(out, Node::Break);
                return None;
            }
            Kind::Image => {
                let style = own_style(self);
                self.image(out, el, style);
                return None;
            }
            Kind::Transparent => None,
            Kind::Link => {
                let href = attr(el, "href");
                let safe = href.and_then(|h| SafeUri::check(h, Purpose::Link));
                if href.is_some() && safe.is_none() {
                    self.removed.links += 1;
                }
                let style = own_style(self);
                match safe {
                    Some(h) if self.links == 0 => Some((OpenKind::Link(h), style, 1)),
                    _ => None,
                }
            }
            Kind::Inline(mut style) => {
                style.overlay(own_style(self));
                Some((OpenKind::Span, style, 1))
            }
            Kind::Paragraph(mut style) => {
                style.overlay(own_style(self));
                Some((OpenKind::Paragraph, style, 1))
            }
            Kind::Quote => Some((OpenKind::Quote, own_style(self), 1)),
            Kind::List(ordered) => {
                let items = Vec::new();
                Some((OpenKind::List { ordered, items }, own_style(self), 2))
            }
            Kind::Item => {
                let style = own_style(self);
                // A real item ends the one opened for stray content before it.
                close_to(out, base, &mut self.links);
                // An item outside a list reads as a paragraph.
                let in_list = matches!(out.last().map(|o| &o.kind), Some(OpenKind::List { .. }));
                if in_list {
                    Some((OpenKind::Item, style, 1))
                } else {
                    Some((OpenKind::Paragraph, style, 1))
                }
            }
        };
        if let Some((kind, style, levels)) = open {
            let block = matches!(
                kind,
                OpenKind::Paragraph | OpenKind::Quote | OpenKind::List { .. }
            );
            let inline_here = out.last().is_some_and(Open::is_inline);
            if !(block && inline_here) && self.room(out, levels) {
                if !matches!(kind, OpenKind::Item) && !self.content_place(out) {
                    return None;
                }
                // An item opened for stray list content outlives this element: its
                // stray siblings go in too.
                let keep = out.len();
                if self.room(out, levels) && self.take_node() {
                    if matches!(kind, OpenKind::Link(_)) {
                        self.links += 1;
                    }
                    out.push(Open::new(kind, style));
                }
                return Some(Frame {
                    nodes: el.nodes(),
                    keep,
                    base: out.len(),
                });
            }
        }
        // Read as if it were not there.
        let keep = out.len();
        Some(Frame {
            nodes: el.nodes(),
            keep,
            base: keep,
        })
    }

    fn image(&mut self, out: &mut Vec<Open>, el: ElementRef<'_>, style: Style) {
        let alt = attr(el, "alt").unwrap_or_default();
        let src = attr(el, "src").and_then(|s| SafeUri::check(s, Purpose::Image));
        let Some(src) = src else {
            self.removed.images += 1;
            // What the image stood for stays readable.
            self.text(out, alt);
            return;
        };
        if self.text_bytes + alt.len() > self.limits.max_text_bytes {
            self.stop();
            return;
        }
        self.text_bytes += alt.len();
        let image = Image {
            src,
            alt: String::from(alt),
            width: attr(el, "width").and_then(pixels),
            height: attr(el, "height").and_then(pixels),
            style,
        };
        self.leaf(out, Node::Image(image));
    }
}

/// Closes output containers down to `keep` open ones, each into its parent.
fn close_to(out: &mut Vec<Open>, keep: usize, links: &mut usize) {
    while out.len() > keep.max(1) {
        let Some(open) = out.pop() else {
            return;
        };
        if matches!(open.kind, OpenKind::Link(_)) {
            *links -= 1;
        }
        let Some(parent) = out.last_mut() else {
            return;
        };
        match (open.finish(), &mut parent.kind) {
            (Err(item), OpenKind::List { items, .. }) => items.push(item),
            // An item is only ever opened on a list.
            (Err(item), _) => parent.children.extend(item.children),
            (Ok(node), _) => parent.children.push(node),
        }
    }
}
