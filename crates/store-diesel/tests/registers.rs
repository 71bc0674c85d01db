//! Registers in the store: loads, vectors, proofs, exports, atomicity, concurrency.

mod common;

use common::{backends, data};
use register_core::Mode;
use store_diesel::queries::Source;
use store_diesel::store::Store;

const COUNTRY_ROOT: &str = "8d92e1e0af1d43c41e498e6baed0d0b3ea2770d1bf9d2afc04e9c4dad7795729";

fn hexes(digests: &[register_core::Digest]) -> Vec<String> {
    digests.iter().map(|d| d.to_hex()).collect()
}

#[test]
fn loads_match_the_vectors() {
    for db in backends() {
        let store = &db.store;
        let report = store
            .load_rsf("country", &data("country-data.rsf")[..], Mode::Strict)
            .unwrap_or_else(|e| panic!("{}: {e}", db.label));
        assert!(report.created);
        assert_eq!(report.total_entries, 208);
        assert_eq!(report.root.to_hex(), COUNTRY_ROOT, "{}", db.label);
        let summary = store.register("country").expect("summary");
        assert_eq!(summary.total_entries, 208);
        assert_eq!(summary.system_entries, 16);
        assert_eq!(summary.total_items, 224);
        let distinct_keys: std::collections::BTreeSet<String> = store
            .log_entries(&Source::register("country"), 1, 1000)
            .expect("entries")
            .into_iter()
            .map(|e| e.key)
            .collect();
        assert_eq!(summary.total_records, distinct_keys.len() as u64);
        assert_eq!(
            summary.system_root.to_hex(),
            "e8568db5dd2ce21d060412355123a76da4422a87541cf42bd8f2414cc5b5782b"
        );
        assert_eq!(
            store.root_at("country", 197).expect("root").to_hex(),
            "7114404b04a67c2272a32964b463212c21c49d5a6e73f2c628eabfd18f63633f"
        );
        let country = Source::register("country");
        assert_eq!(
            hexes(
                &store
                    .log_consistency_proof(&country, 197, 200)
                    .expect("proof")
            )
            .first()
            .map(String::as_str),
            Some("73f13521226acdfa2a610c7bfdc955fa52aea1d554dd247011312ee48686a538")
        );
        assert_eq!(
            hexes(&store.log_inclusion_proof(&country, 10, 200).expect("proof"))
                .last()
                .map(String::as_str),
            Some("ca77ecfa5a4e847c65fda8f41f73758456814acf473bab2811516aeaac17f7cc")
        );

        let colour = store
            .load_rsf("colour", &data("colour.rsf")[..], Mode::Strict)
            .expect("colour");
        assert_eq!(colour.summary.asserts, 4);
        assert_eq!(
            hexes(
                &store
                    .log_inclusion_proof(&Source::register("colour"), 1, 3)
                    .expect("proof")
            ),
            vec![
                "f5617122f9c9a6674cce13785fec8e06ead6188f94fc44f9d376773dda6997ad",
                "eae87aa9b164624248fae74d7a94fda8ed80b7b7c64877a9747d6e4035336980"
            ]
        );
        let names: Vec<String> = store
            .registers()
            .expect("list")
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, vec!["colour", "country"]);
    }
}

fn export(store: &Store, name: &str, from: u64, to: Option<u64>) -> Vec<u8> {
    let mut out = Vec::new();
    store.export_rsf(name, from, to, &mut out).expect("export");
    out
}

