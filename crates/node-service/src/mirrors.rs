//! The store as register-sync's mirror store, and the receiving side of a push.

use chrono::{DateTime, Utc};
use plan_core::{PlanId, RegisterSlice};
use register_core::{merkle, Digest};
use register_sync::{ApplyError, MirrorStore, Origin};
use store_diesel::error::StoreError;
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
    ) -> Result<(u64, Digest), StoreError> {
        let mirror = MirrorOf {
            partner: origin.partner.clone(),
            plan: origin.plan,
            slice: origin.slice,
        };
        let report = self.0.load_mirror_rsf(name, delta, &mirror)?;
        Ok((report.total_entries, report.root))
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

/// Applies a delta a primary pushed to this node's mirror of a slice (sync.md, push):
/// exactly as a pull applies one ([`register_sync::apply_delta`]), then records the outcome
/// on the slice's subscription (created on the first push, naming the pushing partner), as a
/// pull does. Returns the mirror's size and root.
pub fn receive_push(
    store: &Store,
    origin: &Origin,
    register: &str,
    delta: &[u8],
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
    let outcome = register_sync::apply_delta(&mirrors, register, origin, delta);
    let recorded = match &outcome {
        Ok((size, root)) => mirrors.record_success(origin.plan, origin.slice, *size, *root, at),
        Err(e) => mirrors.record_failure(origin.plan, origin.slice, &e.to_string(), at),
    };
    match recorded {
        Ok(()) => outcome,
        Err(e) => outcome.and(Err(ApplyError::Store(e))),
    }
}
