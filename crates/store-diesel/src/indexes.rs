//! Index logs (registers.md §5) in the store: derived on every load, served like registers.
//!
//! register-core's [`IndexLog`] does the derivation. A load resumes it with the current
//! members of just the values the load touches (read from `record_items`), so the cost
//! follows the size of the load, not of the register. An index declared after data exists is
//! built by replaying the whole user log, as in memory.
//!
//! Each index log is also a log in its own right: its Merkle tree (RFC 6962 leaves of the index
//! entries, hashed exactly like user entries) is kept in `index_merkle_nodes` and its size,
//! root and counts in `index_logs`, both brought up to date in the load's transaction
//! ([`sync_tree`]), so index reads, ETags and proofs cost what register ones do.
//!
//! This is the writing side; reading stored index logs is `index_logs`' part.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use register_core::hash::{ItemMap, ItemSet};
use register_core::index::values_of;
use register_core::load::Changes;
use register_core::merkle::Frontier;
use register_core::metadata::IndexDef;
use register_core::{Entry, IndexLog, ItemHash, ItemView, LogKind};

use crate::bulk::Bulk;
use crate::conn::AnyConnection;
use crate::error::StoreError;
use crate::index_logs::{entries_page, has_log, value_entries};
use crate::registers::{current_entry, lock_register, read_metadata};
use crate::rows::{digest, encode_hashes, log_code, now, to_i64, to_u64, EntryRow, MemberRow};
use crate::schema::{entries, index_entries, index_logs, items, registers};
use crate::tree::{DbNodes, Tree};

/// Item JSON by hash: the load's new items first, then the database.
struct Items<'a> {
    new: ItemMap<&'a str>,
    cache: HashMap<ItemHash, String>,
}

impl Items<'_> {
    fn json(&mut self, conn: &mut AnyConnection, hash: &ItemHash) -> Result<String, StoreError> {
        if let Some(json) = self.new.get(hash) {
            return Ok((*json).to_string());
        }
        if let Some(json) = self.cache.get(hash) {
            return Ok(json.clone());
        }
        let json: String = items::table
            .find(hash.0 .0.to_vec())
            .select(items::canonical)
            .first(conn)?;
        self.cache.insert(*hash, json.clone());
        Ok(json)
    }

    fn values(
        &mut self,
        conn: &mut AnyConnection,
        hashes: &[ItemHash],
        field: &str,
    ) -> Result<Vec<(ItemHash, String)>, StoreError> {
        hashes
            .iter()
            .map(|h| Ok((*h, self.json(conn, h)?)))
            .collect::<Result<Vec<_>, StoreError>>()
            .map(|v| {
                v.into_iter()
                    .filter(|(_, json)| {
                        ItemView::parse(json).is_ok_and(|view| !values_of(&view, field).is_empty())
                    })
                    .collect()
            })
    }
}

fn views(items: &[(ItemHash, String)]) -> Vec<(ItemHash, ItemView<'_>)> {
    items
        .iter()
        .filter_map(|(h, json)| Some((*h, ItemView::parse(json).ok()?)))
        .collect()
}

/// Current item list of a user key, before this load.
fn stored_record(
    conn: &mut AnyConnection,
    register_id: i64,
    key: &str,
) -> Result<Vec<ItemHash>, StoreError> {
    Ok(current_entry(conn, register_id, LogKind::User, key)?
        .map(|e| e.item_hashes)
        .unwrap_or_default())
}

