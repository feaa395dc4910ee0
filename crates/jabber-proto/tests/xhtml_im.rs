//! XHTML-IM (XEP-0071): byte-exact builder output, refusals, the sanitiser against a
//! catalogue of hostile markup, and two properties: whatever the builder makes survives
//! build → write → parse → sanitise unchanged, and whatever goes into the sanitiser, what
//! comes out is safe XHTML-IM (checked by an independent oracle).

#[path = "support/xhtml_oracle.rs"]
mod oracle;

use std::num::NonZeroU16;

use jabber_proto::Limits;
use jabber_proto::jid::Jid;
use jabber_proto::stanza::xhtml::{
    Color, FontFamily, FontSize, GenericFamily, Html, HtmlBuilder, Image, Length, Node, Removed,
    Sanitized, SizeKeyword, Style, TextAlign, Unit, XhtmlError, XhtmlLimits,
};
use jabber_proto::stanza::{Message, MessageType, Stanza};
use jabber_proto::stream::{Item, StreamParser};
use jabber_proto::xml::Element;
use proptest::prelude::*;

const HEADER: &str = "<stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='example.com' version='1.0'>";
const WRAP: &str = "<html xmlns='http://jabber.org/protocol/xhtml-im'>";
const BODY: &str = "<body xmlns='http://www.w3.org/1999/xhtml'>";

/// Parses one element as the stream layer would (in `jabber:client`), with `limits`.
#[track_caller]
fn parse_with(xml: &str, limits: Limits) -> Element {
    let mut p = StreamParser::new(limits);
    p.push(HEADER.as_bytes());
    p.push(xml.as_bytes());
    let mut el = None;
    while let Some(item) = p.next_item() {
        match item {
            Ok(Item::Element(e)) => el = Some(e),
            Ok(_) => {}
            Err(e) => panic!("{xml}: {e}"),
        }
    }
    el.unwrap_or_else(|| panic!("no element in {xml}"))
}

#[track_caller]
fn parse(xml: &str) -> Element {
    parse_with(xml, Limits::default())
}

/// Sanitises `inner` as the content of one XHTML body.
#[track_caller]
fn sanitize_body(inner: &str) -> Sanitized {
    sanitize(&format!("{WRAP}{BODY}{inner}</body></html>"))
}

#[track_caller]
fn sanitize(html: &str) -> Sanitized {
    let el = parse(html);
    let s = Html::from_element(el.root(), &XhtmlLimits::default()).expect("an <html/> wrapper");
    let out = s.html.to_element();
    if let Err(v) = oracle::check(out.root()) {
        panic!("unsafe output for {html}: {v}\n{out}");
    }
    s
}

/// What the sanitiser made of `inner`, written back as the body's content.
#[track_caller]
fn clean(inner: &str) -> String {
    let out = sanitize_body(inner).html.to_element().to_string();
    let prefix = format!("{WRAP}{BODY}");
    if out == format!("{WRAP}<body xmlns='http://www.w3.org/1999/xhtml'/></html>") {
        return String::new();
    }
    out.strip_prefix(&prefix)
        .and_then(|s| s.strip_suffix("</body></html>"))
        .unwrap_or_else(|| panic!("unexpected shape: {out}"))
        .to_string()
}

fn build(f: impl FnOnce(&mut HtmlBuilder) -> Result<(), XhtmlError>) -> Html {
    let mut b = HtmlBuilder::new();
    f(&mut b).expect("valid steps");
    b.build().expect("closed")
}

// ---------------------------------------------------------------- builder, golden

#[test]
fn builder_golden_spans_links_breaks() {
    let html = build(|b| {
        b.text("OMG, ")?
            .styled("I'm", Style::new().italic())?
            .text(" ")?
            .styled(
                "green",
                Style::new()
                    .color(Color::rgb(0, 128, 0))
                    .family(FontFamily::named("Comic Sans MS").unwrap())
                    .family(FontFamily::Generic(GenericFamily::Cursive)),
            )?
            .line_break()?
            .open_span(Style::new().bold().underline())?
            .text("see ")?
            .link("https://example.com/a b?x=1&y='2'", "this")?
            .end()?;
        Ok(())
    });
    assert_eq!(
        html.to_element().to_string(),
        "<html xmlns='http://jabber.org/protocol/xhtml-im'>\
         <body xmlns='http://www.w3.org/1999/xhtml'>OMG, \
         <span style='font-style:italic'>I'm</span> \
         <span style='color:#008000;font-family:\"Comic Sans MS\",cursive'>green</span><br/>\
         <span style='font-weight:bold;text-decoration:underline'>see \
         <a href='https://example.com/a%20b?x=1&amp;y=&apos;2&apos;'>this</a></span>\
         </body></html>"
    );
    assert_eq!(
        html.plain_text(),
        "OMG, I'm green\nsee this <https://example.com/a%20b?x=1&y='2'>"
    );
}

