//! Indexes over HTTP: `/registers/{name}/indexes/{index}/…`, on both backends.

use actix_web::test;
use api_actix::server::{app, AppState};
use register_core::{Item, Mode};
use store_diesel::testing::backends;

fn pair(log: &str, key: &str, json: &str) -> String {
    let hash = Item::parse(json).expect("item").hash();
    format!("add-item\t{json}\nappend-entry\t{log}\t{key}\t2020-01-01T00:00:00Z\t{hash}\n")
}

fn authorities() -> String {
    let mut rsf = pair("system", "name", r#"{"name":"authority"}"#);
    for field in ["authority", "kind"] {
        rsf += &pair(
            "system",
            &format!("field:{field}"),
            &format!(r#"{{"cardinality":"1","datatype":"string","field":"{field}"}}"#),
        );
    }
    rsf += &pair(
        "system",
        "register:authority",
        r#"{"fields":["authority","kind"],"register":"authority"}"#,
    );
    rsf += &pair(
        "system",
        "index:by-kind",
        r#"{"field":"kind","index":"by-kind"}"#,
    );
    rsf += &pair("user", "LND", r#"{"authority":"LND","kind":"CTY"}"#);
    rsf += &pair("user", "LEI", r#"{"authority":"LEI","kind":"NMD"}"#);
    rsf += &pair("user", "LND", r#"{"authority":"LND","kind":"NMD"}"#);
    rsf
}

#[actix_web::test]
async fn index_entries_and_records() {
    for db in backends() {
        db.store
            .load_rsf("authority", authorities().as_bytes(), Mode::Strict)
            .expect("load");
        let service = test::init_service(app(AppState::new(
            db.store.clone(),
            "test.example",
            api_actix::server::tokens::Tokens::new(
                b"a test secret of at least 32 bytes",
                "urn:test",
            )
            .expect("tokens"),
        )))
        .await;
        let get = |uri: &str| test::TestRequest::get().uri(uri).to_request();

        let entries: serde_json::Value = test::call_and_read_body_json(
            &service,
            get("/registers/authority/indexes/by-kind/entries"),
        )
        .await;
        let keys: Vec<&str> = entries
            .as_array()
            .expect("array")
            .iter()
            .map(|e| e["key"].as_str().expect("key"))
            .collect();
        assert_eq!(keys, vec!["CTY", "NMD", "CTY", "NMD"], "{}", db.label);
        assert_eq!(
            entries[2]["item-hash"],
            serde_json::json!([]),
            "CTY emptied"
        );
        assert_eq!(entries[3]["entry-number"], "3");
        assert_eq!(entries[3]["index-entry-number"], "4");

        let record: serde_json::Value = test::call_and_read_body_json(
            &service,
            get("/registers/authority/indexes/by-kind/records/NMD"),
        )
        .await;
        let items = record["NMD"]["item"].as_array().expect("items");
        assert_eq!(items.len(), 2, "{record}");
        assert_eq!(items[0]["authority"], "LEI", "ordered by register key");

        let records: serde_json::Value = test::call_and_read_body_json(
            &service,
            get("/registers/authority/indexes/by-kind/records.json"),
        )
        .await;
        assert!(records.get("NMD").is_some());
        assert!(
            records.get("CTY").is_none(),
            "a value without records has no record"
        );

        let gone = test::call_service(
            &service,
            get("/registers/authority/indexes/by-kind/record/CTY"),
        )
        .await;
        assert_eq!(gone.status(), 404);
        let unknown =
            test::call_service(&service, get("/registers/authority/indexes/nope/entries")).await;
        assert_eq!(unknown.status(), 404);
        let csv = test::call_service(
            &service,
            get("/registers/authority/indexes/by-kind/entries.csv"),
        )
        .await;
        assert_eq!(
            csv.headers().get("content-type").map(|v| v.to_str().ok()),
            Some(Some("text/csv;charset=UTF-8"))
        );
    }
}
