//! Sync end to end (sync.md): two real servers on loopback, each with its own database; a plan
//! negotiated over HTTP; `api-actix sync pull|push|status` run as the operator would. Covers
//! full copy, incremental sync, push, divergence (a rewritten primary at the same address),
//! an interrupted multi-chunk sync, and a plan put On Hold.

mod cli_support;
mod common;
mod plan_support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use api_client::Client;
use cli_support::bin;
use common::{data, LoopbackServer as Server};
use plan_core::{Plan, PlanId, Subscription};
use plan_support::{b64, decode, negotiate, primary_store, PASSWORD};
use register_core::{Digest, Item, Mode};
use register_sync::Remote as _;
use serde_json::{json, Value};
use store_diesel::accounts::Role;
use store_diesel::store::Store;
use uuid::Uuid;

/// A user entry for `country` appended after what is there.
fn country_entry(key: &str, name: &str) -> String {
    let item = Item::parse(&format!(r#"{{"country":"{key}","name":"{name}"}}"#)).expect("item");
    format!(
        "add-item\t{}\nappend-entry\tuser\t{key}\t2026-11-21T00:00:00Z\t{}\n",
        item.canonical_json(),
        item.hash()
    )
}

fn append_countries(store: &Store, prefix: &str, count: usize) {
    let rsf: String = (0..count)
        .map(|i| country_entry(&format!("{prefix}{i}"), &format!("Land {prefix}{i}")))
        .collect();
    store
        .load_rsf("country", rsf.as_bytes(), Mode::Relaxed)
        .expect("append countries");
}

/// Runs `api-actix args… --database-url db` with `stdin`; (exit code, stdout, stderr).
fn cli(args: &[&str], db: &Path, stdin: &str) -> (i32, String, String) {
    cli_support::output(bin().args(args).arg("--database-url").arg(db), stdin)
}

fn sync(verb: &str, remote: &str, plan: PlanId, db: &Path, chunk: u64) -> (i32, String, String) {
    sync_with(verb, remote, plan, db, chunk, &[])
}

/// [`sync`] with more options.
fn sync_with(
    verb: &str,
    remote: &str,
    plan: PlanId,
    db: &Path,
    chunk: u64,
    more: &[&str],
) -> (i32, String, String) {
    let plan = plan.to_string();
    let chunk = chunk.to_string();
    let mut args = vec![
        "sync",
        verb,
        "--remote",
        remote,
        "--username",
        "acme",
        "--password-stdin",
        "--plan",
        &plan,
        "--chunk-entries",
        &chunk,
        "--evidence-dir",
        db.parent().and_then(Path::to_str).expect("a directory"),
    ];
    args.extend_from_slice(more);
    cli(&args, db, &format!("{PASSWORD}\n"))
}

fn summary(store: &Store, name: &str) -> (u64, Digest) {
    let s = store.register(name).expect("summary");
    (s.total_entries, s.root)
}

fn secondary_db(dir: &tempfile::TempDir) -> (PathBuf, Store) {
    let path = dir.path().join("secondary.sqlite");
    let store = Store::open(path.to_str().expect("UTF-8 path")).expect("open the secondary");
    (path, store)
}

#[test]
fn pull_copies_then_follows_the_primary_and_the_mirror_is_served_read_only() {
    for db in common::backends() {
        primary_store(&db);
        let primary = Server::start(db.store.clone());
        let (plan, slice) = negotiate(&primary);
        let dir = tempfile::tempdir().expect("temp dir");
        let (path, secondary) = secondary_db(&dir);
        let mirror_server = Server::start(secondary.clone());

        // Full copy, in chunks of 50 entries.
        let (code, out, err) = sync("pull", &primary.url(), plan, &path, 50);
        assert_eq!(code, 0, "{}: {out}{err}", db.label);
        let line: Value = serde_json::from_str(out.trim()).expect("one JSON line");
        let (size, root) = summary(&db.store, "country");
        assert_eq!(size, 208);
        assert_eq!(line["total-entries"], 208);
        assert_eq!(line["entries-added"], 208);
        assert_eq!(line["root-hash"], root.to_string());
        assert_eq!(line["slice_uuid"], slice.to_string());
        assert_eq!(summary(&secondary, "country"), (size, root));
        // The mirror keeps the primary's metadata and records.
        let gb = secondary.record("country", "GB").expect("GB");
        assert_eq!(
            gb,
            db.store.record("country", "GB").expect("GB on the primary")
        );

        // Served by the secondary's read API, and marked as a mirror.
        let served: Value = ureq::get(&format!(
            "{}/registers/country/register",
            mirror_server.url()
        ))
        .call()
        .expect("GET register")
        .body_mut()
        .read_json_value();
        assert_eq!(served["total-entries"], 208, "{served}");
        let proof: Value = ureq::get(&format!(
            "{}/registers/country/proof/register/merkle:sha-256",
            mirror_server.url()
        ))
        .call()
        .expect("GET the register proof")
        .body_mut()
        .read_json_value();
        assert_eq!(proof["root-hash"], root.to_string(), "{proof}");
        // Local loads are refused (409 over HTTP, exit 1 on the CLI), nothing changes.
        let (code, _, err) = cli(
            &["load", "country", &data_path("country-data.rsf")],
            &path,
            "",
        );
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("mirror"), "{err}");

        // In sync: nothing to do.
        let (code, out, _) = sync("pull", &primary.url(), plan, &path, 50);
        assert_eq!(code, 0);
        assert_eq!(
            serde_json::from_str::<Value>(out.trim()).expect("JSON")["entries-added"],
            0
        );

        // The primary grows; the next run applies only the delta.
        append_countries(&db.store, "Z", 30);
        let (code, out, err) = sync("pull", &primary.url(), plan, &path, 50);
        assert_eq!(code, 0, "{err}");
        let line: Value = serde_json::from_str(out.trim()).expect("JSON");
        assert_eq!(line["entries-added"], 30);
        assert_eq!(
            summary(&secondary, "country"),
            summary(&db.store, "country")
        );

        // A removal (an entry with no items) is a delta like any other.
        db.store
            .load_rsf(
                "country",
                &b"append-entry\tuser\tGB\t2026-11-22T00:00:00Z\t\n"[..],
                Mode::Strict,
            )
            .expect("remove GB");
        let (code, out, err) = sync("pull", &primary.url(), plan, &path, 50);
        assert_eq!(code, 0, "{err}");
        let line: Value = serde_json::from_str(out.trim()).expect("JSON");
        assert_eq!(line["entries-added"], 1);
        assert_eq!(
            summary(&secondary, "country"),
            summary(&db.store, "country")
        );
        assert_eq!(secondary.record("country", "GB").expect("read"), None);
        assert_eq!(
            secondary.register("country").expect("mirror").total_records,
            db.store.register("country").expect("primary").total_records
        );

        // Status shows the subscription's last success.
        let (code, out, _) = cli(&["sync", "status"], &path, "");
        assert_eq!(code, 0);
        let status: Value = serde_json::from_str(out.trim()).expect("one JSON line");
        assert_eq!(status["total-entries"], 239);
        assert_eq!(status["register"], "country");
        assert_eq!(status["last_error"], Value::Null);
        assert!(status["last_success"].is_string(), "{status}");
        assert_eq!(status["entries_behind"], 0, "{status}");
        mirror_server.stop();
        primary.stop();
    }
}

fn data_path(name: &str) -> String {
    format!(
        "{}/../../crates/register-core/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

trait ReadJson {
    fn read_json_value(&mut self) -> Value;
}

impl ReadJson for ureq::Body {
    fn read_json_value(&mut self) -> Value {
        serde_json::from_str(&self.read_to_string().expect("body")).expect("JSON")
    }
}

#[test]
fn a_rewritten_primary_is_refused_and_the_mirror_stays() {
    let db = common::backends().remove(0);
    primary_store(&db);
    let primary = Server::start(db.store.clone());
    let (plan, _) = negotiate(&primary);
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, secondary) = secondary_db(&dir);
    assert_eq!(sync("pull", &primary.url(), plan, &path, 1000).0, 0);
    let before = summary(&secondary, "country");

    // Another primary at the same address: the same accounts and plan, but a history that
    // differs from entry 101 on (and is longer).
    let port = primary.port;
    let url = primary.url();
    primary.stop();
    let other = store_diesel::testing::another(&db);
    let mut prefix = Vec::new();
    db.store
        .export_rsf("country", 0, Some(100), &mut prefix)
        .expect("export 100 entries");
    other
        .store
        .load_rsf("country", &prefix[..], Mode::Strict)
        .expect("load the prefix");
    append_countries(&other.store, "Q", 150);
    other
        .store
        .add_user("acme", PASSWORD, Role::Partner)
        .expect("acme");
    let stored = db.store.plan(plan).expect("read").expect("plan");
    other
        .store
        .create_plan(&stored.record, "acme", None)
        .expect("the same plan");
    let rewritten = Server::start_on(other.store.clone(), port);

    let (code, out, err) = sync("pull", &url, plan, &path, 1000);
    assert_eq!(code, 2, "divergence exits 2: {out}{err}");
    assert!(err.contains("divergence"), "{err}");
    assert_eq!(
        summary(&secondary, "country"),
        before,
        "the mirror is unchanged"
    );
    let (_, status, _) = cli(&["sync", "status"], &path, "");
    assert!(
        status.contains("divergence"),
        "the error is recorded: {status}"
    );
    rewritten.stop();
}

/// A TCP relay to `target` that stops relaying (and closes both sides) once it has passed
/// `budget` bytes from the server to the client.
fn cutting_relay(target: u16, budget: usize) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the relay");
    let port = listener.local_addr().expect("address").port();
    let passed = Arc::new(AtomicUsize::new(0));
    let counter = passed.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { break };
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                break;
            };
            let (mut client_read, mut server_write) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut client_read, &mut server_write);
            });
            let counter = counter.clone();
            std::thread::spawn(move || {
                let (mut server, mut client) = (server, client);
                let mut buffer = [0u8; 4096];
                while let Ok(n @ 1..) = server.read(&mut buffer) {
                    let allowed = budget.saturating_sub(counter.load(Ordering::SeqCst)).min(n);
                    if allowed > 0 && client.write_all(&buffer[..allowed]).is_err() {
                        break;
                    }
                    counter.fetch_add(allowed, Ordering::SeqCst);
                    if allowed < n {
                        break;
                    }
                }
                let _ = client.shutdown(Shutdown::Both);
                let _ = server.shutdown(Shutdown::Both);
            });
        }
    });
    (port, passed)
}

