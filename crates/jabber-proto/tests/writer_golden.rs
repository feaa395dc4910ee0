//! Byte-exact golden tests of what the writer emits: the declaration, the stream header and
//! close, escaping, namespace declarations and prefixes, and `Display` of elements.

use jabber_proto::Limits;
use jabber_proto::ns;
use jabber_proto::stream::{Item, StreamHeader, StreamParser, Writer};
use jabber_proto::xml::{Element, ElementBuilder};

const STREAM_HEADER: &str = "<stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams'>";

fn build(b: ElementBuilder) -> Element {
    b.build().expect("a valid element")
}

/// `el` as a top-level element of a client stream.
fn written(el: &Element) -> String {
    written_with(&Writer::new(ns::CLIENT), el)
}

fn written_with(writer: &Writer, el: &Element) -> String {
    let mut out = Vec::new();
    writer.element(&mut out, el.root());
    String::from_utf8(out).expect("UTF-8")
}

fn header(h: &StreamHeader) -> String {
    let mut out = Vec::new();
    Writer::new(h.content_ns()).header(&mut out, h);
    String::from_utf8(out).expect("UTF-8")
}

/// Parses `el_xml` inside a client stream: the writer's output must mean `expected`.
#[track_caller]
fn parses_back(el_xml: &str, expected: &Element) {
    let mut p = StreamParser::new(Limits::default());
    p.push(STREAM_HEADER.as_bytes());
    p.push(el_xml.as_bytes());
    assert!(matches!(p.next_item(), Some(Ok(Item::Header(_)))));
    assert_eq!(p.next_item(), Some(Ok(Item::Element(expected.clone()))));
    assert_eq!(p.next_item(), None);
}

// ---------------------------------------------------------------------------------------
// Stream framing
// ---------------------------------------------------------------------------------------

#[test]
fn declaration() {
    let mut out = Vec::new();
    Writer::new(ns::CLIENT).declaration(&mut out);
    assert_eq!(out, b"<?xml version='1.0'?>");
}

#[test]
fn header_with_attributes_in_order() {
    let h = StreamHeader::new(ns::CLIENT)
        .with_to("example.com")
        .with_version("1.0")
        .with_lang("en");
    assert_eq!(
        header(&h),
        "<stream:stream xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams' \
         to='example.com' version='1.0' xml:lang='en'>"
    );
}

#[test]
fn header_minimal_and_for_a_server_stream() {
    assert_eq!(
        header(&StreamHeader::new(ns::CLIENT)),
        "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
    );
    let h = StreamHeader::new(ns::SERVER)
        .with_from("a.example")
        .with_to("b.example");
    assert_eq!(
        header(&h),
        "<stream:stream xmlns='jabber:server' \
         xmlns:stream='http://etherx.jabber.org/streams' from='a.example' to='b.example'>"
    );
}

#[test]
fn header_values_are_escaped() {
    let h = StreamHeader::new(ns::CLIENT).with_to("a&b<c>'d\"\te");
    assert_eq!(
        header(&h),
        "<stream:stream xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams' to='a&amp;b&lt;c&gt;&apos;d\"&#9;e'>"
    );
}

#[test]
fn close() {
    let mut out = Vec::new();
    Writer::new(ns::CLIENT).close(&mut out);
    assert_eq!(out, b"</stream:stream>");
}

#[test]
fn whole_stream() {
    let writer = Writer::new(ns::CLIENT);
    let h = StreamHeader::new(ns::CLIENT)
        .with_to("example.com")
        .with_version("1.0");
    let msg = build(
        Element::builder("message", ns::CLIENT)
            .attr("to", "juliet@example.com")
            .child(Element::builder("body", ns::CLIENT).text("hi")),
    );
    let mut out = Vec::new();
    writer.declaration(&mut out);
    writer.header(&mut out, &h);
    writer.element(&mut out, msg.root());
    writer.close(&mut out);
    assert_eq!(
        String::from_utf8(out).expect("UTF-8"),
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>\
         <message to='juliet@example.com'><body>hi</body></message></stream:stream>"
    );
}

// ---------------------------------------------------------------------------------------
// Escaping
// ---------------------------------------------------------------------------------------

