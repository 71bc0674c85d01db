//! Entry timestamps and proleptic Gregorian calendar helpers.
//!
//! Entry timestamps (registers.md §2) are UTC instants written as `YYYY-MM-DDThh:mm:ssZ`, with
//! whole seconds only. [`Timestamp`] stores them as seconds since the Unix epoch and converts to
//! and from that text form without allocating, using Howard Hinnant's days-from-civil /
//! civil-from-days arithmetic (no external date library).
//!
//! The representable range is `0000-01-01T00:00:00Z` ..= `9999-12-31T23:59:59Z`: exactly the
//! instants the 20-byte text form can express. Nothing in this module panics on any input.

use std::fmt;

/// Seconds in one day.
const SECONDS_PER_DAY: i64 = 86_400;

/// Unix seconds of `0000-01-01T00:00:00Z`, the earliest representable timestamp.
const MIN_UNIX_SECONDS: i64 = days_from_civil(0, 1, 1) * SECONDS_PER_DAY;

/// Unix seconds of `9999-12-31T23:59:59Z`, the latest representable timestamp.
const MAX_UNIX_SECONDS: i64 = days_from_civil(9999, 12, 31) * SECONDS_PER_DAY + SECONDS_PER_DAY - 1;

/// An entry timestamp: a UTC instant with whole-second precision, stored as seconds since the
/// Unix epoch (`1970-01-01T00:00:00Z`).
///
/// Always within `0000-01-01T00:00:00Z` ..= `9999-12-31T23:59:59Z`, so it can always be written
/// in the 20-byte form `YYYY-MM-DDThh:mm:ssZ`. Ordering is chronological.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// Parses exactly `YYYY-MM-DDThh:mm:ssZ` (20 ASCII bytes).
    ///
    /// The year is 0000–9999, month and day must form a valid Gregorian date (leap years
    /// included), hour is 00–23, minute and second 00–59 (no leap second). Fractional seconds,
    /// offsets other than `Z`, lowercase `t`/`z` and any other deviation give `None`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Timestamp> {
        let b: &[u8; 20] = s.as_bytes().try_into().ok()?;
        if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        if b[19] != b'Z' {
            return None;
        }
        let year = parse_digits(&b[0..4])?;
        let month = parse_digits(&b[5..7])?;
        let day = parse_digits(&b[8..10])?;
        let hour = parse_digits(&b[11..13])?;
        let minute = parse_digits(&b[14..16])?;
        let second = parse_digits(&b[17..19])?;
        let year = i32::try_from(year).ok()?;
        if !is_valid_date(year, month, day) || hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let seconds = days_from_civil(year, month, day) * SECONDS_PER_DAY
            + i64::from(hour) * 3600
            + i64::from(minute) * 60
            + i64::from(second);
        Some(Timestamp(seconds))
    }

    /// Builds a timestamp from seconds since the Unix epoch.
    ///
    /// Returns `None` outside `0000-01-01T00:00:00Z` ..= `9999-12-31T23:59:59Z`
    /// (`-62167219200` ..= `253402300799`).
    #[must_use]
    pub fn from_unix_seconds(seconds: i64) -> Option<Timestamp> {
        if (MIN_UNIX_SECONDS..=MAX_UNIX_SECONDS).contains(&seconds) {
            Some(Timestamp(seconds))
        } else {
            None
        }
    }

    /// Seconds since the Unix epoch (negative before 1970).
    #[must_use]
    pub fn unix_seconds(self) -> i64 {
        self.0
    }

    /// Writes `YYYY-MM-DDThh:mm:ssZ` into `buf` (no allocation).
    pub fn write_to(self, buf: &mut [u8; 20]) {
        let days = self.0.div_euclid(SECONDS_PER_DAY);
        let secs_of_day = self.0.rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        // The type invariant keeps `year` within 0..=9999; clamp anyway so that the output is
        // always 20 well-formed bytes.
        let year = u32::try_from(year.clamp(0, 9999)).unwrap_or(0);
        let secs_of_day = u32::try_from(secs_of_day).unwrap_or(0);
        write_digits(&mut buf[0..4], year);
        buf[4] = b'-';
        write_digits(&mut buf[5..7], month);
        buf[7] = b'-';
        write_digits(&mut buf[8..10], day);
        buf[10] = b'T';
        write_digits(&mut buf[11..13], secs_of_day / 3600);
        buf[13] = b':';
        write_digits(&mut buf[14..16], secs_of_day / 60 % 60);
        buf[16] = b':';
        write_digits(&mut buf[17..19], secs_of_day % 60);
        buf[19] = b'Z';
    }

    /// Returns the 20 ASCII bytes of `YYYY-MM-DDThh:mm:ssZ`.
    #[must_use]
    pub fn as_array(self) -> [u8; 20] {
        let mut buf = [0u8; 20];
        self.write_to(&mut buf);
        buf
    }
}

