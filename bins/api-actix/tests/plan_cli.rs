//! The plan commands of the CLI, run as the built binary: the operator's (on the local
//! store, as the respondent) and the initiator's `remote plan …` against a real server on
//! loopback. Both flows of plans.md §3 end to end, refusals, and what each leaves behind.

mod cli_support;
mod common;

use actix_web::dev::ServerHandle;
use cli_support::bin;
use plan_core::{Plan, PlanId, PlanStatus, Subscription};
use register_core::Mode;
use server_actix::AppState;
use store_diesel::store::Store;
use store_diesel::testing::{sqlite, TestDb};
use uuid::Uuid;

/// Runs the binary; returns (exit code, stdout, stderr).
fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    cli_support::output(bin().args(args).env_remove("DATABASE_URL"), stdin)
}

/// Runs the binary on the database `db`; returns (exit code, stdout, stderr).
fn run_on(db: &TestDb, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut all = args.to_vec();
    all.extend(["--database-url", db.url.as_str()]);
    run(&all, stdin)
}

/// Runs a command that must succeed and print one JSON line; returns it.
fn ok_json(db: &TestDb, args: &[&str], stdin: &str) -> serde_json::Value {
    let (code, out, err) = run_on(db, args, stdin);
    assert_eq!(code, 0, "{} {args:?}: {err}", db.label);
    assert_eq!(out.lines().count(), 1, "{args:?}: {out}");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
}

/// Runs a command that must fail with exit 1; returns its stderr.
fn refused(db: &TestDb, args: &[&str], stdin: &str) -> String {
    let (code, out, err) = run_on(db, args, stdin);
    assert_eq!(code, 1, "{} {args:?}: {out} {err}", db.label);
    assert!(out.is_empty(), "{args:?}: {out}");
    err
}

/// A plan API server on loopback over `store`, stopped when dropped.
struct Server {
    url: String,
    handle: ServerHandle,
}

impl Drop for Server {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
    }
}

fn serve(store: Store) -> Server {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let state = AppState::new(store, common::DOMAIN, common::tokens());
            let server = actix_web::HttpServer::new(move || server_actix::app(state.clone()))
                .workers(1)
                .bind(("127.0.0.1", 0))
                .expect("bind a loopback port");
            let port = server.addrs()[0].port();
            let server = server.run();
            tx.send((port, server.handle())).expect("report the port");
            server.await
        })
    });
    let (port, handle) = rx.recv().expect("the server started");
    Server {
        url: format!("http://127.0.0.1:{port}"),
        handle,
    }
}

fn plan_id(value: &serde_json::Value) -> PlanId {
    PlanId(Uuid::parse_str(value.as_str().expect("a plan uuid")).expect("uuid"))
}

fn status(db: &TestDb, id: PlanId) -> PlanStatus {
    db.store
        .plan(id)
        .expect("read")
        .expect("the plan exists")
        .record
        .status()
}

/// `remote plan ARGS… --remote URL --username bob --password-stdin` for `server`.
fn remote_plan<'a>(server: &'a Server, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["remote", "plan"];
    all.extend(args);
    all.extend([
        "--remote",
        server.url.as_str(),
        "--username",
        "bob",
        "--password-stdin",
    ]);
    all
}

/// A primary's server: `country` loaded and offered, and the partner `bob`.
fn primary_with_offer(db: &TestDb) -> Uuid {
    db.store
        .load_rsf(
            "country",
            &common::data("country-data.rsf")[..],
            Mode::Strict,
        )
        .expect("load country");
    let offer = ok_json(
        db,
        &["register", "offer", "country", "--description", "Countries"],
        "",
    );
    assert_eq!(offer["register"], "country");
    assert_eq!(offer["description"], "Countries");
    let user = ok_json(
        db,
        &["partner", "add", "bob", "--password-stdin"],
        "bob-s3cret\n",
    );
    assert_eq!(user, serde_json::json!({"user": "bob", "role": "partner"}));
    Uuid::parse_str(offer["slice_uuid"].as_str().expect("slice uuid")).expect("uuid")
}

