//! Sync (sync.md): the secondary keeps a verified mirror of every register slice of an
//! Approved plan.
//!
//! # Design
//!
//! - **One way to apply a delta**, [`apply_delta`], for pulls and pushes alike: the delta's
//!   first line must assert the mirror's current root — otherwise the primary's history
//!   diverges from what was received before, and nothing is applied ([`ApplyError::Diverged`])
//!   — then the store loads it in one transaction (relaxed mode), whose last assert proves
//!   the mirror now holds exactly what the primary held at the delta's end.
//! - **Bounded chunks.** A pull asks for at most `chunk` entries per request
//!   (`?since=m&until=m+chunk`), reads the chunk whole (so a truncated one, lacking its final
//!   assert, is refused) and applies it as its own transaction, so memory stays bounded
//!   and an interruption leaves the mirror at a verified chunk boundary; the next run resumes
//!   from the mirror's own size. Full copy and incremental sync are the same loop.
//! - **The outcome is recorded per subscription** (last size and root, last success, last
//!   error) whether the run succeeds or not; [`SyncError::exit_code`] gives the CLI contract
//!   (0 in sync, 1 error, 2 divergence).

use std::io::Read;
use std::time::Duration;

use base64::Engine as _;
use chrono::Utc;
use plan_core::{Plan, PlanId, RegisterSlice};
use register_core::{merkle, Digest};
use serde_json::Value;
use store_diesel::error::StoreError;
use store_diesel::store::{LoadReport, MirrorOf, Store};
use uuid::Uuid;

/// Entries fetched and applied per transaction by default.
pub const DEFAULT_CHUNK_ENTRIES: u64 = 100_000;

/// Why a delta was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The delta does not start from the mirror's state: the primary's history diverges.
    #[error("{0}")]
    Diverged(String),
    /// The store refused the delta (an RSF error names its line) or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The size and root of the register `name`, or of an empty one when it does not exist yet.
pub fn mirror_state(store: &Store, name: &str) -> Result<(u64, Digest), StoreError> {
    match store.register(name) {
        Ok(summary) => Ok((summary.total_entries, summary.root)),
        Err(StoreError::RegisterNotFound(_)) => Ok((0, merkle::empty_root())),
        Err(e) => Err(e),
    }
}

/// Applies one delta (a ranged RSF dump, whole in memory: a bounded chunk) to the mirror
/// `name` of `mirror`, atomically. It must start by asserting the mirror's current root and
/// end by asserting the root it leads to, so a truncated delta is never applied.
pub fn apply_delta(
    store: &Store,
    name: &str,
    mirror: &MirrorOf,
    delta: &[u8],
) -> Result<LoadReport, ApplyError> {
    let (size, root) = mirror_state(store, name)?;
    let first = delta.split(|b| *b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    let expected = format!("assert-root-hash\t{root}");
    if first.trim_end_matches('\r') != expected {
        let shown: String = first.trim_end().chars().take(100).collect();
        return Err(ApplyError::Diverged(format!(
            "divergence: mirror '{name}' holds {size} entries with root {root}, but the delta \
             starts with '{shown}' instead of asserting that root; the primary's history \
             differs from what was received earlier, so nothing was applied"
        )));
    }
    let body = delta.strip_suffix(b"\n").unwrap_or(delta);
    let last = body.rsplit(|b| *b == b'\n').next().unwrap_or_default();
    if !last.starts_with(b"assert-root-hash\t") {
        return Err(ApplyError::Store(StoreError::Invalid(
            "the delta does not end with assert-root-hash: it is incomplete, nothing was applied"
                .into(),
        )));
    }
    Ok(store.load_mirror_rsf(name, delta, mirror)?)
}

/// Why a sync run failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The primary's history diverges from the mirror's: nothing was changed.
    #[error("{0}")]
    Diverged(String),
    /// Anything else: the remote refused (its status and message), the network, the store.
    #[error("{0}")]
    Failed(String),
}

impl SyncError {
    /// The CLI's exit code: 2 for a divergence, 1 for anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            SyncError::Diverged(_) => 2,
            SyncError::Failed(_) => 1,
        }
    }
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> SyncError {
        SyncError::Failed(e.to_string())
    }
}

impl From<ApplyError> for SyncError {
    fn from(e: ApplyError) -> SyncError {
        match e {
            ApplyError::Diverged(message) => SyncError::Diverged(message),
            ApplyError::Store(e) => SyncError::Failed(format!("the delta was refused: {e}")),
        }
    }
}

