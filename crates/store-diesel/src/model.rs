//! The values the store's API takes and returns, apart from the rows that hold them.
//!
//! They sit at the bottom of the crate so that `rows` can convert to and from them and every
//! module above can name them; each is re-exported where callers know it (for example
//! [`Source`] as `store_diesel::queries::Source`).

use std::fmt;

use chrono::{DateTime, Utc};
use plan_core::{Action, DataRole, PlanId, PlanRecord};
use register_core::load::LoadSummary;
use register_core::{Digest, Entry, ItemHash};
use uuid::Uuid;

/// The log a read serves: a register's user log, or one of its index logs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Source {
    /// The register.
    pub register: String,
    /// The index of the register, or `None` for its user log.
    pub index: Option<String>,
}

impl Source {
    /// The user log of a register.
    pub fn register(name: &str) -> Source {
        Source {
            register: name.to_string(),
            index: None,
        }
    }

    /// An index log of a register.
    pub fn index(name: &str, index: &str) -> Source {
        Source {
            register: name.to_string(),
            index: Some(index.to_string()),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.index {
            None => write!(f, "register '{}'", self.register),
            Some(index) => write!(f, "index '{index}' of register '{}'", self.register),
        }
    }
}

/// A register's summary: counts, roots, timestamps, and whether it mirrors a partner's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterSummary {
    /// Register name.
    pub name: String,
    /// User-log size (`total-entries`).
    pub total_entries: u64,
    /// System-log size.
    pub system_entries: u64,
    /// User keys with a record (`total-records`; a removed record does not count).
    pub total_records: u64,
    /// Distinct items the register holds (`total-items`): those its entries name, and those
    /// a relaxed load gave it without an entry.
    pub total_items: u64,
    /// User-log root.
    pub root: Digest,
    /// System-log root.
    pub system_root: Digest,
    /// Created, Unix seconds.
    pub created_at: i64,
    /// Last load, Unix seconds.
    pub updated_at: i64,
    /// Set when the register is a mirror: (partner, plan, slice).
    pub mirror_of: Option<(String, String, String)>,
}

/// A record: its newest entry and that entry's items (canonical JSON, in entry order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The newest entry of the key.
    pub entry: Entry,
    /// Its items.
    pub items: Vec<(ItemHash, String)>,
}

/// What a successful load did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadReport {
    /// The register loaded into.
    pub register: String,
    /// Whether the load created it.
    pub created: bool,
    /// Counts from the RSF.
    pub summary: LoadSummary,
    /// User-log size after the load.
    pub total_entries: u64,
    /// User-log root after the load.
    pub root: Digest,
    /// The user log's signed checkpoint at that size, when the load signed (a local register
    /// and keys).
    pub checkpoint: Option<String>,
}

/// What a mirror mirrors: a slice of a plan, held by a partner's server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorOf {
    /// The partner's server (its base URL).
    pub partner: String,
    /// The Approved plan that grants the mirror.
    pub plan: PlanId,
    /// The primary's slice.
    pub slice: Uuid,
    /// The primary's signed checkpoint the load moves towards (size, root), when the plan
    /// pins its key: the load may not leave the mirror past that size, and at that size it
    /// must have that root; otherwise it is refused (`Conflict`) and nothing is written.
    pub target: Option<(u64, Digest)>,
}

impl MirrorOf {
    /// The `registers.mirror_*` column values.
    pub(crate) fn columns(&self) -> (String, String, String) {
        (
            self.partner.clone(),
            self.plan.to_string(),
            self.slice.hyphenated().to_string(),
        )
    }
}

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// An operator of this server: lists plans, manages accounts.
    Admin,
    /// A partner: invokes and reviews its own plans, synchronises approved ones.
    Partner,
}

impl Role {
    /// The role as the store (and the token claims) spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Partner => "partner",
        }
    }

    /// The inverse of [`Role::as_str`].
    pub fn parse(s: &str) -> Option<Role> {
        [Role::Admin, Role::Partner]
            .into_iter()
            .find(|role| role.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The login name.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// When the account was created (whole seconds).
    pub created_at: DateTime<Utc>,
}

/// The SHA-256 of a writer token's secret: all the store keeps of a token's secret. `Debug`
/// does not show it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(..)")
    }
}

/// What a writer token may write.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WriterScope {
    /// Every register.
    Admin,
    /// This register only.
    Register(String),
}

impl WriterScope {
    /// Whether a token of this scope may write `register`.
    pub fn allows(&self, register: &str) -> bool {
        match self {
            WriterScope::Admin => true,
            WriterScope::Register(name) => name == register,
        }
    }
}

impl fmt::Display for WriterScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriterScope::Admin => f.write_str("every register"),
            WriterScope::Register(name) => write!(f, "register '{name}'"),
        }
    }
}