/// Derives and writes the index entries of a load, before its records are written.
/// `had_indexes` are the indexes declared before the load.
pub(crate) fn write_index_entries(
    conn: &mut AnyConnection,
    register_id: i64,
    had_indexes: &BTreeSet<String>,
    changes: &Changes,
) -> Result<(), StoreError> {
    if changes.metadata.indexes.is_empty() {
        return Ok(());
    }
    let mut items = Items {
        new: changes
            .items
            .iter()
            .map(|item| (item.hash, &*item.json))
            .collect(),
        cache: HashMap::new(),
    };
    for def in changes.metadata.indexes.values() {
        let log = if had_indexes.contains(&def.name) || changes.user.base_size == 0 {
            resume(conn, register_id, def, changes, &mut items)?
        } else {
            rebuild(conn, register_id, def, changes, &mut items)?
        };
        let mut bulk = Bulk::new(
            conn,
            "INSERT INTO index_entries (register_id, index_name, index_entry_number, \
             entry_number, timestamp, key, item_hashes) VALUES",
            "",
        );
        for entry in log.entries() {
            bulk.row()?
                .int(register_id)
                .text(&def.name)
                .int(to_i64(entry.index_entry_number))
                .int(to_i64(entry.entry_number))
                .int(entry.timestamp.unix_seconds())
                .text(&entry.key)
                .blob_owned(encode_hashes(&entry.item_hashes))
                .end();
        }
        bulk.finish()?;
    }
    Ok(())
}

/// Continues an index over this load's user entries.
fn resume(
    conn: &mut AnyConnection,
    register_id: i64,
    def: &IndexDef,
    changes: &Changes,
    items: &mut Items<'_>,
) -> Result<IndexLog, StoreError> {
    let field = def.field.as_str();
    // Old item lists as each entry replaces them, and every value touched.
    let mut current: HashMap<&str, Vec<ItemHash>> = HashMap::new();
    let mut steps = Vec::with_capacity(changes.user.entries.len());
    let mut touched: BTreeSet<String> = BTreeSet::new();
    for entry in &changes.user.entries {
        let old = match current.get(entry.key.as_str()) {
            Some(old) => old.clone(),
            None if changes.user.base_size == 0 => Vec::new(),
            None => stored_record(conn, register_id, &entry.key)?,
        };
        let old = items.values(conn, &old, field)?;
        let new = items.values(conn, &entry.item_hashes, field)?;
        for (_, json) in old.iter().chain(&new) {
            if let Ok(view) = ItemView::parse(json) {
                touched.extend(values_of(&view, field));
            }
        }
        current.insert(&entry.key, entry.item_hashes.clone());
        steps.push((entry, old, new));
    }
    let base: i64 = index_entries::table
        .filter(index_entries::register_id.eq(register_id))
        .filter(index_entries::index_name.eq(&def.name))
        .count()
        .get_result(conn)?;
    let mut members: BTreeMap<String, BTreeMap<String, Vec<ItemHash>>> = BTreeMap::new();
    if changes.user.base_size > 0 {
        for value in &touched {
            for (key, hashes) in stored_members(conn, register_id, field, value, items)? {
                members
                    .entry(value.clone())
                    .or_default()
                    .insert(key, hashes);
            }
        }
    }
    let mut log = IndexLog::resume(def.clone(), to_u64(base), members);
    for (entry, old, new) in &steps {
        log.on_record_change(entry, &views(old), &views(new));
    }
    Ok(log)
}

