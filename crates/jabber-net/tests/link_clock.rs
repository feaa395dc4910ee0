//! The link on a virtual clock: its own timers (the write timeout, the linger time of the
//! last bytes), what `poll_timeout` reports, a reset, and input at the core's event bound
//! — each with and without TLS. The time is whatever the test says; nothing sleeps.

mod support;

use std::io::ErrorKind;
use std::time::Duration;

use jabber_net::{Error, LINGER, Link, Options};
use jabber_proto::client::{self, CloseReason, Config, Event, StanzaEvent, StreamEvent};
use jabber_proto::time::Instant;
use jabber_proto::xml::Element;

use support::{CLASSIC_HEADER, DOMAIN, Pair, Pki, config, pki, trusting};

const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

/// No timer of the core runs, so that every deadline seen is the link's.
fn quiet() -> Config {
    let mut c = config();
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    c
}

fn plain(write_timeout: Option<Duration>) -> Options {
    let mut options = Options::plain();
    options.write_timeout = write_timeout;
    options
}

fn tls(pki: &Pki, write_timeout: Option<Duration>) -> Options {
    let mut options = trusting(pki);
    options.write_timeout = write_timeout;
    options
}

/// Writes everything the link offers at `now`; the bytes.
fn write_all(link: &mut Link, now: Instant) -> Vec<u8> {
    let mut wire = Vec::new();
    while let Some(bytes) = link.poll_transmit() {
        wire.extend_from_slice(bytes);
        let n = bytes.len();
        link.advance_transmit(now, n);
    }
    wire
}

/// A plain link at `t = 0` whose stream is open, with nothing left to write or take.
fn opened_plain(config: Config, options: &Options) -> Link {
    let mut link = Link::new(config, options, Instant::ZERO).expect("link");
    write_all(&mut link, Instant::ZERO);
    link.handle_input(Instant::ZERO, CLASSIC_HEADER.as_bytes())
        .expect("header");
    while link.poll_event().is_some() {}
    link
}

/// A TLS pair at `t = 0` after the handshake and the header, nothing left to take.
fn opened_tls(config: Config, options: &Options, pki: &Pki) -> Pair {
    let mut pair = Pair::opened(config, options, pki);
    pair.events.clear();
    pair
}

fn chat(text: &str) -> Element {
    let bob = jabber_proto::jid::Jid::parse("bob@example.com").expect("jid");
    jabber_proto::stanza::Message::new(jabber_proto::stanza::MessageType::Chat, &bob, text)
        .expect("message")
        .into()
}

fn messages(range: std::ops::Range<usize>) -> String {
    range
        .map(|i| format!("<message from='bob@example.com/x'><body>{i}</body></message>"))
        .collect()
}

fn body(event: &Event) -> Option<usize> {
    match event {
        Event::Stanza(StanzaEvent::Message(m)) => m.body().and_then(|b| b.parse().ok()),
        _ => None,
    }
}

fn assert_timed_out(result: Result<(), Error>) {
    match result {
        Err(Error::Io(e)) => assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}"),
        other => panic!("expected the write timeout, got {other:?}"),
    }
}

// ---- the write timeout ----

#[test]
fn the_write_timeout_fires_exactly_at_the_limit() {
    // The stream header waits from t = 0 and the socket takes none of it.
    let mut link = Link::new(quiet(), &plain(Some(WRITE_TIMEOUT)), Instant::ZERO).expect("link");
    assert!(link.wants_write());
    assert_eq!(link.poll_timeout(), Some(at(10_000)));
    link.handle_timeout(at(9_999)).expect("not yet");
    assert!(link.poll_transmit().is_some(), "the bytes still wait");
    assert_timed_out(link.handle_timeout(at(10_000)));
}

#[test]
fn progress_restarts_the_write_timeout() {
    let mut link = Link::new(quiet(), &plain(Some(WRITE_TIMEOUT)), Instant::ZERO).expect("link");
    // The socket takes 5 bytes at t = 4 s: the limit runs from there.
    assert!(link.poll_transmit().expect("the header").len() > 5);
    link.advance_transmit(at(4_000), 5);
    assert_eq!(link.poll_timeout(), Some(at(14_000)));
    link.handle_timeout(at(13_999)).expect("not yet");
    // A write of nothing is no progress.
    link.advance_transmit(at(13_999), 0);
    assert_eq!(link.poll_timeout(), Some(at(14_000)));
    assert_timed_out(link.handle_timeout(at(14_000)));
}

