//! Checkpoints (c2sp.org/tlog-checkpoint): a signed note whose text is a log's origin, tree
//! size and root hash.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use register_core::Digest;

use crate::note::{self, NoteError, PrivateKey, VerifierKey};

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The note itself (format or signature).
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The note's text is not a checkpoint body.
    #[error("not a checkpoint: {0}")]
    Malformed(&'static str),
    /// Signed by the key, but for another log.
    #[error("the checkpoint is for origin '{found}', the key for '{expected}'")]
    OriginMismatch {
        /// The key's name.
        expected: String,
        /// The checkpoint's first line.
        found: String,
    },
}

/// A log's state: origin, size and root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin (its first line).
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// RFC 6962 root of those entries.
    pub root: Digest,
}

impl Checkpoint {
    /// The note text: `<origin>\n<size>\n<base64 root>\n`.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root.0)
        )
    }

    /// Parses note text as a checkpoint body. Extension lines after the root are allowed
    /// (and ignored), as the specification says.
    pub fn parse_body(text: &str) -> Result<Checkpoint, CheckpointError> {
        let mut lines = text.split('\n');
        let origin = lines.next().unwrap_or_default();
        let size = lines
            .next()
            .ok_or(CheckpointError::Malformed("no size line"))?;
        let root = lines
            .next()
            .ok_or(CheckpointError::Malformed("no root line"))?;
        if origin.is_empty() {
            return Err(CheckpointError::Malformed("the origin is empty"));
        }
        let canonical = size == "0" || (!size.starts_with('0') && !size.is_empty());
        let size = size
            .parse::<u64>()
            .ok()
            .filter(|_| canonical && size.bytes().all(|b| b.is_ascii_digit()))
            .ok_or(CheckpointError::Malformed(
                "the size is not a decimal number",
            ))?;
        let root: [u8; 32] = BASE64
            .decode(root)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(CheckpointError::Malformed(
                "the root is not 32 bytes of base64",
            ))?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root: Digest(root),
        })
    }

    /// The checkpoint signed by `key` (whose name must be the origin).
    pub fn sign(&self, key: &PrivateKey) -> Result<String, CheckpointError> {
        if key.name() != self.origin {
            return Err(CheckpointError::OriginMismatch {
                expected: key.name().to_string(),
                found: self.origin.clone(),
            });
        }
        Ok(key.sign(&self.body())?)
    }
}

/// Verifies a checkpoint note signed by `key` for the log `key` names.
pub fn verify_checkpoint(note: &str, key: &VerifierKey) -> Result<Checkpoint, CheckpointError> {
    let opened = note::open(note, key)?;
    let checkpoint = Checkpoint::parse_body(&opened.note.text)?;
    if checkpoint.origin != key.name() {
        return Err(CheckpointError::OriginMismatch {
            expected: key.name().to_string(),
            found: checkpoint.origin,
        });
    }
    Ok(checkpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COUNTRY_KEY: &str = "PRIVATE+KEY+registers.example/registers/country+038596e7+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const COUNTRY_NOTE: &str = "registers.example/registers/country\n208\njZLh4K8dQ8QeSY5rrtDQs+oncNG/nSr8BOnE2td5Vyk=\n\n— registers.example/registers/country A4WW58QX3989ireA0i+9aQU+DD+My4sIfYVOECzidfAlBZFUyvPUVnKBpehg7EgCRtbtmpTCs4Bwmp7FXl4c2+sC8w8=\n";

    fn country() -> Checkpoint {
        Checkpoint {
            origin: "registers.example/registers/country".into(),
            size: 208,
            root: Digest::parse_prefixed(
                "sha-256:8d92e1e0af1d43c41e498e6baed0d0b3ea2770d1bf9d2afc04e9c4dad7795729",
            )
            .expect("root"),
        }
    }

    #[test]
    fn the_country_checkpoint_vector() {
        let key = PrivateKey::parse(COUNTRY_KEY).expect("key");
        assert_eq!(
            key.verifier().to_string(),
            "registers.example/registers/country+038596e7+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        );
        assert_eq!(country().sign(&key).expect("sign"), COUNTRY_NOTE);
        assert_eq!(
            verify_checkpoint(COUNTRY_NOTE, &key.verifier()),
            Ok(country())
        );
    }

    #[test]
    fn a_checkpoint_for_another_origin_or_of_another_shape_is_refused() {
        let key = PrivateKey::parse(COUNTRY_KEY).expect("key");
        let other = key
            .renamed("registers.example/registers/colour")
            .expect("renamed");
        let note = Checkpoint {
            origin: "registers.example/registers/colour".into(),
            ..country()
        }
        .sign(&other)
        .expect("sign");
        assert!(verify_checkpoint(&note, &key.verifier()).is_err());
        assert!(country().sign(&other).is_err());
        for body in [
            "x\n01\nAAAA\n",
            "x\n-1\n",
            "x\n1\n",
            "\n1\nAAAA\n",
            "x\n1\nAAAA\n",
        ] {
            assert!(Checkpoint::parse_body(body).is_err(), "{body:?}");
        }
        let with_extension = format!("{}extension line\n", country().body());
        assert_eq!(Checkpoint::parse_body(&with_extension), Ok(country()));
    }
}
