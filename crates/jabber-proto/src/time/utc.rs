//! Wall-clock time in UTC, as the delay stamps of XEP-0091 and XEP-0203 carry it.
//!
//! The core never reads a clock: a [`Timestamp`] comes from a stanza, or from the
//! application ([`Client::set_utc`](crate::client::Client::set_utc)).

use alloc::string::String;
use core::fmt::{self, Write as _};
use core::time::Duration;

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;
/// Days from 0000-03-01 (the start of the proleptic Gregorian era below) to 1970-01-01.
const UNIX_EPOCH_DAYS: i64 = 719_468;

/// A UTC instant from 0000-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z, to the
/// millisecond: what XEP-0082 dates can say and this crate can write back unchanged.
///
/// ```
/// use jabber_proto::time::Timestamp;
/// let t = Timestamp::parse("2002-09-10T23:08:25.120-07:00").unwrap();
/// assert_eq!(t.to_string(), "2002-09-11T06:08:25.120Z");
/// assert_eq!(t.to_legacy(), "20020911T06:08:25");
/// assert_eq!(Timestamp::parse_legacy("20020911T06:08:25").unwrap().unix_millis(), 1_031_724_505_000);
/// assert_eq!(Timestamp::parse("2002-09-10 23:08:25Z"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// The parts of a [`Timestamp`], in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime {
    /// 0..=9999.
    pub year: u16,
    /// 1..=12.
    pub month: u8,
    /// 1..=31.
    pub day: u8,
    /// 0..=23.
    pub hour: u8,
    /// 0..=59.
    pub minute: u8,
    /// 0..=59.
    pub second: u8,
    /// 0..=999.
    pub millis: u16,
}

impl Timestamp {
    /// 0000-01-01T00:00:00Z.
    pub const MIN: Timestamp = Timestamp(-62_167_219_200_000);
    /// 9999-12-31T23:59:59.999Z.
    pub const MAX: Timestamp = Timestamp(253_402_300_799_999);

    /// The instant `ms` milliseconds after 1970-01-01T00:00:00Z (negative: before), if
    /// it lies in the years 0 to 9999.
    pub fn from_unix_millis(ms: i64) -> Option<Timestamp> {
        (Self::MIN.0..=Self::MAX.0)
            .contains(&ms)
            .then_some(Timestamp(ms))
    }

    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub fn unix_millis(self) -> i64 {
        self.0
    }

    /// The instant of these UTC parts, if they name a real date and time.
    pub fn from_parts(p: DateTime) -> Option<Timestamp> {
        let valid = p.year <= 9999
            && (1..=12).contains(&p.month)
            && p.day >= 1
            && p.day <= days_in_month(p.year, p.month)
            && p.hour < 24
            && p.minute < 60
            && p.second < 60
            && p.millis < 1000;
        if !valid {
            return None;
        }
        let days = days_from_civil(i64::from(p.year), p.month, p.day);
        let secs = i64::from(p.hour) * 3600 + i64::from(p.minute) * 60 + i64::from(p.second);
        Timestamp::from_unix_millis(days * DAY_MS + secs * 1000 + i64::from(p.millis))
    }

    /// The UTC parts.
    pub fn parts(self) -> DateTime {
        let days = self.0.div_euclid(DAY_MS);
        let ms = self.0.rem_euclid(DAY_MS);
        let (year, month, day) = civil_from_days(days);
        // Within MIN..=MAX every part fits its type.
        DateTime {
            year: year as u16,
            month,
            day,
            hour: (ms / 3_600_000) as u8,
            minute: (ms / 60_000 % 60) as u8,
            second: (ms / 1000 % 60) as u8,
            millis: (ms % 1000) as u16,
        }
    }

    /// `self` plus `d`, if still within the years 0 to 9999.
    pub fn checked_add(self, d: Duration) -> Option<Timestamp> {
        let ms = i64::try_from(d.as_millis()).ok()?;
        Timestamp::from_unix_millis(self.0.checked_add(ms)?)
    }

