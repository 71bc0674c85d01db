//! Pages for people: the same resources as the read API, as HTML, for a request that prefers
//! `text/html` (a browser) or names a `.html` suffix.
//!
//! # Design
//!
//! - **Chosen by a guard, not by the API handlers**: the route table gives each readable
//!   resource a page route guarded by [`is_page_request`] before its API route, so the API's
//!   handlers and negotiation are untouched and JSON stays the default (no `Accept`, `*/*`).
//! - **Server-rendered** with askama templates (`templates/`), compiled into the binary and
//!   HTML-escaped by default; the only script is `assets/verify.js`, the Verify control of a
//!   record's page. Styles and the script are served by [`asset`]; pages send a
//!   Content-Security-Policy that allows nothing else (no inline script, no other origin).
//! - **Thin handlers** as the API's: each reads on the blocking pool ([`load`]) and renders
//!   there; the rules that make a value a link and the changes between versions are pure
//!   functions in [`view`].
//! - **Errors** of a page request are pages too (same status); API clients keep the JSON
//!   envelope.

mod load;
mod record;
mod templates;
mod view;

use actix_web::guard::GuardContext;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use register_core::ItemHash;
use serde::Deserialize;
use store_diesel::queries::RegisterSummary;
use store_diesel::store::Store;

use crate::errors::ApiError;
use crate::negotiate::wants_html;
use crate::registers::{blocking, from_one, number, read_with_summary, Read};
use crate::AppState;
use load::{Outcome, RecordsAsk, MAX_PAGE_ROWS, PAGE_ROWS};
use view::Log;

/// Pages load only what the binary serves; scripts only from files, never inline.
const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
                   connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'";

/// The guard of page routes: the request prefers HTML (see [`wants_html`]).
pub fn is_page_request(ctx: &GuardContext<'_>) -> bool {
    let head = ctx.head();
    let accept = head
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    wants_html(head.uri.path(), accept)
}

/// Whether a request (already routed) asked for HTML, for error answers.
pub fn asks_for_html(request: &HttpRequest) -> bool {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    wants_html(request.path(), accept)
}

fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::VARY, "Accept"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .body(body)
}

/// An error as a page with its status (500s say no more than the API does).
pub fn error_page(domain: &str, error: &ApiError) -> HttpResponse {
    use actix_web::ResponseError as _;
    let status = error.status_code();
    if let ApiError::Internal(cause) = error {
        tracing::error!(%cause, "internal error");
    }
    let title = match status {
        StatusCode::NOT_FOUND => "Page not found".to_string(),
        other => other.canonical_reason().unwrap_or("Error").to_string(),
    };
    match load::error(domain, &title, &error.to_string()) {
        Ok(body) => html(status, body),
        Err(_) => error.error_response(),
    }
}

/// The answer of a page handler.
fn answer(state: &AppState, outcome: Result<Outcome, ApiError>) -> HttpResponse {
    match outcome {
        Ok(Outcome::Html(body)) => html(StatusCode::OK, body),
        Ok(Outcome::Redirect(to)) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, to))
            .insert_header((header::VARY, "Accept"))
            .finish(),
        Err(error) => error_page(&state.domain, &error),
    }
}

/// 404 for a page request no route matched.
pub fn not_found(request: &HttpRequest) -> HttpResponse {
    let domain = request
        .app_data::<web::Data<AppState>>()
        .map(|s| s.domain.clone())
        .unwrap_or_default();
    error_page(
        &domain,
        &ApiError::NotFound(format!("There is nothing at {}.", request.path())),
    )
}

/// The path of any page route; each names some of these.
#[derive(Debug, Deserialize)]
pub struct PagePath {
    name: String,
    index: Option<String>,
    n: Option<String>,
    key: Option<String>,
    hash: Option<String>,
    field: Option<String>,
    value: Option<String>,
}

impl PagePath {
    fn log(&self) -> Log {
        Log {
            name: self.name.clone(),
            index: self.index.clone(),
        }
    }
}

/// A path parameter without its `.html` suffix.
fn bare(text: Option<&str>) -> String {
    let text = text.unwrap_or_default();
    text.strip_suffix(".html").unwrap_or(text).to_string()
}

/// The query of a page: paging (the API's names), a key searched for, a filter.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    start: Option<String>,
    limit: Option<String>,
    #[serde(rename = "page-index")]
    page_index: Option<String>,
    #[serde(rename = "page-size")]
    page_size: Option<String>,
    key: Option<String>,
    field: Option<String>,
    value: Option<String>,
}

/// Rows per page: the API's rule (a whole number from 1), at most [`MAX_PAGE_ROWS`].
fn rows(value: Option<&str>, name: &str) -> Result<u64, ApiError> {
    match value {
        None => Ok(PAGE_ROWS),
        Some(text) => Ok(from_one(Some(text), name)?.min(MAX_PAGE_ROWS)),
    }
}

