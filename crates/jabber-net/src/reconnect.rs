//! Reconnection as a sans-IO policy: which delay before attempt `n`, when to give up, and
//! a way to stop — shared by the adapters, which only sleep and connect.
//!
//! The delay grows exponentially from [`Backoff::initial`] to [`Backoff::max`], with
//! "equal jitter": half of it fixed, the other half drawn from the seed the adapter gives
//! (never from an RNG here), so that many clients cut off at once do not come back at
//! once, and a test with a fixed seed sees fixed delays.

use std::time::Duration;

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
