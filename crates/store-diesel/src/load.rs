//! Loading RSF: validate against the stored state, then write the changes, all inside the
//! caller's transaction.
//!
//! The register-core loader validates every line against [`DbState`] (the register as this
//! transaction sees it) and returns `Changes`; only then is anything written: items, the
//! register's item references, entries, Merkle nodes, records and facet rows with
//! multi-row INSERTs of bound values (`bulk`) or, on PostgreSQL, `COPY` (`pg_copy`) where
//! the rows are many and nothing can conflict; then the index logs. Items, item references, records and facet
//! rows are written in the order of their primary key (entries come in it).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufRead;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use register_core::hash::ItemSet;
use register_core::load::{Changes, LogChanges, NewItem};
use register_core::{merkle, Digest, ItemHash, LogKind, Mode};

use crate::bulk::{self, Bulk};
use crate::checkpoints;
use crate::conn::AnyConnection;
use crate::error::StoreError;
use crate::indexes;
use crate::model::{LoadReport, MirrorOf, NodeKeys};
use crate::pg_copy;
use crate::registers::{find_register, lock_register};
use crate::rows::{encode_hashes, log_code, now, to_i64, to_u64, NewRegister, RegisterRow};
use crate::schema::{record_items, records, registers};
use crate::state::DbState;

/// Entries in one load after which PostgreSQL's statistics are refreshed.
const ANALYZE_AFTER: usize = 10_000;

/// Entries from which a load derives its records on a second thread while it writes items.
const DERIVE_BESIDE_FROM: usize = 10_000;

/// Rows from which PostgreSQL gets them by `COPY`; fewer (a write batch) go in one INSERT,
/// which takes one round trip where `COPY` and its staging table take several.
const COPY_FROM: usize = 1_000;

/// Loads RSF into the register `name` (created when new, if the name follows
/// [`register_core::name::REGISTER_NAME_RULE`]) inside the caller's transaction:
/// locks the register, checks it is what `mirror` says (a local register, or a mirror of that
/// slice), validates with register-core's loader against the state, then writes. `mirror`
/// lifts the rule that the RSF's `name` is `name`. With `keys`, the logs the load leaves at
/// a new size get their signed checkpoints in the same transaction (a local register only).
/// Any error leaves the transaction to be rolled back.
pub(crate) fn load<R: BufRead + Send>(
    conn: &mut AnyConnection,
    name: &str,
    reader: R,
    mode: Mode,
    mirror: Option<&MirrorOf>,
    keys: Option<&NodeKeys>,
) -> Result<LoadReport, StoreError> {
    lock_register(conn, name)?;
    let existing = find_register(conn, name)?;
    if existing.is_none() {
        // Before the file is read: a name that cannot be created costs nothing.
        register_core::check_register_name(name)?;
    }
    check_target(name, existing.as_ref(), mirror)?;
    let (changes, had_indexes) = {
        let cell = RefCell::new(&mut *conn);
        let state = DbState::new(&cell, existing.clone())?;
        let had_indexes = state.index_names();
        (register_core::load(reader, &state, mode)?, had_indexes)
    };
    if let (Some(found), None) = (changes.metadata.name.as_deref(), mirror) {
        if found != name {
            return Err(StoreError::NameMismatch {
                expected: name.to_string(),
                found: found.to_string(),
            });
        }
    }
    let before = Before {
        indexes: &had_indexes,
        records: None,
    };
    commit(conn, name, existing, changes, before, mirror, keys)
}

/// Checks that the register `name` (its row `existing`, `None` when new) is what a load
/// expects: a local register (`mirror` is `None`), or a mirror of exactly that slice.
pub(crate) fn check_target(
    name: &str,
    existing: Option<&RegisterRow>,
    mirror: Option<&MirrorOf>,
) -> Result<(), StoreError> {
    let Some(row) = existing else {
        return Ok(());
    };
    let columns = mirror.map(MirrorOf::columns);
    let stored = row.mirror_plan.as_ref().map(|plan| {
        (
            row.mirror_partner.clone().unwrap_or_default(),
            plan.clone(),
            row.mirror_slice.clone().unwrap_or_default(),
        )
    });
    match (&stored, &columns) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(StoreError::Mirror(name.to_string())),
        (None, Some(_)) => Err(StoreError::Conflict(format!(
            "register '{name}' is a local register, not a mirror"
        ))),
        (Some((_, plan, slice)), Some((_, want_plan, want_slice))) => {
            // The slice and plan it mirrors may be another partnership's: the message names
            // only the ones of this load.
            if (plan, slice) != (want_plan, want_slice) {
                return Err(StoreError::Conflict(format!(
                    "register '{name}' mirrors another slice; slice {want_slice} of plan \
                     {want_plan} cannot be loaded into it"
                )));
            }
            Ok(())
        }
    }
}

