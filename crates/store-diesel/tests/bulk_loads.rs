//! Large loads: the SQLite key index rebuilt around a load that dominates the table, the
//! load tables without foreign keys, and the migration that dropped them.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use common::{backends, data, migrate, revert_migrations_through, TestDb};
use diesel::sql_types::{BigInt, Text};
use diesel::RunQueryDsl;
use register_core::{ItemHash, Mode};
use store_diesel::conn::AnyConnection;
use store_diesel::queries::Source;
use store_diesel::store::MirrorOf;

/// The migration that dropped the load tables' foreign keys.
const WITHOUT_FOREIGN_KEYS: &str = "2026-12-16-000000";

/// Enough user entries for SQLite to rebuild `entries_by_key` (the store's threshold is
/// 50,000), over keys visited in scrambled order.
const ENTRIES: u64 = 60_000;
const KEYS: u64 = 6_000;

/// A strict-mode register `bulk` of `entries` user entries over `keys` keys, and the entry
/// numbers of each key.
fn synthetic(entries: u64, keys: u64) -> (String, BTreeMap<String, Vec<u64>>) {
    let mut rsf = String::new();
    let mut line = |log: &str, key: &str, seconds: u64, json: &str| {
        let hash = ItemHash::of_canonical(json.as_bytes()).0.to_hex();
        let (days, rest) = (seconds / 86_400, seconds % 86_400);
        let _ = write!(
            rsf,
            "add-item\t{json}\nappend-entry\t{log}\t{key}\t2020-01-{:02}T{:02}:{:02}:{:02}Z\tsha-256:{hash}\n",
            days + 1,
            rest / 3600,
            rest / 60 % 60,
            rest % 60
        );
    };
    line("system", "name", 0, r#"{"name":"bulk"}"#);
    for field in ["bulk", "name"] {
        let json = format!(
            r#"{{"cardinality":"1","datatype":"string","field":"{field}","text":"A field"}}"#
        );
        line("system", &format!("field:{field}"), 0, &json);
    }
    line(
        "system",
        "register:bulk",
        0,
        r#"{"fields":["bulk","name"],"register":"bulk","text":"Generated"}"#,
    );
    let mut numbers: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for i in 0..entries {
        // Keys in an order unrelated to their names (7,919 is prime to any key count here).
        let key = format!("K{:05}", (i * 7_919) % keys);
        let json = format!(r#"{{"bulk":"{key}","name":"version {i}"}}"#);
        line("user", &key, i % (20 * 86_400), &json);
        numbers.entry(key).or_default().push(i + 1);
    }
    (rsf, numbers)
}

/// The SQL of a SQLite index; `None` on PostgreSQL or when the index does not exist.
fn sqlite_index(db: &TestDb, name: &str) -> Option<String> {
    #[derive(diesel::QueryableByName)]
    struct Sql {
        #[diesel(sql_type = Text)]
        sql: String,
    }
    let mut conn = db.conn().expect("conn");
    let AnyConnection::Sqlite(c) = &mut *conn else {
        return None;
    };
    diesel::sql_query("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?")
        .bind::<Text, _>(name)
        .get_results::<Sql>(c)
        .expect("sqlite_master")
        .pop()
        .map(|row| row.sql)
}

/// The rows of a table.
fn count(db: &TestDb, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = db.conn().expect("conn");
    let query = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"));
    let row: Count = match &mut *conn {
        AnyConnection::Postgresql(c) => query.get_result(c),
        AnyConnection::Sqlite(c) => query.get_result(c),
    }
    .expect("count");
    row.n
}

/// Foreign keys declared on a table.
fn foreign_keys(db: &TestDb, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = db.conn().expect("conn");
    let row: Count = match &mut *conn {
        AnyConnection::Postgresql(c) => diesel::sql_query(
            "SELECT COUNT(*) AS n FROM information_schema.table_constraints \
             WHERE table_name = $1 AND constraint_type = 'FOREIGN KEY'",
        )
        .bind::<Text, _>(table)
        .get_result(c),
        AnyConnection::Sqlite(c) => {
            diesel::sql_query("SELECT COUNT(*) AS n FROM pragma_foreign_key_list(?)")
                .bind::<Text, _>(table)
                .get_result(c)
        }
    }
    .expect("foreign keys");
    row.n
}

/// The histories and records of some keys are the generated ones.
fn check_lookups(db: &TestDb, numbers: &BTreeMap<String, Vec<u64>>) {
    let source = Source::register("bulk");
    for key in ["K00000", "K00001", "K02999", "K05999"] {
        let history: Vec<u64> = db
            .store
            .log_history(&source, key)
            .expect("history")
            .into_iter()
            .map(|e| e.entry_number)
            .collect();
        let mut expected = numbers[key].clone();
        let newest = *expected.last().expect("entries");
        // Newest first or oldest first: the store's order, whichever, over the same set.
        let mut sorted = history.clone();
        sorted.sort_unstable();
        expected.sort_unstable();
        assert_eq!(sorted, expected, "{}: history of {key}", db.label);
        let record = db
            .store
            .log_record(&source, key)
            .expect("record")
            .expect("a record");
        assert_eq!(record.entry.entry_number, newest, "{}: {key}", db.label);
        let json = &record.items[0].1;
        assert_eq!(
            json,
            &format!(r#"{{"bulk":"{key}","name":"version {}"}}"#, newest - 1)
        );
    }
}

#[test]
fn a_load_that_dominates_the_entries_reads_as_any_other() {
    let (rsf, numbers) = synthetic(ENTRIES, KEYS);
    let verified = register_core::verify(rsf.as_bytes(), Mode::Strict).expect("verify");
    for db in backends() {
        let index = sqlite_index(&db, "entries_by_key");
        db.store
            .load_rsf("colour", &data("colour.rsf")[..], Mode::Strict)
            .expect("colour");
        let report = db
            .store
            .load_rsf("bulk", rsf.as_bytes(), Mode::Strict)
            .expect(db.label);
        assert_eq!(report.root, verified.root, "{}", db.label);
        assert_eq!(report.total_entries, ENTRIES);
        // Rebuilt from its own definition, the index is the migration's.
        assert_eq!(sqlite_index(&db, "entries_by_key"), index, "{}", db.label);
        check_lookups(&db, &numbers);
        // The register loaded before reads as it did.
        let colour = Source::register("colour");
        assert_eq!(db.store.log_history(&colour, "red").expect("red").len(), 2);
        // A second load the same size as the table (index kept) appends after it.
        let (more, _) = synthetic(ENTRIES + 10, KEYS);
        let tail: String = more
            .lines()
            .skip(rsf.lines().count())
            .map(|l| format!("{l}\n"))
            .collect();
        let report = db
            .store
            .load_rsf("bulk", tail.as_bytes(), Mode::Strict)
            .expect(db.label);
        assert_eq!(report.total_entries, ENTRIES + 10);
        assert_eq!(
            report.root,
            register_core::verify(more.as_bytes(), Mode::Strict)
                .expect("verify")
                .root
        );
    }
}

#[test]
fn a_large_load_that_fails_after_writing_leaves_index_and_rows() {
    let (rsf, numbers) = synthetic(ENTRIES, KEYS);
    for db in backends() {
        let index = sqlite_index(&db, "entries_by_key");
        db.store
            .load_rsf("colour", &data("colour.rsf")[..], Mode::Strict)
            .expect("colour");
        let before = (count(&db, "entries"), count(&db, "items"));
        // A mirror whose primary checkpoint the load misses: refused after every row is
        // written, so the transaction, index rebuild included, is rolled back.
        let mirror = MirrorOf {
            partner: "https://partner.example".into(),
            plan: plan_core::PlanId(uuid::Uuid::new_v4()),
            slice: uuid::Uuid::new_v4(),
            target: Some((ENTRIES, register_core::Digest([0; 32]))),
        };
        let err = db
            .store
            .load_mirror_rsf("bulk", rsf.as_bytes(), &mirror)
            .expect_err("the root differs");
        assert!(err.to_string().contains("nothing was applied"), "{err}");
        assert!(db.store.register("bulk").is_err(), "{}", db.label);
        assert_eq!(
            (count(&db, "entries"), count(&db, "items")),
            before,
            "{}",
            db.label
        );
        assert_eq!(sqlite_index(&db, "entries_by_key"), index, "{}", db.label);
        let colour = Source::register("colour");
        assert_eq!(db.store.log_history(&colour, "red").expect("red").len(), 2);
        // The same rows load afterwards, and read through the index.
        db.store
            .load_rsf("bulk", rsf.as_bytes(), Mode::Strict)
            .expect(db.label);
        check_lookups(&db, &numbers);
    }
}

#[test]
fn dropping_the_load_tables_foreign_keys_keeps_their_rows() {
    let tables = [
        "register_items",
        "entries",
        "records",
        "record_items",
        "merkle_nodes",
        "index_entries",
        "index_logs",
        "index_merkle_nodes",
        "index_items",
    ];
    for db in backends() {
        revert_migrations_through(&db, WITHOUT_FOREIGN_KEYS).expect("revert");
        for table in tables {
            assert!(foreign_keys(&db, table) > 0, "{}: {table}", db.label);
        }
        // Loaded with the foreign keys in place.
        db.store
            .load_rsf("country", &data("country-data.rsf")[..], Mode::Strict)
            .expect("country");
        let before: Vec<i64> = tables.iter().map(|t| count(&db, t)).collect();
        assert!(before.iter().take(5).all(|&n| n > 0), "{before:?}");
        assert!(migrate(&db).expect("migrate") >= 1);
        for table in tables {
            assert_eq!(foreign_keys(&db, table), 0, "{}: {table}", db.label);
        }
        let after: Vec<i64> = tables.iter().map(|t| count(&db, t)).collect();
        assert_eq!(after, before, "{}", db.label);
        for index in ["entries_by_key", "records_by_entry", "record_items_by_hash"] {
            if db.label == "sqlite" {
                assert!(sqlite_index(&db, index).is_some(), "{index}");
            }
        }
        // The small tables keep theirs.
        assert!(foreign_keys(&db, "checkpoints") > 0, "{}", db.label);
        let summary = db.store.register("country").expect("summary");
        assert_eq!(summary.total_entries, 208);
        let gb = db
            .store
            .log_record(&Source::register("country"), "GB")
            .expect("record")
            .expect("GB");
        assert!(gb.items[0].1.contains("United Kingdom"), "{}", db.label);
        // And back: the down migration restores the keys over the same rows.
        revert_migrations_through(&db, WITHOUT_FOREIGN_KEYS).expect("revert");
        let reverted: Vec<i64> = tables.iter().map(|t| count(&db, t)).collect();
        assert_eq!(reverted, before, "{}", db.label);
        assert!(foreign_keys(&db, "entries") > 0, "{}", db.label);
        migrate(&db).expect("migrate");
    }
}

#[test]
fn registers_share_items_whichever_way_they_are_written() {
    let (rsf, numbers) = synthetic(2_000, 300);
    let (more, _) = synthetic(2_100, 300);
    let mirror = |n: u128| MirrorOf {
        partner: "https://partner.example".into(),
        plan: plan_core::PlanId(uuid::Uuid::from_u128(n)),
        slice: uuid::Uuid::from_u128(n),
        target: None,
    };
    for db in backends() {
        db.store
            .load_rsf("bulk", rsf.as_bytes(), Mode::Strict)
            .expect(db.label);
        let items = count(&db, "items");
        // Every item already stored (PostgreSQL: the straight copy meets them and is rolled
        // back to its savepoint), then some stored and some new.
        db.store
            .load_mirror_rsf("copy", rsf.as_bytes(), &mirror(1))
            .expect(db.label);
        assert_eq!(count(&db, "items"), items, "{}", db.label);
        let report = db
            .store
            .load_mirror_rsf("other", more.as_bytes(), &mirror(2))
            .expect(db.label);
        assert_eq!(report.total_entries, 2_100);
        assert_eq!(count(&db, "items"), items + 100, "{}", db.label);
        for name in ["bulk", "copy", "other"] {
            let record = db
                .store
                .log_record(&Source::register(name), "K00007")
                .expect("record")
                .expect("K00007");
            let newest = numbers["K00007"].last().copied();
            if name != "other" {
                assert_eq!(Some(record.entry.entry_number), newest, "{}", db.label);
            }
            assert!(record.items[0].1.contains("K00007"), "{}", db.label);
        }
    }
}
