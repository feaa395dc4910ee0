//! Corners of XML 1.0 and Namespaces in XML that the stream layer must get right, each
//! parsed whole and one byte at a time: character references with leading zeros, and
//! elements in the XML namespace (`xml:` prefix) through the writer and back.

use jabber_proto::Limits;
use jabber_proto::ns;
use jabber_proto::stream::{Condition, Item, ParseError, StreamHeader, StreamParser, Writer};
use jabber_proto::xml::Element;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

const HEADER: &str = "<stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";

/// What a parser made of some input: the items, then the error that ended it (if any).
#[derive(Debug, PartialEq)]
struct Outcome {
    items: Vec<Item>,
    error: Option<ParseError>,
}

fn run_chunks(input: &[u8], chunk: usize) -> Outcome {
    let mut p = StreamParser::new(Limits::default());
    let mut out = Outcome {
        items: Vec::new(),
        error: None,
    };
    for piece in input.chunks(chunk.max(1)) {
        p.push(piece);
        while let Some(r) = p.next_item() {
            match r {
                Ok(item) => out.items.push(item),
                Err(e) => out.error = Some(e),
            }
        }
    }
    out
}

/// Parses `input` whole and one byte at a time; both must agree.
fn run(input: &[u8]) -> Outcome {
    let whole = run_chunks(input, input.len());
    assert_eq!(run_chunks(input, 1), whole, "chunking changed the outcome");
    whole
}

/// The one element of `HEADER` followed by `stanza`.
#[track_caller]
fn single_element(stanza: &str) -> Element {
    let out = run(format!("{HEADER}{stanza}").as_bytes());
    assert_eq!(out.error, None, "{stanza}");
    match out.items.as_slice() {
        [Item::Header(_), Item::Element(el)] => el.clone(),
        items => panic!("{stanza}: {items:?}"),
    }
}

/// `stanza` after `HEADER` must fail with `expected`, mapped to not-well-formed.
#[track_caller]
fn refused(stanza: &str, expected: ParseError) {
    let out = run(format!("{HEADER}{stanza}").as_bytes());
    assert_eq!(out.error.as_ref(), Some(&expected), "{stanza}");
    assert_eq!(expected.condition(), Condition::NotWellFormed);
    assert!(
        matches!(out.items.as_slice(), [Item::Header(_)]),
        "{stanza}"
    );
}

// ---------------------------------------------------------------------------------------
// Character references: leading zeros are allowed, only the value is bounded
// ---------------------------------------------------------------------------------------

#[test]
fn character_references_may_have_any_number_of_leading_zeros() {
    let el = single_element(
        "<message a='&#000000009;&#x0000000041;'>&#000000009;&#x0000000041;</message>",
    );
    assert_eq!(el.attr("a"), Some("\tA"));
    assert_eq!(el.text(), "\tA");
    let zeros = "0".repeat(2_000);
    let el = single_element(&format!(
        "<message a='&#x{zeros}1F600;'><body>&#{zeros}233;&#x{zeros}10FFFF;</body></message>"
    ));
    assert_eq!(el.attr("a"), Some("\u{1F600}"));
    let body = el.child("body", ns::CLIENT).expect("body");
    assert_eq!(body.text(), "\u{E9}\u{10FFFF}");
}

#[test]
fn leading_zeros_in_the_stream_header() {
    let header = HEADER.replace("example.com", "ex&#x00000000061;mple.com");
    let out = run(header.as_bytes());
    assert_eq!(out.error, None);
    let [Item::Header(h)] = out.items.as_slice() else {
        panic!("{:?}", out.items);
    };
    assert_eq!(h.to(), Some("example.com"));
}

#[test]
fn leading_zeros_in_references_to_forbidden_characters() {
    for (reference, code) in [
        ("&#0000000000;", 0),
        ("&#x000000001;", 1),
        ("&#x00000000FFFE;", 0xFFFE),
        ("&#x0000000D800;", 0xD800),
        ("&#x000000110000;", 0x11_0000),
        ("&#00000001114112;", 0x11_0000),
        ("&#x00000000FFFFFFFF;", u32::MAX),
    ] {
        refused(
            &format!("<message>{reference}</message>"),
            ParseError::ForbiddenChar { code },
        );
        refused(
            &format!("<message a='{reference}'/>"),
            ParseError::ForbiddenChar { code },
        );
    }
}

#[test]
fn references_too_large_for_any_character_are_refused() {
    let nines = "9".repeat(2_000);
    for reference in [
        "&#4294967296;".to_string(),
        "&#x100000000;".to_string(),
        "&#x0000000100000000;".to_string(),
        "&#000000099999999999;".to_string(),
        format!("&#{nines};"),
        format!("&#x{nines};"),
    ] {
        refused(
            &format!("<message>{reference}</message>"),
            ParseError::BadReference,
        );
        refused(
            &format!("<message a='{reference}'/>"),
            ParseError::BadReference,
        );
    }
}
// ---------------------------------------------------------------------------------------
// Elements in the XML namespace
// ---------------------------------------------------------------------------------------

