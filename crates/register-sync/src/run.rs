//! Pull and push: moving bounded chunks between a primary and a mirror.

use chrono::{DateTime, Utc};
use plan_core::{Plan, PlanId, RegisterSlice};
use register_core::Digest;
use uuid::Uuid;

use crate::delta::apply_delta;
use crate::error::{Divergence, SyncError};
use crate::traits::{MirrorStore, Origin, Remote};

/// Entries fetched and applied per transaction by default.
pub const DEFAULT_CHUNK_ENTRIES: u64 = 100_000;

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

/// Runs `each` on every subscribed slice, recording each outcome on its subscription: all
/// slices are tried; the error returned is a divergence if any slice diverged.
fn for_each_slice<S: MirrorStore>(
    store: &S,
    plan_id: PlanId,
    plan: &Plan,
    now: &dyn Fn() -> DateTime<Utc>,
    mut each: impl FnMut(&RegisterSlice) -> Result<SliceReport, SyncError>,
) -> Result<Vec<SliceReport>, SyncError> {
    let mut reports = Vec::new();
    let mut failure: Option<SyncError> = None;
    for slice in subscribed_slices(plan) {
        match each(&slice) {
            Ok(report) => {
                store
                    .record_success(plan_id, slice.slice_uuid, report.size, report.root, now())
                    .map_err(SyncError::store)?;
                reports.push(report);
            }
            Err(e) => {
                store
                    .record_failure(plan_id, slice.slice_uuid, &e.to_string(), now())
                    .map_err(SyncError::store)?;
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

/// Pulls every subscribed register slice of the Approved plan `id` from `remote` into its
/// mirror, `chunk` entries per transaction, recording each slice's outcome (`now` stamps
/// them). The mirror of a slice is the register its subscription names, else the primary's
/// register name.
pub fn pull<S: MirrorStore, R: Remote>(
    store: &S,
    remote: &mut R,
    id: PlanId,
    chunk: u64,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<Vec<SliceReport>, SyncError> {
    let plan = remote.login_for_plan(id).map_err(SyncError::remote)?;
    let remote = &*remote;
    for_each_slice(store, id, &plan, now, |slice| {
        let name = store
            .subscribed_register(id, slice.slice_uuid)
            .map_err(SyncError::store)?
            .unwrap_or_else(|| slice.register.clone());
        store
            .subscribe(id, slice.slice_uuid, remote.name(), &name)
            .map_err(SyncError::store)?;
        let origin = Origin {
            partner: remote.name().to_string(),
            plan: id,
            slice: slice.slice_uuid,
        };
        pull_slice(store, remote, &name, &origin, chunk, now)
    })
}

fn pull_slice<S: MirrorStore, R: Remote>(
    store: &S,
    remote: &R,
    name: &str,
    origin: &Origin,
    chunk: u64,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<SliceReport, SyncError> {
    let slice = origin.slice;
    let (target, target_root) = remote.slice_state(slice).map_err(SyncError::remote)?;
    store
        .record_primary_size(origin.plan, slice, target)
        .map_err(SyncError::store)?;
    let (start, mut root) = store.state(name).map_err(SyncError::store)?;
    let mut size = start;
    while size < target {
        let until = target.min(size.saturating_add(chunk.max(1)));
        let delta = remote
            .fetch_delta(slice, size, until)
            .map_err(SyncError::remote)?;
        (size, root) = apply_delta(store, name, origin, &delta)?;
        // Each chunk is a verified state worth recording: a later interruption resumes here.
        store
            .record_success(origin.plan, slice, size, root, now())
            .map_err(SyncError::store)?;
    }
    if size > target {
        return Err(SyncError::Diverged(Divergence::Reset {
            mirror: name.to_string(),
            slice,
            size,
            primary_size: target,
        }));
    }
    if root != target_root {
        return Err(SyncError::Diverged(Divergence::RootsDiffer {
            mirror: name.to_string(),
            slice,
            size,
            here: root,
            primary: target_root,
        }));
    }
    Ok(SliceReport {
        slice,
        register: name.to_string(),
        size,
        root,
        added: size - start,
    })
}

/// Pushes every subscribed register slice of the Approved plan `id` — of which this node is
/// the primary — to its mirror on `remote` (the secondary), `chunk` entries per request,
/// recording each slice's outcome like [`pull`]. The remote's mirror must be a prefix of the
/// local register (its root equals the local root at its size), else it is a divergence and
/// nothing is sent.
pub fn push<S: MirrorStore, R: Remote>(
    store: &S,
    remote: &mut R,
    id: PlanId,
    chunk: u64,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<Vec<SliceReport>, SyncError> {
    let plan = remote.login_for_plan(id).map_err(SyncError::remote)?;
    let remote = &*remote;
    for_each_slice(store, id, &plan, now, |slice| {
        store
            .subscribe(id, slice.slice_uuid, remote.name(), &slice.register)
            .map_err(SyncError::store)?;
        push_slice(store, remote, id, slice, chunk)
    })
}

fn push_slice<S: MirrorStore, R: Remote>(
    store: &S,
    remote: &R,
    plan: PlanId,
    slice: &RegisterSlice,
    chunk: u64,
) -> Result<SliceReport, SyncError> {
    let uuid = slice.slice_uuid;
    let name = &slice.register;
    let (local_size, _) = store.state(name).map_err(SyncError::store)?;
    store
        .record_primary_size(plan, uuid, local_size)
        .map_err(SyncError::store)?;
    let (start, mirror_root) = remote.slice_state(uuid).map_err(SyncError::remote)?;
    let is_prefix =
        start <= local_size && store.root_at(name, start).map_err(SyncError::store)? == mirror_root;
    if !is_prefix {
        return Err(SyncError::Diverged(Divergence::NotAPrefix {
            slice: uuid,
            remote: remote.name().to_string(),
            size: start,
            root: mirror_root,
            register: name.clone(),
        }));
    }
    let mut size = start;
    let mut root = mirror_root;
    while size < local_size {
        let until = local_size.min(size.saturating_add(chunk.max(1)));
        let mut delta = Vec::new();
        store
            .export(name, size, until, &mut delta)
            .map_err(SyncError::store)?;
        (size, root) = remote.push_delta(uuid, delta).map_err(SyncError::remote)?;
    }
    Ok(SliceReport {
        slice: uuid,
        register: name.clone(),
        size,
        root,
        added: size - start,
    })
}