impl std::str::FromStr for Timestamp {
    type Err = crate::error::Error;

    /// As [`Timestamp::parse`], with the RSF error for command-line arguments.
    fn from_str(s: &str) -> Result<Timestamp, Self::Err> {
        Timestamp::parse(s).ok_or_else(|| crate::error::Error::InvalidTimestamp(s.to_string()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let buf = self.as_array();
        match std::str::from_utf8(&buf) {
            Ok(s) => f.pad(s),
            Err(_) => Err(fmt::Error),
        }
    }
}

/// Parses a non-empty run of ASCII digits (at most 9, so it cannot overflow).
fn parse_digits(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 9 {
        return None;
    }
    digits.iter().try_fold(0u32, |acc, &c| {
        if c.is_ascii_digit() {
            Some(acc * 10 + u32::from(c - b'0'))
        } else {
            None
        }
    })
}

/// Writes `value` as zero-padded decimal filling all of `out` (higher digits are dropped).
fn write_digits(out: &mut [u8], mut value: u32) {
    for slot in out.iter_mut().rev() {
        // `value % 10` is below 10, so the cast is lossless.
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Whether `year` is a leap year in the proleptic Gregorian calendar (year 0 is one).
pub(crate) const fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Number of days in `month` (1–12) of `year`; 0 for a month outside 1–12.
pub(crate) const fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => {
            if is_leap_year(year) {
                29
            } else {
                28
            }
        }
        _ => 0,
    }
}

/// Whether `year-month-day` is a real date of the proleptic Gregorian calendar.
pub(crate) const fn is_valid_date(year: i32, month: u32, day: u32) -> bool {
    day >= 1 && day <= days_in_month(year, month)
}

/// Days since `1970-01-01` of the proleptic Gregorian date `year-month-day` (negative before).
///
/// Meaningful for valid dates (see [`is_valid_date`]); for any other input it returns some
/// number without overflowing or panicking.
pub(crate) const fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    // Howard Hinnant, "chrono-compatible low-level date algorithms". All arithmetic is in i64
    // on values from i32/u32, so it cannot overflow.
    let month = month as i64;
    let day = day as i64;
    let y = year as i64 - if month <= 2 { 1 } else { 0 };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let mp = if month > 2 { month - 3 } else { month + 9 }; // [0, 11] for valid months
    let doy = (153 * mp + 2) / 5 + day - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian `(year, month, day)` of `days` since `1970-01-01`.
///
/// Exact for every `days` whose year fits in an `i64`; the inverse of [`days_from_civil`].
pub(crate) const fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's algorithm; `saturating_add` keeps extreme inputs from overflowing.
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32; // [1, 12]
    let year = era * 400 + yoe + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        match Timestamp::parse(s) {
            Some(t) => t,
            None => panic!("{s:?} should parse"),
        }
    }

    fn text(t: Timestamp) -> String {
        t.to_string()
    }

    #[test]
    fn known_values() {
        let cases: &[(&str, i64)] = &[
            ("1970-01-01T00:00:00Z", 0),
            ("1970-01-01T00:00:01Z", 1),
            ("1969-12-31T23:59:59Z", -1),
            ("2016-04-05T13:23:05Z", 1_459_862_585),
            ("2000-02-29T12:00:00Z", 951_825_600),
            ("0000-01-01T00:00:00Z", -62_167_219_200),
            ("9999-12-31T23:59:59Z", 253_402_300_799),
        ];
        for &(s, secs) in cases {
            let t = ts(s);
            assert_eq!(t.unix_seconds(), secs, "{s}");
            assert_eq!(Timestamp::from_unix_seconds(secs), Some(t), "{s}");
            assert_eq!(text(t), s);
            assert_eq!(&t.as_array(), s.as_bytes());
        }
        assert_eq!(MIN_UNIX_SECONDS, -62_167_219_200);
        assert_eq!(MAX_UNIX_SECONDS, 253_402_300_799);
    }

