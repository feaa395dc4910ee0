//! Keepalive (the seed protocol's §3), dead-peer detection and answering pings
//! (XEP-0199), as a feature of the client.
//!
//! Two clocks: the last time we wrote (the context's `last_sent`) and the last time
//! anything arrived. Writing nothing for `idle` sends one whitespace (it keeps NATs and
//! the server's idle timer happy). Receiving nothing for `idle` sends a probe (an XMPP
//! ping) when the session allows stanzas, because on a quiet link only a question gets an
//! answer. Receiving nothing for `dead_peer` means the peer is gone.

use core::num::NonZeroU64;
use core::time::Duration;

use crate::client::{CloseReason, Cx, Owner, Reply};
use crate::jid::Jid;
use crate::ns;
use crate::stanza::{Iq, IqType};
use crate::time::Instant;
use crate::xml::Element;

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

/// The keepalive feature's state: pure timer arithmetic plus the probe in flight.
#[derive(Clone, Debug)]
pub(crate) struct Keepalive {
    /// The intervals in whole milliseconds, the clock's unit (adding a `Duration` to an
    /// [`Instant`] drops the rest anyway): half the room of an `Option<Duration>`.
    idle: Option<NonZeroU64>,
    dead_peer: Option<NonZeroU64>,
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

    // ---- the feature ----

    /// Bytes arrived.
    pub(crate) fn on_received(&mut self, now: Instant) {
        self.last_received = self.last_received.max(now);
    }

    /// An IQ request the keepalive answers: a ping (XEP-0199 §4) gets an empty result.
    pub(crate) fn on_request(&mut self, cx: &mut Cx, iq: &Iq) -> bool {
        let is_ping =
            iq.kind() == IqType::Get && iq.payload().is_some_and(|p| p.is("ping", ns::PING));
        if is_ping {
            let _ = cx.reply(iq.element(), Ok(None));
        }
        is_ping
    }

    /// The answer to our probe, or its timeout.
    pub(crate) fn on_reply(&mut self, cx: &Cx, reply: Reply<'_>) {
        self.probe_outstanding = false;
        // Any answer, even an error, proves the server is alive; receiving it already
        // reset the dead-peer clock.
        if matches!(reply, Reply::Timeout) {
            self.probe_lost = self.probe_lost.max(cx.now);
        }
    }

    /// Acts on what is due at `now`; `logged_in`: stanzas (probes) may be sent.
    ///
    /// `reading`: false while input waits unparsed at the event bound, when the socket is
    /// not read — the server's silence is then ours, so it is neither probed nor
    /// declared dead.
    pub(crate) fn on_timeout(&mut self, cx: &mut Cx, now: Instant, logged_in: bool, reading: bool) {
        loop {
            let may_write = cx.may_write();
            let watch = Watch {
                dead: reading,
                probe: reading && may_write && logged_in,
                whitespace: !cx.config.framing.is_websocket(),
            };
            match self.due(now, cx.last_sent, may_write, watch) {
                None => return,
                Some(Due::Dead) => {
                    // Nothing more is written: a dead peer reads nothing.
                    return cx.finish(CloseReason::PeerTimeout);
                }
                Some(Due::Whitespace) => cx.emit_whitespace(),
                Some(Due::Probe) => {
                    let to = Jid::domain_only(&cx.config.domain).ok();
                    if let Ok(ping) = Element::builder("ping", ns::PING).build() {
                        let owner = Some(Owner::Keepalive);
                        if cx.request(to.as_ref(), IqType::Get, ping, owner).is_err() {
                            // Nothing went out: the next probe waits an interval.
                            self.probe_outstanding = false;
                            self.probe_lost = now;
                        }
                    }
                }
            }
        }
    }

    /// The next moment something is due.
    pub(crate) fn next_deadline(&self, cx: &Cx, logged_in: bool, reading: bool) -> Option<Instant> {
        let may_write = cx.may_write();
        let watch = Watch {
            dead: reading,
            probe: reading && may_write && logged_in,
            whitespace: !cx.config.framing.is_websocket(),
        };
        self.deadline(cx.last_sent, may_write, watch)
    }

    // ---- the arithmetic ----

