//! `GET /metrics`: the exposition after some requests, an unmatched path and a load on both
//! backends; the optional bearer token; and a real Prometheus (Debian's `prometheus` package)
//! scraping a running server, with `promtool check metrics` on the exposition.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::test::init_service;
use chrono::Utc;
use common::{backends, basic, data, get, get_with, post_rsf, send, state};
use register_core::Mode;
use server_actix::app;
use store_diesel::accounts::Role;

/// The value of the series `name{labels}` (labels exactly as exposed, in order), if exposed.
fn value(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

const RECORDS: &str =
    r#"registers_http_requests_total{method="GET",route="/registers/{name}/records",status="2xx"}"#;

#[actix_web::test]
async fn the_exposition_counts_requests_loads_and_registers_on_both_backends() {
    for db in backends() {
        let l = db.label;
        db.store
            .load_rsf("country", &data("country-data.rsf")[..], Mode::Strict)
            .expect("country");
        db.store
            .add_user("admin", "secret", Role::Admin)
            .expect("admin");
        let slice = uuid::Uuid::new_v4();
        let plan = plan_core::PlanId(uuid::Uuid::new_v4());
        let subscribed = db
            .store
            .upsert_subscription(plan, slice, "https://primary.example", "mirror")
            .and_then(|()| db.store.record_primary_size(plan, slice, 10))
            .and_then(|()| {
                db.store.record_sync_success(
                    plan,
                    slice,
                    3,
                    register_core::Digest([0; 32]),
                    chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("a time"),
                )
            });
        let service = init_service(app(state(&db))).await;

        let before = get(&service, "/metrics").await;
        assert_eq!(before.status, 200, "{l}: {}", before.text());
        assert_eq!(
            before.header("content-type"),
            "text/plain; version=0.0.4",
            "{l}"
        );
        let start = value(before.text(), RECORDS).unwrap_or(0.0);

        for _ in 0..3 {
            assert_eq!(
                get(&service, "/registers/country/records").await.status,
                200,
                "{l}"
            );
        }
        assert_eq!(
            get(&service, "/registers/colour/records").await.status,
            404,
            "{l}: colour is not loaded yet"
        );
        get(&service, "/no-such-thing/secret-register-name")
            .await
            .assert_error(404, &format!("{l} unmatched"));
        let wrong = send(
            &service,
            post_rsf(
                "/registers/colour/load-rsf",
                data("colour.rsf"),
                Some(basic("admin", "wrong")),
            ),
        )
        .await;
        wrong.assert_error(401, &format!("{l} wrong password"));
        let loaded = send(
            &service,
            post_rsf(
                "/registers/colour/load-rsf",
                data("colour.rsf"),
                Some(basic("admin", "secret")),
            ),
        )
        .await;
        assert_eq!(loaded.status, 200, "{l}: {}", loaded.text());
        let refused = send(
            &service,
            post_rsf(
                "/registers/colour/load-rsf",
                b"not rsf\n".to_vec(),
                Some(basic("admin", "secret")),
            ),
        )
        .await;
        assert!(refused.status.is_client_error(), "{l}: {}", refused.text());

        let after = get_with(&service, "/metrics", ("accept", "text/plain")).await;
        assert_eq!(after.status, 200, "{l}");
        let text = after.text();
        assert_eq!(value(text, RECORDS), Some(start + 3.0), "{l}: {text}");
        assert_eq!(
            value(
                text,
                r#"registers_http_requests_total{method="GET",route="/registers/{name}/records",status="4xx"}"#
            ),
            Some(1.0),
            "{l}"
        );
        assert_eq!(
            value(
                text,
                r#"registers_http_requests_total{method="GET",route="unmatched",status="4xx"}"#
            ),
            Some(1.0),
            "{l}"
        );
        assert!(
            !text.contains("secret-register-name") && !text.contains("no-such-thing"),
            "{l}: a raw path became a label"
        );
        assert!(
            !text.contains("route=\"/registers/country"),
            "{l}: a register name from a request became a label"
        );
        assert_eq!(
            value(
                text,
                r#"registers_http_request_duration_seconds_count{method="GET",route="/registers/{name}/records"}"#
            ),
            Some(start + 4.0),
            "{l}"
        );
        assert_eq!(value(text, "registers_loads_total"), Some(2.0), "{l}");
        assert_eq!(
            value(text, "registers_load_failures_total"),
            Some(1.0),
            "{l}"
        );
        assert_eq!(
            value(text, "registers_load_entries_added_total"),
            Some(3.0),
            "{l}: colour.rsf has 3 user entries"
        );
        assert_eq!(
            value(text, "registers_load_duration_seconds_count"),
            Some(2.0),
            "{l}"
        );
        assert_eq!(
            value(text, r#"registers_login_failures_total{via="basic"}"#),
            Some(1.0),
            "{l}"
        );
        assert_eq!(
            value(text, r#"registers_register_entries{register="country"}"#),
            Some(208.0),
            "{l}"
        );
        assert_eq!(
            value(text, r#"registers_register_entries{register="colour"}"#),
            Some(3.0),
            "{l}"
        );
        assert_eq!(
            value(text, r#"registers_register_records{register="colour"}"#),
            Some(2.0),
            "{l}: red and blue"
        );
        // Every load signs its checkpoint: colour's newest is at 3 entries and seconds old.
        assert_eq!(
            value(
                text,
                r#"registers_register_checkpoint_entries{register="colour"}"#
            ),
            Some(3.0),
            "{l}: {text}"
        );
        assert!(
            value(
                text,
                r#"registers_register_checkpoint_age_seconds{register="country"}"#
            )
            .is_some_and(|age| (0.0..600.0).contains(&age)),
            "{l}: {text}"
        );
        assert_eq!(value(text, "registers_accounts_locked"), Some(0.0), "{l}");
        let connections = value(text, "registers_db_pool_connections").expect("pool gauge");
        let idle = value(text, "registers_db_pool_idle_connections").expect("idle gauge");
        assert!(connections >= 1.0 && idle <= connections, "{l}: {text}");
        if cfg!(target_os = "linux") {
            assert!(
                value(text, "process_resident_memory_bytes").is_some_and(|v| v > 0.0),
                "{l}: process metrics"
            );
        }
        subscribed.unwrap_or_else(|e| panic!("{l}: cannot subscribe: {e}"));
        let labels = format!(r#"{{register="mirror",slice="{slice}"}}"#);
        assert_eq!(
            value(
                text,
                &format!("registers_subscription_last_success_timestamp_seconds{labels}")
            ),
            Some(1_700_000_000.0),
            "{l}: {text}"
        );
        assert_eq!(
            value(
                text,
                &format!("registers_subscription_mirror_entries{labels}")
            ),
            Some(3.0),
            "{l}"
        );
        assert_eq!(
            value(
                text,
                &format!("registers_subscription_entries_behind{labels}")
            ),
            Some(7.0),
            "{l}: the primary was seen at 10 entries, the mirror holds 3"
        );
        db.store
            .record_sync_error(plan, slice, "the primary is down", Utc::now())
            .expect("record an error");
        let text = get(&service, "/metrics").await.text().to_string();
        assert!(
            value(
                &text,
                &format!("registers_subscription_last_error_timestamp_seconds{labels}")
            )
            .is_some_and(|t| t > 1_700_000_000.0),
            "{l}: {text}"
        );
    }
}

#[actix_web::test]
async fn login_failures_are_counted() {
    for db in backends() {
        let l = db.label;
        let service = init_service(app(state(&db))).await;
        let reply = send(
            &service,
            actix_web::test::TestRequest::post()
                .uri("/v1/login")
                .set_json(serde_json::json!({"username": "nobody", "password": "x"})),
        )
        .await;
        reply.assert_error(401, l);
        let text = get(&service, "/metrics").await.text().to_string();
        assert_eq!(
            value(&text, r#"registers_login_failures_total{via="login"}"#),
            Some(1.0),
            "{l}: {text}"
        );
        // An existing account locked by repeated failures shows in the lockout gauge.
        db.store
            .add_user("alice", "right", Role::Admin)
            .expect("alice");
        for _ in 0..store_diesel::accounts::LOCK_AFTER_FAILURES {
            send(
                &service,
                actix_web::test::TestRequest::post()
                    .uri("/v1/login")
                    .set_json(serde_json::json!({"username": "alice", "password": "wrong"})),
            )
            .await
            .assert_error(401, l);
        }
        let text = get(&service, "/metrics").await.text().to_string();
        assert_eq!(value(&text, "registers_accounts_locked"), Some(1.0), "{l}");
        assert_eq!(
            value(&text, r#"registers_login_failures_total{via="login"}"#),
            Some(1.0 + store_diesel::accounts::LOCK_AFTER_FAILURES as f64),
            "{l}"
        );
    }
}

#[actix_web::test]
async fn a_metrics_token_is_required_when_configured() {
    for db in backends() {
        let l = db.label;
        let service = init_service(app(state(&db).with_metrics_token("s3cret"))).await;
        get(&service, "/metrics")
            .await
            .assert_error(401, &format!("{l} no token"));
        get_with(&service, "/metrics", ("authorization", "Bearer wrong"))
            .await
            .assert_error(401, &format!("{l} a wrong token"));
        let reply = get_with(&service, "/metrics", ("authorization", "Bearer s3cret")).await;
        assert_eq!(reply.status, 200, "{l}: {}", reply.text());
        assert!(
            reply.text().contains("registers_http_requests_total"),
            "{l}"
        );
        // The other routes do not need it.
        assert_eq!(get(&service, "/healthz").await.status, 200, "{l}");
    }
}

#[actix_web::test]
async fn metrics_can_be_turned_off() {
    let db = store_diesel::testing::sqlite();
    let service = init_service(app(state(&db).without_metrics())).await;
    assert_eq!(
        get(&service, "/registers").await.status,
        200,
        "the API is served"
    );
    let reply = get(&service, "/metrics").await;
    reply.assert_error(404, "metrics off");
    assert!(reply.text().contains("metrics are off"), "{}", reply.text());
}

// ---------------------------------------------------------------------------------------
// A real Prometheus.

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

#[test]
fn a_real_prometheus_scrapes_the_server() {
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
    let url = dir.path().join("metrics.sqlite");
    let store = store_diesel::store::Store::open(url.to_str().expect("UTF-8 path"))
        .expect("store")
        .with_keys(store_diesel::testing::keys());
    store
        .load_rsf("colour", &data("colour.rsf")[..], Mode::Strict)
        .expect("colour");

    // The server, on a loopback port.
    let server = common::LoopbackServer::start(store);
    let port = server.port;

    for _ in 0..5 {
        let (status, _) = http_get(port, "/registers/colour/records").expect("records");
        assert_eq!(status, 200);
    }
    let (status, exposition) = http_get(port, "/metrics").expect("metrics");
    assert_eq!(status, 200, "{exposition}");

    // promtool's linter on the exposition.
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

    // Prometheus, scraping it every second.
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
    let prometheus = Killed(
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

    let up = poll(Duration::from_secs(60), || {
        let (status, body) = http_get(prometheus_port, "/api/v1/targets").ok()?;
        let json: serde_json::Value = serde_json::from_str(&body).ok()?;
        let targets = json["data"]["activeTargets"].as_array()?;
        (status == 200
            && targets.iter().any(|t| {
                t["health"] == "up"
                    && t["scrapeUrl"]
                        .as_str()
                        .is_some_and(|u| u.contains(&format!(":{port}/")))
            }))
        .then_some(())
    });
    assert!(
        up.is_some(),
        "the target never came up; prometheus log:\n{}",
        log()
    );

    let query = r#"registers_http_requests_total{route="/registers/{name}/records",method="GET",status="2xx"}"#;
    let found = poll(Duration::from_secs(60), || {
        let (_, body) = http_get(
            prometheus_port,
            &format!("/api/v1/query?query={}", percent_encode(query)),
        )
        .ok()?;
        let json: serde_json::Value = serde_json::from_str(&body).ok()?;
        let result = json["data"]["result"].as_array()?.first()?.clone();
        let value: f64 = result["value"][1].as_str()?.parse().ok()?;
        (value > 0.0).then_some((value, result))
    });
    let (value, series) =
        found.unwrap_or_else(|| panic!("the series never appeared; prometheus log:\n{}", log()));
    assert_eq!(value, 5.0, "{series}");
    assert_eq!(series["metric"]["job"], "registers", "{series}");

    // A store gauge, read at scrape time, reached Prometheus too.
    let entries = poll(Duration::from_secs(30), || {
        let (_, body) = http_get(
            prometheus_port,
            &format!(
                "/api/v1/query?query={}",
                percent_encode(r#"registers_register_entries{register="colour"}"#)
            ),
        )
        .ok()?;
        let json: serde_json::Value = serde_json::from_str(&body).ok()?;
        json["data"]["result"].as_array()?.first()?["value"][1]
            .as_str()?
            .parse::<f64>()
            .ok()
    });
    assert_eq!(entries, Some(3.0));

    drop(prometheus);
    server.stop();
}
