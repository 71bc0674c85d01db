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

/// The format: the suffix when there is one, else the first acceptable media type of
/// `Accept` (JSON when absent or `*/*`), else 406.
pub fn choose(request: &HttpRequest, suffix: Option<Format>) -> Result<Format, ApiError> {
    if let Some(format) = suffix {
        return Ok(format);
    }
    let Some(accept) = request.headers().get(header::ACCEPT) else {
        return Ok(Format::Json);
    };
    let accept = accept.to_str().unwrap_or_default();
    if accept.trim().is_empty() {
        return Ok(Format::Json);
    }
    for range in accept.split(',') {
        let media = range.split(';').next().unwrap_or_default().trim();
        match media {
            "application/json" | "application/*" | "*/*" => return Ok(Format::Json),
            "text/csv" | "text/*" => return Ok(Format::Csv),
            _ => {}
        }
    }
    Err(ApiError::NotAcceptable(format!(
        "none of '{accept}' can be served; use application/json or text/csv"
    )))
}

/// Whether a JSON-only resource may answer: no `Accept`, or one that admits JSON.
pub fn accepts_json(request: &HttpRequest) -> bool {
    let Some(accept) = request.headers().get(header::ACCEPT) else {
        return true;
    };
    let accept = accept.to_str().unwrap_or_default();
    accept.trim().is_empty()
        || accept.split(',').any(|range| {
            matches!(
                range.split(';').next().unwrap_or_default().trim(),
                "application/json" | "application/*" | "*/*"
            )
        })
}

/// Whether a request asks for a page: a `.html` suffix on the last path segment, or an
/// `Accept` whose most preferred range among those served is `text/html` (or
/// `application/xhtml+xml`), as a browser's is. Quality values count; between equal ones the
/// earlier range wins, as in [`choose`]. No `Accept`, `*/*` and `application/json` are not
/// page requests: JSON stays the default.
pub fn wants_html(path: &str, accept: Option<&str>) -> bool {
    if path.ends_with(".html") {
        return true;
    }
    let mut best: Option<(f32, bool)> = None;
    for range in accept.unwrap_or_default().split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let html = match media.as_str() {
            "text/html" | "application/xhtml+xml" => true,
            "application/json" | "application/*" | "*/*" | "text/csv" | "text/*" => false,
            _ => continue,
        };
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q=").map(|q| q.trim().parse::<f32>()))
            .unwrap_or(Ok(1.0))
            .unwrap_or(0.0);
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, html));
        }
    }
    best.is_some_and(|(_, html)| html)
}

#[cfg(test)]
mod tests {
    use super::wants_html;

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
