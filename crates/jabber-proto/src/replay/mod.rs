//! Captures and their replay: a live session written to a file, fed back into a
//! [`Client`](crate::Client) later with the same times, and checked.
//!
//! With [`Config::capture`](crate::client::Config::capture) on, the client records every
//! call that can change it ([`Client::poll_capture`](crate::Client::poll_capture)): the
//! bytes received, the instants of its timers, the application's commands (secrets
//! masked), what it sent (as the console shows it) and each event the application
//! polled. A driver appends them to a file with [`write_record`] after a
//! [`FILE_HEADER`]; the adapters do it for you when given a capture path.
//!
//! The core reads no clock and no RNG — ids come from the config's seed, which the
//! capture holds — so the same calls make the same client. [`replay`] makes them again
//! on a fresh client and compares, record by record, what it sends and the events it
//! gives with what was recorded, stopping at the first [`Difference`]. A bug report is
//! then a capture file.
//!
//! # The file
//!
//! A line `jabber-capture 1`, then one record after another, each a line
//! `<kind> <time in ms> <length>` followed by `length` bytes of data and a newline. The
//! data of `in` records are the bytes as received (any bytes at all); the others are
//! text (XML or an event's `Debug` form), so a capture reads well in an editor.
//!
//! ```
//! use core::num::NonZeroU64;
//! use jabber_proto::client::{Client, Config};
//! use jabber_proto::replay::{self, FILE_HEADER};
//! use jabber_proto::time::Instant;
//!
//! // A session: the server opens its stream, then sends a message.
//! let mut config = Config::new("example.com", NonZeroU64::new(9).unwrap());
//! config.capture = true;
//! let t0 = Instant::from_millis(0);
//! let mut client = Client::new(config, t0);
//! let mut file = FILE_HEADER.as_bytes().to_vec();
//! let n = client.poll_transmit().unwrap().len();
//! client.advance_transmit(n);
//! client.handle_input(t0, b"<stream:stream xmlns='jabber:client' \
//!     xmlns:stream='http://etherx.jabber.org/streams' id='s1'>").unwrap();
//! client.handle_input(Instant::from_millis(40), b"<message from='bob@example.com/x'>\
//!     <body>hi</body></message>").unwrap();
//! while client.poll_event().is_some() {}
//! while let Some(record) = client.poll_capture() {
//!     replay::write_record(&mut file, &record);
//! }
//!
//! // Later, elsewhere: the same events, and the same bytes sent.
//! let capture = replay::parse(&file).unwrap();
//! let report = replay::replay(&capture, &replay::Options::default());
//! assert_eq!(report.difference, None);
//! assert_eq!(report.events.len(), 2); // the stream opened, the message
//! // Cut into 1-byte pieces, the input makes the same events (chunking invariance).
//! let bytewise = replay::replay(&capture, &replay::Options::chunked(1));
//! assert_eq!(bytewise.difference, None);
//! assert_eq!(bytewise.events, report.events);
//! ```

mod command;
mod config;
mod file;
mod run;

pub use file::{FILE_HEADER, FormatError, parse, write_record};
pub use run::{Difference, Options, Report, replay};
