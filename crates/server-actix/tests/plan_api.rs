//! The plan API over HTTP on both backends: both flows of plans.md §3, every transition of §2
//! (allowed and refused), the frozen UUID, re-activation from On Hold, slice access, and the
//! token and input security cases of §4.

mod common;

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{self, TestRequest};
use base64::Engine as _;
use common::*;
use plan_core::{Plan, Subscription};
use register_core::Mode;
use serde_json::{json, Value};
use server_actix::app;
use server_actix::tokens::{Claims, Scope};
use store_diesel::accounts::Role;
use store_diesel::node::{NodeIdentity, Offer};
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery staple";

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// The plan document of a plan response.
fn document(reply: &Reply) -> Plan {
    let body = reply.json();
    let encoded = body["document"]
        .as_str()
        .unwrap_or_else(|| panic!("no document in {body}"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64 document");
    Plan::from_xml(std::str::from_utf8(&bytes).expect("UTF-8")).expect("valid document")
}

/// A node other than the server: the partner's side of plans.
fn partner_node() -> NodeIdentity {
    NodeIdentity {
        node_uuid: Uuid::new_v4(),
        description: "Partner node".into(),
        instance_uuid: Uuid::new_v4(),
        controller_uuid: Uuid::new_v4(),
        controller_description: "Partner operators".into(),
        admin_contact: Some("Data team".into()),
        admin_email: Some("data@partner.example".into()),
        pool_uuid: Uuid::new_v4(),
    }
}

/// `stub` completed by a secondary subscribing to `slices`.
fn complete(stub: Plan, slices: &[Uuid]) -> Plan {
    let subscriptions = slices
        .iter()
        .map(|slice| Subscription {
            uuid: Uuid::new_v4(),
            slice_uuid: Some(*slice),
            delivery_profiles: Vec::new(),
        })
        .collect();
    stub.complete(
        node_service::identity::secondary(&partner_node(), None),
        subscriptions,
    )
    .expect("complete the stub")
}

/// A primary's Primary-only document offering one register slice.
fn primary_document(uuid: Option<plan_core::PlanId>) -> (Plan, Uuid) {
    let slice = Uuid::new_v4();
    let offer = Offer {
        register: "fruit".into(),
        slice_uuid: slice,
        description: "Fruit".into(),
        offered_at: chrono::Utc::now(),
    };
    let primary = node_service::identity::primary(&partner_node(), &[offer], None);
    (Plan::fragment(uuid, "Fruit for the server", primary), slice)
}

async fn call<S, B>(
    app: &S,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let mut request = match method {
        "GET" => TestRequest::get(),
        "POST" => TestRequest::post(),
        other => panic!("method {other}"),
    }
    .uri(uri);
    if let Some(token) = token {
        request = request.insert_header(("Authorization", format!("Bearer {token}")));
    }
    if let Some(body) = body {
        request = request.set_json(body);
    }
    send(app, request).await
}

async fn login<S, B>(app: &S, user: &str, plan: Option<&Plan>) -> String
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let plan = plan.map(|p| b64(&p.to_xml()));
    let reply = call(
        app,
        "POST",
        "/v1/login",
        None,
        Some(json!({"username": user, "password": PASSWORD, "plan": plan})),
    )
    .await;
    assert_eq!(reply.status, 200, "login {user}: {}", reply.text());
    reply.json()["token"].as_str().expect("token").to_string()
}

/// A database with `country`, an admin `operator`, partners `alice` and `bob`, and `country`
/// offered; returns the offered slice.
fn setup(db: &TestDb) -> Uuid {
    db.store
        .load_rsf("country", &data("country-data.rsf")[..], Mode::Strict)
        .expect("load country");
    for (name, role) in [
        ("operator", Role::Admin),
        ("alice", Role::Partner),
        ("bob", Role::Partner),
    ] {
        db.store.add_user(name, PASSWORD, role).expect("add user");
    }
    db.store
        .offer_register("country", Some("Countries"))
        .expect("offer")
        .slice_uuid
}

fn status_of(reply: &Reply) -> String {
    reply.json()["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// `POST /v1/plans/{uuid}/{action}` without a body.
async fn act<S, B>(app: &S, uuid: &str, action: &str, token: &str) -> Reply
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    call(
        app,
        "POST",
        &format!("/v1/plans/{uuid}/{action}"),
        Some(token),
        None,
    )
    .await
}

/// Asserts a refused transition: 409 in the envelope, and the plan's status unchanged.
async fn refused<S, B>(app: &S, uuid: &str, action: &str, token: &str, status: &str, admin: &str)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let reply = call(
        app,
        "POST",
        &format!("/v1/plans/{uuid}/{action}"),
        Some(token),
        None,
    )
    .await;
    reply.assert_error(409, &format!("{action} on a {status} plan"));
    let now = call(app, "GET", &format!("/v1/plans/{uuid}"), Some(admin), None).await;
    assert_eq!(
        status_of(&now),
        status,
        "status unchanged after a refused {action}"
    );
}

#[actix_web::test]
async fn secondary_initiator_flow_ends_in_an_approved_plan_with_readable_slices() {
    for db in backends() {
        let slice = setup(&db);
        let app = test::init_service(app(state(&db))).await;
        let alice = login(&app, "alice", None).await;
        let operator = login(&app, "operator", None).await;

        // The stub carries this server's Primary domain with the offered register.
        let stub = call(&app, "GET", "/v1/plans/invoke", Some(&alice), None).await;
        assert_eq!(stub.status, 201, "{}: {}", db.label, stub.text());
        assert_eq!(
            stub.header("location"),
            format!(
                "/v1/plans/{}",
                stub.json()["plan_uuid"].as_str().unwrap_or_default()
            )
        );
        let body = stub.json();
        assert_eq!(body["status"], "Invoked");
        assert_eq!(body["status_message"], Value::Null);
        assert_eq!(body["primary_approved_on"], Value::Null);
        let uuid = body["plan_uuid"].as_str().expect("uuid").to_string();
        let stub_plan = document(&stub);
        assert_eq!(stub_plan.uuid.map(|u| u.to_string()), Some(uuid.clone()));
        let node = db.store.node().expect("node");
        assert_eq!(stub_plan.primary.uuid, node.node_uuid);
        let offered = stub_plan.register_slices();
        assert_eq!(offered.len(), 1);
        assert_eq!(
            (offered[0].slice_uuid, offered[0].register.as_str()),
            (slice, "country")
        );

        // Not usable yet: a limited token never reaches slices.
        let limited = call(
            &app,
            "GET",
            &format!("/v1/slices/{slice}"),
            Some(&alice),
            None,
        )
        .await;
        limited.assert_error(403, "limited token on a slice");

        // The secondary completes and proposes it.
        let proposed = complete(stub_plan.clone(), &[slice]);
        let reply = call(
            &app,
            "POST",
            "/v1/proposals/new",
            Some(&alice),
            Some(json!({"document": b64(&proposed.to_xml())})),
        )
        .await;
        assert_eq!(reply.status, 200, "{}: {}", db.label, reply.text());
        assert_eq!(status_of(&reply), "Proposed");
        assert_eq!(document(&reply), proposed);

        // The initiator cannot review its own proposal; the respondent (an admin) can.
        refused(&app, &uuid, "approve", &alice, "Proposed", &operator).await;
        refused(&app, &uuid, "reject", &alice, "Proposed", &operator).await;
        let approved = call(
            &app,
            "POST",
            &format!("/v1/plans/{uuid}/approve"),
            Some(&operator),
            Some(json!({"status_message": "Welcome aboard"})),
        )
        .await;
        assert_eq!(approved.status, 200, "{}", approved.text());
        let body = approved.json();
        assert_eq!(body["status"], "Approved");
        assert_eq!(body["status_message"], "Welcome aboard");
        assert!(body["primary_approved_on"].is_string(), "{body}");
        assert_eq!(body["secondary_approved_on"], Value::Null);

        // The initiator reads the outcome, then logs in with the plan to reach its slice.
        let read = call(
            &app,
            "GET",
            &format!("/v1/plans/{uuid}"),
            Some(&alice),
            None,
        )
        .await;
        assert_eq!(status_of(&read), "Approved");
        let sync = login(&app, "alice", Some(&proposed)).await;
        let reply = call(
            &app,
            "GET",
            &format!("/v1/slices/{slice}"),
            Some(&sync),
            None,
        )
        .await;
        assert_eq!(reply.status, 200, "{}: {}", db.label, reply.text());
        let summary = db.store.register("country").expect("summary");
        assert_eq!(
            reply.json(),
            json!({
                "slice_uuid": slice.to_string(),
                "slice_type": "register",
                "register": "country",
                "description": "Countries",
                "total-entries": 208,
                "root-hash": summary.root.to_string(),
            })
        );
        assert_eq!(summary.total_entries, 208);
        // A slice outside the plan answers like an unknown one.
        let other = call(
            &app,
            "GET",
            &format!("/v1/slices/{}", Uuid::new_v4()),
            Some(&sync),
            None,
        )
        .await;
        other.assert_error(404, "slice outside the plan");

        // Hold stops synchronisation with a message that says so; both approvals resume it.
        let held = call(
            &app,
            "POST",
            &format!("/v1/plans/{uuid}/hold"),
            Some(&alice),
            Some(json!({"status_message": "Audit in progress"})),
        )
        .await;
        assert_eq!(status_of(&held), "On Hold");
        let reply = call(
            &app,
            "GET",
            &format!("/v1/slices/{slice}"),
            Some(&sync),
            None,
        )
        .await;
        reply.assert_error(403, "slice of a held plan");
        let text = reply.json()["message_text"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            text.contains("On Hold") && text.contains("Audit in progress"),
            "{text}"
        );
        let relogin = call(
            &app,
            "POST",
            "/v1/login",
            None,
            Some(
                json!({"username": "alice", "password": PASSWORD, "plan": b64(&proposed.to_xml())}),
            ),
        )
        .await;
        relogin.assert_error(403, "login with a held plan");

        let first = act(&app, &uuid, "approve", &operator).await;
        assert_eq!(status_of(&first), "On Hold", "one approval is not enough");
        refused(&app, &uuid, "approve", &operator, "On Hold", &operator).await;
        let second = act(&app, &uuid, "approve", &alice).await;
        assert_eq!(status_of(&second), "Approved", "{}", second.text());
        let body = second.json();
        assert!(
            body["primary_approved_on"].is_string() && body["secondary_approved_on"].is_string()
        );
        let reply = call(
            &app,
            "GET",
            &format!("/v1/slices/{slice}"),
            Some(&sync),
            None,
        )
        .await;
        assert_eq!(reply.status, 200, "re-approved: {}", reply.text());
    }
}

#[actix_web::test]
async fn primary_initiator_flow_is_proposed_and_reviewed_by_the_respondent() {
    for db in backends() {
        setup(&db);
        let app = test::init_service(app(state(&db))).await;
        let alice = login(&app, "alice", None).await;
        let operator = login(&app, "operator", None).await;

        // POST /v1/plans/invoke with a Primary-only document: alice is the primary.
        let (primary, slice) = primary_document(None);
        let reply = call(
            &app,
            "POST",
            "/v1/plans/invoke",
            Some(&alice),
            Some(json!({"document": b64(&primary.to_xml())})),
        )
        .await;
        assert_eq!(reply.status, 201, "{}: {}", db.label, reply.text());
        let uuid = reply.json()["plan_uuid"]
            .as_str()
            .expect("uuid")
            .to_string();
        assert_eq!(reply.header("location"), format!("/v1/plans/{uuid}"));
        let stored = document(&reply);
        assert_eq!(stored.uuid.map(|u| u.to_string()), Some(uuid.clone()));
        assert_eq!(stored.primary, primary.primary);

        // While Invoked the primary may replace its side.
        let (second, slice2) = primary_document(stored.uuid);
        let replaced = call(
            &app,
            "POST",
            &format!("/v1/plans/{uuid}"),
            Some(&alice),
            Some(json!({"document": b64(&second.to_xml())})),
        )
        .await;
        assert_eq!(replaced.status, 200, "{}", replaced.text());
        assert_eq!(document(&replaced).primary, second.primary);
        let _ = slice;

        // The primary cannot propose; the respondent (secondary) completes and proposes.
        let completed = complete(document(&replaced), &[slice2]);
        let body = json!({"document": b64(&completed.to_xml())});
        let reply = call(
            &app,
            "POST",
            "/v1/proposals/new",
            Some(&alice),
            Some(body.clone()),
        )
        .await;
        reply.assert_error(409, "the primary initiator proposing");
        let reply = call(
            &app,
            "POST",
            "/v1/proposals/new",
            Some(&operator),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status_of(&reply), "Proposed", "{}", reply.text());

        // Frozen: no second proposal, no document change.
        let again = call(
            &app,
            "POST",
            "/v1/proposals/new",
            Some(&operator),
            Some(body),
        )
        .await;
        again.assert_error(409, "proposing a frozen plan");
        let change = call(
            &app,
            "POST",
            &format!("/v1/plans/{uuid}"),
            Some(&alice),
            Some(json!({"document": b64(&second.to_xml())})),
        )
        .await;
        change.assert_error(409, "replacing a frozen document");

        // The respondent reviews: the initiator may not; reject is final.
        refused(&app, &uuid, "approve", &alice, "Proposed", &operator).await;
        let rejected = call(
            &app,
            "POST",
            &format!("/v1/plans/{uuid}/reject"),
            Some(&operator),
            Some(json!({"status_message": "No fruit here"})),
        )
        .await;
        assert_eq!(status_of(&rejected), "Rejected");
        assert_eq!(rejected.json()["status_message"], "No fruit here");
        for action in ["approve", "reject", "hold"] {
            refused(&app, &uuid, action, &operator, "Rejected", &operator).await;
            refused(&app, &uuid, action, &alice, "Rejected", &operator).await;
        }

        // A new plan may name the one it replaces.
        let (primary, _) = primary_document(None);
        let reply = call(
            &app,
            "POST",
            "/v1/plans/invoke",
            Some(&alice),
            Some(json!({"document": b64(&primary.to_xml()), "replaces_plan_uuid": uuid})),
        )
        .await;
        assert_eq!(reply.status, 201, "{}", reply.text());
        assert_eq!(reply.json()["replaces_plan_uuid"], json!(uuid));
    }
}

#[actix_web::test]
async fn every_status_refuses_what_the_transition_table_does_not_allow() {
    for db in backends() {
        let slice = setup(&db);
        let app = test::init_service(app(state(&db))).await;
        let alice = login(&app, "alice", None).await;
        let operator = login(&app, "operator", None).await;

        // Invoked: nothing but a proposal.
        let stub = call(&app, "GET", "/v1/plans/invoke", Some(&alice), None).await;
        let uuid = stub.json()["plan_uuid"].as_str().expect("uuid").to_string();
        for action in ["approve", "reject", "hold"] {
            refused(&app, &uuid, action, &alice, "Invoked", &operator).await;
            refused(&app, &uuid, action, &operator, "Invoked", &operator).await;
        }
        // A stub whose Primary was changed cannot be proposed.
        let mut tampered = complete(document(&stub), &[slice]);
        tampered.primary.description = "Someone else".into();
        let reply = call(
            &app,
            "POST",
            "/v1/proposals/new",
            Some(&alice),
            Some(json!({"document": b64(&tampered.to_xml())})),
        )
        .await;
        assert_eq!(reply.status, 422, "{}", reply.text());
        let proposed = complete(document(&stub), &[slice]);
        let reply = call(
            &app,
            "POST",
            "/v1/proposals/new",
            Some(&alice),
            Some(json!({"document": b64(&proposed.to_xml())})),
        )
        .await;
        assert_eq!(status_of(&reply), "Proposed");

        // Proposed: only the respondent reviews; hold moves to On Hold.
        refused(&app, &uuid, "hold", &alice, "Proposed", &operator).await;
        let held = act(&app, &uuid, "hold", &operator).await;
        assert_eq!(status_of(&held), "On Hold");
        // On Hold: reject by either partner is allowed; hold again is not.
        refused(&app, &uuid, "hold", &alice, "On Hold", &operator).await;
        let approve = act(&app, &uuid, "approve", &alice).await;
        assert_eq!(status_of(&approve), "On Hold");
        let approve = act(&app, &uuid, "approve", &operator).await;
        assert_eq!(status_of(&approve), "Approved");
        // Approved: neither approve nor reject; hold by either partner.
        for token in [&alice, &operator] {
            refused(&app, &uuid, "approve", token, "Approved", &operator).await;
            refused(&app, &uuid, "reject", token, "Approved", &operator).await;
        }
        let held = act(&app, &uuid, "hold", &alice).await;
        assert_eq!(status_of(&held), "On Hold");
        let rejected = act(&app, &uuid, "reject", &alice).await;
        assert_eq!(status_of(&rejected), "Rejected");

        // Unknown actions and bad bodies.
        let reply = call(
            &app,
            "POST",
            &format!("/v1/plans/{uuid}/delete"),
            Some(&alice),
            None,
        )
        .await;
        reply.assert_error(404, "unknown action");
        let reply = send(
            &app,
            TestRequest::post()
                .uri(&format!("/v1/plans/{uuid}/hold"))
                .insert_header(("Authorization", format!("Bearer {alice}")))
                .set_payload("{not json"),
        )
        .await;
        reply.assert_error(400, "bad review body");
    }
}

#[actix_web::test]
async fn partners_see_only_their_own_plans() {
    for db in backends() {
        let slice = setup(&db);
        let app = test::init_service(app(state(&db))).await;
        let alice = login(&app, "alice", None).await;
        let bob = login(&app, "bob", None).await;
        let operator = login(&app, "operator", None).await;
        let stub = call(&app, "GET", "/v1/plans/invoke", Some(&alice), None).await;
        let uuid = stub.json()["plan_uuid"].as_str().expect("uuid").to_string();
        let proposed = complete(document(&stub), &[slice]);
        call(
            &app,
            "POST",
            "/v1/proposals/new",
            Some(&alice),
            Some(json!({"document": b64(&proposed.to_xml())})),
        )
        .await;
        act(&app, &uuid, "approve", &operator).await;

        let unknown = Uuid::new_v4().to_string();
        for (what, target) in [("alice's plan", &uuid), ("an unknown plan", &unknown)] {
            let reply = call(
                &app,
                "GET",
                &format!("/v1/plans/{target}"),
                Some(&bob),
                None,
            )
            .await;
            reply.assert_error(404, &format!("bob reads {what}"));
            assert_eq!(reply.json()["message_text"], format!("no plan {target}"));
            let reply = call(
                &app,
                "POST",
                &format!("/v1/plans/{target}/hold"),
                Some(&bob),
                None,
            )
            .await;
            reply.assert_error(404, &format!("bob holds {what}"));
        }
        let reply = call(
            &app,
            "POST",
            "/v1/login",
            None,
            Some(json!({"username": "bob", "password": PASSWORD, "plan": b64(&proposed.to_xml())})),
        )
        .await;
        reply.assert_error(404, "bob logs in with alice's plan");
        let status = call(
            &app,
            "GET",
            &format!("/v1/plans/{uuid}"),
            Some(&operator),
            None,
        )
        .await;
        assert_eq!(status_of(&status), "Approved", "bob changed nothing");

        // No listing for partners; operators have theirs.
        for path in ["/v1/plans", "/v1/slices"] {
            call(&app, "GET", path, Some(&alice), None)
                .await
                .assert_error(404, path);
        }
        call(&app, "GET", "/v1/admin/plans", Some(&alice), None)
            .await
            .assert_error(403, "partner listing plans");
        let list = call(&app, "GET", "/v1/admin/plans", Some(&operator), None).await;
        assert_eq!(list.status, 200);
        let list = list.json();
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
        assert_eq!(list[0]["plan_uuid"], json!(uuid));
        assert_eq!(list[0]["owner"], "alice");
    }
}

/// A token signed with `secret` for `claims`.
fn forge(claims: &Claims, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("encode")
}

fn claims(sub: &str, role: &str, iat: i64, exp: i64) -> Claims {
    Claims {
        iss: ISSUER.into(),
        sub: sub.into(),
        iat,
        exp,
        jti: Uuid::new_v4().to_string(),
        scope: Scope::Plans,
        plan: None,
        role: role.into(),
    }
}

#[actix_web::test]
async fn tokens_fail_closed() {
    let url64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    for db in backends() {
        setup(&db);
        let app = test::init_service(app(state(&db))).await;
        let now = chrono::Utc::now().timestamp();
        let valid = forge(&claims("alice", "partner", now, now + 600), TOKEN_SECRET);
        let reply = call(&app, "GET", "/v1/plans/invoke", Some(&valid), None).await;
        assert_eq!(
            reply.status,
            201,
            "a well-formed token works: {}",
            reply.text()
        );
        // Clock skew within the leeway is forgiven.
        let skewed = forge(
            &claims("alice", "partner", now + 30, now + 600),
            TOKEN_SECRET,
        );
        let reply = call(&app, "GET", "/v1/plans/invoke", Some(&skewed), None).await;
        assert_eq!(reply.status, 201, "iat 30 s ahead: {}", reply.text());

        let mut wrong_issuer = claims("alice", "partner", now, now + 600);
        wrong_issuer.iss = "urn:someone-else".into();
        let payload =
            url64(&serde_json::to_vec(&claims("alice", "admin", now, now + 600)).expect("json"));
        let parts: Vec<&str> = valid.split('.').collect();
        let mut flipped = parts[2].to_string();
        let last = flipped.pop().expect("signature");
        flipped.push(if last == 'A' { 'B' } else { 'A' });
        let cases = [
            (
                "expired",
                forge(
                    &claims("alice", "partner", now - 1000, now - 1),
                    TOKEN_SECRET,
                ),
            ),
            (
                "lives too long",
                forge(&claims("alice", "partner", now, now + 3600), TOKEN_SECRET),
            ),
            (
                "issued in the future, beyond the clock-skew leeway",
                forge(
                    &claims("alice", "partner", now + 3600, now + 3900),
                    TOKEN_SECRET,
                ),
            ),
            (
                "issued two minutes ahead",
                forge(
                    &claims("alice", "partner", now + 120, now + 600),
                    TOKEN_SECRET,
                ),
            ),
            ("wrong issuer", forge(&wrong_issuer, TOKEN_SECRET)),
            (
                "wrong key",
                forge(
                    &claims("alice", "partner", now, now + 600),
                    b"another secret of at least 32 bytes!",
                ),
            ),
            (
                "tampered payload",
                format!("{}.{payload}.{}", parts[0], parts[2]),
            ),
            (
                "tampered signature",
                format!("{}.{}.{flipped}", parts[0], parts[1]),
            ),
            (
                "alg none",
                format!("{}.{}.", url64(br#"{"alg":"none","typ":"JWT"}"#), parts[1]),
            ),
            (
                "role not the account's",
                forge(&claims("alice", "admin", now, now + 600), TOKEN_SECRET),
            ),
            (
                "unknown account",
                forge(&claims("mallory", "partner", now, now + 600), TOKEN_SECRET),
            ),
            ("garbage", "not.a.token".to_string()),
        ];
        for (what, token) in &cases {
            let reply = call(&app, "GET", "/v1/plans/invoke", Some(token), None).await;
            reply.assert_error(401, &format!("{}: {what}", db.label));
        }
        call(&app, "GET", "/v1/plans/invoke", None, None)
            .await
            .assert_error(401, "no token");
        // A token outlives nothing: removing the account ends it.
        db.store
            .add_user("carol", PASSWORD, Role::Partner)
            .expect("carol");
        let carol = login(&app, "carol", None).await;
        db.store.remove_user("carol").expect("remove carol");
        call(&app, "GET", "/v1/plans/invoke", Some(&carol), None)
            .await
            .assert_error(401, "removed account");
    }
}

#[actix_web::test]
async fn logins_are_refused_alike_and_locked_after_repeated_failures() {
    for db in backends() {
        setup(&db);
        let app = test::init_service(app(state(&db))).await;
        let attempt = |user: &'static str, password: &'static str| json!({"username": user, "password": password, "plan": null});
        let unknown = call(
            &app,
            "POST",
            "/v1/login",
            None,
            Some(attempt("nobody", "x")),
        )
        .await;
        unknown.assert_error(401, "unknown user");
        for _ in 0..node_service::lockout::LOCK_AFTER {
            let wrong = call(
                &app,
                "POST",
                "/v1/login",
                None,
                Some(attempt("alice", "wrong")),
            )
            .await;
            wrong.assert_error(401, "wrong password");
            assert_eq!(
                wrong.error_without_id(),
                unknown.error_without_id(),
                "the answer does not reveal the account"
            );
        }
        let locked = call(
            &app,
            "POST",
            "/v1/login",
            None,
            Some(attempt("alice", PASSWORD)),
        )
        .await;
        locked.assert_error(401, "locked account with the right password");
        assert_eq!(
            locked.error_without_id(),
            unknown.error_without_id(),
            "the answer does not reveal the lock"
        );
        // Others are not affected.
        login(&app, "bob", None).await;
        let reply = call(
            &app,
            "POST",
            "/v1/login",
            None,
            Some(json!({"username": "bob"})),
        )
        .await;
        reply.assert_error(400, "missing password");
    }
}

#[actix_web::test]
async fn bad_documents_are_refused_with_their_problems() {
    for db in backends() {
        setup(&db);
        let app = test::init_service(app(state(&db))).await;
        let alice = login(&app, "alice", None).await;
        let login_with =
            |plan: String| json!({"username": "alice", "password": PASSWORD, "plan": plan});

        // A plan failing the schema: 422 with every problem positioned.
        let invalid =
            r#"<Plan description="x"><Primary uuid="NOT-A-UUID" description="p"/></Plan>"#;
        let reply = call(
            &app,
            "POST",
            "/v1/login",
            None,
            Some(login_with(b64(invalid))),
        )
        .await;
        assert_eq!(reply.status, 422, "{}", reply.text());
        let body = reply.json();
        assert_eq!(body["message_code"], 1422);
        let errors = body["schema_errors"].as_array().expect("schema_errors");
        assert!(!errors.is_empty(), "{body}");
        assert!(
            errors.iter().all(|e| e["line"].as_u64() == Some(1)
                && e["column"].as_u64().is_some()
                && e["path"].as_str().is_some_and(|p| p.starts_with("/Plan"))
                && e["message"].as_str().is_some_and(|m| !m.is_empty())),
            "{body}"
        );

        // Hostile XML: entities are refused outright.
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE Plan [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Plan description="&b;"/>"#;
        let started = std::time::Instant::now();
        let reply = call(
            &app,
            "POST",
            "/v1/proposals/new",
            Some(&alice),
            Some(json!({"document": b64(bomb)})),
        )
        .await;
        assert_eq!(reply.status, 422, "{}", reply.text());
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
        let reply = call(
            &app,
            "POST",
            "/v1/proposals/new",
            Some(&alice),
            Some(json!({"document": b64(&deep)})),
        )
        .await;
        assert_eq!(reply.status, 422, "{}", reply.text());

        // Not base64, not JSON, not JSON's content type, too large.
        call(
            &app,
            "POST",
            "/v1/login",
            None,
            Some(login_with("%%%".into())),
        )
        .await
        .assert_error(400, "not base64");
        let reply = send(
            &app,
            TestRequest::post()
                .uri("/v1/login")
                .insert_header(("content-type", "application/json"))
                .set_payload("{"),
        )
        .await;
        reply.assert_error(400, "not JSON");
        let reply = send(
            &app,
            TestRequest::post()
                .uri("/v1/login")
                .insert_header(("content-type", "text/plain"))
                .set_payload("{}"),
        )
        .await;
        reply.assert_error(415, "not a JSON content type");
        let huge = "A".repeat(server_actix::plans::MAX_PLAN_JSON_BYTES + 1);
        let reply = call(
            &app,
            "POST",
            "/v1/proposals/new",
            Some(&alice),
            Some(json!({"document": huge})),
        )
        .await;
        reply.assert_error(413, "oversized plan body");
        // Nothing was created by any of it.
        assert!(db.store.plans().expect("plans").is_empty());
    }
}

#[actix_web::test]
async fn an_admin_token_loads_rsf_and_a_partner_token_does_not() {
    for db in backends() {
        setup(&db);
        let app = test::init_service(app(state(&db))).await;
        let alice = login(&app, "alice", None).await;
        let operator = login(&app, "operator", None).await;
        let colour = data("colour.rsf");
        let load = |token: &str| {
            TestRequest::post()
                .uri("/registers/colour/load-rsf")
                .insert_header(("Authorization", format!("Bearer {token}")))
                .insert_header(("content-type", "application/uk-gov-rsf"))
                .set_payload(colour.clone())
        };
        send(&app, load(&alice))
            .await
            .assert_error(401, "partner token");
        assert!(db.store.register("colour").is_err(), "nothing loaded");
        let reply = send(&app, load(&operator)).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
}

/// A Primary-only document with `extra` attributes on its document element.
fn with_attributes(extra: usize) -> String {
    let (plan, _) = primary_document(None);
    let attributes: String = (0..extra).map(|i| format!(" a{i:x}=\"\"")).collect();
    plan.to_xml()
        .replacen("<Plan ", &format!("<Plan{attributes} "), 1)
}

#[actix_web::test]
async fn hostile_documents_are_refused_by_their_limit() {
    for db in backends() {
        setup(&db);
        let app = test::init_service(app(state(&db))).await;
        let alice = login(&app, "alice", None).await;

        // 100,000 attributes on one element: roxmltree alone took seconds on this, the scan
        // refuses it at the 65th. Under the 1 MiB document limit, so the attribute limit
        // is what refuses it.
        let hostile = with_attributes(100_000);
        assert!(hostile.len() < node_service::plans::MAX_PLAN_DOCUMENT_BYTES);
        let started = std::time::Instant::now();
        let reply = call(
            &app,
            "POST",
            "/v1/plans/invoke",
            Some(&alice),
            Some(json!({"document": b64(&hostile)})),
        )
        .await;
        let took = started.elapsed();
        eprintln!("{}: 100,000 attributes refused in {took:?}", db.label);
        assert_eq!(reply.status, 422, "{}", reply.text());
        let first = &reply.json()["schema_errors"][0];
        assert_eq!(
            first["message"],
            "more than 64 attributes on one element, the limit of attributes per element",
            "{first}"
        );
        assert_eq!(
            first["line"], 2,
            "{first}: the line after the XML declaration"
        );
        // Generous: a debug build on a shared machine.
        assert!(took.as_secs() < 10, "{took:?}");

        // Over the document size limit: 413 naming it, on every route that takes documents.
        let huge = with_attributes(200_000);
        for (uri, body) in [
            ("/v1/plans/invoke", json!({"document": b64(&huge)})),
            ("/v1/proposals/new", json!({"document": b64(&huge)})),
            (
                &format!("/v1/plans/{}", Uuid::new_v4()),
                json!({"document": b64(&huge)}),
            ),
        ] {
            let reply = call(&app, "POST", uri, Some(&alice), Some(body)).await;
            reply.assert_error(413, uri);
            assert!(
                reply.json()["message_text"]
                    .as_str()
                    .unwrap_or_default()
                    .ends_with("over the limit of 1048576 bytes per plan document"),
                "{uri}: {}",
                reply.text()
            );
        }
        let reply = call(
            &app,
            "POST",
            "/v1/login",
            None,
            Some(json!({"username": "alice", "password": PASSWORD, "plan": b64(&huge)})),
        )
        .await;
        reply.assert_error(413, "login with a huge plan");
        assert!(db.store.plans().expect("plans").is_empty());
    }
}

#[actix_web::test]
async fn a_partner_holds_at_most_the_quota_of_live_plans() {
    let quota = node_service::plans::MAX_LIVE_PLANS_PER_ACCOUNT;
    for db in backends() {
        let slice = setup(&db);
        let app = test::init_service(app(state(&db))).await;
        let alice = login(&app, "alice", None).await;
        let operator = login(&app, "operator", None).await;

        // One plan proposed (so that it can be rejected later), then up to the quota.
        let first = call(&app, "GET", "/v1/plans/invoke", Some(&alice), None).await;
        let first_uuid = first.json()["plan_uuid"]
            .as_str()
            .expect("uuid")
            .to_string();
        let proposed = complete(document(&first), &[slice]);
        let reply = call(
            &app,
            "POST",
            "/v1/proposals/new",
            Some(&alice),
            Some(json!({"document": b64(&proposed.to_xml())})),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        for n in 1..quota {
            let reply = call(&app, "GET", "/v1/plans/invoke", Some(&alice), None).await;
            assert_eq!(reply.status, 201, "plan {n}: {}", reply.text());
        }

        let refused = call(&app, "GET", "/v1/plans/invoke", Some(&alice), None).await;
        refused.assert_error(409, &format!("{}: plan {}", db.label, quota + 1));
        assert_eq!(
            refused.json()["message_text"],
            format!(
                "the account 'alice' has {quota} plans that are not Rejected, the quota of \
                 {quota} live plans per account; reject a plan to invoke another"
            )
        );
        let (document, _) = primary_document(None);
        call(
            &app,
            "POST",
            "/v1/plans/invoke",
            Some(&alice),
            Some(json!({"document": b64(&document.to_xml())})),
        )
        .await
        .assert_error(409, "invoke as primary over the quota");
        let stored = db.store.plans().expect("plans").len() as u64;
        assert_eq!(stored, quota, "{}", db.label);

        // The quota is per account, and an administrator has none.
        let bob = login(&app, "bob", None).await;
        let reply = call(&app, "GET", "/v1/plans/invoke", Some(&bob), None).await;
        assert_eq!(reply.status, 201, "{}", reply.text());

        // A Rejected plan is no longer live: its place is free again.
        let reply = act(&app, &first_uuid, "reject", &operator).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let reply = call(&app, "GET", "/v1/plans/invoke", Some(&alice), None).await;
        assert_eq!(reply.status, 201, "{}", reply.text());
    }
}

/// The reply with its request ID removed and `uuid` replaced by `UUID`: what a caller can
/// compare between two probes.
fn probe_answer(reply: &Reply, uuid: &str) -> (u16, String) {
    let mut body = reply.json();
    if let Some(object) = body.as_object_mut() {
        object.remove("request_id");
    }
    (
        reply.status.as_u16(),
        body.to_string().replace(uuid, "UUID"),
    )
}

#[actix_web::test]
async fn a_stranger_probing_a_plan_uuid_learns_nothing() {
    for db in backends() {
        let slice = setup(&db);
        let app = test::init_service(app(state(&db))).await;
        let alice = login(&app, "alice", None).await;
        let bob = login(&app, "bob", None).await;
        let stub = call(&app, "GET", "/v1/plans/invoke", Some(&alice), None).await;
        let alices = stub.json()["plan_uuid"].as_str().expect("uuid").to_string();
        let completed = complete(document(&stub), &[slice]).to_xml();
        let (fragment, _) = primary_document(Some(plan_core::PlanId(
            Uuid::parse_str(&alices).expect("uuid"),
        )));
        let fragment = fragment.to_xml();
        let unknown = Uuid::new_v4().to_string();

        // Every route that names a plan: Alice's plan answers Bob as an unknown UUID does.
        let document_as = |xml: &str| {
            let xml = xml.to_string();
            let alices = alices.clone();
            move |uuid: &str| Some(json!({"document": b64(&xml.replace(&alices, uuid))}))
        };
        let login_with = {
            let (xml, alices) = (completed.clone(), alices.clone());
            move |uuid: &str| {
                let plan = b64(&xml.replace(&alices, uuid));
                Some(json!({"username": "bob", "password": PASSWORD, "plan": plan}))
            }
        };
        type Body<'a> = Box<dyn Fn(&str) -> Option<Value> + 'a>;
        let none = |_: &str| None;
        let probes: Vec<(&str, &str, Body<'_>, Option<&str>)> = vec![
            ("GET", "/v1/plans/U", Box::new(none), Some(&bob)),
            ("POST", "/v1/plans/U/approve", Box::new(none), Some(&bob)),
            ("POST", "/v1/plans/U/hold", Box::new(none), Some(&bob)),
            (
                "POST",
                "/v1/plans/U",
                Box::new(document_as(&fragment)),
                Some(&bob),
            ),
            (
                "GET",
                "/v1/plans/invoke?replaces=U",
                Box::new(none),
                Some(&bob),
            ),
            (
                "POST",
                "/v1/proposals/new",
                Box::new(document_as(&completed)),
                Some(&bob),
            ),
            ("POST", "/v1/login", Box::new(login_with), None),
        ];
        for (method, uri, body, token) in &probes {
            let mut answers = Vec::new();
            for uuid in [&alices, &unknown] {
                let uri = uri.replace('U', uuid);
                let reply = call(&app, method, &uri, *token, body(uuid)).await;
                answers.push(probe_answer(&reply, uuid));
            }
            assert_eq!(answers[0], answers[1], "{}: {method} {uri}", db.label);
            assert_eq!(
                answers[0].0, 404,
                "{}: {method} {uri}: {:?}",
                db.label, answers[0]
            );
        }

        // A taken UUID cannot be reused, but the refusal is the same whoever holds it and
        // names nothing but the UUID sent.
        let own = call(
            &app,
            "POST",
            "/v1/plans/invoke",
            Some(&bob),
            Some(json!({"document": b64(&primary_document(None).0.to_xml())})),
        )
        .await;
        let bobs = own.json()["plan_uuid"].as_str().expect("uuid").to_string();
        let mut answers = Vec::new();
        for uuid in [&alices, &bobs] {
            let id = plan_core::PlanId(Uuid::parse_str(uuid).expect("uuid"));
            let (document, _) = primary_document(Some(id));
            let reply = call(
                &app,
                "POST",
                "/v1/plans/invoke",
                Some(&bob),
                Some(json!({"document": b64(&document.to_xml())})),
            )
            .await;
            reply.assert_error(409, "a taken uuid");
            answers.push(probe_answer(&reply, uuid));
        }
        assert_eq!(answers[0], answers[1], "{}", db.label);
        assert!(!answers[0].1.contains("alice"), "{:?}", answers[0]);
    }
}

#[actix_web::test]
async fn the_operators_plan_list_comes_in_bounded_pages() {
    for db in backends() {
        setup(&db);
        let app = test::init_service(app(state(&db))).await;
        let alice = login(&app, "alice", None).await;
        let operator = login(&app, "operator", None).await;
        let mut invoked = Vec::new();
        for _ in 0..3 {
            let reply = call(&app, "GET", "/v1/plans/invoke", Some(&alice), None).await;
            invoked.push(
                reply.json()["plan_uuid"]
                    .as_str()
                    .expect("uuid")
                    .to_string(),
            );
        }
        let uri = "/v1/admin/plans?page-size=2";
        let first = call(&app, "GET", uri, Some(&operator), None).await;
        assert_eq!(first.status, 200, "{}", first.text());
        assert_eq!(first.json().as_array().map(Vec::len), Some(2));
        assert_eq!(
            first.header("link"),
            "</v1/admin/plans?page-index=2&page-size=2>; rel=\"next\""
        );
        let next = "/v1/admin/plans?page-index=2&page-size=2";
        let second = call(&app, "GET", next, Some(&operator), None).await;
        assert_eq!(second.json().as_array().map(Vec::len), Some(1));
        assert_eq!(second.maybe_header("link"), None);
        let mut listed: Vec<String> = [first.json(), second.json()]
            .iter()
            .flat_map(|page| page.as_array().cloned().unwrap_or_default())
            .map(|plan| plan["plan_uuid"].as_str().unwrap_or_default().to_string())
            .collect();
        listed.sort();
        invoked.sort();
        assert_eq!(listed, invoked, "{}", db.label);

        for bad in [
            "page-size=0",
            "page-size=101",
            "page-index=0",
            "page-size=x",
        ] {
            call(
                &app,
                "GET",
                &format!("/v1/admin/plans?{bad}"),
                Some(&operator),
                None,
            )
            .await
            .assert_error(400, bad);
        }
        let far = "/v1/admin/plans?page-index=18446744073709551615&page-size=100";
        let reply = call(&app, "GET", far, Some(&operator), None).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.json().as_array().map(Vec::len), Some(0));
    }
}
