//! Integration tests of the `rsf` command-line contract (spec §6–§8, vectors.md).
//!
//! Every test runs the built binary and checks exit code, stdout and stderr exactly where the
//! contract fixes them.

mod common;

use common::{
    fails, ok, run, COLOUR, COLOUR_ROOT, COLOUR_SYSTEM_ROOT, COUNTRY, COUNTRY_ASSERTS,
    COUNTRY_ASSERTS_ROOT, COUNTRY_ROOT, COUNTRY_ROOT_1, COUNTRY_ROOT_197, COUNTRY_ROOT_200,
    COUNTRY_SYSTEM_ROOT, EMPTY_ROOT,
};

fn verify_line(items: u64, user: u64, system: u64, asserts: u64, root: &str, sys: &str) -> String {
    format!(
        "{{\"items\":{items},\"user-entries\":{user},\"system-entries\":{system},\"asserts\":{asserts},\"unreferenced-items\":0,\"root-hash\":\"{root}\",\"system-root-hash\":\"{sys}\"}}\n"
    )
}

fn prefixed(hexes: &[&str]) -> Vec<String> {
    hexes.iter().map(|h| format!("sha-256:{h}")).collect()
}

fn entry_proof_line(n: u64, hexes: &[&str]) -> String {
    let path: Vec<String> = prefixed(hexes).iter().map(|h| format!("\"{h}\"")).collect();
    format!(
        "{{\"proof-identifier\":\"merkle:sha-256\",\"entry-number\":\"{n}\",\"merkle-audit-path\":[{}]}}\n",
        path.join(",")
    )
}

