//! RSF emission: full and ranged dumps load back to the same register, and a ranged dump
//! applies only to a copy of exactly the size it starts from.

mod common;

use common::{loaded, Rsf};
use register_core::{LogKind, Mode, Register};

fn emit(register: &Register, from: u64, to: u64) -> Vec<u8> {
    let mut out = Vec::new();
    register.write_rsf_range(&mut out, from, to).expect("emit");
    out
}

#[test]
fn full_dump_round_trips() {
    for (file, mode) in [
        ("country-data.rsf", Mode::Strict),
        ("colour.rsf", Mode::Strict),
        ("country-with-asserts.rsf", Mode::Relaxed),
    ] {
        let original = loaded(file, mode);
        let mut dump = Vec::new();
        original.write_rsf(&mut dump).expect("emit");
        let text = String::from_utf8(dump.clone()).expect("utf-8");
        assert!(text.starts_with(
            "assert-root-hash\tsha-256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        ));
        assert!(text.ends_with(&format!(
            "assert-root-hash\t{}\n",
            original.root(LogKind::User)
        )));
        let mut copy = Register::new();
        let summary = copy.load(&dump[..], mode).expect(file);
        assert_eq!(summary.asserts, 2);
        for log in [LogKind::User, LogKind::System] {
            assert_eq!(copy.size(log), original.size(log), "{file}");
            assert_eq!(copy.root(log), original.root(log), "{file}");
            assert_eq!(copy.entries(log), original.entries(log), "{file}");
        }
        assert_eq!(copy.item_count(), original.item_count(), "{file}");
        // Emitting the copy gives the same bytes.
        let mut again = Vec::new();
        copy.write_rsf(&mut again).expect("emit");
        assert_eq!(again, dump, "{file}");
    }
}

#[test]
fn ranged_dumps_apply_only_at_their_starting_size() {
    let original = loaded("country-data.rsf", Mode::Strict);
    for (m, n) in [(0, 50), (50, 120), (120, 208), (100, 100), (0, 208)] {
        let delta = emit(&original, m, n);
        for size in [0, 49, 50, 51, 100, 120, 121, 208] {
            if size > n {
                continue;
            }
            // A copy of size 0 is a new, empty register (a dump from 0 carries the metadata).
            let mut copy = Register::new();
            if size > 0 {
                copy.load(&emit(&original, 0, size)[..], Mode::Strict)
                    .expect("prefix");
            }
            let result = copy.load(&delta[..], Mode::Strict);
            if size == m {
                result.unwrap_or_else(|e| panic!("{m}..{n} onto {size}: {e}"));
                assert_eq!(copy.size(LogKind::User), n);
                assert_eq!(copy.root(LogKind::User), original.root_at(n).expect("root"));
            } else {
                let err = result.expect_err("wrong starting size");
                assert_eq!(err.line(), Some(1), "{m}..{n} onto {size}: {err}");
                assert!(err.to_string().contains("Root hashes don't match"), "{err}");
                assert_eq!(copy.size(LogKind::User), size, "unchanged");
            }
        }
    }
}

#[test]
fn ranged_dump_lists_only_the_items_it_needs() {
    let original = loaded("colour.rsf", Mode::Strict);
    let text = String::from_utf8(emit(&original, 2, 3)).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        vec![
            "assert-root-hash\tsha-256:08bab1fd9d3ca2d5f9751622e51da646e32199acef5f4717f5a22c1726c3cd69",
            "add-item\t{\"colour\":\"red\",\"name\":\"Scarlet\"}",
            "append-entry\tuser\tred\t2019-01-03T09:30:00Z\tsha-256:09aea2ccf84cd1a8d33bbf161920013345136c6a99a563b7484f46ea3a037eab",
            "assert-root-hash\tsha-256:f8bf199abd5ef0c25e36400dd5b24d517fe2ee0d6abe658a6c0abf1ac9989a62",
        ]
    );
    assert!(original.write_rsf_range(&mut Vec::new(), 3, 2).is_err());
    assert!(original.write_rsf_range(&mut Vec::new(), 0, 4).is_err());
}

#[test]
fn records_and_history() {
    let register = loaded("colour.rsf", Mode::Strict);
    let red = register.record(LogKind::User, "red").expect("red");
    assert_eq!(red.entry_number, 3);
    let history: Vec<u64> = register
        .record_history(LogKind::User, "red")
        .iter()
        .map(|e| e.entry_number)
        .collect();
    assert_eq!(history, vec![1, 3]);
    let newest_first: Vec<&str> = register.records().iter().map(|e| e.key.as_str()).collect();
    assert_eq!(newest_first, vec!["red", "blue"]);
    assert_eq!(register.record_count(), 2);
    let item = register.item(&red.item_hashes[0]).expect("item");
    assert_eq!(
        item.canonical_json(),
        r#"{"colour":"red","name":"Scarlet"}"#
    );
    assert_eq!(register.name(), Some("colour"));
    let definition = register
        .metadata()
        .register_definition()
        .expect("definition");
    assert_eq!(definition.fields, vec!["colour", "name"]);
    assert!(Rsf::new().bytes().is_empty());
}
