//! From one complete item's text to an [`Element`]: `xmlparser` tokens for each tag the
//! framer found, our own check of the text between tags, namespace resolution, reference
//! decoding, and the well-formedness checks a tokenizer leaves to its user (matching end
//! tags, duplicate attributes, bound prefixes).

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use xmlparser::{ElementEnd, StrSpan, Token, Tokenizer};

use super::ParseError;
use super::references::{attr_needs_decoding, check_text, decode, decode_cdata};
use crate::ns;
use crate::xml::chars::first_forbidden;
use crate::xml::{Element, Ns, RawNode, Span};

/// Namespace bindings in scope outside the element being built: those of the stream
/// header.
#[derive(Clone, Debug, Default)]
pub(crate) struct OuterScope {
    /// `(prefix, namespace)`; the empty prefix is the default namespace.
    pub(crate) bindings: Vec<(String, Cow<'static, str>)>,
}

impl OuterScope {
    /// The binding of `prefix`: its index and namespace name.
    fn lookup(&self, prefix: &str) -> Option<(usize, &str)> {
        self.bindings
            .iter()
            .enumerate()
            .rev()
            .find(|(_, (p, _))| p == prefix)
            .map(|(i, (_, n))| (i, &**n))
    }
}

/// A byte range of the item's raw text in half the room of a `Range<usize>` (items are
/// shorter than 2^30 bytes): the scratch vectors below live as long as the parser, so
/// their entries are kept small.
#[derive(Clone, Copy, Debug)]
struct RawRange {
    start: u32,
    end: u32,
}

impl RawRange {
    fn new(r: Range<usize>) -> RawRange {
        RawRange {
            start: r.start as u32,
            end: r.end as u32,
        }
    }

    fn get(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

#[derive(Debug)]
struct Binding {
    prefix: RawRange,
    ns: Ns,
}

#[derive(Debug)]
struct Open {
    /// Index of the element's node (nodes are fewer than the item's bytes).
    node: u32,
    /// Length of the scope when the element opened.
    scope: u32,
    prefix: RawRange,
    local: RawRange,
}

#[derive(Debug)]
struct PendingAttr {
    prefix: RawRange,
    local: RawRange,
    value: RawRange,
}

/// Reusable state; holding it across items means a stanza costs no allocation here.
#[derive(Debug, Default)]
pub(crate) struct TreeBuilder {
    scope: Vec<Binding>,
    open: Vec<Open>,
    attrs: Vec<PendingAttr>,
    /// Lent to [`Strings::decoded`] during a build: decoded values are collected here,
    /// then appended to the element's own text (one buffer per element, none per
    /// stanza here).
    decoded_cache: String,
    /// The element's nodes while it is built; the element itself gets them packed behind
    /// its strings ([`Element::pack`]), in the one allocation it costs.
    nodes_cache: Vec<RawNode>,
}

/// Points the spans of `node` that are marked [`Span::EXTRA`] (decoded values) at the
/// decoded values' place in the element's text, which starts at `base`.
fn relocate(node: &mut RawNode, base: usize) {
    *node = node.map_spans(
        |s| {
            if s.start >= Span::EXTRA {
                let start = (s.start - Span::EXTRA) as usize + base;
                let end = (s.end - Span::EXTRA) as usize + base;
                Span::new(start, end)
            } else {
                s
            }
        },
        |end| end,
    );
}

/// What `build` is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A complete top-level element.
    Element,
    /// A stream header's start tag: the root stays open unless it was written
    /// `<stream:stream/>` (`empty`).
    Header {
        /// The root was an empty-element tag.
        empty: bool,
    },
}

/// What `build` produces: the element, and (for a stream header) the bindings the root
/// declared.
pub(crate) struct Built {
    pub(crate) element: Element,
    pub(crate) root_bindings: Vec<(String, Cow<'static, str>)>,
    /// Raw qualified name of the root, for matching the stream's end tag.
    pub(crate) root_qname: String,
}

/// Most node scratch kept from one element to the next (1,024 nodes: a roster result of
/// a few hundred items reuses it).
pub(crate) const NODES_KEEP_BYTES: usize = 32 * 1024;

/// Outer bindings whose copies [`Strings`] remembers without allocating.
const OUTER_INLINE: usize = 8;

/// Strings of the element under construction: the raw text, and decoded values (spans
/// marked with [`Span::EXTRA`]).
struct Strings<'a> {
    raw: &'a str,
    decoded: String,
    /// Namespace names taken from the outer scope, by binding index: each is copied into
    /// the element at most once, however often its prefix is used. A stream header binds
    /// two or three names; more than [`OUTER_INLINE`] cost an allocation per element.
    outer: [Option<Ns>; OUTER_INLINE],
    outer_more: Vec<Option<Ns>>,
}

impl Strings<'_> {
    fn get(&self, span: Span) -> &str {
        let (s, e) = (span.start as usize, span.end as usize);
        let n = Span::EXTRA as usize;
        if s >= n {
            self.decoded.get(s - n..e - n).unwrap_or_default()
        } else {
            self.raw.get(s..e).unwrap_or_default()
        }
    }

