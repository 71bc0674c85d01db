//! Snapshot imports: rows become exactly the entries that changed, and every bad snapshot is
//! refused with its position.

mod common;

use common::{loaded, Rsf};
use register_core::{
    diff_register, Error, Format, ImportOptions, ImportSummary, LogKind, Mode, Register, Timestamp,
};

const TS: &str = "2024-05-01T12:00:00Z";

fn options(format: Format) -> ImportOptions {
    ImportOptions {
        format,
        timestamp: Timestamp::parse(TS).expect("timestamp"),
        ignore: Vec::new(),
        end_missing: false,
        base_root: None,
    }
}

/// Diffs `snapshot` against `register` and loads the patch into it; returns the summary and
/// the patch.
fn import(
    register: &mut Register,
    snapshot: &str,
    options: ImportOptions,
) -> Result<(ImportSummary, String), Error> {
    let mut patch = Vec::new();
    let summary = diff_register(register, options, snapshot.as_bytes(), &mut patch)?;
    let patch = String::from_utf8(patch).expect("RSF is UTF-8");
    let loaded = register.load(patch.as_bytes(), Mode::Strict)?;
    assert_eq!(loaded.user_entries, summary.entries(), "{patch}");
    Ok((summary, patch))
}

fn counts(summary: &ImportSummary) -> (u64, u64, u64, u64, usize, u64) {
    (
        summary.rows,
        summary.new,
        summary.changed,
        summary.unchanged,
        summary.missing.len(),
        summary.ended,
    )
}

/// A `shape` register: a string key, a string name, an integer and a cardinality-n field.
fn shapes() -> Register {
    let rsf = Rsf::new()
        .metadata(
            "shape",
            &[
                ("shape", "string", "1"),
                ("name", "string", "1"),
                ("sides", "integer", "1"),
                ("colours", "string", "n"),
            ],
        )
        .user(
            "tri",
            &[("shape", "tri"), ("name", "Triangle"), ("sides", "3")],
        )
        .user(
            "sq",
            &[
                ("shape", "sq"),
                ("name", "Square"),
                ("sides", "4"),
                ("colours", "red;blue"),
            ],
        );
    let mut register = Register::new();
    register.load(rsf.bytes(), Mode::Strict).expect("shapes");
    register
}

const SHAPES_CSV: &str = "shape,name,sides,colours\ntri,Triangle,3,\nsq,Square,4,red;blue\n";

fn item_of(register: &Register, key: &str) -> String {
    let entry = register.record(LogKind::User, key).expect("record");
    let hashes = &entry.item_hashes;
    assert_eq!(hashes.len(), 1);
    register.item_json(&hashes[0]).expect("item").to_string()
}

/// The register's records as CSV: a header of its fields, one row per record, lists joined
/// with `;` (what the read API's records CSV holds after its entry columns).
fn records_csv(register: &Register) -> String {
    let fields = register
        .metadata()
        .register_definition()
        .expect("definition")
        .fields
        .clone();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&fields).expect("header");
    for entry in register.records() {
        for hash in &entry.item_hashes {
            let item = register.item(hash).expect("item");
            let row: Vec<String> = fields
                .iter()
                .map(|f| {
                    item.get(f)
                        .map(|v| v.strings().collect::<Vec<_>>().join(";"))
                        .unwrap_or_default()
                })
                .collect();
            w.write_record(&row).expect("row");
        }
    }
    String::from_utf8(w.into_inner().expect("flush")).expect("UTF-8")
}

#[test]
fn the_same_snapshot_imported_twice_adds_nothing_the_second_time() {
    let mut register = shapes();
    let snapshot =
        "shape,name,sides,colours\ntri,Triangle,3,green\nsq,Square,4,red;blue\nhex,Hexagon,6,\n";
    let (first, _) = import(&mut register, snapshot, options(Format::Csv)).expect("first");
    assert_eq!(counts(&first), (3, 1, 1, 1, 0, 0));
    assert_eq!(register.size(LogKind::User), 4);
    let root = register.root(LogKind::User);
    let (second, patch) = import(&mut register, snapshot, options(Format::Csv)).expect("second");
    assert_eq!(counts(&second), (3, 0, 0, 3, 0, 0));
    assert_eq!(register.size(LogKind::User), 4);
    assert_eq!(register.root(LogKind::User), root);
    // Only the assert that pins the patch to the register it was made against.
    assert_eq!(patch, format!("assert-root-hash\t{root}\n"));
}

