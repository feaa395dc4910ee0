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

/// The fields of `node`, and its kind byte.
fn fields(node: &RawNode) -> (u8, [u32; 6]) {
    let ns = |ns: Ns| match ns {
        Ns::None => (NS_NONE, 0, 0),
        Ns::Known(i) => (NS_KNOWN, u32::from(i), 0),
        Ns::At(s) => (NS_AT, s.start, s.end),
    };
    match *node {
        RawNode::Element {
            name,
            ns: n,
            attrs,
            end,
        } => {
            let (k, a, b) = ns(n);
            (ELEMENT | k, [name.start, name.end, a, b, attrs, end])
        }
        RawNode::Attr { name, ns: n, value } => {
            let (k, a, b) = ns(n);
            (
                ATTR | k,
                [name.start, name.end, a, b, value.start, value.end],
            )
        }
        RawNode::Text(s) => (TEXT, [s.start, s.end, 0, 0, 0, 0]),
    }
}

/// Writes `node`'s record with `D` digits per field to `rec`.
#[inline(always)]
fn write_record<const D: usize>(rec: &mut [u8], node: &RawNode) {
    let (kind, fields) = fields(node);
    if rec.len() != 1 + 6 * D {
        return;
    }
    rec[0] = kind;
    for (f, v) in fields.into_iter().enumerate() {
        // `needs_wide` chose the width so that every field fits.
        debug_assert!(D == WIDE || v < 1 << (7 * D), "field {f} = {v} overflows");
        for k in 0..D {
            rec[1 + f * D + k] = ((v >> (7 * k)) & 0x7F) as u8;
        }
    }
}

/// Appends the records of `nodes` to `out`, in a table `wide` or not.
pub(crate) fn encode(out: &mut String, nodes: &[RawNode], wide: bool) {
    if wide {
        encode_with::<WIDE, { record(WIDE) }>(out, nodes);
    } else {
        encode_with::<NARROW, { record(NARROW) }>(out, nodes);
    }
}

fn encode_with<const D: usize, const R: usize>(out: &mut String, nodes: &[RawNode]) {
    // Records are written to the stack and checked as UTF-8 a chunk at a time: one
    // check per chunk costs less than one per byte or per record.
    const CHUNK: usize = 256;
    let mut chunk = [0u8; CHUNK];
    let mut used = 0;
    for node in nodes {
        if used + R > CHUNK {
            out.push_str(core::str::from_utf8(&chunk[..used]).unwrap_or_default());
            used = 0;
        }
        if let Some(slot) = chunk.get_mut(used..used + R) {
            write_record::<D>(slot, node);
        }
        used += R;
    }
    // Every byte is below 0x80: always ASCII.
    out.push_str(core::str::from_utf8(&chunk[..used]).unwrap_or_default());
}

/// One node's record: read it once, then the fields needed.
#[derive(Clone, Copy)]
pub(crate) enum Rec<'a> {
    Narrow(&'a [u8; record(NARROW)]),
    Wide(&'a [u8; record(WIDE)]),
    /// Out of range: never, as indices come from the table itself.
    Missing,
}

impl Rec<'_> {
    /// The kind byte.
    #[inline(always)]
    pub(crate) fn kind(self) -> u8 {
        match self {
            Rec::Narrow(r) => r[0],
            Rec::Wide(r) => r[0],
            Rec::Missing => 0xFF,
        }
    }

    /// Whether the node is an attribute.
    #[inline(always)]
    pub(crate) fn is_attr(self) -> bool {
        self.kind() & 3 == ATTR
    }

    /// Field `f`.
    #[inline(always)]
    pub(crate) fn field(self, f: usize) -> u32 {
        match self {
            Rec::Narrow(r) => {
                let at = 1 + f * NARROW;
                u32::from(r[at]) | u32::from(r[at + 1]) << 7
            }
            Rec::Wide(r) => {
                let at = 1 + f * WIDE;
                u32::from(r[at])
                    | u32::from(r[at + 1]) << 7
                    | u32::from(r[at + 2]) << 14
                    | u32::from(r[at + 3]) << 21
                    | u32::from(r[at + 4]) << 28
            }
            Rec::Missing => 0,
        }
    }

    /// The span in fields `f` and `f + 1`.
    #[inline(always)]
    pub(crate) fn span(self, f: usize) -> Span {
        Span {
            start: self.field(f),
            end: self.field(f + 1),
        }
    }

    /// The namespace (of an element or an attribute).
    #[inline(always)]
    pub(crate) fn ns(self) -> Ns {
        match self.kind() & NS_MASK {
            NS_KNOWN => Ns::Known(self.field(NS_FIELD) as u8),
            NS_AT => Ns::At(self.span(NS_FIELD)),
            _ => Ns::None,
        }
    }
}

