//! Writer tokens: what a token looks like, how it is made and hashed, and how a presented
//! one is checked, for the CLI that creates them and the server that accepts them.
//!
//! A token is [`PREFIX`] and the unpadded base64url of 32 random bytes (`rwt_…`, 47
//! characters): the prefix tells it from the plan API's JWTs (which start `eyJ`) and lets
//! secret scanners find it. The store keeps only [`hash`], the SHA-256 of the whole token:
//! 256 random bits cannot be guessed, so a slow password hash would only cost time, and a
//! check is one lookup by a unique index. The secret is shown once, by [`create`]'s caller;
//! nothing here logs it, and [`Secret`]'s `Debug` does not show it.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use store_diesel::error::StoreError;
use store_diesel::store::Store;
use store_diesel::writer_tokens::{ActiveToken, TokenHash, WriterScope, WriterToken};

/// How every writer token starts.
pub const PREFIX: &str = "rwt_";

/// Random bytes in a token.
const SECRET_BYTES: usize = 32;

/// Characters of a token: the prefix and the unpadded base64 of [`SECRET_BYTES`].
const TOKEN_CHARS: usize = PREFIX.len() + (SECRET_BYTES * 4).div_ceil(3);

/// A writer token's secret, the one time it exists outside the caller's hands.
pub struct Secret(String);

impl Secret {
    /// The token, to print once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    // Never print the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Why a token could not be created.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The operating system gave no randomness.
    #[error("no randomness for a new token: {0}")]
    Random(String),
    /// The store refused it (a name taken or malformed) or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The hash the store keeps of a token: SHA-256 of its text, prefix included. The one place
/// a token is hashed.
pub fn hash(token: &str) -> TokenHash {
    TokenHash(Sha256::digest(token.as_bytes()).into())
}

/// Whether a bearer credential is meant as a writer token (rather than a JWT).
pub fn is_writer_token(bearer: &str) -> bool {
    bearer.starts_with(PREFIX)
}

/// A new random token.
pub fn generate() -> Result<Secret, TokenError> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::getrandom(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    Ok(Secret(format!("{PREFIX}{encoded}")))
}

/// Creates the token `name` writing `scope`: the store keeps its hash, the caller gets the
/// secret to show once.
pub fn create(
    store: &Store,
    name: &str,
    scope: &WriterScope,
) -> Result<(WriterToken, Secret), TokenError> {
    let secret = generate()?;
    let token = store.create_writer_token(name, &hash(secret.expose()), scope)?;
    Ok((token, secret))
}

/// The valid token `bearer` is, if any: `None` for anything malformed, unknown or revoked.
/// A malformed one costs no database lookup.
pub fn check(store: &Store, bearer: &str) -> Result<Option<ActiveToken>, StoreError> {
    if !well_formed(bearer) {
        return Ok(None);
    }
    store.writer_token(&hash(bearer))
}

/// The token `bearer` is if the store found it active within
/// [`store_diesel::writer_tokens::RECHECK_AFTER`]; never touches the database, so it may run
/// where blocking may not. `None` means "ask [`check`]".
pub fn check_recent(store: &Store, bearer: &str) -> Option<ActiveToken> {
    well_formed(bearer)
        .then(|| store.recent_writer_token(&hash(bearer)))
        .flatten()
}

fn well_formed(bearer: &str) -> bool {
    bearer.len() == TOKEN_CHARS
        && is_writer_token(bearer)
        && bearer[PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hashed_whole() {
        let one = generate().expect("token");
        let two = generate().expect("token");
        assert_ne!(one.expose(), two.expose());
        assert_eq!(one.expose().len(), TOKEN_CHARS);
        assert!(is_writer_token(one.expose()));
        assert!(!is_writer_token("eyJhbGciOiJIUzI1NiJ9.e30.x"));
        assert_eq!(format!("{one:?}"), "Secret(..)");
        assert_eq!(format!("{:?}", hash(one.expose())), "TokenHash(..)");
        // The hash of the whole text (`printf 'rwt_AAAA' | sha256sum`): stored hashes never
        // change meaning.
        assert_eq!(
            hex(&hash("rwt_AAAA").0),
            "48d9674f106375da4b3d5b33951ce5efac54ab2ad44f16699ecc4632675b329a"
        );
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
