//! Split-view evidence: two checkpoints signed by one log key that cannot both be true.
//!
//! A mirror keeps every checkpoint it accepted from its primary. When the primary later
//! presents a checkpoint that contradicts one of them, the mirror writes both signed notes,
//! with the consistency proof the primary offered between them, in one file that anyone
//! holding the log's verifier key can check offline. The format (JSON, one object):
//!
//! ```text
//! {
//!   "evidence": "split-view/v1",
//!   "first": "<the signed checkpoint note of the smaller (or equal) size>",
//!   "second": "<the other signed checkpoint note>",
//!   "consistency_proof": ["<base64 of a 32-byte hash>", ...]
//! }
//! ```
//!
//! [`Evidence::verify`] accepts it only when both notes carry a valid signature by the key,
//! are checkpoints of the key's log, and contradict each other: the same size with different
//! roots (conclusive on its own), or sizes `m < n` for which the consistency proof does not
//! verify from `first` to `second`. The proof is the primary's own answer, not signed: such
//! a file shows that the log signed two checkpoints and could not prove one extends the
//! other; the same-size case needs no proof at all.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use register_core::merkle::verify_consistency;
use register_core::Digest;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{verify_checkpoint, Checkpoint, CheckpointError};
use crate::note::VerifierKey;

/// The value of the `evidence` field this version writes and reads.
pub const EVIDENCE_FORMAT: &str = "split-view/v1";

/// Why an evidence file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// Not an evidence file of this format.
    #[error("not split-view evidence: {0}")]
    Malformed(String),
    /// One of the two checkpoints does not verify with the key.
    #[error("the {which} checkpoint does not verify: {source}")]
    Checkpoint {
        /// `first` or `second`.
        which: &'static str,
        /// Why.
        source: CheckpointError,
    },
    /// The two checkpoints are listed in the wrong order.
    #[error(
        "the first checkpoint ({first} entries) is larger than the second ({second}): the \
         evidence lists the smaller first"
    )]
    Order {
        /// The first checkpoint's size.
        first: u64,
        /// The second's.
        second: u64,
    },
    /// Both checkpoints can be true: this is not evidence of anything.
    #[error("the two checkpoints do not contradict each other: {0}")]
    Consistent(&'static str),
}

/// How two signed checkpoints contradict each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contradiction {
    /// Same size, different roots: conclusive on its own.
    SameSizeDifferentRoots {
        /// The size.
        size: u64,
        /// The first checkpoint's root.
        first: Digest,
        /// The second's.
        second: Digest,
    },
    /// The consistency proof from the smaller to the larger does not verify.
    ProofFails {
        /// The smaller size.
        first: u64,
        /// The larger.
        second: u64,
    },
}

impl std::fmt::Display for Contradiction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Contradiction::SameSizeDifferentRoots {
                size,
                first,
                second,
            } => write!(
                f,
                "both checkpoints have {size} entries but different roots ({first} and {second})"
            ),
            Contradiction::ProofFails { first, second } => write!(
                f,
                "the consistency proof from {first} to {second} entries does not verify"
            ),
        }
    }
}

/// Whether checkpoints `a` and `b` of one log contradict each other, given the consistency
/// proof between them (from the smaller to the larger; ignored for equal sizes).
pub fn contradiction(a: &Checkpoint, b: &Checkpoint, proof: &[Digest]) -> Option<Contradiction> {
    let (small, big) = if a.size <= b.size { (a, b) } else { (b, a) };
    if small.size == big.size {
        return (small.root != big.root).then_some(Contradiction::SameSizeDifferentRoots {
            size: small.size,
            first: small.root,
            second: big.root,
        });
    }
    (!verify_consistency(small.size, big.size, &small.root, &big.root, proof)).then_some(
        Contradiction::ProofFails {
            first: small.size,
            second: big.size,
        },
    )
}

/// Two signed checkpoints of one log and the proof that failed between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The signed note of the smaller (or equal) size.
    pub first: String,
    /// The other signed note.
    pub second: String,
    /// The consistency proof offered from `first` to `second` (empty for equal sizes).
    pub proof: Vec<Digest>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    evidence: String,
    first: String,
    second: String,
    consistency_proof: Vec<String>,
}