#[test]
fn nothing_waiting_means_no_write_timeout() {
    let mut link = Link::new(quiet(), &plain(Some(WRITE_TIMEOUT)), Instant::ZERO).expect("link");
    write_all(&mut link, at(1_000));
    assert!(!link.wants_write());
    assert_eq!(link.poll_timeout(), None);
    link.handle_timeout(at(1_000_000))
        .expect("nothing is stalled");
    // New bytes start a new count, from the command that made them.
    link.handle_input(at(2_000_000), CLASSIC_HEADER.as_bytes())
        .expect("header");
    link.command(at(2_000_500), |c, now| c.send(now, chat("hi")))
        .expect("sent");
    assert_eq!(link.poll_timeout(), Some(at(2_010_500)));
}

#[test]
fn the_write_timeout_runs_on_the_encrypted_bytes_too() {
    let pki = pki(&[DOMAIN]);
    let mut pair = opened_tls(quiet(), &tls(&pki, Some(WRITE_TIMEOUT)), &pki);
    assert_eq!(pair.link.poll_timeout(), None, "all written");
    pair.link
        .command(at(1_000), |c, now| c.send(now, chat("hi")))
        .expect("sent");
    assert_eq!(pair.link.poll_timeout(), Some(at(11_000)));
    // Part of the record leaves at 3 s.
    let n = pair.link.poll_transmit().expect("a record").len();
    assert!(n > 1);
    pair.link.advance_transmit(at(3_000), 1);
    assert_eq!(pair.link.poll_timeout(), Some(at(13_000)));
    pair.link.handle_timeout(at(12_999)).expect("not yet");
    assert_timed_out(pair.link.handle_timeout(at(13_000)));
}

// ---- the linger time ----

/// The server's stream error at `closed`: the core closes at once, its stream end waits.
fn stream_error() -> &'static str {
    "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
}

fn assert_lingers_until(link: &mut Link, closed: Instant) {
    assert!(link.is_closed());
    let end = closed + LINGER;
    assert_eq!(link.poll_timeout(), Some(end));
    link.handle_timeout(at(end.as_millis() - 1))
        .expect("not yet");
    assert!(!link.is_finished());
    assert!(link.wants_write());
    assert!(link.poll_transmit().is_some(), "still offered");
    assert_eq!(link.poll_timeout(), Some(end));
    link.handle_timeout(end).expect("given up");
    assert!(link.is_finished());
    assert!(!link.wants_write());
    assert!(link.poll_transmit().is_none());
    assert_eq!(link.poll_timeout(), None);
}

#[test]
fn the_last_bytes_are_given_up_exactly_at_the_end_of_the_linger_time() {
    let mut link = opened_plain(quiet(), &plain(None));
    let closed = at(2_000);
    link.handle_input(closed, stream_error().as_bytes())
        .expect("input");
    assert!(matches!(
        link.poll_event(),
        Some(Event::Closed(CloseReason::StreamError(_)))
    ));
    assert_lingers_until(&mut link, closed);
}

#[test]
fn with_tls_the_last_bytes_and_close_notify_linger_as_long() {
    let pki = pki(&[DOMAIN]);
    let mut pair = opened_tls(quiet(), &tls(&pki, None), &pki);
    let closed = at(2_000);
    let wire = pair.server_encrypts(stream_error());
    pair.link.handle_input(closed, &wire).expect("input");
    assert_lingers_until(&mut pair.link, closed);
}

#[test]
fn the_last_bytes_written_in_time_finish_the_link() {
    let mut link = opened_plain(quiet(), &plain(None));
    link.handle_input(at(2_000), stream_error().as_bytes())
        .expect("input");
    assert!(!link.is_finished());
    // Written a moment before the end of the linger time.
    let rest = write_all(&mut link, at(6_999));
    assert!(rest.ends_with(b"</stream:stream>"));
    assert!(link.is_finished());
    assert_eq!(link.poll_timeout(), None);
}

#[test]
fn the_write_timeout_can_cut_the_linger_time_short() {
    // The header waits from t = 0 (limit 10 s); the core closes at 8 s (linger to 13 s).
    let mut link = Link::new(quiet(), &plain(Some(WRITE_TIMEOUT)), Instant::ZERO).expect("link");
    link.handle_input(at(8_000), CLASSIC_HEADER.as_bytes())
        .expect("header");
    link.handle_input(at(8_000), stream_error().as_bytes())
        .expect("stream error");
    assert!(link.is_closed());
    assert_eq!(link.poll_timeout(), Some(at(10_000)));
    assert_timed_out(link.handle_timeout(at(10_000)));
}

