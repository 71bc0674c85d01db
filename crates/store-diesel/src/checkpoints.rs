//! Signed checkpoints (checkpoints.md §3): signed in the load's transaction for the size
//! the load leaves each log at, and kept, all of them. A log is a register's user log
//! (`log_name` '') or one of its index logs (`log_name` = the index), under an origin: a new
//! node origin signs anew, and the checkpoints of the old one stay. Mirrors are not signed
//! here: a mirror holds its primary's log.

use diesel::prelude::*;
use register_core::Digest;
use tlog_core::Checkpoint;

use crate::conn::AnyConnection;
use crate::error::StoreError;
use crate::model::NodeKeys;
use crate::rows::{digest, now, to_i64, to_u64};
use crate::schema::{checkpoints, index_logs, registers};

/// `log_name` of a log: '' for the register's user log, else the index name.
fn log_name(index: Option<&str>) -> &str {
    index.unwrap_or_default()
}

/// Signs and keeps the checkpoint of a log at `size` and `root`, unless it has one at that
/// size. Signatures are deterministic, so a racing instance writes the same bytes.
fn sign_if_missing(
    conn: &mut AnyConnection,
    keys: &NodeKeys,
    (register_id, register): (i64, &str),
    index: Option<&str>,
    size: u64,
    root: Digest,
) -> Result<bool, StoreError> {
    let origin = keys.log_origin(register, index);
    if at(conn, register_id, index, Some(&origin), size)?.is_some() {
        return Ok(false);
    }
    let note = sign(keys, register, index, &origin, size, root)?;
    let log = (register_id, index, origin.as_str());
    Ok(keep(conn, log, size, root, &note)? > 0)
}

/// The note of a log's checkpoint at `size` and `root` under `origin`.
fn sign(
    keys: &NodeKeys,
    register: &str,
    index: Option<&str>,
    origin: &str,
    size: u64,
    root: Digest,
) -> Result<String, StoreError> {
    let key = keys
        .log_key(register, index)
        .map_err(|e| StoreError::Invalid(format!("cannot sign for {register}: {e}")))?;
    Checkpoint {
        origin: origin.to_string(),
        size,
        root,
    }
    .sign(&key)
    .map_err(|e| StoreError::Invalid(format!("cannot sign for {register}: {e}")))
}

/// Stores a signed note unless the log has one at that size; returns the rows written.
fn keep(
    conn: &mut AnyConnection,
    (register_id, index, origin): (i64, Option<&str>, &str),
    size: u64,
    root: Digest,
    note: &str,
) -> Result<usize, StoreError> {
    let row = (
        checkpoints::register_id.eq(register_id),
        checkpoints::log_name.eq(log_name(index)),
        checkpoints::origin.eq(origin),
        checkpoints::size.eq(to_i64(size)),
        checkpoints::root.eq(root.0.to_vec()),
        checkpoints::note.eq(note),
        checkpoints::signed_at.eq(now()),
    );
    let insert = diesel::insert_into(checkpoints::table)
        .values(row)
        .on_conflict((
            checkpoints::register_id,
            checkpoints::log_name,
            checkpoints::origin,
            checkpoints::size,
        ))
        .do_nothing();
    Ok(match conn {
        AnyConnection::Postgresql(c) => insert.execute(c)?,
        AnyConnection::Sqlite(c) => insert.execute(c)?,
    })
}

/// Signs the checkpoints of a local register that a load or a write batch just left with
/// its user log at `size` and `root` (and, with `indexes`, its index logs at theirs), in the
/// caller's transaction. Returns the user log's note. The log almost always grew, so the note
/// is signed and inserted without looking first; only a log that already had a checkpoint at
/// that size is read back (its stored note stays the one served).
pub(crate) fn sign_loaded(
    conn: &mut AnyConnection,
    keys: &NodeKeys,
    register: (i64, &str),
    (size, root): (u64, Digest),
    indexes: bool,
) -> Result<String, StoreError> {
    let (register_id, name) = register;
    let origin = keys.log_origin(name, None);
    let note = sign(keys, name, None, &origin, size, root)?;
    let note = if keep(conn, (register_id, None, &origin), size, root, &note)? > 0 {
        note
    } else {
        at(conn, register_id, None, Some(&origin), size)?
            .map(|(_, _, stored)| stored)
            .unwrap_or(note)
    };
    if indexes {
        sign_index_logs(conn, keys, register)?;
    }
    Ok(note)
}

