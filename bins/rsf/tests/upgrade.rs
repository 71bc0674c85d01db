//! `rsf verify` and `rsf upgrade` on RSF as it was published (registers.md §6.1): a 2016-style
//! dump of `country-data.rsf` with its own asserts, made here from the real file.

mod common;

use common::{
    fails, ok, run, COUNTRY, COUNTRY_ROOT, COUNTRY_ROOT_1, COUNTRY_ROOT_197, COUNTRY_ROOT_200,
};

/// `country-data.rsf` as the 2016 software wrote it: no system log (its items are still
/// listed, as full dumps list every stored item), each user entry as
/// `append-entry<TAB>timestamp<TAB>hashes<TAB>key`, and an assert after entries 1, 197, 200
/// and 208.
fn legacy_country() -> String {
    let text = std::fs::read_to_string(COUNTRY).expect("country-data.rsf");
    let mut out = String::new();
    let mut user = 0;
    for line in text.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["append-entry", "system", ..] => continue,
            ["append-entry", "user", key, timestamp, hashes] => {
                user += 1;
                out.push_str(&format!("append-entry\t{timestamp}\t{hashes}\t{key}\n"));
                let root = match user {
                    1 => COUNTRY_ROOT_1,
                    197 => COUNTRY_ROOT_197,
                    200 => COUNTRY_ROOT_200,
                    208 => COUNTRY_ROOT,
                    _ => continue,
                };
                out.push_str(&format!("assert-root-hash\t{root}\n"));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim_end()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn a_2016_dump_verifies_with_its_own_asserts_in_relaxed_mode() {
    let legacy = legacy_country();
    let verified = json(&ok(&["verify", "--relaxed", "-"], Some(&legacy)));
    assert_eq!(verified["user-entries"], 208);
    assert_eq!(verified["system-entries"], 0);
    assert_eq!(verified["asserts"], 4);
    assert_eq!(verified["unreferenced-items"], 16, "the system items");
    assert_eq!(verified["root-hash"], COUNTRY_ROOT);

    // Strict mode needs the metadata a 2016 dump does not have.
    let message = fails(&["verify", "-"], Some(&legacy));
    assert!(message.starts_with("line "), "{message}");
}

#[test]
fn upgrade_rewrites_a_2016_dump_with_identical_roots() {
    let legacy = legacy_country();
    let (code, upgraded, stderr) = run(&["upgrade", "--relaxed", "-"], Some(&legacy));
    assert_eq!(code, 0, "{stderr}");
    let report = json(&stderr);
    assert_eq!(report["legacy-entries"], 208);
    assert_eq!(report["user-entries"], 208);
    assert_eq!(report["asserts"], 4);
    assert_eq!(report["final-assert-added"], false);
    assert_eq!(report["root-hash"], COUNTRY_ROOT);

    assert_eq!(upgraded.lines().count(), legacy.lines().count());
    assert!(upgraded
        .lines()
        .filter(|l| l.starts_with("append-entry"))
        .all(|l| l.starts_with("append-entry\tuser\t") && l.split('\t').count() == 5));
    let verified = json(&ok(&["verify", "--relaxed", "-"], Some(&upgraded)));
    assert_eq!(verified["root-hash"], COUNTRY_ROOT);
    assert_eq!(verified["asserts"], 4);

    // The upgraded file is current: upgrading it again changes nothing.
    let (code, again, _) = run(&["upgrade", "--relaxed", "-"], Some(&upgraded));
    assert_eq!((code, again), (0, upgraded));
}

#[test]
fn upgrade_of_a_current_file_adds_only_a_final_assert() {
    let original = std::fs::read_to_string(COUNTRY).expect("country-data.rsf");
    let (code, upgraded, stderr) = run(&["upgrade", COUNTRY], None);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json(&stderr)["final-assert-added"], true);
    assert_eq!(
        upgraded,
        format!("{original}assert-root-hash\t{COUNTRY_ROOT}\n")
    );
}

#[test]
fn upgrade_of_a_bad_file_writes_nothing_and_names_the_line() {
    let mut legacy = legacy_country();
    legacy.push_str("append-entry\tGB\tyesterday\tsha-256:00\n");
    let line = legacy.lines().count();
    let message = fails(&["upgrade", "--relaxed", "-"], Some(&legacy));
    assert_eq!(
        message,
        format!(
            "line {line}: append-entry must have 4 arguments (or 3 in a 2016 form: timestamp, \
             hashes, key or key, timestamp, hashes)"
        )
    );
}