    /// Parses an XEP-0082 DateTime: `CCYY-MM-DDThh:mm:ss[.s+](Z|(+|-)hh:mm)`. Fractions
    /// beyond milliseconds are truncated; anything else that does not match (or names
    /// an impossible date, or leaves the years 0 to 9999 once the offset is applied)
    /// gives `None`.
    pub fn parse(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
            return None;
        }
        let (date, rest) = (
            DateTime {
                year: digits(&b[0..4])? as u16,
                month: digits(&b[5..7])? as u8,
                day: digits(&b[8..10])? as u8,
                ..DateTime::ZERO
            },
            &b[11..],
        );
        let (mut parts, rest) = time_of_day(date, rest)?;
        let rest = match rest.split_first() {
            Some((b'.', frac)) => {
                let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
                if n == 0 {
                    return None;
                }
                // Milliseconds are the first three digits, padded with zeros.
                parts.millis = (0..3).fold(0u16, |m, i| {
                    let d = if i < n { frac[i] - b'0' } else { 0 };
                    m * 10 + u16::from(d)
                });
                &frac[n..]
            }
            _ => rest,
        };
        let offset_min: i64 = match rest {
            b"Z" => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let h = digits(&[*h1, *h2])?;
                let m = digits(&[*m1, *m2])?;
                if h > 23 || m > 59 {
                    return None;
                }
                let o = i64::from(h * 60 + m);
                if *sign == b'-' { -o } else { o }
            }
            _ => return None,
        };
        // The local time minus its offset is UTC.
        let local = Timestamp::from_parts(parts)?;
        Timestamp::from_unix_millis(local.0 - offset_min * 60_000)
    }

    /// Parses the `jabber:x:delay` stamp (XEP-0091): `CCYYMMDDThh:mm:ss`, always UTC.
    pub fn parse_legacy(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        if b.len() != 17 || b[8] != b'T' {
            return None;
        }
        let date = DateTime {
            year: digits(&b[0..4])? as u16,
            month: digits(&b[4..6])? as u8,
            day: digits(&b[6..8])? as u8,
            ..DateTime::ZERO
        };
        match time_of_day(date, &b[9..])? {
            (parts, []) => Timestamp::from_parts(parts),
            _ => None,
        }
    }

    /// The XEP-0082 form, `CCYY-MM-DDThh:mm:ss[.sss]Z` (the fraction only when not
    /// zero); [`Display`](fmt::Display) writes the same.
    pub fn to_xep0082(self) -> String {
        let mut s = String::with_capacity(24);
        let _ = write!(s, "{self}");
        s
    }

    /// The `jabber:x:delay` form, `CCYYMMDDThh:mm:ss` (milliseconds are dropped: the
    /// form has none).
    pub fn to_legacy(self) -> String {
        let p = self.parts();
        let mut s = String::with_capacity(17);
        let _ = write!(
            s,
            "{:04}{:02}{:02}T{:02}:{:02}:{:02}",
            p.year, p.month, p.day, p.hour, p.minute, p.second
        );
        s
    }
}

impl DateTime {
    const ZERO: DateTime = DateTime {
        year: 0,
        month: 0,
        day: 0,
        hour: 0,
        minute: 0,
        second: 0,
        millis: 0,
    };
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.parts();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            p.year, p.month, p.day, p.hour, p.minute, p.second
        )?;
        if p.millis != 0 {
            write!(f, ".{:03}", p.millis)?;
        }
        f.write_str("Z")
    }
}

/// `hh:mm:ss` at the start of `b`, into `date`; the rest of `b` after it.
fn time_of_day(mut date: DateTime, b: &[u8]) -> Option<(DateTime, &[u8])> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    date.hour = digits(&b[0..2])? as u8;
    date.minute = digits(&b[3..5])? as u8;
    date.second = digits(&b[6..8])? as u8;
    Some((date, &b[8..]))
}

/// The decimal value of ASCII digits (at most four here), or `None` if one is not a digit.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

fn is_leap(year: u16) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date. Years are counted from March so
/// that the leap day ends a year; an era is the 400-year cycle (146,097 days).
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y.rem_euclid(400);
    let m = i64::from(month);
    let day_of_year = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - UNIX_EPOCH_DAYS
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + UNIX_EPOCH_DAYS;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}
