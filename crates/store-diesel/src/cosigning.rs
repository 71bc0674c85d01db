//! This node as a log that uses witnesses (checkpoints.md §5), and the cosignatures of its
//! checkpoints, from witnesses now and mirrors later.
//!
//! Loads mark nothing themselves: the checkpoint a load signs in its transaction *is* the
//! pending work. A witness has work for a log when the log's latest checkpoint (under the
//! node's origin) has another size than the last cosignature it gave ([`jobs`]); the state
//! of each (witness, log) pair (`witness_submissions`) keeps what the witness is known to
//! hold, the last success and error, and the backoff. Every instance and restart reads the
//! same tables, so nothing is lost and nothing waits on a witness.

use diesel::prelude::*;
use tlog_core::witness::{verify_cosignature, Cosignature};
use tlog_core::VerifierKey;

use crate::conn::{native, AnyConnection};
use crate::error::StoreError;
use crate::model::{Attempt, NodeKeys, Source, SubmissionState, WitnessJob};
use crate::rows::{now, to_i64, to_u64};
use crate::schema::{checkpoints, cosignatures, registers, witness_submissions, witnesses};

/// Starts using a witness, or changes its key.
pub(crate) fn use_witness(
    conn: &mut AnyConnection,
    url: &str,
    key: &VerifierKey,
) -> Result<(), StoreError> {
    let row = (
        witnesses::url.eq(url),
        witnesses::verifier_key.eq(key.to_string()),
        witnesses::added_at.eq(now()),
    );
    native!(conn, c => diesel::insert_into(witnesses::table)
        .values(row)
        .on_conflict(witnesses::url)
        .do_update()
        .set(witnesses::verifier_key.eq(key.to_string()))
        .execute(c)?);
    Ok(())
}

/// Stops using a witness (its state goes; cosignatures it gave stay); `NotFound` when it is
/// not used.
pub(crate) fn drop_witness(conn: &mut AnyConnection, url: &str) -> Result<(), StoreError> {
    diesel::delete(witness_submissions::table.filter(witness_submissions::witness_url.eq(url)))
        .execute(conn)?;
    if diesel::delete(witnesses::table.find(url)).execute(conn)? == 0 {
        return Err(StoreError::NotFound(format!("witness '{url}'")));
    }
    Ok(())
}

/// The witnesses used: (URL, verifier key), by URL.
pub(crate) fn witnesses(conn: &mut AnyConnection) -> Result<Vec<(String, String)>, StoreError> {
    Ok(witnesses::table
        .order(witnesses::url)
        .select((witnesses::url, witnesses::verifier_key))
        .load(conn)?)
}

/// The submission state of every (witness, log) pair tried so far.
pub(crate) fn states(conn: &mut AnyConnection) -> Result<Vec<SubmissionState>, StoreError> {
    type Row = (
        String,
        String,
        i64,
        Option<i64>,
        Option<i64>,
        Option<String>,
        i64,
        i64,
    );
    let rows: Vec<Row> = witness_submissions::table
        .order((
            witness_submissions::witness_url,
            witness_submissions::origin,
        ))
        .select((
            witness_submissions::witness_url,
            witness_submissions::origin,
            witness_submissions::witness_size,
            witness_submissions::cosigned_size,
            witness_submissions::last_success,
            witness_submissions::last_error,
            witness_submissions::failures,
            witness_submissions::next_attempt,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(url, origin, size, cosigned, success, error, failures, next)| SubmissionState {
                witness_url: url,
                origin,
                witness_size: to_u64(size),
                cosigned_size: cosigned.map(to_u64),
                last_success: success,
                last_error: error,
                failures: to_u64(failures),
                next_attempt: next,
            },
        )
        .collect())
}

