//! The plan state machine, table-driven over every (status, action, actor).

mod common;

use chrono::{DateTime, TimeZone, Utc};
use plan_core::{Action, Actor, ConversationRole, DataRole, Error, PlanId, PlanRecord, PlanStatus};

use ConversationRole::{Initiator, Respondent};
use PlanStatus::{Approved, Invoked, OnHold, Proposed, Rejected};

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, minute, 0)
        .single()
        .expect("valid time")
}

fn actor(record: &PlanRecord, conversation: ConversationRole) -> Actor {
    let data = match (conversation, record.initiator_role()) {
        (Initiator, role) => role,
        (Respondent, DataRole::Primary) => DataRole::Secondary,
        (Respondent, DataRole::Secondary) => DataRole::Primary,
    };
    Actor { conversation, data }
}

fn secondary(record: &PlanRecord) -> Actor {
    [actor(record, Initiator), actor(record, Respondent)]
        .into_iter()
        .find(|a| a.data == DataRole::Secondary)
        .expect("one partner is the secondary")
}

/// A record in `status` with a complete document, reached through legal transitions only.
fn record_in(status: PlanStatus, initiator: DataRole) -> PlanRecord {
    let mut record = PlanRecord::invoke(PlanId(common::id(1)), initiator, at(0));
    record
        .set_document(common::complete())
        .expect("set document while Invoked");
    if status == Invoked {
        return record;
    }
    let proposer = secondary(&record);
    record
        .apply(Action::Propose, proposer, at(1), None)
        .expect("propose");
    let respondent = actor(&record, Respondent);
    match status {
        Invoked | Proposed => {}
        Approved => drop(
            record
                .apply(Action::Approve, respondent, at(2), None)
                .expect("approve"),
        ),
        OnHold => drop(
            record
                .apply(Action::Hold, respondent, at(2), None)
                .expect("hold"),
        ),
        Rejected => drop(
            record
                .apply(Action::Reject, respondent, at(2), None)
                .expect("reject"),
        ),
    }
    assert_eq!(record.status(), status);
    record
}

/// Who the table allows.
#[derive(Clone, Copy)]
enum Who {
    Secondary,
    Respondent,
    Either,
}

/// plans.md §2, written out independently of the implementation. `On Hold --approve-->` by one
/// partner records the first approval and stays On Hold (the second is tested below).
const ALLOWED: &[(PlanStatus, Action, Who, PlanStatus)] = &[
    (Invoked, Action::Propose, Who::Secondary, Proposed),
    (Proposed, Action::Approve, Who::Respondent, Approved),
    (Proposed, Action::Reject, Who::Respondent, Rejected),
    (Proposed, Action::Hold, Who::Respondent, OnHold),
    (Approved, Action::Hold, Who::Either, OnHold),
    (OnHold, Action::Approve, Who::Either, OnHold),
    (OnHold, Action::Reject, Who::Either, Rejected),
];

#[test]
fn every_status_action_and_actor() {
    let mut cases = 0;
    for initiator in [DataRole::Primary, DataRole::Secondary] {
        for status in PlanStatus::ALL {
            for action in Action::ALL {
                for who in Actor::ALL {
                    cases += 1;
                    let mut record = record_in(status, initiator);
                    let before = record.clone();
                    let partner = who == actor(&record, who.conversation);
                    let rule = ALLOWED
                        .iter()
                        .find(|(s, a, _, _)| *s == status && *a == action);
                    let allowed = partner
                        && rule.is_some_and(|(_, _, w, _)| match w {
                            Who::Secondary => who.data == DataRole::Secondary,
                            Who::Respondent => who.conversation == Respondent,
                            Who::Either => true,
                        });
                    let message = Some(format!("{action} by {who}"));
                    let result = record.apply(action, who, at(30), message.clone()).cloned();
                    let case = format!("{initiator:?} initiator: {status} --{action}--> by {who}");
                    match (allowed, result) {
                        (true, Ok(transition)) => {
                            let to = rule.map(|r| r.3).expect("rule");
                            assert_eq!((transition.from, transition.to), (status, to), "{case}");
                            assert_eq!(record.status(), to, "{case}");
                            assert_eq!(transition.at, at(30), "{case}");
                            assert_eq!(transition.by, who, "{case}");
                            assert_eq!(transition.status_message, message, "{case}");
                            assert_eq!(record.history().last(), Some(&transition), "{case}");
                        }
                        (false, Err(e)) => {
                            assert_eq!(
                                record, before,
                                "{case}: a refused action changed the record"
                            );
                            if partner {
                                assert_eq!(
                                    e,
                                    Error::IllegalTransition {
                                        from: status,
                                        action,
                                        actor: who
                                    },
                                    "{case}"
                                );
                            } else {
                                assert_eq!(e, Error::NotAPartner { actor: who }, "{case}");
                            }
                        }
                        (allowed, result) => panic!("{case}: allowed {allowed}, got {result:?}"),
                    }
                }
            }
        }
    }
    assert_eq!(cases, 2 * 5 * 4 * 4);
}

