//! Verifying mirrors end to end (checkpoints.md §6, issue #14 items 3–5): two real servers on
//! loopback; the plan carries the primary's checkpoint key and the secondary's cosigner key,
//! both pinned; `sync pull` verifies the primary's signed checkpoint and the mirror serves it;
//! a primary that rewrites history is caught with evidence that `rsf evidence verify` checks
//! offline; a checkpoint signed by another key is refused; tampered evidence is refused.

mod cli_support;
mod common;
mod plan_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use cli_support::bin;
use common::LoopbackServer as Server;
use plan_core::PlanId;
use plan_support::{primary_store, PASSWORD};
use register_core::{Digest, Item, Mode};
use serde_json::Value;
use store_diesel::accounts::Role;
use store_diesel::store::{NodeKeys, Store};
use uuid::Uuid;

/// The secondary-initiator flow over HTTP, the secondary naming its mirror cosigner key.
fn negotiate(primary: &Server) -> (PlanId, Uuid) {
    plan_support::negotiate_with(primary, Some(&store_diesel::testing::keys()))
}

fn cli(args: &[&str], db: &Path, stdin: &str) -> (i32, String, String) {
    cli_support::output(bin().args(args).arg("--database-url").arg(db), stdin)
}

fn pull(remote: &str, plan: PlanId, db: &Path, evidence: &Path) -> (i32, String, String) {
    // The secondary's document names the test keys' mirror cosigner (`registers.test/mirror`):
    // its cosignatures must carry that name.
    let (code, _, err) = cli(&["node", "set", "--origin", "registers.test"], db, "");
    assert_eq!(code, 0, "{err}");
    let plan = plan.to_string();
    let evidence = evidence.to_str().expect("UTF-8 path");
    let args = [
        "sync",
        "pull",
        "--remote",
        remote,
        "--username",
        "acme",
        "--password-stdin",
        "--plan",
        &plan,
        "--chunk-entries",
        "50",
        "--evidence-dir",
        evidence,
    ];
    cli(&args, db, &format!("{PASSWORD}\n"))
}

fn summary(store: &Store, name: &str) -> (u64, Digest) {
    let s = store.register(name).expect("summary");
    (s.total_entries, s.root)
}

fn get_text(url: &str) -> String {
    ureq::get(url)
        .call()
        .expect("GET")
        .body_mut()
        .read_to_string()
        .expect("body")
}

fn append_countries(store: &Store, prefix: &str, count: usize) {
    let rsf: String = (0..count)
        .map(|i| {
            let key = format!("{prefix}{i}");
            let item = Item::parse(&format!(r#"{{"country":"{key}","name":"Land {key}"}}"#))
                .expect("item");
            format!(
                "add-item\t{}\nappend-entry\tuser\t{key}\t2026-11-21T00:00:00Z\t{}\n",
                item.canonical_json(),
                item.hash()
            )
        })
        .collect();
    store
        .load_rsf("country", rsf.as_bytes(), Mode::Relaxed)
        .expect("append countries");
}

/// The `rsf` binary, built (or found up to date) first: a test run of this package alone
/// would otherwise find an older one, or none.
fn rsf() -> Command {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        let built = Command::new(env!("CARGO"))
            .args(["build", "-p", "rsf", "--bin", "rsf"])
            .status()
            .expect("cargo build -p rsf");
        assert!(built.success(), "building rsf");
    });
    let dir = std::env::current_exe()
        .expect("test binary")
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf();
    Command::new(dir.join("rsf"))
}

fn verify_evidence(file: &Path, key: &str) -> (i32, String, String) {
    cli_support::output(
        rsf()
            .args(["evidence", "verify"])
            .arg(file)
            .args(["--key", key]),
        "",
    )
}

/// A primary at `port` with the plan and accounts of `db`'s, and `db`'s first `keep`
/// entries of `country` followed by `extra` others; signing with `keys`.
fn rewritten(
    db: &common::TestDb,
    plan: PlanId,
    port: u16,
    keep: u64,
    extra: usize,
    keys: NodeKeys,
) -> (common::TestDb, Server) {
    let other = store_diesel::testing::another(db);
    let store = other.store.clone().with_keys(keys);
    let mut prefix = Vec::new();
    db.store
        .export_rsf("country", 0, Some(keep), &mut prefix)
        .expect("export the prefix");
    store
        .load_rsf("country", &prefix[..], Mode::Strict)
        .expect("load the prefix");
    append_countries(&store, "Q", extra);
    store
        .add_user("acme", PASSWORD, Role::Partner)
        .expect("acme");
    let stored = db.store.plan(plan).expect("read").expect("plan");
    store
        .create_plan(&stored.record, "acme", None)
        .expect("the same plan");
    let server = Server::start_on(store, port);
    (other, server)
}