#[test]
fn secondary_initiator_requests_and_the_primary_reviews() {
    for primary in common::backends() {
        let label = primary.label;
        let slice = primary_with_offer(&primary);
        let node = ok_json(&primary, &["node", "show"], "");
        assert_eq!(
            node["offers"][0]["slice_uuid"],
            slice.to_string(),
            "{label}"
        );
        let server = serve(primary.store.clone());

        // The secondary's side: its identity, then the request.
        let local = sqlite();
        let identity = ok_json(
            &local,
            &[
                "node",
                "set",
                "--description",
                "Receiving node",
                "--email",
                "ops@receiver.example",
            ],
            "",
        );
        assert_eq!(identity["description"], "Receiving node");
        assert_eq!(identity["admin_email"], "ops@receiver.example");
        let request = remote_plan(&server, &["request", "--register", "country"]);
        let requested = ok_json(&local, &request, "bob-s3cret\n");
        assert_eq!(requested["status"], "Proposed", "{label}");
        let id = plan_id(&requested["plan_uuid"]);
        assert_eq!(
            requested["subscriptions"][0]["slice_uuid"],
            slice.to_string()
        );
        assert_eq!(requested["subscriptions"][0]["register"], "country");

        // The primary holds a Proposed plan whose Secondary is the local node.
        let stored = primary.store.plan(id).expect("read").expect("stored");
        assert_eq!(stored.owner, "bob");
        assert_eq!(stored.record.status(), PlanStatus::Proposed);
        let document = stored.record.document().expect("a document");
        let secondary = document.secondary.as_ref().expect("a Secondary part");
        let local_node = local.store.node().expect("local node");
        assert_eq!(secondary.uuid, local_node.node_uuid, "{label}");
        assert_eq!(secondary.description, "Receiving node");
        let subscribed: Vec<Option<Uuid>> = document
            .communal
            .as_ref()
            .expect("a Communal part")
            .subscriptions
            .iter()
            .map(|s| s.slice_uuid)
            .collect();
        assert_eq!(subscribed, vec![Some(slice)]);
        // The local store knows the subscription for a later sync.
        let subscriptions = local.store.subscriptions().expect("subscriptions");
        assert_eq!(subscriptions.len(), 1);
        assert_eq!(subscriptions[0].plan_uuid, id);
        assert_eq!(subscriptions[0].slice_uuid, slice);
        assert_eq!(subscriptions[0].remote, server.url);
        assert_eq!(subscriptions[0].register_name, "country");

        // The primary's operators list and review it.
        let (code, out, err) = run_on(&primary, &["plan", "list"], "");
        assert_eq!(code, 0, "{err}");
        let list: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
        assert_eq!(list[0]["plan_uuid"], id.to_string());
        assert_eq!(list[0]["owner"], "bob");
        assert_eq!(list[0]["status"], "Proposed");
        let uuid = id.to_string();
        let approved = ok_json(
            &primary,
            &["plan", "approve", &uuid, "--message", "Welcome"],
            "",
        );
        assert_eq!(approved["status"], "Approved");
        assert_eq!(approved["status_message"], "Welcome");

        let show = remote_plan(&server, &["show", &uuid]);
        let (code, out, err) = run(&show, "bob-s3cret\n");
        assert_eq!(code, 0, "{label}: {err}");
        let shown: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
        assert_eq!(shown["status"], "Approved", "{label}");
        assert_eq!(shown["status_message"], "Welcome");
        assert!(shown["primary_approved_on"].is_string(), "{shown}");
        assert!(shown["secondary_approved_on"].is_null(), "{shown}");

        // Forbidden transitions: exit 1 with plan-core's reason, nothing changes.
        for action in ["approve", "reject"] {
            let err = refused(&primary, &["plan", action, &uuid], "");
            assert!(
                err.contains(&format!("cannot {action} a plan that is Approved")),
                "{err}"
            );
        }
        let err = refused(&primary, &["plan", "propose", &uuid, "/dev/null"], "");
        assert!(err.contains("/dev/null"), "{err}");
        assert_eq!(status(&primary, id), PlanStatus::Approved);
        let (_, out, _) = run_on(&primary, &["plan", "show", &uuid], "");
        let detail: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
        assert_eq!(
            detail["history"].as_array().map(Vec::len),
            Some(2),
            "{detail}"
        );
        assert_eq!(detail["history"][1]["by"], "respondent (primary)");
        assert!(detail["document"]
            .as_str()
            .is_some_and(|xml| xml.contains("Receiving node")));

        let held = ok_json(&primary, &["plan", "hold", &uuid], "");
        assert_eq!(held["status"], "On Hold");
        let (_, out, _) = run(&show, "bob-s3cret\n");
        assert!(out.contains("\"On Hold\""), "{out}");
    }
}

