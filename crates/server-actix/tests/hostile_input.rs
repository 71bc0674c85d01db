//! Input a hostile client chooses (issue #17): register names, paging positions near
//! `u64::MAX`, `q=0` media ranges. Through `actix_web::test::init_service`, on both backends.

mod common;

use actix_web::test;
use common::{backends, basic, data, get, get_with, loaded, post_rsf, send, state, CSV, JSON};
use register_core::name::REGISTER_NAME_RULE;
use serde_json::json;
use server_actix::app;
use store_diesel::accounts::Role;

#[actix_web::test]
async fn a_register_is_only_created_under_a_valid_name() {
    let long = "a".repeat(30_000);
    for db in backends() {
        let l = db.label;
        db.store
            .add_user("admin", "secret", Role::Admin)
            .expect("admin");
        let app = test::init_service(app(state(&db))).await;
        for name in ["a%2Fb", "Colour", "a.b", "colour-", long.as_str()] {
            let uri = format!("/registers/{name}/load-rsf");
            let reply = send(
                &app,
                post_rsf(&uri, data("colour.rsf"), Some(basic("admin", "secret"))),
            )
            .await;
            assert_eq!(reply.status, 400, "{l} {:.80}: {}", name, reply.text());
            let body = reply.json();
            assert_eq!(body["success"], json!(false), "{l}");
            let details = body["details"].as_str().unwrap_or_default();
            assert!(details.contains(REGISTER_NAME_RULE), "{l}: {details}");
            assert!(details.len() < 400, "{l}: the name is shortened");
            // Reading a name that cannot exist is an ordinary 404.
            get(&app, &format!("/registers/{name}/register"))
                .await
                .assert_error(404, &format!("{l} {name:.80}"));
        }
        assert_eq!(get(&app, "/registers").await.json(), json!([]), "{l}");
    }
}

#[actix_web::test]
async fn huge_positions_give_empty_pages_and_links_that_never_wrap() {
    let max = u64::MAX;
    for db in loaded() {
        let l = db.label;
        let app = test::init_service(app(state(&db))).await;
        let base = "/registers/country/entries";
        for (start, limit, previous) in [
            (max, 5000, max - 5000),
            (max - 10, 100, max - 110),
            (1 << 63, 1, (1 << 63) - 1),
        ] {
            let reply = get(&app, &format!("{base}?start={start}&limit={limit}")).await;
            assert_eq!(reply.status, 200, "{l} start={start}: {}", reply.text());
            assert_eq!(reply.json(), json!([]), "{l} start={start}");
            assert_eq!(
                reply.header("link"),
                format!("<{base}?start={previous}&limit={limit}>; rel=\"previous\""),
                "{l} start={start}: no next page, and the previous one did not wrap"
            );
        }
        let base = "/registers/country/records";
        for (index, size) in [(max, 5000), (max, 1), ((1 << 63) + 1, 2)] {
            let reply = get(&app, &format!("{base}?page-index={index}&page-size={size}")).await;
            assert_eq!(
                reply.status,
                200,
                "{l} page-index={index}: {}",
                reply.text()
            );
            assert_eq!(reply.json(), json!({}), "{l} page-index={index}");
            assert_eq!(
                reply.header("link"),
                format!(
                    "<{base}?page-index={}&page-size={size}>; rel=\"previous\"",
                    index - 1
                ),
                "{l} page-index={index}"
            );
        }
        let reply = get(
            &app,
            &format!("/registers/country/records/name/Germany?page-index={max}"),
        )
        .await;
        assert_eq!(reply.status, 200, "{l}: {}", reply.text());
        assert_eq!(reply.json(), json!({}), "{l}");
        // Past u64: a clear 400.
        get(&app, &format!("{base}?page-index=1{max}"))
            .await
            .assert_error(400, l);
        get(&app, &format!("/registers/country/entries?start=1{max}"))
            .await
            .assert_error(400, l);
        // The pages for people do the same arithmetic.
        let html = ("accept", "text/html");
        let reply = get_with(
            &app,
            &format!("/registers/country/entries?start={max}&limit=5000"),
            html,
        )
        .await;
        assert_eq!(reply.status, 200, "{l}: {}", reply.text());
        assert!(
            reply.text().contains(&format!("No entries from {max}")),
            "{l}: {}",
            reply.text()
        );
        let reply = get_with(
            &app,
            &format!("/registers/country/records?page-index={max}&page-size=5000"),
            html,
        )
        .await;
        assert_eq!(reply.status, 200, "{l}: {}", reply.text());
        assert!(reply.text().contains("No records on this page"), "{l}");
        assert!(!reply.text().contains("page-index=1&"), "{l}: wrapped");
    }
}

#[actix_web::test]
async fn a_media_type_marked_q_zero_is_not_served() {
    for db in loaded() {
        let l = db.label;
        let app = test::init_service(app(state(&db))).await;
        let records = "/registers/country/records";
        for (uri, accept, status, content_type) in [
            (records, "application/json;q=0", 406, JSON),
            (records, "application/json;q=0, text/csv;q=0", 406, JSON),
            (records, "*/*;q=0", 406, JSON),
            (records, "text/html;q=0", 406, JSON),
            (records, "application/json;q=0, text/csv", 200, CSV),
            (records, "application/json;q=0, */*", 200, CSV),
            (records, "text/csv;q=0, */*", 200, JSON),
            (records, "text/html;q=0, application/json", 200, JSON),
            (records, "text/csv;q=0.5, application/json", 200, JSON),
            (
                "/registers/country/proof/register/merkle:sha-256",
                "application/json;q=0, */*",
                406,
                JSON,
            ),
            ("/registers/country/items/sha-256:6b18693874513ba13da54d61aafa7cad0c8f5573f3431d6f1c04b07ddb27d6bb", "application/json;q=0", 406, JSON),
            ("/registers", "application/json;q=0", 406, JSON),
            ("/registers", "application/json", 200, JSON),
        ] {
            let reply = get_with(&app, uri, ("accept", accept)).await;
            let context = format!("{l} {uri} {accept}");
            if status == 406 {
                reply.assert_error(406, &context);
            } else {
                assert_eq!(reply.status, status, "{context}: {}", reply.text());
                assert_eq!(reply.header("content-type"), content_type, "{context}");
            }
        }
    }
}
