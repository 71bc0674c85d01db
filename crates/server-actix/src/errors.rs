//! Every error the HTTP API returns, and its one JSON envelope:
//! `{"message_code": <int>, "message_text": "…", "request_id": "…"}` (codes in
//! docs/errors.md). This is the only
//! place where errors of the crates below (store, plan-core, node-service, register-sync)
//! become HTTP statuses.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use api_types::{ErrorEnvelope, LoadFailure, SchemaError};
use node_service::plans::PlanError;
use register_sync::ApplyError;
use store_diesel::error::StoreError;

/// An API error: a status, a stable code and a message safe to show.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A parameter the API cannot use.
    #[error("{0}")]
    BadRequest(String),
    /// Credentials missing or wrong.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but not allowed (a limited token on a slice, a plan not Approved).
    #[error("{0}")]
    Forbidden(String),
    /// No such register, entry, record, item or route.
    #[error("{0}")]
    NotFound(String),
    /// The method is not served on this path.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// No representation the client accepts.
    #[error("{0}")]
    NotAcceptable(String),
    /// The body is not in a media type the endpoint reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A state conflict (a mirror refuses local loads).
    #[error("{0}")]
    Conflict(String),
    /// The witness's 409: the old size is not the size it last cosigned; the body is that
    /// size (`text/x.tlog.size`), as tlog-witness requires.
    #[error("the witness last cosigned size {0} of this log")]
    WitnessSize(u64),
    /// The body is over the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body did not arrive in time (it stalled, or came too slowly).
    #[error("{0}")]
    RequestTimeout(String),
    /// A well-formed request whose content breaks a rule: a plan document that fails the
    /// schema (each problem in `schema_errors`), or a plan that cannot be used as sent.
    #[error("{message}")]
    Unprocessable {
        /// What is wrong, in one sentence.
        message: String,
        /// Every schema problem, when the document failed validation.
        schema_errors: Vec<plan_core::Diagnostic>,
    },
    /// Records the write API refused because they break a register rule (nothing stored);
    /// the message names the record and the field.
    #[error("{0}")]
    Invalid(String),
    /// An RSF file `load-rsf` refused (nothing stored): answered with the load's own
    /// `{"success": false, "message", "details"}` body, as registers.md §9 documents.
    #[error("{0}")]
    LoadRefused(String),
    /// The server cannot serve now (a readiness probe that fails).
    #[error("{0}")]
    ServiceUnavailable(String),
    /// Busy for now (the database's write lock is held by a load, every download place is
    /// taken): 503 with `Retry-After`.
    #[error("{0}")]
    Busy(String),
    /// Anything else: the cause goes to the log, not to the client.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The stable code of the envelope: 1000 + the HTTP status.
    pub fn code(&self) -> u32 {
        code_of(self.status_code())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::LoadRefused(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Conflict(_) | ApiError::WitnessSize(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unprocessable { .. } | ApiError::Invalid(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::ServiceUnavailable(_) | ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            tracing::error!(%cause, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unauthorized(_)) {
            response.append_header(("WWW-Authenticate", "Basic realm=\"registers\""));
            response.append_header(("WWW-Authenticate", "Bearer realm=\"registers\""));
        }
        if matches!(self, ApiError::Busy(_)) {
            response.insert_header((
                actix_web::http::header::RETRY_AFTER,
                RETRY_AFTER_SECONDS.to_string(),
            ));
        }
        if let ApiError::WitnessSize(size) = self {
            return response
                .content_type(tlog_core::witness::SIZE_MEDIA_TYPE)
                .body(tlog_core::witness::size_body(*size));
        }
        if let ApiError::LoadRefused(details) = self {
            let mut body = LoadFailure::new(details.clone());
            body.request_id = super::request_id::current();
            return response.json(body);
        }
        let mut body = envelope(self.status_code(), &self.to_string());
        if let ApiError::Unprocessable { schema_errors, .. } = self {
            body.schema_errors = Some(
                schema_errors
                    .iter()
                    .map(|d| SchemaError {
                        column: d.column,
                        line: d.line,
                        message: d.message.clone(),
                        path: d.path.clone(),
                    })
                    .collect(),
            );
        }
        response.json(body)
    }
}

/// What `Retry-After` says when the server is busy.
pub const RETRY_AFTER_SECONDS: u64 = 5;

/// `message_code` of a status.
pub fn code_of(status: StatusCode) -> u32 {
    1000 + u32::from(status.as_u16())
}

/// The envelope for any error status (also those actix writes itself).
pub fn envelope(status: StatusCode, message: &str) -> ErrorEnvelope {
    let mut body = ErrorEnvelope::new(status.as_u16(), message);
    body.request_id = super::request_id::current();
    body
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::RegisterNotFound(_) | StoreError::NotFound(_) => {
                ApiError::NotFound(e.to_string())
            }
            StoreError::Mirror(_) | StoreError::Conflict(_) => ApiError::Conflict(e.to_string()),
            StoreError::Register(inner) => match inner.kind() {
                register_core::Error::EntryOutOfRange { .. }
                | register_core::Error::SizeOutOfRange { .. }
                | register_core::Error::InvalidRange { .. } => {
                    ApiError::NotFound(inner.to_string())
                }
                _ => ApiError::BadRequest(inner.to_string()),
            },
            StoreError::NameMismatch { .. } | StoreError::Invalid(_) => {
                ApiError::BadRequest(e.to_string())
            }
            StoreError::Tile(tlog_core::TileError::EntryTooLong { .. }) => {
                ApiError::Unprocessable {
                    message: e.to_string(),
                    schema_errors: Vec::new(),
                }
            }
            StoreError::Tile(_) => ApiError::BadRequest(e.to_string()),
            StoreError::Busy(_) => ApiError::Busy(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<plan_core::Error> for ApiError {
    fn from(e: plan_core::Error) -> ApiError {
        use plan_core::Error as E;
        match e {
            E::Invalid(schema_errors) => ApiError::Unprocessable {
                message: format!(
                    "the plan document is not valid ({} problem(s))",
                    schema_errors.len()
                ),
                schema_errors,
            },
            E::Document(message) => ApiError::Unprocessable {
                message,
                schema_errors: Vec::new(),
            },
            E::IllegalTransition { .. } | E::AlreadyApproved { .. } | E::DocumentFrozen { .. } => {
                ApiError::Conflict(e.to_string())
            }
            // The handlers pick the actor from the plan, so this is a bug, not a request error.
            E::NotAPartner { .. } | E::Schema { .. } | E::UnsupportedSchema { .. } => {
                ApiError::Internal(e.to_string())
            }
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

impl From<PlanError> for ApiError {
    fn from(e: PlanError) -> ApiError {
        match e {
            PlanError::NotFound(_) => ApiError::NotFound(e.to_string()),
            PlanError::MessageTooLong | PlanError::NotAPlanUuid(_) => {
                ApiError::BadRequest(e.to_string())
            }
            PlanError::MissingRegisters(_) => ApiError::Unprocessable {
                message: e.to_string(),
                schema_errors: Vec::new(),
            },
            PlanError::Plan(e) => e.into(),
            PlanError::Store(e) => e.into(),
        }
    }
}

/// The witness (tlog-witness): 400 malformed or old size above the size, 403 no valid
/// signature by the log's key, 404 a log not witnessed, 409 with the size last cosigned,
/// 422 inconsistent (kept as evidence).
impl From<node_service::witness::WitnessError> for ApiError {
    fn from(e: node_service::witness::WitnessError) -> ApiError {
        use node_service::witness::WitnessError as W;
        use tlog_core::witness::Refusal;
        match e {
            W::Request(_) | W::Refused(Refusal::OldSizeAbove { .. }) | W::Key(_) => {
                ApiError::BadRequest(e.to_string())
            }
            W::UnknownLog(_) => ApiError::NotFound(e.to_string()),
            W::Signature(_) => ApiError::Forbidden(e.to_string()),
            W::Refused(Refusal::Conflict(size)) => ApiError::WitnessSize(size),
            W::Refused(Refusal::Inconsistent(_)) => ApiError::Unprocessable {
                message: e.to_string(),
                schema_errors: Vec::new(),
            },
            W::NoKey => ApiError::ServiceUnavailable(e.to_string()),
            W::Store(e) => e.into(),
        }
    }
}

/// A pushed delta: a divergence (a split view included) is a conflict (409), a delta cut
/// short or an RSF error is the request's fault (400, naming the line), a checkpoint that
/// does not verify with the pinned key or a delta that does not lead to it 422, anything
/// else is the store's (a load past the checkpoint is the store's `Conflict`, 409).
impl From<ApplyError<StoreError>> for ApiError {
    fn from(e: ApplyError<StoreError>) -> ApiError {
        match e {
            ApplyError::Diverged(divergence) => ApiError::Conflict(divergence.to_string()),
            ApplyError::Incomplete => ApiError::BadRequest(e.to_string()),
            ApplyError::Unverified(message) => ApiError::Unprocessable {
                message,
                schema_errors: Vec::new(),
            },
            ApplyError::Store(e @ StoreError::Register(_)) => {
                ApiError::BadRequest(format!("the delta was refused: {e}"))
            }
            ApplyError::Store(e) => e.into(),
        }
    }
}

/// `load-rsf`: a mirror refuses local loads (409); a file the load refused gets the load's
/// own failure body (400); anything else is the store's.
pub fn load_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Mirror(name) => ApiError::Conflict(format!(
            "register '{name}' is a mirror and cannot be loaded locally"
        )),
        e @ (StoreError::Register(_) | StoreError::NameMismatch { .. }) => {
            ApiError::LoadRefused(e.to_string())
        }
        other => other.into(),
    }
}
