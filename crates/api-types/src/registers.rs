//! Bodies of the read API (registers.md §8) and of RSF loading (§9).

use serde::{Deserialize, Serialize};

/// One register of `GET /registers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterListing {
    /// Whether the register is a mirror of a partner's slice.
    pub mirror: bool,
    /// Its name.
    pub name: String,
    /// Root hash of the user log, `sha-256:<hex>`.
    #[serde(rename = "root-hash")]
    pub root_hash: String,
    /// Entries in the user log.
    #[serde(rename = "total-entries")]
    pub total_entries: u64,
    /// Current records.
    #[serde(rename = "total-records")]
    pub total_records: u64,
}

/// `GET …/register`: the summary of a register's user log or of one of its index logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterSummary {
    /// The verifier key of the log's signed checkpoints (checkpoints.md §2), when this node
    /// signs them (not on a mirror).
    #[serde(
        rename = "checkpoint-key",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub checkpoint_key: Option<String>,
    /// The custodian named by the register's metadata.
    pub custodian: Option<String>,
    /// The domain this server names itself by.
    pub domain: String,
    /// The index, on an index log's summary.
    #[serde(
        rename = "index-record",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub index_record: Option<IndexRecord>,
    /// When the log last changed, `YYYY-MM-DDThh:mm:ssZ`.
    #[serde(rename = "last-updated")]
    pub last_updated: String,
    /// The log's origin, the first line of its checkpoints (with `checkpoint-key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The register's own record (its `register` system item), when declared.
    #[serde(rename = "register-record")]
    pub register_record: Option<serde_json::Value>,
    /// Entries in the log.
    #[serde(rename = "total-entries")]
    pub total_entries: u64,
    /// Distinct items the log's entries reference.
    #[serde(rename = "total-items")]
    pub total_items: u64,
    /// Current records of the log.
    #[serde(rename = "total-records")]
    pub total_records: u64,
}

/// Which index an index log's summary describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexRecord {
    /// The field the index is keyed by.
    pub field: String,
    /// The index's name.
    pub index: String,
}

/// An entry (registers.md §8): numbers as strings, in the order of the V1-JSON leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the index (the record's history) or log.
    #[serde(rename = "index-entry-number")]
    pub index_entry_number: String,
    /// Position in the log.
    #[serde(rename = "entry-number")]
    pub entry_number: String,
    /// `YYYY-MM-DDThh:mm:ssZ`.
    #[serde(rename = "entry-timestamp")]
    pub entry_timestamp: String,
    /// The record's key.
    pub key: String,
    /// The items, `sha-256:<hex>` each.
    #[serde(rename = "item-hash")]
    pub item_hash: Vec<String>,
}

/// A record: its newest entry's fields, and the items themselves instead of their hashes.
/// Records are served as an object keyed by the record's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Position in the index (the record's history) or log.
    #[serde(rename = "index-entry-number")]
    pub index_entry_number: String,
    /// Position in the log.
    #[serde(rename = "entry-number")]
    pub entry_number: String,
    /// `YYYY-MM-DDThh:mm:ssZ`.
    #[serde(rename = "entry-timestamp")]
    pub entry_timestamp: String,
    /// The record's key.
    pub key: String,
    /// The items, as canonical JSON objects.
    pub item: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// What a load did: the `load-rsf` answer (with `success` and `message`) and the line
/// `api-actix load` prints (without them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadReport {
    /// `assert-root-hash` lines checked.
    pub asserts: u64,
    /// Whether the load created the register.
    pub created: bool,
    /// Items new to the register.
    #[serde(rename = "items-added")]
    pub items_added: u64,
    /// `"success"` over HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The register loaded into.
    pub register: String,
    /// Root of the user log after the load.
    #[serde(rename = "root-hash")]
    pub root_hash: String,
    /// `true` over HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    /// System entries appended.
    #[serde(rename = "system-entries-added")]
    pub system_entries_added: u64,
    /// Size of the user log after the load.
    #[serde(rename = "total-entries")]
    pub total_entries: u64,
    /// Items the file added without an entry naming them (kept in relaxed mode only).
    #[serde(rename = "unreferenced-items")]
    pub unreferenced_items: u64,
    /// User entries appended.
    #[serde(rename = "user-entries-added")]
    pub user_entries_added: u64,
}

/// The answer of the write API (`POST /registers/{name}/records`, `DELETE …/records/{key}`)
/// and the line `api-actix append` prints: the entries this request appended, the records
/// it left unchanged, and the log after the transaction it was committed in (which may hold
/// other writers' entries too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteReport {
    /// The register written.
    pub register: String,
    /// The entries appended, in order.
    pub entries: Vec<Entry>,
    /// Records that already held the item sent: not appended.
    pub unchanged: Vec<Unchanged>,
    /// Size of the user log after the commit.
    #[serde(rename = "total-entries")]
    pub total_entries: u64,
    /// Root of the user log after the commit.
    #[serde(rename = "root-hash")]
    pub root_hash: String,
    /// The signed checkpoint (C2SP signed note) at `total-entries`, when the server signs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
    /// With `?proofs=true`: each appended entry's inclusion proof in the tree of
    /// `total-entries`, in the order of `entries`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proofs: Option<Vec<crate::proofs::EntryProof>>,
}

/// A record the write left as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unchanged {
    /// The record's key.
    pub key: String,
    /// Its current items, `sha-256:<hex>` each.
    #[serde(rename = "item-hash")]
    pub item_hash: Vec<String>,
}

/// The 400 answer of `load-rsf` for a file the load refused (nothing was stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadFailure {
    /// What was wrong, with its line (`line 16: Orphan add item: …`).
    pub details: String,
    /// `"Failed to load RSF"`.
    pub message: String,
    /// `false`.
    pub success: bool,
    /// The request's ID, as in the error envelope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl LoadFailure {
    /// The failure with `details`.
    pub fn new(details: impl Into<String>) -> LoadFailure {
        LoadFailure {
            details: details.into(),
            message: "Failed to load RSF".into(),
            success: false,
            request_id: None,
        }
    }
}