fn evidence_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.expect("entry").path()).collect())
        .unwrap_or_default()
}

#[test]
fn a_pull_verifies_the_checkpoint_pins_both_keys_and_the_mirror_serves_it() {
    for db in common::backends() {
        primary_store(&db);
        let primary = Server::start(db.store.clone());
        let (plan, _) = negotiate(&primary);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("secondary.sqlite");
        let evidence = dir.path().join("evidence");
        let keys = store_diesel::testing::keys();
        let checkpoint_key = keys
            .checkpoint_key("country", None)
            .expect("key")
            .to_string();
        let cosigner_key = keys.cosigner_key("mirror").expect("key").to_string();

        let (code, out, err) = pull(&primary.url(), plan, &path, &evidence);
        assert_eq!(code, 0, "{}: {out}{err}", db.label);
        let line: Value = serde_json::from_str(out.trim()).expect("one JSON line");
        let note = line["checkpoint"]
            .as_str()
            .expect("the accepted checkpoint");
        let primary_note = db
            .store
            .checkpoint(&store_diesel::queries::Source::register("country"), None)
            .expect("read")
            .expect("signed");
        // The primary's own note, which now also carries the mirror's cosignature.
        let cosignature = line["cosignature"].as_str().expect("the mirror cosigned");
        assert!(
            cosignature.starts_with("— registers.test/mirror "),
            "{cosignature}"
        );
        assert_eq!(
            primary_note,
            format!("{note}{cosignature}"),
            "{}: the primary's own note, cosigned",
            db.label
        );
        let verifier = tlog_core::VerifierKey::parse(&checkpoint_key).expect("key");
        let checkpoint = tlog_core::verify_checkpoint(note, &verifier).expect("verifies");
        assert_eq!(checkpoint.size, 208);

        // Status: the checkpoint held and both keys, pinned.
        let (_, status, _) = cli(&["sync", "status"], &path, "");
        let status: Value = serde_json::from_str(status.trim()).expect("one line");
        assert_eq!(status["checkpoint"]["total-entries"], 208, "{status}");
        assert_eq!(
            status["checkpoint"]["root-hash"],
            checkpoint.root.to_string()
        );
        assert_eq!(status["checkpoint_key"], checkpoint_key.as_str());
        assert_eq!(status["cosigner_key"], cosigner_key.as_str());
        assert_eq!(status["checkpoints_accepted"], 1);

        // A mirror never signs as a log: it serves the primary's checkpoint at its size.
        let secondary = Store::open(path.to_str().expect("UTF-8")).expect("open");
        let mirror = Server::start(secondary.clone());
        let served = get_text(&format!("{}/registers/country/checkpoint", mirror.url()));
        assert_eq!(
            served,
            format!("{note}{cosignature}"),
            "the primary's note as the mirror accepted it, with the mirror's own cosignature"
        );

        // The primary grows: the next pull verifies the new checkpoint, consistent with the
        // one accepted, and both are kept.
        append_countries(&db.store, "N", 120);
        let (code, out, err) = pull(&primary.url(), plan, &path, &evidence);
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(
            summary(&secondary, "country"),
            summary(&db.store, "country")
        );
        let (_, status, _) = cli(&["sync", "status"], &path, "");
        let status: Value = serde_json::from_str(status.trim()).expect("one line");
        assert_eq!(status["checkpoint"]["total-entries"], 328);
        assert_eq!(status["checkpoints_accepted"], 2);
        let served = get_text(&format!("{}/registers/country/checkpoint", mirror.url()));
        assert!(
            served.starts_with("registers.test/registers/country\n328\n"),
            "{served}"
        );
        let old = get_text(&format!(
            "{}/registers/country/checkpoint/208",
            mirror.url()
        ));
        assert_eq!(old, format!("{note}{cosignature}"));
        assert!(evidence_files(&evidence).is_empty());
        mirror.stop();
        primary.stop();
    }
}

