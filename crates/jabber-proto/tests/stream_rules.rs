//! The rules of the inbound stream, one test per rule: every error is checked for its exact
//! [`ParseError`] variant and for the stream error condition it maps to (RFC 6120 §4.9.3),
//! and every input is parsed both whole and one byte at a time with identical results.

use jabber_proto::Limits;
use jabber_proto::ns;
use jabber_proto::stream::{Condition, Item, ParseError, StreamHeader, StreamParser};
use jabber_proto::xml::{Element, Node};

const STREAM_NS: &str = "http://etherx.jabber.org/streams";

/// A client stream header (also used as the reference size in the limit tests).
const HEADER: &str = "<stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";

/// What a parser made of some input: the items, then the error that ended it (if any).
#[derive(Debug, PartialEq)]
struct Outcome {
    items: Vec<Item>,
    error: Option<ParseError>,
}

fn drain(p: &mut StreamParser, out: &mut Outcome) {
    while let Some(r) = p.next_item() {
        match r {
            Ok(item) => {
                assert!(out.error.is_none(), "item after an error");
                out.items.push(item);
            }
            Err(e) => {
                assert!(out.error.is_none(), "two errors");
                assert_eq!(p.error(), Some(&e), "error() must keep the error");
                assert_eq!(p.buffered(), 0, "the buffer is freed on error");
                out.error = Some(e);
            }
        }
    }
}

fn run_chunks(input: &[u8], limits: &Limits, chunk: usize, eof: bool) -> Outcome {
    let mut p = StreamParser::new(limits.clone());
    let mut out = Outcome {
        items: Vec::new(),
        error: None,
    };
    for piece in input.chunks(chunk.max(1)) {
        p.push(piece);
        drain(&mut p, &mut out);
    }
    if eof {
        p.push_eof();
        drain(&mut p, &mut out);
    }
    out
}

/// Parses `input` whole and one byte at a time; both must agree.
fn run_with(input: &[u8], limits: &Limits, eof: bool) -> Outcome {
    let whole = run_chunks(input, limits, input.len(), eof);
    let bytewise = run_chunks(input, limits, 1, eof);
    assert_eq!(whole, bytewise, "chunking changed the outcome");
    whole
}

fn run(input: &[u8]) -> Outcome {
    run_with(input, &Limits::default(), false)
}

fn run_eof(input: &[u8]) -> Outcome {
    run_with(input, &Limits::default(), true)
}

/// `input` must end with exactly `expected`, which maps to `condition`.
#[track_caller]
fn assert_error_with(input: &[u8], limits: &Limits, expected: ParseError, condition: Condition) {
    let out = run_with(input, limits, false);
    assert_eq!(
        out.error.as_ref(),
        Some(&expected),
        "input {:?}",
        String::from_utf8_lossy(input)
    );
    assert_eq!(expected.condition(), condition, "condition of {expected:?}");
    assert!(!expected.is_end_of_input());
}

#[track_caller]
fn assert_error(input: &[u8], expected: ParseError, condition: Condition) {
    assert_error_with(input, &Limits::default(), expected, condition);
}

/// `stanza` inside a client stream.
fn in_stream(stanza: &str) -> Vec<u8> {
    format!("{HEADER}{stanza}").into_bytes()
}

fn in_stream_bytes(stanza: &[u8]) -> Vec<u8> {
    let mut v = HEADER.as_bytes().to_vec();
    v.extend_from_slice(stanza);
    v
}

#[track_caller]
fn single_element(stanza: &str) -> Element {
    let out = run(&in_stream(stanza));
    assert_eq!(out.error, None, "{stanza}");
    assert_eq!(out.items.len(), 2, "{stanza}");
    match &out.items[1] {
        Item::Element(e) => e.clone(),
        other => panic!("expected an element, got {other:?}"),
    }
}

fn header_of(out: &Outcome) -> &StreamHeader {
    match out.items.first() {
        Some(Item::Header(h)) => h,
        other => panic!("expected a header, got {other:?}"),
    }
}

fn limits(f: impl FnOnce(&mut Limits)) -> Limits {
    let mut l = Limits::default();
    f(&mut l);
    l
}

// ---------------------------------------------------------------------------------------
// XML declaration
// ---------------------------------------------------------------------------------------

#[test]
fn declaration_at_the_very_start_is_accepted() {
    for decl in [
        "<?xml version='1.0'?>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>",
    ] {
        let out = run(format!("{decl}{HEADER}").as_bytes());
        assert_eq!(out.error, None, "{decl}");
        assert_eq!(out.items.len(), 1, "the declaration is not an item");
        assert_eq!(header_of(&out).to(), Some("example.com"));
    }
    // Whitespace between the declaration and the header is fine.
    let out = run(format!("<?xml version='1.0'?>\r\n  {HEADER}").as_bytes());
    assert_eq!(out.error, None);
    assert_eq!(out.items.len(), 1);
}

#[test]
fn declaration_after_whitespace_is_a_processing_instruction() {
    assert_error(
        format!(" <?xml version='1.0'?>{HEADER}").as_bytes(),
        ParseError::ProcessingInstruction,
        Condition::RestrictedXml,
    );
    // The same when the whitespace arrives in its own push, already drained.
    let mut p = StreamParser::new(Limits::default());
    p.push(b"\n");
    assert!(p.next_item().is_none());
    p.push(b"<?xml version='1.0'?>");
    assert_eq!(p.next_item(), Some(Err(ParseError::ProcessingInstruction)));
}

#[test]
fn declaration_twice_is_rejected() {
    assert_error(
        format!("<?xml version='1.0'?><?xml version='1.0'?>{HEADER}").as_bytes(),
        ParseError::ProcessingInstruction,
        Condition::RestrictedXml,
    );
}

#[test]
fn declaration_inside_the_stream_is_rejected() {
    assert_error(
        &in_stream("<?xml version='1.0'?>"),
        ParseError::ProcessingInstruction,
        Condition::RestrictedXml,
    );
    assert_error(
        &in_stream("<message><?xml version='1.0'?></message>"),
        ParseError::ProcessingInstruction,
        Condition::RestrictedXml,
    );
}

#[test]
fn declaration_of_xml_1_1_is_bad_format() {
    assert_error(
        format!("<?xml version='1.1'?>{HEADER}").as_bytes(),
        ParseError::BadXmlDeclaration,
        Condition::BadFormat,
    );
    assert_error(
        format!("<?xml encoding='UTF-8'?>{HEADER}").as_bytes(),
        ParseError::BadXmlDeclaration,
        Condition::BadFormat,
    );
}