#[test]
fn exports_round_trip_byte_for_byte() {
    for db in backends() {
        let store = &db.store;
        store
            .load_rsf("country", &data("country-data.rsf")[..], Mode::Strict)
            .expect("load");
        let dump = export(store, "country", 0, None);
        // The same dump as the in-memory register emits, byte for byte.
        let mut memory = register_core::Register::new();
        memory
            .load(&data("country-data.rsf")[..], Mode::Strict)
            .expect("memory");
        let mut expected = Vec::new();
        memory.write_rsf(&mut expected).expect("emit");
        assert_eq!(dump, expected, "{}", db.label);
        let verified = register_core::verify(&dump[..], Mode::Strict).expect("verify");
        assert_eq!(verified.root.to_hex(), COUNTRY_ROOT);

        // A ranged dump applies to a copy of exactly its starting size.
        let mut partial = Vec::new();
        memory
            .write_rsf_range(&mut partial, 100, 150)
            .expect("emit");
        assert_eq!(export(store, "country", 100, Some(150)), partial);
        let copy_db = common::another(&db);
        let copy = &copy_db.store;
        copy.load_rsf(
            "country",
            &export(store, "country", 0, Some(100))[..],
            Mode::Strict,
        )
        .expect("copy to 100");
        copy.load_rsf(
            "country",
            &export(store, "country", 100, Some(150))[..],
            Mode::Strict,
        )
        .expect("copy to 150");
        assert_eq!(
            copy.register("country").expect("copy").root,
            memory.root_at(150).expect("root")
        );
        let err = copy
            .load_rsf(
                "country",
                &export(store, "country", 100, Some(200))[..],
                Mode::Strict,
            )
            .expect_err("wrong base");
        assert!(
            err.to_string()
                .starts_with("line 1: Root hashes don't match"),
            "{err}"
        );
    }
}

