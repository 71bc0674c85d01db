//! Representations: a `.json` / `.csv` suffix on the last path segment, else `Accept`.

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
