//! Records written as JSON (`Store::append_records`) on both backends: a batch applies each
//! request as a strict load of its records would, one refused request fails no other,
//! unchanged records are reported and not appended, and concurrent writers through two
//! stores on one database leave a gap-free log whose export verifies to the same root.

mod common;

use common::backends;
use register_core::write::{parse_items, RecordChange};
use register_core::{Item, Mode, Timestamp};
use store_diesel::error::StoreError;
use store_diesel::queries::Source;
use store_diesel::store::{AppendRequest, Store};

fn line_pair(log: &str, key: &str, json: &str) -> String {
    let hash = Item::parse(json).expect("item").hash();
    format!("add-item\t{json}\nappend-entry\t{log}\t{key}\t2020-01-01T00:00:00Z\t{hash}\n")
}

/// A strict register `colour` (fields `colour`, `kind`) with an index of `kind`, no records.
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
    rsf + &line_pair(
        "system",
        "index:by-kind",
        r#"{"field":"kind","index":"by-kind"}"#,
    )
}

fn at() -> Timestamp {
    Timestamp::parse("2024-01-02T03:04:05Z").expect("timestamp")
}

fn puts(body: &str) -> AppendRequest {
    AppendRequest {
        changes: parse_items(body)
            .expect("items")
            .into_iter()
            .map(RecordChange::Put)
            .collect(),
        timestamp: at(),
    }
}

fn removal(key: &str) -> AppendRequest {
    AppendRequest {
        changes: vec![RecordChange::Remove(key.into())],
        timestamp: at(),
    }
}

fn export(store: &Store) -> String {
    let mut out = Vec::new();
    store
        .export_rsf("colour", 0, None, &mut out)
        .expect("export");
    String::from_utf8(out).expect("utf-8")
}

/// The exported RSF verifies (strict) to the store's size and root.
fn assert_export_verifies(store: &Store, label: &str) -> u64 {
    let summary = store.register("colour").expect("summary");
    let verified = register_core::verify(export(store).as_bytes(), Mode::Strict).expect(label);
    assert_eq!(
        verified.summary.user_entries, summary.total_entries,
        "{label}"
    );
    assert_eq!(verified.root, summary.root, "{label}");
    summary.total_entries
}

