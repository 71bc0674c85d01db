//! Handlers of the register read API (registers.md §8) and RSF loading (§9). Each extracts,
//! calls the store off the worker threads, and renders.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use register_core::{ItemHash, LogKind, Mode};
use serde::Deserialize;
use store_diesel::queries::RegisterSummary;
use store_diesel::store::Store;

use super::errors::ApiError;
use super::negotiate::{accepts_json, choose, split_suffix, Format};
use super::render;
use super::{auth, AppState};

/// Entries per page by default, and the most a page may hold.
const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 5000;

/// Runs a store call on the blocking pool.
pub(super) async fn blocking<T, F>(state: &web::Data<AppState>, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&Store) -> Result<T, store_diesel::error::StoreError> + Send + 'static,
    T: Send + 'static,
{
    let store = state.store.clone();
    Ok(web::block(move || f(&store)).await??)
}

fn etag(summary: &RegisterSummary) -> String {
    format!("\"{}-{}\"", summary.total_entries, summary.root.to_hex())
}

/// 304 when the client already holds this state of the register.
fn not_modified(request: &HttpRequest, tag: &str) -> Option<HttpResponse> {
    let held = request
        .headers()
        .get(header::IF_NONE_MATCH)?
        .to_str()
        .ok()?;
    held.split(',')
        .any(|t| t.trim() == tag || t.trim() == "*")
        .then(|| {
            HttpResponse::NotModified()
                .insert_header((header::ETAG, tag))
                .finish()
        })
}

/// The `Link` header of a page (`rel="next"`, `rel="previous"`), when there is one.
fn set_links(response: &mut HttpResponse, links: &[String]) {
    if links.is_empty() {
        return;
    }
    if let Ok(value) = header::HeaderValue::from_str(&links.join(", ")) {
        response.headers_mut().insert(header::LINK, value);
    }
}

fn respond(format: Format, body: String, tag: &str) -> HttpResponse {
    let content_type = match format {
        Format::Json => "application/json",
        Format::Csv => "text/csv;charset=UTF-8",
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::ETAG, tag))
        .body(body)
}

fn number(text: &str, what: &str) -> Result<u64, ApiError> {
    text.parse::<u64>()
        .map_err(|_| ApiError::BadRequest(format!("{what} '{text}' is not a whole number")))
}

/// A 1-based position (`start`, `page-index`): 1 when absent, 400 below 1 or not a number.
pub(super) fn from_one(value: Option<&str>, name: &str) -> Result<u64, ApiError> {
    match value {
        None => Ok(1),
        Some(text) => text.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "{name} must be a whole number from 1, not '{text}'"
            ))
        }),
    }
}

/// A page size: `default` when absent, 400 outside 1..=5000.
pub(super) fn limit(value: Option<&str>, name: &str, default: u64) -> Result<u64, ApiError> {
    match value {
        None => Ok(default),
        Some(text) => match text.parse::<u64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::BadRequest(format!(
                "{name} must be a whole number from 1 to {MAX_LIMIT}, not '{text}'"
            ))),
        },
    }
}

