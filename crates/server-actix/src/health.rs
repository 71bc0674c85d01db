//! Probes for load balancers and orchestrators: `/healthz` (the process answers; it touches
//! no database, so it stays cheap under load) and `/readyz` (this instance can serve: the
//! database answers within two seconds, no migration is pending, signing keys are loaded).

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::errors::ApiError;
use super::AppState;

/// How long `/readyz` waits for a database connection before it says not ready.
const READY_WAIT: Duration = Duration::from_secs(2);

fn probe(status: &str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(api_types::Probe {
            status: status.to_string(),
        })
}

/// `GET /healthz`.
pub async fn healthz() -> HttpResponse {
    probe("ok")
}

/// `GET /readyz`: 200 when ready, else 503 with the reason.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    match web::block(move || store.readiness(READY_WAIT)).await? {
        Ok(()) => Ok(probe("ready")),
        Err(reason) => Err(ApiError::ServiceUnavailable(format!("not ready: {reason}"))),
    }
}
