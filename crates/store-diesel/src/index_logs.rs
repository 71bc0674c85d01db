//! An index log as stored: its entries, its records and its summary row. This is the read
//! side; `indexes` derives and writes them.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use register_core::Entry;

use crate::conn::AnyConnection;
use crate::error::StoreError;
use crate::rows::{to_i64, IndexEntryRow, IndexLogRow};
use crate::schema::{index_entries, index_logs};

/// Index entries `e` that are the current record of their value: the latest entry of the
/// value, with items (bound: register id, index name).
const CURRENT_RECORD: &str = "e.register_id = ? AND e.index_name = ? \
    AND length(e.item_hashes) > 0 \
    AND NOT EXISTS (SELECT 1 FROM index_entries n WHERE n.register_id = e.register_id \
      AND n.index_name = e.index_name AND n.key = e.key \
      AND n.index_entry_number > e.index_entry_number)";

/// Raw SQL written with `?` placeholders, numbered `$n` for PostgreSQL.
fn placeholders(conn: &AnyConnection, sql: &str) -> String {
    if let AnyConnection::Sqlite(_) = conn {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    for (i, part) in sql.split('?').enumerate() {
        if i > 0 {
            out.push_str(&format!("${i}"));
        }
        out.push_str(part);
    }
    out
}

/// Whether the index has its summary row (every declared index does, once synced).
pub(crate) fn has_log(
    conn: &mut AnyConnection,
    register_id: i64,
    index: &str,
) -> Result<bool, StoreError> {
    let found: Option<i64> = index_logs::table
        .find((register_id, index))
        .select(index_logs::size)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
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

/// The entries of one index log.
#[diesel::dsl::auto_type(no_type_alias)]
fn of_index<'a>(register_id: i64, name: &'a str) -> _ {
    index_entries::table
        .filter(index_entries::register_id.eq(register_id))
        .filter(index_entries::index_name.eq(name))
}

/// The entries of one value in an index log.
#[diesel::dsl::auto_type(no_type_alias)]
pub(crate) fn value_entries<'a>(register_id: i64, name: &'a str, value: &'a str) -> _ {
    index_entries::table
        .filter(index_entries::register_id.eq(register_id))
        .filter(index_entries::index_name.eq(name))
        .filter(index_entries::key.eq(value))
}

/// Index entry `number` (1-based).
pub(crate) fn index_entry(
    conn: &mut AnyConnection,
    register_id: i64,
    name: &str,
    number: u64,
) -> Result<Option<Entry>, StoreError> {
    let row: Option<IndexEntryRow> = of_index(register_id, name)
        .filter(index_entries::index_entry_number.eq(to_i64(number)))
        .select(INDEX_COLUMNS)
        .first(conn)
        .optional()?;
    row.map(IndexEntryRow::into_entry).transpose()
}

/// Up to `limit` index entries from `start` (1-based), in order.
pub(crate) fn entries_page(
    conn: &mut AnyConnection,
    register_id: i64,
    name: &str,
    start: u64,
    limit: u64,
) -> Result<Vec<Entry>, StoreError> {
    let rows: Vec<IndexEntryRow> = of_index(register_id, name)
        .filter(index_entries::index_entry_number.ge(to_i64(start)))
        .order(index_entries::index_entry_number.asc())
        .limit(to_i64(limit))
        .select(INDEX_COLUMNS)
        .load(conn)?;
    rows.into_iter().map(IndexEntryRow::into_entry).collect()
}

/// The latest index entry of a value (its record), also when its item list is empty.
pub(crate) fn latest_entry(
    conn: &mut AnyConnection,
    register_id: i64,
    name: &str,
    value: &str,
) -> Result<Option<Entry>, StoreError> {
    let row: Option<IndexEntryRow> = value_entries(register_id, name, value)
        .order(index_entries::index_entry_number.desc())
        .select(INDEX_COLUMNS)
        .first(conn)
        .optional()?;
    row.map(IndexEntryRow::into_entry).transpose()
}

/// Every index entry of a value, oldest first.
pub(crate) fn history(
    conn: &mut AnyConnection,
    register_id: i64,
    name: &str,
    value: &str,
) -> Result<Vec<Entry>, StoreError> {
    let rows: Vec<IndexEntryRow> = value_entries(register_id, name, value)
        .order(index_entries::index_entry_number.asc())
        .select(INDEX_COLUMNS)
        .load(conn)?;
    rows.into_iter().map(IndexEntryRow::into_entry).collect()
}

/// A page of the index's records (the latest entry of each value that still has items),
/// newest first, like register records.
pub(crate) fn records_page(
    conn: &mut AnyConnection,
    register_id: i64,
    name: &str,
    offset: u64,
    limit: u64,
) -> Result<Vec<Entry>, StoreError> {
    let sql = placeholders(
        conn,
        &format!(
            "SELECT e.index_entry_number, e.entry_number, e.timestamp, e.key, e.item_hashes \
             FROM index_entries e WHERE {CURRENT_RECORD} \
             ORDER BY e.index_entry_number DESC LIMIT ? OFFSET ?"
        ),
    );
    let query = diesel::sql_query(sql)
        .bind::<BigInt, _>(register_id)
        .bind::<Text, _>(name)
        .bind::<BigInt, _>(to_i64(limit))
        .bind::<BigInt, _>(to_i64(offset));
    let rows: Vec<IndexEntryRow> = match conn {
        AnyConnection::Postgresql(c) => query.load(c)?,
        AnyConnection::Sqlite(c) => query.load(c)?,
    };
    rows.into_iter().map(IndexEntryRow::into_entry).collect()
}

/// The summary row of an index log; `None` for an index that is not declared.
pub(crate) fn summary_row(
    conn: &mut AnyConnection,
    register_id: i64,
    name: &str,
) -> Result<Option<IndexLogRow>, StoreError> {
    Ok(index_logs::table
        .find((register_id, name))
        .select((
            index_logs::size,
            index_logs::root,
            index_logs::record_count,
            index_logs::item_count,
            index_logs::updated_at,
        ))
        .first(conn)
        .optional()?)
}