fn consistency_line(hexes: &[&str]) -> String {
    let nodes: Vec<String> = prefixed(hexes).iter().map(|h| format!("\"{h}\"")).collect();
    format!(
        "{{\"proof-identifier\":\"merkle:sha-256\",\"merkle-consistency-nodes\":[{}]}}\n",
        nodes.join(",")
    )
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

fn root_of(stdout: &str) -> String {
    json(stdout)["root-hash"]
        .as_str()
        .expect("root-hash is a string")
        .to_owned()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// verify

#[test]
fn verify_country_data() {
    assert_eq!(
        ok(&["verify", COUNTRY], None),
        verify_line(224, 208, 16, 0, COUNTRY_ROOT, COUNTRY_SYSTEM_ROOT)
    );
}

#[test]
fn verify_colour_with_asserts() {
    assert_eq!(
        ok(&["verify", COLOUR], None),
        verify_line(7, 3, 4, 4, COLOUR_ROOT, COLOUR_SYSTEM_ROOT)
    );
}

#[test]
fn verify_country_with_asserts_relaxed() {
    let out = ok(&["verify", "--relaxed", COUNTRY_ASSERTS], None);
    let v = json(&out);
    assert_eq!(out.lines().count(), 1);
    assert_eq!(v["items"], 225);
    assert_eq!(v["user-entries"], 209);
    assert_eq!(v["system-entries"], 18);
    assert_eq!(v["root-hash"], COUNTRY_ASSERTS_ROOT);
    // The option is accepted after the file too.
    assert_eq!(ok(&["verify", COUNTRY_ASSERTS, "--relaxed"], None), out);
}

#[test]
fn verify_country_with_asserts_strict_fails() {
    let message = fails(&["verify", COUNTRY_ASSERTS], None);
    assert!(message.starts_with("line "), "{message}");
    assert!(message.contains("identical to previous entry"), "{message}");
}

#[test]
fn verify_reads_stdin() {
    assert_eq!(
        ok(&["verify", "-"], Some(&read(COUNTRY))),
        verify_line(224, 208, 16, 0, COUNTRY_ROOT, COUNTRY_SYSTEM_ROOT)
    );
    assert_eq!(
        ok(&["verify", "-"], Some(&read(COLOUR))),
        verify_line(7, 3, 4, 4, COLOUR_ROOT, COLOUR_SYSTEM_ROOT)
    );
    let out = ok(&["verify", "--relaxed", "-"], Some(&read(COUNTRY_ASSERTS)));
    assert_eq!(root_of(&out), COUNTRY_ASSERTS_ROOT);
}

#[test]
fn verify_empty_input_is_the_empty_register() {
    assert_eq!(
        ok(&["verify", "-"], Some("")),
        verify_line(0, 0, 0, 0, EMPTY_ROOT, EMPTY_ROOT)
    );
}

// ---------------------------------------------------------------------------------------------
// error contract

#[test]
fn verify_non_canonical_line_reports_its_number() {
    let colour = read(COLOUR);
    let mut lines: Vec<&str> = colour.lines().collect();
    lines[4] = "add-item\t{\"b\":\"1\",\"a\":\"2\"}";
    let bad = lines.join("\n") + "\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.rsf");
    std::fs::write(&path, &bad).expect("write bad.rsf");
    let path = path.to_str().expect("UTF-8 path");
    assert_eq!(fails(&["verify", path], None), "line 5: Non canonical JSON");
    assert_eq!(
        fails(&["verify", "--relaxed", path], None),
        "line 5: Non canonical JSON"
    );
    assert_eq!(
        fails(&["verify", "-"], Some(&bad)),
        "line 5: Non canonical JSON"
    );
}

#[test]
fn verify_failed_assert_reports_root_mismatch() {
    // Corrupt the second assert of colour.rsf (the first after the empty-tree one, line 12,
    // made after one user entry) to the empty root.
    let colour = read(COLOUR);
    let mut lines: Vec<String> = colour.lines().map(str::to_owned).collect();
    assert!(lines[11].starts_with("assert-root-hash\t"), "{}", lines[11]);
    lines[11] = format!("assert-root-hash\t{EMPTY_ROOT}");
    let bad = lines.join("\n") + "\n";
    let message = fails(&["verify", "-"], Some(&bad));
    assert!(message.starts_with("line 12: "), "{message}");
    assert!(message.contains("Root hashes don't match"), "{message}");
}

#[test]
fn unknown_command_fails() {
    let (code, stdout, stderr) = run(&["frobnicate"], None);
    // clap reports usage errors with its own exit code (2); any failure will do here.
    assert_ne!(code, 0);
    assert_eq!(stdout, "");
    assert!(stderr.contains("frobnicate"), "{stderr}");
}

#[test]
fn missing_command_fails() {
    let (code, stdout, _stderr) = run(&[], None);
    assert_ne!(code, 0);
    assert_eq!(stdout, "");
}

#[test]
fn missing_file_fails_naming_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("no-such-file.rsf");
    let path = path.to_str().expect("UTF-8 path");
    for args in [
        vec!["verify", path],
        vec!["emit", path],
        vec!["proof", "entry", path, "1", "1"],
        vec!["proof", "consistency", path, "1", "1"],
    ] {
        let message = fails(&args, None);
        assert!(message.contains(path), "{args:?}: {message}");
    }
}

// ---------------------------------------------------------------------------------------------
// hash-item and canonical

