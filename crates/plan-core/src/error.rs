//! The crate's error type and the positioned diagnostics validation produces.

use std::fmt;

use crate::status::{Action, Actor, PlanStatus};

/// One problem found in a document: where it is and what is wrong.
///
/// Validation collects every problem rather than stopping at the first, so a partner gets the
/// whole list in one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line of the offending element, attribute or text.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// Element path such as `/Plan/Primary/Pools/Pool[2]/@uuid`; `/` for document-level problems.
    pub path: String,
    /// Plain-language message, without a trailing period.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    /// `LINE:COL: PATH: message`, the shape `api-actix plan validate` prints after the file name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.line, self.column, self.path, self.message
        )
    }
}

/// Everything that can go wrong in plan-core.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The schema file is not well-formed XML or not a valid schema.
    #[error("schema {line}:{column}: {message}")]
    Schema {
        /// 1-based line in the schema file.
        line: u32,
        /// 1-based column in the schema file.
        column: u32,
        /// What is wrong.
        message: String,
    },
    /// The schema uses an XSD construct outside the supported subset.
    #[error("schema {line}:{column}: unsupported XSD construct: {construct}")]
    UnsupportedSchema {
        /// 1-based line in the schema file.
        line: u32,
        /// 1-based column in the schema file.
        column: u32,
        /// The construct, e.g. `xs:choice` or `attribute 'fixed' on xs:attribute`.
        construct: String,
    },
    /// The document failed validation; every problem is listed.
    #[error("the plan document is not valid ({} problem(s), first: {})", .0.len(), first(.0))]
    Invalid(Vec<Diagnostic>),
    /// The action is not allowed from this status, or not for this actor.
    #[error("cannot {action} a plan that is {from} as the {actor}")]
    IllegalTransition {
        /// Status the plan was in (and still is).
        from: PlanStatus,
        /// The refused action.
        action: Action,
        /// Who asked.
        actor: Actor,
    },
    /// The same partner approved an On Hold plan twice; the other partner must approve.
    #[error(
        "the {actor} has already approved re-activating this plan; the other partner must approve"
    )]
    AlreadyApproved {
        /// Who approved twice.
        actor: Actor,
    },
    /// The actor's roles do not match the roles recorded for this plan.
    #[error("the {actor} is not a partner of this plan in that role")]
    NotAPartner {
        /// Who asked.
        actor: Actor,
    },
    /// The document cannot change any more (the plan is Proposed or later).
    #[error("the plan document is frozen once the plan is {status}; a change needs a new plan")]
    DocumentFrozen {
        /// Current status.
        status: PlanStatus,
    },
    /// The document is not what this step needs (e.g. proposing an incomplete plan).
    #[error("{0}")]
    Document(String),
}

fn first(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .first()
        .map(ToString::to_string)
        .unwrap_or_default()
}