/// The current records with `value` in `field`, each with its items having it.
fn stored_members(
    conn: &mut AnyConnection,
    register_id: i64,
    field: &str,
    value: &str,
    items: &mut Items<'_>,
) -> Result<Vec<(String, Vec<ItemHash>)>, StoreError> {
    // Candidates by JSON lookup; the exact value test is repeated below on the parsed item.
    let path = format!("$.\"{field}\"");
    let rows: Vec<MemberRow> = match conn {
        AnyConnection::Postgresql(c) => diesel::sql_query(
            "SELECT ri.key, ri.hash FROM record_items ri JOIN items i ON i.hash = ri.hash \
             WHERE ri.register_id = $1 AND (i.canonical::jsonb @> jsonb_build_object($2::text, $3::text) \
               OR i.canonical::jsonb @> jsonb_build_object($2::text, jsonb_build_array($3::text))) \
             ORDER BY ri.key, ri.position",
        )
        .bind::<BigInt, _>(register_id)
        .bind::<Text, _>(field)
        .bind::<Text, _>(value)
        .load(c)?,
        AnyConnection::Sqlite(c) => diesel::sql_query(
            "SELECT ri.key, ri.hash FROM record_items ri JOIN items i ON i.hash = ri.hash \
             WHERE ri.register_id = ? AND (json_extract(i.canonical, ?) = ? OR EXISTS ( \
               SELECT 1 FROM json_each(i.canonical, ?) j \
               WHERE json_type(i.canonical, ?) = 'array' AND j.value = ?)) \
             ORDER BY ri.key, ri.position",
        )
        .bind::<BigInt, _>(register_id)
        .bind::<Text, _>(&path)
        .bind::<Text, _>(value)
        .bind::<Text, _>(&path)
        .bind::<Text, _>(&path)
        .bind::<Text, _>(value)
        .load(c)?,
    };
    let rows: Vec<(String, Vec<u8>)> = rows.into_iter().map(|m| (m.key, m.hash)).collect();
    let mut found: BTreeMap<String, Vec<ItemHash>> = BTreeMap::new();
    for (key, hash) in rows {
        let hash = ItemHash(digest(&hash)?);
        let json = items.json(conn, &hash)?;
        let has =
            ItemView::parse(&json).is_ok_and(|v| values_of(&v, field).iter().any(|x| x == value));
        if has {
            let list = found.entry(key).or_default();
            if !list.contains(&hash) {
                list.push(hash);
            }
        }
    }
    Ok(found.into_iter().collect())
}

/// Builds a newly declared index from the whole user log: stored entries, then this load's.
fn rebuild(
    conn: &mut AnyConnection,
    register_id: i64,
    def: &IndexDef,
    changes: &Changes,
    items: &mut Items<'_>,
) -> Result<IndexLog, StoreError> {
    let field = def.field.as_str();
    let mut log = IndexLog::new(def.clone());
    let mut current: HashMap<String, Vec<ItemHash>> = HashMap::new();
    let mut next = 1i64;
    loop {
        let rows: Vec<EntryRow> = entries::table
            .filter(entries::register_id.eq(register_id))
            .filter(entries::log.eq(log_code(LogKind::User)))
            .filter(entries::number.ge(next))
            .order(entries::number.asc())
            .limit(10_000)
            .select(EntryRow::as_select())
            .load(conn)?;
        if rows.is_empty() {
            break;
        }
        next += rows.len() as i64;
        let page = rows
            .into_iter()
            .map(EntryRow::into_entry)
            .collect::<Result<Vec<Entry>, _>>()?;
        replay(conn, &mut log, &mut current, &page, field, items)?;
    }
    replay(
        conn,
        &mut log,
        &mut current,
        &changes.user.entries,
        field,
        items,
    )?;
    Ok(log)
}

fn replay(
    conn: &mut AnyConnection,
    log: &mut IndexLog,
    current: &mut HashMap<String, Vec<ItemHash>>,
    page: &[Entry],
    field: &str,
    items: &mut Items<'_>,
) -> Result<(), StoreError> {
    for entry in page {
        let old = current.get(&entry.key).cloned().unwrap_or_default();
        let old = items.values(conn, &old, field)?;
        let new = items.values(conn, &entry.item_hashes, field)?;
        log.on_record_change(entry, &views(&old), &views(&new));
        current.insert(entry.key.clone(), entry.item_hashes.clone());
    }
    Ok(())
}

/// Entries read per query while extending a tree or exporting.
const PAGE: u64 = 10_000;

