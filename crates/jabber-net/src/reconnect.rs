//! Reconnection as a sans-IO policy: which delay before attempt `n`, when to give up, and
//! a way to stop — shared by the adapters, which only sleep and connect.
//!
//! The delay grows exponentially from [`Backoff::initial`] to [`Backoff::max`], with
//! "equal jitter": half of it fixed, the other half drawn from the seed the adapter gives
//! (never from an RNG here), so that many clients cut off at once do not come back at
//! once, and a test with a fixed seed sees fixed delays.

use std::time::Duration;

use jabber_proto::client::{Client, CloseReason, Error as ClientError, Event};
use jabber_proto::features::stream_management::Resumption;
use jabber_proto::xml::Element;

use crate::{Error, Link, Resumed};

/// How reconnection backs off. Start from `Backoff::default()` and change fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The delay before the first attempt (before jitter). Default 500 ms.
    pub initial: Duration,
    /// The largest delay (before jitter). Default 60 s.
    pub max: Duration,
    /// Attempts after which reconnection gives up; `None`: never. Default 10.
    pub max_attempts: Option<u32>,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(60),
            max_attempts: Some(10),
        }
    }
}

impl Backoff {
    /// The delay before attempt `attempt` (0 for the first), jittered by `seed`: between
    /// half and all of `min(max, initial * 2^attempt)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use jabber_net::Backoff;
    /// let b = Backoff::default();
    /// let d = b.delay(3, 42);
    /// assert!(d >= Duration::from_secs(2) && d <= Duration::from_secs(4));
    /// assert_eq!(d, b.delay(3, 42)); // the same seed, the same delay
    /// ```
    pub fn delay(&self, attempt: u32, seed: u64) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        let cap = self
            .initial
            .checked_mul(factor)
            .unwrap_or(self.max)
            .min(self.max);
        let cap_ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
        let half = cap_ms / 2;
        let spread = cap_ms - half;
        let jitter = mix(seed ^ u64::from(attempt).wrapping_mul(0x9e37_79b9_7f4a_7c15))
            % spread.saturating_add(1);
        Duration::from_millis(half + jitter)
    }
}

/// One reconnection run: counts attempts, gives the next delay, stops on request.
///
/// ```
/// use jabber_net::{Backoff, Reconnect};
/// let mut r = Reconnect::new(Backoff { max_attempts: Some(2), ..Backoff::default() }, 7);
/// assert!(r.next_delay().is_some());
/// assert!(r.next_delay().is_some());
/// assert_eq!(r.next_delay(), None); // gave up
/// r.succeeded();
/// assert_eq!(r.attempts(), 0);
/// r.stop();
/// assert_eq!(r.next_delay(), None);
/// ```
#[derive(Clone, Debug)]
pub struct Reconnect {
    backoff: Backoff,
    seed: u64,
    attempts: u32,
    stopped: bool,
}

impl Reconnect {
    /// A run with `backoff`, its jitter drawn from `seed` (e.g.
    /// [`fresh_seed`](crate::fresh_seed)).
    pub fn new(backoff: Backoff, seed: u64) -> Reconnect {
        Reconnect {
            backoff,
            seed,
            attempts: 0,
            stopped: false,
        }
    }

    /// The delay before the next attempt, counting it; `None` when the maximum is
    /// reached or [`stop`](Self::stop) was called.
    pub fn next_delay(&mut self) -> Option<Duration> {
        if self.stopped
            || self
                .backoff
                .max_attempts
                .is_some_and(|m| self.attempts >= m)
        {
            return None;
        }
        let d = self.backoff.delay(self.attempts, self.seed);
        self.attempts += 1;
        Some(d)
    }

    /// Attempts made since the last success.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Connected again: the next loss starts from the initial delay.
    pub fn succeeded(&mut self) {
        self.attempts = 0;
        // A new jitter sequence for the next run.
        self.seed = mix(self.seed);
    }

    /// No more attempts.
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// Whether [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }
}

