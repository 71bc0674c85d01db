//! Accounts, plans and subscription state in the store, on SQLite and on PostgreSQL.

mod common;

#[path = "../../plan-core/tests/common/mod.rs"]
mod plan_fixtures;

use std::sync::Barrier;

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use plan_core::{Action, Actor, ConversationRole, DataRole, Plan, PlanId, PlanRecord, PlanStatus};
use register_core::Digest;
use store_diesel::accounts::Role;
use store_diesel::error::StoreError;
use store_diesel::plans::StoredPlan;
use store_diesel::schema::users;
use store_diesel::store::Store;

use common::backends;
use plan_fixtures::{complete, fragment, id, primary};

const INITIATOR_SECONDARY: Actor = Actor {
    conversation: ConversationRole::Initiator,
    data: DataRole::Secondary,
};
const RESPONDENT_PRIMARY: Actor = Actor {
    conversation: ConversationRole::Respondent,
    data: DataRole::Primary,
};

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, minute, 0)
        .single()
        .expect("valid time")
}

fn plan_id() -> PlanId {
    PlanId(id(1))
}

/// A partner account and a freshly invoked plan it owns (the secondary initiates), with the
/// respondent's stub as its document.
fn invoked(store: &Store) -> PlanRecord {
    store
        .add_user("acme", "s3cret", Role::Partner)
        .expect("add partner");
    let mut record = PlanRecord::invoke(plan_id(), DataRole::Secondary, at(0));
    record.set_document(fragment()).expect("stub document");
    store
        .create_plan(&record, "acme", None)
        .expect("create plan");
    record
}

fn stored(store: &Store, id: PlanId) -> StoredPlan {
    store.plan(id).expect("read plan").expect("plan exists")
}

fn is_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict(_)))
}

#[test]
fn passwords_verify_right_wrong_and_unknown() {
    for db in backends() {
        let store = &db.store;
        let label = db.label;
        store
            .add_user("ops", "correct horse", Role::Admin)
            .expect("add admin");
        let user = store
            .verify_password("ops", "correct horse")
            .expect("verify")
            .unwrap_or_else(|| panic!("{label}: right password refused"));
        assert_eq!((user.name.as_str(), user.role), ("ops", Role::Admin));
        assert_eq!(
            store.verify_password("ops", "wrong horse").expect("verify"),
            None
        );
        assert_eq!(store.verify_password("ops", "").expect("verify"), None);
        assert_eq!(
            store
                .verify_password("nobody", "correct horse")
                .expect("verify"),
            None,
            "{label}: unknown user"
        );
    }
}

#[test]
fn stored_hash_is_salted_argon2id_not_the_password() {
    for db in backends() {
        let store = &db.store;
        store
            .add_user("a", "same password", Role::Partner)
            .expect("add a");
        store
            .add_user("b", "same password", Role::Partner)
            .expect("add b");
        let mut conn = db.conn().expect("conn");
        let hashes: Vec<String> = users::table
            .order(users::name.asc())
            .select(users::password_hash)
            .load(&mut *conn)
            .expect("read hashes");
        assert_eq!(hashes.len(), 2);
        for hash in &hashes {
            assert!(hash.starts_with("$argon2id$"), "{}: {hash}", db.label);
            assert!(!hash.contains("same password"), "{}", db.label);
        }
        assert_ne!(hashes[0], hashes[1], "{}: a salt per account", db.label);
    }
}

#[test]
fn accounts_are_unique_and_named() {
    for db in backends() {
        let store = &db.store;
        let label = db.label;
        store.add_user("zed", "pw", Role::Partner).expect("add zed");
        store.add_user("amy", "pw", Role::Admin).expect("add amy");
        assert!(
            is_conflict(store.add_user("zed", "other", Role::Admin)),
            "{label}: duplicate name"
        );
        for (name, password) in [
            ("", "pw"),
            ("  ", "pw"),
            (" lead", "pw"),
            ("a\nb", "pw"),
            ("ok", ""),
        ] {
            assert!(
                matches!(
                    store.add_user(name, password, Role::Partner),
                    Err(StoreError::Invalid(_))
                ),
                "{label}: {name:?} / {password:?}"
            );
        }
        assert_eq!(
            store.user("amy").expect("user").map(|u| u.role),
            Some(Role::Admin)
        );
        assert_eq!(
            store.user("zed").expect("user").map(|u| u.role),
            Some(Role::Partner)
        );
        assert_eq!(store.user("nobody").expect("user"), None);

        store.remove_user("amy").expect("remove amy");
        assert_eq!(store.user("amy").expect("user"), None);
        assert!(matches!(
            store.remove_user("amy"),
            Err(StoreError::NotFound(_))
        ));
    }
}