/// Brings an index log's Merkle tree, item list and summary row up to its entries: appends
/// the entries after the tree's stored size (all of them the first time), so a load pays for
/// what it added. Runs inside the load's transaction, or under the register's lock.
pub(crate) fn sync_tree(
    conn: &mut AnyConnection,
    register_id: i64,
    name: &str,
) -> Result<(), StoreError> {
    let stored: Option<(i64, i64, i64)> = index_logs::table
        .find((register_id, name))
        .select((
            index_logs::size,
            index_logs::record_count,
            index_logs::item_count,
        ))
        .first(conn)
        .optional()?;
    let (size, mut record_count, mut item_count) =
        stored.map_or((0, 0, 0), |(s, r, i)| (to_u64(s), r, i));
    // Whether each value the new entries touch has items after them.
    let mut touched: HashMap<String, bool> = HashMap::new();
    let tree = Tree::Index(register_id, name);
    let mut frontier = {
        let cell = RefCell::new(&mut *conn);
        Frontier::from_store(&DbNodes { conn: &cell, tree }, size)?
    };
    let mut scratch = String::new();
    let mut next = size + 1;
    loop {
        let page = entries_page(conn, register_id, name, next, PAGE)?;
        let Some(last) = page.last().map(|e| e.index_entry_number) else {
            break;
        };
        next = last + 1;
        let mut nodes = Vec::with_capacity(page.len());
        let mut referenced = ItemSet::default();
        for entry in &page {
            // Leaves are not stored: they are recomputed from their entries.
            frontier.append(entry.leaf_hash(&mut scratch), |level, idx, hash| {
                if level > 0 {
                    nodes.push((level, idx, hash));
                }
            });
            referenced.extend(entry.item_hashes.iter().copied());
            touched.insert(entry.key.clone(), !entry.item_hashes.is_empty());
        }
        let mut bulk = Bulk::new(
            conn,
            "INSERT INTO index_merkle_nodes (register_id, index_name, level, idx, hash) VALUES",
            "",
        );
        for (level, idx, hash) in nodes {
            bulk.row()?
                .int(register_id)
                .text(name)
                .int(i64::from(level))
                .int(to_i64(idx))
                .blob(&hash.0)
                .end();
        }
        bulk.finish()?;
        let mut bulk = Bulk::new(
            conn,
            "INSERT INTO index_items (register_id, index_name, hash) VALUES",
            "ON CONFLICT (register_id, index_name, hash) DO NOTHING",
        );
        for hash in &referenced {
            bulk.row()?
                .int(register_id)
                .text(name)
                .blob(&hash.0 .0)
                .end();
        }
        item_count += bulk.finish()? as i64;
    }
    // Records are values whose latest entry has items: count the changes of the values this
    // run touched, against their latest entry before it (so the cost follows the load).
    for (value, has_items) in touched {
        let had_items = value_entries(register_id, name, &value)
            .filter(index_entries::index_entry_number.le(to_i64(size)))
            .order(index_entries::index_entry_number.desc())
            .select(index_entries::item_hashes)
            .first::<Vec<u8>>(conn)
            .optional()?
            .is_some_and(|hashes| !hashes.is_empty());
        record_count += i64::from(has_items) - i64::from(had_items);
    }
    // Delete and insert: an upsert would be backend-specific SQL for no gain here.
    diesel::delete(index_logs::table.find((register_id, name))).execute(conn)?;
    diesel::insert_into(index_logs::table)
        .values((
            index_logs::register_id.eq(register_id),
            index_logs::index_name.eq(name),
            index_logs::size.eq(to_i64(frontier.size())),
            index_logs::root.eq(frontier.root().0.to_vec()),
            index_logs::record_count.eq(record_count),
            index_logs::item_count.eq(item_count),
            index_logs::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Gives every declared index of every register its tree and summary row if it has none
/// (index logs written before `index_logs` existed). Each under its register's lock, so
/// processes opening one database at once do it once.
pub(crate) fn backfill(conn: &mut AnyConnection) -> Result<(), StoreError> {
    let registers: Vec<(i64, String)> = registers::table
        .select((registers::id, registers::name))
        .load(conn)?;
    for (register_id, register) in registers {
        let declared: Vec<String> = read_metadata(conn, register_id)?
            .indexes
            .into_keys()
            .collect();
        for index in declared {
            if has_log(conn, register_id, &index)? {
                continue;
            }
            conn.transaction::<_, StoreError, _>(|conn| {
                lock_register(conn, &register)?;
                if !has_log(conn, register_id, &index)? {
                    sync_tree(conn, register_id, &index)?;
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}
