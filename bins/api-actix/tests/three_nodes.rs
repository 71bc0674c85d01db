//! Three real servers on loopback (checkpoints.md §5–6): a primary, a third node witnessing
//! its log, and a secondary mirroring it under a plan that pins the primary's checkpoint
//! key and the secondary's mirror cosigner key. The primary's checkpoint ends up carrying
//! the log signature, the witness cosignature and the mirror cosignature, each verified by
//! signed_note (a verifier we did not write). A replayed old cosignature and one by a key
//! the plan did not pin are refused.

mod cli_support;
mod common;
mod plan_support;
mod tlog_support;

use std::path::Path;

use api_client::Client;
use common::{backends, LoopbackServer};
use plan_support::{negotiate_with, primary_store, PASSWORD};
use register_core::{Item, Mode};
use register_sync::Remote as _;
use serde_json::Value;
use signed_note::{Note, StandardVerifier, VerifierList};
use store_diesel::store::{NodeKeys, Store};
use tlog_core::note::{PrivateKey, COSIGNATURE_V1, ED25519};
use tlog_support::{witness, CosignatureV1};

/// The secondary's own keys and origin, distinct from the primary's and the witness's.
fn secondary_keys() -> NodeKeys {
    NodeKeys {
        origin: "mirror.test".into(),
        log: PrivateKey::from_seed("log", ED25519, [7; 32]).expect("key"),
        cosigner: PrivateKey::from_seed("cosigner", COSIGNATURE_V1, [8; 32]).expect("key"),
    }
}

/// `api-actix args… --database-url db` as the secondary's operator (its keys).
fn secondary_cli(args: &[&str], db: &Path, stdin: &str) -> (i32, String, String) {
    let keys = secondary_keys();
    cli_support::output(
        cli_support::bin()
            .args(args)
            .arg("--database-url")
            .arg(db)
            .env("LOG_KEY", keys.log.to_private_string())
            .env("COSIGNER_KEY", keys.cosigner.to_private_string()),
        stdin,
    )
}

fn pull(remote: &str, plan: &str, db: &Path) -> Value {
    let (code, out, err) = secondary_cli(
        &[
            "sync",
            "pull",
            "--remote",
            remote,
            "--username",
            "acme",
            "--password-stdin",
            "--plan",
            plan,
        ],
        db,
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code, 0, "{out}{err}");
    serde_json::from_str(out.trim()).expect("one JSON line")
}

fn get_text(url: &str) -> String {
    ureq::get(url)
        .call()
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .body_mut()
        .read_to_string()
        .expect("body")
}

