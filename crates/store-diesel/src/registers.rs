//! A register as stored: its row (found by name, through the id cache; locked for a load),
//! and the entries and current records of its two logs.

use std::collections::HashMap;
use std::sync::RwLock;

use diesel::prelude::*;
use register_core::{Entry, ItemHash, ItemView, LogKind, Metadata, Mode};

use crate::conn::{native, AnyConnection};
use crate::error::StoreError;
use crate::rows::{decode_hashes, log_code, to_i64, EntryRow, RegisterRow};
use crate::schema::{entries, items, records, registers};

/// Serialises loads into the register `name` until the transaction ends.
pub(crate) fn lock_register(conn: &mut AnyConnection, name: &str) -> Result<(), StoreError> {
    match conn {
        AnyConnection::Postgresql(c) => {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))::text")
                .bind::<diesel::sql_types::Text, _>(name)
                .execute(c)?;
        }
        AnyConnection::Sqlite(c) => {
            // The first statement writes, so the transaction takes the write lock before it
            // reads anything: concurrent loads queue on the busy timeout instead of failing.
            diesel::sql_query("UPDATE registers SET updated_at = updated_at WHERE id = -1")
                .execute(c)?;
        }
    }
    Ok(())
}

/// The register named `name`, if any.
pub(crate) fn find_register(
    conn: &mut AnyConnection,
    name: &str,
) -> Result<Option<RegisterRow>, StoreError> {
    Ok(native!(conn, c => registers::table
        .filter(registers::name.eq(name))
        .select(RegisterRow::as_select())
        .first(c)
        .optional()?))
}

/// The register named `name`; `RegisterNotFound` if there is none.
pub(crate) fn register_row(
    conn: &mut AnyConnection,
    name: &str,
) -> Result<RegisterRow, StoreError> {
    find_register(conn, name)?.ok_or_else(|| StoreError::RegisterNotFound(name.to_string()))
}

/// Register ids by name: they never change, so reads skip one lookup per request.
#[derive(Debug, Default)]
pub(crate) struct RegisterIds(RwLock<HashMap<String, i64>>);

impl RegisterIds {
    /// The id of a register, from the cache or the database.
    pub fn get(&self, conn: &mut AnyConnection, name: &str) -> Result<i64, StoreError> {
        if let Some(id) = self.0.read().ok().and_then(|ids| ids.get(name).copied()) {
            return Ok(id);
        }
        let row = register_row(conn, name)?;
        if let Ok(mut ids) = self.0.write() {
            ids.insert(name.to_string(), row.id);
        }
        Ok(row.id)
    }
}

/// The current records of a log with their entries (`records` joined to `entries`).
#[diesel::dsl::auto_type]
pub(crate) fn current_records(register_id: i64, log: i16) -> _ {
    records::table
        .inner_join(
            entries::table.on(entries::register_id
                .eq(records::register_id)
                .and(entries::log.eq(records::log))
                .and(entries::number.eq(records::entry_number))),
        )
        .filter(records::register_id.eq(register_id))
        .filter(records::log.eq(log))
}

/// The newest entry of `key` in a log when it has items: the record (`records` holds no row
/// for a removed one).
pub(crate) fn current_entry(
    conn: &mut AnyConnection,
    register_id: i64,
    log: LogKind,
    key: &str,
) -> Result<Option<Entry>, StoreError> {
    let row: Option<EntryRow> = native!(conn, c => current_records(register_id, log_code(log))
        .filter(records::key.eq(key))
        .select(EntryRow::as_select())
        .first(c)
        .optional()?);
    row.map(EntryRow::into_entry).transpose()
}

/// The item hashes of the newest entry of `key` in a log, whether or not it has items: what
/// rule 5 compares with (a removed record is `Some([])`).
pub(crate) fn latest_item_hashes(
    conn: &mut AnyConnection,
    register_id: i64,
    log: LogKind,
    key: &str,
) -> Result<Option<Vec<ItemHash>>, StoreError> {
    let row: Option<Vec<u8>> = native!(conn, c => entries::table
        .filter(entries::register_id.eq(register_id))
        .filter(entries::log.eq(log_code(log)))
        .filter(entries::key.eq(key))
        .order(entries::number.desc())
        .select(entries::item_hashes)
        .first(c)
        .optional()?);
    row.map(|hashes| decode_hashes(&hashes)).transpose()
}

/// [`latest_item_hashes`] of many keys in one query, for PostgreSQL where every query is a
/// round trip: the keys that have an entry, with its item hashes.
pub(crate) fn latest_item_hashes_of(
    c: &mut diesel::PgConnection,
    register_id: i64,
    log: LogKind,
    keys: &[&str],
) -> Result<Vec<(String, Vec<ItemHash>)>, StoreError> {
    let rows: Vec<(String, Vec<u8>)> = entries::table
        .filter(entries::register_id.eq(register_id))
        .filter(entries::log.eq(log_code(log)))
        .filter(entries::key.eq_any(keys))
        .distinct_on(entries::key)
        .order((entries::key, entries::number.desc()))
        .select((entries::key, entries::item_hashes))
        .load(c)?;
    rows.into_iter()
        .map(|(key, hashes)| Ok((key, decode_hashes(&hashes)?)))
        .collect()
}

/// Metadata from the current system records, applied in entry order.
pub(crate) fn read_metadata(
    conn: &mut AnyConnection,
    register_id: i64,
) -> Result<Metadata, StoreError> {
    let rows: Vec<EntryRow> = current_records(register_id, log_code(LogKind::System))
        .order(entries::number.asc())
        .select(EntryRow::as_select())
        .load(conn)?;
    let mut metadata = Metadata::default();
    for row in rows {
        let entry = row.into_entry()?;
        let mut jsons = Vec::with_capacity(entry.item_hashes.len());
        for hash in &entry.item_hashes {
            let json: String = items::table
                .find(hash.0 .0.to_vec())
                .select(items::canonical)
                .first(conn)?;
            jsons.push(json);
        }
        let views = jsons
            .iter()
            .map(|j| ItemView::parse(j))
            .collect::<Result<Vec<_>, _>>()?;
        // Stored metadata was validated when loaded; relaxed keeps whatever it could describe.
        metadata.apply(&entry.key, &views, Mode::Relaxed)?;
    }
    Ok(metadata)
}

/// Up to `limit` entries of a register's log from entry `start` (1-based), in order.
pub(crate) fn entries_page(
    conn: &mut AnyConnection,
    register_id: i64,
    log: LogKind,
    start: u64,
    limit: u64,
) -> Result<Vec<Entry>, StoreError> {
    let rows: Vec<EntryRow> = native!(conn, c => entries::table
        .filter(entries::register_id.eq(register_id))
        .filter(entries::log.eq(log_code(log)))
        .filter(entries::number.ge(to_i64(start)))
        .order(entries::number.asc())
        .limit(to_i64(limit))
        .select(EntryRow::as_select())
        .load(c)?);
    rows.into_iter().map(EntryRow::into_entry).collect()
}