    fn ns(&self, ns: Ns) -> &str {
        match ns {
            Ns::None => "",
            Ns::Known(i) => ns::KNOWN.get(usize::from(i)).copied().unwrap_or_default(),
            Ns::At(span) => self.get(span),
        }
    }

    /// A new decoded string: a copy of `prev` (the text it merges with), then what `f` adds.
    /// When `prev` is already the last decoded string, it is extended in place, so a run of
    /// merges costs linear, not quadratic, space.
    fn append(
        &mut self,
        prev: Option<Span>,
        f: impl FnOnce(&mut String) -> Result<(), ParseError>,
    ) -> Result<Span, ParseError> {
        let n = Span::EXTRA as usize;
        if self.decoded.capacity() == 0 {
            // Most stanzas decode a few short values: one allocation serves them all.
            self.decoded.reserve(self.raw.len().min(256));
        }
        let mut start = n + self.decoded.len();
        if let Some(prev) = prev {
            let (a, b) = (prev.start as usize, prev.end as usize);
            if a >= n && b == start {
                start = a;
            } else if a >= n {
                // Something was decoded after `prev`: copy it within the buffer.
                let copy = String::from(self.decoded.get(a - n..b - n).unwrap_or_default());
                self.decoded.push_str(&copy);
            } else {
                self.decoded
                    .push_str(self.raw.get(a..b).unwrap_or_default());
            }
        }
        f(&mut self.decoded)?;
        Ok(Span::new(start, n + self.decoded.len()))
    }

    /// The value of a raw attribute value, as a span.
    fn attr_value(&mut self, r: Range<usize>) -> Result<Span, ParseError> {
        let raw = self.raw.get(r.clone()).unwrap_or_default();
        if attr_needs_decoding(raw) {
            self.append(None, |out| decode(raw, true, out))
        } else {
            Ok(Span::new(r.start, r.end))
        }
    }

    /// The namespace name of outer binding `index`, copied in on first use.
    fn outer_ns(&mut self, index: usize, uri: &str) -> Ns {
        let memo = match index.checked_sub(OUTER_INLINE) {
            None => self.outer.get(index),
            Some(i) => self.outer_more.get(i),
        };
        if let Some(Some(ns)) = memo {
            return *ns;
        }
        let ns = if let Some(i) = ns::known_index(uri) {
            Ns::Known(i)
        } else {
            let start = Span::EXTRA as usize + self.decoded.len();
            self.decoded.push_str(uri);
            Ns::At(Span::new(start, start + uri.len()))
        };
        match index.checked_sub(OUTER_INLINE) {
            None => self.outer[index] = Some(ns),
            Some(i) => {
                if self.outer_more.len() <= i {
                    self.outer_more.resize(i + 1, None);
                }
                self.outer_more[i] = Some(ns);
            }
        }
        ns
    }
}

/// The pieces of an item, in order: xmlparser's tokens for each start tag and CDATA
/// section the framer found, and as plain ranges the end tags (checked by comparing bytes
/// with the start tag) and the text between tags (checked by [`check_text`] in one pass,
/// rather than character by character by xmlparser).
struct Pieces<'a> {
    raw: &'a str,
    tags: &'a [(u32, u32)],
    next_tag: usize,
    cursor: usize,
    tokenizer: Option<Tokenizer<'a>>,
}

