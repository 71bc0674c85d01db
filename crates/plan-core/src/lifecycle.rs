//! The plan lifecycle (plans.md §2): statuses, who may do what, and the record of it.
//!
//! [`PlanRecord::apply`] is the only way a status changes. It first decides, from the current
//! status, the action and the actor, what the outcome is; only then does it mutate, so a
//! refused action leaves the record exactly as it was.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::model::{Plan, PlanId};
use crate::Error;

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
    fn other(self) -> DataRole {
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

/// One recorded step: every applied action, including a first approval that leaves the
/// plan On Hold (then `from == to`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// Status before.
    pub from: PlanStatus,
    /// Status after.
    pub to: PlanStatus,
    /// What was asked.
    pub action: Action,
    /// Free text given with the action.
    pub status_message: Option<String>,
    /// When (supplied by the caller; this crate reads no clock).
    pub at: DateTime<Utc>,
    /// By whom.
    pub by: Actor,
}

/// An approval to re-activate an On Hold plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Approval {
    /// The approving partner.
    pub by: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

/// A plan with its status, document and history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRecord {
    id: PlanId,
    initiator: DataRole,
    status: PlanStatus,
    status_message: Option<String>,
    document: Option<Plan>,
    created_at: DateTime<Utc>,
    history: Vec<Transition>,
    approvals: Vec<Approval>,
}

/// What a permitted action does.
enum Outcome {
    Move(PlanStatus),
    /// The first of the two approvals needed to leave On Hold.
    FirstApproval,
}

impl PlanRecord {
    /// A newly invoked plan. `initiator` is the initiator's data role, fixed for the plan's
    /// life; the respondent has the other one.
    pub fn invoke(id: PlanId, initiator: DataRole, at: DateTime<Utc>) -> PlanRecord {
        PlanRecord {
            id,
            initiator,
            status: PlanStatus::Invoked,
            status_message: None,
            document: None,
            created_at: at,
            history: Vec::new(),
            approvals: Vec::new(),
        }
    }

    /// The plan's UUID.
    pub fn id(&self) -> PlanId {
        self.id
    }

    /// The initiator's data role.
    pub fn initiator_role(&self) -> DataRole {
        self.initiator
    }

    /// Current status.
    pub fn status(&self) -> PlanStatus {
        self.status
    }

    /// The message given with the last status change.
    pub fn status_message(&self) -> Option<&str> {
        self.status_message.as_deref()
    }

    /// The document, if one has been set.
    pub fn document(&self) -> Option<&Plan> {
        self.document.as_ref()
    }

    /// When the plan was invoked.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// Every applied action, oldest first.
    pub fn history(&self) -> &[Transition] {
        &self.history
    }

    /// Approvals collected while On Hold (cleared when the plan leaves On Hold).
    pub fn approvals(&self) -> &[Approval] {
        &self.approvals
    }

    /// Replace the document while the plan is Invoked (e.g. the primary posting its side).
    /// The document must carry this plan's UUID.
    pub fn set_document(&mut self, plan: Plan) -> Result<(), Error> {
        if self.status.document_frozen() {
            return Err(Error::DocumentFrozen {
                status: self.status,
            });
        }
        if plan.uuid != Some(self.id) {
            return Err(Error::Document(format!(
                "the document's uuid must be the plan's uuid {}",
                self.id
            )));
        }
        self.document = Some(plan);
        Ok(())
    }

    /// Propose with a completed document (the secondary-initiator flow). When a stub was
    /// already set, its Primary part must be unchanged.
    pub fn propose(
        &mut self,
        plan: Plan,
        actor: Actor,
        at: DateTime<Utc>,
        status_message: Option<String>,
    ) -> Result<&Transition, Error> {
        self.decide(Action::Propose, actor, Some(&plan))?;
        if let Some(stub) = &self.document {
            if stub.primary != plan.primary {
                return Err(Error::Document(
                    "the Primary part must be unchanged from the invoked stub".into(),
                ));
            }
        }
        self.set_document(plan)?;
        self.apply(Action::Propose, actor, at, status_message)
    }

    /// Apply an action. On error nothing changes. `Propose` uses the current document, which
    /// must be complete.
    pub fn apply(
        &mut self,
        action: Action,
        actor: Actor,
        at: DateTime<Utc>,
        status_message: Option<String>,
    ) -> Result<&Transition, Error> {
        let outcome = self.decide(action, actor, self.document.as_ref())?;
        let from = self.status;
        let to = match outcome {
            Outcome::Move(to) => {
                self.approvals.clear();
                self.status = to;
                self.status_message.clone_from(&status_message);
                to
            }
            Outcome::FirstApproval => {
                self.approvals.push(Approval { by: actor, at });
                from
            }
        };
        self.history.push(Transition {
            from,
            to,
            action,
            status_message,
            at,
            by: actor,
        });
        self.history
            .last()
            .ok_or(Error::Document("history is empty".into()))
    }

    /// Whether `action` by `actor` is allowed now, without applying it.
    pub fn check(&self, action: Action, actor: Actor) -> Result<(), Error> {
        self.decide(action, actor, self.document.as_ref())
            .map(|_| ())
    }

    /// The transition table of plans.md §2.
    fn decide(
        &self,
        action: Action,
        actor: Actor,
        document: Option<&Plan>,
    ) -> Result<Outcome, Error> {
        let expected = match actor.conversation {
            ConversationRole::Initiator => self.initiator,
            ConversationRole::Respondent => self.initiator.other(),
        };
        if actor.data != expected {
            return Err(Error::NotAPartner { actor });
        }
        let illegal = Error::IllegalTransition {
            from: self.status,
            action,
            actor,
        };
        let respondent = actor.conversation == ConversationRole::Respondent;
        use PlanStatus::*;
        match (self.status, action) {
            // Whoever completes the plan proposes it: the secondary, in both flows of §3.
            (Invoked, Action::Propose) if actor.data == DataRole::Secondary => match document {
                Some(plan)
                    if !plan.is_fragment()
                        && plan.secondary.is_some()
                        && plan.communal.is_some() =>
                {
                    Ok(Outcome::Move(Proposed))
                }
                _ => Err(Error::Document(
                    "only a plan with Secondary and Communal filled in can be proposed".into(),
                )),
            },
            (Proposed, Action::Approve) if respondent => Ok(Outcome::Move(Approved)),
            (Proposed, Action::Reject) if respondent => Ok(Outcome::Move(Rejected)),
            (Proposed, Action::Hold) if respondent => Ok(Outcome::Move(OnHold)),
            (Approved, Action::Hold) => Ok(Outcome::Move(OnHold)),
            (OnHold, Action::Reject) => Ok(Outcome::Move(Rejected)),
            (OnHold, Action::Approve) => {
                if self.approvals.iter().any(|a| a.by == actor) {
                    Err(Error::AlreadyApproved { actor })
                } else if self.approvals.is_empty() {
                    Ok(Outcome::FirstApproval)
                } else {
                    Ok(Outcome::Move(Approved))
                }
            }
            _ => Err(illegal),
        }
    }
}
