//! RSF as it was published (registers.md §6.1): the 2016–2017 three-argument entries, entries
//! with no items, items no entry refers to, and `upgrade`.

mod common;

use common::{expect_error, hash_of, loaded, Rsf};
use proptest::prelude::*;
use register_core::{upgrade, Entry, LogKind, Mode, Register};

/// The user-log roots of `country-data.rsf` in `vectors.md`, by size.
const COUNTRY_ROOTS: [(u64, &str); 4] = [
    (
        1,
        "a2002581c7402683e8197faafaefb9ba1f0ca48cee2d6ff461ab086b703472e5",
    ),
    (
        197,
        "7114404b04a67c2272a32964b463212c21c49d5a6e73f2c628eabfd18f63633f",
    ),
    (
        200,
        "e022997a144dada8aca9b9c0b6420636f6b808b65f99c6347075bcc4a61d3fe8",
    ),
    (
        208,
        "8d92e1e0af1d43c41e498e6baed0d0b3ea2770d1bf9d2afc04e9c4dad7795729",
    ),
];

#[derive(Clone, Copy, Debug)]
enum Form {
    /// `append-entry ts hashes key` (2016 to early 2017).
    TimestampFirst,
    /// `append-entry key ts hashes` (2017).
    KeyFirst,
}

fn hashes(entry: &Entry) -> String {
    let list: Vec<String> = entry.item_hashes.iter().map(|h| h.to_string()).collect();
    list.join(";")
}

fn legacy_line(form: Form, entry: &Entry) -> String {
    let (key, ts, hashes) = (&entry.key, entry.timestamp, hashes(entry));
    match form {
        Form::TimestampFirst => format!("append-entry\t{ts}\t{hashes}\t{key}"),
        Form::KeyFirst => format!("append-entry\t{key}\t{ts}\t{hashes}"),
    }
}

/// The user log of `register` as a legacy dump: no system log, every entry in `form` (or,
/// with `mixed`, alternating forms), with the vector asserts after entries 1, 197 and 200
/// and at the end.
fn legacy_dump(register: &Register, form: Form, mixed: bool) -> String {
    let mut rsf = String::new();
    let mut written = std::collections::HashSet::new();
    for entry in register.entries(LogKind::User) {
        for hash in &entry.item_hashes {
            if written.insert(*hash) {
                let json = register.item_json(hash).expect("item");
                rsf.push_str(&format!("add-item\t{json}\n"));
            }
        }
        let form = match (mixed, entry.entry_number % 2) {
            (true, 0) => Form::KeyFirst,
            (true, _) => Form::TimestampFirst,
            (false, _) => form,
        };
        rsf.push_str(&legacy_line(form, entry));
        rsf.push('\n');
        if let Some((_, root)) = COUNTRY_ROOTS
            .iter()
            .find(|(size, _)| *size == entry.entry_number)
        {
            rsf.push_str(&format!("assert-root-hash\tsha-256:{root}\n"));
        }
    }
    rsf
}

fn country() -> Register {
    loaded("country-data.rsf", Mode::Strict)
}

#[test]
fn both_legacy_forms_hash_like_current_entries_and_their_asserts_pass() {
    let country = country();
    for (form, mixed) in [
        (Form::TimestampFirst, false),
        (Form::KeyFirst, false),
        (Form::KeyFirst, true),
    ] {
        let dump = legacy_dump(&country, form, mixed);
        let verified = register_core::verify(dump.as_bytes(), Mode::Relaxed)
            .unwrap_or_else(|e| panic!("{form:?}: {e}"));
        assert_eq!(verified.summary.asserts, 4, "{form:?}");
        assert_eq!(verified.summary.user_entries, 208);
        assert_eq!(verified.summary.system_entries, 0);
        assert_eq!(verified.root, country.root(LogKind::User), "{form:?}");

        let mut legacy = Register::new();
        legacy.load(dump.as_bytes(), Mode::Relaxed).expect("load");
        assert_eq!(
            legacy.entries(LogKind::User),
            country.entries(LogKind::User)
        );
        assert_eq!(legacy.record_count(), country.record_count());
    }
}

#[test]
fn a_legacy_dump_with_a_wrong_assert_fails_at_that_line() {
    let dump = legacy_dump(&country(), Form::TimestampFirst, false);
    let bad = dump.replacen(
        "sha-256:7114404b04a67c2272a32964b463212c21c49d5a6e73f2c628eabfd18f63633f",
        "sha-256:0000000000000000000000000000000000000000000000000000000000000000",
        1,
    );
    let line = bad
        .lines()
        .position(|l| l.ends_with("0000000000"))
        .expect("assert")
        + 1;
    let err = register_core::verify(bad.as_bytes(), Mode::Relaxed).expect_err("wrong root");
    assert_eq!(err.line(), Some(line as u64));
    assert!(err.to_string().contains("Root hashes don't match"), "{err}");
}

