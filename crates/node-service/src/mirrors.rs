//! The store as register-sync's mirror store, and the receiving side of a push.

use chrono::{DateTime, Utc};
use plan_core::{PlanId, RegisterSlice};
use register_core::{merkle, Digest};
use register_sync::verify::{pinned_key, split_view, stale, verify_note};
use register_sync::{Accepted, ApplyError, Keys, MirrorStore, Origin, SyncError};
use store_diesel::error::StoreError;
use store_diesel::queries::Source;
use store_diesel::store::{MirrorOf, Store};
use uuid::Uuid;

/// A [`Store`] seen by register-sync: registers, mirrors and subscription state.
#[derive(Debug, Clone, Copy)]
pub struct Mirrors<'a>(pub &'a Store);

impl MirrorStore for Mirrors<'_> {
    type Error = StoreError;

    fn state(&self, name: &str) -> Result<(u64, Digest), StoreError> {
        match self.0.register(name) {
            Ok(summary) => Ok((summary.total_entries, summary.root)),
            Err(StoreError::RegisterNotFound(_)) => Ok((0, merkle::empty_root())),
            Err(e) => Err(e),
        }
    }

    fn root_at(&self, name: &str, size: u64) -> Result<Digest, StoreError> {
        self.0.root_at(name, size)
    }

    fn load_mirror(
        &self,
        name: &str,
        delta: &[u8],
        origin: &Origin,
        target: Option<(u64, Digest)>,
    ) -> Result<(u64, Digest), StoreError> {
        let mirror = MirrorOf {
            partner: origin.partner.clone(),
            plan: origin.plan,
            slice: origin.slice,
            target,
        };
        let report = self.0.load_mirror_rsf(name, delta, &mirror)?;
        Ok((report.total_entries, report.root))
    }

    fn consistency_proof(&self, name: &str, m: u64, n: u64) -> Result<Vec<Digest>, StoreError> {
        self.0.log_consistency_proof(&Source::register(name), m, n)
    }

    fn own_checkpoint(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.0.checkpoint(&Source::register(name), None)
    }

    fn pin_keys(&self, plan: PlanId, slice: Uuid, keys: &Keys) -> Result<Keys, StoreError> {
        let pinned = self.0.pin_subscription_keys(
            plan,
            slice,
            keys.checkpoint_key.as_deref(),
            keys.cosigner_key.as_deref(),
        )?;
        // A log this node mirrors under an Approved plan is one it witnesses, on its own
        // (checkpoints.md §5); one its operator added stays the operator's.
        if let Some(key) = &pinned.checkpoint_key {
            let key = tlog_core::VerifierKey::parse(key)
                .map_err(|e| StoreError::Invalid(format!("the pinned checkpoint key: {e}")))?;
            self.0.add_witnessed_log(
                key.name(),
                &key,
                store_diesel::store::WitnessSource::Mirror,
            )?;
        }
        Ok(Keys {
            checkpoint_key: pinned.checkpoint_key,
            cosigner_key: pinned.cosigner_key,
        })
    }

    fn latest_accepted(&self, plan: PlanId, slice: Uuid) -> Result<Option<Accepted>, StoreError> {
        Ok(self
            .0
            .accepted_mirror_checkpoint(plan, slice, None)?
            .map(|a| Accepted {
                note: a.note,
                size: a.size,
                root: a.root,
            }))
    }

    fn accept(&self, plan: PlanId, slice: Uuid, accepted: &Accepted) -> Result<(), StoreError> {
        self.0
            .accept_mirror_checkpoint(plan, slice, accepted.size, accepted.root, &accepted.note)
    }

    fn cosign(&self, name: &str, note: &str) -> Result<Option<String>, StoreError> {
        let Some(keys) = self.0.keys() else {
            return Ok(None);
        };
        let invalid = |e: tlog_core::NoteError| StoreError::Invalid(format!("cosigning: {e}"));
        let key = keys
            .cosigner
            .renamed(&format!("{}/mirror", keys.origin))
            .map_err(invalid)?;
        let text = tlog_core::note::parse(note).map_err(invalid)?.text;
        let checkpoint = tlog_core::Checkpoint::parse_body(&text)
            .map_err(|e| StoreError::Invalid(format!("cosigning: {e}")))?;
        let time = u64::try_from(crate::now().timestamp()).unwrap_or(0);
        let line = key.cosign_line(&text, time).map_err(invalid)?;
        self.0.keep_own_cosignature(
            name,
            &checkpoint.origin,
            checkpoint.size,
            &key.verifier(),
            &line,
            time,
        )?;
        Ok(Some(line))
    }

    fn keep_cosignature(
        &self,
        name: &str,
        size: u64,
        cosigner_key: &str,
        lines: &str,
    ) -> Result<(), StoreError> {
        keep_mirror_cosignature(self.0, name, size, cosigner_key, lines).map(|_| ())
    }

    fn export(
        &self,
        name: &str,
        since: u64,
        until: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), StoreError> {
        self.0.export_rsf(name, since, Some(until), out)
    }

    fn subscribed_register(&self, plan: PlanId, slice: Uuid) -> Result<Option<String>, StoreError> {
        Ok(self.0.subscription(plan, slice)?.map(|s| s.register_name))
    }

    fn subscribe(
        &self,
        plan: PlanId,
        slice: Uuid,
        remote: &str,
        name: &str,
    ) -> Result<(), StoreError> {
        self.0.upsert_subscription(plan, slice, remote, name)
    }

    fn record_success(
        &self,
        plan: PlanId,
        slice: Uuid,
        size: u64,
        root: Digest,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.0.record_sync_success(plan, slice, size, root, at)
    }

    fn record_primary_size(&self, plan: PlanId, slice: Uuid, size: u64) -> Result<(), StoreError> {
        self.0.record_primary_size(plan, slice, size)
    }

    fn record_failure(
        &self,
        plan: PlanId,
        slice: Uuid,
        message: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.0.record_sync_error(plan, slice, message, at)
    }
}