    #[test]
    fn from_unix_seconds_bounds() {
        assert!(Timestamp::from_unix_seconds(MIN_UNIX_SECONDS).is_some());
        assert!(Timestamp::from_unix_seconds(MAX_UNIX_SECONDS).is_some());
        assert_eq!(Timestamp::from_unix_seconds(MIN_UNIX_SECONDS - 1), None);
        assert_eq!(Timestamp::from_unix_seconds(MAX_UNIX_SECONDS + 1), None);
        assert_eq!(Timestamp::from_unix_seconds(i64::MIN), None);
        assert_eq!(Timestamp::from_unix_seconds(i64::MAX), None);
    }

    /// Walks every day of the given years with an independent calendar (days_in_month) and
    /// checks that consecutive days are 86400 seconds apart and round-trip through text.
    fn walk_years(years: std::ops::RangeInclusive<i32>, times: &[&str]) {
        let mut previous: Option<i64> = None;
        for year in years {
            for month in 1..=12u32 {
                for day in 1..=days_in_month(year, month) {
                    let date = format!("{year:04}-{month:02}-{day:02}");
                    let midnight = ts(&format!("{date}T00:00:00Z"));
                    if let Some(p) = previous {
                        assert_eq!(midnight.unix_seconds(), p + SECONDS_PER_DAY, "{date}");
                    }
                    previous = Some(midnight.unix_seconds());
                    let days = days_from_civil(year, month, day);
                    assert_eq!(days * SECONDS_PER_DAY, midnight.unix_seconds());
                    assert_eq!(civil_from_days(days), (i64::from(year), month, day));
                    assert!(is_valid_date(year, month, day));
                    for time in times {
                        let s = format!("{date}T{time}Z");
                        let t = ts(&s);
                        assert_eq!(text(t), s);
                        let back = Timestamp::from_unix_seconds(t.unix_seconds());
                        assert_eq!(back, Some(t));
                    }
                }
            }
        }
    }

    #[test]
    fn round_trip_every_day() {
        let times = ["00:00:00", "00:00:01", "12:34:56", "23:59:59"];
        walk_years(0..=2, &times);
        walk_years(1896..=1904, &times);
        walk_years(1968..=1972, &times);
        walk_years(1996..=2008, &times);
        walk_years(2096..=2104, &times);
        walk_years(9996..=9999, &times);
    }

