//! Byte-level framing: where the XML declaration, the stream header, each top-level
//! element and the stream close end.
//!
//! `xmlparser` only tokenises complete text, so this scanner runs in front of it. It keeps
//! its lexical state between calls and never rescans a byte, so the cost is linear in the
//! input whatever the chunk sizes. It only looks at ASCII bytes (every byte of a multi-byte
//! UTF-8 sequence is >= 0x80), so a chunk split inside a character changes nothing; UTF-8
//! itself is checked once per complete item. Every decision depends only on the bytes seen
//! so far, never on where chunks end: that is what makes chunking invisible to the caller.
//!
//! Inside an item it only finds where things end (text runs, quoted values and end tags
//! via `memchr`) and records each tag's range; what text and values contain is checked
//! once the item is complete, by the tokenizer and xmlparser.

use alloc::vec::Vec;
use core::ops::Range;

use bytes::{Buf, BytesMut};

use super::{Limits, ParseError};

/// What a complete item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    /// `<?xml ...?>` at the very start of the stream.
    Declaration,
    /// The stream header's start tag; `empty` when it was written `<stream:stream/>`.
    Header { empty: bool },
    /// A complete top-level element.
    Element,
    /// The end tag closing the stream.
    Close,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Before the stream header; `fresh` while not a byte has been consumed.
    Prolog {
        fresh: bool,
    },
    Stream,
    Closed,
}

#[derive(Clone, Copy, Debug)]
enum Lex {
    /// Character data inside an element.
    Text,
    /// Just after `<`.
    Lt,
    /// Inside a start tag, outside attribute values.
    StartTag,
    /// Inside an attribute value delimited by this quote.
    Quoted(u8),
    /// Inside an end tag.
    EndTag,
    /// After `<!`, having matched this many bytes of `[CDATA[`.
    Bang(u8),
    /// Inside CDATA, after this many `]` in a row (at most 2).
    Cdata(u8),
    /// After `<?`, having matched this many bytes of `xml`.
    PiTarget(u8),
    /// Inside the XML declaration; true just after a `?`.
    Declaration(bool),
}

const fn stops(extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = !(i == 0x09 || i == 0x0A || i == 0x0D);
        i += 1;
    }
    let mut j = 0;
    while j < extra.len() {
        t[extra[j] as usize] = true;
        j += 1;
    }
    t
}

// Bytes each state must look at; everything else is skipped in a tight loop.
static TAG: [bool; 256] = stops(b"\"'<>/=");
static CDATA: [bool; 256] = stops(b"]>");
static DECLARATION: [bool; 256] = stops(b"?>");

fn skip(buf: &[u8], mut pos: usize, lim: usize, table: &[bool; 256]) -> usize {
    while pos < lim && !table[usize::from(buf[pos])] {
        pos += 1;
    }
    pos
}

/// The first `needle` in `buf[pos..lim]`, or `lim`.
fn find(buf: &[u8], pos: usize, lim: usize, needle: u8) -> usize {
    memchr::memchr(needle, &buf[pos..lim]).map_or(lim, |i| pos + i)
}

const SLASH_NOT_AT_END: ParseError = ParseError::Malformed("'/' not followed by '>' in a tag");

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The framer: a buffer holding at most the item in progress, and the lexical state.
#[derive(Debug)]
pub(crate) struct Framer {
    buf: BytesMut,
    /// Next byte to scan.
    pos: usize,
    /// First byte of the item in progress (meaningful while `in_item`).
    start: usize,
    in_item: bool,
    lex: Lex,
    phase: Phase,
    /// Open elements of the current top-level element.
    depth: u32,
    /// `=` signs seen in the current start tag: one per attribute.
    attrs: u32,
    /// The last byte of the start tag so far was `/`.
    slash: bool,
    /// Where the tag in progress starts, relative to the item.
    tag_start: u32,
    /// Byte ranges of the item's tags (start tags, end tags, CDATA sections), relative to
    /// the item: the tokenizer runs xmlparser over these and handles the text in between
    /// itself, since this scan has already checked it.
    tags: Vec<(u32, u32)>,
    /// Attributes in the item so far; with the tags, an upper bound on its nodes.
    item_attrs: u32,
    /// The item returned last is still in the buffer (see [`Framer::advance_taken`]).
    taken: bool,
}

