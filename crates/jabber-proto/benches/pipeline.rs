//! Parsing pipeline benchmark: bytes off the wire to stanzas, three ways.
//!
//! * `jabber-proto`: our sans-IO [`StreamParser`] plus [`Stanza::try_from`],
//!   i.e. bytes all the way to typed stanzas.
//! * `quick-xml`: `NsReader` that builds nothing, but resolves the namespace
//!   of every start/empty tag and unescapes every text node (the least a real
//!   client has to do). Chunked input goes through a `Read` that hands out at
//!   most N bytes per call inside a `BufReader` of capacity N, as an async
//!   client's socket would.
//! * `xmlparser`: raw tokens only. The whole buffer is tokenized once; chunked
//!   input uses a naive driver that appends each piece to a buffer and
//!   re-tokenizes from the start of the last incomplete top-level element.
//!
//! * `jabber-proto client`: a logged-in [`Client`](jabber_proto::Client) fed the bytes,
//!   every event drained and read through its typed getters (body, delay stamp, chat
//!   state, receipt, show, status, priority, roster items): the application's path, on
//!   every corpus. Every stanza makes an event, except the roster results of `mixed`,
//!   which answer nothing the client asked and are dropped (RFC 6120 §8.2.3): the
//!   client pipelines are checked against the stanza count less those.
//!
//! Each runs over generated corpora (`mixed`, ~50 MB, `tiny`, ~20 MB of 146-byte
//! messages, and `typed-im`, ~20 MB of messages with extensions, stamped presence and
//! roster pushes) delivered whole, in 1460-byte and in 64-byte pieces.
//!
//! Run with `cargo bench -p jabber-proto --bench pipeline`; set
//! `JABBER_BENCH_SCALE=small` for corpora a tenth of that size. After the
//! criterion groups, one pass of every combination under a counting allocator
//! gives a table of MiB/s, stanzas/s and allocations per stanza, printed and
//! written to `target/pipeline-summary.md`. `JABBER_BENCH_ONLY=tiny/1460B/jabber-proto client`
//! limits that pass to the combinations whose `corpus/delivery/pipeline` contains the
//! text (for a profiler; add a criterion filter that matches nothing, such as
//! `--bench none`, to skip the criterion groups).
//!
//! The workspace forbids `unsafe_code`, so the counting allocator is
//! `stats_alloc::StatsAlloc<System>` (which counts allocations and
//! reallocations) rather than a hand-written `GlobalAlloc`.

mod corpus;

use std::alloc::System;
use std::fmt::Write as _;
use std::hint::black_box;
use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};
use jabber_proto::Limits;
use jabber_proto::stanza::Stanza;
use jabber_proto::stream::{Item, StreamParser};
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::name::NamespaceResolver;
use quick_xml::reader::NsReader;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use xmlparser::{ElementEnd, Token, Tokenizer};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Seeds are fixed so that every run (and every machine) parses the same bytes.
const MIXED_SEED: u64 = 0x6a61_6262_6572_0001;
const TINY_SEED: u64 = 0x6a61_6262_6572_0002;
const TYPED_SEED: u64 = 0x6a61_6262_6572_0003;

/// Corpus sizes at full scale; `JABBER_BENCH_SCALE=small` uses a tenth.
const FULL_MIXED: usize = 50_000_000;
const FULL_TINY: usize = 20_000_000;

/// How the bytes reach the parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delivery {
    /// Everything in one buffer.
    Whole,
    /// Pieces of at most this many bytes (the last one may be shorter).
    Pieces(usize),
}

const DELIVERIES: [Delivery; 3] = [
    Delivery::Whole,
    Delivery::Pieces(1460),
    Delivery::Pieces(64),
];

impl Delivery {
    fn short(self) -> String {
        match self {
            Delivery::Whole => "whole".to_owned(),
            Delivery::Pieces(n) => format!("{n}B"),
        }
    }

