//! Bearer tokens of the plan API (plans.md §4) and the [`Caller`] extractor.
//!
//! Tokens are HS256 JWTs. The algorithm is pinned on both sides (a token whose header names
//! another one, `none` included, is refused), the issuer and expiry are checked with no
//! leeway, a token lives at most [`MAX_TOKEN_LIFETIME`] and is not issued later than
//! [`IAT_LEEWAY`] from now (a token from the future would outlive its lifetime; the small
//! leeway forgives clock skew between servers that share the secret). Every check fails closed: a
//! request whose token does not pass all of them is 401, whatever the reason, and the
//! account named by the token must still exist with the same role.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use plan_core::PlanId;
use serde::{Deserialize, Serialize};
use store_diesel::accounts::{Role, User};
use uuid::Uuid;

use super::errors::ApiError;
use super::AppState;

/// The longest a token lives (plans.md §4: at most 15 minutes).
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// How far in the future a token's `iat` may lie: clock skew, not a token minted ahead.
pub const IAT_LEEWAY: Duration = Duration::from_secs(60);

/// The shortest secret accepted: HS256 needs 256 bits of key.
pub const MIN_SECRET_BYTES: usize = 32;

/// What a token reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Limited: `/v1/login`, `/v1/plans/*` and `/v1/proposals/*` only.
    Plans,
    /// Also the slices of the one Approved plan named in [`Claims::plan`].
    Sync,
}

impl Scope {
    /// The scope as claims and responses spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Plans => "plans",
            Scope::Sync => "sync",
        }
    }
}

/// The claims of every token this server issues. Nothing else is read from a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Issuer: this node, `urn:uuid:<node uuid>` (shared by every process of one database).
    pub iss: String,
    /// Subject: the account name.
    pub sub: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds; at most [`MAX_TOKEN_LIFETIME`] after `iat`.
    pub exp: i64,
    /// A unique id, so no two tokens are equal.
    pub jti: String,
    /// `plans` (limited) or `sync`.
    pub scope: Scope,
    /// For a `sync` token, the UUID of the Approved plan it was issued for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// `partner` or `admin`: the account's role when the token was issued.
    pub role: String,
}

/// Issues and checks tokens with one secret.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    lifetime: Duration,
}

impl std::fmt::Debug for Tokens {
    // Never print the keys.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("issuer", &self.issuer)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

/// A token just issued.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The JWT.
    pub token: String,
    /// Its claims.
    pub claims: Claims,
}

/// A token secret shorter than [`MIN_SECRET_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the token secret must be at least {MIN_SECRET_BYTES} bytes long")]
pub struct WeakSecret;

impl Tokens {
    /// Tokens signed with `secret` (at least [`MIN_SECRET_BYTES`]) and issued by `issuer`,
    /// living [`MAX_TOKEN_LIFETIME`].
    pub fn new(secret: &[u8], issuer: impl Into<String>) -> Result<Tokens, WeakSecret> {
        Tokens::with_lifetime(secret, issuer, MAX_TOKEN_LIFETIME)
    }

    /// [`Tokens::new`] with a shorter lifetime (capped at [`MAX_TOKEN_LIFETIME`]).
    pub fn with_lifetime(
        secret: &[u8],
        issuer: impl Into<String>,
        lifetime: Duration,
    ) -> Result<Tokens, WeakSecret> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(WeakSecret);
        }
        let issuer = issuer.into();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_issuer(&[issuer.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        Ok(Tokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer,
            lifetime: lifetime.min(MAX_TOKEN_LIFETIME),
        })
    }

    /// The issuer named in every token.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// A token for `user` with `scope` (and the plan of a `sync` token), issued at `now`.
    pub fn issue(
        &self,
        user: &User,
        scope: Scope,
        plan: Option<PlanId>,
        now: DateTime<Utc>,
    ) -> Result<Issued, ApiError> {
        let lifetime = i64::try_from(self.lifetime.as_secs()).unwrap_or(0);
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: user.name.clone(),
            iat: now.timestamp(),
            exp: now.timestamp().saturating_add(lifetime),
            jti: Uuid::new_v4().to_string(),
            scope,
            plan: plan.map(|p| p.to_string()),
            role: user.role.as_str().to_string(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(format!("signing a token: {e}")))?;
        Ok(Issued { token, claims })
    }

    /// The claims of a valid token; any failure is the same 401.
    pub fn check(&self, token: &str) -> Result<Claims, ApiError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                tracing::debug!(error = %e, "token refused");
                invalid_token()
            })?
            .claims;
        let lifetime = i64::try_from(MAX_TOKEN_LIFETIME.as_secs()).unwrap_or(0);
        if claims.exp.saturating_sub(claims.iat) > lifetime {
            return Err(invalid_token());
        }
        let leeway = i64::try_from(IAT_LEEWAY.as_secs()).unwrap_or(0);
        if claims.iat > Utc::now().timestamp().saturating_add(leeway) {
            tracing::debug!(iat = claims.iat, "token refused: issued in the future");
            return Err(invalid_token());
        }
        let plan_is_valid = match (&claims.scope, &claims.plan) {
            (Scope::Plans, None) => true,
            (Scope::Sync, Some(plan)) => Uuid::parse_str(plan).is_ok(),
            _ => false,
        };
        if !plan_is_valid {
            return Err(invalid_token());
        }
        Ok(claims)
    }
}

fn invalid_token() -> ApiError {
    ApiError::Unauthorized("the bearer token is missing, invalid or expired; log in again".into())
}

/// Who is calling, from a valid bearer token whose account still exists.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account name.
    pub name: String,
    /// The account's role.
    pub role: Role,
    /// What the token reaches.
    pub scope: Scope,
    /// The plan of a `sync` token.
    pub plan: Option<PlanId>,
}

impl Caller {
    /// Whether the caller is an operator of this server.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// The bearer token of a request, if it carries one.
pub fn bearer(request: &HttpRequest) -> Option<&str> {
    request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The caller of a request with a bearer token; 401 for anything short of a valid token
/// whose account still exists with the role it was issued for.
pub async fn caller(
    state: &web::Data<AppState>,
    request: &HttpRequest,
) -> Result<Caller, ApiError> {
    let token = bearer(request).ok_or_else(invalid_token)?;
    let claims = state.tokens.check(token)?;
    let store = state.store.clone();
    let name = claims.sub.clone();
    let account = web::block(move || store.user(&name)).await??;
    match account {
        Some(user) if user.role.as_str() == claims.role => Ok(Caller {
            name: user.name,
            role: user.role,
            scope: claims.scope,
            plan: claims
                .plan
                .as_deref()
                .and_then(|p| Uuid::parse_str(p).ok())
                .map(PlanId),
        }),
        _ => Err(invalid_token()),
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let state = request
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| ApiError::Internal("no application state".into()))?;
            caller(&state, &request).await
        })
    }
}
