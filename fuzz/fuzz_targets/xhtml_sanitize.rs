//! The XHTML-IM sanitiser: whatever markup comes in, what comes out is safe XHTML-IM in
//! the recommended profile — no element, attribute, CSS property or URI scheme outside the
//! allow-lists, strict content model — as judged by the independent oracle the proptests
//! use (`crates/jabber-proto/tests/support/xhtml_oracle.rs`). Also: no panic, the output is
//! a fixed point (sanitising it again changes nothing), it stays within the limits, and its
//! plain text renders. Limits hold per body, and there are at most `MAX_BODIES`.
//!
//! Input: byte 0 chooses the limits (bits 0–3: `max_depth`; bits 4–7: `max_nodes` in
//! steps of 16, 0 meaning the default) and, through bit 0 of byte 1, the mode:
//! - 0: the rest is XML, parsed as the content of
//!   `<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>`
//!   (inputs that are not well-formed end at the parser);
//! - 1: the rest is a program building an element tree through `Element::builder`
//!   (always well-formed, so every input reaches the sanitiser): see `Ops`.
#![no_main]

#[path = "../../crates/jabber-proto/tests/support/xhtml_oracle.rs"]
mod oracle;

use jabber_proto::Limits;
use jabber_proto::stanza::xhtml::{Html, MAX_BODIES, Node, XhtmlLimits};
use jabber_proto::stream::{Item, StreamParser};
use jabber_proto::xml::{Element, ElementBuilder};
use libfuzzer_sys::fuzz_target;

const HEADER: &[u8] = b"<stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='example.com' version='1.0'>";
const OPEN: &[u8] = b"<html xmlns='http://jabber.org/protocol/xhtml-im'>\
    <body xmlns='http://www.w3.org/1999/xhtml'>";
const CLOSE: &[u8] = b"</body></html>";

const XHTML: &str = "http://www.w3.org/1999/xhtml";
const NAMES: &[&str] = &[
    "p",
    "span",
    "br",
    "a",
    "img",
    "ul",
    "ol",
    "li",
    "blockquote",
    "b",
    "i",
    "u",
    "font",
    "strong",
    "em",
    "div",
    "h1",
    "pre",
    "code",
    "center",
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
    "A",
    "IMG",
    "Font",
    "dl",
    "dt",
    "dd",
    "menu",
    "marquee",
    "x",
];
const NAMESPACES: &[&str] = &[
    XHTML,
    "",
    "http://jabber.org/protocol/xhtml-im",
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/1998/Math/MathML",
    "jabber:client",
];
const ATTRS: &[&str] = &[
    "style",
    "STYLE",
    "href",
    "HREF",
    "src",
    "SRC",
    "alt",
    "width",
    "height",
    "color",
    "face",
    "size",
    "onclick",
    "onload",
    "onerror",
    "OnMouseOver",
    "class",
    "id",
    "title",
    "lang",
    "target",
    "xmlns",
];
const VALUES: &[&str] = &[
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\u{7f}javascript:x",
    "vbscript:x",
    "data:text/html,<script>alert(1)</script>",
    "http://example.com/x",
    "HTTPS://example.com/a b",
    "xmpp:a@b",
    "mailto:a@b",
    "cid:sha1+x@bob.xmpp.org",
    "//evil",
    "color: expression(alert(1))",
    "background: url(javascript:x); color: red",
    "font-family: 'a', serif; font-size: 12pt; font-weight: 700",
    "margin-left: 5%; text-decoration: underline blink; text-align: center",
    "-moz-binding: url(x); behavior: url(y)",
    "color: r\\65 d",
    "#ff0000",
    "+1",
    "7",
    "Arial, sans-serif",
    "12px",
    "",
];

/// A little program over a byte string: each op byte picks an action (low 3 bits) and
/// an argument (the rest).
struct Ops<'a> {
    bytes: &'a [u8],
}