/// splitmix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_within_jitter_and_caps() {
        let b = Backoff::default();
        for seed in 0..200u64 {
            for n in 0..12u32 {
                let cap = (500u64 << n).min(60_000);
                let d = u64::try_from(b.delay(n, seed).as_millis()).unwrap();
                assert!(d >= cap / 2 && d <= cap, "attempt {n} seed {seed}: {d} ms");
            }
        }
        // Far attempts stay at the cap, without overflow.
        assert!(b.delay(u32::MAX, 1) <= Duration::from_secs(60));
    }

    #[test]
    fn jitter_spreads_clients() {
        let b = Backoff::default();
        let delays: std::collections::BTreeSet<_> = (0..100u64).map(|s| b.delay(4, s)).collect();
        assert!(delays.len() > 50, "{} distinct delays", delays.len());
    }

    use jabber_proto::client::{Config, Error as CoreError};
    use jabber_proto::jid::Jid;
    use jabber_proto::negotiation::auth::Credentials;
    use jabber_proto::stanza::{IqType, Message, MessageType};
    use jabber_proto::time::Instant;

    fn backoff(max_attempts: u32) -> Backoff {
        Backoff {
            max_attempts: Some(max_attempts),
            ..Backoff::default()
        }
    }

    fn message(body: &str) -> Element {
        let to = Jid::parse("bob@example.com").unwrap();
        Message::new(MessageType::Chat, &to, body).unwrap().into()
    }

    /// A link logged in over 1.0 with stream management enabled, `sent` messages out
    /// and none acknowledged; its transport not failed yet.
    fn live_link(sent: usize) -> Link {
        let now = Instant::ZERO;
        let mut config = Config::new("example.com", crate::fresh_seed());
        config.version = Some("1.0".into());
        config.transport_encrypted = true;
        config.fetch_roster = false;
        config.initial_presence = false;
        config.sm_max_unacked = 3;
        let mut l = Link::new(config, &crate::Options::plain(), now).unwrap();
        l.command(now, |c, now| {
            c.login(now, Credentials::new("alice", "pw", "r"))
        })
        .unwrap();
        let header = "<stream:stream xmlns='jabber:client' \
            xmlns:stream='http://etherx.jabber.org/streams' id='s' version='1.0'>";
        let input = |l: &mut Link, xml: &str| {
            l.handle_input(now, xml.as_bytes()).unwrap();
            let mut out = Vec::new();
            while let Some(bytes) = l.poll_transmit() {
                out.extend_from_slice(bytes);
                let n = bytes.len();
                l.advance_transmit(now, n);
            }
            while l.poll_event().is_some() {}
            String::from_utf8(out).unwrap()
        };
        input(&mut l, header);
        input(
            &mut l,
            "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
            <mechanism>PLAIN</mechanism></mechanisms></stream:features>",
        );
        input(
            &mut l,
            "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
        );
        input(&mut l, header);
        let bind = input(
            &mut l,
            "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>\
            <sm xmlns='urn:xmpp:sm:3'/></stream:features>",
        );
        let id = bind
            .split("id='")
            .nth(1)
            .and_then(|s| s.split('\'').next())
            .unwrap()
            .to_owned();
        input(
            &mut l,
            &format!(
                "<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
            <jid>alice@example.com/r</jid></bind></iq>"
            ),
        );
        input(
            &mut l,
            "<enabled xmlns='urn:xmpp:sm:3' id='sm' resume='true'/>",
        );
        for i in 0..sent {
            l.command(now, |c, now| c.send(now, message(&format!("m{i}"))))
                .unwrap();
        }
        l
    }

    /// [`live_link`], then reset.
    fn lost_client(sent: usize) -> Link {
        let mut l = live_link(sent);
        l.handle_reset(Instant::ZERO);
        l
    }

    #[test]
    fn a_loss_is_reported_then_attempts_announced_made_and_given_up() {
        let mut r = Recovery::new(backoff(2), 5, 10);
        let mut link = lost_client(2);
        r.lost(&mut link, Instant::ZERO);
        assert!(matches!(
            r.step(),
            Step::Report(Item::Disconnected(Some(CloseReason::Reset)))
        ));
        for attempt in 1..=2 {
            let Step::Report(Item::Attempt { attempt: n, delay }) = r.step() else {
                panic!("an attempt announced");
            };
            assert_eq!(n, attempt);
            assert!(matches!(r.step(), Step::Attempt(d) if d == delay));
            assert_eq!(r.resumption().map(|x| x.unacked.len()), Some(2));
            let failed = r.attempted(Err(Error::Closed(CloseReason::Reset)));
            assert!(matches!(failed, Item::AttemptFailed(_)));
        }
        assert!(matches!(r.step(), Step::Report(Item::GaveUp)));
        assert!(matches!(r.step(), Step::Done));
    }

    #[test]
    fn resumption_locations_parse_as_xep_0198_writes_them() {
        let p = |s| super::parse_location(s, 5222);
        assert_eq!(
            p("node2.example.com"),
            Some(("node2.example.com".into(), 5222))
        );
        assert_eq!(p("10.0.0.2:5223"), Some(("10.0.0.2".into(), 5223)));
        assert_eq!(p("[2001:db8::2]:5280"), Some(("2001:db8::2".into(), 5280)));
        assert_eq!(p("[2001:db8::2]"), Some(("2001:db8::2".into(), 5222)));
        assert_eq!(p("2001:db8::2"), Some(("2001:db8::2".into(), 5222)));
        for bad in ["", ":5222", "host:port", "[::1]x", "[]:5222", "host:99999"] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
        let a = |s: &str| s.parse::<std::net::SocketAddr>().unwrap();
        assert_eq!(
            super::prefer([a("10.0.0.2:1")], &[a("10.0.0.1:1"), a("10.0.0.2:1")]),
            vec![a("10.0.0.2:1"), a("10.0.0.1:1")]
        );
    }

    #[test]
    fn stanzas_never_sent_are_reported_when_the_session_ends_without_resuming() {
        // Two sent by the lost core, two taken while offline; reconnection stopped.
        let mut r = Recovery::new(backoff(3), 5, 10);
        r.lost(&mut lost_client(2), Instant::ZERO);
        r.queue(message("offline1")).unwrap();
        r.requeue([message("offline2")]);
        r.stop();
        assert!(matches!(r.step(), Step::Report(Item::Disconnected(_))));
        assert!(matches!(r.step(), Step::Report(Item::GaveUp)));
        let Step::Report(Item::NotSent { stanzas, error }) = r.step() else {
            panic!("the stanzas taken while offline are reported");
        };
        assert_eq!(error, CoreError::Closed);
        assert_eq!(stanzas, vec![message("offline1"), message("offline2")]);
        assert!(matches!(r.step(), Step::Done));
        // The same when the application ends the session.
        let mut r = Recovery::new(backoff(3), 5, 10);
        r.lost(&mut lost_client(1), Instant::ZERO);
        r.queue(message("offline")).unwrap();
        r.finish();
        assert!(matches!(r.step(), Step::Report(Item::Disconnected(_))));
        assert!(matches!(
            r.step(),
            Step::Report(Item::NotSent { stanzas, .. }) if stanzas.len() == 1
        ));
        assert!(matches!(r.step(), Step::Done));
    }

    #[test]
    fn stanzas_wait_with_the_session_within_the_bound() {
        let mut r = Recovery::new(backoff(3), 5, 3);
        // Nothing to resume: nowhere for a stanza to wait.
        assert!(matches!(
            r.queue(message("x")),
            Err(Error::Client(CoreError::Closed))
        ));
        r.lost(&mut lost_client(2), Instant::ZERO);
        r.queue(message("late")).unwrap();
        assert!(matches!(
            r.queue(message("too many")),
            Err(Error::Client(CoreError::UnackedQueueFull))
        ));
        assert_eq!(r.resumption().unwrap().unacked.len(), 3);
        // Resumed: what waited went out with it.
        let jid = Jid::parse("alice@example.com/r").unwrap();
        let item = r.attempted(Ok(Resumed::Resumed { jid, resent: 3 }));
        assert!(matches!(item, Item::Reconnected(_)));
        assert!(r.resumption().is_none());
    }

    #[test]
    fn stanzas_taken_but_not_yet_sent_survive_a_full_core_up_to_what_resume_takes() {
        // The core holds its bound (3) unacknowledged; four more were taken by the
        // adapter (told `Ok`) but not yet by the core when the connection dropped.
        let mut r = Recovery::new(backoff(3), 5, 3);
        let mut link = live_link(3);
        r.lost(&mut link, Instant::ZERO);
        r.requeue((0..4).map(|i| message(&format!("late{i}"))));
        // What `Client::resume` accepts: twice the bound.
        assert_eq!(r.resumption().unwrap().unacked.len(), 6);
        assert!(matches!(r.step(), Step::Report(Item::Disconnected(_))));
        let Step::Report(Item::NotSent { stanzas, error }) = r.step() else {
            panic!("the stanza beyond the bound reported");
        };
        assert_eq!(error, CoreError::UnackedQueueFull);
        assert_eq!(stanzas, vec![message("late3")]);
        assert!(matches!(r.step(), Step::Report(Item::Attempt { .. })));
        // The resumption the adapter hands over is one the core takes.
        let mut config = Config::new("example.com", crate::fresh_seed());
        config.version = Some("1.0".into());
        config.sm_max_unacked = 3;
        let mut fresh = Client::new(config, Instant::ZERO);
        fresh
            .resume(
                Instant::ZERO,
                Credentials::new("alice", "pw", "r"),
                r.resumption().unwrap(),
            )
            .unwrap();
    }

    #[test]
    fn without_a_session_to_resume_requeued_stanzas_are_reported() {
        let mut r = Recovery::new(backoff(3), 5, 3);
        r.requeue([message("a"), message("b")]);
        let Step::Report(Item::NotSent { stanzas, error }) = r.step() else {
            panic!("reported");
        };
        assert_eq!((stanzas.len(), error), (2, CoreError::Closed));
    }

    #[test]
    fn a_transport_failure_the_core_never_saw_still_carries_requests_in_flight() {
        let mut r = Recovery::new(backoff(3), 5, 10);
        let mut link = live_link(0);
        let now = Instant::ZERO;
        let query = Element::builder("query", "jabber:iq:version")
            .build()
            .unwrap();
        link.command(now, |c, now| c.send_iq(now, None, IqType::Get, query))
            .unwrap();
        // A write timeout or an I/O error: the core is still open.
        assert!(!link.is_closed());
        r.lost(&mut link, now);
        assert_eq!(r.resumption().unwrap().in_flight.len(), 1);
        // The old core refuses commands from now on.
        assert!(link.is_closed());
        assert_eq!(
            link.command(now, |c, now| c.send(now, message("x"))),
            Err(CoreError::Closed)
        );
    }

    #[test]
    fn a_failed_write_keeps_the_stanza_once() {
        let mut r = Recovery::new(backoff(3), 5, 10);
        let mut link = lost_client(1);
        let now = Instant::ZERO;
        // The core took it before the write failed (one more unacked than before) ...
        r.send_failed(&mut link, now, Some(0), message("m0"))
            .unwrap();
        assert_eq!(r.resumption().unwrap().unacked.len(), 1);
        // ... or did not: then it joins the session to resume.
        r.send_failed(&mut link, now, Some(1), message("m1"))
            .unwrap();
        assert_eq!(r.resumption().unwrap().unacked.len(), 2);
    }

    #[test]
    fn an_orderly_close_or_a_stop_ends_the_session() {
        let mut r = Recovery::new(backoff(3), 5, 10);
        assert!(!r.ends_session(&CloseReason::Reset));
        assert!(r.ends_session(&CloseReason::Local));
        let mut r = Recovery::new(backoff(3), 5, 10);
        r.stop();
        assert!(r.ends_session(&CloseReason::Reset));
        assert!(matches!(r.step(), Step::Done));
    }

    #[test]
    fn a_stop_after_an_announcement_makes_no_attempt() {
        let mut r = Recovery::new(backoff(3), 5, 10);
        r.lost(&mut lost_client(0), Instant::ZERO);
        assert!(matches!(r.step(), Step::Report(Item::Disconnected(_))));
        assert!(matches!(r.step(), Step::Report(Item::Attempt { .. })));
        r.stop();
        assert!(matches!(r.step(), Step::Report(Item::GaveUp)));
        assert!(r.is_done());
        assert!(matches!(r.step(), Step::Done));
    }

    #[test]
    fn gives_up_after_the_maximum_and_on_stop() {
        let mut r = Reconnect::new(
            Backoff {
                max_attempts: Some(3),
                ..Backoff::default()
            },
            9,
        );
        assert_eq!((0..5).filter_map(|_| r.next_delay()).count(), 3);
        r.succeeded();
        assert!(r.next_delay().is_some());
        r.stop();
        assert!(r.is_stopped() && r.next_delay().is_none());
        let mut forever = Reconnect::new(
            Backoff {
                max_attempts: None,
                ..Backoff::default()
            },
            1,
        );
        assert_eq!((0..1000).filter_map(|_| forever.next_delay()).count(), 1000);
    }
}

