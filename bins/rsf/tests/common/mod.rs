//! Running the built `rsf` binary.
#![allow(dead_code)]

use std::io::Write as _;
use std::process::{Command, Stdio};

pub const COUNTRY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../crates/register-core/tests/data/country-data.rsf"
);
pub const COLOUR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../crates/register-core/tests/data/colour.rsf"
);
pub const COUNTRY_ASSERTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../crates/register-core/tests/data/country-with-asserts.rsf"
);

pub const COUNTRY_ROOT: &str =
    "sha-256:8d92e1e0af1d43c41e498e6baed0d0b3ea2770d1bf9d2afc04e9c4dad7795729";
pub const COUNTRY_SYSTEM_ROOT: &str =
    "sha-256:e8568db5dd2ce21d060412355123a76da4422a87541cf42bd8f2414cc5b5782b";
pub const COLOUR_ROOT: &str =
    "sha-256:f8bf199abd5ef0c25e36400dd5b24d517fe2ee0d6abe658a6c0abf1ac9989a62";
pub const COLOUR_SYSTEM_ROOT: &str =
    "sha-256:a38063794f7053935b02c52f0cb5a762c069ca5168cab6e3d2406d1a1c903741";
pub const COUNTRY_ASSERTS_ROOT: &str =
    "sha-256:3bacea769627d20ed9a2cfde54173da3c9d630b3fc9ed80431a1cee2196c8a4a";
pub const COUNTRY_ROOT_200: &str =
    "sha-256:e022997a144dada8aca9b9c0b6420636f6b808b65f99c6347075bcc4a61d3fe8";
pub const COUNTRY_ROOT_197: &str =
    "sha-256:7114404b04a67c2272a32964b463212c21c49d5a6e73f2c628eabfd18f63633f";
pub const COUNTRY_ROOT_1: &str =
    "sha-256:a2002581c7402683e8197faafaefb9ba1f0ca48cee2d6ff461ab086b703472e5";
pub const EMPTY_ROOT: &str =
    "sha-256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Runs the binary with `args` and optional standard input; returns (exit code, stdout, stderr).
pub fn run(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rsf"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rsf");
    // Feed stdin from another thread so a large input cannot deadlock against a full stdout pipe.
    let writer = stdin.map(|input| {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        let input = input.to_owned();
        std::thread::spawn(move || {
            // The tool may stop reading early on an error; a broken pipe is fine then.
            let _ = pipe.write_all(input.as_bytes());
        })
    });
    let output = child.wait_with_output().expect("wait for rsf");
    if let Some(writer) = writer {
        writer.join().expect("stdin writer");
    }
    (
        output.status.code().expect("rsf killed by a signal"),
        String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    )
}

/// Runs and expects success with nothing on stderr; returns stdout.
pub fn ok(args: &[&str], stdin: Option<&str>) -> String {
    let (code, stdout, stderr) = run(args, stdin);
    assert_eq!(code, 0, "rsf {args:?} failed: {stderr}");
    assert_eq!(stderr, "", "rsf {args:?} wrote to stderr");
    stdout
}

/// Runs and expects exit 1 with nothing on stdout and one line on stderr; returns that line.
pub fn fails(args: &[&str], stdin: Option<&str>) -> String {
    let (code, stdout, stderr) = run(args, stdin);
    assert_eq!(code, 1, "rsf {args:?} should exit 1; stderr: {stderr}");
    assert_eq!(stdout, "", "rsf {args:?} wrote to stdout on error");
    assert!(
        stderr.ends_with('\n'),
        "stderr not newline-terminated: {stderr:?}"
    );
    let message = stderr.trim_end_matches('\n');
    assert!(!message.is_empty(), "rsf {args:?} gave no error message");
    assert!(
        !message.contains('\n'),
        "more than one stderr line: {stderr:?}"
    );
    message.to_owned()
}
