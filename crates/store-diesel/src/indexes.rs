//! Index logs (registers.md §5) in the store: derived on every load, served like registers.
//!
//! register-core's [`IndexLog`] does the derivation. A load resumes it with the current
//! members of just the values the load touches (read from `record_items`), so the cost
//! follows the size of the load, not of the register. An index declared after data exists is
//! built by replaying the whole user log, as in memory.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use diesel::prelude::*;
use register_core::hash::ItemMap;
use register_core::index::values_of;
use register_core::load::Changes;
use register_core::metadata::IndexDef;
use register_core::{Entry, IndexLog, ItemHash, ItemView, LogKind};

use crate::bulk::Bulk;
use crate::conn::AnyConnection;
use crate::error::StoreError;
use crate::queries::Record;
use crate::rows::{decode_hashes, digest, encode_hashes, log_code, to_i64, to_u64, EntryRow};
use crate::schema::{entries, index_entries, items};
use crate::state::current_entry;
use crate::store::{find_register, Store};

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
                .blob(&encode_hashes(&entry.item_hashes))
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
    use diesel::sql_types::{BigInt, Binary, Text};
    #[derive(QueryableByName)]
    struct Member {
        #[diesel(sql_type = Text)]
        key: String,
        #[diesel(sql_type = Binary)]
        hash: Vec<u8>,
    }
    // Candidates by JSON lookup; the exact value test is repeated below on the parsed item.
    let path = format!("$.\"{field}\"");
    let rows: Vec<Member> = match conn {
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

#[derive(Queryable)]
struct IndexEntryRow {
    index_entry_number: i64,
    entry_number: i64,
    timestamp: i64,
    key: String,
    item_hashes: Vec<u8>,
}

impl IndexEntryRow {
    fn into_entry(self) -> Result<Entry, StoreError> {
        Ok(Entry {
            entry_number: to_u64(self.entry_number),
            index_entry_number: to_u64(self.index_entry_number),
            timestamp: register_core::Timestamp::from_unix_seconds(self.timestamp)
                .ok_or_else(|| StoreError::Corrupt(format!("timestamp {}", self.timestamp)))?,
            key: self.key,
            item_hashes: decode_hashes(&self.item_hashes)?,
        })
    }
}

type IndexColumns = (
    index_entries::index_entry_number,
    index_entries::entry_number,
    index_entries::timestamp,
    index_entries::key,
    index_entries::item_hashes,
);

const INDEX_COLUMNS: IndexColumns = (
    index_entries::index_entry_number,
    index_entries::entry_number,
    index_entries::timestamp,
    index_entries::key,
    index_entries::item_hashes,
);

impl Store {
    fn index_register(
        &self,
        conn: &mut AnyConnection,
        name: &str,
        index: &str,
    ) -> Result<i64, StoreError> {
        let row = find_register(conn, name)?
            .ok_or_else(|| StoreError::RegisterNotFound(name.to_string()))?;
        let metadata = crate::state::read_metadata(conn, row.id)?;
        if !metadata.indexes.contains_key(index) {
            return Err(StoreError::NotFound(format!(
                "index '{index}' of register '{name}'"
            )));
        }
        Ok(row.id)
    }

    /// Up to `limit` entries of an index from index entry `start` (1-based).
    pub fn index_entries(
        &self,
        name: &str,
        index: &str,
        start: u64,
        limit: u64,
    ) -> Result<Vec<Entry>, StoreError> {
        let mut conn = self.conn()?;
        let id = self.index_register(&mut conn, name, index)?;
        let rows: Vec<IndexEntryRow> = index_entries::table
            .filter(index_entries::register_id.eq(id))
            .filter(index_entries::index_name.eq(index))
            .filter(index_entries::index_entry_number.ge(to_i64(start)))
            .order(index_entries::index_entry_number.asc())
            .limit(to_i64(limit))
            .select(INDEX_COLUMNS)
            .load(&mut *conn)?;
        rows.into_iter().map(IndexEntryRow::into_entry).collect()
    }

    /// The current index record of a value, with its items; `None` when no register record
    /// has the value (any more).
    pub fn index_record(
        &self,
        name: &str,
        index: &str,
        value: &str,
    ) -> Result<Option<Record>, StoreError> {
        let mut conn = self.conn()?;
        let id = self.index_register(&mut conn, name, index)?;
        let row: Option<IndexEntryRow> = index_entries::table
            .filter(index_entries::register_id.eq(id))
            .filter(index_entries::index_name.eq(index))
            .filter(index_entries::key.eq(value))
            .order(index_entries::index_entry_number.desc())
            .select(INDEX_COLUMNS)
            .first(&mut *conn)
            .optional()?;
        let Some(entry) = row.map(IndexEntryRow::into_entry).transpose()? else {
            return Ok(None);
        };
        if entry.item_hashes.is_empty() {
            return Ok(None);
        }
        let mut items = Items {
            new: ItemMap::default(),
            cache: HashMap::new(),
        };
        let with = entry
            .item_hashes
            .iter()
            .map(|h| Ok((*h, items.json(&mut conn, h)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(Record { entry, items: with }))
    }

    /// The values of an index that currently have records, in value order.
    pub fn index_values(&self, name: &str, index: &str) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        let id = self.index_register(&mut conn, name, index)?;
        let keys: Vec<String> = index_entries::table
            .filter(index_entries::register_id.eq(id))
            .filter(index_entries::index_name.eq(index))
            .select(index_entries::key)
            .distinct()
            .order(index_entries::key.asc())
            .load(&mut *conn)?;
        drop(conn);
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            if self.index_record(name, index, &key)?.is_some() {
                values.push(key);
            }
        }
        Ok(values)
    }
}
