//! Each RSF error of registers.md §6, each validation rule of §3, and atomicity.

mod common;

use common::{expect_error, hash_of, item, loaded, Rsf};
use register_core::{LogKind, Mode, Register};

const TS: &str = "2020-01-01T00:00:00Z";

/// An item's `(field, value)` pairs.
type Fields<'a> = &'a [(&'a str, &'a str)];

fn colour() -> Register {
    loaded("colour.rsf", Mode::Strict)
}

fn check(rsf: &str, message: &str) {
    expect_error(&mut colour(), rsf.as_bytes(), Mode::Strict, message);
}

#[test]
fn rsf_syntax_errors_name_the_line() {
    let green = item(&[("colour", "green"), ("name", "Green")]);
    let hash = green.hash();
    let ok_item = format!("add-item\t{}", green.canonical_json());
    let ok_entry = format!("append-entry\tuser\tgreen\t{TS}\t{hash}");
    check(
        "add-item\t{\"name\":\"Green\",\"colour\":\"green\"}\n",
        "line 1: Non canonical JSON",
    );
    check(
        "add-item\t{ \"colour\":\"green\"}\n",
        "line 1: Non canonical JSON",
    );
    check("add-item\t{\"colour\":\n", "line 1: Invalid JSON");
    check("add-item\tnot json\n", "line 1: Invalid JSON");
    check(
        "add-item\t{\"colour\":1}\n",
        "line 1: field 'colour' must be a string or a list of strings",
    );
    check(
        "add-item\t[\"colour\"]\n",
        "line 1: item must be a JSON object",
    );
    check(
        &format!("{ok_item}\n{ok_entry}\ndelete-item\tx\n"),
        "line 3: Command 'delete-item' is not recognised",
    );
    check("add-item\n", "line 1: add-item must have 1 argument");
    check(
        &format!("{ok_item}\tmore\n"),
        "line 1: add-item must have 1 argument",
    );
    check(
        &format!("{ok_item}\nappend-entry\tuser\tgreen\t{TS}\n"),
        "line 2: append-entry must have 4 arguments (or 3 in a 2016 form: timestamp, hashes, \
         key or key, timestamp, hashes)",
    );
    check(
        &format!("{ok_item}\nappend-entry\tusr\tgreen\t{TS}\t{hash}\n"),
        "line 2: Type must be 'user' or 'system', not 'usr'",
    );
    for bad in [
        "2020-01-01T00:00:00.5Z",
        "2020-01-01T00:00:00",
        "2020-01-01 00:00:00Z",
        "2020-02-30T00:00:00Z",
    ] {
        check(
            &format!("{ok_item}\nappend-entry\tuser\tgreen\t{bad}\t{hash}\n"),
            &format!("line 2: Date is not in the correct format: '{bad}'"),
        );
    }
    check(
        &format!("{ok_item}\nappend-entry\tuser\tgreen\t{TS}\tmd5:abc\n"),
        "line 2: 'md5:abc' was not hashed using sha-256",
    );
    check(
        &format!("{ok_item}\nappend-entry\tuser\tgr een\t{TS}\t{hash}\n"),
        "line 2: key 'gr een' is not valid: only letters, digits and . _ / - are allowed",
    );
    check(&format!("{ok_item}\n\n{ok_entry}\n"), "line 2: Empty line");
    check(
        "assert-root-hash\tsha-256:xyz\n",
        "line 1: 'sha-256:xyz' was not hashed using sha-256",
    );
    check(
        &format!("{ok_item}\n{ok_entry}\r\nbad\n"),
        "line 3: Command 'bad' is not recognised",
    );
    let invalid_utf8 = [ok_item.as_bytes(), b"\n\xff\xfe\n"].concat();
    expect_error(
        &mut colour(),
        &invalid_utf8,
        Mode::Strict,
        "line 2: line is not valid UTF-8",
    );
}

