//! Sync state per subscription (sync.md, receiver's algorithm step 4): for each subscribed
//! slice of a plan, where it is mirrored and how the last runs went.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use plan_core::PlanId;
use register_core::Digest;
use uuid::Uuid;

use crate::conn::AnyConnection;
use crate::error::StoreError;
use crate::plans::{from_unix, to_unix};
use crate::rows::{digest, to_i64, to_u64};
use crate::schema::subscriptions;
use crate::store::Store;

/// One subscribed slice and its sync bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The Approved plan that grants the subscription.
    pub plan_uuid: PlanId,
    /// The primary's slice.
    pub slice_uuid: Uuid,
    /// The primary's server (base URL).
    pub remote: String,
    /// The local mirror register.
    pub register_name: String,
    /// User-log size of the mirror after the last successful sync (0 before any).
    pub last_size: u64,
    /// Its root hash then.
    pub last_root: Option<Digest>,
    /// When the last sync succeeded.
    pub last_success: Option<DateTime<Utc>>,
    /// What went wrong in the last sync, if it failed; cleared by a success.
    pub last_error: Option<String>,
    /// When this bookkeeping last changed.
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = subscriptions)]
struct SubscriptionRow {
    plan_uuid: String,
    slice_uuid: String,
    remote: String,
    register_name: String,
    last_size: i64,
    last_root: Option<Vec<u8>>,
    last_success: Option<i64>,
    last_error: Option<String>,
    updated_at: i64,
}

impl SubscriptionRow {
    fn into_subscription(self) -> Result<Subscription, StoreError> {
        let uuid = |s: &str| {
            Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("subscription uuid: {e}")))
        };
        Ok(Subscription {
            plan_uuid: PlanId(uuid(&self.plan_uuid)?),
            slice_uuid: uuid(&self.slice_uuid)?,
            remote: self.remote,
            register_name: self.register_name,
            last_size: to_u64(self.last_size),
            last_root: self.last_root.as_deref().map(digest).transpose()?,
            last_success: self.last_success.map(from_unix).transpose()?,
            last_error: self.last_error,
            updated_at: from_unix(self.updated_at)?,
        })
    }
}

fn not_found(plan: PlanId, slice: Uuid) -> StoreError {
    StoreError::NotFound(format!("subscription of plan {plan} to slice {slice}"))
}

impl Store {
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
        if remote.trim().is_empty() {
            return Err(StoreError::Invalid("a remote must not be empty".into()));
        }
        register_core::entry::check_user_key(register_name)?;
        let now = crate::store::now();
        let row = SubscriptionRow {
            plan_uuid: plan.to_string(),
            slice_uuid: slice.hyphenated().to_string(),
            remote: remote.to_string(),
            register_name: register_name.to_string(),
            last_size: 0,
            last_root: None,
            last_success: None,
            last_error: None,
            updated_at: now,
        };
        let upsert = diesel::insert_into(subscriptions::table)
            .values(&row)
            .on_conflict((subscriptions::plan_uuid, subscriptions::slice_uuid))
            .do_update()
            .set((
                subscriptions::remote.eq(remote),
                subscriptions::register_name.eq(register_name),
                subscriptions::updated_at.eq(now),
            ));
        // Upserts are backend-specific SQL: run the same statement on the concrete connection.
        let mut conn = self.conn()?;
        match &mut *conn {
            AnyConnection::Postgresql(c) => upsert.execute(c)?,
            AnyConnection::Sqlite(c) => upsert.execute(c)?,
        };
        Ok(())
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
        let mut conn = self.conn()?;
        let changed = diesel::update(
            subscriptions::table.find((plan.to_string(), slice.hyphenated().to_string())),
        )
        .set((
            subscriptions::last_size.eq(to_i64(size)),
            subscriptions::last_root.eq(Some(root.0.to_vec())),
            subscriptions::last_success.eq(Some(to_unix(at))),
            subscriptions::last_error.eq(None::<String>),
            subscriptions::updated_at.eq(to_unix(at)),
        ))
        .execute(&mut *conn)?;
        if changed == 0 {
            return Err(not_found(plan, slice));
        }
        Ok(())
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
        let mut conn = self.conn()?;
        let changed = diesel::update(
            subscriptions::table.find((plan.to_string(), slice.hyphenated().to_string())),
        )
        .set((
            subscriptions::last_error.eq(Some(message)),
            subscriptions::updated_at.eq(to_unix(at)),
        ))
        .execute(&mut *conn)?;
        if changed == 0 {
            return Err(not_found(plan, slice));
        }
        Ok(())
    }

    /// Every subscription, by plan and slice.
    pub fn subscriptions(&self) -> Result<Vec<Subscription>, StoreError> {
        let mut conn = self.conn()?;
        let rows: Vec<SubscriptionRow> = subscriptions::table
            .order((
                subscriptions::plan_uuid.asc(),
                subscriptions::slice_uuid.asc(),
            ))
            .select(SubscriptionRow::as_select())
            .load(&mut *conn)?;
        rows.into_iter()
            .map(SubscriptionRow::into_subscription)
            .collect()
    }

    /// The subscription of `plan` to `slice`, if any.
    pub fn subscription(
        &self,
        plan: PlanId,
        slice: Uuid,
    ) -> Result<Option<Subscription>, StoreError> {
        let mut conn = self.conn()?;
        subscriptions::table
            .find((plan.to_string(), slice.hyphenated().to_string()))
            .select(SubscriptionRow::as_select())
            .first(&mut *conn)
            .optional()?
            .map(SubscriptionRow::into_subscription)
            .transpose()
    }
}
