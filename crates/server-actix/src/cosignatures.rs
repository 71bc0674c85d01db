//! `POST /v1/slices/{uuid}/cosignature`: a mirror tells its primary that it holds exactly
//! the primary's checkpoint (checkpoints.md §6). The primary keeps the line only if it
//! verifies with the cosigner key the plan pinned; the checkpoint endpoints then serve it.

use actix_web::{web, HttpResponse};
use api_types::{CosignatureKept, CosignatureRequest};

use super::body::Body;
use super::errors::ApiError;
use super::plans::{scoped_slice, Side};
use super::registers::blocking;
use super::tokens::Caller;
use super::AppState;

/// Keeps a mirror's cosignature of this primary's checkpoint: 200 with its size and time;
/// 403 unless the token is the plan's sync token; 404 for a slice of another plan or a size
/// never checkpointed; 409 on the secondary's side or for a replay (older than one kept);
/// 400 for a line that does not verify with the pinned key, or a plan that pins none.
pub async fn receive(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let (plan, slice, side) = scoped_slice(&state, &caller, &path).await?;
    let body: CosignatureRequest = body.json().await?;
    if side != Side::Primary {
        return Err(ApiError::Conflict(
            "this server mirrors the slice: cosignatures go to the primary".into(),
        ));
    }
    let document = plan
        .record
        .document()
        .ok_or_else(|| ApiError::NotFound(format!("no slice {path}")))?
        .clone();
    let CosignatureRequest { size, cosignature } = body;
    let kept = blocking(&state, move |store| {
        node_service::mirrors::receive_cosignature(store, &document, &slice, size, &cosignature)
    })
    .await?;
    Ok(HttpResponse::Ok().json(CosignatureKept {
        size,
        time: kept.time,
    }))
}
