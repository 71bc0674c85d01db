//! The plan API under `/v1` (plans.md §3–§4): login, invoke, read, propose, review, and the
//! slice summaries of Approved plans (sync.md).
//!
//! Who acts on a plan is node-service's rule ([`node_service::plans::actor`]): the account
//! that invoked it is the initiator; an admin of this server is the respondent; anyone else
//! is not a partner and gets exactly the answer an unknown UUID gets (404). plan-core's
//! lifecycle then decides whether the action is allowed, and the store's optimistic save
//! decides between two partners acting at once.

use actix_web::{web, HttpResponse};
use api_types::{DocumentRequest, LoginRequest, LoginResponse, PlanBody, ReviewRequest};
use chrono::DateTime;
use node_service::now;
use node_service::views::time;
use plan_core::{Action, Actor, ConversationRole, DataRole, Plan, PlanId, PlanRecord};
use serde::Deserialize;
use store_diesel::error::StoreError;
use store_diesel::plans::StoredPlan;
use uuid::Uuid;

use super::body::Body;
use super::documents::parse_document;
use super::errors::ApiError;
use super::registers::blocking;
use super::tokens::{Caller, Scope};
use super::AppState;

mod listing;

pub use listing::{list, ListQuery};

/// The largest JSON body the plan API accepts; a document travels base64-encoded inside, so
/// the document itself may be about three quarters of this.
pub const MAX_PLAN_JSON_BYTES: usize = 4 * 1024 * 1024;

fn no_plan(id: impl std::fmt::Display) -> ApiError {
    ApiError::NotFound(format!("no plan {id}"))
}

/// The plan's UUID, unless it is absent or the all-zero one.
fn real_uuid(plan: &Plan) -> Option<PlanId> {
    plan.uuid.filter(|id| !id.0.is_nil())
}

/// How `caller` acts on `plan`, or `None` when it is not a partner of it.
fn actor(caller: &Caller, plan: &StoredPlan) -> Option<Actor> {
    node_service::plans::actor(&caller.name, caller.is_admin(), plan)
}

/// The plan `id` with how `caller` acts on it; 404 alike for unknown plans and for plans of
/// which the caller is not a partner.
async fn partner_plan(
    state: &web::Data<AppState>,
    caller: &Caller,
    id: PlanId,
) -> Result<(StoredPlan, Actor), ApiError> {
    let caller = caller.clone();
    blocking(state, move |store| {
        node_service::plans::partner_plan(store, id, |plan| actor(&caller, plan))
    })
    .await
}

fn plan_id(text: &str) -> Result<PlanId, ApiError> {
    Uuid::parse_str(text).map(PlanId).map_err(|_| no_plan(text))
}

/// The body of every plan response: `GET /v1/plans/{uuid}`.
fn plan_body(plan: &StoredPlan) -> PlanBody {
    let record = &plan.record;
    PlanBody {
        document: record
            .document()
            .map(|d| api_types::encode_document(&d.to_xml())),
        owner: None,
        plan_uuid: record.id().to_string(),
        primary_approved_on: plan.approved_on(DataRole::Primary).map(time),
        replaces_plan_uuid: plan.replaces.map(|id| id.to_string()),
        secondary_approved_on: plan.approved_on(DataRole::Secondary).map(time),
        status: record.status().as_str().to_string(),
        status_message: record.status_message().map(str::to_string),
        status_on: time(plan.status_on()),
    }
}

fn plan_response(status: actix_web::http::StatusCode, plan: &StoredPlan) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("Cache-Control", "no-store"))
        .json(plan_body(plan))
}

