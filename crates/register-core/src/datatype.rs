//! Field datatypes and value validation.
//!
//! Every field of a register has a datatype (the `datatype` of its `field:<f>` system record).
//! Item field values are always JSON strings (or arrays of JSON strings for cardinality `n`,
//! each element checked on its own), so every datatype here is a rule over a `&str`: an
//! `integer` is a string of digits, a `boolean` is the string `true` or `false`, and so on.
//!
//! The rules are those of the datatype table in registers.md §3, made precise as documented on
//! each [`Datatype`] variant. Validation never panics and never allocates.

use std::fmt;

use crate::time::{days_from_civil, is_valid_date, Timestamp};

/// The datatype of a register field (registers.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Datatype {
    /// `string`: non-empty Unicode, not only whitespace (`char::is_whitespace`).
    String,
    /// `text`: as `string` (Markdown allowed).
    Text,
    /// `integer`: `0` or `-?[1-9][0-9]*`, of any length.
    Integer,
    /// `datetime`: `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ssZ`, with valid
    /// calendar values (Gregorian leap years, hour 00–23, minute and second 00–59).
    Datetime,
    /// `timestamp`: exactly `YYYY-MM-DDThh:mm:ssZ` (see [`Timestamp::parse`]).
    Timestamp,
    /// `period`: `start/end`, `start/duration`, `duration/end` or a bare `duration`. Start and
    /// end are `datetime` values; durations are ISO 8601 `P[nY][nM][nD][T[nH][nM][nS]]` (at least
    /// one component, no empty `T` part) or `PnW`. A start must be strictly before its end,
    /// each taken as the instant it begins.
    Period,
    /// `curie`: `prefix:reference`, prefix `[a-z][a-z0-9-]*`, reference non-empty without
    /// whitespace; a bare value (no colon, non-empty, no whitespace) only when the field names a
    /// register.
    Curie,
    /// `url`: an absolute URL: `scheme:rest` with scheme `[A-Za-z][A-Za-z0-9+.-]*`, a non-empty
    /// rest without whitespace or ASCII control characters, and for `http`/`https` a rest of the
    /// form `//host…` with a non-empty host.
    Url,
    /// `name`: `[A-Za-z][A-Za-z0-9-]*`.
    Name,
    /// `hash`: `sha-256:` followed by exactly 64 lowercase hex digits.
    Hash,
    /// `boolean`: exactly `true` or `false`.
    Boolean,
}

impl Datatype {
    /// Every datatype, in the order of the registers.md §3 table.
    pub const ALL: [Datatype; 11] = [
        Datatype::String,
        Datatype::Text,
        Datatype::Integer,
        Datatype::Datetime,
        Datatype::Timestamp,
        Datatype::Period,
        Datatype::Curie,
        Datatype::Url,
        Datatype::Name,
        Datatype::Hash,
        Datatype::Boolean,
    ];

    /// The datatype with this name (`"string"`, `"integer"`, …); names are case-sensitive.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Datatype> {
        Some(match name {
            "string" => Datatype::String,
            "text" => Datatype::Text,
            "integer" => Datatype::Integer,
            "datetime" => Datatype::Datetime,
            "timestamp" => Datatype::Timestamp,
            "period" => Datatype::Period,
            "curie" => Datatype::Curie,
            "url" => Datatype::Url,
            "name" => Datatype::Name,
            "hash" => Datatype::Hash,
            "boolean" => Datatype::Boolean,
            _ => return None,
        })
    }

    /// The datatype's name as written in a field definition (e.g. `"datetime"`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Datatype::String => "string",
            Datatype::Text => "text",
            Datatype::Integer => "integer",
            Datatype::Datetime => "datetime",
            Datatype::Timestamp => "timestamp",
            Datatype::Period => "period",
            Datatype::Curie => "curie",
            Datatype::Url => "url",
            Datatype::Name => "name",
            Datatype::Hash => "hash",
            Datatype::Boolean => "boolean",
        }
    }

    /// Whether `value` (the content of one JSON string) is valid for this datatype.
    ///
    /// `field_names_register` is true when the field definition has a `register` (the field
    /// refers to another register's keys); it only matters for [`Datatype::Curie`], where it
    /// also allows a bare value without a prefix.
    #[must_use]
    pub fn is_valid(self, value: &str, field_names_register: bool) -> bool {
        match self {
            Datatype::String | Datatype::Text => value.chars().any(|c| !c.is_whitespace()),
            Datatype::Integer => is_integer(value),
            Datatype::Datetime => datetime_start(value).is_some(),
            Datatype::Timestamp => Timestamp::parse(value).is_some(),
            Datatype::Period => is_period(value),
            Datatype::Curie => is_curie(value, field_names_register),
            Datatype::Url => is_url(value),
            Datatype::Name => is_name(value),
            Datatype::Hash => is_hash(value),
            Datatype::Boolean => value == "true" || value == "false",
        }
    }
}

