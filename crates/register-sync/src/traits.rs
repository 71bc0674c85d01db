//! What sync needs of the local store and of the partner's server.

use chrono::{DateTime, Utc};
use plan_core::{Plan, PlanId};
use register_core::Digest;
use uuid::Uuid;

/// Where a mirror's entries come from: recorded with every load into it, so a mirror never
/// takes local loads and always names its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The partner: its server's URL (pull) or its account (push).
    pub partner: String,
    /// The Approved plan.
    pub plan: PlanId,
    /// The slice mirrored.
    pub slice: Uuid,
}

/// The local side: registers, mirrors and the state of each subscription.
pub trait MirrorStore {
    /// The store's own error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Size and root of the register `name`; `(0, empty root)` when it does not exist yet.
    fn state(&self, name: &str) -> Result<(u64, Digest), Self::Error>;

    /// Root of the register `name` at `size` entries.
    fn root_at(&self, name: &str, size: u64) -> Result<Digest, Self::Error>;

    /// Loads `delta` (RSF, relaxed) into the mirror `name` in one transaction, creating it
    /// if new; returns its size and root after the load. Loads into a register that is not
    /// a mirror of `origin`'s kind are the store's to refuse.
    fn load_mirror(
        &self,
        name: &str,
        delta: &[u8],
        origin: &Origin,
    ) -> Result<(u64, Digest), Self::Error>;

    /// Writes the ranged dump `since..until` of the register `name` to `out` (its first line
    /// asserts root(since), its last root(until)).
    fn export(
        &self,
        name: &str,
        since: u64,
        until: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), Self::Error>;

    /// The local register recorded for a slice of a plan, if any.
    fn subscribed_register(&self, plan: PlanId, slice: Uuid)
        -> Result<Option<String>, Self::Error>;

    /// Records (or updates) the subscription of `slice` of `plan`: `remote` and the local
    /// register `name`.
    fn subscribe(
        &self,
        plan: PlanId,
        slice: Uuid,
        remote: &str,
        name: &str,
    ) -> Result<(), Self::Error>;

    /// Records a verified state of the slice: `size` entries with `root`, at `at`.
    fn record_success(
        &self,
        plan: PlanId,
        slice: Uuid,
        size: u64,
        root: Digest,
        at: DateTime<Utc>,
    ) -> Result<(), Self::Error>;

    /// Records the primary's size as a run of the slice sees it, before it applies anything
    /// (so a run that fails still tells how far the mirror is behind).
    fn record_primary_size(&self, plan: PlanId, slice: Uuid, size: u64) -> Result<(), Self::Error>;

    /// Records a failed run of the slice.
    fn record_failure(
        &self,
        plan: PlanId,
        slice: Uuid,
        message: &str,
        at: DateTime<Utc>,
    ) -> Result<(), Self::Error>;
}

/// The partner's server, seen by the side that runs the sync.
pub trait Remote {
    /// The transport's own error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// How the remote is named in subscriptions and messages (its base URL).
    fn name(&self) -> &str;

    /// Logs in for the Approved plan `id` and returns its document; later calls reach the
    /// plan's slices.
    fn login_for_plan(&mut self, id: PlanId) -> Result<Plan, Self::Error>;

    /// Size and root the remote holds for `slice` (its register on the primary, its mirror
    /// on the secondary).
    fn slice_state(&self, slice: Uuid) -> Result<(u64, Digest), Self::Error>;

    /// The ranged dump `since..until` of `slice`, whole (a bounded chunk).
    fn fetch_delta(&self, slice: Uuid, since: u64, until: u64) -> Result<Vec<u8>, Self::Error>;

    /// Sends a ranged dump to the remote's mirror of `slice`; returns the mirror's size and
    /// root after it.
    fn push_delta(&self, slice: Uuid, delta: Vec<u8>) -> Result<(u64, Digest), Self::Error>;
}
