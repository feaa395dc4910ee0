//! Time as a value: the core never reads a clock.
//!
//! Every input that can depend on time takes `now: Instant`. An [`Instant`] is a count of
//! milliseconds since an origin the caller chooses once per connection (for example the
//! `std::time::Instant` at which the adapter started). Only differences between instants
//! matter, so any monotonic source works: `std`, a hardware timer, a game loop's tick count.

use core::ops::{Add, Sub};
use core::time::Duration;

/// A point in time, in milliseconds since an origin chosen by the caller.
///
/// ```
/// use core::time::Duration;
/// use jabber_proto::time::Instant;
/// let start = Instant::from_millis(1_000);
/// let later = start + Duration::from_secs(2);
/// assert_eq!(later.as_millis(), 3_000);
/// assert_eq!(later - start, Duration::from_secs(2));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The origin of the caller's time line.
    pub const ZERO: Instant = Instant(0);

    /// The instant `ms` milliseconds after the origin.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }

    /// Milliseconds since the origin.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Time from `earlier` to `self`, or zero when `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Add<Duration> for Instant {
    type Output = Instant;
    /// Saturates at the far future instead of overflowing.
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(millis(d)))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// Saturates at zero.
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

mod utc;
mod zone;
pub use utc::{DateTime, Timestamp};
pub use zone::{TzOffset, local_display};
