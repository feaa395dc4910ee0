//! Building XHTML-IM: containers are opened and closed innermost-first, so nesting is
//! strict by construction; XHTML-IM's content model is checked at every step.

use alloc::string::String;
use alloc::vec::Vec;

use super::{
    Body, Container, Html, Image, Link, List, Node, SafeUri, Style, XhtmlError, XhtmlLimits,
};
use crate::xml::chars::first_forbidden;

/// What is open, innermost last.
#[derive(Debug)]
pub(super) enum OpenKind {
    Span,
    Paragraph,
    Quote,
    Link(SafeUri),
    List {
        ordered: bool,
        items: Vec<Container>,
    },
    Item,
}

/// One open container with what it has so far.
#[derive(Debug)]
pub(super) struct Open {
    pub(super) kind: OpenKind,
    pub(super) style: Style,
    pub(super) children: Vec<Node>,
}

impl Open {
    pub(super) fn new(kind: OpenKind, style: Style) -> Open {
        Open {
            kind,
            style,
            children: Vec::new(),
        }
    }

    /// Whether only inline content may go in (XHTML: `span`, `a` and `p` hold inline
    /// content only).
    pub(super) fn is_inline(&self) -> bool {
        matches!(
            self.kind,
            OpenKind::Span | OpenKind::Paragraph | OpenKind::Link(_)
        )
    }

    /// The finished container: a node, or (for an item) `Err` with the item.
    pub(super) fn finish(self) -> Result<Node, Container> {
        let c = Container {
            style: self.style,
            children: self.children,
        };
        Ok(match self.kind {
            OpenKind::Span => Node::Span(c),
            OpenKind::Paragraph => Node::Paragraph(c),
            OpenKind::Quote => Node::Quote(c),
            OpenKind::Link(href) => Node::Link(Link {
                href,
                style: c.style,
                children: c.children,
            }),
            OpenKind::List { ordered, items } => Node::List(List {
                ordered,
                style: c.style,
                items,
            }),
            OpenKind::Item => return Err(c),
        })
    }
}

/// Appends text to `children`, merged with a text run just before it. True if a new node
/// was made.
pub(super) fn push_text(children: &mut Vec<Node>, text: &str) -> bool {
    if let Some(Node::Text(last)) = children.last_mut() {
        last.push_str(text);
        false
    } else {
        children.push(Node::Text(String::from(text)));
        true
    }
}

pub(super) fn check_text(s: &str) -> Result<(), XhtmlError> {
    first_forbidden(s).map_or(Ok(()), |ch| Err(XhtmlError::ForbiddenChar { ch }))
}

/// Builds one XHTML-IM body.
///
/// ```
/// use jabber_proto::stanza::xhtml::{Color, HtmlBuilder, Style};
/// let mut b = HtmlBuilder::new();
/// b.open_paragraph(Style::new())?
///     .text("I'm ")?
///     .styled("green", Style::new().color(Color::rgb(0, 128, 0)))?
///     .text(" with ")?
///     .styled("envy", Style::new().bold())?
///     .text("!")?
///     .end()?;
/// let html = b.build()?;
/// assert_eq!(html.plain_text(), "I'm green with envy!");
/// assert_eq!(
///     html.to_element().to_string(),
///     "<html xmlns='http://jabber.org/protocol/xhtml-im'>\
///      <body xmlns='http://www.w3.org/1999/xhtml'><p>I'm \
///      <span style='color:#008000'>green</span> with \
///      <span style='font-weight:bold'>envy</span>!</p></body></html>"
/// );
/// # Ok::<(), jabber_proto::stanza::xhtml::XhtmlError>(())
/// ```
#[derive(Debug)]
pub struct HtmlBuilder {
    limits: XhtmlLimits,
    lang: Option<String>,
    style: Style,
    root: Vec<Node>,
    open: Vec<Open>,
    links: usize,
    nodes: usize,
    text_bytes: usize,
}