    #[test]
    fn leap_years() {
        assert!(Timestamp::parse("1900-02-29T00:00:00Z").is_none());
        assert!(Timestamp::parse("2000-02-29T00:00:00Z").is_some());
        assert!(Timestamp::parse("2004-02-29T00:00:00Z").is_some());
        assert!(Timestamp::parse("2100-02-29T00:00:00Z").is_none());
        assert!(Timestamp::parse("2015-02-29T00:00:00Z").is_none());
        assert!(Timestamp::parse("0000-02-29T00:00:00Z").is_some());
        assert!(Timestamp::parse("2000-02-30T00:00:00Z").is_none());
        assert!(is_leap_year(0) && is_leap_year(2000) && is_leap_year(2004));
        assert!(!is_leap_year(1900) && !is_leap_year(2100) && !is_leap_year(2015));
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2001, 0), 0);
        assert_eq!(days_in_month(2001, 13), 0);
        assert!(!is_valid_date(2001, 1, 0));
        assert!(!is_valid_date(2001, 4, 31));
        assert!(is_valid_date(2001, 12, 31));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(
            days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28),
            2
        );
        assert_eq!(
            days_from_civil(1900, 3, 1) - days_from_civil(1900, 2, 28),
            1
        );
    }

    #[test]
    fn strided_round_trip_over_whole_range() {
        // A prime stride visits varied times of day across the whole representable range.
        let mut s = MIN_UNIX_SECONDS;
        let mut count = 0u32;
        while s <= MAX_UNIX_SECONDS {
            let Some(t) = Timestamp::from_unix_seconds(s) else {
                panic!("{s} in range")
            };
            let text = text(t);
            assert_eq!(Timestamp::parse(&text), Some(t), "{text}");
            s += 2_147_483_647 / 7 + 13;
            count += 1;
        }
        assert!(count > 1000);
        // Every second of one day.
        let start = ts("2016-12-31T00:00:00Z").unix_seconds();
        for s in start..start + SECONDS_PER_DAY {
            let Some(t) = Timestamp::from_unix_seconds(s) else {
                panic!("{s} in range")
            };
            assert_eq!(Timestamp::parse(&text(t)), Some(t));
        }
    }

    #[test]
    fn ordering_is_chronological() {
        let a = ts("1969-12-31T23:59:59Z");
        let b = ts("1970-01-01T00:00:00Z");
        let c = ts("2016-04-05T13:23:05Z");
        assert!(a < b && b < c);
    }

    #[test]
    fn display_pads() {
        let t = ts("2016-04-05T13:23:05Z");
        assert_eq!(format!("{t:>22}"), "  2016-04-05T13:23:05Z");
        let mut buf = [0u8; 20];
        t.write_to(&mut buf);
        assert_eq!(&buf, b"2016-04-05T13:23:05Z");
    }

    #[test]
    fn rejected_forms() {
        let bad = [
            "",
            "Z",
            "2016-04-05T13:23:05.123Z",
            "2016-04-05T13:23:05.0Z",
            "2016-04-05T13:23:05",
            "2016-04-05T13:23:05+00:00",
            "2016-04-05T13:23:05+0000",
            "2016-04-05 13:23:05Z",
            "2016-02-30T00:00:00Z",
            "2016-04-31T00:00:00Z",
            "2016-04-05t13:23:05z",
            "2016-04-05t13:23:05Z",
            "2016-04-05T13:23:05z",
            "2016-04-05T13:23:5Z",
            "2016-04-05T13:23:055Z",
            "2016-04-05T13:23:05ZZ",
            " 2016-04-05T13:23:05Z",
            "2016-04-05T13:23:05Z ",
            "016-04-05T13:23:05Z",
            "12016-04-05T13:23:05Z",
            "2016-04-05T24:00:00Z",
            "2016-04-05T23:60:00Z",
            "2016-04-05T23:59:60Z",
            "2016-12-31T23:59:60Z",
            "2016-00-05T13:23:05Z",
            "2016-13-05T13:23:05Z",
            "2016-04-00T13:23:05Z",
            "2016-4-05T13:23:05Z",
            "2016/04/05T13:23:05Z",
            "2016-04-05T13-23-05Z",
            "+016-04-05T13:23:05Z",
            "-016-04-05T13:23:05Z",
            "2016-+4-05T13:23:05Z",
            "2016-04-05T1é:23:05Z",
            "2016-04-05T13:23:0éZ",
            "２016-04-05T13:23:05Z",
            "2016-04-05T13:23:05Ｚ",
            "2016-04-05",
        ];
        for s in bad {
            assert_eq!(Timestamp::parse(s), None, "{s:?} should be rejected");
        }
    }

    #[test]
    fn single_byte_mutations_never_panic() {
        let good = "2016-04-05T13:23:05Z";
        let replacements = ['0', '9', '-', ':', 'T', 'Z', 'a', ' ', '\0', 'é', '€', '😀'];
        for i in 0..good.len() {
            for r in replacements {
                let mut s = String::new();
                s.push_str(good.get(..i).unwrap_or_default());
                s.push(r);
                s.push_str(good.get(i + 1..).unwrap_or_default());
                let parsed = Timestamp::parse(&s);
                if let Some(t) = parsed {
                    assert_eq!(text(t), s);
                }
                // Deletions and insertions.
                let mut shorter = String::from(good.get(..i).unwrap_or_default());
                shorter.push_str(good.get(i + 1..).unwrap_or_default());
                assert_eq!(Timestamp::parse(&shorter), None);
                let mut longer = String::from(good.get(..i).unwrap_or_default());
                longer.push(r);
                longer.push_str(good.get(i..).unwrap_or_default());
                assert_eq!(Timestamp::parse(&longer), None);
            }
        }
    }

    #[test]
    fn civil_from_days_extremes_do_not_panic() {
        let _ = civil_from_days(i64::MIN);
        let _ = civil_from_days(i64::MAX);
        let _ = days_from_civil(i32::MIN, u32::MAX, u32::MAX);
        let _ = days_from_civil(i32::MAX, 0, 0);
    }
}