/// `POST /v1/login`: a limited token, or with an Approved plan of the caller, a token that
/// also reaches that plan's slices.
pub async fn login(
    state: web::Data<AppState>,
    request: actix_web::HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest {
        username,
        password,
        plan,
    } = body.json().await?;
    let at = now();
    let user = super::auth::check_password(&state, &request, &username, &password, "login")
        .await?
        .ok_or_else(|| ApiError::Unauthorized("invalid username or password".into()))?;
    let (scope, plan_id) = match plan {
        None => (Scope::Plans, None),
        Some(encoded) => {
            let sent = parse_document(encoded).await?;
            let id = real_uuid(&sent).ok_or_else(|| ApiError::Unprocessable {
                message: "the plan document has no uuid".into(),
                schema_errors: Vec::new(),
            })?;
            let caller = Caller {
                name: user.name.clone(),
                role: user.role,
                scope: Scope::Plans,
                plan: None,
            };
            let (stored, _) = partner_plan(&state, &caller, id).await?;
            usable_for_sync(&stored)?;
            if stored.record.document() != Some(&sent) {
                return Err(ApiError::Forbidden(format!(
                    "the document sent is not the document of plan {id} as approved"
                )));
            }
            (Scope::Sync, Some(id))
        }
    };
    let issued = state.tokens.issue(&user, scope, plan_id, at)?;
    let expires = DateTime::from_timestamp(issued.claims.exp, 0).unwrap_or(at);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(LoginResponse {
            expires: time(expires),
            expires_in: issued.claims.exp - issued.claims.iat,
            plan_uuid: plan_id.map(|id| id.to_string()),
            role: user.role.as_str().to_string(),
            scope: scope.as_str().to_string(),
            token: issued.token,
            token_type: "Bearer".to_string(),
        }))
}

/// 403 unless the plan allows synchronisation, with its status and message.
fn usable_for_sync(plan: &StoredPlan) -> Result<(), ApiError> {
    let status = plan.record.status();
    if status.allows_sync() {
        return Ok(());
    }
    let why = plan
        .record
        .status_message()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    Err(ApiError::Forbidden(format!(
        "plan {} is {status}{why}; only an Approved plan allows synchronisation",
        plan.record.id()
    )))
}

/// `?replaces=` of `GET /v1/plans/invoke`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvokeQuery {
    #[serde(default)]
    replaces: Option<String>,
}

/// The plan a new one replaces: one the caller is a partner of.
async fn replaced(
    state: &web::Data<AppState>,
    caller: &Caller,
    replaces: Option<&str>,
) -> Result<Option<PlanId>, ApiError> {
    match replaces {
        None => Ok(None),
        Some(text) => {
            let id = plan_id(text)?;
            partner_plan(state, caller, id).await?;
            Ok(Some(id))
        }
    }
}

/// Stores a newly invoked plan and answers with it.
async fn create(
    state: &web::Data<AppState>,
    caller: &Caller,
    record: PlanRecord,
    replaces: Option<PlanId>,
) -> Result<HttpResponse, ApiError> {
    let id = record.id();
    let owner = caller.name.clone();
    // Operators of this node are trusted with the store; partners are not.
    let quota = (!caller.is_admin()).then_some(node_service::plans::MAX_LIVE_PLANS_PER_ACCOUNT);
    let stored = blocking(state, move |store| {
        match quota {
            Some(max_live) => {
                store.create_plan_within_quota(&record, &owner, replaces, max_live)?
            }
            None => store.create_plan(&record, &owner, replaces)?,
        }
        store.plan(id)
    })
    .await?
    .ok_or_else(|| no_plan(id))?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/plans/{id}")))
        .insert_header(("Cache-Control", "no-store"))
        .json(plan_body(&stored)))
}

/// `GET /v1/plans/invoke`: a new plan owned by the caller. When this server offers registers
/// it is the primary: the stub carries its Primary domain and the caller is the secondary.
/// Otherwise the caller is the primary and posts its side with `POST /v1/plans/{uuid}`.
pub async fn invoke(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<InvokeQuery>,
) -> Result<HttpResponse, ApiError> {
    let replaces = replaced(&state, &caller, query.replaces.as_deref()).await?;
    let (node, offers, keys) = blocking(&state, |store| {
        Ok::<_, StoreError>((store.node()?, store.offers()?, store.keys().cloned()))
    })
    .await?;
    let id = PlanId(Uuid::new_v4());
    let at = now();
    let record = if offers.is_empty() {
        PlanRecord::invoke(id, DataRole::Primary, at)
    } else {
        let mut record = PlanRecord::invoke(id, DataRole::Secondary, at);
        let stub = Plan::fragment(
            Some(id),
            format!("Plan with {}", node.description),
            node_service::identity::primary(&node, &offers, keys.as_ref()),
        );
        record.set_document(stub)?;
        record
    };
    create(&state, &caller, record, replaces).await
}

/// A Primary-only document, with the plan's UUID set to `id` when it had none.
fn primary_only(mut plan: Plan, id: PlanId) -> Result<Plan, ApiError> {
    if !plan.is_fragment() {
        return Err(ApiError::Unprocessable {
            message: "a primary's document holds only the Primary part (no Secondary, no \
                      Communal)"
                .into(),
            schema_errors: Vec::new(),
        });
    }
    match real_uuid(&plan) {
        Some(given) if given != id => Err(ApiError::Unprocessable {
            message: format!("the document's uuid {given} is not the plan's uuid {id}"),
            schema_errors: Vec::new(),
        }),
        _ => {
            plan.uuid = Some(id);
            Ok(plan)
        }
    }
}