#[test]
fn leaving_on_hold_needs_both_partners() {
    for initiator in [DataRole::Primary, DataRole::Secondary] {
        let mut record = record_in(Approved, initiator);
        let (i, r) = (actor(&record, Initiator), actor(&record, Respondent));
        record
            .apply(Action::Hold, i, at(10), Some("audit".into()))
            .expect("hold");
        assert_eq!(
            (record.status(), record.status_message()),
            (OnHold, Some("audit"))
        );

        record
            .apply(Action::Approve, r, at(11), None)
            .expect("first approval");
        assert_eq!(record.status(), OnHold);
        assert_eq!(
            record.status_message(),
            Some("audit"),
            "a first approval keeps the hold message"
        );
        assert_eq!(record.approvals().len(), 1);
        assert_eq!(
            (record.approvals()[0].by, record.approvals()[0].at),
            (r, at(11))
        );

        let before = record.clone();
        assert_eq!(
            record.apply(Action::Approve, r, at(12), None),
            Err(Error::AlreadyApproved { actor: r })
        );
        assert_eq!(record, before);

        let t = record
            .apply(Action::Approve, i, at(13), Some("resume".into()))
            .expect("second approval")
            .clone();
        assert_eq!((t.from, t.to), (OnHold, Approved));
        assert_eq!(
            (record.status(), record.status_message()),
            (Approved, Some("resume"))
        );
        assert!(record.approvals().is_empty(), "approvals are per hold");

        // A new hold needs two fresh approvals.
        record
            .apply(Action::Hold, r, at(14), None)
            .expect("hold again");
        record
            .apply(Action::Approve, i, at(15), None)
            .expect("first approval again");
        assert_eq!(record.status(), OnHold);
        let statuses: Vec<_> = record.history().iter().map(|t| t.to).collect();
        assert_eq!(
            statuses,
            [Proposed, Approved, OnHold, OnHold, Approved, OnHold, OnHold]
        );
    }
}

#[test]
fn proposing_needs_a_complete_document() {
    let mut record = PlanRecord::invoke(PlanId(common::id(1)), DataRole::Primary, at(0));
    let proposer = secondary(&record);
    assert!(matches!(
        record.apply(Action::Propose, proposer, at(1), None),
        Err(Error::Document(_))
    ));
    record
        .set_document(common::fragment())
        .expect("the primary posts its side");
    assert!(matches!(
        record.apply(Action::Propose, proposer, at(1), None),
        Err(Error::Document(_))
    ));
    assert_eq!(record.status(), Invoked);
    record
        .propose(common::complete(), proposer, at(2), None)
        .expect("propose the completed plan");
    assert_eq!(record.status(), Proposed);
}

#[test]
fn the_document_is_frozen_once_proposed() {
    for status in [Proposed, Approved, OnHold, Rejected] {
        let mut record = record_in(status, DataRole::Secondary);
        let before = record.clone();
        assert_eq!(
            record.set_document(common::complete()),
            Err(Error::DocumentFrozen { status })
        );
        assert_eq!(record, before);
    }
}

#[test]
fn the_document_must_carry_the_plan_uuid_and_keep_the_stub_primary() {
    let mut record = PlanRecord::invoke(PlanId(common::id(99)), DataRole::Secondary, at(0));
    assert!(matches!(
        record.set_document(common::complete()),
        Err(Error::Document(_))
    ));

    let mut record = PlanRecord::invoke(PlanId(common::id(1)), DataRole::Secondary, at(0));
    record.set_document(common::fragment()).expect("stub");
    let mut changed = common::complete();
    changed.primary.description = "someone else".into();
    let proposer = secondary(&record);
    assert!(matches!(
        record.propose(changed, proposer, at(1), None),
        Err(Error::Document(_))
    ));
    assert_eq!(record.status(), Invoked);
    assert_eq!(record.document(), Some(&common::fragment()));
}

#[test]
fn statuses_round_trip_through_their_names() {
    for status in PlanStatus::ALL {
        assert_eq!(PlanStatus::parse(status.as_str()), Some(status));
        assert_eq!(status.allows_sync(), status == Approved);
    }
    assert_eq!(OnHold.to_string(), "On Hold");
    assert_eq!(PlanStatus::parse("on hold"), None);
}