impl Evidence {
    /// Evidence from two notes and their parsed checkpoints, the smaller listed first.
    pub fn between(
        (note_a, a): (&str, &Checkpoint),
        (note_b, b): (&str, &Checkpoint),
        proof: Vec<Digest>,
    ) -> Evidence {
        let (first, second) = if a.size <= b.size {
            (note_a, note_b)
        } else {
            (note_b, note_a)
        };
        Evidence {
            first: first.to_string(),
            second: second.to_string(),
            proof,
        }
    }

    /// The file's text (pretty JSON, final newline).
    pub fn to_json(&self) -> String {
        let wire = Wire {
            evidence: EVIDENCE_FORMAT.to_string(),
            first: self.first.clone(),
            second: self.second.clone(),
            consistency_proof: self.proof.iter().map(|d| BASE64.encode(d.0)).collect(),
        };
        let mut text = serde_json::to_string_pretty(&wire).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads an evidence file (its shape only; [`Evidence::verify`] checks what it says).
    pub fn parse(text: &str) -> Result<Evidence, EvidenceError> {
        let wire: Wire =
            serde_json::from_str(text).map_err(|e| EvidenceError::Malformed(e.to_string()))?;
        if wire.evidence != EVIDENCE_FORMAT {
            return Err(EvidenceError::Malformed(format!(
                "\"evidence\" must be \"{EVIDENCE_FORMAT}\""
            )));
        }
        let proof = wire
            .consistency_proof
            .iter()
            .enumerate()
            .map(|(i, hash)| {
                BASE64
                    .decode(hash)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .map(Digest)
                    .ok_or_else(|| {
                        EvidenceError::Malformed(format!(
                            "consistency_proof[{i}] is not 32 bytes of base64"
                        ))
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Evidence {
            first: wire.first,
            second: wire.second,
            proof,
        })
    }

    /// Checks the evidence against the log's verifier key: both notes are checkpoints of
    /// its log with a valid signature by it, listed smaller first, and they contradict each
    /// other. Returns how.
    pub fn verify(&self, key: &VerifierKey) -> Result<Contradiction, EvidenceError> {
        let open = |which, note: &str| {
            verify_checkpoint(note, key)
                .map_err(|source| EvidenceError::Checkpoint { which, source })
        };
        let first = open("first", &self.first)?;
        let second = open("second", &self.second)?;
        if first.size > second.size {
            return Err(EvidenceError::Order {
                first: first.size,
                second: second.size,
            });
        }
        contradiction(&first, &second, &self.proof).ok_or(EvidenceError::Consistent(
            if first.size == second.size {
                "they are the same checkpoint"
            } else {
                "the consistency proof verifies"
            },
        ))
    }
}

/// Reads and verifies an evidence file in one step ([`Evidence::parse`], then
/// [`Evidence::verify`]).
pub fn verify_evidence(text: &str, key: &VerifierKey) -> Result<Contradiction, EvidenceError> {
    Evidence::parse(text)?.verify(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::PrivateKey;
    use register_core::merkle::{self, MemoryNodeStore};

    const SEED: &str = "PRIVATE+KEY+registers.example/registers/country+038596e7+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";

    /// A tree of `n` leaves `prefix0, prefix1, …`.
    fn tree(prefix: &str, n: u64) -> MemoryNodeStore {
        let mut store = MemoryNodeStore::new();
        let mut frontier = merkle::Frontier::new();
        for i in 0..n {
            let leaf = merkle::leaf_hash(format!("{prefix}{i}").as_bytes());
            frontier.append(leaf, |level, index, hash| store.push(level, index, hash));
        }
        store
    }

    fn signed(store: &MemoryNodeStore, size: u64) -> (String, Checkpoint) {
        let key = PrivateKey::parse(SEED).expect("key");
        let checkpoint = Checkpoint {
            origin: key.name().to_string(),
            size,
            root: merkle::root_at(store, size).expect("root"),
        };
        (checkpoint.sign(&key).expect("sign"), checkpoint)
    }

    fn key() -> VerifierKey {
        PrivateKey::parse(SEED).expect("key").verifier()
    }

    fn check(evidence: &Evidence, expected: Result<Contradiction, EvidenceError>) {
        let text = evidence.to_json();
        assert_eq!(Evidence::parse(&text).as_ref(), Ok(evidence));
        assert_eq!(verify_evidence(&text, &key()), expected);
    }

    #[test]
    fn a_rewritten_history_is_evidence() {
        let honest = tree("a", 10);
        let rewritten = tree("b", 12);
        let (old_note, old) = signed(&honest, 10);
        let (new_note, new) = signed(&rewritten, 12);
        // The proof the rewritten log gives from its own 10 to 12 fails from the honest 10.
        let proof = merkle::consistency_proof(&rewritten, 10, 12).expect("proof");
        let evidence = Evidence::between((&new_note, &new), (&old_note, &old), proof);
        assert_eq!(evidence.first, old_note, "the smaller is listed first");
        check(
            &evidence,
            Ok(Contradiction::ProofFails {
                first: 10,
                second: 12,
            }),
        );
        // Same size, another root: conclusive without a proof.
        let (other_note, other) = signed(&rewritten, 10);
        let evidence = Evidence::between((&old_note, &old), (&other_note, &other), Vec::new());
        check(
            &evidence,
            Ok(Contradiction::SameSizeDifferentRoots {
                size: 10,
                first: old.root,
                second: other.root,
            }),
        );
    }

    #[test]
    fn consistent_checkpoints_are_not_evidence() {
        let log = tree("a", 12);
        let (a_note, a) = signed(&log, 10);
        let (b_note, b) = signed(&log, 12);
        let proof = merkle::consistency_proof(&log, 10, 12).expect("proof");
        assert_eq!(contradiction(&a, &b, &proof), None);
        check(
            &Evidence::between((&a_note, &a), (&b_note, &b), proof),
            Err(EvidenceError::Consistent("the consistency proof verifies")),
        );
        check(
            &Evidence::between((&a_note, &a), (&a_note, &a), Vec::new()),
            Err(EvidenceError::Consistent("they are the same checkpoint")),
        );
    }

    #[test]
    fn tampered_evidence_is_refused() {
        let (old_note, old) = signed(&tree("a", 10), 10);
        let (new_note, new) = signed(&tree("b", 10), 10);
        let evidence = Evidence::between((&old_note, &old), (&new_note, &new), Vec::new());
        let text = evidence.to_json();
        // A root changed in one note: its signature no longer verifies.
        let root = BASE64.encode(new.root.0);
        let forged = text.replacen(&root, &BASE64.encode([7u8; 32]), 1);
        assert!(matches!(
            verify_evidence(&forged, &key()),
            Err(EvidenceError::Checkpoint {
                which: "second",
                ..
            })
        ));
        // Another key's log.
        let other = PrivateKey::from_seed("registers.example/registers/country", 1, [9; 32])
            .expect("key")
            .verifier();
        assert!(matches!(
            verify_evidence(&text, &other),
            Err(EvidenceError::Checkpoint { which: "first", .. })
        ));
        // Unknown fields, another format, a bad hash, out of order.
        let extra = text.replacen('{', "{\"note\": 1,", 1);
        assert!(matches!(
            verify_evidence(&extra, &key()),
            Err(EvidenceError::Malformed(_))
        ));
        let other_format = text.replace(EVIDENCE_FORMAT, "split-view/v0");
        assert!(matches!(
            verify_evidence(&other_format, &key()),
            Err(EvidenceError::Malformed(_))
        ));
        let bad_hash = text.replace(
            "\"consistency_proof\": []",
            "\"consistency_proof\": [\"AA==\"]",
        );
        assert_eq!(
            verify_evidence(&bad_hash, &key()),
            Err(EvidenceError::Malformed(
                "consistency_proof[0] is not 32 bytes of base64".into()
            ))
        );
        let log = tree("a", 12);
        let (small_note, small) = signed(&log, 10);
        let (big_note, big) = signed(&tree("c", 12), 12);
        let swapped = Evidence {
            first: big_note,
            second: small_note,
            proof: Vec::new(),
        };
        assert_eq!(
            swapped.verify(&key()),
            Err(EvidenceError::Order {
                first: big.size,
                second: small.size
            })
        );
    }
}
