//! Merkle proof bodies (registers.md §8), served by the API and printed by `rsf proof`.

use std::fmt::Display;

use serde::{Deserialize, Serialize};

/// The only proof identifier: RFC 6962 over SHA-256.
pub const PROOF_IDENTIFIER: &str = "merkle:sha-256";

fn strings<T: Display>(hashes: impl IntoIterator<Item = T>) -> Vec<String> {
    hashes.into_iter().map(|h| h.to_string()).collect()
}

/// `…/proof/register/merkle:sha-256`: the log's size and root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterProof {
    /// [`PROOF_IDENTIFIER`].
    #[serde(rename = "proof-identifier")]
    pub proof_identifier: String,
    /// Root hash, `sha-256:<hex>`.
    #[serde(rename = "root-hash")]
    pub root_hash: String,
    /// Entries in the log.
    #[serde(rename = "total-entries")]
    pub total_entries: u64,
}

impl RegisterProof {
    /// The proof of a log of `total_entries` entries with `root`.
    pub fn new(root: impl Display, total_entries: u64) -> RegisterProof {
        RegisterProof {
            proof_identifier: PROOF_IDENTIFIER.into(),
            root_hash: root.to_string(),
            total_entries,
        }
    }
}

/// `…/proof/entry/{n}/{size}/merkle:sha-256`: the audit path of entry `n`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryProof {
    /// [`PROOF_IDENTIFIER`].
    #[serde(rename = "proof-identifier")]
    pub proof_identifier: String,
    /// The entry, as a string like every entry number.
    #[serde(rename = "entry-number")]
    pub entry_number: String,
    /// Sibling hashes from the leaf up.
    #[serde(rename = "merkle-audit-path")]
    pub merkle_audit_path: Vec<String>,
}

impl EntryProof {
    /// The proof of entry `n` with its audit `path`.
    pub fn new<T: Display>(n: u64, path: impl IntoIterator<Item = T>) -> EntryProof {
        EntryProof {
            proof_identifier: PROOF_IDENTIFIER.into(),
            entry_number: n.to_string(),
            merkle_audit_path: strings(path),
        }
    }
}

/// `…/proof/consistency/{m}/{n}/merkle:sha-256`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    /// [`PROOF_IDENTIFIER`].
    #[serde(rename = "proof-identifier")]
    pub proof_identifier: String,
    /// The RFC 9162 consistency proof.
    #[serde(rename = "merkle-consistency-nodes")]
    pub merkle_consistency_nodes: Vec<String>,
}

impl ConsistencyProof {
    /// The proof made of `nodes`.
    pub fn new<T: Display>(nodes: impl IntoIterator<Item = T>) -> ConsistencyProof {
        ConsistencyProof {
            proof_identifier: PROOF_IDENTIFIER.into(),
            merkle_consistency_nodes: strings(nodes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proofs_serialise_in_the_documented_order() {
        assert_eq!(
            serde_json::to_string(&EntryProof::new(3, ["sha-256:aa", "sha-256:bb"])).unwrap(),
            r#"{"proof-identifier":"merkle:sha-256","entry-number":"3","merkle-audit-path":["sha-256:aa","sha-256:bb"]}"#
        );
        assert_eq!(
            serde_json::to_string(&ConsistencyProof::new(Vec::<String>::new())).unwrap(),
            r#"{"proof-identifier":"merkle:sha-256","merkle-consistency-nodes":[]}"#
        );
        assert_eq!(
            serde_json::to_string(&RegisterProof::new("sha-256:cc", 7)).unwrap(),
            r#"{"proof-identifier":"merkle:sha-256","root-hash":"sha-256:cc","total-entries":7}"#
        );
    }
}
