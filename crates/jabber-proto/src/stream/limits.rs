//! Bounds on everything a peer can make the stream layer store.

/// Limits applied to the inbound stream. Exceeding one is a typed error
/// ([`ParseError`](super::ParseError)) that maps to the `policy-violation`
/// stream error, and the buffer is freed.
///
/// Memory held by the stream layer never exceeds `max_stanza_bytes` plus the bytes of one
/// [`push`](super::StreamParser::push), whatever the peer sends.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest top-level element (and stream header, and XML declaration), in bytes of
    /// wire encoding. Default 4 MiB. Values above 1 GiB are treated as 1 GiB.
    pub max_stanza_bytes: usize,
    /// Deepest nesting of elements inside a top-level element (the top-level element is
    /// depth 1). Default 64.
    pub max_depth: u32,
    /// Most attributes on one element, namespace declarations included. Default 64.
    pub max_attributes: u32,
}

impl Limits {
    /// The hard ceiling on `max_stanza_bytes`: offsets inside an element are 32-bit.
    pub const CEILING_BYTES: usize = 1 << 30;

    pub(crate) fn stanza_bytes(&self) -> usize {
        self.max_stanza_bytes.clamp(1, Self::CEILING_BYTES)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_stanza_bytes: 4 << 20,
            max_depth: 64,
            max_attributes: 64,
        }
    }
}
