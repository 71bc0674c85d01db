//! PostgreSQL bulk loading with `COPY … FROM STDIN (FORMAT csv)`: several times faster than
//! multi-row INSERTs for the large append-only tables. Items, shared between registers, are
//! copied straight in under a savepoint; when some exist already, through a temporary staging
//! table and one set-based `INSERT … SELECT … ON CONFLICT DO NOTHING`.

use std::collections::BTreeMap;
use std::io::Write;

use diesel::connection::SimpleConnection;
use diesel::pg::CopyFormat;
use diesel::result::DatabaseErrorKind;
use diesel::{Connection, ExecuteCopyFromDsl, PgConnection, RunQueryDsl};
use register_core::load::{LogChanges, NewItem};
use register_core::ItemHash;

use crate::error::StoreError;
use crate::rows::{encode_hashes, log_code, to_i64};
use crate::schema::{entries, items, merkle_nodes, record_items, records, register_items};

mod stage {
    diesel::table! {
        /// Session-local staging for items (`CREATE TEMP TABLE … ON COMMIT DROP`).
        stage_items (hash) {
            hash -> Binary,
            canonical -> Text,
        }
    }
}

fn io_error(e: std::io::Error) -> diesel::result::Error {
    diesel::result::Error::SerializationError(Box::new(e))
}

fn hex(w: &mut dyn Write, bytes: &[u8]) -> std::io::Result<()> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = Vec::with_capacity(2 + bytes.len() * 2);
    buf.extend_from_slice(b"\\x");
    for b in bytes {
        buf.push(DIGITS[(b >> 4) as usize]);
        buf.push(DIGITS[(b & 0x0f) as usize]);
    }
    w.write_all(&buf)
}

/// A CSV text field: quoted, inner quotes doubled.
fn text(w: &mut dyn Write, value: &str) -> std::io::Result<()> {
    w.write_all(b"\"")?;
    for (i, part) in value.split('"').enumerate() {
        if i > 0 {
            w.write_all(b"\"\"")?;
        }
        w.write_all(part.as_bytes())?;
    }
    w.write_all(b"\"")
}

/// New items: copied straight into `items` when none is stored yet (under a savepoint: any
/// unique violation rolls the copy back), else staged and inserted unless already stored.
/// Items are shared between registers, so a load may meet some; straight is the common case
/// of a register's own data, and a third of the time of staging a million items.
pub(crate) fn copy_items(conn: &mut PgConnection, items: &[NewItem]) -> Result<(), StoreError> {
    if items.is_empty() {
        return Ok(());
    }
    let straight = conn.transaction(|conn| {
        diesel::copy_from(items::table)
            .from_raw_data((items::hash, items::canonical), |w: &mut dyn Write| {
                write_items(w, items)
            })
            .with_format(CopyFormat::Csv)
            .execute(conn)
    });
    match straight {
        Ok(_) => return Ok(()),
        Err(diesel::result::Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
        Err(e) => return Err(e.into()),
    }
    conn.batch_execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage_items (hash BYTEA, canonical TEXT) ON COMMIT DROP",
    )?;
    diesel::copy_from(stage::stage_items::table)
        .from_raw_data(
            (stage::stage_items::hash, stage::stage_items::canonical),
            |w: &mut dyn Write| write_items(w, items),
        )
        .with_format(CopyFormat::Csv)
        .execute(conn)?;
    diesel::sql_query(
        "INSERT INTO items (hash, canonical) SELECT hash, canonical FROM stage_items \
         ON CONFLICT (hash) DO NOTHING",
    )
    .execute(conn)?;
    conn.batch_execute("DROP TABLE stage_items")?;
    Ok(())
}