/// `POST /v1/plans/invoke`: the caller is the primary and sends its Primary-only document.
/// The plan gets the document's UUID when it has one (409 if taken), else a fresh one.
pub async fn invoke_as_primary(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let DocumentRequest {
        document,
        replaces_plan_uuid,
    } = body.json().await?;
    let sent = parse_document(document).await?;
    let replaces = replaced(&state, &caller, replaces_plan_uuid.as_deref()).await?;
    let id = real_uuid(&sent).unwrap_or_else(|| PlanId(Uuid::new_v4()));
    let document = primary_only(sent, id)?;
    let mut record = PlanRecord::invoke(id, DataRole::Primary, now());
    record.set_document(document)?;
    create(&state, &caller, record, replaces).await
}

/// `GET /v1/plans/{uuid}`.
pub async fn show(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = plan_id(&path)?;
    let (plan, _) = partner_plan(&state, &caller, id).await?;
    Ok(plan_response(actix_web::http::StatusCode::OK, &plan))
}

/// `POST /v1/plans/{uuid}`: the primary initiator replaces its document while the plan is
/// Invoked (409 once it is frozen).
pub async fn replace_document(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let id = plan_id(&path)?;
    let sent = parse_document(body.json::<DocumentRequest>().await?.document).await?;
    let (plan, actor) = partner_plan(&state, &caller, id).await?;
    let status = plan.record.status();
    if status.document_frozen() {
        return Err(plan_core::Error::DocumentFrozen { status }.into());
    }
    if actor.conversation != ConversationRole::Initiator || actor.data != DataRole::Primary {
        return Err(ApiError::Conflict(format!(
            "only the primary that invoked plan {id} may replace its document; the secondary \
             completes the plan with POST /v1/proposals/new"
        )));
    }
    let document = primary_only(sent, id)?;
    let stored = blocking(&state, move |store| {
        store.replace_plan_document(id, &document)?;
        store.plan(id)
    })
    .await?
    .ok_or_else(|| no_plan(id))?;
    Ok(plan_response(actix_web::http::StatusCode::OK, &stored))
}

/// `POST /v1/proposals/new`: the secondary proposes the completed plan (Invoked → Proposed).
/// The Primary part must be the stub's; from here the UUID and the document are frozen.
pub async fn propose(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let sent = parse_document(body.json::<DocumentRequest>().await?.document).await?;
    let id = real_uuid(&sent).ok_or_else(|| ApiError::Unprocessable {
        message: "a proposed plan must carry the uuid of the invoked plan".into(),
        schema_errors: Vec::new(),
    })?;
    let (plan, actor) = partner_plan(&state, &caller, id).await?;
    let status = plan.record.status();
    if status.document_frozen() {
        return Err(ApiError::Conflict(format!(
            "plan {id} is {status}: its uuid and document are frozen; a change needs a new plan"
        )));
    }
    let stored = blocking(&state, move |store| {
        node_service::plans::propose(store, plan, actor, sent, None, now())
    })
    .await?;
    Ok(plan_response(actix_web::http::StatusCode::OK, &stored))
}

/// `POST /v1/plans/{uuid}/{approve|reject|hold}` with an optional
/// `{"status_message": "…"}`; a forbidden transition is 409 and changes nothing.
pub async fn review(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let (uuid, verb) = path.into_inner();
    let body = body.bytes().await?;
    let action = match verb.as_str() {
        "approve" => Action::Approve,
        "reject" => Action::Reject,
        "hold" => Action::Hold,
        _ => return Err(ApiError::NotFound(format!("no action '{verb}' on plans"))),
    };
    let request: ReviewRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ReviewRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("bad JSON body: {e}")))?
    };
    // A bad message is refused before the plan is even looked up.
    let message = node_service::plans::status_message(request.status_message)?;
    let id = plan_id(&uuid)?;
    let stored = blocking(&state, move |store| {
        node_service::plans::review(
            store,
            id,
            action,
            |plan| actor(&caller, plan),
            message,
            now(),
        )
    })
    .await?;
    Ok(plan_response(actix_web::http::StatusCode::OK, &stored))
}