impl fmt::Display for Datatype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// Whether `s` is one or more ASCII digits.
fn all_digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

/// `0` or `-?[1-9][0-9]*`.
fn is_integer(value: &str) -> bool {
    let b = value.as_bytes();
    if b == b"0" {
        return true;
    }
    let unsigned = b.strip_prefix(b"-").unwrap_or(b);
    match unsigned.split_first() {
        Some((first, rest)) => (b'1'..=b'9').contains(first) && rest.iter().all(u8::is_ascii_digit),
        None => false,
    }
}

/// Parses exactly two ASCII digits.
fn two_digits(b: Option<&[u8]>) -> Option<u32> {
    match b? {
        [t @ b'0'..=b'9', u @ b'0'..=b'9'] => Some(u32::from(t - b'0') * 10 + u32::from(u - b'0')),
        _ => None,
    }
}

/// Parses exactly four ASCII digits.
fn four_digits(b: Option<&[u8]>) -> Option<i32> {
    let b = b?;
    if b.len() != 4 || !all_digits(b) {
        return None;
    }
    Some(
        b.iter()
            .fold(0i32, |acc, &c| acc * 10 + i32::from(c - b'0')),
    )
}

/// If `value` is a valid `datetime` (`YYYY`, `YYYY-MM`, `YYYY-MM-DD` or
/// `YYYY-MM-DDThh:mm:ssZ`), the Unix seconds of the instant it begins; otherwise `None`.
fn datetime_start(value: &str) -> Option<i64> {
    let b = value.as_bytes();
    let date = |year: i32, month: u32, day: u32| {
        is_valid_date(year, month, day).then(|| days_from_civil(year, month, day) * 86_400)
    };
    match b.len() {
        4 => date(four_digits(b.get(0..4))?, 1, 1),
        7 if b.get(4) == Some(&b'-') => {
            date(four_digits(b.get(0..4))?, two_digits(b.get(5..7))?, 1)
        }
        10 if b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-') => date(
            four_digits(b.get(0..4))?,
            two_digits(b.get(5..7))?,
            two_digits(b.get(8..10))?,
        ),
        20 => Timestamp::parse(value).map(Timestamp::unix_seconds),
        _ => None,
    }
}

/// Counts `<digits><designator>` components of `s`, whose designators must appear in
/// `designators` in strictly increasing position; `None` if `s` is not such a sequence.
fn duration_components(mut s: &[u8], designators: &[u8]) -> Option<usize> {
    let mut next = 0;
    let mut count = 0;
    while !s.is_empty() {
        let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let designator = *s.get(digits)?;
        let position = designators.iter().position(|&d| d == designator)?;
        if position < next {
            return None;
        }
        next = position + 1;
        count += 1;
        s = s.get(digits + 1..)?;
    }
    Some(count)
}

/// ISO 8601 duration: `P[nY][nM][nD][T[nH][nM][nS]]` with at least one component and no empty
/// time part, or `PnW`.
fn is_duration(value: &str) -> bool {
    let Some(rest) = value.as_bytes().strip_prefix(b"P") else {
        return false;
    };
    if let Some(weeks) = rest.strip_suffix(b"W") {
        return all_digits(weeks);
    }
    let mut parts = rest.splitn(2, |&c| c == b'T');
    let date = parts.next().unwrap_or_default();
    let Some(date_count) = duration_components(date, b"YMD") else {
        return false;
    };
    match parts.next() {
        // A `T` must be followed by at least one time component.
        Some(time) => matches!(duration_components(time, b"HMS"), Some(n) if n > 0),
        None => date_count > 0,
    }
}