/// Signs the checkpoints a register's logs lack at their current sizes: its user log and
/// every index log. Nothing for a mirror. Returns how many were signed.
pub(crate) fn sign_register(
    conn: &mut AnyConnection,
    keys: &NodeKeys,
    register_id: i64,
) -> Result<usize, StoreError> {
    let (name, size, root, mirror): (String, i64, Vec<u8>, Option<String>) = registers::table
        .find(register_id)
        .select((
            registers::name,
            registers::user_size,
            registers::user_root,
            registers::mirror_plan,
        ))
        .first(conn)?;
    if mirror.is_some() {
        return Ok(0);
    }
    let register = (register_id, name.as_str());
    let user = sign_if_missing(conn, keys, register, None, to_u64(size), digest(&root)?)?;
    Ok(usize::from(user) + sign_index_logs(conn, keys, register)?)
}

/// Signs the checkpoints a register's index logs lack at their sizes; returns how many.
fn sign_index_logs(
    conn: &mut AnyConnection,
    keys: &NodeKeys,
    register: (i64, &str),
) -> Result<usize, StoreError> {
    let indexes: Vec<(String, i64, Vec<u8>)> = index_logs::table
        .filter(index_logs::register_id.eq(register.0))
        .order(index_logs::index_name.asc())
        .select((index_logs::index_name, index_logs::size, index_logs::root))
        .load(conn)?;
    let mut signed = 0;
    for (index, size, root) in indexes {
        signed += usize::from(sign_if_missing(
            conn,
            keys,
            register,
            Some(&index),
            to_u64(size),
            digest(&root)?,
        )?);
    }
    Ok(signed)
}

/// Signs what every register lacks (on start: logs loaded before keys existed, or by a
/// process without them). Returns how many were signed.
pub(crate) fn sign_all(conn: &mut AnyConnection, keys: &NodeKeys) -> Result<usize, StoreError> {
    let ids: Vec<i64> = registers::table
        .order(registers::id.asc())
        .select(registers::id)
        .load(conn)?;
    let mut signed = 0;
    for id in ids {
        signed += sign_register(conn, keys, id)?;
    }
    Ok(signed)
}

/// A stored checkpoint: its origin, size and note (signed by the log only).
pub(crate) type Stored = (String, i64, String);

/// The checkpoint of a log at `size` under `origin` (any origin: the latest signed), if one
/// was signed.
pub(crate) fn at(
    conn: &mut AnyConnection,
    register_id: i64,
    index: Option<&str>,
    origin: Option<&str>,
    size: u64,
) -> Result<Option<Stored>, StoreError> {
    let mut query = checkpoints::table
        .filter(checkpoints::register_id.eq(register_id))
        .filter(checkpoints::log_name.eq(log_name(index)))
        .filter(checkpoints::size.eq(to_i64(size)))
        .into_boxed();
    if let Some(origin) = origin {
        query = query.filter(checkpoints::origin.eq(origin));
    }
    Ok(query
        .order(checkpoints::signed_at.desc())
        .select((checkpoints::origin, checkpoints::size, checkpoints::note))
        .first(conn)
        .optional()?)
}

/// The largest checkpoint of a log under `origin` (any origin: the latest signed).
pub(crate) fn latest(
    conn: &mut AnyConnection,
    register_id: i64,
    index: Option<&str>,
    origin: Option<&str>,
) -> Result<Option<Stored>, StoreError> {
    let mut query = checkpoints::table
        .filter(checkpoints::register_id.eq(register_id))
        .filter(checkpoints::log_name.eq(log_name(index)))
        .into_boxed();
    if let Some(origin) = origin {
        query = query.filter(checkpoints::origin.eq(origin));
    }
    Ok(query
        .order((checkpoints::size.desc(), checkpoints::signed_at.desc()))
        .select((checkpoints::origin, checkpoints::size, checkpoints::note))
        .first(conn)
        .optional()?)
}

/// The newest checkpoint of each register's user log, any origin: (register name, its size,
/// when it was signed, Unix seconds). Registers without one (mirrors) are left out.
pub(crate) fn newest_per_register(
    conn: &mut AnyConnection,
) -> Result<Vec<(String, u64, i64)>, StoreError> {
    use diesel::dsl::max;
    let rows: Vec<(String, Option<i64>, Option<i64>)> = checkpoints::table
        .inner_join(registers::table)
        .filter(checkpoints::log_name.eq(""))
        .group_by(registers::name)
        .select((
            registers::name,
            max(checkpoints::size),
            max(checkpoints::signed_at),
        ))
        .order(registers::name)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(name, size, at)| Some((name, to_u64(size?), at?)))
        .collect())
}
