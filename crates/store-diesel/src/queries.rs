//! Read queries: what the API serves, each over a connection the caller checked out.
//!
//! Every log the API serves is a [`Source`]: a register's user log, or one of its index logs
//! (registers.md §5). Both are read through the same functions, which dispatch on the tables
//! only where the two are stored differently; `tree` resolves a source to the stored tree
//! they take.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use register_core::hash::ItemMap;
use register_core::{merkle, Digest, Entry, ItemHash, LogKind};

use crate::conn::{native, AnyConnection};
use crate::error::StoreError;
use crate::index_logs;
use crate::registers::{current_entry, current_records, entries_page, register_row, RegisterIds};
use crate::rows::{decode_hashes, digest, log_code, to_i64, to_u64, EntryRow, KeyRow, RegisterRow};
use crate::schema::{
    entries, index_items, index_logs as index_logs_table, items, records, register_items, registers,
};
use crate::tree::Tree;

pub use crate::model::{Record, RegisterSummary, Source};

/// Entries per page while streaming an export.
pub(crate) const EXPORT_PAGE: u64 = 10_000;

/// The tree of a log: the register id from the cache, and for an index a check that it is
/// declared (it has a summary row).
pub(crate) fn tree<'s>(
    conn: &mut AnyConnection,
    ids: &RegisterIds,
    source: &'s Source,
) -> Result<Tree<'s>, StoreError> {
    let id = ids.get(conn, &source.register)?;
    let Some(index) = source.index.as_deref() else {
        return Ok(Tree::Log(id, LogKind::User));
    };
    let found: Option<i64> = index_logs_table::table
        .find((id, index))
        .select(index_logs_table::size)
        .first(conn)
        .optional()?;
    match found {
        Some(_) => Ok(Tree::Index(id, index)),
        None => Err(StoreError::NotFound(source.to_string())),
    }
}

/// Every register's summary, by name.
pub(crate) fn registers(conn: &mut AnyConnection) -> Result<Vec<RegisterSummary>, StoreError> {
    let rows: Vec<RegisterRow> = registers::table
        .order(registers::name.asc())
        .select(RegisterRow::as_select())
        .load(conn)?;
    rows.into_iter().map(RegisterRow::into_summary).collect()
}

/// The summary of a log: for an index, its own size, root and counts (`system_entries` 0,
/// `system_root` the empty tree's), with the register's name and creation time.
pub(crate) fn summary(
    conn: &mut AnyConnection,
    source: &Source,
) -> Result<RegisterSummary, StoreError> {
    let row = register_row(conn, &source.register)?;
    let Some(index) = &source.index else {
        return row.into_summary();
    };
    let log = index_logs::summary_row(conn, row.id, index)?
        .ok_or_else(|| StoreError::NotFound(source.to_string()))?;
    // An index of a mirror is part of the mirror.
    let mirror_of = row.clone().into_summary()?.mirror_of;
    Ok(RegisterSummary {
        name: row.name,
        total_entries: to_u64(log.size),
        system_entries: 0,
        total_records: to_u64(log.record_count),
        total_items: to_u64(log.item_count),
        root: digest(&log.root)?,
        system_root: merkle::empty_root(),
        created_at: row.created_at,
        updated_at: log.updated_at,
        mirror_of,
    })
}

/// Up to `limit` entries of a tree's log from `start` (1-based), in order.
pub(crate) fn page(
    conn: &mut AnyConnection,
    tree: Tree<'_>,
    start: u64,
    limit: u64,
) -> Result<Vec<Entry>, StoreError> {
    match tree {
        Tree::Log(id, log) => entries_page(conn, id, log, start, limit),
        Tree::Index(id, index) => index_logs::entries_page(conn, id, index, start, limit),
    }
}

/// The current record of a key (an index: of a value; `None` once it has no items).
pub(crate) fn record(
    conn: &mut AnyConnection,
    tree: Tree<'_>,
    key: &str,
) -> Result<Option<Record>, StoreError> {
    let entry = match tree {
        Tree::Log(id, log) => current_entry(conn, id, log, key)?,
        Tree::Index(id, index) => {
            index_logs::latest_entry(conn, id, index, key)?.filter(|e| !e.item_hashes.is_empty())
        }
    };
    match entry {
        Some(entry) => Ok(with_items(conn, vec![entry])?.pop()),
        None => Ok(None),
    }
}