fn append(store: &Store, key: &str) {
    let item = Item::parse(&format!(r#"{{"country":"{key}","name":"Land {key}"}}"#)).expect("item");
    let rsf = format!(
        "add-item\t{}\nappend-entry\tuser\t{key}\t2026-12-02T00:00:00Z\t{}\n",
        item.canonical_json(),
        item.hash()
    );
    store
        .load_rsf("country", rsf.as_bytes(), Mode::Relaxed)
        .expect("append");
}

#[test]
fn the_primary_checkpoint_carries_the_log_witness_and_mirror_signatures() {
    for (db, witness_db) in backends().into_iter().zip(backends()) {
        let l = db.label;
        primary_store(&db);
        let primary_keys = db.store.keys().expect("primary keys").clone();
        let log_key = primary_keys
            .checkpoint_key("country", None)
            .expect("key")
            .to_string();

        // The witness node, and the primary using it.
        let (witness, witness_key) = witness(&witness_db, &log_key, 0);
        let witness_url = format!("{}/witness", witness.url());
        let primary_cli = |args: &[&str]| {
            cli_support::output(
                cli_support::bin()
                    .args(args)
                    .arg("--database-url")
                    .arg(&db.url),
                "",
            )
        };
        let (code, _, err) = primary_cli(&["witness", "use", &witness_url, &witness_key]);
        assert_eq!(code, 0, "{l}: {err}");
        let (code, _, err) = primary_cli(&["witness", "submit"]);
        assert_eq!(code, 0, "{l}: {err}");
        let primary = LoopbackServer::start(db.store.clone());

        // The plan, naming the secondary's mirror cosigner key; the secondary pulls.
        let secondary = secondary_keys();
        let mirror_key = secondary.cosigner_key("mirror").expect("key").to_string();
        let (plan, slice) = negotiate_with(&primary, Some(&secondary));
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("secondary.sqlite");
        let (code, _, err) = secondary_cli(&["node", "set", "--origin", "mirror.test"], &path, "");
        assert_eq!(code, 0, "{l}: {err}");
        let line = pull(&primary.url(), &plan.to_string(), &path);
        let cosignature = line["cosignature"].as_str().expect("the mirror cosigned");
        assert!(
            cosignature.starts_with("— mirror.test/mirror "),
            "{l}: {cosignature}"
        );
        let mirror = LoopbackServer::start(
            Store::open(path.to_str().expect("UTF-8")).expect("the secondary's store"),
        );
        // The log it mirrors under the plan, it witnesses on its own.
        let (code, out, err) = secondary_cli(&["witness", "list"], &path, "");
        assert_eq!(code, 0, "{l}: {err}");
        assert!(
            out.lines()
                .any(|line| line.contains("registers.test/registers/country")
                    && line.contains("mirror")),
            "{l}: {out}"
        );

        // The primary's checkpoint: three signatures, each verified by signed_note.
        let text = get_text(&format!("{}/registers/country/checkpoint", primary.url()));
        let note = Note::from_bytes(text.as_bytes()).expect("a signed note");
        let known = VerifierList::new(vec![
            Box::new(StandardVerifier::new(&log_key).expect("log key")),
            Box::new(CosignatureV1::new(&witness_key)),
            Box::new(CosignatureV1::new(&mirror_key)),
        ]);
        let (verified, unverified) = note.verify(&known).expect("signed_note verifies");
        assert_eq!(verified.len(), 3, "{l}: log, witness and mirror: {text}");
        assert!(unverified.is_empty(), "{l}: {text}");
        // The mirror serves the primary's checkpoint (never signing as a log).
        let mirrored = get_text(&format!("{}/registers/country/checkpoint", mirror.url()));
        assert!(
            mirrored.starts_with(&String::from_utf8_lossy(note.text()).to_string()),
            "{l}: {mirrored}"
        );
        let log_name = log_key.split('+').next().expect("the log's name");
        assert!(
            mirrored.contains(&format!("— {log_name} ")),
            "{l}: {mirrored}"
        );
        // …with the mirror's own cosignature: the primary's signature and the mirror's.
        let held = Note::from_bytes(mirrored.as_bytes()).expect("a signed note");
        let known = VerifierList::new(vec![
            Box::new(StandardVerifier::new(&log_key).expect("log key")),
            Box::new(CosignatureV1::new(&mirror_key)),
        ]);
        let (verified, _) = held.verify(&known).expect("signed_note verifies");
        assert_eq!(verified.len(), 2, "{l}: {mirrored}");

        // The primary grows; a new pull cosigns the new checkpoint.
        append(&db.store, "ZZ");
        let line = pull(&primary.url(), &plan.to_string(), &path);
        assert_eq!(line["total-entries"], 209, "{l}: {line}");
        let text = get_text(&format!("{}/registers/country/checkpoint", primary.url()));
        assert!(text.contains("— mirror.test/mirror "), "{l}: {text}");
        // The secondary's status: the checkpoint held, and cosigned.
        let (code, out, err) = secondary_cli(&["sync", "status"], &path, "");
        assert_eq!(code, 0, "{l}: {err}");
        let status: Value = serde_json::from_str(out.trim()).expect("one line");
        assert_eq!(status["checkpoint"]["total-entries"], 209, "{l}: {status}");
        assert_eq!(status["cosigned"], 209, "{l}: {status}");

        // A replay of the first cosignature (of 208 entries, older) is refused, as is a
        // cosignature by a key the plan did not pin.
        let mut client = Client::new(&primary.url(), "acme", PASSWORD);
        client.login_for_plan(plan).expect("sync token");
        let replay = client
            .send_cosignature(slice, 208, cosignature)
            .expect_err("a replay");
        assert!(replay.to_string().contains("replay"), "{l}: {replay}");
        // The refusal quotes the primary's request ID, for its operator's logs.
        assert!(replay.to_string().contains("(request "), "{l}: {replay}");
        let stranger =
            PrivateKey::from_seed("mirror.test/mirror", COSIGNATURE_V1, [9; 32]).expect("key");
        let body = tlog_core::note::parse(&text).expect("note").text;
        let forged = stranger.cosign_line(&body, u64::MAX / 2).expect("cosign");
        // Not a cosignature line at all, or a size never checkpointed: refused, nothing kept.
        let garbage = client
            .send_cosignature(slice, 209, "not a signature line")
            .expect_err("garbage");
        assert!(garbage.to_string().contains("400"), "{l}: {garbage}");
        let unknown_size = client
            .send_cosignature(slice, 999_999, cosignature)
            .expect_err("no such checkpoint");
        assert!(
            unknown_size.to_string().contains("404"),
            "{l}: {unknown_size}"
        );
        let refused = client
            .send_cosignature(slice, 209, &forged)
            .expect_err("an unknown key");
        assert!(
            refused.to_string().contains("no signature by the key"),
            "{l}: {refused}"
        );
        assert_eq!(
            get_text(&format!("{}/registers/country/checkpoint", primary.url())),
            text,
            "{l}: refused cosignatures leave the checkpoint as it was"
        );

        // A primary that rewrites history (a new database, the same keys): the witness
        // refuses its checkpoint (422, via `witness submit`) and keeps it as evidence.
        let rewritten = backends().remove(if l == "sqlite" { 0 } else { 1 });
        let country = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../crates/register-core/tests/data/country-data.rsf"
        ))
        .expect("country");
        let mut prefix = String::new();
        let mut users = 0;
        for line in country.lines() {
            if line.starts_with("append-entry\tuser") {
                if users == 100 {
                    break;
                }
                users += 1;
            }
            prefix.push_str(line);
            prefix.push('\n');
        }
        rewritten
            .store
            .load_rsf("country", prefix.as_bytes(), Mode::Relaxed)
            .expect("the rewritten prefix");
        for i in 0..110 {
            append(&rewritten.store, &format!("R{i}"));
        }
        let rewritten_cli = |args: &[&str]| {
            cli_support::output(
                cli_support::bin()
                    .args(args)
                    .arg("--database-url")
                    .arg(&rewritten.url),
                "",
            )
        };
        let (code, _, err) = rewritten_cli(&["witness", "use", &witness_url, &witness_key]);
        assert_eq!(code, 0, "{l}: {err}");
        rewritten_cli(&["witness", "submit"]);
        let (_, out, _) = rewritten_cli(&["witness", "list"]);
        assert!(
            out.contains("the witness refused (422)"),
            "{l}: the witness refuses the rewritten checkpoint: {out}"
        );
        let logs = witness_db.store.witnessed_logs().expect("witnessed logs");
        let log = logs
            .iter()
            .find(|log| log.origin == log_name)
            .unwrap_or_else(|| panic!("{l}: {logs:?}"));
        assert_eq!(log.size, 208, "{l}: the witness stays at what it cosigned");
        assert_eq!(
            log.evidence, 1,
            "{l}: the rewritten checkpoint is kept as evidence"
        );
        let evidence = witness_db
            .store
            .witness_evidence(Some(log_name))
            .expect("evidence");
        assert!(evidence[0].note.contains("\n210\n"), "{l}: {evidence:?}");
        mirror.stop();
        primary.stop();
        witness.stop();
    }
}