#[test]
fn legacy_dumps_need_relaxed_mode_having_no_metadata() {
    let dump = legacy_dump(&country(), Form::KeyFirst, false);
    let err = register_core::verify(dump.as_bytes(), Mode::Strict).expect_err("no metadata");
    assert_eq!(err.line(), Some(2), "{err}");
}

#[test]
fn three_argument_lines_of_neither_form_fail_naming_the_line() {
    let hash = hash_of(&[("colour", "red")]);
    let good = format!(
        "add-item\t{{\"colour\":\"red\"}}\nappend-entry\t2016-11-24T17:20:33Z\t{hash}\tred\n"
    );
    let cases = [
        // No field is a timestamp.
        (
            format!("append-entry\tred\tyesterday\t{hash}"),
            "append-entry must have 4 arguments (or 3 in a 2016 form: timestamp, hashes, key or key, timestamp, hashes)",
        ),
        // A timestamp with fractional seconds is no timestamp: neither form.
        (
            format!("append-entry\t2016-11-24T17:20:33.5Z\t{hash}\tred"),
            "append-entry must have 4 arguments (or 3 in a 2016 form: timestamp, hashes, key or key, timestamp, hashes)",
        ),
        // The timestamp in the last field: neither form either.
        (
            format!("append-entry\tred\t{hash}\t2016-11-24T17:20:33Z"),
            "append-entry must have 4 arguments (or 3 in a 2016 form: timestamp, hashes, key or key, timestamp, hashes)",
        ),
        (
            "append-entry\t2016-11-24T17:20:33Z\tmd5:00\tred".to_string(),
            "'md5:00' was not hashed using sha-256",
        ),
        (
            format!("append-entry\tred\t2016-11-24T17:20:33Z\t{hash};"),
            "'' was not hashed using sha-256",
        ),
        (
            format!("append-entry\t2016-11-24T17:20:33Z\t{hash}\tred blue"),
            "key 'red blue' is not valid: only letters, digits and . _ / - are allowed",
        ),
        (
            format!("append-entry\t2016-11-24T17:20:33Z\t{hash}"),
            "append-entry must have 4 arguments",
        ),
        (
            format!("append-entry\tuser\tred\t2016-11-24T17:20:33Z\t{hash}\textra"),
            "append-entry must have 4 arguments",
        ),
        (
            "append-entry\tsystem\tname\t2016-11-24T17:20:33Z\t".to_string(),
            "a system entry must have at least one item",
        ),
    ];
    for (line, message) in cases {
        let mut register = Register::new();
        register
            .load(good.as_bytes(), Mode::Relaxed)
            .expect("good prefix");
        let rsf = format!("{good}{line}\n");
        let expected = format!("line 3: {message}");
        let mut fresh = Register::new();
        expect_error(&mut fresh, rsf.as_bytes(), Mode::Relaxed, &expected);
        expect_error(
            &mut register,
            format!("{line}\n").as_bytes(),
            Mode::Relaxed,
            &format!("line 1: {message}"),
        );
    }
}

/// A strict register `colour` with three records.
fn colours() -> Rsf {
    Rsf::new()
        .metadata(
            "colour",
            &[("colour", "string", "1"), ("name", "string", "1")],
        )
        .user("red", &[("colour", "red"), ("name", "Red")])
        .user("green", &[("colour", "green"), ("name", "Green")])
        .user("blue", &[("colour", "blue"), ("name", "Blue")])
}

fn remove(rsf: Rsf, key: &str) -> Rsf {
    rsf.line(&format!(
        "append-entry\tuser\t{key}\t2020-01-02T00:00:00Z\t"
    ))
}

#[test]
fn an_entry_with_no_items_removes_the_record_and_keeps_its_history() {
    for mode in [Mode::Strict, Mode::Relaxed] {
        let mut register = Register::new();
        register.load(colours().bytes(), mode).expect("colours");
        let summary = register
            .load(remove(Rsf::new(), "green").bytes(), mode)
            .expect("removal");
        assert_eq!(summary.user_entries, 1);
        assert_eq!(register.size(LogKind::User), 4);
        assert_eq!(register.record_count(), 2);
        assert!(register.record(LogKind::User, "green").is_none());
        let keys: Vec<&str> = register.records().iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["blue", "red"]);
        let history = register.record_history(LogKind::User, "green");
        assert_eq!(history.len(), 2);
        assert!(history[1].item_hashes.is_empty());

        let mut leaf = String::new();
        history[1].write_leaf(&mut leaf);
        assert_eq!(
            leaf,
            r#"{"index-entry-number":"4","entry-number":"4","entry-timestamp":"2020-01-02T00:00:00Z","key":"green","item-hash":[]}"#
        );

        // It comes back with a later entry, even with the very item it had before.
        register
            .load(
                Rsf::new()
                    .user("green", &[("colour", "green"), ("name", "Green")])
                    .bytes(),
                mode,
            )
            .expect("return");
        assert_eq!(register.record_count(), 3);
        assert_eq!(
            register
                .record(LogKind::User, "green")
                .map(|e| e.entry_number),
            Some(5)
        );
    }
}

