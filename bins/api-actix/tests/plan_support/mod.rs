//! A plan between two nodes over HTTP, for tests that sync: the primary's data and accounts,
//! and the secondary-initiator flow (invoke, subscribe, propose, approve).
#![allow(dead_code)]

use api_client::Client;
use base64::Engine as _;
use plan_core::{Plan, PlanId, Subscription};
use register_core::Mode;
use serde_json::{json, Value};
use store_diesel::accounts::Role;
use store_diesel::node::NodeIdentity;
use uuid::Uuid;

use super::common::{data, LoopbackServer as Server, TestDb};

/// The password of every account these helpers create.
pub const PASSWORD: &str = "partner password";

/// The partner's side of plans: its node.
pub fn node(description: &str) -> NodeIdentity {
    NodeIdentity {
        node_uuid: Uuid::new_v4(),
        description: description.into(),
        instance_uuid: Uuid::new_v4(),
        controller_uuid: Uuid::new_v4(),
        controller_description: "Operators".into(),
        admin_contact: None,
        admin_email: None,
        pool_uuid: Uuid::new_v4(),
    }
}

pub fn decode(reply: &Value) -> Plan {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(reply["document"].as_str().expect("document"))
        .expect("base64");
    Plan::from_xml(std::str::from_utf8(&bytes).expect("UTF-8")).expect("plan")
}

pub fn b64(plan: &Plan) -> String {
    base64::engine::general_purpose::STANDARD.encode(plan.to_xml())
}

/// The secondary-initiator flow over HTTP against `primary`: acme invokes, subscribes to the
/// offered `country` slice, proposes; the primary's operator approves. Returns the plan and
/// the slice.
pub fn negotiate(primary: &Server) -> (PlanId, Uuid) {
    negotiate_with(primary, None)
}

/// [`negotiate`], the secondary's document naming its mirror cosigner key when it has `keys`.
pub fn negotiate_with(
    primary: &Server,
    keys: Option<&store_diesel::store::NodeKeys>,
) -> (PlanId, Uuid) {
    let mut acme = Client::new(&primary.url(), "acme", PASSWORD);
    acme.login(None).expect("acme logs in");
    let stub = acme.get_json("/v1/plans/invoke").expect("invoke");
    let stub = decode(&stub);
    let slice = stub.register_slices()[0].slice_uuid;
    let plan = stub
        .complete(
            node_service::identity::secondary(&node("Secondary"), keys),
            vec![Subscription {
                uuid: Uuid::new_v4(),
                slice_uuid: Some(slice),
                delivery_profiles: Vec::new(),
            }],
        )
        .expect("complete");
    let id = plan.uuid.expect("uuid");
    acme.post_json::<Value>("/v1/proposals/new", &json!({"document": b64(&plan)}))
        .expect("propose");
    let mut operator = Client::new(&primary.url(), "operator", PASSWORD);
    operator.login(None).expect("operator logs in");
    operator
        .post_json::<Value>(&format!("/v1/plans/{id}/approve"), &json!({}))
        .expect("approve");
    (id, slice)
}

/// A primary database: `country` loaded and offered, a partner `acme` and an admin.
pub fn primary_store(db: &TestDb) {
    db.store
        .load_rsf("country", &data("country-data.rsf")[..], Mode::Strict)
        .expect("load country");
    db.store
        .add_user("acme", PASSWORD, Role::Partner)
        .expect("acme");
    db.store
        .add_user("operator", PASSWORD, Role::Admin)
        .expect("operator");
    db.store.offer_register("country", None).expect("offer");
}