#[test]
fn one_refused_request_fails_alone_and_the_rest_apply_in_order() {
    for db in backends() {
        let store = &db.store;
        store
            .load_rsf("colour", base().as_bytes(), Mode::Strict)
            .expect(db.label);
        let requests = vec![
            puts(r#"[{"colour":"red","kind":"warm"},{"colour":"blue","kind":"cold"}]"#),
            // The second record names a field the register does not have.
            puts(r#"[{"colour":"green","kind":"cold"},{"colour":"teal","shade":"x"}]"#),
            // Red again with the same item: reported, not appended; blue changes.
            puts(r#"[{"kind":"warm","colour":"red"},{"colour":"blue","kind":"warm"}]"#),
            removal("red"),
            removal("nothing"),
        ];
        let batch = store.append_records("colour", &requests).expect(db.label);
        assert_eq!(batch.total_entries, 4, "{}", db.label);
        let ok = |k: usize| batch.results[k].as_ref().expect(db.label);
        let numbers =
            |k: usize| -> Vec<u64> { ok(k).entries.iter().map(|e| e.entry_number).collect() };
        assert_eq!(numbers(0), vec![1, 2], "{}", db.label);
        let refused = batch.results[1].as_ref().unwrap_err().to_string();
        assert_eq!(
            refused, "records[1]: field 'shade' is not a field of the register",
            "{}",
            db.label
        );
        assert_eq!(numbers(2), vec![3], "{}", db.label);
        assert_eq!(ok(2).unchanged.len(), 1, "{}", db.label);
        assert_eq!(ok(2).unchanged[0].0, "red", "{}", db.label);
        assert_eq!(numbers(3), vec![4], "{}", db.label);
        assert!(ok(3).entries[0].item_hashes.is_empty(), "{}", db.label);
        assert!(matches!(
            &batch.results[4],
            Err(StoreError::Register(e)) if e.to_string() == "records[0]: there is no record 'nothing' to remove"
        ));

        // Nothing of the refused request was stored; counts and root are the log's.
        assert!(store.record("colour", "green").expect(db.label).is_none());
        let summary = store.register("colour").expect(db.label);
        assert_eq!(summary.total_records, 1, "{}", db.label);
        assert_eq!(summary.root, batch.root, "{}", db.label);
        assert_eq!(assert_export_verifies(store, db.label), 4);
        // The index followed: blue moved to warm, red left.
        let kinds = store
            .log_records(&Source::index("colour", "by-kind"), 0, 10)
            .expect(db.label);
        let keys: Vec<&str> = kinds.iter().map(|r| r.entry.key.as_str()).collect();
        assert_eq!(keys, vec!["warm"], "{}", db.label);
        // The batch signed one checkpoint, at its final size.
        let note = store
            .checkpoint(&Source::register("colour"), Some(4))
            .expect(db.label);
        assert!(note.is_some(), "{}", db.label);
    }
}

#[test]
fn a_batch_of_only_unchanged_or_refused_requests_changes_nothing() {
    for db in backends() {
        let store = &db.store;
        store
            .load_rsf("colour", base().as_bytes(), Mode::Strict)
            .expect(db.label);
        store
            .append_records("colour", &[puts(r#"{"colour":"red","kind":"warm"}"#)])
            .expect(db.label);
        let before = store.register("colour").expect(db.label);
        let batch = store
            .append_records(
                "colour",
                &[
                    puts(r#"{"colour":"red","kind":"warm"}"#),
                    puts(r#"{"colour":"red"}"#.replace("red", "RED ").as_str()),
                ],
            )
            .expect(db.label);
        assert!(batch.results[0]
            .as_ref()
            .expect(db.label)
            .entries
            .is_empty());
        assert!(batch.results[1].is_err(), "{}", db.label);
        let after = store.register("colour").expect(db.label);
        assert_eq!(
            (after.total_entries, after.root, after.updated_at),
            (before.total_entries, before.root, before.updated_at),
            "{}",
            db.label
        );
    }
}

#[test]
fn unknown_registers_and_bad_names_are_refused_whole() {
    for db in backends() {
        let store = &db.store;
        let e = store
            .append_records("colour", &[puts(r#"{"colour":"red"}"#)])
            .unwrap_err();
        assert!(
            matches!(e, StoreError::RegisterNotFound(_)),
            "{}: {e}",
            db.label
        );
        let e = store
            .append_records("a b", &[puts(r#"{"colour":"red"}"#)])
            .unwrap_err();
        assert!(matches!(e, StoreError::Register(_)), "{}: {e}", db.label);
    }
}

#[test]
fn concurrent_writers_through_two_stores_leave_a_gap_free_log() {
    for db in backends() {
        db.store
            .load_rsf("colour", base().as_bytes(), Mode::Strict)
            .expect(db.label);
        let second = Store::open(&db.url).expect(db.label);
        let stores = [db.store.clone(), second];
        std::thread::scope(|scope| {
            for writer in 0..8 {
                let store = stores[writer % 2].clone();
                scope.spawn(move || {
                    for n in 0..10 {
                        let body = format!(
                            r#"[{{"colour":"c{writer}-{n}","kind":"k{n}"}},{{"colour":"d{writer}","kind":"k{n}"}}]"#
                        );
                        let batch = store.append_records("colour", &[puts(&body)]);
                        let batch = batch.expect("batch");
                        batch.results[0].as_ref().expect("request");
                    }
                });
            }
        });
        // 8 writers × 10 requests × 2 records, every one a new entry.
        assert_eq!(assert_export_verifies(&db.store, db.label), 160);
        let summary = db.store.register("colour").expect(db.label);
        assert_eq!(summary.total_records, 8 * 10 + 8, "{}", db.label);
        let entries = db
            .store
            .log_entries(&Source::register("colour"), 0, 200)
            .expect(db.label);
        let numbers: Vec<u64> = entries.iter().map(|e| e.entry_number).collect();
        assert_eq!(numbers, (1..=160).collect::<Vec<u64>>(), "{}", db.label);
    }
}

#[test]
fn a_store_writing_after_another_store_loaded_sees_the_new_fields_and_tree() {
    for db in backends() {
        let l = db.label;
        let first = &db.store;
        first
            .load_rsf("colour", base().as_bytes(), Mode::Strict)
            .expect(l);
        let written = first
            .append_records("colour", &[puts(r#"{"colour":"red","kind":"warm"}"#)])
            .expect(l);
        // The checkpoint a batch answers with is the one kept for that size.
        let kept = first
            .checkpoint(&Source::register("colour"), Some(written.total_entries))
            .expect(l);
        assert!(written.checkpoint.is_some(), "{l}");
        assert_eq!(written.checkpoint, kept, "{l}");

        // Another store (another process) adds a field and an entry behind the first's back.
        let second = Store::open(&db.url).expect(l);
        let mut more = line_pair(
            "system",
            "field:shade",
            r#"{"cardinality":"1","datatype":"string","field":"shade"}"#,
        );
        more += &line_pair(
            "system",
            "register:colour",
            r#"{"fields":["colour","kind","shade"],"register":"colour"}"#,
        );
        more += &line_pair("user", "blue", r#"{"colour":"blue","kind":"cold"}"#);
        second
            .load_rsf("colour", more.as_bytes(), Mode::Strict)
            .expect(l);

        // The first store's next batches use the new field and continue the new tree.
        for (k, body) in [
            r#"{"colour":"teal","shade":"dark"}"#,
            r#"{"colour":"teal","shade":"light"}"#,
        ]
        .into_iter()
        .enumerate()
        {
            let batch = first.append_records("colour", &[puts(body)]).expect(l);
            let appended = batch.results[0].as_ref().expect(l);
            assert_eq!(appended.entries[0].entry_number, 3 + k as u64, "{l}");
            assert_eq!(batch.root, second.register("colour").expect(l).root, "{l}");
        }
        assert_eq!(assert_export_verifies(first, l), 4);
    }
}

#[test]
fn an_item_the_register_holds_already_is_counted_once() {
    for db in backends() {
        let (store, l) = (&db.store, db.label);
        store
            .load_rsf("colour", base().as_bytes(), Mode::Strict)
            .expect(l);
        let before = store.register("colour").expect(l).total_items;
        for body in [
            r#"{"colour":"red","kind":"warm"}"#,
            r#"{"colour":"red","kind":"hot"}"#,
            // Back to the first item: a new entry, an item the register holds.
            r#"{"colour":"red","kind":"warm"}"#,
        ] {
            let batch = store.append_records("colour", &[puts(body)]).expect(l);
            assert_eq!(batch.results[0].as_ref().expect(l).entries.len(), 1, "{l}");
        }
        let summary = store.register("colour").expect(l);
        assert_eq!(summary.total_items, before + 2, "{l}");
        assert_eq!(summary.total_records, 1, "{l}");
        assert_eq!(assert_export_verifies(store, l), 3);
    }
}