/// `GET /registers`.
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let registers = blocking(&state, |store| store.registers()).await?;
    let body: Vec<serde_json::Value> = registers
        .iter()
        .map(|r| {
            serde_json::json!({
                "name": r.name,
                "total-entries": r.total_entries,
                "total-records": r.total_records,
                "root-hash": r.root.to_string(),
                "mirror": r.mirror_of.is_some(),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

/// What [`read_with_summary`] found.
enum Read<T> {
    /// The client already holds this state of the register (the tag): answer 304.
    NotModified(String),
    /// The register's summary, its ETag, and what the call read.
    Fresh(Box<RegisterSummary>, String, T),
}

/// The register's summary and, unless the client's `If-None-Match` already holds that state,
/// the store call `f`: one trip to the blocking pool instead of two (the hot read routes).
/// `conditional` is false for routes that never answer 304.
async fn read_with_summary<T, F>(
    state: &web::Data<AppState>,
    request: &HttpRequest,
    name: &str,
    conditional: bool,
    f: F,
) -> Result<Read<T>, ApiError>
where
    F: FnOnce(&Store) -> Result<T, store_diesel::error::StoreError> + Send + 'static,
    T: Send + 'static,
{
    let held = conditional
        .then(|| request.headers().get(header::IF_NONE_MATCH))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let name = name.to_string();
    blocking(state, move |store| {
        let summary = store.register(&name)?;
        let tag = etag(&summary);
        if let Some(held) = held {
            if held.split(',').any(|t| t.trim() == tag || t.trim() == "*") {
                return Ok(Read::NotModified(tag));
            }
        }
        let value = f(store)?;
        Ok(Read::Fresh(Box::new(summary), tag, value))
    })
    .await
}

fn not_modified_response(tag: &str) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, tag))
        .finish()
}

/// The register's state, for ETags and 404s, shared by every register route.
async fn summary(state: &web::Data<AppState>, name: &str) -> Result<RegisterSummary, ApiError> {
    let name = name.to_string();
    blocking(state, move |store| store.register(&name)).await
}

/// `GET /registers/{name}/register`.
pub async fn register(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (name, segment) = path.into_inner();
    let (_, suffix) = split_suffix(&segment);
    let format = choose(&request, suffix)?;
    if format == Format::Csv {
        return Err(ApiError::NotAcceptable(
            "the register summary is JSON only".into(),
        ));
    }
    let summary = summary(&state, &name).await?;
    let tag = etag(&summary);
    if let Some(response) = not_modified(&request, &tag) {
        return Ok(response);
    }
    let meta_name = name.clone();
    let metadata = blocking(&state, move |store| store.metadata(&meta_name)).await?;
    let updated = chrono::DateTime::from_timestamp(summary.updated_at, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    let record = metadata
        .register_definition()
        .map(|d| serde_json::from_str::<serde_json::Value>(&d.item.canonical_json()))
        .transpose()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let body = serde_json::json!({
        "domain": state.domain,
        "total-records": summary.total_records,
        "total-entries": summary.total_entries,
        "total-items": summary.total_items,
        "last-updated": updated,
        "register-record": record,
        "custodian": metadata.custodian,
    });
    Ok(respond(Format::Json, body.to_string(), &tag))
}

/// Paging of `entries`.
#[derive(Debug, Deserialize)]
pub struct EntriesQuery {
    start: Option<String>,
    limit: Option<String>,
}

/// `GET /registers/{name}/entries`.
pub async fn entries(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<EntriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let (name, segment) = path.into_inner();
    let (_, suffix) = split_suffix(&segment);
    let format = choose(&request, suffix)?;
    let start = from_one(query.start.as_deref(), "start")?;
    let limit = limit(query.limit.as_deref(), "limit", DEFAULT_LIMIT)?;
    let list_name = name.clone();
    let read = read_with_summary(&state, &request, &name, true, move |store| {
        store.entries(&list_name, LogKind::User, start, limit)
    })
    .await?;
    let (summary, tag, entries) = match read {
        Read::NotModified(tag) => return Ok(not_modified_response(&tag)),
        Read::Fresh(summary, tag, entries) => (summary, tag, entries),
    };
    let body = match format {
        Format::Json => render::entries_json(&entries),
        Format::Csv => render::entries_csv(&entries)?,
    };
    let mut response = respond(format, body, &tag);
    let base = request.path();
    let mut links = Vec::new();
    if start + limit <= summary.total_entries {
        links.push(format!(
            "<{base}?start={}&limit={limit}>; rel=\"next\"",
            start + limit
        ));
    }
    if start > 1 {
        let previous = start.saturating_sub(limit).max(1);
        links.push(format!(
            "<{base}?start={previous}&limit={limit}>; rel=\"previous\""
        ));
    }
    set_links(&mut response, &links);
    Ok(response)
}

/// `GET /registers/{name}/entries/{n}` and `entry/{n}`: a one-element array.
pub async fn entry(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (name, segment) = path.into_inner();
    let (n, suffix) = split_suffix(&segment);
    let format = choose(&request, suffix)?;
    let n = number(n, "entry number")?;
    let summary = summary(&state, &name).await?;
    // Entries are numbered from 1; the store would answer 0 with entry 1.
    if n == 0 {
        return Err(ApiError::NotFound(format!(
            "entry 0 not found in register '{name}'"
        )));
    }
    let tag = etag(&summary);
    if let Some(response) = not_modified(&request, &tag) {
        return Ok(response);
    }
    let entry_name = name.clone();
    let entry = blocking(&state, move |store| {
        store.entry(&entry_name, LogKind::User, n)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("entry {n} not found in register '{name}'")))?;
    let entries = [entry];
    let body = match format {
        Format::Json => render::entries_json(&entries),
        Format::Csv => render::entries_csv(&entries)?,
    };
    Ok(respond(format, body, &tag))
}

/// Paging of `records`.
#[derive(Debug, Deserialize)]
pub struct RecordsQuery {
    #[serde(rename = "page-index")]
    page_index: Option<String>,
    #[serde(rename = "page-size")]
    page_size: Option<String>,
}

/// `GET /registers/{name}/records`: newest entry first.
pub async fn records(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<RecordsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (name, segment) = path.into_inner();
    let (_, suffix) = split_suffix(&segment);
    let format = choose(&request, suffix)?;
    let page_size = limit(query.page_size.as_deref(), "page-size", DEFAULT_LIMIT)?;
    let page_index = from_one(query.page_index.as_deref(), "page-index")?;
    let summary = summary(&state, &name).await?;
    let tag = etag(&summary);
    if let Some(response) = not_modified(&request, &tag) {
        return Ok(response);
    }
    let offset = (page_index - 1).saturating_mul(page_size);
    let list_name = name.clone();
    let (records, metadata) = blocking(&state, move |store| {
        Ok((
            store.records(&list_name, offset, page_size)?,
            store.metadata(&list_name)?,
        ))
    })
    .await?;
    let body = match format {
        Format::Json => render::records_json(&records),
        Format::Csv => render::records_csv(&records, &metadata)?,
    };
    let mut response = respond(format, body, &tag);
    let base = request.path();
    let mut links = Vec::new();
    if offset + page_size < summary.total_records {
        links.push(format!(
            "<{base}?page-index={}&page-size={page_size}>; rel=\"next\"",
            page_index + 1
        ));
    }
    if page_index > 1 {
        links.push(format!(
            "<{base}?page-index={}&page-size={page_size}>; rel=\"previous\"",
            page_index - 1
        ));
    }
    set_links(&mut response, &links);
    Ok(response)
}

/// `GET /registers/{name}/records/{key}` and `record/{key}`.
pub async fn record(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (name, segment) = path.into_inner();
    let (key, suffix) = split_suffix(&segment);
    let format = choose(&request, suffix)?;
    let key = key.to_string();
    let (record_name, record_key) = (name.clone(), key.clone());
    let read = read_with_summary(&state, &request, &name, true, move |store| {
        let record = store.record(&record_name, &record_key)?;
        let metadata = match (&record, format) {
            (Some(_), Format::Csv) => Some(store.metadata(&record_name)?),
            _ => None,
        };
        Ok((record, metadata))
    })
    .await?;
    let (tag, (record, metadata)) = match read {
        Read::NotModified(tag) => return Ok(not_modified_response(&tag)),
        Read::Fresh(_, tag, found) => (tag, found),
    };
    let record = record.ok_or_else(|| {
        ApiError::NotFound(format!("record '{key}' not found in register '{name}'"))
    })?;
    let records = [record];
    let body = match (format, metadata) {
        (Format::Csv, Some(metadata)) => render::records_csv(&records, &metadata)?,
        _ => render::records_json(&records),
    };
    Ok(respond(format, body, &tag))
}

/// `GET /registers/{name}/records/{key}/entries`: every entry of the key, oldest first.
pub async fn record_entries(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (name, key, segment) = path.into_inner();
    let (_, suffix) = split_suffix(&segment);
    let format = choose(&request, suffix)?;
    let summary = summary(&state, &name).await?;
    let tag = etag(&summary);
    if let Some(response) = not_modified(&request, &tag) {
        return Ok(response);
    }
    let (history_name, history_key) = (name.clone(), key.clone());
    let entries = blocking(&state, move |store| {
        store.record_history(&history_name, &history_key)
    })
    .await?;
    if entries.is_empty() {
        return Err(ApiError::NotFound(format!(
            "record '{key}' not found in register '{name}'"
        )));
    }
    let body = match format {
        Format::Json => render::entries_json(&entries),
        Format::Csv => render::entries_csv(&entries)?,
    };
    Ok(respond(format, body, &tag))
}

/// `GET /registers/{name}/records/{field}/{value}`: records whose field has the value.
pub async fn facet(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String, String)>,
    query: web::Query<RecordsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (name, field, segment) = path.into_inner();
    let (value, suffix) = split_suffix(&segment);
    let format = choose(&request, suffix)?;
    let value = value.to_string();
    let page_size = limit(query.page_size.as_deref(), "page-size", DEFAULT_LIMIT)?;
    let offset =
        (from_one(query.page_index.as_deref(), "page-index")? - 1).saturating_mul(page_size);
    let summary = summary(&state, &name).await?;
    let tag = etag(&summary);
    if let Some(response) = not_modified(&request, &tag) {
        return Ok(response);
    }
    let facet_name = name.clone();
    let (records, metadata) = blocking(&state, move |store| {
        let metadata = store.metadata(&facet_name)?;
        let known = metadata
            .register_definition()
            .is_some_and(|d| d.fields.contains(&field));
        if !known {
            return Err(store_diesel::error::StoreError::NotFound(format!(
                "field '{field}' of register '{facet_name}'"
            )));
        }
        Ok((
            store.facet(&facet_name, &field, &value, offset, page_size)?,
            metadata,
        ))
    })
    .await?;
    let body = match format {
        Format::Json => render::records_json(&records),
        Format::Csv => render::records_csv(&records, &metadata)?,
    };
    Ok(respond(format, body, &tag))
}

/// `GET /registers/{name}/items/{hash}` and `item/{hash}`.
pub async fn item(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (name, segment) = path.into_inner();
    let (text, suffix) = split_suffix(&segment);
    let format = choose(&request, suffix)?;
    if format == Format::Csv {
        return Err(ApiError::NotAcceptable("items are JSON only".into()));
    }
    let hash = ItemHash::parse(text)
        .ok_or_else(|| ApiError::BadRequest(format!("'{text}' is not a sha-256 item hash")))?;
    let summary = summary(&state, &name).await?;
    let tag = etag(&summary);
    if let Some(response) = not_modified(&request, &tag) {
        return Ok(response);
    }
    let item_name = name.clone();
    let json = blocking(&state, move |store| store.item(&item_name, &hash))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("item {hash} not found in register '{name}'")))?;
    Ok(respond(Format::Json, json, &tag))
}