#[test]
fn declaration_of_another_encoding_is_unsupported_encoding() {
    assert_error(
        format!("<?xml version='1.0' encoding='ISO-8859-1'?>{HEADER}").as_bytes(),
        ParseError::UnsupportedEncoding("ISO-8859-1".into()),
        Condition::UnsupportedEncoding,
    );
}

// ---------------------------------------------------------------------------------------
// Restricted XML: DTDs, processing instructions, comments, entities
// ---------------------------------------------------------------------------------------

#[test]
fn doctype_is_restricted() {
    assert_error(
        format!("<!DOCTYPE stream:stream>{HEADER}").as_bytes(),
        ParseError::Doctype,
        Condition::RestrictedXml,
    );
    assert_error(
        format!("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e 'boom'>]>{HEADER}").as_bytes(),
        ParseError::Doctype,
        Condition::RestrictedXml,
    );
}

#[test]
fn entity_declaration_is_restricted() {
    assert_error(
        format!("<!ENTITY e 'boom'>{HEADER}").as_bytes(),
        ParseError::Doctype,
        Condition::RestrictedXml,
    );
    assert_error(
        &in_stream("<!ENTITY e 'boom'>"),
        ParseError::Doctype,
        Condition::RestrictedXml,
    );
    assert_error(
        &in_stream("<message><!ENTITY e 'boom'></message>"),
        ParseError::Doctype,
        Condition::RestrictedXml,
    );
}

#[test]
fn processing_instruction_in_prolog_is_restricted() {
    for pi in [
        "<?xml-stylesheet href='a.xsl'?>",
        "<?php echo 1; ?>",
        "<?xmlfoo?>",
    ] {
        assert_error(
            format!("{pi}{HEADER}").as_bytes(),
            ParseError::ProcessingInstruction,
            Condition::RestrictedXml,
        );
    }
    assert_error(
        format!("<?xml version='1.0'?><?pi x?>{HEADER}").as_bytes(),
        ParseError::ProcessingInstruction,
        Condition::RestrictedXml,
    );
}

#[test]
fn processing_instruction_inside_a_stanza_is_restricted() {
    assert_error(
        &in_stream("<message><body>a<?pi x?>b</body></message>"),
        ParseError::ProcessingInstruction,
        Condition::RestrictedXml,
    );
}

#[test]
fn processing_instruction_between_stanzas_is_restricted() {
    assert_error(
        &in_stream("<message/><?pi x?><message/>"),
        ParseError::ProcessingInstruction,
        Condition::RestrictedXml,
    );
}

#[test]
fn comment_in_prolog_is_restricted() {
    assert_error(
        format!("<!-- hello -->{HEADER}").as_bytes(),
        ParseError::Comment,
        Condition::RestrictedXml,
    );
    assert_error(
        format!("<?xml version='1.0'?><!-- hello -->{HEADER}").as_bytes(),
        ParseError::Comment,
        Condition::RestrictedXml,
    );
}

#[test]
fn comment_between_stanzas_is_restricted() {
    assert_error(
        &in_stream("<message/><!-- hello --><message/>"),
        ParseError::Comment,
        Condition::RestrictedXml,
    );
}

#[test]
fn comment_inside_a_stanza_is_restricted() {
    assert_error(
        &in_stream("<message><body>a<!-- hello -->b</body></message>"),
        ParseError::Comment,
        Condition::RestrictedXml,
    );
}

#[test]
fn undefined_entity_in_text_is_restricted() {
    assert_error(
        &in_stream("<message><body>a&nbsp;b</body></message>"),
        ParseError::UndefinedEntity("nbsp".into()),
        Condition::RestrictedXml,
    );
}

#[test]
fn undefined_entity_in_attribute_value_is_restricted() {
    assert_error(
        &in_stream("<message to='a&nbsp;b'/>"),
        ParseError::UndefinedEntity("nbsp".into()),
        Condition::RestrictedXml,
    );
    // Also in a namespace declaration, and in the stream header.
    assert_error(
        &in_stream("<message xmlns:p='urn:&copy;'/>"),
        ParseError::UndefinedEntity("copy".into()),
        Condition::RestrictedXml,
    );
    assert_error(
        HEADER.replace("example.com", "&ex;").as_bytes(),
        ParseError::UndefinedEntity("ex".into()),
        Condition::RestrictedXml,
    );
}

#[test]
fn malformed_references_are_not_well_formed() {
    for text in [
        "a &amp b",
        "a & b",
        "&;",
        "&#;",
        "&#x;",
        "&#12a;",
        "&#+12;",
        "&#x-1;",
        "&# 65;",
        "& amp;",
        "&1x;",
        "&#x110000000;",
    ] {
        assert_error(
            &in_stream(&format!("<message><body>{text}</body></message>")),
            ParseError::BadReference,
            Condition::NotWellFormed,
        );
        assert_error(
            &in_stream(&format!("<message id='{text}'/>")),
            ParseError::BadReference,
            Condition::NotWellFormed,
        );
    }
}

// ---------------------------------------------------------------------------------------
// Well-formedness
// ---------------------------------------------------------------------------------------

#[test]
fn mismatched_tags_are_not_well_formed() {
    for stanza in [
        "<message><body>x</message></body>",
        "<message></presence>",
        "<message><body></bodx></message>",
        "<p:a xmlns:p='urn:p' xmlns:q='urn:p'></q:a>",
        "<a></p:a>",
    ] {
        assert_error(
            &in_stream(stanza),
            ParseError::MismatchedTag,
            Condition::NotWellFormed,
        );
    }
}

#[test]
fn malformed_markup_is_not_well_formed() {
    for stanza in [
        "<a b='1'c='2'/>",
        "<a b=1/>",
        "<a b/>",
        "<a =''/>",
        "<1a/>",
        "< a/>",
        "<a:b:c/>",
        "<a:/>",
        "<a></a b>",
        "<a b:c:d='1'/>",
        "<a <b/>",
        "<\u{300}/>",
        "<a><![cdata[x]]></a>",
        // Namespaces in XML: a colon needs a prefix before it.
        "<:a/>",
        "<a></:a>",
        "<a :b='1'/>",
        // Outside attribute values, '/' only appears in "/>"; otherwise this would be an
        // open element swallowing the stanzas after it.
        "<a/ >",
        "<a b='1'/ >",
        "<a / b='1'/>",
        "<a//>",
        "<a><b/ ></a><presence/>",
    ] {
        let out = run(&in_stream(stanza));
        let e = out.error.expect("an error");
        assert!(matches!(e, ParseError::Malformed(_)), "{stanza}: {e:?}");
        assert_eq!(e.condition(), Condition::NotWellFormed);
        assert_eq!(out.items.len(), 1, "{stanza}");
    }
    let out = run(HEADER.replace("'1.0'>", "'1.0'/ >").as_bytes());
    assert!(matches!(out.error, Some(ParseError::Malformed(_))));
}

