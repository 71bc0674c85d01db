//! Entries with no items and unreferenced items (registers.md §6.1) in the store, on both
//! backends: records leave and come back, index values empty, dumps carry it all, and the
//! in-memory register (register-core) agrees.

mod common;

use common::backends;
use register_core::{Item, LogKind, Mode, Register};
use store_diesel::queries::Source;
use store_diesel::store::Store;

fn line_pair(log: &str, key: &str, json: &str) -> String {
    let hash = Item::parse(json).expect("item").hash();
    format!("add-item\t{json}\nappend-entry\t{log}\t{key}\t2020-01-01T00:00:00Z\t{hash}\n")
}

fn removal(key: &str) -> String {
    format!("append-entry\tuser\t{key}\t2020-02-01T00:00:00Z\t\n")
}

fn put(key: &str, kind: &str) -> String {
    line_pair(
        "user",
        key,
        &format!(r#"{{"colour":"{key}","kind":"{kind}"}}"#),
    )
}

/// A strict register `colour` with an index of its `kind` field, and four records.
fn base() -> String {
    let mut rsf = line_pair("system", "name", r#"{"name":"colour"}"#);
    for field in ["colour", "kind"] {
        rsf += &line_pair(
            "system",
            &format!("field:{field}"),
            &format!(r#"{{"cardinality":"1","datatype":"string","field":"{field}"}}"#),
        );
    }
    rsf += &line_pair(
        "system",
        "register:colour",
        r#"{"fields":["colour","kind"],"register":"colour"}"#,
    );
    rsf += &line_pair(
        "system",
        "index:by-kind",
        r#"{"field":"kind","index":"by-kind"}"#,
    );
    rsf + &put("red", "warm") + &put("orange", "warm") + &put("blue", "cold") + &put("teal", "cold")
}

fn memory(rsf: &str) -> Register {
    let mut register = Register::new();
    register
        .load(rsf.as_bytes(), Mode::Strict)
        .expect("memory load");
    register
}

fn keys(store: &Store, source: &Source) -> Vec<String> {
    store
        .log_records(source, 0, 100)
        .expect("records")
        .into_iter()
        .map(|r| r.entry.key)
        .collect()
}

fn dump(store: &Store, source: &Source) -> String {
    let mut out = Vec::new();
    store
        .log_export_rsf(source, 0, None, &mut out)
        .expect("export");
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn a_record_leaves_and_comes_back() {
    let colour = Source::register("colour");
    for db in backends() {
        let store = &db.store;
        let label = db.label;
        store
            .load_rsf("colour", base().as_bytes(), Mode::Strict)
            .expect(label);
        let report = store
            .load_rsf(
                "colour",
                (removal("orange") + &removal("teal")).as_bytes(),
                Mode::Strict,
            )
            .expect(label);
        assert_eq!(report.summary.user_entries, 2, "{label}");
        let summary = store.register("colour").expect(label);
        assert_eq!(
            (summary.total_entries, summary.total_records),
            (6, 2),
            "{label}"
        );
        assert!(store.record("colour", "orange").expect(label).is_none());
        assert_eq!(keys(store, &colour), ["blue", "red"], "{label}");
        let history = store.log_history(&colour, "orange").expect(label);
        assert_eq!(history.len(), 2, "{label}");
        assert!(history[1].item_hashes.is_empty(), "{label}");
        assert_eq!(
            store.log_entries(&colour, 5, 1).expect(label)[0].item_hashes,
            [],
            "{label}"
        );
        // A removed record has no facet row.
        assert!(store
            .facet("colour", "kind", "cold", 0, 10)
            .expect(label)
            .iter()
            .all(|r| r.entry.key != "teal"));
        let mut exported = Vec::new();
        store
            .for_each_record("colour", |key, _| exported.push(key.to_string()))
            .expect(label);
        exported.sort();
        assert_eq!(exported, ["blue", "red"], "{label}");

        // Rule 5: a second removal repeats the first; nothing changes.
        let err = store
            .load_rsf("colour", removal("orange").as_bytes(), Mode::Strict)
            .expect_err(label);
        assert!(
            err.to_string()
                .contains("entry for key 'orange' is identical to previous entry"),
            "{label}: {err}"
        );
        assert_eq!(store.register("colour").expect(label).total_entries, 6);

        // The same item as before brings it back.
        store
            .load_rsf("colour", put("orange", "warm").as_bytes(), Mode::Strict)
            .expect(label);
        let summary = store.register("colour").expect(label);
        assert_eq!(
            (summary.total_entries, summary.total_records),
            (7, 3),
            "{label}"
        );
        let record = store.record("colour", "orange").expect(label).expect(label);
        assert_eq!(record.entry.entry_number, 7, "{label}");

        // The store agrees with the in-memory register on the root and the records.
        let everything = base() + &removal("orange") + &removal("teal") + &put("orange", "warm");
        let expected = memory(&everything);
        assert_eq!(summary.root, expected.root(LogKind::User), "{label}");
        let want: Vec<&str> = expected.records().iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys(store, &colour), want, "{label}");

        // The dump carries the removal, and loads elsewhere to the same root and records.
        let text = dump(store, &colour);
        assert!(
            text.contains("append-entry\tuser\tteal\t2020-02-01T00:00:00Z\t\n"),
            "{label}: {text}"
        );
        let copy = memory(&text);
        assert_eq!(copy.root(LogKind::User), summary.root, "{label}");
        assert_eq!(copy.records(), expected.records(), "{label}");
        store
            .load_rsf("colour-copy", text.as_bytes(), Mode::Relaxed)
            .expect_err("the dump names its register");
        let ranged = {
            let mut out = Vec::new();
            store
                .export_rsf("colour", 4, Some(6), &mut out)
                .expect(label);
            String::from_utf8(out).expect("utf-8")
        };
        assert_eq!(
            ranged.matches("\t\n").count(),
            2,
            "{label}: both removals in 4..6: {ranged}"
        );
    }
}

#[test]
fn index_values_empty_and_their_rsf_self_hosts_the_index() {
    let by_kind = Source::index("colour", "by-kind");
    for db in backends() {
        let store = &db.store;
        let label = db.label;
        store
            .load_rsf("colour", base().as_bytes(), Mode::Strict)
            .expect(label);
        store
            .load_rsf(
                "colour",
                (removal("blue") + &removal("teal")).as_bytes(),
                Mode::Strict,
            )
            .expect(label);
        let entries = store.log_entries(&by_kind, 1, 100).expect(label);
        let last = entries.last().expect(label);
        assert_eq!(
            (last.key.as_str(), last.entry_number, last.item_hashes.len()),
            ("cold", 6, 0),
            "{label}"
        );
        assert!(store.log_record(&by_kind, "cold").expect(label).is_none());
        assert_eq!(keys(store, &by_kind), ["warm"], "{label}");
        assert_eq!(store.summary(&by_kind).expect(label).total_records, 1);

        let expected = memory(&(base() + &removal("blue") + &removal("teal")));
        assert_eq!(
            &entries[..],
            expected.index("by-kind").expect("index").entries(),
            "{label}"
        );

        // Loaded as a register elsewhere, the index's RSF has the index's records: `cold`
        // is gone there too.
        let text = dump(store, &by_kind);
        assert!(text.contains("append-entry\tuser\tcold\t"), "{label}");
        let mut copy = Register::new();
        copy.load(text.as_bytes(), Mode::Relaxed).expect(label);
        assert_eq!(copy.size(LogKind::User), entries.len() as u64, "{label}");
        let copied: Vec<(String, usize)> = copy
            .records()
            .iter()
            .map(|e| (e.key.clone(), e.item_hashes.len()))
            .collect();
        assert_eq!(copied, [("warm".to_string(), 2)], "{label}");
        store
            .load_rsf("by-kind", text.as_bytes(), Mode::Relaxed)
            .expect(label);
        assert_eq!(keys(store, &Source::register("by-kind")), ["warm"]);
    }
}

#[test]
fn relaxed_loads_keep_unreferenced_items_and_strict_ones_refuse_them() {
    let stray = r#"{"colour":"purple","kind":"cold"}"#;
    let hash = Item::parse(stray).expect("item").hash();
    let rsf = base() + &format!("add-item\t{stray}\n");
    let colour = Source::register("colour");
    for db in backends() {
        let store = &db.store;
        let label = db.label;
        let err = store
            .load_rsf("colour", rsf.as_bytes(), Mode::Strict)
            .expect_err(label);
        assert!(
            err.to_string()
                .contains(&format!("Orphan add item: {hash}")),
            "{label}: {err}"
        );
        assert!(store.register("colour").is_err(), "{label}: nothing stored");

        let report = store
            .load_rsf("colour", rsf.as_bytes(), Mode::Relaxed)
            .expect(label);
        assert_eq!(report.summary.unreferenced_items, 1, "{label}");
        let summary = store.register("colour").expect(label);
        // 5 system items, 4 user items, and the stray one.
        assert_eq!(summary.total_items, 10, "{label}");
        assert_eq!(summary.total_records, 4, "{label}");
        assert_eq!(
            store.log_item(&colour, &hash).expect(label).as_deref(),
            Some(stray),
            "{label}"
        );
        // Given again, it is counted again but not stored twice.
        let again = store
            .load_rsf(
                "colour",
                format!("add-item\t{stray}\n").as_bytes(),
                Mode::Relaxed,
            )
            .expect(label);
        assert_eq!(again.summary.unreferenced_items, 1, "{label}");
        assert_eq!(store.register("colour").expect(label).total_items, 10);
    }
}
