//! Seeds for the core's IQ ids: the core has no randomness of its own.

use std::time::{SystemTime, UNIX_EPOCH};

/// A seed mixed from the wall clock's nanoseconds and `salt` (e.g. the local port), with
/// splitmix64's finaliser so that nearby inputs give unrelated seeds. Never 0.
///
/// ```
/// assert_ne!(jabber_net::seed_from(5222), 0);
/// ```
pub fn seed_from(salt: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| {
            d.as_secs()
                .wrapping_mul(1_000_000_000)
                .wrapping_add(u64::from(d.subsec_nanos()))
        })
        .unwrap_or_default();
    let mut z = (nanos ^ salt.rotate_left(48)).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)).max(1)
}
