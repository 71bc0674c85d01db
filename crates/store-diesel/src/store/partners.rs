//! [`Store`]'s side of the partnership: this node's identity and offers (`node`), plans
//! (`plans`) and the sync state of subscriptions (`subscriptions`).

use chrono::{DateTime, Utc};
use plan_core::{Plan, PlanId, PlanRecord};
use register_core::Digest;
use uuid::Uuid;

use super::Store;
use crate::error::StoreError;
use crate::node::{self, NodeIdentity, Offer};
use crate::plans::{self, StoredPlan};
use crate::subscriptions::{self, AcceptedCheckpoint, Subscription};

impl Store {
    /// This node's identity, created with fresh UUIDs the first time any process asks.
    pub fn node(&self) -> Result<NodeIdentity, StoreError> {
        node::identity(&mut *self.conn()?)
    }

    /// Changes the descriptive parts of this node's identity (`None` leaves a part as it is;
    /// an empty contact or email removes it). The UUIDs never change.
    pub fn set_node_details(
        &self,
        description: Option<&str>,
        contact: Option<&str>,
        email: Option<&str>,
    ) -> Result<NodeIdentity, StoreError> {
        self.node()?;
        self.transaction(|conn| node::set_details(conn, description, contact, email))?;
        self.node()
    }

    /// The secret that signs tokens on an embedded installation: 32 random bytes, generated
    /// the first time and kept in the database (hex). Deployments on PostgreSQL configure
    /// their own secret instead.
    pub fn generated_token_secret(&self) -> Result<Vec<u8>, StoreError> {
        node::token_secret(&mut *self.conn()?)
    }

    /// The log and cosigner keys of an embedded installation: generated the first time and
    /// kept in the database. Deployments on PostgreSQL supply their own (every instance must
    /// sign with the same keys) and never call this.
    pub fn generated_keys(
        &self,
    ) -> Result<(tlog_core::PrivateKey, tlog_core::PrivateKey), StoreError> {
        node::generated_keys(&mut *self.conn()?)
    }

    /// The node origin (`node set --origin`), or `localhost` until one is set.
    pub fn origin(&self) -> Result<String, StoreError> {
        node::origin(&mut *self.conn()?)
    }

    /// Sets the node origin; `Invalid` unless it is a scheme-less URL prefix usable as a key
    /// name. Logs signed before keep their checkpoints under the old origin.
    pub fn set_origin(&self, origin: &str) -> Result<(), StoreError> {
        node::set_origin(&mut *self.conn()?, origin)
    }

    /// Offers the register `name` to partners as a slice of this node's pool (with
    /// `description`, or the register's name). Offering it again only changes the
    /// description. `RegisterNotFound` for an unknown register.
    pub fn offer_register(
        &self,
        name: &str,
        description: Option<&str>,
    ) -> Result<Offer, StoreError> {
        self.transaction(|conn| node::offer(conn, name, description))
    }

    /// Withdraws the offer of `name`. Plans already approved keep naming its slice, but
    /// stubs no longer list it. `NotFound` when it was not offered.
    pub fn unoffer_register(&self, name: &str) -> Result<(), StoreError> {
        node::unoffer(&mut *self.conn()?, name)
    }

    /// The offered registers, by name.
    pub fn offers(&self) -> Result<Vec<Offer>, StoreError> {
        node::offers(&mut *self.conn()?)
    }

    /// Stores a new plan owned by the account `owner`, with its history so far (usually none:
    /// a freshly invoked plan). `replaces` names the plan this one replaces (plans.md §2: a
    /// rejected plan is followed by a new one). `NotFound` for an unknown owner or replaced
    /// plan, `Conflict` when the UUID is taken.
    pub fn create_plan(
        &self,
        record: &PlanRecord,
        owner: &str,
        replaces: Option<PlanId>,
    ) -> Result<(), StoreError> {
        self.transaction(|conn| plans::create(conn, record, owner, replaces, None))
    }

    /// [`Store::create_plan`], refused with `Conflict` when `owner` already has `max_live`
    /// plans that are not Rejected (counted and inserted in one transaction, so concurrent
    /// creations cannot overshoot).
    pub fn create_plan_within_quota(
        &self,
        record: &PlanRecord,
        owner: &str,
        replaces: Option<PlanId>,
        max_live: u64,
    ) -> Result<(), StoreError> {
        self.transaction(|conn| plans::create(conn, record, owner, replaces, Some(max_live)))
    }

    /// The plan `id` rebuilt from the store, if it exists.
    pub fn plan(&self, id: PlanId) -> Result<Option<StoredPlan>, StoreError> {
        self.transaction(|conn| plans::get(conn, id))
    }

    /// Saves the actions applied to `record` since it was read (or created): inserts the
    /// transitions the store lacks and updates the plan's row, in one transaction.
    ///
    /// The stored history must be a prefix of the record's, and the row update is guarded by
    /// the status and the number of transitions the record was built on; if another save
    /// came first, nothing changes and the answer is `Conflict`. Saving a record with no new
    /// transitions changes nothing. The document is written only while the stored plan is
    /// still Invoked (proposing may complete it); after that it must be unchanged.
    pub fn save_plan_transition(&self, record: &PlanRecord) -> Result<(), StoreError> {
        self.transaction(|conn| plans::save_transitions(conn, record))
    }