/// The local register that mirrors `slice` of `plan` on the secondary: the one its
/// subscription names, else the primary's register name.
pub fn mirror_name(
    store: &Store,
    plan: PlanId,
    slice: &RegisterSlice,
) -> Result<String, StoreError> {
    Ok(Mirrors(store)
        .subscribed_register(plan, slice.slice_uuid)?
        .unwrap_or_else(|| slice.register.clone()))
}

/// What a pushed delta comes with: the keys the plan (as this node stores it) binds for the
/// slice, and the primary's signed checkpoint the push leads towards, if it sent one.
#[derive(Debug, Clone, Copy)]
pub struct Pushed<'a> {
    /// The plan's keys for the slice.
    pub keys: &'a Keys,
    /// The primary's checkpoint note.
    pub checkpoint: Option<&'a str>,
}

/// The pushed checkpoint, checked as a pull checks the one it fetches: verified with the
/// pinned key (required when one is pinned), not contradicting the one accepted last (the
/// mirror's own consistency proof when it is smaller; a larger one is proven by the deltas
/// as they apply). `None` when the plan binds no key.
fn pushed_checkpoint(
    mirrors: &Mirrors<'_>,
    origin: &Origin,
    register: &str,
    pushed: Pushed<'_>,
) -> Result<Option<Accepted>, ApplyError<StoreError>> {
    let sync_error = |e: SyncError| match e {
        SyncError::Diverged(d) => ApplyError::Diverged(d),
        e => ApplyError::Unverified(e.to_string()),
    };
    let slice = origin.slice;
    let Some(key) = pinned_key(mirrors, origin.plan, slice, pushed.keys).map_err(sync_error)?
    else {
        return Ok(None);
    };
    let note = pushed.checkpoint.ok_or_else(|| {
        ApplyError::Unverified(format!(
            "the plan pins a checkpoint key for slice {slice}: a push must carry the primary's \
             signed checkpoint (the Tlog-Checkpoint header); nothing was applied"
        ))
    })?;
    let new = verify_note(&key, note, slice).map_err(ApplyError::Unverified)?;
    if let Some(accepted) = mirrors
        .latest_accepted(origin.plan, slice)
        .map_err(ApplyError::Store)?
    {
        if new.size <= accepted.size {
            let proof = mirrors
                .consistency_proof(register, new.size, accepted.size)
                .map_err(ApplyError::Store)?;
            split_view(&key, (slice, register), &accepted, &new, proof)
                .map_err(ApplyError::Diverged)?;
        }
        if new.size < accepted.size {
            return Err(ApplyError::Unverified(stale(slice, &accepted, &new)));
        }
    }
    Ok(Some(new))
}

/// Applies a delta a primary pushed to this node's mirror of a slice (sync.md, push):
/// exactly as a pull applies one ([`register_sync::apply_delta`]), towards the primary's
/// signed checkpoint the push carries (verified with the pinned key; accepted once the
/// mirror holds it exactly), then records the outcome on the slice's subscription (created
/// on the first push, naming the pushing partner), as a pull does. Returns the mirror's size
/// and root.
pub fn receive_push(
    store: &Store,
    origin: &Origin,
    register: &str,
    delta: &[u8],
    pushed: Pushed<'_>,
    at: DateTime<Utc>,
) -> Result<(u64, Digest), ApplyError<StoreError>> {
    let mirrors = Mirrors(store);
    if mirrors
        .subscribed_register(origin.plan, origin.slice)
        .map_err(ApplyError::Store)?
        .is_none()
    {
        mirrors
            .subscribe(origin.plan, origin.slice, &origin.partner, register)
            .map_err(ApplyError::Store)?;
    }
    let outcome = pushed_checkpoint(&mirrors, origin, register, pushed).and_then(|checkpoint| {
        let target = checkpoint.as_ref().map(|c| (c.size, c.root));
        let state = register_sync::apply_delta(&mirrors, register, origin, delta, target)?;
        if let Some(c) = checkpoint.filter(|c| (c.size, c.root) == state) {
            mirrors
                .accept(origin.plan, origin.slice, &c)
                .map_err(ApplyError::Store)?;
            // Held exactly: cosigned, so that the mirror's checkpoint (which the pushing
            // primary reads back) carries this node's cosignature.
            mirrors
                .cosign(register, &c.note)
                .map_err(ApplyError::Store)?;
        }
        Ok(state)
    });
    let recorded = match &outcome {
        Ok((size, root)) => mirrors.record_success(origin.plan, origin.slice, *size, *root, at),
        Err(e) => mirrors.record_failure(origin.plan, origin.slice, &e.to_string(), at),
    };
    match recorded {
        Ok(()) => outcome,
        Err(e) => outcome.and(Err(ApplyError::Store(e))),
    }
}