/// `start/end`, `start/duration`, `duration/end` or `duration`.
fn is_period(value: &str) -> bool {
    let mut parts = value.split('/');
    let (Some(first), second, None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Some(second) = second else {
        return is_duration(first);
    };
    match (datetime_start(first), datetime_start(second)) {
        (Some(start), Some(end)) => start < end,
        (Some(_), None) => is_duration(second),
        (None, Some(_)) => is_duration(first),
        (None, None) => false,
    }
}

/// Non-empty and without Unicode whitespace.
fn is_token(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(char::is_whitespace)
}

/// `prefix:reference`, or a bare token when the field names a register.
fn is_curie(value: &str, field_names_register: bool) -> bool {
    match value.split_once(':') {
        Some((prefix, reference)) => {
            let valid_prefix = match prefix.as_bytes().split_first() {
                Some((first, rest)) => {
                    first.is_ascii_lowercase()
                        && rest
                            .iter()
                            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
                }
                None => false,
            };
            valid_prefix && is_token(reference)
        }
        None => field_names_register && is_token(value),
    }
}

/// An absolute URL (see [`Datatype::Url`]).
fn is_url(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let valid_scheme = match scheme.as_bytes().split_first() {
        Some((first, tail)) => {
            first.is_ascii_alphabetic()
                && tail
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-'))
        }
        None => false,
    };
    if !valid_scheme
        || rest.is_empty()
        || rest
            .chars()
            .any(|c| c.is_whitespace() || c.is_ascii_control())
    {
        return false;
    }
    if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") {
        let Some(authority) = rest.strip_prefix("//") else {
            return false;
        };
        let host = authority.split(['/', '?', '#']).next().unwrap_or_default();
        // Whitespace was already excluded from the whole value.
        return !host.is_empty();
    }
    true
}

/// `[A-Za-z][A-Za-z0-9-]*`.
fn is_name(value: &str) -> bool {
    match value.as_bytes().split_first() {
        Some((first, rest)) => {
            first.is_ascii_alphabetic()
                && rest.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
        }
        None => false,
    }
}

