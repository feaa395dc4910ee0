//! The rules of the inbound stream: every error is checked for its exact [`ParseError`]
//! variant and for the stream error condition it maps to (RFC 6120 §4.9.3), and every input
//! is parsed whole, one byte at a time and in several other chunkings, with identical
//! results.
//!
//! Most rules are rows of a table (a [`Case`]: an input, how to parse it, what must come of
//! it), named after the rule they check; one test per section runs its table and reports
//! every failing row by name. The values a parsed stanza must decode to are a second table
//! ([`Decoded`]). Rules with a shape of their own (pushes in a given order, resets, memory
//! bounds, what a parsed element holds) stay ordinary tests.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use jabber_proto::Limits;
use jabber_proto::ns;
use jabber_proto::stream::{Condition, Item, ParseError, StreamHeader, StreamParser};
use jabber_proto::xml::{Element, Node};

const STREAM_NS: &str = "http://etherx.jabber.org/streams";

/// A client stream header (also used as the reference size in the limit tests).
const HEADER: &str = "<stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";

// ---------------------------------------------------------------------------------------
// Driving the parser
// ---------------------------------------------------------------------------------------

/// What a parser made of some input: the items, then the error that ended it (if any).
#[derive(Debug, Default, PartialEq)]
struct Outcome {
    items: Vec<Item>,
    error: Option<ParseError>,
}

/// The chunkings every input is parsed with besides whole: piece sizes, repeated in turn.
const CHUNKINGS: &[&[usize]] = &[&[1], &[2], &[3], &[7], &[64], &[1, 5, 2, 11, 3]];

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

/// Pushes `input` in pieces of `sizes` (repeated in turn), draining after each push.
fn run_chunks(mut p: StreamParser, input: &[u8], sizes: &[usize], eof: bool) -> Outcome {
    let mut out = Outcome::default();
    let mut rest = input;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at(size.clamp(1, rest.len()));
        p.push(piece);
        drain(&mut p, &mut out);
        rest = tail;
    }
    if eof {
        p.push_eof();
        drain(&mut p, &mut out);
    }
    out
}

/// Parses `input` whole and in every chunking of [`CHUNKINGS`], each with a fresh parser
/// from `parser`; all must agree.
fn parse(input: &[u8], parser: impl Fn() -> StreamParser, eof: bool) -> Outcome {
    let whole = run_chunks(parser(), input, &[input.len()], eof);
    for sizes in CHUNKINGS {
        let chunked = run_chunks(parser(), input, sizes, eof);
        assert_eq!(whole, chunked, "chunking {sizes:?} changed the outcome");
    }
    whole
}

