//! A real Prometheus (Debian's `prometheus` package) scraping a running `api-actix serve`
//! after some requests, a load over HTTP and a sync (part of "Operate it"): the test asks
//! Prometheus's own API for the target's health and the series, and lints the exposition
//! with `promtool check metrics`.

mod cli_support;
mod common;
mod plan_support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::LoopbackServer as Server;
use plan_support::{negotiate, primary_store, PASSWORD};

const PROMETHEUS: &str = "/usr/bin/prometheus";
const PROMTOOL: &str = "/usr/bin/promtool";

/// A raw HTTP/1.0 GET on loopback: (status, body).
fn http_get(port: u16, target: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {target} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Kills the child on drop, so a failed assertion does not leave Prometheus running.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `f` every 250 ms for up to `limit`; the last answer.
fn poll<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = f() {
            return Some(found);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The value of the first series `query` returns, once Prometheus has it.
fn query(prometheus: u16, query: &str) -> Option<f64> {
    poll(Duration::from_secs(60), || {
        let (_, body) = http_get(
            prometheus,
            &format!("/api/v1/query?query={}", percent_encode(query)),
        )
        .ok()?;
        let json: serde_json::Value = serde_json::from_str(&body).ok()?;
        json["data"]["result"].as_array()?.first()?["value"][1]
            .as_str()?
            .parse()
            .ok()
    })
}

#[test]
fn a_real_prometheus_scrapes_a_server_after_requests_a_load_and_a_sync() {
    if !std::path::Path::new(PROMETHEUS).exists() || !std::path::Path::new(PROMTOOL).exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{PROMETHEUS} not found, and CI=true: the Prometheus test must run in CI");
        }
        eprintln!(
            "\n*** SKIPPED: {PROMETHEUS} not found; the real Prometheus scrape NOT checked \
             (install Debian's prometheus package) ***\n"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");

    // The primary: `country` offered to the partner `acme`.
    let db = common::backends().remove(0);
    primary_store(&db);
    let primary = Server::start(db.store.clone());
    let (plan, _) = negotiate(&primary);

    // The secondary: `api-actix serve` on its own database, with an admin.
    let secondary = dir.path().join("secondary.sqlite");
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
            .arg(&secondary),
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code, 0, "{err}");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = Killed(
        cli_support::bin()
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--database-url",
            ])
            .arg(&secondary)
            .env("TOKEN_SECRET", "a test secret of at least 32 bytes!")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start serve"),
    );
    assert!(
        poll(Duration::from_secs(30), || http_get(port, "/healthz").ok()).is_some(),
        "the server never answered"
    );

    // A sync: the secondary pulls the primary's `country`, as its operator would.
    let (code, out, err) = cli_support::output(
        cli_support::bin()
            .args([
                "sync",
                "pull",
                "--remote",
                &primary.url(),
                "--username",
                "acme",
            ])
            .args([
                "--password-stdin",
                "--plan",
                &plan.to_string(),
                "--database-url",
            ])
            .arg(&secondary),
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code, 0, "{out}{err}");

    // Requests, and a load over HTTP.
    for _ in 0..5 {
        let (status, _) = http_get(port, "/registers/country/records").expect("records");
        assert_eq!(status, 200);
    }
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("admin:{PASSWORD}"));
    let colour = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../crates/register-core/tests/data/colour.rsf"
    ))
    .expect("colour.rsf");
    let loaded = ureq::post(&format!("{base}/registers/colour/load-rsf"))
        .header("Authorization", &format!("Basic {credentials}"))
        .header("Content-Type", "application/uk-gov-rsf")
        .send(&colour[..]);
    assert!(loaded.is_ok(), "{loaded:?}");

    // promtool's linter on the exposition.
    let (status, exposition) = http_get(port, "/metrics").expect("metrics");
    assert_eq!(status, 200, "{exposition}");
    let mut promtool = Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    promtool
        .stdin
        .take()
        .expect("stdin")
        .write_all(exposition.as_bytes())
        .expect("write the exposition");
    let checked = promtool.wait_with_output().expect("promtool");
    assert!(
        checked.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );

    // Prometheus, scraping the secondary every second.
    let prometheus_port = free_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: registers\n    scrape_interval: 1s\n    \
             static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .expect("write the config");
    let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log");
    let _prometheus = Killed(
        Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prometheus_port}"))
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start prometheus"),
    );
    let log = || std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();
    assert_eq!(
        query(prometheus_port, r#"up{job="registers"}"#),
        Some(1.0),
        "the target is up; prometheus log:\n{}",
        log()
    );
    let expect = |series: &str, check: &dyn Fn(f64) -> bool| {
        let value = query(prometheus_port, series);
        assert!(
            value.is_some_and(check),
            "{series} = {value:?}; prometheus log:\n{}",
            log()
        );
    };
    expect(
        r#"registers_http_requests_total{route="/registers/{name}/records",method="GET",status="2xx"}"#,
        &|v| v == 5.0,
    );
    expect(
        r#"registers_http_request_duration_seconds_count{route="/registers/{name}/records"}"#,
        &|v| v == 5.0,
    );
    expect("registers_loads_total", &|v| v == 1.0);
    expect("registers_load_entries_added_total", &|v| v == 3.0);
    expect(r#"registers_register_entries{register="country"}"#, &|v| {
        v == 208.0
    });
    expect(
        r#"registers_register_checkpoint_entries{register="colour"}"#,
        &|v| v == 3.0,
    );
    expect(
        r#"registers_register_checkpoint_age_seconds{register="colour"}"#,
        &|v| (0.0..600.0).contains(&v),
    );
    expect(
        r#"registers_subscription_mirror_entries{register="country"}"#,
        &|v| v == 208.0,
    );
    expect(
        r#"registers_subscription_entries_behind{register="country"}"#,
        &|v| v == 0.0,
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs_f64();
    expect(
        r#"registers_subscription_last_success_timestamp_seconds{register="country"}"#,
        &|v| (now - 600.0..=now + 1.0).contains(&v),
    );
    expect("registers_accounts_locked", &|v| v == 0.0);
    expect("registers_db_pool_connections", &|v| v >= 1.0);
    expect("process_resident_memory_bytes", &|v| v > 1e6);
    primary.stop();
}