#[test]
fn builder_golden_blocks_lists_images() {
    let mut b = HtmlBuilder::new();
    b.lang("en").unwrap();
    b.body_style(Style::new().size(FontSize::Keyword(SizeKeyword::Large)))
        .unwrap();
    b.open_paragraph(Style::new().align(TextAlign::Center))
        .unwrap()
        .text("Plan:")
        .unwrap()
        .end()
        .unwrap()
        .open_list(true, Style::new())
        .unwrap()
        .open_item(Style::new())
        .unwrap()
        .text("one")
        .unwrap()
        .open_list(
            false,
            Style::new().indent(Length::new(150, Unit::Em).unwrap()),
        )
        .unwrap()
        .open_item(Style::new())
        .unwrap()
        .text("nested")
        .unwrap()
        .end()
        .unwrap()
        .end()
        .unwrap()
        .end()
        .unwrap()
        .open_item(Style::new().background(Color::rgb(255, 255, 0)))
        .unwrap()
        .image(
            Image::new("https://example.com/i.png", "a picture")
                .unwrap()
                .with_size(NonZeroU16::new(20), NonZeroU16::new(10)),
        )
        .unwrap()
        .end()
        .unwrap()
        .end()
        .unwrap()
        .open_quote(Style::new())
        .unwrap()
        .text("quoted\nlines")
        .unwrap()
        .end()
        .unwrap()
        .link("xmpp:romeo@example.net", "romeo@example.net")
        .unwrap();
    let html = b.build().unwrap();
    assert_eq!(
        html.to_element().to_string(),
        "<html xmlns='http://jabber.org/protocol/xhtml-im'>\
         <body xmlns='http://www.w3.org/1999/xhtml' xml:lang='en' style='font-size:large'>\
         <p style='text-align:center'>Plan:</p>\
         <ol><li>one<ul style='margin-left:1.5em'><li>nested</li></ul></li>\
         <li style='background-color:#ffff00'>\
         <img src='https://example.com/i.png' alt='a picture' width='20' height='10'/></li></ol>\
         <blockquote>quoted\nlines</blockquote>\
         <a href='xmpp:romeo@example.net'>romeo@example.net</a></body></html>"
    );
    assert_eq!(
        html.plain_text(),
        "Plan:\n1. one\n   - nested\n2. a picture\n> quoted\n> lines\nromeo@example.net"
    );
}

#[test]
fn overlapping_style_ranges_come_out_strictly_nested() {
    // The cheat sheet's <b><i>wow!</b></i>: bold and italic overlapping.
    let mut b = HtmlBuilder::new();
    b.text("Say ")
        .unwrap()
        .styled_ranges(
            "wow! no\nway",
            &[
                (0..3, Style::new().bold()),
                (2..7, Style::new().italic()),
                (3..7, Style::new().bold().color(Color::rgb(255, 0, 0))),
                (9..9, Style::new().underline()),
            ],
        )
        .unwrap();
    let html = b.build().unwrap();
    assert_eq!(
        html.to_element().to_string(),
        format!(
            "{WRAP}{BODY}Say <span style='font-weight:bold'>wo</span>\
             <span style='font-style:italic;font-weight:bold'>w</span>\
             <span style='color:#ff0000;font-style:italic;font-weight:bold'>! no</span>\
             <br/>way</body></html>"
        )
    );
    assert_eq!(html.plain_text(), "Say wow! no\nway");
    // Out of bounds, inside a character, backwards: refused whole.
    let mut b = HtmlBuilder::new();
    #[allow(clippy::reversed_empty_ranges)] // a backwards range is one of the cases
    let bad_ranges = [0..9, 1..2, 2..1];
    for bad in bad_ranges {
        assert_eq!(
            b.styled_ranges("é!", &[(bad, Style::new().bold())])
                .unwrap_err(),
            XhtmlError::BadRange
        );
    }
    assert_eq!(b.build().unwrap().body().unwrap().nodes(), &[]);
    // Refused whole when it does not fit either.
    let mut limits = XhtmlLimits::default();
    limits.max_nodes = 3;
    let mut b = HtmlBuilder::with_limits(limits);
    b.text("x").unwrap();
    let two_spans_and_text = [(0..1, Style::new().bold()), (1..2, Style::new().italic())];
    assert_eq!(
        b.styled_ranges("abc", &two_spans_and_text).unwrap_err(),
        XhtmlError::TooLarge
    );
    // Unstyled text merges with the text before it: one node only.
    b.styled_ranges("y\nz", &[]).unwrap();
    assert_eq!(
        b.build().unwrap().body().unwrap().nodes(),
        &[Node::Text("xy".into()), Node::Break, Node::Text("z".into())]
    );
}

#[test]
fn message_carries_plain_body_and_html() {
    let html = build(|b| {
        b.text("a ")?.styled("b", Style::new().bold())?;
        Ok(())
    });
    let to = Jid::parse("juliet@example.com").unwrap();
    let m = html.message(MessageType::Chat, &to).unwrap();
    assert_eq!(
        m.element().to_string(),
        "<message xmlns='jabber:client' to='juliet@example.com' type='chat'>\
         <body>a b</body>\
         <html xmlns='http://jabber.org/protocol/xhtml-im'>\
         <body xmlns='http://www.w3.org/1999/xhtml'>a \
         <span style='font-weight:bold'>b</span></body></html></message>"
    );
    let read = m.html().unwrap();
    assert_eq!(read.html, html);
    assert!(read.removed.is_empty());
}

#[test]
fn message_html_reads_a_received_stanza() {
    let el = parse(
        "<message from='romeo@example.net/orchard' type='chat'><body>Hi</body>\
         <html xmlns='http://jabber.org/protocol/xhtml-im'>\
         <body xmlns='http://www.w3.org/1999/xhtml'><b onclick='x()'>Hi</b></body></html>\
         </message>",
    );
    let Ok(Stanza::Message(m)) = Stanza::try_from(el) else {
        panic!("a message");
    };
    let s = m.html().unwrap();
    assert_eq!(s.removed.attributes, 1);
    let [Node::Span(span)] = s.html.body().unwrap().nodes() else {
        panic!("{:?}", s.html);
    };
    assert_eq!(span.style(), &Style::new().bold());
    assert_eq!(span.children(), &[Node::Text("Hi".into())]);
    // A message without XHTML-IM has none.
    let plain = Message::new(MessageType::Chat, &Jid::parse("a@b").unwrap(), "x").unwrap();
    assert_eq!(plain.html(), None);
}

// ---------------------------------------------------------------- builder, refusals

