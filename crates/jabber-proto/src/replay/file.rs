//! The capture file: a header line, then length-prefixed records.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::client::{CaptureRecord, RecordKind};
use crate::time::Instant;

/// The first line of a capture file (version 1 of the format).
pub const FILE_HEADER: &str = "jabber-capture 1\n";

/// Appends `record` to a capture file's bytes.
pub fn write_record(out: &mut Vec<u8>, record: &CaptureRecord) {
    let line = format!(
        "{} {} {}\n",
        record.kind.as_str(),
        record.time.as_millis(),
        record.data.len()
    );
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(&record.data);
    out.push(b'\n');
}

/// Why a capture file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatError {
    /// It does not start with [`FILE_HEADER`].
    NotACapture,
    /// The record starting at this byte offset is malformed.
    BadRecord {
        /// Byte offset of the record's first line.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::NotACapture => write!(f, "not a capture file (no `jabber-capture 1`)"),
            FormatError::BadRecord { offset, reason } => {
                write!(f, "bad record at byte {offset}: {reason}")
            }
        }
    }
}

impl core::error::Error for FormatError {}

/// Reads a whole capture file. A file cut short in its last record (a session that
/// ended abruptly while writing) gives the records before it.
pub fn parse(bytes: &[u8]) -> Result<Vec<CaptureRecord>, FormatError> {
    let mut rest = bytes
        .strip_prefix(FILE_HEADER.as_bytes())
        .ok_or(FormatError::NotACapture)?;
    let mut records = Vec::new();
    while !rest.is_empty() {
        let offset = bytes.len() - rest.len();
        let bad = |reason: &str| FormatError::BadRecord {
            offset,
            reason: String::from(reason),
        };
        let Some(eol) = rest.iter().position(|&b| b == b'\n') else {
            break; // a last line cut short
        };
        let line = core::str::from_utf8(&rest[..eol]).map_err(|_| bad("line is not UTF-8"))?;
        let mut words = line.split(' ');
        let (Some(kind), Some(time), Some(len), None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            return Err(bad("expected `<kind> <time> <length>`"));
        };
        let kind = RecordKind::from_name(kind).ok_or_else(|| bad("unknown record kind"))?;
        let time: u64 = time.parse().map_err(|_| bad("bad time"))?;
        let len: usize = len.parse().map_err(|_| bad("bad length"))?;
        let data_start = eol + 1;
        let Some(end) = data_start.checked_add(len) else {
            return Err(bad("bad length"));
        };
        if end >= rest.len() {
            break; // a last record cut short (or a length no file can hold)
        }
        if rest[end] != b'\n' {
            return Err(bad("data not followed by a newline"));
        }
        let data = rest[data_start..end].to_vec();
        records.push(CaptureRecord::new(kind, Instant::from_millis(time), data));
        rest = &rest[end + 1..];
    }
    Ok(records)
}

/// A record's XML data (a command, the config) as an element; `None` when it is not one
/// well-formed element.
pub(crate) fn element(data: &[u8]) -> Option<crate::xml::Element> {
    use crate::stream::{Item, StreamParser};
    let mut parser = StreamParser::new(crate::Limits::default());
    parser.push(
        b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
    );
    parser.push(data);
    match (parser.next_item(), parser.next_item()) {
        (Some(Ok(Item::Header(_))), Some(Ok(Item::Element(e)))) => Some(e),
        _ => None,
    }
}