#[test]
fn an_interrupted_sync_stops_at_a_verified_chunk_and_the_next_run_completes() {
    let db = common::backends().remove(0);
    primary_store(&db);
    let primary = Server::start(db.store.clone());
    let (plan, _) = negotiate(&primary);

    // Measure what a whole run through the relay passes, then cut a run halfway.
    let dir = tempfile::tempdir().expect("temp dir");
    let (whole, _) = secondary_db(&dir);
    let (port, passed) = cutting_relay(primary.port, usize::MAX);
    assert_eq!(
        sync(
            "pull",
            &format!("http://127.0.0.1:{port}"),
            plan,
            &whole,
            20
        )
        .0,
        0
    );
    let total = passed.load(Ordering::SeqCst);

    let dir = tempfile::tempdir().expect("temp dir");
    let (path, secondary) = secondary_db(&dir);
    let (port, _) = cutting_relay(primary.port, total / 2);
    let (code, out, err) = sync("pull", &format!("http://127.0.0.1:{port}"), plan, &path, 20);
    assert_eq!(code, 1, "an interrupted run is an error: {out}{err}");
    let (size, root) = summary(&secondary, "country");
    assert!(size > 0 && size < 208, "stopped partway: {size}");
    assert_eq!(size % 20, 0, "at a chunk boundary: {size}");
    assert_eq!(
        root,
        db.store.root_at("country", size).expect("root"),
        "a verified prefix"
    );

    let (code, _, err) = sync("pull", &primary.url(), plan, &path, 20);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        summary(&secondary, "country"),
        summary(&db.store, "country")
    );
    primary.stop();
}