fn small_text() -> XhtmlLimits {
    let mut l = XhtmlLimits::default();
    l.max_text_bytes = 3;
    l
}

#[test]
fn builder_refuses_what_xhtml_im_cannot_carry() {
    let err = |f: &dyn Fn(&mut HtmlBuilder) -> Result<(), XhtmlError>| {
        let mut b = HtmlBuilder::new();
        f(&mut b).and_then(|()| b.build().map(drop)).unwrap_err()
    };
    let s = Style::new;
    assert_eq!(
        err(&|b| b.open_span(s())?.open_paragraph(s()).map(drop)),
        XhtmlError::BlockInInline
    );
    assert_eq!(
        err(&|b| b.open_paragraph(s())?.open_list(false, s()).map(drop)),
        XhtmlError::BlockInInline
    );
    assert_eq!(
        err(&|b| b.open_link("http://a/", s())?.open_quote(s()).map(drop)),
        XhtmlError::BlockInInline
    );
    assert_eq!(err(&|b| b.open_item(s()).map(drop)), XhtmlError::NotInList);
    assert_eq!(
        err(&|b| b.open_list(true, s())?.text("x").map(drop)),
        XhtmlError::OutsideItem
    );
    assert_eq!(
        err(&|b| b.open_list(true, s())?.line_break().map(drop)),
        XhtmlError::OutsideItem
    );
    assert_eq!(
        err(&|b| b
            .open_link("http://a/", s())?
            .link("http://b/", "x")
            .map(drop)),
        XhtmlError::NestedLink
    );
    assert_eq!(
        err(&|b| b
            .open_link("http://a/", s())?
            .open_span(s())?
            .open_link("http://b/", s())
            .map(drop)),
        XhtmlError::NestedLink
    );
    assert_eq!(err(&|b| b.end().map(drop)), XhtmlError::NothingOpen);
    assert_eq!(err(&|b| b.open_span(s()).map(drop)), XhtmlError::Unclosed);
    for bad in [
        "javascript:alert(1)",
        " JAVASCRIPT:alert(1)",
        "java\tscript:x",
        "data:text/html,x",
        "vbscript:x",
        "file:///etc/passwd",
        "/relative",
    ] {
        assert_eq!(
            err(&|b| b.link(bad, "x").map(drop)),
            XhtmlError::UnsafeUri,
            "{bad:?}"
        );
    }
    assert_eq!(
        Image::new("javascript:alert(1)", "x").unwrap_err(),
        XhtmlError::UnsafeUri
    );
    assert_eq!(
        Image::new("xmpp:a@b", "x").unwrap_err(),
        XhtmlError::UnsafeUri
    );
    assert_eq!(
        err(&|b| b.text("bell\u{7}").map(drop)),
        XhtmlError::ForbiddenChar { ch: '\u{7}' }
    );
    assert_eq!(err(&|b| b.lang("en us").map(drop)), XhtmlError::InvalidLang);
    let mut many = Style::new();
    for _ in 0..9 {
        many = many.family(FontFamily::Generic(GenericFamily::Serif));
    }
    assert_eq!(
        err(&|b| b.styled("x", many.clone()).map(drop)),
        XhtmlError::InvalidStyle
    );
    assert_eq!(
        err(&|b| {
            for _ in 0..16 {
                b.open_span(s())?;
            }
            b.open_span(s()).map(drop)
        }),
        XhtmlError::TooDeep
    );
    // A list needs a level for its items as well.
    assert_eq!(
        err(&|b| {
            for _ in 0..15 {
                b.open_quote(s())?;
            }
            b.open_list(false, s()).map(drop)
        }),
        XhtmlError::TooDeep
    );
    let mut small = XhtmlLimits::default();
    small.max_nodes = 2;
    small.max_text_bytes = 3;
    let mut b = HtmlBuilder::with_limits(small);
    // Merged text is no new node.
    b.text("a")
        .unwrap()
        .text("b")
        .unwrap()
        .line_break()
        .unwrap();
    assert_eq!(b.line_break().unwrap_err(), XhtmlError::TooLarge);
    assert_eq!(b.text("c").unwrap_err(), XhtmlError::TooLarge);
    let mut b = HtmlBuilder::with_limits(small_text());
    assert_eq!(b.text("abcd").unwrap_err(), XhtmlError::TooLarge);
    assert_eq!(FontFamily::named("x'; background:url(x)"), None);
    assert_eq!(FontFamily::named("serif"), None);
    assert_eq!(Html::new(vec![]).unwrap_err(), XhtmlError::NoBody);
    let body = || HtmlBuilder::new().build_body().unwrap();
    assert_eq!(
        Html::new(vec![body(), body()]).unwrap_err(),
        XhtmlError::DuplicateLang
    );
}

#[test]
fn a_refused_step_leaves_the_builder_as_it_was() {
    let mut b = HtmlBuilder::new();
    b.text("a").unwrap();
    b.link("javascript:x", "evil").unwrap_err();
    b.open_item(Style::new()).unwrap_err();
    b.end().unwrap_err();
    b.text("b").unwrap();
    assert_eq!(
        b.build().unwrap().to_element().to_string(),
        format!("{WRAP}{BODY}ab</body></html>")
    );
}

// ---------------------------------------------------------------- sanitiser, catalogue