fn written(el: &Element) -> String {
    let mut out = Vec::new();
    Writer::new(ns::CLIENT).element(&mut out, el.root());
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn parsed_xml_prefixed_elements_are_written_back_as_parsed() {
    let stanza = "<message><xml:foo xml:lang='en' a='1'><bar/><baz xmlns='urn:x'><q/></baz>\
        <xml:bar/>t<n xmlns=''/></xml:foo></message>";
    let el = single_element(stanza);
    let foo = el.child("foo", ns::XML).expect("xml:foo");
    assert_eq!(foo.lang(), Some("en"));
    assert!(foo.child("bar", ns::CLIENT).is_some());
    assert!(foo.child("baz", "urn:x").is_some());
    assert!(foo.child("bar", ns::XML).is_some());
    assert!(foo.child("n", "").is_some());
    assert_eq!(written(&el), stanza);
    // And once more through the parser.
    assert_eq!(single_element(&written(&el)), el);
}

#[test]
fn a_top_level_xml_prefixed_element_round_trips() {
    let el = single_element("<xml:foo><x/></xml:foo>");
    assert!(el.is("foo", ns::XML));
    assert_eq!(written(&el), "<xml:foo><x/></xml:foo>");
    assert_eq!(single_element(&written(&el)), el);
    // Display is standalone, and the xml prefix needs no declaration.
    assert_eq!(
        el.to_string(),
        "<xml:foo><x xmlns='jabber:client'/></xml:foo>"
    );
    assert_eq!(single_element(&el.to_string()), el);
}

#[test]
fn binding_the_xml_namespace_as_default_is_still_refused() {
    refused(
        "<foo xmlns='http://www.w3.org/XML/1998/namespace'/>",
        ParseError::BadNamespaceDeclaration,
    );
}

#[test]
fn whole_stream_with_an_xml_prefixed_element() {
    let writer = Writer::new(ns::CLIENT);
    let el = Element::builder("message", ns::CLIENT)
        .child(Element::builder("foo", ns::XML).child(Element::builder("body", ns::CLIENT)))
        .build()
        .expect("valid");
    let mut out = Vec::new();
    writer.header(&mut out, &StreamHeader::new(ns::CLIENT));
    writer.element(&mut out, el.root());
    writer.close(&mut out);
    let got = run(&out);
    assert_eq!(got.error, None);
    assert_eq!(got.items.len(), 3);
    assert_eq!(got.items[1], Item::Element(el));
    assert_eq!(got.items[2], Item::Close);
}

const NAMES: &[&str] = &["a", "foo", "lang", "caf\u{E9}"];
const NAMESPACES: &[&str] = &[ns::CLIENT, ns::XML, "urn:x", "", ns::STREAM];

/// Element trees mixing the XML namespace with the stream's, others and none.
fn tree() -> impl Strategy<Value = Element> {
    let leaf = (select(NAMES), select(NAMESPACES), "[a-z<&\r]{0,3}")
        .prop_map(|(n, s, t)| Element::builder(n, s).text(&t).build().expect("valid leaf"));
    leaf.prop_recursive(4, 32, 4, |inner| {
        (
            select(NAMES),
            select(NAMESPACES),
            vec(inner, 0..4),
            any::<bool>(),
        )
            .prop_map(|(n, s, children, lang)| {
                let b = Element::builder(n, s).children(children);
                let b = if lang { b.lang("en") } else { b };
                b.build().expect("valid element")
            })
    })
}

proptest! {
    /// Whatever tree the writer gets, the parser gets it back, whole and byte by byte.
    #[test]
    fn trees_with_xml_prefixed_elements_survive_writer_and_parser(el in tree()) {
        let writer = Writer::new(ns::CLIENT);
        let mut out = Vec::new();
        writer.header(&mut out, &StreamHeader::new(ns::CLIENT));
        writer.element(&mut out, el.root());
        writer.close(&mut out);
        let got = run(&out);
        prop_assert_eq!(&got.error, &None, "{}", String::from_utf8_lossy(&out));
        prop_assert_eq!(got.items.len(), 3);
        prop_assert_eq!(&got.items[1], &Item::Element(el.clone()));
        // Display is standalone XML: parsed on its own terms (inside a stream, that holds
        // when the root declares the default namespace), it is the same tree.
        if !el.ns().is_empty() && el.ns() != ns::XML {
            let shown = run(format!("{HEADER}{el}").as_bytes());
            prop_assert_eq!(shown.items.last(), Some(&Item::Element(el.clone())));
        }
    }
}