/// What a reconnecting session reports besides the connection's events.
#[derive(Debug)]
#[non_exhaustive]
pub enum Item {
    /// An event of the current connection (its `Closed` only when the session ends).
    Event(Event),
    /// Nothing within the time given.
    TimedOut,
    /// The connection was lost (why, when the core knows); reconnection starts.
    Disconnected(Option<CloseReason>),
    /// Attempt `attempt` (1 for the first since the loss) follows after `delay`.
    Attempt {
        /// The attempt's number since the loss.
        attempt: u32,
        /// How long the session waits before it.
        delay: Duration,
    },
    /// The attempt failed; another follows unless the maximum is reached.
    AttemptFailed(Error),
    /// Connected again: the session resumed, or a new one started.
    Reconnected(Resumed),
    /// The maximum number of attempts was reached, or reconnection was stopped.
    GaveUp,
    /// Stanzas the session had taken (their send returned `Ok`) that will never be sent:
    /// more than a resumption carries (`UnackedQueueFull`), nothing to resume them with
    /// (`Closed`), or refused by the new connection's core (e.g. `StanzaTooLarge`).
    NotSent {
        /// The stanzas, in the order they were sent.
        stanzas: Vec<Element>,
        /// Why they cannot go out.
        error: ClientError,
    },
}