#[test]
fn orphans() {
    let green = item(&[("colour", "green"), ("name", "Green")]);
    let hash = green.hash();
    check(
        &format!("append-entry\tuser\tgreen\t{TS}\t{hash}\n"),
        &format!("line 1: Orphan append entry: {hash}"),
    );
    // The first unreferenced item is reported, at its own line, once the file has ended.
    let blue2 = item(&[("colour", "blue"), ("name", "Navy")]);
    check(
        &format!(
            "add-item\t{}\nadd-item\t{}\nappend-entry\tuser\tblue\t{TS}\t{}\n",
            green.canonical_json(),
            blue2.canonical_json(),
            blue2.hash()
        ),
        &format!("line 1: Orphan add item: {hash}"),
    );
    // An item already stored may be added again, but must still be referenced.
    let red = hash_of(&[("colour", "red"), ("name", "Red")]);
    check(
        "add-item\t{\"colour\":\"red\",\"name\":\"Red\"}\n",
        &format!("line 1: Orphan add item: {red}"),
    );
    // Adding a stored item again and referencing it validates it from the store.
    let mut register = colour();
    let again = format!(
        "add-item\t{{\"colour\":\"red\",\"name\":\"Red\"}}\nappend-entry\tuser\tred\t{TS}\t{red}\n"
    );
    register
        .load(again.as_bytes(), Mode::Strict)
        .expect("re-added stored item");
    assert_eq!(register.size(LogKind::User), 4);
    // Referencing a stored item without adding it is fine.
    let mut register = colour();
    register
        .load(
            format!("append-entry\tuser\tred\t{TS}\t{red}\n").as_bytes(),
            Mode::Strict,
        )
        .expect("stored items need no add-item");
    assert_eq!(register.size(LogKind::User), 4);
}

#[test]
fn asserts_see_everything_appended_so_far() {
    let register = colour();
    let root = register.root(LogKind::User);
    let rsf = Rsf::new()
        .line(&format!("assert-root-hash\t{root}"))
        .user("green", &[("colour", "green"), ("name", "Green")]);
    let mut after = register.clone();
    after.load(rsf.bytes(), Mode::Strict).expect("load");
    let new_root = after.root(LogKind::User);
    let rsf = rsf.line(&format!("assert-root-hash\t{new_root}"));
    let mut again = register.clone();
    again
        .load(rsf.bytes(), Mode::Strict)
        .expect("both asserts hold");
    // The stale root asserted after the append fails, and nothing is applied.
    let stale = rsf.line(&format!("assert-root-hash\t{root}"));
    let mut target = register.clone();
    expect_error(
        &mut target,
        stale.bytes(),
        Mode::Strict,
        &format!("line 5: Root hashes don't match. Expected: {root} actual: {new_root}"),
    );
}

#[test]
fn a_late_error_rolls_back_the_whole_file() {
    let rsf = Rsf::new()
        .user("green", &[("colour", "green"), ("name", "Green")])
        .user("white", &[("colour", "white"), ("name", "White")])
        .line("add-item\t{\"colour\":");
    check(&rsf.text, "line 5: Invalid JSON");
}

fn thing_register(mode: Mode) -> Register {
    let mut register = Register::new();
    let rsf = Rsf::new().metadata(
        "thing",
        &[
            ("thing", "string", "1"),
            ("label", "string", "1"),
            ("tags", "string", "n"),
        ],
    );
    register.load(rsf.bytes(), mode).expect("metadata");
    register
}

#[test]
fn rule_1_needs_metadata_in_strict_mode() {
    let entry = Rsf::new().user("a", &[("thing", "a")]);
    expect_error(
        &mut Register::new(),
        entry.bytes(),
        Mode::Strict,
        "line 2: register has no 'name' system entry",
    );
    let named = Rsf::new().system("name", &[("name", "thing")]);
    let rsf = Rsf {
        text: named.text.clone() + &entry.text,
    };
    expect_error(
        &mut Register::new(),
        rsf.bytes(),
        Mode::Strict,
        "line 4: register definition 'register:thing' is missing",
    );
    let defined = named.system(
        "register:thing",
        &[("fields", "thing;label"), ("register", "thing")],
    );
    let defined = defined.system(
        "field:thing",
        &[
            ("cardinality", "1"),
            ("datatype", "string"),
            ("field", "thing"),
        ],
    );
    let rsf = Rsf {
        text: defined.text + &entry.text,
    };
    expect_error(
        &mut Register::new(),
        rsf.bytes(),
        Mode::Strict,
        "line 8: field definition 'field:label' is missing",
    );
    // Relaxed mode takes user entries before any metadata.
    let mut relaxed = Register::new();
    relaxed.load(entry.bytes(), Mode::Relaxed).expect("relaxed");
    assert_eq!(relaxed.size(LogKind::User), 1);
}