#[test]
fn legacy_formatting_becomes_styles() {
    assert_eq!(
        clean("<b>bold</b> <I>it</I> <u>u</u> <strong>s</strong> <em>e</em> <s>x</s>"),
        "<span style='font-weight:bold'>bold</span> <span style='font-style:italic'>it</span> \
         <span style='text-decoration:underline'>u</span> \
         <span style='font-weight:bold'>s</span> <span style='font-style:italic'>e</span> \
         <span style='text-decoration:line-through'>x</span>"
    );
    assert_eq!(
        clean("<FONT COLOR='#FF0000' face='Arial, Helvetica, sans-serif' size='5'>big red</FONT>"),
        "<span style='color:#ff0000;font-family:\"Arial\",\"Helvetica\",sans-serif;\
         font-size:x-large'>big red</span>"
    );
    assert_eq!(
        clean("<font color='00ff00' size='+1'>g</font><code>c</code>"),
        "<span style='color:#00ff00;font-size:larger'>g</span>\
         <span style='font-family:monospace'>c</span>"
    );
    // The element's own style wins over what its name means.
    assert_eq!(
        clean("<b style='font-weight: normal; color: blue'>n</b>"),
        "<span style='color:#0000ff;font-weight:normal'>n</span>"
    );
    // Unknown and unsupported structure keeps its text.
    assert_eq!(
        clean("<table><tr><td>cell</td></tr></table><h1>Title</h1><div>d</div>"),
        "cell<p style='font-weight:bold'>Title</p><p>d</p>"
    );
    // Markup in no namespace (a client that forgot XHTML's) is still read.
    let s = sanitize(
        "<html xmlns='http://jabber.org/protocol/xhtml-im'><body><p xmlns=''>x<b>y</b></p></body></html>",
    );
    assert_eq!(
        s.html.to_element().to_string(),
        format!("{WRAP}{BODY}<p>x<span style='font-weight:bold'>y</span></p></body></html>")
    );
}

#[test]
fn content_model_is_restored() {
    // Blocks inside inline content lose their structure, not their text.
    assert_eq!(clean("<span>a<p>b</p>c</span>"), "<span>abc</span>");
    assert_eq!(clean("<p>a<p>b</p></p>"), "<p>ab</p>");
    // Links do not nest.
    assert_eq!(
        clean("<a href='http://a/'>x<a href='http://b/'>y</a></a>"),
        "<a href='http://a/'>xy</a>"
    );
    // Stray list content gets an item; white space between items goes.
    assert_eq!(
        clean("<ul>\n  <li>a</li>\n  stray<b>!</b>\n<li>b</li></ul>"),
        "<ul><li>a</li><li>\n  stray<span style='font-weight:bold'>!</span>\n</li><li>b</li></ul>"
    );
    // An item outside a list is a paragraph.
    assert_eq!(clean("<li>x</li>"), "<p>x</p>");
}

#[test]
fn hostile_elements_are_dropped_with_their_content() {
    let cases: &[(&str, &str)] = &[
        ("<script>alert(1)</script>ok", "ok"),
        ("<SCRIPT>alert(1)</SCRIPT>ok", "ok"),
        ("<ScRiPt>alert(1)</ScRiPt>ok", "ok"),
        (
            "<b><script>alert(1)</script>ok</b>",
            "<span style='font-weight:bold'>ok</span>",
        ),
        ("<script><script>alert(1)</script></script>ok", "ok"),
        (
            "<style>body{background:url(javascript:alert(1))}</style>ok",
            "ok",
        ),
        (
            "<iframe src='javascript:alert(1)'>fallback</iframe>ok",
            "ok",
        ),
        (
            "<object data='x.swf'><param name='a' value='b'/>alt</object>ok",
            "ok",
        ),
        ("<embed src='x.swf'/>ok", "ok"),
        ("<applet code='X'>a</applet>ok", "ok"),
        ("<noscript>n</noscript>ok", "ok"),
        ("<template><img src='http://x/'/></template>ok", "ok"),
        (
            "<form><input value='x'/><textarea>t</textarea><button>b</button>f</form>",
            "f",
        ),
        (
            "<meta http-equiv='refresh' content='0;url=javascript:x'/>ok",
            "ok",
        ),
        ("<link rel='stylesheet' href='http://evil/'/>ok", "ok"),
        ("<base href='javascript:x'/>ok", "ok"),
        ("<head><title>t</title></head>ok", "ok"),
        (
            "<svg><script>alert(1)</script><a href='javascript:x'>s</a></svg>ok",
            "ok",
        ),
        (
            "<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'><text>s</text></svg>ok",
            "ok",
        ),
        (
            "<math><mi xlink:href='javascript:x' xmlns:xlink='http://www.w3.org/1999/xlink'>m</mi></math>ok",
            "ok",
        ),
        (
            "<x:script xmlns:x='http://www.w3.org/1999/xhtml'>alert(1)</x:script>ok",
            "ok",
        ),
        ("<foreign xmlns='urn:evil'><p>hidden</p></foreign>ok", "ok"),
        ("<video><source src='x'/>v</video><audio>a</audio>ok", "ok"),
        ("<xmp><script>x</script></xmp>ok", "ok"),
    ];
    for (input, want) in cases {
        let s = sanitize_body(input);
        assert!(s.removed.elements >= 1, "{input}: {:?}", s.removed);
        assert_eq!(&clean(input), want, "{input}");
    }
}

#[test]
fn event_handlers_and_unknown_attributes_are_ignored() {
    let s = sanitize_body(
        "<p onclick='alert(1)' ONMOUSEOVER='x' class='c' id='i' title='t'>a</p>\
         <img src='http://x/i.png' alt='i' onerror='alert(1)'/>\
         <body onload='alert(1)'>b</body><br onfocus='x' style='color:red'/>\
         <a href='http://a/' target='_blank' rel='opener' ping='http://t/'>l</a>\
         <span xmlns:x='urn:x' x:style='y' style='color:red'>c</span>",
    );
    // (xmlns:x declares a namespace: it is no attribute.)
    assert_eq!(s.removed.attributes, 13);
    assert_eq!(
        s.html.to_element().to_string(),
        format!(
            "{WRAP}{BODY}<p>a</p><img src='http://x/i.png' alt='i'/>b<br/>\
             <a href='http://a/'>l</a><span style='color:#ff0000'>c</span></body></html>"
        )
    );
}