/// What a reconnecting session does next while it has no connection.
#[derive(Debug)]
pub enum Step {
    /// Report this item (a loss, an attempt announced, giving up).
    Report(Item),
    /// Wait this long, then connect and log in or resume (see [`Recovery::attempted`]).
    Attempt(Duration),
    /// The session is over.
    Done,
}

/// The decisions of a session that reconnects, shared by the adapters (which only wait,
/// connect and log in): what to keep of a lost connection (its [`Resumption`]), when to
/// announce and make an attempt ([`Reconnect`]), when to give up, and where stanzas sent
/// while disconnected wait.
#[derive(Debug)]
pub struct Recovery {
    reconnect: Reconnect,
    resumption: Option<Resumption>,
    announced: Option<Duration>,
    loss: Option<Option<CloseReason>>,
    done: bool,
    max_queued: usize,
    /// Stanzas [`requeue`](Recovery::requeue) could not keep, to report (no heap when
    /// empty).
    unsent: Vec<Element>,
    /// How many of the resumption's unacknowledged stanzas the lost core had sent; those
    /// after them were taken while offline (or not yet taken by a core) and were never
    /// sent: a session that ends without resuming reports them.
    sent: usize,
}

impl Recovery {
    /// Recovery with `backoff`, jitter from `seed`; at most `max_queued` stanzas wait while
    /// disconnected (with the session's own unacknowledged ones: use
    /// `Config::sm_max_unacked`).
    pub fn new(backoff: Backoff, seed: u64, max_queued: usize) -> Recovery {
        Recovery {
            reconnect: Reconnect::new(backoff, seed),
            resumption: None,
            announced: None,
            loss: None,
            done: false,
            max_queued,
            unsent: Vec::new(),
            sent: 0,
        }
    }