/// Which side of a plan this server is on for one of its slices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The primary: the slice is one of this server's registers.
    Primary,
    /// The secondary: the slice is mirrored here (a primary initiator pushes to it).
    Secondary,
}

/// The register slice `uuid` of the plan a sync token is scoped to, and this server's side
/// of it: 403 for a limited token or a plan that is not Approved, 404 for a slice the plan
/// does not subscribe to.
pub async fn scoped_slice(
    state: &web::Data<AppState>,
    caller: &Caller,
    uuid: &str,
) -> Result<(StoredPlan, plan_core::RegisterSlice, Side), ApiError> {
    let no_slice = || ApiError::NotFound(format!("no slice {uuid}"));
    let (Scope::Sync, Some(id)) = (caller.scope, caller.plan) else {
        return Err(ApiError::Forbidden(
            "this token is limited to plans; log in with an Approved plan to reach its slices"
                .into(),
        ));
    };
    let slice_uuid = Uuid::parse_str(uuid).map_err(|_| no_slice())?;
    let (plan, _) = partner_plan(state, caller, id).await?;
    usable_for_sync(&plan)?;
    // The initiator is the caller; this server is the other partner.
    let side = match plan.record.initiator_role() {
        DataRole::Secondary => Side::Primary,
        DataRole::Primary => Side::Secondary,
    };
    let document = plan.record.document().ok_or_else(no_slice)?;
    let subscribed = document.communal.as_ref().is_some_and(|c| {
        c.subscriptions
            .iter()
            .any(|s| s.slice_uuid == Some(slice_uuid))
    });
    if !subscribed {
        return Err(no_slice());
    }
    let slice = document
        .slice(slice_uuid)
        .and_then(plan_core::Slice::register)
        .filter(|s| s.index.is_none())
        .ok_or_else(no_slice)?;
    Ok((plan, slice, side))
}

/// The local register that holds `slice` on this side: the register itself on the primary;
/// on the secondary its mirror.
async fn local_register(
    state: &web::Data<AppState>,
    plan: &StoredPlan,
    slice: &plan_core::RegisterSlice,
    side: Side,
) -> Result<String, ApiError> {
    if side == Side::Primary {
        return Ok(slice.register.clone());
    }
    let (id, slice) = (plan.record.id(), slice.clone());
    blocking(state, move |store| {
        node_service::mirrors::mirror_name(store, id, &slice)
    })
    .await
}

/// `GET /v1/slices/{uuid}`: size and root of a register slice subscribed by the Approved
/// plan the token is scoped to — of the register on the primary, of its mirror on the
/// secondary (0 entries before the first push).
pub async fn slice(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (plan, slice, side) = scoped_slice(&state, &caller, &path).await?;
    let register = local_register(&state, &plan, &slice, side).await?;
    let (size, root) = blocking(&state, move |store| match side {
        // A mirror exists only after its first delta: until then it holds nothing.
        Side::Secondary => {
            register_sync::MirrorStore::state(&node_service::mirrors::Mirrors(store), &register)
        }
        Side::Primary => store
            .register(&register)
            .map(|summary| (summary.total_entries, summary.root)),
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(api_types::SliceState {
            description: slice.description,
            register: slice.register,
            root_hash: root.to_string(),
            slice_type: "register".to_string(),
            slice_uuid: slice.slice_uuid.to_string(),
            total_entries: size,
        }))
}

/// The slice of a plan this server is the primary of (404 on the secondary's side).
async fn primary_slice(
    state: &web::Data<AppState>,
    caller: &Caller,
    uuid: &str,
) -> Result<plan_core::RegisterSlice, ApiError> {
    match scoped_slice(state, caller, uuid).await? {
        (_, slice, Side::Primary) => Ok(slice),
        _ => Err(ApiError::NotFound(format!(
            "no slice {uuid} on this server: it is the plan's secondary"
        ))),
    }
}

/// `?since=M[&until=N]` of the slice dump.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    since: u64,
    #[serde(default)]
    until: Option<u64>,
}

/// `GET /v1/slices/{uuid}/rsf?since=M[&until=N]`: the ranged dump M..N of the slice's
/// register, streamed (its first line asserts root(M), its last root(N)).
pub async fn slice_rsf(
    state: web::Data<AppState>,
    caller: Caller,
    request: actix_web::HttpRequest,
    path: web::Path<String>,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let slice = primary_slice(&state, &caller, &path).await?;
    let range = super::proofs::SizesAt::register(
        slice.register,
        Some(query.since.to_string()),
        query.until.map(|n| n.to_string()),
    );
    super::proofs::download(state, request, web::Path::from(range)).await
}

