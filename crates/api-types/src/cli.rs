//! The JSON lines the operator CLI prints: a contract for the scripts of other teams, like
//! the API's bodies.

use serde::{Deserialize, Serialize};

/// A plan in `plan list` and after a review action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    /// Everything `plan show` adds.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub details: Option<PlanDetails>,
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

/// What `plan show` adds to a [`PlanSummary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDetails {
    /// The document's XML.
    pub document: Option<String>,
    /// Every transition, oldest first.
    pub history: Vec<TransitionView>,
    /// `primary` or `secondary`.
    pub initiator_role: String,
    /// When the primary approved.
    pub primary_approved_on: Option<String>,
    /// The plan this one replaces.
    pub replaces_plan_uuid: Option<String>,
    /// When the secondary approved.
    pub secondary_approved_on: Option<String>,
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
    /// The node's UUID.
    pub node_uuid: String,
    /// The registers offered.
    pub offers: Vec<OfferView>,
    /// The pool of offered slices.
    pub pool_uuid: String,
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
