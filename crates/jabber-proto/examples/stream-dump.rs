//! Dumps an inbound (server-to-client) XMPP stream read from standard input, one item a
//! line, as the [`StreamParser`] sees it.
//!
//! ```text
//! cargo run --release -p jabber-proto --example stream-dump -- [--chunk N] < capture.xml
//! ```
//!
//! Input is read in pieces of at most 64 KiB and never held whole. With `--chunk N` the
//! parser is fed pieces of exactly `N` bytes (the last one may be shorter), whatever the
//! sizes of the reads; without it, each read is fed as it came. Output lines:
//!
//! - `header <start tag>` for the stream header,
//! - `stanza <element>` for each top-level element,
//! - `close` for `</stream:stream>`,
//! - `error <condition>: <message>` when the input is bad or ends before the stream closes.
//!
//! Elements are written by a one-line [`Writer`], so each takes exactly one line, and the
//! output is the same for every `--chunk`. Exit status: 0 after a stream that closed
//! cleanly, 1 after an `error` line, 2 for a usage error or a failure to read or write.
//!
//! # Replaying a capture
//!
//! ```text
//! cargo run -p jabber-proto --example stream-dump -- --replay session.jcap [--chunk N]
//! ```
//!
//! feeds a capture file (see [`jabber_proto::replay`]) back into a client with the
//! recorded times, prints each event the client gives (`event <Debug form>`), and checks
//! that it sends what was recorded and gives the recorded events. The last line is the
//! verdict: `same: <n> records replayed`, or `difference at record <i> (<kind>)` followed
//! by the `expected` and `found` lines (exit status 1), or `incomplete: ...` when the
//! capture has a gap. With `--chunk N` every received piece is fed in pieces of `N` bytes:
//! the verdict must not change.

use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

use jabber_proto::Limits;
use jabber_proto::ns;
use jabber_proto::stream::{Item, ParseError, StreamParser, Writer};

/// Largest read from standard input.
const READ_SIZE: usize = 64 * 1024;

const USAGE: &str = "usage: stream-dump [--chunk N]   (reads the stream from standard input)
       stream-dump --replay FILE [--chunk N]   (replays a capture file)";

/// How the stream ended.
enum Outcome {
    /// `</stream:stream>` was received and nothing but whitespace followed it.
    Closed,
    /// An `error` line was written.
    Failed,
}

/// Feeds the parser and writes one line per item.
struct Dumper<W: Write> {
    parser: StreamParser,
    /// Replaced by one for the stream's own content namespace once the header arrives.
    writer: Writer,
    out: W,
    line: Vec<u8>,
    failed: bool,
}

impl<W: Write> Dumper<W> {
    fn new(out: W) -> Self {
        Dumper {
            parser: StreamParser::new(Limits::default()),
            writer: Writer::new(ns::CLIENT).one_line(true),
            out,
            line: Vec::new(),
            failed: false,
        }
    }

    /// Pushes one piece and writes the items it completes.
    fn push(&mut self, piece: &[u8]) -> io::Result<()> {
        self.parser.push(piece);
        self.drain()
    }

    /// Marks the end of input and writes the last items.
    fn finish(mut self) -> io::Result<Outcome> {
        self.parser.push_eof();
        self.drain()?;
        if !self.failed && !self.parser.is_closed() {
            // The parser reports this itself; kept so the output always ends with a verdict.
            self.error(&ParseError::UnclosedStream)?;
        }
        self.out.flush()?;
        Ok(if self.failed {
            Outcome::Failed
        } else {
            Outcome::Closed
        })
    }

    fn drain(&mut self) -> io::Result<()> {
        while let Some(item) = self.parser.next_item() {
            self.line.clear();
            match item {
                Ok(Item::Header(header)) => {
                    self.writer = Writer::new(header.content_ns()).one_line(true);
                    self.line.extend_from_slice(b"header ");
                    self.writer.header(&mut self.line, &header);
                }
                Ok(Item::Element(element)) => {
                    self.line.extend_from_slice(b"stanza ");
                    self.writer.element(&mut self.line, element.root());
                }
                Ok(Item::Close) => self.line.extend_from_slice(b"close"),
                Err(e) => return self.error(&e),
            }
            self.line.push(b'\n');
            self.out.write_all(&self.line)?;
        }
        Ok(())
    }