impl Framer {
    pub(crate) fn new() -> Self {
        Framer {
            buf: BytesMut::new(),
            pos: 0,
            start: 0,
            in_item: false,
            lex: Lex::Text,
            phase: Phase::Prolog { fresh: true },
            depth: 0,
            attrs: 0,
            slash: false,
            tag_start: 0,
            tags: Vec::new(),
            item_attrs: 0,
            taken: false,
        }
    }

    /// A framer for WebSocket messages (RFC 7395): no stream header or declaration comes,
    /// only top-level elements, each declaring its namespaces.
    pub(crate) fn for_messages() -> Self {
        Framer {
            phase: Phase::Stream,
            ..Framer::new()
        }
    }

    /// Whether everything buffered after the last item is whitespace.
    pub(crate) fn rest_is_blank(&self) -> bool {
        self.buf[self.pos..].iter().all(|&b| is_space(b))
    }

    /// Drops what is buffered and any item in progress, keeping the allocation: the end
    /// of a WebSocket message, whose every byte has been judged.
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.pos = 0;
        self.start = 0;
        self.taken = false;
        self.in_item = false;
        self.lex = Lex::Text;
        self.depth = 0;
    }

    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held: the item in progress plus input not scanned yet.
    pub(crate) fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Drops everything held; used once an error is final.
    pub(crate) fn release(&mut self) {
        self.buf = BytesMut::new();
        self.pos = 0;
        self.start = 0;
        self.taken = false;
    }

    /// Between items, with nothing buffered: frees the buffer and the tag list if their
    /// capacity exceeds `keep` bytes, so a burst of large items leaves nothing behind.
    pub(crate) fn shrink_idle(&mut self, keep: usize) {
        if self.in_item || !self.buf.is_empty() {
            return;
        }
        // `advance` hides the bytes of the items already taken from `capacity()`; moving
        // back to the start of the allocation (with nothing to copy) shows all of it.
        let _ = self.buf.try_reclaim(self.buf.capacity() + 1);
        if self.buf.capacity() > keep {
            self.buf = BytesMut::new();
        }
        if self.tags.capacity() * core::mem::size_of::<(u32, u32)>() > keep {
            self.tags = Vec::new();
        }
    }

    /// At end of input: the error that describes where it ended, if it ended too early.
    pub(crate) fn eof_error(&self) -> Option<ParseError> {
        if self.in_item {
            Some(ParseError::TruncatedStanza)
        } else if self.phase != Phase::Closed {
            Some(ParseError::UnclosedStream)
        } else {
            None
        }
    }

    /// The tags of the item `next_frame` returned last.
    pub(crate) fn tags(&self) -> &[(u32, u32)] {
        &self.tags
    }

    /// An upper bound on the nodes of the item `next_frame` returned last: every node is an
    /// element (one per tag at most), a text run (one before each tag at most) or an
    /// attribute.
    pub(crate) fn max_nodes(&self) -> usize {
        2 * self.tags.len() + self.item_attrs as usize
    }

    /// Records the tag that ends at `pos`.
    fn end_tag(&mut self) {
        // Items are at most Limits::CEILING_BYTES long.
        let end = (self.pos + 1 - self.start) as u32;
        self.tags.push((self.tag_start, end));
    }

    /// Ends the item at `pos`: its range in the buffer, valid until [`advance_taken`]
    /// (the tree builder reads it in place, so the element's text is copied once, into
    /// the element's own buffer).
    ///
    /// [`advance_taken`]: Self::advance_taken
    fn take(&mut self, frame: Frame) -> (Frame, Range<usize>) {
        self.taken = true;
        self.end_tag();
        let item = self.start..self.pos + 1;
        self.pos += 1;
        self.start = self.pos;
        self.in_item = false;
        self.lex = Lex::Text;
        (frame, item)
    }

    /// The bytes of an item [`next_frame`](Self::next_frame) returned.
    pub(crate) fn item(&self, range: Range<usize>) -> &[u8] {
        self.buf.get(range).unwrap_or_default()
    }

    /// Drops the bytes of the items returned so far.
    pub(crate) fn advance_taken(&mut self) {
        if self.taken && !self.in_item {
            self.taken = false;
            self.buf.advance(self.pos);
            self.pos = 0;
            self.start = 0;
        }
    }

    fn open_element(&mut self, limits: &Limits) -> Result<(), ParseError> {
        if self.depth >= limits.max_depth {
            return Err(ParseError::TooDeep {
                limit: limits.max_depth,
            });
        }
        Ok(())
    }

    /// Runs through a start tag's attributes — names, `=`, quoted values — in one local
    /// loop. Stops at the `/` or `>` that ends the tag, leaving it to the caller, or at
    /// `lim`.
    fn scan_tag(&mut self, lim: usize, limits: &Limits) -> Result<(), ParseError> {
        let buf = &self.buf[..lim];
        let (mut pos, mut lex, mut attrs) = (self.pos, self.lex, 0);
        let result = loop {
            if let Lex::Quoted(q) = lex {
                // xmlparser checks the value's characters; here only its end matters.
                pos = find(buf, pos, lim, q);
                if pos == lim {
                    break Ok(());
                }
                lex = Lex::StartTag;
            } else {
                pos = skip(buf, pos, lim, &TAG);
                match buf.get(pos) {
                    None | Some(b'/' | b'>') => break Ok(()),
                    Some(&b @ (b'"' | b'\'')) => lex = Lex::Quoted(b),
                    Some(b'=') => {
                        attrs += 1;
                        if self.attrs + attrs > limits.max_attributes {
                            break Err(ParseError::TooManyAttributes {
                                limit: limits.max_attributes,
                            });
                        }
                    }
                    Some(b'<') => break Err(ParseError::Malformed("'<' inside a tag")),
                    Some(&b) => break Err(ParseError::ForbiddenChar { code: u32::from(b) }),
                }
            }
            pos += 1;
        };
        self.pos = pos;
        self.lex = lex;
        self.attrs += attrs;
        self.item_attrs += attrs;
        result
    }

    /// Scans until the next complete item; `Ok(None)` means more input is needed.
    pub(crate) fn next_frame(
        &mut self,
        limits: &Limits,
    ) -> Result<Option<(Frame, Range<usize>)>, ParseError> {
        // The item returned last is done with, whoever forgot to say so.
        self.advance_taken();
        let max = limits.stanza_bytes();
        loop {
            let len = self.buf.len();
            if !self.in_item {
                // Between items only whitespace (a keepalive) may appear; it is dropped.
                while self.pos < len && is_space(self.buf[self.pos]) {
                    self.pos += 1;
                }
                if self.pos > 0 {
                    if let Phase::Prolog { fresh } = &mut self.phase {
                        *fresh = false;
                    }
                }
                if self.pos == len {
                    self.buf.clear();
                    self.pos = 0;
                    return Ok(None);
                }
                let b = self.buf[self.pos];
                if self.phase == Phase::Closed {
                    return Err(ParseError::DataAfterClose);
                }
                if b != b'<' {
                    // Whitespace was skipped above, so any C0 byte here is forbidden.
                    return Err(if b < 0x20 {
                        ParseError::ForbiddenChar { code: u32::from(b) }
                    } else {
                        ParseError::TextOutsideStanza
                    });
                }
                self.start = self.pos;
                self.in_item = true;
                self.tags.clear();
                self.item_attrs = 0;
                self.tag_start = 0;
                self.lex = Lex::Lt;
                self.pos += 1;
                continue;
            }
            let cap = self.start.saturating_add(max);
            let lim = len.min(cap);
            if self.pos >= lim {
                if self.pos >= cap {
                    return Err(ParseError::StanzaTooLarge { limit: max });
                }
                // Keep only the item in progress.
                self.buf.advance(self.start);
                self.pos -= self.start;
                self.start = 0;
                return Ok(None);
            }
            if matches!(self.lex, Lex::StartTag | Lex::Quoted(_)) && !self.slash {
                self.scan_tag(lim, limits)?;
                if self.pos == lim {
                    continue;
                }
                // At the tag's `/` or `>`: the general path below handles it.
            }
            let skipped = match self.lex {
                Lex::Text => find(&self.buf, self.pos, lim, b'<'),
                Lex::Quoted(q) => find(&self.buf, self.pos, lim, q),
                Lex::EndTag => find(&self.buf, self.pos, lim, b'>'),
                Lex::StartTag => skip(&self.buf, self.pos, lim, &TAG),
                Lex::Cdata(_) => skip(&self.buf, self.pos, lim, &CDATA),
                Lex::Declaration(_) => skip(&self.buf, self.pos, lim, &DECLARATION),
                // These states decide on every byte.
                Lex::Lt | Lex::Bang(_) | Lex::PiTarget(_) => self.pos,
            };
            if skipped > self.pos {
                match &mut self.lex {
                    Lex::StartTag if self.slash => return Err(SLASH_NOT_AT_END),
                    Lex::Cdata(n) => *n = 0,
                    Lex::Declaration(q) => *q = false,
                    _ => {}
                }
                self.pos = skipped;
                if skipped == lim {
                    continue;
                }
            }
            let b = self.buf[self.pos];
            if b < 0x20 && !is_space(b) {
                return Err(ParseError::ForbiddenChar { code: u32::from(b) });
            }
            match self.lex {
                Lex::Text => {
                    self.lex = Lex::Lt;
                    self.tag_start = (self.pos - self.start) as u32;
                }
                Lex::Lt => match b {
                    b'/' => {
                        if matches!(self.phase, Phase::Prolog { .. }) {
                            return Err(ParseError::Malformed("end tag before the stream header"));
                        }
                        self.lex = Lex::EndTag;
                    }
                    b'!' => self.lex = Lex::Bang(0),
                    b'?' => {
                        if self.phase != (Phase::Prolog { fresh: true }) || self.start != 0 {
                            return Err(ParseError::ProcessingInstruction);
                        }
                        self.lex = Lex::PiTarget(0);
                    }
                    b'A'..=b'Z' | b'a'..=b'z' | b'_' | b':' | 0x80.. => {
                        self.lex = Lex::StartTag;
                        self.attrs = 0;
                        self.slash = false;
                    }
                    _ => return Err(ParseError::Malformed("invalid character after '<'")),
                },
                // Outside attribute values, '/' may only appear in the closing "/>".
                Lex::StartTag if self.slash && b != b'>' => return Err(SLASH_NOT_AT_END),
                // `scan_tag` has run through the attributes: the tag's `/` or `>` is left.
                Lex::StartTag => match b {
                    b'/' => self.slash = true,
                    _ => {
                        // '>': the tag ends.
                        if matches!(self.phase, Phase::Prolog { .. }) {
                            let empty = self.slash;
                            self.phase = if empty { Phase::Closed } else { Phase::Stream };
                            return Ok(Some(self.take(Frame::Header { empty })));
                        }
                        self.open_element(limits)?;
                        if self.slash {
                            if self.depth == 0 {
                                return Ok(Some(self.take(Frame::Element)));
                            }
                        } else {
                            self.depth += 1;
                        }
                        self.end_tag();
                        self.lex = Lex::Text;
                    }
                },
                Lex::Quoted(_) => self.lex = Lex::StartTag,
                Lex::EndTag => {
                    if self.depth == 0 {
                        self.phase = Phase::Closed;
                        return Ok(Some(self.take(Frame::Close)));
                    }
                    self.depth -= 1;
                    if self.depth == 0 {
                        return Ok(Some(self.take(Frame::Element)));
                    }
                    self.end_tag();
                    self.lex = Lex::Text;
                }
                Lex::Bang(n) => {
                    const CDATA_OPEN: &[u8] = b"[CDATA[";
                    match (n, b) {
                        (0, b'-') => return Err(ParseError::Comment),
                        (0, b) if b != b'[' => return Err(ParseError::Doctype),
                        _ if CDATA_OPEN[usize::from(n)] != b => {
                            return Err(ParseError::Malformed("invalid '<![' markup"));
                        }
                        _ if usize::from(n) + 1 == CDATA_OPEN.len() => {
                            if self.depth == 0 {
                                return Err(ParseError::TextOutsideStanza);
                            }
                            self.lex = Lex::Cdata(0);
                        }
                        _ => self.lex = Lex::Bang(n + 1),
                    }
                }
                Lex::Cdata(n) => {
                    self.lex = match b {
                        b']' => Lex::Cdata((n + 1).min(2)),
                        _ if n == 2 => {
                            self.end_tag();
                            Lex::Text
                        }
                        _ => Lex::Cdata(0),
                    };
                }
                Lex::PiTarget(n) => {
                    const XML: &[u8] = b"xml";
                    if usize::from(n) < XML.len() && XML[usize::from(n)] == b {
                        self.lex = Lex::PiTarget(n + 1);
                    } else if usize::from(n) == XML.len() && is_space(b) {
                        self.lex = Lex::Declaration(false);
                    } else {
                        return Err(ParseError::ProcessingInstruction);
                    }
                }
                Lex::Declaration(after_q) => {
                    if b == b'>' && after_q {
                        self.phase = Phase::Prolog { fresh: false };
                        return Ok(Some(self.take(Frame::Declaration)));
                    }
                    self.lex = Lex::Declaration(b == b'?');
                }
            }
            self.pos += 1;
        }
    }
}
