//! The JSON lines the operator CLI prints: a contract for the scripts of other teams, like
//! the API's bodies.

use serde::{Deserialize, Serialize};

/// A plan in `plan list` and after a review action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    /// The account that invoked it.
    pub owner: String,
    /// The plan.
    pub plan_uuid: String,
    /// Its status.
    pub status: String,
    /// The last transition's message.
    pub status_message: Option<String>,
    /// When the status was set.
    pub status_on: String,
}

/// A plan as `plan show` prints it: a [`PlanSummary`] with its history and document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDetails {
    /// The document's XML.
    pub document: Option<String>,
    /// Every transition, oldest first.
    pub history: Vec<TransitionView>,
    /// `primary` or `secondary`.
    pub initiator_role: String,
    /// The account that invoked it.
    pub owner: String,
    /// The plan.
    pub plan_uuid: String,
    /// When the primary approved.
    pub primary_approved_on: Option<String>,
    /// The plan this one replaces.
    pub replaces_plan_uuid: Option<String>,
    /// When the secondary approved.
    pub secondary_approved_on: Option<String>,
    /// Its status.
    pub status: String,
    /// The last transition's message.
    pub status_message: Option<String>,
    /// When the status was set.
    pub status_on: String,
}

/// One transition of a plan's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionView {
    /// The action.
    pub action: String,
    /// When.
    pub at: String,
    /// Who, as `initiator/primary` and the like.
    pub by: String,
    /// The status before.
    pub from: String,
    /// The message given.
    pub status_message: Option<String>,
    /// The status after.
    pub to: String,
}

/// This node's identity, as `node show` and `node set` print it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    /// The administrators' contact.
    pub admin_contact: Option<String>,
    /// The administrators' email.
    pub admin_email: Option<String>,
    /// The controller's description.
    pub controller_description: String,
    /// The controller's UUID.
    pub controller_uuid: String,
    /// The node's description.
    pub description: String,
    /// The software instance's UUID.
    pub instance_uuid: String,
    /// The verifier key of this node's mirror cosignatures (`<origin>/mirror`).
    #[serde(
        rename = "mirror-key",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub mirror_key: Option<String>,
    /// The node's UUID.
    pub node_uuid: String,
    /// The registers offered.
    pub offers: Vec<OfferView>,
    /// The node origin: a register `R` is the log `<origin>/registers/R`.
    pub origin: String,
    /// The pool of offered slices.
    pub pool_uuid: String,
    /// The verifier key of this node's witness cosignatures (`<origin>/witness`).
    #[serde(
        rename = "witness-key",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub witness_key: Option<String>,
}

/// A register offered as a slice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferView {
    /// The slice's description.
    pub description: String,
    /// When it was offered.
    pub offered_at: String,
    /// The register.
    pub register: String,
    /// The slice.
    pub slice_uuid: String,
}

/// What `register unoffer` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unoffered {
    /// `false`.
    pub offered: bool,
    /// The register.
    pub register: String,
}

/// What `remote plan request` prints: the plan as proposed on the partner's server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRequested {
    /// The plan.
    pub plan_uuid: String,
    /// The partner's server.
    pub remote: String,
    /// Its status there (`Proposed`).
    pub status: String,
    /// One subscription per slice asked for.
    pub subscriptions: Vec<RequestedSubscription>,
}

/// A subscription of a requested plan, and the local register that will mirror it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedSubscription {
    /// The local register.
    pub register: String,
    /// The partner's slice.
    pub slice_uuid: String,
    /// The subscription.
    pub subscription_uuid: String,
}

/// What `remote plan show` prints of a plan on a partner's server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemotePlan {
    /// The plan.
    pub plan_uuid: String,
    /// When the primary approved.
    pub primary_approved_on: Option<String>,
    /// When the secondary approved.
    pub secondary_approved_on: Option<String>,
    /// Its status.
    pub status: String,
    /// The last transition's message.
    pub status_message: Option<String>,
    /// When the status was set.
    pub status_on: String,
}

/// What `api-actix root` prints: a register's size and root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootLine {
    /// Entries in the user log.
    #[serde(rename = "total-entries")]
    pub total_entries: u64,
    /// Its root hash.
    #[serde(rename = "root-hash")]
    pub root_hash: String,
}

/// What `publish` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// Logs published (registers and index logs with a checkpoint).
    pub logs: u64,
    /// Files already there, kept.
    pub kept: u64,
    /// Entry bundles left out (an entry too long for a bundle).
    pub unbundled: u64,
    /// Files written.
    pub written: u64,
}

/// What `user add` and `partner add` print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountAdded {
    /// The account.
    pub user: String,
    /// `admin` or `partner`.
    pub role: String,
}

/// What `migrate` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migrated {
    /// `true`.
    pub migrated: bool,
}

/// What `witness add`, `witness remove` and `witness list` print for a log this node
/// witnesses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessedLogLine {
    /// The log's origin.
    pub witnessed: String,
    /// The log's verifier key.
    pub key: String,
    /// Who added it: `operator` or `mirror`.
    pub source: String,
    /// The size last cosigned (0: none yet).
    pub size: u64,
    /// When it was last cosigned (RFC 3339), if ever.
    pub cosigned_at: Option<String>,
    /// Inconsistent checkpoints kept as evidence.
    pub evidence: u64,
    /// `true` on the line of `witness remove`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
}

/// What `witness use`, `witness drop` and `witness list` print for a witness this node
/// submits its checkpoints to: one line per witness and log tried (`log` absent before the
/// first submission), and `witness submit` one per submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessLine {
    /// The witness's URL prefix.
    pub witness: String,
    /// Its cosigner verifier key.
    pub key: String,
    /// The log's origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// The size of the last cosignature received for that log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cosigned_size: Option<u64>,
    /// When it was received (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<String>,
    /// The last error, while the last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the background worker tries again after failures (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt: Option<String>,
    /// `true` on the line of `witness drop`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dropped: bool,
}

/// What `witness list` prints for each inconsistent checkpoint kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceLine {
    /// The log's origin.
    pub evidence: String,
    /// The signed checkpoint as received.
    pub note: String,
    /// The request's old size.
    pub old_size: u64,
    /// The request's proof lines (base64).
    pub proof: Vec<String>,
    /// Why it was refused.
    pub reason: String,
    /// When (RFC 3339).
    pub received_at: String,
}

/// What `token list` prints for each writer token, and `token revoke` for the one revoked.
/// Never the secret or its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriterTokenLine {
    /// The token's name (the operator's label).
    pub name: String,
    /// `admin` (every register) or `register` (the one in `register`).
    pub scope: String,
    /// The register a `register` token may write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register: Option<String>,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it was last accepted, to the minute (RFC 3339); `null` before its first use.
    pub last_used_at: Option<String>,
    /// When it was revoked (RFC 3339); `null` while it is valid.
    pub revoked_at: Option<String>,
}