#[test]
fn hash_item_vectors() {
    let foo = "sha-256:5dd4fe3b0de91882dae86b223ca531b5c8f2335d9ee3fd0ab18dfdc2871d0c61\n";
    assert_eq!(
        ok(&["hash-item", r#"{"foo":"abc","bar":"xyz"}"#], None),
        foo
    );
    assert_eq!(
        ok(&["hash-item", r#"{"bar":"xyz","foo":"abc"}"#], None),
        foo
    );
    assert_eq!(
        ok(&["hash-item", r#"{ "bar" : "xyz", "foo": "abc" }"#], None),
        foo
    );
    assert_eq!(
        ok(
            &[
                "hash-item",
                r#"{"citizen-names":"Soviet citizen","country":"SU","end-date":"1991-12-25","name":"USSR","official-name":"Union of Soviet Socialist Republics"}"#
            ],
            None
        ),
        "sha-256:e94c4a9ab00d951dadde848ee2c9fe51628b22ff2e0a88bff4cca6e4e6086d7a\n"
    );
    assert_eq!(
        ok(
            &[
                "hash-item",
                r#"{"official-name":"The United Kingdom of Great Britain and Northern Ireland","name":"United Kingdom","country":"GB","citizen-names":"Briton;British citizen"}"#
            ],
            None
        ),
        "sha-256:6b18693874513ba13da54d61aafa7cad0c8f5573f3431d6f1c04b07ddb27d6bb\n"
    );
}

#[test]
fn canonical_vectors() {
    let want = "{\"bar\":\"xyz\",\"foo\":\"abc\"}\n";
    assert_eq!(
        ok(&["canonical", r#"{"foo":"abc","bar":"xyz"}"#], None),
        want
    );
    assert_eq!(
        ok(&["canonical", r#"{ "bar" : "xyz", "foo": "abc" }"#], None),
        want
    );
    assert_eq!(
        ok(&["canonical", r#"{"bar":"xyz","foo":"abc"}"#], None),
        want
    );
    // U+000B is written with uppercase hex; '/' and non-ASCII are written raw.
    assert_eq!(
        ok(&["canonical", "{\"a\":\"x\\u000by/é\"}"], None),
        "{\"a\":\"x\\u000By/é\"}\n"
    );
}

#[test]
fn invalid_json_fails() {
    for bad in ["{", "not json", "{\"a\":\"b\"", ""] {
        let message = fails(&["hash-item", bad], None);
        assert!(message.contains("Invalid JSON"), "{bad:?}: {message}");
        let message = fails(&["canonical", bad], None);
        assert!(message.contains("Invalid JSON"), "{bad:?}: {message}");
    }
}

// ---------------------------------------------------------------------------------------------
// proofs

const ENTRY_10_IN_200: [&str; 8] = [
    "f0ebeef6be205cfc5fb6b4a314294bdff471f5409594f742b0f30c8551278b4a",
    "8dc980062c4e6ffd2300b72cd5a6a67e23070aabec31911691c657c2e1dd37a6",
    "c48916df15f3f6e030d84bf0f8bb59460c472250d38db27b4cd2e7394fe0741d",
    "08e9d6bd5717717c1c40ba518ccf02cad9c412eae6052739552ecd4a668b4ec3",
    "43834a10ac7dcecc7bb274d67f79dc5da4c03efb6dadc20657595ca4b261df4d",
    "10d897e8df0096412f45e9c16c61eed7b335267d803872f85ce0d25218fc82eb",
    "e483ea76d5ca3fdcef64ae8a2c910d1e47b90507a364da8dc4878cacd48cd414",
    "ca77ecfa5a4e847c65fda8f41f73758456814acf473bab2811516aeaac17f7cc",
];

const ENTRY_208_IN_208: [&str; 6] = [
    "f940d50f40f9880a2a02c7472c86d1e3cc376182fc989a6bdb928791d28817e6",
    "3ba1723d01205ee2a671e2de74289c9d0f8a2d80955df4eb322fdda1c212a0ed",
    "90dedbb4048ea219c4919dcec945b804f8b7ee059556bbac03b3cf485b15bf3e",
    "941193fe7db1a85a867afbf576ce75a4fb7573ad5b599a75628c1329977618f4",
    "6242c4d6fde2c79c26144deab292fc6702d321a7e79c535e146d25f356191f7c",
    "20b0c02232b50a587671ed9f465fb1a99923a08ff53951b8b9f4bb29648aa112",
];

const CONSISTENCY_197_200: [&str; 6] = [
    "73f13521226acdfa2a610c7bfdc955fa52aea1d554dd247011312ee48686a538",
    "8a16bb948f55ef959a5a7ddad5e2d1d398b50f3d7095aba1e97ad50c1fa374a9",
    "be8a541a0a763f88c8e4ff5f013e701e5f89c3f9cb744aadfaf19668189de514",
    "733c1adf88daff4ba4275b4ff86d373266c17eeb547ef54093ed14649d168865",
    "6242c4d6fde2c79c26144deab292fc6702d321a7e79c535e146d25f356191f7c",
    "20b0c02232b50a587671ed9f465fb1a99923a08ff53951b8b9f4bb29648aa112",
];

#[test]
fn proof_entry_country_vectors() {
    assert_eq!(
        ok(&["proof", "entry", COUNTRY, "10", "200"], None),
        entry_proof_line(10, &ENTRY_10_IN_200)
    );
    assert_eq!(
        ok(&["proof", "entry", COUNTRY, "208", "208"], None),
        entry_proof_line(208, &ENTRY_208_IN_208)
    );
    // A tree of one leaf has an empty audit path.
    assert_eq!(
        ok(&["proof", "entry", COUNTRY, "1", "1"], None),
        entry_proof_line(1, &[])
    );
}

#[test]
fn proof_consistency_country_vectors() {
    assert_eq!(
        ok(&["proof", "consistency", COUNTRY, "197", "200"], None),
        consistency_line(&CONSISTENCY_197_200)
    );
    // m = n gives an empty path.
    assert_eq!(
        ok(&["proof", "consistency", COUNTRY, "200", "200"], None),
        consistency_line(&[])
    );
}

#[test]
fn proof_colour_vectors() {
    assert_eq!(
        ok(&["proof", "entry", COLOUR, "1", "3"], None),
        entry_proof_line(
            1,
            &[
                "f5617122f9c9a6674cce13785fec8e06ead6188f94fc44f9d376773dda6997ad",
                "eae87aa9b164624248fae74d7a94fda8ed80b7b7c64877a9747d6e4035336980",
            ]
        )
    );
    assert_eq!(
        ok(&["proof", "consistency", COLOUR, "2", "3"], None),
        consistency_line(&["eae87aa9b164624248fae74d7a94fda8ed80b7b7c64877a9747d6e4035336980"])
    );
}

#[test]
fn proof_relaxed_file_needs_relaxed() {
    let message = fails(&["proof", "entry", COUNTRY_ASSERTS, "1", "209"], None);
    assert!(message.contains("identical to previous entry"), "{message}");
    let out = ok(
        &["proof", "entry", COUNTRY_ASSERTS, "1", "209", "--relaxed"],
        None,
    );
    let v = json(&out);
    assert_eq!(v["proof-identifier"], "merkle:sha-256");
    assert_eq!(v["entry-number"], "1");
    // 209 leaves: a path of ceil(log2(209)) = 8 nodes for the leftmost leaf.
    assert_eq!(v["merkle-audit-path"].as_array().map(Vec::len), Some(8));
    let out = ok(
        &[
            "proof",
            "consistency",
            COUNTRY_ASSERTS,
            "1",
            "209",
            "--relaxed",
        ],
        None,
    );
    assert_eq!(json(&out)["proof-identifier"], "merkle:sha-256");
}

#[test]
fn proof_out_of_range_fails() {
    for args in [
        ["entry", COUNTRY, "0", "200"],       // entry 0
        ["entry", COUNTRY, "201", "200"],     // entry beyond the tree
        ["entry", COUNTRY, "1", "209"],       // size beyond the register
        ["entry", COUNTRY, "209", "209"],     // both beyond
        ["entry", COLOUR, "1", "4"],          // size beyond a small register
        ["consistency", COUNTRY, "5", "4"],   // m > n
        ["consistency", COUNTRY, "1", "209"], // n beyond the register
        ["consistency", COLOUR, "4", "4"],    // both beyond
    ] {
        let mut full = vec!["proof"];
        full.extend(args);
        let message = fails(&full, None);
        assert!(!message.starts_with("line "), "{full:?}: {message}");
    }
}

#[test]
fn proof_non_numeric_arguments_fail() {
    let (code, stdout, _) = run(&["proof", "entry", COUNTRY, "ten", "200"], None);
    assert_ne!(code, 0);
    assert_eq!(stdout, "");
    let (code, stdout, _) = run(&["proof", "consistency", COUNTRY, "-1", "200"], None);
    assert_ne!(code, 0);
    assert_eq!(stdout, "");
}

// ---------------------------------------------------------------------------------------------
// emit

#[test]
fn emit_full_dump_round_trips() {
    let dump = ok(&["emit", COUNTRY], None);
    let lines: Vec<&str> = dump.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(&*format!("assert-root-hash\t{EMPTY_ROOT}"))
    );
    assert_eq!(
        lines.last().copied(),
        Some(&*format!("assert-root-hash\t{COUNTRY_ROOT}"))
    );
    // 2 asserts + 224 items + 16 system entries + 208 user entries.
    assert_eq!(lines.len(), 2 + 224 + 16 + 208);
    // Verifying the dump gives the original's line, except for the two asserts emit adds.
    assert_eq!(
        ok(&["verify", "-"], Some(&dump)),
        verify_line(224, 208, 16, 2, COUNTRY_ROOT, COUNTRY_SYSTEM_ROOT)
    );
    // Emitting is a fixed point.
    assert_eq!(ok(&["emit", "-"], Some(&dump)), dump);
    // `--from 0` and an explicit `--to` of the whole log are the default.
    assert_eq!(
        ok(&["emit", COUNTRY, "--from", "0", "--to", "208"], None),
        dump
    );
}

#[test]
fn emit_colour_round_trips() {
    let dump = ok(&["emit", COLOUR], None);
    assert_eq!(
        ok(&["verify", "-"], Some(&dump)),
        verify_line(7, 3, 4, 2, COLOUR_ROOT, COLOUR_SYSTEM_ROOT)
    );
}

#[test]
fn emit_relaxed_file_round_trips() {
    let original = ok(&["verify", "--relaxed", COUNTRY_ASSERTS], None);
    let dump = ok(&["emit", "--relaxed", COUNTRY_ASSERTS], None);
    let again = json(&ok(&["verify", "--relaxed", "-"], Some(&dump)));
    let original = json(&original);
    for field in [
        "user-entries",
        "system-entries",
        "root-hash",
        "system-root-hash",
    ] {
        assert_eq!(again[field], original[field], "{field}");
    }
    assert_eq!(again["root-hash"], COUNTRY_ASSERTS_ROOT);
}

#[test]
fn emit_prefixes_give_the_roots_of_vectors() {
    for (size, root) in [
        (0, EMPTY_ROOT),
        (1, COUNTRY_ROOT_1),
        (197, COUNTRY_ROOT_197),
        (200, COUNTRY_ROOT_200),
    ] {
        let dump = ok(&["emit", COUNTRY, "--to", &size.to_string()], None);
        assert!(
            dump.ends_with(&format!("assert-root-hash\t{root}\n")),
            "size {size}"
        );
        let v = json(&ok(&["verify", "-"], Some(&dump)));
        assert_eq!(v["root-hash"], root, "size {size}");
        assert_eq!(v["user-entries"], size, "size {size}");
        assert_eq!(v["system-entries"], 16, "size {size}");
    }
}

#[test]
fn emit_ranged_dump_applies_only_on_top_of_its_base() {
    let to_100 = ok(&["emit", COUNTRY, "--to", "100"], None);
    let root_100 = root_of(&ok(&["verify", "-"], Some(&to_100)));
    let to_150 = ok(&["emit", COUNTRY, "--to", "150"], None);
    let root_150 = root_of(&ok(&["verify", "-"], Some(&to_150)));
    assert_ne!(root_100, root_150);

    let range = ok(&["emit", COUNTRY, "--from", "100", "--to", "150"], None);
    let lines: Vec<&str> = range.lines().collect();
    assert_eq!(lines[0], format!("assert-root-hash\t{root_100}"));
    assert_eq!(
        lines.last().copied(),
        Some(&*format!("assert-root-hash\t{root_150}"))
    );
    // No metadata when m > 0: only user entries 101..=150 and their items.
    let user_entries = lines
        .iter()
        .filter(|l| l.starts_with("append-entry\tuser\t"))
        .count();
    assert_eq!(user_entries, 50);
    assert!(!lines
        .iter()
        .any(|l| l.starts_with("append-entry\tsystem\t")));
    assert!(lines.iter().all(|l| l.starts_with("add-item\t")
        || l.starts_with("append-entry\tuser\t")
        || l.starts_with("assert-root-hash\t")));

    // Base of exactly 100 entries + ranged dump: a valid single file with 150 entries.
    let good = format!("{to_100}{range}");
    let v = json(&ok(&["verify", "-"], Some(&good)));
    assert_eq!(v["user-entries"], 150);
    assert_eq!(v["system-entries"], 16);
    assert_eq!(v["root-hash"], root_150.as_str());
    assert_eq!(v["asserts"], 4);

    // Base of 99 entries: fails at the ranged dump's first assert.
    let to_99 = ok(&["emit", COUNTRY, "--to", "99"], None);
    let bad = format!("{to_99}{range}");
    let message = fails(&["verify", "-"], Some(&bad));
    let first_assert = to_99.lines().count() + 1;
    assert!(
        message.starts_with(&format!("line {first_assert}: ")),
        "{message}"
    );
    assert!(message.contains("Root hashes don't match"), "{message}");

    // Base of 101 entries fails too.
    let to_101 = ok(&["emit", COUNTRY, "--to", "101"], None);
    let message = fails(&["verify", "-"], Some(&format!("{to_101}{range}")));
    assert!(message.contains("Root hashes don't match"), "{message}");
}

#[test]
fn emit_from_current_size_is_two_asserts() {
    let want = format!("assert-root-hash\t{COUNTRY_ROOT}\nassert-root-hash\t{COUNTRY_ROOT}\n");
    assert_eq!(ok(&["emit", COUNTRY, "--from", "208"], None), want);
}

#[test]
fn emit_out_of_range_fails() {
    for args in [
        ["--to", "209", "--from", "0"],
        ["--from", "150", "--to", "100"],
        ["--from", "209", "--to", "209"],
    ] {
        let mut full = vec!["emit", COUNTRY];
        full.extend(args);
        fails(&full, None);
    }
}

// ---------------------------------------------------------------------------------------------
// generate

#[test]
fn generate_is_valid_and_deterministic() {
    let args = [
        "generate",
        "--entries",
        "500",
        "--keys",
        "50",
        "--seed",
        "7",
    ];
    let first = ok(&args, None);
    let second = ok(&args, None);
    assert_eq!(first, second, "same seed, different output");

    let v = json(&ok(&["verify", "-"], Some(&first)));
    assert_eq!(v["user-entries"], 500);
    assert!(v["asserts"].as_u64().unwrap_or(0) >= 1, "{v}");

    let other = ok(
        &[
            "generate",
            "--entries",
            "500",
            "--keys",
            "50",
            "--seed",
            "8",
        ],
        None,
    );
    assert_ne!(first, other, "different seeds, same output");
    let w = json(&ok(&["verify", "-"], Some(&other)));
    assert_eq!(w["user-entries"], 500);
    assert_ne!(v["root-hash"], w["root-hash"]);

    // The generated file is also a valid file for the other subcommands.
    let proof = json(&ok(&["proof", "entry", "-", "500", "500"], Some(&first)));
    assert_eq!(proof["entry-number"], "500");
    // A full dump: 2 asserts, every distinct item, every system and user entry.
    let items = v["items"].as_u64().expect("items");
    let system = v["system-entries"].as_u64().expect("system-entries");
    let dump = ok(&["emit", "-"], Some(&first));
    assert_eq!(dump.lines().count() as u64, 2 + items + system + 500);
}

#[test]
fn generate_with_keys_equal_to_entries() {
    let out = ok(&["generate", "--entries", "20", "--keys", "20"], None);
    let v = json(&ok(&["verify", "-"], Some(&out)));
    assert_eq!(v["user-entries"], 20);
}

#[test]
fn generate_more_keys_than_entries_fails() {
    let message = fails(&["generate", "--entries", "10", "--keys", "20"], None);
    assert!(message.contains("keys"), "{message}");
}

// ---------------------------------------------------------------------------------------------
// help

#[test]
fn help_of_every_command_succeeds() {
    for args in [
        vec!["--help"],
        vec!["verify", "--help"],
        vec!["hash-item", "--help"],
        vec!["canonical", "--help"],
        vec!["proof", "--help"],
        vec!["proof", "entry", "--help"],
        vec!["proof", "consistency", "--help"],
        vec!["emit", "--help"],
        vec!["generate", "--help"],
    ] {
        let (code, stdout, stderr) = run(&args, None);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert!(stdout.contains("Usage:"), "{args:?}: {stdout}");
    }
    let top = ok(&["--help"], None);
    for command in [
        "verify",
        "hash-item",
        "canonical",
        "proof",
        "emit",
        "generate",
    ] {
        assert!(top.contains(command), "--help does not list {command}");
    }
}

// ---------------------------------------------------------------------------------------------
// patch

/// A snapshot file in a temporary directory; returns the directory (kept alive) and the path.
fn snapshot_file(name: &str, text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write snapshot");
    let path = path.to_string_lossy().into_owned();
    (dir, path)
}

const TS: &str = "2024-05-01T12:00:00Z";

#[test]
fn patch_writes_only_new_and_changed_rows() {
    let (_dir, csv) = snapshot_file(
        "colours.csv",
        "colour,name\nred,Scarlet\nblue,Navy\ngreen,Green\n",
    );
    let (code, patch, stderr) = run(&["patch", "--base", COLOUR, "--timestamp", TS, &csv], None);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        patch,
        format!(
            "assert-root-hash\t{COLOUR_ROOT}\n\
             add-item\t{{\"colour\":\"blue\",\"name\":\"Navy\"}}\n\
             append-entry\tuser\tblue\t{TS}\tsha-256:10aa6e033f625ebe8fc535e05ee6399dfa0f7317a37901ef28be4eeb0027f80b\n\
             add-item\t{{\"colour\":\"green\",\"name\":\"Green\"}}\n\
             append-entry\tuser\tgreen\t{TS}\tsha-256:85662595bf25211ef287f75810402fa8240d19f3541c9a1049c4816a13493649\n"
        )
    );
    assert_eq!(
        stderr,
        "{\"rows\":3,\"new\":1,\"changed\":1,\"unchanged\":1,\"ended\":0,\"missing\":[]}\n"
    );

    // The base plus the patch is a valid register with two more entries; patching it with the
    // same snapshot adds nothing.
    let patched = format!("{}{patch}", read(COLOUR));
    let verified = json(&ok(&["verify", "-"], Some(&patched)));
    assert_eq!(verified["user-entries"], 5);
    let (_dir2, base) = snapshot_file("patched.rsf", &patched);
    let (code, again, stderr) = run(&["patch", "--base", &base, "--timestamp", TS, &csv], None);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        again,
        format!(
            "assert-root-hash\t{}\n",
            verified["root-hash"].as_str().expect("root")
        )
    );
    assert_eq!(
        stderr,
        "{\"rows\":3,\"new\":0,\"changed\":0,\"unchanged\":3,\"ended\":0,\"missing\":[]}\n"
    );
}

#[test]
fn patch_reads_tsv_and_json_lines_from_stdin_and_reports_missing_keys() {
    for (format, text) in [
        ("tsv", "colour\tname\nred\tScarlet\n"),
        ("jsonl", "{\"colour\":\"red\",\"name\":\"Scarlet\"}\n"),
    ] {
        let (code, patch, stderr) = run(
            &[
                "patch",
                "--base",
                COLOUR,
                "--timestamp",
                TS,
                "--format",
                format,
                "-",
            ],
            Some(text),
        );
        assert_eq!(code, 0, "{format}: {stderr}");
        assert_eq!(
            patch,
            format!("assert-root-hash\t{COLOUR_ROOT}\n"),
            "{format}"
        );
        assert_eq!(
            stderr,
            "{\"rows\":1,\"new\":0,\"changed\":0,\"unchanged\":1,\"ended\":0,\"missing\":[\"blue\"]}\n",
            "{format}"
        );
    }
}

#[test]
fn patch_refuses_a_bad_snapshot_and_writes_no_patch() {
    let (_dir, csv) = snapshot_file("bad.csv", "colour,name\nred,Scarlet\nblue,Navy\nred,Red\n");
    assert_eq!(
        fails(&["patch", "--base", COLOUR, "--timestamp", TS, &csv], None),
        "row 3 (line 4): key 'red' already appeared in row 1"
    );
    let (_dir, csv) = snapshot_file("bad.csv", "colour,hue\nred,Scarlet\n");
    assert_eq!(
        fails(&["patch", "--base", COLOUR, &csv], None),
        "column 2 'hue' is not a field of the register (ignore it explicitly to leave it out)"
    );
    assert_eq!(
        fails(&["patch", "--base", COLOUR, "--end-missing", &csv], None),
        "register 'colour' has no 'end-date' field, so missing records cannot be ended"
    );
    let (_dir, csv) = snapshot_file("hue.csv", "hue,colour,name\nx,red,Scarlet\ny,blue,Blue\n");
    let (code, patch, _) = run(
        &[
            "patch",
            "--base",
            COLOUR,
            "--ignore",
            "hue",
            "--timestamp",
            TS,
            &csv,
        ],
        None,
    );
    assert_eq!(
        (code, patch),
        (0, format!("assert-root-hash\t{COLOUR_ROOT}\n"))
    );
}
