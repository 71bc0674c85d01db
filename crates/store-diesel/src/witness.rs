//! This node as a witness (checkpoints.md §5, c2sp.org/tlog-witness): the logs it
//! witnesses, the size and root it last cosigned for each, and the evidence it keeps.
//!
//! [`advance`] checks a request's old size and stores the new state in the caller's
//! transaction, after locking the log's row with a write (an `UPDATE` of the row: a row lock
//! on PostgreSQL, the database write lock on SQLite), and updates only `WHERE size = old`:
//! two racing requests are serialised, and the second sees the first's size (a 409), so the
//! witness never rolls back.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use diesel::prelude::*;
use register_core::merkle::empty_root;
use sha2::{Digest as _, Sha256};
use tlog_core::witness::{check, AddCheckpoint, Refusal};

use crate::conn::{native, AnyConnection};
use crate::error::StoreError;
use crate::model::{Evidence, WitnessSource, WitnessedLog};
use crate::rows::{digest, now, to_i64, to_u64};
use crate::schema::{witness_evidence, witnessed_logs};

fn source(text: &str) -> Result<WitnessSource, StoreError> {
    match text {
        "operator" => Ok(WitnessSource::Operator),
        "mirror" => Ok(WitnessSource::Mirror),
        other => Err(StoreError::Corrupt(format!("witness source '{other}'"))),
    }
}

