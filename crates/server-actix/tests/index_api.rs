//! Indexes over HTTP: every log endpoint under `/registers/{name}/indexes/{index}/`, on both
//! backends: shapes, formats, paging links, ETag/304, proofs verified against the index log's
//! own Merkle tree, and an index dump that self-hosts the index in another register.

mod common;

use actix_web::test;
use common::{backends, get, get_with, state};
use register_core::merkle::{self, verify_consistency, verify_inclusion};
use register_core::{Digest, Entry, Item, ItemHash, Mode, Timestamp};
use server_actix::app;
use store_diesel::queries::Source;

const BASE: &str = "/registers/authority/indexes/by-kind";

fn pair(log: &str, key: &str, json: &str) -> String {
    let hash = Item::parse(json).expect("item").hash();
    format!("add-item\t{json}\nappend-entry\t{log}\t{key}\t2020-01-01T00:00:00Z\t{hash}\n")
}

fn hash_of(json: &str) -> ItemHash {
    Item::parse(json).expect("item").hash()
}

const LND_CTY: &str = r#"{"authority":"LND","kind":"CTY"}"#;
const LEI_NMD: &str = r#"{"authority":"LEI","kind":"NMD"}"#;
const LND_NMD: &str = r#"{"authority":"LND","kind":"NMD"}"#;
const CHE_CTY: &str = r#"{"authority":"CHE","kind":"CTY"}"#;

/// `authority` with the index `by-kind`; the index log it makes:
/// 1 CTY [LND], 2 NMD [LEI], 3 CTY [] (LND left), 4 NMD [LEI, LND].
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
    rsf += &pair("user", "LND", LND_CTY);
    rsf += &pair("user", "LEI", LEI_NMD);
    rsf += &pair("user", "LND", LND_NMD);
    rsf
}

/// The index log above, as the spec derives it (the expected leaves).
fn expected_log() -> Vec<Entry> {
    let entry = |n: u64, number: u64, key: &str, items: &[&str]| Entry {
        entry_number: number,
        index_entry_number: n,
        timestamp: Timestamp::parse("2020-01-01T00:00:00Z").expect("timestamp"),
        key: key.to_string(),
        item_hashes: items.iter().map(|j| hash_of(j)).collect(),
    };
    vec![
        entry(1, 1, "CTY", &[LND_CTY]),
        entry(2, 2, "NMD", &[LEI_NMD]),
        entry(3, 3, "CTY", &[]),
        entry(4, 3, "NMD", &[LEI_NMD, LND_NMD]),
    ]
}

/// Chester joins CTY: index entry 5, CTY [CHE].
fn grow(store: &store_diesel::store::Store) {
    store
        .load_rsf(
            "authority",
            pair("user", "CHE", CHE_CTY).as_bytes(),
            Mode::Strict,
        )
        .expect("grow");
}

fn digest(text: &str) -> Digest {
    Digest::parse_prefixed(text).unwrap_or_else(|| panic!("not a hash: {text}"))
}

fn digests(value: &serde_json::Value) -> Vec<Digest> {
    value
        .as_array()
        .expect("a hash list")
        .iter()
        .map(|h| digest(h.as_str().expect("a string")))
        .collect()
}

/// `GET {BASE}/proof/{what}/merkle:sha-256`, which must answer 200 with JSON.
async fn proof_body<S, B>(service: &S, what: &str) -> serde_json::Value
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody + 'static,
{
    let reply = get(service, &format!("{BASE}/proof/{what}/merkle:sha-256")).await;
    assert_eq!(reply.status, 200, "{what}: {}", reply.text());
    reply.json()
}