#[test]
fn rules_2_to_5() {
    let cases: &[(Fields, &str, &str)] = &[
        (
            &[("thing", "a"), ("colour", "red")],
            "a",
            "line 2: field 'colour' is not a field of the register",
        ),
        (
            &[("label", "x")],
            "a",
            "line 2: primary field 'thing' is missing or blank",
        ),
        (
            &[("thing", " ")],
            "a",
            "line 2: field 'thing' value ' ' is not a string",
        ),
        (
            &[("thing", "b")],
            "a",
            "line 2: primary field 'thing' value 'b' does not equal the entry key 'a'",
        ),
        (
            &[("thing", "a"), ("tags", "one")],
            "a",
            "line 2: field 'tags' has cardinality n and needs a list of strings",
        ),
        (
            &[("thing", "a;b")],
            "a",
            "line 2: field 'thing' has cardinality 1 and needs a string",
        ),
        (
            &[("thing", "a"), ("label", "")],
            "a",
            "line 2: field 'label' value '' is not a string",
        ),
    ];
    for (fields, key, message) in cases {
        let rsf = Rsf::new().user(key, fields);
        expect_error(
            &mut thing_register(Mode::Strict),
            rsf.bytes(),
            Mode::Strict,
            message,
        );
    }
    // Rule 5, in the user log and in the system log.
    let mut register = thing_register(Mode::Strict);
    register
        .load(
            Rsf::new().user("a", &[("thing", "a")]).bytes(),
            Mode::Strict,
        )
        .expect("first entry");
    let same = format!(
        "append-entry\tuser\ta\t{TS}\t{}\n",
        hash_of(&[("thing", "a")])
    );
    expect_error(
        &mut register,
        same.as_bytes(),
        Mode::Strict,
        "line 1: entry for key 'a' is identical to previous entry",
    );
    let same_name = format!(
        "append-entry\tsystem\tname\t{TS}\t{}\n",
        hash_of(&[("name", "thing")])
    );
    expect_error(
        &mut register,
        same_name.as_bytes(),
        Mode::Strict,
        "line 1: entry for key 'name' is identical to previous entry",
    );
    // Relaxed mode skips rules 3 and 5 but keeps 2 and 4.
    let mut relaxed = thing_register(Mode::Relaxed);
    relaxed
        .load(
            Rsf::new().user("a", &[("thing", "b")]).bytes(),
            Mode::Relaxed,
        )
        .expect("rule 3 skipped");
    relaxed
        .load(
            Rsf::new().user("a", &[("thing", "a")]).bytes(),
            Mode::Relaxed,
        )
        .expect("an update");
    relaxed
        .load(same.as_bytes(), Mode::Relaxed)
        .expect("rule 5 skipped");
    assert_eq!(relaxed.size(LogKind::User), 3);
    expect_error(
        &mut relaxed,
        Rsf::new()
            .user("a", &[("thing", "a"), ("colour", "red")])
            .bytes(),
        Mode::Relaxed,
        "line 2: field 'colour' is not a field of the register",
    );
}

