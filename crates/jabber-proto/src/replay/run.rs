//! Feeding a capture's records to a fresh client and comparing what comes out.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{command, config, file};
use crate::client::{CaptureRecord, Client, Error, RecordKind};
use crate::console::Direction;

/// How to replay.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Feed each received piece in pieces of at most this many bytes (at the same
    /// instant) instead of as it came: any split must give the same events and the same
    /// bytes sent. `None` (the default) keeps the recorded pieces. Ignored for a
    /// WebSocket capture, whose every input is one whole message.
    pub chunk: Option<usize>,
}

impl Options {
    /// Options that feed received bytes in pieces of at most `n` bytes.
    pub fn chunked(n: usize) -> Options {
        Options { chunk: Some(n) }
    }
}

/// The first place where the replay did not do what the capture recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Difference {
    /// Index of the record in the capture (0 is the config).
    pub record: usize,
    /// The record's kind.
    pub kind: RecordKind,
    /// What the capture holds.
    pub expected: String,
    /// What the replay gave instead.
    pub found: String,
}

/// What a replay did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Records replayed (the config included) before the end or the first difference.
    pub replayed: usize,
    /// The events the replay gave, in their `Debug` form, as the application polled them.
    pub events: Vec<String>,
    /// Items sent, as the console shows them (secrets masked).
    pub sent: Vec<String>,
    /// The first difference, if any: the replay stops there.
    pub difference: Option<Difference>,
    /// The capture has a gap (records dropped at its bound): the replay stopped there.
    pub incomplete: bool,
}

/// Replays `records` (as [`parse`](super::parse) reads them) on a fresh client.
///
/// Secrets were masked in the capture, so a replayed login sends the mask, not the
/// password; sent items are compared as the console shows them, where both are masked.
/// A capture may end anywhere (a session cut short): events or items the replay gives
/// after its last record are not differences.
pub fn replay(records: &[CaptureRecord], options: &Options) -> Report {
    let mut report = Report::default();
    let Some(first) = records.first() else {
        return report;
    };
    let config = (first.kind == RecordKind::Config)
        .then(|| file::element(&first.data))
        .flatten()
        .and_then(|el| config::config(&el));
    let Some(mut config) = config else {
        report.difference = Some(Difference {
            record: 0,
            kind: first.kind,
            expected: "a readable <config/> record".to_string(),
            found: text(&first.data),
        });
        return report;
    };
    // The replay compares through the console and records nothing itself.
    config.console = true;
    config.console_max_bytes = usize::MAX;
    config.capture = false;
    let mut run = Run {
        client: Client::new(config, first.time).replaying(),
        sent: VecDeque::new(),
        report,
    };
    run.report.replayed = 1;
    let mut i = 1;
    while i < records.len() {
        let record = &records[i];
        let refusal = records
            .get(i + 1)
            .filter(|r| r.kind == RecordKind::Refused)
            .map(|r| text(&r.data));
        let outcome = run.step(record, options);
        let consumed = match outcome {
            Step::Done => 1,
            Step::Called(result) => {
                let found = result.err().map(|e| e.to_string());
                if found != refusal {
                    let show = |r: &Option<String>| r.clone().unwrap_or_else(|| "accepted".into());
                    run.differ(i, record.kind, show(&refusal), show(&found));
                    break;
                }
                1 + usize::from(refusal.is_some())
            }
            Step::Differs(expected, found) => {
                run.differ(i, record.kind, expected, found);
                break;
            }
            Step::Gap => {
                run.report.incomplete = true;
                break;
            }
        };
        run.report.replayed += consumed;
        i += consumed;
    }
    run.report
}

/// What one record did.
enum Step {
    /// Replayed as recorded.
    Done,
    /// An input or command the client answered with this result.
    Called(Result<(), Error>),
    /// It differs: what was expected, what was found.
    Differs(String, String),
    /// A gap: nothing after it can be replayed.
    Gap,
}

struct Run {
    client: Client,
    /// Items the replay sent and no `sent` record has matched yet.
    sent: VecDeque<String>,
    report: Report,
}

impl Run {
    fn step(&mut self, record: &CaptureRecord, options: &Options) -> Step {
        let now = record.time;
        let step = match record.kind {
            RecordKind::Input => Step::Called(self.input(record, options)),
            RecordKind::Eof => {
                self.client.handle_eof(now);
                Step::Done
            }
            RecordKind::Reset => {
                self.client.handle_reset(now);
                Step::Done
            }
            RecordKind::Timeout => {
                self.client.handle_timeout(now);
                Step::Done
            }
            RecordKind::Command => match file::element(&record.data) {
                None => Step::Differs("a readable command".into(), text(&record.data)),
                Some(el) => match command::apply(&mut self.client, now, &el) {
                    Ok(result) => Step::Called(result),
                    Err(why) => Step::Differs("a command the replay knows".into(), why),
                },
            },
            RecordKind::Advance => {
                let data = text(&record.data);
                let (n, all) = match data.split_once(' ') {
                    Some((n, "all")) => (n, true),
                    _ => (data.as_str(), false),
                };
                match n.parse::<usize>() {
                    Ok(_) if all => {
                        self.client.take_transmit();
                        Step::Done
                    }
                    Ok(n) => {
                        self.client.advance_transmit(n);
                        Step::Done
                    }
                    Err(_) => Step::Differs("a byte count".into(), data),
                }
            }
            RecordKind::Take => {
                self.client.take_transmit();
                Step::Done
            }
            RecordKind::Event => {
                let expected = text(&record.data);
                match self.client.poll_event() {
                    Some(event) => {
                        let found = format!("{event:?}");
                        if found == expected {
                            self.report.events.push(found);
                            Step::Done
                        } else {
                            Step::Differs(expected, found)
                        }
                    }
                    None => Step::Differs(expected, "no event".into()),
                }
            }
            RecordKind::Sent => {
                self.collect_sent();
                let expected = text(&record.data);
                match self.sent.pop_front() {
                    Some(found) if found == expected => {
                        self.report.sent.push(found);
                        Step::Done
                    }
                    Some(found) => Step::Differs(expected, found),
                    None => Step::Differs(expected, "nothing sent".into()),
                }
            }
            RecordKind::Gap => Step::Gap,
            // A refusal is read with the call before it; one on its own, or a second
            // config, was not written by a client.
            RecordKind::Refused | RecordKind::Config => Step::Differs(
                "an input, a command or an output".into(),
                text(&record.data),
            ),
        };
        self.collect_sent();
        step
    }

    fn input(&mut self, record: &CaptureRecord, options: &Options) -> Result<(), Error> {
        let now = record.time;
        // A WebSocket message is one input whole: it cannot be cut.
        let messages = self.client.config().framing.is_websocket();
        match options.chunk {
            Some(n) if n > 0 && !record.data.is_empty() && !messages => {
                for piece in record.data.chunks(n) {
                    self.client.handle_input(now, piece)?;
                }
                Ok(())
            }
            _ => self.client.handle_input(now, &record.data),
        }
    }

    fn collect_sent(&mut self) {
        while let Some(entry) = self.client.poll_console() {
            if entry.direction == Direction::Out {
                self.sent.push_back(entry.xml);
            }
        }
    }

    fn differ(&mut self, record: usize, kind: RecordKind, expected: String, found: String) {
        self.report.difference = Some(Difference {
            record,
            kind,
            expected,
            found,
        });
    }
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}