/// Items as CSV rows `hash,canonical`.
fn write_items(w: &mut dyn Write, items: &[NewItem]) -> Result<(), diesel::result::Error> {
    (|| -> std::io::Result<()> {
        for item in items {
            hex(w, &item.hash.0 .0)?;
            w.write_all(b",")?;
            text(w, &item.json)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })()
    .map_err(io_error)
}

/// The register's item references, for a register that had none (nothing can conflict).
pub(crate) fn copy_register_items(
    conn: &mut PgConnection,
    register_id: i64,
    hashes: &[ItemHash],
) -> Result<usize, StoreError> {
    if hashes.is_empty() {
        return Ok(0);
    }
    let copied = diesel::copy_from(register_items::table)
        .from_raw_data(
            (register_items::register_id, register_items::hash),
            |w: &mut dyn Write| -> Result<(), diesel::result::Error> {
                (|| -> std::io::Result<()> {
                    for hash in hashes {
                        write!(w, "{register_id},")?;
                        hex(w, &hash.0 .0)?;
                        w.write_all(b"\n")?;
                    }
                    Ok(())
                })()
                .map_err(io_error)
            },
        )
        .with_format(CopyFormat::Csv)
        .execute(conn)?;
    Ok(copied)
}

/// A log's new entries and Merkle nodes.
pub(crate) fn copy_log(
    conn: &mut PgConnection,
    register_id: i64,
    log: register_core::LogKind,
    changes: &LogChanges,
) -> Result<(), StoreError> {
    let code = log_code(log);
    if !changes.entries.is_empty() {
        diesel::copy_from(entries::table)
            .from_raw_data(
                (
                    entries::register_id,
                    entries::log,
                    entries::number,
                    entries::timestamp,
                    entries::key,
                    entries::item_hashes,
                ),
                |w: &mut dyn Write| -> Result<(), diesel::result::Error> {
                    (|| -> std::io::Result<()> {
                        for entry in &changes.entries {
                            write!(
                                w,
                                "{register_id},{code},{},{},",
                                to_i64(entry.entry_number),
                                entry.timestamp.unix_seconds()
                            )?;
                            text(w, &entry.key)?;
                            w.write_all(b",")?;
                            hex(w, &encode_hashes(&entry.item_hashes))?;
                            w.write_all(b"\n")?;
                        }
                        Ok(())
                    })()
                    .map_err(io_error)
                },
            )
            .with_format(CopyFormat::Csv)
            .execute(conn)?;
    }
    if !changes.nodes.is_empty() {
        diesel::copy_from(merkle_nodes::table)
            .from_raw_data(
                (
                    merkle_nodes::register_id,
                    merkle_nodes::log,
                    merkle_nodes::level,
                    merkle_nodes::idx,
                    merkle_nodes::hash,
                ),
                |w: &mut dyn Write| -> Result<(), diesel::result::Error> {
                    (|| -> std::io::Result<()> {
                        let inner = changes.nodes.nodes(changes.base_size).filter(|n| n.0 > 0);
                        for (level, idx, hash) in inner {
                            write!(w, "{register_id},{code},{level},{},", to_i64(idx))?;
                            hex(w, &hash.0)?;
                            w.write_all(b"\n")?;
                        }
                        Ok(())
                    })()
                    .map_err(io_error)
                },
            )
            .with_format(CopyFormat::Csv)
            .execute(conn)?;
    }
    Ok(())
}

/// The records of a log that had none: each key with the number of its newest entry.
pub(crate) fn copy_records(
    conn: &mut PgConnection,
    register_id: i64,
    log: register_core::LogKind,
    current: &[(&str, u64)],
) -> Result<(), StoreError> {
    if current.is_empty() {
        return Ok(());
    }
    let code = log_code(log);
    diesel::copy_from(records::table)
        .from_raw_data(
            (
                records::register_id,
                records::log,
                records::key,
                records::entry_number,
            ),
            |w: &mut dyn Write| -> Result<(), diesel::result::Error> {
                (|| -> std::io::Result<()> {
                    for (key, number) in current {
                        write!(w, "{register_id},{code},")?;
                        text(w, key)?;
                        writeln!(w, ",{}", to_i64(*number))?;
                    }
                    Ok(())
                })()
                .map_err(io_error)
            },
        )
        .with_format(CopyFormat::Csv)
        .execute(conn)?;
    Ok(())
}

/// The facet rows of a register whose user log had no records.
pub(crate) fn copy_record_items(
    conn: &mut PgConnection,
    register_id: i64,
    touched: &BTreeMap<String, Vec<ItemHash>>,
) -> Result<(), StoreError> {
    if touched.values().all(Vec::is_empty) {
        return Ok(());
    }
    diesel::copy_from(record_items::table)
        .from_raw_data(
            (
                record_items::register_id,
                record_items::key,
                record_items::position,
                record_items::hash,
            ),
            |w: &mut dyn Write| -> Result<(), diesel::result::Error> {
                (|| -> std::io::Result<()> {
                    for (key, hashes) in touched {
                        for (position, hash) in hashes.iter().enumerate() {
                            write!(w, "{register_id},")?;
                            text(w, key)?;
                            write!(w, ",{position},")?;
                            hex(w, &hash.0 .0)?;
                            w.write_all(b"\n")?;
                        }
                    }
                    Ok(())
                })()
                .map_err(io_error)
            },
        )
        .with_format(CopyFormat::Csv)
        .execute(conn)?;
    Ok(())
}