// ---- poll_timeout ----

#[test]
fn poll_timeout_is_the_earliest_of_the_core_and_the_link() {
    let mut c = quiet();
    c.keepalive_interval = Some(Duration::from_secs(30));
    let mut link = opened_plain(c, &plain(Some(WRITE_TIMEOUT)));
    let core = link.client().poll_timeout().expect("the keepalive");
    assert_eq!(
        link.poll_timeout(),
        Some(core),
        "nothing waits to be written"
    );
    // Bytes waiting from 25 s: their write timeout (35 s) against the core's timer.
    link.command(at(25_000), |c, now| c.send(now, chat("hi")))
        .expect("sent");
    let core = link.client().poll_timeout().expect("the keepalive");
    assert_eq!(link.poll_timeout(), Some(core.min(at(35_000))));
    // The core's deadline, when it comes first, is run by the link's handle_timeout.
    write_all(&mut link, at(25_000));
    link.handle_timeout(core).expect("the keepalive");
    assert!(
        link.poll_timeout().is_some_and(|t| t > core),
        "the core re-armed its timer"
    );
}

// ---- reset ----

fn assert_reset(link: &mut Link, now: Instant) {
    link.handle_reset(now);
    let events: Vec<Event> = std::iter::from_fn(|| link.poll_event()).collect();
    assert!(
        matches!(events.as_slice(), [Event::Closed(CloseReason::Reset)]),
        "{events:?}"
    );
    assert!(link.is_finished(), "nothing more can be written");
    assert!(!link.wants_write());
    assert!(link.poll_transmit().is_none());
    assert_eq!(link.poll_timeout(), None);
    // Nothing follows a reset: later input is dropped, and a second reset is harmless.
    assert!(link.wants_input());
    link.handle_input(now, b"<message><body>late</body></message>")
        .expect("dropped");
    link.handle_eof(now).expect("dropped");
    link.handle_reset(now);
    assert!(link.poll_event().is_none());
}

#[test]
fn a_reset_ends_at_once_and_drops_the_unsent_bytes() {
    let mut link = opened_plain(quiet(), &plain(Some(WRITE_TIMEOUT)));
    link.command(at(1_000), |c, now| c.send(now, chat("never sent")))
        .expect("sent");
    assert!(link.wants_write());
    assert_reset(&mut link, at(1_500));
}

#[test]
fn with_tls_a_reset_drops_the_encrypted_bytes_too() {
    let pki = pki(&[DOMAIN]);
    let mut pair = opened_tls(quiet(), &tls(&pki, Some(WRITE_TIMEOUT)), &pki);
    pair.link
        .command(at(1_000), |c, now| c.send(now, chat("never sent")))
        .expect("sent");
    // Part of it is encrypted and half written already.
    let n = pair.link.poll_transmit().expect("a record").len();
    pair.link.advance_transmit(at(1_000), n / 2);
    assert_reset(&mut pair.link, at(1_500));
}

#[test]
fn a_reset_while_the_last_bytes_linger_finishes_the_link() {
    let mut link = opened_plain(quiet(), &plain(None));
    link.handle_input(at(2_000), stream_error().as_bytes())
        .expect("input");
    assert!(matches!(link.poll_event(), Some(Event::Closed(_))));
    assert!(!link.is_finished());
    link.handle_reset(at(2_100));
    assert!(link.is_finished());
    assert!(link.poll_transmit().is_none());
    assert!(link.poll_event().is_none(), "one Closed only");
}

#[test]
fn events_before_a_reset_come_before_its_closed() {
    let mut link = opened_plain(quiet(), &plain(None));
    link.handle_input(at(1_000), messages(0..1).as_bytes())
        .expect("input");
    link.handle_reset(at(1_000));
    let events: Vec<Event> = std::iter::from_fn(|| link.poll_event()).collect();
    assert!(
        matches!(
            events.as_slice(),
            [
                Event::Stanza(StanzaEvent::Message(_)),
                Event::Closed(CloseReason::Reset)
            ]
        ),
        "{events:?}"
    );
}

// ---- the event bound ----