/// The length of the ranged dump `from..to` of `country`.
fn delta_bytes(store: &Store, from: u64, to: u64) -> usize {
    let mut out = Vec::new();
    store
        .export_rsf("country", from, Some(to), &mut out)
        .expect("export");
    out.len()
}

#[test]
fn a_delta_over_the_byte_bound_is_asked_again_smaller_and_one_entry_over_it_fails() {
    for db in common::backends() {
        let l = db.label;
        primary_store(&db);
        let primary = Server::start(db.store.clone());
        let (plan, _) = negotiate(&primary);
        let dir = tempfile::tempdir().expect("temp dir");
        let (path, secondary) = secondary_db(&dir);

        // Room for the first 4 entries (with the system log), not for a chunk of 50.
        let bound = delta_bytes(&db.store, 0, 4);
        assert!(delta_bytes(&db.store, 0, 50) > bound, "{l}");
        let bound = bound.to_string();
        let (code, out, err) = sync_with(
            "pull",
            &primary.url(),
            plan,
            &path,
            50,
            &["--max-delta-bytes", &bound],
        );
        assert_eq!(code, 0, "{l}: {out}{err}");
        assert_eq!(
            summary(&secondary, "country"),
            summary(&db.store, "country"),
            "{l}: the whole log, in smaller chunks"
        );

        // One new entry is longer than 100 bytes: refused, naming the bound; nothing applied.
        append_countries(&db.store, "Z", 3);
        let before = summary(&secondary, "country");
        let (code, out, err) = sync_with(
            "pull",
            &primary.url(),
            plan,
            &path,
            50,
            &["--max-delta-bytes", "100"],
        );
        assert_eq!(code, 1, "{l}: {out}{err}");
        assert!(
            err.contains("from entry 209 is longer than the bound of 100 bytes"),
            "{l}: {err}"
        );
        assert_eq!(summary(&secondary, "country"), before, "{l}: unchanged");
        let (_, status, _) = cli(&["sync", "status"], &path, "");
        assert!(status.contains("the bound of 100 bytes"), "{l}: {status}");
        primary.stop();
    }
}

