//! Credentials for writes: HTTP Basic of an admin account, or an admin's bearer token.

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use base64::Engine as _;
use store_diesel::accounts::Role;

use super::errors::ApiError;
use super::AppState;

/// Succeeds only for a valid admin's credentials (Basic, or a bearer token of an admin);
/// fails closed on anything else.
pub async fn require_admin(
    state: &web::Data<AppState>,
    request: &HttpRequest,
) -> Result<(), ApiError> {
    let denied = || ApiError::Unauthorized("admin credentials required".into());
    if super::tokens::bearer(request).is_some() {
        let caller = super::tokens::caller(state, request).await?;
        return if caller.is_admin() {
            Ok(())
        } else {
            Err(denied())
        };
    }
    let value = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(denied)?;
    let encoded = value.strip_prefix("Basic ").ok_or_else(denied)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| denied())?;
    let decoded = String::from_utf8(decoded).map_err(|_| denied())?;
    let (user, password) = decoded.split_once(':').ok_or_else(denied)?;
    let (user, password) = (user.to_string(), password.to_string());
    let store = state.store.clone();
    let account = web::block(move || store.verify_password(&user, &password)).await??;
    match account {
        Some(account) if account.role == Role::Admin => Ok(()),
        Some(_) => Err(denied()),
        None => {
            if let Some(metrics) = &state.metrics {
                metrics.login_failed("basic");
            }
            Err(denied())
        }
    }
}