#[test]
fn plan_lifecycle_round_trips_after_every_step() {
    for db in backends() {
        let store = &db.store;
        let label = db.label;
        let mut record = invoked(store);
        let check = |record: &PlanRecord, step: &str| {
            let read = stored(store, record.id());
            assert_eq!(&read.record, record, "{label}: after {step}");
            assert_eq!(read.owner, "acme");
            assert_eq!(read.replaces, None);
        };
        check(&record, "invoke");

        record
            .propose(
                complete(),
                INITIATOR_SECONDARY,
                at(1),
                Some("please".into()),
            )
            .expect("propose");
        store.save_plan_transition(&record).expect("save propose");
        check(&record, "propose");

        record
            .apply(
                Action::Approve,
                RESPONDENT_PRIMARY,
                at(2),
                Some("welcome".into()),
            )
            .expect("approve");
        store.save_plan_transition(&record).expect("save approve");
        check(&record, "approve");

        record
            .apply(
                Action::Hold,
                INITIATOR_SECONDARY,
                at(3),
                Some("audit".into()),
            )
            .expect("hold");
        store.save_plan_transition(&record).expect("save hold");
        check(&record, "hold");

        record
            .apply(Action::Approve, RESPONDENT_PRIMARY, at(4), None)
            .expect("first approval");
        store
            .save_plan_transition(&record)
            .expect("save first approval");
        check(&record, "first approval");
        let read = stored(store, record.id());
        assert_eq!(read.record.status(), PlanStatus::OnHold);
        assert_eq!(read.record.status_message(), Some("audit"));
        assert_eq!(read.record.approvals().len(), 1);
        assert_eq!(read.record.approvals()[0].by, RESPONDENT_PRIMARY);
        assert_eq!(read.record.approvals()[0].at, at(4));

        record
            .apply(
                Action::Approve,
                INITIATOR_SECONDARY,
                at(5),
                Some("resumed".into()),
            )
            .expect("second approval");
        store
            .save_plan_transition(&record)
            .expect("save second approval");
        check(&record, "second approval");

        let read = stored(store, record.id());
        assert_eq!(read.record.status(), PlanStatus::Approved, "{label}");
        assert_eq!(read.record.status_message(), Some("resumed"));
        assert_eq!(read.record.document(), Some(&complete()));
        assert!(read.record.approvals().is_empty());
        let steps: Vec<(PlanStatus, PlanStatus, Action, Actor)> = read
            .record
            .history()
            .iter()
            .map(|t| (t.from, t.to, t.action, t.by))
            .collect();
        use PlanStatus::*;
        assert_eq!(
            steps,
            [
                (Invoked, Proposed, Action::Propose, INITIATOR_SECONDARY),
                (Proposed, Approved, Action::Approve, RESPONDENT_PRIMARY),
                (Approved, OnHold, Action::Hold, INITIATOR_SECONDARY),
                (OnHold, OnHold, Action::Approve, RESPONDENT_PRIMARY),
                (OnHold, Approved, Action::Approve, INITIATOR_SECONDARY),
            ]
        );

        // Saving again with nothing new changes nothing.
        store
            .save_plan_transition(&record)
            .expect("idempotent save");
        check(&record, "a repeated save");
    }
}