impl Default for HtmlBuilder {
    fn default() -> Self {
        HtmlBuilder::new()
    }
}

impl HtmlBuilder {
    /// An empty body, within the default [`XhtmlLimits`].
    pub fn new() -> HtmlBuilder {
        HtmlBuilder::with_limits(XhtmlLimits::default())
    }

    /// An empty body within `limits` (use the limits the reader will apply).
    pub fn with_limits(limits: XhtmlLimits) -> HtmlBuilder {
        HtmlBuilder {
            limits,
            lang: None,
            style: Style::default(),
            root: Vec::new(),
            open: Vec::new(),
            links: 0,
            nodes: 0,
            text_bytes: 0,
        }
    }

    /// Sets the body's `xml:lang`.
    pub fn lang(&mut self, lang: &str) -> Result<&mut Self, XhtmlError> {
        if !super::is_lang(lang) {
            return Err(XhtmlError::InvalidLang);
        }
        self.lang = Some(String::from(lang));
        Ok(self)
    }

    /// Sets the body's own style.
    pub fn body_style(&mut self, style: Style) -> Result<&mut Self, XhtmlError> {
        check_style(&style)?;
        self.style = style;
        Ok(self)
    }

    fn children(&mut self) -> &mut Vec<Node> {
        match self.open.last_mut() {
            Some(o) => &mut o.children,
            None => &mut self.root,
        }
    }

    /// Checks that content other than a list item may go here.
    fn check_content(&self) -> Result<(), XhtmlError> {
        match self.open.last() {
            Some(Open {
                kind: OpenKind::List { .. },
                ..
            }) => Err(XhtmlError::OutsideItem),
            _ => Ok(()),
        }
    }

    fn count(&mut self, nodes: usize, text: usize) -> Result<(), XhtmlError> {
        let n = self.nodes + nodes;
        let t = self.text_bytes + text;
        if n > self.limits.max_nodes || t > self.limits.max_text_bytes {
            return Err(XhtmlError::TooLarge);
        }
        self.nodes = n;
        self.text_bytes = t;
        Ok(())
    }

    /// Appends text (merged with text just before it).
    pub fn text(&mut self, text: &str) -> Result<&mut Self, XhtmlError> {
        check_text(text)?;
        if text.is_empty() {
            return Ok(self);
        }
        self.check_content()?;
        let new = !matches!(self.children().last(), Some(Node::Text(_)));
        self.count(usize::from(new), text.len())?;
        push_text(self.children(), text);
        Ok(self)
    }

    /// Appends `text` in a span of `style`: `<span style='...'>text</span>`.
    pub fn styled(&mut self, text: &str, style: Style) -> Result<&mut Self, XhtmlError> {
        check_text(text)?;
        self.open_span(style)?.text(text)?.end()
    }

