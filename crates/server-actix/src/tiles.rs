//! Signed checkpoints and tiles of any log (checkpoints.md §3–4, c2sp.org/tlog-tiles and
//! tlog-checkpoint), so verifiers written for those specifications check our registers.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use tlog_core::TilePath;

use super::errors::ApiError;
use super::registers::{blocking, number, source};
use super::AppState;

/// Full tiles and bundles never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The latest checkpoint, partial tiles and a checkpoint that may gain cosignatures change.
const SHORT: &str = "public, max-age=5";

/// A log and what of it a request names.
#[derive(Debug, Deserialize)]
pub struct LogPath {
    name: String,
    index: Option<String>,
    size: Option<String>,
    tail: Option<String>,
}

/// `GET <prefix>/checkpoint` (the latest) and `GET <prefix>/checkpoint/{size}`: the signed
/// note as `text/plain; charset=utf-8`. 404 for a size never checkpointed. A mirror never
/// signs as a log: it serves the primary's checkpoint it accepted (the latest within its
/// size, or the one of that size), 404 before it accepted any.
pub async fn checkpoint(
    state: web::Data<AppState>,
    path: web::Path<LogPath>,
) -> Result<HttpResponse, ApiError> {
    let at = path.into_inner();
    let size = at
        .size
        .as_deref()
        .map(|s| number(s, "tree size"))
        .transpose()?;
    let log = source(&at.name, &at.index);
    let note = blocking(&state, move |store| store.checkpoint(&log, size)).await?;
    let note = note.ok_or_else(|| {
        ApiError::NotFound(match size {
            Some(size) => format!("no checkpoint of size {size} was signed for this log"),
            None => "this log has no signed checkpoint".to_string(),
        })
    })?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, SHORT))
        .body(note))
}

/// `GET <prefix>/tile/<L>/<N>[.p/<W>]` and `GET <prefix>/tile/entries/<N>[.p/<W>]`.
pub async fn tile(
    state: web::Data<AppState>,
    path: web::Path<LogPath>,
) -> Result<HttpResponse, ApiError> {
    let at = path.into_inner();
    let tile = TilePath::parse(at.tail.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let log = source(&at.name, &at.index);
    let bytes = blocking(&state, move |store| store.log_tile(&log, &tile)).await?;
    let cache = if tile.is_full() { IMMUTABLE } else { SHORT };
    Ok(HttpResponse::Ok()
        .content_type(tlog_core::tile::MEDIA_TYPE)
        .insert_header((header::CACHE_CONTROL, cache))
        .body(bytes.as_ref().clone()))
}
