//! The plan lifecycle (plans.md §2): who may do what, and the record of it. The statuses,
//! actions and roles themselves are in [`crate::status`].
//!
//! [`PlanRecord::apply`] is the only way a status changes. It first decides, from the current
//! status, the action and the actor, what the outcome is; only then does it mutate, so a
//! refused action leaves the record exactly as it was.

use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::model::{Plan, PlanId};
use crate::status::{Action, Actor, ConversationRole, DataRole, PlanStatus};

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