    /// Appends `text` styled by byte ranges that may overlap, as a rich-text editor keeps
    /// them ("bold 0..8, italic 5..15"): the text is cut at every range boundary, each
    /// piece gets the styles of the ranges covering it (a later range overrides an
    /// earlier one property by property), neighbouring pieces of equal style are merged,
    /// and each styled piece becomes one `<span>`; line breaks become `<br/>` (XEP-0071
    /// §8 rule 9). Overlapping styles thus come out strictly nested. The whole call is
    /// refused, nothing appended, if a range is out of bounds or not on character
    /// boundaries ([`XhtmlError::BadRange`]) or any other step would be.
    ///
    /// ```
    /// use jabber_proto::stanza::xhtml::{HtmlBuilder, Style};
    /// let mut b = HtmlBuilder::new();
    /// b.styled_ranges("bold and italic", &[(0..8, Style::new().bold()), (5..15, Style::new().italic())])?;
    /// assert_eq!(
    ///     b.build()?.to_element().to_string(),
    ///     "<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>\
    ///      <span style='font-weight:bold'>bold </span>\
    ///      <span style='font-style:italic;font-weight:bold'>and</span>\
    ///      <span style='font-style:italic'> italic</span></body></html>"
    /// );
    /// # Ok::<(), jabber_proto::stanza::xhtml::XhtmlError>(())
    /// ```
    pub fn styled_ranges(
        &mut self,
        text: &str,
        ranges: &[(core::ops::Range<usize>, Style)],
    ) -> Result<&mut Self, XhtmlError> {
        check_text(text)?;
        let mut cuts = Vec::with_capacity(2 * ranges.len() + 2);
        cuts.extend([0, text.len()]);
        for (r, style) in ranges {
            check_style(style)?;
            let ok = r.start <= r.end
                && r.end <= text.len()
                && text.is_char_boundary(r.start)
                && text.is_char_boundary(r.end);
            if !ok {
                return Err(XhtmlError::BadRange);
            }
            cuts.extend([r.start, r.end]);
        }
        cuts.sort_unstable();
        cuts.dedup();
        // Pieces with their combined style, equal neighbours merged.
        let mut pieces: Vec<(Style, core::ops::Range<usize>)> = Vec::new();
        for w in cuts.windows(2) {
            let (a, b) = (w[0], w[1]);
            let mut style = Style::default();
            ranges
                .iter()
                .filter(|(r, _)| r.start <= a && b <= r.end)
                .for_each(|(_, s)| style.overlay(s.clone()));
            match pieces.last_mut() {
                Some((last, range)) if *last == style => range.end = b,
                _ => pieces.push((style, a..b)),
            }
        }
        if text.is_empty() {
            return Ok(self);
        }
        self.check_content()?;
        let styled = pieces.iter().any(|(s, _)| !s.is_empty());
        if styled && self.open.len() + 1 > self.limits.depth() {
            return Err(XhtmlError::TooDeep);
        }
        // The nodes, made apart and counted, then appended at once.
        let mut made = Vec::new();
        let mut count = 0;
        for (style, range) in pieces {
            let mut inner = Vec::new();
            for (i, line) in text[range].split('\n').enumerate() {
                if i > 0 {
                    inner.push(Node::Break);
                    count += 1;
                }
                if !line.is_empty() && push_text(&mut inner, line) {
                    count += 1;
                }
            }
            if style.is_empty() {
                for n in inner {
                    match (n, made.last_mut()) {
                        (Node::Text(t), Some(Node::Text(last))) => {
                            last.push_str(&t);
                            count -= 1;
                        }
                        (n, _) => made.push(n),
                    }
                }
            } else {
                made.push(Node::Span(Container {
                    style,
                    children: inner,
                }));
                count += 1;
            }
        }
        let merges = matches!(
            (made.first(), self.children().last()),
            (Some(Node::Text(_)), Some(Node::Text(_)))
        );
        let bytes = text.bytes().filter(|&b| b != b'\n').count();
        self.count(count - usize::from(merges), bytes)?;
        for n in made {
            match n {
                Node::Text(t) => {
                    push_text(self.children(), &t);
                }
                n => self.children().push(n),
            }
        }
        Ok(self)
    }

    /// Appends a line break.
    pub fn line_break(&mut self) -> Result<&mut Self, XhtmlError> {
        self.check_content()?;
        self.count(1, 0)?;
        self.children().push(Node::Break);
        Ok(self)
    }

    /// Appends a link whose content is `text`.
    pub fn link(&mut self, href: &str, text: &str) -> Result<&mut Self, XhtmlError> {
        check_text(text)?;
        self.open_link(href, Style::default())?.text(text)?.end()
    }

    /// Appends an image.
    pub fn image(&mut self, image: Image) -> Result<&mut Self, XhtmlError> {
        self.check_content()?;
        check_style(&image.style)?;
        self.count(1, image.alt.len())?;
        self.children().push(Node::Image(image));
        Ok(self)
    }