#[test]
fn unclosed_element_at_eof_is_a_truncated_stanza() {
    for input in [
        in_stream("<message><body>hi"),
        in_stream("<message to='a"),
        in_stream("<"),
        in_stream("<message/><message><![CDATA[x"),
        HEADER.as_bytes()[..20].to_vec(),
        b"<?xml version='1.0'".to_vec(),
    ] {
        let out = run_eof(&input);
        let e = out.error.expect("an error at end of input");
        assert_eq!(e, ParseError::TruncatedStanza);
        assert_eq!(e.condition(), Condition::NotWellFormed);
        assert!(e.is_end_of_input());
        // Without the end of input, the parser just waits.
        assert_eq!(run(&input).error, None);
    }
}

#[test]
fn eof_between_stanzas_is_an_unclosed_stream() {
    for input in [
        in_stream("<message/>"),
        in_stream(""),
        in_stream("<message/>  \n"),
        Vec::new(),
        b"  ".to_vec(),
        b"<?xml version='1.0'?>".to_vec(),
    ] {
        let out = run_eof(&input);
        let e = out.error.expect("an error at end of input");
        assert_eq!(e, ParseError::UnclosedStream);
        assert_eq!(e.condition(), Condition::NotWellFormed);
        assert!(e.is_end_of_input());
    }
}

#[test]
fn eof_after_the_close_is_clean() {
    let out = run_eof(&in_stream("<message/></stream:stream>\n"));
    assert_eq!(out.error, None);
    assert_eq!(out.items.len(), 3);
    assert_eq!(out.items[2], Item::Close);
}

#[test]
fn duplicate_attribute_is_not_well_formed() {
    assert_error(
        &in_stream("<message x='1' x='2'/>"),
        ParseError::DuplicateAttribute("x".into()),
        Condition::NotWellFormed,
    );
    assert_error(
        &in_stream("<message><body x='1' y='2' x='1'/></message>"),
        ParseError::DuplicateAttribute("x".into()),
        Condition::NotWellFormed,
    );
}

#[test]
fn duplicate_attribute_through_two_prefixes_is_not_well_formed() {
    assert_error(
        &in_stream("<a xmlns:p='u' xmlns:q='u' p:x='1' q:x='2'/>"),
        ParseError::DuplicateAttribute("x".into()),
        Condition::NotWellFormed,
    );
    // One prefix declared on the stream header, the other on the element.
    assert_error(
        &in_stream_bytes(b"<a xmlns:s='http://etherx.jabber.org/streams' s:x='1' stream:x='2'/>"),
        ParseError::DuplicateAttribute("x".into()),
        Condition::NotWellFormed,
    );
    // Same local name in different namespaces is fine.
    let el = single_element("<a xmlns:p='u' xmlns:q='v' p:x='1' q:x='2' x='3'/>");
    assert_eq!(el.root().attr_ns("x", "u"), Some("1"));
    assert_eq!(el.root().attr_ns("x", "v"), Some("2"));
    assert_eq!(el.attr("x"), Some("3"));
}

#[test]
fn duplicate_namespace_declaration_is_not_well_formed() {
    assert_error(
        &in_stream("<a xmlns='u' xmlns='v'/>"),
        ParseError::DuplicateAttribute("xmlns".into()),
        Condition::NotWellFormed,
    );
    assert_error(
        &in_stream("<a xmlns:p='u' xmlns:p='u'/>"),
        ParseError::DuplicateAttribute("p".into()),
        Condition::NotWellFormed,
    );
}

#[test]
fn unbound_element_prefix_is_not_well_formed() {
    assert_error(
        &in_stream("<p:message/>"),
        ParseError::UnboundPrefix("p".into()),
        Condition::NotWellFormed,
    );
    // A prefix declared on a sibling is out of scope.
    assert_error(
        &in_stream("<a><b xmlns:p='u'/><p:c/></a>"),
        ParseError::UnboundPrefix("p".into()),
        Condition::NotWellFormed,
    );
}

#[test]
fn unbound_attribute_prefix_is_not_well_formed() {
    assert_error(
        &in_stream("<message p:x='1'/>"),
        ParseError::UnboundPrefix("p".into()),
        Condition::NotWellFormed,
    );
}

#[test]
fn forbidden_namespace_declarations_are_not_well_formed() {
    for stanza in [
        "<a xmlns:p=''/>",
        "<a xmlns:xml='urn:x'/>",
        "<a xmlns:xmlns='urn:x'/>",
        "<a xmlns='http://www.w3.org/XML/1998/namespace'/>",
        "<a xmlns:p='http://www.w3.org/2000/xmlns/'/>",
    ] {
        assert_error(
            &in_stream(stanza),
            ParseError::BadNamespaceDeclaration,
            Condition::NotWellFormed,
        );
    }
}

// ---------------------------------------------------------------------------------------
// Characters
// ---------------------------------------------------------------------------------------

#[test]
fn invalid_utf8_is_unsupported_encoding() {
    for bad in [
        &b"\xff"[..],
        b"\xc0\xaf",         // overlong '/'
        b"\xe0\x80\xbc",     // overlong '<'
        b"\xe2\x82",         // truncated euro sign
        b"\xf0\x9f\x98",     // truncated emoji
        b"\xed\xa0\x80",     // a surrogate, encoded
        b"\xf4\x90\x80\x80", // beyond U+10FFFF
        b"\x80",             // lone continuation byte
    ] {
        let mut stanza = b"<message><body>a".to_vec();
        stanza.extend_from_slice(bad);
        stanza.extend_from_slice(b"b</body></message>");
        assert_error(
            &in_stream_bytes(&stanza),
            ParseError::InvalidUtf8,
            Condition::UnsupportedEncoding,
        );
        let mut attr = b"<message to='".to_vec();
        attr.extend_from_slice(bad);
        attr.extend_from_slice(b"'/>");
        assert_error(
            &in_stream_bytes(&attr),
            ParseError::InvalidUtf8,
            Condition::UnsupportedEncoding,
        );
    }
    // In the stream header too.
    let mut header = HEADER.as_bytes().to_vec();
    header.splice(HEADER.len() - 1..HEADER.len() - 1, *b" id='\xff'");
    assert_error(
        &header,
        ParseError::InvalidUtf8,
        Condition::UnsupportedEncoding,
    );
}

