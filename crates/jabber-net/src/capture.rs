//! Writing a link's capture records to a file, for the adapters
//! ([`Options::capture`](crate::Options::capture)).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use jabber_proto::replay::{FILE_HEADER, write_record};

use crate::Link;

/// A capture file being written. Adapters create one when
/// [`Options::capture`](crate::Options::capture) names a path and call
/// [`write_from`](Self::write_from) each time they drain their link.
///
/// Writing is best effort: the first failure (a full disk) ends the capture, is traced,
/// and leaves the connection alone.
#[derive(Debug)]
pub struct CaptureFile {
    out: Option<BufWriter<File>>,
    buf: Vec<u8>,
}

impl CaptureFile {
    /// Creates (or truncates) the file at `path` and writes the capture header.
    pub fn create(path: &Path) -> io::Result<CaptureFile> {
        let mut out = BufWriter::new(File::create(path)?);
        out.write_all(FILE_HEADER.as_bytes())?;
        Ok(CaptureFile {
            out: Some(out),
            buf: Vec::new(),
        })
    }

    /// The capture file `options` ask for, created; `None` when they ask for none.
    pub fn for_options(options: &crate::Options) -> io::Result<Option<CaptureFile>> {
        options
            .capture
            .as_deref()
            .map(CaptureFile::create)
            .transpose()
    }

    /// Appends every record `link` holds and flushes, so a session cut short leaves a
    /// file that replays up to its end.
    pub fn write_from(&mut self, link: &mut Link) {
        if let Err(e) = self.write_records(|| link.poll_capture()) {
            crate::trace::capture_failed(link.client().config(), &e);
        }
    }

    /// [`write_from`](Self::write_from) for a driver that owns the core without a
    /// [`Link`] (the WebSocket runtime): takes `client`'s records. Its config must have
    /// [`Config::capture`](jabber_proto::client::Config::capture) on.
    pub fn write_from_client(&mut self, client: &mut jabber_proto::client::Client) {
        if let Err(e) = self.write_records(|| client.poll_capture()) {
            crate::trace::capture_failed(client.config(), &e);
        }
    }

    /// Writes what `next` hands out; the first failure ends the capture and is returned.
    fn write_records(
        &mut self,
        mut next: impl FnMut() -> Option<jabber_proto::client::CaptureRecord>,
    ) -> io::Result<()> {
        let Some(out) = &mut self.out else {
            // Records are still taken, or they would pile up to their bound.
            while next().is_some() {}
            return Ok(());
        };
        self.buf.clear();
        while let Some(record) = next() {
            write_record(&mut self.buf, &record);
        }
        if self.buf.is_empty() {
            return Ok(());
        }
        let written = out.write_all(&self.buf).and_then(|()| out.flush());
        if written.is_err() {
            self.out = None;
        }
        if self.buf.capacity() > 64 << 10 {
            self.buf = Vec::new();
        }
        written
    }
}