/// Events the application takes, when it takes them.
fn drain(link: &mut Link, into: &mut Vec<usize>) -> usize {
    let mut n = 0;
    while let Some(event) = link.poll_event() {
        n += 1;
        if let Some(i) = body(&event) {
            into.push(i);
        } else {
            assert!(
                matches!(
                    event,
                    Event::Closed(_) | Event::Stream(StreamEvent::Opened(_))
                ),
                "{event:?}"
            );
        }
    }
    n
}

fn refused(result: Result<(), Error>) -> bool {
    matches!(result, Err(Error::Client(client::Error::EventQueueFull)))
}

#[test]
fn without_tls_a_full_queue_refuses_input_and_takes_none_of_it() {
    let mut c = quiet();
    c.max_events = 2;
    let mut link = opened_plain(c, &plain(None));
    let now = at(1_000);
    // One input with five messages: the core takes it all and stops parsing at two events.
    link.handle_input(now, messages(0..5).as_bytes())
        .expect("taken");
    assert!(!link.wants_input());
    assert_eq!(link.poll_timeout(), None, "no room: nothing to resume yet");
    // The application does not drain: more input is refused, none of it taken.
    let more = messages(5..8);
    assert!(refused(link.handle_input(now, more.as_bytes())));
    assert!(refused(link.handle_input(now, more.as_bytes())));
    let mut seen = Vec::new();
    // Drained, the rest resumes at once, as far as the bound allows each time.
    while !link.wants_input() {
        assert_eq!(drain(&mut link, &mut seen), 2);
        assert_eq!(link.poll_timeout(), Some(now), "due at once");
        link.handle_timeout(now).expect("resumed");
    }
    drain(&mut link, &mut seen);
    assert_eq!(seen, (0..5).collect::<Vec<_>>());
    // The refused bytes, offered again, are taken now.
    link.handle_input(now, more.as_bytes()).expect("taken");
    while !link.wants_input() {
        drain(&mut link, &mut seen);
        link.handle_timeout(now).expect("resumed");
    }
    drain(&mut link, &mut seen);
    assert_eq!(seen, (0..8).collect::<Vec<_>>());
}

#[test]
fn with_tls_plaintext_waits_in_rustls_until_the_core_has_room() {
    let pki = pki(&[DOMAIN]);
    let mut c = quiet();
    c.max_events = 3;
    let mut pair = opened_tls(c, &tls(&pki, None), &pki);
    let now = at(1_000);
    // About 30 KiB of plaintext in one input: more than rustls keeps decrypted (16 KiB),
    // so part of the ciphertext has to wait in the link.
    let count = 500;
    let wire = pair.server_encrypts(&messages(0..count));
    assert!(wire.len() > 20_000, "{}", wire.len());
    pair.link.handle_input(now, &wire).expect("taken whole");
    assert!(!pair.link.wants_input());
    assert_eq!(
        pair.link.poll_timeout(),
        None,
        "no room: nothing to resume yet"
    );
    // Not drained: further input is refused before rustls sees it.
    let more = pair.server_encrypts(&messages(count..count + 1));
    assert!(refused(pair.link.handle_input(now, &more)));
    let mut seen = Vec::new();
    let mut rounds = 0;
    while !pair.link.wants_input() {
        // Full, with input waiting: refused, however often it is offered.
        assert!(refused(pair.link.handle_input(now, &more)));
        assert_eq!(drain(&mut pair.link, &mut seen), 3);
        assert_eq!(pair.link.poll_timeout(), Some(now), "due at once");
        pair.link.handle_timeout(now).expect("resumed");
        rounds += 1;
    }
    drain(&mut pair.link, &mut seen);
    assert!(rounds >= count / 3, "{rounds} rounds");
    assert_eq!(seen, (0..count).collect::<Vec<_>>(), "all, in order");
    pair.link.handle_input(now, &more).expect("taken now");
    drain(&mut pair.link, &mut seen);
    assert_eq!(seen.len(), count + 1);
}