/// Runs `f` with the log's summary on the blocking pool (404 for an unknown log) and
/// answers its page. Pages never answer 304: a browser may hold the JSON of the same URL.
async fn log_page<F>(
    state: web::Data<AppState>,
    request: HttpRequest,
    log: Log,
    f: F,
) -> HttpResponse
where
    F: FnOnce(&Store, &str, &Log, &RegisterSummary) -> Result<Outcome, ApiError> + Send + 'static,
{
    let source = load::source(&log);
    let domain = state.domain.clone();
    let read = read_with_summary(&state, &request, &source, false, move |store, summary| {
        f(store, &domain, &log, summary)
    })
    .await;
    let outcome = match read {
        Ok(Read::Fresh(_, _, outcome)) => Ok(outcome),
        Ok(Read::NotModified(_)) => Err(ApiError::Internal("a page answered 304".into())),
        Err(e) => Err(e),
    };
    answer(&state, outcome)
}

/// `GET /` and `GET /registers` as a page: the registers on this node.
pub async fn home(state: web::Data<AppState>) -> HttpResponse {
    let domain = state.domain.clone();
    let outcome = blocking(&state, move |store| load::home(store, &domain)).await;
    answer(&state, outcome)
}

/// `…/register` as a page.
pub async fn register(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<PagePath>,
) -> HttpResponse {
    let log = path.log();
    log_page(state, request, log, load::register).await
}

/// `…/records` as a page, and `…/records/{field}/{value}` (filtered).
pub async fn records(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<PagePath>,
    query: web::Query<PageQuery>,
) -> HttpResponse {
    let at = path.into_inner();
    let q = query.into_inner();
    let asked = rows(q.page_size.as_deref(), "page-size").and_then(|size| {
        Ok(RecordsAsk {
            page: from_one(q.page_index.as_deref(), "page-index")?,
            size,
            key: q.key.unwrap_or_default(),
            filter: match (&at.field, &at.value) {
                (Some(field), value) => Some((field.clone(), bare(value.as_deref()))),
                (None, _) => q.field.zip(q.value),
            },
        })
    });
    let ask = match asked {
        Ok(ask) => ask,
        Err(e) => return answer(&state, Err(e)),
    };
    log_page(
        state,
        request,
        at.log(),
        move |store, domain, log, summary| load::records(store, domain, log, summary, ask),
    )
    .await
}

/// `…/records/{key}` as a page.
pub async fn record(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<PagePath>,
) -> HttpResponse {
    let key = bare(path.key.as_deref());
    log_page(
        state,
        request,
        path.log(),
        move |store, domain, log, summary| record::record(store, domain, log, summary, &key),
    )
    .await
}

/// `…/records/{key}/entries` as a page: the record's history.
pub async fn history(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<PagePath>,
) -> HttpResponse {
    let key = path.key.clone().unwrap_or_default();
    log_page(state, request, path.log(), move |store, domain, log, _| {
        record::history(store, domain, log, &key)
    })
    .await
}

/// `…/entries` as a page.
pub async fn entries(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<PagePath>,
    query: web::Query<PageQuery>,
) -> HttpResponse {
    let paging = from_one(query.start.as_deref(), "start")
        .and_then(|start| Ok((start, rows(query.limit.as_deref(), "limit")?)));
    let (start, limit) = match paging {
        Ok(paging) => paging,
        Err(e) => return answer(&state, Err(e)),
    };
    log_page(
        state,
        request,
        path.log(),
        move |store, domain, log, summary| load::entries(store, domain, log, summary, start, limit),
    )
    .await
}

/// `…/entries/{n}` as a page.
pub async fn entry(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<PagePath>,
) -> HttpResponse {
    let n = match number(&bare(path.n.as_deref()), "entry number") {
        Ok(n) => n,
        Err(e) => return answer(&state, Err(e)),
    };
    log_page(
        state,
        request,
        path.log(),
        move |store, domain, log, summary| load::entry(store, domain, log, summary, n),
    )
    .await
}

/// `…/items/{hash}` as a page.
pub async fn item(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<PagePath>,
) -> HttpResponse {
    let text = bare(path.hash.as_deref());
    let Some(hash) = ItemHash::parse(&text) else {
        let error = ApiError::BadRequest(format!("'{text}' is not a sha-256 item hash"));
        return answer(&state, Err(error));
    };
    log_page(state, request, path.log(), move |store, domain, log, _| {
        record::item(store, domain, log, &hash)
    })
    .await
}

/// The pages' stylesheet and the Verify script, embedded in the binary.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "pages.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/pages.css"),
    ),
    (
        "verify.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/verify.js"),
    ),
];

/// `GET /assets/{file}`: the stylesheet and the script of the pages.
pub async fn asset(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (_, media, body) = ASSETS
        .iter()
        .find(|(name, _, _)| *name == file.as_str())
        .ok_or_else(|| ApiError::NotFound(format!("no asset '{file}'")))?;
    Ok(HttpResponse::Ok()
        .content_type(*media)
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(*body))
}
