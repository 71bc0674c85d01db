//! `GET /v1/admin/plans`: the operators' listing, a page at a time.

use actix_web::{web, HttpResponse};
use api_types::PlanBody;
use serde::Deserialize;

use super::plan_body;
use crate::errors::ApiError;
use crate::registers::blocking;
use crate::tokens::Caller;
use crate::AppState;

/// `?page-index=&page-size=` of the operators' plan listing.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(rename = "page-index", default)]
    page_index: Option<u64>,
    #[serde(rename = "page-size", default)]
    page_size: Option<u64>,
}

/// `GET /v1/admin/plans`: the plans, newest first, for operators, one page at a time (each
/// plan carries its document, so the whole store would be unbounded): `page-size` plans (at
/// most [`MAX_PLANS_PER_PAGE`](node_service::plans::MAX_PLANS_PER_PAGE)) of page
/// `page-index`, with a `Link` to the next page when there is one.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    request: actix_web::HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    use node_service::plans::{DEFAULT_PLANS_PER_PAGE, MAX_PLANS_PER_PAGE};
    if !caller.is_admin() {
        return Err(ApiError::Forbidden(
            "listing plans is for this server's operators".into(),
        ));
    }
    let max = MAX_PLANS_PER_PAGE as u64;
    let page_size = query.page_size.unwrap_or(DEFAULT_PLANS_PER_PAGE as u64);
    if !(1..=max).contains(&page_size) {
        return Err(ApiError::BadRequest(format!(
            "page-size: {page_size} is not between 1 and {max}"
        )));
    }
    let page_index = query.page_index.unwrap_or(1);
    if page_index == 0 {
        return Err(ApiError::BadRequest(
            "page-index: pages count from 1".into(),
        ));
    }
    let offset = (page_index - 1).saturating_mul(page_size);
    let (plans, more) = blocking(&state, move |store| store.plans_page(offset, page_size)).await?;
    let body: Vec<PlanBody> = plans
        .iter()
        .map(|plan| PlanBody {
            owner: Some(plan.owner.clone()),
            ..plan_body(plan)
        })
        .collect();
    let mut response = HttpResponse::Ok();
    response.insert_header(("Cache-Control", "no-store"));
    if more {
        response.insert_header((
            "Link",
            format!(
                "<{}?page-index={}&page-size={page_size}>; rel=\"next\"",
                request.path(),
                page_index.saturating_add(1)
            ),
        ));
    }
    Ok(response.json(body))
}