#[test]
fn unsafe_links_lose_their_target_not_their_text() {
    let cases = [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "  javascript:alert(1)",
        "&#106;avascript:alert(1)",
        "&#x6A;&#x61;&#x76;&#x61;script:alert(1)",
        "java&#9;script:alert(1)",
        "java&#x0A;script:alert(1)",
        "java&#13;script:alert(1)",
        "&#x7F;javascript:alert(1)",
        "javascript&#x7F;:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "vbscript:msgbox(1)",
        "VBSCRIPT:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        " DATA:text/html,x",
        "livescript:x",
        "file:///etc/passwd",
        "//evil.example/",
        "\\\\evil\\share",
        "",
    ];
    for href in cases {
        let s = sanitize_body(&format!("<a href='{href}' style='color:red'>click</a>"));
        assert_eq!(s.removed.links, 1, "{href}");
        assert_eq!(
            s.html.body().unwrap().nodes(),
            &[Node::Text("click".into())],
            "{href}"
        );
    }
    // Allowed schemes, in any case, come out canonical.
    assert_eq!(
        clean("<a href=' HTTPS://example.com/a b&#10;c '>x</a><a href='MAILTO:a@b'>m</a>"),
        "<a href='https://example.com/a%20bc'>x</a><a href='mailto:a@b'>m</a>"
    );
    // Images: the same, plus no xmpp:/mailto:; the alt text stays.
    assert_eq!(
        clean(
            "<img src='javascript:alert(1)' alt='pic'/><img src='data:image/png;base64,AA' alt='d'/>\
               <img src='xmpp:a@b' alt=''/><img src='cid:sha1+ab@bob.xmpp.org' alt='c' width='0' height='12px'/>"
        ),
        "picd<img src='cid:sha1+ab@bob.xmpp.org' alt='c' height='12'/>"
    );
}

#[test]
fn hostile_styles_are_dropped_declaration_by_declaration() {
    let cases: &[(&str, &str)] = &[
        ("color: expression(alert(1))", ""),
        ("background-color: url(javascript:alert(1))", ""),
        ("background: url(javascript:alert(1))", ""),
        ("background-image: url(http://evil/track.png)", ""),
        ("behavior: url(x.htc); -moz-binding: url(x.xml#x)", ""),
        ("width: expression(alert(1)); color: red", "color:#ff0000"),
        ("col\\6f r: red", ""),
        ("color: r\\65 d", ""),
        ("color/**/: red", ""),
        (
            "font-family: x; color: red}</style><script>x</script>",
            "font-family:\"x\"",
        ),
        ("font-family: 'a;b'", ""),
        ("font-family: \"x\\\"y\"", ""),
        ("position: fixed; top: 0; left: 0; z-index: 9999", ""),
        ("margin-left: -9999px", ""),
        ("font-size: 99999px", ""),
        ("font-weight: 950", ""),
        (
            "COLOR: RED !important; Text-Decoration: blink underline",
            "color:#ff0000;text-decoration:underline",
        ),
    ];
    for (css, want) in cases {
        let css_attr = css.replace('\'', "&apos;").replace('<', "&lt;");
        let input = format!("<span style='{css_attr}'>x</span>");
        let s = sanitize_body(&input);
        let [Node::Span(span)] = s.html.body().unwrap().nodes() else {
            panic!("{css}: {:?}", s.html);
        };
        assert_eq!(&span.style().to_string(), want, "{css}");
    }
}

#[test]
fn deep_nesting_is_flattened_without_recursion() {
    let depth = 50_000;
    let mut xml = format!("{WRAP}{BODY}");
    for i in 0..depth {
        xml.push_str(if i % 2 == 0 { "<blockquote>" } else { "<span>" });
    }
    xml.push_str("deep");
    for i in (0..depth).rev() {
        xml.push_str(if i % 2 == 0 {
            "</blockquote>"
        } else {
            "</span>"
        });
    }
    xml.push_str("</body></html>");
    let mut limits = Limits::default();
    limits.max_depth = depth as u32 + 10;
    let el = parse_with(&xml, limits);
    let s = Html::from_element(el.root(), &XhtmlLimits::default()).unwrap();
    // A quote, then spans (a quote inside a span loses its structure, not its content)
    // up to 16 levels, then the text.
    let [Node::Quote(quote)] = s.html.body().unwrap().nodes() else {
        panic!("a quote first");
    };
    let mut nodes = quote.children();
    let mut levels = 1;
    while let [Node::Span(c)] = nodes {
        nodes = c.children();
        levels += 1;
    }
    assert_eq!(levels, 16);
    assert_eq!(nodes, &[Node::Text("deep".into())]);
    oracle::check(s.html.to_element().root()).unwrap();

    // Spans only: exactly max_depth of them survive.
    let spans = format!(
        "{WRAP}{BODY}{}x{}</body></html>",
        "<b>".repeat(depth),
        "</b>".repeat(depth)
    );
    let el = parse_with(&spans, {
        let mut l = Limits::default();
        l.max_depth = depth as u32 + 10;
        l
    });
    let s = Html::from_element(el.root(), &XhtmlLimits::default()).unwrap();
    let mut nodes = s.html.body().unwrap().nodes();
    let mut levels = 0;
    while let [Node::Span(c)] = nodes {
        nodes = c.children();
        levels += 1;
    }
    assert_eq!(levels, 16);
    assert_eq!(nodes, &[Node::Text("x".into())]);
}