#[test]
fn malformed_metadata_is_refused_in_strict_mode() {
    let cases: &[(&str, Fields, &str)] = &[
        (
            "field:x",
            &[("cardinality", "1"), ("datatype", "colour"), ("field", "x")],
            "datatype 'colour' is not known",
        ),
        (
            "field:x",
            &[("cardinality", "2"), ("datatype", "string"), ("field", "x")],
            "cardinality '2' must be '1' or 'n'",
        ),
        (
            "field:x",
            &[("cardinality", "1"), ("datatype", "string"), ("field", "y")],
            "its 'field' field must be 'x'",
        ),
        (
            "register:x",
            &[("fields", "a;b"), ("register", "y")],
            "its 'register' field must be 'x'",
        ),
        (
            "name",
            &[("title", "x")],
            "the item needs a string field 'name'",
        ),
    ];
    for (key, fields, reason) in cases {
        let rsf = Rsf::new().system(key, fields);
        expect_error(
            &mut Register::new(),
            rsf.bytes(),
            Mode::Strict,
            &format!("line 2: system entry '{key}' is not valid metadata: {reason}"),
        );
        Register::new()
            .load(rsf.bytes(), Mode::Relaxed)
            .expect("relaxed keeps the entry");
    }
}

/// A register with one field per datatype (`f-<datatype>`), and `f-link`: a CURIE field that
/// names a register.
fn typed_register() -> Register {
    let mut rsf = Rsf::new().system("name", &[("name", "typed")]);
    let datatypes = register_core::Datatype::ALL;
    let mut names = vec!["typed".to_string()];
    rsf = rsf.system(
        "field:typed",
        &[
            ("cardinality", "1"),
            ("datatype", "string"),
            ("field", "typed"),
        ],
    );
    for datatype in datatypes {
        let field = format!("f-{datatype}");
        rsf = rsf.system(
            &format!("field:{field}"),
            &[
                ("cardinality", "1"),
                ("datatype", datatype.name()),
                ("field", &field),
            ],
        );
        names.push(field);
    }
    rsf = rsf.system(
        "field:f-link",
        &[
            ("cardinality", "1"),
            ("datatype", "curie"),
            ("field", "f-link"),
            ("register", "country"),
        ],
    );
    names.push("f-link".into());
    rsf = rsf.system(
        "register:typed",
        &[("fields", &names.join(";")), ("register", "typed")],
    );
    let mut register = Register::new();
    register
        .load(rsf.bytes(), Mode::Strict)
        .expect("typed metadata");
    register
}

#[test]
fn every_datatype_through_a_load() {
    let valid: &[(&str, &[&str])] = &[
        ("string", &["x", "Côte d’Ivoire", " padded "]),
        ("text", &["Some *Markdown*", "line\nbreak"]),
        ("integer", &["0", "-1", "42", "12345678901234567890"]),
        (
            "datetime",
            &["2016", "2016-04", "2016-02-29", "2016-04-05T13:23:05Z"],
        ),
        ("timestamp", &["2016-04-05T13:23:05Z"]),
        (
            "period",
            &[
                "2016/2017",
                "2016-01-01/P1Y",
                "P1Y/2017",
                "P1Y2M3DT4H5M6S",
                "P2W",
            ],
        ),
        ("curie", &["country:GB", "a1-b:x"]),
        ("url", &["https://example.com/a?b#c", "mailto:a@b.c"]),
        ("name", &["Name", "a-b-1"]),
        (
            "hash",
            &["sha-256:5dd4fe3b0de91882dae86b223ca531b5c8f2335d9ee3fd0ab18dfdc2871d0c61"],
        ),
        ("boolean", &["true", "false"]),
        ("link", &["GB", "country:GB"]),
    ];
    let invalid: &[(&str, &[&str])] = &[
        ("string", &["", "   ", "\t"]),
        ("text", &["", " \n "]),
        ("integer", &["-0", "01", "+1", "1.0", " 1", "one"]),
        (
            "datetime",
            &[
                "1991-13-01",
                "2015-02-29",
                "16",
                "2016-04-05T24:00:00Z",
                "2016-04-05T13:23Z",
            ],
        ),
        (
            "timestamp",
            &[
                "2016-04-05",
                "2016-04-05T13:23:05",
                "2016-04-05T13:23:05.1Z",
            ],
        ),
        (
            "period",
            &["P", "PT", "P1YT", "2018/2017", "P1Y/P2Y", "2017/"],
        ),
        ("curie", &["GB", "Country:GB", "country:", "country:G B"]),
        (
            "url",
            &["example.com", "https://", "http:// a", "/relative"],
        ),
        ("name", &["1abc", "a_b", "a b", ""]),
        (
            "hash",
            &[
                "sha-256:5DD4",
                "5dd4fe3b0de91882dae86b223ca531b5c8f2335d9ee3fd0ab18dfdc2871d0c61",
            ],
        ),
        ("boolean", &["True", "yes", "1", ""]),
        ("link", &["G B", "Country:GB"]),
    ];
    for (datatype, values) in valid {
        for value in *values {
            let field = format!("f-{datatype}");
            let rsf = Rsf::new().user("k", &[("typed", "k"), (&field, value)]);
            let mut register = typed_register();
            register
                .load(rsf.bytes(), Mode::Strict)
                .unwrap_or_else(|e| panic!("{datatype} {value:?}: {e}"));
        }
    }
    for (datatype, values) in invalid {
        let shown = if *datatype == "link" {
            "curie"
        } else {
            datatype
        };
        let article = if shown.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        for value in *values {
            let field = format!("f-{datatype}");
            let rsf = Rsf::new().user("k", &[("typed", "k"), (&field, value)]);
            expect_error(
                &mut typed_register(),
                rsf.bytes(),
                Mode::Strict,
                &format!("line 2: field '{field}' value '{value}' is not {article} {shown}"),
            );
        }
    }
}

