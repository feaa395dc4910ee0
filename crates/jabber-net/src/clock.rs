//! The core's clock on top of the system's.

use std::time::{Duration, Instant as StdInstant};

use jabber_proto::time::Instant;

/// Maps [`std::time::Instant`] to the core's [`Instant`] (milliseconds since an origin)
/// and back, for the adapters: they read the system's clock and hand its time to the
/// [`Link`](crate::Link), which reads none. The origin is the moment the connection was
/// established.
///
/// A clock can be held: it then reads the same time until released, and goes on from
/// there. A non-blocking connect holds it, so that the time spent connecting does not
/// count against the core's timers (dead peer, IQ and login timeouts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    origin: StdInstant,
    held: Option<Instant>,
}

impl Clock {
    /// A clock whose origin is now.
    pub fn start() -> Clock {
        Clock::with_origin(StdInstant::now())
    }

    /// A clock with the given origin.
    pub fn with_origin(origin: StdInstant) -> Clock {
        Clock { origin, held: None }
    }

    /// Stops the clock at the current time.
    pub fn hold(&mut self) {
        if self.held.is_none() {
            self.held = Some(self.now());
        }
    }

    /// Lets a held clock run again from the time it stood at.
    pub fn release(&mut self) {
        if let Some(t) = self.held.take() {
            let now = StdInstant::now();
            self.origin = now
                .checked_sub(Duration::from_millis(t.as_millis()))
                .unwrap_or(now);
        }
    }

    /// Whether the clock is held.
    pub fn is_held(&self) -> bool {
        self.held.is_some()
    }

    /// The current time on the core's clock.
    pub fn now(&self) -> Instant {
        self.at(StdInstant::now())
    }

    /// `t` on the core's clock (times before the origin are the origin; a held clock
    /// reads the time it was held at).
    pub fn at(&self, t: StdInstant) -> Instant {
        if let Some(held) = self.held {
            return held;
        }
        let ms = t.saturating_duration_since(self.origin).as_millis();
        Instant::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    /// The core's `t` on the system's clock; `None` if it does not fit (so far in the
    /// future that it never comes).
    pub fn to_std(&self, t: Instant) -> Option<StdInstant> {
        self.origin
            .checked_add(Duration::from_millis(t.as_millis()))
    }
}
