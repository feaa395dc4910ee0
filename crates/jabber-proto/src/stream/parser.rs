//! The inbound stream: framer and tokenizer behind one incremental interface.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use core::ops::Range;

use super::framer::{Frame, Framer};
use super::framing::{self, Framing};
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
    framing: Framing,
    /// Over WebSocket: what the message pushed last left to judge.
    message: Pending,
    /// Over WebSocket: the stream's `<open/>` came.
    opened: bool,
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
            framing: Framing::Stream,
            message: Pending::Nothing,
            opened: false,
        }
    }

    /// A parser for XMPP over WebSocket (RFC 7395): each [`push`](Self::push) is one
    /// whole received message, which must hold exactly one complete element
    /// ([`ParseError::PartialMessage`], [`ParseError::ExtraInMessage`] otherwise). The
    /// first must be the server's `<open/>`, which becomes [`Item::Header`]; every other
    /// element, the framing's `<close/>` included
    /// ([`framing::is_close`](super::framing::is_close)), is an [`Item::Element`],
    /// declaring its own namespaces (nothing is inherited from `<open/>`).
    ///
    /// ```
    /// use jabber_proto::stream::{Item, StreamParser};
    /// use jabber_proto::Limits;
    /// let mut parser = StreamParser::websocket(Limits::default());
    /// parser.push(b"<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' id='s1' version='1.0'/>");
    /// let Some(Ok(Item::Header(open))) = parser.next_item() else { panic!() };
    /// assert_eq!(open.id(), Some("s1"));
    /// parser.push(b"<message xmlns='jabber:client'><body>hi</body></message>");
    /// let Some(Ok(Item::Element(msg))) = parser.next_item() else { panic!() };
    /// assert_eq!(msg.child("body", "jabber:client").unwrap().text(), "hi");
    /// // Half an element is not a message.
    /// parser.push(b"<message xmlns='jabber:client'>");
    /// assert!(parser.next_item().unwrap().is_err());
    /// ```
    pub fn websocket(limits: Limits) -> StreamParser {
        StreamParser {
            framer: Framer::for_messages(),
            framing: Framing::WebSocket,
            ..StreamParser::new(limits)
        }
    }

    /// A parser for a stream framed as `framing`.
    pub fn framed(limits: Limits, framing: Framing) -> StreamParser {
        match framing {
            Framing::WebSocket => StreamParser::websocket(limits),
            Framing::Stream => StreamParser::new(limits),
        }
    }

    /// How the stream this parser reads is framed.
    pub fn framing(&self) -> Framing {
        self.framing
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
        *self = StreamParser::framed(limits, self.framing);
        self.content_ns = content_ns;
    }

    /// Appends received bytes. Ignored after an error or end of input.
    ///
    /// Over WebSocket `bytes` is one whole message (no bytes at all are no message,
    /// ignored), to be drained with [`next_item`](Self::next_item) before the next is
    /// pushed. A message longer than [`Limits::max_stanza_bytes`] is refused before it is
    /// copied: the next item is [`ParseError::StanzaTooLarge`], and nothing is buffered.
    /// Pushing a message while the previous one is undrained is the caller's mistake and
    /// ends the stream too, with [`ParseError::UndrainedMessage`], rather than silently
    /// losing either message.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.error.is_some() || self.eof {
            return;
        }
        if self.framing == Framing::WebSocket {
            // Nothing read is no message (a driver may hand over an empty read).
            if bytes.is_empty() {
                return;
            }
            if self.message != Pending::Nothing {
                self.message = Pending::Undrained;
                self.framer.release();
                return;
            }
            if bytes.len() > self.limits.stanza_bytes() {
                self.message = Pending::TooLarge;
                return;
            }
            self.message = Pending::Message;
        }
        self.framer.push(bytes);
    }

    /// Marks the end of input: the next items drained are the last.
    pub fn push_eof(&mut self) {
        self.eof = true;
    }

    /// The error that ended the stream, if any.
    pub fn error(&self) -> Option<&ParseError> {
        self.error.as_deref()
    }

    /// Whether `</stream:stream>` (over WebSocket, `<close/>`) has been received.
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
        if self.framing == Framing::WebSocket {
            return self.next_message();
        }
        loop {
            let (frame, range) = match self.framer.next_frame(&self.limits) {
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
                Frame::Declaration => check_declaration(self.framer.item(range)).map(|()| None),
                Frame::Header { empty } => self.header(range, empty).map(|h| Some(Item::Header(h))),
                Frame::Element => self.element(range).map(|e| Some(Item::Element(e))),
                Frame::Close => self.close(range).map(|()| Some(Item::Close)),
            };
            self.framer.advance_taken();
            return match result {
                Ok(None) => continue,
                Ok(Some(item)) => Some(Ok(item)),
                Err(e) => self.fail(e),
            };
        }
    }

    /// Over WebSocket: the one element of the message pushed last.
    fn next_message(&mut self) -> Option<Result<Item, ParseError>> {
        let result = match core::mem::replace(&mut self.message, Pending::Nothing) {
            Pending::Nothing => {
                if self.eof && !self.closed {
                    return self.fail(ParseError::UnclosedStream);
                }
                return None;
            }
            Pending::TooLarge => Err(ParseError::StanzaTooLarge {
                limit: self.limits.stanza_bytes(),
            }),
            Pending::Undrained => Err(ParseError::UndrainedMessage),
            Pending::Message => Ok(()),
        };
        let result = if let Err(e) = result {
            Err(e)
        } else if self.closed {
            Err(ParseError::DataAfterClose)
        } else {
            match self.framer.next_frame(&self.limits) {
                Err(e) => Err(e),
                Ok(None) => Err(ParseError::PartialMessage),
                Ok(Some((Frame::Element, _))) if !self.framer.rest_is_blank() => {
                    Err(ParseError::ExtraInMessage)
                }
                Ok(Some((Frame::Element, range))) => self.message_item(range),
                // An end tag with nothing open; a header or declaration cannot come.
                Ok(Some(_)) => Err(ParseError::MismatchedTag),
            }
        };
        self.framer.clear();
        match result {
            Ok(item) => Some(Ok(item)),
            Err(e) => self.fail(e),
        }
    }

    /// A message's element: `<open/>` is the header (once, first); `<close/>` ends the
    /// stream but is reported as the element it is (its `see-other-uri` matters).
    fn message_item(&mut self, range: Range<usize>) -> Result<Item, ParseError> {
        let el = self.element(range)?;
        if framing::is_open(el.root()) {
            if self.opened {
                return Err(ParseError::MisplacedOpen);
            }
            self.opened = true;
            return Ok(Item::Header(StreamHeader::from_parts(
                el,
                self.content_ns.clone(),
            )));
        }
        if framing::is_close(el.root()) {
            // A server may close (to redirect) instead of opening.
            self.closed = true;
        } else if !self.opened {
            return Err(ParseError::MisplacedOpen);
        }
        Ok(Item::Element(el))
    }

    fn header(&mut self, range: Range<usize>, empty: bool) -> Result<StreamHeader, ParseError> {
        let text =
            core::str::from_utf8(self.framer.item(range)).map_err(|_| ParseError::InvalidUtf8)?;
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

    fn element(&mut self, range: Range<usize>) -> Result<Element, ParseError> {
        let text =
            core::str::from_utf8(self.framer.item(range)).map_err(|_| ParseError::InvalidUtf8)?;
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

    fn close(&mut self, range: Range<usize>) -> Result<(), ParseError> {
        let name = self
            .framer
            .item(range)
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

/// Over WebSocket, what the message pushed last left for [`StreamParser::next_item`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    /// Nothing: the last message was drained.
    Nothing,
    /// A message is buffered, to be judged as one element.
    Message,
    /// A message over the stanza limit was refused unread.
    TooLarge,
    /// A message came before the one buffered was drained.
    Undrained,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_element_leaves_no_large_node_scratch_behind() {
        let mut p = StreamParser::new(Limits::default());
        p.push(
            b"<stream:stream xmlns='jabber:client' \
              xmlns:stream='http://etherx.jabber.org/streams'>",
        );
        let big = alloc::format!("<r>{}</r>", "<a/>".repeat(5000));
        p.push(big.as_bytes());
        p.push(b"<m/>");
        let mut elements = 0;
        while let Some(item) = p.next_item() {
            if let Ok(Item::Element(_)) = item {
                elements += 1;
                // The big element is done with as soon as it is returned.
                assert!(
                    p.builder.nodes_kept() * core::mem::size_of::<crate::xml::RawNode>()
                        <= crate::stream::tokenizer::NODES_KEEP_BYTES
                );
            }
        }
        assert_eq!(elements, 2);
        assert!(
            p.builder.nodes_kept() > 0,
            "a small element's scratch is kept"
        );
    }
}
