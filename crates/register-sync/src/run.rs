//! Pull and push: moving bounded chunks between a primary and a mirror.

use chrono::{DateTime, Utc};
use plan_core::{Plan, PlanId, RegisterSlice};
use register_core::Digest;
use uuid::Uuid;

use crate::delta::{apply_delta, final_root};
use crate::error::{Divergence, SyncError};
use crate::traits::{Accepted, Fetched, MirrorStore, Origin, Remote};
use crate::verify::{pinned_key, plan_keys, split_view, stale, verify_note};

/// Entries fetched and applied per transaction by default.
pub const DEFAULT_CHUNK_ENTRIES: u64 = 100_000;

/// The longest delta a pull reads by default, in bytes (256 MiB): a chunk of real entries is
/// far smaller (100,000 entries of `country` are about 40 MiB), and a primary that sends
/// more cannot make the mirror buffer more.
pub const DEFAULT_MAX_DELTA_BYTES: u64 = 256 * 1024 * 1024;

/// How a pull splits the primary's log into deltas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunking {
    /// Entries asked for per request and applied per transaction (at least 1).
    pub entries: u64,
    /// The most bytes of one delta read; a longer one is asked again with half the entries.
    pub max_delta_bytes: u64,
}

impl Default for Chunking {
    fn default() -> Chunking {
        Chunking {
            entries: DEFAULT_CHUNK_ENTRIES,
            max_delta_bytes: DEFAULT_MAX_DELTA_BYTES,
        }
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
    /// The primary's signed checkpoint the mirror now holds exactly (pull) or the one sent
    /// with the push; `None` when the plan binds no checkpoint key.
    pub checkpoint: Option<String>,
    /// The mirror's cosignature of that checkpoint, sent to the primary (pull, when this
    /// node has a cosigner key).
    pub cosignature: Option<String>,
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
/// mirror, in deltas as `chunking` says, each its own transaction, recording each slice's
/// outcome (`now` stamps them). The mirror of a slice is the register its subscription
/// names, else the primary's register name.
pub fn pull<S: MirrorStore, R: Remote>(
    store: &S,
    remote: &mut R,
    id: PlanId,
    chunking: Chunking,
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
        let keys = plan_keys(&plan, slice);
        let key = pinned_key(store, id, slice.slice_uuid, &keys)?;
        let mut report = pull_slice(store, remote, &name, &origin, key.as_ref(), chunking, now)?;
        // A verified state: when the plan names this mirror's cosigner key, the mirror
        // cosigns it and tells the primary (checkpoints.md §6).
        if let (Some(note), Some(_)) = (&report.checkpoint, &keys.cosigner_key) {
            if let Some(line) = store.cosign(&name, note).map_err(SyncError::store)? {
                remote
                    .send_cosignature(slice.slice_uuid, report.size, &line)
                    .map_err(SyncError::remote)?;
                report.cosignature = Some(line);
            }
        }
        Ok(report)
    })
}

/// The primary's checkpoint of the slice, verified with `key` and checked against the one
/// the mirror `name` accepted last (a contradiction is a split view; an older one is
/// refused).
fn primary_checkpoint<S: MirrorStore, R: Remote>(
    store: &S,
    remote: &R,
    name: &str,
    origin: &Origin,
    key: &tlog_core::VerifierKey,
) -> Result<Accepted, SyncError> {
    let slice = origin.slice;
    let note = remote.checkpoint(slice).map_err(SyncError::remote)?;
    let new = verify_note(key, &note, slice).map_err(SyncError::Unverified)?;
    let Some(accepted) = store
        .latest_accepted(origin.plan, slice)
        .map_err(SyncError::store)?
    else {
        return Ok(new);
    };
    let proof = match accepted.size.cmp(&new.size) {
        std::cmp::Ordering::Equal => Vec::new(),
        std::cmp::Ordering::Less => remote
            .consistency_proof(slice, accepted.size, new.size)
            .map_err(SyncError::remote)?,
        // The mirror holds everything up to the accepted size: the proof is its own.
        std::cmp::Ordering::Greater => store
            .consistency_proof(name, new.size, accepted.size)
            .map_err(SyncError::store)?,
    };
    split_view(key, (slice, name), &accepted, &new, proof).map_err(SyncError::Diverged)?;
    if new.size < accepted.size {
        return Err(SyncError::Unverified(stale(slice, &accepted, &new)));
    }
    Ok(new)
}