    fn long(self) -> String {
        match self {
            Delivery::Whole => "whole buffer".to_owned(),
            Delivery::Pieces(n) => format!("{n}-byte pieces"),
        }
    }
}

/// A pipeline parses one complete stream and returns how many stanzas it saw.
type RunFn = fn(&[u8], Delivery) -> Result<usize, String>;

struct Pipeline {
    name: &'static str,
    run: RunFn,
    /// The corpus it runs on, when not every one.
    only: Option<&'static str>,
    /// A logged-in client: unasked IQ results make no event.
    client: bool,
}

impl Pipeline {
    fn runs_on(&self, corpus: &NamedCorpus) -> bool {
        self.only.is_none_or(|c| c == corpus.name)
    }
}

const PIPELINES: [Pipeline; 5] = [
    Pipeline {
        name: "jabber-proto",
        run: jabber_proto_pipeline,
        only: None,
        client: false,
    },
    Pipeline {
        name: "jabber-proto client",
        run: client_pipeline,
        only: None,
        client: true,
    },
    Pipeline {
        name: "jabber-proto client, base getters",
        run: client_base_pipeline,
        only: None,
        client: true,
    },
    Pipeline {
        name: "quick-xml",
        run: quick_xml_pipeline,
        only: None,
        client: false,
    },
    Pipeline {
        name: "xmlparser",
        run: xmlparser_pipeline,
        only: None,
        client: false,
    },
];

// ---------------------------------------------------------------------------
// jabber-proto client: bytes -> a logged-in Client -> typed IM events, read through
// their typed getters (the path an application takes)

/// The client's seed, and so the ids of its login requests.
const CLIENT_SEED: u64 = 0x6265_6e63_6800_0001;

fn client_pipeline(bytes: &[u8], delivery: Delivery) -> Result<usize, String> {
    client_run(bytes, delivery, true)
}

/// The client path reading only what the client offered before issue 10 (body, show,
/// status, priority, roster items): the same work on the old and the new client, for a
/// before/after comparison.
fn client_base_pipeline(bytes: &[u8], delivery: Delivery) -> Result<usize, String> {
    client_run(bytes, delivery, false)
}