fn run(input: &[u8]) -> Outcome {
    parse(input, || StreamParser::new(Limits::default()), false)
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

/// `prolog`, then the client stream header.
fn before_header(prolog: &str) -> Vec<u8> {
    format!("{prolog}{HEADER}").into_bytes()
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

// ---------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------

/// A row of a table: something with a name that passes or panics.
trait Row {
    fn name(&self) -> &str;
    /// What to show of the row's input when it fails.
    fn input(&self) -> String;
    fn check(&self);
}

/// Checks every row, then fails naming each row that failed (and why).
#[track_caller]
fn check_all<R: Row>(rows: &[R]) {
    assert!(!rows.is_empty(), "an empty table");
    let mut names: Vec<&str> = rows.iter().map(Row::name).collect();
    names.sort_unstable();
    for pair in names.windows(2) {
        assert_ne!(pair[0], pair[1], "two rows with the same name");
    }
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            let panic = catch_unwind(AssertUnwindSafe(|| row.check())).err()?;
            let input = row.input();
            let shown: String = input.chars().take(300).collect();
            let cut = if shown.len() < input.len() { "..." } else { "" };
            Some(format!(
                "row `{}` failed: {}\n    input: {shown}{cut}",
                row.name(),
                panic_message(panic.as_ref())
            ))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else if let Some(s) = panic.downcast_ref::<&str>() {
        s
    } else {
        "(a panic without a message)"
    }
}

/// What must come of a [`Case`]'s input.
#[derive(Clone, Debug)]
enum Expect {
    /// No error; the items are not counted.
    NoError,
    /// No error, and this many items.
    Items(usize),
    /// Ended by exactly this error, which maps to this condition. It is an end-of-input
    /// error exactly when the case pushes the end of input.
    Error(ParseError, Condition),
    /// Ended by some [`ParseError::Malformed`] (not well-formed) after this many items.
    Malformed { items: usize },
}

/// A rule's row: `input`, parsed whole and in every chunking, must come to `expect`.
struct Case {
    name: String,
    input: Vec<u8>,
    expect: Expect,
    limits: Limits,
    /// The parser's content namespace, when not the client's.
    content_ns: Option<&'static str>,
    /// Whether the end of input is pushed after the input.
    eof: bool,
    /// More checks on the outcome.
    also: Option<fn(&Outcome)>,
}

impl Case {
    fn new(name: impl Into<String>, input: impl AsRef<[u8]>, expect: Expect) -> Case {
        Case {
            name: name.into(),
            input: input.as_ref().to_vec(),
            expect,
            limits: Limits::default(),
            content_ns: None,
            eof: false,
            also: None,
        }
    }

    fn limits(mut self, limits: &Limits) -> Case {
        self.limits = limits.clone();
        self
    }

    fn content_ns(mut self, content_ns: &'static str) -> Case {
        self.content_ns = Some(content_ns);
        self
    }

    fn at_eof(mut self) -> Case {
        self.eof = true;
        self
    }

    fn also(mut self, check: fn(&Outcome)) -> Case {
        self.also = Some(check);
        self
    }
}

impl Row for Case {
    fn name(&self) -> &str {
        &self.name
    }

    fn input(&self) -> String {
        format!("{:?}", String::from_utf8_lossy(&self.input))
    }

    fn check(&self) {
        let parser = || {
            let p = StreamParser::new(self.limits.clone());
            match self.content_ns {
                Some(content_ns) => p.with_content_namespace(content_ns),
                None => p,
            }
        };
        let out = parse(&self.input, parser, self.eof);
        match &self.expect {
            Expect::NoError => assert_eq!(out.error, None),
            Expect::Items(n) => {
                assert_eq!(out.error, None);
                assert_eq!(out.items.len(), *n, "items {:?}", out.items);
            }
            Expect::Error(error, condition) => {
                assert_eq!(out.error.as_ref(), Some(error));
                assert_eq!(error.condition(), *condition, "condition of {error:?}");
                assert_eq!(
                    error.is_end_of_input(),
                    self.eof,
                    "is_end_of_input() of {error:?}"
                );
            }
            Expect::Malformed { items } => {
                let e = out.error.as_ref().expect("an error");
                assert!(matches!(e, ParseError::Malformed(_)), "{e:?}");
                assert_eq!(e.condition(), Condition::NotWellFormed);
                assert_eq!(out.items.len(), *items, "items {:?}", out.items);
            }
        }
        if let Some(also) = self.also {
            also(&out);
        }
    }
}

/// One row per input, named `rule[i]`, each expecting `expect`.
fn each<I: AsRef<[u8]>>(
    rule: &str,
    expect: Expect,
    inputs: impl IntoIterator<Item = I>,
) -> Vec<Case> {
    inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| Case::new(format!("{rule}[{i}]"), input, expect.clone()))
        .collect()
}

fn error(error: ParseError, condition: Condition) -> Expect {
    Expect::Error(error, condition)
}

fn only_a_header(out: &Outcome) {
    assert!(
        matches!(out.items[..], [Item::Header(_)]),
        "{:?}",
        out.items
    );
}

// ---------------------------------------------------------------------------------------
// XML declaration
// ---------------------------------------------------------------------------------------

#[test]
fn xml_declaration_rules() {
    let mut rows = each(
        "declaration_at_the_very_start_is_accepted",
        Expect::Items(1), // the declaration is not an item
        [
            "<?xml version='1.0'?>",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>",
        ]
        .map(before_header),
    )
    .into_iter()
    .map(|c| c.also(|out| assert_eq!(header_of(out).to(), Some("example.com"))))
    .collect::<Vec<_>>();
    let pi = || error(ParseError::ProcessingInstruction, Condition::RestrictedXml);
    rows.extend([
        // Whitespace between the declaration and the header is fine.
        Case::new(
            "declaration_at_the_very_start_is_accepted: whitespace after it",
            before_header("<?xml version='1.0'?>\r\n  "),
            Expect::Items(1),
        ),
        Case::new(
            "declaration_after_whitespace_is_a_processing_instruction",
            before_header(" <?xml version='1.0'?>"),
            pi(),
        ),
        Case::new(
            "declaration_twice_is_rejected",
            before_header("<?xml version='1.0'?><?xml version='1.0'?>"),
            pi(),
        ),
        Case::new(
            "declaration_of_another_encoding_is_unsupported_encoding",
            before_header("<?xml version='1.0' encoding='ISO-8859-1'?>"),
            error(
                ParseError::UnsupportedEncoding("ISO-8859-1".into()),
                Condition::UnsupportedEncoding,
            ),
        ),
    ]);
    rows.extend(each(
        "declaration_inside_the_stream_is_rejected",
        pi(),
        [
            "<?xml version='1.0'?>",
            "<message><?xml version='1.0'?></message>",
        ]
        .map(in_stream),
    ));
    rows.extend(each(
        "declaration_of_xml_1_1_is_bad_format",
        error(ParseError::BadXmlDeclaration, Condition::BadFormat),
        ["<?xml version='1.1'?>", "<?xml encoding='UTF-8'?>"].map(before_header),
    ));
    check_all(&rows);
}

#[test]
fn declaration_after_whitespace_in_its_own_push_is_a_processing_instruction() {
    let mut p = StreamParser::new(Limits::default());
    p.push(b"\n");
    assert!(p.next_item().is_none());
    p.push(b"<?xml version='1.0'?>");
    assert_eq!(p.next_item(), Some(Err(ParseError::ProcessingInstruction)));
}

// ---------------------------------------------------------------------------------------
// Restricted XML: DTDs, processing instructions, comments, entities
// ---------------------------------------------------------------------------------------

#[test]
fn restricted_xml_rules() {
    let restricted = |e| error(e, Condition::RestrictedXml);
    let undefined = |name: &str| restricted(ParseError::UndefinedEntity(name.into()));
    let mut rows = Vec::new();
    rows.extend(each(
        "doctype_is_restricted",
        restricted(ParseError::Doctype),
        [
            "<!DOCTYPE stream:stream>",
            "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e 'boom'>]>",
        ]
        .map(before_header),
    ));
    rows.extend(each(
        "entity_declaration_is_restricted",
        restricted(ParseError::Doctype),
        [
            before_header("<!ENTITY e 'boom'>"),
            in_stream("<!ENTITY e 'boom'>"),
            in_stream("<message><!ENTITY e 'boom'></message>"),
        ],
    ));
    rows.extend(each(
        "processing_instruction_in_prolog_is_restricted",
        restricted(ParseError::ProcessingInstruction),
        [
            "<?xml-stylesheet href='a.xsl'?>",
            "<?php echo 1; ?>",
            "<?xmlfoo?>",
            "<?xml version='1.0'?><?pi x?>",
        ]
        .map(before_header),
    ));
    rows.extend(each(
        "comment_in_prolog_is_restricted",
        restricted(ParseError::Comment),
        ["<!-- hello -->", "<?xml version='1.0'?><!-- hello -->"].map(before_header),
    ));
    rows.extend([
        Case::new(
            "processing_instruction_inside_a_stanza_is_restricted",
            in_stream("<message><body>a<?pi x?>b</body></message>"),
            restricted(ParseError::ProcessingInstruction),
        ),
        Case::new(
            "processing_instruction_between_stanzas_is_restricted",
            in_stream("<message/><?pi x?><message/>"),
            restricted(ParseError::ProcessingInstruction),
        ),
        Case::new(
            "comment_between_stanzas_is_restricted",
            in_stream("<message/><!-- hello --><message/>"),
            restricted(ParseError::Comment),
        ),
        Case::new(
            "comment_inside_a_stanza_is_restricted",
            in_stream("<message><body>a<!-- hello -->b</body></message>"),
            restricted(ParseError::Comment),
        ),
        Case::new(
            "undefined_entity_in_text_is_restricted",
            in_stream("<message><body>a&nbsp;b</body></message>"),
            undefined("nbsp"),
        ),
        Case::new(
            "undefined_entity_in_attribute_value_is_restricted",
            in_stream("<message to='a&nbsp;b'/>"),
            undefined("nbsp"),
        ),
        // Also in a namespace declaration, and in the stream header.
        Case::new(
            "undefined_entity_in_attribute_value_is_restricted: namespace declaration",
            in_stream("<message xmlns:p='urn:&copy;'/>"),
            undefined("copy"),
        ),
        Case::new(
            "undefined_entity_in_attribute_value_is_restricted: header",
            HEADER.replace("example.com", "&ex;"),
            undefined("ex"),
        ),
        // Only the lowercase `x` introduces a hexadecimal reference.
        Case::new(
            "references_in_text_are_decoded: not with an uppercase X",
            in_stream("<message>&#X43;</message>"),
            error(ParseError::BadReference, Condition::NotWellFormed),
        ),
    ]);
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
        rows.extend(each(
            &format!("malformed_references_are_not_well_formed: {text}"),
            error(ParseError::BadReference, Condition::NotWellFormed),
            [
                in_stream(&format!("<message><body>{text}</body></message>")),
                in_stream(&format!("<message id='{text}'/>")),
            ],
        ));
    }
    check_all(&rows);
}

