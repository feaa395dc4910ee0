//! The inbound stream: framer and tokenizer behind one incremental interface.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::framer::{Frame, Framer};
use super::tokenizer::{OuterScope, Target, TreeBuilder};
use super::{Limits, ParseError, StreamHeader};
use crate::ns;
use crate::xml::Element;

/// One item of the inbound stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// The stream header (`<stream:stream ...>`), always first.
    Header(StreamHeader),
    /// A complete top-level element: a stanza, `<stream:features>`, `<stream:error>`, ...
    Element(Element),
    /// `</stream:stream>`: the peer closed the stream; always last.
    Close,
}

/// Incremental parser of an inbound XMPP stream.
///
/// Feed bytes as they arrive with [`push`](Self::push), then drain
/// [`next_item`](Self::next_item) until it returns `None`; at end of input call
/// [`push_eof`](Self::push_eof) and drain once more. Any split of the input yields the same
/// items and the same error.
///
/// ```
/// use jabber_proto::stream::{Item, StreamParser};
/// use jabber_proto::Limits;
/// let mut parser = StreamParser::new(Limits::default());
/// let input = b"<stream:stream xmlns='jabber:client' \
///     xmlns:stream='http://etherx.jabber.org/streams' id='c2s1'>\
///     <message from='juliet@example.com'><body>hi &amp; bye</body></message>\
///     </stream:stream>";
/// let mut items = Vec::new();
/// for piece in input.chunks(7) {
///     parser.push(piece);
///     while let Some(item) = parser.next_item() {
///         items.push(item.unwrap());
///     }
/// }
/// parser.push_eof();
/// assert!(parser.next_item().is_none());
/// let Item::Header(header) = &items[0] else { panic!() };
/// assert_eq!(header.id(), Some("c2s1"));
/// let Item::Element(msg) = &items[1] else { panic!() };
/// assert_eq!(msg.child("body", "jabber:client").unwrap().text(), "hi & bye");
/// assert_eq!(items[2], Item::Close);
/// ```
///
/// Errors are final: after `next_item` returns an error it returns `None` forever,
/// [`error`](Self::error) keeps the error, and the buffer is freed.
#[derive(Debug)]
pub struct StreamParser {
    limits: Limits,
    content_ns: Cow<'static, str>,
    framer: Framer,
    builder: TreeBuilder,
    outer: OuterScope,
    root_qname: Cow<'static, str>,
    /// Boxed: a parser that has not failed needs no room for it.
    error: Option<Box<ParseError>>,
    eof: bool,
    close_pending: bool,
    closed: bool,
}

impl StreamParser {
    /// A parser for a client stream (content namespace `jabber:client`).
    pub fn new(limits: Limits) -> StreamParser {
        StreamParser {
            limits,
            content_ns: Cow::Borrowed(ns::CLIENT),
            framer: Framer::new(),
            builder: TreeBuilder::default(),
            outer: OuterScope::default(),
            root_qname: Cow::Borrowed(""),
            error: None,
            eof: false,
            close_pending: false,
            closed: false,
        }
    }

    /// Expects another content namespace (such as `jabber:server`).
    #[must_use]
    pub fn with_content_namespace(mut self, content_ns: &str) -> StreamParser {
        self.content_ns = ns::shared(content_ns);
        self
    }

    /// Starts over for a new stream on the same connection (after STARTTLS or SASL),
    /// keeping the limits.
    pub fn reset(&mut self) {
        let limits = self.limits.clone();
        let content_ns = core::mem::take(&mut self.content_ns);
        *self = StreamParser::new(limits);
        self.content_ns = content_ns;
    }