/// What [`Pieces`] yields.
enum Piece<'a> {
    Token(Token<'a>),
    /// Character data between tags: a range of the raw text.
    Text(Range<usize>),
    /// An end tag (`</...>`): a range of the raw text.
    EndTag(Range<usize>),
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Result<Piece<'a>, xmlparser::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(t) = &mut self.tokenizer {
                match t.next() {
                    Some(token) => return Some(token.map(Piece::Token)),
                    None => self.tokenizer = None,
                }
            }
            // Items end with a tag, so text can only come before one.
            let &(start, end) = self.tags.get(self.next_tag)?;
            let (start, end) = (start as usize, end as usize);
            if start > self.cursor {
                let text = self.cursor..start;
                self.cursor = start;
                return Some(Ok(Piece::Text(text)));
            }
            self.cursor = end;
            self.next_tag += 1;
            // An end tag is right exactly when it repeats the open element's name, which
            // xmlparser already checked in the start tag: a byte comparison will do.
            if self.raw.as_bytes().get(start + 1) == Some(&b'/') {
                return Some(Ok(Piece::EndTag(start..end)));
            }
            self.tokenizer = Some(Tokenizer::from_fragment(self.raw, start..end));
        }
    }
}

/// Checks the end tag at `tag` (`</` name, optional whitespace, `>`): it must name `open`
/// exactly as its start tag did, which xmlparser has already checked as a name.
fn check_end_tag(raw: &str, tag: Range<usize>, open: &Open) -> Result<(), ParseError> {
    let (prefix, local) = (open.prefix.get(), open.local.get());
    let qname = if prefix.is_empty() {
        local
    } else {
        prefix.start..local.end
    };
    let bytes = raw.as_bytes();
    let inner = bytes
        .get(tag.start + 2..tag.end - 1)
        .unwrap_or_default()
        .trim_ascii_end();
    let malformed = inner.is_empty()
        || inner.first() == Some(&b':')
        || inner.last() == Some(&b':')
        || inner.iter().any(|b| b.is_ascii_whitespace());
    if malformed {
        return Err(ParseError::Malformed("invalid end tag"));
    }
    if bytes.get(qname) != Some(inner) {
        return Err(ParseError::MismatchedTag);
    }
    Ok(())
}

/// Appends text (or CDATA content) at `r` of the raw text, merged with the text node just
/// before it, if any.
fn push_text(
    nodes: &mut Vec<RawNode>,
    last_text: &mut Option<usize>,
    strings: &mut Strings<'_>,
    r: Range<usize>,
    cdata: bool,
) -> Result<(), ParseError> {
    let t = strings.raw.get(r.clone()).unwrap_or_default();
    if t.is_empty() {
        // `<![CDATA[]]>` adds nothing; an empty text node would make the element differ
        // from the same content written without it.
        return Ok(());
    }
    let prev = last_text.and_then(|p| match nodes[p] {
        RawNode::Text(s) => Some(s),
        _ => None,
    });
    // The framer found where this text ends but did not look inside it.
    let needs_decoding = if cdata { false } else { check_text(t)? };
    let span = if cdata {
        strings.append(prev, |out| {
            decode_cdata(t, out);
            Ok(())
        })?
    } else if prev.is_some() || needs_decoding {
        strings.append(prev, |out| decode(t, false, out))?
    } else {
        Span::new(r.start, r.end)
    };
    match *last_text {
        Some(p) => nodes[p] = RawNode::Text(span),
        None => {
            *last_text = Some(nodes.len());
            nodes.push(RawNode::Text(span));
        }
    }
    Ok(())
}

const EMPTY_PREFIX: ParseError = ParseError::Malformed("name with an empty prefix");

/// Whether a name was written `:local`, which Namespaces in XML forbids. xmlparser reports
/// that prefix as empty, just like a missing one.
fn has_empty_prefix(raw: &str, prefix: StrSpan<'_>, local: StrSpan<'_>) -> bool {
    prefix.as_str().is_empty()
        && local
            .start()
            .checked_sub(1)
            .and_then(|i| raw.as_bytes().get(i))
            == Some(&b':')
}