// ---------------------------------------------------------------------------------------
// Well-formedness
// ---------------------------------------------------------------------------------------

#[test]
fn well_formedness_rules() {
    let not_well_formed = |e| error(e, Condition::NotWellFormed);
    let duplicate = |name: &str| not_well_formed(ParseError::DuplicateAttribute(name.into()));
    let unbound = |prefix: &str| not_well_formed(ParseError::UnboundPrefix(prefix.into()));
    let mut rows = Vec::new();
    rows.extend(each(
        "mismatched_tags_are_not_well_formed",
        not_well_formed(ParseError::MismatchedTag),
        [
            "<message><body>x</message></body>",
            "<message></presence>",
            "<message><body></bodx></message>",
            "<p:a xmlns:p='urn:p' xmlns:q='urn:p'></q:a>",
            "<a></p:a>",
        ]
        .map(in_stream),
    ));
    rows.extend(each(
        "malformed_markup_is_not_well_formed",
        Expect::Malformed { items: 1 },
        [
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
            // Outside attribute values, '/' only appears in "/>"; otherwise this would be
            // an open element swallowing the stanzas after it.
            "<a/ >",
            "<a b='1'/ >",
            "<a / b='1'/>",
            "<a//>",
            "<a><b/ ></a><presence/>",
        ]
        .map(in_stream),
    ));
    rows.push(Case::new(
        "malformed_markup_is_not_well_formed: header",
        HEADER.replace("'1.0'>", "'1.0'/ >"),
        Expect::Malformed { items: 0 },
    ));
    let unclosed = [
        in_stream("<message><body>hi"),
        in_stream("<message to='a"),
        in_stream("<"),
        in_stream("<message/><message><![CDATA[x"),
        HEADER.as_bytes()[..20].to_vec(),
        b"<?xml version='1.0'".to_vec(),
    ];
    rows.extend(
        each(
            "unclosed_element_at_eof_is_a_truncated_stanza",
            not_well_formed(ParseError::TruncatedStanza),
            &unclosed,
        )
        .into_iter()
        .map(Case::at_eof),
    );
    // Without the end of input, the parser just waits.
    rows.extend(each(
        "unclosed_element_at_eof_is_a_truncated_stanza: before the end of input",
        Expect::NoError,
        &unclosed,
    ));
    rows.extend(
        each(
            "eof_between_stanzas_is_an_unclosed_stream",
            not_well_formed(ParseError::UnclosedStream),
            [
                in_stream("<message/>"),
                in_stream(""),
                in_stream("<message/>  \n"),
                Vec::new(),
                b"  ".to_vec(),
                b"<?xml version='1.0'?>".to_vec(),
            ],
        )
        .into_iter()
        .map(Case::at_eof),
    );
    rows.push(
        Case::new(
            "eof_after_the_close_is_clean",
            in_stream("<message/></stream:stream>\n"),
            Expect::Items(3),
        )
        .at_eof()
        .also(|out| assert_eq!(out.items[2], Item::Close)),
    );
    rows.extend(each(
        "duplicate_attribute_is_not_well_formed",
        duplicate("x"),
        [
            "<message x='1' x='2'/>",
            "<message><body x='1' y='2' x='1'/></message>",
        ]
        .map(in_stream),
    ));
    rows.extend(each(
        "duplicate_attribute_through_two_prefixes_is_not_well_formed",
        duplicate("x"),
        [
            in_stream("<a xmlns:p='u' xmlns:q='u' p:x='1' q:x='2'/>"),
            // One prefix declared on the stream header, the other on the element.
            in_stream_bytes(
                b"<a xmlns:s='http://etherx.jabber.org/streams' s:x='1' stream:x='2'/>",
            ),
        ],
    ));
    rows.extend([
        Case::new(
            "duplicate_namespace_declaration_is_not_well_formed: default",
            in_stream("<a xmlns='u' xmlns='v'/>"),
            duplicate("xmlns"),
        ),
        Case::new(
            "duplicate_namespace_declaration_is_not_well_formed: prefixed",
            in_stream("<a xmlns:p='u' xmlns:p='u'/>"),
            duplicate("p"),
        ),
        Case::new(
            "unbound_attribute_prefix_is_not_well_formed",
            in_stream("<message p:x='1'/>"),
            unbound("p"),
        ),
    ]);
    rows.extend(each(
        "unbound_element_prefix_is_not_well_formed",
        unbound("p"),
        [
            "<p:message/>",
            // A prefix declared on a sibling is out of scope.
            "<a><b xmlns:p='u'/><p:c/></a>",
        ]
        .map(in_stream),
    ));
    rows.extend(each(
        "forbidden_namespace_declarations_are_not_well_formed",
        not_well_formed(ParseError::BadNamespaceDeclaration),
        [
            "<a xmlns:p=''/>",
            "<a xmlns:xml='urn:x'/>",
            "<a xmlns:xmlns='urn:x'/>",
            "<a xmlns='http://www.w3.org/XML/1998/namespace'/>",
            "<a xmlns:p='http://www.w3.org/2000/xmlns/'/>",
        ]
        .map(in_stream),
    ));
    check_all(&rows);
}

