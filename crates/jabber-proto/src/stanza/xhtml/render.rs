//! The safe representation written out: as the `<html/>` element, and as plain text.
//! Both recurse once per level, which construction bounds by
//! [`XhtmlLimits::CEILING_DEPTH`](super::XhtmlLimits::CEILING_DEPTH).

use alloc::format;
use alloc::string::{String, ToString};

use super::{Body, Html, NS_XHTML, NS_XHTML_IM, Node, Style};
use crate::jid::Jid;
use crate::ns;
use crate::stanza::{Message, MessageType};
use crate::xml::{BuildError, Element, ElementBuilder};

impl Html {
    /// The `<html xmlns='http://jabber.org/protocol/xhtml-im'/>` element, to add to a
    /// message (see also [`Html::message`]).
    pub fn to_element(&self) -> Element {
        let html = Element::builder("html", NS_XHTML_IM).children(self.bodies.iter().map(body));
        // Every string in the tree was checked when it was made, so this cannot fail; an
        // empty wrapper is still valid XHTML-IM.
        html.build()
            .unwrap_or_else(|_| Element::unchecked("html", NS_XHTML_IM))
    }

    /// A message of `kind` to `to` carrying a plain `<body/>` per body (from
    /// [`Body::plain_text`], with its `xml:lang`) and this content.
    pub fn message(&self, kind: MessageType, to: &Jid) -> Result<Message, BuildError> {
        let mut b = Element::builder("message", ns::CLIENT).attr("to", to.as_str());
        if kind != MessageType::Normal {
            b = b.attr("type", kind.as_str());
        }
        for body in &self.bodies {
            let mut plain = Element::builder("body", ns::CLIENT);
            if let Some(lang) = &body.lang {
                plain = plain.lang(lang);
            }
            b = b.child(plain.text(&body.plain_text()));
        }
        let element = b.child(self.to_element()).build()?;
        Ok(Message::from_parts(element, kind))
    }
}

fn body(body: &Body) -> ElementBuilder {
    let mut b = Element::builder("body", NS_XHTML);
    if let Some(lang) = &body.lang {
        b = b.lang(lang);
    }
    children(styled(b, &body.style), &body.nodes)
}

fn styled(b: ElementBuilder, style: &Style) -> ElementBuilder {
    if style.is_empty() {
        b
    } else {
        b.attr("style", &style.to_string())
    }
}

fn children(mut b: ElementBuilder, nodes: &[Node]) -> ElementBuilder {
    for n in nodes {
        b = match n {
            Node::Text(t) => b.text(t),
            other => b.child(node(other)),
        };
    }
    b
}

fn node(n: &Node) -> ElementBuilder {
    let el = |name: &str| Element::builder(name, NS_XHTML);
    match n {
        Node::Text(t) => el("span").text(t),
        Node::Break => el("br"),
        Node::Span(c) => children(styled(el("span"), &c.style), &c.children),
        Node::Paragraph(c) => children(styled(el("p"), &c.style), &c.children),
        Node::Quote(c) => children(styled(el("blockquote"), &c.style), &c.children),
        Node::Link(l) => children(
            styled(el("a").attr("href", l.href.as_str()), &l.style),
            &l.children,
        ),
        Node::Image(i) => {
            let mut b = el("img").attr("src", i.src.as_str()).attr("alt", &i.alt);
            if let Some(w) = i.width {
                b = b.attr("width", &w.to_string());
            }
            if let Some(h) = i.height {
                b = b.attr("height", &h.to_string());
            }
            styled(b, &i.style)
        }
        Node::List(l) => {
            let list = styled(el(if l.ordered { "ol" } else { "ul" }), &l.style);
            list.children(
                l.items
                    .iter()
                    .map(|item| children(styled(el("li"), &item.style), &item.children)),
            )
        }
    }
}

/// Plain text with a line prefix (quote marks, list indentation).
struct Plain {
    out: String,
    prefix: String,
    at_line_start: bool,
}

impl Plain {
    fn write(&mut self, s: &str) {
        for c in s.chars() {
            if self.at_line_start {
                self.out.push_str(&self.prefix);
                self.at_line_start = false;
            }
            self.out.push(c);
            self.at_line_start = c == '\n';
        }
    }

    /// Ends the current line unless it is empty.
    fn line_end(&mut self) {
        if !self.out.is_empty() && !self.at_line_start {
            self.write("\n");
        }
    }

    fn nodes(&mut self, nodes: &[Node]) {
        for n in nodes {
            self.node(n);
        }
    }

    fn node(&mut self, n: &Node) {
        match n {
            Node::Text(t) => self.write(t),
            Node::Break => self.write("\n"),
            Node::Span(c) => self.nodes(&c.children),
            Node::Paragraph(c) => {
                self.line_end();
                self.nodes(&c.children);
                self.line_end();
            }
            Node::Quote(c) => {
                self.line_end();
                let len = self.prefix.len();
                self.prefix.push_str("> ");
                self.nodes(&c.children);
                self.line_end();
                self.prefix.truncate(len);
            }
            Node::Link(l) => {
                let text = plain_text(&l.children);
                self.write(&text);
                let href = l.href.as_str();
                let bare = href.split_once(':').map_or(href, |(_, rest)| rest);
                if text != href && text != bare {
                    if !text.is_empty() {
                        self.write(" ");
                    }
                    self.write(&format!("<{href}>"));
                }
            }
            Node::Image(i) => {
                if i.alt.is_empty() {
                    self.write(i.src.as_str());
                } else {
                    self.write(&i.alt);
                }
            }
            Node::List(l) => {
                self.line_end();
                for (i, item) in l.items.iter().enumerate() {
                    self.line_end();
                    let mark = if l.ordered {
                        format!("{}. ", i + 1)
                    } else {
                        String::from("- ")
                    };
                    self.write(&mark);
                    let len = self.prefix.len();
                    self.prefix.extend(core::iter::repeat_n(' ', mark.len()));
                    self.nodes(&item.children);
                    self.prefix.truncate(len);
                }
                self.line_end();
            }
        }
    }
}

pub(super) fn plain_text(nodes: &[Node]) -> String {
    let mut p = Plain {
        out: String::new(),
        prefix: String::new(),
        at_line_start: true,
    };
    p.nodes(nodes);
    let end = p.out.trim_end_matches('\n').len();
    p.out.truncate(end);
    p.out
}