/// Proofs are JSON only: 406 for a client that accepts nothing else.
fn json_only(request: &HttpRequest) -> Result<(), ApiError> {
    if accepts_json(request) {
        Ok(())
    } else {
        Err(ApiError::NotAcceptable("proofs are JSON only".into()))
    }
}

/// `GET /registers/{name}/proof/register/merkle:sha-256`.
pub async fn register_proof(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = path.into_inner();
    json_only(&request)?;
    let summary = summary(&state, &name).await?;
    let tag = etag(&summary);
    let body = format!(
        "{{\"proof-identifier\":\"merkle:sha-256\",\"root-hash\":\"{}\",\"total-entries\":{}}}",
        summary.root, summary.total_entries
    );
    Ok(respond(Format::Json, body, &tag))
}

/// `GET /registers/{name}/proof/entry/{n}/{size}/merkle:sha-256`.
pub async fn entry_proof(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (name, n, size) = path.into_inner();
    json_only(&request)?;
    let (n, size) = (number(&n, "entry number")?, number(&size, "tree size")?);
    let proof_name = name.clone();
    let read = read_with_summary(&state, &request, &name, false, move |store| {
        store.inclusion_proof(&proof_name, n, size)
    })
    .await?;
    let (tag, path_hashes) = match read {
        Read::NotModified(tag) => return Ok(not_modified_response(&tag)),
        Read::Fresh(_, tag, path_hashes) => (tag, path_hashes),
    };
    let body = format!(
        "{{\"proof-identifier\":\"merkle:sha-256\",\"entry-number\":\"{n}\",\"merkle-audit-path\":{}}}",
        render::hash_list(&path_hashes)
    );
    Ok(respond(Format::Json, body, &tag))
}