#[test]
fn with_tls_the_end_of_input_waits_behind_the_plaintext() {
    let pki = pki(&[DOMAIN]);
    let mut c = quiet();
    c.max_events = 2;
    let mut pair = opened_tls(c, &tls(&pki, None), &pki);
    let now = at(1_000);
    let wire = pair.server_encrypts(&messages(0..10));
    pair.link.handle_input(now, &wire).expect("taken");
    // The socket ends while plaintext waits: the end is taken and comes after it.
    pair.link.handle_eof(now).expect("end");
    let mut seen = Vec::new();
    let mut closed = None;
    for _ in 0..100 {
        while let Some(event) = pair.link.poll_event() {
            match event {
                Event::Closed(reason) => closed = Some((reason, seen.len())),
                other => seen.extend(body(&other)),
            }
        }
        if closed.is_some() {
            break;
        }
        pair.link.handle_timeout(now).expect("resumed");
    }
    assert_eq!(seen, (0..10).collect::<Vec<_>>());
    assert!(
        matches!(closed, Some((CloseReason::EndOfInput { .. }, 10))),
        "{closed:?}"
    );
}

/// A driver that offers input only when `wants_input` says so (and otherwise drains and
/// runs `handle_timeout`, as the adapters do) is never refused, whatever the chunking.
fn heeding_driver(link: &mut Link, wire: &[u8], piece: usize, now: Instant) -> Vec<usize> {
    let mut seen = Vec::new();
    for chunk in wire.chunks(piece) {
        while !link.wants_input() {
            drain(link, &mut seen);
            link.handle_timeout(now).expect("resumed");
        }
        link.handle_input(now, chunk)
            .expect("wants_input promised it");
        // This application takes one event per input only.
        if let Some(event) = link.poll_event() {
            seen.extend(body(&event));
        }
    }
    while !link.wants_input() {
        drain(link, &mut seen);
        link.handle_timeout(now).expect("resumed");
    }
    drain(link, &mut seen);
    seen
}

#[test]
fn wants_input_tells_when_input_is_taken() {
    let plaintext = messages(0..300);
    for piece in [7, 100, 4096, 100_000] {
        let mut c = quiet();
        c.max_events = 4;
        let mut link = opened_plain(c.clone(), &plain(None));
        let seen = heeding_driver(&mut link, plaintext.as_bytes(), piece, at(5));
        assert_eq!(
            seen,
            (0..300).collect::<Vec<_>>(),
            "plain, pieces of {piece}"
        );

        let pki = pki(&[DOMAIN]);
        let mut pair = opened_tls(c, &tls(&pki, None), &pki);
        let wire = pair.server_encrypts(&plaintext);
        let seen = heeding_driver(&mut pair.link, &wire, piece, at(5));
        assert_eq!(seen, (0..300).collect::<Vec<_>>(), "TLS, pieces of {piece}");
    }
}

#[test]
fn a_time_earlier_than_one_seen_counts_as_the_latest() {
    let mut link = Link::new(quiet(), &plain(Some(WRITE_TIMEOUT)), Instant::ZERO).expect("link");
    link.handle_timeout(at(2_000)).expect("not yet");
    // A stale time for a write: the progress counts from 2 s, not from 0.5 s.
    link.advance_transmit(at(500), 5);
    assert_eq!(link.poll_timeout(), Some(at(12_000)));
}

/// A deadline that is due does not stop reading: the answer to an IQ whose deadline has
/// passed may already be in the socket, and a driver that obeys `wants_input` reads it
/// before `handle_timeout` gets to time the IQ out.
#[test]
fn a_due_deadline_does_not_stop_reading() {
    let mut c = quiet();
    c.iq_timeout = Duration::from_secs(60);
    let mut link = opened_plain(c, &plain(None));
    let ping = Element::builder("ping", "urn:xmpp:ping")
        .build()
        .expect("valid");
    let id = link
        .command(at(0), |c, now| {
            c.send_iq(now, None, jabber_proto::stanza::IqType::Get, ping)
        })
        .expect("sent");
    let wire = String::from_utf8(write_all(&mut link, at(0))).expect("UTF-8");
    let wire_id = wire
        .split("id='")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("an id")
        .to_owned();
    let late = at(61_000);
    assert!(link.poll_timeout().is_some_and(|t| t <= late));
    assert!(link.wants_input(), "a due deadline stopped reading");
    link.handle_input(
        late,
        format!("<iq type='result' id='{wire_id}'/>").as_bytes(),
    )
    .expect("taken");
    link.handle_timeout(late).expect("nothing fails");
    let events: Vec<Event> = std::iter::from_fn(|| link.poll_event()).collect();
    assert!(
        matches!(events.as_slice(), [Event::Iq(client::IqEvent::Result { id: got, .. })] if *got == id),
        "{events:?}"
    );
}