#[test]
fn remote_refusals_are_shown_and_exit_1() {
    let primary = sqlite();
    let slice = primary_with_offer(&primary);
    let server = serve(primary.store.clone());
    let local = sqlite();
    let request = |extra: &[&str], password: &str| {
        let mut args = vec!["request"];
        args.extend(extra);
        refused(&local, &remote_plan(&server, &args), password)
    };

    let err = request(&["--register", "country"], "wrong\n");
    assert!(err.contains("401"), "{err}");
    assert!(err.contains("invalid username or password"), "{err}");

    let err = request(&["--register", "nope"], "bob-s3cret\n");
    assert!(err.contains("does not offer register 'nope'"), "{err}");
    assert!(err.contains("it offers: country"), "{err}");

    let unknown = Uuid::new_v4().to_string();
    let err = request(&["--slice", &unknown], "bob-s3cret\n");
    assert!(err.contains(&format!("offers no slice {unknown}")), "{err}");
    assert!(local.store.subscriptions().expect("read").is_empty());

    let (code, _, err) = run(&remote_plan(&server, &["show", &unknown]), "bob-s3cret\n");
    assert_eq!(code, 1);
    assert!(err.contains("404") && err.contains(&unknown), "{err}");

    // A server that offers nothing has no Primary part to subscribe to.
    let bare = sqlite();
    ok_json(
        &bare,
        &["partner", "add", "bob", "--password-stdin"],
        "bob-s3cret\n",
    );
    let bare_server = serve(bare.store.clone());
    let err = refused(
        &local,
        &remote_plan(&bare_server, &["request", "--register", "country"]),
        "bob-s3cret\n",
    );
    assert!(err.contains("offers no registers"), "{err}");

    // A slice given by UUID works as well as by register name; each slice is subscribed once.
    let slice = slice.to_string();
    let args = remote_plan(
        &server,
        &["request", "--slice", &slice, "--register", "country"],
    );
    let requested = ok_json(&local, &args, "bob-s3cret\n");
    assert_eq!(
        requested["subscriptions"].as_array().map(Vec::len),
        Some(1),
        "one subscription per slice: {requested}"
    );
}

/// Logs in to `server` as `user` and invokes a plan with a Primary-only document.
fn invoke_as_primary(server: &Server, user: &str, password: &str, document: &Plan) -> PlanId {
    let mut remote = api_client::Client::new(&server.url, user, password);
    remote.login(None).expect("login");
    let body = remote.invoke_as_primary(document).expect("invoke");
    assert_eq!(body.status, "Invoked");
    plan_id(&serde_json::Value::from(body.plan_uuid))
}

#[test]
fn primary_initiator_invokes_and_the_respondent_proposes_and_approves() {
    // The respondent: this server, which receives (it offers nothing).
    let respondent = sqlite();
    let user = ok_json(
        &respondent,
        &["partner", "add", "alice", "--password-stdin"],
        "alice-s3cret\n",
    );
    assert_eq!(user["role"], "partner");
    let server = serve(respondent.store.clone());

    // The initiator: a primary with `colour` offered, which writes its Primary part.
    let owner = sqlite();
    owner
        .store
        .load_rsf("colour", &common::data("colour.rsf")[..], Mode::Strict)
        .expect("load colour");
    let offer = owner.store.offer_register("colour", None).expect("offer");
    let primary = node_service::identity::primary(
        &owner.store.node().expect("node"),
        &owner.store.offers().expect("offers"),
        owner.store.keys(),
    );
    let id = invoke_as_primary(
        &server,
        "alice",
        "alice-s3cret",
        &Plan::fragment(None, "Colours for a partner", primary),
    );
    let uuid = id.to_string();

    // The respondent's operators take the Primary part and complete it.
    let (code, xml, err) = run_on(&respondent, &["plan", "show", &uuid, "--xml"], "");
    assert_eq!(code, 0, "{err}");
    let stub = Plan::from_xml(&xml).expect("the invoked document");
    let complete = stub
        .complete(
            node_service::identity::secondary(
                &respondent.store.node().expect("node"),
                respondent.store.keys(),
            ),
            vec![Subscription {
                uuid: Uuid::new_v4(),
                slice_uuid: Some(offer.slice_uuid),
                delivery_profiles: Vec::new(),
            }],
        )
        .expect("complete");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("plan.xml");
    std::fs::write(&file, complete.to_xml()).expect("write");
    let file = file.to_str().expect("path");
    let bad = dir.path().join("bad.xml");
    std::fs::write(
        &bad,
        xml.replace("slicetype=\"register\"", "slicetype=\"pies\""),
    )
    .expect("write");
    let bad = bad.to_str().expect("path");

    // Refusals first: nothing changes.
    let err = refused(&respondent, &["plan", "propose", &uuid, bad], "");
    assert!(err.contains(&format!("{bad}:")), "{err}");
    assert!(err.contains("@slicetype"), "{err}");
    let err = refused(
        &respondent,
        &["plan", "propose", &uuid, &xml_only(dir.path(), &xml)],
        "",
    );
    assert!(err.contains("Secondary and Communal"), "{err}");
    let err = refused(&respondent, &["plan", "approve", &uuid], "");
    assert!(
        err.contains("cannot approve a plan that is Invoked"),
        "{err}"
    );
    let err = refused(
        &respondent,
        &["plan", "approve", &Uuid::new_v4().to_string()],
        "",
    );
    assert!(err.contains("no plan"), "{err}");
    assert_eq!(status(&respondent, id), PlanStatus::Invoked);

    let proposed = ok_json(&respondent, &["plan", "propose", &uuid, file], "");
    assert_eq!(proposed["status"], "Proposed");
    assert_eq!(proposed["owner"], "alice");
    let err = refused(&respondent, &["plan", "propose", &uuid, file], "");
    assert!(
        err.contains("cannot propose a plan that is Proposed"),
        "{err}"
    );

    let approved = ok_json(&respondent, &["plan", "approve", &uuid], "");
    assert_eq!(approved["status"], "Approved");
    let (_, out, _) = run_on(&respondent, &["plan", "show", &uuid], "");
    let detail: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
    assert_eq!(detail["initiator_role"], "primary");
    assert!(detail["secondary_approved_on"].is_string(), "{detail}");
    assert_eq!(detail["history"][0]["by"], "respondent (secondary)");

    let err = refused(&respondent, &["plan", "reject", &uuid], "");
    assert!(
        err.contains("cannot reject a plan that is Approved"),
        "{err}"
    );
    assert_eq!(status(&respondent, id), PlanStatus::Approved);
}

