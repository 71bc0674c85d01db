//! Plans: plan-core's [`PlanRecord`] persisted in `plans` and its history in
//! `plan_transitions`.
//!
//! # Design
//!
//! - **A read replays the history.** The stored parts (UUID, initiator's role, creation
//!   time, document, transitions) are fed back through plan-core's own API —
//!   [`PlanRecord::invoke`], [`PlanRecord::set_document`], then [`PlanRecord::apply`] per
//!   transition — so a plan read from the store obeys the lifecycle rules by construction.
//!   The derived columns (`status`, `status_message`, `status_on`, the approval times) are
//!   for SQL readers and are checked against the replay: a disagreement is
//!   [`StoreError::Corrupt`].
//! - **A transition row** holds the status it led to, its message, the actor and the time.
//!   The action is implied by the two statuses (plans.md §2: every (from, to) pair has one
//!   action; `On Hold → On Hold` is a first approval).
//! - **Saving is optimistic.** [`Store::save_plan_transition`] writes the transitions the
//!   stored plan lacks and updates the row with `WHERE uuid = ? AND status = <status before>
//!   AND <transition count> = <count before>`, in one transaction; no row updated, or a
//!   transition number taken meanwhile, is [`StoreError::Conflict`]. Of two partners acting
//!   on the same plan at once, exactly one wins, and the other re-reads and retries.
//! - **Times are whole Unix seconds**; sub-second parts are dropped when stored.
//! - An Invoked plan without a document stores an empty `document`.
//!
//! [`Store::save_plan_transition`]: crate::store::Store::save_plan_transition

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use plan_core::{Action, Plan, PlanId, PlanRecord, PlanStatus};
use uuid::Uuid;

use crate::conn::AnyConnection;
use crate::error::StoreError;
use crate::rows::{
    data_role_str, from_unix, parse_actor, parse_data_role, plan_row, transition_rows, PlanRow,
    TransitionRow,
};
use crate::schema::{plan_transitions, plans, users};

pub use crate::model::StoredPlan;

/// The action that leads from `from` to `to` (plans.md §2 has exactly one for each pair).
fn action_between(from: PlanStatus, to: PlanStatus) -> Option<Action> {
    use PlanStatus::*;
    match (from, to) {
        (Invoked, Proposed) => Some(Action::Propose),
        (Proposed | OnHold, Approved) | (OnHold, OnHold) => Some(Action::Approve),
        (Proposed | OnHold, Rejected) => Some(Action::Reject),
        (Proposed | Approved, OnHold) => Some(Action::Hold),
        _ => None,
    }
}

/// Rebuilds the record by replaying the stored history through plan-core.
fn rebuild(row: PlanRow, transitions: Vec<TransitionRow>) -> Result<StoredPlan, StoreError> {
    let corrupt = |what: String| StoreError::Corrupt(format!("plan {}: {what}", row.uuid));
    let id = Uuid::parse_str(&row.uuid)
        .map(PlanId)
        .map_err(|e| corrupt(format!("uuid: {e}")))?;
    let replaces = row
        .replaces_uuid
        .as_deref()
        .map(|s| Uuid::parse_str(s).map(PlanId))
        .transpose()
        .map_err(|e| corrupt(format!("replaces_uuid: {e}")))?;
    let initiator = parse_data_role(&row.initiator_role)
        .ok_or_else(|| corrupt(format!("initiator role '{}'", row.initiator_role)))?;
    let mut record = PlanRecord::invoke(id, initiator, from_unix(row.created_at)?);
    if !row.document.is_empty() {
        let plan = Plan::from_xml(&row.document).map_err(|e| corrupt(format!("document: {e}")))?;
        record
            .set_document(plan)
            .map_err(|e| corrupt(format!("document: {e}")))?;
    }
    let mut from = PlanStatus::Invoked;
    for (t, seq) in transitions.into_iter().zip(1..) {
        if t.seq != seq {
            return Err(corrupt(format!("transition {seq} is missing")));
        }
        let to = PlanStatus::parse(&t.status)
            .ok_or_else(|| corrupt(format!("transition {seq}: status '{}'", t.status)))?;
        let action = action_between(from, to)
            .ok_or_else(|| corrupt(format!("transition {seq}: {from} to {to}")))?;
        let actor = parse_actor(&t.actor)
            .ok_or_else(|| corrupt(format!("transition {seq}: actor '{}'", t.actor)))?;
        record
            .apply(action, actor, from_unix(t.at)?, t.status_message)
            .map_err(|e| corrupt(format!("transition {seq}: {e}")))?;
        from = to;
    }
    let derived = plan_row(&record, &row.owner, replaces);
    if derived != row {
        return Err(corrupt(
            "its status columns disagree with its transitions".to_string(),
        ));
    }
    Ok(StoredPlan {
        record,
        owner: row.owner,
        replaces,
    })
}

