//! The operator CLI's contract: outputs, exit codes, and what they leave in the database.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

mod cli_support;

use cli_support::bin;

fn data(name: &str) -> String {
    format!(
        "{}/../../crates/register-core/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Runs the binary on the database `db`; returns (exit code, stdout, stderr).
fn run(args: &[&str], db: &Path, stdin: &str) -> (i32, String, String) {
    cli_support::output(bin().args(args).arg("--database-url").arg(db), stdin)
}

#[test]
fn load_root_export_round_trip() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("cli.sqlite");
    let (code, out, err) = run(&["load", "country", &data("country-data.rsf")], &db, "");
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!(report["total-entries"], 208);
    assert_eq!(report["created"], true);

    let (code, out, _) = run(&["root", "country"], &db, "");
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        r#"{"total-entries":208,"root-hash":"sha-256:8d92e1e0af1d43c41e498e6baed0d0b3ea2770d1bf9d2afc04e9c4dad7795729"}"#
    );

    let (code, dump, _) = run(&["export", "country"], &db, "");
    assert_eq!(code, 0);
    let verified =
        register_core::verify(dump.as_bytes(), register_core::Mode::Strict).expect("verify");
    assert_eq!(verified.summary.user_entries, 208);
    let (code, ranged, _) = run(
        &["export", "country", "--from", "200", "--to", "208"],
        &db,
        "",
    );
    assert_eq!(code, 0);
    assert_eq!(
        ranged
            .lines()
            .filter(|l| l.starts_with("append-entry"))
            .count(),
        8
    );
}

#[test]
fn a_bad_file_reports_its_line_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("cli.sqlite");
    assert_eq!(run(&["load", "colour", &data("colour.rsf")], &db, "").0, 0);
    let bad = dir.path().join("bad.rsf");
    std::fs::write(
        &bad,
        "add-item\t{\"colour\":\"green\",\"name\":\"Green\"}\n",
    )
    .expect("write");
    let (code, out, err) = run(&["load", "colour", bad.to_str().expect("path")], &db, "");
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(
        err.starts_with("line 1: Orphan add item: sha-256:"),
        "{err}"
    );
    let (_, root, _) = run(&["root", "colour"], &db, "");
    assert!(root.contains("\"total-entries\":3"), "{root}");
    // Relaxed mode keeps the item and says so.
    let (code, out, err) = run(
        &["load", "colour", bad.to_str().expect("path"), "--relaxed"],
        &db,
        "",
    );
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!(report["unreferenced-items"], 1, "{report}");
    assert_eq!(report["user-entries-added"], 0, "{report}");
    // Relaxed mode is an explicit option.
    let (code, _, err) = run(
        &["load", "country", &data("country-with-asserts.rsf")],
        &db,
        "",
    );
    assert_eq!(code, 1);
    assert!(err.starts_with("line 239: "), "{err}");
    let (code, _, err) = run(
        &[
            "load",
            "country",
            &data("country-with-asserts.rsf"),
            "--relaxed",
        ],
        &db,
        "",
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn append_writes_json_records_and_refuses_a_bad_one_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("cli.sqlite");
    assert_eq!(run(&["load", "colour", &data("colour.rsf")], &db, "").0, 0);
    let records = r#"[{"name":"Green","colour":"green"},{"colour":"red","name":"Scarlet"}]"#;
    let at = "2024-02-03T04:05:06Z";
    let args = ["append", "colour", "-", "--entry-timestamp", at];
    let (code, out, err) = run(&args, &db, records);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!(report["total-entries"], 4, "{report}");
    assert_eq!(report["entries"][0]["key"], "green", "{report}");
    assert_eq!(report["entries"][0]["entry-timestamp"], at, "{report}");
    assert_eq!(report["unchanged"][0]["key"], "red", "{report}");
    assert!(report["checkpoint"].as_str().is_some(), "{report}");

    // One bad record refuses the whole request, naming it; nothing changes.
    let file = dir.path().join("bad.json");
    std::fs::write(
        &file,
        r#"[{"colour":"pink"},{"colour":"teal","shade":"x"}]"#,
    )
    .expect("write");
    let (code, out, err) = run(&["append", "colour", file.to_str().expect("path")], &db, "");
    assert_eq!(code, 1);
    assert!(out.is_empty(), "{out}");
    assert_eq!(
        err.trim(),
        "error: records[1]: field 'shade' is not a field of the register"
    );
    let (_, root, _) = run(&["root", "colour"], &db, "");
    assert!(root.contains("\"total-entries\":4"), "{root}");
}