#[test]
fn failed_loads_change_nothing() {
    let colour = String::from_utf8(data("colour.rsf")).expect("utf-8");
    let without_last_assert: String = colour.lines().take(17).map(|l| format!("{l}\n")).collect();
    let bad_assert = format!(
        "{without_last_assert}assert-root-hash\tsha-256:{}\n",
        "0".repeat(64)
    );
    let orphan = format!("{colour}add-item\t{{\"colour\":\"pink\",\"name\":\"Pink\"}}\n");
    let bad_value = format!(
        "{colour}add-item\t{{\"colour\":\"pink\",\"name\":\" \"}}\nappend-entry\tuser\tpink\t2020-01-01T00:00:00Z\tsha-256:{}\n",
        register_core::Item::parse(r#"{"colour":"pink","name":" "}"#).expect("item").hash().0.to_hex()
    );
    for db in backends() {
        let store = &db.store;
        store
            .load_rsf("country", &data("country-data.rsf")[..], Mode::Strict)
            .expect("load");
        for (rsf, line) in [(&bad_assert, 18), (&orphan, 19), (&bad_value, 20)] {
            let before = store.register("country").expect("summary");
            let err = store
                .load_rsf("colour", rsf.as_bytes(), Mode::Strict)
                .expect_err("must fail");
            assert_eq!(
                err.to_string().split(':').next(),
                Some(format!("line {line}").as_str()),
                "{err}"
            );
            assert!(
                store.register("colour").is_err(),
                "{}: a failed first load creates nothing",
                db.label
            );
            assert_eq!(store.register("country").expect("summary"), before);
        }
        // The same failures after a successful load leave that load's state.
        store
            .load_rsf("colour", &data("colour.rsf")[..], Mode::Strict)
            .expect("colour");
        let before = store.register("colour").expect("summary");
        let tail = "add-item\t{\"colour\":\"pink\",\"name\":\"Pink\"}\n";
        assert!(store
            .load_rsf("colour", tail.as_bytes(), Mode::Strict)
            .is_err());
        let stale = format!("assert-root-hash\tsha-256:{}\n", "1".repeat(64));
        assert!(store
            .load_rsf("colour", stale.as_bytes(), Mode::Strict)
            .is_err());
        assert_eq!(store.register("colour").expect("summary"), before);
        assert_eq!(
            store
                .log_entries(&Source::register("colour"), 1, 100)
                .expect("entries")
                .len(),
            3
        );
    }
}

#[test]
fn records_history_facets_and_items() {
    for db in backends() {
        let store = &db.store;
        store
            .load_rsf("colour", &data("colour.rsf")[..], Mode::Strict)
            .expect("colour");
        let red = store.record("colour", "red").expect("query").expect("red");
        assert_eq!(red.entry.entry_number, 3);
        assert_eq!(red.items[0].1, r#"{"colour":"red","name":"Scarlet"}"#);
        let keys: Vec<String> = store
            .log_records(&Source::register("colour"), 0, 10)
            .expect("records")
            .into_iter()
            .map(|r| r.entry.key)
            .collect();
        assert_eq!(keys, vec!["red", "blue"]);
        let history: Vec<u64> = store
            .log_history(&Source::register("colour"), "red")
            .expect("history")
            .iter()
            .map(|e| e.entry_number)
            .collect();
        assert_eq!(history, vec![1, 3]);
        let scarlet: Vec<String> = store
            .facet("colour", "name", "Scarlet", 0, 10)
            .expect("facet")
            .into_iter()
            .map(|r| r.entry.key)
            .collect();
        assert_eq!(scarlet, vec!["red"], "{}", db.label);
        assert!(
            store
                .facet("colour", "name", "Red", 0, 10)
                .expect("facet")
                .is_empty(),
            "old values are not current"
        );
        assert!(store
            .log_item(&Source::register("colour"), &red.items[0].0)
            .expect("item")
            .is_some());
        assert!(store.record("colour", "green").expect("query").is_none());
        assert!(matches!(
            store.register("nope"),
            Err(store_diesel::error::StoreError::RegisterNotFound(_))
        ));
        let meta = store.metadata("colour").expect("metadata");
        assert_eq!(
            meta.register_definition().map(|d| d.fields.clone()),
            Some(vec!["colour".to_string(), "name".to_string()])
        );
    }
}

#[test]
fn every_current_record_is_streamed_with_its_root() {
    for db in backends() {
        let store = &db.store;
        store
            .load_rsf("country", &data("country-data.rsf")[..], Mode::Strict)
            .expect("country");
        let mut seen = Vec::new();
        let root = store
            .for_each_record("country", |key, hashes| {
                seen.push((key.to_string(), hashes.to_vec()))
            })
            .expect("records");
        assert_eq!(root.to_hex(), COUNTRY_ROOT, "{}", db.label);
        let mut memory = register_core::Register::new();
        memory
            .load(&data("country-data.rsf")[..], Mode::Strict)
            .expect("memory");
        let mut expected: Vec<_> = memory
            .records()
            .into_iter()
            .map(|e| (e.key.clone(), e.item_hashes.clone()))
            .collect();
        // Entry order: oldest record first.
        expected.reverse();
        assert_eq!(seen.len(), 199, "{}", db.label);
        assert_eq!(seen, expected, "{}", db.label);
        assert!(matches!(
            store.for_each_record("nope", |_, _| {}),
            Err(store_diesel::error::StoreError::RegisterNotFound(_))
        ));
    }
}

#[test]
fn concurrent_loads_serialise() {
    for db in backends() {
        let store = db.store.clone();
        store
            .load_rsf("colour", &data("colour.rsf")[..], Mode::Strict)
            .expect("colour");
        // Eight threads each append their own key; every load must succeed, once each.
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let item = format!("{{\"colour\":\"c{i}\",\"name\":\"Colour {i}\"}}");
                    let hash = register_core::Item::parse(&item).expect("item").hash();
                    let rsf = format!("add-item\t{item}\nappend-entry\tuser\tc{i}\t2020-01-01T00:00:00Z\t{hash}\n");
                    store.load_rsf("colour", rsf.as_bytes(), Mode::Strict)
                })
            })
            .collect();
        for t in threads {
            t.join()
                .expect("thread")
                .unwrap_or_else(|e| panic!("{}: {e}", db.label));
        }
        let entries = store
            .log_entries(&Source::register("colour"), 1, 100)
            .expect("entries");
        let numbers: Vec<u64> = entries.iter().map(|e| e.entry_number).collect();
        assert_eq!(numbers, (1..=11).collect::<Vec<_>>(), "{}", db.label);
        // The stored tree agrees with a register rebuilt from the stored entries.
        let dump = export(&store, "colour", 0, None);
        let verified = register_core::verify(&dump[..], Mode::Strict).expect("verify");
        assert_eq!(
            verified.root,
            store.register("colour").expect("summary").root
        );
    }
}