#[test]
fn a_rewritten_primary_leaves_evidence_that_verifies_offline() {
    let db = common::backends().remove(0);
    primary_store(&db);
    let primary = Server::start(db.store.clone());
    let (plan, _) = negotiate(&primary);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("secondary.sqlite");
    let evidence = dir.path().join("evidence");
    assert_eq!(pull(&primary.url(), plan, &path, &evidence).0, 0);
    let secondary = Store::open(path.to_str().expect("UTF-8")).expect("open");
    let before = summary(&secondary, "country");

    // Same address, same keys, a new database whose history differs from entry 101 on.
    let (port, url) = (primary.port, primary.url());
    primary.stop();
    let (_other, server) = rewritten(&db, plan, port, 100, 150, store_diesel::testing::keys());
    let (code, out, err) = pull(&url, plan, &path, &evidence);
    assert_eq!(code, 2, "a split view exits 2: {out}{err}");
    assert!(err.contains("split view"), "{err}");
    assert_eq!(
        summary(&secondary, "country"),
        before,
        "the mirror is unchanged"
    );
    let files = evidence_files(&evidence);
    assert_eq!(files.len(), 1, "one evidence file");
    assert!(err.contains(&files[0].display().to_string()), "{err}");

    // Offline, with the log's key only.
    let key = store_diesel::testing::keys()
        .checkpoint_key("country", None)
        .expect("key")
        .to_string();
    let (code, out, err) = verify_evidence(&files[0], &key);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("evidence verified"), "{out}");

    // Tampered: a root changed in a note no longer verifies.
    let text = std::fs::read_to_string(&files[0]).expect("read");
    let json: Value = serde_json::from_str(&text).expect("JSON");
    let second = json["second"].as_str().expect("second");
    let root_line = second.lines().nth(2).expect("root line");
    let forged = text.replace(root_line, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let forged_path = dir.path().join("forged.json");
    std::fs::write(&forged_path, forged).expect("write");
    let (code, _, err) = verify_evidence(&forged_path, &key);
    assert_eq!(code, 1);
    assert!(
        err.contains("the second checkpoint does not verify"),
        "{err}"
    );
    // Another log's key.
    let other_key = store_diesel::testing::keys()
        .checkpoint_key("other", None)
        .expect("key")
        .to_string();
    let (code, _, err) = verify_evidence(&files[0], &other_key);
    assert_eq!(code, 1);
    assert!(err.contains("evidence refused"), "{err}");

    // The same size with another root is caught too (no proof needed).
    server.stop();
    let (_other, server) = rewritten(&db, plan, port, 100, 108, store_diesel::testing::keys());
    let (code, _, err) = pull(&url, plan, &path, &evidence);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("208 entries but different roots"), "{err}");
    assert_eq!(summary(&secondary, "country"), before);
    let newest = evidence_files(&evidence)
        .into_iter()
        .find(|f| f != &files[0])
        .expect("a second file");
    assert_eq!(verify_evidence(&newest, &key).0, 0);
    server.stop();
}

#[test]
fn a_checkpoint_signed_by_another_key_is_refused() {
    let db = common::backends().remove(0);
    primary_store(&db);
    let primary = Server::start(db.store.clone());
    let (plan, _) = negotiate(&primary);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("secondary.sqlite");
    let evidence = dir.path().join("evidence");
    assert_eq!(pull(&primary.url(), plan, &path, &evidence).0, 0);
    let secondary = Store::open(path.to_str().expect("UTF-8")).expect("open");
    let before = summary(&secondary, "country");

    // The same history and more, signed by another log key under the same origin.
    let (port, url) = (primary.port, primary.url());
    primary.stop();
    let mut keys = store_diesel::testing::keys();
    keys.log =
        tlog_core::PrivateKey::from_seed("log", tlog_core::note::ED25519, [42; 32]).expect("key");
    let (_other, server) = rewritten(&db, plan, port, 208, 10, keys);
    let (code, out, err) = pull(&url, plan, &path, &evidence);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("does not verify with the pinned key"),
        "a clear error: {err}"
    );
    assert_eq!(
        summary(&secondary, "country"),
        before,
        "the mirror is unchanged"
    );
    assert!(
        evidence_files(&evidence).is_empty(),
        "not evidence of anything"
    );
    let (_, status, _) = cli(&["sync", "status"], &path, "");
    assert!(
        status.contains("does not verify with the pinned key"),
        "{status}"
    );
    server.stop();
}
