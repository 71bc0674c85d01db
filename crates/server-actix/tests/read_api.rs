//! The register HTTP API (registers.md §8–§9) through `actix_web::test::init_service`, on a
//! fresh database per backend: SQLite always, PostgreSQL when `TEST_DATABASE_URL` is set.

mod common;

use actix_web::test::{self, TestRequest};
use common::{
    assert_csv, assert_json_text, backends, basic, data, get, get_with, loaded, object_keys,
    post_rsf, send, state, JSON, RSF,
};
use register_core::Mode;
use serde_json::json;
use server_actix::app;
use store_diesel::accounts::Role;

const COUNTRY_ROOT: &str =
    "sha-256:8d92e1e0af1d43c41e498e6baed0d0b3ea2770d1bf9d2afc04e9c4dad7795729";
const COLOUR_ROOT: &str =
    "sha-256:f8bf199abd5ef0c25e36400dd5b24d517fe2ee0d6abe658a6c0abf1ac9989a62";
const COLOUR_KEY: &str =
    "registers.test/registers/colour+9654771d+AepKbGPinFIKvvVQexMuxfmVR3auvr57kkIe6mkURtIs";
const EMPTY_ROOT: &str = "sha-256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const ENTRY_10: &str = r#"{"index-entry-number":"10","entry-number":"10","entry-timestamp":"2016-04-05T13:23:05Z","key":"AD","item-hash":["sha-256:14fcb5099f0eff4c40d5a85b0e3c2f1a04337dc69dace1fc5c64ec9758a19b13"]}"#;
const GB_HASH: &str = "sha-256:6b18693874513ba13da54d61aafa7cad0c8f5573f3431d6f1c04b07ddb27d6bb";
const GB_ITEM: &str = r#"{"citizen-names":"Briton;British citizen","country":"GB","name":"United Kingdom","official-name":"The United Kingdom of Great Britain and Northern Ireland"}"#;
const ENTRIES_CSV_HEADER: &str = "index-entry-number,entry-number,entry-timestamp,key,item-hash";