#[test]
fn size_limits_truncate_and_say_so() {
    let mut limits = XhtmlLimits::default();
    limits.max_nodes = 5;
    limits.max_text_bytes = 8;
    let el = parse(&format!(
        "{WRAP}{BODY}{}</body></html>",
        "<br/>".repeat(100)
    ));
    let s = Html::from_element(el.root(), &limits).unwrap();
    assert_eq!(s.html.body().unwrap().nodes().len(), 5);
    assert!(s.removed.truncated);
    let el = parse(&format!("{WRAP}{BODY}<p>éééé</p><p>more</p></body></html>"));
    let s = Html::from_element(el.root(), &limits).unwrap();
    assert!(s.removed.truncated);
    assert_eq!(s.html.plain_text(), "éééé");
    let el = parse(&format!("{WRAP}{BODY}<p>abcdefghé</p></body></html>"));
    let s = Html::from_element(el.root(), &limits).unwrap();
    assert_eq!(s.html.plain_text(), "abcdefgh");
}

#[test]
fn wrapper_shapes() {
    let not = parse("<html xmlns='urn:other'/>");
    assert!(Html::from_element(not.root(), &XhtmlLimits::default()).is_err());
    // Several bodies keep their languages; junk beside them goes.
    let s = sanitize(&format!(
        "{WRAP}<body xmlns='http://www.w3.org/1999/xhtml' xml:lang='en'>hi</body>\
         <body xmlns='http://www.w3.org/1999/xhtml' xml:lang='de'>hallo</body>\
         <script xmlns='http://www.w3.org/1999/xhtml'>x</script></html>"
    ));
    let langs: Vec<_> = s.html.bodies().iter().map(|b| b.lang()).collect();
    assert_eq!(langs, [Some("en"), Some("de")]);
    assert_eq!(s.removed.elements, 1);
    // One body per language, at most MAX_BODIES; each body has a budget of its own.
    let mut xml = WRAP.to_string();
    let langs: Vec<String> = ["en", "en", "de"]
        .into_iter()
        .map(String::from)
        .chain((0..20).map(|i| format!("l{i}")))
        .collect();
    for lang in &langs {
        xml.push_str(&format!(
            "<body xmlns='http://www.w3.org/1999/xhtml' xml:lang='{lang}'><br/></body>"
        ));
    }
    xml.push_str(
        "<body xmlns='http://www.w3.org/1999/xhtml'/><body xmlns='http://www.w3.org/1999/xhtml'>x</body></html>",
    );
    let el = parse(&xml);
    let mut one = XhtmlLimits::default();
    one.max_nodes = 1;
    let s = Html::from_element(el.root(), &one).unwrap();
    let got: Vec<_> = s.html.bodies().iter().map(|b| b.lang().unwrap()).collect();
    let want: Vec<_> = ["en", "de"]
        .into_iter()
        .chain(langs[3..17].iter().map(String::as_str))
        .collect();
    assert_eq!(got, want);
    assert_eq!(s.html.bodies().len(), 16);
    // The repeated "en", six bodies beyond 16, the two without a language.
    assert_eq!(s.removed.elements, 1 + 6 + 2);
    assert!(!s.removed.truncated);
    assert_eq!(
        Html::new(
            (0..17)
                .map(|_| HtmlBuilder::new().build_body().unwrap())
                .collect()
        )
        .unwrap_err(),
        XhtmlError::TooLarge
    );
    // Content straight in the wrapper (no body) is read as one body.
    let s = sanitize(&format!(
        "{WRAP}<p xmlns='http://www.w3.org/1999/xhtml'>x</p></html>"
    ));
    assert_eq!(s.html.plain_text(), "x");
    assert_eq!(s.removed, Removed::default());
}

// ---------------------------------------------------------------- properties

/// A tree the builder is asked to make; steps it refuses are skipped.
#[derive(Clone, Debug)]
enum Spec {
    Text(String),
    Break,
    Image(String, String, Option<u16>),
    Span(Style, Vec<Spec>),
    Paragraph(Style, Vec<Spec>),
    Quote(Style, Vec<Spec>),
    Link(String, Style, Vec<Spec>),
    List(bool, Style, Vec<(Style, Vec<Spec>)>),
    Ranges(String, Vec<(usize, usize, Style)>),
}

fn feed(b: &mut HtmlBuilder, spec: &Spec) {
    let children = |b: &mut HtmlBuilder, kids: &[Spec]| {
        for k in kids {
            feed(b, k);
        }
        b.end().expect("closes what it opened");
    };
    match spec {
        Spec::Text(t) => drop(b.text(t)),
        Spec::Ranges(t, ranges) => {
            // Cut positions taken modulo the length, moved back to character boundaries.
            let at = |i: usize| {
                let mut i = i % (t.len() + 1);
                while !t.is_char_boundary(i) {
                    i -= 1;
                }
                i
            };
            let ranges: Vec<_> = ranges
                .iter()
                .map(|(a, z, s)| {
                    let (a, z) = (at(*a), at(*z));
                    (a.min(z)..a.max(z), s.clone())
                })
                .collect();
            drop(b.styled_ranges(t, &ranges));
        }
        Spec::Break => drop(b.line_break()),
        Spec::Image(src, alt, w) => {
            if let Ok(i) = Image::new(src, alt) {
                drop(b.image(i.with_size(w.and_then(NonZeroU16::new), None)));
            }
        }
        Spec::Span(s, kids) => {
            if b.open_span(s.clone()).is_ok() {
                children(b, kids);
            }
        }
        Spec::Paragraph(s, kids) => {
            if b.open_paragraph(s.clone()).is_ok() {
                children(b, kids);
            }
        }
        Spec::Quote(s, kids) => {
            if b.open_quote(s.clone()).is_ok() {
                children(b, kids);
            }
        }
        Spec::Link(href, s, kids) => {
            if b.open_link(href, s.clone()).is_ok() {
                children(b, kids);
            }
        }
        Spec::List(ordered, s, items) => {
            if b.open_list(*ordered, s.clone()).is_ok() {
                for (is, kids) in items {
                    if b.open_item(is.clone()).is_ok() {
                        children(b, kids);
                    }
                }
                b.end().expect("closes the list");
            }
        }
    }
}

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        "[a-z ]{1,8}",
        "[ \t\n\r]{1,3}",
        "[<>&'\"]{1,3}",
        "\\PC{1,6}",
        Just("]]>".to_string()),
    ]
    .boxed()
}

