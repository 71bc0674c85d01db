//! SIGTERM during a load over HTTP (part of "Operate it"): the register afterwards is exactly
//! as before or exactly as after, and the client got a success only for a load that stayed.

mod cli_support;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use register_core::{Item, Mode};
use store_diesel::store::Store;

const ENTRIES: u64 = 40_000;

fn rsf() -> String {
    let mut rsf = String::new();
    for i in 0..ENTRIES {
        let item = Item::parse(&format!(r#"{{"n":"{i}"}}"#)).expect("item");
        rsf += &format!(
            "add-item\t{}\nappend-entry\tuser\tk{i}\t2020-01-01T00:00:00Z\t{}\n",
            item.canonical_json(),
            item.hash()
        );
    }
    rsf
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn serve(db: &Path, port: u16, shutdown: u64) -> Child {
    serve_with(db, port, shutdown, &[], Stdio::null())
}

fn serve_with(db: &Path, port: u16, shutdown: u64, args: &[&str], stderr: Stdio) -> Child {
    let child = cli_support::bin()
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .arg("--database-url")
        .arg(db)
        .args(["--shutdown-timeout", &shutdown.to_string()])
        .args(args)
        .env("TOKEN_SECRET", "a test secret of at least 32 bytes!")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("spawn serve");
    let started = Instant::now();
    while ureq::get(&format!("http://127.0.0.1:{port}/healthz"))
        .call()
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server never answered"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

/// Loads over HTTP, sends SIGTERM while the load is in flight, and checks the outcome.
fn sigterm_during_a_load(shutdown: u64) -> (bool, u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("shutdown.sqlite");
    let (code, _, err) = cli_support::output(
        cli_support::bin()
            .args([
                "user",
                "add",
                "admin",
                "--admin",
                "--password-stdin",
                "--database-url",
            ])
            .arg(&db),
        "a long enough password\n",
    );
    assert_eq!(code, 0, "{err}");
    let port = free_port();
    let mut server = serve(&db, port, shutdown);
    let body = rsf();
    let auth = base64::engine::general_purpose::STANDARD.encode("admin:a long enough password");
    let client = std::thread::spawn(move || {
        ureq::post(&format!(
            "http://127.0.0.1:{port}/registers/big/load-rsf?relaxed=true"
        ))
        .header("Authorization", &format!("Basic {auth}"))
        .header("Content-Type", "application/uk-gov-rsf")
        .send(body.as_bytes())
        .map(|r| r.status().as_u16())
    });
    // Let the body arrive and the load start, then ask the server to stop.
    std::thread::sleep(Duration::from_millis(1500));
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let started = Instant::now();
    let exited = loop {
        if let Some(code) = server.try_wait().expect("wait") {
            break code;
        }
        assert!(
            started.elapsed() < Duration::from_secs(shutdown + 30),
            "the server did not exit within its shutdown timeout"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exited.success(), "serve exited with {exited}");
    let answered = client.join().expect("client thread");
    let succeeded = matches!(answered, Ok(200));
    assert!(
        matches!(answered, Ok(200)) || answered.is_err(),
        "the client got {answered:?}"
    );

    let store = Store::open(db.to_str().expect("path")).expect("reopen");
    let size = store.register("big").map_or(0, |r| r.total_entries);
    assert!(
        size == 0 || size == ENTRIES,
        "a partial load: {size} entries"
    );
    if succeeded {
        assert_eq!(size, ENTRIES, "a success for a load that did not stay");
    }
    // Whatever happened, the next load of the same file starts from a consistent state.
    if size == 0 {
        store
            .load_rsf("big", rsf().as_bytes(), Mode::Relaxed)
            .expect("the rolled-back load applies afresh");
    }
    (succeeded, size)
}

#[test]
fn sigterm_lets_an_in_flight_load_finish() {
    let (succeeded, size) = sigterm_during_a_load(60);
    assert!(
        succeeded,
        "a load within the shutdown timeout finishes and is answered"
    );
    assert_eq!(size, ENTRIES);
}

#[test]
fn sigterm_with_no_grace_rolls_a_load_back_or_lets_it_stand_whole() {
    // No grace: the load is cut off (rolled back, the connection closed) unless it had
    // already committed; either way nothing partial stays and no success is false.
    let (succeeded, size) = sigterm_during_a_load(0);
    eprintln!("no grace: answered {succeeded}, {size} entries stayed");
}

#[test]
fn json_logs_name_each_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("logs.sqlite");
    let port = free_port();
    let server = serve_with(&db, port, 5, &["--log-format", "json"], Stdio::piped());
    let reply = ureq::get(&format!("http://127.0.0.1:{port}/registers"))
        .header("X-Request-Id", "probe-42")
        .call()
        .expect("GET /registers");
    assert_eq!(
        reply
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("probe-42")
    );
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill");
    let out = server.wait_with_output().expect("exit");
    let logs = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let request = lines
        .iter()
        .find(|l| l["fields"]["path"] == "/registers")
        .unwrap_or_else(|| panic!("no request line in {logs}"));
    assert_eq!(request["fields"]["request_id"], "probe-42", "{request}");
    assert_eq!(request["fields"]["status"], 200, "{request}");
}