#[test]
fn a_held_plan_stops_sync_until_both_partners_approve_again() {
    let db = common::backends().remove(0);
    primary_store(&db);
    let primary = Server::start(db.store.clone());
    let (plan, _) = negotiate(&primary);
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, secondary) = secondary_db(&dir);
    assert_eq!(sync("pull", &primary.url(), plan, &path, 1000).0, 0);

    let mut operator = Client::new(&primary.url(), "operator", PASSWORD);
    operator.login(None).expect("operator");
    operator
        .post_json::<Value>(
            &format!("/v1/plans/{plan}/hold"),
            &json!({"status_message": "Contract renewal"}),
        )
        .expect("hold");
    append_countries(&db.store, "H", 5);
    let (code, _, err) = sync("pull", &primary.url(), plan, &path, 1000);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("403") && err.contains("On Hold") && err.contains("Contract renewal"),
        "{err}"
    );
    assert_eq!(
        summary(&secondary, "country").0,
        208,
        "nothing pulled while held"
    );

    let mut acme = Client::new(&primary.url(), "acme", PASSWORD);
    acme.login(None).expect("acme");
    operator
        .post_json::<Value>(&format!("/v1/plans/{plan}/approve"), &json!({}))
        .expect("first approval");
    acme.post_json::<Value>(&format!("/v1/plans/{plan}/approve"), &json!({}))
        .expect("second approval");
    let (code, _, err) = sync("pull", &primary.url(), plan, &path, 1000);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        summary(&secondary, "country"),
        summary(&db.store, "country")
    );
    primary.stop();
}

