//! The core's clock on top of the system's.

use std::time::{Duration, Instant as StdInstant};

use jabber_proto::time::Instant;

/// Maps [`std::time::Instant`] to the core's [`Instant`] (milliseconds since an origin)
/// and back. The origin is the moment the connection was established.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    origin: StdInstant,
}

impl Clock {
    /// A clock whose origin is now.
    pub fn start() -> Clock {
        Clock {
            origin: StdInstant::now(),
        }
    }

    /// A clock with the given origin.
    pub fn with_origin(origin: StdInstant) -> Clock {
        Clock { origin }
    }

    /// The current time on the core's clock.
    pub fn now(&self) -> Instant {
        self.at(StdInstant::now())
    }

    /// `t` on the core's clock (times before the origin are the origin).
    pub fn at(&self, t: StdInstant) -> Instant {
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
