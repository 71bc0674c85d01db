//! Errors actix writes itself still arrive in the API's JSON envelope.

use actix_web::test;
use server_actix::{app_with_body_limit, AppState};
use store_diesel::store::Store;

#[actix_web::test]
async fn oversized_bodies_get_413_in_the_envelope() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path().join("s.sqlite").to_str().expect("path")).expect("open");
    store
        .add_user("admin", "secret", store_diesel::accounts::Role::Admin)
        .expect("admin");
    let state = AppState::new(
        store,
        "test.example",
        server_actix::tokens::Tokens::new(b"a test secret of at least 32 bytes", "urn:test")
            .expect("tokens"),
    );
    let service = test::init_service(app_with_body_limit(state, 1024)).await;
    // A stranger's upload is refused for its credentials, before its size is even looked at.
    let request = test::TestRequest::post()
        .uri("/registers/colour/load-rsf")
        .set_payload("add-item\t{}\n".repeat(200))
        .to_request();
    let response = test::call_service(&service, request).await;
    assert_eq!(response.status().as_u16(), 401);
    let request = test::TestRequest::post()
        .uri("/registers/colour/load-rsf")
        .insert_header(("authorization", "Basic YWRtaW46c2VjcmV0"))
        .set_payload("add-item\t{}\n".repeat(200))
        .to_request();
    let response = test::call_service(&service, request).await;
    let status = response.status().as_u16();
    let body: serde_json::Value = test::read_body_json(response).await;
    // An admin's oversized upload: 413, in the envelope, naming the limit.
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["message_code"], 1413, "{body}");
    assert!(
        body["message_text"]
            .as_str()
            .is_some_and(|t| t.contains("limit")),
        "{body}"
    );
}