/// A paging case: (query, what the page holds, next page's query, previous page's query).
type PageCase<R> = (&'static str, R, Option<&'static str>, Option<&'static str>);

/// The `Link` header a page should carry.
fn links(base: &str, next: Option<&str>, previous: Option<&str>) -> Option<String> {
    let mut links = Vec::new();
    if let Some(q) = next {
        links.push(format!("<{base}?{q}>; rel=\"next\""));
    }
    if let Some(q) = previous {
        links.push(format!("<{base}?{q}>; rel=\"previous\""));
    }
    (!links.is_empty()).then(|| links.join(", "))
}

fn prefixed(hexes: &[&str]) -> Vec<String> {
    hexes.iter().map(|h| format!("sha-256:{h}")).collect()
}

#[actix_web::test]
async fn registers_list_and_register_summary() {
    for db in loaded() {
        let l = db.label;
        let app = test::init_service(app(state(&db))).await;

        let reply = get(&app, "/registers").await;
        assert_eq!(reply.status, 200, "{l}");
        assert_eq!(reply.header("content-type"), JSON, "{l}");
        assert_eq!(
            reply.json(),
            json!([
                {"name": "colour", "total-entries": 3, "total-records": 2,
                 "root-hash": COLOUR_ROOT, "mirror": false},
                {"name": "country", "total-entries": 208, "total-records": 199,
                 "root-hash": COUNTRY_ROOT, "mirror": false},
            ]),
            "{l}"
        );

        let country = json!({
            "domain": "test.example",
            "total-records": 199,
            "total-entries": 208,
            "total-items": 224,
            "register-record": {
                "fields": ["country", "name", "official-name", "citizen-names", "start-date", "end-date"],
                "phase": "beta",
                "register": "country",
                "registry": "foreign-commonwealth-office",
                "text": "British English names of all countries currently recognised by the UK government",
            },
            "custodian": "David de Silva",
            // The test keys' fixed seeds make the verifier keys exact.
            "origin": "registers.test/registers/country",
            "checkpoint-key": "registers.test/registers/country+3a51712a+AepKbGPinFIKvvVQexMuxfmVR3auvr57kkIe6mkURtIs",
        });
        let colour = json!({
            "origin": "registers.test/registers/colour",
            "checkpoint-key": COLOUR_KEY,
            "domain": "test.example",
            "total-records": 2,
            "total-entries": 3,
            "total-items": 7,
            "register-record": {"fields": ["colour", "name"], "register": "colour", "text": "Example colours"},
            "custodian": null,
        });
        for (uri, expected) in [
            ("/registers/country/register", &country),
            ("/registers/country/register.json", &country),
            ("/registers/colour/register", &colour),
        ] {
            let reply = get(&app, uri).await;
            assert_eq!(reply.status, 200, "{l} {uri}: {}", reply.text());
            assert_eq!(reply.header("content-type"), JSON, "{l} {uri}");
            let mut body = reply.json();
            let updated = body
                .as_object_mut()
                .and_then(|o| o.remove("last-updated"))
                .unwrap_or_else(|| panic!("{l} {uri}: no last-updated"));
            let updated = updated.as_str().unwrap_or_default();
            assert!(
                chrono::NaiveDateTime::parse_from_str(updated, "%Y-%m-%dT%H:%M:%SZ").is_ok(),
                "{l} {uri}: last-updated '{updated}'"
            );
            assert_eq!(&body, expected, "{l} {uri}");
        }
        // The summary has one representation.
        get(&app, "/registers/country/register.csv")
            .await
            .assert_error(406, &format!("{l} register.csv"));
    }
}

#[actix_web::test]
async fn entries_pages_and_links() {
    let base = "/registers/country/entries";
    // (query, entry numbers served, next query, previous query)
    let table: [PageCase<std::ops::Range<u64>>; 8] = [
        ("", 1..101, Some("start=101&limit=100"), None),
        (
            "?start=101",
            101..201,
            Some("start=201&limit=100"),
            Some("start=1&limit=100"),
        ),
        ("?start=201", 201..209, None, Some("start=101&limit=100")),
        (
            "?start=5&limit=3",
            5..8,
            Some("start=8&limit=3"),
            Some("start=2&limit=3"),
        ),
        (
            "?start=206&limit=3",
            206..209,
            None,
            Some("start=203&limit=3"),
        ),
        (
            "?start=205&limit=3",
            205..208,
            Some("start=208&limit=3"),
            Some("start=202&limit=3"),
        ),
        ("?limit=5000", 1..209, None, None),
        (
            "?start=2&limit=208",
            2..209,
            None,
            Some("start=1&limit=208"),
        ),
    ];
    for db in loaded() {
        let l = db.label;
        let app = test::init_service(app(state(&db))).await;
        for (query, numbers, next, previous) in table.clone() {
            let context = format!("{l} entries{query}");
            let reply = get(&app, &format!("{base}{query}")).await;
            assert_eq!(reply.status, 200, "{context}: {}", reply.text());
            assert_eq!(reply.header("content-type"), JSON, "{context}");
            let body = reply.json();
            let entries = body.as_array().expect("an array");
            assert_eq!(entries.len(), numbers.clone().count(), "{context}");
            for (entry, n) in entries.iter().zip(numbers) {
                let n = n.to_string();
                assert_eq!(entry["entry-number"], json!(n), "{context}");
                assert_eq!(entry["index-entry-number"], json!(n), "{context}");
            }
            let expected = links(base, next, previous);
            assert_eq!(reply.maybe_header("link"), expected.as_deref(), "{context}");
        }
        for query in [
            "limit=0",
            "limit=5001",
            "limit=abc",
            "limit=-1",
            "start=0",
            "start=abc",
            "start=-3",
        ] {
            get(&app, &format!("{base}?{query}"))
                .await
                .assert_error(400, &format!("{l} entries?{query}"));
        }
        // Past the end: an empty page, not an error.
        let reply = get(&app, &format!("{base}?start=209")).await;
        assert_json_text(&reply, "[]", &format!("{l} past the end"));
    }
}

#[actix_web::test]
async fn one_entry_is_a_one_element_array() {
    let row_10 = "10,10,2016-04-05T13:23:05Z,AD,sha-256:14fcb5099f0eff4c40d5a85b0e3c2f1a04337dc69dace1fc5c64ec9758a19b13";
    for db in loaded() {
        let l = db.label;
        let app = test::init_service(app(state(&db))).await;
        for uri in [
            "/registers/country/entries/10",
            "/registers/country/entry/10",
            "/registers/country/entries/10.json",
            "/registers/country/entry/10.json",
        ] {
            let reply = get(&app, uri).await;
            assert_json_text(&reply, &format!("[{ENTRY_10}]"), &format!("{l} {uri}"));
        }
        for uri in [
            "/registers/country/entries/10.csv",
            "/registers/country/entry/10.csv",
        ] {
            let reply = get(&app, uri).await;
            assert_csv(&reply, &[ENTRIES_CSV_HEADER, row_10], &format!("{l} {uri}"));
        }
        let reply = get_with(&app, "/registers/country/entry/10", ("accept", "text/csv")).await;
        assert_csv(
            &reply,
            &[ENTRIES_CSV_HEADER, row_10],
            &format!("{l} accept csv"),
        );
        for (uri, status) in [
            ("/registers/country/entry/0", 404),
            ("/registers/country/entry/209", 404),
            ("/registers/country/entries/209", 404),
            ("/registers/nope/entry/1", 404),
            ("/registers/country/entry/abc", 400),
            ("/registers/country/entry/-1", 400),
        ] {
            get(&app, uri)
                .await
                .assert_error(status, &format!("{l} {uri}"));
        }
    }
}

#[actix_web::test]
async fn representations_by_suffix_and_accept() {
    let first_two = [
        ENTRIES_CSV_HEADER,
        "1,1,2016-04-05T13:23:05Z,SU,sha-256:e94c4a9ab00d951dadde848ee2c9fe51628b22ff2e0a88bff4cca6e4e6086d7a",
        "2,2,2016-04-05T13:23:05Z,DE,sha-256:e03f97c2806206cdc2cc0f393d09b18a28c6f3e6218fc8c6f3aa2fdd7ef9d625",
    ];
    for db in loaded() {
        let l = db.label;
        let app = test::init_service(app(state(&db))).await;
        let json_body = get(&app, "/registers/country/entries?limit=2").await;
        assert_eq!(json_body.status, 200, "{l}");
        assert_eq!(json_body.header("content-type"), JSON, "{l}");
        assert!(
            json_body.text().starts_with(r#"[{"index-entry-number":"1","entry-number":"1","entry-timestamp":"2016-04-05T13:23:05Z","key":"SU","item-hash":["sha-256:e94c"#),
            "{l}: {}",
            json_body.text()
        );
        // (uri, Accept, JSON?)
        for (uri, accept, is_json) in [
            ("/registers/country/entries.json?limit=2", None, true),
            (
                "/registers/country/entries?limit=2",
                Some("application/json"),
                true,
            ),
            ("/registers/country/entries?limit=2", Some("*/*"), true),
            ("/registers/country/entries?limit=2", Some(""), true),
            (
                "/registers/country/entries.json?limit=2",
                Some("text/csv"),
                true,
            ),
            ("/registers/country/entries.csv?limit=2", None, false),
            (
                "/registers/country/entries.csv?limit=2",
                Some("application/json"),
                false,
            ),
            (
                "/registers/country/entries?limit=2",
                Some("text/csv"),
                false,
            ),
            (
                "/registers/country/entries?limit=2",
                Some("text/csv; charset=utf-8"),
                false,
            ),
            (
                "/registers/country/entries?limit=2",
                Some("application/xml, text/csv;q=0.5"),
                false,
            ),
        ] {
            let context = format!("{l} {uri} Accept: {accept:?}");
            let reply = match accept {
                Some(accept) => get_with(&app, uri, ("accept", accept)).await,
                None => get(&app, uri).await,
            };
            if is_json {
                assert_json_text(&reply, json_body.text(), &context);
            } else {
                assert_csv(&reply, &first_two, &context);
            }
        }
        for (uri, accept) in [
            ("/registers/country/entries", "application/xml"),
            ("/registers/country/entry/1", "image/png"),
            ("/registers/country/records", "application/xml"),
            ("/registers/country/register", "text/csv"),
            ("/registers/country/items/sha-256:6b18693874513ba13da54d61aafa7cad0c8f5573f3431d6f1c04b07ddb27d6bb", "text/csv"),
        ] {
            get_with(&app, uri, ("accept", accept))
                .await
                .assert_error(406, &format!("{l} {uri} Accept: {accept}"));
        }
    }
}

#[actix_web::test]
async fn records_pages_and_one_record() {
    for db in loaded() {
        let l = db.label;
        let app = test::init_service(app(state(&db))).await;

        // Expected order: by each key's newest entry, newest first.
        let all = get(&app, "/registers/country/entries?limit=5000")
            .await
            .json();
        let mut newest = std::collections::HashMap::new();
        for entry in all.as_array().expect("entries") {
            let n: u64 = entry["entry-number"].as_str().unwrap().parse().unwrap();
            newest.insert(entry["key"].as_str().unwrap().to_string(), n);
        }
        let mut order: Vec<(String, u64)> = newest.into_iter().collect();
        order.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        let keys: Vec<String> = order.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(keys.len(), 199, "{l}");

        let base = "/registers/country/records";
        // (query, range of `keys`, next query, previous query)
        let table: [PageCase<std::ops::Range<usize>>; 5] = [
            ("", 0..100, Some("page-index=2&page-size=100"), None),
            (
                "?page-index=2",
                100..199,
                None,
                Some("page-index=1&page-size=100"),
            ),
            (
                "?page-size=5&page-index=3",
                10..15,
                Some("page-index=4&page-size=5"),
                Some("page-index=2&page-size=5"),
            ),
            ("?page-size=5000", 0..199, None, None),
            (
                "?page-index=3",
                199..199,
                None,
                Some("page-index=2&page-size=100"),
            ),
        ];
        for (query, range, next, previous) in table {
            let context = format!("{l} records{query}");
            let reply = get(&app, &format!("{base}{query}")).await;
            assert_eq!(reply.status, 200, "{context}: {}", reply.text());
            assert_eq!(reply.header("content-type"), JSON, "{context}");
            assert_eq!(
                object_keys(reply.text()),
                keys[range.clone()].to_vec(),
                "{context}"
            );
            let body = reply.json();
            for (key, n) in &order[range] {
                let record = &body[key];
                assert_eq!(
                    record["entry-number"],
                    json!(n.to_string()),
                    "{context} {key}"
                );
                assert_eq!(record["key"], json!(key), "{context} {key}");
                assert_eq!(
                    record["item"].as_array().map(Vec::len),
                    Some(1),
                    "{context} {key}"
                );
            }
            let expected = links(base, next, previous);
            assert_eq!(reply.maybe_header("link"), expected.as_deref(), "{context}");
        }
        for query in [
            "page-size=0",
            "page-size=5001",
            "page-size=x",
            "page-index=0",
            "page-index=x",
        ] {
            get(&app, &format!("{base}?{query}"))
                .await
                .assert_error(400, &format!("{l} records?{query}"));
        }

        let gb = format!(
            r#"{{"GB":{{"index-entry-number":"6","entry-number":"6","entry-timestamp":"2016-04-05T13:23:05Z","key":"GB","item":[{GB_ITEM}]}}}}"#
        );
        for uri in [
            "/registers/country/records/GB",
            "/registers/country/record/GB",
            "/registers/country/records/GB.json",
            "/registers/country/record/GB.json",
        ] {
            assert_json_text(&get(&app, uri).await, &gb, &format!("{l} {uri}"));
        }
        let gb_csv = [
            "index-entry-number,entry-number,entry-timestamp,key,country,name,official-name,citizen-names,start-date,end-date",
            "6,6,2016-04-05T13:23:05Z,GB,GB,United Kingdom,The United Kingdom of Great Britain and Northern Ireland,Briton;British citizen,,",
        ];
        for uri in [
            "/registers/country/records/GB.csv",
            "/registers/country/record/GB.csv",
        ] {
            assert_csv(&get(&app, uri).await, &gb_csv, &format!("{l} {uri}"));
        }
        assert_json_text(
            &get(&app, "/registers/country/records/GB/entries").await,
            &format!(
                r#"[{{"index-entry-number":"6","entry-number":"6","entry-timestamp":"2016-04-05T13:23:05Z","key":"GB","item-hash":["{GB_HASH}"]}}]"#
            ),
            &format!("{l} GB history"),
        );
        for uri in [
            "/registers/country/records/XX",
            "/registers/country/record/XX",
            "/registers/country/records/XX/entries",
            "/registers/nope/records",
            "/registers/nope/record/GB",
        ] {
            get(&app, uri)
                .await
                .assert_error(404, &format!("{l} {uri}"));
        }
    }
}

#[actix_web::test]
async fn colour_history_facets_and_records_csv() {
    let red_1 = r#"{"index-entry-number":"1","entry-number":"1","entry-timestamp":"2019-01-02T10:00:00Z","key":"red","item-hash":["sha-256:0246f5efebe7130536ffdc1fff60eb147a2b4f7f00db0bce3e79af1d85ea27f7"]}"#;
    let red_3 = r#"{"index-entry-number":"3","entry-number":"3","entry-timestamp":"2019-01-03T09:30:00Z","key":"red","item-hash":["sha-256:09aea2ccf84cd1a8d33bbf161920013345136c6a99a563b7484f46ea3a037eab"]}"#;
    let scarlet = r#"{"red":{"index-entry-number":"3","entry-number":"3","entry-timestamp":"2019-01-03T09:30:00Z","key":"red","item":[{"colour":"red","name":"Scarlet"}]}}"#;
    let blue = r#""blue":{"index-entry-number":"2","entry-number":"2","entry-timestamp":"2019-01-02T10:00:00Z","key":"blue","item":[{"colour":"blue","name":"Blue"}]}"#;
    for db in loaded() {
        let l = db.label;
        let app = test::init_service(app(state(&db))).await;
        assert_json_text(
            &get(&app, "/registers/colour/records/red/entries").await,
            &format!("[{red_1},{red_3}]"),
            &format!("{l} red history"),
        );
        assert_json_text(
            &get(&app, "/registers/colour/records").await,
            &format!("{},{blue}}}", &scarlet[..scarlet.len() - 1]),
            &format!("{l} colour records"),
        );
        assert_json_text(
            &get(&app, "/registers/colour/records/name/Scarlet").await,
            scarlet,
            &format!("{l} facet name=Scarlet"),
        );
        assert_json_text(
            &get(&app, "/registers/colour/records/colour/blue").await,
            &format!("{{{blue}}}"),
            &format!("{l} facet colour=blue"),
        );
        // Facets look at current records only: red is no longer Red.
        assert_json_text(
            &get(&app, "/registers/colour/records/name/Red").await,
            "{}",
            &format!("{l} facet name=Red"),
        );
        get(&app, "/registers/colour/records/size/big")
            .await
            .assert_error(404, &format!("{l} facet on an unknown field"));
        let header = "index-entry-number,entry-number,entry-timestamp,key,colour,name";
        let red_row = "3,3,2019-01-03T09:30:00Z,red,red,Scarlet";
        let blue_row = "2,2,2019-01-02T10:00:00Z,blue,blue,Blue";
        assert_csv(
            &get(&app, "/registers/colour/records.csv").await,
            &[header, red_row, blue_row],
            &format!("{l} records.csv"),
        );
        assert_csv(
            &get_with(&app, "/registers/colour/records", ("accept", "text/csv")).await,
            &[header, red_row, blue_row],
            &format!("{l} records Accept: text/csv"),
        );
        assert_csv(
            &get(&app, "/registers/colour/records/name/Scarlet.csv").await,
            &[header, red_row],
            &format!("{l} facet csv"),
        );
    }
}

#[actix_web::test]
async fn items_by_hash() {
    for db in loaded() {
        let l = db.label;
        let app = test::init_service(app(state(&db))).await;
        for uri in [
            format!("/registers/country/items/{GB_HASH}"),
            format!("/registers/country/item/{GB_HASH}"),
            format!("/registers/country/items/{GB_HASH}.json"),
        ] {
            assert_json_text(&get(&app, &uri).await, GB_ITEM, &format!("{l} {uri}"));
        }
        let zeros = format!("sha-256:{}", "0".repeat(64));
        for (uri, status) in [
            ("/registers/country/items/sha-256:zz".to_string(), 400),
            ("/registers/country/items/6b18693874513ba13da54d61aafa7cad0c8f5573f3431d6f1c04b07ddb27d6bb".to_string(), 400),
            (format!("/registers/country/item/{}", GB_HASH.to_uppercase()), 400),
            (format!("/registers/country/items/{zeros}"), 404),
            // Items belong to their register.
            (format!("/registers/colour/items/{GB_HASH}"), 404),
            (format!("/registers/nope/items/{GB_HASH}"), 404),
        ] {
            get(&app, &uri).await.assert_error(status, &format!("{l} {uri}"));
        }
    }
}

#[actix_web::test]
async fn proofs_match_the_vectors() {
    let entry_10_of_200 = prefixed(&[
        "f0ebeef6be205cfc5fb6b4a314294bdff471f5409594f742b0f30c8551278b4a",
        "8dc980062c4e6ffd2300b72cd5a6a67e23070aabec31911691c657c2e1dd37a6",
        "c48916df15f3f6e030d84bf0f8bb59460c472250d38db27b4cd2e7394fe0741d",
        "08e9d6bd5717717c1c40ba518ccf02cad9c412eae6052739552ecd4a668b4ec3",
        "43834a10ac7dcecc7bb274d67f79dc5da4c03efb6dadc20657595ca4b261df4d",
        "10d897e8df0096412f45e9c16c61eed7b335267d803872f85ce0d25218fc82eb",
        "e483ea76d5ca3fdcef64ae8a2c910d1e47b90507a364da8dc4878cacd48cd414",
        "ca77ecfa5a4e847c65fda8f41f73758456814acf473bab2811516aeaac17f7cc",
    ]);
    let entry_208_of_208 = prefixed(&[
        "f940d50f40f9880a2a02c7472c86d1e3cc376182fc989a6bdb928791d28817e6",
        "3ba1723d01205ee2a671e2de74289c9d0f8a2d80955df4eb322fdda1c212a0ed",
        "90dedbb4048ea219c4919dcec945b804f8b7ee059556bbac03b3cf485b15bf3e",
        "941193fe7db1a85a867afbf576ce75a4fb7573ad5b599a75628c1329977618f4",
        "6242c4d6fde2c79c26144deab292fc6702d321a7e79c535e146d25f356191f7c",
        "20b0c02232b50a587671ed9f465fb1a99923a08ff53951b8b9f4bb29648aa112",
    ]);
    let consistency_197_200 = prefixed(&[
        "73f13521226acdfa2a610c7bfdc955fa52aea1d554dd247011312ee48686a538",
        "8a16bb948f55ef959a5a7ddad5e2d1d398b50f3d7095aba1e97ad50c1fa374a9",
        "be8a541a0a763f88c8e4ff5f013e701e5f89c3f9cb744aadfaf19668189de514",
        "733c1adf88daff4ba4275b4ff86d373266c17eeb547ef54093ed14649d168865",
        "6242c4d6fde2c79c26144deab292fc6702d321a7e79c535e146d25f356191f7c",
        "20b0c02232b50a587671ed9f465fb1a99923a08ff53951b8b9f4bb29648aa112",
    ]);
    let colour_entry_1 = prefixed(&[
        "f5617122f9c9a6674cce13785fec8e06ead6188f94fc44f9d376773dda6997ad",
        "eae87aa9b164624248fae74d7a94fda8ed80b7b7c64877a9747d6e4035336980",
    ]);
    let colour_consistency =
        prefixed(&["eae87aa9b164624248fae74d7a94fda8ed80b7b7c64877a9747d6e4035336980"]);
    let entry = |n: &str, path: &[String]| json!({"proof-identifier": "merkle:sha-256", "entry-number": n, "merkle-audit-path": path});
    let consistency = |nodes: &[String]| json!({"proof-identifier": "merkle:sha-256", "merkle-consistency-nodes": nodes});
    let table = [
        (
            "/registers/country/proof/register/merkle:sha-256",
            json!({"proof-identifier": "merkle:sha-256", "root-hash": COUNTRY_ROOT, "total-entries": 208}),
        ),
        (
            "/registers/colour/proof/register/merkle:sha-256",
            json!({"proof-identifier": "merkle:sha-256", "root-hash": COLOUR_ROOT, "total-entries": 3}),
        ),
        (
            "/registers/country/proof/entry/10/200/merkle:sha-256",
            entry("10", &entry_10_of_200),
        ),
        (
            "/registers/country/proof/entry/208/208/merkle:sha-256",
            entry("208", &entry_208_of_208),
        ),
        (
            "/registers/country/proof/consistency/197/200/merkle:sha-256",
            consistency(&consistency_197_200),
        ),
        (
            "/registers/country/proof/consistency/200/200/merkle:sha-256",
            consistency(&[]),
        ),
        (
            "/registers/colour/proof/entry/1/3/merkle:sha-256",
            entry("1", &colour_entry_1),
        ),
        (
            "/registers/colour/proof/consistency/2/3/merkle:sha-256",
            consistency(&colour_consistency),
        ),
    ];
    for db in loaded() {
        let l = db.label;
        let app = test::init_service(app(state(&db))).await;
        for (uri, expected) in &table {
            let reply = get(&app, uri).await;
            assert_eq!(reply.status, 200, "{l} {uri}: {}", reply.text());
            assert_eq!(reply.header("content-type"), JSON, "{l} {uri}");
            assert_eq!(&reply.json(), expected, "{l} {uri}");
        }
        // Numbers in the entry proof are strings, the register's total a number: byte-exact.
        assert_eq!(
            get(&app, "/registers/colour/proof/register/merkle:sha-256")
                .await
                .text(),
            format!(
                r#"{{"proof-identifier":"merkle:sha-256","root-hash":"{COLOUR_ROOT}","total-entries":3}}"#
            ),
            "{l}"
        );
        for (uri, status) in [
            ("/registers/country/proof/entry/0/200/merkle:sha-256", 404),
            ("/registers/country/proof/entry/201/200/merkle:sha-256", 404),
            ("/registers/country/proof/entry/10/209/merkle:sha-256", 404),
            (
                "/registers/country/proof/consistency/200/197/merkle:sha-256",
                404,
            ),
            (
                "/registers/country/proof/consistency/197/209/merkle:sha-256",
                404,
            ),
            ("/registers/nope/proof/register/merkle:sha-256", 404),
            ("/registers/country/proof/entry/x/200/merkle:sha-256", 400),
            (
                "/registers/country/proof/consistency/1/y/merkle:sha-256",
                400,
            ),
            ("/registers/country/proof/register/merkle:sha-512", 404),
        ] {
            get(&app, uri)
                .await
                .assert_error(status, &format!("{l} {uri}"));
        }
    }
}

#[actix_web::test]
async fn download_rsf_full_and_ranged() {
    for db in loaded() {
        let l = db.label;
        let app = test::init_service(app(state(&db))).await;

        let full = get(&app, "/registers/country/download-rsf").await;
        assert_eq!(full.status, 200, "{l}: {}", full.text());
        assert_eq!(full.header("content-type"), RSF, "{l}");
        assert!(
            full.text()
                .starts_with(&format!("assert-root-hash\t{EMPTY_ROOT}\n")),
            "{l}"
        );
        assert!(
            full.text()
                .ends_with(&format!("assert-root-hash\t{COUNTRY_ROOT}\n")),
            "{l}"
        );
        let verified = register_core::verify(&full.body[..], Mode::Strict)
            .unwrap_or_else(|e| panic!("{l}: the full dump does not verify: {e}"));
        assert_eq!(verified.root.to_string(), COUNTRY_ROOT, "{l}");
        assert_eq!(verified.summary.user_entries, 208, "{l}");

        let colour = get(&app, "/registers/colour/download-rsf").await;
        let verified = register_core::verify(&colour.body[..], Mode::Strict).expect("colour dump");
        assert_eq!(verified.root.to_string(), COLOUR_ROOT, "{l}");

        let root = |size: u64| db.store.root_at("country", size).expect("root").to_string();
        let head = get(&app, "/registers/country/download-rsf/0/100").await;
        let from_100 = get(&app, "/registers/country/download-rsf/100").await;
        let middle = get(&app, "/registers/country/download-rsf/100/150").await;
        for (reply, m, n) in [(&head, 0, 100), (&from_100, 100, 208), (&middle, 100, 150)] {
            let context = format!("{l} download-rsf {m}..{n}");
            assert_eq!(reply.status, 200, "{context}: {}", reply.text());
            assert_eq!(reply.header("content-type"), RSF, "{context}");
            assert!(
                reply
                    .text()
                    .starts_with(&format!("assert-root-hash\t{}\n", root(m))),
                "{context}: {}",
                &reply.text()[..80.min(reply.text().len())]
            );
            assert!(
                reply
                    .text()
                    .ends_with(&format!("assert-root-hash\t{}\n", root(n))),
                "{context}"
            );
        }
        // Sync: 0..100 then 100.. rebuild the register in another database; a range that
        // does not start at the copy's size fails at its first assert.
        let copy = store_diesel::testing::another(&db);
        copy.store
            .load_rsf("country", &head.body[..], Mode::Strict)
            .unwrap_or_else(|e| panic!("{l}: loading 0..100: {e}"));
        copy.store
            .load_rsf("country", &from_100.body[..], Mode::Strict)
            .unwrap_or_else(|e| panic!("{l}: loading 100..: {e}"));
        assert_eq!(
            copy.store
                .register("country")
                .expect("copy")
                .root
                .to_string(),
            COUNTRY_ROOT
        );
        let stale = copy
            .store
            .load_rsf("country", &middle.body[..], Mode::Strict);
        assert!(
            stale
                .as_ref()
                .is_err_and(|e| e.to_string().contains("line 1")),
            "{l}: {stale:?}"
        );

        for (uri, status) in [
            ("/registers/country/download-rsf/209", 404),
            ("/registers/country/download-rsf/150/100", 404),
            ("/registers/country/download-rsf/0/209", 404),
            ("/registers/nope/download-rsf", 404),
            ("/registers/country/download-rsf/x", 400),
            ("/registers/country/download-rsf/1/y", 400),
        ] {
            get(&app, uri)
                .await
                .assert_error(status, &format!("{l} {uri}"));
        }
    }
}

/// colour.rsf up to its third assert (two user entries), and the rest (the third entry).
fn colour_in_two_parts() -> (Vec<u8>, Vec<u8>) {
    let text = String::from_utf8(data("colour.rsf")).expect("UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 18, "colour.rsf changed");
    let join = |lines: &[&str]| lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    (
        join(&lines[..15]).into_bytes(),
        join(&lines[15..]).into_bytes(),
    )
}

#[actix_web::test]
async fn etags_and_not_modified() {
    let (first, rest) = colour_in_two_parts();
    let uris = [
        "/registers/colour/register",
        "/registers/colour/entries",
        "/registers/colour/entries.csv",
        "/registers/colour/entry/1",
        "/registers/colour/records",
        "/registers/colour/records/red",
        "/registers/colour/records/red/entries",
        "/registers/colour/records/name/Red",
        "/registers/colour/items/sha-256:0246f5efebe7130536ffdc1fff60eb147a2b4f7f00db0bce3e79af1d85ea27f7",
        "/registers/colour/download-rsf",
    ];
    for db in backends() {
        let l = db.label;
        db.store
            .load_rsf("colour", &first[..], Mode::Strict)
            .expect("first part");
        let app = test::init_service(app(state(&db))).await;
        let mut tags = Vec::new();
        for uri in uris {
            let reply = get(&app, uri).await;
            assert_eq!(reply.status, 200, "{l} {uri}: {}", reply.text());
            let tag = reply.header("etag").to_string();
            assert!(
                tag.starts_with('"') && tag.ends_with('"'),
                "{l} {uri}: a strong tag, not {tag}"
            );
            let again = get_with(&app, uri, ("if-none-match", &tag)).await;
            assert_eq!(again.status, 304, "{l} {uri}");
            assert!(again.body.is_empty(), "{l} {uri}");
            assert_eq!(again.header("etag"), tag, "{l} {uri}");
            let listed = get_with(&app, uri, ("if-none-match", &format!("\"other\", {tag}"))).await;
            assert_eq!(listed.status, 304, "{l} {uri} in a list");
            let other = get_with(&app, uri, ("if-none-match", "\"other\"")).await;
            assert_eq!(other.status, 200, "{l} {uri} other tag");
            tags.push(tag);
        }
        // One state of the register, one tag.
        assert!(tags.iter().all(|t| *t == tags[0]), "{l}: {tags:?}");

        db.store
            .load_rsf("colour", &rest[..], Mode::Strict)
            .expect("the rest");
        for uri in uris {
            let reply = get_with(&app, uri, ("if-none-match", &tags[0])).await;
            assert_eq!(reply.status, 200, "{l} {uri} after a load");
            assert_ne!(reply.header("etag"), tags[0], "{l} {uri} after a load");
        }
    }
}

#[actix_web::test]
async fn cors_and_gzip() {
    for db in loaded() {
        let l = db.label;
        let app = test::init_service(app(state(&db))).await;
        for uri in [
            "/registers",
            "/registers/country/entries",
            "/registers/country/download-rsf",
        ] {
            let reply = get(&app, uri).await;
            assert_eq!(
                reply.header("access-control-allow-origin"),
                "*",
                "{l} {uri}"
            );
            assert_eq!(reply.maybe_header("content-encoding"), None, "{l} {uri}");
            let head = send(
                &app,
                TestRequest::default()
                    .method(actix_web::http::Method::HEAD)
                    .uri(uri),
            )
            .await;
            assert_eq!(head.status, 200, "{l} HEAD {uri}");
            assert_eq!(
                head.header("access-control-allow-origin"),
                "*",
                "{l} HEAD {uri}"
            );

            let zipped = get_with(&app, uri, ("accept-encoding", "gzip")).await;
            assert_eq!(zipped.status, 200, "{l} {uri}");
            assert_eq!(zipped.header("content-encoding"), "gzip", "{l} {uri}");
            assert_eq!(&zipped.body[..2], &[0x1f, 0x8b], "{l} {uri}: gzip magic");
        }
        // Errors of reads carry it too.
        let missing = get(&app, "/registers/nope/entries").await;
        assert_eq!(missing.header("access-control-allow-origin"), "*", "{l}");
    }
}

#[actix_web::test]
async fn errors_use_the_envelope() {
    for db in loaded() {
        let l = db.label;
        let app = test::init_service(app(state(&db))).await;
        for (method, uri, status) in [
            ("POST", "/registers/country/entries", 405),
            ("PUT", "/registers/country/register", 405),
            ("PUT", "/registers/country/records/GB", 405),
            // Removing a record is a write: credentials first.
            ("DELETE", "/registers/country/records/GB", 401),
            ("GET", "/registers/country/load-rsf", 405),
            ("POST", "/registers", 405),
            ("GET", "/nope", 404),
            ("GET", "/registers/country/nope", 404),
            ("GET", "/registers/nope/register", 404),
            ("GET", "/registers/nope/entries", 404),
            ("GET", "/registers/nope/records/name/Scarlet", 404),
            // A path segment that is not UTF-8 is decoded lossily: no such register.
            ("GET", "/registers/%FF/register", 404),
            // Query extractor errors: a repeated field, a value of the wrong type.
            ("GET", "/registers/country/entries?start=1&start=2", 400),
            (
                "GET",
                "/registers/country/records?page-size=1&page-size=2",
                400,
            ),
        ] {
            let method = actix_web::http::Method::from_bytes(method.as_bytes()).expect("method");
            let reply = send(&app, TestRequest::default().method(method.clone()).uri(uri)).await;
            reply.assert_error(status, &format!("{l} {method} {uri}"));
        }
    }
}

#[actix_web::test]
async fn load_rsf_needs_an_admin_and_is_all_or_nothing() {
    for db in backends() {
        let l = db.label;
        db.store
            .add_user("admin", "secret", Role::Admin)
            .expect("admin");
        db.store
            .add_user("partner", "secret", Role::Partner)
            .expect("partner");
        let app = test::init_service(app(state(&db))).await;
        let uri = "/registers/colour/load-rsf";
        let colour = data("colour.rsf");

        for (credentials, what) in [
            (None, "no credentials"),
            (Some(basic("admin", "wrong")), "a wrong password"),
            (Some(basic("nobody", "secret")), "an unknown user"),
            (Some(basic("partner", "secret")), "a partner"),
            (
                Some(("authorization".into(), "Bearer secret".into())),
                "a bearer that is no token",
            ),
            (
                Some(("authorization".into(), "Basic !!!".into())),
                "bad base64",
            ),
        ] {
            let reply = send(&app, post_rsf(uri, colour.clone(), credentials)).await;
            reply.assert_error(401, &format!("{l} {what}"));
            assert!(
                reply.header("www-authenticate").starts_with("Basic"),
                "{l} {what}"
            );
        }
        get(&app, "/registers/colour/register")
            .await
            .assert_error(404, &format!("{l} nothing was loaded"));

        // A new name creates the register.
        let reply = send(
            &app,
            post_rsf(uri, colour.clone(), Some(basic("admin", "secret"))),
        )
        .await;
        assert_eq!(reply.status, 200, "{l}: {}", reply.text());
        assert_eq!(reply.header("content-type"), JSON, "{l}");
        assert_eq!(
            reply.json(),
            json!({
                "success": true, "message": "success", "register": "colour", "created": true,
                "items-added": 7, "user-entries-added": 3, "system-entries-added": 4,
                "asserts": 4, "unreferenced-items": 0, "total-entries": 3, "root-hash": COLOUR_ROOT,
            }),
            "{l}"
        );
        let summary = get(&app, "/registers/colour/register").await.json();
        assert_eq!(summary["total-entries"], json!(3), "{l}");
        let before = get(&app, "/registers/colour/proof/register/merkle:sha-256")
            .await
            .json();
        assert_eq!(before["root-hash"], json!(COLOUR_ROOT), "{l}");

        // One valid entry, then a wrong assert on the last line: nothing changes.
        let green = r#"{"colour":"green","name":"Green"}"#;
        let hash = register_core::ItemHash::of_canonical(green.as_bytes());
        let bad = format!(
            "add-item\t{green}\nappend-entry\tuser\tgreen\t2019-01-04T00:00:00Z\t{hash}\nassert-root-hash\t{EMPTY_ROOT}\n"
        );
        let reply = send(
            &app,
            post_rsf(uri, bad.into_bytes(), Some(basic("admin", "secret"))),
        )
        .await;
        assert_eq!(reply.status, 400, "{l}: {}", reply.text());
        assert_eq!(reply.header("content-type"), JSON, "{l}");
        let body = reply.json();
        assert_eq!(body["success"], json!(false), "{l}: {body}");
        assert_eq!(body["message"], json!("Failed to load RSF"), "{l}: {body}");
        assert_eq!(body.as_object().map(|o| o.len()), Some(4), "{l}: {body}");
        assert_eq!(
            body["request_id"].as_str(),
            Some(reply.header("x-request-id")),
            "{l}: {body}"
        );
        let details = body["details"].as_str().unwrap_or_default();
        assert!(details.starts_with("line 3: "), "{l}: {details}");
        assert_eq!(
            get(&app, "/registers/colour/proof/register/merkle:sha-256")
                .await
                .json(),
            before,
            "{l}: a failed load changed the register"
        );
        let mut after = get(&app, "/registers/colour/register").await.json();
        let mut summary = summary;
        for s in [&mut after, &mut summary] {
            s.as_object_mut().map(|o| o.remove("last-updated"));
        }
        assert_eq!(after, summary, "{l}");
        get(&app, "/registers/colour/records/green")
            .await
            .assert_error(404, &format!("{l} green was rolled back"));

        // The RSF's name must match the path's.
        let reply = send(
            &app,
            post_rsf(
                "/registers/paint/load-rsf",
                colour.clone(),
                Some(basic("admin", "secret")),
            ),
        )
        .await;
        assert_eq!(reply.status, 400, "{l}: {}", reply.text());
        assert_eq!(reply.json()["message"], json!("Failed to load RSF"), "{l}");
        get(&app, "/registers/paint/register")
            .await
            .assert_error(404, &format!("{l} no paint register"));

        // Relaxed mode on request: a real file with identical consecutive system entries.
        let real = data("country-with-asserts.rsf");
        let strict = send(
            &app,
            post_rsf(
                "/registers/country/load-rsf",
                real.clone(),
                Some(basic("admin", "secret")),
            ),
        )
        .await;
        assert_eq!(strict.status, 400, "{l}: {}", strict.text());
        let relaxed = send(
            &app,
            post_rsf(
                "/registers/country/load-rsf?relaxed=true",
                real,
                Some(basic("admin", "secret")),
            ),
        )
        .await;
        assert_eq!(relaxed.status, 200, "{l}: {}", relaxed.text());
        assert_eq!(
            relaxed.json()["root-hash"],
            json!("sha-256:3bacea769627d20ed9a2cfde54173da3c9d630b3fc9ed80431a1cee2196c8a4a"),
            "{l}"
        );
        send(
            &app,
            post_rsf(
                "/registers/country/load-rsf?relaxed=maybe",
                vec![],
                Some(basic("admin", "secret")),
            ),
        )
        .await
        .assert_error(400, &format!("{l} relaxed=maybe"));
    }
}
