//! The write API: `POST /registers/{name}/records` (one item object or an array of them)
//! and `DELETE /registers/{name}/records/{key}`, through node-service's group commit.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use store_diesel::error::StoreError;
use store_diesel::store::AppendRequest;

use super::auth;
use super::body::Body;
use super::errors::ApiError;
use super::AppState;

/// The most a write request's body may weigh (at most
/// [`register_core::write::MAX_RECORDS`] records are read from it).
pub const MAX_WRITE_BYTES: usize = 16 * 1024 * 1024;

/// `records` (or `records.json`) of a register.
#[derive(Debug, Deserialize)]
pub struct RecordsAt {
    name: String,
    segment: String,
}

/// `records/{key}` of a register.
#[derive(Debug, Deserialize)]
pub struct RecordAt {
    name: String,
    key: String,
}

/// Options of a write.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteQuery {
    /// The entries' timestamp, `YYYY-MM-DDThh:mm:ssZ`; now when absent.
    #[serde(rename = "entry-timestamp")]
    entry_timestamp: Option<String>,
    /// Whether to answer with each new entry's inclusion proof.
    proofs: Option<bool>,
}

/// `POST /registers/{name}/records`: writers of the register only (see
/// [`auth::require_writer`]).
pub async fn append(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<RecordsAt>,
    query: web::Query<WriteQuery>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let RecordsAt { name, segment } = path.into_inner();
    if segment != "records" && segment != "records.json" {
        return Err(ApiError::UnsupportedMediaType(
            "records are written as JSON (POST …/records)".into(),
        ));
    }
    let writer = auth::require_writer(&state, &request, &name).await?;
    tracing::debug!(register = %name, writer = writer.name(), "write");
    check_json(&request)?;
    let body = body.bytes().await?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8 text".into()))?;
    let request = node_service::writes::put_request(text, query.entry_timestamp.as_deref())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    write(&state, name, request, &query).await
}

/// `DELETE /registers/{name}/records/{key}`: appends an entry with no items, which removes
/// the record (its history stays).
pub async fn remove(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<RecordAt>,
    query: web::Query<WriteQuery>,
) -> Result<HttpResponse, ApiError> {
    let RecordAt { name, key } = path.into_inner();
    let writer = auth::require_writer(&state, &request, &name).await?;
    tracing::debug!(register = %name, writer = writer.name(), "write");
    let request = node_service::writes::remove_request(&key, query.entry_timestamp.as_deref())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    write(&state, name, request, &query).await
}

async fn write(
    state: &web::Data<AppState>,
    name: String,
    request: AppendRequest,
    query: &WriteQuery,
) -> Result<HttpResponse, ApiError> {
    let submitted = state.writes.submit(&name, request).map_err(write_error)?;
    if let Some(lead) = submitted.lead {
        // This write found nobody committing: its register's queue is committed on the
        // blocking pool until empty. Every write, this one included, awaits its answer
        // without holding a thread, so a batch can take all the writers waiting.
        drop(actix_web::rt::task::spawn_blocking(move || lead.run()));
    }
    let written = submitted
        .answer
        .await
        .unwrap_or_else(|| Err(node_service::writes::interrupted()))
        .map_err(write_error)?;
    let mut report = node_service::writes::report(&written);
    if query.proofs.unwrap_or(false) {
        let writes = state.writes.clone();
        report.proofs = Some(
            web::block(move || writes.proofs(&written))
                .await?
                .map_err(write_error)?,
        );
    }
    let mut response = if report.entries.is_empty() {
        HttpResponse::Ok()
    } else {
        HttpResponse::Created()
    };
    Ok(response.json(report))
}

/// A body sent as anything but JSON is refused rather than guessed at (`curl -d` sends
/// `application/x-www-form-urlencoded` unless told otherwise).
fn check_json(request: &HttpRequest) -> Result<(), ApiError> {
    let Some(value) = request.headers().get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(
            "send records as Content-Type: application/json".into(),
        ))
    }
}

/// Refusals of a write: the request's own records break a rule (422, naming the record and
/// the field), remove nothing there is (404), or the register is not writable here.
fn write_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Register(inner) => match inner.kind() {
            register_core::Error::NoSuchRecord(_) => ApiError::NotFound(inner.to_string()),
            _ => ApiError::Invalid(inner.to_string()),
        },
        StoreError::Mirror(name) => ApiError::Conflict(format!(
            "register '{name}' is a mirror of a partner's register and cannot be written here"
        )),
        other => other.into(),
    }
}