    /// The connection of `link` is lost at `now`: what resumes its session is kept, and
    /// the loss is reported by the next [`step`](Self::step).
    ///
    /// A core the transport failed under without telling it (a write timeout, an I/O or
    /// TLS error) is still open: it is reset here first, so that it refuses further
    /// commands and its resumption carries the requests waiting for replies (the core
    /// moves them there only when it closes).
    pub fn lost(&mut self, link: &mut Link, now: jabber_proto::time::Instant) {
        if !link.is_closed() {
            link.handle_reset(now);
        }
        let client = link.client();
        if let Some(r) = client.resumption() {
            self.sent = r.unacked.len();
            self.resumption = Some(r);
        }
        self.loss = Some(client.close_reason().cloned());
    }

    /// How many stanzas `client` holds unacknowledged (with a resumable session): take it
    /// before a send, for [`send_failed`](Self::send_failed).
    pub fn unacked(client: &Client) -> Option<usize> {
        // Counted, not built: this runs before every send.
        client.unacked_stanzas()
    }

    /// A send on `link`'s connection failed at the transport at `now`, `before` being
    /// [`unacked`](Self::unacked) just before it: the connection is [`lost`](Self::lost),
    /// and the stanza is with its session if the core took it before the write failed,
    /// else it is [`queue`](Self::queue)d.
    pub fn send_failed(
        &mut self,
        link: &mut Link,
        now: jabber_proto::time::Instant,
        before: Option<usize>,
        stanza: Element,
    ) -> Result<(), Error> {
        let taken = before.is_some() && Recovery::unacked(link.client()) > before;
        self.lost(link, now);
        if taken { Ok(()) } else { self.queue(stanza) }
    }

