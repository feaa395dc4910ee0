//! Serialising element trees: escaping, and the namespace declarations and prefixes an
//! element needs in the context it is written in.
//!
//! Elements are validated when built (see [`ElementBuilder`](super::ElementBuilder)), so
//! whatever reaches here can be written: there is no error path. The stream layer's writer
//! uses this for top-level elements and the stream header's attributes, in the scope the
//! header binds; [`Display`](core::fmt::Display) writes standalone XML with it.

use alloc::vec::Vec;

use super::{ElementRef, Node};
use crate::{console, ns};

/// Namespace context an element is written in. A prefixed element leaves the default
/// namespace as it was, so its children are written against the same one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scope<'a> {
    /// The default namespace in scope ("" for none).
    pub(crate) default_ns: &'a str,
    /// A prefix bound outside the element, with its namespace (`stream` inside a stream):
    /// elements in that namespace are written with it and declare nothing.
    pub(crate) prefix: Option<(&'a str, &'a str)>,
}

impl Scope<'_> {
    /// Nothing bound: the element declares what it needs.
    pub(crate) const STANDALONE: Scope<'static> = Scope {
        default_ns: "",
        prefix: None,
    };
}

/// Writes `el` and its subtree in `scope`. With `mask`, the content of every element
/// [`console::is_secret`] names is written as [`console::MASK`] (see there).
pub(crate) fn write_element(
    out: &mut Vec<u8>,
    el: ElementRef<'_>,
    scope: &Scope<'_>,
    one_line: bool,
    mask: bool,
) {
    write_in(out, el, scope, one_line, mask, false);
}

/// [`write_element`], told whether `el`'s parent makes its content secret: a data-form
/// field whose `<value>`s [`console::is_secret_value`] names (a secret there depends on
/// the parent's attributes, not on the element's own name).
fn write_in(
    out: &mut Vec<u8>,
    el: ElementRef<'_>,
    scope: &Scope<'_>,
    one_line: bool,
    mask: bool,
    secret_child: bool,
) {
    let el_ns = el.ns();
    // The `xml` prefix is bound everywhere, and Namespaces in XML forbids binding its
    // namespace to anything else, the default included: an element in it must use it.
    let prefix = if el_ns == ns::XML {
        Some("xml")
    } else {
        scope
            .prefix
            .filter(|(_, bound)| *bound == el_ns)
            .map(|(p, _)| p)
    };
    out.push(b'<');
    write_prefix(out, prefix);
    out.extend_from_slice(el.name().as_bytes());
    let mut inner = *scope;
    if prefix.is_none() && el_ns != scope.default_ns {
        write_attr(out, "xmlns", el_ns, one_line);
        inner.default_ns = el_ns;
    }
    write_attrs_in(out, el, one_line, mask);
    if el.is_empty() {
        out.extend_from_slice(b"/>");
        return;
    }
    out.push(b'>');
    let secret = console::is_secret(el_ns, el.name())
        || (secret_child && el.is("value", ns::DATA_FORMS))
        || console::is_secret_header(el);
    if mask && secret {
        // The whole content, children included: a secret may hide in either.
        out.extend_from_slice(console::MASK.as_bytes());
    } else {
        let secret_values = mask && console::is_secret_value(el);
        for node in el.nodes() {
            match node {
                Node::Text(t) => escape(out, t, false, one_line),
                Node::Element(child) => {
                    write_in(out, child, &inner, one_line, mask, secret_values);
                }
            }
        }
    }
    out.extend_from_slice(b"</");
    write_prefix(out, prefix);
    out.extend_from_slice(el.name().as_bytes());
    out.push(b'>');
}

/// Writes `prefix:` when there is one.
fn write_prefix(out: &mut Vec<u8>, prefix: Option<&str>) {
    if let Some(p) = prefix {
        out.extend_from_slice(p.as_bytes());
        out.push(b':');
    }
}

/// Attributes in order; those in a namespace other than `xml` get a generated prefix,
/// declared on the same element.
pub(crate) fn write_attrs(out: &mut Vec<u8>, el: ElementRef<'_>, one_line: bool) {
    write_attrs_in(out, el, one_line, false);
}

/// [`write_attrs`]; with `mask`, the value of an attribute [`console::is_secret_attr`]
/// names is written as [`console::MASK`].
fn write_attrs_in(out: &mut Vec<u8>, el: ElementRef<'_>, one_line: bool, mask: bool) {
    let mut declared: Vec<&str> = Vec::new();
    for a in el.attrs() {
        out.push(b' ');
        match a.ns {
            "" => {}
            ns::XML => out.extend_from_slice(b"xml:"),
            other => {
                let i = match declared.iter().position(|d| *d == other) {
                    Some(i) => i,
                    None => {
                        declared.push(other);
                        let i = declared.len() - 1;
                        out.extend_from_slice(b"xmlns:ns");
                        push_number(out, i);
                        out.extend_from_slice(b"='");
                        escape(out, other, true, one_line);
                        out.extend_from_slice(b"' ");
                        i
                    }
                };
                out.extend_from_slice(b"ns");
                push_number(out, i);
                out.push(b':');
            }
        }
        out.extend_from_slice(a.name.as_bytes());
        out.extend_from_slice(b"='");
        let secret = mask && a.ns.is_empty() && console::is_secret_attr(el.ns(), el.name(), a.name);
        let value = if secret { console::MASK } else { a.value };
        escape(out, value, true, one_line);
        out.push(b'\'');
    }
}

fn push_number(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Writes ` name='value'`, the value escaped.
pub(crate) fn write_attr(out: &mut Vec<u8>, name: &str, value: &str, one_line: bool) {
    out.push(b' ');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"='");
    escape(out, value, true, one_line);
    out.push(b'\'');
}

/// Escapes text (`attr == false`) or a single-quoted attribute value. Whitespace that the
/// reader would normalise is written as a character reference so the value survives.
fn escape(out: &mut Vec<u8>, s: &str, attr: bool, one_line: bool) {
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'\'' if attr => b"&apos;",
            b'\r' => b"&#13;",
            b'\n' if attr || one_line => b"&#10;",
            b'\t' if attr || one_line => b"&#9;",
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        out.extend_from_slice(rep);
        run = i + 1;
    }
    out.extend_from_slice(&bytes[run..]);
}
