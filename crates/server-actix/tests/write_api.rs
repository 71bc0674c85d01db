//! The write API on both backends: `POST /registers/{name}/records` with one item or an
//! array, `DELETE …/records/{key}`; answers, refusals that name the record and change
//! nothing, unchanged records, timestamps, proofs that verify against the answered root.

mod common;

use actix_web::test::{init_service, TestRequest};
use base64::Engine as _;
use common::*;
use register_core::{merkle, Digest, Entry, ItemHash, Timestamp};
use store_diesel::accounts::Role;

const ADMIN: (&str, &str) = ("writer", "correct horse");

fn post(uri: &str, body: &str) -> TestRequest {
    TestRequest::post()
        .uri(uri)
        .insert_header(("content-type", JSON))
        .insert_header(basic(ADMIN.0, ADMIN.1))
        .set_payload(body.to_string())
}

fn entry_of(json: &serde_json::Value) -> Entry {
    Entry {
        entry_number: json["entry-number"].as_str().unwrap().parse().unwrap(),
        index_entry_number: json["index-entry-number"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
        timestamp: Timestamp::parse(json["entry-timestamp"].as_str().unwrap()).unwrap(),
        key: json["key"].as_str().unwrap().to_string(),
        item_hashes: json["item-hash"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| ItemHash::parse(h.as_str().unwrap()).unwrap())
            .collect(),
    }
}

fn digest(text: &str) -> Digest {
    Digest::parse_prefixed(text).expect("a sha-256 digest")
}

#[actix_web::test]
async fn records_are_written_read_back_and_proven() {
    for db in loaded() {
        db.store
            .add_user(ADMIN.0, ADMIN.1, Role::Admin)
            .expect(db.label);
        let app = init_service(server_actix::app(state(&db))).await;
        let label = db.label;

        // One object, any key order and spacing; the key is the primary field.
        let reply = send(
            &app,
            post(
                "/registers/colour/records?entry-timestamp=2024-05-06T07:08:09Z&proofs=true",
                r#"{ "name": "Green", "colour": "green" }"#,
            ),
        )
        .await;
        assert_eq!(reply.status, 201, "{label}: {}", reply.text());
        let body = reply.json();
        assert_eq!(body["register"], "colour", "{label}");
        assert_eq!(body["total-entries"], 4, "{label}: {body}");
        assert_eq!(body["unchanged"], serde_json::json!([]), "{label}");
        let entry = entry_of(&body["entries"][0]);
        assert_eq!(
            (entry.entry_number, entry.key.as_str()),
            (4, "green"),
            "{label}"
        );
        assert_eq!(entry.timestamp.to_string(), "2024-05-06T07:08:09Z");
        let item = get(
            &app,
            &format!("/registers/colour/items/{}", entry.item_hashes[0]),
        )
        .await;
        assert_eq!(
            item.text(),
            r#"{"colour":"green","name":"Green"}"#,
            "{label}"
        );
        // The proof verifies the entry's leaf against the root answered, which is the
        // register's root and the signed checkpoint's.
        let root = digest(body["root-hash"].as_str().unwrap());
        let path: Vec<Digest> = body["proofs"][0]["merkle-audit-path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| digest(h.as_str().unwrap()))
            .collect();
        let leaf = entry.leaf_hash(&mut String::new());
        assert!(
            merkle::verify_inclusion(&leaf, 3, 4, &path, &root),
            "{label}"
        );
        let register = get(&app, "/registers/colour/proof/register/merkle:sha-256")
            .await
            .json();
        assert_eq!(register["root-hash"], body["root-hash"], "{label}");
        let checkpoint = body["checkpoint"].as_str().expect("a signed checkpoint");
        assert!(
            checkpoint.contains(&format!(
                "\n4\n{}\n",
                base64::engine::general_purpose::STANDARD.encode(root.0)
            )),
            "{label}: {checkpoint}"
        );

        // An array: red unchanged (same item), blue changed, a new record.
        let reply = send(
            &app,
            post(
                "/registers/colour/records",
                r#"[{"colour":"red","name":"Scarlet"},{"colour":"blue","name":"Navy"},{"colour":"teal","name":"Teal"}]"#,
            ),
        )
        .await;
        assert_eq!(reply.status, 201, "{label}: {}", reply.text());
        let body = reply.json();
        let keys: Vec<&str> = body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["blue", "teal"], "{label}");
        assert_eq!(body["unchanged"][0]["key"], "red", "{label}");
        assert_eq!(body["total-entries"], 6, "{label}");
        assert!(body.get("proofs").is_none(), "{label}");

        // Nothing new: 200, no entries.
        let reply = send(
            &app,
            post(
                "/registers/colour/records",
                r#"{"colour":"teal","name":"Teal"}"#,
            ),
        )
        .await;
        assert_eq!(reply.status, 200, "{label}: {}", reply.text());
        assert_eq!(reply.json()["entries"], serde_json::json!([]), "{label}");

        // Removal: an entry with no items; the record is gone, its history stays.
        let delete = TestRequest::delete()
            .uri("/registers/colour/records/teal")
            .insert_header(basic(ADMIN.0, ADMIN.1));
        let reply = send(&app, delete).await;
        assert_eq!(reply.status, 201, "{label}: {}", reply.text());
        assert_eq!(
            reply.json()["entries"][0]["item-hash"],
            serde_json::json!([]),
            "{label}"
        );
        get(&app, "/registers/colour/records/teal")
            .await
            .assert_error(404, label);
        let history = get(&app, "/registers/colour/records/teal/entries").await;
        assert_eq!(history.json().as_array().unwrap().len(), 2, "{label}");
        let again = TestRequest::delete()
            .uri("/registers/colour/records/teal")
            .insert_header(basic(ADMIN.0, ADMIN.1));
        let reply = send(&app, again).await;
        reply.assert_error(404, label);
        assert!(reply.text().contains("no record 'teal'"), "{label}");
    }
}

#[actix_web::test]
async fn refusals_name_the_record_and_change_nothing() {
    for db in loaded() {
        db.store
            .add_user(ADMIN.0, ADMIN.1, Role::Admin)
            .expect(db.label);
        db.store
            .add_user("reader", "pass", Role::Partner)
            .expect(db.label);
        let app = init_service(server_actix::app(state(&db))).await;
        let label = db.label;
        let before = get(&app, "/registers/colour/register").await.json();
        let refusals = [
            (
                post(
                    "/registers/colour/records",
                    r#"[{"colour":"green","name":"Green"},{"colour":"pink","shade":"x"}]"#,
                ),
                422,
                "records[1]: field 'shade' is not a field of the register",
            ),
            (
                post("/registers/colour/records", r#"[{"name":"No key"}]"#),
                422,
                "records[0]: primary field 'colour' is missing or blank",
            ),
            (
                post(
                    "/registers/colour/records",
                    r#"[{"colour":"x"},{"colour":7}]"#,
                ),
                400,
                "records[1]: field 'colour' must be a string or a list of strings",
            ),
            (
                post("/registers/colour/records", "[{"),
                400,
                "the body is not a JSON array of items",
            ),
            (
                post(
                    "/registers/colour/records?entry-timestamp=yesterday",
                    r#"{"colour":"x"}"#,
                ),
                400,
                "entry-timestamp 'yesterday'",
            ),
            (
                post("/registers/nope/records", r#"{"colour":"x"}"#),
                404,
                "register 'nope' not found",
            ),
            (
                post("/registers/colour/records", r#"{"colour":"x"}"#)
                    .insert_header(("content-type", "application/x-www-form-urlencoded")),
                415,
                "application/json",
            ),
            (
                post("/registers/colour/records", r#"{"colour":"x"}"#)
                    .insert_header(basic("reader", "pass")),
                401,
                "admin",
            ),
            (
                post("/registers/colour/records", r#"{"colour":"x"}"#)
                    .insert_header(basic(ADMIN.0, "wrong")),
                401,
                "admin",
            ),
            (
                post("/registers/colour/indexes/x/records", r#"{"colour":"x"}"#),
                405,
                "method",
            ),
        ];
        for (request, status, message) in refusals {
            let reply = send(&app, request).await;
            reply.assert_error(status, &format!("{label}: {message}"));
            assert!(
                reply.json()["message_text"]
                    .as_str()
                    .unwrap()
                    .contains(message),
                "{label}: {}",
                reply.text()
            );
        }
        let after = get(&app, "/registers/colour/register").await.json();
        assert_eq!(after, before, "{label}");
        assert!(db.store.record("colour", "green").expect(label).is_none());
    }
}
