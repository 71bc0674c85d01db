//! What the stored things look like on the wire: `api-types` bodies built from the store's
//! and the cores' types, for the server and the CLI alike.

use api_types::cli::{NodeView, OfferView, PlanDetails, PlanSummary, TransitionView};
use chrono::{DateTime, SecondsFormat, Utc};
use plan_core::{DataRole, Plan};
use store_diesel::error::StoreError;
use store_diesel::node::{NodeIdentity, Offer};
use store_diesel::plans::StoredPlan;
use store_diesel::store::LoadReport;
use store_diesel::store::Store;
use store_diesel::subscriptions::{AcceptedCheckpoint, Subscription};
use store_diesel::writer_tokens::{WriterScope, WriterToken};

/// A time as the API and the CLI write it: RFC 3339, whole seconds, `Z`.
pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn role(role: DataRole) -> &'static str {
    match role {
        DataRole::Primary => "primary",
        DataRole::Secondary => "secondary",
    }
}

/// A plan as `plan list` and the review commands print it.
pub fn plan_summary(plan: &StoredPlan) -> PlanSummary {
    let record = &plan.record;
    PlanSummary {
        owner: plan.owner.clone(),
        plan_uuid: record.id().to_string(),
        status: record.status().as_str().to_string(),
        status_message: record.status_message().map(str::to_string),
        status_on: time(plan.status_on()),
    }
}

/// A plan as `plan show` prints it: the summary, its history and its document's XML.
pub fn plan_details(plan: &StoredPlan) -> PlanDetails {
    let record = &plan.record;
    let history = record
        .history()
        .iter()
        .map(|t| TransitionView {
            action: t.action.to_string(),
            at: time(t.at),
            by: t.by.to_string(),
            from: t.from.as_str().to_string(),
            status_message: t.status_message.clone(),
            to: t.to.as_str().to_string(),
        })
        .collect();
    let summary = plan_summary(plan);
    PlanDetails {
        document: record.document().map(Plan::to_xml),
        history,
        initiator_role: role(record.initiator_role()).to_string(),
        owner: summary.owner,
        plan_uuid: summary.plan_uuid,
        primary_approved_on: plan.approved_on(DataRole::Primary).map(time),
        replaces_plan_uuid: plan.replaces.map(|id| id.to_string()),
        secondary_approved_on: plan.approved_on(DataRole::Secondary).map(time),
        status: summary.status,
        status_message: summary.status_message,
        status_on: summary.status_on,
    }
}

/// An offered register.
pub fn offer(offer: &Offer) -> OfferView {
    OfferView {
        description: offer.description.clone(),
        offered_at: time(offer.offered_at),
        register: offer.register.clone(),
        slice_uuid: offer.slice_uuid.to_string(),
    }
}

/// This node's identity with its offers, origin and, when it has keys, its cosigner keys.
pub fn node(
    node: &NodeIdentity,
    offers: &[Offer],
    origin: &str,
    keys: Option<&store_diesel::store::NodeKeys>,
) -> NodeView {
    let cosigner = |role: &str| {
        keys.and_then(|k| k.cosigner_key(role).ok())
            .map(|key| key.to_string())
    };
    NodeView {
        admin_contact: node.admin_contact.clone(),
        admin_email: node.admin_email.clone(),
        controller_description: node.controller_description.clone(),
        controller_uuid: node.controller_uuid.to_string(),
        description: node.description.clone(),
        instance_uuid: node.instance_uuid.to_string(),
        mirror_key: cosigner("mirror"),
        node_uuid: node.node_uuid.to_string(),
        offers: offers.iter().map(offer).collect(),
        origin: origin.to_string(),
        pool_uuid: node.pool_uuid.to_string(),
        witness_key: cosigner("witness"),
    }
}

/// What a load did, as `load-rsf` answers (add `success` and `message`) and `api-actix load`
/// prints it.
pub fn load_report(report: &LoadReport) -> api_types::LoadReport {
    api_types::LoadReport {
        asserts: report.summary.asserts,
        created: report.created,
        items_added: report.summary.new_items,
        message: None,
        register: report.register.clone(),
        root_hash: report.root.to_string(),
        success: None,
        system_entries_added: report.summary.system_entries,
        total_entries: report.total_entries,
        unreferenced_items: report.summary.unreferenced_items,
        user_entries_added: report.summary.user_entries,
    }
}

/// One slice's sync run, as `sync pull` and `sync push` print it.
pub fn slice_report(report: &register_sync::SliceReport) -> api_types::SliceReport {
    api_types::SliceReport {
        checkpoint: report.checkpoint.clone(),
        cosignature: report.cosignature.clone(),
        entries_added: report.added,
        register: report.register.clone(),
        root_hash: report.root.to_string(),
        slice_uuid: report.slice.to_string(),
        total_entries: report.size,
    }
}