#[test]
fn forbidden_raw_characters_are_not_well_formed() {
    for (ch, code) in [('\u{1}', 1), ('\u{0}', 0), ('\u{1F}', 0x1F)] {
        assert_error(
            &in_stream(&format!("<message><body>a{ch}b</body></message>")),
            ParseError::ForbiddenChar { code },
            Condition::NotWellFormed,
        );
        assert_error(
            &in_stream(&format!("<message to='{ch}'/>")),
            ParseError::ForbiddenChar { code },
            Condition::NotWellFormed,
        );
        assert_error(
            &in_stream(&format!("<message/>{ch}")),
            ParseError::ForbiddenChar { code },
            Condition::NotWellFormed,
        );
    }
    for (ch, code) in [('\u{FFFE}', 0xFFFE), ('\u{FFFF}', 0xFFFF)] {
        assert_error(
            &in_stream(&format!("<message><body>a{ch}b</body></message>")),
            ParseError::ForbiddenChar { code },
            Condition::NotWellFormed,
        );
        assert_error(
            &in_stream(&format!("<message to='{ch}'/>")),
            ParseError::ForbiddenChar { code },
            Condition::NotWellFormed,
        );
        assert_error(
            &in_stream(&format!("<message><![CDATA[{ch}]]></message>")),
            ParseError::ForbiddenChar { code },
            Condition::NotWellFormed,
        );
    }
    // Neighbours of the forbidden ones are fine.
    let el = single_element("<message a='\u{FFFD}\u{FEFF}'>\u{7F}\u{85}\u{10FFFF}</message>");
    assert_eq!(el.attr("a"), Some("\u{FFFD}\u{FEFF}"));
    assert_eq!(el.text(), "\u{7F}\u{85}\u{10FFFF}");
}

#[test]
fn forbidden_characters_by_reference_are_not_well_formed() {
    for (reference, code) in [
        ("&#1;", 1),
        ("&#x1;", 1),
        ("&#0;", 0),
        ("&#xD800;", 0xD800),
        ("&#xDFFF;", 0xDFFF),
        ("&#xFFFE;", 0xFFFE),
        ("&#xFFFF;", 0xFFFF),
        ("&#65535;", 0xFFFF),
        ("&#x110000;", 0x11_0000),
    ] {
        assert_error(
            &in_stream(&format!("<message><body>{reference}</body></message>")),
            ParseError::ForbiddenChar { code },
            Condition::NotWellFormed,
        );
        assert_error(
            &in_stream(&format!("<message to='{reference}'/>")),
            ParseError::ForbiddenChar { code },
            Condition::NotWellFormed,
        );
    }
}

#[test]
fn lt_in_attribute_value_is_not_well_formed() {
    assert_error(
        &in_stream("<message to='a<b'/>"),
        ParseError::LtInAttributeValue,
        Condition::NotWellFormed,
    );
    assert_error(
        &in_stream("<message to=\"a<b\"/>"),
        ParseError::LtInAttributeValue,
        Condition::NotWellFormed,
    );
    assert_error(
        HEADER.replace("example.com", "<").as_bytes(),
        ParseError::LtInAttributeValue,
        Condition::NotWellFormed,
    );
    // '>' and the other quote are fine.
    let el = single_element("<message to='a>b\"c'/>");
    assert_eq!(el.attr("to"), Some("a>b\"c"));
}

#[test]
fn cdata_end_in_text_is_not_well_formed() {
    for text in ["]]>", "a]]>b", "]]]>", "<![CDATA[x]]>]]>"] {
        assert_error(
            &in_stream(&format!("<message><body>{text}</body></message>")),
            ParseError::CdataEndInText,
            Condition::NotWellFormed,
        );
    }
    // ']]' and ']>' on their own are plain text.
    let el = single_element("<message>]] ]> ]]&gt;</message>");
    assert_eq!(el.text(), "]] ]> ]]>");
}

// ---------------------------------------------------------------------------------------
// Stream level
// ---------------------------------------------------------------------------------------

#[test]
fn text_between_stanzas_is_bad_format() {
    for text in ["hello", ">", "x<message/>", "&amp;", "]]>", "\u{E9}"] {
        assert_error(
            &in_stream(&format!("<message/>{text}")),
            ParseError::TextOutsideStanza,
            Condition::BadFormat,
        );
    }
    // Before the header too.
    assert_error(
        format!("hello{HEADER}").as_bytes(),
        ParseError::TextOutsideStanza,
        Condition::BadFormat,
    );
    assert_error(
        format!(">{HEADER}").as_bytes(),
        ParseError::TextOutsideStanza,
        Condition::BadFormat,
    );
    // CDATA is text.
    assert_error(
        &in_stream("<![CDATA[x]]>"),
        ParseError::TextOutsideStanza,
        Condition::BadFormat,
    );
}

#[test]
fn whitespace_between_stanzas_is_a_keepalive() {
    let mut p = StreamParser::new(Limits::default());
    p.push(HEADER.as_bytes());
    assert!(matches!(p.next_item(), Some(Ok(Item::Header(_)))));
    for _ in 0..3 {
        p.push(b" \r\n\t ");
        assert_eq!(p.next_item(), None, "whitespace yields no item");
        assert_eq!(p.buffered(), 0, "whitespace is not kept");
    }
    p.push(b"\n<message/>\n\n<presence/> ");
    assert!(matches!(p.next_item(), Some(Ok(Item::Element(e))) if e.name() == "message"));
    assert!(matches!(p.next_item(), Some(Ok(Item::Element(e))) if e.name() == "presence"));
    assert_eq!(p.next_item(), None);
    assert_eq!(p.error(), None);

    let out = run(&in_stream(" \n <message/> \n\t\r <presence/> \n "));
    assert_eq!(out.error, None);
    assert_eq!(out.items.len(), 3);
}

#[test]
fn data_after_close_is_bad_format() {
    for after in ["x", "<message/>", "</stream:stream>", "  \n<", ">"] {
        assert_error(
            &in_stream(&format!("<message/></stream:stream>{after}")),
            ParseError::DataAfterClose,
            Condition::BadFormat,
        );
    }
}

#[test]
fn whitespace_after_close_is_ignored() {
    let mut p = StreamParser::new(Limits::default());
    p.push(&in_stream("<message/></stream:stream>"));
    assert!(matches!(p.next_item(), Some(Ok(Item::Header(_)))));
    assert!(matches!(p.next_item(), Some(Ok(Item::Element(_)))));
    assert_eq!(p.next_item(), Some(Ok(Item::Close)));
    assert!(p.is_closed());
    p.push(b" \r\n\t");
    assert_eq!(p.next_item(), None);
    assert_eq!(p.buffered(), 0);
    p.push_eof();
    assert_eq!(p.next_item(), None);
    assert_eq!(p.error(), None);
}

