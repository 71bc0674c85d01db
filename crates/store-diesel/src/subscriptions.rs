//! Sync state per subscription (sync.md, receiver's algorithm step 4): for each subscribed
//! slice of a plan, where it is mirrored and how the last runs went; the keys the plan
//! pins; and the primary's checkpoints accepted for the mirror (`mirror_checkpoints`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use plan_core::PlanId;
use register_core::Digest;
use uuid::Uuid;

use crate::conn::AnyConnection;
use crate::error::StoreError;
use crate::rows::{digest, from_unix, now, to_i64, to_u64, to_unix, SubscriptionRow};
use crate::schema::{mirror_checkpoints, registers, subscriptions};

pub use crate::model::{AcceptedCheckpoint, Subscription};

fn not_found(plan: PlanId, slice: Uuid) -> StoreError {
    StoreError::NotFound(format!("subscription of plan {plan} to slice {slice}"))
}

/// The row of a new subscription, with no sync yet; `Invalid` for an empty remote or a
/// register name outside the rule of register names.
pub(crate) fn new_row(
    plan: PlanId,
    slice: Uuid,
    remote: &str,
    register_name: &str,
) -> Result<SubscriptionRow, StoreError> {
    if remote.trim().is_empty() {
        return Err(StoreError::Invalid("a remote must not be empty".into()));
    }
    // The mirror is created under this name.
    register_core::check_register_name(register_name)?;
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
        checkpoint_key: None,
        cosigner_key: None,
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

/// Pins the keys a plan binds on its subscription (each only while none is pinned) and
/// returns the subscription as stored; `NotFound` for an unknown subscription.
pub(crate) fn pin_keys(
    conn: &mut AnyConnection,
    plan: PlanId,
    slice: Uuid,
    checkpoint_key: Option<&str>,
    cosigner_key: Option<&str>,
) -> Result<Subscription, StoreError> {
    let find = || subscriptions::table.find((plan.to_string(), slice.hyphenated().to_string()));
    if let Some(key) = checkpoint_key {
        diesel::update(find().filter(subscriptions::checkpoint_key.is_null()))
            .set(subscriptions::checkpoint_key.eq(key))
            .execute(conn)?;
    }
    if let Some(key) = cosigner_key {
        diesel::update(find().filter(subscriptions::cosigner_key.is_null()))
            .set(subscriptions::cosigner_key.eq(key))
            .execute(conn)?;
    }
    get(conn, plan, slice)?.ok_or_else(|| not_found(plan, slice))
}

/// Keeps `note` (of `size` and `root`) as a checkpoint accepted for the mirror of `slice`
/// of `plan`; one already kept at that size stays as it is.
pub(crate) fn accept_checkpoint(
    conn: &mut AnyConnection,
    plan: PlanId,
    slice: Uuid,
    (size, root): (u64, Digest),
    note: &str,
) -> Result<(), StoreError> {
    let insert = diesel::insert_into(mirror_checkpoints::table)
        .values((
            mirror_checkpoints::plan_uuid.eq(plan.to_string()),
            mirror_checkpoints::slice_uuid.eq(slice.hyphenated().to_string()),
            mirror_checkpoints::size.eq(to_i64(size)),
            mirror_checkpoints::root.eq(root.0.to_vec()),
            mirror_checkpoints::note.eq(note),
            mirror_checkpoints::accepted_at.eq(now()),
        ))
        .on_conflict((
            mirror_checkpoints::plan_uuid,
            mirror_checkpoints::slice_uuid,
            mirror_checkpoints::size,
        ))
        .do_nothing();
    match conn {
        AnyConnection::Postgresql(c) => insert.execute(c)?,
        AnyConnection::Sqlite(c) => insert.execute(c)?,
    };
    Ok(())
}

/// The largest checkpoint accepted for the mirror of `slice` of `plan`, of at most `size`
/// entries when given.
pub(crate) fn accepted_checkpoint(
    conn: &mut AnyConnection,
    plan: PlanId,
    slice: Uuid,
    at_most: Option<u64>,
) -> Result<Option<AcceptedCheckpoint>, StoreError> {
    let mut query = mirror_checkpoints::table
        .filter(mirror_checkpoints::plan_uuid.eq(plan.to_string()))
        .filter(mirror_checkpoints::slice_uuid.eq(slice.hyphenated().to_string()))
        .into_boxed();
    if let Some(size) = at_most {
        query = query.filter(mirror_checkpoints::size.le(to_i64(size)));
    }
    let row: Option<(i64, Vec<u8>, String, i64)> = query
        .order(mirror_checkpoints::size.desc())
        .select((
            mirror_checkpoints::size,
            mirror_checkpoints::root,
            mirror_checkpoints::note,
            mirror_checkpoints::accepted_at,
        ))
        .first(conn)
        .optional()?;
    row.map(|(size, root, note, at)| {
        Ok(AcceptedCheckpoint {
            size: to_u64(size),
            root: digest(&root)?,
            note,
            accepted_at: from_unix(at)?,
        })
    })
    .transpose()
}

/// For a mirror (register `register_id` when it is one): the primary's checkpoint it
/// serves — the accepted one at `size`, else the largest accepted within the mirror's
/// current size. `None` for a local register.
pub(crate) fn mirror_checkpoint(
    conn: &mut AnyConnection,
    register_id: i64,
    size: Option<u64>,
) -> Result<Option<Option<String>>, StoreError> {
    let (plan, slice, held): (Option<String>, Option<String>, i64) = registers::table
        .find(register_id)
        .select((
            registers::mirror_plan,
            registers::mirror_slice,
            registers::user_size,
        ))
        .first(conn)?;
    let (Some(plan), Some(slice)) = (plan, slice) else {
        return Ok(None);
    };
    let query = mirror_checkpoints::table
        .filter(mirror_checkpoints::plan_uuid.eq(plan))
        .filter(mirror_checkpoints::slice_uuid.eq(slice))
        .into_boxed();
    let query = match size {
        Some(size) => query.filter(mirror_checkpoints::size.eq(to_i64(size))),
        None => query.filter(mirror_checkpoints::size.le(held)),
    };
    Ok(Some(
        query
            .order(mirror_checkpoints::size.desc())
            .select(mirror_checkpoints::note)
            .first(conn)
            .optional()?,
    ))
}

/// How many checkpoints were accepted for the mirror of `slice` of `plan`.
pub(crate) fn accepted_count(
    conn: &mut AnyConnection,
    plan: PlanId,
    slice: Uuid,
) -> Result<u64, StoreError> {
    let n: i64 = mirror_checkpoints::table
        .filter(mirror_checkpoints::plan_uuid.eq(plan.to_string()))
        .filter(mirror_checkpoints::slice_uuid.eq(slice.hyphenated().to_string()))
        .count()
        .get_result(conn)?;
    Ok(to_u64(n))
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
