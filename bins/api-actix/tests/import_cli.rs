//! `api-actix import` on both backends: only changed records become entries, `--dry-run`
//! changes nothing, and every refused snapshot leaves the register as it was.

mod cli_support;
mod common;

use actix_web::test::init_service;
use common::{get, loaded, state, TestDb};
use server_actix::app;

const TS: &str = "2024-05-01T12:00:00Z";

/// Runs `api-actix import` against the test database; returns (exit code, stdout, stderr).
fn import(db: &TestDb, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut all = vec!["import"];
    all.extend(args);
    cli_support::output(
        cli_support::bin()
            .args(&all)
            .arg("--database-url")
            .arg(&db.url),
        stdin,
    )
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line.trim()).unwrap_or_else(|e| panic!("not one JSON line ({e}): {line}"))
}

/// `(total-entries, root)` of a register in the store.
fn size_and_root(db: &TestDb, name: &str) -> (u64, String) {
    let summary = db.store.register(name).expect("register");
    (summary.total_entries, summary.root.to_string())
}

/// The records of `country` as the read API renders them in CSV, every page.
async fn country_records_csv(db: &TestDb) -> String {
    let app = init_service(app(state(db))).await;
    let reply = get(&app, "/registers/country/records.csv?page-size=5000").await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
    reply.text().to_string()
}

/// The read API's entry columns, which are not fields of the register.
const ENTRY_COLUMNS: &str = "index-entry-number,entry-number,entry-timestamp,key";

#[actix_web::test]
async fn exported_records_import_as_zero_entries() {
    for db in loaded() {
        let l = db.label;
        let csv = country_records_csv(&db).await;
        let before = size_and_root(&db, "country");
        let (code, out, err) = import(
            &db,
            &["country", "-", "--ignore", ENTRY_COLUMNS, "--timestamp", TS],
            &csv,
        );
        assert_eq!(code, 0, "{l}: {err}");
        let report = json(&out);
        assert_eq!(report["rows"], 199, "{l}");
        assert_eq!(report["unchanged"], 199, "{l}");
        assert_eq!(report["user-entries-added"], 0, "{l}");
        assert_eq!(report["missing"], serde_json::json!([]), "{l}");
        assert_eq!(size_and_root(&db, "country"), before, "{l}");
    }
}

#[actix_web::test]
async fn a_row_for_a_removed_record_brings_it_back() {
    for db in loaded() {
        let l = db.label;
        let csv = country_records_csv(&db).await;
        let gb = db.store.record("country", "GB").expect("read").expect("GB");
        db.store
            .load_rsf(
                "country",
                &b"append-entry\tuser\tGB\t2024-04-01T00:00:00Z\t\n"[..],
                register_core::Mode::Strict,
            )
            .expect("remove GB");
        assert_eq!(db.store.record("country", "GB").expect("read"), None);
        let (code, out, err) = import(
            &db,
            &["country", "-", "--ignore", ENTRY_COLUMNS, "--timestamp", TS],
            &csv,
        );
        assert_eq!(code, 0, "{l}: {err}");
        let report = json(&out);
        assert_eq!(
            (&report["new"], &report["changed"]),
            (&1.into(), &0.into()),
            "{l}"
        );
        assert_eq!(report["user-entries-added"], 1, "{l}");
        let back = db
            .store
            .record("country", "GB")
            .expect("read")
            .expect("GB back");
        assert_eq!(back.items, gb.items, "{l}: the same item as before");
        assert_eq!(back.entry.entry_number, 210, "{l}");
    }
}

