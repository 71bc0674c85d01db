//! `POST /witness/add-checkpoint` (c2sp.org/tlog-witness, checkpoints.md §5): this node as a
//! witness. node-service decides and stores; the statuses are errors.rs's.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::body::Body;
use super::errors::ApiError;
use super::registers::blocking;
use super::AppState;

/// The request body (`old <size>`, proof lines, empty line, checkpoint) at most
/// [`tlog_core::witness::MAX_REQUEST_BYTES`]; answers the cosignature line.
pub async fn add_checkpoint(
    state: web::Data<AppState>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let body = body.bytes().await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let line = blocking(&state, move |store| {
        node_service::witness::add_checkpoint(store, &body, now)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(line))
}
