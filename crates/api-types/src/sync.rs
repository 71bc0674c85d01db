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
    /// The primary's signed checkpoint the mirror now holds exactly (a verified pull), or the
    /// one sent with a push; absent when the plan binds no checkpoint key. The note a mirror
    /// cosigns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
    /// The mirror's cosignature of that checkpoint, which the primary accepted (a pull by a
    /// node with a cosigner key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cosignature: Option<String>,
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

/// A checkpoint of the primary a mirror holds: what `sync status` shows of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldCheckpoint {
    /// When it was accepted.
    pub accepted_at: String,
    /// Its signed note.
    pub note: String,
    /// Its root.
    #[serde(rename = "root-hash")]
    pub root_hash: String,
    /// Its size.
    #[serde(rename = "total-entries")]
    pub total_entries: u64,
}

/// One line of `sync status`: a subscription's recorded state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionStatus {
    /// The last checkpoint of the primary the mirror accepted (and holds), if any.
    pub checkpoint: Option<HeldCheckpoint>,
    /// The primary's checkpoint verifier key pinned for the slice (`None`: the plan binds
    /// none, and syncs are not verified).
    pub checkpoint_key: Option<String>,
    /// How many checkpoints of the primary the mirror accepted.
    pub checkpoints_accepted: u64,
    /// The largest checkpoint size the mirror cosigned with the plan's cosigner key (its own
    /// line on the secondary, the line received on the primary); `None` before any.
    #[serde(default)]
    pub cosigned: Option<u64>,
    /// The secondary's mirror cosigner key pinned for the plan.
    pub cosigner_key: Option<String>,
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

/// `POST /v1/slices/{uuid}/cosignature`: a mirror's cosignature of the primary's checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosignatureRequest {
    /// The size of the checkpoint cosigned.
    pub size: u64,
    /// The `cosignature/v1` line (`— <name> <base64>`).
    pub cosignature: String,
}

/// The answer to a kept cosignature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CosignatureKept {
    /// The size of the checkpoint it cosigns.
    pub size: u64,
    /// Its timestamp (POSIX seconds).
    pub time: u64,
}
