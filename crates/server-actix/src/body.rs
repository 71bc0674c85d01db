//! Request bodies, read only when a handler asks for them — after it has checked the
//! caller's credentials — within a size limit and time limits. An anonymous, unauthorised or
//! slow client therefore costs a socket and a few kilobytes, never a buffered upload.
//!
//! Every handler that takes a body takes a [`Body`]; the limit is the resource's
//! [`BodyLimit`] (or the application's), and [`Body::bytes`] refuses
//! - a declared `Content-Length` over the limit at once (413), and a longer body as soon as
//!   the limit is passed (413), without reading on;
//! - a body that stalls for [`IDLE`] between chunks, or that after [`GRACE`] arrives slower
//!   than [`MIN_RATE`] bytes a second on average (408).
//!
//! Refusals close the connection (see [`crate::observe`]): an unread rest is never drained.

use std::future::poll_fn;
use std::pin::Pin;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::errors::ApiError;

/// The largest body of a route that names no limit of its own.
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// The longest a body may pause between two chunks.
pub const IDLE: Duration = Duration::from_secs(10);

/// How long a body may take before [`MIN_RATE`] applies.
pub const GRACE: Duration = Duration::from_secs(10);

/// The slowest average rate (bytes a second) accepted after [`GRACE`]: a 512 MiB upload at
/// this rate takes about 4.5 hours, a byte-by-byte trickle is cut after 10 s.
pub const MIN_RATE: u64 = 32 * 1024;

/// The body limit of a resource (its `app_data`).
#[derive(Debug, Clone, Copy)]
pub enum BodyLimit {
    /// At most this many bytes.
    Bytes(usize),
    /// The application's limit on RSF uploads ([`RsfLimit`]).
    Rsf,
}

/// The application's limit on RSF uploads, in bytes (its `app_data`; the operator sets it).
#[derive(Debug, Clone, Copy)]
pub struct RsfLimit(pub usize);

/// A request body not read yet.
pub struct Body {
    payload: Payload,
    limit: usize,
    declared: Option<u64>,
    content_type: Option<String>,
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body")
            .field("limit", &self.limit)
            .field("declared", &self.declared)
            .finish_non_exhaustive()
    }
}

impl FromRequest for Body {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Body, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = match request.app_data::<BodyLimit>() {
            None => DEFAULT_LIMIT,
            Some(BodyLimit::Bytes(limit)) => *limit,
            Some(BodyLimit::Rsf) => request
                .app_data::<RsfLimit>()
                .map_or(super::MAX_RSF_BYTES, |limit| limit.0),
        };
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        std::future::ready(Ok(Body {
            payload: payload.take(),
            limit,
            declared,
            content_type,
        }))
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the request body is larger than this route's limit of {limit} bytes"
    ))
}

impl Body {
    /// The body's media type without parameters, in lower case (`None` when not sent).
    pub fn media_type(&self) -> Option<String> {
        self.content_type.as_deref().map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
    }

    /// The whole body, within the limits the module describes.
    pub async fn bytes(mut self) -> Result<Bytes, ApiError> {
        let limit = self.limit;
        if self.declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large(limit));
        }
        let capacity = self.declared.map_or(0, |n| n as usize).min(limit);
        let mut body = BytesMut::with_capacity(capacity);
        let started = Instant::now();
        loop {
            // Whichever comes first cuts the body off: the last chunk + IDLE, or the moment
            // the bytes so far fall below MIN_RATE.
            let rate_deadline =
                started + GRACE + Duration::from_secs_f64(body.len() as f64 / MIN_RATE as f64);
            let deadline = rate_deadline.min(Instant::now() + IDLE);
            let next =
                poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut self.payload), cx));
            let chunk = match tokio::time::timeout_at(deadline, next).await {
                Err(_) => {
                    return Err(ApiError::RequestTimeout(format!(
                        "the request body arrived too slowly (after {} bytes; a body may \
                         pause at most {} s and must average {} KiB/s after {} s)",
                        body.len(),
                        IDLE.as_secs(),
                        MIN_RATE / 1024,
                        GRACE.as_secs()
                    )))
                }
                Ok(None) => return Ok(body.freeze()),
                Ok(Some(Err(e))) => {
                    return Err(match e {
                        actix_web::error::PayloadError::Overflow => too_large(limit),
                        other => {
                            ApiError::BadRequest(format!("the request body broke off: {other}"))
                        }
                    })
                }
                Ok(Some(Ok(chunk))) => chunk,
            };
            if body.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            body.extend_from_slice(&chunk);
        }
    }

    /// The body as JSON of `T`: 415 unless it is sent as JSON, 400 when it does not parse.
    pub async fn json<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        let is_json = self
            .media_type()
            .is_some_and(|t| t == "application/json" || t.ends_with("+json"));
        if !is_json {
            return Err(ApiError::UnsupportedMediaType(
                "the body must be JSON (Content-Type: application/json)".into(),
            ));
        }
        let bytes = self.bytes().await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::BadRequest(format!("bad JSON body: {e}")))
    }
}
