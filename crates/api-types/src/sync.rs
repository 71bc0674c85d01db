//! Bodies of the slice resources (sync.md) and the sync commands' report lines.

use serde::{Deserialize, Serialize};

/// `GET /v1/slices/{uuid}`: what one side holds of a register slice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SliceState {
    /// The slice's description in the plan.
    pub description: String,
    /// The primary's register name.
    pub register: String,
    /// Root hash of what this side holds.
    #[serde(rename = "root-hash")]
    pub root_hash: String,
    /// `register`.
    pub slice_type: String,
    /// The slice.
    pub slice_uuid: String,
    /// Entries this side holds.
    #[serde(rename = "total-entries")]
    pub total_entries: u64,
}

/// The answer to a push (`POST /v1/slices/{uuid}/rsf`): the mirror after the delta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// Root of the mirror.
    #[serde(rename = "root-hash")]
    pub root_hash: String,
    /// `true`.
    pub success: bool,
    /// Entries the mirror holds.
    #[serde(rename = "total-entries")]
    pub total_entries: u64,
}

/// What one slice's sync did: one line of `sync pull` and `sync push`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SliceReport {
    /// Entries applied by the run.
    #[serde(rename = "entries-added")]
    pub entries_added: u64,
    /// The local register that holds the slice (pull) or is pushed (push).
    pub register: String,
    /// Its root after the run.
    #[serde(rename = "root-hash")]
    pub root_hash: String,
    /// The slice.
    pub slice_uuid: String,
    /// Its size after the run.
    #[serde(rename = "total-entries")]
    pub total_entries: u64,
}

/// One line of `sync status`: a subscription's recorded state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionStatus {
    /// Entries the mirror lacks of the primary's log as the last run saw it (0 when no run
    /// has seen it).
    pub entries_behind: u64,
    /// The last run's error, if it failed.
    pub last_error: Option<String>,
    /// When a run last succeeded.
    pub last_success: Option<String>,
    /// The plan.
    pub plan_uuid: String,
    /// The local register.
    pub register: String,
    /// The partner's server.
    pub remote: String,
    /// The root last reached.
    #[serde(rename = "root-hash")]
    pub root_hash: Option<String>,
    /// The slice.
    pub slice_uuid: String,
    /// The size last reached.
    #[serde(rename = "total-entries")]
    pub total_entries: u64,
}