    /// The connection closed with `reason`: `true` when that ends the session (an
    /// orderly close, reconnection stopped, or a stream error that refuses us); then report
    /// it as the last event.
    pub fn ends_session(&mut self, reason: &CloseReason) -> bool {
        if reason.is_clean() || self.reconnect.is_stopped() || refuses_us(reason) {
            self.done = true;
        }
        self.done
    }

    /// What to do while there is no connection.
    pub fn step(&mut self) -> Step {
        if let Some(reason) = self.loss.take() {
            return Step::Report(Item::Disconnected(reason));
        }
        if !self.unsent.is_empty() {
            let error = match self.resumption {
                Some(_) => ClientError::UnackedQueueFull,
                None => ClientError::Closed,
            };
            let stanzas = core::mem::take(&mut self.unsent);
            return Step::Report(Item::NotSent { stanzas, error });
        }
        if self.done {
            // Ended without resuming: what was taken but never sent is reported.
            let never_sent = match &mut self.resumption {
                Some(r) if r.unacked.len() > self.sent => r.unacked.split_off(self.sent),
                _ => Vec::new(),
            };
            if !never_sent.is_empty() {
                return Step::Report(Item::NotSent {
                    stanzas: never_sent,
                    error: ClientError::Closed,
                });
            }
            return Step::Done;
        }
        if let Some(delay) = self.announced.take() {
            return Step::Attempt(delay);
        }
        match self.reconnect.next_delay() {
            Some(delay) => {
                self.announced = Some(delay);
                Step::Report(Item::Attempt {
                    attempt: self.reconnect.attempts(),
                    delay,
                })
            }
            None => {
                self.done = true;
                Step::Report(Item::GaveUp)
            }
        }
    }

    /// What the next connection resumes, if anything (kept until an attempt succeeds).
    pub fn resumption(&self) -> Option<Resumption> {
        self.resumption.clone()
    }

    /// Where the server asked resumption to happen (XEP-0198 §5, `<enabled location/>`),
    /// as host and port (`default_port` when it named none), while there is a session to
    /// resume: an attempt connects there first, then to the usual addresses.
    pub fn location(&self, default_port: u16) -> Option<(String, u16)> {
        let location = self.resumption.as_ref()?.location.as_deref()?;
        parse_location(location, default_port)
    }

    /// The outcome of an attempt, as the item to report.
    pub fn attempted(&mut self, outcome: Result<Resumed, Error>) -> Item {
        match outcome {
            Ok(resumed) => {
                // Resumed or replaced: what the old session held has gone out again.
                self.resumption = None;
                self.sent = 0;
                self.reconnect.succeeded();
                Item::Reconnected(resumed)
            }
            Err(e) => Item::AttemptFailed(e),
        }
    }

