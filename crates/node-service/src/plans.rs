//! Who acts on a plan, and the review of a plan: one definition for the admin API and the
//! `plan` commands alike.
//!
//! The account that invoked a plan is its initiator; on a plan a partner invoked here, this
//! node — its administrators and its operators at the command line — is the respondent, with
//! the data role the initiator does not have. plan-core's lifecycle decides whether an
//! action is allowed; the store's optimistic save decides between two partners acting at
//! once.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use plan_core::{Action, Actor, ConversationRole, DataRole, Plan, PlanId, PlanRecord};
use store_diesel::error::StoreError;
use store_diesel::plans::StoredPlan;
use store_diesel::store::Store;

/// The longest status message accepted with an action, in characters.
pub const MAX_STATUS_MESSAGE_CHARS: usize = 1000;

/// Most plans a partner account may hold that are not Rejected (Invoked, Proposed, Approved
/// or On Hold): every plan is stored with its document and read back in full, so an account
/// must not be able to grow the store without bound. Rejecting a plan frees its place.
/// Administrators of this node have no quota.
pub const MAX_LIVE_PLANS_PER_ACCOUNT: u64 = 100;

/// The largest plan document accepted from a partner, in bytes of XML (after base64 decoding).
/// A real plan is a few kilobytes; a megabyte leaves room for thousands of slices and links.
pub const MAX_PLAN_DOCUMENT_BYTES: usize = 1024 * 1024;

/// Plans per page of the operators' listing when the request does not say.
pub const DEFAULT_PLANS_PER_PAGE: usize = 20;

/// The most plans per page of the operators' listing: each may carry a document of up to
/// [`MAX_PLAN_DOCUMENT_BYTES`], so a page stays bounded.
pub const MAX_PLANS_PER_PAGE: usize = 100;

/// The bounds a partner's plan document is validated within: plan-core's defaults, with the
/// size capped at [`MAX_PLAN_DOCUMENT_BYTES`].
pub fn document_limits() -> plan_core::Limits {
    plan_core::Limits {
        max_bytes: MAX_PLAN_DOCUMENT_BYTES,
        ..plan_core::Limits::default()
    }
}