#[test]
fn same_local_name_in_other_namespaces_is_no_duplicate() {
    let el = single_element("<a xmlns:p='u' xmlns:q='v' p:x='1' q:x='2' x='3'/>");
    assert_eq!(el.root().attr_ns("x", "u"), Some("1"));
    assert_eq!(el.root().attr_ns("x", "v"), Some("2"));
    assert_eq!(el.attr("x"), Some("3"));
}

// ---------------------------------------------------------------------------------------
// Characters
// ---------------------------------------------------------------------------------------

#[test]
fn character_rules() {
    let not_well_formed = |e| error(e, Condition::NotWellFormed);
    let forbidden = |code| not_well_formed(ParseError::ForbiddenChar { code });
    let mut rows = Vec::new();
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
        rows.extend(each(
            &format!(
                "invalid_utf8_is_unsupported_encoding: {}",
                bad.escape_ascii()
            ),
            error(ParseError::InvalidUtf8, Condition::UnsupportedEncoding),
            [
                in_stream_bytes(&[b"<message><body>a", bad, b"b</body></message>"].concat()),
                in_stream_bytes(&[b"<message to='", bad, b"'/>"].concat()),
            ],
        ));
    }
    // In the stream header too.
    let mut header = HEADER.as_bytes().to_vec();
    header.splice(HEADER.len() - 1..HEADER.len() - 1, *b" id='\xff'");
    rows.push(Case::new(
        "invalid_utf8_is_unsupported_encoding: header",
        header,
        error(ParseError::InvalidUtf8, Condition::UnsupportedEncoding),
    ));
    for (ch, code) in [('\u{1}', 1), ('\u{0}', 0), ('\u{1F}', 0x1F)] {
        rows.extend(each(
            &format!("forbidden_raw_characters_are_not_well_formed: U+{code:04X}"),
            forbidden(code),
            [
                format!("<message><body>a{ch}b</body></message>"),
                format!("<message to='{ch}'/>"),
                format!("<message/>{ch}"),
            ]
            .map(|s| in_stream(&s)),
        ));
    }
    for (ch, code) in [('\u{FFFE}', 0xFFFE), ('\u{FFFF}', 0xFFFF)] {
        rows.extend(each(
            &format!("forbidden_raw_characters_are_not_well_formed: U+{code:04X}"),
            forbidden(code),
            [
                format!("<message><body>a{ch}b</body></message>"),
                format!("<message to='{ch}'/>"),
                format!("<message><![CDATA[{ch}]]></message>"),
            ]
            .map(|s| in_stream(&s)),
        ));
    }
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
        rows.extend(each(
            &format!("forbidden_characters_by_reference_are_not_well_formed: {reference}"),
            forbidden(code),
            [
                format!("<message><body>{reference}</body></message>"),
                format!("<message to='{reference}'/>"),
            ]
            .map(|s| in_stream(&s)),
        ));
    }
    rows.extend(each(
        "lt_in_attribute_value_is_not_well_formed",
        not_well_formed(ParseError::LtInAttributeValue),
        [
            in_stream("<message to='a<b'/>"),
            in_stream("<message to=\"a<b\"/>"),
            HEADER.replace("example.com", "<").into_bytes(),
        ],
    ));
    rows.extend(each(
        "cdata_end_in_text_is_not_well_formed",
        not_well_formed(ParseError::CdataEndInText),
        ["]]>", "a]]>b", "]]]>", "<![CDATA[x]]>]]>"]
            .map(|text| in_stream(&format!("<message><body>{text}</body></message>"))),
    ));
    check_all(&rows);
}

