//! Sync state per subscription (sync.md, receiver's algorithm step 4): for each subscribed
//! slice of a plan, where it is mirrored and how the last runs went.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use plan_core::PlanId;
use register_core::Digest;
use uuid::Uuid;

use crate::conn::AnyConnection;
use crate::error::StoreError;
use crate::rows::{now, to_i64, to_unix, SubscriptionRow};
use crate::schema::subscriptions;

pub use crate::model::Subscription;

fn not_found(plan: PlanId, slice: Uuid) -> StoreError {
    StoreError::NotFound(format!("subscription of plan {plan} to slice {slice}"))
}

/// The row of a new subscription, with no sync yet; `Invalid` for an empty remote or a
/// register name that is not a valid key.
pub(crate) fn new_row(
    plan: PlanId,
    slice: Uuid,
    remote: &str,
    register_name: &str,
) -> Result<SubscriptionRow, StoreError> {
    if remote.trim().is_empty() {
        return Err(StoreError::Invalid("a remote must not be empty".into()));
    }
    register_core::entry::check_user_key(register_name)?;
    Ok(SubscriptionRow {
        plan_uuid: plan.to_string(),
        slice_uuid: slice.hyphenated().to_string(),
        remote: remote.to_string(),
        register_name: register_name.to_string(),
        last_size: 0,
        last_root: None,
        last_success: None,
        last_error: None,
        updated_at: now(),
        primary_size: None,
    })
}

/// Inserts `row`, or for a known subscription changes only its remote and register name.
pub(crate) fn upsert(conn: &mut AnyConnection, row: &SubscriptionRow) -> Result<(), StoreError> {
    let upsert = diesel::insert_into(subscriptions::table)
        .values(row)
        .on_conflict((subscriptions::plan_uuid, subscriptions::slice_uuid))
        .do_update()
        .set((
            subscriptions::remote.eq(&row.remote),
            subscriptions::register_name.eq(&row.register_name),
            subscriptions::updated_at.eq(row.updated_at),
        ));
    // Upserts are backend-specific SQL: run the same statement on the concrete connection.
    match conn {
        AnyConnection::Postgresql(c) => upsert.execute(c)?,
        AnyConnection::Sqlite(c) => upsert.execute(c)?,
    };
    Ok(())
}

/// Records a successful sync (clearing the last error); `NotFound` for an unknown
/// subscription.
pub(crate) fn record_success(
    conn: &mut AnyConnection,
    plan: PlanId,
    slice: Uuid,
    size: u64,
    root: Digest,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
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
    .execute(conn)?;
    if changed == 0 {
        return Err(not_found(plan, slice));
    }
    Ok(())
}

/// Records the primary's size as a run sees it; `NotFound` for an unknown subscription.
pub(crate) fn record_primary_size(
    conn: &mut AnyConnection,
    plan: PlanId,
    slice: Uuid,
    size: u64,
) -> Result<(), StoreError> {
    let changed = diesel::update(
        subscriptions::table.find((plan.to_string(), slice.hyphenated().to_string())),
    )
    .set(subscriptions::primary_size.eq(Some(to_i64(size))))
    .execute(conn)?;
    if changed == 0 {
        return Err(not_found(plan, slice));
    }
    Ok(())
}

/// Records a failed sync, keeping the last success; `NotFound` for an unknown subscription.
pub(crate) fn record_error(
    conn: &mut AnyConnection,
    plan: PlanId,
    slice: Uuid,
    message: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let changed = diesel::update(
        subscriptions::table.find((plan.to_string(), slice.hyphenated().to_string())),
    )
    .set((
        subscriptions::last_error.eq(Some(message)),
        subscriptions::updated_at.eq(to_unix(at)),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(not_found(plan, slice));
    }
    Ok(())
}

/// Every subscription, by plan and slice.
pub(crate) fn all(conn: &mut AnyConnection) -> Result<Vec<Subscription>, StoreError> {
    let rows: Vec<SubscriptionRow> = subscriptions::table
        .order((
            subscriptions::plan_uuid.asc(),
            subscriptions::slice_uuid.asc(),
        ))
        .select(SubscriptionRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(SubscriptionRow::into_subscription)
        .collect()
}

/// The subscription of `plan` to `slice`, if any.
pub(crate) fn get(
    conn: &mut AnyConnection,
    plan: PlanId,
    slice: Uuid,
) -> Result<Option<Subscription>, StoreError> {
    subscriptions::table
        .find((plan.to_string(), slice.hyphenated().to_string()))
        .select(SubscriptionRow::as_select())
        .first(conn)
        .optional()?
        .map(SubscriptionRow::into_subscription)
        .transpose()
}
