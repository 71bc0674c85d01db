//! Merkle proofs (registers.md §8) and RSF downloads of any log: JSON-only proofs that carry
//! the log's ETag, and dumps streamed from a blocking thread.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use store_diesel::queries::{RegisterSummary, Source};
use store_diesel::store::Store;

use super::errors::ApiError;
use super::negotiate::{accepts_json, Format};
use serde::Deserialize;

use super::registers::{
    blocking, fresh, not_modified_response, number, read_with_summary, respond, source, to_json,
    Read,
};
use super::AppState;

/// The proofs and `download-rsf` (whose sizes are all optional).
#[derive(Debug, Deserialize)]
pub struct SizesAt {
    name: String,
    index: Option<String>,
    n: Option<String>,
    size: Option<String>,
    m: Option<String>,
}

impl SizesAt {
    /// The sizes `m` and `n` of a register's user log, for handlers outside the route table
    /// (the slice resources of the plan API).
    pub(super) fn register(name: String, m: Option<String>, n: Option<String>) -> SizesAt {
        SizesAt {
            name,
            index: None,
            n,
            size: None,
            m,
        }
    }
}

/// Proofs are JSON only: 406 for a client that accepts nothing else.
fn json_only(request: &HttpRequest) -> Result<(), ApiError> {
    if accepts_json(request) {
        Ok(())
    } else {
        Err(ApiError::NotAcceptable("proofs are JSON only".into()))
    }
}

/// A proof's response, JSON only: it carries the log's ETag but is always computed (the
/// documented behaviour: no 304), and a size beyond the log is a 404.
async fn proof<F>(
    state: &web::Data<AppState>,
    request: &HttpRequest,
    source: &Source,
    f: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&Store, &RegisterSummary) -> Result<String, ApiError> + Send + 'static,
{
    json_only(request)?;
    match read_with_summary(state, request, source, false, f).await? {
        Read::NotModified(tag) => Ok(not_modified_response(&tag)),
        Read::Fresh(_, tag, body) => Ok(respond(Format::Json, body, &tag)),
    }
}

/// `GET …/proof/register/merkle:sha-256`. A log this node signs offers its signed
/// checkpoint in a `Link` header (`rel="checkpoint"`).
pub async fn register_proof(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<SizesAt>,
) -> Result<HttpResponse, ApiError> {
    let at = path.into_inner();
    let signed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = signed.clone();
    let has_keys = state.store.keys().is_some();
    let mut response = proof(
        &state,
        &request,
        &source(&at.name, &at.index),
        move |_, summary| {
            seen.store(
                has_keys && summary.mirror_of.is_none(),
                std::sync::atomic::Ordering::Relaxed,
            );
            to_json(&api_types::RegisterProof::new(
                summary.root,
                summary.total_entries,
            ))
        },
    )
    .await?;
    if signed.load(std::sync::atomic::Ordering::Relaxed) {
        let prefix = match &at.index {
            None => format!("/registers/{}", at.name),
            Some(index) => format!("/registers/{}/indexes/{index}", at.name),
        };
        if let Ok(value) =
            header::HeaderValue::from_str(&format!("<{prefix}/checkpoint>; rel=\"checkpoint\""))
        {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    Ok(response)
}

/// `GET …/proof/entry/{n}/{size}/merkle:sha-256`.
pub async fn entry_proof(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<SizesAt>,
) -> Result<HttpResponse, ApiError> {
    let at = path.into_inner();
    let n = number(at.n.as_deref().unwrap_or_default(), "entry number")?;
    let size = number(at.size.as_deref().unwrap_or_default(), "tree size")?;
    let source = source(&at.name, &at.index);
    let log = source.clone();
    proof(&state, &request, &source, move |store, _| {
        let path = store.log_inclusion_proof(&log, n, size)?;
        to_json(&api_types::EntryProof::new(n, &path))
    })
    .await
}

/// `GET …/proof/consistency/{m}/{n}/merkle:sha-256`.
pub async fn consistency_proof(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<SizesAt>,
) -> Result<HttpResponse, ApiError> {
    let at = path.into_inner();
    let m = number(at.m.as_deref().unwrap_or_default(), "tree size")?;
    let n = number(at.n.as_deref().unwrap_or_default(), "tree size")?;
    let source = source(&at.name, &at.index);
    let log = source.clone();
    proof(&state, &request, &source, move |store, _| {
        let nodes = store.log_consistency_proof(&log, m, n)?;
        to_json(&api_types::ConsistencyProof::new(&nodes))
    })
    .await
}

/// `GET …/download-rsf[/{m}[/{n}]]`: streamed as it is read.
pub async fn download(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<SizesAt>,
) -> Result<HttpResponse, ApiError> {
    let at = path.into_inner();
    let from =
        at.m.as_deref()
            .map(|m| number(m, "start size"))
            .transpose()?
            .unwrap_or(0);
    let to = at.n.as_deref().map(|n| number(n, "end size")).transpose()?;
    let source = source(&at.name, &at.index);
    let read = fresh(&state, &request, &source, move |_, summary| {
        let to_checked = to.unwrap_or(summary.total_entries);
        if from > to_checked || to_checked > summary.total_entries {
            return Err(ApiError::NotFound(format!(
                "range {from}..{to_checked} is outside the {} entries",
                summary.total_entries
            )));
        }
        Ok(())
    })
    .await?;
    let tag = match read {
        Ok((_, tag, ())) => tag,
        Err(not_modified) => return Ok(not_modified),
    };
    let place = state.streams.clone().try_acquire_owned().map_err(|_| {
        ApiError::Busy(format!(
            "{} downloads are streaming already; try again shortly",
            super::stream::MAX_STREAMS
        ))
    })?;
    let export = blocking(&state, move |store| store.begin_export(&source, from, to)).await?;
    let stream = super::stream::ExportStream::new(
        state.store.clone(),
        export,
        place,
        state.page_reads.clone(),
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, register_core::rsf::MEDIA_TYPE))
        .insert_header((header::ETAG, tag))
        .streaming(stream))
}