fn malformed(e: xmlparser::Error) -> ParseError {
    use xmlparser::Error::*;
    use xmlparser::StreamError;
    let (InvalidDeclaration(inner, _)
    | InvalidComment(inner, _)
    | InvalidPI(inner, _)
    | InvalidDoctype(inner, _)
    | InvalidEntity(inner, _)
    | InvalidElement(inner, _)
    | InvalidAttribute(inner, _)
    | InvalidCdata(inner, _)
    | InvalidCharData(inner, _)) = &e
    else {
        return ParseError::Malformed("unknown token");
    };
    // The framer leaves attribute values to xmlparser; report what it found in them as
    // precisely as the framer reports text.
    match (inner, &e) {
        (StreamError::NonXmlChar(c, _), _) => {
            return ParseError::ForbiddenChar {
                code: u32::from(*c),
            };
        }
        (StreamError::InvalidChar(b'<', _, _), InvalidAttribute(..)) => {
            return ParseError::LtInAttributeValue;
        }
        _ => {}
    }
    match e {
        InvalidDeclaration(..) => ParseError::BadXmlDeclaration,
        InvalidComment(..) => ParseError::Comment,
        InvalidPI(..) => ParseError::ProcessingInstruction,
        InvalidDoctype(..) | InvalidEntity(..) => ParseError::Doctype,
        InvalidElement(..) => ParseError::Malformed("invalid element"),
        InvalidAttribute(..) => ParseError::Malformed("invalid attribute"),
        InvalidCdata(..) => ParseError::Malformed("invalid CDATA section"),
        InvalidCharData(..) => ParseError::Malformed("invalid character data"),
        UnknownToken(..) => ParseError::Malformed("unknown token"),
    }
}

impl TreeBuilder {
    /// Frees each scratch vector whose capacity exceeds `keep` bytes (they hold nothing
    /// between items).
    pub(crate) fn shrink_idle(&mut self, keep: usize) {
        fn shrink<T>(v: &mut Vec<T>, keep: usize) {
            if v.capacity() * core::mem::size_of::<T>() > keep {
                *v = Vec::new();
            }
        }
        shrink(&mut self.scope, keep);
        shrink(&mut self.open, keep);
        shrink(&mut self.attrs, keep);
        shrink(&mut self.nodes_cache, keep);
        if self.decoded_cache.capacity() > keep {
            self.decoded_cache = String::new();
        }
    }

    /// Capacity of the node scratch kept for the next element.
    #[cfg(test)]
    pub(crate) fn nodes_kept(&self) -> usize {
        self.nodes_cache.capacity()
    }

    /// Frees the decoded-values scratch buffer: a quiet connection does not need it.
    pub(crate) fn release_decoded(&mut self) {
        self.decoded_cache = String::new();
    }

