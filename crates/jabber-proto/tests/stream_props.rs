//! Properties of the stream layer: chunking is invisible (any split of the input yields the
//! same items and the same error as parsing it whole), anything XML can carry survives the
//! writer and the parser unchanged, and no input makes the parser panic or hold more than
//! the stanza limit plus one push.

use jabber_proto::Limits;
use jabber_proto::ns;
use jabber_proto::stream::{Item, ParseError, StreamHeader, StreamParser, Writer};
use jabber_proto::xml::Element;
use jabber_proto::xml::chars::is_xml_char;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::{Index, select};

const HEADER: &str = "<stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' \
    to='example.com' version='1.0' xml:lang='en'>";

// ---------------------------------------------------------------------------------------
// Driving the parser
// ---------------------------------------------------------------------------------------

/// What a parser made of some input: the items, then the error that ended it (if any).
#[derive(Debug, PartialEq)]
struct Outcome {
    items: Vec<Item>,
    error: Option<ParseError>,
}

/// Parses `input` cut at `cuts` (sorted offsets; repeats give empty pushes), draining after
/// every push, then marks the end of input. Checks the memory bound and the stickiness of
/// errors on the way.
fn parse(input: &[u8], cuts: &[usize], limits: &Limits) -> Outcome {
    let max = limits.max_stanza_bytes.max(1);
    let mut p = StreamParser::new(limits.clone());
    let mut out = Outcome {
        items: Vec::new(),
        error: None,
    };
    let drain = |p: &mut StreamParser, out: &mut Outcome| {
        while let Some(r) = p.next_item() {
            assert!(out.error.is_none(), "an item after the error");
            match r {
                Ok(item) => out.items.push(item),
                Err(e) => {
                    assert_eq!(p.error(), Some(&e));
                    out.error = Some(e);
                }
            }
        }
        if out.error.is_some() {
            assert_eq!(p.buffered(), 0, "buffer kept after an error");
        }
        assert!(
            p.buffered() <= max,
            "{} bytes held, limit {max}",
            p.buffered()
        );
    };
    let mut start = 0;
    for &cut in cuts.iter().chain(Some(&input.len())) {
        let piece = &input[start..cut];
        start = cut;
        p.push(piece);
        assert!(p.buffered() <= max + piece.len());
        drain(&mut p, &mut out);
    }
    p.push_eof();
    drain(&mut p, &mut out);
    assert!(p.next_item().is_none());
    out
}

fn whole(input: &[u8], limits: &Limits) -> Outcome {
    parse(input, &[], limits)
}

fn bytewise(input: &[u8], limits: &Limits) -> Outcome {
    let cuts: Vec<usize> = (1..input.len()).collect();
    parse(input, &cuts, limits)
}

fn at(input: &[u8], indices: &[Index], limits: &Limits) -> Outcome {
    let mut cuts: Vec<usize> = indices.iter().map(|i| i.index(input.len() + 1)).collect();
    cuts.sort_unstable();
    parse(input, &cuts, limits)
}

/// Cut inside every multi-byte UTF-8 sequence, after each of its bytes but the last.
fn inside_characters(input: &str, limits: &Limits) -> Outcome {
    let cuts: Vec<usize> = (1..input.len())
        .filter(|&i| !input.is_char_boundary(i))
        .collect();
    parse(input.as_bytes(), &cuts, limits)
}

fn cut_points() -> impl Strategy<Value = Vec<Index>> {
    vec(any::<Index>(), 0..24)
}

fn limits() -> impl Strategy<Value = Limits> {
    (
        prop_oneof![Just(4 << 20), 1usize..400],
        prop_oneof![Just(64u32), 0u32..6],
        prop_oneof![Just(64u32), 0u32..7],
    )
        .prop_map(|(bytes, depth, attrs)| {
            let mut l = Limits::default();
            l.max_stanza_bytes = bytes;
            l.max_depth = depth;
            l.max_attributes = attrs;
            l
        })
}

// ---------------------------------------------------------------------------------------
// Random valid streams
// ---------------------------------------------------------------------------------------