fn client_run(bytes: &[u8], delivery: Delivery, typed_getters: bool) -> Result<usize, String> {
    use jabber_proto::client::{Client, Config, Event, PresenceEvent, RosterEvent, StanzaEvent};
    use jabber_proto::negotiation::auth::Credentials;
    use jabber_proto::time::Instant as At;

    let header_end = bytes
        .windows(2)
        .position(|w| w == b"'>")
        .map(|i| i + 2)
        .ok_or("no stream header")?;
    let seed = std::num::NonZeroU64::new(CLIENT_SEED).ok_or("zero seed")?;
    let mut config = Config::new("example.com", seed);
    config.fetch_roster = false;
    config.initial_presence = false;
    config.keepalive_interval = None;
    config.dead_peer_timeout = None;
    // The corpora are classic (version-less) streams, logged in with iq:auth.
    config.version = None;
    let now = At::ZERO;
    let mut client = Client::new(config, now);
    client
        .login(now, Credentials::new("bench", "pw", "r"))
        .map_err(|e| e.to_string())?;
    let prefix = (CLIENT_SEED ^ (CLIENT_SEED >> 32)) as u32;
    let login = format!(
        "<iq type='result' id='{prefix:08x}-1'><query xmlns='jabber:iq:auth'><username/>\
         <password/><digest/><resource/></query></iq><iq type='result' id='{prefix:08x}-2'/>"
    );
    let mut typed = 0usize;
    let mut checksum = 0usize;
    let mut drain = |client: &mut Client, typed: &mut usize| -> Result<(), String> {
        loop {
            while client.take_transmit().is_some() {}
            while let Some(event) = client.poll_event() {
                match event {
                    Event::Stanza(StanzaEvent::Message(m)) => {
                        *typed += 1;
                        checksum += m.body().map_or(0, |b| b.len());
                        if typed_getters {
                            checksum += usize::from(m.delay().is_some());
                            checksum += usize::from(m.chat_state().is_some());
                            checksum += usize::from(m.receipt().is_some());
                            checksum += m.events().map_or(0, |_| 1);
                        }
                    }
                    Event::Presence(PresenceEvent::Available(p)) => {
                        *typed += 1;
                        checksum += usize::from(p.show().is_some());
                        checksum += p.status().map_or(0, |s| s.len());
                        checksum += p.priority().unsigned_abs() as usize;
                        if typed_getters {
                            checksum += usize::from(p.delay().is_some());
                        }
                    }
                    Event::Roster(RosterEvent::Push(r)) => {
                        *typed += 1;
                        checksum += r.items.len();
                    }
                    Event::Closed(reason) if !reason.is_clean() => {
                        return Err(format!("closed: {reason:?}"));
                    }
                    _ => {}
                }
            }
            if client.wants_input() || client.is_closed() {
                return Ok(());
            }
            // Parsing paused at the event bound: it resumes through the timer.
            client.handle_timeout(now);
        }
    };
    let mut feed = |client: &mut Client, piece: &[u8], typed: &mut usize| -> Result<(), String> {
        client.handle_input(now, piece).map_err(|e| e.to_string())?;
        drain(client, typed)
    };
    feed(&mut client, &bytes[..header_end], &mut typed)?;
    feed(&mut client, login.as_bytes(), &mut typed)?;
    let body = &bytes[header_end..];
    match delivery {
        Delivery::Whole => feed(&mut client, body, &mut typed)?,
        Delivery::Pieces(n) => {
            for piece in body.chunks(n) {
                feed(&mut client, piece, &mut typed)?;
            }
        }
    }
    black_box(checksum);
    Ok(typed)
}

// ---------------------------------------------------------------------------
// jabber-proto: bytes -> typed stanzas

#[derive(Default)]
struct OursState {
    headers: usize,
    stanzas: usize,
    closed: bool,
}

fn jabber_proto_pipeline(bytes: &[u8], delivery: Delivery) -> Result<usize, String> {
    let mut parser = StreamParser::new(Limits::default());
    let mut st = OursState::default();
    match delivery {
        Delivery::Whole => {
            parser.push(bytes);
            drain_ours(&mut parser, &mut st)?;
        }
        Delivery::Pieces(n) => {
            for piece in bytes.chunks(n) {
                parser.push(piece);
                drain_ours(&mut parser, &mut st)?;
            }
        }
    }
    parser.push_eof();
    drain_ours(&mut parser, &mut st)?;
    if st.headers != 1 || !st.closed {
        return Err(format!(
            "jabber-proto: {} headers, closed: {}",
            st.headers, st.closed
        ));
    }
    Ok(st.stanzas)
}