#[test]
fn users_and_migrations() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("cli.sqlite");
    assert_eq!(run(&["migrate"], &db, "").0, 0);
    let (code, out, err) = run(
        &["user", "add", "alice", "--admin", "--password-stdin"],
        &db,
        "s3cret\n",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), r#"{"user":"alice","role":"admin"}"#);
    let (code, _, err) = run(
        &["user", "add", "alice", "--password-stdin"],
        &db,
        "other\n",
    );
    assert_ne!(code, 0);
    assert!(err.contains("alice"), "{err}");
    let store = store_diesel::store::Store::open(db.to_str().expect("path")).expect("open");
    assert!(store
        .verify_password("alice", "s3cret")
        .expect("verify")
        .is_some());
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[test]
fn serve_creates_the_default_database_with_the_demo_register() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut server = bin()
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--workers",
            "1",
        ])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn server");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut answer = None;
    while Instant::now() < deadline {
        if let Some(response) = http_get(port, "/registers/country/records/GB.json") {
            answer = Some(response);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = server.kill();
    let _ = server.wait();
    let response = answer.expect("the server answered");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"United Kingdom\""), "{response}");
    assert!(dir.path().join("data/registers.sqlite").exists());
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["load", "--help"],
        vec!["import", "--help"],
        vec!["export", "--help"],
        vec!["root", "--help"],
        vec!["user", "add", "--help"],
        vec!["migrate", "--help"],
        vec!["plan", "validate", "--help"],
    ] {
        let status = bin()
            .args(&args)
            .stdout(Stdio::null())
            .status()
            .expect("run");
        assert!(status.success(), "{args:?}");
    }
}

#[test]
fn serve_needs_a_configured_token_secret_on_postgresql_and_a_long_one_anywhere() {
    let dir = tempfile::tempdir().expect("temp dir");
    let short = dir.path().join("short-secret");
    std::fs::write(&short, "too short\n").expect("write the secret file");
    let out = bin()
        .args(["serve", "--bind", "127.0.0.1:0", "--token-secret-file"])
        .arg(&short)
        .arg("--database-url")
        .arg(dir.path().join("s.sqlite"))
        .env_remove("TOKEN_SECRET")
        .output()
        .expect("run serve");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at least 32 bytes"), "{stderr}");

    // A fresh PostgreSQL database (None, said loudly, when TEST_DATABASE_URL is unset).
    let Some(db) = store_diesel::testing::postgres() else {
        return;
    };
    let url = db.url.clone();
    let out = bin()
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &url])
        .env_remove("TOKEN_SECRET")
        .output()
        .expect("run serve");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("a token secret is required with PostgreSQL"),
        "{stderr}"
    );
}

#[test]
fn load_creates_no_register_under_a_name_outside_the_rule() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("cli.sqlite");
    let long = "c".repeat(65);
    for name in ["a/b", "Colour", long.as_str()] {
        let (code, out, err) = run(&["load", name, &data("colour.rsf"), "--relaxed"], &db, "");
        assert_eq!(code, 1, "{name}: {out}");
        assert!(
            err.contains(register_core::name::REGISTER_NAME_RULE),
            "{name}: {err}"
        );
    }
    assert_eq!(run(&["load", "colour", &data("colour.rsf")], &db, "").0, 0);
}
