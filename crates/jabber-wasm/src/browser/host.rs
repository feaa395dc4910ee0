//! What the core takes from its host, read from the browser: the clock, a seed, the UTC.

use std::num::NonZeroU64;

use jabber_proto::time::{Instant, Timestamp};

/// The core's clock: `performance.now()` in whole milliseconds (monotonic, from the
/// page's start), or `Date.now()` where there is no `performance` (never before the
/// first reading: the core's clock does not run back anyway).
pub(crate) fn now() -> Instant {
    let performance = web_sys::window().and_then(|w| w.performance());
    let ms = performance.map_or_else(js_sys::Date::now, |p| p.now());
    // A float count of milliseconds, never negative or NaN in practice; `as` saturates.
    Instant::from_millis(ms as u64)
}

/// The wall clock, for the core's message expiry.
pub(crate) fn utc() -> Option<Timestamp> {
    Timestamp::from_unix_millis(js_sys::Date::now() as i64)
}

/// A seed for the session's ids from `crypto.getRandomValues` (the clock mixed with
/// `Math.random` where the page has no `crypto`, which every browser has had since 2013).
pub(crate) fn seed() -> NonZeroU64 {
    let mut bytes = [0u8; 8];
    let crypto = web_sys::window().and_then(|w| w.crypto().ok());
    let drawn = crypto.is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    let value = if drawn {
        u64::from_le_bytes(bytes)
    } else {
        (js_sys::Math::random() * (u64::MAX as f64)) as u64 ^ js_sys::Date::now() as u64
    };
    NonZeroU64::new(value).unwrap_or(NonZeroU64::MIN)
}