    fn open(&mut self, kind: OpenKind, style: Style) -> Result<&mut Self, XhtmlError> {
        check_style(&style)?;
        let block = matches!(
            kind,
            OpenKind::Paragraph | OpenKind::Quote | OpenKind::List { .. }
        );
        match (&kind, self.open.last()) {
            (
                OpenKind::Item,
                Some(Open {
                    kind: OpenKind::List { .. },
                    ..
                }),
            ) => {}
            (OpenKind::Item, _) => return Err(XhtmlError::NotInList),
            (_, Some(o)) if block && o.is_inline() => return Err(XhtmlError::BlockInInline),
            _ => self.check_content()?,
        }
        if matches!(kind, OpenKind::Link(_)) && self.links > 0 {
            return Err(XhtmlError::NestedLink);
        }
        // A list needs a level for its items too: the reader keeps its structure only
        // if both fit.
        let levels = if matches!(kind, OpenKind::List { .. }) {
            2
        } else {
            1
        };
        if self.open.len() + levels > self.limits.depth() {
            return Err(XhtmlError::TooDeep);
        }
        self.count(1, 0)?;
        if matches!(kind, OpenKind::Link(_)) {
            self.links += 1;
        }
        self.open.push(Open::new(kind, style));
        Ok(self)
    }

    /// Opens a `<span>` of `style`.
    pub fn open_span(&mut self, style: Style) -> Result<&mut Self, XhtmlError> {
        self.open(OpenKind::Span, style)
    }

    /// Opens a paragraph.
    pub fn open_paragraph(&mut self, style: Style) -> Result<&mut Self, XhtmlError> {
        self.open(OpenKind::Paragraph, style)
    }

    /// Opens a quotation (`<blockquote>`).
    pub fn open_quote(&mut self, style: Style) -> Result<&mut Self, XhtmlError> {
        self.open(OpenKind::Quote, style)
    }

    /// Opens a link to `href` (scheme `http`, `https`, `xmpp` or `mailto`).
    pub fn open_link(&mut self, href: &str, style: Style) -> Result<&mut Self, XhtmlError> {
        let href = SafeUri::link(href).ok_or(XhtmlError::UnsafeUri)?;
        self.open(OpenKind::Link(href), style)
    }

    /// Opens a list, numbered (`<ol>`) or not (`<ul>`); it holds only items.
    pub fn open_list(&mut self, ordered: bool, style: Style) -> Result<&mut Self, XhtmlError> {
        let items = Vec::new();
        self.open(OpenKind::List { ordered, items }, style)
    }

    /// Opens an item of the list just opened.
    pub fn open_item(&mut self, style: Style) -> Result<&mut Self, XhtmlError> {
        self.open(OpenKind::Item, style)
    }

    /// Closes the innermost open container.
    pub fn end(&mut self) -> Result<&mut Self, XhtmlError> {
        let open = self.open.pop().ok_or(XhtmlError::NothingOpen)?;
        if matches!(open.kind, OpenKind::Link(_)) {
            self.links -= 1;
        }
        match open.finish() {
            Ok(node) => self.children().push(node),
            Err(item) => {
                if let Some(Open {
                    kind: OpenKind::List { items, .. },
                    ..
                }) = self.open.last_mut()
                {
                    items.push(item);
                }
            }
        }
        Ok(self)
    }

    /// The body; every container must have been closed.
    pub fn build_body(&mut self) -> Result<Body, XhtmlError> {
        if !self.open.is_empty() {
            return Err(XhtmlError::Unclosed);
        }
        let body = Body {
            lang: self.lang.take(),
            style: core::mem::take(&mut self.style),
            nodes: core::mem::take(&mut self.root),
        };
        self.nodes = 0;
        self.text_bytes = 0;
        Ok(body)
    }

    /// XHTML-IM content of this one body; every container must have been closed.
    pub fn build(&mut self) -> Result<Html, XhtmlError> {
        Html::new(alloc::vec![self.build_body()?])
    }
}

fn check_style(style: &Style) -> Result<(), XhtmlError> {
    if !style.is_valid() {
        return Err(XhtmlError::InvalidStyle);
    }
    Ok(())
}
