//! Accounts: operators (admins) and partners, with argon2id password hashes. The lock
//! against guessing is node-service's `lockout`, in memory.
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
use crate::schema::{plans, users};

pub use crate::model::{Role, User};

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
}
