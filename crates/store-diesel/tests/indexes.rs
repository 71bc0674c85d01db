//! Index logs in the store equal the in-memory derivation (register-core), however the data
//! arrives: in one load, in several, or with the index declared after the data.

mod common;

use common::{backends, log_root_at};
use register_core::{Item, Mode, Register};
use store_diesel::queries::Source;

fn line_pair(log: &str, key: &str, json: &str) -> String {
    let hash = Item::parse(json).expect("item").hash();
    format!("add-item\t{json}\nappend-entry\t{log}\t{key}\t2020-01-01T00:00:00Z\t{hash}\n")
}

fn metadata() -> String {
    let mut rsf = line_pair("system", "name", r#"{"name":"authority"}"#);
    for (field, cardinality) in [("authority", "1"), ("kind", "1"), ("tags", "n")] {
        rsf += &line_pair(
            "system",
            &format!("field:{field}"),
            &format!(r#"{{"cardinality":"{cardinality}","datatype":"string","field":"{field}"}}"#),
        );
    }
    rsf += &line_pair(
        "system",
        "register:authority",
        r#"{"fields":["authority","kind","tags"],"register":"authority"}"#,
    );
    rsf
}

fn declarations() -> String {
    line_pair(
        "system",
        "index:by-kind",
        r#"{"field":"kind","index":"by-kind"}"#,
    ) + &line_pair(
        "system",
        "index:by-tag",
        r#"{"field":"tags","index":"by-tag"}"#,
    )
}

/// Three batches of changes: new records, kind changes, tag changes, reverts.
fn batches() -> Vec<String> {
    let kinds = ["CTY", "NMD", "UA", "MD"];
    let tags = ["north", "south", "east", "west"];
    (0..3)
        .map(|batch| {
            let mut rsf = String::new();
            for i in 0..12usize {
                let key = format!("A{:02}", (i * 7 + batch * 5) % 10);
                let kind = kinds[(i + batch * 3) % kinds.len()];
                let tag1 = tags[(i + batch) % tags.len()];
                let tag2 = tags[(i * 3 + batch) % tags.len()];
                let json = format!(
                    r#"{{"authority":"{key}","kind":"{kind}","tags":["{tag1}","{tag2}"]}}"#
                );
                rsf += &line_pair("user", &key, &json);
            }
            rsf
        })
        .collect()
}

fn memory(rsf: &str) -> Register {
    let mut register = Register::new();
    register
        .load(rsf.as_bytes(), Mode::Relaxed)
        .expect("memory load");
    register
}

/// The metadata with both index declarations, before any data.
fn declare(store: &store_diesel::store::Store) {
    store
        .load_rsf(
            "authority",
            (metadata() + &declarations()).as_bytes(),
            Mode::Relaxed,
        )
        .expect("metadata");
}

/// Each batch as a load of its own.
fn load_batches(store: &store_diesel::store::Store, batches: &[String]) {
    for batch in batches {
        store
            .load_rsf("authority", batch.as_bytes(), Mode::Relaxed)
            .expect("batch");
    }
}

#[test]
fn index_logs_equal_the_in_memory_derivation() {
    let batches = batches();
    let everything = metadata() + &declarations() + &batches.concat();
    let expected = memory(&everything);
    for db in backends() {
        let store = &db.store;
        // Declared first, loaded in pieces.
        declare(store);
        load_batches(store, &batches);
        for index in ["by-kind", "by-tag"] {
            let stored = store
                .log_entries(&Source::index("authority", index), 1, 10_000)
                .expect("entries");
            let in_memory = expected.index(index).expect("index").entries();
            assert!(!stored.is_empty());
            assert_eq!(stored, in_memory, "{} {index}", db.label);
            for value in expected.index(index).expect("index").values() {
                let memory_record = expected
                    .index(index)
                    .and_then(|i| i.record(value))
                    .expect("record");
                let stored_record = store
                    .log_record(&Source::index("authority", index), value)
                    .expect("query");
                match stored_record {
                    Some(record) => assert_eq!(&record.entry, memory_record),
                    None => assert!(memory_record.item_hashes.is_empty(), "{value}"),
                }
            }
        }
    }
}

#[test]
fn an_index_declared_after_the_data_is_rebuilt_from_the_log() {
    let batches = batches();
    let expected = memory(&(metadata() + &batches.concat() + &declarations()));
    for db in backends() {
        let store = &db.store;
        store
            .load_rsf(
                "authority",
                (metadata() + &batches[0] + &batches[1]).as_bytes(),
                Mode::Relaxed,
            )
            .expect("data");
        // The declaration arrives with more data.
        store
            .load_rsf(
                "authority",
                (batches[2].clone() + &declarations()).as_bytes(),
                Mode::Relaxed,
            )
            .expect("declaration");
        for index in ["by-kind", "by-tag"] {
            let stored = store
                .log_entries(&Source::index("authority", index), 1, 10_000)
                .expect("entries");
            assert_eq!(
                stored,
                expected.index(index).expect("index").entries(),
                "{} {index}",
                db.label
            );
        }
        assert!(store
            .log_entries(&Source::index("authority", "nope"), 1, 10)
            .is_err());
    }
}

/// The RFC 6962 root of index entries, computed in memory from their leaves.
fn root_of(entries: &[register_core::Entry]) -> register_core::Digest {
    let mut frontier = register_core::merkle::Frontier::new();
    let mut scratch = String::new();
    for entry in entries {
        frontier.append(entry.leaf_hash(&mut scratch), |_, _, _| {});
    }
    frontier.root()
}

#[test]
fn index_trees_follow_every_load_and_are_rebuilt_when_missing() {
    use diesel::connection::SimpleConnection;

    let batches = batches();
    let expected = memory(&(metadata() + &declarations() + &batches.concat()));
    for db in backends() {
        let store = &db.store;
        declare(store);
        let empty = store
            .summary(&Source::index("authority", "by-kind"))
            .expect("a declared index has a summary before any data");
        assert_eq!(empty.total_entries, 0, "{}", db.label);
        assert_eq!(empty.root, register_core::merkle::empty_root());
        load_batches(store, &batches);
        let check = |store: &store_diesel::store::Store, when: &str| {
            for index in ["by-kind", "by-tag"] {
                let log = expected.index(index).expect("index");
                let summary = store
                    .summary(&Source::index("authority", index))
                    .expect("summary");
                assert_eq!(summary.total_entries, log.entries().len() as u64);
                assert_eq!(
                    summary.root,
                    root_of(log.entries()),
                    "{} {index} {when}",
                    db.label
                );
                let records = log
                    .values()
                    .filter(|v| log.record(v).is_some_and(|e| !e.item_hashes.is_empty()))
                    .count();
                assert_eq!(summary.total_records, records as u64, "{index} {when}");
                // Roots at every earlier size, from the stored subtrees.
                for size in 0..=log.entries().len() {
                    assert_eq!(
                        log_root_at(store, &Source::index("authority", index), size as u64)
                            .expect("root"),
                        root_of(&log.entries()[..size]),
                        "{} {index} size {size} {when}",
                        db.label
                    );
                }
            }
        };
        check(store, "after the loads");

        // A database from before the index tables: opening it builds the trees.
        db.conn()
            .expect("conn")
            .batch_execute(
                "DELETE FROM index_merkle_nodes; DELETE FROM index_items; DELETE FROM index_logs",
            )
            .expect("forget the index trees");
        assert!(store
            .summary(&Source::index("authority", "by-kind"))
            .is_err());
        let reopened = store_diesel::store::Store::open(&db.url).expect("reopen");
        check(&reopened, "after a reopen");
    }
}