#[test]
fn root_that_is_not_stream_is_invalid_namespace() {
    assert_error(
        HEADER.replace("stream:stream", "stream:strm").as_bytes(),
        ParseError::BadRoot,
        Condition::InvalidNamespace,
    );
    assert_error(
        b"<message xmlns='jabber:client'>",
        ParseError::BadRoot,
        Condition::InvalidNamespace,
    );
}

#[test]
fn root_in_the_wrong_namespace_is_invalid_namespace() {
    assert_error(
        HEADER.replace(STREAM_NS, "urn:not-streams").as_bytes(),
        ParseError::BadRoot,
        Condition::InvalidNamespace,
    );
    // `stream` in the content namespace.
    assert_error(
        b"<stream xmlns='jabber:client'>",
        ParseError::BadRoot,
        Condition::InvalidNamespace,
    );
}

#[test]
fn unbound_root_prefix_is_not_well_formed() {
    assert_error(
        b"<stream:stream xmlns='jabber:client'>",
        ParseError::UnboundPrefix("stream".into()),
        Condition::NotWellFormed,
    );
}

#[test]
fn missing_or_wrong_content_namespace_is_invalid_namespace() {
    for header in [
        HEADER.replace("xmlns='jabber:client' ", ""),
        HEADER.replace("jabber:client", "jabber:server"),
        HEADER.replace("jabber:client", ""),
        HEADER.replace("jabber:client", "jabber:client "),
    ] {
        assert_error(
            header.as_bytes(),
            ParseError::BadContentNamespace,
            Condition::InvalidNamespace,
        );
    }
    // A server-to-server parser wants jabber:server.
    let mut p = StreamParser::new(Limits::default()).with_content_namespace(ns::SERVER);
    p.push(HEADER.replace("jabber:client", "jabber:server").as_bytes());
    let Some(Ok(Item::Header(h))) = p.next_item() else {
        panic!("expected a header")
    };
    assert_eq!(h.content_ns(), ns::SERVER);
    let mut p = StreamParser::new(Limits::default()).with_content_namespace(ns::SERVER);
    p.push(HEADER.as_bytes());
    assert_eq!(p.next_item(), Some(Err(ParseError::BadContentNamespace)));
}

#[test]
fn stream_close_with_another_name_is_a_mismatched_tag() {
    for close in [
        "</foo>",
        "</stream>",
        "</s:stream>",
        "</stream:streams>",
        "</message>",
    ] {
        assert_error(
            &in_stream(&format!("<message/>{close}")),
            ParseError::MismatchedTag,
            Condition::NotWellFormed,
        );
    }
    // The close tag must repeat the header's own prefix.
    let header = HEADER
        .replace("stream:", "s:")
        .replace("xmlns:stream", "xmlns:s");
    let out = run(format!("{header}<message/></s:stream >").as_bytes());
    assert_eq!(out.error, None);
    assert_eq!(out.items.last(), Some(&Item::Close));
    assert_error(
        format!("{header}</stream:stream>").as_bytes(),
        ParseError::MismatchedTag,
        Condition::NotWellFormed,
    );
}

#[test]
fn stream_close_of_an_unprefixed_root() {
    // Only possible when the content namespace is the streams namespace itself, but the
    // close tag must still be matched against the root's name.
    let parser = || StreamParser::new(Limits::default()).with_content_namespace(STREAM_NS);
    let input = format!("<stream xmlns='{STREAM_NS}'><features/></stream>");
    let mut p = parser();
    p.push(input.as_bytes());
    assert!(matches!(p.next_item(), Some(Ok(Item::Header(_)))));
    assert!(matches!(p.next_item(), Some(Ok(Item::Element(e))) if e.is("features", STREAM_NS)));
    assert_eq!(p.next_item(), Some(Ok(Item::Close)));
    // The recorded name is `stream`, not the raw text before it (`<stream`).
    for close in ["</<stream>", "</foo>"] {
        let mut p = parser();
        p.push(format!("<stream xmlns='{STREAM_NS}'>{close}").as_bytes());
        assert!(matches!(p.next_item(), Some(Ok(Item::Header(_)))));
        assert_eq!(p.next_item(), Some(Err(ParseError::MismatchedTag)));
    }
}

#[test]
fn self_closing_header_yields_header_then_close() {
    let header = HEADER.replace("'1.0'>", "'1.0'/>");
    let out = run_eof(header.as_bytes());
    assert_eq!(out.error, None);
    assert_eq!(out.items.len(), 2);
    assert_eq!(header_of(&out).version(), Some("1.0"));
    assert_eq!(out.items[1], Item::Close);

    let mut p = StreamParser::new(Limits::default());
    p.push(header.as_bytes());
    assert!(matches!(p.next_item(), Some(Ok(Item::Header(_)))));
    assert!(!p.is_closed());
    assert_eq!(p.next_item(), Some(Ok(Item::Close)));
    assert!(p.is_closed());
    assert_eq!(p.next_item(), None);

    assert_error(
        format!("{header}<message/>").as_bytes(),
        ParseError::DataAfterClose,
        Condition::BadFormat,
    );
}

// ---------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------

#[test]
fn stanza_exactly_at_the_size_limit_is_accepted() {
    // Longer than the header, which the same limit applies to.
    let stanza = format!(
        "<message to='a@b'><body>{}</body></message>",
        "0123456789".repeat(20)
    );
    let stanza = stanza.as_str();
    assert!(stanza.len() > HEADER.len());
    let l = limits(|l| l.max_stanza_bytes = stanza.len());
    let out = run_with(&in_stream(stanza), &l, false);
    assert_eq!(out.error, None);
    assert_eq!(out.items.len(), 2);
}

#[test]
fn stanza_one_byte_over_the_size_limit_is_a_policy_violation() {
    // Longer than the header, which the same limit applies to.
    let stanza = format!(
        "<message to='a@b'><body>{}</body></message>",
        "0123456789".repeat(20)
    );
    let stanza = stanza.as_str();
    assert!(stanza.len() > HEADER.len());
    let limit = stanza.len() - 1;
    let l = limits(|l| l.max_stanza_bytes = limit);
    assert_error_with(
        &in_stream(stanza),
        &l,
        ParseError::StanzaTooLarge { limit },
        Condition::PolicyViolation,
    );
    // The error comes without waiting for the element to end: as soon as the limit is
    // filled by an element that has not ended (it cannot end within the limit any more).
    let limit = HEADER.len() + 10;
    let l = limits(|l| l.max_stanza_bytes = limit);
    assert_error_with(
        &in_stream(&stanza[..limit]),
        &l,
        ParseError::StanzaTooLarge { limit },
        Condition::PolicyViolation,
    );
    assert_eq!(
        run_with(&in_stream(&stanza[..limit - 1]), &l, false).error,
        None
    );
}

