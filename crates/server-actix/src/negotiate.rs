//! Representations: a `.json` / `.csv` suffix on the last path segment, else `Accept`; and
//! whether a request asks for a page (`.html`, or an `Accept` that prefers HTML).

use actix_web::http::header;
use actix_web::HttpRequest;

use super::errors::ApiError;

/// A representation of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json`.
    Json,
    /// `text/csv;charset=UTF-8`.
    Csv,
}

/// Splits a format suffix off the last path segment.
pub fn split_suffix(segment: &str) -> (&str, Option<Format>) {
    if let Some(base) = segment.strip_suffix(".json") {
        (base, Some(Format::Json))
    } else if let Some(base) = segment.strip_suffix(".csv") {
        (base, Some(Format::Csv))
    } else {
        (segment, None)
    }
}

/// One media range of an `Accept` header: type and subtype (lowercase, `*` for a
/// wildcard), its quality, and its position in the header.
#[derive(Debug, Clone, PartialEq)]
struct Range {
    kind: String,
    subtype: String,
    q: f32,
    position: usize,
}

/// The ranges of an `Accept` header; malformed ones (no `/`) are skipped. A `q` that is not a
/// number from 0 to 1 counts as 0: a client that says so little accepts nothing by it.
fn ranges(accept: &str) -> Vec<Range> {
    accept
        .split(',')
        .enumerate()
        .filter_map(|(position, range)| {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let (kind, subtype) = media.split_once('/')?;
            let q = parts
                .find_map(|p| {
                    let (name, value) = p.split_once('=')?;
                    name.trim().eq_ignore_ascii_case("q").then(|| value.trim())
                })
                .map_or(1.0, |q| {
                    q.parse::<f32>()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q))
                        .unwrap_or(0.0)
                });
            Some(Range {
                kind: kind.trim().to_string(),
                subtype: subtype.trim().to_string(),
                q,
                position,
            })
        })
        .collect()
}

/// How much the client wants `kind/subtype`: the quality of the most specific range that
/// matches it (RFC 9110 §12.5.1: `text/csv;q=0, */*` refuses CSV), and that range's position.
/// `None` when no range matches or the quality is 0 ("not acceptable").
fn quality(ranges: &[Range], kind: &str, subtype: &str) -> Option<(f32, usize)> {
    let specificity = |r: &Range| match (r.kind.as_str(), r.subtype.as_str()) {
        (k, s) if k == kind && s == subtype => Some(2),
        (k, "*") if k == kind => Some(1),
        ("*", "*") => Some(0),
        _ => None,
    };
    let mut best: Option<(u8, &Range)> = None;
    for range in ranges {
        if let Some(level) = specificity(range) {
            if best.is_none_or(|(b, _)| level > b) {
                best = Some((level, range));
            }
        }
    }
    best.map(|(_, r)| (r.q, r.position))
        .filter(|(q, _)| *q > 0.0)
}

/// The served format the client prefers: the highest quality, then the earlier range, then
/// JSON. `None` when neither is acceptable.
fn preferred(ranges: &[Range]) -> Option<((f32, usize), Format)> {
    let json = quality(ranges, "application", "json").map(|q| (q, Format::Json));
    let csv = quality(ranges, "text", "csv").map(|q| (q, Format::Csv));
    match (json, csv) {
        (Some(j), Some(c)) => Some(if better(c.0, j.0) { c } else { j }),
        (j, c) => j.or(c),
    }
}

/// Whether `(quality, position)` `a` beats `b`: higher quality, or as high and earlier.
fn better(a: (f32, usize), b: (f32, usize)) -> bool {
    a.0 > b.0 || (a.0 == b.0 && a.1 < b.1)
}

/// The `Accept` header's text, `None` when absent or blank (anything goes: JSON).
fn accept_header(request: &HttpRequest) -> Option<&str> {
    request
        .headers()
        .get(header::ACCEPT)
        .map(|v| v.to_str().unwrap_or_default())
        .filter(|text| !text.trim().is_empty())
}

/// The format: the suffix when there is one, else the acceptable media type of `Accept` the
/// client prefers (JSON when absent, or `*/*`), else 406. A range with `q=0` refuses a type.
pub fn choose(request: &HttpRequest, suffix: Option<Format>) -> Result<Format, ApiError> {
    if let Some(format) = suffix {
        return Ok(format);
    }
    let Some(accept) = accept_header(request) else {
        return Ok(Format::Json);
    };
    preferred(&ranges(accept))
        .map(|(_, format)| format)
        .ok_or_else(|| {
            ApiError::NotAcceptable(format!(
                "none of '{accept}' can be served; use application/json or text/csv"
            ))
        })
}