    /// Replaces the document of a plan that is still Invoked (the primary posting its side).
    /// The document must carry the plan's UUID (`Invalid` otherwise); `Conflict` once the
    /// plan is Proposed or later, `NotFound` for an unknown plan. The caller validates the
    /// XML ([`Plan::from_xml`]), so the store takes the typed document.
    pub fn replace_plan_document(&self, id: PlanId, document: &Plan) -> Result<(), StoreError> {
        self.transaction(|conn| plans::replace_document(conn, id, document))
    }

    /// Every plan, newest first (the operators' listing; partners reach plans by UUID only).
    pub fn plans(&self) -> Result<Vec<StoredPlan>, StoreError> {
        self.transaction(plans::all)
    }

    /// At most `limit` plans in [`Store::plans`]'s order after skipping `offset`, and whether
    /// more follow.
    pub fn plans_page(
        &self,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<StoredPlan>, bool), StoreError> {
        self.transaction(|conn| plans::page(conn, offset, limit))
    }

    /// Records that `slice` of `plan` is mirrored from `remote` into the local register
    /// `register_name`. For a known subscription, only the remote and the register name
    /// change; the sync bookkeeping stays (the next run reads the mirror's own size anyway).
    pub fn upsert_subscription(
        &self,
        plan: PlanId,
        slice: Uuid,
        remote: &str,
        register_name: &str,
    ) -> Result<(), StoreError> {
        let row = subscriptions::new_row(plan, slice, remote, register_name)?;
        subscriptions::upsert(&mut *self.conn()?, &row)
    }

    /// Records a successful sync: the mirror now has `size` entries with root `root`.
    /// Clears the last error. `NotFound` for an unknown subscription.
    pub fn record_sync_success(
        &self,
        plan: PlanId,
        slice: Uuid,
        size: u64,
        root: Digest,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        subscriptions::record_success(&mut *self.conn()?, plan, slice, size, root, at)
    }

    /// Records the primary's size as a sync run saw it (how far the mirror is behind).
    /// `NotFound` for an unknown subscription.
    pub fn record_primary_size(
        &self,
        plan: PlanId,
        slice: Uuid,
        size: u64,
    ) -> Result<(), StoreError> {
        subscriptions::record_primary_size(&mut *self.conn()?, plan, slice, size)
    }

    /// Records a failed sync. The last size, root and success time stay: the mirror is still
    /// at its previous consistent state. `NotFound` for an unknown subscription.
    pub fn record_sync_error(
        &self,
        plan: PlanId,
        slice: Uuid,
        message: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        subscriptions::record_error(&mut *self.conn()?, plan, slice, message, at)
    }

    /// Pins the keys a plan binds on the subscription of `slice` of `plan`: each one given is
    /// stored unless one is pinned already (a pinned key never changes). Returns the
    /// subscription as stored. `NotFound` for an unknown subscription.
    pub fn pin_subscription_keys(
        &self,
        plan: PlanId,
        slice: Uuid,
        checkpoint_key: Option<&str>,
        cosigner_key: Option<&str>,
    ) -> Result<Subscription, StoreError> {
        self.transaction(|conn| {
            subscriptions::pin_keys(conn, plan, slice, checkpoint_key, cosigner_key)
        })
    }

    /// Keeps the primary's signed checkpoint `note` (`size`, `root`) as accepted for the
    /// mirror of `slice` of `plan` (once per size).
    pub fn accept_mirror_checkpoint(
        &self,
        plan: PlanId,
        slice: Uuid,
        size: u64,
        root: Digest,
        note: &str,
    ) -> Result<(), StoreError> {
        subscriptions::accept_checkpoint(&mut *self.conn()?, plan, slice, (size, root), note)
    }

    /// The largest checkpoint accepted for the mirror of `slice` of `plan` (of at most
    /// `at_most` entries when given).
    pub fn accepted_mirror_checkpoint(
        &self,
        plan: PlanId,
        slice: Uuid,
        at_most: Option<u64>,
    ) -> Result<Option<AcceptedCheckpoint>, StoreError> {
        subscriptions::accepted_checkpoint(&mut *self.conn()?, plan, slice, at_most)
    }

    /// How many checkpoints were accepted for the mirror of `slice` of `plan`.
    pub fn accepted_mirror_checkpoints(
        &self,
        plan: PlanId,
        slice: Uuid,
    ) -> Result<u64, StoreError> {
        subscriptions::accepted_count(&mut *self.conn()?, plan, slice)
    }

    /// Every subscription, by plan and slice.
    pub fn subscriptions(&self) -> Result<Vec<Subscription>, StoreError> {
        subscriptions::all(&mut *self.conn()?)
    }

    /// The subscription of `plan` to `slice`, if any.
    pub fn subscription(
        &self,
        plan: PlanId,
        slice: Uuid,
    ) -> Result<Option<Subscription>, StoreError> {
        subscriptions::get(&mut *self.conn()?, plan, slice)
    }
}
