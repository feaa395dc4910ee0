//! Corners of XML 1.0 and Namespaces in XML that the stream layer must get right, each
//! parsed whole and one byte at a time: character references with leading zeros.

use jabber_proto::Limits;
use jabber_proto::ns;
use jabber_proto::stream::{Condition, Item, ParseError, StreamParser};
use jabber_proto::xml::Element;

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
