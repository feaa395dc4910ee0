//! An element's nodes encoded behind its strings, in the same `String`: one allocation
//! holds a whole element, and its strings are `&str` views needing no validation.
//!
//! A `String` may only hold UTF-8, and `forbid(unsafe_code)` leaves no other buffer that
//! yields both `&str` and numbers, so every byte of the table is ASCII: a node is a fixed
//! record of a kind byte and six fields of 7-bit digits. Most elements are shorter than
//! 16 KiB and get two digits per field (14 bits); longer ones five (35 bits: any `u32`).
//! Fixed records keep nodes reachable by index, as a node vector was, and each getter
//! reads only the fields it needs.

use alloc::string::String;

use super::element::{Element, Ns, RawNode, Span};

/// Digits per field of a narrow table, and the bound on what it can hold.
const NARROW: usize = 2;
const NARROW_LIMIT: usize = 1 << (7 * NARROW);
/// Digits per field of a wide table.
const WIDE: usize = 5;

const fn record(digits: usize) -> usize {
    1 + 6 * digits
}

/// Bytes per node of a table of this width.
pub(crate) fn record_len(wide: bool) -> usize {
    if wide { record(WIDE) } else { record(NARROW) }
}

/// Whether an element with this many string bytes and nodes needs the wide table.
pub(crate) fn needs_wide(text_len: usize, nodes: usize) -> bool {
    text_len >= NARROW_LIMIT || nodes >= NARROW_LIMIT
}

// Kind byte: the node's kind in bits 0-1, its namespace's in bits 2-3.
pub(crate) const ELEMENT: u8 = 0;
pub(crate) const ATTR: u8 = 1;
pub(crate) const TEXT: u8 = 2;
const NS_NONE: u8 = 0;
const NS_KNOWN: u8 = 1 << 2;
const NS_AT: u8 = 2 << 2;
const NS_MASK: u8 = 3 << 2;

// Fields: 0-1 the name (a text's span), 2-3 the namespace (a known one's index in 2),
// 4 an element's attribute count or an attribute's value start, 5 an element's end or an
// attribute's value end.
pub(crate) const NAME: usize = 0;
const NS_FIELD: usize = 2;
pub(crate) const ATTRS: usize = 4;
pub(crate) const VALUE: usize = 4;
pub(crate) const END: usize = 5;

/// Appends the records of `nodes` to `out`, in a table `wide` or not.
pub(crate) fn encode(out: &mut String, nodes: &[RawNode], wide: bool) {
    let digits = if wide { WIDE } else { NARROW };
    let len = record(digits);
    // Records are written to the stack and checked as UTF-8 a chunk at a time: one
    // check per chunk costs less than one per byte or per record.
    let mut chunk = [0u8; 256];
    let mut used = 0;
    for node in nodes {
        if used + len > chunk.len() {
            out.push_str(core::str::from_utf8(&chunk[..used]).unwrap_or_default());
            used = 0;
        }
        let rec = &mut chunk[used..used + len];
        let mut put = |field: usize, v: u32| {
            let at = 1 + field * digits;
            for (k, b) in rec[at..at + digits].iter_mut().enumerate() {
                *b = ((v >> (7 * k)) & 0x7F) as u8;
            }
        };
        let mut ns_bits = |ns: Ns| match ns {
            Ns::None => NS_NONE,
            Ns::Known(i) => {
                put(NS_FIELD, u32::from(i));
                NS_KNOWN
            }
            Ns::At(s) => {
                put(NS_FIELD, s.start);
                put(NS_FIELD + 1, s.end);
                NS_AT
            }
        };
        let kind = match *node {
            RawNode::Element {
                name,
                ns,
                attrs,
                end,
            } => {
                let k = ELEMENT | ns_bits(ns);
                put(NAME, name.start);
                put(NAME + 1, name.end);
                put(ATTRS, attrs);
                put(END, end);
                k
            }
            RawNode::Attr { name, ns, value } => {
                let k = ATTR | ns_bits(ns);
                put(NAME, name.start);
                put(NAME + 1, name.end);
                put(VALUE, value.start);
                put(VALUE + 1, value.end);
                k
            }
            RawNode::Text(s) => {
                put(NAME, s.start);
                put(NAME + 1, s.end);
                TEXT
            }
        };
        rec[0] = kind;
        used += len;
    }
    // Every byte is below 0x80: always ASCII.
    out.push_str(core::str::from_utf8(&chunk[..used]).unwrap_or_default());
}

impl Element {
    /// Where node `idx`'s record starts.
    #[inline(always)]
    fn record_at(&self, idx: usize) -> usize {
        self.table as usize + idx * record_len(self.wide)
    }

