//! Credentials for writes: a writer token (`Bearer rwt_…`) for one register or all, HTTP
//! Basic of an admin account, or an admin's bearer JWT. Every check fails closed.
//!
//! A writer token costs one indexed lookup of its SHA-256 on the blocking pool, at most once
//! a second per token (the store remembers tokens found active), so pipelines can write
//! thousands of times a second; Basic costs an argon2id verification
//! and suits people. A token that is unknown, revoked or malformed is 401, like wrong
//! credentials; a valid token scoped to another register is 403 (it authenticated, but may
//! not write there), so its holder learns what is wrong without anyone learning more.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use base64::Engine as _;
use node_service::writer_tokens;
use store_diesel::accounts::{Role, User};

use super::errors::ApiError;
use super::AppState;

/// Who a write is allowed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Writer {
    /// A writer token, by its name.
    Token(String),
    /// An admin account (HTTP Basic, or its bearer JWT), by its name.
    Account(String),
}

impl Writer {
    /// The token's or account's name.
    pub fn name(&self) -> &str {
        match self {
            Writer::Token(name) | Writer::Account(name) => name,
        }
    }
}

/// Succeeds for a writer token whose scope is every register or exactly `register`, an
/// admin's bearer JWT, or HTTP Basic of an admin account; 401 for anything else, 403 for a
/// valid writer token of another register.
pub async fn require_writer(
    state: &web::Data<AppState>,
    request: &HttpRequest,
    register: &str,
) -> Result<Writer, ApiError> {
    let Some(bearer) = super::tokens::bearer(request).filter(|b| writer_tokens::is_writer_token(b))
    else {
        return admin(state, request).await.map(Writer::Account);
    };
    // A token checked within the last second needs no trip to the blocking pool.
    let found = match writer_tokens::check_recent(&state.store, bearer) {
        Some(token) => Some(token),
        None => {
            let (store, bearer) = (state.store.clone(), bearer.to_string());
            web::block(move || writer_tokens::check(&store, &bearer)).await??
        }
    };
    match found {
        Some(token) if token.scope.allows(register) => Ok(Writer::Token(token.name)),
        Some(token) => Err(ApiError::Forbidden(format!(
            "writer token '{}' may write {} only, not register '{register}'",
            token.name, token.scope
        ))),
        None => {
            if let Some(metrics) = &state.metrics {
                metrics.login_failed("token");
            }
            Err(ApiError::Unauthorized(
                "the writer token is unknown or revoked".into(),
            ))
        }
    }
}

/// Succeeds only for a valid admin's credentials (Basic, or a bearer token of an admin);
/// fails closed on anything else.
pub async fn require_admin(
    state: &web::Data<AppState>,
    request: &HttpRequest,
) -> Result<(), ApiError> {
    admin(state, request).await.map(|_| ())
}

/// The admin account of Basic credentials or a bearer JWT; 401 for anything else.
async fn admin(state: &web::Data<AppState>, request: &HttpRequest) -> Result<String, ApiError> {
    let denied = || ApiError::Unauthorized("admin credentials required".into());
    if super::tokens::bearer(request).is_some() {
        let caller = super::tokens::caller(state, request).await?;
        return if caller.is_admin() {
            Ok(caller.name)
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
    match check_password(state, request, user, password, "basic").await? {
        Some(account) if account.role == Role::Admin => Ok(account.name),
        _ => Err(denied()),
    }
}

/// How long a password waits at most for a turn while its (name, address) budget is in
/// flight, and how often it looks.
const TURN_WAIT: Duration = Duration::from_secs(10);
const TURN_POLL: Duration = Duration::from_millis(20);

/// The account `name` if `password` is its password, else `None` — the one check of a
/// password, for `/v1/login` and HTTP Basic alike (`via` names which, for the metrics).
/// The [`Lockout`](node_service::lockout::Lockout) of the caller's address and this name
/// is asked first: while it is locked, the answer is `None` without checking anything;
/// while its budget is taken by checks in flight, the password waits for a turn (up to
/// [`TURN_WAIT`]). At most one check per core runs at once; the others wait without a
/// thread.
pub async fn check_password(
    state: &web::Data<AppState>,
    request: &HttpRequest,
    name: &str,
    password: &str,
    via: &'static str,
) -> Result<Option<User>, ApiError> {
    let address = request
        .peer_addr()
        .map_or_else(String::new, |a| a.ip().to_string());
    let mut waited = Duration::ZERO;
    let attempt = loop {
        let now = node_service::now().timestamp();
        match state.lockout.begin(name, &address, now) {
            Some(attempt) => break Some(attempt),
            // The pair's budget is taken by checks in flight (a client sending many requests
            // at once): if one succeeds the pair is cleared, so wait for a turn rather than
            // refuse the right password. A guesser's checks fail and lock the pair instead.
            None if !state.lockout.is_locked(name, &address, now) && waited < TURN_WAIT => {
                actix_web::rt::time::sleep(TURN_POLL).await;
                waited += TURN_POLL;
            }
            None => break None,
        }
    };
    let user = match attempt {
        None => None,
        Some(attempt) => {
            let _turn = state
                .password_checks
                .acquire()
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            let (store, name, password) =
                (state.store.clone(), name.to_string(), password.to_string());
            let user = web::block(move || store.verify_password(&name, &password)).await??;
            attempt.finish(user.is_some(), node_service::now().timestamp());
            user
        }
    };
    if user.is_none() {
        if let Some(metrics) = &state.metrics {
            metrics.login_failed(via);
        }
    }
    Ok(user)
}