// ---------------------------------------------------------------------------------------
// Stream level
// ---------------------------------------------------------------------------------------

#[test]
fn stream_level_rules() {
    let bad_format = |e| error(e, Condition::BadFormat);
    let invalid_namespace = |e| error(e, Condition::InvalidNamespace);
    let mismatched = || error(ParseError::MismatchedTag, Condition::NotWellFormed);
    let mut rows = Vec::new();
    rows.extend(each(
        "text_between_stanzas_is_bad_format",
        bad_format(ParseError::TextOutsideStanza),
        ["hello", ">", "x<message/>", "&amp;", "]]>", "\u{E9}"]
            .map(|text| in_stream(&format!("<message/>{text}")))
            .into_iter()
            .chain([
                // Before the header too.
                before_header("hello"),
                before_header(">"),
                // CDATA is text.
                in_stream("<![CDATA[x]]>"),
            ]),
    ));
    rows.push(Case::new(
        "whitespace_between_stanzas_is_a_keepalive",
        in_stream(" \n <message/> \n\t\r <presence/> \n "),
        Expect::Items(3),
    ));
    rows.extend(each(
        "data_after_close_is_bad_format",
        bad_format(ParseError::DataAfterClose),
        ["x", "<message/>", "</stream:stream>", "  \n<", ">"]
            .map(|after| in_stream(&format!("<message/></stream:stream>{after}"))),
    ));
    rows.extend(each(
        "root_that_is_not_stream_is_invalid_namespace",
        invalid_namespace(ParseError::BadRoot),
        [
            HEADER.replace("stream:stream", "stream:strm").into_bytes(),
            b"<message xmlns='jabber:client'>".to_vec(),
        ],
    ));
    rows.extend(each(
        "root_in_the_wrong_namespace_is_invalid_namespace",
        invalid_namespace(ParseError::BadRoot),
        [
            HEADER.replace(STREAM_NS, "urn:not-streams").into_bytes(),
            // `stream` in the content namespace.
            b"<stream xmlns='jabber:client'>".to_vec(),
        ],
    ));
    rows.push(Case::new(
        "unbound_root_prefix_is_not_well_formed",
        b"<stream:stream xmlns='jabber:client'>",
        error(
            ParseError::UnboundPrefix("stream".into()),
            Condition::NotWellFormed,
        ),
    ));
    rows.extend(each(
        "missing_or_wrong_content_namespace_is_invalid_namespace",
        invalid_namespace(ParseError::BadContentNamespace),
        [
            HEADER.replace("xmlns='jabber:client' ", ""),
            HEADER.replace("jabber:client", "jabber:server"),
            HEADER.replace("jabber:client", ""),
            HEADER.replace("jabber:client", "jabber:client "),
        ],
    ));
    rows.extend([
        // A server-to-server parser wants jabber:server.
        Case::new(
            "missing_or_wrong_content_namespace_is_invalid_namespace: server to server",
            HEADER.replace("jabber:client", "jabber:server"),
            Expect::Items(1),
        )
        .content_ns(ns::SERVER)
        .also(|out| assert_eq!(header_of(out).content_ns(), ns::SERVER)),
        Case::new(
            "missing_or_wrong_content_namespace_is_invalid_namespace: client to server",
            HEADER,
            invalid_namespace(ParseError::BadContentNamespace),
        )
        .content_ns(ns::SERVER)
        .also(|out| assert_eq!(out.items, [], "the error comes first")),
    ]);
    rows.extend(each(
        "stream_close_with_another_name_is_a_mismatched_tag",
        mismatched(),
        [
            "</foo>",
            "</stream>",
            "</s:stream>",
            "</stream:streams>",
            "</message>",
        ]
        .map(|close| in_stream(&format!("<message/>{close}"))),
    ));
    // The close tag must repeat the header's own prefix.
    let header = HEADER
        .replace("stream:", "s:")
        .replace("xmlns:stream", "xmlns:s");
    rows.extend([
        Case::new(
            "stream_close_with_another_name_is_a_mismatched_tag: own prefix",
            format!("{header}<message/></s:stream >"),
            Expect::Items(3),
        )
        .also(|out| assert_eq!(out.items.last(), Some(&Item::Close))),
        Case::new(
            "stream_close_with_another_name_is_a_mismatched_tag: the usual prefix",
            format!("{header}</stream:stream>"),
            mismatched(),
        ),
    ]);
    // Only possible when the content namespace is the streams namespace itself, but the
    // close tag must still be matched against the root's name.
    rows.push(
        Case::new(
            "stream_close_of_an_unprefixed_root",
            format!("<stream xmlns='{STREAM_NS}'><features/></stream>"),
            Expect::Items(3),
        )
        .content_ns(STREAM_NS)
        .also(|out| {
            assert!(matches!(&out.items[0], Item::Header(_)));
            assert!(matches!(&out.items[1], Item::Element(e) if e.is("features", STREAM_NS)));
            assert_eq!(out.items[2], Item::Close);
        }),
    );
    // The recorded name is `stream`, not the raw text before it (`<stream`).
    rows.extend(
        each(
            "stream_close_of_an_unprefixed_root: another name",
            mismatched(),
            ["</<stream>", "</foo>"].map(|close| format!("<stream xmlns='{STREAM_NS}'>{close}")),
        )
        .into_iter()
        .map(|c| c.content_ns(STREAM_NS).also(only_a_header)),
    );
    let header = HEADER.replace("'1.0'>", "'1.0'/>");
    rows.extend([
        Case::new(
            "self_closing_header_yields_header_then_close",
            &header,
            Expect::Items(2),
        )
        .at_eof()
        .also(|out| {
            assert_eq!(header_of(out).version(), Some("1.0"));
            assert_eq!(out.items[1], Item::Close);
        }),
        Case::new(
            "self_closing_header_yields_header_then_close: data after it",
            format!("{header}<message/>"),
            bad_format(ParseError::DataAfterClose),
        ),
    ]);
    check_all(&rows);
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
fn self_closing_header_yields_header_then_close() {
    let mut p = StreamParser::new(Limits::default());
    p.push(HEADER.replace("'1.0'>", "'1.0'/>").as_bytes());
    assert!(matches!(p.next_item(), Some(Ok(Item::Header(_)))));
    assert!(!p.is_closed());
    assert_eq!(p.next_item(), Some(Ok(Item::Close)));
    assert!(p.is_closed());
    assert_eq!(p.next_item(), None);
}

// ---------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------

#[test]
fn limit_rules() {
    let policy = |e| error(e, Condition::PolicyViolation);
    let too_deep = |limit| policy(ParseError::TooDeep { limit });
    let too_many_attributes = |limit| policy(ParseError::TooManyAttributes { limit });
    let mut rows = Vec::new();

    // Longer than the header, which the same limit applies to.
    let stanza = format!(
        "<message to='a@b'><body>{}</body></message>",
        "0123456789".repeat(20)
    );
    let stanza = stanza.as_str();
    assert!(stanza.len() > HEADER.len());
    let limit = stanza.len() - 1;
    // The error comes without waiting for the element to end: as soon as the limit is
    // filled by an element that has not ended (it cannot end within the limit any more).
    let early = HEADER.len() + 10;
    rows.extend([
        Case::new(
            "stanza_exactly_at_the_size_limit_is_accepted",
            in_stream(stanza),
            Expect::Items(2),
        )
        .limits(&limits(|l| l.max_stanza_bytes = stanza.len())),
        Case::new(
            "stanza_one_byte_over_the_size_limit_is_a_policy_violation",
            in_stream(stanza),
            policy(ParseError::StanzaTooLarge { limit }),
        )
        .limits(&limits(|l| l.max_stanza_bytes = limit)),
        Case::new(
            "stanza_one_byte_over_the_size_limit_is_a_policy_violation: unended",
            in_stream(&stanza[..early]),
            policy(ParseError::StanzaTooLarge { limit: early }),
        )
        .limits(&limits(|l| l.max_stanza_bytes = early)),
        Case::new(
            "stanza_one_byte_over_the_size_limit_is_a_policy_violation: unended, one short",
            in_stream(&stanza[..early - 1]),
            Expect::NoError,
        )
        .limits(&limits(|l| l.max_stanza_bytes = early)),
    ]);

    let at_header = limits(|l| l.max_stanza_bytes = HEADER.len());
    let decl = format!("<?xml version='1.0'{}?>", " ".repeat(HEADER.len()));
    rows.extend([
        Case::new(
            "header_size_is_limited_too: at the limit",
            HEADER,
            Expect::Items(1),
        )
        .limits(&at_header),
        Case::new(
            "header_size_is_limited_too: over the limit",
            HEADER,
            policy(ParseError::StanzaTooLarge {
                limit: HEADER.len() - 1,
            }),
        )
        .limits(&limits(|l| l.max_stanza_bytes = HEADER.len() - 1)),
        // And the XML declaration.
        Case::new(
            "header_size_is_limited_too: declaration",
            before_header(&decl),
            policy(ParseError::StanzaTooLarge {
                limit: HEADER.len(),
            }),
        )
        .limits(&at_header),
    ]);

    rows.extend([
        Case::new(
            "depth_64_is_accepted_by_default",
            in_stream(&nested(64, "deep")),
            Expect::NoError,
        )
        .also(|out| {
            let Item::Element(el) = &out.items[1] else {
                panic!("expected an element")
            };
            let mut cur = el.root();
            for _ in 1..64 {
                cur = cur.child("x", ns::CLIENT).expect("a child");
            }
            assert_eq!(cur.text(), "deep");
        }),
        Case::new(
            "depth_64_is_accepted_by_default: an empty innermost element",
            in_stream(&nested(63, "<y/>")),
            Expect::NoError,
        ),
    ]);
    rows.extend(each(
        "depth_65_is_a_policy_violation_by_default",
        too_deep(64),
        [
            nested(65, ""),
            // An empty element counts too.
            nested(64, "<y/>"),
            // The error comes at the opening tag, without waiting for the rest.
            "<x>".repeat(65),
        ]
        .map(|s| in_stream(&s)),
    ));

    let depth_3 = limits(|l| l.max_depth = 3);
    // A top-level element is depth 1.
    let depth_1 = limits(|l| l.max_depth = 1);
    rows.extend([
        Case::new(
            "depth_limit_can_be_changed: 3, an empty element below",
            in_stream(&nested(3, "<y/>")),
            too_deep(3),
        )
        .limits(&depth_3),
        Case::new(
            "depth_limit_can_be_changed: 3, at the limit",
            in_stream(&nested(3, "t")),
            Expect::NoError,
        )
        .limits(&depth_3),
        Case::new(
            "depth_limit_can_be_changed: 3, over the limit",
            in_stream(&nested(4, "t")),
            too_deep(3),
        )
        .limits(&depth_3),
        Case::new(
            "depth_limit_can_be_changed: 1, top-level elements",
            in_stream("<message/><iq>t</iq>"),
            Expect::NoError,
        )
        .limits(&depth_1),
        Case::new(
            "depth_limit_can_be_changed: 1, a child",
            in_stream("<message><body/></message>"),
            too_deep(1),
        )
        .limits(&depth_1),
    ]);

    // The header has four attributes (two of them namespace declarations).
    let attributes_4 = limits(|l| l.max_attributes = 4);
    rows.extend([
        Case::new(
            "attribute_count_limit_can_be_changed: at the limit",
            in_stream(
                "<message a='1' b='2' c='3' d='4'>\
                 <body xmlns:p='u' p:a='1' b='2' c='3'/></message>",
            ),
            Expect::Items(2),
        )
        .limits(&attributes_4),
        Case::new(
            "attribute_count_limit_can_be_changed: over the limit",
            in_stream("<message a='1' b='2' c='3' d='4' e='5'/>"),
            too_many_attributes(4),
        )
        .limits(&attributes_4),
        // Namespace declarations count.
        Case::new(
            "attribute_count_limit_can_be_changed: namespace declarations count",
            in_stream("<message><body xmlns='u' xmlns:p='v' a='1' b='2' p:c='3'/></message>"),
            too_many_attributes(4),
        )
        .limits(&attributes_4),
        // And the header's own.
        Case::new(
            "attribute_count_limit_can_be_changed: the header's count",
            HEADER,
            too_many_attributes(3),
        )
        .limits(&limits(|l| l.max_attributes = 3)),
    ]);

    let attrs = |n: usize| (0..n).map(|i| format!(" a{i}='{i}'")).collect::<String>();
    rows.extend([
        Case::new(
            "attribute_count_limit_default_is_64",
            in_stream(&format!("<message{}/>", attrs(64))),
            Expect::NoError,
        )
        .also(|out| {
            let Item::Element(el) = &out.items[1] else {
                panic!("expected an element")
            };
            assert_eq!(el.root().attrs().count(), 64);
        }),
        Case::new(
            "attribute_count_limit_default_is_64: one more",
            in_stream(&format!("<message{}/>", attrs(65))),
            too_many_attributes(64),
        ),
    ]);
    check_all(&rows);
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

/// A row of the decoding table: `stanza`, alone in a client stream, parses into one element
/// whose text is `text` and whose (unprefixed) attributes have these values.
struct Decoded {
    name: &'static str,
    stanza: &'static str,
    text: &'static str,
    attrs: &'static [(&'static str, &'static str)],
}

impl Row for Decoded {
    fn name(&self) -> &str {
        self.name
    }

    fn input(&self) -> String {
        format!("{:?}", self.stanza)
    }

    fn check(&self) {
        let el = single_element(self.stanza);
        assert_eq!(el.text(), self.text);
        for &(name, value) in self.attrs {
            assert_eq!(el.attr(name), Some(value), "attribute {name}");
        }
    }
}

#[test]
fn decoded_values() {
    check_all(&[
        Decoded {
            name: "references_in_attributes_are_decoded",
            stanza: "<message a='&lt;&amp;&gt;&quot;&apos;' b=\"&#65;&#x42;&#x1F600;&#233;\" \
                     c='x&amp;amp;'/>",
            text: "",
            attrs: &[("a", "<&>\"'"), ("b", "AB\u{1F600}\u{E9}"), ("c", "x&amp;")],
        },
        Decoded {
            name: "references_in_text_are_decoded",
            stanza: "<message>&lt;&amp;&gt;&quot;&apos;&#65;&#x42;&#x00043;&#x1F600;</message>",
            text: "<&>\"'ABC\u{1F600}",
            attrs: &[],
        },
        Decoded {
            name: "line_ends_are_normalised",
            stanza: "<message a='1\r\n2\r3\n4'>a\r\nb\rc\n\rd<![CDATA[\r\ne\r]]></message>",
            text: "a\nb\nc\n\nd\ne\n",
            attrs: &[("a", "1 2 3 4")],
        },
        // Only a reference carries a carriage return.
        Decoded {
            name: "line_ends_are_normalised: by reference",
            stanza: "<message a='&#13;&#10;'>&#13;&#10;</message>",
            text: "\r\n",
            attrs: &[("a", "\r\n")],
        },
        // Each whitespace character becomes one space; runs are not collapsed (CDATA type).
        Decoded {
            name: "attribute_whitespace_is_normalised",
            stanza: "<message a='x\ty\nz  w' b='&#9;&#10;&#13;&#32;'/>",
            text: "",
            attrs: &[("a", "x y z  w"), ("b", "\t\n\r ")],
        },
        // '>' and the other quote are fine.
        Decoded {
            name: "lt_in_attribute_value_is_not_well_formed: other characters",
            stanza: "<message to='a>b\"c'/>",
            text: "",
            attrs: &[("to", "a>b\"c")],
        },
        // ']]' and ']>' on their own are plain text.
        Decoded {
            name: "cdata_end_in_text_is_not_well_formed: parts of it",
            stanza: "<message>]] ]> ]]&gt;</message>",
            text: "]] ]> ]]>",
            attrs: &[],
        },
        // Neighbours of the forbidden ones are fine.
        Decoded {
            name: "forbidden_raw_characters_are_not_well_formed: neighbours",
            stanza: "<message a='\u{FFFD}\u{FEFF}'>\u{7F}\u{85}\u{10FFFF}</message>",
            text: "\u{7F}\u{85}\u{10FFFF}",
            attrs: &[("a", "\u{FFFD}\u{FEFF}")],
        },
    ]);
}

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
fn namespaces_from_a_header_with_many_bindings_are_stored_once_too() {
    // The first bindings are remembered without allocating; those beyond must be shared
    // just the same, and each prefix must still find its own name.
    let uri = |i: usize| format!("urn:{i}:{}", "x".repeat(4 * 1024));
    let decls: String = (0..12)
        .map(|i| format!(" xmlns:p{i}='{}'", uri(i)))
        .collect();
    let header = HEADER.replace(" to=", &format!("{decls} to="));
    let stanza = format!(
        "<message>{}</message>",
        (0..12)
            .map(|i| format!("<p{i}:a p{i}:b='{i}'/>").repeat(40))
            .collect::<String>()
    );
    let out = run(format!("{header}{stanza}").as_bytes());
    assert_eq!(out.error, None);
    let Item::Element(msg) = &out.items[1] else {
        panic!("expected an element")
    };
    let children: Vec<_> = msg.children().collect();
    assert_eq!(children.len(), 12 * 40);
    for (i, run) in children.chunks(40).enumerate() {
        let shared = run[0].ns();
        assert_eq!(shared, uri(i));
        for c in run {
            assert_eq!(c.ns().as_ptr(), shared.as_ptr(), "namespace name copied");
            let attr = c.attrs().next().expect("an attribute");
            assert_eq!(attr.ns.as_ptr(), shared.as_ptr(), "namespace name copied");
            assert_eq!(attr.value, i.to_string());
        }
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
fn line_end_split_across_pushes_is_normalised() {
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