/// Writes the evidence of a split view `error` carries (see [`write_evidence`]) under `dir`;
/// the file written, if any.
pub fn keep_evidence(
    dir: &std::path::Path,
    error: &SyncError,
) -> std::io::Result<Option<std::path::PathBuf>> {
    error
        .split_view()
        .map(|split| write_evidence(dir, split, crate::now()))
        .transpose()
}

/// Which way `sync` moves a plan's register slices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the primary into this node's mirrors.
    Pull,
    /// From this node, the primary, to the secondary's mirrors.
    Push,
}

/// One sync run of the plan `plan` with `remote`, in chunks as `chunking` says (a push
/// sends its own data: only the entries count): register-sync's pull or push over this
/// store; the report of each slice as the CLI prints it.
pub fn transfer<R: register_sync::Remote>(
    store: &Store,
    remote: &mut R,
    direction: Direction,
    plan: PlanId,
    chunking: register_sync::Chunking,
) -> Result<Vec<api_types::SliceReport>, SyncError> {
    let mirrors = Mirrors(store);
    let reports = match direction {
        Direction::Pull => register_sync::pull(&mirrors, remote, plan, chunking, &crate::now)?,
        Direction::Push => {
            register_sync::push(&mirrors, remote, plan, chunking.entries, &crate::now)?
        }
    };
    Ok(reports.iter().map(crate::views::slice_report).collect())
}

/// Writes the evidence of a split view (tlog-core's `split-view/v1` JSON: both signed
/// checkpoints and the proof that failed) as a new file in `dir`, named after the slice and
/// the time; returns its path. `rsf evidence verify FILE --key VKEY` checks it offline.
pub fn write_evidence(
    dir: &std::path::Path,
    split: &register_sync::SplitView,
    at: DateTime<Utc>,
) -> std::io::Result<std::path::PathBuf> {
    use std::io::Write as _;
    std::fs::create_dir_all(dir)?;
    let stem = format!("split-view-{}-{}", split.slice, at.format("%Y%m%dT%H%M%SZ"));
    // Never overwrite evidence: a second file of the same second gets a number.
    let mut n = 0;
    let (path, mut file) = loop {
        let name = match n {
            0 => format!("{stem}.json"),
            n => format!("{stem}-{n}.json"),
        };
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => break (path, file),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
            Err(e) => return Err(e),
        }
    };
    file.write_all(split.evidence.to_json().as_bytes())?;
    file.sync_all()?;
    Ok(path)
}

/// Keeps a mirror's cosignature `line` of this node's checkpoint of `slice` at `size` (the
/// primary's side, checkpoints.md §6): it must verify with the mirror cosigner key the plan
/// pinned, over the checkpoint this node signed at that size, and be no older than the last
/// one kept from that key (a replay is `Conflict`). `Invalid` when the plan binds no cosigner
/// key or the line does not verify; `NotFound` for a size never checkpointed.
pub fn receive_cosignature(
    store: &Store,
    plan: &plan_core::Plan,
    slice: &RegisterSlice,
    size: u64,
    line: &str,
) -> Result<tlog_core::witness::Cosignature, StoreError> {
    let Some(key) = register_sync::verify::plan_keys(plan, slice).cosigner_key else {
        return Err(StoreError::Invalid(
            "the plan binds no mirror cosigner key (cosigner-key in its Secondary)".into(),
        ));
    };
    let line = if line.ends_with('\n') {
        line.to_string()
    } else {
        format!("{line}\n")
    };
    keep_mirror_cosignature(store, &slice.register, size, &key, &line)
}

/// Keeps the line by the mirror cosigner `key` among `lines`, over this node's checkpoint of
/// `register` at `size` ([`Store::add_cosignature`]: verified, no replay).
fn keep_mirror_cosignature(
    store: &Store,
    register: &str,
    size: u64,
    key: &str,
    lines: &str,
) -> Result<tlog_core::witness::Cosignature, StoreError> {
    let key = tlog_core::VerifierKey::parse(key)
        .map_err(|e| StoreError::Invalid(format!("the plan's cosigner key: {e}")))?;
    let Some(keys) = store.keys() else {
        return Err(StoreError::Invalid("this node signs no checkpoints".into()));
    };
    let origin = keys.log_origin(register, None);
    store.add_cosignature(&Source::register(register), &origin, size, &key, lines)
}
