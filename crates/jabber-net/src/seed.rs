//! Seeds for the core's ids: the core has no randomness of its own.

use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A seed for one connection's [`Config`](jabber_proto::client::Config): the wall clock's
/// nanoseconds, the process id and a per-process counter, mixed with splitmix64's
/// finaliser so that nearby inputs give unrelated seeds: two calls in the same nanosecond
/// differ by their counter. (Only 32 bits of a seed show in the core's ids, so ids of
/// two connections can still meet by chance; the core checks a reply's sender too.)
///
/// ```
/// let (a, b) = (jabber_net::fresh_seed(), jabber_net::fresh_seed());
/// assert_ne!(a, b);
/// ```
pub fn fresh_seed() -> NonZeroU64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| {
            d.as_secs()
                .wrapping_mul(1_000_000_000)
                .wrapping_add(u64::from(d.subsec_nanos()))
        })
        .unwrap_or_default();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let salt = u64::from(std::process::id()).rotate_left(40) ^ count.rotate_left(20);
    let mut z = (nanos ^ salt).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    NonZeroU64::MIN.saturating_add((z ^ (z >> 31)).saturating_sub(1))
}