fn pull_slice<S: MirrorStore, R: Remote>(
    store: &S,
    remote: &R,
    name: &str,
    origin: &Origin,
    key: Option<&tlog_core::VerifierKey>,
    chunking: Chunking,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<SliceReport, SyncError> {
    let slice = origin.slice;
    let checkpoint = match key {
        Some(key) => Some(primary_checkpoint(store, remote, name, origin, key)?),
        None => None,
    };
    let (target, target_root) = match &checkpoint {
        Some(c) => (c.size, c.root),
        None => remote.slice_state(slice).map_err(SyncError::remote)?,
    };
    let bound = checkpoint.as_ref().map(|c| (c.size, c.root));
    store
        .record_primary_size(origin.plan, slice, target)
        .map_err(SyncError::store)?;
    let (start, mut root) = store.state(name).map_err(SyncError::store)?;
    let mut size = start;
    let mut entries = chunking.entries.max(1);
    while size < target {
        let until = target.min(size.saturating_add(entries));
        let fetched = remote
            .fetch_delta(slice, size, until, chunking.max_delta_bytes)
            .map_err(SyncError::remote)?;
        let delta = match fetched {
            Fetched::Delta(delta) => delta,
            // Fewer entries make a shorter delta: the same start again with half as many
            // (and the chunks after it too, as their entries are likely as large).
            Fetched::OverBound if until - size > 1 => {
                entries = (until - size) / 2;
                continue;
            }
            Fetched::OverBound => {
                return Err(SyncError::DeltaTooLarge {
                    slice,
                    entry: size + 1,
                    max_bytes: chunking.max_delta_bytes,
                })
            }
        };
        if let (Some(c), true) = (&checkpoint, until < target) {
            // A chunk short of the checkpoint must be a prefix of it before it is applied.
            let proof = remote
                .consistency_proof(slice, until, target)
                .map_err(SyncError::remote)?;
            let on_the_way = final_root(&delta).is_some_and(|r| {
                register_core::merkle::verify_consistency(until, target, &r, &c.root, &proof)
            });
            if !on_the_way {
                return Err(SyncError::Unverified(format!(
                    "the primary's entries up to {until} of slice {slice} are not a prefix of \
                     its signed checkpoint ({target} entries); nothing of them was applied"
                )));
            }
        }
        (size, root) = apply_delta(store, name, origin, &delta, bound)?;
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
    if let Some(c) = &checkpoint {
        // The mirror holds exactly the primary's signed checkpoint: accepted.
        store
            .accept(origin.plan, slice, c)
            .map_err(SyncError::store)?;
    }
    Ok(SliceReport {
        slice,
        register: name.to_string(),
        size,
        root,
        added: size - start,
        checkpoint: checkpoint.map(|c| c.note),
        cosignature: None,
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
        let keys = plan_keys(&plan, slice);
        let key = pinned_key(store, id, slice.slice_uuid, &keys)?;
        let mut report = push_slice(store, remote, id, slice, key.as_ref(), chunk)?;
        // The mirror cosigned what it accepted; its checkpoint carries the line, which this
        // primary keeps when it verifies with the plan's cosigner key (checkpoints.md §6).
        if let (Some(_), Some(cosigner)) = (&report.checkpoint, &keys.cosigner_key) {
            let held = remote
                .checkpoint(slice.slice_uuid)
                .map_err(SyncError::remote)?;
            let lines: String = tlog_core::note::parse(&held)
                .map_err(|e| SyncError::Refused(format!("the mirror's checkpoint: {e}").into()))?
                .signatures
                .into_iter()
                .map(|s| s.line)
                .collect();
            store
                .keep_cosignature(&slice.register, report.size, cosigner, &lines)
                .map_err(SyncError::store)?;
            let key = tlog_core::VerifierKey::parse(cosigner).ok();
            report.cosignature = lines
                .lines()
                .find(|line| {
                    key.as_ref()
                        .is_some_and(|k| line.starts_with(&format!("— {} ", k.name())))
                })
                .map(|line| format!("{line}\n"));
        }
        Ok(report)
    })
}

/// This node's latest signed checkpoint of `name`, verified with the pinned `key` (the
/// secondary will check it with the same key: a key that changed since the plan was
/// approved is better refused here, with a clear message).
fn own_checkpoint<S: MirrorStore>(
    store: &S,
    name: &str,
    slice: Uuid,
    key: &tlog_core::VerifierKey,
) -> Result<Accepted, SyncError> {
    let note = store
        .own_checkpoint(name)
        .map_err(SyncError::store)?
        .ok_or_else(|| {
            SyncError::Unverified(format!(
                "register '{name}' has no signed checkpoint to push with slice {slice}"
            ))
        })?;
    verify_note(key, &note, slice).map_err(SyncError::Unverified)
}

fn push_slice<S: MirrorStore, R: Remote>(
    store: &S,
    remote: &R,
    plan: PlanId,
    slice: &RegisterSlice,
    key: Option<&tlog_core::VerifierKey>,
    chunk: u64,
) -> Result<SliceReport, SyncError> {
    let uuid = slice.slice_uuid;
    let name = &slice.register;
    let checkpoint = match key {
        Some(key) => Some(own_checkpoint(store, name, uuid, key)?),
        None => None,
    };
    // With a checkpoint, the push goes exactly to it (a load signs as it commits, so it is
    // the register's size unless a load is committing meanwhile).
    let local_size = match &checkpoint {
        Some(c) => c.size,
        None => store.state(name).map_err(SyncError::store)?.0,
    };
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
    // A mirror already at the checkpoint still gets it once (an empty range), to accept it.
    let mut unsent = checkpoint.is_some();
    while size < local_size || std::mem::take(&mut unsent) {
        unsent = false;
        let until = local_size.min(size.saturating_add(chunk.max(1)));
        let mut delta = Vec::new();
        store
            .export(name, size, until, &mut delta)
            .map_err(SyncError::store)?;
        let note = checkpoint.as_ref().map(|c| c.note.as_str());
        (size, root) = remote
            .push_delta(uuid, delta, note)
            .map_err(SyncError::remote)?;
    }
    Ok(SliceReport {
        slice: uuid,
        register: name.clone(),
        size,
        root,
        added: size - start,
        checkpoint: checkpoint.map(|c| c.note),
        cosignature: None,
    })
}