    /// Builds the element in `raw`. For an open stream header, the root's end tag is not
    /// expected.
    pub(crate) fn build(
        &mut self,
        raw: &str,
        tags: &[(u32, u32)],
        max_nodes: usize,
        outer: &OuterScope,
        target: Target,
    ) -> Result<Built, ParseError> {
        let header = matches!(target, Target::Header { .. });
        let root_open = target == Target::Header { empty: false };
        self.scope.clear();
        self.open.clear();
        if raw.as_bytes().contains(&0xEF) {
            // U+FFFE and U+FFFF are the only non-control characters XML forbids.
            if let Some(ch) = first_forbidden(raw) {
                return Err(ParseError::ForbiddenChar {
                    code: u32::from(ch),
                });
            }
        }
        let mut nodes = core::mem::take(&mut self.nodes_cache);
        nodes.clear();
        nodes.reserve(max_nodes);
        let mut root_bindings = Vec::new();
        let mut root_qname = String::new();
        let mut strings = Strings {
            raw,
            decoded: core::mem::take(&mut self.decoded_cache),
            outer: [None; OUTER_INLINE],
            outer_more: Vec::new(),
        };
        strings.decoded.clear();
        // The text node that later text or CDATA would merge into.
        let mut last_text: Option<usize> = None;
        let mut start_tag: Option<(Range<usize>, Range<usize>)> = None;

        let pieces = Pieces {
            raw,
            tags,
            next_tag: 0,
            cursor: 0,
            tokenizer: None,
        };
        for piece in pieces {
            let token = match piece.map_err(malformed)? {
                Piece::Token(token) => token,
                Piece::Text(r) => {
                    if self.open.is_empty() {
                        return Err(ParseError::TextOutsideStanza);
                    }
                    push_text(&mut nodes, &mut last_text, &mut strings, r, false)?;
                    continue;
                }
                Piece::EndTag(r) => {
                    last_text = None;
                    let open = self.open.pop().ok_or(ParseError::MismatchedTag)?;
                    check_end_tag(raw, r, &open)?;
                    self.close(&mut nodes, open.node as usize, open.scope as usize);
                    continue;
                }
            };
            match token {
                Token::ElementStart { prefix, local, .. } => {
                    if has_empty_prefix(raw, prefix, local) {
                        return Err(EMPTY_PREFIX);
                    }
                    if self.open.is_empty() && !nodes.is_empty() {
                        return Err(ParseError::Malformed("more than one root element"));
                    }
                    self.attrs.clear();
                    start_tag = Some((prefix.range(), local.range()));
                    last_text = None;
                }
                Token::Attribute {
                    prefix,
                    local,
                    value,
                    ..
                } => {
                    if has_empty_prefix(raw, prefix, local) {
                        return Err(EMPTY_PREFIX);
                    }
                    self.attrs.push(PendingAttr {
                        prefix: RawRange::new(prefix.range()),
                        local: RawRange::new(local.range()),
                        value: RawRange::new(value.range()),
                    });
                }
                Token::ElementEnd {
                    end: ElementEnd::Open | ElementEnd::Empty,
                    ..
                } if start_tag.is_none() => {
                    return Err(ParseError::Malformed("tag end without a start"));
                }
                Token::ElementEnd { end, .. } => {
                    last_text = None;
                    match end {
                        // End tags never reach xmlparser (see `Pieces`).
                        ElementEnd::Close(..) => return Err(ParseError::MismatchedTag),
                        ElementEnd::Open | ElementEnd::Empty => {
                            let Some((prefix, local)) = start_tag.take() else {
                                continue;
                            };
                            let is_root = nodes.is_empty();
                            let scope = self.scope.len();
                            let node = nodes.len();
                            self.start_element(
                                &mut strings,
                                &mut nodes,
                                outer,
                                prefix.clone(),
                                local.clone(),
                            )?;
                            if is_root && header {
                                // An empty prefix's range is `0..0`, not next to the name.
                                let qname = if prefix.is_empty() {
                                    local.clone()
                                } else {
                                    prefix.start..local.end
                                };
                                root_qname = String::from(&raw[qname]);
                                for b in &self.scope {
                                    let p =
                                        String::from(raw.get(b.prefix.get()).unwrap_or_default());
                                    root_bindings.push((p, ns::shared(strings.ns(b.ns))));
                                }
                            }
                            if matches!(end, ElementEnd::Empty) {
                                self.close(&mut nodes, node, scope);
                            } else {
                                self.open.push(Open {
                                    node: node as u32,
                                    scope: scope as u32,
                                    prefix: RawRange::new(prefix),
                                    local: RawRange::new(local),
                                });
                            }
                        }
                    }
                }
                // Text between tags never reaches xmlparser (see `Pieces`).
                Token::Text { .. } => return Err(ParseError::Malformed("unexpected text")),
                Token::Cdata { text, .. } => {
                    if self.open.is_empty() {
                        return Err(ParseError::TextOutsideStanza);
                    }
                    push_text(&mut nodes, &mut last_text, &mut strings, text.range(), true)?;
                }
                Token::Declaration { .. } | Token::ProcessingInstruction { .. } => {
                    return Err(ParseError::ProcessingInstruction);
                }
                Token::Comment { .. } => return Err(ParseError::Comment),
                Token::DtdStart { .. }
                | Token::EmptyDtd { .. }
                | Token::EntityDeclaration { .. }
                | Token::DtdEnd { .. } => return Err(ParseError::Doctype),
            }
        }
        let complete = if root_open {
            self.open.len() == 1
        } else {
            self.open.is_empty()
        };
        if !complete || nodes.is_empty() || start_tag.is_some() {
            return Err(ParseError::Malformed("incomplete element"));
        }
        if root_open {
            let total = nodes.len() as u32;
            if let Some(RawNode::Element { end, .. }) = nodes.first_mut() {
                *end = total;
            }
        }
        let mut decoded = strings.decoded;
        // The element's one allocation: raw text, decoded values, nodes.
        let strings_len = raw.len() + decoded.len();
        let mut text =
            String::with_capacity(strings_len + Element::table_len(strings_len, nodes.len()));
        text.push_str(raw);
        if !decoded.is_empty() {
            text.push_str(&decoded);
            for node in &mut nodes {
                relocate(node, raw.len());
            }
        }
        let element = Element::pack(text, &nodes);
        decoded.clear();
        self.decoded_cache = decoded;
        // An element's nodes are reserved for at their upper bound; a large one's scratch
        // is not kept for the next.
        if nodes.capacity() * core::mem::size_of::<RawNode>() <= NODES_KEEP_BYTES {
            self.nodes_cache = nodes;
        }
        Ok(Built {
            element,
            root_bindings,
            root_qname,
        })
    }

