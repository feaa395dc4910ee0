//! Checks shared by the jabber-proto fuzz targets.
//!
//! Input layout of the stream targets: byte 0 chooses the splits, then come the cut
//! positions, then the stream itself.
//!
//! - bits 0–4 of byte 0: number of cut positions `n` (0–31), stored next as `n`
//!   little-endian `u16`s, each taken modulo `stream.len() + 1` (so pieces may be empty);
//! - bit 7 of byte 0: also feed the stream one byte at a time.
//!
//! A seed is thus `\0` followed by a stream: no cuts, no byte-at-a-time pass.

use jabber_proto::Limits;
use jabber_proto::stream::{Item, ParseError, StreamParser, Writer};

/// Small limits, so the fuzzer reaches them: a stanza of 1 KiB within libFuzzer's default
/// 4 KiB inputs, 16 levels, 16 attributes.
pub fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_stanza_bytes = 1024;
    limits.max_depth = 16;
    limits.max_attributes = 16;
    limits
}

/// How to split a stream, decoded from the front of a fuzz input.
#[derive(Debug, Default)]
pub struct Splits {
    /// Sorted cut positions (may repeat, may be 0 or the stream's length).
    pub cuts: Vec<usize>,
    /// Also feed one byte at a time.
    pub bytewise: bool,
}

/// Splits a fuzz input into the split choice and the bytes it applies to. `stream_len`
/// maps the remaining length to the length of the stream the cuts apply to (a target
/// that prepends a header adds its length).
pub fn decode(data: &[u8], stream_len: impl Fn(usize) -> usize) -> (Splits, &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return (Splits::default(), data);
    };
    let n = usize::from(flags & 0x1F).min(rest.len() / 2);
    let (positions, rest) = rest.split_at(2 * n);
    let len = stream_len(rest.len());
    let mut cuts: Vec<usize> = positions
        .chunks_exact(2)
        .map(|p| usize::from(u16::from_le_bytes([p[0], p[1]])) % (len + 1))
        .collect();
    cuts.sort_unstable();
    let splits = Splits {
        cuts,
        bytewise: flags & 0x80 != 0,
    };
    (splits, rest)
}

/// Parses `stream` whole, split at `splits.cuts` (and byte by byte if asked), and asserts
/// every way gives the same items and the same error, within the memory bound.
pub fn check_chunking(stream: &[u8], splits: &Splits) {
    let limits = limits();
    let whole = parse(&limits, [stream]);
    let mut pieces = Vec::with_capacity(splits.cuts.len() + 1);
    let mut start = 0;
    for &cut in &splits.cuts {
        pieces.push(&stream[start..cut]);
        start = cut;
    }
    pieces.push(&stream[start..]);
    let split = parse(&limits, pieces.iter().copied());
    assert_eq!(whole, split, "split at {:?}", splits.cuts);
    if splits.bytewise {
        let bytewise = parse(&limits, stream.chunks(1));
        assert_eq!(whole, bytewise, "byte by byte");
    }
    check_writer(&whole);
}

/// Feeds `pieces` to a fresh parser, draining after each, then ends the input; checks the
/// memory bound after every call and the shape of what came out.
pub fn parse<'a>(
    limits: &Limits,
    pieces: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<Result<Item, ParseError>> {
    let mut parser = StreamParser::new(limits.clone());
    let mut items = Vec::new();
    for piece in pieces {
        parser.push(piece);
        let bound = limits.max_stanza_bytes + piece.len();
        assert!(
            parser.buffered() <= bound,
            "buffered {} > {bound} after push",
            parser.buffered()
        );
        while let Some(item) = parser.next_item() {
            items.push(item);
            assert!(
                parser.buffered() <= bound,
                "buffered {} > {bound} after next_item",
                parser.buffered()
            );
        }
    }
    parser.push_eof();
    while let Some(item) = parser.next_item() {
        items.push(item);
    }
    assert!(
        parser.next_item().is_none(),
        "an item after None at end of input"
    );
    check_shape(&items, &parser);
    items
}

/// What every complete parse must look like: an optional header first, elements, then
/// exactly one of `Close` (possibly followed by an error about trailing data) or an error.
fn check_shape(items: &[Result<Item, ParseError>], parser: &StreamParser) {
    let last = items.last().expect("end of input always yields an item");
    for (i, item) in items.iter().enumerate() {
        match item {
            Ok(Item::Header(_)) => assert_eq!(i, 0, "header not first"),
            Ok(Item::Element(_)) => {
                assert!(i > 0, "element before the header");
                assert!(
                    matches!(items[0], Ok(Item::Header(_))),
                    "element without a header"
                );
            }
            Ok(Item::Close) => {
                assert!(i > 0, "close before the header");
                let after = &items[i + 1..];
                assert!(
                    after.is_empty() || after == [Err(ParseError::DataAfterClose)],
                    "items after close: {after:?}"
                );
            }
            Err(e) => {
                assert_eq!(i, items.len() - 1, "items after an error");
                assert_eq!(parser.error(), Some(e), "error() is not the error returned");
                assert_eq!(parser.buffered(), 0, "buffer kept after an error");
                // Exercise the descriptions.
                assert!(!e.to_string().is_empty());
                assert!(!e.condition().as_str().is_empty());
            }
        }
    }
    match last {
        Ok(Item::Close) => assert!(parser.is_closed() && parser.error().is_none()),
        Ok(other) => panic!("input ended without close or error, last item {other:?}"),
        Err(_) => {}
    }
}

/// The one-line writer keeps its promise on everything the parser produced: UTF-8, one
/// line per item.
fn check_writer(items: &[Result<Item, ParseError>]) {
    let mut writer = Writer::new(jabber_proto::ns::CLIENT).one_line(true);
    for item in items {
        let mut out = Vec::new();
        match item {
            Ok(Item::Header(header)) => {
                writer = Writer::new(header.content_ns()).one_line(true);
                writer.header(&mut out, header);
            }
            Ok(Item::Element(element)) => writer.element(&mut out, element.root()),
            Ok(Item::Close) | Err(_) => continue,
        }
        let text = std::str::from_utf8(&out).expect("writer output is UTF-8");
        assert!(
            !text.contains(['\n', '\r']),
            "one-line writer wrote a line break: {text:?}"
        );
    }
}
