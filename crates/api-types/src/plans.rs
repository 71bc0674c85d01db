//! Bodies of the plan API under `/v1` (plans.md §4).

use serde::{Deserialize, Serialize};

/// `POST /v1/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The account.
    pub username: String,
    /// Its password.
    pub password: String,
    /// An Approved plan's document (base64): the token then also reaches its slices.
    #[serde(default)]
    pub plan: Option<String>,
}

/// The answer to a login: a bearer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    /// When the token expires.
    pub expires: String,
    /// Its lifetime in seconds.
    pub expires_in: i64,
    /// The plan a sync token reaches.
    pub plan_uuid: Option<String>,
    /// The account's role (`admin` or `partner`).
    pub role: String,
    /// `plans` (limited) or `sync`.
    pub scope: String,
    /// The JWT.
    pub token: String,
    /// `Bearer`.
    pub token_type: String,
}

/// A request that carries a plan document: `POST /v1/plans/invoke`, `POST /v1/plans/{uuid}`,
/// `POST /v1/proposals/new`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentRequest {
    /// The plan's XML, base64.
    pub document: String,
    /// The plan a new one replaces (invoke only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces_plan_uuid: Option<String>,
}

/// The optional body of `POST /v1/plans/{uuid}/{approve|reject|hold}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// Recorded with the transition.
    #[serde(default)]
    pub status_message: Option<String>,
}

/// A plan as every plan response gives it (`GET /v1/plans/{uuid}`); the admin listing adds
/// its `owner`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanBody {
    /// The document's XML, base64 (none before a primary's part exists).
    pub document: Option<String>,
    /// The account that invoked the plan (admin listing only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The plan's UUID.
    pub plan_uuid: String,
    /// When the primary approved.
    pub primary_approved_on: Option<String>,
    /// The plan this one replaces.
    pub replaces_plan_uuid: Option<String>,
    /// When the secondary approved.
    pub secondary_approved_on: Option<String>,
    /// `Invoked`, `Proposed`, `Approved`, `On Hold` or `Rejected`.
    pub status: String,
    /// The message given with the last transition.
    pub status_message: Option<String>,
    /// When the status was set.
    pub status_on: String,
}
