//! [`Store`]'s accounts and logins (`accounts`), and writer tokens (`writer_tokens`).

use super::Store;
use crate::accounts::{self, Role, User};
use crate::error::StoreError;
use crate::rows::now;
use crate::writer_tokens::{self, ActiveToken, TokenHash, WriterScope, WriterToken};

impl Store {
    /// Creates an account. The password is stored as an argon2id hash with a random salt.
    /// `Invalid` for an empty (or badly formed) name or an empty password, `Conflict` when
    /// the name is taken.
    pub fn add_user(&self, name: &str, password: &str, role: Role) -> Result<(), StoreError> {
        // Hash before taking a connection: it is the slow part.
        let row = accounts::new_user(name, password, role)?;
        accounts::insert_user(&mut *self.conn()?, &row)
    }

    /// The account `name` if `password` is its password; `None` for a wrong password and for
    /// an unknown user alike. An unknown user still costs one argon2 verification (against a
    /// fixed dummy hash), so the time taken does not tell the two apart.
    pub fn verify_password(&self, name: &str, password: &str) -> Result<Option<User>, StoreError> {
        // The connection goes back to the pool before the (slow) verification.
        let row = accounts::find_user(&mut *self.conn()?, name)?;
        accounts::verify(row, password)
    }

    /// The account `name`, if any.
    pub fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        accounts::find_user(&mut *self.conn()?, name)?
            .map(|row| row.into_user())
            .transpose()
    }

    /// Deletes the account `name`. `NotFound` for an unknown user; `Conflict` while it owns
    /// plans (plans are the record of an agreement and outlive nothing silently).
    pub fn remove_user(&self, name: &str) -> Result<(), StoreError> {
        self.transaction(|conn| accounts::remove_user(conn, name))
    }

    /// Creates the writer token `name` whose secret hashes to `hash`, writing `scope`.
    /// `Invalid` for an empty (or badly formed) name or register, `Conflict` when the name
    /// is taken (revoked tokens' names included).
    pub fn create_writer_token(
        &self,
        name: &str,
        hash: &TokenHash,
        scope: &WriterScope,
    ) -> Result<WriterToken, StoreError> {
        self.transaction(|conn| writer_tokens::insert(conn, name, hash, scope, now()))
    }

    /// Every writer token, revoked ones included, by name; never a secret or hash.
    pub fn writer_tokens(&self) -> Result<Vec<WriterToken>, StoreError> {
        writer_tokens::list(&mut *self.conn()?)
    }

    /// Revokes the writer token `name` (a token revoked already keeps its first revocation
    /// time); it is refused from then on. `NotFound` for an unknown name.
    pub fn revoke_writer_token(&self, name: &str) -> Result<WriterToken, StoreError> {
        let revoked = self.transaction(|conn| writer_tokens::revoke(conn, name, now()));
        self.recent_tokens.forget();
        revoked
    }

    /// The writer token whose secret hashes to `hash`, with its scope, unless it is unknown
    /// or revoked: one lookup by a unique index, plus (at most once a minute per token) the
    /// update of its last use. A token found active is trusted for
    /// [`writer_tokens::RECHECK_AFTER`] without a lookup (a revocation through this store
    /// takes effect at once, through another process within that time).
    pub fn writer_token(&self, hash: &TokenHash) -> Result<Option<ActiveToken>, StoreError> {
        if let Some(token) = self.recent_writer_token(hash) {
            return Ok(Some(token));
        }
        let found = writer_tokens::active(&mut *self.conn()?, hash, now())?;
        if let Some(token) = &found {
            self.recent_tokens.put(*hash, token.clone());
        }
        Ok(found)
    }

    /// The writer token whose secret hashes to `hash` if [`Store::writer_token`] found it
    /// active within [`writer_tokens::RECHECK_AFTER`]; no database access.
    pub fn recent_writer_token(&self, hash: &TokenHash) -> Option<ActiveToken> {
        self.recent_tokens.get(hash)
    }
}