#[test]
fn changes_new_rows_and_ended_rows_become_exactly_their_entries() {
    for db in loaded() {
        let l = db.label;
        let dir = tempfile::tempdir().expect("temp dir");
        // Four countries: two as they are, one renamed, one new; the other 196 are missing.
        let snapshot = dir.path().join("countries.csv");
        std::fs::write(
            &snapshot,
            "country,name,official-name,citizen-names\n\
             GB,United Kingdom,The United Kingdom of Great Britain and Northern Ireland,Briton;British citizen\n\
             FR,\"France, la \"\"République\"\"\",The French Republic,French\n\
             XK,Kosovo,The Republic of Kosovo,Kosovan\n\
             ZZ,\"Nowhere\nat all\",The Republic of Nowhere,Nowherian\n",
        )
        .expect("write");
        let file = snapshot.to_str().expect("path");
        let (size, _) = size_and_root(&db, "country");

        // A dry run prints the patch and the summary and changes nothing.
        let (code, patch, err) =
            import(&db, &["country", file, "--timestamp", TS, "--dry-run"], "");
        assert_eq!(code, 0, "{l}: {err}");
        let summary = json(&err);
        assert_eq!(
            (
                &summary["new"],
                &summary["changed"],
                &summary["unchanged"],
                &summary["ended"]
            ),
            (&1.into(), &1.into(), &2.into(), &0.into()),
            "{l}: {err}"
        );
        assert_eq!(
            summary["missing"].as_array().map(Vec::len),
            Some(196),
            "{l}"
        );
        assert_eq!(summary["missing"][0], "AD", "{l}");
        assert_eq!(
            patch
                .lines()
                .filter(|l| l.starts_with("append-entry"))
                .count(),
            2,
            "{l}"
        );
        assert!(
            patch.starts_with("assert-root-hash\tsha-256:"),
            "{l}: {patch}"
        );
        assert_eq!(size_and_root(&db, "country").0, size, "{l}");

        let (code, out, err) = import(&db, &["country", file, "--timestamp", TS], "");
        assert_eq!(code, 0, "{l}: {err}");
        let report = json(&out);
        assert_eq!(report["user-entries-added"], 2, "{l}");
        assert_eq!(report["total-entries"], size + 2, "{l}");
        let france = db
            .store
            .record("country", "FR")
            .expect("query")
            .expect("FR");
        assert_eq!(france.entry.timestamp.to_string(), TS, "{l}");
        assert!(
            france.items[0]
                .1
                .contains(r#""name":"France, la \"République\"""#),
            "{l}"
        );
        let nowhere = db
            .store
            .record("country", "ZZ")
            .expect("query")
            .expect("ZZ");
        assert_eq!(
            nowhere.items[0].1,
            r#"{"citizen-names":"Nowherian","country":"ZZ","name":"Nowhere\nat all","official-name":"The Republic of Nowhere"}"#,
            "{l}"
        );

        // The same snapshot again: nothing.
        let (code, out, err) = import(&db, &["country", file, "--timestamp", TS], "");
        assert_eq!(code, 0, "{l}: {err}");
        assert_eq!(json(&out)["user-entries-added"], 0, "{l}");

        // End the missing ones (those without an end date yet), once.
        let (code, out, err) = import(
            &db,
            &["country", file, "--timestamp", TS, "--end-missing"],
            "",
        );
        assert_eq!(code, 0, "{l}: {err}");
        let report = json(&out);
        // 196 missing, 4 of which (CS, DD, SU, YU) have ended already.
        assert_eq!(report["missing"].as_array().map(Vec::len), Some(196), "{l}");
        assert_eq!(report["ended"], 192, "{l}: {report}");
        assert_eq!(report["user-entries-added"], 192, "{l}");
        assert_eq!(report["total-entries"], size + 2 + 192, "{l}");
        let de = db
            .store
            .record("country", "DE")
            .expect("query")
            .expect("DE");
        assert!(
            de.items[0].1.contains(r#""end-date":"2024-05-01""#),
            "{l}: {}",
            de.items[0].1
        );
        let (code, out, _) = import(
            &db,
            &["country", file, "--timestamp", TS, "--end-missing"],
            "",
        );
        let report = json(&out);
        assert_eq!((code, &report["user-entries-added"]), (0, &0.into()), "{l}");
        assert_eq!(
            (&report["ended"], report["missing"].as_array().map(Vec::len)),
            (&0.into(), Some(196)),
            "{l}"
        );
    }
}

#[test]
fn refused_snapshots_leave_the_register_unchanged() {
    for db in loaded() {
        let l = db.label;
        let before = size_and_root(&db, "country");
        for (snapshot, args, expected) in [
            (
                "country,name\nGB,Britain\nFR,France\nGB,UK\n",
                vec![],
                "row 3 (line 4): key 'GB' already appeared in row 1",
            ),
            (
                "name\nBritain\n",
                vec![],
                "the snapshot has no column for the key field 'country'",
            ),
            (
                "country,name,capital\nGB,Britain,London\n",
                vec![],
                "column 3 'capital' is not a field of the register (ignore it explicitly to leave it out)",
            ),
            (
                "country,name,start-date\nGB,Britain,1707\nFR,France,1792-13-01\n",
                vec![],
                "row 2 (line 3), column 3 'start-date': field 'start-date' value '1792-13-01' is not a datetime",
            ),
            (
                "{\"country\":\"GB\",\"name\":[\"Britain\"]}\n",
                vec!["--format", "jsonl"],
                "row 1 (line 1), field 'name': field 'name' has cardinality 1 and needs a string",
            ),
        ] {
            let mut all = vec!["country", "-", "--timestamp", TS, "--end-missing"];
            all.extend(args);
            let (code, out, err) = import(&db, &all, snapshot);
            assert_eq!((code, out.as_str()), (1, ""), "{l}: {snapshot}");
            assert_eq!(err.trim_end(), expected, "{l}");
            assert_eq!(size_and_root(&db, "country"), before, "{l}: {snapshot}");
        }
        let (code, _, err) = import(&db, &["colour", "-", "--end-missing"], "colour,name\n");
        assert_eq!(code, 1, "{l}");
        assert_eq!(
            err.trim_end(),
            "register 'colour' has no 'end-date' field, so missing records cannot be ended"
        );
        let (code, _, err) = import(&db, &["nowhere", "-"], "x\n");
        assert_eq!(
            (code, err.trim_end()),
            (1, "error: register 'nowhere' not found"),
            "{l}"
        );
    }
}
