//! This node as a log that uses a witness (checkpoints.md §5), end to end on loopback: the
//! operator's `witness use`, a load, the submission (one-shot `witness submit`, and the
//! background worker of `serve`), and the checkpoint served with the witness's
//! cosignature, verified by Cloudflare's `signed_note` (a verifier we did not write). A
//! witness that is down never slows a load; its error shows in `witness list` and the
//! worker succeeds once it is up.

mod cli_support;
mod common;
mod tlog_support;

use std::net::TcpListener;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cli_support::bin;
use common::{backends, LoopbackServer, TestDb};
use serde_json::Value;
use signed_note::{Note, StandardVerifier, VerifierList};
use tlog_core::note::{PrivateKey, COSIGNATURE_V1};
use tlog_support::{witness, CosignatureV1};

const COUNTRY: &str = "../../crates/register-core/tests/data/country-data.rsf";

fn cli(args: &[&str], db: &TestDb) -> (i32, String, String) {
    cli_support::output(bin().args(args).arg("--database-url").arg(&db.url), "")
}

fn lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The checkpoint `server` serves for `country`, opened by signed_note with the log's key
/// and the witness's: both signatures must verify.
fn verified_checkpoint(server: &LoopbackServer, log_key: &str, witness_key: &str) -> Note {
    let url = format!("{}/registers/country/checkpoint", server.url());
    let text = ureq::get(&url)
        .call()
        .expect("checkpoint")
        .body_mut()
        .read_to_string()
        .expect("body");
    let note = Note::from_bytes(text.as_bytes()).expect("a signed note");
    let log = StandardVerifier::new(log_key).expect("log key");
    let known = VerifierList::new(vec![
        Box::new(log),
        Box::new(CosignatureV1::new(witness_key)),
    ]);
    let (verified, unverified) = note.verify(&known).expect("signed_note verifies");
    assert_eq!(
        verified.len(),
        2,
        "the log's signature and the witness's: {text}"
    );
    assert!(unverified.is_empty(), "{text}");
    note
}

fn log_key(db: &TestDb) -> String {
    db.store
        .keys()
        .expect("keys")
        .checkpoint_key("country", None)
        .expect("key")
        .to_string()
}

#[test]
fn a_load_ends_with_the_witness_cosignature_on_the_checkpoint() {
    for (db, witness_db) in backends().into_iter().zip(backends()) {
        let l = db.label;
        let log_key = log_key(&db);
        let (witness, witness_key) = witness(&witness_db, &log_key, 0);
        let url = format!("{}/witness", witness.url());

        let (code, out, err) = cli(&["witness", "use", &url, &witness_key], &db);
        assert_eq!(code, 0, "{l}: {err}");
        assert_eq!(lines(&out)[0]["witness"], url, "{l}");
        // A log key where the witness key belongs: refused, naming the problem.
        let (code, _, err) = cli(&["witness", "use", &url, &log_key], &db);
        assert_eq!(code, 1, "{l}");
        assert!(err.contains("cosigner key"), "{l}: {err}");

        let (code, _, err) = cli(&["load", "country", COUNTRY], &db);
        assert_eq!(code, 0, "{l}: {err}");
        let (code, out, err) = cli(&["witness", "submit"], &db);
        assert_eq!(code, 0, "{l}: {err}");
        let submitted = lines(&out);
        assert_eq!(submitted.len(), 1, "{l}: {out}");
        assert_eq!(submitted[0]["cosigned_size"], 208, "{l}: {out}");

        let server = LoopbackServer::start(db.store.clone());
        let note = verified_checkpoint(&server, &log_key, &witness_key);
        assert!(
            String::from_utf8_lossy(note.text()).contains("\n208\n"),
            "{l}"
        );
        let (code, out, _) = cli(&["witness", "list"], &db);
        assert_eq!(code, 0, "{l}");
        let listed = lines(&out);
        let state = listed
            .iter()
            .find(|line| line["log"] == "registers.test/registers/country")
            .unwrap_or_else(|| panic!("{l}: {out}"));
        assert_eq!(state["cosigned_size"], 208, "{l}: {out}");
        assert!(state["last_success"].is_string(), "{l}: {out}");
        assert!(state.get("last_error").is_none(), "{l}: {out}");
        // Nothing pending now.
        let (_, out, _) = cli(&["witness", "submit"], &db);
        assert_eq!(out, "", "{l}");

        let (code, out, _) = cli(&["witness", "drop", &url], &db);
        assert_eq!(
            (code, lines(&out)[0]["dropped"].clone()),
            (0, Value::Bool(true)),
            "{l}"
        );
        // Used again, its state forgotten: the first request says old 0, the witness's 409
        // tells 208, and the retry from there is cosigned.
        assert_eq!(
            cli(&["witness", "use", &url, &witness_key], &db).0,
            0,
            "{l}"
        );
        let (_, out, _) = cli(&["witness", "submit"], &db);
        assert_eq!(lines(&out)[0]["cosigned_size"], 208, "{l}: {out}");
        assert_eq!(cli(&["witness", "drop", &url], &db).0, 0, "{l}");
        let (code, _, err) = cli(&["witness", "drop", &url], &db);
        assert_eq!(code, 1, "{l}");
        assert!(err.contains("not found"), "{l}: {err}");
        server.stop();
        witness.stop();
    }
}