fn find_plan(conn: &mut AnyConnection, uuid: &str) -> Result<Option<PlanRow>, StoreError> {
    Ok(plans::table
        .find(uuid)
        .select(PlanRow::as_select())
        .first(conn)
        .optional()?)
}

fn transitions_of(conn: &mut AnyConnection, uuid: &str) -> Result<Vec<TransitionRow>, StoreError> {
    Ok(plan_transitions::table
        .filter(plan_transitions::plan_uuid.eq(uuid))
        .order(plan_transitions::seq.asc())
        .select(TransitionRow::as_select())
        .load(conn)?)
}

/// Rebuilds listed plans; `transitions` are ordered by plan and sequence.
fn rebuild_all(
    rows: Vec<PlanRow>,
    transitions: Vec<TransitionRow>,
) -> Result<Vec<StoredPlan>, StoreError> {
    let mut by_plan: HashMap<String, Vec<TransitionRow>> = HashMap::new();
    for t in transitions {
        by_plan.entry(t.plan_uuid.clone()).or_default().push(t);
    }
    rows.into_iter()
        .map(|row| {
            let transitions = by_plan.remove(&row.uuid).unwrap_or_default();
            rebuild(row, transitions)
        })
        .collect()
}

/// On SQLite, takes the database write lock first, so that what the transaction then reads
/// stays current until it writes (a deferred transaction that read first could not upgrade
/// once another writer committed). PostgreSQL needs nothing: the guarded update decides.
fn begin_write(conn: &mut AnyConnection) -> Result<(), StoreError> {
    if let AnyConnection::Sqlite(c) = conn {
        diesel::sql_query("UPDATE plans SET status = status WHERE uuid = ''").execute(c)?;
    }
    Ok(())
}

/// Makes the transaction's reads one consistent snapshot. SQLite transactions are already;
/// PostgreSQL's default (read committed) gives each statement its own, so a plan row and its
/// transitions could come from either side of a concurrent save.
fn read_snapshot(conn: &mut AnyConnection) -> Result<(), StoreError> {
    if let AnyConnection::Postgresql(c) = conn {
        diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(c)?;
    }
    Ok(())
}

fn insert_transition(conn: &mut AnyConnection, row: &TransitionRow) -> Result<(), StoreError> {
    match diesel::insert_into(plan_transitions::table)
        .values(row)
        .execute(conn)
    {
        Ok(_) => Ok(()),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(changed_meanwhile(&row.plan_uuid))
        }
        Err(e) => Err(e.into()),
    }
}

fn changed_meanwhile(uuid: &str) -> StoreError {
    StoreError::Conflict(format!(
        "plan {uuid} was changed by someone else since it was read; read it again and retry"
    ))
}