#[test]
fn one_changed_cell_adds_exactly_one_entry() {
    let mut register = shapes();
    let before = register.root(LogKind::User);
    let snapshot = SHAPES_CSV.replace("Square", "\"Square, the \"\"regular\"\" one\"");
    let (summary, patch) = import(&mut register, &snapshot, options(Format::Csv)).expect("import");
    assert_eq!(counts(&summary), (2, 0, 1, 1, 0, 0));
    assert_eq!(
        patch,
        "assert-root-hash\tsha-256:".to_string()
            + &before.to_hex()
            + "\nadd-item\t{\"colours\":[\"red\",\"blue\"],\"name\":\"Square, the \\\"regular\\\" one\",\"shape\":\"sq\",\"sides\":\"4\"}\n\
               append-entry\tuser\tsq\t2024-05-01T12:00:00Z\tsha-256:"
            + &register
                .record(LogKind::User, "sq")
                .expect("sq")
                .item_hashes[0]
                .digest()
                .to_hex()
            + "\n"
    );
    assert_eq!(register.size(LogKind::User), 3);
    let entry = register.entry(LogKind::User, 3).expect("entry 3");
    assert_eq!(entry.key, "sq");
    assert_eq!(entry.timestamp.to_string(), TS);
}

#[test]
fn a_new_row_adds_one_entry() {
    let mut register = shapes();
    let snapshot = format!("{SHAPES_CSV}pent,Pentagon,5,\n");
    let (summary, _) = import(&mut register, &snapshot, options(Format::Csv)).expect("import");
    assert_eq!(counts(&summary), (3, 1, 0, 2, 0, 0));
    assert_eq!(register.size(LogKind::User), 3);
    assert_eq!(
        item_of(&register, "pent"),
        r#"{"name":"Pentagon","shape":"pent","sides":"5"}"#
    );
}

#[test]
fn missing_rows_are_reported_and_left_alone_without_end_missing() {
    let mut register = shapes();
    let (summary, _) = import(
        &mut register,
        "shape,name,sides\ntri,Triangle,3\n",
        options(Format::Csv),
    )
    .expect("import");
    assert_eq!(counts(&summary), (1, 0, 0, 1, 1, 0));
    assert_eq!(summary.missing, vec!["sq".to_string()]);
    assert_eq!(register.size(LogKind::User), 2);
}