#[test]
fn a_primary_initiator_pushes_to_the_secondary_mirror() {
    for db in common::backends() {
        // The secondary server (respondent) holds the mirror; the primary (initiator) runs
        // `sync push` against it with its own database.
        let secondary = &db;
        secondary
            .store
            .add_user("acme", PASSWORD, Role::Partner)
            .expect("acme");
        secondary
            .store
            .add_user("operator", PASSWORD, Role::Admin)
            .expect("operator");
        let server = Server::start(secondary.store.clone());

        let dir = tempfile::tempdir().expect("temp dir");
        let primary_path = dir.path().join("primary.sqlite");
        // It signs its checkpoints (as the CLI will, with the test keys under their origin).
        let primary = Store::open(primary_path.to_str().expect("UTF-8"))
            .expect("primary")
            .with_keys(store_diesel::testing::keys());
        primary
            .set_origin(store_diesel::testing::ORIGIN)
            .expect("origin");
        primary
            .load_rsf("country", &data("country-data.rsf")[..], Mode::Strict)
            .expect("load");
        let offer = primary.offer_register("country", None).expect("offer");
        let primary_node = primary.node().expect("node");

        // acme (the primary) invokes with its Primary-only document; the respondent completes
        // and proposes it, then approves.
        let mut acme = Client::new(&server.url(), "acme", PASSWORD);
        acme.login(None).expect("login");
        let document = Plan::fragment(
            None,
            "Countries for the secondary",
            node_service::identity::primary(
                &primary_node,
                std::slice::from_ref(&offer),
                primary.keys(),
            ),
        );
        let invoked = acme
            .post_json::<Value>("/v1/plans/invoke", &json!({"document": b64(&document)}))
            .expect("invoke");
        let stub = decode(&invoked);
        let id = stub.uuid.expect("uuid");
        let completed = stub
            .complete(
                node_service::identity::secondary(
                    &secondary.store.node().expect("node"),
                    secondary.store.keys(),
                ),
                vec![Subscription {
                    uuid: Uuid::new_v4(),
                    slice_uuid: Some(offer.slice_uuid),
                    delivery_profiles: Vec::new(),
                }],
            )
            .expect("complete");
        let mut operator = Client::new(&server.url(), "operator", PASSWORD);
        operator.login(None).expect("login");
        operator
            .post_json::<Value>("/v1/proposals/new", &json!({"document": b64(&completed)}))
            .expect("propose");
        operator
            .post_json::<Value>(&format!("/v1/plans/{id}/approve"), &json!({}))
            .expect("approve");

        let (code, out, err) = sync("push", &server.url(), id, &primary_path, 64);
        assert_eq!(code, 0, "{}: {out}{err}", db.label);
        assert_eq!(
            summary(&secondary.store, "country"),
            summary(&primary, "country")
        );
        let mirror = secondary.store.register("country").expect("mirror");
        assert!(
            mirror.mirror_of.is_some(),
            "{}: marked as a mirror",
            db.label
        );

        append_countries(&primary, "P", 10);
        let (code, out, err) = sync("push", &server.url(), id, &primary_path, 64);
        assert_eq!(code, 0, "{out}{err}");
        let line: Value = serde_json::from_str(out.trim()).expect("JSON");
        assert_eq!(line["entries-added"], 10);
        assert_eq!(
            summary(&secondary.store, "country"),
            summary(&primary, "country")
        );
        // The secondary cosigned the checkpoint it accepted; the primary read the line back
        // from the mirror's checkpoint, checked it with the plan's cosigner key, and serves it.
        let mirror_key = secondary
            .store
            .keys()
            .expect("the secondary's keys")
            .cosigner_key("mirror")
            .expect("key");
        let cosignature = line["cosignature"].as_str().expect("the mirror cosigned");
        assert!(
            cosignature.starts_with(&format!("— {} ", mirror_key.name())),
            "{}: {cosignature}",
            db.label
        );
        let served = primary
            .checkpoint(&store_diesel::queries::Source::register("country"), None)
            .expect("read")
            .expect("signed");
        assert!(served.ends_with(cosignature), "{}: {served}", db.label);
        // A push records its outcome like a pull, on both sides of the plan.
        let (size, root) = summary(&primary, "country");
        // The push carried the primary's signed checkpoint: the secondary verified it with
        // the key its plan pins and accepted it, since its mirror holds it exactly.
        let note = line["checkpoint"].as_str().expect("the checkpoint pushed");
        let accepted = secondary
            .store
            .accepted_mirror_checkpoint(id, offer.slice_uuid, None)
            .expect("read")
            .expect("accepted");
        assert_eq!((accepted.size, accepted.root), (size, root), "{}", db.label);
        assert_eq!(accepted.note, note, "{}", db.label);
        for (side, store) in [("primary", &primary), ("secondary", &secondary.store)] {
            let recorded = store
                .subscription(id, offer.slice_uuid)
                .expect("subscription")
                .unwrap_or_else(|| panic!("{}: the {side} recorded the push", db.label));
            assert_eq!(
                (recorded.last_size, recorded.last_root),
                (size, Some(root)),
                "{}: {side}",
                db.label
            );
            assert!(recorded.last_success.is_some(), "{}: {side}", db.label);
            assert_eq!(recorded.last_error, None, "{}: {side}", db.label);
            // The pusher saw its own log's size: the mirror is not behind.
            if side == "primary" {
                assert_eq!(recorded.primary_size, Some(size), "{}", db.label);
                assert_eq!(recorded.entries_behind(), 0, "{}", db.label);
            }
        }

        // Bad pushes change nothing: a delta from another history (409), one that is cut
        // short (400), one with a broken line (400, naming it).
        let before = summary(&secondary.store, "country");
        let mut pusher = Client::new(&server.url(), "acme", PASSWORD);
        pusher.login_for_plan(id).expect("sync token");
        let root = before.1;
        let next = country_entry("XX", "Nowhere");
        let cases = [
            (
                format!(
                    "assert-root-hash\t{}\n{next}",
                    Digest::from_hex(&"0".repeat(64)).expect("hex")
                ),
                "409",
            ),
            (format!("assert-root-hash\t{root}\n{next}"), "400"),
            (
                format!(
                    "assert-root-hash\t{root}\nadd-item\t{{not json}}\nassert-root-hash\t{root}\n"
                ),
                "line 2",
            ),
        ];
        // A push without the checkpoint, or with one another key signed (422).
        let forged = tlog_core::Checkpoint {
            origin: "registers.test/registers/country".into(),
            size: before.0,
            root,
        }
        .sign(
            &tlog_core::PrivateKey::from_seed(
                "registers.test/registers/country",
                tlog_core::note::ED25519,
                [42; 32],
            )
            .expect("another key"),
        )
        .expect("sign");
        let empty = format!("assert-root-hash\t{root}\n");
        let unsigned = [
            (None, "must carry the primary's signed checkpoint"),
            (Some(forged.as_str()), "does not verify with the pinned key"),
        ];
        for (checkpoint, expected) in unsigned {
            let refused =
                pusher.push_delta(offer.slice_uuid, empty.clone().into_bytes(), checkpoint);
            let message = refused.expect_err("refused").to_string();
            assert!(
                message.contains("422") && message.contains(expected),
                "{message}"
            );
        }
        for (delta, expected) in cases {
            let refused = pusher.push_delta(offer.slice_uuid, delta.into_bytes(), Some(note));
            let message = refused.expect_err("refused").to_string();
            assert!(message.contains(expected), "{}: {message}", db.label);
            assert_eq!(summary(&secondary.store, "country"), before, "{message}");
            let recorded = secondary
                .store
                .subscription(id, offer.slice_uuid)
                .expect("subscription")
                .expect("recorded");
            // The refusal is recorded as the pusher was told it.
            let error = recorded.last_error.expect("the refusal is recorded");
            assert!(
                message.contains(&error),
                "{}: {error} / {message}",
                db.label
            );
        }
        server.stop();
    }
}