    /// Appends received bytes. Ignored after an error or end of input.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.error.is_none() && !self.eof {
            self.framer.push(bytes);
        }
    }

    /// Marks the end of input: the next items drained are the last.
    pub fn push_eof(&mut self) {
        self.eof = true;
    }

    /// The error that ended the stream, if any.
    pub fn error(&self) -> Option<&ParseError> {
        self.error.as_deref()
    }

    /// Whether `</stream:stream>` has been received.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Bytes held: the item in progress and input not yet drained.
    pub fn buffered(&self) -> usize {
        self.framer.buffered()
    }

    /// Between items (nothing buffered), frees every buffer whose capacity exceeds `keep`
    /// bytes. The client calls it after each input, so an idle connection does not hold
    /// on to what its largest stanza needed; a driver that only parses (and wants no
    /// allocation per item) need not.
    pub(crate) fn shrink_idle(&mut self, keep: usize) {
        if self.framer.buffered() == 0 {
            self.framer.shrink_idle(keep);
            self.builder.shrink_idle(keep);
        }
    }

    /// [`shrink_idle`](Self::shrink_idle), and the scratch buffer for decoded values
    /// goes too whatever its size: for a quiet moment (a timer), not after every input.
    pub(crate) fn release_idle(&mut self, keep: usize) {
        if self.framer.buffered() == 0 {
            self.shrink_idle(keep);
            self.builder.release_decoded();
        }
    }

    fn fail(&mut self, e: ParseError) -> Option<Result<Item, ParseError>> {
        self.framer.release();
        self.error = Some(Box::new(e.clone()));
        Some(Err(e))
    }

    /// The next complete item, or `None` when more input is needed (or the stream is over).
    pub fn next_item(&mut self) -> Option<Result<Item, ParseError>> {
        if self.error.is_some() {
            return None;
        }
        if self.close_pending {
            self.close_pending = false;
            self.closed = true;
            return Some(Ok(Item::Close));
        }
        loop {
            let (frame, piece) = match self.framer.next_frame(&self.limits) {
                Err(e) => return self.fail(e),
                Ok(Some(f)) => f,
                Ok(None) => {
                    if self.eof {
                        if let Some(e) = self.framer.eof_error() {
                            return self.fail(e);
                        }
                    }
                    return None;
                }
            };
            let result = match frame {
                Frame::Declaration => match check_declaration(&piece) {
                    Ok(()) => continue,
                    Err(e) => Err(e),
                },
                Frame::Header { empty } => self.header(piece, empty).map(Item::Header),
                Frame::Element => self.element(piece).map(Item::Element),
                Frame::Close => self.close(&piece).map(|()| Item::Close),
            };
            return match result {
                Ok(item) => Some(Ok(item)),
                Err(e) => self.fail(e),
            };
        }
    }

    fn header(&mut self, piece: Vec<u8>, empty: bool) -> Result<StreamHeader, ParseError> {
        let text = String::from_utf8(piece).map_err(|_| ParseError::InvalidUtf8)?;
        let built = self.builder.build(
            text,
            self.framer.tags(),
            self.framer.max_nodes(),
            &OuterScope::default(),
            Target::Header { empty },
        )?;
        if !built.element.is("stream", ns::STREAM) {
            return Err(ParseError::BadRoot);
        }
        let default = built.root_bindings.iter().rev().find(|(p, _)| p.is_empty());
        if default.map(|(_, n)| &**n) != Some(&*self.content_ns) {
            return Err(ParseError::BadContentNamespace);
        }
        self.outer = OuterScope {
            bindings: built.root_bindings,
        };
        // Both are kept for the whole stream: no spare room, and no heap for the usual
        // root name.
        self.outer.bindings.shrink_to_fit();
        self.root_qname = match built.root_qname.as_str() {
            "stream:stream" => Cow::Borrowed("stream:stream"),
            _ => Cow::Owned(built.root_qname),
        };
        self.close_pending = empty;
        Ok(StreamHeader::from_parts(
            built.element,
            self.content_ns.clone(),
        ))
    }

    fn element(&mut self, piece: Vec<u8>) -> Result<Element, ParseError> {
        let text = String::from_utf8(piece).map_err(|_| ParseError::InvalidUtf8)?;
        Ok(self
            .builder
            .build(
                text,
                self.framer.tags(),
                self.framer.max_nodes(),
                &self.outer,
                Target::Element,
            )?
            .element)
    }

    fn close(&mut self, piece: &[u8]) -> Result<(), ParseError> {
        let name = piece
            .strip_prefix(b"</")
            .and_then(|p| p.strip_suffix(b">"))
            .map(|p| p.trim_ascii_end())
            .ok_or(ParseError::MismatchedTag)?;
        if name != self.root_qname.as_bytes() {
            return Err(ParseError::MismatchedTag);
        }
        self.closed = true;
        Ok(())
    }
}

/// `<?xml version='1.0' encoding='UTF-8'?>`: version 1.0, and UTF-8 if an encoding is named.
fn check_declaration(piece: &[u8]) -> Result<(), ParseError> {
    let text = core::str::from_utf8(piece).map_err(|_| ParseError::InvalidUtf8)?;
    match xmlparser::Tokenizer::from(text).next() {
        Some(Ok(xmlparser::Token::Declaration {
            version, encoding, ..
        })) => {
            if version.as_str() != "1.0" {
                return Err(ParseError::BadXmlDeclaration);
            }
            match encoding {
                Some(e) if !e.as_str().eq_ignore_ascii_case("utf-8") => {
                    Err(ParseError::UnsupportedEncoding(String::from(e.as_str())))
                }
                _ => Ok(()),
            }
        }
        _ => Err(ParseError::BadXmlDeclaration),
    }
}
