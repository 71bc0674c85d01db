//! Handlers of the read API (registers.md §8) and RSF loading (§9). Each extracts, calls the
//! store off the worker threads, and renders.
//!
//! The read handlers serve any log: the route table mounts them under `/registers/{name}/`
//! (the register's user log) and `/registers/{name}/indexes/{index}/` (an index log, §5), and
//! each reads its [`Source`] from the path (`{index}` present or not).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use register_core::{ItemHash, Mode};
use serde::Deserialize;
use store_diesel::queries::{RegisterSummary, Source};
use store_diesel::store::Store;

use super::body::Body;
use super::errors::{self, ApiError};
use super::negotiate::{accepts_json, choose, split_suffix, Format};
use super::paging;
use super::render;
use super::{auth, AppState};

/// Entries per page by default, and the most a page may hold.
const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 5000;

/// The path of a route whose last segment carries the parameter (and an optional format
/// suffix): `entries`, `entry/{n}`, `records/{key}`, `items/{hash}`, …
#[derive(Debug, Deserialize)]
pub struct At {
    name: String,
    index: Option<String>,
    /// Named for what it holds in the route (`{n}`, `{key}`, `{hash}`), for the docs' sake.
    #[serde(alias = "n", alias = "key", alias = "hash")]
    segment: String,
}

/// `records/{key}/entries`.
#[derive(Debug, Deserialize)]
pub struct KeyAt {
    name: String,
    index: Option<String>,
    key: String,
    segment: String,
}

/// The log a path names.
pub(super) fn source(name: &str, index: &Option<String>) -> Source {
    Source {
        register: name.to_string(),
        index: index.clone(),
    }
}

/// Runs a store call on the blocking pool.
pub(super) async fn blocking<T, E, F>(state: &web::Data<AppState>, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&Store) -> Result<T, E> + Send + 'static,
    E: Into<ApiError> + Send + 'static,
    T: Send + 'static,
{
    let store = state.store.clone();
    web::block(move || f(&store)).await?.map_err(Into::into)
}

/// A wire body as JSON text.
pub(super) fn to_json(body: &impl serde::Serialize) -> Result<String, ApiError> {
    serde_json::to_string(body).map_err(|e| ApiError::Internal(e.to_string()))
}

fn etag(summary: &RegisterSummary) -> String {
    format!("\"{}-{}\"", summary.total_entries, summary.root.to_hex())
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

pub(super) fn respond(format: Format, body: String, tag: &str) -> HttpResponse {
    let content_type = match format {
        Format::Json => "application/json",
        Format::Csv => "text/csv;charset=UTF-8",
    };
    // The same URL also has a page for browsers (`pages`): caches must tell them apart.
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::VARY, "Accept"))
        .insert_header((header::ETAG, tag))
        .body(body)
}

pub(super) fn number(text: &str, what: &str) -> Result<u64, ApiError> {
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

/// `GET /registers` (JSON only: 406 when `Accept` refuses JSON, unless the path says `.json`).
pub async fn list(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if !request.path().ends_with(".json") && !accepts_json(&request) {
        return Err(ApiError::NotAcceptable(
            "the register list is JSON only".into(),
        ));
    }
    let registers = blocking(&state, |store| store.registers()).await?;
    let body: Vec<api_types::RegisterListing> = registers
        .iter()
        .map(|r| api_types::RegisterListing {
            mirror: r.mirror_of.is_some(),
            name: r.name.clone(),
            root_hash: r.root.to_string(),
            total_entries: r.total_entries,
            total_records: r.total_records,
        })
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

/// What [`read_with_summary`] found.
pub(super) enum Read<T> {
    /// The client already holds this state of the log (the tag): answer 304.
    NotModified(String),
    /// The log's summary, its ETag, and what the call read.
    Fresh(Box<RegisterSummary>, String, T),
}

/// The log's summary and, unless the client's `If-None-Match` already holds that state, the
/// store call `f`: one trip to the blocking pool for both. `conditional` is false for routes
/// that never answer 304.
pub(super) async fn read_with_summary<T, F>(
    state: &web::Data<AppState>,
    request: &HttpRequest,
    source: &Source,
    conditional: bool,
    f: F,
) -> Result<Read<T>, ApiError>
where
    F: FnOnce(&Store, &RegisterSummary) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let held = conditional
        .then(|| request.headers().get(header::IF_NONE_MATCH))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let source = source.clone();
    let store = state.store.clone();
    web::block(move || {
        let summary = store.summary(&source)?;
        let tag = etag(&summary);
        if let Some(held) = held {
            if held.split(',').any(|t| t.trim() == tag || t.trim() == "*") {
                return Ok(Read::NotModified(tag));
            }
        }
        let value = f(&store, &summary)?;
        Ok(Read::Fresh(Box::new(summary), tag, value))
    })
    .await?
}

/// [`read_with_summary`], answering 304 itself: `Ok(Err(response))` is the 304.
pub(super) async fn fresh<T, F>(
    state: &web::Data<AppState>,
    request: &HttpRequest,
    source: &Source,
    f: F,
) -> Result<Result<(RegisterSummary, String, T), HttpResponse>, ApiError>
where
    F: FnOnce(&Store, &RegisterSummary) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    Ok(
        match read_with_summary(state, request, source, true, f).await? {
            Read::NotModified(tag) => Err(not_modified_response(&tag)),
            Read::Fresh(summary, tag, value) => Ok((*summary, tag, value)),
        },
    )
}