/// Whether a JSON-only resource may answer: no `Accept`, or one that admits JSON (not with
/// `q=0`).
pub fn accepts_json(request: &HttpRequest) -> bool {
    accept_header(request)
        .is_none_or(|accept| quality(&ranges(accept), "application", "json").is_some())
}

/// Whether a request asks for a page: a `.html` suffix on the last path segment, or an
/// `Accept` whose most preferred range among those served is `text/html` (or
/// `application/xhtml+xml`), as a browser's is. Quality values count (`q=0` refuses); between
/// equal ones the earlier range wins, as in [`choose`]. Only those two types by name ask for
/// HTML: no `Accept`, `*/*`, `text/*` and `application/json` are not page requests, JSON
/// stays the default.
pub fn wants_html(path: &str, accept: Option<&str>) -> bool {
    if path.ends_with(".html") {
        return true;
    }
    let ranges = ranges(accept.unwrap_or_default());
    let html = ["html", "xhtml+xml"]
        .into_iter()
        .zip(["text", "application"])
        .filter_map(|(subtype, kind)| {
            ranges
                .iter()
                .find(|r| r.kind == kind && r.subtype == subtype)
                .map(|r| (r.q, r.position))
                .filter(|(q, _)| *q > 0.0)
        })
        .reduce(|a, b| if better(b, a) { b } else { a });
    match (html, preferred(&ranges)) {
        (Some(html), Some((other, _))) => better(html, other),
        (html, _) => html.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::{preferred, ranges, wants_html, Format};

    fn format(accept: &str) -> Option<Format> {
        preferred(&ranges(accept)).map(|(_, f)| f)
    }

    #[test]
    fn q_zero_refuses_a_type() {
        for (accept, expected) in [
            ("application/json", Some(Format::Json)),
            ("*/*", Some(Format::Json)),
            ("text/*", Some(Format::Csv)),
            ("application/json;q=0", None),
            ("application/json; q=0.000", None),
            ("application/json;Q=0", None),
            ("text/csv;q=0, application/json;q=0", None),
            ("*/*;q=0", None),
            ("application/json;q=0, */*", Some(Format::Csv)),
            ("*/*, application/json;q=0", Some(Format::Csv)),
            ("*/*, application/*;q=0", Some(Format::Csv)),
            ("text/csv;q=0, */*", Some(Format::Json)),
            ("application/json;q=0, text/csv;q=0, */*", None),
            ("text/csv;q=0.5, application/json", Some(Format::Json)),
            ("text/csv, application/json", Some(Format::Csv)),
            ("application/json;q=abc", None),
            ("application/json;q=2", None),
            ("application/json;q=NaN", None),
            ("image/png", None),
            ("garbage", None),
        ] {
            assert_eq!(format(accept), expected, "{accept}");
        }
    }

    #[test]
    fn browsers_get_pages_and_everyone_else_json() {
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
                       image/webp,*/*;q=0.8";
        for (path, accept, html) in [
            ("/registers/country/records", Some(browser), true),
            ("/registers/country/records", Some("text/html"), true),
            (
                "/registers/country/records",
                Some("application/xhtml+xml"),
                true,
            ),
            ("/registers/country/records", None, false),
            ("/registers/country/records", Some(""), false),
            ("/registers/country/records", Some("*/*"), false),
            (
                "/registers/country/records",
                Some("application/json"),
                false,
            ),
            (
                "/registers/country/records",
                Some("application/json, text/html"),
                false,
            ),
            (
                "/registers/country/records",
                Some("text/html;q=0.5, application/json"),
                false,
            ),
            (
                "/registers/country/records",
                Some("application/json;q=0.5, text/html"),
                true,
            ),
            (
                "/registers/country/records",
                Some("text/html;q=0, */*"),
                false,
            ),
            ("/registers/country/records", Some("text/csv"), false),
            ("/registers/country/records", Some("text/html;q=0"), false),
            (
                "/registers/country/records",
                Some("text/html;q=0, application/xhtml+xml;q=0, */*"),
                false,
            ),
            (
                "/registers/country/records",
                Some("*/*;q=0.8, text/html"),
                true,
            ),
            (
                "/registers/country/records",
                Some("application/json;q=0, text/html;q=0.1"),
                true,
            ),
            ("/registers/country/records", Some("TEXT/HTML"), true),
            ("/registers/country/records", Some("text/*"), false),
            ("/registers/country/records", Some("image/png"), false),
            ("/registers/country/records.html", None, true),
            (
                "/registers/country/records/GB.html",
                Some("application/json"),
                true,
            ),
        ] {
            assert_eq!(wants_html(path, accept), html, "{path} {accept:?}");
        }
    }
}