/// The work for every witness: each local log whose latest checkpoint under the node's
/// origin has another size than the last cosignature from that witness, unless its backoff
/// runs past `now` (`None`: ignore the backoff).
pub(crate) fn jobs(
    conn: &mut AnyConnection,
    keys: &NodeKeys,
    now: Option<i64>,
) -> Result<Vec<WitnessJob>, StoreError> {
    let used = witnesses(conn)?;
    if used.is_empty() {
        return Ok(Vec::new());
    }
    use diesel::dsl::max;
    let local: Vec<(i64, String)> = registers::table
        .filter(registers::mirror_plan.is_null())
        .select((registers::id, registers::name))
        .load(conn)?;
    let latest: Vec<(i64, String, String, Option<i64>)> = checkpoints::table
        .group_by((
            checkpoints::register_id,
            checkpoints::log_name,
            checkpoints::origin,
        ))
        .select((
            checkpoints::register_id,
            checkpoints::log_name,
            checkpoints::origin,
            max(checkpoints::size),
        ))
        .order((checkpoints::register_id, checkpoints::log_name))
        .load(conn)?;
    let states: Vec<(String, String, i64, Option<i64>, i64, i64)> = witness_submissions::table
        .select((
            witness_submissions::witness_url,
            witness_submissions::origin,
            witness_submissions::witness_size,
            witness_submissions::cosigned_size,
            witness_submissions::next_attempt,
            witness_submissions::failures,
        ))
        .load(conn)?;
    let mut jobs = Vec::new();
    for (register_id, log_name, origin, size) in latest {
        let Some((_, register)) = local.iter().find(|(id, _)| *id == register_id) else {
            continue;
        };
        let index = (!log_name.is_empty()).then_some(log_name.as_str());
        let Some(size) = size.filter(|_| keys.log_origin(register, index) == origin) else {
            continue;
        };
        let mut note = None;
        for (url, key) in &used {
            let state = states.iter().find(|s| s.0 == *url && s.1 == origin);
            let witness_size = state.map_or(0, |s| to_u64(s.2));
            let done = state.is_some_and(|s| s.3 == Some(size));
            let waiting = state.is_some_and(|s| now.is_some_and(|now| s.4 > now));
            if done || waiting {
                continue;
            }
            if note.is_none() {
                note = Some(
                    checkpoints::table
                        .find((register_id, &log_name, &origin, size))
                        .select(checkpoints::note)
                        .first::<String>(conn)?,
                );
            }
            jobs.push(WitnessJob {
                witness_url: url.clone(),
                witness_key: key.clone(),
                log: Source {
                    register: register.clone(),
                    index: index.map(str::to_string),
                },
                origin: origin.clone(),
                size: to_u64(size),
                note: note.clone().unwrap_or_default(),
                witness_size,
                failures: state.map_or(0, |s| to_u64(s.5)),
            });
        }
    }
    Ok(jobs)
}