#[test]
fn a_second_removal_is_identical_to_the_first_in_strict_mode_only() {
    let mut register = Register::new();
    register
        .load(remove(colours(), "green").bytes(), Mode::Strict)
        .expect("first removal");
    expect_error(
        &mut register,
        remove(Rsf::new(), "green").bytes(),
        Mode::Strict,
        "line 1: entry for key 'green' is identical to previous entry",
    );
    register
        .load(remove(Rsf::new(), "green").bytes(), Mode::Relaxed)
        .expect("relaxed allows it");
    assert_eq!(register.size(LogKind::User), 5);
}

#[test]
fn removals_round_trip_through_a_dump_and_a_legacy_form() {
    let mut register = Register::new();
    let rsf = remove(remove(colours(), "green"), "red")
        .user("red", &[("colour", "red"), ("name", "Ruby")]);
    register.load(rsf.bytes(), Mode::Strict).expect("load");

    let mut dump = Vec::new();
    register.write_rsf(&mut dump).expect("dump");
    let text = String::from_utf8(dump.clone()).expect("utf-8");
    assert!(
        text.contains("append-entry\tuser\tgreen\t2020-01-02T00:00:00Z\t\n"),
        "{text}"
    );
    let mut copy = Register::new();
    copy.load(&dump[..], Mode::Strict).expect("strict reload");
    assert_eq!(copy.root(LogKind::User), register.root(LogKind::User));
    assert_eq!(copy.records(), register.records());

    // The empty middle field of the 2016 form is an entry with no items too.
    let legacy = text.replace(
        "append-entry\tuser\tgreen\t2020-01-02T00:00:00Z\t\n",
        "append-entry\t2020-01-02T00:00:00Z\t\tgreen\n",
    );
    assert_ne!(legacy, text);
    let verified = register_core::verify(legacy.as_bytes(), Mode::Strict).expect("legacy");
    assert_eq!(verified.root, register.root(LogKind::User));
}

#[test]
fn unreferenced_items_are_kept_and_counted_in_relaxed_mode_only() {
    let stray = common::item(&[("colour", "purple"), ("name", "Purple")]);
    let rsf = colours().line(&format!("add-item\t{}", stray.canonical_json()));
    let lines = rsf.text.lines().count();
    let mut strict = Register::new();
    expect_error(
        &mut strict,
        rsf.bytes(),
        Mode::Strict,
        &format!("line {lines}: Orphan add item: {}", stray.hash()),
    );

    let mut relaxed = Register::new();
    let summary = relaxed.load(rsf.bytes(), Mode::Relaxed).expect("relaxed");
    assert_eq!(summary.unreferenced_items, 1);
    assert_eq!(summary.user_entries, 3);
    assert!(relaxed.item_json(&stray.hash()).is_some());
    assert_eq!(relaxed.record_count(), 3);

    let verified = register_core::verify(rsf.bytes(), Mode::Relaxed).expect("verify");
    assert_eq!(verified.summary.unreferenced_items, 1);
    // An item the register already holds, repeated without an entry, counts as well.
    let again = relaxed
        .load(
            format!("add-item\t{}\n", stray.canonical_json()).as_bytes(),
            Mode::Relaxed,
        )
        .expect("again");
    assert_eq!(again.unreferenced_items, 1);
    assert_eq!(again.new_items, 0);
}

#[test]
fn upgrade_writes_the_current_form_with_identical_roots() {
    let country = country();
    let dump = legacy_dump(&country, Form::TimestampFirst, true);
    let mut out = Vec::new();
    let upgraded = upgrade(dump.as_bytes(), Mode::Relaxed, &mut out).expect("upgrade");
    assert_eq!(upgraded.legacy_entries, 208);
    // The legacy dump ends with the assert after entry 208.
    assert!(!upgraded.final_assert_added);
    assert_eq!(upgraded.verification.root, country.root(LogKind::User));
    let text = String::from_utf8(out.clone()).expect("utf-8");
    assert_eq!(text.lines().count(), dump.lines().count());
    for line in text.lines().filter(|l| l.starts_with("append-entry")) {
        assert!(line.starts_with("append-entry\tuser\t"), "{line}");
        assert_eq!(line.split('\t').count(), 5, "{line}");
    }
    let verified = register_core::verify(&out[..], Mode::Relaxed).expect("verify upgraded");
    assert_eq!(verified.root, country.root(LogKind::User));
    assert_eq!(verified.summary.asserts, 4);

    // A current file is unchanged, apart from a final assert when it lacks one.
    let mut again = Vec::new();
    let second = upgrade(&out[..], Mode::Relaxed, &mut again).expect("idempotent");
    assert_eq!(second.legacy_entries, 0);
    assert_eq!(again, out);
    let plain = remove(colours(), "red");
    let mut with_assert = Vec::new();
    let third = upgrade(plain.bytes(), Mode::Strict, &mut with_assert).expect("colours");
    assert!(third.final_assert_added);
    let expected = format!(
        "{}assert-root-hash\t{}\n",
        plain.text, third.verification.root
    );
    assert_eq!(String::from_utf8(with_assert).expect("utf-8"), expected);
}