/// `GET /registers/{name}/proof/consistency/{m}/{n}/merkle:sha-256`.
pub async fn consistency_proof(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (name, m, n) = path.into_inner();
    json_only(&request)?;
    let (m, n) = (number(&m, "tree size")?, number(&n, "tree size")?);
    let summary = summary(&state, &name).await?;
    let tag = etag(&summary);
    let nodes = blocking(&state, move |store| store.consistency_proof(&name, m, n)).await?;
    let body = format!(
        "{{\"proof-identifier\":\"merkle:sha-256\",\"merkle-consistency-nodes\":{}}}",
        render::hash_list(&nodes)
    );
    Ok(respond(Format::Json, body, &tag))
}

/// `GET /registers/{name}/download-rsf[/{m}[/{n}]]`: streamed as it is read.
pub async fn download(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, Option<String>, Option<String>)>,
) -> Result<HttpResponse, ApiError> {
    let (name, from, to) = path.into_inner();
    let from = from
        .as_deref()
        .map(|m| number(m, "start size"))
        .transpose()?
        .unwrap_or(0);
    let to = to.as_deref().map(|n| number(n, "end size")).transpose()?;
    let summary = summary(&state, &name).await?;
    let to_checked = to.unwrap_or(summary.total_entries);
    if from > to_checked || to_checked > summary.total_entries {
        return Err(ApiError::NotFound(format!(
            "range {from}..{to_checked} is outside register '{name}' of {} entries",
            summary.total_entries
        )));
    }
    let tag = etag(&summary);
    if let Some(response) = not_modified(&request, &tag) {
        return Ok(response);
    }
    let stream = super::stream::spawn_writer(state.store.clone(), move |store, out| {
        store.export_rsf(&name, from, to, out)
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, register_core::rsf::MEDIA_TYPE))
        .insert_header((header::ETAG, tag))
        .streaming(stream))
}

