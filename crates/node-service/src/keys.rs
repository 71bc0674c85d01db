//! This node's signing keys (checkpoints.md §2): supplied by the operator (a file, or the
//! text itself from the environment: the binary's configuration decides which), or, on an
//! embedded SQLite installation, generated once and kept in the database. A PostgreSQL
//! deployment must supply them, so that every instance signs with the same keys. No error
//! here quotes a key; nothing here reads the environment.

use std::path::{Path, PathBuf};

use store_diesel::conn::Backend;
use store_diesel::store::{NodeKeys, Store};
use tlog_core::note::{COSIGNATURE_V1, ED25519};
use tlog_core::PrivateKey;

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

/// A secret the operator supplies: a file holding it, or the secret itself (from an
/// environment variable). `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Supplied {
    /// A file holding the secret.
    File(PathBuf),
    /// The secret itself.
    Value(String),
}

impl std::fmt::Debug for Supplied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Supplied::File(path) => f.debug_tuple("File").field(path).finish(),
            Supplied::Value(_) => f.write_str("Value(<redacted>)"),
        }
    }
}

impl Supplied {
    /// The secret's bytes, trailing whitespace (a file's newline) dropped.
    pub fn read(&self, what: &'static str) -> Result<Vec<u8>, KeyError> {
        let mut bytes = match self {
            Supplied::File(path) => read_file(what, path)?,
            Supplied::Value(text) => text.clone().into_bytes(),
        };
        while bytes.last().is_some_and(u8::is_ascii_whitespace) {
            bytes.pop();
        }
        Ok(bytes)
    }
}

fn read_file(what: &'static str, path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|e| KeyError::File {
        what,
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Where the operator put the keys.
#[derive(Debug, Clone, Default)]
pub struct KeySources {
    /// The log key (`PRIVATE+KEY+…`, type 0x01).
    pub log_key: Option<Supplied>,
    /// The cosigner key (type 0x04).
    pub cosigner_key: Option<Supplied>,
}

impl KeySources {
    /// Reads and checks the supplied keys (each `None` when not supplied), without a store:
    /// what `serve` would sign with, for `config check`.
    pub fn read(&self) -> Result<(Option<PrivateKey>, Option<PrivateKey>), KeyError> {
        Ok((
            supplied("log key", self.log_key.as_ref(), ED25519)?,
            supplied("cosigner key", self.cosigner_key.as_ref(), COSIGNATURE_V1)?,
        ))
    }
}

fn supplied(
    what: &'static str,
    source: Option<&Supplied>,
    key_type: u8,
) -> Result<Option<PrivateKey>, KeyError> {
    let Some(source) = source else {
        return Ok(None);
    };
    let text = String::from_utf8(source.read(what)?).map_err(|_| KeyError::Invalid {
        what,
        reason: "it is not UTF-8 text".into(),
    })?;
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

/// `store` signing with the keys `sources` supply (or, embedded SQLite, it keeps): when they
/// are `required` (every load signs, so PostgreSQL without keys is refused), else when it
/// has any.
pub fn sign_with(store: Store, sources: &KeySources, required: bool) -> Result<Store, KeyError> {
    let keys = if required {
        Some(require(&store, sources)?)
    } else {
        resolve(&store, sources)?
    };
    Ok(match keys {
        Some(keys) => store.with_keys(keys),
        None => store,
    })
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
    let (log, cosigner) = sources.read()?;
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

/// The secret that signs the plan API's tokens: the supplied one (trailing whitespace
/// dropped), or (embedded SQLite only) one generated and kept in the database. Never a
/// built-in default.
pub fn token_secret(store: &Store, supplied: Option<&Supplied>) -> Result<Vec<u8>, KeyError> {
    if let Some(supplied) = supplied {
        return supplied.read("token secret");
    }
    match store.backend() {
        Backend::Sqlite => Ok(store.generated_token_secret()?),
        Backend::Postgres => Err(KeyError::MissingTokenSecret),
    }
}