const NAMES: &[&str] = &[
    "message",
    "body",
    "x",
    "a-b",
    "_c",
    "n.1",
    "caf\u{E9}",
    "\u{540D}\u{524D}",
    "\u{10000}z",
];
const ATTR_NAMES: &[&str] = &["id", "to", "type", "a", "caf\u{E9}", "x-y", "\u{3042}"];
const URIS: &[&str] = &[
    "urn:a",
    "urn:\u{E9}t\u{E9}",
    "http://example.com/x?a=b&amp;c=d",
    "jabber:iq:roster",
    "jabber:client",
];

/// Raw character data: markup-free text, references, line ends, CDATA sections.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-zA-Z0-9 '\"=/?!-]{1,8}",
        3 => "[\u{E9}\u{7FF}\u{800}\u{4E2D}\u{FFFD}\u{FEFF}\u{10000}\u{1F600}\u{10FFFF}]{1,3}",
        2 => select(&[
            "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#233;", "&#x1F600;", "&#10;",
            "&#13;", "&#x9;", "\r\n", "\r", "\n", "\t", ">", "]x", "]]x",
            "&#000000000233;", "&#x00000000001F600;",
        ][..])
        .prop_map(String::from),
        1 => "[a-z<>&\\]\u{E9}\r\n ]{0,8}"
            .prop_map(|s| format!("<![CDATA[{}]]>", s.replace("]]>", "]] >"))),
    ];
    vec(piece, 1..5).prop_map(|v| v.concat())
}

/// A raw attribute value for single quotes.
fn attr_value() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-zA-Z0-9 \"=/>?!-]{1,8}",
        2 => "[\u{E9}\u{800}\u{4E2D}\u{10000}\u{1F600}]{1,3}",
        2 => select(&[
            "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#233;", "&#x1F600;", "&#9;",
            "&#10;", "&#13;", "\r\n", "\r", "\n", "\t", "]]>", "&#0000000009;",
            "&#x000000000041;",
        ][..])
        .prop_map(String::from),
    ];
    vec(piece, 0..4).prop_map(|v| v.concat())
}

#[derive(Clone, Copy, Debug)]
enum NsMode {
    /// No declaration: the default namespace in scope.
    Inherit,
    /// `xmlns='...'`.
    Default(usize),
    /// `p:name xmlns:p='...'`.
    Prefixed(usize),
    /// `db:name`, the prefix declared on the stream header.
    FromHeader,
    /// `xmlns=''`.
    Undeclare,
}

fn ns_mode() -> impl Strategy<Value = NsMode> {
    prop_oneof![
        4 => Just(NsMode::Inherit),
        1 => (0..URIS.len()).prop_map(NsMode::Default),
        1 => (0..URIS.len()).prop_map(NsMode::Prefixed),
        1 => Just(NsMode::FromHeader),
        1 => Just(NsMode::Undeclare),
    ]
}

struct Shape {
    name: &'static str,
    ns: NsMode,
    attrs: std::collections::BTreeMap<&'static str, String>,
    lang: Option<String>,
    foreign: Option<String>,
    space: String,
    self_close: bool,
    children: Vec<String>,
}

fn render(s: Shape) -> String {
    let (qname, decl) = match s.ns {
        NsMode::Inherit => (s.name.to_string(), String::new()),
        NsMode::Default(u) => (s.name.to_string(), format!(" xmlns='{}'", URIS[u])),
        NsMode::Prefixed(u) => (format!("p:{}", s.name), format!(" xmlns:p='{}'", URIS[u])),
        NsMode::FromHeader => (format!("db:{}", s.name), String::new()),
        NsMode::Undeclare => (s.name.to_string(), " xmlns=''".to_string()),
    };
    let mut out = format!("<{qname}{decl}");
    for (k, v) in &s.attrs {
        out.push_str(&format!(" {k}='{v}'"));
    }
    if let Some(v) = &s.lang {
        out.push_str(&format!("\n\txml:lang = '{v}'"));
    }
    if let Some(v) = &s.foreign {
        out.push_str(&format!(" db:key=\"{}\"", v.replace('"', "&quot;")));
    }
    out.push_str(&s.space);
    if s.children.is_empty() && s.self_close {
        out.push_str("/>");
    } else {
        out.push('>');
        for c in &s.children {
            out.push_str(c);
        }
        out.push_str(&format!("</{qname}{}>", s.space));
    }
    out
}