#[test]
fn a_witness_that_is_down_never_slows_a_load_and_is_retried_by_serve() {
    for (db, witness_db) in backends().into_iter().zip(backends()) {
        let l = db.label;
        let log_key = log_key(&db);
        let free = |_| {
            TcpListener::bind("127.0.0.1:0")
                .and_then(|s| s.local_addr())
                .expect("port")
                .port()
        };
        let (witness_port, serve_port) = (free(0), free(1));
        // The witness's key is known before it is up.
        let witness_key = PrivateKey::from_seed("cosigner", COSIGNATURE_V1, [4; 32])
            .expect("key")
            .renamed("witness.test/witness")
            .expect("key")
            .verifier()
            .to_string();
        let url = format!("http://127.0.0.1:{witness_port}/witness");
        assert_eq!(
            cli(&["witness", "use", &url, &witness_key], &db).0,
            0,
            "{l}"
        );

        // The load does not wait for the witness.
        let started = Instant::now();
        let (code, _, err) = cli(&["load", "country", COUNTRY], &db);
        assert_eq!(code, 0, "{l}: {err}");
        assert!(started.elapsed() < Duration::from_secs(20), "{l}");
        let (code, out, _) = cli(&["witness", "submit"], &db);
        assert_eq!(code, 0, "{l}");
        assert!(lines(&out)[0]["last_error"].is_string(), "{l}: {out}");
        let (_, out, _) = cli(&["witness", "list"], &db);
        let listed = lines(&out);
        let state = listed
            .iter()
            .find(|line| line["witness"] == url.as_str())
            .unwrap_or_else(|| panic!("{l}: {out}"));
        let error = state["last_error"].as_str().unwrap_or_default();
        assert!(
            error.contains(&format!("127.0.0.1:{witness_port}")),
            "{l}: {out}"
        );
        assert!(state["next_attempt"].is_string(), "{l}: {out}");

        // `serve` on the log's database; the witness comes up; the worker retries.
        let mut serve = bin()
            .args(["serve", "--bind", &format!("127.0.0.1:{serve_port}")])
            .args(["--workers", "1", "--database-url", &db.url])
            .env("TOKEN_SECRET", "a test secret of at least 32 bytes")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve");
        let (witness, _) = witness(&witness_db, &log_key, witness_port);
        let deadline = Instant::now() + Duration::from_secs(40);
        let mut cosigned = false;
        while Instant::now() < deadline && !cosigned {
            std::thread::sleep(Duration::from_millis(250));
            cosigned = db
                .store
                .witness_submissions()
                .expect("states")
                .iter()
                .any(|s| {
                    s.witness_url == url && s.cosigned_size == Some(208) && s.last_error.is_none()
                });
        }
        let _ = serve.kill();
        let _ = serve.wait();
        assert!(cosigned, "{l}: {:?}", db.store.witness_submissions());
        let server = LoopbackServer::start(db.store.clone());
        verified_checkpoint(&server, &log_key, &witness_key);
        server.stop();
        witness.stop();
    }
}
