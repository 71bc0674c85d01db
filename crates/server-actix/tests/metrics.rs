//! `GET /metrics`: the exposition after some requests, an unmatched path and a load on both
//! backends; the optional bearer token; metrics off. A real Prometheus scraping a running
//! server after a sync is in bins/api-actix/tests/prometheus.rs.

mod common;

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
        for _ in 0..node_service::lockout::LOCK_AFTER {
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
            Some(1.0 + node_service::lockout::LOCK_AFTER as f64),
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