fn element(children: impl Strategy<Value = Vec<String>>) -> impl Strategy<Value = String> {
    (
        select(NAMES),
        ns_mode(),
        btree_map(select(ATTR_NAMES), attr_value(), 0..4),
        proptest::option::of(attr_value()),
        proptest::option::of(attr_value()),
        "[ \t\r\n]{0,2}",
        any::<bool>(),
        children,
    )
        .prop_map(
            |(name, ns, attrs, lang, foreign, space, self_close, children)| {
                render(Shape {
                    name,
                    ns,
                    attrs,
                    lang,
                    foreign,
                    space,
                    self_close,
                    children,
                })
            },
        )
}

fn stanza() -> impl Strategy<Value = String> {
    element(vec(text(), 0..2)).prop_recursive(4, 24, 4, |inner| {
        element(vec(prop_oneof![2 => inner, 1 => text()], 0..4))
    })
}

/// A valid stream, the number of top-level elements in it, and whether it is closed.
fn valid_stream() -> impl Strategy<Value = (String, usize, bool)> {
    (
        any::<bool>(),
        "[ \t\r\n]{0,3}",
        vec((stanza(), "[ \t\r\n]{0,3}"), 0..6),
        any::<bool>(),
    )
        .prop_map(|(decl, after_header, stanzas, closed)| {
            let mut s = String::new();
            if decl {
                s.push_str("<?xml version='1.0' encoding='UTF-8'?>\n");
            }
            s.push_str(HEADER);
            s.push_str(&after_header);
            for (stanza, keepalive) in &stanzas {
                s.push_str(stanza);
                s.push_str(keepalive);
            }
            if closed {
                s.push_str("</stream:stream>\r\n");
            }
            (s, stanzas.len(), closed)
        })
}

// ---------------------------------------------------------------------------------------
// Strings XML can carry
// ---------------------------------------------------------------------------------------

/// Any string XML can carry, rich in what needs escaping or normalising.
fn xml_string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => any::<char>()
            .prop_filter("a character XML can carry", |c| is_xml_char(*c))
            .prop_map(String::from),
        2 => select(&[
            "\r", "\n", "\t", "\r\n", "\"", "'", "<", ">", "&", "]]>", "]", " ", "  ",
            "&amp;", "&#13;", "<![CDATA[", "\u{FEFF}", "\u{FFFD}", "\u{1F600}",
        ][..])
        .prop_map(String::from),
    ];
    vec(piece, 0..24).prop_map(|v| v.concat())
}

fn round_trip(writer: &Writer, header: &StreamHeader, el: &Element) -> Vec<u8> {
    let mut out = Vec::new();
    writer.declaration(&mut out);
    writer.header(&mut out, header);
    writer.element(&mut out, el.root());
    writer.close(&mut out);
    out
}

// ---------------------------------------------------------------------------------------
// Arbitrary input
// ---------------------------------------------------------------------------------------

const TOKENS: &[&[u8]] = &[
    b"<",
    b">",
    b"/",
    b"'",
    b"\"",
    b"=",
    b" ",
    b"\n",
    b"\r",
    b"\t",
    b"a",
    b"p:a",
    b"xmlns",
    b"xmlns:p='u'",
    b"x='1'",
    b"&",
    b";",
    b"&amp;",
    b"&#",
    b"&#x",
    b"]]>",
    b"]",
    b"<![CDATA[",
    b"<!--",
    b"-->",
    b"<!DOCTYPE",
    b"<?",
    b"?>",
    b"<?xml version='1.0'?>",
    b"</",
    b"/>",
    b"<message>",
    b"</message>",
    b"<body/>",
    b"stream",
    b"</stream:stream>",
    b"\xc3",
    b"\xa9",
    b"\xc3\xa9",
    b"\xef\xbf\xbf",
    b"\xef\xbf\xbe",
    b"\xed\xa0\x80",
    b"\xf0\x9f\x98\x80",
    b"\xff",
    b"\x00",
    b"\x01",
    b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
];