pub(super) fn not_modified_response(tag: &str) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, tag))
        .finish()
}

/// `GET …/register`: the log's summary. For an index, the counts are the index log's and
/// `index-record` is its declaration.
pub async fn register(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<At>,
) -> Result<HttpResponse, ApiError> {
    let at = path.into_inner();
    let (_, suffix) = split_suffix(&at.segment);
    let format = choose(&request, suffix)?;
    if format == Format::Csv {
        return Err(ApiError::NotAcceptable(
            "the register summary is JSON only".into(),
        ));
    }
    let source = source(&at.name, &at.index);
    let name = at.name.clone();
    let read = fresh(&state, &request, &source, move |store, _| {
        Ok(store.metadata(&name)?)
    })
    .await?;
    let (summary, tag, metadata) = match read {
        Ok(found) => found,
        Err(not_modified) => return Ok(not_modified),
    };
    // A mirror's log is signed by its primary, under the primary's origin.
    let signing = state.store.keys().filter(|_| summary.mirror_of.is_none());
    let origin = signing.map(|keys| keys.log_origin(&at.name, at.index.as_deref()));
    let checkpoint_key = signing
        .map(|keys| keys.checkpoint_key(&at.name, at.index.as_deref()))
        .transpose()
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map(|key| key.to_string());
    let updated = chrono::DateTime::from_timestamp(summary.updated_at, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    let record = metadata
        .register_definition()
        .map(|d| serde_json::from_str::<serde_json::Value>(&d.item.canonical_json()))
        .transpose()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let index_record = at
        .index
        .and_then(|i| metadata.indexes.get(&i).cloned())
        .map(|def| api_types::IndexRecord {
            field: def.field,
            index: def.name,
        });
    let body = api_types::RegisterSummary {
        checkpoint_key,
        custodian: metadata.custodian,
        domain: state.domain.clone(),
        index_record,
        last_updated: updated,
        origin,
        register_record: record,
        total_entries: summary.total_entries,
        total_items: summary.total_items,
        total_records: summary.total_records,
    };
    Ok(respond(Format::Json, to_json(&body)?, &tag))
}

/// Paging of `entries`.
#[derive(Debug, Deserialize)]
pub struct EntriesQuery {
    start: Option<String>,
    limit: Option<String>,
}

/// `GET …/entries`.
pub async fn entries(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<At>,
    query: web::Query<EntriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let at = path.into_inner();
    let (_, suffix) = split_suffix(&at.segment);
    let format = choose(&request, suffix)?;
    let start = from_one(query.start.as_deref(), "start")?;
    let limit = limit(query.limit.as_deref(), "limit", DEFAULT_LIMIT)?;
    let source = source(&at.name, &at.index);
    let list = source.clone();
    let read = fresh(&state, &request, &source, move |store, _| {
        Ok(store.log_entries(&list, start, limit)?)
    })
    .await?;
    let (summary, tag, entries) = match read {
        Ok(found) => found,
        Err(not_modified) => return Ok(not_modified),
    };
    let body = match format {
        Format::Json => render::entries_json(&entries),
        Format::Csv => render::entries_csv(&entries)?,
    };
    let mut response = respond(format, body, &tag);
    let base = request.path();
    let mut links = Vec::new();
    if let Some(next) = paging::next_start(start, limit, summary.total_entries) {
        links.push(format!("<{base}?start={next}&limit={limit}>; rel=\"next\""));
    }
    if let Some(previous) = paging::previous_start(start, limit) {
        links.push(format!(
            "<{base}?start={previous}&limit={limit}>; rel=\"previous\""
        ));
    }
    set_links(&mut response, &links);
    Ok(response)
}

/// `GET …/entries/{n}` and `entry/{n}`: a one-element array.
pub async fn entry(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<At>,
) -> Result<HttpResponse, ApiError> {
    let at = path.into_inner();
    let (n, suffix) = split_suffix(&at.segment);
    let format = choose(&request, suffix)?;
    let n = number(n, "entry number")?;
    let source = source(&at.name, &at.index);
    let one = source.clone();
    let read = fresh(&state, &request, &source, move |store, _| {
        // Entries are numbered from 1; the store would answer 0 with entry 1.
        let found = match n {
            0 => None,
            n => store.log_entries(&one, n, 1)?.pop(),
        };
        found.ok_or_else(|| ApiError::NotFound(format!("entry {n} not found in {one}")))
    })
    .await?;
    let (_, tag, entry) = match read {
        Ok(found) => found,
        Err(not_modified) => return Ok(not_modified),
    };
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

/// Records as the format asks; CSV needs the register's fields.
fn records_body(
    format: Format,
    records: &[store_diesel::queries::Record],
    metadata: Option<&register_core::Metadata>,
) -> Result<String, ApiError> {
    match (format, metadata) {
        (Format::Csv, Some(metadata)) => render::records_csv(records, metadata),
        _ => Ok(render::records_json(records)),
    }
}

/// `GET …/records`: newest entry first.
pub async fn records(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<At>,
    query: web::Query<RecordsQuery>,
) -> Result<HttpResponse, ApiError> {
    let at = path.into_inner();
    let (_, suffix) = split_suffix(&at.segment);
    let format = choose(&request, suffix)?;
    let page_size = limit(query.page_size.as_deref(), "page-size", DEFAULT_LIMIT)?;
    let page_index = from_one(query.page_index.as_deref(), "page-index")?;
    let offset = paging::offset(page_index, page_size);
    let source = source(&at.name, &at.index);
    let list = source.clone();
    let read = fresh(&state, &request, &source, move |store, _| {
        let records = store.log_records(&list, offset, page_size)?;
        let metadata = match format {
            Format::Csv => Some(store.metadata(&list.register)?),
            Format::Json => None,
        };
        Ok((records, metadata))
    })
    .await?;
    let (summary, tag, (records, metadata)) = match read {
        Ok(found) => found,
        Err(not_modified) => return Ok(not_modified),
    };
    let body = records_body(format, &records, metadata.as_ref())?;
    let mut response = respond(format, body, &tag);
    let base = request.path();
    let mut links = Vec::new();
    if let Some(next) = paging::next_page(page_index, page_size, summary.total_records) {
        links.push(format!(
            "<{base}?page-index={next}&page-size={page_size}>; rel=\"next\""
        ));
    }
    if let Some(previous) = paging::previous_page(page_index) {
        links.push(format!(
            "<{base}?page-index={previous}&page-size={page_size}>; rel=\"previous\""
        ));
    }
    set_links(&mut response, &links);
    Ok(response)
}

/// `GET …/records/{key}` and `record/{key}` (an index: `{key}` is a value of its field).
pub async fn record(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<At>,
) -> Result<HttpResponse, ApiError> {
    let at = path.into_inner();
    let (key, suffix) = split_suffix(&at.segment);
    let format = choose(&request, suffix)?;
    let key = key.to_string();
    let source = source(&at.name, &at.index);
    let one = source.clone();
    let read = fresh(&state, &request, &source, move |store, _| {
        let record = store
            .log_record(&one, &key)?
            .ok_or_else(|| ApiError::NotFound(format!("record '{key}' not found in {one}")))?;
        let metadata = match format {
            Format::Csv => Some(store.metadata(&one.register)?),
            Format::Json => None,
        };
        Ok((record, metadata))
    })
    .await?;
    let (_, tag, (record, metadata)) = match read {
        Ok(found) => found,
        Err(not_modified) => return Ok(not_modified),
    };
    let body = records_body(format, &[record], metadata.as_ref())?;
    Ok(respond(format, body, &tag))
}

/// `GET …/records/{key}/entries`: every entry of the key, oldest first.
pub async fn record_entries(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<KeyAt>,
) -> Result<HttpResponse, ApiError> {
    let at = path.into_inner();
    let (_, suffix) = split_suffix(&at.segment);
    let format = choose(&request, suffix)?;
    let source = source(&at.name, &at.index);
    let (history, key) = (source.clone(), at.key);
    let read = fresh(&state, &request, &source, move |store, _| {
        let entries = store.log_history(&history, &key)?;
        if entries.is_empty() {
            return Err(ApiError::NotFound(format!(
                "record '{key}' not found in {history}"
            )));
        }
        Ok(entries)
    })
    .await?;
    let (_, tag, entries) = match read {
        Ok(found) => found,
        Err(not_modified) => return Ok(not_modified),
    };
    let body = match format {
        Format::Json => render::entries_json(&entries),
        Format::Csv => render::entries_csv(&entries)?,
    };
    Ok(respond(format, body, &tag))
}

/// The path of a facet: `records/{field}/{value}` (registers only).
#[derive(Debug, Deserialize)]
pub struct FacetAt {
    name: String,
    field: String,
    value: String,
}

/// `GET /registers/{name}/records/{field}/{value}`: records whose field has the value.
pub async fn facet(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<FacetAt>,
    query: web::Query<RecordsQuery>,
) -> Result<HttpResponse, ApiError> {
    let FacetAt { name, field, value } = path.into_inner();
    let (value, suffix) = split_suffix(&value);
    let format = choose(&request, suffix)?;
    let value = value.to_string();
    let page_size = limit(query.page_size.as_deref(), "page-size", DEFAULT_LIMIT)?;
    let offset = paging::offset(
        from_one(query.page_index.as_deref(), "page-index")?,
        page_size,
    );
    let read = fresh(
        &state,
        &request,
        &Source::register(&name),
        move |store, _| {
            let metadata = store.metadata(&name)?;
            let known = metadata
                .register_definition()
                .is_some_and(|d| d.fields.contains(&field));
            if !known {
                return Err(ApiError::NotFound(format!(
                    "field '{field}' of register '{name}' not found"
                )));
            }
            Ok((
                store.facet(&name, &field, &value, offset, page_size)?,
                metadata,
            ))
        },
    )
    .await?;
    let (_, tag, (records, metadata)) = match read {
        Ok(found) => found,
        Err(not_modified) => return Ok(not_modified),
    };
    let body = records_body(format, &records, Some(&metadata))?;
    Ok(respond(format, body, &tag))
}

/// `GET …/items/{hash}` and `item/{hash}`: items the log refers to.
pub async fn item(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<At>,
) -> Result<HttpResponse, ApiError> {
    let at = path.into_inner();
    let (text, suffix) = split_suffix(&at.segment);
    let format = choose(&request, suffix)?;
    if format == Format::Csv {
        return Err(ApiError::NotAcceptable("items are JSON only".into()));
    }
    let hash = ItemHash::parse(text)
        .ok_or_else(|| ApiError::BadRequest(format!("'{text}' is not a sha-256 item hash")))?;
    let source = source(&at.name, &at.index);
    let one = source.clone();
    let read = fresh(&state, &request, &source, move |store, _| {
        store
            .log_item(&one, &hash)?
            .ok_or_else(|| ApiError::NotFound(format!("item {hash} not found in {one}")))
    })
    .await?;
    let (_, tag, json) = match read {
        Ok(found) => found,
        Err(not_modified) => return Ok(not_modified),
    };
    Ok(respond(Format::Json, json, &tag))
}

/// Options of `load-rsf`.
#[derive(Debug, Deserialize)]
pub struct LoadQuery {
    relaxed: Option<bool>,
}

/// `POST /registers/{name}/load-rsf`: a writer of the register (a writer token for it, or
/// an admin); all or nothing.
pub async fn load(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    query: web::Query<LoadQuery>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let name = path.into_inner();
    let writer = auth::require_writer(&state, &request, &name).await?;
    tracing::debug!(register = %name, writer = writer.name(), "load-rsf");
    let body = body.bytes().await?;
    let mode = Mode::relaxed_if(query.relaxed.unwrap_or(false));
    let started = std::time::Instant::now();
    let loaded = blocking(&state, move |store| {
        store
            .load_rsf(&name, &body[..], mode)
            .map_err(errors::load_error)
    })
    .await;
    if let Some(metrics) = &state.metrics {
        metrics.observe_load(
            loaded
                .as_ref()
                .map(|report| report.summary.user_entries)
                .map_err(|_| ()),
            started.elapsed(),
        );
    }
    let report = loaded?;
    Ok(HttpResponse::Ok().json(api_types::LoadReport {
        message: Some("success".into()),
        success: Some(true),
        ..node_service::views::load_report(&report)
    }))
}