    fn error(&mut self, e: &ParseError) -> io::Result<()> {
        self.failed = true;
        writeln!(self.out, "error {}: {e}", e.condition())
    }
}

/// The command line.
struct Args {
    chunk: Option<usize>,
    replay: Option<std::path::PathBuf>,
}

/// The arguments; `Err(None)` for `--help`.
fn parse_args() -> Result<Args, Option<String>> {
    let mut chunk = None;
    let mut replay = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = if arg == "--help" || arg == "-h" {
            return Err(None);
        } else if arg == "--replay" {
            let file = args
                .next()
                .ok_or_else(|| Some(String::from("--replay needs a file")))?;
            replay = Some(file.into());
            continue;
        } else if arg == "--chunk" {
            args.next()
                .ok_or_else(|| Some(String::from("--chunk needs a value")))?
        } else if let Some(v) = arg.strip_prefix("--chunk=") {
            String::from(v)
        } else {
            return Err(Some(format!("unexpected argument {arg:?}")));
        };
        match value.parse::<usize>() {
            Ok(n) if n > 0 => chunk = Some(n),
            _ => {
                return Err(Some(format!(
                    "--chunk takes a positive integer, not {value:?}"
                )));
            }
        }
    }
    Ok(Args { chunk, replay })
}

/// Replays the capture at `path` and prints its events and the verdict.
fn replay(path: &std::path::Path, chunk: Option<usize>) -> io::Result<Outcome> {
    use jabber_proto::replay::{self, Options};
    let bytes = std::fs::read(path)?;
    let records =
        replay::parse(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let options = chunk.map_or_else(Options::default, Options::chunked);
    let report = replay::replay(&records, &options);
    let mut out = BufWriter::new(io::stdout().lock());
    for event in &report.events {
        writeln!(out, "event {event}")?;
    }
    let outcome = match (&report.difference, report.incomplete) {
        (Some(d), _) => {
            writeln!(
                out,
                "difference at record {} ({})",
                d.record,
                d.kind.as_str()
            )?;
            writeln!(out, "  expected: {}", d.expected)?;
            writeln!(out, "  found:    {}", d.found)?;
            Outcome::Failed
        }
        (None, true) => {
            writeln!(
                out,
                "incomplete: the capture has a gap after record {}; the same up to it",
                report.replayed
            )?;
            Outcome::Closed
        }
        (None, false) => {
            writeln!(out, "same: {} records replayed", report.replayed)?;
            Outcome::Closed
        }
    };
    out.flush()?;
    Ok(outcome)
}

/// Reads standard input to its end (or to the first error) through the dumper.
fn run(chunk: Option<usize>) -> io::Result<Outcome> {
    let stdout = io::stdout();
    let mut dumper = Dumper::new(BufWriter::new(stdout.lock()));
    let mut stdin = io::stdin().lock();
    let mut buf = vec![0u8; READ_SIZE];
    // Start of a piece of exactly `chunk` bytes, carried over from the previous read.
    let mut partial: Vec<u8> = Vec::new();
    while !dumper.failed {
        let n = match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut data = &buf[..n];
        let Some(size) = chunk else {
            dumper.push(data)?;
            continue;
        };
        if !partial.is_empty() {
            let take = (size - partial.len()).min(data.len());
            partial.extend_from_slice(&data[..take]);
            data = &data[take..];
            if partial.len() < size {
                continue;
            }
            dumper.push(&partial)?;
            partial.clear();
        }
        let mut pieces = data.chunks_exact(size);
        for piece in &mut pieces {
            if dumper.failed {
                break;
            }
            dumper.push(piece)?;
        }
        partial.extend_from_slice(pieces.remainder());
    }
    if !dumper.failed && !partial.is_empty() {
        dumper.push(&partial)?;
    }
    dumper.finish()
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(Some(e)) => {
            eprintln!("stream-dump: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match &args.replay {
        Some(path) => replay(path, args.chunk),
        None => run(args.chunk),
    };
    match result {
        Ok(Outcome::Closed) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Err(e) => {
            eprintln!("stream-dump: {e}");
            ExitCode::from(2)
        }
    }
}
