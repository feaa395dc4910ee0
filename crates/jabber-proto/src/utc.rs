//! Wall-clock time as a value: a UTC timestamp and a time-zone offset.
//!
//! The core reads no clock. What needs the calendar (the time we disclose, XEP-0202 and
//! XEP-0090) gets it from the application through
//! [`Client::set_utc`](crate::client::Client::set_utc), which pairs one [`UtcTime`] with
//! the caller's [`Instant`](crate::time::Instant); the core advances it with that clock.
//!
//! Only what the protocol needs: whole seconds from 1970 on, the proleptic Gregorian
//! calendar, and the two textual forms servers and peers use.

use alloc::format;
use alloc::string::String;
use core::fmt;
use core::time::Duration;

/// A point in UTC, in whole seconds since 1970-01-01T00:00:00Z (leap seconds not
/// counted, as in Unix time).
///
/// ```
/// use jabber_proto::utc::UtcTime;
/// let t = UtcTime::from_civil(2002, 9, 10, 17, 58, 35).unwrap();
/// assert_eq!(t.to_iso8601(), "2002-09-10T17:58:35Z");
/// assert_eq!(t.to_legacy(), "20020910T17:58:35");
/// assert_eq!(UtcTime::from_unix_seconds(t.as_unix_seconds()), t);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcTime(u64);

/// A date and time of day, as the calendar shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    /// The year (1970 or later).
    pub year: u64,
    /// 1 to 12.
    pub month: u8,
    /// 1 to 31.
    pub day: u8,
    /// 0 to 23.
    pub hour: u8,
    /// 0 to 59.
    pub minute: u8,
    /// 0 to 59.
    pub second: u8,
    /// 0 for Sunday to 6 for Saturday.
    pub weekday: u8,
}

const DAY: u64 = 86_400;
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl UtcTime {
    /// The time `seconds` after 1970-01-01T00:00:00Z.
    pub const fn from_unix_seconds(seconds: u64) -> UtcTime {
        UtcTime(seconds)
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub const fn as_unix_seconds(self) -> u64 {
        self.0
    }

    /// The time at a calendar date and time of day; `None` for a date that does not
    /// exist or lies before 1970.
    pub fn from_civil(
        year: u64,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
    ) -> Option<UtcTime> {
        if year < 1970 || !(1..=12).contains(&month) || hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        if day == 0 || day > days_in_month(year, month) {
            return None;
        }
        let days = days_from_civil(year, month, day)?;
        let secs = days
            .checked_mul(DAY)?
            .checked_add(u64::from(hour) * 3600 + u64::from(minute) * 60 + u64::from(second))?;
        Some(UtcTime(secs))
    }

    /// The calendar date and time of day.
    pub fn civil(self) -> Civil {
        let days = self.0 / DAY;
        let rest = self.0 % DAY;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: (rest / 3600) as u8,
            minute: (rest % 3600 / 60) as u8,
            second: (rest % 60) as u8,
            // 1970-01-01 was a Thursday.
            weekday: ((days + 4) % 7) as u8,
        }
    }

    /// `self` moved by `offset` (a local time, for display), saturating at 1970.
    pub fn offset_by(self, offset: TzOffset) -> UtcTime {
        let secs = i64::from(offset.minutes()) * 60;
        UtcTime(self.0.saturating_add_signed(secs))
    }

    /// XEP-0082's DateTime profile: `CCYY-MM-DDThh:mm:ssZ`.
    pub fn to_iso8601(self) -> String {
        let c = self.civil();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }

    /// The legacy form (XEP-0090, `jabber:x:delay`): `CCYYMMDDThh:mm:ss`, in UTC.
    pub fn to_legacy(self) -> String {
        let c = self.civil();
        format!(
            "{:04}{:02}{:02}T{:02}:{:02}:{:02}",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }

    /// A human-readable form, `Tue Sep 10 12:58:35 2002` (the C library's `asctime`
    /// layout, which XEP-0090's `display` shows).
    pub fn to_display(self) -> String {
        let c = self.civil();
        format!(
            "{} {} {:2} {:02}:{:02}:{:02} {}",
            WEEKDAYS[usize::from(c.weekday)],
            MONTHS[usize::from(c.month - 1)],
            c.day,
            c.hour,
            c.minute,
            c.second,
            c.year
        )
    }
}

impl core::ops::Add<Duration> for UtcTime {
    type Output = UtcTime;
    /// Whole seconds are added; saturates instead of overflowing.
    fn add(self, d: Duration) -> UtcTime {
        UtcTime(self.0.saturating_add(d.as_secs()))
    }
}

impl fmt::Display for UtcTime {
    /// The ISO 8601 form ([`to_iso8601`](Self::to_iso8601)).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso8601())
    }
}