/// Every subscription's recorded state, as `sync status` prints them: with the keys pinned
/// and the last checkpoint of the primary each mirror accepted.
pub fn subscriptions(store: &Store) -> Result<Vec<api_types::SubscriptionStatus>, StoreError> {
    store
        .subscriptions()?
        .iter()
        .map(|s| {
            let held = store.accepted_mirror_checkpoint(s.plan_uuid, s.slice_uuid, None)?;
            let count = store.accepted_mirror_checkpoints(s.plan_uuid, s.slice_uuid)?;
            let key = s.cosigner_key.as_deref().map(tlog_core::VerifierKey::parse);
            let cosigned = match key {
                Some(Ok(key)) => match store.cosigned_size(&s.register_name, &key) {
                    Err(StoreError::RegisterNotFound(_)) => None,
                    other => other?,
                },
                _ => None,
            };
            let mut status = subscription(s, held.as_ref(), count);
            status.cosigned = cosigned;
            Ok(status)
        })
        .collect()
}

/// A subscription's recorded state, with the last checkpoint accepted (`held`) of `count`.
pub fn subscription(
    s: &Subscription,
    held: Option<&AcceptedCheckpoint>,
    count: u64,
) -> api_types::SubscriptionStatus {
    api_types::SubscriptionStatus {
        checkpoint: held.map(|c| api_types::HeldCheckpoint {
            accepted_at: time(c.accepted_at),
            note: c.note.clone(),
            root_hash: c.root.to_string(),
            total_entries: c.size,
        }),
        checkpoint_key: s.checkpoint_key.clone(),
        checkpoints_accepted: count,
        cosigner_key: s.cosigner_key.clone(),
        cosigned: None,
        entries_behind: s.entries_behind(),
        last_error: s.last_error.clone(),
        last_success: s.last_success.map(time),
        plan_uuid: s.plan_uuid.to_string(),
        register: s.register_name.clone(),
        remote: s.remote.clone(),
        root_hash: s.last_root.map(|r| r.to_string()),
        slice_uuid: s.slice_uuid.to_string(),
        total_entries: s.last_size,
    }
}

/// What `remote plan request` prints: the plan `proposed` on `remote`, with what it
/// subscribes to.
pub fn plan_requested(
    proposed: api_types::PlanBody,
    remote: String,
    wanted: &[crate::identity::Wanted],
) -> api_types::cli::PlanRequested {
    api_types::cli::PlanRequested {
        plan_uuid: proposed.plan_uuid,
        remote,
        status: proposed.status,
        subscriptions: wanted
            .iter()
            .map(|w| api_types::cli::RequestedSubscription {
                register: w.register.clone(),
                slice_uuid: w.slice.to_string(),
                subscription_uuid: w.subscription.to_string(),
            })
            .collect(),
    }
}

/// What `remote plan show` prints of a partner's plan answer.
pub fn remote_plan(plan: api_types::PlanBody) -> api_types::cli::RemotePlan {
    api_types::cli::RemotePlan {
        plan_uuid: plan.plan_uuid,
        primary_approved_on: plan.primary_approved_on,
        secondary_approved_on: plan.secondary_approved_on,
        status: plan.status,
        status_message: plan.status_message,
        status_on: plan.status_on,
    }
}

/// The wire form of an entry.
pub fn entry(entry: &register_core::Entry) -> api_types::Entry {
    api_types::Entry {
        index_entry_number: entry.index_entry_number.to_string(),
        entry_number: entry.entry_number.to_string(),
        entry_timestamp: entry.timestamp.to_string(),
        key: entry.key.clone(),
        item_hash: entry.item_hashes.iter().map(ToString::to_string).collect(),
    }
}

/// A writer token as `token list` and `token revoke` print it: never its secret or hash.
pub fn writer_token(token: &WriterToken) -> api_types::cli::WriterTokenLine {
    let (scope, register) = match &token.scope {
        WriterScope::Admin => ("admin", None),
        WriterScope::Register(name) => ("register", Some(name.clone())),
    };
    api_types::cli::WriterTokenLine {
        name: token.name.clone(),
        scope: scope.to_string(),
        register,
        created_at: time(token.created_at),
        last_used_at: token.last_used_at.map(time),
        revoked_at: token.revoked_at.map(time),
    }
}

/// A plan's document as XML (`plan show --xml`); empty when it has none yet.
pub fn plan_xml(plan: &StoredPlan) -> String {
    plan.record.document().map(Plan::to_xml).unwrap_or_default()
}

/// What `publish` prints: the counts of a run.
pub fn published(done: &crate::publish::Published) -> api_types::cli::Published {
    api_types::cli::Published {
        logs: done.logs,
        kept: done.kept,
        unbundled: done.unbundled,
        written: done.written,
    }
}

/// What `root` prints: a register's size and root hash.
pub fn root(summary: &store_diesel::queries::RegisterSummary) -> api_types::cli::RootLine {
    api_types::cli::RootLine {
        total_entries: summary.total_entries,
        root_hash: summary.root.to_string(),
    }
}
