//! Elements keep their nodes in a table behind their strings, two digits per field up to
//! 16 KiB of strings and five beyond: around that boundary, parsed and built elements
//! must read back exactly, whatever the chunking, and compare equal across the widths.

use jabber_proto::Limits;
use jabber_proto::stream::{Item, StreamParser};
use jabber_proto::xml::Element;

const HEADER: &str = "<stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";

/// The one element of `stanza`, parsed in pieces of `piece` bytes.
fn parse(stanza: &str, piece: usize) -> Element {
    let mut p = StreamParser::new(Limits::default());
    let mut items = Vec::new();
    for chunk in format!("{HEADER}{stanza}").as_bytes().chunks(piece) {
        p.push(chunk);
        while let Some(item) = p.next_item() {
            items.push(item.expect("well-formed"));
        }
    }
    assert_eq!(items.len(), 2);
    match items.pop() {
        Some(Item::Element(e)) => e,
        other => panic!("expected an element, got {other:?}"),
    }
}

/// Parsed whole and in 7-byte pieces (and byte by byte when `bytewise`): all the same.
fn parse_all(stanza: &str, bytewise: bool) -> Element {
    let whole = parse(stanza, usize::MAX);
    assert_eq!(parse(stanza, 7), whole);
    if bytewise {
        assert_eq!(parse(stanza, 1), whole);
    }
    whole
}

#[test]
fn parsed_elements_across_the_width_boundary_read_back_exactly() {
    let prefix = "<m a='x' z='q'>";
    let suffix = "<k t='y'/></m>";
    let fixed = prefix.len() + suffix.len();
    for len in 16_360..16_400 {
        let n = len - fixed;
        let body = "b".repeat(n);
        let stanza = format!("{prefix}{body}{suffix}");
        assert_eq!(stanza.len(), len);
        let el = parse_all(&stanza, matches!(len, 16_383 | 16_384));
        assert_eq!(el.attr("a"), Some("x"));
        assert_eq!(el.attr("z"), Some("q"));
        assert_eq!(el.text(), body);
        let k = el.child("k", "jabber:client").expect("k");
        assert_eq!(k.attr("t"), Some("y"));
        let built = Element::builder("m", "jabber:client")
            .attr("a", "x")
            .attr("z", "q")
            .text(&body)
            .child(Element::builder("k", "jabber:client").attr("t", "y"))
            .build()
            .unwrap();
        assert_eq!(el, built, "at {len} bytes");
        assert_eq!(
            k.to_element(),
            built.child("k", "jabber:client").unwrap().to_element()
        );
        // What we would write reads back the same.
        let again = parse(
            &el.to_string().replace(" xmlns='jabber:client'", ""),
            usize::MAX,
        );
        assert_eq!(again, el);
    }
}

#[test]
fn decoded_values_can_carry_the_strings_over_the_boundary() {
    // The raw text stays under 16 KiB; with the decoded text behind it, the strings do
    // not: spans into the decoded part need the wide table.
    for n in 8_150..8_250 {
        let body = "b".repeat(n);
        let stanza = format!("<m a='x&amp;y' t='&#x41;zz'>{body}&lt;</m>");
        assert!(stanza.len() < 16_384);
        let el = parse_all(&stanza, n == 8_180);
        assert_eq!(el.attr("a"), Some("x&y"));
        assert_eq!(el.attr("t"), Some("Azz"));
        assert_eq!(el.text(), format!("{body}<"));
    }
}

#[test]
fn built_elements_across_the_width_boundary_read_back_exactly() {
    for n in 16_360..16_400 {
        let text = "c".repeat(n);
        // The late attribute's strings come after the text, past 16 KiB, and every
        // child's subtree moves one node on.
        let el = Element::builder("m", "urn:x")
            .text(&text)
            .attr("late", "v")
            .child(Element::builder("k", "urn:x").attr("t", "y").text("in"))
            .text("tail")
            .build()
            .unwrap();
        assert_eq!(el.attr("late"), Some("v"));
        let k = el.child("k", "urn:x").expect("k");
        assert_eq!(k.attr("t"), Some("y"));
        assert_eq!(k.text(), "in");
        assert_eq!(el.text(), format!("{text}tail"));
        let written = el.to_string();
        let mut p = StreamParser::new(Limits::default());
        p.push(format!("{HEADER}{written}").as_bytes());
        let _header = p.next_item();
        let Some(Ok(Item::Element(again))) = p.next_item() else {
            panic!("{written:.80}")
        };
        assert_eq!(again, el, "at {n}");
    }
}

#[test]
fn nested_builders_and_elements_make_the_same_tree() {
    let leaf = || Element::builder("c", "urn:z").attr("q", "1").text("leaf");
    let via_builders = Element::builder("a", "urn:x")
        .child(Element::builder("b", "urn:y").child(leaf()).text("t"))
        .build()
        .unwrap();
    let via_elements = Element::builder("a", "urn:x")
        .child(
            Element::builder("b", "urn:y")
                .child(leaf().build().unwrap())
                .text("t")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    assert_eq!(via_builders, via_elements);
    assert_eq!(via_builders.to_string(), via_elements.to_string());
    let b = via_builders.child("b", "urn:y").unwrap();
    assert_eq!(b.text(), "t");
    assert_eq!(b.child("c", "urn:z").unwrap().attr("q"), Some("1"));
}
