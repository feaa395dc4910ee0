//! Keepalive (the seed protocol's §3) and dead-peer detection, as pure timer arithmetic.
//!
//! Two clocks: the last time we wrote and the last time anything arrived. Writing nothing
//! for `idle` sends one whitespace (it keeps NATs and the server's idle timer happy).
//! Receiving nothing for `idle` sends a probe (an XMPP ping) when the session allows
//! stanzas, because on a quiet link only a question gets an answer. Receiving nothing for
//! `dead_peer` means the peer is gone.

use core::num::NonZeroU64;
use core::time::Duration;

use crate::time::Instant;

/// What the keepalive wants done now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Due {
    /// Nothing arrived for the dead-peer time.
    Dead,
    /// Ask the server something (it counts as a write too).
    Probe,
    /// Send a single whitespace.
    Whitespace,
}

#[derive(Clone, Debug)]
pub(crate) struct Keepalive {
    /// The intervals in whole milliseconds, the clock's unit (adding a `Duration` to an
    /// [`Instant`] drops the rest anyway): half the room of an `Option<Duration>`.
    idle: Option<NonZeroU64>,
    dead_peer: Option<NonZeroU64>,
    last_sent: Instant,
    last_received: Instant,
    probe_outstanding: bool,
    /// When the last probe went unanswered: the next waits an interval from then.
    probe_lost: Instant,
}

impl Keepalive {
    pub(crate) fn new(now: Instant, idle: Option<Duration>, dead_peer: Option<Duration>) -> Self {
        // The clock counts milliseconds: a shorter interval would be due again at once,
        // forever.
        let at_least_1ms = |d: Duration| {
            let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
            NonZeroU64::new(ms).unwrap_or(NonZeroU64::MIN)
        };
        Keepalive {
            idle: idle.map(at_least_1ms),
            dead_peer: dead_peer.map(at_least_1ms),
            last_sent: now,
            last_received: now,
            probe_outstanding: false,
            probe_lost: now,
        }
    }

    fn idle(&self) -> Option<Duration> {
        self.idle.map(|ms| Duration::from_millis(ms.get()))
    }

    fn dead_peer(&self) -> Option<Duration> {
        self.dead_peer.map(|ms| Duration::from_millis(ms.get()))
    }

    pub(crate) fn on_sent(&mut self, now: Instant) {
        self.last_sent = self.last_sent.max(now);
    }

    pub(crate) fn on_received(&mut self, now: Instant) {
        self.last_received = self.last_received.max(now);
    }

    pub(crate) fn on_probe_answered(&mut self) {
        self.probe_outstanding = false;
    }

    pub(crate) fn on_probe_lost(&mut self, now: Instant) {
        self.probe_outstanding = false;
        self.probe_lost = self.probe_lost.max(now);
    }

    /// When a probe is due: an interval after the last sign of life or lost probe.
    fn probe_at(&self, idle: Duration) -> Instant {
        self.last_received.max(self.probe_lost) + idle
    }

    /// The next moment something is due. `may_write`: the stream is open for writing;
    /// `may_probe`: stanzas may be sent (logged in).
    pub(crate) fn deadline(&self, may_write: bool, may_probe: bool) -> Option<Instant> {
        let dead = self.dead_peer().map(|d| self.last_received + d);
        let (whitespace, probe) = match self.idle() {
            Some(idle) if may_write => (
                Some(self.last_sent + idle),
                (may_probe && !self.probe_outstanding).then(|| self.probe_at(idle)),
            ),
            _ => (None, None),
        };
        [dead, whitespace, probe].into_iter().flatten().min()
    }

    /// What is due at `now`, most urgent first; the caller acts on it and asks again.
    pub(crate) fn due(&mut self, now: Instant, may_write: bool, may_probe: bool) -> Option<Due> {
        if self
            .dead_peer()
            .is_some_and(|d| now >= self.last_received + d)
        {
            return Some(Due::Dead);
        }
        let idle = self.idle().filter(|_| may_write)?;
        if may_probe && !self.probe_outstanding && now >= self.probe_at(idle) {
            self.probe_outstanding = true;
            self.on_sent(now);
            return Some(Due::Probe);
        }
        if now >= self.last_sent + idle {
            self.on_sent(now);
            return Some(Due::Whitespace);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn whitespace_after_idle_writes_then_probe_then_dead() {
        let s = Duration::from_secs(1);
        let mut k = Keepalive::new(at(0), Some(10 * s), Some(30 * s));
        k.on_received(at(5_000));
        assert_eq!(k.deadline(true, true), Some(at(10_000)));
        assert_eq!(k.due(at(9_999), true, true), None);
        assert_eq!(k.due(at(10_000), true, true), Some(Due::Whitespace));
        assert_eq!(k.due(at(10_000), true, true), None);
        assert_eq!(k.deadline(true, true), Some(at(15_000)));
        assert_eq!(k.due(at(15_000), true, true), Some(Due::Probe));
        // The probe counts as a write; no second probe while one is out.
        assert_eq!(k.deadline(true, true), Some(at(25_000)));
        assert_eq!(k.due(at(25_000), true, true), Some(Due::Whitespace));
        assert_eq!(k.deadline(true, true), Some(at(35_000)));
        assert_eq!(k.due(at(35_000), true, true), Some(Due::Dead));
    }

    #[test]
    fn sub_millisecond_intervals_act_once_per_millisecond() {
        let mut k = Keepalive::new(at(0), Some(Duration::ZERO), None);
        assert_eq!(k.due(at(1), true, false), Some(Due::Whitespace));
        assert_eq!(k.due(at(1), true, false), None);
        assert_eq!(k.deadline(true, false), Some(at(2)));
    }

    #[test]
    fn answered_probe_resets_and_reading_stops_writes_nothing() {
        let s = Duration::from_secs(1);
        let mut k = Keepalive::new(at(0), Some(10 * s), None);
        assert_eq!(k.due(at(10_000), true, true), Some(Due::Probe));
        k.on_received(at(10_050));
        k.on_probe_answered();
        assert_eq!(k.deadline(true, true), Some(at(20_000)));
        assert_eq!(k.deadline(false, false), None);
        assert_eq!(k.due(at(50_000), false, false), None);
        assert_eq!(k.due(at(50_000), true, false), Some(Due::Whitespace));
    }
}
