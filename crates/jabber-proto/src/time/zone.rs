//! Time-zone offsets and the local-time display of the time answers.

use alloc::format;
use alloc::string::String;
use core::fmt;

use super::Timestamp;

/// A time zone's offset from UTC, in minutes east (within ±18 hours, as ISO 8601
/// allows).
///
/// ```
/// use jabber_proto::time::TzOffset;
/// assert_eq!(TzOffset::from_minutes(-360).unwrap().to_string(), "-06:00");
/// assert_eq!(TzOffset::from_minutes(330).unwrap().to_string(), "+05:30");
/// assert_eq!(TzOffset::UTC.to_string(), "+00:00");
/// assert!(TzOffset::from_minutes(24 * 60).is_none());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TzOffset(i16);

impl TzOffset {
    /// UTC itself.
    pub const UTC: TzOffset = TzOffset(0);

    /// `minutes` east of UTC (negative: west); `None` beyond ±18 hours.
    pub fn from_minutes(minutes: i16) -> Option<TzOffset> {
        (minutes.unsigned_abs() <= 18 * 60).then_some(TzOffset(minutes))
    }

    /// Minutes east of UTC.
    pub fn minutes(self) -> i16 {
        self.0
    }
}

impl fmt::Display for TzOffset {
    /// XEP-0082's TZD: `+hh:mm` or `-hh:mm`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { '-' } else { '+' };
        let m = self.0.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", m / 60, m % 60)
    }
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `utc` as local time at `offset`, in the C library's `asctime` layout
/// (`Tue Sep 10 12:58:35 2002`), which XEP-0090's `display` shows; the edges of the
/// representable range stay where they are.
///
/// ```
/// use jabber_proto::time::{Timestamp, TzOffset, local_display};
/// let utc = Timestamp::parse("2002-09-10T18:58:35Z").unwrap();
/// let mdt = TzOffset::from_minutes(-360).unwrap();
/// assert_eq!(local_display(utc, mdt), "Tue Sep 10 12:58:35 2002");
/// ```
pub fn local_display(utc: Timestamp, offset: TzOffset) -> String {
    let ms = utc.unix_millis() + i64::from(offset.minutes()) * 60_000;
    let local = Timestamp::from_unix_millis(ms).unwrap_or(utc);
    let p = local.parts();
    // 1970-01-01 was a Thursday.
    let days = local.unix_millis().div_euclid(86_400_000);
    let weekday = (days + 4).rem_euclid(7) as usize;
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        WEEKDAYS[weekday],
        MONTHS[usize::from(p.month.clamp(1, 12) - 1)],
        p.day,
        p.hour,
        p.minute,
        p.second,
        p.year
    )
}