#[test]
fn end_missing_ends_removed_rows_once() {
    let mut register = loaded("country-data.rsf", Mode::Strict);
    let full = records_csv(&register);
    let without: String = full
        .lines()
        .filter(|l| !l.starts_with("GB,") && !l.starts_with("FR,"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(without.lines().count() + 2, full.lines().count());
    let size = register.size(LogKind::User);
    let mut end = options(Format::Csv);
    end.end_missing = true;

    let (summary, _) = import(&mut register, &without, end.clone()).expect("end");
    assert_eq!(summary.missing, vec!["FR".to_string(), "GB".to_string()]);
    assert_eq!((summary.changed, summary.new, summary.ended), (0, 0, 2));
    assert_eq!(register.size(LogKind::User), size + 2);
    assert!(item_of(&register, "GB").contains(r#""end-date":"2024-05-01""#));
    assert!(item_of(&register, "FR").contains(r#""end-date":"2024-05-01""#));

    // Ended already: still missing, but no second end entry.
    let (again, _) = import(&mut register, &without, end.clone()).expect("again");
    assert_eq!(
        (again.missing.len(), again.ended, again.entries()),
        (2, 0, 0)
    );

    // The full snapshot brings them back without an end date.
    let (back, _) = import(&mut register, &full, end).expect("back");
    assert_eq!((back.changed, back.missing.len(), back.ended), (2, 0, 0));
    assert!(!item_of(&register, "GB").contains("end-date"));
}

#[test]
fn end_missing_needs_an_end_date_field() {
    let register = shapes();
    let mut end = options(Format::Csv);
    end.end_missing = true;
    let error = diff_register(&register, end, SHAPES_CSV.as_bytes(), &mut Vec::new())
        .expect_err("no end-date");
    assert_eq!(
        error.to_string(),
        "register 'shape' has no 'end-date' field, so missing records cannot be ended"
    );
}

#[test]
fn exported_country_records_import_as_zero_entries() {
    let mut register = loaded("country-data.rsf", Mode::Strict);
    let root = register.root(LogKind::User);
    let csv = records_csv(&register);
    let (summary, patch) = import(&mut register, &csv, options(Format::Csv)).expect("round trip");
    assert_eq!(summary.rows, register.record_count());
    assert_eq!(summary.unchanged, register.record_count());
    assert_eq!(summary.entries(), 0, "{patch}");
    assert!(summary.missing.is_empty());
    assert_eq!(register.root(LogKind::User), root);
}

/// Every bad snapshot: its exact message, and the register as it was.
fn check_error(text: &str, format: Format, expected: &str) {
    let mut register = shapes();
    let before = common::snapshot(&register);
    match import(&mut register, text, options(format)) {
        Err(e) => assert_eq!(e.to_string(), expected, "{text:?}"),
        Ok((summary, patch)) => panic!("{text:?} imported: {summary:?}\n{patch}"),
    }
    assert_eq!(common::snapshot(&register), before);
}

#[test]
fn bad_snapshots_are_refused_with_their_position() {
    check_error(
        "shape,name\ntri,Triangle\nsq,Square\ntri,Tri\n",
        Format::Csv,
        "row 3 (line 4): key 'tri' already appeared in row 1",
    );
    check_error(
        "shape,name\nnew,New\nnew,Newer\n",
        Format::Csv,
        "row 2 (line 3): key 'new' already appeared in row 1",
    );
    check_error(
        "name,sides\nTriangle,3\n",
        Format::Csv,
        "the snapshot has no column for the key field 'shape'",
    );
    check_error(
        "",
        Format::Csv,
        "the snapshot has no column for the key field 'shape'",
    );
    check_error(
        "shape,name,corners\ntri,Triangle,3\n",
        Format::Csv,
        "column 3 'corners' is not a field of the register (ignore it explicitly to leave it out)",
    );
    check_error(
        "shape,name,name\ntri,Triangle,T\n",
        Format::Csv,
        "column 3 'name' repeats an earlier column",
    );
    check_error(
        "shape,name,sides\ntri,Triangle,3\nsq,\"Square,\nreally\",four\n",
        Format::Csv,
        "row 2 (line 3), column 3 'sides': field 'sides' value 'four' is not an integer",
    );
    check_error(
        "shape\tname\tsides\ntri\tTriangle\t3\nsq\t  \t4\n",
        Format::Tsv,
        "row 2 (line 3), column 2 'name': field 'name' value '  ' is not a string",
    );
    check_error(
        "shape,name\ntri,Triangle\n,Nothing\n",
        Format::Csv,
        "row 2 (line 3), column 1 'shape': primary field 'shape' is missing or blank",
    );
    check_error(
        "shape,name\nno key,Spaced\n",
        Format::Csv,
        "row 1 (line 2), column 1 'shape': key 'no key' is not valid: only letters, digits and . _ / - are allowed",
    );
    check_error(
        "shape,name\ntri,Triangle,3\n",
        Format::Csv,
        "line 2: row has 3 columns, the header has 2",
    );
    check_error(
        "{\"shape\":\"tri\",\"sides\":3}\n",
        Format::JsonLines,
        "row 1 (line 1), field 'sides': field 'sides' must be a string or a list of strings",
    );
    check_error(
        "{\"shape\":\"tri\"}\n\n{\"shape\":\"sq\",\"corners\":\"4\"}\n",
        Format::JsonLines,
        "row 2 (line 3), field 'corners': field 'corners' is not a field of the register",
    );
    check_error(
        "{\"shape\":\"tri\"\n",
        Format::JsonLines,
        "row 1 (line 1): Invalid JSON",
    );
    check_error(
        "{\"name\":\"Nameless\"}\n",
        Format::JsonLines,
        "row 1 (line 1), field 'shape': primary field 'shape' is missing or blank",
    );
}

#[test]
fn invalid_utf8_is_refused_with_its_line() {
    let register = shapes();
    for (format, text) in [
        (Format::Csv, &b"shape,name\ntri,Tri\xffangle\n"[..]),
        (
            Format::JsonLines,
            &b"{\"shape\":\"tri\"}\n{\"shape\":\"s\xffq\"}\n"[..],
        ),
    ] {
        let error = diff_register(&register, options(format), text, &mut Vec::new())
            .expect_err("not UTF-8");
        assert_eq!(
            error.to_string(),
            "line 2: line is not valid UTF-8",
            "{format:?}"
        );
    }
}

#[test]
fn ignored_columns_are_left_out() {
    let mut register = shapes();
    let mut ignoring = options(Format::Csv);
    ignoring.ignore = vec!["corners".into(), "note".into()];
    let snapshot =
        "note,shape,name,sides,colours,corners\nx,tri,Triangle,3,,3\ny,sq,Square,4,red;blue,4\n";
    let (summary, _) = import(&mut register, snapshot, ignoring).expect("import");
    assert_eq!(counts(&summary), (2, 0, 0, 2, 0, 0));
}

#[test]
fn quoting_newlines_and_utf8_go_through_the_csv_parser() {
    let mut register = shapes();
    let snapshot = "\u{feff}shape,name,sides,colours\r\n\
        tri,\"Tri, \"\"angle\"\"\nsecond line\",3,\r\n\
        sq,Carré ✓,4,\"red;blue\"\r\n";
    let (summary, _) = import(&mut register, snapshot, options(Format::Csv)).expect("import");
    assert_eq!(counts(&summary), (2, 0, 2, 0, 0, 0));
    assert_eq!(
        item_of(&register, "tri"),
        r#"{"name":"Tri, \"angle\"\nsecond line","shape":"tri","sides":"3"}"#
    );
    assert_eq!(
        item_of(&register, "sq"),
        r#"{"colours":["red","blue"],"name":"Carré ✓","shape":"sq","sides":"4"}"#
    );
}

#[test]
fn csv_tsv_and_json_lines_give_the_same_patch() {
    let snapshot_csv = "shape,name,sides,colours\ntri,Triangle,3,green\nhex,Hexagon,6,a;b\n";
    let snapshot_tsv = snapshot_csv.replace(',', "\t");
    let snapshot_jsonl = "{\"shape\":\"tri\",\"name\":\"Triangle\",\"sides\":\"3\",\"colours\":[\"green\"]}\n\
        {\"colours\":\"a;b\",\"shape\":\"hex\",\"name\":\"Hexagon\",\"sides\":\"6\",\"extra\":null}\n";
    let mut patches = Vec::new();
    for (format, text) in [
        (Format::Csv, snapshot_csv.to_string()),
        (Format::Tsv, snapshot_tsv),
        (
            Format::JsonLines,
            snapshot_jsonl.replace(",\"extra\":null", ""),
        ),
    ] {
        let mut register = shapes();
        let (summary, patch) = import(&mut register, &text, options(format)).expect("import");
        assert_eq!(counts(&summary), (2, 1, 1, 0, 1, 0), "{format:?}");
        patches.push(patch);
    }
    assert_eq!(patches[0], patches[1]);
    assert_eq!(patches[0], patches[2]);
    assert_eq!(
        patches[0]
            .lines()
            .filter(|l| l.starts_with("append-entry"))
            .count(),
        2
    );
}

#[test]
fn a_patch_applies_only_to_the_register_it_was_made_against() {
    let register = shapes();
    let mut patch = Vec::new();
    let snapshot = format!("{SHAPES_CSV}pent,Pentagon,5,\n");
    diff_register(
        &register,
        options(Format::Csv),
        snapshot.as_bytes(),
        &mut patch,
    )
    .expect("diff");
    let mut moved_on = shapes();
    moved_on
        .load(
            Rsf::new()
                .user("oct", &[("shape", "oct"), ("name", "Octagon")])
                .bytes(),
            Mode::Strict,
        )
        .expect("oct");
    let before = common::snapshot(&moved_on);
    let error = moved_on.load(&patch[..], Mode::Strict).expect_err("stale");
    assert!(
        error
            .to_string()
            .starts_with("line 1: Root hashes don't match"),
        "{error}"
    );
    assert_eq!(common::snapshot(&moved_on), before);
}

#[test]
fn format_names_and_file_extensions() {
    assert_eq!(Format::from_name("tsv"), Some(Format::Tsv));
    assert_eq!(Format::from_name("xlsx"), None);
    assert_eq!(Format::from_file_name("dump.JSONL"), Format::JsonLines);
    assert_eq!(Format::from_file_name("a.b.tsv"), Format::Tsv);
    assert_eq!(Format::from_file_name("snapshot"), Format::Csv);
}

#[test]
fn a_register_without_its_definition_cannot_import() {
    let mut register = Register::new();
    register
        .load(
            Rsf::new().system("name", &[("name", "shape")]).bytes(),
            Mode::Strict,
        )
        .expect("name only");
    let error = diff_register(
        &register,
        options(Format::Csv),
        SHAPES_CSV.as_bytes(),
        &mut Vec::new(),
    )
    .expect_err("no definition");
    assert_eq!(
        error.to_string(),
        "register definition 'register:shape' is missing"
    );
    let error = diff_register(
        &Register::new(),
        options(Format::Csv),
        SHAPES_CSV.as_bytes(),
        &mut Vec::new(),
    )
    .expect_err("no name");
    assert_eq!(error.to_string(), "register has no 'name' system entry");
}
