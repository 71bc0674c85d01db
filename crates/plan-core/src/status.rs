//! The words of the plan lifecycle (plans.md §2): statuses, actions and the partners' roles.
//!
//! They sit below [`crate::error`] (whose variants name them) and [`crate::lifecycle`] (which
//! applies them), so neither of those two needs the other to say what happened.

use std::fmt;

/// Where a plan is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlanStatus {
    /// Newly created; holds only Primary information (or nothing yet).
    Invoked,
    /// Secondary and Communal filled in; the document is frozen.
    Proposed,
    /// Ready to use for synchronisation.
    Approved,
    /// Frozen; both partners must approve to re-activate it.
    OnHold,
    /// Refused by a partner; final.
    Rejected,
}

impl PlanStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [PlanStatus; 5] = [
        PlanStatus::Invoked,
        PlanStatus::Proposed,
        PlanStatus::Approved,
        PlanStatus::OnHold,
        PlanStatus::Rejected,
    ];

    /// The status as the API and the store spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Invoked => "Invoked",
            PlanStatus::Proposed => "Proposed",
            PlanStatus::Approved => "Approved",
            PlanStatus::OnHold => "On Hold",
            PlanStatus::Rejected => "Rejected",
        }
    }

    /// The inverse of [`PlanStatus::as_str`].
    pub fn parse(s: &str) -> Option<PlanStatus> {
        PlanStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
    }

    /// Only Approved plans allow synchronisation.
    pub fn allows_sync(self) -> bool {
        self == PlanStatus::Approved
    }

    /// From Proposed on, the document never changes.
    pub fn document_frozen(self) -> bool {
        self != PlanStatus::Invoked
    }
}

impl fmt::Display for PlanStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a partner asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Invoked → Proposed, with the completed document.
    Propose,
    /// Proposed → Approved, or one of the two approvals On Hold → Approved.
    Approve,
    /// Proposed or On Hold → Rejected.
    Reject,
    /// Proposed or Approved → On Hold.
    Hold,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 4] = [
        Action::Propose,
        Action::Approve,
        Action::Reject,
        Action::Hold,
    ];
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Propose => "propose",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Hold => "hold",
        })
    }
}

/// A partner's role in the HTTP conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConversationRole {
    /// The client that logged in and invoked the plan.
    Initiator,
    /// The server it talks to.
    Respondent,
}

/// A partner's role in the data flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataRole {
    /// The data owner.
    Primary,
    /// The receiver.
    Secondary,
}

impl DataRole {
    pub(crate) fn other(self) -> DataRole {
        match self {
            DataRole::Primary => DataRole::Secondary,
            DataRole::Secondary => DataRole::Primary,
        }
    }
}

/// Who acts: both roles, since rules depend on one or the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Actor {
    /// Initiator or respondent.
    pub conversation: ConversationRole,
    /// Primary or secondary.
    pub data: DataRole,
}

impl Actor {
    /// Every combination of roles.
    pub const ALL: [Actor; 4] = [
        Actor {
            conversation: ConversationRole::Initiator,
            data: DataRole::Primary,
        },
        Actor {
            conversation: ConversationRole::Initiator,
            data: DataRole::Secondary,
        },
        Actor {
            conversation: ConversationRole::Respondent,
            data: DataRole::Primary,
        },
        Actor {
            conversation: ConversationRole::Respondent,
            data: DataRole::Secondary,
        },
    ];
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let conversation = match self.conversation {
            ConversationRole::Initiator => "initiator",
            ConversationRole::Respondent => "respondent",
        };
        let data = match self.data {
            DataRole::Primary => "primary",
            DataRole::Secondary => "secondary",
        };
        write!(f, "{conversation} ({data})")
    }
}
