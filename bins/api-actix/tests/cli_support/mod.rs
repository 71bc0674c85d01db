//! Running the built `api-actix` binary from tests.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

/// The built binary, with the test stores' signing keys in its environment (PostgreSQL
/// needs supplied keys to load; an embedded SQLite database would generate its own).
pub fn bin() -> Command {
    let keys = store_diesel::testing::keys();
    let mut command = Command::new(env!("CARGO_BIN_EXE_api-actix"));
    command
        .env("LOG_KEY", keys.log.to_private_string())
        .env("COSIGNER_KEY", keys.cosigner.to_private_string())
        .env_remove("LOG_KEY_FILE")
        .env_remove("COSIGNER_KEY_FILE");
    command
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