/// Options of `load-rsf`.
#[derive(Debug, Deserialize)]
pub struct LoadQuery {
    relaxed: Option<bool>,
}

/// `POST /registers/{name}/load-rsf`: admin only; all or nothing.
pub async fn load(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    query: web::Query<LoadQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let name = path.into_inner();
    auth::require_admin(&state, &request).await?;
    let mode = if query.relaxed.unwrap_or(false) {
        Mode::Relaxed
    } else {
        Mode::Strict
    };
    let store = state.store.clone();
    let result = web::block(move || store.load_rsf(&name, &body[..], mode)).await?;
    match result {
        Ok(report) => Ok(HttpResponse::Ok().json(serde_json::json!({
            "success": true,
            "message": "success",
            "register": report.register,
            "created": report.created,
            "items-added": report.summary.new_items,
            "user-entries-added": report.summary.user_entries,
            "system-entries-added": report.summary.system_entries,
            "asserts": report.summary.asserts,
            "total-entries": report.total_entries,
            "root-hash": report.root.to_string(),
        }))),
        Err(store_diesel::error::StoreError::Mirror(name)) => Err(ApiError::Conflict(format!(
            "register '{name}' is a mirror and cannot be loaded locally"
        ))),
        Err(
            e @ (store_diesel::error::StoreError::Register(_)
            | store_diesel::error::StoreError::NameMismatch { .. }),
        ) => Ok(HttpResponse::BadRequest().json(serde_json::json!({
            "success": false,
            "message": "Failed to load RSF",
            "details": e.to_string(),
        }))),
        Err(other) => Err(other.into()),
    }
}
