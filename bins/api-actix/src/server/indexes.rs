//! Indexes served like registers, under `/registers/{name}/indexes/{index}/`: entries,
//! records and one record (registers.md §5 and §8).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::errors::ApiError;
use super::negotiate::{choose, split_suffix, Format};
use super::registers::{from_one, limit};
use super::render;
use super::AppState;

/// Paging of index entries and records.
#[derive(Debug, Deserialize)]
pub struct IndexQuery {
    start: Option<String>,
    limit: Option<String>,
    #[serde(rename = "page-size")]
    page_size: Option<String>,
}

fn body(
    format: Format,
    json: String,
    csv: impl FnOnce() -> Result<String, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let (content_type, body) = match format {
        Format::Json => ("application/json", json),
        Format::Csv => ("text/csv;charset=UTF-8", csv()?),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .body(body))
}

/// `GET …/indexes/{index}/entries`.
pub async fn entries(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String, String)>,
    query: web::Query<IndexQuery>,
) -> Result<HttpResponse, ApiError> {
    let (name, index, segment) = path.into_inner();
    let (_, suffix) = split_suffix(&segment);
    let format = choose(&request, suffix)?;
    let start = from_one(query.start.as_deref(), "start")?;
    let limit = limit(query.limit.as_deref(), "limit", 100)?;
    let store = state.store.clone();
    let entries = web::block(move || store.index_entries(&name, &index, start, limit)).await??;
    let json = render::entries_json(&entries);
    body(format, json, || render::entries_csv(&entries))
}

/// `GET …/indexes/{index}/records`: one record per value that has register records.
pub async fn records(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String, String)>,
    query: web::Query<IndexQuery>,
) -> Result<HttpResponse, ApiError> {
    let (name, index, segment) = path.into_inner();
    let (_, suffix) = split_suffix(&segment);
    let format = choose(&request, suffix)?;
    let page_size = limit(query.page_size.as_deref(), "page-size", 100)?;
    let store = state.store.clone();
    let records = web::block(move || {
        let mut records = Vec::new();
        for value in store
            .index_values(&name, &index)?
            .into_iter()
            .take(page_size as usize)
        {
            if let Some(record) = store.index_record(&name, &index, &value)? {
                records.push(record);
            }
        }
        Ok::<_, store_diesel::error::StoreError>(records)
    })
    .await??;
    let entries: Vec<_> = records.iter().map(|r| r.entry.clone()).collect();
    body(format, render::records_json(&records), || {
        render::entries_csv(&entries)
    })
}

/// `GET …/indexes/{index}/records/{value}` and `record/{value}`.
pub async fn record(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (name, index, segment) = path.into_inner();
    let (value, suffix) = split_suffix(&segment);
    let format = choose(&request, suffix)?;
    let value = value.to_string();
    let store = state.store.clone();
    let shown = value.clone();
    let record = web::block(move || store.index_record(&name, &index, &value))
        .await??
        .ok_or_else(|| ApiError::NotFound(format!("index record '{shown}' not found")))?;
    let records = [record];
    let entries = [records[0].entry.clone()];
    body(format, render::records_json(&records), || {
        render::entries_csv(&entries)
    })
}