    /// When a probe is due: an interval after the last sign of life or lost probe.
    fn probe_at(&self, idle: Duration) -> Instant {
        self.last_received.max(self.probe_lost) + idle
    }

    /// The next moment something is due. `may_write`: the stream is open for writing;
    /// `watch`: which of the server's timers run.
    fn deadline(&self, last_sent: Instant, may_write: bool, watch: Watch) -> Option<Instant> {
        let dead = self
            .dead_peer()
            .filter(|_| watch.dead)
            .map(|d| self.last_received + d);
        let (whitespace, probe) = match self.idle() {
            Some(idle) if may_write => (
                watch.whitespace.then(|| last_sent + idle),
                (watch.probe && !self.probe_outstanding).then(|| self.probe_at(idle)),
            ),
            _ => (None, None),
        };
        [dead, whitespace, probe].into_iter().flatten().min()
    }

    /// What is due at `now`, most urgent first; the caller acts on it (a write moves
    /// `last_sent`) and asks again.
    fn due(
        &mut self,
        now: Instant,
        last_sent: Instant,
        may_write: bool,
        watch: Watch,
    ) -> Option<Due> {
        if watch.dead
            && self
                .dead_peer()
                .is_some_and(|d| now >= self.last_received + d)
        {
            return Some(Due::Dead);
        }
        let idle = self.idle().filter(|_| may_write)?;
        if watch.probe && !self.probe_outstanding && now >= self.probe_at(idle) {
            self.probe_outstanding = true;
            return Some(Due::Probe);
        }
        if watch.whitespace && now >= last_sent + idle {
            return Some(Due::Whitespace);
        }
        None
    }
}

/// Which of the timers that wait on the server run.
#[derive(Clone, Copy, Debug)]
struct Watch {
    /// The dead-peer timer.
    dead: bool,
    /// Probes (logged in, the stream open, the socket read).
    probe: bool,
    /// Whitespace after idle writing (never over WebSocket, RFC 7395 §3.7).
    whitespace: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    /// The keepalive with the writes it asks for applied to `last_sent`, as the context
    /// does.
    struct Timer {
        k: Keepalive,
        last_sent: Instant,
    }

    impl Timer {
        fn new(idle: Option<Duration>, dead: Option<Duration>) -> Timer {
            Timer {
                k: Keepalive::new(at(0), idle, dead),
                last_sent: at(0),
            }
        }
        fn due(&mut self, now: Instant, may_write: bool, may_probe: bool) -> Option<Due> {
            let watch = Watch {
                dead: true,
                probe: may_probe,
                whitespace: true,
            };
            let due = self.k.due(now, self.last_sent, may_write, watch);
            if matches!(due, Some(Due::Probe | Due::Whitespace)) {
                self.last_sent = self.last_sent.max(now);
            }
            due
        }
        fn deadline(&self, may_write: bool, may_probe: bool) -> Option<Instant> {
            let watch = Watch {
                dead: true,
                probe: may_probe,
                whitespace: true,
            };
            self.k.deadline(self.last_sent, may_write, watch)
        }
    }

    #[test]
    fn whitespace_after_idle_writes_then_probe_then_dead() {
        let s = Duration::from_secs(1);
        let mut k = Timer::new(Some(10 * s), Some(30 * s));
        k.k.on_received(at(5_000));
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
        let mut k = Timer::new(Some(Duration::ZERO), None);
        assert_eq!(k.due(at(1), true, false), Some(Due::Whitespace));
        assert_eq!(k.due(at(1), true, false), None);
        assert_eq!(k.deadline(true, false), Some(at(2)));
    }

    #[test]
    fn answered_probe_resets_and_reading_stops_writes_nothing() {
        let s = Duration::from_secs(1);
        let mut k = Timer::new(Some(10 * s), None);
        assert_eq!(k.due(at(10_000), true, true), Some(Due::Probe));
        k.k.on_received(at(10_050));
        k.k.probe_outstanding = false;
        assert_eq!(k.deadline(true, true), Some(at(20_000)));
        assert_eq!(k.deadline(false, false), None);
        assert_eq!(k.due(at(50_000), false, false), None);
        assert_eq!(k.due(at(50_000), true, false), Some(Due::Whitespace));
    }
}