/// What a remote's refusal says: the envelope's `message_text`, then each of its
/// `schema_errors` on a line of its own (`  LINE:COL: PATH: message`); the body itself when it
/// is not the envelope.
fn refusal_message(text: &str) -> String {
    let body = serde_json::from_str::<Value>(text).unwrap_or_default();
    let Some(message) = body["message_text"].as_str() else {
        return text.to_string();
    };
    let mut message = message.to_string();
    for problem in body["schema_errors"].as_array().into_iter().flatten() {
        message.push_str(&format!(
            "\n  {}:{}: {}: {}",
            problem["line"],
            problem["column"],
            problem["path"].as_str().unwrap_or("/"),
            problem["message"].as_str().unwrap_or_default()
        ));
    }
    message
}

/// A partner's server, with the credentials to log in to it.
pub struct Remote {
    base: String,
    username: String,
    password: String,
    agent: ureq::Agent,
    token: Option<String>,
}

impl std::fmt::Debug for Remote {
    // Never print the password or the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("base", &self.base)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Remote {
    /// The server at `base` (e.g. `http://127.0.0.1:8080`), as `username`.
    pub fn new(base: &str, username: &str, password: &str) -> Remote {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .build()
            .into();
        Remote {
            base: base.trim_end_matches('/').to_string(),
            username: username.to_string(),
            password: password.to_string(),
            agent,
            token: None,
        }
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Logs in: a limited token, or with a plan document, a token scoped to that plan.
    pub fn login(&mut self, plan_document: Option<&str>) -> Result<(), SyncError> {
        let body = serde_json::json!({
            "username": self.username,
            "password": self.password,
            "plan": plan_document.map(|d| base64::engine::general_purpose::STANDARD.encode(d)),
        });
        let reply = self.post_json("/v1/login", &body)?;
        let token = reply["token"].as_str().ok_or_else(|| {
            SyncError::Failed(format!("{}: login answered without a token", self.base))
        })?;
        self.token = Some(token.to_string());
        Ok(())
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn authorization(&self) -> Option<String> {
        self.token.as_ref().map(|t| format!("Bearer {t}"))
    }

    /// The response if it is a success; the remote's status and message otherwise.
    fn check(
        &self,
        path: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<ureq::http::Response<ureq::Body>, SyncError> {
        let mut response =
            result.map_err(|e| SyncError::Failed(format!("{}: {e}", self.url(path))))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        Err(SyncError::Failed(format!(
            "{} answered {}: {}",
            self.url(path),
            status.as_u16(),
            refusal_message(&text)
        )))
    }

    fn json(
        &self,
        path: &str,
        response: ureq::http::Response<ureq::Body>,
    ) -> Result<Value, SyncError> {
        let mut response = response;
        let text = response
            .body_mut()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| SyncError::Failed(format!("{}: {e}", self.url(path))))?;
        serde_json::from_str(&text)
            .map_err(|e| SyncError::Failed(format!("{}: not JSON: {e}", self.url(path))))
    }

    /// `GET path` as JSON.
    pub fn get_json(&self, path: &str) -> Result<Value, SyncError> {
        let mut request = self.agent.get(&self.url(path));
        if let Some(auth) = self.authorization() {
            request = request.header("Authorization", &auth);
        }
        let response = self.check(path, request.call())?;
        self.json(path, response)
    }

    /// `POST path` with a JSON body, answered in JSON.
    pub fn post_json(&self, path: &str, body: &Value) -> Result<Value, SyncError> {
        let mut request = self
            .agent
            .post(&self.url(path))
            .header("Content-Type", "application/json");
        if let Some(auth) = self.authorization() {
            request = request.header("Authorization", &auth);
        }
        let response = self.check(path, request.send(body.to_string()))?;
        self.json(path, response)
    }

    /// `GET path` as a stream (an RSF dump).
    pub fn get_stream(&self, path: &str) -> Result<impl Read + Send + 'static, SyncError> {
        let mut request = self.agent.get(&self.url(path));
        if let Some(auth) = self.authorization() {
            request = request.header("Authorization", &auth);
        }
        let response = self.check(path, request.call())?;
        Ok(response
            .into_body()
            .into_with_config()
            .limit(u64::MAX)
            .reader())
    }

    /// `POST path` with an RSF body, answered in JSON.
    pub fn post_rsf(&self, path: &str, body: Vec<u8>) -> Result<Value, SyncError> {
        let mut request = self
            .agent
            .post(&self.url(path))
            .header("Content-Type", register_core::rsf::MEDIA_TYPE);
        if let Some(auth) = self.authorization() {
            request = request.header("Authorization", &auth);
        }
        let response = self.check(path, request.send(body))?;
        self.json(path, response)
    }

    /// `GET /v1/slices/{uuid}`: the size and root the remote holds for the slice (its
    /// register on the primary, its mirror on the secondary).
    pub fn slice_state(&self, uuid: Uuid) -> Result<(u64, Digest), SyncError> {
        let summary = self.get_json(&format!("/v1/slices/{uuid}"))?;
        let size = summary["total-entries"].as_u64();
        let root = summary["root-hash"]
            .as_str()
            .and_then(Digest::parse_prefixed);
        size.zip(root).ok_or_else(|| {
            SyncError::Failed(format!(
                "slice {uuid}: {} answered without total-entries and root-hash: {summary}",
                self.base
            ))
        })
    }

    /// Logs in with the plan `id`'s own document, read with a limited token: the token then
    /// reaches the plan's slices. Returns the plan.
    pub fn login_for_plan(&mut self, id: PlanId) -> Result<Plan, SyncError> {
        self.login(None)?;
        let reply = self.get_json(&format!("/v1/plans/{id}"))?;
        let encoded = reply["document"].as_str().ok_or_else(|| {
            SyncError::Failed(format!("plan {id} has no document on {}", self.base))
        })?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| {
                SyncError::Failed(format!("plan {id}: the document is not base64: {e}"))
            })?;
        let text = String::from_utf8(bytes)
            .map_err(|_| SyncError::Failed(format!("plan {id}: the document is not UTF-8")))?;
        let plan =
            Plan::from_xml(&text).map_err(|e| SyncError::Failed(format!("plan {id}: {e}")))?;
        self.login(Some(&text))?;
        Ok(plan)
    }
}