/// Why a plan action was refused; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// No such plan, or none the caller is a partner of (the two answer alike).
    #[error("no plan {0}")]
    NotFound(PlanId),
    /// A plan named by something that is not a UUID.
    #[error("'{0}' is not a plan UUID")]
    NotAPlanUuid(String),
    /// The status message is over [`MAX_STATUS_MESSAGE_CHARS`].
    #[error("status_message: longer than {MAX_STATUS_MESSAGE_CHARS} characters")]
    MessageTooLong,
    /// Slices of a plan this node is the primary of name registers it does not have.
    #[error("{}", .0.join("; "))]
    MissingRegisters(Vec<String>),
    /// plan-core refused the action or the document.
    #[error(transparent)]
    Plan(#[from] plan_core::Error),
    /// The store failed, or a concurrent change won.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How this node acts on a plan a partner invoked here: as the respondent, with the data role
/// the initiator does not have.
pub fn respondent(record: &PlanRecord) -> Actor {
    Actor {
        conversation: ConversationRole::Respondent,
        data: match record.initiator_role() {
            DataRole::Primary => DataRole::Secondary,
            DataRole::Secondary => DataRole::Primary,
        },
    }
}

/// How the account `name` (an administrator of this node when `admin`) acts on `plan`, or
/// `None` when it is not a partner of it.
pub fn actor(name: &str, admin: bool, plan: &StoredPlan) -> Option<Actor> {
    if name == plan.owner {
        Some(Actor {
            conversation: ConversationRole::Initiator,
            data: plan.record.initiator_role(),
        })
    } else if admin {
        Some(respondent(&plan.record))
    } else {
        None
    }
}

/// A status message worth recording: none when blank; refused when too long.
pub fn status_message(message: Option<String>) -> Result<Option<String>, PlanError> {
    let message = message.filter(|m| !m.trim().is_empty());
    if message
        .as_ref()
        .is_some_and(|m| m.chars().count() > MAX_STATUS_MESSAGE_CHARS)
    {
        return Err(PlanError::MessageTooLong);
    }
    Ok(message)
}

/// The plan `id` with how `who` acts on it; [`PlanError::NotFound`] alike for an unknown plan
/// and for one `who` is not a partner of.
pub fn partner_plan(
    store: &Store,
    id: PlanId,
    who: impl FnOnce(&StoredPlan) -> Option<Actor>,
) -> Result<(StoredPlan, Actor), PlanError> {
    let plan = store.plan(id)?.ok_or(PlanError::NotFound(id))?;
    let actor = who(&plan).ok_or(PlanError::NotFound(id))?;
    Ok((plan, actor))
}

/// Saves the transition `record` holds (guarded by the status it was read with) and returns
/// the plan as stored.
pub fn save(store: &Store, record: &PlanRecord) -> Result<StoredPlan, PlanError> {
    store.save_plan_transition(record)?;
    store
        .plan(record.id())?
        .ok_or(PlanError::NotFound(record.id()))
}

/// Approves, rejects or holds the plan `id` as `who` makes the caller act, at `at`.
pub fn review(
    store: &Store,
    id: PlanId,
    action: Action,
    who: impl FnOnce(&StoredPlan) -> Option<Actor>,
    message: Option<String>,
    at: DateTime<Utc>,
) -> Result<StoredPlan, PlanError> {
    let message = status_message(message)?;
    let (plan, actor) = partner_plan(store, id, who)?;
    let mut record = plan.record;
    record.apply(action, actor, at, message)?;
    save(store, &record)
}

/// Proposes the completed `document` for the plan `plan` as `actor` (Invoked → Proposed).
/// When the secondary initiated the plan, this node is its primary: every register slice must
/// name a register this node has.
pub fn propose(
    store: &Store,
    plan: StoredPlan,
    actor: Actor,
    document: Plan,
    message: Option<String>,
    at: DateTime<Utc>,
) -> Result<StoredPlan, PlanError> {
    let message = status_message(message)?;
    if plan.record.initiator_role() == DataRole::Secondary {
        check_registers(store, &document)?;
    }
    let mut record = plan.record;
    record.propose(document, actor, at, message)?;
    save(store, &record)
}

/// Every register slice of `plan` names a register of this node.
fn check_registers(store: &Store, plan: &Plan) -> Result<(), PlanError> {
    let mut missing = Vec::new();
    for slice in plan.register_slices() {
        // Only a missing register is the document's fault; other errors are the store's.
        match store.register(&slice.register) {
            Ok(_) => {}
            Err(StoreError::RegisterNotFound(_)) => missing.push(format!(
                "slice {} names register '{}', which this server does not have",
                slice.slice_uuid, slice.register
            )),
            Err(e) => return Err(e.into()),
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(PlanError::MissingRegisters(missing))
    }
}

/// The plan `uuid` (as an operator typed it) of the local store.
pub fn stored(store: &Store, uuid: &str) -> Result<StoredPlan, PlanError> {
    let id = uuid::Uuid::parse_str(uuid)
        .map(PlanId)
        .map_err(|_| PlanError::NotAPlanUuid(uuid.to_string()))?;
    store.plan(id)?.ok_or(PlanError::NotFound(id))
}

/// `action` on the plan `uuid` (as an operator typed it) by this node, its respondent: the
/// `plan approve|reject|hold` commands.
pub fn respond(
    store: &Store,
    uuid: &str,
    action: Action,
    message: Option<String>,
    at: DateTime<Utc>,
) -> Result<StoredPlan, PlanError> {
    let id = stored(store, uuid)?.record.id();
    review(
        store,
        id,
        action,
        |plan| Some(respondent(&plan.record)),
        message,
        at,
    )
}

/// Why a plan file cannot be read as a plan.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    /// The file cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The document fails the plan XSD or rules: every problem, positioned.
    #[error("{path} is not a valid plan document")]
    Invalid {
        /// The file.
        path: String,
        /// The problems.
        diagnostics: Vec<plan_core::Diagnostic>,
    },
    /// plan-core could not check it.
    #[error(transparent)]
    Plan(plan_core::Error),
}

/// The plan in `file` (`plan propose`), valid as [`validate_files`] checks it.
pub fn read_plan(file: &Path) -> Result<Plan, PlanFileError> {
    let path = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|source| PlanFileError::Read {
        path: path.clone(),
        source,
    })?;
    Plan::from_xml(&text).map_err(|e| match e {
        plan_core::Error::Invalid(diagnostics) => PlanFileError::Invalid { path, diagnostics },
        other => PlanFileError::Plan(other),
    })
}

/// Every problem of each plan file against the plan XSD and rules, as `plan validate`
/// prints them: `FILE:LINE:COL: PATH: message` (an unreadable file `FILE:0:0: /: …`, one
/// that is not UTF-8 `FILE:1:1: /: …`). An error only when the embedded schema does not
/// compile, before any file is read.
pub fn validate_files(files: &[PathBuf]) -> Result<Vec<String>, plan_core::Error> {
    plan_core::plan_schema()?;
    let mut lines = Vec::new();
    for file in files {
        let diagnostics = match std::fs::read(file) {
            Err(e) => vec![format!("0:0: /: cannot read the file: {e}")],
            Ok(bytes) => match String::from_utf8(bytes) {
                Err(e) => vec![format!(
                    "1:1: /: the document is not UTF-8 (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                )],
                Ok(text) => plan_core::validate_plan(&text)
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            },
        };
        let shown = file.display();
        lines.extend(
            diagnostics
                .into_iter()
                .map(|line| format!("{shown}:{line}")),
        );
    }
    Ok(lines)
}