#[test]
fn message_with_escaping() {
    let msg = build(
        Element::builder("message", ns::CLIENT)
            .attr("to", "a&b<c>d'e\"f")
            .child(Element::builder("body", ns::CLIENT).text("x & y < z > w 'q' \"r\" ]]>")),
    );
    let xml = written(&msg);
    assert_eq!(
        xml,
        "<message to='a&amp;b&lt;c&gt;d&apos;e\"f'>\
         <body>x &amp; y &lt; z &gt; w 'q' \"r\" ]]&gt;</body></message>"
    );
    parses_back(&xml, &msg);
}

#[test]
fn whitespace_that_parsing_would_normalise_is_a_reference() {
    let msg = build(
        Element::builder("message", ns::CLIENT)
            .attr("a", "1\t2\n3\r4\r\n5 6")
            .text("x\ty\nz\rw\r\nv"),
    );
    let xml = written(&msg);
    assert_eq!(
        xml,
        "<message a='1&#9;2&#10;3&#13;4&#13;&#10;5 6'>x\ty\nz&#13;w&#13;\nv</message>"
    );
    parses_back(&xml, &msg);
}

#[test]
fn one_line_writes_line_feeds_and_tabs_in_text_as_references() {
    let msg = build(
        Element::builder("message", ns::CLIENT)
            .attr("a", "1\t2\n3")
            .child(Element::builder("body", ns::CLIENT).text("line 1\nline 2\r\n\tindented")),
    );
    let writer = Writer::new(ns::CLIENT).one_line(true);
    let xml = written_with(&writer, &msg);
    assert_eq!(
        xml,
        "<message a='1&#9;2&#10;3'>\
         <body>line 1&#10;line 2&#13;&#10;&#9;indented</body></message>"
    );
    parses_back(&xml, &msg);
    // Turned off again, the default.
    let xml = written_with(&writer.one_line(false), &msg);
    assert_eq!(
        xml,
        "<message a='1&#9;2&#10;3'><body>line 1\nline 2&#13;\n\tindented</body></message>"
    );
}

#[test]
fn non_ascii_is_written_as_is() {
    let msg = build(
        Element::builder("caf\u{E9}", ns::CLIENT)
            .attr("\u{540D}", "\u{1F600}")
            .text("\u{E9}\u{FEFF}\u{10FFFF}"),
    );
    let xml = written(&msg);
    assert_eq!(
        xml,
        "<caf\u{E9} \u{540D}='\u{1F600}'>\u{E9}\u{FEFF}\u{10FFFF}</caf\u{E9}>"
    );
    parses_back(&xml, &msg);
}

#[test]
fn empty_elements_are_self_closing() {
    let msg = build(
        Element::builder("presence", ns::CLIENT)
            .child(Element::builder("show", ns::CLIENT).text(""))
            .child(Element::builder("status", ns::CLIENT).attr("a", "")),
    );
    assert_eq!(written(&msg), "<presence><show/><status a=''/></presence>");
}

// ---------------------------------------------------------------------------------------
// Namespaces
// ---------------------------------------------------------------------------------------

#[test]
fn child_in_another_namespace_declares_it() {
    let iq = build(
        Element::builder("iq", ns::CLIENT)
            .attr("type", "get")
            .attr("id", "r1")
            .child(
                Element::builder("query", ns::IQ_ROSTER)
                    .child(Element::builder("item", ns::IQ_ROSTER).attr("jid", "a@b"))
                    .child(Element::builder("x", "urn:x").child(Element::builder("y", "urn:x"))),
            )
            .child(Element::builder("ping", ns::PING))
            .child(Element::builder("z", ns::CLIENT)),
    );
    let xml = written(&iq);
    assert_eq!(
        xml,
        "<iq type='get' id='r1'><query xmlns='jabber:iq:roster'><item jid='a@b'/>\
         <x xmlns='urn:x'><y/></x></query><ping xmlns='urn:xmpp:ping'/><z/></iq>"
    );
    parses_back(&xml, &iq);
}

#[test]
fn child_in_no_namespace_undeclares_the_default() {
    let msg = build(
        Element::builder("message", ns::CLIENT)
            .child(
                Element::builder("x", "")
                    .child(Element::builder("y", ""))
                    .child(Element::builder("z", ns::CLIENT)),
            )
            .child(Element::builder("body", ns::CLIENT)),
    );
    let xml = written(&msg);
    assert_eq!(
        xml,
        "<message><x xmlns=''><y/><z xmlns='jabber:client'/></x><body/></message>"
    );
    parses_back(&xml, &msg);
}