/// A page of current records, newest entry first.
pub(crate) fn records(
    conn: &mut AnyConnection,
    tree: Tree<'_>,
    offset: u64,
    limit: u64,
) -> Result<Vec<Record>, StoreError> {
    let entries = match tree {
        Tree::Log(id, log) => {
            let rows: Vec<EntryRow> = current_records(id, log_code(log))
                .order(records::entry_number.desc())
                .offset(to_i64(offset))
                .limit(to_i64(limit))
                .select(EntryRow::as_select())
                .load(conn)?;
            rows.into_iter()
                .map(EntryRow::into_entry)
                .collect::<Result<Vec<_>, _>>()?
        }
        Tree::Index(id, index) => index_logs::records_page(conn, id, index, offset, limit)?,
    };
    with_items(conn, entries)
}

/// Every entry of a key, oldest first (an index: every entry of a value, the empty ones
/// included).
pub(crate) fn history(
    conn: &mut AnyConnection,
    tree: Tree<'_>,
    key: &str,
) -> Result<Vec<Entry>, StoreError> {
    match tree {
        Tree::Log(id, log) => {
            let rows: Vec<EntryRow> = entries::table
                .filter(entries::register_id.eq(id))
                .filter(entries::log.eq(log_code(log)))
                .filter(entries::key.eq(key))
                .order(entries::number.asc())
                .select(EntryRow::as_select())
                .load(conn)?;
            rows.into_iter().map(EntryRow::into_entry).collect()
        }
        Tree::Index(id, index) => index_logs::history(conn, id, index, key),
    }
}

/// The canonical JSON of an item the log refers to.
pub(crate) fn item(
    conn: &mut AnyConnection,
    tree: Tree<'_>,
    hash: &ItemHash,
) -> Result<Option<String>, StoreError> {
    let key = hash.0 .0.to_vec();
    Ok(match tree {
        Tree::Log(id, _) => register_items::table
            .inner_join(items::table.on(items::hash.eq(register_items::hash)))
            .filter(register_items::register_id.eq(id))
            .filter(register_items::hash.eq(key))
            .select(items::canonical)
            .first(conn)
            .optional()?,
        Tree::Index(id, index) => index_items::table
            .inner_join(items::table.on(items::hash.eq(index_items::hash)))
            .filter(index_items::register_id.eq(id))
            .filter(index_items::index_name.eq(index))
            .filter(index_items::hash.eq(key))
            .select(items::canonical)
            .first(conn)
            .optional()?,
    })
}

/// Calls `f` with the key and item hashes of every current user record of `name`, in entry
/// order, a page at a time; returns the user-log root they belong to. Runs as the first
/// statements of the caller's transaction, which it makes repeatable read on PostgreSQL.
pub(crate) fn for_each_record(
    conn: &mut AnyConnection,
    name: &str,
    mut f: impl FnMut(&str, &[ItemHash]),
) -> Result<Digest, StoreError> {
    if let AnyConnection::Postgresql(c) = conn {
        diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(c)?;
    }
    let row = register_row(conn, name)?;
    let mut after = 0i64;
    loop {
        let rows: Vec<EntryRow> = current_records(row.id, log_code(LogKind::User))
            .filter(records::entry_number.gt(after))
            .order(records::entry_number.asc())
            .limit(to_i64(EXPORT_PAGE))
            .select(EntryRow::as_select())
            .load(conn)?;
        let Some(last) = rows.last().map(|r| r.number) else {
            break;
        };
        for entry in rows {
            f(&entry.key, &decode_hashes(&entry.item_hashes)?);
        }
        after = last;
    }
    digest(&row.user_root)
}

/// Whether `field` can name a field at all (a facet of anything else is empty).
pub(crate) fn is_field_name(field: &str) -> bool {
    field.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && field
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-'))
}