impl Element {
    /// Node `idx`'s record.
    #[inline(always)]
    pub(crate) fn rec(&self, idx: usize) -> Rec<'_> {
        let bytes = self.buf.as_bytes();
        let table = self.table as usize;
        if self.wide {
            let at = table + idx * record(WIDE);
            bytes
                .get(at..at + record(WIDE))
                .and_then(|r| r.try_into().ok())
                .map_or(Rec::Missing, Rec::Wide)
        } else {
            let at = table + idx * record(NARROW);
            bytes
                .get(at..at + record(NARROW))
                .and_then(|r| r.try_into().ok())
                .map_or(Rec::Missing, Rec::Narrow)
        }
    }

    /// Field `field` of node `idx`.
    #[inline(always)]
    pub(crate) fn field(&self, idx: usize, field: usize) -> u32 {
        self.rec(idx).field(field)
    }

    /// The span in fields `field` and `field + 1` of node `idx`.
    #[inline(always)]
    pub(crate) fn span(&self, idx: usize, field: usize) -> Span {
        self.rec(idx).span(field)
    }

    /// The namespace of node `idx` (an element or an attribute).
    #[inline(always)]
    pub(crate) fn node_ns(&self, idx: usize) -> Ns {
        self.rec(idx).ns()
    }

    /// The whole of node `idx`.
    pub(crate) fn node(&self, idx: usize) -> RawNode {
        let rec = self.rec(idx);
        match rec.kind() & 3 {
            ELEMENT => RawNode::Element {
                name: rec.span(NAME),
                ns: rec.ns(),
                attrs: rec.field(ATTRS),
                end: rec.field(END),
            },
            ATTR => RawNode::Attr {
                name: rec.span(NAME),
                ns: rec.ns(),
                value: rec.span(VALUE),
            },
            _ => RawNode::Text(rec.span(NAME)),
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
    fn a_child_ending_before_itself_does_not_stop_iteration_for_good() {
        // Tables are only built by this crate, but a wrong `end` must not loop.
        let nodes = [
            RawNode::Element {
                name: span(0, 1),
                ns: Ns::None,
                attrs: 0,
                end: 4,
            },
            RawNode::Element {
                name: span(0, 1),
                ns: Ns::None,
                attrs: 0,
                end: 0,
            },
            RawNode::Text(span(1, 2)),
            RawNode::Element {
                name: span(0, 1),
                ns: Ns::None,
                attrs: 0,
                end: 1,
            },
        ];
        let el = Element::pack(String::from("ab"), &nodes);
        assert_eq!(el.root().nodes().count(), 3);
        assert_eq!(el.root().children().count(), 2);
    }

    #[test]
    fn a_short_table_reads_as_nothing() {
        let mut s = String::new();
        encode(&mut s, &[RawNode::Text(span(1, 2))], false);
        // A record cut short is no record.
        s.pop();
        let el = Element {
            buf: s,
            table: 0,
            wide: false,
        };
        assert_eq!(el.node(0), RawNode::Text(span(0, 0)));
        assert_eq!(el.rec(0).kind(), 0xFF);
    }
}