/// `GET /v1/slices/{uuid}/proof/consistency/{m}/{n}`: as in the register API.
pub async fn slice_consistency(
    state: web::Data<AppState>,
    caller: Caller,
    request: actix_web::HttpRequest,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (uuid, m, n) = path.into_inner();
    let slice = primary_slice(&state, &caller, &uuid).await?;
    let sizes = super::proofs::SizesAt::register(slice.register, Some(m), Some(n));
    super::proofs::consistency_proof(state, request, web::Path::from(sizes)).await
}

/// `GET /v1/slices/{uuid}/checkpoint`: the signed checkpoint of the slice's log as a note
/// (`text/plain`): on the primary its latest, which a pull verifies with the key the plan
/// pins; on the secondary the primary's checkpoint its mirror accepted last (404 before
/// any). Slice-scoped like the rest of sync: the plan's token reaches it, whatever the
/// register is called or whether its public read API is reachable.
pub async fn slice_checkpoint(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (plan, slice, side) = scoped_slice(&state, &caller, &path).await?;
    let register = local_register(&state, &plan, &slice, side).await?;
    let note = blocking(&state, move |store| {
        match store.checkpoint(&store_diesel::queries::Source::register(&register), None) {
            Err(StoreError::RegisterNotFound(_)) => Ok(None),
            other => other,
        }
    })
    .await?
    .ok_or_else(|| {
        ApiError::NotFound(format!("slice {} has no checkpoint here", slice.slice_uuid))
    })?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(note))
}

/// The header of a push that carries the primary's signed checkpoint (base64 of the note).
pub const CHECKPOINT_HEADER: &str = "Tlog-Checkpoint";

/// The pushed checkpoint note: base64 of the note in [`CHECKPOINT_HEADER`], if sent.
fn pushed_note(request: &actix_web::HttpRequest) -> Result<Option<String>, ApiError> {
    use base64::Engine as _;
    let Some(value) = request.headers().get(CHECKPOINT_HEADER) else {
        return Ok(None);
    };
    let bad = || ApiError::BadRequest(format!("{CHECKPOINT_HEADER}: not base64 of a UTF-8 note"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.as_bytes())
        .map_err(|_| bad())?;
    String::from_utf8(bytes).map(Some).map_err(|_| bad())
}

/// `POST /v1/slices/{uuid}/rsf`: a primary initiator pushes a ranged dump to this server's
/// mirror of the slice. It is applied exactly as a pull would: its first line must assert the
/// mirror's root (409 otherwise: the primary's history diverges and nothing changes), then
/// it loads in one transaction (400 with the line on any error). When the plan pins a
/// checkpoint key, the push must carry the primary's signed checkpoint in the
/// `Tlog-Checkpoint` header (base64 of the note): verified with that key and checked
/// against the checkpoint accepted last (422 when it does not verify or the delta does not
/// lead to it, 409 for a split view), it bounds the load and is accepted once the mirror
/// holds it exactly.
pub async fn slice_push(
    state: web::Data<AppState>,
    caller: Caller,
    request: actix_web::HttpRequest,
    path: web::Path<String>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let note = pushed_note(&request)?;
    let (plan, slice, side) = scoped_slice(&state, &caller, &path).await?;
    let body = body.bytes().await?;
    if side != Side::Secondary {
        return Err(ApiError::Conflict(format!(
            "this server is the primary of slice {}: pull from it instead",
            slice.slice_uuid
        )));
    }
    let register = local_register(&state, &plan, &slice, side).await?;
    let origin = register_sync::Origin {
        partner: caller.name.clone(),
        plan: plan.record.id(),
        slice: slice.slice_uuid,
    };
    // This node holds the plan: its document is frozen, so its keys are the pinned ones.
    let keys = plan
        .record
        .document()
        .map(|document| register_sync::verify::plan_keys(document, &slice))
        .unwrap_or_default();
    let (size, root) = blocking(&state, move |store| {
        let pushed = node_service::mirrors::Pushed {
            keys: &keys,
            checkpoint: note.as_deref(),
        };
        node_service::mirrors::receive_push(store, &origin, &register, &body, pushed, now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(api_types::PushResponse {
        root_hash: root.to_string(),
        success: true,
        total_entries: size,
    }))
}