#[test]
fn top_level_element_outside_the_content_namespace() {
    let result = build(Element::builder("result", "jabber:server:dialback").text("key"));
    assert_eq!(
        written(&result),
        "<result xmlns='jabber:server:dialback'>key</result>"
    );
    let bare = build(Element::builder("foo", ""));
    assert_eq!(written(&bare), "<foo xmlns=''/>");
    parses_back(&written(&bare), &bare);
}

#[test]
fn stream_features_use_the_stream_prefix() {
    let features = build(
        Element::builder("features", ns::STREAM)
            .child(
                Element::builder("starttls", "urn:ietf:params:xml:ns:xmpp-tls").child(
                    Element::builder("required", "urn:ietf:params:xml:ns:xmpp-tls"),
                ),
            )
            .child(
                Element::builder("mechanisms", "urn:ietf:params:xml:ns:xmpp-sasl").child(
                    Element::builder("mechanism", "urn:ietf:params:xml:ns:xmpp-sasl").text("PLAIN"),
                ),
            )
            .child(Element::builder(
                "auth",
                "http://jabber.org/features/iq-auth",
            )),
    );
    let xml = written(&features);
    assert_eq!(
        xml,
        "<stream:features>\
         <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>\
         <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>\
         </mechanisms><auth xmlns='http://jabber.org/features/iq-auth'/></stream:features>"
    );
    parses_back(&xml, &features);
}

#[test]
fn stream_error_uses_the_stream_prefix() {
    let error = build(
        Element::builder("error", ns::STREAM)
            .child(Element::builder("not-well-formed", ns::STREAM_ERRORS))
            .child(
                Element::builder("text", ns::STREAM_ERRORS)
                    .lang("en")
                    .text("bad <xml>"),
            ),
    );
    let xml = written(&error);
    assert_eq!(
        xml,
        "<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
         <text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>bad &lt;xml&gt;</text>\
         </stream:error>"
    );
    parses_back(&xml, &error);
}

#[test]
fn content_namespace_inside_a_stream_element_needs_no_declaration() {
    // The `stream:` prefix leaves the default namespace as it was.
    let features = build(
        Element::builder("features", ns::STREAM)
            .child(Element::builder("x", ns::CLIENT))
            .child(Element::builder("error", ns::STREAM)),
    );
    let xml = written(&features);
    assert_eq!(
        xml,
        "<stream:features><x/><stream:error/></stream:features>"
    );
    parses_back(&xml, &features);
}

#[test]
fn attribute_in_a_foreign_namespace_gets_a_declared_prefix() {
    let msg = build(
        Element::builder("message", ns::CLIENT)
            .attr("id", "1")
            .attr_ns("a", "urn:x", "1")
            .attr_ns("b", "urn:y", "it's")
            .attr_ns("c", "urn:x", "3")
            .child(Element::builder("body", ns::CLIENT).attr_ns("d", "urn:y", "4")),
    );
    let xml = written(&msg);
    assert_eq!(
        xml,
        "<message id='1' xmlns:ns0='urn:x' ns0:a='1' xmlns:ns1='urn:y' ns1:b='it&apos;s' \
         ns0:c='3'><body xmlns:ns0='urn:y' ns0:d='4'/></message>"
    );
    parses_back(&xml, &msg);
}

#[test]
fn attribute_in_the_streams_namespace_gets_a_declared_prefix_too() {
    let features = build(Element::builder("features", ns::STREAM).attr_ns("v", ns::STREAM, "1"));
    let xml = written(&features);
    assert_eq!(
        xml,
        "<stream:features xmlns:ns0='http://etherx.jabber.org/streams' ns0:v='1'/>"
    );
    parses_back(&xml, &features);
}

#[test]
fn xml_lang_uses_the_xml_prefix() {
    let msg = build(
        Element::builder("message", ns::CLIENT)
            .lang("en")
            .attr("lang", "not xml:lang")
            .child(
                Element::builder("body", ns::CLIENT)
                    .lang("fr")
                    .text("bonjour"),
            ),
    );
    let xml = written(&msg);
    assert_eq!(
        xml,
        "<message xml:lang='en' lang='not xml:lang'>\
         <body xml:lang='fr'>bonjour</body></message>"
    );
    parses_back(&xml, &msg);
}