/// Stores a new plan owned by `owner` with its history so far, inside the caller's
/// transaction. `NotFound` for an unknown owner or replaced plan, `Conflict` when the UUID is
/// taken or when `owner` already has `max_live` plans that are not Rejected.
pub(crate) fn create(
    conn: &mut AnyConnection,
    record: &PlanRecord,
    owner: &str,
    replaces: Option<PlanId>,
    max_live: Option<u64>,
) -> Result<(), StoreError> {
    let row = plan_row(record, owner, replaces);
    let transitions = transition_rows(record);
    begin_write(conn)?;
    let owner_row: Option<String> = match conn {
        // Locks the owner's row, so two creations for one owner count one after the other
        // (SQLite's write lock, taken above, already serialises them).
        AnyConnection::Postgresql(c) => users::table
            .find(owner)
            .select(users::name)
            .for_update()
            .first(c)
            .optional()?,
        AnyConnection::Sqlite(c) => users::table
            .find(owner)
            .select(users::name)
            .first(c)
            .optional()?,
    };
    if owner_row.is_none() {
        return Err(StoreError::NotFound(format!("user '{owner}'")));
    }
    if let Some(max_live) = max_live {
        let live: i64 = plans::table
            .filter(plans::owner.eq(owner))
            .filter(plans::status.ne(PlanStatus::Rejected.as_str()))
            .count()
            .get_result(conn)?;
        if u64::try_from(live).unwrap_or(0) >= max_live {
            return Err(StoreError::Conflict(format!(
                "the account '{owner}' has {live} plans that are not Rejected, the quota of \
                 {max_live} live plans per account; reject a plan to invoke another"
            )));
        }
    }
    if let Some(replaced) = &row.replaces_uuid {
        if find_plan(conn, replaced)?.is_none() {
            return Err(StoreError::NotFound(format!("plan {replaced}")));
        }
    }
    match diesel::insert_into(plans::table).values(&row).execute(conn) {
        Ok(_) => {}
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            // Whose plan holds the UUID is not the caller's business: the answer names only
            // the UUID the caller sent.
            return Err(StoreError::Conflict(format!(
                "the uuid {} cannot be used for a new plan; send a document with another uuid \
                 or none",
                row.uuid
            )));
        }
        Err(e) => return Err(e.into()),
    }
    for t in &transitions {
        insert_transition(conn, t)?;
    }
    Ok(())
}

/// The plan `id` rebuilt from one snapshot, inside the caller's transaction.
pub(crate) fn get(conn: &mut AnyConnection, id: PlanId) -> Result<Option<StoredPlan>, StoreError> {
    let uuid = id.to_string();
    read_snapshot(conn)?;
    let Some(row) = find_plan(conn, &uuid)? else {
        return Ok(None);
    };
    let transitions = transitions_of(conn, &uuid)?;
    rebuild(row, transitions).map(Some)
}