fn token_soup() -> impl Strategy<Value = Vec<u8>> {
    vec(select(TOKENS), 0..64).prop_map(|v| v.concat())
}

fn with_header(mut tail: Vec<u8>) -> Vec<u8> {
    let mut v = HEADER.as_bytes().to_vec();
    v.append(&mut tail);
    v
}

#[derive(Clone, Debug)]
enum Mutation {
    /// Overwrite one byte.
    Replace(Index, u8),
    /// Insert a token.
    Insert(Index, &'static [u8]),
    /// Delete up to this many bytes.
    Delete(Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<Index>(), select(TOKENS)).prop_map(|(i, t)| Mutation::Insert(i, t)),
        (any::<Index>(), 1usize..8).prop_map(|(i, n)| Mutation::Delete(i, n)),
    ]
}

/// A valid stream with a few random mutations: input that gets deep into the parser
/// before (usually) going wrong.
fn mutated_stream() -> impl Strategy<Value = Vec<u8>> {
    (valid_stream(), vec(mutation(), 1..4)).prop_map(|((s, _, _), mutations)| {
        let mut v = s.into_bytes();
        for m in mutations {
            match m {
                Mutation::Replace(i, b) if !v.is_empty() => {
                    let at = i.index(v.len());
                    v[at] = b;
                }
                Mutation::Replace(..) => {}
                Mutation::Insert(i, t) => {
                    let at = i.index(v.len() + 1);
                    v.splice(at..at, t.iter().copied());
                }
                Mutation::Delete(i, n) => {
                    let at = i.index(v.len() + 1);
                    v.drain(at..(at + n).min(v.len()));
                }
            }
        }
        v
    })
}