#[test]
fn header_size_is_limited_too() {
    let l = limits(|l| l.max_stanza_bytes = HEADER.len());
    let out = run_with(HEADER.as_bytes(), &l, false);
    assert_eq!(out.error, None);
    assert_eq!(out.items.len(), 1);

    let limit = HEADER.len() - 1;
    let l = limits(|l| l.max_stanza_bytes = limit);
    assert_error_with(
        HEADER.as_bytes(),
        &l,
        ParseError::StanzaTooLarge { limit },
        Condition::PolicyViolation,
    );
    // And the XML declaration.
    let l = limits(|l| l.max_stanza_bytes = HEADER.len());
    let decl = format!("<?xml version='1.0'{}?>", " ".repeat(HEADER.len()));
    assert_error_with(
        format!("{decl}{HEADER}").as_bytes(),
        &l,
        ParseError::StanzaTooLarge {
            limit: HEADER.len(),
        },
        Condition::PolicyViolation,
    );
}

fn nested(depth: usize, innermost: &str) -> String {
    let mut s = String::new();
    for _ in 0..depth {
        s.push_str("<x>");
    }
    s.push_str(innermost);
    for _ in 0..depth {
        s.push_str("</x>");
    }
    s
}

#[test]
fn depth_64_is_accepted_by_default() {
    let out = run(&in_stream(&nested(64, "deep")));
    assert_eq!(out.error, None);
    let Item::Element(el) = &out.items[1] else {
        panic!("expected an element")
    };
    let mut cur = el.root();
    for _ in 1..64 {
        cur = cur.child("x", ns::CLIENT).expect("a child");
    }
    assert_eq!(cur.text(), "deep");
    let out = run(&in_stream(&nested(63, "<y/>")));
    assert_eq!(out.error, None);
}

#[test]
fn depth_65_is_a_policy_violation_by_default() {
    assert_error(
        &in_stream(&nested(65, "")),
        ParseError::TooDeep { limit: 64 },
        Condition::PolicyViolation,
    );
    // An empty element counts too.
    assert_error(
        &in_stream(&nested(64, "<y/>")),
        ParseError::TooDeep { limit: 64 },
        Condition::PolicyViolation,
    );
    // The error comes at the opening tag, without waiting for the rest.
    assert_error(
        &in_stream(&"<x>".repeat(65)),
        ParseError::TooDeep { limit: 64 },
        Condition::PolicyViolation,
    );
}

#[test]
fn depth_limit_can_be_changed() {
    let l = limits(|l| l.max_depth = 3);
    assert_eq!(
        run_with(&in_stream(&nested(3, "<y/>")), &l, false).error,
        Some(ParseError::TooDeep { limit: 3 })
    );
    let out = run_with(&in_stream(&nested(3, "t")), &l, false);
    assert_eq!(out.error, None);
    assert_error_with(
        &in_stream(&nested(4, "t")),
        &l,
        ParseError::TooDeep { limit: 3 },
        Condition::PolicyViolation,
    );
    // A top-level element is depth 1.
    let l = limits(|l| l.max_depth = 1);
    assert_eq!(
        run_with(&in_stream("<message/><iq>t</iq>"), &l, false).error,
        None
    );
    assert_error_with(
        &in_stream("<message><body/></message>"),
        &l,
        ParseError::TooDeep { limit: 1 },
        Condition::PolicyViolation,
    );
}

#[test]
fn attribute_count_limit_can_be_changed() {
    // The header has four attributes (two of them namespace declarations).
    let l = limits(|l| l.max_attributes = 4);
    let out = run_with(
        &in_stream(
            "<message a='1' b='2' c='3' d='4'><body xmlns:p='u' p:a='1' b='2' c='3'/></message>",
        ),
        &l,
        false,
    );
    assert_eq!(out.error, None);
    assert_eq!(out.items.len(), 2);
    assert_error_with(
        &in_stream("<message a='1' b='2' c='3' d='4' e='5'/>"),
        &l,
        ParseError::TooManyAttributes { limit: 4 },
        Condition::PolicyViolation,
    );
    // Namespace declarations count.
    assert_error_with(
        &in_stream("<message><body xmlns='u' xmlns:p='v' a='1' b='2' p:c='3'/></message>"),
        &l,
        ParseError::TooManyAttributes { limit: 4 },
        Condition::PolicyViolation,
    );
    // And the header's own.
    let l = limits(|l| l.max_attributes = 3);
    assert_error_with(
        HEADER.as_bytes(),
        &l,
        ParseError::TooManyAttributes { limit: 3 },
        Condition::PolicyViolation,
    );
}

#[test]
fn attribute_count_limit_default_is_64() {
    let attrs = |n: usize| (0..n).map(|i| format!(" a{i}='{i}'")).collect::<String>();
    let out = run(&in_stream(&format!("<message{}/>", attrs(64))));
    assert_eq!(out.error, None);
    let Item::Element(el) = &out.items[1] else {
        panic!("expected an element")
    };
    assert_eq!(el.root().attrs().count(), 64);
    assert_error(
        &in_stream(&format!("<message{}/>", attrs(65))),
        ParseError::TooManyAttributes { limit: 64 },
        Condition::PolicyViolation,
    );
}

// ---------------------------------------------------------------------------------------
// Errors are final; memory is bounded
// ---------------------------------------------------------------------------------------

#[test]
fn errors_are_final() {
    let mut p = StreamParser::new(Limits::default());
    p.push(&in_stream(
        "<message/><message><!-- x --></message><presence/>",
    ));
    assert!(matches!(p.next_item(), Some(Ok(Item::Header(_)))));
    assert!(matches!(p.next_item(), Some(Ok(Item::Element(_)))));
    assert_eq!(p.next_item(), Some(Err(ParseError::Comment)));
    for _ in 0..3 {
        assert_eq!(p.next_item(), None);
        assert_eq!(p.error(), Some(&ParseError::Comment));
        assert_eq!(p.buffered(), 0);
    }
    p.push(b"<presence/><message/>");
    assert_eq!(p.buffered(), 0, "push after an error is ignored");
    assert_eq!(p.next_item(), None);
    p.push_eof();
    assert_eq!(p.next_item(), None);
    assert_eq!(p.error(), Some(&ParseError::Comment));
    assert!(!p.is_closed());
}