/// Proofs that read cached upper nodes (level 10 and above, so trees of 1024+ entries) equal
/// the in-memory tree's, the first time and when answered from the cache.
#[test]
fn proofs_over_large_trees_match_memory_also_from_the_node_cache() {
    use register_core::merkle::{self, Frontier, MemoryNodeStore};
    use register_core::Item;

    let mut rsf = String::new();
    for i in 0..2100 {
        let json = format!("{{\"n\":\"{i}\"}}");
        let hash = Item::parse(&json).expect("item").hash();
        rsf.push_str(&format!(
            "add-item\t{json}\nappend-entry\tuser\tK{i}\t2020-01-01T00:00:00Z\t{hash}\n"
        ));
    }
    for db in backends() {
        let store = &db.store;
        store
            .load_rsf("big", rsf.as_bytes(), Mode::Relaxed)
            .expect("load");
        let mut memory = MemoryNodeStore::new();
        let mut frontier = Frontier::new();
        let mut scratch = String::new();
        for entry in store
            .log_entries(&Source::register("big"), 1, 5000)
            .expect("entries")
        {
            frontier.append(entry.leaf_hash(&mut scratch), |level, index, hash| {
                memory.push(level, index, hash)
            });
        }
        for round in ["read", "cached"] {
            for (n, size) in [
                (1, 2100),
                (1500, 2100),
                (2100, 2100),
                (700, 2048),
                (3, 1025),
            ] {
                assert_eq!(
                    store
                        .log_inclusion_proof(&Source::register("big"), n, size)
                        .expect("proof"),
                    merkle::inclusion_proof(&memory, n - 1, size).expect("memory"),
                    "{} {round}: entry {n} at {size}",
                    db.label
                );
            }
            for (m, n) in [(1024, 2100), (1500, 2048), (1, 2100)] {
                assert_eq!(
                    store
                        .log_consistency_proof(&Source::register("big"), m, n)
                        .expect("proof"),
                    merkle::consistency_proof(&memory, m, n).expect("memory"),
                    "{} {round}: {m}..{n}",
                    db.label
                );
            }
            assert_eq!(store.root_at("big", 2100).expect("root"), frontier.root());
        }
    }
}

#[test]
fn a_register_is_only_created_under_a_valid_name() {
    let rule = register_core::name::REGISTER_NAME_RULE;
    let long = "a".repeat(30_000);
    for db in backends() {
        let store = &db.store;
        let mirror = store_diesel::store::MirrorOf {
            partner: "https://partner.example".into(),
            plan: plan_core::PlanId(uuid::Uuid::new_v4()),
            slice: uuid::Uuid::new_v4(),
            target: None,
        };
        for name in ["a/b", "Colour", "colour-", "a--b", "", long.as_str()] {
            let local = store.load_rsf(name, &data("colour.rsf")[..], Mode::Relaxed);
            let mirrored = store.load_mirror_rsf(name, &data("colour.rsf")[..], &mirror);
            let subscribed =
                store.upsert_subscription(mirror.plan, mirror.slice, &mirror.partner, name);
            for refused in [local.map(|_| ()), mirrored.map(|_| ()), subscribed] {
                let message = refused.expect_err(db.label).to_string();
                assert!(message.contains(rule), "{}: {message}", db.label);
                assert!(message.len() < 400, "{}: the name is shortened", db.label);
            }
        }
        assert!(store.registers().expect("list").is_empty(), "{}", db.label);
        // The rule holds for creation only: a valid name loads as before.
        store
            .load_rsf("colour", &data("colour.rsf")[..], Mode::Strict)
            .expect(db.label);
    }
}