fn arbitrary_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => vec(any::<u8>(), 0..512),
        1 => vec(any::<u8>(), 0..512).prop_map(with_header),
        1 => token_soup(),
        2 => token_soup().prop_map(with_header),
        4 => mutated_stream(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// (a) Any split of a valid stream yields exactly the items of the whole buffer.
    #[test]
    fn valid_streams_parse_the_same_whatever_the_split(
        (input, stanzas, closed) in valid_stream(),
        cuts in cut_points(),
    ) {
        let l = Limits::default();
        let reference = whole(input.as_bytes(), &l);
        // The generator only makes valid streams: everything arrives, nothing fails.
        let expected_error = if closed { None } else { Some(ParseError::UnclosedStream) };
        prop_assert_eq!(&reference.error, &expected_error, "{}", input);
        prop_assert_eq!(reference.items.len(), 1 + stanzas + usize::from(closed));
        prop_assert!(matches!(reference.items[0], Item::Header(_)));
        if closed {
            prop_assert_eq!(reference.items.last(), Some(&Item::Close));
        }
        prop_assert_eq!(&bytewise(input.as_bytes(), &l), &reference);
        prop_assert_eq!(&at(input.as_bytes(), &cuts, &l), &reference);
        prop_assert_eq!(&inside_characters(&input, &l), &reference);

        // Whatever was parsed can be written and parsed back unchanged.
        let writer = Writer::new(ns::CLIENT);
        for item in &reference.items {
            let mut out = Vec::new();
            match item {
                Item::Header(h) => writer.header(&mut out, h),
                Item::Element(e) => {
                    writer.header(&mut out, &StreamHeader::new(ns::CLIENT));
                    writer.element(&mut out, e.root());
                }
                Item::Close => continue,
            }
            let again = whole(&out, &l);
            prop_assert_eq!(again.error, Some(ParseError::UnclosedStream));
            prop_assert_eq!(again.items.last(), Some(item));
            // Display is standalone: it declares the root's namespace (inside a stream
            // that only holds when the root has one).
            if let Item::Element(e) = item {
                if !e.ns().is_empty() {
                    let shown = format!("{HEADER}{e}");
                    let shown = whole(shown.as_bytes(), &l);
                    prop_assert_eq!(shown.items.last(), Some(item));
                }
            }
        }
    }

    /// (a) The same under tight limits, where limit errors can strike anywhere.
    #[test]
    fn limit_errors_do_not_depend_on_the_split(
        (input, _, _) in valid_stream(),
        l in limits(),
        cuts in cut_points(),
    ) {
        let reference = whole(input.as_bytes(), &l);
        prop_assert_eq!(&bytewise(input.as_bytes(), &l), &reference);
        prop_assert_eq!(&at(input.as_bytes(), &cuts, &l), &reference);
        prop_assert_eq!(&inside_characters(&input, &l), &reference);
    }

    /// (b) Any string XML can carry survives the writer and the parser, as text and as
    /// attribute values, in the stream header and in a stanza.
    #[test]
    fn strings_survive_writer_and_parser(
        s in xml_string(),
        one_line in any::<bool>(),
        cuts in cut_points(),
    ) {
        let el = Element::builder("message", ns::CLIENT)
            .attr("a", &s)
            .attr_ns("b", "urn:x", &s)
            .lang(&s)
            .child(Element::builder("body", ns::CLIENT).text(&s))
            .child(Element::builder("raw", "").attr("c", &s).text(&s).text(&s))
            .child(
                Element::builder("features", ns::STREAM)
                    .child(Element::builder("x", "urn:x").attr_ns("d", ns::STREAM, &s).text(&s)),
            )
            .build();
        let el = match el {
            Ok(el) => el,
            Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
        };
        let header = StreamHeader::new(ns::CLIENT)
            .with_to(&s)
            .with_from(&s)
            .with_version("1.0")
            .with_lang(&s);
        let writer = Writer::new(ns::CLIENT).one_line(one_line);
        let bytes = round_trip(&writer, &header, &el);
        if one_line {
            prop_assert!(!bytes.contains(&b'\n') && !bytes.contains(&b'\r'));
        }
        let l = Limits::default();
        let out = whole(&bytes, &l);
        prop_assert_eq!(&out.error, &None);
        prop_assert_eq!(out.items.len(), 3);
        let Item::Header(h) = &out.items[0] else {
            return Err(TestCaseError::fail("no header"));
        };
        prop_assert_eq!(h, &header);
        prop_assert_eq!(h.to(), Some(s.as_str()));
        prop_assert_eq!(h.lang(), Some(s.as_str()));
        let Item::Element(got) = &out.items[1] else {
            return Err(TestCaseError::fail("no element"));
        };
        prop_assert_eq!(got, &el);
        prop_assert_eq!(got.attr("a"), Some(s.as_str()));
        prop_assert_eq!(got.root().attr_ns("b", "urn:x"), Some(s.as_str()));
        prop_assert_eq!(got.root().lang(), Some(s.as_str()));
        let body = got.child("body", ns::CLIENT).map(|b| b.text().into_owned());
        prop_assert_eq!(body.as_deref(), Some(s.as_str()));
        let raw = got.child("raw", "").map(|b| b.text().into_owned());
        prop_assert_eq!(raw, Some(format!("{s}{s}")));
        prop_assert_eq!(&out.items[2], &Item::Close);
        prop_assert_eq!(&at(&bytes, &cuts, &l), &out);

        // Display is standalone XML that parses back to the same element.
        let shown = format!("{HEADER}{el}");
        let out = whole(shown.as_bytes(), &l);
        prop_assert_eq!(out.items.get(1), Some(&Item::Element(el)));
    }

    /// (c) Arbitrary bytes never panic, and yield the same items and error however split.
    #[test]
    fn arbitrary_input_is_split_invariant(
        input in arbitrary_input(),
        l in limits(),
        cuts in cut_points(),
    ) {
        let reference = whole(&input, &l);
        prop_assert_eq!(&bytewise(&input, &l), &reference);
        prop_assert_eq!(&at(&input, &cuts, &l), &reference);
        let default = Limits::default();
        let reference = whole(&input, &default);
        prop_assert_eq!(&bytewise(&input, &default), &reference);
        prop_assert_eq!(&at(&input, &cuts, &default), &reference);
    }
}