#[test]
fn upgrade_fails_like_verify_naming_the_line() {
    let bad = format!("{}append-entry\tred\tsoon\tsha-256:00\n", colours().text);
    let line = bad.lines().count() as u64;
    let err = upgrade(bad.as_bytes(), Mode::Strict, &mut Vec::new()).expect_err("bad line");
    assert_eq!(err.line(), Some(line));
}

/// Operations on a small strict register: put a colour's name, or remove the colour.
fn operations() -> impl Strategy<Value = Vec<(usize, Option<u8>)>> {
    prop::collection::vec((0usize..4, prop::option::weighted(0.7, 0u8..3)), 1..40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any mix of puts and removals: a strict load accepts exactly the changes, the dump
    /// reloads elsewhere with the same root and records, both legacy forms hash alike, and the
    /// records are what replaying the operations says.
    #[test]
    fn puts_and_removals_round_trip(ops in operations()) {
        const KEYS: [&str; 4] = ["red", "green", "blue", "cyan"];
        let mut rsf = Rsf::new().metadata("colour", &[("colour", "string", "1"), ("name", "string", "1")]);
        let mut model: std::collections::BTreeMap<&str, Option<u8>> = Default::default();
        for (key, op) in ops {
            let key = KEYS[key];
            let before = model.get(key).copied();
            // Strict mode refuses an entry identical to the current one: skip those.
            if before == Some(op) || (before.is_none() && op.is_none()) {
                continue;
            }
            rsf = match op {
                Some(name) => rsf.user(key, &[("colour", key), ("name", &format!("N{name}"))]),
                None => remove(rsf, key),
            };
            model.insert(key, op);
        }
        let mut register = Register::new();
        register.load(rsf.bytes(), Mode::Strict).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let live: Vec<&str> = model.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| *k).collect();
        let mut keys: Vec<&str> = register.records().iter().map(|e| e.key.as_str()).collect();
        keys.sort_unstable();
        prop_assert_eq!(&keys, &live);
        prop_assert_eq!(register.record_count(), live.len() as u64);

        let mut dump = Vec::new();
        register.write_rsf(&mut dump).expect("dump");
        let mut copy = Register::new();
        copy.load(&dump[..], Mode::Strict).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(copy.root(LogKind::User), register.root(LogKind::User));
        prop_assert_eq!(copy.records(), register.records());

        for form in [Form::TimestampFirst, Form::KeyFirst] {
            let text = String::from_utf8(dump.clone()).expect("utf-8");
            let legacy: Vec<String> = text.lines().map(|line| {
                let fields: Vec<&str> = line.split('\t').collect();
                if fields.len() == 5 && fields[1] == "user" {
                    let (key, ts, hashes) = (fields[2], fields[3], fields[4]);
                    match form {
                        Form::TimestampFirst => format!("append-entry\t{ts}\t{hashes}\t{key}"),
                        Form::KeyFirst => format!("append-entry\t{key}\t{ts}\t{hashes}"),
                    }
                } else {
                    line.to_string()
                }
            }).collect();
            let legacy = legacy.join("\n") + "\n";
            let verified = register_core::verify(legacy.as_bytes(), Mode::Strict)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(verified.root, register.root(LogKind::User));
            let mut upgraded = Vec::new();
            upgrade(legacy.as_bytes(), Mode::Strict, &mut upgraded)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&upgraded, &dump);
        }
    }

    /// Three tab-separated arguments of any shape never panic the reader, and an accepted one
    /// is a user entry.
    #[test]
    fn three_argument_lines_never_panic(a in "[a-zA-Z0-9:;.\\-]{0,30}", b in "[a-zA-Z0-9:;.\\-]{0,30}", c in "[a-zA-Z0-9:;.\\-]{0,30}") {
        let line = format!("append-entry\t{a}\t{b}\t{c}");
        if let Ok(register_core::rsf::Command::AppendEntry { log, .. }) = register_core::rsf::parse_command(&line) {
            prop_assert_eq!(log, LogKind::User);
        }
    }
}
