//! An element's nodes encoded behind its strings, in the same `String`: one allocation
//! holds a whole element, and its strings are `&str` views needing no validation.
//!
//! A `String` may only hold UTF-8, and `forbid(unsafe_code)` leaves no other buffer that
//! yields both `&str` and numbers, so every byte of the table is ASCII: a node is a fixed
//! record of a kind byte and six fields of five 7-bit digits (35 bits: any `u32`). Fixed
//! records keep nodes reachable by index, as a node vector was.

use super::element::{Ns, RawNode, Span};

const FIELD: usize = 5;

/// Bytes per node.
pub(crate) const RECORD: usize = 1 + 6 * FIELD;

// Kind byte: the node's kind in bits 0-1, its namespace's in bits 2-3.
const ELEMENT: u8 = 0;
const ATTR: u8 = 1;
const TEXT: u8 = 2;
const NS_NONE: u8 = 0;
const NS_KNOWN: u8 = 1 << 2;
const NS_AT: u8 = 2 << 2;

fn put(rec: &mut [u8; RECORD], field: usize, v: u32) {
    let at = 1 + field * FIELD;
    for (k, b) in rec[at..at + FIELD].iter_mut().enumerate() {
        *b = ((v >> (7 * k)) & 0x7F) as u8;
    }
}

#[inline]
fn get(rec: &[u8; RECORD], field: usize) -> u32 {
    let at = 1 + field * FIELD;
    u32::from(rec[at])
        | u32::from(rec[at + 1]) << 7
        | u32::from(rec[at + 2]) << 14
        | u32::from(rec[at + 3]) << 21
        | u32::from(rec[at + 4]) << 28
}

fn put_span(rec: &mut [u8; RECORD], field: usize, s: Span) {
    put(rec, field, s.start);
    put(rec, field + 1, s.end);
}

#[inline]
fn get_span(rec: &[u8; RECORD], field: usize) -> Span {
    Span {
        start: get(rec, field),
        end: get(rec, field + 1),
    }
}

/// Appends `node`'s record to `out`.
pub(crate) fn encode(out: &mut String, node: &RawNode) {
    let mut rec = [0u8; RECORD];
    let ns_bits = |rec: &mut [u8; RECORD], ns: Ns| match ns {
        Ns::None => NS_NONE,
        Ns::Known(i) => {
            put(rec, 2, u32::from(i));
            NS_KNOWN
        }
        Ns::At(s) => {
            put_span(rec, 2, s);
            NS_AT
        }
    };
    rec[0] = match *node {
        RawNode::Element {
            name,
            ns,
            attrs,
            end,
        } => {
            put_span(&mut rec, 0, name);
            put(&mut rec, 4, attrs);
            put(&mut rec, 5, end);
            ELEMENT | ns_bits(&mut rec, ns)
        }
        RawNode::Attr { name, ns, value } => {
            put_span(&mut rec, 0, name);
            put_span(&mut rec, 4, value);
            ATTR | ns_bits(&mut rec, ns)
        }
        RawNode::Text(s) => {
            put_span(&mut rec, 0, s);
            TEXT
        }
    };
    // Every byte is below 0x80, so this is always ASCII.
    out.push_str(core::str::from_utf8(&rec).unwrap_or_default());
}

/// The node whose record starts at `at` in `bytes`. A record out of range reads as an
/// empty text node (never reached: indices come from the table itself).
#[inline]
pub(crate) fn decode(bytes: &[u8], at: usize) -> RawNode {
    let Some(rec) = bytes
        .get(at..at + RECORD)
        .and_then(|r| <&[u8; RECORD]>::try_from(r).ok())
    else {
        return RawNode::Text(Span { start: 0, end: 0 });
    };
    let kind = rec[0];
    let ns = match kind & (3 << 2) {
        NS_KNOWN => Ns::Known(get(rec, 2) as u8),
        NS_AT => Ns::At(get_span(rec, 2)),
        _ => Ns::None,
    };
    match kind & 3 {
        ELEMENT => RawNode::Element {
            name: get_span(rec, 0),
            ns,
            attrs: get(rec, 4),
            end: get(rec, 5),
        },
        ATTR => RawNode::Attr {
            name: get_span(rec, 0),
            ns,
            value: get_span(rec, 4),
        },
        _ => RawNode::Text(get_span(rec, 0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    fn round_trip(node: RawNode) -> RawNode {
        let mut s = String::from("prefix");
        encode(&mut s, &node);
        assert_eq!(s.len(), 6 + RECORD);
        assert!(s.is_ascii());
        decode(s.as_bytes(), 6)
    }

    #[test]
    fn every_u32_and_kind_survives() {
        let span = |a, b| Span { start: a, end: b };
        for v in [0, 1, 0x7F, 0x80, 0x3FFF, 1 << 28, (1 << 31) + 5, u32::MAX] {
            let nodes = [
                RawNode::Element {
                    name: span(v, 3),
                    ns: Ns::At(span(7, v)),
                    attrs: v,
                    end: u32::MAX - v,
                },
                RawNode::Element {
                    name: span(1, v),
                    ns: Ns::Known(200),
                    attrs: 0,
                    end: v,
                },
                RawNode::Attr {
                    name: span(v, v),
                    ns: Ns::None,
                    value: span(9, v),
                },
                RawNode::Attr {
                    name: span(2, 4),
                    ns: Ns::At(span(v, 1)),
                    value: span(v, 0),
                },
                RawNode::Text(span(v, u32::MAX)),
            ];
            for n in nodes {
                assert_eq!(round_trip(n), n);
            }
        }
    }

    #[test]
    fn a_short_table_reads_as_nothing() {
        let mut s = String::new();
        encode(&mut s, &RawNode::Text(Span { start: 1, end: 2 }));
        assert_eq!(
            decode(&s.as_bytes()[..RECORD - 1], 0),
            RawNode::Text(Span { start: 0, end: 0 })
        );
    }
}