fn color() -> BoxedStrategy<Color> {
    any::<(u8, u8, u8)>()
        .prop_map(|(r, g, b)| Color::rgb(r, g, b))
        .boxed()
}

fn length() -> BoxedStrategy<Length> {
    let units = prop::sample::select(vec![
        Unit::Px,
        Unit::Pt,
        Unit::Pc,
        Unit::Em,
        Unit::Ex,
        Unit::Mm,
        Unit::Cm,
        Unit::In,
        Unit::Percent,
    ]);
    (0u32..=100_000, units)
        .prop_map(|(h, u)| Length::new(h, u).expect("in range"))
        .boxed()
}

fn style() -> BoxedStrategy<Style> {
    use jabber_proto::stanza::xhtml::{FontStyle, FontWeight, TextDecoration};
    let family = prop_oneof![
        prop::sample::select(vec![
            GenericFamily::Serif,
            GenericFamily::SansSerif,
            GenericFamily::Monospace,
            GenericFamily::Cursive,
            GenericFamily::Fantasy,
        ])
        .prop_map(FontFamily::Generic),
        "[A-Za-z][A-Za-z0-9_-]{0,6}( [A-Za-z0-9]{1,5})?"
            .prop_filter_map("a family name", |n| FontFamily::named(&n)),
    ];
    let size = prop_oneof![
        prop::sample::select(vec![
            SizeKeyword::XxSmall,
            SizeKeyword::Small,
            SizeKeyword::Medium,
            SizeKeyword::XxLarge,
            SizeKeyword::Larger,
            SizeKeyword::Smaller,
        ])
        .prop_map(FontSize::Keyword),
        length().prop_map(FontSize::Length),
    ];
    let weight = prop_oneof![
        Just(FontWeight::Normal),
        Just(FontWeight::Bold),
        Just(FontWeight::Bolder),
        Just(FontWeight::Lighter),
        (1u8..=9).prop_map(FontWeight::Hundreds),
    ];
    let fstyle = prop::sample::select(vec![
        FontStyle::Normal,
        FontStyle::Italic,
        FontStyle::Oblique,
    ]);
    let align = prop::sample::select(vec![
        TextAlign::Left,
        TextAlign::Right,
        TextAlign::Center,
        TextAlign::Justify,
    ]);
    let deco = any::<(bool, bool, bool)>().prop_map(|(u, o, l)| TextDecoration {
        underline: u,
        overline: o,
        line_through: l,
    });
    (
        (
            prop::option::weighted(0.2, color()),
            prop::option::weighted(0.1, color()),
            prop::collection::vec(family, 0..3),
            prop::option::weighted(0.2, size),
            prop::option::weighted(0.2, fstyle),
        ),
        (
            prop::option::weighted(0.2, weight),
            prop::option::weighted(0.1, length()),
            prop::option::weighted(0.1, length()),
            prop::option::weighted(0.1, align),
            prop::option::weighted(0.2, deco),
        ),
    )
        .prop_map(|((c, bg, fam, size, fs), (fw, ml, mr, ta, td))| {
            let mut s = Style::new();
            s.color = c;
            s.background_color = bg;
            s.font_family = fam;
            s.font_size = size;
            s.font_style = fs;
            s.font_weight = fw;
            s.margin_left = ml;
            s.margin_right = mr;
            s.text_align = ta;
            s.text_decoration = td;
            s
        })
        .boxed()
}

fn uri() -> BoxedStrategy<String> {
    (
        prop::sample::select(vec![
            "http:",
            "HTTPS:",
            "xmpp:",
            "mailto:",
            "cid:",
            "javascript:",
        ]),
        "[a-z/?#%&=.@ é'<>\"]{0,12}",
    )
        .prop_map(|(s, rest)| format!("{s}{rest}"))
        .boxed()
}

fn spec() -> BoxedStrategy<Spec> {
    let leaf = prop_oneof![
        4 => text().prop_map(Spec::Text),
        1 => ("[a-z \n]{0,12}|\\PC{0,6}", prop::collection::vec((0usize..20, 0usize..20, style()), 0..4))
            .prop_map(|(t, r)| Spec::Ranges(t, r)),
        1 => Just(Spec::Break),
        1 => (uri(), text(), prop::option::of(0u16..3000)).prop_map(|(s, a, w)| Spec::Image(s, a, w)),
    ];
    leaf.prop_recursive(6, 48, 4, |inner| {
        let kids = prop::collection::vec(inner, 0..4);
        prop_oneof![
            (style(), kids.clone()).prop_map(|(s, k)| Spec::Span(s, k)),
            (style(), kids.clone()).prop_map(|(s, k)| Spec::Paragraph(s, k)),
            (style(), kids.clone()).prop_map(|(s, k)| Spec::Quote(s, k)),
            (uri(), style(), kids.clone()).prop_map(|(u, s, k)| Spec::Link(u, s, k)),
            (
                any::<bool>(),
                style(),
                prop::collection::vec((style(), kids), 0..3)
            )
                .prop_map(|(o, s, items)| Spec::List(o, s, items)),
        ]
    })
    .boxed()
}