/// Writes the Primary-only `xml` to a file and returns its path.
fn xml_only(dir: &std::path::Path, xml: &str) -> String {
    let path = dir.join("primary-only.xml");
    std::fs::write(&path, xml).expect("write");
    path.to_string_lossy().into_owned()
}

#[test]
fn offers_and_node_details() {
    let db = sqlite();
    let err = refused(&db, &["register", "offer", "country"], "");
    assert!(err.contains("register 'country' not found"), "{err}");
    let err = refused(&db, &["register", "unoffer", "country"], "");
    assert!(err.contains("not offered"), "{err}");
    db.store
        .load_rsf(
            "country",
            &common::data("country-data.rsf")[..],
            Mode::Strict,
        )
        .expect("load");
    let first = ok_json(&db, &["register", "offer", "country"], "");
    assert_eq!(first["description"], "country");
    let again = ok_json(
        &db,
        &["register", "offer", "country", "--description", "All"],
        "",
    );
    assert_eq!(again["slice_uuid"], first["slice_uuid"], "the slice stays");
    assert_eq!(again["description"], "All");
    let gone = ok_json(&db, &["register", "unoffer", "country"], "");
    assert_eq!(
        gone,
        serde_json::json!({"register": "country", "offered": false})
    );
    assert!(db.store.offers().expect("offers").is_empty());

    let before = ok_json(&db, &["node", "show"], "");
    let set = ok_json(&db, &["node", "set", "--contact", "Ops team"], "");
    assert_eq!(
        set["node_uuid"], before["node_uuid"],
        "the UUIDs never change"
    );
    assert_eq!(set["admin_contact"], "Ops team");
    let cleared = ok_json(&db, &["node", "set", "--contact", ""], "");
    assert!(cleared["admin_contact"].is_null(), "{cleared}");
    let err = refused(&db, &["node", "set", "--description", " "], "");
    assert!(err.contains("must not be empty"), "{err}");

    // Values the plan schema would refuse are refused before anything is stored, so stubs
    // stay valid.
    let err = refused(&db, &["node", "set", "--email", "not an email"], "");
    assert!(err.contains("/@email"), "{err}");
    let long = "x".repeat(256);
    let err = refused(&db, &["node", "set", "--description", &long], "");
    assert!(err.contains("nothing changed"), "{err}");
    let err = refused(
        &db,
        &["register", "offer", "country", "--description", &long],
        "",
    );
    assert!(err.contains("/Slice"), "{err}");
    assert_eq!(
        ok_json(&db, &["node", "show"], ""),
        cleared,
        "nothing changed"
    );

    let err = refused(&db, &["partner", "add", "carol", "--password-stdin"], "\n");
    assert!(err.contains("password"), "{err}");
}

#[test]
fn every_plan_command_has_help() {
    for args in [
        &["partner", "add", "--help"][..],
        &["register", "offer", "--help"],
        &["register", "unoffer", "--help"],
        &["node", "show", "--help"],
        &["node", "set", "--help"],
        &["plan", "list", "--help"],
        &["plan", "show", "--help"],
        &["plan", "propose", "--help"],
        &["plan", "approve", "--help"],
        &["plan", "reject", "--help"],
        &["plan", "hold", "--help"],
        &["remote", "plan", "request", "--help"],
        &["remote", "plan", "show", "--help"],
    ] {
        let (code, out, err) = run(args, "");
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(out.contains("Usage:"), "{args:?}: {out}");
    }
    // `remote plan request` needs something to subscribe to.
    let (code, _, err) = run(
        &[
            "remote",
            "plan",
            "request",
            "--remote",
            "http://127.0.0.1:9",
            "--username",
            "u",
            "--password-stdin",
        ],
        "",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--register"), "{err}");
}