    /// The kind byte of node `idx` (`0xFF` out of range: never, as indices come from the
    /// table itself).
    #[inline(always)]
    pub(crate) fn kind(&self, idx: usize) -> u8 {
        self.buf
            .as_bytes()
            .get(self.record_at(idx))
            .copied()
            .unwrap_or(0xFF)
    }

    /// Field `field` of node `idx`.
    #[inline(always)]
    pub(crate) fn field(&self, idx: usize, field: usize) -> u32 {
        let bytes = self.buf.as_bytes();
        if self.wide {
            let at = self.record_at(idx) + 1 + field * WIDE;
            match bytes.get(at..at + WIDE) {
                Some(&[a, b, c, d, e]) => {
                    u32::from(a)
                        | u32::from(b) << 7
                        | u32::from(c) << 14
                        | u32::from(d) << 21
                        | u32::from(e) << 28
                }
                _ => 0,
            }
        } else {
            let at = self.record_at(idx) + 1 + field * NARROW;
            match bytes.get(at..at + NARROW) {
                Some(&[a, b]) => u32::from(a) | u32::from(b) << 7,
                _ => 0,
            }
        }
    }

    /// The span in fields `field` and `field + 1` of node `idx`.
    #[inline(always)]
    pub(crate) fn span(&self, idx: usize, field: usize) -> Span {
        Span {
            start: self.field(idx, field),
            end: self.field(idx, field + 1),
        }
    }

    /// The namespace of node `idx` (an element or an attribute).
    #[inline(always)]
    pub(crate) fn node_ns(&self, idx: usize) -> Ns {
        match self.kind(idx) & NS_MASK {
            NS_KNOWN => Ns::Known(self.field(idx, NS_FIELD) as u8),
            NS_AT => Ns::At(self.span(idx, NS_FIELD)),
            _ => Ns::None,
        }
    }

    /// The whole of node `idx`.
    pub(crate) fn node(&self, idx: usize) -> RawNode {
        match self.kind(idx) & 3 {
            ELEMENT => RawNode::Element {
                name: self.span(idx, NAME),
                ns: self.node_ns(idx),
                attrs: self.field(idx, ATTRS),
                end: self.field(idx, END),
            },
            ATTR => RawNode::Attr {
                name: self.span(idx, NAME),
                ns: self.node_ns(idx),
                value: self.span(idx, VALUE),
            },
            _ => RawNode::Text(self.span(idx, NAME)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(a: u32, b: u32) -> Span {
        Span { start: a, end: b }
    }

    fn nodes(v: u32) -> [RawNode; 5] {
        [
            RawNode::Element {
                name: span(v, 3),
                ns: Ns::At(span(7, v)),
                attrs: v,
                end: v / 2,
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
            RawNode::Text(span(v, v / 3)),
        ]
    }

    fn round_trip(nodes: &[RawNode], wide: bool) {
        let mut s = String::from("prefix");
        encode(&mut s, nodes, wide);
        assert_eq!(s.len(), 6 + nodes.len() * record_len(wide));
        assert!(s.is_ascii());
        let el = Element {
            buf: s,
            table: 6,
            wide,
        };
        for (i, n) in nodes.iter().enumerate() {
            assert_eq!(el.node(i), *n);
        }
    }

    #[test]
    fn every_value_and_kind_survives_in_its_width() {
        for v in [0, 1, 0x7F, 0x80, 0x3FFF] {
            round_trip(&nodes(v), false);
            round_trip(&nodes(v), true);
        }
        for v in [0x4000, 1 << 28, (1 << 31) + 5, u32::MAX] {
            round_trip(&nodes(v), true);
        }
    }

    #[test]
    fn tables_longer_than_a_chunk_survive() {
        let many: alloc::vec::Vec<RawNode> = (0..100).flat_map(|v| nodes(v * 97)).collect();
        round_trip(&many, false);
        round_trip(&many, true);
    }

    #[test]
    fn the_narrow_table_is_for_what_fits() {
        assert!(!needs_wide(NARROW_LIMIT - 1, NARROW_LIMIT - 1));
        assert!(needs_wide(NARROW_LIMIT, 1));
        assert!(needs_wide(1, NARROW_LIMIT));
    }

    #[test]
    fn a_short_table_reads_as_nothing() {
        let mut s = String::new();
        encode(&mut s, &[RawNode::Text(span(1, 2))], false);
        // The kind byte and the first field only.
        s.truncate(1 + NARROW);
        let el = Element {
            buf: s,
            table: 0,
            wide: false,
        };
        assert_eq!(el.node(0), RawNode::Text(span(1, 0)));
        assert_eq!(el.kind(1), 0xFF);
    }
}