/// A time zone's offset from UTC, in minutes east (within ±18 hours, as ISO 8601
/// allows).
///
/// ```
/// use jabber_proto::utc::TzOffset;
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

fn is_leap(year: u64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: u64, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date (1970 or later): whole years, then whole months.
fn days_from_civil(year: u64, month: u8, day: u8) -> Option<u64> {
    // Years in 400-year cycles of 146,097 days, then year by year within the cycle.
    let years = year - 1970;
    let mut days = (years / 400).checked_mul(146_097)?;
    let start = 1970 + years / 400 * 400;
    for y in start..year {
        days += if is_leap(y) { 366 } else { 365 };
    }
    for m in 1..month {
        days += u64::from(days_in_month(year, m));
    }
    Some(days + u64::from(day) - 1)
}

/// The date `days` after 1970-01-01.
fn civil_from_days(mut days: u64) -> (u64, u8, u8) {
    let mut year = 1970 + days / 146_097 * 400;
    days %= 146_097;
    loop {
        let len = if is_leap(year) { 366 } else { 365 };
        if days < len {
            break;
        }
        days -= len;
        year += 1;
    }
    let mut month = 1;
    loop {
        let len = u64::from(days_in_month(year, month));
        if days < len {
            break;
        }
        days -= len;
        month += 1;
    }
    (year, month, days as u8 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(
            UtcTime::from_unix_seconds(0).to_iso8601(),
            "1970-01-01T00:00:00Z"
        );
        // 2000-02-29 (a leap day in a century leap year), 2100-03-01 (2100 is no leap year).
        let t = UtcTime::from_unix_seconds(951_782_400);
        assert_eq!(t.to_iso8601(), "2000-02-29T00:00:00Z");
        assert_eq!(t.to_display(), "Tue Feb 29 00:00:00 2000");
        assert_eq!(UtcTime::from_civil(2100, 2, 29, 0, 0, 0), None);
        let t = UtcTime::from_civil(2100, 3, 1, 0, 0, 0).unwrap();
        assert_eq!(t.as_unix_seconds(), 4_107_542_400);
        assert_eq!(t.to_display(), "Mon Mar  1 00:00:00 2100");
        assert_eq!(UtcTime::from_civil(1969, 12, 31, 0, 0, 0), None);
    }

    #[test]
    fn civil_round_trips_over_centuries() {
        // Every 9,973rd day for ~1,100 years, at a varying time of day.
        let mut day = 0u64;
        while day < 400_000 {
            let t = UtcTime::from_unix_seconds(day * DAY + day % DAY);
            let c = t.civil();
            let back = UtcTime::from_civil(c.year, c.month, c.day, c.hour, c.minute, c.second);
            assert_eq!(back, Some(t), "{c:?}");
            day += 9_973;
        }
    }

    #[test]
    fn offsets_move_local_time() {
        let t = UtcTime::from_civil(2006, 12, 19, 17, 58, 35).unwrap();
        let west = TzOffset::from_minutes(-360).unwrap();
        assert_eq!(t.offset_by(west).to_iso8601(), "2006-12-19T11:58:35Z");
        assert_eq!(
            UtcTime::from_unix_seconds(10)
                .offset_by(west)
                .as_unix_seconds(),
            0
        );
    }
}