/// Records an attempt on the (witness, log) pair of `job`.
pub(crate) fn record(
    conn: &mut AnyConnection,
    job: &WitnessJob,
    register_id: i64,
    attempt: &Attempt,
) -> Result<(), StoreError> {
    let key = (job.witness_url.as_str(), job.origin.as_str());
    let exists = witness_submissions::table
        .find(key)
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if !exists {
        let still_used = witnesses::table
            .find(&job.witness_url)
            .count()
            .get_result::<i64>(conn)?;
        if still_used == 0 {
            return Ok(());
        }
        diesel::insert_into(witness_submissions::table)
            .values((
                witness_submissions::witness_url.eq(&job.witness_url),
                witness_submissions::origin.eq(&job.origin),
                witness_submissions::register_id.eq(register_id),
                witness_submissions::log_name.eq(job.log.index.as_deref().unwrap_or_default()),
                witness_submissions::witness_size.eq(to_i64(job.witness_size)),
                witness_submissions::failures.eq(0i64),
                witness_submissions::next_attempt.eq(0i64),
            ))
            .execute(conn)?;
    }
    let row = witness_submissions::table.find(key);
    match attempt {
        Attempt::Cosigned(size) => diesel::update(row)
            .set((
                witness_submissions::witness_size.eq(to_i64(*size)),
                witness_submissions::cosigned_size.eq(to_i64(*size)),
                witness_submissions::last_success.eq(now()),
                witness_submissions::last_error.eq(None::<String>),
                witness_submissions::failures.eq(0i64),
                witness_submissions::next_attempt.eq(0i64),
            ))
            .execute(conn)?,
        Attempt::WitnessAt(size) => diesel::update(row)
            .set(witness_submissions::witness_size.eq(to_i64(*size)))
            .execute(conn)?,
        Attempt::Failed { error, retry_at } => diesel::update(row)
            .set((
                witness_submissions::last_error.eq(error),
                witness_submissions::failures.eq(witness_submissions::failures + 1),
                witness_submissions::next_attempt.eq(*retry_at),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// Verifies the line by `cosigner` among `lines` over the stored checkpoint of
/// (`register_id`, `log_name`, `origin`, `size`) and keeps it (the newest line per
/// cosigner key and checkpoint). `NotFound` without that checkpoint; `Invalid` when no line
/// by that key verifies.
pub(crate) fn add(
    conn: &mut AnyConnection,
    (register_id, log_name, origin): (i64, &str, &str),
    size: u64,
    cosigner: &VerifierKey,
    lines: &str,
) -> Result<Cosignature, StoreError> {
    let note: Option<String> = checkpoints::table
        .find((register_id, log_name, origin, to_i64(size)))
        .select(checkpoints::note)
        .first(conn)
        .optional()?;
    let note = note
        .ok_or_else(|| StoreError::NotFound(format!("checkpoint of size {size} of '{origin}'")))?;
    let cosignature = verify_cosignature(&note, lines, cosigner)
        .map_err(|e| StoreError::Invalid(format!("the cosignature is refused: {e}")))?;
    upsert(
        conn,
        (register_id, log_name, origin),
        size,
        cosigner,
        &cosignature,
    )?;
    Ok(cosignature)
}

/// Keeps `cosignature` by `cosigner` of the checkpoint of `origin` at `size` (one line per
/// checkpoint and cosigner key), refusing a replay: a line older than one kept from the same
/// key for this log, or as old as one for a larger checkpoint.
pub(crate) fn upsert(
    conn: &mut AnyConnection,
    (register_id, log_name, origin): (i64, &str, &str),
    size: u64,
    cosigner: &VerifierKey,
    cosignature: &Cosignature,
) -> Result<(), StoreError> {
    let signed_at = i64::try_from(cosignature.time).unwrap_or(i64::MAX);
    // Each cosigner's timestamps only grow (tlog-cosignature); the newest line again is
    // idempotent.
    let later: Vec<(i64, i64)> = cosignatures::table
        .filter(cosignatures::register_id.eq(register_id))
        .filter(cosignatures::log_name.eq(log_name))
        .filter(cosignatures::origin.eq(origin))
        .filter(cosignatures::cosigner.eq(cosigner.name()))
        .filter(cosignatures::key_id.eq(i64::from(cosigner.id())))
        .filter(cosignatures::signed_at.ge(signed_at))
        .select((cosignatures::size, cosignatures::signed_at))
        .load(conn)?;
    if let Some((kept_size, kept_at)) = later
        .into_iter()
        .find(|&(kept_size, kept_at)| kept_at > signed_at || kept_size > to_i64(size))
    {
        return Err(StoreError::Conflict(format!(
            "a cosignature by {} of size {size} at time {signed_at} is not newer than the one \
             kept of size {kept_size} at time {kept_at}: a replay is refused",
            cosigner.name()
        )));
    }
    let row = (
        cosignatures::register_id.eq(register_id),
        cosignatures::log_name.eq(log_name),
        cosignatures::origin.eq(origin),
        cosignatures::size.eq(to_i64(size)),
        cosignatures::cosigner.eq(cosigner.name()),
        cosignatures::key_id.eq(i64::from(cosigner.id())),
        cosignatures::line.eq(&cosignature.line),
        cosignatures::signed_at.eq(signed_at),
        cosignatures::received_at.eq(now()),
    );
    native!(conn, c => diesel::insert_into(cosignatures::table)
        .values(row)
        .on_conflict((
            cosignatures::register_id,
            cosignatures::log_name,
            cosignatures::origin,
            cosignatures::size,
            cosignatures::cosigner,
            cosignatures::key_id,
        ))
        .do_update()
        .set((
            cosignatures::line.eq(&cosignature.line),
            cosignatures::signed_at.eq(signed_at),
            cosignatures::received_at.eq(now()),
        ))
        .execute(c)?);
    Ok(())
}

/// The cosignature lines of a checkpoint, by cosigner name and key ID, at most
/// `tlog_core::note::MAX_SIGNATURES - 1` (a note carries at most that many signatures).
pub(crate) fn lines(
    conn: &mut AnyConnection,
    (register_id, log_name, origin): (i64, &str, &str),
    size: u64,
) -> Result<Vec<String>, StoreError> {
    let limit = to_i64(tlog_core::note::MAX_SIGNATURES as u64 - 1);
    Ok(cosignatures::table
        .filter(cosignatures::register_id.eq(register_id))
        .filter(cosignatures::log_name.eq(log_name))
        .filter(cosignatures::origin.eq(origin))
        .filter(cosignatures::size.eq(to_i64(size)))
        .order((cosignatures::cosigner, cosignatures::key_id))
        .select(cosignatures::line)
        .limit(limit)
        .load(conn)?)
}

/// The largest size of a register's user log that `cosigner` cosigned (any origin).
pub(crate) fn cosigned_size(
    conn: &mut AnyConnection,
    register_id: i64,
    cosigner: &VerifierKey,
) -> Result<Option<u64>, StoreError> {
    let size: Option<i64> = cosignatures::table
        .filter(cosignatures::register_id.eq(register_id))
        .filter(cosignatures::log_name.eq(""))
        .filter(cosignatures::cosigner.eq(cosigner.name()))
        .filter(cosignatures::key_id.eq(i64::from(cosigner.id())))
        .select(diesel::dsl::max(cosignatures::size))
        .first(conn)?;
    Ok(size.map(to_u64))
}