/// Saves the transitions `record` has and the store lacks, guarded by the status and the
/// transition count it was read with, inside the caller's transaction (see the module docs).
pub(crate) fn save_transitions(
    conn: &mut AnyConnection,
    record: &PlanRecord,
) -> Result<(), StoreError> {
    let uuid = record.id().to_string();
    let wanted = transition_rows(record);
    begin_write(conn)?;
    let stored =
        find_plan(conn, &uuid)?.ok_or_else(|| StoreError::NotFound(format!("plan {uuid}")))?;
    let stored_transitions = transitions_of(conn, &uuid)?;
    let known = stored_transitions.len();
    if wanted.get(..known) != Some(&stored_transitions[..])
        || stored.initiator_role != data_role_str(record.initiator_role())
    {
        return Err(changed_meanwhile(&uuid));
    }
    let new = &wanted[known..];
    if new.is_empty() {
        return Ok(());
    }
    let row = plan_row(record, &stored.owner, None);
    let before = PlanStatus::parse(&stored.status)
        .ok_or_else(|| StoreError::Corrupt(format!("plan {uuid}: status")))?;
    if before.document_frozen() && row.document != stored.document {
        return Err(StoreError::Conflict(format!(
            "the document of plan {uuid} is frozen once the plan is {before}"
        )));
    }
    let count_before = i64::try_from(known).unwrap_or(i64::MAX);
    let transitions_now = plan_transitions::table
        .filter(plan_transitions::plan_uuid.eq(&uuid))
        .count()
        .single_value();
    let updated = diesel::update(
        plans::table
            .filter(plans::uuid.eq(&uuid))
            .filter(plans::status.eq(&stored.status))
            .filter(transitions_now.eq(count_before)),
    )
    .set((
        plans::status.eq(&row.status),
        plans::status_message.eq(&row.status_message),
        plans::status_on.eq(row.status_on),
        plans::document.eq(&row.document),
        plans::primary_approved_on.eq(row.primary_approved_on),
        plans::secondary_approved_on.eq(row.secondary_approved_on),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(changed_meanwhile(&uuid));
    }
    for t in new {
        insert_transition(conn, t)?;
    }
    Ok(())
}

/// Replaces the document of a plan that is still Invoked, inside the caller's transaction.
/// `Invalid` when the document does not carry the plan's UUID, `Conflict` once the plan is
/// Proposed or later, `NotFound` for an unknown plan.
pub(crate) fn replace_document(
    conn: &mut AnyConnection,
    id: PlanId,
    document: &Plan,
) -> Result<(), StoreError> {
    let uuid = id.to_string();
    begin_write(conn)?;
    let row =
        find_plan(conn, &uuid)?.ok_or_else(|| StoreError::NotFound(format!("plan {uuid}")))?;
    let status = PlanStatus::parse(&row.status)
        .ok_or_else(|| StoreError::Corrupt(format!("plan {uuid}: status")))?;
    if status.document_frozen() {
        return Err(StoreError::Conflict(
            plan_core::Error::DocumentFrozen { status }.to_string(),
        ));
    }
    // plan-core's rule for the document of an Invoked plan (it carries the plan's UUID).
    let initiator = parse_data_role(&row.initiator_role)
        .ok_or_else(|| StoreError::Corrupt(format!("plan {uuid}: initiator role")))?;
    PlanRecord::invoke(id, initiator, from_unix(row.created_at)?)
        .set_document(document.clone())
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let updated = diesel::update(
        plans::table
            .filter(plans::uuid.eq(&uuid))
            .filter(plans::status.eq(PlanStatus::Invoked.as_str())),
    )
    .set(plans::document.eq(document.to_xml()))
    .execute(conn)?;
    if updated == 0 {
        return Err(changed_meanwhile(&uuid));
    }
    Ok(())
}

/// Every plan, newest first, rebuilt from one snapshot, inside the caller's transaction.
pub(crate) fn all(conn: &mut AnyConnection) -> Result<Vec<StoredPlan>, StoreError> {
    read_snapshot(conn)?;
    let rows: Vec<PlanRow> = plans::table
        .order((plans::created_at.desc(), plans::uuid.asc()))
        .select(PlanRow::as_select())
        .load(conn)?;
    let transitions: Vec<TransitionRow> = plan_transitions::table
        .order((
            plan_transitions::plan_uuid.asc(),
            plan_transitions::seq.asc(),
        ))
        .select(TransitionRow::as_select())
        .load(conn)?;
    rebuild_all(rows, transitions)
}

/// The plans of one page of the listing ([`all`]'s order): at most `limit` after skipping
/// `offset`, and whether more follow, from one snapshot, inside the caller's transaction.
/// Only this page's transitions are read, so a page costs its own size, not the store's.
pub(crate) fn page(
    conn: &mut AnyConnection,
    offset: u64,
    limit: u64,
) -> Result<(Vec<StoredPlan>, bool), StoreError> {
    read_snapshot(conn)?;
    let mut rows: Vec<PlanRow> = plans::table
        .order((plans::created_at.desc(), plans::uuid.asc()))
        .offset(i64::try_from(offset).unwrap_or(i64::MAX))
        .limit(i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX))
        .select(PlanRow::as_select())
        .load(conn)?;
    let more = u64::try_from(rows.len()).unwrap_or(u64::MAX) > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let uuids: Vec<&str> = rows.iter().map(|row| row.uuid.as_str()).collect();
    let transitions: Vec<TransitionRow> = plan_transitions::table
        .filter(plan_transitions::plan_uuid.eq_any(&uuids))
        .order((
            plan_transitions::plan_uuid.asc(),
            plan_transitions::seq.asc(),
        ))
        .select(TransitionRow::as_select())
        .load(conn)?;
    Ok((rebuild_all(rows, transitions)?, more))
}