/// The keys of the current user records with an item whose `field` equals `value` (or, for
/// a list field, contains it), newest first. `field` must pass [`is_field_name`].
pub(crate) fn facet_keys(
    conn: &mut AnyConnection,
    register_id: i64,
    field: &str,
    value: &str,
    offset: u64,
    limit: u64,
) -> Result<Vec<String>, StoreError> {
    let keys: Vec<KeyRow> = match conn {
        AnyConnection::Postgresql(c) => diesel::sql_query(
            "SELECT r.key FROM records r WHERE r.register_id = $1 AND r.log = 0 AND EXISTS ( \
               SELECT 1 FROM record_items ri JOIN items i ON i.hash = ri.hash \
               WHERE ri.register_id = r.register_id AND ri.key = r.key AND ( \
                 i.canonical::jsonb @> jsonb_build_object($2::text, $3::text) OR \
                 i.canonical::jsonb @> jsonb_build_object($2::text, jsonb_build_array($3::text)))) \
             ORDER BY r.entry_number DESC OFFSET $4 LIMIT $5",
        )
        .bind::<BigInt, _>(register_id)
        .bind::<Text, _>(field)
        .bind::<Text, _>(value)
        .bind::<BigInt, _>(to_i64(offset))
        .bind::<BigInt, _>(to_i64(limit))
        .load(c)?,
        AnyConnection::Sqlite(c) => diesel::sql_query(
            "SELECT r.key FROM records r WHERE r.register_id = ? AND r.log = 0 AND EXISTS ( \
               SELECT 1 FROM record_items ri JOIN items i ON i.hash = ri.hash \
               WHERE ri.register_id = r.register_id AND ri.key = r.key AND ( \
                 json_extract(i.canonical, ?) = ? OR EXISTS ( \
                   SELECT 1 FROM json_each(i.canonical, ?) j \
                   WHERE json_type(i.canonical, ?) = 'array' AND j.value = ?))) \
             ORDER BY r.entry_number DESC LIMIT ? OFFSET ?",
        )
        .bind::<BigInt, _>(register_id)
        .bind::<Text, _>(format!("$.\"{field}\""))
        .bind::<Text, _>(value)
        .bind::<Text, _>(format!("$.\"{field}\""))
        .bind::<Text, _>(format!("$.\"{field}\""))
        .bind::<Text, _>(value)
        .bind::<BigInt, _>(to_i64(limit))
        .bind::<BigInt, _>(to_i64(offset))
        .load(c)?,
    };
    Ok(keys.into_iter().map(|k| k.key).collect())
}

/// The end of an export range of a log whose summary is `summary`: `to`, or the log's size.
/// `from > to` and an end beyond the log are errors.
pub(crate) fn export_end(
    summary: &RegisterSummary,
    from: u64,
    to: Option<u64>,
) -> Result<u64, StoreError> {
    let to = to.unwrap_or(summary.total_entries);
    if from > to {
        return Err(register_core::Error::InvalidRange { from, to }.into());
    }
    if to > summary.total_entries {
        return Err(register_core::Error::SizeOutOfRange {
            size: to,
            current: summary.total_entries,
        }
        .into());
    }
    Ok(to)
}

pub(crate) fn item_jsons(
    conn: &mut AnyConnection,
    hashes: &[ItemHash],
) -> Result<ItemMap<String>, StoreError> {
    let mut found = ItemMap::default();
    if hashes.len() <= 4 {
        // The common record has one item: a cached single-key statement beats an `IN` list.
        for hash in hashes {
            let json: Option<String> = native!(conn, c => items::table
                .find(hash.0 .0.to_vec())
                .select(items::canonical)
                .first(c)
                .optional()?);
            if let Some(json) = json {
                found.insert(*hash, json);
            }
        }
        return Ok(found);
    }
    for chunk in hashes.chunks(500) {
        let keys: Vec<Vec<u8>> = chunk.iter().map(|h| h.0 .0.to_vec()).collect();
        let rows: Vec<(Vec<u8>, String)> = items::table
            .filter(items::hash.eq_any(keys))
            .select((items::hash, items::canonical))
            .load(conn)?;
        for (hash, json) in rows {
            found.insert(ItemHash(digest(&hash)?), json);
        }
    }
    Ok(found)
}

fn with_items(conn: &mut AnyConnection, entries: Vec<Entry>) -> Result<Vec<Record>, StoreError> {
    let hashes: Vec<ItemHash> = entries
        .iter()
        .flat_map(|e| e.item_hashes.iter().copied())
        .collect();
    let jsons = item_jsons(conn, &hashes)?;
    entries
        .into_iter()
        .map(|entry| {
            let items = entry
                .item_hashes
                .iter()
                .map(|h| {
                    jsons
                        .get(h)
                        .map(|j| (*h, j.clone()))
                        .ok_or_else(|| StoreError::Corrupt(format!("item {h} is missing")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Record { entry, items })
        })
        .collect()
}