/// `sha-256:` and 64 lowercase hex digits.
fn is_hash(value: &str) -> bool {
    match value.as_bytes().strip_prefix(b"sha-256:") {
        Some(hex) => hex.len() == 64 && hex.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks one value, both without and with `field_names_register` unless the datatype is
    /// `curie` (whose result depends on it; use [`check_curie`]).
    fn check(datatype: Datatype, value: &str, expected: bool) {
        for names_register in [false, true] {
            if datatype == Datatype::Curie && names_register {
                continue;
            }
            assert_eq!(
                datatype.is_valid(value, names_register),
                expected,
                "{datatype} {value:?} (field_names_register={names_register}) should be {}",
                if expected { "valid" } else { "invalid" }
            );
        }
    }

    fn check_curie(value: &str, names_register: bool, expected: bool) {
        assert_eq!(
            Datatype::Curie.is_valid(value, names_register),
            expected,
            "curie {value:?} (field_names_register={names_register})"
        );
    }

    fn check_all(datatype: Datatype, valid: &[&str], invalid: &[&str]) {
        assert!(valid.len() >= 5 && invalid.len() >= 5);
        for v in valid {
            check(datatype, v, true);
        }
        for v in invalid {
            check(datatype, v, false);
        }
    }

    const HASH: &str = "sha-256:e94c4a9ab00d951dadde848ee2c9fe51628b22ff2e0a88bff4cca6e4e6086d7a";

    #[test]
    fn names_round_trip() {
        for d in Datatype::ALL {
            assert_eq!(Datatype::from_name(d.name()), Some(d));
            assert_eq!(d.to_string(), d.name());
        }
        let mut names: Vec<&str> = Datatype::ALL.iter().map(|d| d.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 11);
        for bad in [
            "", "String", "STRING", " string", "string ", "int", "date", "bool",
        ] {
            assert_eq!(Datatype::from_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn string_and_text() {
        let valid = [
            "a",
            " a ",
            "Ünïcødé",
            "GB",
            "hello world",
            "\u{a0}x",
            "0",
            "**md**",
        ];
        let invalid = [
            "",
            " ",
            "\t",
            "\n\r ",
            "\u{a0}",
            "\u{2003}\u{3000}",
            "\u{2028}",
        ];
        check_all(Datatype::String, &valid, &invalid);
        check_all(Datatype::Text, &valid, &invalid);
    }

    #[test]
    fn integer() {
        check_all(
            Datatype::Integer,
            &[
                "0",
                "1",
                "-1",
                "10",
                "-1234567890",
                "123456789012345678901234567890",
            ],
            &[
                "", "-", "-0", "01", "-01", "00", "+1", "1.0", " 1", "1 ", "1e3", "0x10", "１",
                "--1", "1-",
            ],
        );
    }

    #[test]
    fn datetime() {
        check_all(
            Datatype::Datetime,
            &[
                "2016",
                "0000",
                "9999",
                "2016-04",
                "2016-12",
                "2016-04-05",
                "2016-02-29",
                "2000-02-29",
                "2016-04-05T13:23:05Z",
                "9999-12-31T23:59:59Z",
            ],
            &[
                "",
                "16",
                "20160",
                "1991-13-01",
                "2016-00",
                "2016-13",
                "2016-4",
                "2016-04-5",
                "2016-04-00",
                "2016-04-31",
                "2015-02-29",
                "1900-02-29",
                "2016/04/05",
                "20160405",
                "2016-04-05T13:23Z",
                "2016-04-05T13:23:05",
                "2016-04-05T13:23:05.1Z",
                "2016-04-05T24:00:00Z",
                "2016-04-05T13:23:60Z",
                "2016-04-05t13:23:05z",
                "-2016",
                "+2016",
                "２016",
                "2016-04-05 ",
            ],
        );
    }

    #[test]
    fn timestamp() {
        check_all(
            Datatype::Timestamp,
            &[
                "2016-04-05T13:23:05Z",
                "1970-01-01T00:00:00Z",
                "0000-01-01T00:00:00Z",
                "9999-12-31T23:59:59Z",
                "2016-02-29T23:59:59Z",
            ],
            &[
                "2016",
                "2016-04",
                "2016-04-05",
                "2016-04-05T13:23:05.123Z",
                "2016-04-05T13:23:05",
                "2016-04-05T13:23:05+00:00",
                "2016-02-30T00:00:00Z",
                "2016-04-05T24:00:00Z",
                "",
            ],
        );
    }

    #[test]
    fn period() {
        check_all(
            Datatype::Period,
            &[
                "P1Y",
                "P1M",
                "P1D",
                "PT1H",
                "PT1M",
                "PT1S",
                "P0D",
                "P1Y2M3DT4H5M6S",
                "P1Y3D",
                "P2MT30M",
                "P12W",
                "P1W",
                "P10000Y",
                "2017/2018",
                "2017/2017-01-02",
                "2017-01/2017-02",
                "2017-01-01/2017-01-02",
                "2017-01-01T00:00:00Z/2017-01-01T00:00:01Z",
                "2017-12-31T23:59:59Z/2018",
                "2017-01-01/P1Y",
                "2017/PT1H",
                "P1Y/2018",
                "P1D/2018-01-01T00:00:00Z",
            ],
            &[
                "",
                "P",
                "PT",
                "P1YT",
                "P1Y2M3DT",
                "1Y",
                "p1Y",
                "P1y",
                "P1.5Y",
                "P-1Y",
                "P1M1Y",
                "PT1S1M",
                "P1H",
                "PT1D",
                "P1Y1Y",
                "P1YT1H1H",
                "PY",
                "P1",
                "PW",
                "P1Y1W",
                "P1WT1H",
                "PT1W",
                "P1W/",
                "P1TY",
                "PT1HT1M",
                "P1Y ",
                " P1Y",
                "P１Y",
                "2018/2017",
                "2017/2017",
                "2017/2017-01",
                "2017-01-01/2017",
                "2017-01-02/2017-01-01",
                "2017-01-01T00:00:01Z/2017-01-01T00:00:00Z",
                "P1Y/P2Y",
                "2017",
                "2017-01-01",
                "2017/",
                "/2017",
                "/",
                "//",
                "2016/2017/2018",
                "2017/P1Y/2019",
                "2017-13/2018",
                "2017/P",
                "2017/PT",
                "P/2017",
                "2017/1Y",
                "2017 / 2018",
            ],
        );
    }

    #[test]
    fn curie() {
        let valid_both = [
            "country:GB",
            "local-authority-eng:LND",
            "a:b",
            "a1-b2:x:y",
            "wikidata:Q145",
            "x:é",
        ];
        let invalid_both = [
            "",
            ":GB",
            "Country:GB",
            "1country:GB",
            "-country:GB",
            "country_x:GB",
            "country:",
            "country: GB",
            "country:G B",
            "coun try:GB",
            "country:GB\t",
            " ",
            "GB ",
            "G\u{a0}B",
        ];
        for v in valid_both {
            check(Datatype::Curie, v, true);
            check_curie(v, true, true);
        }
        for v in invalid_both {
            check(Datatype::Curie, v, false);
            check_curie(v, true, false);
        }
        // Bare values: valid only when the field names a register.
        for v in ["GB", "gb", "E09000033", "x", "a/b"] {
            check_curie(v, false, false);
            check_curie(v, true, true);
        }
    }

    #[test]
    fn url() {
        check_all(
            Datatype::Url,
            &[
                "https://example.com/a",
                "https://example.com",
                "http://example.com:8080/a/b?c=d#e",
                "HTTPS://EXAMPLE.COM",
                "http://user@host",
                "https://example.com?q",
                "https://example.com#f",
                "https://[::1]/",
                "https://exämple.com/ä",
                "mailto:a@b.c",
                "urn:isbn:0451450523",
                "ftp://example.com/file",
                "file:///etc/hosts",
                "tel:+44-20-0000-0000",
                "git+ssh://host/repo",
                "a:b",
            ],
            &[
                "",
                "example.com",
                "/relative/path",
                "//example.com",
                "https://",
                "https:",
                "https:/example.com",
                "https:example.com",
                "https:///path",
                "https://?q",
                "https://#f",
                "http://exa mple.com",
                "https://example.com/a b",
                " https://example.com",
                "https://example.com ",
                "https://example.com/\u{7f}",
                "https://example.com/\u{0}",
                "https://example.com/\u{a0}",
                "mailto:",
                ":foo",
                "1http://example.com",
                "ht_tp://example.com",
                "-a:b",
                "é:b",
            ],
        );
    }

    #[test]
    fn name() {
        check_all(
            Datatype::Name,
            &["a", "country", "local-authority-eng", "Z9", "a-", "A-b-C-1"],
            &["", "1a", "-a", "a_b", "a b", "a.b", "é", "a:b", " a", "a "],
        );
    }

    #[test]
    fn hash() {
        let upper = HASH.to_uppercase();
        let upper_hex = format!(
            "sha-256:{}",
            HASH.get(8..).unwrap_or_default().to_uppercase()
        );
        let short = HASH.get(..HASH.len() - 1).unwrap_or_default();
        let long = format!("{HASH}0");
        let non_hex = format!("{short}g");
        let sha1 = "sha-1:a94a8fe5ccb19ba61c4c0873d391e987982fbbd3";
        let valid = [
            HASH,
            "sha-256:0000000000000000000000000000000000000000000000000000000000000000",
            "sha-256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "sha-256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "sha-256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ];
        let no_prefix = HASH.get(8..).unwrap_or_default();
        let spaced = format!(" {HASH}");
        let invalid = [
            "",
            "sha-256:",
            upper.as_str(),
            upper_hex.as_str(),
            short,
            long.as_str(),
            non_hex.as_str(),
            sha1,
            no_prefix,
            spaced.as_str(),
        ];
        check_all(Datatype::Hash, &valid, &invalid);
    }

    #[test]
    fn boolean() {
        check_all(
            Datatype::Boolean,
            &["true", "false", "true", "false", "true"],
            &[
                "", "True", "FALSE", "1", "0", "yes", "no", " true", "true ", "t",
            ],
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        let odd = [
            "",
            "/",
            "//",
            ":",
            "::",
            "P",
            "T",
            "W",
            "PW",
            "é",
            "P€",
            "2016-0€",
            "2016-€1",
            "€€€€",
            "😀😀😀😀😀",
            "2016-04-05T13:23:0😀",
            "\u{0}",
            "sha-256:é",
            "P😀/2017",
            "2017-01-01T00:00:00Z/😀",
            "a:😀",
            "😀:a",
            "https://😀",
            "-",
            "-😀",
            "\u{feff}",
        ];
        for d in Datatype::ALL {
            for v in odd {
                let _ = d.is_valid(v, false);
                let _ = d.is_valid(v, true);
            }
        }
    }
}
