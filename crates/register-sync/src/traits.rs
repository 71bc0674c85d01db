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
    /// a mirror of `origin`'s kind are the store's to refuse. With a `target` (the size and
    /// root of the primary's verified checkpoint), a load that would leave the mirror past
    /// that size, or at that size with another root, is refused before it commits.
    fn load_mirror(
        &self,
        name: &str,
        delta: &[u8],
        origin: &Origin,
        target: Option<(u64, Digest)>,
    ) -> Result<(u64, Digest), Self::Error>;

    /// The consistency proof between sizes `m` and `n` of the local register `name`.
    fn consistency_proof(&self, name: &str, m: u64, n: u64) -> Result<Vec<Digest>, Self::Error>;

    /// The latest signed checkpoint note of the local register `name` (the primary's side of
    /// a push), if it has one.
    fn own_checkpoint(&self, name: &str) -> Result<Option<String>, Self::Error>;

    /// Pins the keys a plan binds on the subscription of `slice` (each only when none is
    /// pinned yet) and returns the pinned ones.
    fn pin_keys(&self, plan: PlanId, slice: Uuid, keys: &Keys) -> Result<Keys, Self::Error>;

    /// The largest checkpoint accepted for the mirror of `slice`.
    fn latest_accepted(&self, plan: PlanId, slice: Uuid) -> Result<Option<Accepted>, Self::Error>;

    /// Keeps a checkpoint the mirror of `slice` now holds exactly, as accepted.
    fn accept(&self, plan: PlanId, slice: Uuid, accepted: &Accepted) -> Result<(), Self::Error>;

    /// This node's mirror cosignature (`cosignature/v1`, named `<origin>/mirror`) of a
    /// checkpoint note its mirror `name` accepted, signed now and kept, so that the mirror's
    /// own checkpoint carries it: "I have verified and durably stored this". `None` when the
    /// node has no cosigner key.
    fn cosign(&self, name: &str, note: &str) -> Result<Option<String>, Self::Error>;

    /// Keeps the mirror's cosignature, the line by `cosigner_key` among `lines`, of this
    /// node's checkpoint of the register `name` at `size` (the primary's side): it must
    /// verify with that key and be no replay.
    fn keep_cosignature(
        &self,
        name: &str,
        size: u64,
        cosigner_key: &str,
        lines: &str,
    ) -> Result<(), Self::Error>;

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

/// The keys a plan binds for one slice (checkpoints.md §6), as verifier-key strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    /// The primary's checkpoint verifier key for the slice's log.
    pub checkpoint_key: Option<String>,
    /// The secondary's mirror cosigner verifier key.
    pub cosigner_key: Option<String>,
}

/// A checkpoint of the primary a mirror accepted (or is about to): the signed note and what
/// it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The signed note, as the primary served it.
    pub note: String,
    /// Its size.
    pub size: u64,
    /// Its root.
    pub root: Digest,
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

    /// The ranged dump `since..until` of `slice`, whole, if it is at most `max_bytes` long;
    /// [`Fetched::OverBound`] otherwise, having read (and held) no more than `max_bytes` of
    /// it: a primary cannot make the mirror buffer more than the bound, whatever it sends.
    fn fetch_delta(
        &self,
        slice: Uuid,
        since: u64,
        until: u64,
        max_bytes: u64,
    ) -> Result<Fetched, Self::Error>;

    /// Sends a ranged dump to the remote's mirror of `slice`, with the primary's signed
    /// checkpoint it leads towards (when the primary signs); returns the mirror's size and
    /// root after it.
    fn push_delta(
        &self,
        slice: Uuid,
        delta: Vec<u8>,
        checkpoint: Option<&str>,
    ) -> Result<(u64, Digest), Self::Error>;

    /// The primary's latest signed checkpoint of `slice`'s log (a note).
    fn checkpoint(&self, slice: Uuid) -> Result<String, Self::Error>;

    /// Sends the mirror's cosignature `line` of the primary's checkpoint of `slice` at
    /// `size` to the primary, which checks it with the plan's pinned cosigner key.
    fn send_cosignature(&self, slice: Uuid, size: u64, line: &str) -> Result<(), Self::Error>;

    /// The primary's consistency proof of `slice` between sizes `m` and `n`.
    fn consistency_proof(&self, slice: Uuid, m: u64, n: u64) -> Result<Vec<Digest>, Self::Error>;
}

/// What [`Remote::fetch_delta`] got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The whole delta, within the bound.
    Delta(Vec<u8>),
    /// The delta is longer than the bound (its declared length, or more bytes than the bound
    /// arrived); reading stopped there.
    OverBound,
}