fn drain_ours(parser: &mut StreamParser, st: &mut OursState) -> Result<(), String> {
    while let Some(item) = parser.next_item() {
        match item.map_err(|e| format!("jabber-proto: {e:?}"))? {
            Item::Header(header) => {
                black_box(&header);
                st.headers += 1;
            }
            Item::Element(element) => {
                let stanza = Stanza::try_from(element).map_err(|e| format!("stanza: {e:?}"))?;
                black_box(&stanza);
                st.stanzas += 1;
            }
            Item::Close => st.closed = true,
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// quick-xml: NsReader, namespaces resolved, text unescaped, nothing built

/// A `Read` that returns at most `max` bytes per call, like a socket would.
struct Trickle<'a> {
    rest: &'a [u8],
    max: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.rest.len().min(self.max).min(out.len());
        out[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

#[derive(Default)]
struct QuickState {
    depth: usize,
    stanzas: usize,
    closed: bool,
    /// Unescaped text of the current text node; reused, so it stops
    /// allocating once it has grown to the longest text.
    text: String,
}

impl QuickState {
    /// Handles one event; `Ok(true)` at the end of input.
    fn event(&mut self, event: Event<'_>, ns: &NamespaceResolver) -> Result<bool, String> {
        match event {
            Event::Start(e) => {
                self.end_text();
                black_box(ns.resolve_element(e.name()));
                self.depth += 1;
            }
            Event::Empty(e) => {
                self.end_text();
                black_box(ns.resolve_element(e.name()));
                if self.depth == 1 {
                    self.stanzas += 1;
                }
            }
            Event::End(_) => {
                self.end_text();
                self.depth = self
                    .depth
                    .checked_sub(1)
                    .ok_or("quick-xml: unbalanced end")?;
                match self.depth {
                    0 => self.closed = true,
                    1 => self.stanzas += 1,
                    _ => {}
                }
            }
            Event::Text(t) => self.text.push_str(&t.xml10_content()),
            Event::CData(t) => self.text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => match r.resolve_char_ref() {
                Ok(Some(c)) => self.text.push(c),
                Ok(None) => {
                    let s = resolve_predefined_entity(&r)
                        .ok_or_else(|| format!("quick-xml: unknown entity &{};", &*r))?;
                    self.text.push_str(s);
                }
                Err(e) => return Err(format!("quick-xml: {e}")),
            },
            Event::Eof => return Ok(true),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
        Ok(false)
    }

    fn end_text(&mut self) {
        if !self.text.is_empty() {
            black_box(self.text.as_str());
            self.text.clear();
        }
    }
}

fn quick_xml_pipeline(bytes: &[u8], delivery: Delivery) -> Result<usize, String> {
    let mut st = QuickState::default();
    match delivery {
        Delivery::Whole => {
            let text = std::str::from_utf8(bytes).map_err(|e| format!("quick-xml: {e}"))?;
            let mut reader = NsReader::from_str(text);
            loop {
                let event = reader.read_event().map_err(|e| format!("quick-xml: {e}"))?;
                if st.event(event, reader.resolver())? {
                    break;
                }
            }
        }
        Delivery::Pieces(n) => {
            let source = Trickle {
                rest: bytes,
                max: n,
            };
            let mut reader = NsReader::from_reader(BufReader::with_capacity(n, source));
            let mut buf = Vec::new();
            loop {
                buf.clear();
                let event = reader
                    .read_event_into(&mut buf)
                    .map_err(|e| format!("quick-xml: {e}"))?;
                if st.event(event, reader.resolver())? {
                    break;
                }
            }
        }
    }
    if !st.closed {
        return Err("quick-xml: stream not closed".to_owned());
    }
    Ok(st.stanzas)
}

// ---------------------------------------------------------------------------
// xmlparser: raw tokens

/// Stanza bookkeeping over a token sequence that starts inside the stream.
#[derive(Default)]
struct TokenState {
    /// Depth below `<stream:stream>`: 0 between stanzas.
    depth: usize,
    stanzas: usize,
    tokens: u64,
    closed: bool,
}

fn xmlparser_pipeline(bytes: &[u8], delivery: Delivery) -> Result<usize, String> {
    match delivery {
        Delivery::Whole => xmlparser_whole(bytes),
        Delivery::Pieces(n) => {
            let mut driver = Rescanner::default();
            for piece in bytes.chunks(n) {
                driver.push(piece)?;
            }
            if !driver.scan.closed || !driver.buf.is_empty() {
                return Err(format!(
                    "xmlparser: {} bytes left unparsed",
                    driver.buf.len()
                ));
            }
            black_box(driver.scan.tokens);
            Ok(driver.scan.stanzas)
        }
    }
}

fn xmlparser_whole(bytes: &[u8]) -> Result<usize, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("xmlparser: {e}"))?;
    // Depth counted from the document root, so stanzas close at depth 1.
    let mut depth = 0usize;
    let mut st = TokenState::default();
    for token in Tokenizer::from(text) {
        let token = token.map_err(|e| format!("xmlparser: {e}"))?;
        st.tokens += 1;
        if let Token::ElementEnd { end, .. } = token {
            match end {
                ElementEnd::Open => depth += 1,
                ElementEnd::Empty => st.stanzas += usize::from(depth == 1),
                ElementEnd::Close(..) => {
                    depth = depth.checked_sub(1).ok_or("xmlparser: unbalanced end")?;
                    match depth {
                        0 => st.closed = true,
                        1 => st.stanzas += 1,
                        _ => {}
                    }
                }
            }
        }
        black_box(&token);
    }
    if !st.closed {
        return Err("xmlparser: stream not closed".to_owned());
    }
    black_box(st.tokens);
    Ok(st.stanzas)
}

/// The naive chunk driver: keep unparsed bytes, re-tokenize them from the
/// start of the last incomplete top-level element on every piece.
#[derive(Default)]
struct Rescanner {
    buf: Vec<u8>,
    in_stream: bool,
    scan: TokenState,
}

impl Rescanner {
    fn push(&mut self, piece: &[u8]) -> Result<(), String> {
        self.buf.extend_from_slice(piece);
        let text = complete_utf8(&self.buf)?;
        let mut done = 0;
        if !self.in_stream {
            match scan_header(text) {
                Some(end) => {
                    self.in_stream = true;
                    done = end;
                }
                None => return Ok(()),
            }
        }
        let done = scan_stanzas(text, done, &mut self.scan);
        self.buf.drain(..done);
        Ok(())
    }
}

/// The longest prefix of `buf` that is valid UTF-8, allowing a character cut
/// in two at the end.
fn complete_utf8(buf: &[u8]) -> Result<&str, String> {
    match std::str::from_utf8(buf) {
        Ok(s) => Ok(s),
        Err(e) if e.error_len().is_none() => {
            Ok(std::str::from_utf8(&buf[..e.valid_up_to()]).expect("prefix already validated"))
        }
        Err(e) => Err(format!("xmlparser: {e}")),
    }
}

/// End offset of the `<stream:stream …>` open tag, once all of it is here.
fn scan_header(text: &str) -> Option<usize> {
    for token in Tokenizer::from(text) {
        match token {
            Ok(Token::ElementEnd {
                end: ElementEnd::Open,
                span,
            }) => return Some(span.end()),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

/// Tokenizes `text[from..]` as stream content and returns the end offset of
/// the last complete top-level element (or of `</stream:stream>`).
fn scan_stanzas(text: &str, from: usize, st: &mut TokenState) -> usize {
    let mut done = from;
    st.depth = 0;
    for token in Tokenizer::from_fragment(text, from..text.len()) {
        // An error here is most likely a token cut off at the end of the
        // data; the next piece will tell. (A malformed stream would simply
        // never finish, which `xmlparser_pipeline` reports.)
        let Ok(token) = token else { break };
        st.tokens += 1;
        if let Token::ElementEnd { end, span } = token {
            match end {
                ElementEnd::Open => st.depth += 1,
                ElementEnd::Empty => {
                    if st.depth == 0 {
                        st.stanzas += 1;
                        done = span.end();
                    }
                }
                ElementEnd::Close(..) => {
                    if st.depth == 0 {
                        st.closed = true;
                        return span.end();
                    }
                    st.depth -= 1;
                    if st.depth == 0 {
                        st.stanzas += 1;
                        done = span.end();
                    }
                }
            }
        }
    }
    done
}

// ---------------------------------------------------------------------------
// Driver

struct Sizes {
    label: &'static str,
    mixed: usize,
    tiny: usize,
}

struct NamedCorpus {
    name: &'static str,
    bytes: Vec<u8>,
    stanzas: usize,
    /// IQ results nobody asked for: a client drops them without an event.
    unasked: usize,
}

fn sizes(bench_mode: bool) -> Sizes {
    if !bench_mode {
        // `cargo test --benches` or `--list`: just prove every path works.
        return Sizes {
            label: "test (~1/250)",
            mixed: 200_000,
            tiny: 80_000,
        };
    }
    match std::env::var("JABBER_BENCH_SCALE").as_deref() {
        Ok("small") => Sizes {
            label: "small (1/10)",
            mixed: FULL_MIXED / 10,
            tiny: FULL_TINY / 10,
        },
        Ok("full") | Ok("") | Err(_) => Sizes {
            label: "full",
            mixed: FULL_MIXED,
            tiny: FULL_TINY,
        },
        Ok(other) => panic!("JABBER_BENCH_SCALE must be `small` or `full`, not {other:?}"),
    }
}

fn corpora(sizes: &Sizes) -> Vec<NamedCorpus> {
    let mixed = corpus::mixed_corpus(sizes.mixed, MIXED_SEED);
    let tiny = corpus::tiny_corpus(sizes.tiny, TINY_SEED);
    let typed = corpus::typed_im_corpus(sizes.tiny, TYPED_SEED);
    vec![
        NamedCorpus {
            name: "typed-im",
            bytes: typed.bytes,
            stanzas: typed.stanzas,
            unasked: 0,
        },
        NamedCorpus {
            name: "mixed",
            bytes: mixed.bytes,
            stanzas: mixed.stanzas,
            unasked: mixed.iqs,
        },
        NamedCorpus {
            name: "tiny",
            bytes: tiny.bytes,
            stanzas: tiny.stanzas,
            unasked: 0,
        },
    ]
}

fn run_checked(p: &Pipeline, c: &NamedCorpus, d: Delivery) -> usize {
    let n = (p.run)(black_box(&c.bytes), d)
        .unwrap_or_else(|e| panic!("{} on {}/{}: {e}", p.name, c.name, d.short()));
    let expected = if p.client {
        c.stanzas - c.unasked
    } else {
        c.stanzas
    };
    assert_eq!(
        n,
        expected,
        "{} on {}/{}: stanza count",
        p.name,
        c.name,
        d.short()
    );
    n
}

fn criterion_groups(c: &mut Criterion, corpora: &[NamedCorpus]) {
    for corpus in corpora {
        for d in DELIVERIES {
            let mut group = c.benchmark_group(format!("{}/{}", corpus.name, d.short()));
            // Passes take tenths of a second to seconds: a flat schedule keeps
            // the whole run to minutes.
            group.sampling_mode(SamplingMode::Flat);
            group.throughput(Throughput::Bytes(corpus.bytes.len() as u64));
            for p in PIPELINES.iter().filter(|p| p.runs_on(corpus)) {
                group.bench_function(p.name, |b| b.iter(|| run_checked(p, corpus, d)));
            }
            group.finish();
        }
    }
}

struct Row {
    pipeline: &'static str,
    mib_per_s: f64,
    stanzas_per_s: f64,
    allocs_per_stanza: f64,
    bytes_per_stanza: f64,
}

/// One counted pass plus one timed pass per combination.
fn summary(corpora: &[NamedCorpus], sizes: &Sizes) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "## Parsing pipeline summary\n");
    let _ = writeln!(
        md,
        "Generated by `cargo bench -p jabber-proto --bench pipeline` (scale: {}). \
         MiB/s and stanzas/s come from the faster of two single passes (criterion's \
         numbers above are the careful ones); allocations are `alloc` + `realloc` \
         calls over one full pass, setup included, divided by the stanza count; bytes \
         are what those calls asked for (a reallocation counts its growth).\n",
        sizes.label
    );
    for corpus in corpora {
        for d in DELIVERIES {
            let _ = writeln!(
                md,
                "### {}, {} ({:.1} MB, {} stanzas)\n",
                corpus.name,
                d.long(),
                corpus.bytes.len() as f64 / 1e6,
                corpus.stanzas
            );
            let _ = writeln!(
                md,
                "| pipeline | MiB/s | stanzas/s | allocations/stanza | bytes allocated/stanza |"
            );
            let _ = writeln!(md, "|---|---:|---:|---:|---:|");
            for p in PIPELINES.iter().filter(|p| p.runs_on(corpus)) {
                if !selected(corpus, d, p) {
                    continue;
                }
                let row = measure(p, corpus, d);
                let _ = writeln!(
                    md,
                    "| {} | {:.1} | {} | {:.2} | {:.0} |",
                    row.pipeline,
                    row.mib_per_s,
                    thousands(row.stanzas_per_s),
                    row.allocs_per_stanza,
                    row.bytes_per_stanza
                );
            }
            md.push('\n');
        }
    }
    md
}

/// `JABBER_BENCH_ONLY=<text>` limits the summary to the combinations whose
/// `corpus/delivery/pipeline` (such as `tiny/1460B/jabber-proto client`) contains it: one
/// combination to profile.
fn selected(corpus: &NamedCorpus, d: Delivery, p: &Pipeline) -> bool {
    std::env::var("JABBER_BENCH_ONLY").map_or(true, |only| {
        format!("{}/{}/{}", corpus.name, d.short(), p.name).contains(&only)
    })
}

fn measure(p: &Pipeline, corpus: &NamedCorpus, d: Delivery) -> Row {
    let region = Region::new(GLOBAL);
    let start = Instant::now();
    run_checked(p, corpus, d);
    let first = start.elapsed();
    let stats = region.change();
    let start = Instant::now();
    run_checked(p, corpus, d);
    let secs = first.min(start.elapsed()).as_secs_f64().max(1e-9);
    Row {
        pipeline: p.name,
        mib_per_s: corpus.bytes.len() as f64 / secs / (1024.0 * 1024.0),
        stanzas_per_s: corpus.stanzas as f64 / secs,
        // Per stanza of the corpus (a client's dropped results cost too).
        allocs_per_stanza: (stats.allocations + stats.reallocations) as f64 / corpus.stanzas as f64,
        bytes_per_stanza: (stats.bytes_allocated as f64 + stats.bytes_reallocated.max(0) as f64)
            / corpus.stanzas as f64,
    }
}

fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v);
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    // The bench runs as <target>/<profile>/deps/pipeline-<hash>.
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    let listing = has("--list");
    let bench_mode = has("--bench") && !has("--test") && !listing;

    let sizes = sizes(bench_mode);
    let t = Instant::now();
    let corpora = corpora(&sizes);
    if !listing {
        for c in &corpora {
            println!(
                "corpus {}: {} bytes, {} stanzas (generated in {:.2?} total)",
                c.name,
                c.bytes.len(),
                c.stanzas,
                t.elapsed()
            );
        }
    }

    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .without_plots()
        .configure_from_args();
    let baseline_flag = ["-s", "--save-baseline", "--baseline", "--baseline-lenient"]
        .iter()
        .any(|f| {
            args.iter()
                .any(|a| a == f || a.starts_with(&format!("{f}=")))
        });
    if sizes.mixed < FULL_MIXED && !has("--discard-baseline") && !baseline_flag {
        // Keep criterion's history of small runs apart from that of full ones
        // (after `configure_from_args`, which always names a baseline).
        criterion = criterion.save_baseline("small".to_owned());
    }
    criterion_groups(&mut criterion, &corpora);
    criterion.final_summary();

    if listing {
        return;
    }
    let md = summary(&corpora, &sizes);
    println!("\n{md}");
    if bench_mode {
        let path = target_dir().join("pipeline-summary.md");
        match std::fs::write(&path, &md) {
            Ok(()) => println!("summary written to {}", path.display()),
            Err(e) => eprintln!("could not write {}: {e}", path.display()),
        }
    }
}