#[test]
fn multi_item_entries_are_validated_item_by_item() {
    let mut register = thing_register(Mode::Strict);
    let a = item(&[("thing", "a"), ("label", "first")]);
    let b = item(&[("thing", "a"), ("label", "second")]);
    let rsf = format!(
        "add-item\t{}\nadd-item\t{}\nappend-entry\tuser\ta\t{TS}\t{};{}\n",
        a.canonical_json(),
        b.canonical_json(),
        a.hash(),
        b.hash()
    );
    register
        .load(rsf.as_bytes(), Mode::Strict)
        .expect("multi-item entry");
    let record = register.record(LogKind::User, "a").expect("record");
    assert_eq!(record.item_hashes, vec![a.hash(), b.hash()]);
    let wrong = item(&[("thing", "z")]);
    let rsf = format!(
        "add-item\t{}\nappend-entry\tuser\ta\t{TS}\t{};{}\n",
        wrong.canonical_json(),
        b.hash(),
        wrong.hash()
    );
    expect_error(
        &mut register,
        rsf.as_bytes(),
        Mode::Strict,
        "line 2: primary field 'thing' value 'z' does not equal the entry key 'a'",
    );
}

#[test]
fn an_entry_naming_one_item_twice_is_refused_at_its_line() {
    let green = item(&[("colour", "green"), ("name", "Green")]);
    let hash = green.hash();
    let add = format!("add-item\t{}", green.canonical_json());
    let repeated = format!("item hash {hash} appears more than once in the entry");
    check(
        &format!("{add}\nappend-entry\tuser\tgreen\t{TS}\t{hash};{hash}\n"),
        &format!("line 2: {repeated}"),
    );
    // 10,000 times, in both modes: refused, not stored.
    let many = vec![hash.to_string(); 10_000].join(";");
    let rsf = format!("{add}\nappend-entry\tuser\tgreen\t{TS}\t{many}\n");
    for mode in [Mode::Strict, Mode::Relaxed] {
        expect_error(
            &mut colour(),
            rsf.as_bytes(),
            mode,
            &format!("line 2: {repeated}"),
        );
    }
    // The system log too.
    let name = item(&[("name", "colour")]);
    let rsf = format!(
        "add-item\t{}\nappend-entry\tsystem\tname\t{TS}\t{h};{h}\n",
        name.canonical_json(),
        h = name.hash()
    );
    check(
        &rsf,
        &format!(
            "line 2: item hash {} appears more than once in the entry",
            name.hash()
        ),
    );
}