    /// A stanza sent while disconnected: it joins the session to resume (and goes out
    /// with it, or, refused, in the new session as a possible duplicate). Refused
    /// without a session to resume (`Closed`) or beyond the bound (`UnackedQueueFull`).
    pub fn queue(&mut self, stanza: Element) -> Result<(), Error> {
        if self.done {
            // Given up or stopped: nothing queued now would ever be sent.
            return Err(Error::Client(ClientError::Closed));
        }
        match &mut self.resumption {
            Some(r) if r.unacked.len() < self.max_queued => {
                r.unacked.push(stanza);
                Ok(())
            }
            Some(_) => Err(Error::Client(ClientError::UnackedQueueFull)),
            None => Err(Error::Client(ClientError::Closed)),
        }
    }

    /// Stanzas the session had already taken (told `Ok`) that the lost connection's core
    /// had not: they join the session to resume after its own unacknowledged ones, up
    /// to what a resumption may carry (`2 * max_queued`, as `Client::resume` takes:
    /// the application's bound plus the client's own answers), not the application's
    /// bound of [`queue`](Self::queue), which the core's stanzas alone may fill. Those
    /// beyond it, or without a session to resume, are reported by the next
    /// [`step`](Self::step) as [`Item::NotSent`] — never dropped unseen.
    pub fn requeue(&mut self, stanzas: impl IntoIterator<Item = Element>) {
        let cap = 2 * self.max_queued.max(1);
        for stanza in stanzas {
            match &mut self.resumption {
                Some(r) if self.unsent.is_empty() && r.unacked.len() < cap => {
                    r.unacked.push(stanza);
                }
                // Keeps the order: once one is refused, so are those after it.
                _ => self.unsent.push(stanza),
            }
        }
    }

    /// No more reconnection: an attempt announced but not made is not made either (the
    /// next [`step`](Self::step) gives up).
    pub fn stop(&mut self) {
        self.reconnect.stop();
        self.announced = None;
    }

    /// The session ended (for good).
    pub fn finish(&mut self) {
        self.done = true;
    }

    /// Whether the session is over: finished, given up, or ended by a close.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

/// `host`, `host:port`, `[v6]:port` or a bare IPv6 literal, as `<enabled location/>`
/// writes it; `None` when empty or malformed.
fn parse_location(location: &str, default_port: u16) -> Option<(String, u16)> {
    let location = location.trim();
    if let Some(rest) = location.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        return (!host.is_empty()).then(|| (host.to_owned(), port));
    }
    match location.split_once(':') {
        // More than one colon and no brackets: an IPv6 literal without a port.
        Some((_, rest)) if rest.contains(':') => Some((location.to_owned(), default_port)),
        Some((host, port)) => {
            Some((host.to_owned(), port.parse().ok()?)).filter(|(h, _)| !h.is_empty())
        }
        None if location.is_empty() => None,
        None => Some((location.to_owned(), default_port)),
    }
}

/// `preferred` first, then the rest of `addrs` (each once): the addresses of an attempt
/// that honours the server's resumption location.
pub fn prefer(
    preferred: impl IntoIterator<Item = std::net::SocketAddr>,
    addrs: &[std::net::SocketAddr],
) -> Vec<std::net::SocketAddr> {
    let mut out: Vec<std::net::SocketAddr> = preferred.into_iter().collect();
    for a in addrs {
        if !out.contains(a) {
            out.push(*a);
        }
    }
    out
}

/// A stream error that says the server will not have this session back: the account,
/// the host or the protocol is refused. Reconnecting cannot help. (`conflict` is not
/// among them: a server sends it to a session another login replaced, which after a cut
/// is often our own earlier connection; nor is `policy-violation`, which servers send
/// for a rate limit, or, as prosody 0.12 does after some resumptions, for a stanza its
/// stale parser state takes as too big.)
fn refuses_us(reason: &CloseReason) -> bool {
    use jabber_proto::stream::Condition;
    matches!(
        reason,
        CloseReason::StreamError(e) if matches!(
            e.condition,
            Condition::NotAuthorized | Condition::HostUnknown
                | Condition::UnsupportedVersion
        )
    )
}