#[actix_web::test]
async fn index_logs_are_served_like_registers() {
    for db in backends() {
        let label = db.label;
        db.store
            .load_rsf("authority", authorities().as_bytes(), Mode::Strict)
            .expect("load");
        let service = test::init_service(app(state(&db))).await;

        // Entries: the derived log, ADR-007 shapes, numbers as strings.
        let reply = get(&service, &format!("{BASE}/entries")).await;
        assert_eq!(reply.status, 200, "{label}: {}", reply.text());
        assert_eq!(reply.header("content-type"), "application/json");
        let entries = reply.json();
        let mut leaves_json = String::from("[");
        for (i, e) in expected_log().iter().enumerate() {
            if i > 0 {
                leaves_json.push(',');
            }
            e.write_leaf(&mut leaves_json);
        }
        leaves_json.push(']');
        assert_eq!(reply.text(), leaves_json, "{label}: entries are the leaves");
        assert_eq!(entries[2]["item-hash"], serde_json::json!([]), "{label}");

        // Summary of the index log, with its own ETag.
        let tree: Vec<Digest> = {
            let mut scratch = String::new();
            expected_log()
                .iter()
                .map(|e| e.leaf_hash(&mut scratch))
                .collect()
        };
        let mut memory = merkle::MemoryNodeStore::new();
        let mut frontier = merkle::Frontier::new();
        for leaf in &tree {
            frontier.append(*leaf, |level, index, hash| memory.push(level, index, hash));
        }
        let root = frontier.root();
        let summary = get(&service, &format!("{BASE}/register")).await;
        assert_eq!(summary.status, 200, "{label}: {}", summary.text());
        let tag = format!("\"4-{}\"", root.to_hex());
        assert_eq!(
            summary.header("etag"),
            tag,
            "{label}: ETag from size and root"
        );
        let body = summary.json();
        assert_eq!(body["total-entries"], 4, "{label}: {body}");
        assert_eq!(body["total-records"], 1, "{label}: only NMD has records");
        assert_eq!(body["total-items"], 3, "{label}: items ever named");
        assert_eq!(
            body["index-record"],
            serde_json::json!({"index": "by-kind", "field": "kind"})
        );
        let register = get(&service, "/registers/authority/register").await;
        assert_ne!(
            register.header("etag"),
            tag,
            "{label}: the register has its own"
        );
        assert_eq!(register.json().get("index-record"), None, "{label}");

        // 304 on every conditional read while the index log is unchanged.
        for path in [
            "register",
            "entries",
            "entries/2",
            "records",
            "records/NMD",
            "records/CTY/entries",
            &format!("items/{}", hash_of(LEI_NMD)),
            "download-rsf",
        ] {
            let reply = get_with(
                &service,
                &format!("{BASE}/{path}"),
                ("if-none-match", tag.as_str()),
            )
            .await;
            assert_eq!(reply.status, 304, "{label}: {path}: {}", reply.text());
            assert_eq!(reply.header("etag"), tag, "{label}: {path}");
            let stale = get_with(
                &service,
                &format!("{BASE}/{path}"),
                ("if-none-match", "\"3-00\""),
            )
            .await;
            assert_eq!(stale.status, 200, "{label}: {path}: {}", stale.text());
            assert_eq!(stale.header("etag"), tag, "{label}: {path}");
        }

        // Paging links over the index log.
        let first = get(&service, &format!("{BASE}/entries?start=1&limit=2")).await;
        assert_eq!(
            first.maybe_header("link"),
            Some(format!("<{BASE}/entries?start=3&limit=2>; rel=\"next\"").as_str()),
            "{label}"
        );
        let last = get(&service, &format!("{BASE}/entries.csv?start=3&limit=2")).await;
        assert_eq!(
            last.maybe_header("link"),
            Some(format!("<{BASE}/entries.csv?start=1&limit=2>; rel=\"previous\"").as_str()),
            "{label}"
        );
        assert_eq!(last.header("content-type"), "text/csv;charset=UTF-8");
        assert_eq!(
            last.text(),
            format!(
                "index-entry-number,entry-number,entry-timestamp,key,item-hash\r\n\
                 3,3,2020-01-01T00:00:00Z,CTY,\r\n\
                 4,3,2020-01-01T00:00:00Z,NMD,{};{}\r\n",
                hash_of(LEI_NMD),
                hash_of(LND_NMD)
            ),
            "{label}"
        );

        // One entry, both path forms, both formats.
        for path in ["entries/4", "entry/4.json"] {
            let one = get(&service, &format!("{BASE}/{path}")).await;
            assert_eq!(one.status, 200, "{label}: {path}");
            let mut expected = String::from("[");
            expected_log()[3].write_leaf(&mut expected);
            expected.push(']');
            assert_eq!(one.text(), expected, "{label}: {path}");
        }
        let csv = get_with(&service, &format!("{BASE}/entry/1"), ("accept", "text/csv")).await;
        assert!(
            csv.text().ends_with(&format!(
                "1,1,2020-01-01T00:00:00Z,CTY,{}\r\n",
                hash_of(LND_CTY)
            )),
            "{label}: {}",
            csv.text()
        );
        for missing in ["entries/0", "entries/5", "entry/5.csv"] {
            get(&service, &format!("{BASE}/{missing}"))
                .await
                .assert_error(404, missing);
        }

        // Records: the latest entry of each value that still has items.
        let record = get(&service, &format!("{BASE}/records/NMD")).await;
        assert_eq!(
            record.text(),
            format!(
                "{{\"NMD\":{{\"index-entry-number\":\"4\",\"entry-number\":\"3\",\
                 \"entry-timestamp\":\"2020-01-01T00:00:00Z\",\"key\":\"NMD\",\
                 \"item\":[{LEI_NMD},{LND_NMD}]}}}}"
            ),
            "{label}"
        );
        let csv = get(&service, &format!("{BASE}/record/NMD.csv")).await;
        assert_eq!(
            csv.text(),
            "index-entry-number,entry-number,entry-timestamp,key,authority,kind\r\n\
             4,3,2020-01-01T00:00:00Z,NMD,LEI,NMD\r\n\
             4,3,2020-01-01T00:00:00Z,NMD,LND,NMD\r\n",
            "{label}: a row per item, the register's fields"
        );
        get(&service, &format!("{BASE}/records/CTY"))
            .await
            .assert_error(404, "a value without records");
        let history = get(&service, &format!("{BASE}/records/CTY/entries")).await;
        let keys: Vec<(String, usize)> = history
            .json()
            .as_array()
            .expect("array")
            .iter()
            .map(|e| {
                (
                    e["index-entry-number"].as_str().expect("n").to_string(),
                    e["item-hash"].as_array().expect("list").len(),
                )
            })
            .collect();
        assert_eq!(
            keys,
            vec![("1".to_string(), 1), ("3".to_string(), 0)],
            "{label}"
        );
        get(&service, &format!("{BASE}/records/XYZ/entries"))
            .await
            .assert_error(404, "no such value");

        // Items: those the index log names, and only those.
        let item = get(&service, &format!("{BASE}/items/{}", hash_of(LND_CTY))).await;
        assert_eq!(item.status, 200, "{label}");
        assert_eq!(item.text(), LND_CTY);
        let system_item = hash_of(r#"{"name":"authority"}"#);
        get(&service, &format!("{BASE}/item/{system_item}"))
            .await
            .assert_error(404, "a register item the index never named");

        // Proofs over the index log's own tree.
        let proof = get(&service, &format!("{BASE}/proof/register/merkle:sha-256")).await;
        assert_eq!(
            proof.json(),
            serde_json::json!({
                "proof-identifier": "merkle:sha-256",
                "root-hash": root.to_string(),
                "total-entries": 4,
            }),
            "{label}"
        );
        for size in 1..=4u64 {
            let root_at = merkle::root_at(&memory, size).expect("root");
            for n in 1..=size {
                let body = proof_body(&service, &format!("entry/{n}/{size}")).await;
                assert_eq!(body["entry-number"], n.to_string(), "{label}");
                let path = digests(&body["merkle-audit-path"]);
                let leaf = tree[(n - 1) as usize];
                assert!(
                    verify_inclusion(&leaf, n - 1, size, &path, &root_at),
                    "{label}: inclusion of {n} in {size}"
                );
                // Another leaf does not verify with that path.
                let other = tree[(n % size) as usize];
                if size > 1 {
                    assert!(!verify_inclusion(&other, n - 1, size, &path, &root_at));
                }
            }
            for m in 1..=size {
                let body = proof_body(&service, &format!("consistency/{m}/{size}")).await;
                let nodes = digests(&body["merkle-consistency-nodes"]);
                let root_m = merkle::root_at(&memory, m).expect("root");
                assert!(
                    verify_consistency(m, size, &root_m, &root_at, &nodes),
                    "{label}: consistency {m}..{size}"
                );
            }
        }
        get(&service, &format!("{BASE}/proof/entry/5/4/merkle:sha-256"))
            .await
            .assert_error(404, "beyond the index log");
        get(
            &service,
            &format!("{BASE}/proof/consistency/1/5/merkle:sha-256"),
        )
        .await
        .assert_error(404, "beyond the index log");

        // Unknown index, unknown register: the envelope.
        for path in [
            "/registers/authority/indexes/nope/entries",
            "/registers/authority/indexes/nope/register",
            "/registers/authority/indexes/nope/proof/register/merkle:sha-256",
            "/registers/authority/indexes/nope/download-rsf",
            "/registers/nobody/indexes/by-kind/records",
        ] {
            get(&service, path).await.assert_error(404, path);
        }

        // Growth changes the index's ETag: the old one no longer gives 304.
        grow(&db.store);
        let after = get_with(
            &service,
            &format!("{BASE}/register"),
            ("if-none-match", tag.as_str()),
        )
        .await;
        assert_eq!(after.status, 200, "{label}");
        assert_ne!(after.header("etag"), tag);
        assert_eq!(after.json()["total-records"], 2, "{label}: CTY is back");

        // Records paging, newest first: CTY (entry 5) then NMD (entry 4).
        let page = get(&service, &format!("{BASE}/records?page-size=1")).await;
        assert_eq!(common::object_keys(page.text()), vec!["CTY"], "{label}");
        assert_eq!(
            page.maybe_header("link"),
            Some(format!("<{BASE}/records?page-index=2&page-size=1>; rel=\"next\"").as_str()),
        );
        let page = get(
            &service,
            &format!("{BASE}/records?page-index=2&page-size=1"),
        )
        .await;
        assert_eq!(common::object_keys(page.text()), vec!["NMD"], "{label}");
        assert_eq!(
            page.maybe_header("link"),
            Some(format!("<{BASE}/records?page-index=1&page-size=1>; rel=\"previous\"").as_str()),
        );
        get(&service, &format!("{BASE}/records?page-size=0"))
            .await
            .assert_error(400, "page-size 0");
    }
}

#[actix_web::test]
async fn an_index_dump_self_hosts_the_index() {
    for db in backends() {
        let label = db.label;
        db.store
            .load_rsf("authority", authorities().as_bytes(), Mode::Strict)
            .expect("load");
        grow(&db.store);
        let service = test::init_service(app(state(&db))).await;

        let dump = get(&service, &format!("{BASE}/download-rsf")).await;
        assert_eq!(dump.status, 200, "{label}: {}", dump.text());
        assert_eq!(dump.header("content-type"), "application/uk-gov-rsf");
        assert!(
            !dump.text().contains("assert-root-hash") && !dump.text().contains("\tsystem\t"),
            "{label}: {}",
            dump.text()
        );
        let emptying: Vec<&str> = dump
            .text()
            .lines()
            .filter(|l| l.starts_with("append-entry") && l.ends_with('\t'))
            .collect();
        assert_eq!(emptying.len(), 1, "{label}: index entry 3 empties a value");
        // Loads as an ordinary register whose records are the index's.
        let report = db
            .store
            .load_rsf("by-kind", dump.text().as_bytes(), Mode::Relaxed)
            .expect("the index dump loads");
        assert_eq!(
            report.total_entries, 5,
            "{label}: every index entry, the emptying one included"
        );
        for value in ["CTY", "NMD"] {
            let hosted = db
                .store
                .record("by-kind", value)
                .expect("read")
                .expect("record");
            let index = db
                .store
                .log_record(&Source::index("authority", "by-kind"), value)
                .expect("read")
                .expect("record");
            assert_eq!(hosted.items, index.items, "{label}: {value}");
        }

        // The ranged forms cover index entries m+1..n.
        let ranged = get(&service, &format!("{BASE}/download-rsf/3/4")).await;
        let appended: Vec<&str> = ranged
            .text()
            .lines()
            .filter(|l| l.starts_with("append-entry"))
            .collect();
        assert_eq!(appended.len(), 1, "{label}: entry 4 is NMD");
        assert!(appended[0].starts_with("append-entry\tuser\tNMD\t"));
        let tail = get(&service, &format!("{BASE}/download-rsf/4")).await;
        let appended: Vec<&str> = tail
            .text()
            .lines()
            .filter(|l| l.starts_with("append-entry"))
            .collect();
        assert_eq!(appended.len(), 1, "{label}: {}", tail.text());
        assert!(appended[0].starts_with("append-entry\tuser\tCTY\t"));
        assert!(tail.text().starts_with(&format!("add-item\t{CHE_CTY}\n")));
        get(&service, &format!("{BASE}/download-rsf/2/6"))
            .await
            .assert_error(404, "beyond the index log");
    }
}