/// A writer token as operators see it: never its secret or hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterToken {
    /// The operator's label, unique.
    pub name: String,
    /// What it may write.
    pub scope: WriterScope,
    /// When it was created (whole seconds).
    pub created_at: DateTime<Utc>,
    /// When it was last accepted, to the minute (the store refreshes it at most once a
    /// minute); `None` before its first use.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; a revoked token is refused.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A writer token that is not revoked, as a check finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveToken {
    /// The token's name.
    pub name: String,
    /// What it may write.
    pub scope: WriterScope,
}

/// This node's identity in plan documents (plans.md §1: Primary or Secondary, Instance,
/// Controller, Pool).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIdentity {
    /// `Primary/@uuid` or `Secondary/@uuid`.
    pub node_uuid: Uuid,
    /// Their `@description`.
    pub description: String,
    /// `Instance/@uuid`.
    pub instance_uuid: Uuid,
    /// `Controller/@uuid`.
    pub controller_uuid: Uuid,
    /// `Controller/@description`.
    pub controller_description: String,
    /// `Admin/@contact`, if set.
    pub admin_contact: Option<String>,
    /// `Admin/@email`, if set.
    pub admin_email: Option<String>,
    /// The `Pool/@uuid` whose slices are the offered registers.
    pub pool_uuid: Uuid,
}

/// A register offered to partners as a slice of this node's pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The register.
    pub register: String,
    /// Its slice UUID in plan documents.
    pub slice_uuid: Uuid,
    /// The slice's description.
    pub description: String,
    /// When it was offered.
    pub offered_at: DateTime<Utc>,
}

/// A plan as stored: the lifecycle record and who owns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPlan {
    /// Status, document, history and approvals. `record.created_at()` is when it was invoked.
    pub record: PlanRecord,
    /// The account that invoked it (the initiator).
    pub owner: String,
    /// The plan this one replaces, if any.
    pub replaces: Option<PlanId>,
}

impl StoredPlan {
    /// When the status last changed (the invocation if it never did).
    pub fn status_on(&self) -> DateTime<Utc> {
        status_on(&self.record)
    }

    /// When the partner with `role` last approved the plan, if ever.
    pub fn approved_on(&self, role: DataRole) -> Option<DateTime<Utc>> {
        approved_on(&self.record, role)
    }
}

/// When the status last changed: the last transition that moved, else the invocation.
pub(crate) fn status_on(record: &PlanRecord) -> DateTime<Utc> {
    record
        .history()
        .iter()
        .rev()
        .find(|t| t.from != t.to)
        .map_or(record.created_at(), |t| t.at)
}

/// When the partner with `role` last approved the plan (a review's approval, or one of the
/// two approvals that re-activate it).
pub(crate) fn approved_on(record: &PlanRecord, role: DataRole) -> Option<DateTime<Utc>> {
    record
        .history()
        .iter()
        .rev()
        .find(|t| t.action == Action::Approve && t.by.data == role)
        .map(|t| t.at)
}

/// One subscribed slice and its sync bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The Approved plan that grants the subscription.
    pub plan_uuid: PlanId,
    /// The primary's slice.
    pub slice_uuid: Uuid,
    /// The primary's server (base URL).
    pub remote: String,
    /// The local mirror register.
    pub register_name: String,
    /// User-log size of the mirror after the last successful sync (0 before any).
    pub last_size: u64,
    /// Its root hash then.
    pub last_root: Option<Digest>,
    /// When the last sync succeeded.
    pub last_success: Option<DateTime<Utc>>,
    /// What went wrong in the last sync, if it failed; cleared by a success.
    pub last_error: Option<String>,
    /// When this bookkeeping last changed.
    pub updated_at: DateTime<Utc>,
    /// The primary's user-log size as the last run saw it (`None` before any saw it): the
    /// mirror is `primary_size - last_size` entries behind.
    pub primary_size: Option<u64>,
    /// The primary's checkpoint verifier key for this slice's log, pinned from the plan
    /// (`None`: the plan carries none, and syncs of this slice are not verified).
    pub checkpoint_key: Option<String>,
    /// The secondary's mirror cosigner verifier key, pinned from the plan.
    pub cosigner_key: Option<String>,
}

/// A checkpoint of the primary that this node accepted for a mirror: signed by the pinned
/// key, consistent with every one accepted before, and held exactly by the mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedCheckpoint {
    /// Its tree size.
    pub size: u64,
    /// Its root.
    pub root: Digest,
    /// The signed note, as the primary served it.
    pub note: String,
    /// When it was accepted.
    pub accepted_at: DateTime<Utc>,
}

impl Subscription {
    /// Entries the mirror lacks of the primary's log as last seen (0 when unknown).
    pub fn entries_behind(&self) -> u64 {
        self.primary_size
            .map_or(0, |primary| primary.saturating_sub(self.last_size))
    }
}