/// What the caller of [`commit`] knows of the register before the changes.
pub(crate) struct Before<'a> {
    /// The indexes declared before.
    pub indexes: &'a BTreeSet<String>,
    /// The user keys the changes touch that had a record, when the caller read them all (a
    /// write batch does); `None`: they are counted.
    pub records: Option<&'a BTreeSet<String>>,
}

/// Writes validated `changes` into the register `name` (its row `existing`, created when
/// `None`) inside the caller's transaction, which must hold the register's lock since the
/// changes were validated: rows, index logs (of the indexes declared `before`), and the
/// signed checkpoints of a local register.
pub(crate) fn commit(
    conn: &mut AnyConnection,
    name: &str,
    existing: Option<RegisterRow>,
    changes: Changes,
    before: Before<'_>,
    mirror: Option<&MirrorOf>,
    keys: Option<&NodeKeys>,
) -> Result<LoadReport, StoreError> {
    let had_indexes = before.indexes;
    let created = existing.is_none();
    let register_id = match existing {
        Some(row) => row.id,
        None => {
            let id = create_register(conn, name)?;
            if let Some(mirror) = mirror {
                let (partner, plan, slice) = mirror.columns();
                diesel::update(registers::table.find(id))
                    .set((
                        registers::mirror_partner.eq(partner),
                        registers::mirror_plan.eq(plan),
                        registers::mirror_slice.eq(slice),
                    ))
                    .execute(conn)?;
            }
            id
        }
    };
    let summary = changes.summary;
    // Index entries need the records as they were before this load.
    indexes::write_index_entries(conn, register_id, had_indexes, &changes)?;
    let declared: Vec<String> = changes.metadata.indexes.keys().cloned().collect();
    let grew = changes.user.entries.len() + changes.system.entries.len();
    let (total_entries, root) = write_changes(conn, register_id, changes, before.records)?;
    if let Some((size, target)) = mirror.and_then(|m| m.target) {
        // Checked before the transaction commits: an error here rolls the load back.
        if total_entries > size || (total_entries == size && root != target) {
            return Err(StoreError::Conflict(format!(
                "the delta leads mirror '{name}' to {total_entries} entries with root {root}, \
                 which is not on the way to the primary's signed checkpoint ({size} entries, \
                 root {target}); nothing was applied"
            )));
        }
    }
    // After the items are written: the index logs' item lists refer to them.
    for index in &declared {
        indexes::sync_tree(conn, register_id, index)?;
    }
    let checkpoint = match (keys, mirror) {
        (Some(keys), None) => Some(checkpoints::sign_loaded(
            conn,
            keys,
            (register_id, name),
            (total_entries, root),
            !declared.is_empty(),
        )?),
        _ => None,
    };
    if grew >= ANALYZE_AFTER {
        analyze(conn)?;
    }
    Ok(LoadReport {
        register: name.to_string(),
        created,
        summary,
        total_entries,
        root,
        checkpoint,
    })
}

fn create_register(conn: &mut AnyConnection, name: &str) -> Result<i64, StoreError> {
    let max: Option<i64> = registers::table
        .select(diesel::dsl::max(registers::id))
        .first(conn)?;
    let id = max.unwrap_or(0) + 1;
    let empty = merkle::empty_root().0.to_vec();
    let at = now();
    diesel::insert_into(registers::table)
        .values(NewRegister {
            id,
            name,
            created_at: at,
            updated_at: at,
            user_root: empty.clone(),
            system_root: empty,
        })
        .execute(conn)?;
    Ok(id)
}

