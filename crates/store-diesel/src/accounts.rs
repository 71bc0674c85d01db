//! Accounts: operators (admins) and partners, with argon2id password hashes, and the login
//! lock against guessing.
//!
//! The hash never leaves the store: [`User`] carries the name, role and creation time only.
//! [`Store::verify_password`] answers the same way, and takes about as long, for an unknown
//! user as for a wrong password, so a login cannot tell which it was (plans.md §4).
//!
//! [`Store::verify_password`]: crate::store::Store::verify_password

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{self, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::conn::AnyConnection;
use crate::error::StoreError;
use crate::rows::{now, UserRow};
use crate::schema::{login_failures, plans, users};

pub use crate::model::{Role, User};

/// Consecutive failed logins after which an account is locked.
pub const LOCK_AFTER_FAILURES: i64 = 5;

/// How long the first lock lasts; each further failure doubles it, up to [`MAX_LOCK_SECONDS`].
pub const FIRST_LOCK_SECONDS: i64 = 30;

/// The longest lock.
pub const MAX_LOCK_SECONDS: i64 = 15 * 60;

/// Seconds an account stays locked after `failures` consecutive failures.
fn lock_seconds(failures: i64) -> Option<i64> {
    let beyond = failures.checked_sub(LOCK_AFTER_FAILURES)?;
    let factor = 1i64.checked_shl(u32::try_from(beyond.min(20)).ok()?)?;
    Some(
        FIRST_LOCK_SECONDS
            .saturating_mul(factor)
            .min(MAX_LOCK_SECONDS),
    )
}

/// Longest accepted user name, in characters.
pub const MAX_NAME_CHARS: usize = 255;

/// A hash of a password nobody knows, with the same parameters as [`Argon2::default`] (the
/// ones [`new_user`] uses): verifying against it costs what verifying a real account costs.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$L2zVdWLiyrpgUq/9Kst3VQ$mEVXJuwLzVvD7i2l2osWsfK9kApKfqoungDkM/BdHmI";

fn check_name(name: &str) -> Result<(), StoreError> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid("a user name must not be empty".into()));
    }
    if name.trim() != name {
        return Err(StoreError::Invalid(
            "a user name must not start or end with white space".into(),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(
            "a user name must not contain control characters".into(),
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(StoreError::Invalid(format!(
            "a user name must not be longer than {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(())
}

/// An argon2id hash (PHC string) of `password` with a fresh random salt.
fn hash_password(password: &str) -> Result<String, StoreError> {
    if password.is_empty() {
        return Err(StoreError::Invalid("a password must not be empty".into()));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| StoreError::Invalid(format!("the password cannot be hashed: {e}")))
}

/// Whether `password` matches the PHC string `hash`.
fn matches(password: &str, hash: &str) -> Result<bool, StoreError> {
    let parsed = PasswordHash::new(hash)
        .map_err(|e| StoreError::Corrupt(format!("a password hash that does not parse: {e}")))?;
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(password_hash::Error::Password) => Ok(false),
        Err(e) => Err(StoreError::Corrupt(format!(
            "a password hash that cannot be checked: {e}"
        ))),
    }
}

/// The row of a new account: the name checked, the password hashed (the slow part, done
/// before the caller takes a connection). `Invalid` for a bad name or an empty password.
pub(crate) fn new_user(name: &str, password: &str, role: Role) -> Result<UserRow, StoreError> {
    check_name(name)?;
    Ok(UserRow {
        name: name.to_string(),
        password_hash: hash_password(password)?,
        role: role.as_str().to_string(),
        created_at: now(),
    })
}

/// Stores a new account; `Conflict` when the name is taken.
pub(crate) fn insert_user(conn: &mut AnyConnection, row: &UserRow) -> Result<(), StoreError> {
    match diesel::insert_into(users::table).values(row).execute(conn) {
        Ok(_) => Ok(()),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Err(
            StoreError::Conflict(format!("a user named '{}' exists already", row.name)),
        ),
        Err(e) => Err(e.into()),
    }
}

/// The row of the account `name`, if any.
pub(crate) fn find_user(
    conn: &mut AnyConnection,
    name: &str,
) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table
        .find(name)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// The account of `row` if `password` is its password; `None` for a wrong password and for
/// no account alike. No account still costs one argon2 verification (against a fixed dummy
/// hash), so the time taken does not tell the two apart.
pub(crate) fn verify(row: Option<UserRow>, password: &str) -> Result<Option<User>, StoreError> {
    match row {
        Some(row) => {
            if matches(password, &row.password_hash)? {
                row.into_user().map(Some)
            } else {
                Ok(None)
            }
        }
        None => {
            // Same work as for a real account; the answer is no whatever it says.
            matches(password, DUMMY_HASH)?;
            Ok(None)
        }
    }
}

/// Whether the account `name` is locked at `now` (Unix seconds).
pub(crate) fn is_locked(
    conn: &mut AnyConnection,
    name: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let locked_until: Option<i64> = login_failures::table
        .find(name)
        .select(login_failures::locked_until)
        .first::<Option<i64>>(conn)
        .optional()?
        .flatten();
    Ok(locked_until.is_some_and(|until| until > now))
}

/// How many accounts are locked at `now` (Unix seconds).
pub(crate) fn locked_count(conn: &mut AnyConnection, now: i64) -> Result<u64, StoreError> {
    let count: i64 = login_failures::table
        .filter(login_failures::locked_until.gt(now))
        .count()
        .get_result(conn)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// A refused login of a locked account: the work and the answer of a wrong password.
pub(crate) fn refuse_locked(password: &str) -> Result<Option<User>, StoreError> {
    matches(password, DUMMY_HASH)?;
    Ok(None)
}

/// A successful login clears the account's count of failures.
pub(crate) fn clear_failures(conn: &mut AnyConnection, name: &str) -> Result<(), StoreError> {
    diesel::delete(login_failures::table.find(name)).execute(conn)?;
    Ok(())
}

/// Counts a failed login of an existing account and locks it from the
/// [`LOCK_AFTER_FAILURES`]th on; unknown names leave no trace. Inside the caller's
/// transaction.
pub(crate) fn count_failure(
    conn: &mut AnyConnection,
    name: &str,
    now: i64,
) -> Result<(), StoreError> {
    if find_user(conn, name)?.is_none() {
        return Ok(());
    }
    let failures: i64 = login_failures::table
        .find(name)
        .select(login_failures::failures)
        .first(conn)
        .optional()?
        .unwrap_or(0)
        .saturating_add(1);
    let locked_until = lock_seconds(failures).map(|s| now.saturating_add(s));
    diesel::delete(login_failures::table.find(name)).execute(conn)?;
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::user_name.eq(name),
            login_failures::failures.eq(failures),
            login_failures::locked_until.eq(locked_until),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes the account `name`, inside the caller's transaction. `NotFound` for an unknown
/// user; `Conflict` while it owns plans.
pub(crate) fn remove_user(conn: &mut AnyConnection, name: &str) -> Result<(), StoreError> {
    let owned: i64 = plans::table
        .filter(plans::owner.eq(name))
        .count()
        .get_result(conn)?;
    if owned > 0 {
        return Err(StoreError::Conflict(format!(
            "user '{name}' owns {owned} plan(s) and cannot be removed"
        )));
    }
    match diesel::delete(users::table.find(name)).execute(conn) {
        Ok(0) => Err(StoreError::NotFound(format!("user '{name}'"))),
        Ok(_) => Ok(()),
        Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => Err(
            StoreError::Conflict(format!("user '{name}' owns plans and cannot be removed")),
        ),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_has_the_default_parameters() {
        let dummy = PasswordHash::new(DUMMY_HASH).expect("dummy hash parses");
        let real = hash_password("secret").expect("hash");
        let real = PasswordHash::new(&real).expect("real hash parses");
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert_eq!(
            dummy.hash.map(|h| h.len()),
            real.hash.map(|h| h.len()),
            "same output length"
        );
        assert!(!matches("secret", DUMMY_HASH).expect("verify against the dummy"));
    }

    #[test]
    fn locks_grow_from_the_fifth_failure_and_are_capped() {
        assert_eq!(lock_seconds(4), None);
        assert_eq!(lock_seconds(5), Some(30));
        assert_eq!(lock_seconds(6), Some(60));
        assert_eq!(lock_seconds(9), Some(480));
        assert_eq!(lock_seconds(10), Some(900));
        assert_eq!(lock_seconds(1000), Some(900));
    }
}
