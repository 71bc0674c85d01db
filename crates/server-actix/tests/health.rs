//! `/healthz` and `/readyz`: liveness without the database, readiness that fails while the
//! database refuses connections (or keys are missing) and recovers when it comes back.

mod common;

use actix_web::test;
use common::{backends, get};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use server_actix::{app, AppState};
use store_diesel::store::Store;

#[actix_web::test]
async fn probes_answer_on_both_backends() {
    for db in backends() {
        let l = db.label;
        let service = test::init_service(app(common::state(&db))).await;
        let health = get(&service, "/healthz").await;
        assert_eq!(
            (health.status.as_u16(), health.text()),
            (200, r#"{"status":"ok"}"#),
            "{l}"
        );
        assert_eq!(health.header("cache-control"), "no-store", "{l}");
        let ready = get(&service, "/readyz").await;
        assert_eq!(
            (ready.status.as_u16(), ready.text()),
            (200, r#"{"status":"ready"}"#),
            "{l}"
        );

        // A store without signing keys cannot serve loads: not ready, and says why.
        let unsigned = Store::open(&db.url).expect("store");
        let service = test::init_service(app(AppState::new(
            unsigned,
            common::DOMAIN,
            common::tokens(),
        )))
        .await;
        let reply = get(&service, "/readyz").await;
        reply.assert_error(503, &format!("{l} no keys"));
        assert!(
            reply.text().contains("no signing keys"),
            "{l}: {}",
            reply.text()
        );
        assert_eq!(get(&service, "/healthz").await.status, 200, "{l}");
    }
}

#[actix_web::test]
async fn readiness_fails_while_postgres_refuses_connections_and_recovers() {
    let Some(db) = store_diesel::testing::postgres() else {
        return;
    };
    let admin = std::env::var("TEST_DATABASE_URL").expect("set when postgres() answers");
    let name = db
        .url
        .rsplit('/')
        .next()
        .expect("a database name")
        .to_string();
    let service = test::init_service(app(common::state(&db))).await;
    assert_eq!(get(&service, "/readyz").await.status, 200);

    let mut conn = diesel::PgConnection::establish(&admin).expect("admin connection");
    conn.batch_execute(&format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid();"
    ))
    .expect("refuse connections");
    let reply = get(&service, "/readyz").await;
    reply.assert_error(503, "database down");
    assert!(reply.text().contains("does not answer"), "{}", reply.text());
    // Liveness does not depend on the database.
    assert_eq!(get(&service, "/healthz").await.status, 200);

    conn.batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .expect("allow connections");
    let reply = get(&service, "/readyz").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[actix_web::test]
async fn every_response_names_its_request() {
    let db = store_diesel::testing::sqlite();
    let service = test::init_service(app(common::state(&db))).await;
    let fresh = get(&service, "/healthz").await;
    let id = fresh.header("x-request-id").to_string();
    assert_eq!(id.len(), 32, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    let error = get(&service, "/registers/nope/register").await;
    assert_eq!(error.status, 404);
    assert_ne!(error.header("x-request-id"), id, "one id per request");
    // The error body quotes it too (assert_error checks it against the header).
    error.assert_error(404, "unknown register");

    // A load balancer's id reaches the error body, from a handler and from no route alike.
    for path in ["/registers/nope/records/GB", "/no/such/route"] {
        let reply = common::get_with(&service, path, ("x-request-id", "lb-42")).await;
        reply.assert_error(404, path);
        assert_eq!(reply.json()["request_id"], "lb-42", "{path}");
    }

    // A load balancer's id is kept; one that is not a plain token is replaced.
    for (given, kept) in [
        ("lb-7f3a.9_Z", true),
        ("has space", false),
        (&*"x".repeat(65), false),
    ] {
        let reply = common::get_with(&service, "/healthz", ("x-request-id", given)).await;
        assert_eq!(reply.header("x-request-id") == given, kept, "{given}");
    }
}
