//! The `api-actix plan validate` contract: exit codes and `FILE:LINE:COL: PATH: message` lines.

use std::path::PathBuf;
use std::process::{Command, Output};

fn corpus(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/plan-core/tests/corpus")
        .join(name)
}

fn validate(files: &[PathBuf]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_api-actix"))
        .args(["plan", "validate"])
        .args(files)
        .output()
        .expect("run api-actix")
}

#[test]
fn valid_files_exit_zero_silently() {
    let output = validate(&[
        corpus("valid-full-plan.xml"),
        corpus("valid-fragment-minimal.xml"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn invalid_file_prints_one_line_per_error_and_exits_one() {
    let valid = corpus("valid-full-plan.xml");
    let invalid = corpus("invalid-many-errors.xml");
    let output = validate(&[valid, invalid.clone()]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).expect("utf-8 output");
    let lines: Vec<&str> = stdout.lines().collect();
    let prefix = format!("{}:", invalid.display());
    let expected = [
        "17:19: /Plan/Primary/Pools/Pool[1]/@uuid: 'X' is not a valid 'uuid': length must be 36, found 1",
        "49:14: /Plan/Secondary/Controller/Admin/@x: attribute 'x' is not allowed here",
        "49:20: /Plan/Secondary/Controller/Admin: text is not allowed: Admin has empty content",
    ];
    for want in expected {
        assert!(
            lines.contains(&format!("{prefix}{want}").as_str()),
            "missing {want:?} in\n{stdout}"
        );
    }
    assert_eq!(lines.len(), 4, "{stdout}");
    for line in lines {
        // FILE:LINE:COL: PATH: message
        let rest = line
            .strip_prefix(&prefix)
            .expect("every line names the invalid file");
        let mut parts = rest.splitn(3, ':');
        let line_no: u32 = parts
            .next()
            .and_then(|l| l.parse().ok())
            .expect("line number");
        let col: u32 = parts.next().and_then(|c| c.parse().ok()).expect("column");
        let tail = parts.next().expect("path and message");
        assert!(line_no > 0 && col > 0);
        assert!(tail.starts_with(" /Plan") && tail.contains(": "), "{line}");
    }
}

#[test]
fn unreadable_and_malformed_files_are_errors() {
    let missing = PathBuf::from("/nonexistent/plan.xml");
    let output = validate(&[missing, corpus("invalid-not-well-formed.xml")]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).expect("utf-8 output");
    assert!(
        stdout.starts_with("/nonexistent/plan.xml:0:0: /: cannot read the file"),
        "{stdout}"
    );
    assert!(
        stdout.contains("invalid-not-well-formed.xml:")
            && stdout.contains(": /: not well-formed XML"),
        "{stdout}"
    );
}

#[test]
fn no_files_is_a_usage_error() {
    let output = validate(&[]);
    assert_eq!(output.status.code(), Some(2));
}
