//! Writer tokens: bearer secrets that let a data owner's pipeline write one register (or,
//! for an operator, every register) without an account.
//!
//! Only the SHA-256 of a token's secret is stored ([`TokenHash`]; node-service makes the
//! secret and computes the hash): a 256-bit random secret cannot be guessed, so a slow
//! password hash would only cost time, and checking a token is one lookup by a unique index.
//! A revoked token keeps its row, so its name stays taken and `token list` still shows it.
//! `last_used_at` is refreshed at most once every [`LAST_USED_EVERY_SECONDS`], so checks
//! rarely write (on SQLite every write waits for the database's one write lock).
//!
//! A token found active is remembered for [`RECHECK_AFTER`] ([`Recent`]): a pipeline writing
//! thousands of records a second then costs one lookup a second, not a connection and a
//! query per request. Revoking through the same store forgets at once; a revocation by
//! another process (the operator CLI, another instance) takes effect within that time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::conn::AnyConnection;
use crate::error::StoreError;
use crate::rows::{scope_columns, writer_scope, TokenCheckRow, WriterTokenRow};
use crate::schema::writer_tokens;

pub use crate::model::{ActiveToken, TokenHash, WriterScope, WriterToken};

/// How stale `last_used_at` may get before a check refreshes it.
pub const LAST_USED_EVERY_SECONDS: i64 = 60;

/// How long a token found active is trusted without looking again.
pub const RECHECK_AFTER: Duration = Duration::from_secs(1);

/// Tokens remembered at most; past it the memory starts over.
const MAX_RECENT: usize = 1_024;

/// Tokens found active in the last [`RECHECK_AFTER`] (unknown and revoked ones are never
/// remembered, so a guess always costs a lookup and a revoked token is never served from here
/// after the store that revoked it forgot it).
#[derive(Debug, Default)]
pub(crate) struct Recent(Mutex<HashMap<TokenHash, (ActiveToken, Instant)>>);

impl Recent {
    /// The token, if it was found active less than [`RECHECK_AFTER`] ago.
    pub fn get(&self, hash: &TokenHash) -> Option<ActiveToken> {
        let recent = self.lock();
        let (token, at) = recent.get(hash)?;
        (at.elapsed() < RECHECK_AFTER).then(|| token.clone())
    }

    /// Remembers a token just found active.
    pub fn put(&self, hash: TokenHash, token: ActiveToken) {
        let mut recent = self.lock();
        if recent.len() >= MAX_RECENT {
            recent.retain(|_, (_, at)| at.elapsed() < RECHECK_AFTER);
            if recent.len() >= MAX_RECENT {
                recent.clear();
            }
        }
        recent.insert(hash, (token, Instant::now()));
    }

    /// Forgets every token (after a revocation).
    pub fn forget(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenHash, (ActiveToken, Instant)>> {
        // Plain data: a panic elsewhere leaves nothing half-written worth refusing.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Longest accepted token name (and register name of a scope), in characters.
pub const MAX_NAME_CHARS: usize = 255;

fn check_name(what: &str, name: &str) -> Result<(), StoreError> {
    let problem = if name.trim().is_empty() {
        "must not be empty".to_string()
    } else if name.trim() != name {
        "must not start or end with white space".to_string()
    } else if name.chars().any(char::is_control) {
        "must not contain control characters".to_string()
    } else if name.chars().count() > MAX_NAME_CHARS {
        format!("must not be longer than {MAX_NAME_CHARS} characters")
    } else {
        return Ok(());
    };
    Err(StoreError::Invalid(format!("{what} {problem}")))
}

/// Stores a new token, inside the caller's transaction. `Invalid` for a bad name,
/// `Conflict` when the name (or, never in practice, the hash) is taken.
pub(crate) fn insert(
    conn: &mut AnyConnection,
    name: &str,
    hash: &TokenHash,
    scope: &WriterScope,
    now: i64,
) -> Result<WriterToken, StoreError> {
    check_name("a token name", name)?;
    if let WriterScope::Register(register) = scope {
        check_name("a register name", register)?;
    }
    if find(conn, name)?.is_some() {
        return Err(StoreError::Conflict(format!(
            "a writer token named '{name}' exists already (names of revoked tokens stay taken)"
        )));
    }
    let max: Option<i64> = writer_tokens::table
        .select(diesel::dsl::max(writer_tokens::id))
        .first(conn)?;
    let (scope_code, register_name) = scope_columns(scope);
    let row = WriterTokenRow {
        id: max.unwrap_or(0) + 1,
        name: name.to_string(),
        secret_hash: hash.0.to_vec(),
        scope: scope_code.to_string(),
        register_name,
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    match diesel::insert_into(writer_tokens::table)
        .values(&row)
        .execute(conn)
    {
        Ok(_) => row.into_token(),
        // Another process created a token at the same moment (the same id).
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(StoreError::Conflict(
                "another writer token was created at the same time; try again".into(),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

fn find(conn: &mut AnyConnection, name: &str) -> Result<Option<WriterTokenRow>, StoreError> {
    Ok(writer_tokens::table
        .filter(writer_tokens::name.eq(name))
        .select(WriterTokenRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every token, by name.
pub(crate) fn list(conn: &mut AnyConnection) -> Result<Vec<WriterToken>, StoreError> {
    writer_tokens::table
        .order(writer_tokens::name)
        .select(WriterTokenRow::as_select())
        .load(conn)?
        .into_iter()
        .map(WriterTokenRow::into_token)
        .collect()
}

/// Revokes the token `name` at `now`, inside the caller's transaction; a token revoked
/// already keeps its first revocation. `NotFound` for an unknown name.
pub(crate) fn revoke(
    conn: &mut AnyConnection,
    name: &str,
    now: i64,
) -> Result<WriterToken, StoreError> {
    diesel::update(
        writer_tokens::table
            .filter(writer_tokens::name.eq(name))
            .filter(writer_tokens::revoked_at.is_null()),
    )
    .set(writer_tokens::revoked_at.eq(now))
    .execute(conn)?;
    find(conn, name)?
        .ok_or_else(|| StoreError::NotFound(format!("writer token '{name}'")))?
        .into_token()
}

/// The token whose secret hashes to `hash`, unless it is revoked (or unknown); refreshes its
/// `last_used_at` when that is older than [`LAST_USED_EVERY_SECONDS`] at `now`.
pub(crate) fn active(
    conn: &mut AnyConnection,
    hash: &TokenHash,
    now: i64,
) -> Result<Option<ActiveToken>, StoreError> {
    let found = writer_tokens::table
        .filter(writer_tokens::secret_hash.eq(&hash.0[..]))
        .filter(writer_tokens::revoked_at.is_null())
        .select(TokenCheckRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = found else {
        return Ok(None);
    };
    let stale = now.saturating_sub(LAST_USED_EVERY_SECONDS);
    if row.last_used_at.is_none_or(|at| at <= stale) {
        // Guarded by the same condition, so of concurrent checks only the first writes.
        diesel::update(
            writer_tokens::table
                .filter(writer_tokens::id.eq(row.id))
                .filter(
                    writer_tokens::last_used_at
                        .is_null()
                        .or(writer_tokens::last_used_at.le(stale)),
                ),
        )
        .set(writer_tokens::last_used_at.eq(now))
        .execute(conn)?;
    }
    Ok(Some(ActiveToken {
        scope: writer_scope(&row.name, &row.scope, row.register_name)?,
        name: row.name,
    }))
}