/// This node's signing keys and origin (checkpoints.md §1–2): the log key signs every log's
/// checkpoints, each under its own origin; the cosigner key signs cosignatures as
/// `<origin>/witness` and `<origin>/mirror`. `Debug` shows verifier keys only.
#[derive(Debug, Clone)]
pub struct NodeKeys {
    /// The node origin: a scheme-less URL prefix such as `registers.example.org`.
    pub origin: String,
    /// The log key (Ed25519, note type 0x01).
    pub log: tlog_core::PrivateKey,
    /// The cosigner key (`cosignature/v1`, type 0x04).
    pub cosigner: tlog_core::PrivateKey,
}

impl NodeKeys {
    /// The origin of a register's log, or of one of its index logs.
    pub fn log_origin(&self, register: &str, index: Option<&str>) -> String {
        match index {
            None => format!("{}/registers/{register}", self.origin),
            Some(index) => format!("{}/registers/{register}/indexes/{index}", self.origin),
        }
    }

    /// The key that signs a log's checkpoints: the log key under the log's origin.
    pub fn log_key(
        &self,
        register: &str,
        index: Option<&str>,
    ) -> Result<tlog_core::PrivateKey, tlog_core::NoteError> {
        self.log.renamed(&self.log_origin(register, index))
    }

    /// The verifier key of a log's checkpoints (`checkpoint-key` in its summary).
    pub fn checkpoint_key(
        &self,
        register: &str,
        index: Option<&str>,
    ) -> Result<tlog_core::VerifierKey, tlog_core::NoteError> {
        Ok(self.log_key(register, index)?.verifier())
    }

    /// The cosigner's verifier key under `<origin>/<role>` (`witness` or `mirror`).
    pub fn cosigner_key(&self, role: &str) -> Result<tlog_core::VerifierKey, tlog_core::NoteError> {
        Ok(self
            .cosigner
            .renamed(&format!("{}/{role}", self.origin))?
            .verifier())
    }
}

/// Who made this node witness a log: its operator (`witness add`), or a plan under which it
/// mirrors the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WitnessSource {
    /// `api-actix witness add`.
    Operator,
    /// A log this node mirrors under an Approved plan.
    Mirror,
}

impl WitnessSource {
    /// `"operator"` or `"mirror"`, as stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            WitnessSource::Operator => "operator",
            WitnessSource::Mirror => "mirror",
        }
    }
}

/// A log this node witnesses, with the state it keeps for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessedLog {
    /// The log's origin.
    pub origin: String,
    /// The log's verifier key.
    pub key: String,
    /// Who added it.
    pub source: WitnessSource,
    /// The size last cosigned (0: none yet).
    pub size: u64,
    /// When it was last cosigned, Unix seconds.
    pub cosigned_at: Option<i64>,
    /// How many inconsistent checkpoints are kept as evidence.
    pub evidence: u64,
}

/// A validly signed checkpoint the witness refused as inconsistent, kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The log's origin.
    pub origin: String,
    /// The signed checkpoint as received.
    pub note: String,
    /// The request's old size.
    pub old_size: u64,
    /// The request's proof lines (base64).
    pub proof: Vec<String>,
    /// Why it was refused.
    pub reason: String,
    /// When, Unix seconds.
    pub received_at: i64,
}

/// Submission work: a log's latest checkpoint, for one witness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessJob {
    /// The witness's URL prefix (`<url>/add-checkpoint`).
    pub witness_url: String,
    /// The witness's cosigner verifier key.
    pub witness_key: String,
    /// The log.
    pub log: Source,
    /// The log's origin.
    pub origin: String,
    /// The checkpoint's size.
    pub size: u64,
    /// The checkpoint, signed by the log only.
    pub note: String,
    /// The size the witness last cosigned, as far as this node knows (0: unknown).
    pub witness_size: u64,
    /// Failures in a row so far.
    pub failures: u64,
}

/// The state of submissions to one witness for one log (`witness list`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionState {
    /// The witness's URL prefix.
    pub witness_url: String,
    /// The log's origin.
    pub origin: String,
    /// The size the witness last cosigned, as far as this node knows.
    pub witness_size: u64,
    /// The size of the last cosignature received.
    pub cosigned_size: Option<u64>,
    /// When the last cosignature was received, Unix seconds.
    pub last_success: Option<i64>,
    /// The last failure, if the last attempt failed.
    pub last_error: Option<String>,
    /// Failures in a row.
    pub failures: u64,
    /// Not tried again by the background worker before this, Unix seconds.
    pub next_attempt: i64,
}

/// What came of one submission to a witness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The witness cosigned this size.
    Cosigned(u64),
    /// The witness holds this size (its 409); the next request starts there.
    WitnessAt(u64),
    /// The attempt failed; try again at `retry_at` (Unix seconds).
    Failed {
        /// What went wrong, for `witness list`.
        error: String,
        /// When to try again.
        retry_at: i64,
    },
}
