//! This node's signing keys (checkpoints.md §2): from the operator's files or environment,
//! or, on an embedded SQLite installation, generated once and kept in the database. A
//! PostgreSQL deployment must supply them, so that every instance signs with the same keys.
//! No error here quotes a key.

use std::path::PathBuf;

use store_diesel::conn::Backend;
use store_diesel::store::{NodeKeys, Store};
use tlog_core::note::{COSIGNATURE_V1, ED25519};
use tlog_core::PrivateKey;

/// Environment variable holding the log key itself.
pub const LOG_KEY_ENV: &str = "LOG_KEY";
/// Environment variable holding the cosigner key itself.
pub const COSIGNER_KEY_ENV: &str = "COSIGNER_KEY";

/// Why the keys cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key file that cannot be read.
    #[error("cannot read the {what} file {path}: {reason}")]
    File {
        /// Which key.
        what: &'static str,
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A key that is not a private key of the right type.
    #[error("the {what} is not valid: {reason}")]
    Invalid {
        /// Which key.
        what: &'static str,
        /// Why (never the key).
        reason: String,
    },
    /// PostgreSQL without one or both keys.
    #[error(
        "signing keys are required with PostgreSQL (every instance must sign with the same \
         keys); missing: {0}. Pass --log-key-file and --cosigner-key-file (or set LOG_KEY and \
         COSIGNER_KEY); `api-actix key generate` makes them"
    )]
    Missing(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store_diesel::error::StoreError),
    /// PostgreSQL without a token secret.
    #[error(
        "a token secret is required with PostgreSQL (every instance must share it): set \
         TOKEN_SECRET or pass --token-secret-file"
    )]
    MissingTokenSecret,
    /// The operating system gave no randomness.
    #[error("no randomness for a new key: {0}")]
    Random(String),
}

/// Where the operator put the keys (each falls back to its environment variable).
#[derive(Debug, Clone, Default)]
pub struct KeySources {
    /// File holding the log key (`PRIVATE+KEY+…`, type 0x01).
    pub log_key_file: Option<PathBuf>,
    /// File holding the cosigner key (type 0x04).
    pub cosigner_key_file: Option<PathBuf>,
}

fn supplied(
    what: &'static str,
    file: Option<&PathBuf>,
    env: &str,
    key_type: u8,
) -> Result<Option<PrivateKey>, KeyError> {
    let text = match file {
        Some(path) => std::fs::read_to_string(path).map_err(|e| KeyError::File {
            what,
            path: path.display().to_string(),
            reason: e.to_string(),
        })?,
        None => match std::env::var(env) {
            Ok(text) => text,
            Err(_) => return Ok(None),
        },
    };
    let key = PrivateKey::parse(&text).map_err(|e| KeyError::Invalid {
        what,
        reason: e.to_string(),
    })?;
    if key.verifier().key_type() != key_type {
        return Err(KeyError::Invalid {
            what,
            reason: "it is a key of the other kind (log keys sign notes, cosigner keys cosign)"
                .into(),
        });
    }
    Ok(Some(key))
}

/// The node's keys and origin: supplied ones first, else (embedded SQLite) generated and
/// kept; `None` on PostgreSQL without supplied keys (commands that sign call [`require`]).
pub fn resolve(store: &Store, sources: &KeySources) -> Result<Option<NodeKeys>, KeyError> {
    match require(store, sources) {
        Err(KeyError::Missing(_)) => Ok(None),
        other => other.map(Some),
    }
}

/// As [`resolve`], but PostgreSQL without both keys is an error naming the missing one: for
/// the server and every command that loads (each load signs its checkpoints).
pub fn require(store: &Store, sources: &KeySources) -> Result<NodeKeys, KeyError> {
    let log = supplied(
        "log key",
        sources.log_key_file.as_ref(),
        LOG_KEY_ENV,
        ED25519,
    )?;
    let cosigner = supplied(
        "cosigner key",
        sources.cosigner_key_file.as_ref(),
        COSIGNER_KEY_ENV,
        COSIGNATURE_V1,
    )?;
    let (log, cosigner) = match (log, cosigner, store.backend()) {
        (Some(log), Some(cosigner), _) => (log, cosigner),
        (log, cosigner, Backend::Sqlite) => {
            let (generated_log, generated_cosigner) = store.generated_keys()?;
            (
                log.unwrap_or(generated_log),
                cosigner.unwrap_or(generated_cosigner),
            )
        }
        (log, cosigner, Backend::Postgres) => {
            let missing: Vec<&str> = [
                ("the log key", log.is_none()),
                ("the cosigner key", cosigner.is_none()),
            ]
            .into_iter()
            .filter_map(|(what, missing)| missing.then_some(what))
            .collect();
            return Err(KeyError::Missing(missing.join(" and ")));
        }
    };
    Ok(NodeKeys {
        origin: store.origin()?,
        log,
        cosigner,
    })
}

/// A new random private key named `name`: a log key, or with `cosigner` a cosigner key.
pub fn generate(name: &str, cosigner: bool) -> Result<PrivateKey, KeyError> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
    let key_type = if cosigner { COSIGNATURE_V1 } else { ED25519 };
    PrivateKey::from_seed(name, key_type, seed).map_err(|e| KeyError::Invalid {
        what: "key name",
        reason: e.to_string(),
    })
}

/// The secret that signs the plan API's tokens: from a file (trailing whitespace dropped),
/// from `TOKEN_SECRET`, or (embedded SQLite only) generated and kept in the database. Never a
/// built-in default.
pub fn token_secret(store: &Store, file: Option<&std::path::Path>) -> Result<Vec<u8>, KeyError> {
    if let Some(file) = file {
        let mut secret = std::fs::read(file).map_err(|e| KeyError::File {
            what: "token secret",
            path: file.display().to_string(),
            reason: e.to_string(),
        })?;
        while secret.last().is_some_and(u8::is_ascii_whitespace) {
            secret.pop();
        }
        return Ok(secret);
    }
    if let Ok(secret) = std::env::var("TOKEN_SECRET") {
        return Ok(secret.into_bytes());
    }
    match store.backend() {
        Backend::Sqlite => Ok(store.generated_token_secret()?),
        Backend::Postgres => Err(KeyError::MissingTokenSecret),
    }
}