/// Refreshes PostgreSQL's statistics after a large load: the planner otherwise keeps guessing
/// from an empty table and picks bitmap scans over whole registers for the proof lookups.
fn analyze(conn: &mut AnyConnection) -> Result<(), StoreError> {
    if let AnyConnection::Postgresql(c) = conn {
        c.batch_execute(
            "ANALYZE items, register_items, entries, records, record_items, merkle_nodes, \
             index_entries, index_logs, index_merkle_nodes, index_items",
        )?;
    }
    Ok(())
}

/// Writes accepted changes with multi-row inserts; returns the new user size and root.
fn write_changes(
    conn: &mut AnyConnection,
    register_id: i64,
    changes: Changes,
    had_records: Option<&BTreeSet<String>>,
) -> Result<(u64, Digest), StoreError> {
    let Changes {
        items: mut new_items,
        unreferenced,
        user,
        system,
        ..
    } = changes;

    let first_load = user.base_size == 0 && system.base_size == 0;
    // In key order, every table and index below is written front to back: B-tree pages are
    // filled in turn instead of being revisited at random, which is what kept the cache
    // thrashing on large loads.
    new_items.sort_unstable_by_key(|item| item.hash);
    // What the rows after the items need is derived from the logs alone, on another thread
    // while the items are written (a core is otherwise idle then: SQLite writes on this
    // thread, PostgreSQL in its own process).
    let derive = || {
        (
            referenced_items(unreferenced, &user, &system),
            LogRecords::of(LogKind::System, &system),
            LogRecords::of(LogKind::User, &user),
        )
    };
    let (referenced, system_records, user_records) =
        if user.entries.len() + system.entries.len() < DERIVE_BESIDE_FROM {
            // A write batch: starting a thread would cost more than deriving.
            write_items(conn, new_items)?;
            derive()
        } else {
            std::thread::scope(|scope| {
                let derived = scope.spawn(derive);
                let written = write_items(conn, new_items);
                let derived = derived
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                written.map(|()| derived)
            })?
        };
    let added_items = match conn {
        AnyConnection::Postgresql(c) if first_load => {
            pg_copy::copy_register_items(c, register_id, &referenced)?
        }
        _ => {
            let mut bulk = Bulk::new(
                conn,
                "INSERT INTO register_items (register_id, hash) VALUES",
                "ON CONFLICT (register_id, hash) DO NOTHING",
            );
            for hash in &referenced {
                bulk.row()?.int(register_id).blob(&hash.0 .0).end();
            }
            bulk.finish()?
        }
    };

    let user_size = user.base_size + user.entries.len() as u64;
    let system_size = system.base_size + system.entries.len() as u64;
    let (user_root, system_root) = (user.root, system.root);
    // The record count moves by the touched keys that gain or lose a record: counting the
    // touched keys costs what the load writes, counting the register would cost its size.
    let had = match had_records {
        Some(had) => had.len() as i64,
        None if first_load => 0,
        None => {
            let mut keys: Vec<&str> = user.entries.iter().map(|e| e.key.as_str()).collect();
            keys.sort_unstable();
            keys.dedup();
            count_records(conn, register_id, &keys)?
        }
    };
    write_log(conn, register_id, LogKind::System, &system, &system_records)?;
    write_log(conn, register_id, LogKind::User, &user, &user_records)?;
    let user_was_empty = user.base_size == 0;
    let touched = user_records.touched;
    // Facet rows exist only for keys that had a record; when the caller knows which, only
    // theirs are replaced (a batch of new keys deletes nothing).
    let stale: Vec<&str> = match had_records {
        Some(had) => had.iter().map(String::as_str).collect(),
        None if user_was_empty => Vec::new(),
        None => touched.keys().map(String::as_str).collect(),
    };
    write_record_items(conn, register_id, &touched, user_was_empty, &stale)?;
    let has_records = touched.values().filter(|hashes| !hashes.is_empty()).count() as i64;
    diesel::update(registers::table.find(register_id))
        .set((
            registers::user_size.eq(to_i64(user_size)),
            registers::system_size.eq(to_i64(system_size)),
            registers::record_count.eq(registers::record_count + has_records - had),
            registers::item_count.eq(registers::item_count + added_items as i64),
            registers::user_root.eq(user_root.0.to_vec()),
            registers::system_root.eq(system_root.0.to_vec()),
            registers::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok((user_size, user_root))
}

/// New items, in hash order.
fn write_items(conn: &mut AnyConnection, new_items: Vec<NewItem>) -> Result<(), StoreError> {
    match conn {
        AnyConnection::Postgresql(c) if new_items.len() >= COPY_FROM => {
            pg_copy::copy_items(c, &new_items)?;
        }
        _ => {
            let mut bulk = Bulk::new(
                conn,
                "INSERT INTO items (hash, canonical) VALUES",
                "ON CONFLICT (hash) DO NOTHING",
            );
            for item in &new_items {
                bulk.row()?.blob(&item.hash.0 .0).text(&item.json).end();
            }
            bulk.finish()?;
        }
    }
    Ok(())
}

/// The register's items, in hash order: those its entries name, and in relaxed mode those
/// it was given without an entry (served at /items/{hash} all the same).
fn referenced_items(
    unreferenced: Vec<ItemHash>,
    user: &LogChanges,
    system: &LogChanges,
) -> Vec<ItemHash> {
    let mut referenced: ItemSet = unreferenced.into_iter().collect();
    for entry in user.entries.iter().chain(&system.entries) {
        referenced.extend(entry.item_hashes.iter().copied());
    }
    let mut referenced: Vec<ItemHash> = referenced.into_iter().collect();
    referenced.sort_unstable();
    referenced
}

/// How a log's new entries move its records: the newest entry of each key becomes its
/// record, one with no items removes it.
struct LogRecords<'c> {
    /// Keys with their newest entry's number, in key order.
    current: Vec<(&'c str, u64)>,
    /// Keys whose newest entry has no items.
    removed: Vec<&'c str>,
    /// The user log's touched keys with their new item lists (empty for the system log).
    touched: BTreeMap<String, Vec<ItemHash>>,
}

impl<'c> LogRecords<'c> {
    fn of(log: LogKind, changes: &'c LogChanges) -> LogRecords<'c> {
        let mut latest: HashMap<&str, (u64, &[ItemHash])> = HashMap::new();
        for entry in &changes.entries {
            latest.insert(&entry.key, (entry.entry_number, &entry.item_hashes));
        }
        let mut current: Vec<(&str, u64)> = latest
            .iter()
            .filter(|(_, (_, hashes))| !hashes.is_empty())
            .map(|(key, (number, _))| (*key, *number))
            .collect();
        current.sort_unstable();
        let removed = latest
            .iter()
            .filter(|(_, (_, hashes))| hashes.is_empty())
            .map(|(key, _)| *key)
            .collect();
        let mut touched = BTreeMap::new();
        if log == LogKind::User {
            for (key, (_, hashes)) in latest {
                touched.insert(key.to_string(), hashes.to_vec());
            }
        }
        LogRecords {
            current,
            removed,
            touched,
        }
    }
}

/// How many of `keys` have a current user record.
fn count_records(
    conn: &mut AnyConnection,
    register_id: i64,
    keys: &[&str],
) -> Result<i64, StoreError> {
    let mut count = 0;
    for chunk in keys.chunks(500) {
        count += records::table
            .filter(records::register_id.eq(register_id))
            .filter(records::log.eq(log_code(LogKind::User)))
            .filter(records::key.eq_any(chunk))
            .count()
            .get_result::<i64>(conn)?;
    }
    Ok(count)
}

/// Inserts a log's entries and Merkle nodes and moves its records (`records`, derived from
/// `changes`).
fn write_log(
    conn: &mut AnyConnection,
    register_id: i64,
    log: LogKind,
    changes: &LogChanges,
    records: &LogRecords<'_>,
) -> Result<(), StoreError> {
    let code = i64::from(log_code(log));
    match conn {
        AnyConnection::Postgresql(c) if changes.entries.len() >= COPY_FROM => {
            pg_copy::copy_log(c, register_id, log, changes)?;
        }
        _ => write_log_rows(conn, register_id, code, changes)?,
    }
    match conn {
        // A log that was empty has no records to update.
        AnyConnection::Postgresql(c) if changes.base_size == 0 => {
            pg_copy::copy_records(c, register_id, log, &records.current)?;
        }
        _ => {
            let mut bulk = Bulk::new(
                conn,
                "INSERT INTO records (register_id, log, key, entry_number) VALUES",
                "ON CONFLICT (register_id, log, key) DO UPDATE SET entry_number = \
                 excluded.entry_number",
            );
            for &(key, number) in &records.current {
                bulk.row()?
                    .int(register_id)
                    .int(code)
                    .text(key)
                    .int(to_i64(number))
                    .end();
            }
            bulk.finish()?;
        }
    }
    for chunk in records.removed.chunks(500) {
        diesel::delete(
            records::table
                .filter(records::register_id.eq(register_id))
                .filter(records::log.eq(log_code(log)))
                .filter(records::key.eq_any(chunk)),
        )
        .execute(conn)?;
    }
    Ok(())
}

/// Entries of every register's logs, as their sizes say (a count of the table would read it).
fn stored_entries(conn: &mut AnyConnection) -> Result<u64, StoreError> {
    let sizes: Vec<(i64, i64)> = registers::table
        .select((registers::user_size, registers::system_size))
        .load(conn)?;
    Ok(sizes.into_iter().map(|(u, s)| to_u64(u) + to_u64(s)).sum())
}

/// Entries and Merkle nodes as multi-row INSERTs (SQLite, and small batches on PostgreSQL).
fn write_log_rows(
    conn: &mut AnyConnection,
    register_id: i64,
    code: i64,
    changes: &LogChanges,
) -> Result<(), StoreError> {
    let adding = changes.entries.len();
    let stored = if adding >= bulk::REBUILD_MIN_ROWS {
        stored_entries(conn)?
    } else {
        0
    };
    bulk::with_indexes_rebuilt(conn, &["entries_by_key"], adding, stored, |conn| {
        let mut bulk = Bulk::new(
            conn,
            "INSERT INTO entries (register_id, log, number, timestamp, key, item_hashes) VALUES",
            "",
        );
        for entry in &changes.entries {
            bulk.row()?
                .int(register_id)
                .int(code)
                .int(to_i64(entry.entry_number))
                .int(entry.timestamp.unix_seconds())
                .text(&entry.key)
                .blob_owned(encode_hashes(&entry.item_hashes))
                .end();
        }
        bulk.finish()
    })?;
    let mut bulk = Bulk::new(
        conn,
        "INSERT INTO merkle_nodes (register_id, log, level, idx, hash) VALUES",
        "",
    );
    // Leaves are not stored: they are recomputed from their entries (see `state::leaf`).
    for (level, idx, hash) in changes.nodes.nodes(changes.base_size).filter(|n| n.0 > 0) {
        bulk.row()?
            .int(register_id)
            .int(code)
            .int(i64::from(level))
            .int(to_i64(idx))
            .blob(&hash.0)
            .end();
    }
    bulk.finish()?;
    Ok(())
}

/// Replaces the facet rows of the user records a load touched: deletes those of the `stale`
/// keys, writes the new ones (`fresh`: the user log was empty, so there are none to replace).
fn write_record_items(
    conn: &mut AnyConnection,
    register_id: i64,
    touched: &BTreeMap<String, Vec<ItemHash>>,
    fresh: bool,
    stale: &[&str],
) -> Result<(), StoreError> {
    if fresh {
        if let AnyConnection::Postgresql(c) = conn {
            return pg_copy::copy_record_items(c, register_id, touched);
        }
    } else {
        for chunk in stale.chunks(500) {
            diesel::delete(
                record_items::table
                    .filter(record_items::register_id.eq(register_id))
                    .filter(record_items::key.eq_any(chunk)),
            )
            .execute(conn)?;
        }
    }
    let mut bulk = Bulk::new(
        conn,
        "INSERT INTO record_items (register_id, key, position, hash) VALUES",
        "",
    );
    for (key, hashes) in touched {
        for (position, hash) in hashes.iter().enumerate() {
            bulk.row()?
                .int(register_id)
                .text(key)
                .int(position as i64)
                .blob(&hash.0 .0)
                .end();
        }
    }
    bulk.finish()?;
    Ok(())
}