impl Ops<'_> {
    fn next(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(b)
    }

    fn pick<'t>(&mut self, table: &[&'t str]) -> &'t str {
        let i = self.next().map_or(0, usize::from);
        table[i % table.len()]
    }

    /// Text: either a value from the table or up to 8 raw bytes, lossily as UTF-8, with
    /// the characters XML cannot carry removed.
    fn text(&mut self) -> String {
        let n = self.next().unwrap_or(0);
        if n & 1 == 0 {
            return self.pick(VALUES).to_string();
        }
        let len = usize::from(n >> 5).min(self.bytes.len());
        let (raw, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        String::from_utf8_lossy(raw)
            .chars()
            .filter(|&c| jabber_proto::xml::chars::is_xml_char(c))
            .collect()
    }

    /// The tree, built as a stack of open builders.
    fn build(mut self) -> Option<Element> {
        let mut stack: Vec<ElementBuilder> = vec![Element::builder("body", XHTML)];
        while let Some(op) = self.next() {
            match op & 7 {
                0 | 1 if stack.len() < 200 => {
                    let name = self.pick(NAMES);
                    let ns = self.pick(NAMESPACES);
                    stack.push(Element::builder(name, ns));
                }
                2 | 3 => {
                    let t = self.text();
                    let top = stack.pop()?;
                    stack.push(top.text(&t));
                }
                4 => {
                    let name = self.pick(ATTRS);
                    let v = self.text();
                    let top = stack.pop()?;
                    // A refused attribute (duplicate, `xmlns`) fails the whole build;
                    // skip it instead.
                    let with = top.clone().attr(name, &v);
                    stack.push(if with.clone().build().is_ok() {
                        with
                    } else {
                        top
                    });
                }
                _ if stack.len() > 1 => {
                    let child = stack.pop()?;
                    let parent = stack.pop()?;
                    stack.push(parent.child(child));
                }
                _ => {}
            }
        }
        while stack.len() > 1 {
            let child = stack.pop()?;
            let parent = stack.pop()?;
            stack.push(parent.child(child));
        }
        let body = stack.pop()?.build().ok()?;
        Element::builder("html", "http://jabber.org/protocol/xhtml-im")
            .child(body)
            .build()
            .ok()
    }
}

fn parse(xml: &[u8]) -> Option<Element> {
    let mut limits = Limits::default();
    limits.max_stanza_bytes = 1 << 16;
    limits.max_depth = 512;
    let mut p = StreamParser::new(limits);
    p.push(HEADER);
    p.push(xml);
    let mut el = None;
    while let Some(item) = p.next_item() {
        match item {
            Ok(Item::Element(e)) => el = Some(e),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    el
}

/// Deepest nesting of containers below a body, and the number of nodes.
fn measure(nodes: &[Node], depth: usize, max: &mut usize, count: &mut usize) {
    for n in nodes {
        *count += 1;
        let kids: Vec<&[Node]> = match n {
            Node::Span(c) | Node::Paragraph(c) | Node::Quote(c) => vec![c.children()],
            Node::Link(l) => vec![l.children()],
            Node::List(l) => {
                *count += l.items().len();
                *max = (*max).max(depth + 2);
                l.items().iter().map(|i| i.children()).collect()
            }
            _ => continue,
        };
        *max = (*max).max(depth + 1);
        let extra = usize::from(matches!(n, Node::List(_)));
        for k in kids {
            measure(k, depth + 1 + extra, max, count);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [limits_byte, mode, rest @ ..] = data else {
        return;
    };
    let mut limits = XhtmlLimits::default();
    limits.max_depth = usize::from(limits_byte & 15);
    if limits_byte >> 4 != 0 {
        limits.max_nodes = usize::from(limits_byte >> 4) * 16;
    }
    let el = if mode & 1 == 0 {
        let mut xml = OPEN.to_vec();
        xml.extend_from_slice(rest);
        xml.extend_from_slice(CLOSE);
        match parse(&xml) {
            Some(el) => el,
            None => return,
        }
    } else {
        match (Ops { bytes: rest }).build() {
            Some(el) => el,
            None => return,
        }
    };
    let Ok(s) = Html::from_element(el.root(), &limits) else {
        return;
    };
    let out = s.html.to_element();
    if let Err(v) = oracle::check(out.root()) {
        panic!("forbidden output: {v}\n in: {el}\nout: {out}");
    }
    for b in s.html.bodies() {
        let (mut depth, mut count) = (0, 0);
        measure(b.nodes(), 0, &mut depth, &mut count);
        assert!(
            depth <= limits.max_depth,
            "depth {depth} > {}",
            limits.max_depth
        );
        assert!(
            count <= limits.max_nodes,
            "{count} nodes > {}",
            limits.max_nodes
        );
    }
    assert!(s.html.bodies().len() <= MAX_BODIES);
    // A fixed point: what came out reads back the same, through the wire.
    let wire = out.to_string();
    let back = parse(wire.as_bytes()).expect("the output is well-formed");
    let again = Html::from_element(back.root(), &limits).expect("still a wrapper");
    assert_eq!(again.html, s.html, "\n in: {el}\nout: {out}");
    let _ = s.html.plain_text();
});