/// Arbitrary markup: known, legacy, hostile and foreign elements and attributes, in any
/// case, nested anyhow.
#[derive(Clone, Debug)]
enum Raw {
    Text(String),
    El(String, Option<String>, Vec<(String, String)>, Vec<Raw>),
}

fn write_raw(out: &mut String, r: &Raw) {
    match r {
        Raw::Text(t) => out.push_str(&escape(t)),
        Raw::El(name, ns, attrs, kids) => {
            out.push('<');
            out.push_str(name);
            if let Some(ns) = ns {
                out.push_str(&format!(" xmlns='{ns}'"));
            }
            let mut seen = Vec::new();
            for (k, v) in attrs {
                if seen.contains(k) {
                    continue;
                }
                seen.push(k.clone());
                out.push_str(&format!(" {k}='{}'", escape(v)));
            }
            out.push('>');
            for k in kids {
                write_raw(out, k);
            }
            out.push_str(&format!("</{name}>"));
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('\'', "&apos;")
}

fn raw() -> BoxedStrategy<Raw> {
    let names = prop::sample::select(vec![
        "p",
        "P",
        "span",
        "b",
        "I",
        "u",
        "font",
        "FONT",
        "a",
        "A",
        "img",
        "br",
        "ul",
        "ol",
        "li",
        "blockquote",
        "div",
        "h1",
        "table",
        "td",
        "script",
        "SCRIPT",
        "style",
        "iframe",
        "object",
        "embed",
        "svg",
        "math",
        "body",
        "html",
        "head",
        "title",
        "form",
        "input",
        "textarea",
        "noscript",
        "template",
        "xmp",
        "code",
        "em",
        "strong",
        "center",
        "marquee",
        "foo",
    ]);
    let attr_names = prop::sample::select(vec![
        "style",
        "STYLE",
        "href",
        "HREF",
        "src",
        "alt",
        "width",
        "height",
        "color",
        "face",
        "size",
        "onclick",
        "onload",
        "OnError",
        "onmouseover",
        "class",
        "id",
        "title",
        "target",
        "lang",
        "xmlns:x",
    ]);
    let values = prop_oneof![
        Just("javascript:alert(1)".to_string()),
        Just(" JaVaScRiPt:alert(1)".to_string()),
        Just("java\tscript:x".to_string()),
        Just("data:text/html,<script>x</script>".to_string()),
        Just("vbscript:x".to_string()),
        Just("http://example.com/x".to_string()),
        Just("xmpp:a@b".to_string()),
        Just("color: expression(alert(1))".to_string()),
        Just("background: url(javascript:x); color: red".to_string()),
        Just("font-family: 'a', serif; font-size: 12pt".to_string()),
        Just("-moz-binding: url(x); behavior: url(y)".to_string()),
        Just("#ff0000".to_string()),
        Just("urn:x".to_string()),
        "\\PC{0,8}",
    ];
    let namespaces = prop_oneof![
        8 => Just(None),
        1 => Just(Some("http://www.w3.org/1999/xhtml".to_string())),
        1 => Just(Some("http://www.w3.org/2000/svg".to_string())),
        1 => Just(Some("".to_string())),
    ];
    let leaf = prop_oneof!["\\PC{0,6}", "[<>&' ]{1,3}"].prop_map(Raw::Text);
    leaf.prop_recursive(8, 64, 5, move |inner| {
        (
            names.clone(),
            namespaces.clone(),
            prop::collection::vec((attr_names.clone(), values.clone()), 0..4),
            prop::collection::vec(inner, 0..5),
        )
            .prop_map(|(n, ns, attrs, kids)| {
                let attrs = attrs
                    .into_iter()
                    .filter(|(k, _)| *k != "xmlns:x")
                    .map(|(k, v)| (k.to_string(), v))
                    .collect();
                Raw::El(n.to_string(), ns, attrs, kids)
            })
    })
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn what_the_builder_makes_survives_the_wire(specs in prop::collection::vec(spec(), 0..5)) {
        let mut b = HtmlBuilder::new();
        for s in &specs {
            feed(&mut b, s);
        }
        let html = b.build().expect("everything opened was closed");
        let wire = html.to_element().to_string();
        let el = parse(&wire);
        let read = Html::from_element(el.root(), &XhtmlLimits::default()).unwrap();
        prop_assert_eq!(&read.html, &html, "{}", wire);
        prop_assert!(read.removed.is_empty(), "{:?}", read.removed);
        prop_assert!(oracle::check(el.root()).is_ok(), "{:?}", oracle::check(el.root()));
        // Through a message too.
        let m = html.message(MessageType::Chat, &Jid::parse("a@b").unwrap()).unwrap();
        let wire = m.element().to_string();
        let Ok(Stanza::Message(m)) = Stanza::try_from(parse(&wire)) else {
            panic!("a message");
        };
        prop_assert_eq!(m.html().map(|s| s.html), Some(html.clone()));
        prop_assert_eq!(m.body().as_deref().map(str::to_string), Some(html.plain_text()));
    }

    #[test]
    fn nothing_forbidden_comes_out(kids in prop::collection::vec(raw(), 0..6)) {
        let mut xml = format!("{WRAP}{BODY}");
        for k in &kids {
            write_raw(&mut xml, k);
        }
        xml.push_str("</body></html>");
        let el = parse(&xml);
        let s = Html::from_element(el.root(), &XhtmlLimits::default()).unwrap();
        let out = s.html.to_element();
        prop_assert!(oracle::check(out.root()).is_ok(), "{:?}\n{}\n{}", oracle::check(out.root()), xml, out);
        // And what comes out is a fixed point.
        let again = Html::from_element(parse(&out.to_string()).root(), &XhtmlLimits::default()).unwrap();
        prop_assert_eq!(&again.html, &s.html);
    }
}