/// Adds a log to witness, or changes its key. A log the operator added stays the
/// operator's when a plan adds it too. Its cosigned state is kept.
pub(crate) fn add(
    conn: &mut AnyConnection,
    origin: &str,
    key: &str,
    added_by: WitnessSource,
) -> Result<(), StoreError> {
    let existing: Option<String> = witnessed_logs::table
        .find(origin)
        .select(witnessed_logs::source)
        .first(conn)
        .optional()?;
    match existing {
        Some(was) => {
            let keep = source(&was)? == WitnessSource::Operator;
            let by = if keep {
                WitnessSource::Operator
            } else {
                added_by
            };
            diesel::update(witnessed_logs::table.find(origin))
                .set((
                    witnessed_logs::verifier_key.eq(key),
                    witnessed_logs::source.eq(by.as_str()),
                ))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(witnessed_logs::table)
                .values((
                    witnessed_logs::origin.eq(origin),
                    witnessed_logs::verifier_key.eq(key),
                    witnessed_logs::source.eq(added_by.as_str()),
                    witnessed_logs::size.eq(0i64),
                    witnessed_logs::root.eq(empty_root().0.to_vec()),
                    witnessed_logs::added_at.eq(now()),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Stops witnessing a log (its evidence stays); `NotFound` when it is not witnessed.
pub(crate) fn remove(conn: &mut AnyConnection, origin: &str) -> Result<(), StoreError> {
    let removed = diesel::delete(witnessed_logs::table.find(origin)).execute(conn)?;
    if removed == 0 {
        return Err(StoreError::NotFound(format!("witnessed log '{origin}'")));
    }
    Ok(())
}

/// The verifier key of a witnessed log, if it is one.
pub(crate) fn key(conn: &mut AnyConnection, origin: &str) -> Result<Option<String>, StoreError> {
    Ok(witnessed_logs::table
        .find(origin)
        .select(witnessed_logs::verifier_key)
        .first(conn)
        .optional()?)
}

/// Every witnessed log, by origin, with its evidence count.
pub(crate) fn list(conn: &mut AnyConnection) -> Result<Vec<WitnessedLog>, StoreError> {
    let rows: Vec<(String, String, String, i64, Option<i64>)> = witnessed_logs::table
        .order(witnessed_logs::origin)
        .select((
            witnessed_logs::origin,
            witnessed_logs::verifier_key,
            witnessed_logs::source,
            witnessed_logs::size,
            witnessed_logs::cosigned_at,
        ))
        .load(conn)?;
    let counts: Vec<(String, i64)> = witness_evidence::table
        .group_by(witness_evidence::origin)
        .select((witness_evidence::origin, diesel::dsl::count_star()))
        .load(conn)?;
    rows.into_iter()
        .map(|(origin, key, by, size, cosigned_at)| {
            let evidence = counts
                .iter()
                .find(|(o, _)| *o == origin)
                .map_or(0, |(_, n)| to_u64(*n));
            Ok(WitnessedLog {
                source: source(&by)?,
                origin,
                key,
                size: to_u64(size),
                cosigned_at,
                evidence,
            })
        })
        .collect()
}

/// The evidence kept for a log (every log: `None`), oldest first.
pub(crate) fn evidence(
    conn: &mut AnyConnection,
    origin: Option<&str>,
) -> Result<Vec<Evidence>, StoreError> {
    let mut query = witness_evidence::table.into_boxed();
    if let Some(origin) = origin {
        query = query.filter(witness_evidence::origin.eq(origin));
    }
    let rows: Vec<(String, String, i64, String, String, i64)> = query
        .order((witness_evidence::received_at, witness_evidence::origin))
        .select((
            witness_evidence::origin,
            witness_evidence::note,
            witness_evidence::old_size,
            witness_evidence::proof,
            witness_evidence::reason,
            witness_evidence::received_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(origin, note, old, proof, reason, at)| Evidence {
            origin,
            note,
            old_size: to_u64(old),
            proof: proof.lines().map(str::to_string).collect(),
            reason,
            received_at: at,
        })
        .collect())
}

/// Checks a verified request against the log's state and stores the new state, or keeps
/// the checkpoint as evidence when it is inconsistent; inside the caller's transaction.
/// `NotFound` when the log is not witnessed (any more).
pub(crate) fn advance(
    conn: &mut AnyConnection,
    request: &AddCheckpoint,
) -> Result<Result<(), Refusal>, StoreError> {
    let origin = request.checkpoint.origin.as_str();
    // The lock: a write to the row before reading it.
    let locked = diesel::update(witnessed_logs::table.find(origin))
        .set(witnessed_logs::size.eq(witnessed_logs::size))
        .execute(conn)?;
    if locked == 0 {
        return Err(StoreError::NotFound(format!("witnessed log '{origin}'")));
    }
    let (size, root): (i64, Vec<u8>) = witnessed_logs::table
        .find(origin)
        .select((witnessed_logs::size, witnessed_logs::root))
        .first(conn)?;
    let latest = Some((to_u64(size), digest(&root)?));
    match check(latest, request) {
        Ok(()) => {
            let updated = diesel::update(
                witnessed_logs::table
                    .find(origin)
                    .filter(witnessed_logs::size.eq(to_i64(request.old_size))),
            )
            .set((
                witnessed_logs::size.eq(to_i64(request.checkpoint.size)),
                witnessed_logs::root.eq(request.checkpoint.root.0.to_vec()),
                witnessed_logs::note.eq(&request.note),
                witnessed_logs::cosigned_at.eq(now()),
            ))
            .execute(conn)?;
            if updated != 1 {
                return Err(StoreError::Conflict(format!(
                    "the witness state of '{origin}' changed during the request"
                )));
            }
            Ok(Ok(()))
        }
        Err(Refusal::Inconsistent(reason)) => {
            let proof: Vec<String> = request.proof.iter().map(|h| BASE64.encode(h.0)).collect();
            let body =
                tlog_core::witness::request_body(request.old_size, &request.proof, &request.note);
            let row = (
                witness_evidence::origin.eq(origin),
                witness_evidence::request_hash.eq(Sha256::digest(body.as_bytes()).to_vec()),
                witness_evidence::note.eq(&request.note),
                witness_evidence::old_size.eq(to_i64(request.old_size)),
                witness_evidence::proof.eq(proof.join("\n")),
                witness_evidence::reason.eq(&reason),
                witness_evidence::received_at.eq(now()),
            );
            native!(conn, c => diesel::insert_into(witness_evidence::table)
                .values(row)
                .on_conflict((witness_evidence::origin, witness_evidence::request_hash))
                .do_nothing()
                .execute(c)?);
            Ok(Err(Refusal::Inconsistent(reason)))
        }
        Err(other) => Ok(Err(other)),
    }
}