/// What one slice's sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceReport {
    /// The slice.
    pub slice: Uuid,
    /// The local register that holds it.
    pub register: String,
    /// Its size after the run.
    pub size: u64,
    /// Its root after the run.
    pub root: Digest,
    /// Entries applied by this run.
    pub added: u64,
}

impl SliceReport {
    /// The report as one JSON object (the CLI prints one per slice).
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "slice_uuid": self.slice.to_string(),
            "register": self.register,
            "total-entries": self.size,
            "root-hash": self.root.to_string(),
            "entries-added": self.added,
        })
    }
}

/// The subscribed register slices of a plan (index slices are not synchronised).
pub fn subscribed_slices(plan: &Plan) -> Vec<RegisterSlice> {
    let Some(communal) = &plan.communal else {
        return Vec::new();
    };
    communal
        .subscriptions
        .iter()
        .filter_map(|s| s.slice_uuid)
        .filter_map(|uuid| plan.slice(uuid).and_then(plan_core::Slice::register))
        .filter(|slice| slice.index.is_none())
        .collect()
}

/// The local name of the mirror of `slice`: its subscription's, else the primary's name.
fn mirror_name(store: &Store, plan: PlanId, slice: &RegisterSlice) -> Result<String, StoreError> {
    Ok(store
        .subscription(plan, slice.slice_uuid)?
        .map_or_else(|| slice.register.clone(), |s| s.register_name))
}