#[test]
fn plans_are_listed_newest_first_and_name_what_they_replace() {
    for db in backends() {
        let store = &db.store;
        let first = invoked(store);
        store
            .add_user("globex", "pw", Role::Partner)
            .expect("add globex");
        let second_id = PlanId(id(900));
        let mut second = PlanRecord::invoke(second_id, DataRole::Primary, at(10));
        second
            .set_document(Plan::fragment(Some(second_id), "Replacement", primary()))
            .expect("document");
        store
            .create_plan(&second, "globex", Some(first.id()))
            .expect("create second");

        let all: Vec<PlanId> = store
            .plans()
            .expect("plans")
            .iter()
            .map(|p| p.record.id())
            .collect();
        assert_eq!(all, [second_id, first.id()], "{}", db.label);
        let newest = store.plan(second_id).expect("plan").expect("second");
        assert_eq!(newest.record, second);
        assert_eq!(newest.owner, "globex");
        assert_eq!(newest.replaces, Some(first.id()));

        assert!(
            is_conflict(store.create_plan(&second, "globex", None)),
            "same uuid"
        );
        let third = PlanRecord::invoke(PlanId(id(901)), DataRole::Primary, at(11));
        assert!(matches!(
            store.create_plan(&third, "nobody", None),
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.create_plan(&third, "globex", Some(PlanId(id(999)))),
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(store.plan(PlanId(id(901))).expect("read"), None);
        assert!(
            is_conflict(store.remove_user("globex")),
            "{}: an owner of plans stays",
            db.label
        );
    }
}

#[test]
fn the_second_of_two_concurrent_actions_conflicts() {
    for db in backends() {
        let store = &db.store;
        let label = db.label;
        let mut record = invoked(store);
        record
            .propose(complete(), INITIATOR_SECONDARY, at(1), None)
            .expect("propose");
        store.save_plan_transition(&record).expect("save propose");

        // Two copies of the same Proposed plan: one approves, the other rejects.
        let mut approving = stored(store, record.id()).record;
        let mut rejecting = approving.clone();
        approving
            .apply(
                Action::Approve,
                RESPONDENT_PRIMARY,
                at(2),
                Some("yes".into()),
            )
            .expect("approve");
        rejecting
            .apply(Action::Reject, RESPONDENT_PRIMARY, at(2), Some("no".into()))
            .expect("reject");
        store
            .save_plan_transition(&approving)
            .expect("first save wins");
        assert!(
            is_conflict(store.save_plan_transition(&rejecting)),
            "{label}: second save"
        );
        assert_eq!(stored(store, record.id()).record, approving, "{label}");

        // The case a status guard alone misses: two first approvals of an On Hold plan leave
        // the status On Hold. Saved at the same moment from two threads, exactly one wins.
        let mut held = approving.clone();
        held.apply(Action::Hold, INITIATOR_SECONDARY, at(3), None)
            .expect("hold");
        store.save_plan_transition(&held).expect("save hold");
        let mut by_primary = held.clone();
        let mut by_secondary = held.clone();
        by_primary
            .apply(Action::Approve, RESPONDENT_PRIMARY, at(4), None)
            .expect("primary approves");
        by_secondary
            .apply(Action::Approve, INITIATOR_SECONDARY, at(4), None)
            .expect("secondary approves");
        let barrier = Barrier::new(2);
        let results: Vec<Result<(), StoreError>> = std::thread::scope(|s| {
            let handles: Vec<_> = [&by_primary, &by_secondary]
                .into_iter()
                .map(|copy| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        barrier.wait();
                        store.save_plan_transition(copy)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        let wins: Vec<bool> = results.iter().map(Result::is_ok).collect();
        assert!(
            wins == [true, false] || wins == [false, true],
            "{label}: {results:?}"
        );
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(StoreError::Conflict(_)))),
            "{label}: the loser gets Conflict: {results:?}"
        );
        let winner = if wins[0] { &by_primary } else { &by_secondary };
        let read = stored(store, record.id()).record;
        assert_eq!(&read, winner, "{label}");
        assert_eq!(read.approvals().len(), 1);
        assert_eq!(read.status(), PlanStatus::OnHold);
    }
}

#[test]
fn the_document_is_replaceable_only_while_invoked() {
    for db in backends() {
        let store = &db.store;
        let label = db.label;
        let mut record = invoked(store);
        let mut revised = fragment();
        revised.description = "Country register, revised".into();
        store
            .replace_plan_document(record.id(), &revised)
            .expect("replace while Invoked");
        record.set_document(revised.clone()).expect("same change");
        assert_eq!(stored(store, record.id()).record, record, "{label}");

        let other_uuid = Plan::fragment(Some(PlanId(id(77))), "Wrong plan", primary());
        assert!(
            matches!(
                store.replace_plan_document(record.id(), &other_uuid),
                Err(StoreError::Invalid(_))
            ),
            "{label}: a document of another plan"
        );
        assert!(matches!(
            store.replace_plan_document(PlanId(id(78)), &revised),
            Err(StoreError::NotFound(_))
        ));

        let mut completed = revised
            .clone()
            .complete(plan_fixtures::secondary(), Vec::new())
            .expect("complete");
        completed.communal = Some(plan_core::Communal::default());
        record
            .propose(completed.clone(), INITIATOR_SECONDARY, at(1), None)
            .expect("propose");
        store.save_plan_transition(&record).expect("save propose");
        assert!(
            is_conflict(store.replace_plan_document(record.id(), &revised)),
            "{label}: frozen once Proposed"
        );
        let read = stored(store, record.id()).record;
        assert_eq!(read.document(), Some(&completed), "{label}");
        assert_eq!(read, record);
    }
}

#[test]
fn subscriptions_keep_sync_bookkeeping() {
    for db in backends() {
        let store = &db.store;
        let label = db.label;
        let plan = plan_id();
        let slice = id(20);
        store
            .upsert_subscription(plan, slice, "https://primary.example", "country")
            .expect("subscribe");
        let fresh = store
            .subscription(plan, slice)
            .expect("read")
            .expect("exists");
        assert_eq!(
            (
                fresh.last_size,
                fresh.last_root,
                fresh.last_success,
                &fresh.last_error
            ),
            (0, None, None, &None),
            "{label}"
        );
        assert_eq!(fresh.register_name, "country");
        assert_eq!((fresh.primary_size, fresh.entries_behind()), (None, 0));

        let root = Digest([7; 32]);
        store
            .record_sync_success(plan, slice, 208, root, at(10))
            .expect("success");
        store
            .record_primary_size(plan, slice, 250)
            .expect("the primary seen");
        store
            .record_sync_error(plan, slice, "divergence at 208", at(20))
            .expect("error");
        let failed = store
            .subscription(plan, slice)
            .expect("read")
            .expect("exists");
        assert_eq!(failed.last_size, 208, "{label}: size kept");
        assert_eq!(failed.last_root, Some(root), "{label}: root kept");
        assert_eq!(failed.last_success, Some(at(10)));
        assert_eq!(failed.last_error.as_deref(), Some("divergence at 208"));
        assert_eq!(failed.updated_at, at(20));
        assert_eq!(failed.entries_behind(), 42, "{label}: 250 seen, 208 held");

        let root2 = Digest([9; 32]);
        store
            .record_sync_success(plan, slice, 210, root2, at(30))
            .expect("success again");
        // Re-subscribing moves the mirror but keeps the bookkeeping.
        store
            .upsert_subscription(plan, slice, "https://primary2.example", "country-mirror")
            .expect("upsert again");
        let ok = store
            .subscription(plan, slice)
            .expect("read")
            .expect("exists");
        assert_eq!(
            (ok.last_size, ok.last_root, ok.last_success, ok.last_error),
            (210, Some(root2), Some(at(30)), None),
            "{label}: error cleared"
        );
        assert_eq!(ok.remote, "https://primary2.example");
        assert_eq!(ok.register_name, "country-mirror");
        assert_eq!(ok.plan_uuid, plan);
        assert_eq!(ok.slice_uuid, slice);

        store
            .upsert_subscription(plan, id(21), "https://primary.example", "country")
            .expect("second slice");
        let all: Vec<_> = store
            .subscriptions()
            .expect("all")
            .into_iter()
            .map(|s| s.slice_uuid)
            .collect();
        assert_eq!(all, [slice, id(21)]);

        assert!(matches!(
            store.record_sync_success(plan, id(99), 1, root, at(40)),
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.record_primary_size(plan, id(99), 1),
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.record_sync_error(plan, id(99), "x", at(40)),
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(store.subscription(plan, id(99)).expect("read"), None);
        assert!(store
            .upsert_subscription(plan, slice, "https://primary.example", "bad name!")
            .is_err());
    }
}

#[test]
fn the_node_identity_is_created_once_and_shared() {
    for db in backends() {
        let first = db.store.node().expect("node");
        let again = db.store.node().expect("node again");
        assert_eq!(first, again, "{}: one identity", db.label);
        // Another connection pool on the same database sees the same identity.
        let other = Store::open(&db.url).expect("reopen");
        assert_eq!(other.node().expect("node"), first, "{}", db.label);
        let uuids = [
            first.node_uuid,
            first.instance_uuid,
            first.controller_uuid,
            first.pool_uuid,
        ];
        let distinct: std::collections::BTreeSet<_> = uuids.iter().collect();
        assert_eq!(distinct.len(), 4, "{}: {uuids:?}", db.label);

        let changed = db
            .store
            .set_node_details(
                Some("Registers of Acme"),
                Some("Ops"),
                Some("ops@acme.example"),
            )
            .expect("set details");
        assert_eq!(changed.description, "Registers of Acme");
        assert_eq!(changed.admin_email.as_deref(), Some("ops@acme.example"));
        assert_eq!(changed.node_uuid, first.node_uuid, "the UUIDs never change");
        let cleared = db
            .store
            .set_node_details(None, Some(""), None)
            .expect("clear the contact");
        assert_eq!(cleared.admin_contact, None);
        assert_eq!(cleared.admin_email.as_deref(), Some("ops@acme.example"));
        assert!(matches!(
            db.store.set_node_details(Some("  "), None, None),
            Err(StoreError::Invalid(_))
        ));

        let secret = db.store.generated_token_secret().expect("secret");
        assert_eq!(secret.len(), 32);
        assert_eq!(other.generated_token_secret().expect("secret"), secret);
    }
}

#[test]
fn offers_name_existing_registers_with_stable_slices() {
    for db in backends() {
        assert!(matches!(
            db.store.offer_register("country", None),
            Err(StoreError::RegisterNotFound(_))
        ));
        db.store
            .load_rsf(
                "colour",
                &std::fs::read(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../register-core/tests/data/colour.rsf"
                ))
                .expect("colour.rsf")[..],
                register_core::Mode::Strict,
            )
            .expect("load colour");
        let offer = db.store.offer_register("colour", None).expect("offer");
        assert_eq!(
            (offer.register.as_str(), offer.description.as_str()),
            ("colour", "colour")
        );
        let again = db
            .store
            .offer_register("colour", Some("Colours"))
            .expect("offer again");
        assert_eq!(
            again.slice_uuid, offer.slice_uuid,
            "{}: same slice",
            db.label
        );
        assert_eq!(again.description, "Colours");
        assert_eq!(db.store.offers().expect("offers"), vec![again]);
        db.store.unoffer_register("colour").expect("unoffer");
        assert!(db.store.offers().expect("offers").is_empty());
        assert!(matches!(
            db.store.unoffer_register("colour"),
            Err(StoreError::NotFound(_))
        ));
    }
}

#[test]
fn subscriptions_pin_keys_once_and_keep_every_accepted_checkpoint() {
    for db in backends() {
        let store = &db.store;
        let (plan, slice) = (PlanId(uuid::Uuid::new_v4()), uuid::Uuid::new_v4());
        let l = db.label;
        assert!(matches!(
            store.pin_subscription_keys(plan, slice, Some("k"), None),
            Err(StoreError::NotFound(_))
        ));
        store
            .upsert_subscription(plan, slice, "https://primary.example", "country")
            .expect(l);
        let pinned = store
            .pin_subscription_keys(plan, slice, Some("log-key"), None)
            .expect(l);
        assert_eq!(pinned.checkpoint_key.as_deref(), Some("log-key"), "{l}");
        assert_eq!(pinned.cosigner_key, None, "{l}");
        // A later document's keys never replace pinned ones; a missing one is pinned.
        let pinned = store
            .pin_subscription_keys(plan, slice, Some("other-key"), Some("mirror-key"))
            .expect(l);
        assert_eq!(pinned.checkpoint_key.as_deref(), Some("log-key"), "{l}");
        assert_eq!(pinned.cosigner_key.as_deref(), Some("mirror-key"), "{l}");
        // Re-subscribing (a new remote or register name) keeps the pins.
        store
            .upsert_subscription(plan, slice, "https://moved.example", "country")
            .expect(l);
        let s = store.subscription(plan, slice).expect(l).expect(l);
        assert_eq!(s.checkpoint_key.as_deref(), Some("log-key"), "{l}");

        // Accepted checkpoints: all kept, the largest (within a size) found, one per size.
        assert_eq!(
            store
                .accepted_mirror_checkpoint(plan, slice, None)
                .expect(l),
            None
        );
        let root = |b: u8| Digest([b; 32]);
        store
            .accept_mirror_checkpoint(plan, slice, 10, root(1), "note 10")
            .expect(l);
        store
            .accept_mirror_checkpoint(plan, slice, 20, root(2), "note 20")
            .expect(l);
        store
            .accept_mirror_checkpoint(plan, slice, 20, root(3), "again")
            .expect(l);
        let latest = store
            .accepted_mirror_checkpoint(plan, slice, None)
            .expect(l)
            .expect(l);
        assert_eq!(
            (latest.size, latest.root, latest.note.as_str()),
            (20, root(2), "note 20")
        );
        let within = store
            .accepted_mirror_checkpoint(plan, slice, Some(19))
            .expect(l)
            .expect(l);
        assert_eq!(within.size, 10, "{l}");
        assert_eq!(
            store.accepted_mirror_checkpoints(plan, slice).expect(l),
            2,
            "{l}"
        );
    }
}