#[test]
fn memory_stays_bounded_by_the_stanza_limit() {
    const LIMIT: usize = 64 * 1024;
    const PUSH: usize = 4 * 1024;
    let l = limits(|l| l.max_stanza_bytes = LIMIT);
    let mut p = StreamParser::new(l);
    p.push(&in_stream("<message><body>"));
    assert!(matches!(p.next_item(), Some(Ok(Item::Header(_)))));
    assert_eq!(p.next_item(), None);
    let chunk = "a\u{E9}\u{1F600} ".repeat(PUSH / 8);
    assert_eq!(chunk.len(), PUSH);
    let mut pushed = 0;
    let mut error = None;
    while pushed < 10 * 1024 * 1024 {
        p.push(chunk.as_bytes());
        pushed += PUSH;
        assert!(p.buffered() <= LIMIT + PUSH, "{} buffered", p.buffered());
        while let Some(r) = p.next_item() {
            match r {
                Err(e) => error = error.or(Some(e)),
                Ok(item) => panic!("unexpected {item:?}"),
            }
        }
        assert!(p.buffered() <= LIMIT, "{} buffered", p.buffered());
    }
    assert_eq!(error, Some(ParseError::StanzaTooLarge { limit: LIMIT }));
    assert_eq!(p.buffered(), 0);
}

#[test]
fn memory_stays_bounded_in_a_never_ending_tag() {
    const LIMIT: usize = 16 * 1024;
    let l = limits(|l| l.max_stanza_bytes = LIMIT);
    let mut p = StreamParser::new(l);
    p.push(&in_stream("<message to='"));
    let mut error = None;
    for _ in 0..1024 {
        p.push(&[b'x'; 1000]);
        assert!(p.buffered() <= LIMIT + 1000);
        while let Some(r) = p.next_item() {
            if let Err(e) = r {
                error = Some(e);
            }
        }
    }
    assert_eq!(error, Some(ParseError::StanzaTooLarge { limit: LIMIT }));
}

// ---------------------------------------------------------------------------------------
// What a well-formed stream yields
// ---------------------------------------------------------------------------------------

#[test]
fn header_attributes_are_exposed() {
    let out = run(
        b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
          xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='s1' \
          version='1.0' xml:lang='en' to='juliet@example.com'>",
    );
    assert_eq!(out.error, None);
    let h = header_of(&out);
    assert_eq!(h.from(), Some("example.com"));
    assert_eq!(h.to(), Some("juliet@example.com"));
    assert_eq!(h.id(), Some("s1"));
    assert_eq!(h.version(), Some("1.0"));
    assert_eq!(h.lang(), Some("en"));
    assert_eq!(h.content_ns(), ns::CLIENT);
    assert!(h.element().is("stream", STREAM_NS));
    assert!(h.element().root().is_empty());
}

#[test]
fn namespaces_default_and_prefixed() {
    let el = single_element(
        "<iq type='get' id='1'><query xmlns='jabber:iq:roster'><item jid='a@b'/></query>\
         <p:ping xmlns:p='urn:xmpp:ping' p:x='1'><p:inner/><plain/></p:ping></iq>",
    );
    assert!(el.is("iq", ns::CLIENT));
    let query = el.child("query", ns::IQ_ROSTER).expect("query");
    assert!(query.child("item", ns::IQ_ROSTER).is_some());
    let ping = el.child("ping", ns::PING).expect("ping");
    assert_eq!(ping.attr_ns("x", ns::PING), Some("1"));
    assert_eq!(ping.attr("x"), None);
    assert!(ping.child("inner", ns::PING).is_some());
    // A prefixed parent does not change the default namespace.
    assert!(ping.child("plain", ns::CLIENT).is_some());
}

#[test]
fn namespaces_declared_on_the_header_are_inherited() {
    let header = HEADER.replace(
        " to=",
        " xmlns:db='jabber:server:dialback' xmlns:x='urn:x' to=",
    );
    let out = run(format!(
        "{header}<db:result from='a' to='b' x:attr='v'>key</db:result>\
             <message><x:y/></message>"
    )
    .as_bytes());
    assert_eq!(out.error, None);
    let Item::Element(result) = &out.items[1] else {
        panic!("expected an element")
    };
    assert!(result.is("result", "jabber:server:dialback"));
    assert_eq!(result.root().attr_ns("attr", "urn:x"), Some("v"));
    assert_eq!(result.text(), "key");
    let Item::Element(msg) = &out.items[2] else {
        panic!("expected an element")
    };
    assert!(msg.child("y", "urn:x").is_some());
    // The header's `stream` prefix is in scope too.
    let out = run(&in_stream(
        "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>",
    ));
    let Item::Element(f) = &out.items[1] else {
        panic!("expected an element")
    };
    assert!(f.is("features", STREAM_NS));
    assert!(
        f.child("starttls", "urn:ietf:params:xml:ns:xmpp-tls")
            .is_some()
    );
}

#[test]
fn namespaces_from_the_header_are_stored_once_per_element() {
    // A header may declare a long namespace name; using its prefix again and again must not
    // copy it again and again (a 6-byte `<p:a/>` would otherwise cost the whole name).
    let uri = format!("urn:{}", "x".repeat(16 * 1024));
    let header = HEADER.replace(" to=", &format!(" xmlns:p='{uri}' to="));
    let stanza = format!("<message>{}</message>", "<p:a p:b='1'/>".repeat(500));
    let out = run(format!("{header}{stanza}").as_bytes());
    assert_eq!(out.error, None);
    let Item::Element(msg) = &out.items[1] else {
        panic!("expected an element")
    };
    let children: Vec<_> = msg.children().collect();
    assert_eq!(children.len(), 500);
    let shared = children[0].ns();
    assert_eq!(shared, uri);
    for c in &children {
        assert_eq!(c.ns().as_ptr(), shared.as_ptr(), "namespace name copied");
        let attr = c.attrs().next().expect("an attribute");
        assert_eq!(attr.ns.as_ptr(), shared.as_ptr(), "namespace name copied");
        assert_eq!(attr.value, "1");
    }
}

#[test]
fn long_runs_of_text_and_cdata_merge_into_one_node() {
    // Each merge extends the text in place; it does not copy what came before.
    let n = 5000;
    let stanza = format!(
        "<message><body>{}</body></message>",
        "a&amp;<![CDATA[b]]>".repeat(n)
    );
    let el = single_element(&stanza);
    let body = el.child("body", ns::CLIENT).expect("body");
    let nodes: Vec<_> = body.nodes().collect();
    assert_eq!(nodes.len(), 1);
    assert_eq!(body.text(), "a&b".repeat(n));
}

#[test]
fn namespace_declared_on_an_element_shadows_the_header() {
    let header = HEADER.replace(" to=", " xmlns:x='urn:outer' to=");
    let out = run(format!("{header}<x:a xmlns:x='urn:inner'><x:b/></x:a><x:c/>").as_bytes());
    assert_eq!(out.error, None);
    let Item::Element(a) = &out.items[1] else {
        panic!()
    };
    assert!(a.is("a", "urn:inner"));
    assert!(a.child("b", "urn:inner").is_some());
    let Item::Element(c) = &out.items[2] else {
        panic!()
    };
    assert!(c.is("c", "urn:outer"));
}

