//! Running the built `api-actix` binary from tests.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

/// The built binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_api-actix"))
}

/// Runs `command` with `stdin` as its standard input; returns (exit code, stdout, stderr).
pub fn output(command: &mut Command, stdin: &str) -> (i32, String, String) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn api-actix");
    if let Some(mut input) = child.stdin.take() {
        // A command that fails before reading its input closes it: its exit code tells.
        let _ = input.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