/// Pulls every subscribed register slice of the Approved plan `id` from `remote` into its
/// mirror, `chunk` entries per transaction, recording each slice's outcome. All slices are
/// tried; the error returned is a divergence if any slice diverged.
pub fn pull(
    store: &Store,
    remote: &mut Remote,
    id: PlanId,
    chunk: u64,
) -> Result<Vec<SliceReport>, SyncError> {
    let plan = remote.login_for_plan(id)?;
    let mut reports = Vec::new();
    let mut failure: Option<SyncError> = None;
    for slice in subscribed_slices(&plan) {
        let name = mirror_name(store, id, &slice)?;
        store.upsert_subscription(id, slice.slice_uuid, remote.base(), &name)?;
        let mirror = MirrorOf {
            partner: remote.base().to_string(),
            plan: id,
            slice: slice.slice_uuid,
        };
        match pull_slice(store, remote, &slice, &name, &mirror, chunk) {
            Ok(report) => reports.push(report),
            Err(e) => {
                store.record_sync_error(id, slice.slice_uuid, &e.to_string(), Utc::now())?;
                failure = Some(match (failure, e) {
                    (Some(d @ SyncError::Diverged(_)), _) => d,
                    (_, e) => e,
                });
            }
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(reports),
    }
}

fn pull_slice(
    store: &Store,
    remote: &Remote,
    slice: &RegisterSlice,
    name: &str,
    mirror: &MirrorOf,
    chunk: u64,
) -> Result<SliceReport, SyncError> {
    let uuid = slice.slice_uuid;
    let (target, target_root) = remote.slice_state(uuid)?;
    let (start, _) = mirror_state(store, name)?;
    let mut size = start;
    loop {
        let (_, root) = mirror_state(store, name)?;
        if size == target {
            if root != target_root {
                return Err(SyncError::Diverged(format!(
                    "divergence: mirror '{name}' and slice {uuid} both hold {size} entries but \
                     their roots differ ({root} here, {target_root} on the primary)"
                )));
            }
            store.record_sync_success(mirror.plan, uuid, size, root, Utc::now())?;
            return Ok(SliceReport {
                slice: uuid,
                register: name.to_string(),
                size,
                root,
                added: size - start,
            });
        }
        if size > target {
            return Err(SyncError::Diverged(format!(
                "divergence: mirror '{name}' holds {size} entries but slice {uuid} only \
                 {target}; the primary's history was reset"
            )));
        }
        let until = target.min(size.saturating_add(chunk.max(1)));
        let mut delta = Vec::new();
        remote
            .get_stream(&format!("/v1/slices/{uuid}/rsf?since={size}&until={until}"))?
            .read_to_end(&mut delta)
            .map_err(|e| SyncError::Failed(format!("slice {uuid}: reading the delta: {e}")))?;
        let report = apply_delta(store, name, mirror, &delta)?;
        size = report.total_entries;
        // Each chunk is a verified state worth recording: a later interruption resumes here.
        store.record_sync_success(mirror.plan, uuid, size, report.root, Utc::now())?;
    }
}

/// Pushes every subscribed register slice of the Approved plan `id` — of which this node is
/// the primary — to its mirror on `remote` (the secondary), `chunk` entries per request. The
/// remote's mirror must be a prefix of the local register (its root equals the local root at
/// its size), else it is a divergence and nothing is sent.
pub fn push(
    store: &Store,
    remote: &mut Remote,
    id: PlanId,
    chunk: u64,
) -> Result<Vec<SliceReport>, SyncError> {
    let plan = remote.login_for_plan(id)?;
    let mut reports = Vec::new();
    for slice in subscribed_slices(&plan) {
        reports.push(push_slice(store, remote, &slice, chunk)?);
    }
    Ok(reports)
}

fn push_slice(
    store: &Store,
    remote: &Remote,
    slice: &RegisterSlice,
    chunk: u64,
) -> Result<SliceReport, SyncError> {
    let uuid = slice.slice_uuid;
    let name = &slice.register;
    let local = store.register(name)?;
    let (start, mirror_root) = remote.slice_state(uuid)?;
    if start > local.total_entries || store.root_at(name, start)? != mirror_root {
        return Err(SyncError::Diverged(format!(
            "divergence: the mirror of slice {uuid} on {} ({start} entries, root {mirror_root}) \
             is not a prefix of register '{name}' here; nothing was sent",
            remote.base()
        )));
    }
    let mut size = start;
    let mut root = mirror_root;
    while size < local.total_entries {
        let until = local.total_entries.min(size.saturating_add(chunk.max(1)));
        let mut delta = Vec::new();
        store.export_rsf(name, size, Some(until), &mut delta)?;
        let reply = remote.post_rsf(&format!("/v1/slices/{uuid}/rsf"), delta)?;
        size = reply["total-entries"].as_u64().unwrap_or(until);
        root = reply["root-hash"]
            .as_str()
            .and_then(Digest::parse_prefixed)
            .unwrap_or(root);
    }
    Ok(SliceReport {
        slice: uuid,
        register: name.clone(),
        size,
        root,
        added: size - start,
    })
}

#[cfg(test)]
mod tests {
    use super::refusal_message;

    #[test]
    fn a_refusal_shows_the_message_and_every_schema_error() {
        let body = serde_json::json!({
            "message_code": 1422,
            "message_text": "the plan document is not valid (2 problem(s))",
            "schema_errors": [
                {"line": 3, "column": 5, "path": "/Plan/Primary/@uuid", "message": "too short"},
                {"line": 9, "column": 1, "path": "/Plan", "message": "missing Primary"},
            ],
        });
        assert_eq!(
            refusal_message(&body.to_string()),
            "the plan document is not valid (2 problem(s))\n  3:5: /Plan/Primary/@uuid: too \
             short\n  9:1: /Plan: missing Primary"
        );
        let plain = serde_json::json!({"message_code": 1401, "message_text": "no"});
        assert_eq!(refusal_message(&plain.to_string()), "no");
        assert_eq!(refusal_message("Bad Gateway"), "Bad Gateway");
    }
}
