//! An independent check that an element is safe XHTML-IM in the recommended profile:
//! the invariant of the sanitiser's proptest and of the `xhtml_sanitize` fuzz target
//! (which includes this file by path). It knows nothing of the sanitiser's code: it reads
//! the element as any receiver would.

use jabber_proto::xml::{ElementRef, Node};

const XHTML_IM: &str = "http://jabber.org/protocol/xhtml-im";
const XHTML: &str = "http://www.w3.org/1999/xhtml";
const ELEMENTS: &[&str] = &[
    "p",
    "span",
    "br",
    "a",
    "img",
    "ul",
    "ol",
    "li",
    "blockquote",
];
const PROPERTIES: &[&str] = &[
    "color",
    "background-color",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "margin-left",
    "margin-right",
    "text-align",
    "text-decoration",
];

/// Why an element is not safe XHTML-IM: a description of the first violation.
pub(crate) type Violation = String;

/// Checks `html` (the `<html/>` wrapper) and everything inside it.
pub(crate) fn check(html: ElementRef<'_>) -> Result<(), Violation> {
    if !html.is("html", XHTML_IM) || html.attrs().next().is_some() {
        return Err(format!("bad wrapper <{}/>", html.name()));
    }
    for node in html.nodes() {
        let Node::Element(body) = node else {
            return Err("text in the wrapper".into());
        };
        if !body.is("body", XHTML) {
            return Err(format!("<{}/> in the wrapper", body.name()));
        }
        for a in body.attrs() {
            let ok = (a.ns.is_empty() && a.name == "style" && style_ok(a.value))
                || (a.ns == "http://www.w3.org/XML/1998/namespace" && a.name == "lang");
            if !ok {
                return Err(format!("body attribute {}={:?}", a.name, a.value));
            }
        }
        // (element, inside inline content, inside a link)
        let mut stack = vec![(body, false, false)];
        while let Some((el, inline, in_link)) = stack.pop() {
            for node in el.nodes() {
                let Node::Element(child) = node else {
                    if matches!(el.name(), "ul" | "ol") {
                        return Err("text directly in a list".into());
                    }
                    continue;
                };
                let name = child.name();
                if child.ns() != XHTML || !ELEMENTS.contains(&name) {
                    return Err(format!("element <{name} xmlns='{}'>", child.ns()));
                }
                let list = matches!(el.name(), "ul" | "ol");
                if list != (name == "li") {
                    return Err(format!("<{name}> in <{}>", el.name()));
                }
                let block = matches!(name, "p" | "ul" | "ol" | "blockquote");
                if block && inline {
                    return Err(format!("block <{name}> in inline content"));
                }
                if name == "a" && in_link {
                    return Err("link in a link".into());
                }
                if name == "br" && !child.is_empty() {
                    return Err("<br> with content".into());
                }
                check_attrs(child)?;
                let inner_inline = inline || matches!(name, "p" | "span" | "a");
                stack.push((child, inner_inline, in_link || name == "a"));
            }
        }
    }
    Ok(())
}

fn check_attrs(el: ElementRef<'_>) -> Result<(), Violation> {
    for a in el.attrs() {
        let name = el.name();
        let ok = a.ns.is_empty()
            && match a.name {
                "style" => name != "br" && style_ok(a.value),
                "href" => name == "a" && uri_ok(a.value, &["http", "https", "xmpp", "mailto"]),
                "src" => name == "img" && uri_ok(a.value, &["http", "https", "cid"]),
                "alt" => name == "img",
                "width" | "height" => {
                    name == "img"
                        && !a.value.is_empty()
                        && a.value.bytes().all(|b| b.is_ascii_digit())
                }
                _ => false,
            };
        if !ok {
            return Err(format!("<{name} {}={:?}>", a.name, a.value));
        }
    }
    Ok(())
}

/// Only recommended properties, and values without anything a CSS engine could call or
/// fetch with: no parentheses, slashes, backslashes, colons, quotes other than `"`
/// around family names, comments or at-rules.
fn style_ok(css: &str) -> bool {
    !css.is_empty()
        && css.split(';').all(|decl| {
            let Some((prop, value)) = decl.split_once(':') else {
                return false;
            };
            PROPERTIES.contains(&prop)
                && !value.is_empty()
                && value.chars().all(|c| {
                    c.is_alphanumeric()
                        || matches!(c, '#' | '.' | ',' | '%' | '"' | ' ' | '-' | '_')
                })
        })
}

fn uri_ok(uri: &str, schemes: &[&str]) -> bool {
    let Some((scheme, _)) = uri.split_once(':') else {
        return false;
    };
    schemes.contains(&scheme)
        && uri.chars().all(|c| {
            c.is_ascii_graphic()
                && !matches!(c, '<' | '>' | '"' | '\\' | '^' | '`' | '{' | '|' | '}')
        })
}