#[test]
fn xml_lang_is_in_the_xml_namespace() {
    let el = single_element("<message xml:lang='fr'><body xml:lang='en'>hi</body></message>");
    assert_eq!(el.root().lang(), Some("fr"));
    assert_eq!(el.root().attr_ns("lang", ns::XML), Some("fr"));
    assert_eq!(el.attr("lang"), None);
    let body = el.child("body", ns::CLIENT).expect("body");
    assert_eq!(body.lang(), Some("en"));
}

#[test]
fn default_namespace_can_be_undeclared() {
    let el = single_element("<message><x xmlns=''><y/></x><z/></message>");
    let x = el.child("x", "").expect("x in no namespace");
    assert_eq!(x.ns(), "");
    assert!(x.child("y", "").is_some());
    assert!(el.child("z", ns::CLIENT).is_some());
    // And redeclared below.
    let el = single_element("<message xmlns=''><a xmlns='urn:a'><b/></a></message>");
    assert_eq!(el.ns(), "");
    let a = el.child("a", "urn:a").expect("a");
    assert!(a.child("b", "urn:a").is_some());
}

#[test]
fn cdata_is_merged_with_adjacent_text() {
    let el = single_element(
        "<message><body>a&amp;<![CDATA[<b>&amp;]]>c<![CDATA[]]><![CDATA[d]]>\r\ne</body></message>",
    );
    let body = el.child("body", ns::CLIENT).expect("body");
    let nodes: Vec<Node<'_>> = body.nodes().collect();
    assert_eq!(nodes, [Node::Text("a&<b>&amp;cd\ne")]);
    // Text around a child stays two nodes.
    let el = single_element("<message>a<![CDATA[b]]><x/><![CDATA[c]]>d</message>");
    let nodes: Vec<_> = el.root().nodes().collect();
    assert_eq!(nodes.len(), 3);
    assert_eq!(nodes[0], Node::Text("ab"));
    assert_eq!(nodes[2], Node::Text("cd"));
    assert_eq!(el.text(), "abcd");
    // An empty CDATA section adds no node.
    let el = single_element("<message><![CDATA[]]></message>");
    assert!(el.root().is_empty());
    assert_eq!(el, single_element("<message/>"));
    let el = single_element("<message>a<![CDATA[]]>b<x/><![CDATA[]]></message>");
    let nodes: Vec<_> = el.root().nodes().collect();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0], Node::Text("ab"));
}

#[test]
fn references_in_attributes_are_decoded() {
    let el = single_element(
        "<message a='&lt;&amp;&gt;&quot;&apos;' b=\"&#65;&#x42;&#x1F600;&#233;\" c='x&amp;amp;'/>",
    );
    assert_eq!(el.attr("a"), Some("<&>\"'"));
    assert_eq!(el.attr("b"), Some("AB\u{1F600}\u{E9}"));
    assert_eq!(el.attr("c"), Some("x&amp;"));
}

#[test]
fn references_in_text_are_decoded() {
    let el =
        single_element("<message>&lt;&amp;&gt;&quot;&apos;&#65;&#x42;&#x00043;&#x1F600;</message>");
    assert_eq!(el.text(), "<&>\"'ABC\u{1F600}");
    // Only the lowercase `x` introduces a hexadecimal reference.
    assert_error(
        &in_stream("<message>&#X43;</message>"),
        ParseError::BadReference,
        Condition::NotWellFormed,
    );
}

#[test]
fn line_ends_are_normalised() {
    let el =
        single_element("<message a='1\r\n2\r3\n4'>a\r\nb\rc\n\rd<![CDATA[\r\ne\r]]></message>");
    assert_eq!(el.text(), "a\nb\nc\n\nd\ne\n");
    assert_eq!(el.attr("a"), Some("1 2 3 4"));
    // Only a reference carries a carriage return.
    let el = single_element("<message a='&#13;&#10;'>&#13;&#10;</message>");
    assert_eq!(el.text(), "\r\n");
    assert_eq!(el.attr("a"), Some("\r\n"));
    // A "\r\n" split across pushes still counts once.
    let mut p = StreamParser::new(Limits::default());
    p.push(&in_stream("<message>a\r"));
    p.push(b"\nb</message>");
    assert!(matches!(p.next_item(), Some(Ok(Item::Header(_)))));
    let Some(Ok(Item::Element(el))) = p.next_item() else {
        panic!()
    };
    assert_eq!(el.text(), "a\nb");
}

#[test]
fn attribute_whitespace_is_normalised() {
    let el = single_element("<message a='x\ty\nz  w' b='&#9;&#10;&#13;&#32;'/>");
    // Each whitespace character becomes one space; runs are not collapsed (CDATA type).
    assert_eq!(el.attr("a"), Some("x y z  w"));
    assert_eq!(el.attr("b"), Some("\t\n\r "));
}

#[test]
fn stream_restart_after_reset() {
    let mut p = StreamParser::new(limits(|l| l.max_depth = 5));
    p.push(&in_stream(
        "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
    ));
    assert!(matches!(p.next_item(), Some(Ok(Item::Header(_)))));
    assert!(matches!(p.next_item(), Some(Ok(Item::Element(_)))));
    // After TLS: a new stream, from a fresh start (declaration allowed again).
    p.reset();
    assert_eq!(p.buffered(), 0);
    p.push(
        format!(
            "<?xml version='1.0'?>{}",
            HEADER.replace("1.0'>", "1.0' id='s2'>")
        )
        .as_bytes(),
    );
    let Some(Ok(Item::Header(h))) = p.next_item() else {
        panic!("expected a new header")
    };
    assert_eq!(h.id(), Some("s2"));
    // Limits are kept.
    p.push(nested(6, "").as_bytes());
    assert_eq!(p.next_item(), Some(Err(ParseError::TooDeep { limit: 5 })));
    // A reset also clears an error, and keeps the content namespace.
    p.reset();
    assert_eq!(p.error(), None);
    p.push(HEADER.as_bytes());
    assert!(matches!(p.next_item(), Some(Ok(Item::Header(_)))));

    let mut s2s = StreamParser::new(Limits::default()).with_content_namespace(ns::SERVER);
    s2s.reset();
    s2s.push(HEADER.replace("jabber:client", "jabber:server").as_bytes());
    assert!(matches!(s2s.next_item(), Some(Ok(Item::Header(_)))));
}