#[test]
fn element_in_the_xml_namespace_keeps_the_xml_prefix() {
    // Namespaces in XML forbids binding the XML namespace as default, so `xml:` it is; the
    // default namespace is left as it was for the children.
    let msg = build(
        Element::builder("message", ns::CLIENT).child(
            Element::builder("foo", ns::XML)
                .lang("en")
                .attr("a", "1")
                .child(Element::builder("body", ns::CLIENT).text("hi"))
                .child(Element::builder("x", "urn:x").child(Element::builder("y", "")))
                .child(Element::builder("z", ""))
                .child(Element::builder("bar", ns::XML).child(Element::builder("q", "urn:q")))
                .child(Element::builder("features", ns::STREAM))
                .text("t"),
        ),
    );
    let xml = written(&msg);
    assert_eq!(
        xml,
        "<message><xml:foo xml:lang='en' a='1'><body>hi</body>\
         <x xmlns='urn:x'><y xmlns=''/></x><z xmlns=''/>\
         <xml:bar><q xmlns='urn:q'/></xml:bar><stream:features/>t</xml:foo></message>"
    );
    parses_back(&xml, &msg);
}

#[test]
fn top_level_element_in_the_xml_namespace() {
    let el = build(
        Element::builder("foo", ns::XML)
            .child(Element::builder("message", ns::CLIENT))
            .child(Element::builder("x", "urn:x")),
    );
    let xml = written(&el);
    assert_eq!(xml, "<xml:foo><message/><x xmlns='urn:x'/></xml:foo>");
    parses_back(&xml, &el);
    // Standalone, the children declare what the stream would have bound.
    assert_eq!(
        el.to_string(),
        "<xml:foo><message xmlns='jabber:client'/><x xmlns='urn:x'/></xml:foo>"
    );
    assert_eq!(
        build(Element::builder("foo", ns::XML)).to_string(),
        "<xml:foo/>"
    );
}

// ---------------------------------------------------------------------------------------
// Display
// ---------------------------------------------------------------------------------------

#[test]
fn display_is_standalone() {
    let msg = build(
        Element::builder("message", ns::CLIENT)
            .attr("to", "a&b")
            .child(Element::builder("body", ns::CLIENT).text("hi <3"))
            .child(Element::builder("x", "")),
    );
    assert_eq!(
        msg.to_string(),
        "<message xmlns='jabber:client' to='a&amp;b'><body>hi &lt;3</body><x xmlns=''/></message>"
    );
    // A descendant declares its own namespace too.
    let body = msg.child("body", ns::CLIENT).expect("body");
    assert_eq!(
        body.to_string(),
        "<body xmlns='jabber:client'>hi &lt;3</body>"
    );
    // Debug is the same XML.
    assert_eq!(format!("{msg:?}"), msg.to_string());
}

#[test]
fn display_of_an_element_in_no_namespace_declares_nothing() {
    let el = build(
        Element::builder("a", "")
            .attr("b", "c")
            .child(Element::builder("d", "urn:d").child(Element::builder("e", ""))),
    );
    assert_eq!(
        el.to_string(),
        "<a b='c'><d xmlns='urn:d'><e xmlns=''/></d></a>"
    );
}

#[test]
fn display_does_not_use_the_stream_prefix() {
    let features = build(
        Element::builder("features", ns::STREAM)
            .child(Element::builder("bind", "urn:ietf:params:xml:ns:xmpp-bind")),
    );
    assert_eq!(
        features.to_string(),
        "<features xmlns='http://etherx.jabber.org/streams'>\
         <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></features>"
    );
}

#[test]
fn display_escapes_like_the_writer() {
    let el = build(
        Element::builder("a", "urn:a")
            .attr("v", "'\t\n\r")
            .attr_ns("w", "urn:w", "x")
            .text("\r\n&"),
    );
    assert_eq!(
        el.to_string(),
        "<a xmlns='urn:a' v='&apos;&#9;&#10;&#13;' xmlns:ns0='urn:w' ns0:w='x'>&#13;\n&amp;</a>"
    );
}

#[test]
fn setting_a_header_attribute_again_replaces_it_in_place() {
    let header = StreamHeader::new("jabber:client")
        .with_to("a.example")
        .with_version("1.0")
        .with_to("b.example");
    let mut out = Vec::new();
    Writer::new("jabber:client").header(&mut out, &header);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' \
         to='b.example' version='1.0'>"
    );
}
