//! Partners' plan documents, decoded and validated off the async workers.
//!
//! Validating a document costs CPU time in proportion to its size (linear, and bounded by
//! [`MAX_PLAN_DOCUMENT_BYTES`] and plan-core's limits), up to tens of milliseconds. On an actix
//! worker that time would stall every other request the worker serves, so each parse runs on
//! the blocking pool; and at most one parse per core runs at once, so a burst of large
//! documents waits (asynchronously, holding no thread) for a permit instead of filling the
//! blocking pool that every store call needs too.

use std::sync::OnceLock;

use actix_web::web;
use node_service::plans::{document_limits, MAX_PLAN_DOCUMENT_BYTES};
use plan_core::Plan;
use tokio::sync::Semaphore;

use super::errors::ApiError;

/// Parses that may run at once: one per core the process may use.
fn parses() -> &'static Semaphore {
    static PARSES: OnceLock<Semaphore> = OnceLock::new();
    PARSES.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Semaphore::new(cores)
    })
}

/// 413 for a document of `size` (e.g. "1048577 bytes", "at least 3000000 bytes").
fn too_large(size: String) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the plan document is {size}, over the limit of {MAX_PLAN_DOCUMENT_BYTES} bytes per \
         plan document"
    ))
}

/// A base64 plan document that passes the schema and the plan rules within the partners'
/// limits: 413 when it is larger than [`MAX_PLAN_DOCUMENT_BYTES`], 400 when it does not
/// decode, 422 with every problem otherwise.
pub(crate) async fn parse_document(encoded: String) -> Result<Plan, ApiError> {
    // Four base64 characters per three bytes: a longer text cannot fit, so it is refused
    // before anything is decoded.
    let encoded_len = encoded.trim().len();
    if encoded_len > MAX_PLAN_DOCUMENT_BYTES.div_ceil(3) * 4 {
        return Err(too_large(format!("at least {} bytes", encoded_len / 4 * 3)));
    }
    let _permit = parses()
        .acquire()
        .await
        .map_err(|_| ApiError::Internal("the plan parse queue is closed".into()))?;
    web::block(move || {
        let text = api_types::decode_document(&encoded)
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        if text.len() > MAX_PLAN_DOCUMENT_BYTES {
            return Err(too_large(format!("{} bytes", text.len())));
        }
        Ok(Plan::from_xml_with(&text, &document_limits())?)
    })
    .await?
}