    fn close(&mut self, nodes: &mut [RawNode], node: usize, scope: usize) {
        let total = nodes.len() as u32;
        if let Some(RawNode::Element { end, .. }) = nodes.get_mut(node) {
            *end = total;
        }
        self.scope.truncate(scope);
    }

    fn lookup(&self, strings: &mut Strings<'_>, outer: &OuterScope, prefix: &str) -> Option<Ns> {
        if prefix == "xml" {
            return ns::known_index(ns::XML).map(Ns::Known);
        }
        let inner = self
            .scope
            .iter()
            .rev()
            .find(|b| strings.raw.get(b.prefix.get()) == Some(prefix));
        match inner {
            Some(b) => Some(b.ns),
            None => outer.lookup(prefix).map(|(index, uri)| {
                if uri.is_empty() {
                    Ns::None
                } else {
                    strings.outer_ns(index, uri)
                }
            }),
        }
    }

    fn start_element(
        &mut self,
        strings: &mut Strings<'_>,
        nodes: &mut Vec<RawNode>,
        outer: &OuterScope,
        prefix: Range<usize>,
        local: Range<usize>,
    ) -> Result<(), ParseError> {
        let raw = strings.raw;
        let scope_start = self.scope.len();
        // Namespace declarations first: they apply to the element's own name and attributes.
        for a in &self.attrs {
            let (p, l) = (&raw[a.prefix.get()], &raw[a.local.get()]);
            let declared = match (p, l) {
                ("", "xmlns") => 0..0,
                ("xmlns", _) => a.local.get(),
                _ => continue,
            };
            let value = strings.attr_value(a.value.get())?;
            let uri = strings.get(value);
            let name = &raw[declared.clone()];
            let bad = match name {
                "" => uri == ns::XML || uri == XMLNS_NS,
                "xml" => uri != ns::XML,
                "xmlns" => true,
                _ => uri.is_empty() || uri == ns::XML || uri == XMLNS_NS,
            };
            if bad {
                return Err(ParseError::BadNamespaceDeclaration);
            }
            if self.scope[scope_start..]
                .iter()
                .any(|b| raw.get(b.prefix.get()) == Some(name))
            {
                return Err(ParseError::DuplicateAttribute(String::from(
                    if name.is_empty() { "xmlns" } else { name },
                )));
            }
            let ns = if uri.is_empty() {
                Ns::None
            } else {
                Ns::At(value)
            };
            self.scope.push(Binding {
                prefix: RawRange::new(declared),
                ns,
            });
        }
        let p = &raw[prefix.clone()];
        let el_ns = match self.lookup(strings, outer, p) {
            Some(ns) => ns,
            None if p.is_empty() => Ns::None,
            None => return Err(ParseError::UnboundPrefix(String::from(p))),
        };
        let el_index = nodes.len();
        nodes.push(RawNode::Element {
            name: Span::new(local.start, local.end),
            ns: el_ns,
            attrs: 0,
            end: 0,
        });
        let mut count = 0u32;
        for i in 0..self.attrs.len() {
            let a = &self.attrs[i];
            let (p, l) = (&raw[a.prefix.get()], &raw[a.local.get()]);
            if (p.is_empty() && l == "xmlns") || p == "xmlns" {
                continue;
            }
            let attr_ns = if p.is_empty() {
                Ns::None
            } else {
                self.lookup(strings, outer, p)
                    .ok_or_else(|| ParseError::UnboundPrefix(String::from(p)))?
            };
            let (local_range, value_range) = (a.local.get(), a.value.get());
            for prev in &nodes[el_index + 1..] {
                if let RawNode::Attr { name, ns, .. } = *prev {
                    if strings.get(name) == l && strings.ns(ns) == strings.ns(attr_ns) {
                        return Err(ParseError::DuplicateAttribute(String::from(l)));
                    }
                }
            }
            let value = strings.attr_value(value_range)?;
            nodes.push(RawNode::Attr {
                name: Span::new(local_range.start, local_range.end),
                ns: attr_ns,
                value,
            });
            count += 1;
        }
        if let RawNode::Element { attrs, .. } = &mut nodes[el_index] {
            *attrs = count;
        }
        Ok(())
    }
}

const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";
