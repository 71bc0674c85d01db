//! `rsf checkpoint verify` and `rsf verify --checkpoint --key` (checkpoints.md §2, §3, §7).

mod common;

use common::{
    fails, ok, run, COLOUR, COUNTRY, COUNTRY_ASSERTS, COUNTRY_ASSERTS_ROOT, COUNTRY_ROOT,
    COUNTRY_ROOT_200, COUNTRY_SYSTEM_ROOT,
};
use register_core::Digest;
use tlog_core::{Checkpoint, PrivateKey};

const ORIGIN: &str = "registers.example/registers/country";
/// The §7 log key: public test material, never to be echoed by the tool all the same.
const PRIVATE_KEY: &str = "PRIVATE+KEY+registers.example/registers/country+038596e7+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
/// The base64 seed of [`PRIVATE_KEY`]: no message may contain it.
const SEED: &str = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const VERIFIER_KEY: &str =
    "registers.example/registers/country+038596e7+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
/// The §7 checkpoint of country-data.rsf (208 entries).
const NOTE: &str = "registers.example/registers/country\n208\njZLh4K8dQ8QeSY5rrtDQs+oncNG/nSr8BOnE2td5Vyk=\n\n— registers.example/registers/country A4WW58QX3989ireA0i+9aQU+DD+My4sIfYVOECzidfAlBZFUyvPUVnKBpehg7EgCRtbtmpTCs4Bwmp7FXl4c2+sC8w8=\n";

/// A file in a temporary directory; returns the directory (kept alive) and the path.
fn file(name: &str, text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write file");
    let path = path.to_string_lossy().into_owned();
    (dir, path)
}

fn key() -> PrivateKey {
    PrivateKey::parse(PRIVATE_KEY).expect("the §7 private key")
}

/// A checkpoint of `origin` at `size` and `root`, signed by the §7 key (renamed to `origin`).
fn signed(origin: &str, size: u64, root: &str) -> String {
    Checkpoint {
        origin: origin.to_owned(),
        size,
        root: Digest::parse_prefixed(root).expect("root"),
    }
    .sign(&key().renamed(origin).expect("renamed"))
    .expect("sign")
}

fn checkpoint_line(origin: &str, size: u64, root: &str) -> String {
    format!("{{\"origin\":\"{origin}\",\"size\":{size},\"root-hash\":\"{root}\"}}\n")
}

fn verify_line() -> String {
    format!(
        "{{\"items\":224,\"user-entries\":208,\"system-entries\":16,\"asserts\":0,\"unreferenced-items\":0,\"root-hash\":\"{COUNTRY_ROOT}\",\"system-root-hash\":\"{COUNTRY_SYSTEM_ROOT}\"}}\n"
    )
}

/// Fails, and the message does not give the private key away.
fn fails_quietly(args: &[&str], stdin: Option<&str>) -> String {
    let message = fails(args, stdin);
    assert!(message.starts_with("error: "), "{message}");
    assert!(!message.contains(SEED), "the private key leaked: {message}");
    assert!(!message.contains("PRIVATE+KEY"), "{message}");
    message
}

// ---------------------------------------------------------------------------------------------
// checkpoint verify

#[test]
fn the_section_7_checkpoint_verifies() {
    assert_eq!(key().verifier().to_string(), VERIFIER_KEY);
    assert_eq!(signed(ORIGIN, 208, COUNTRY_ROOT), NOTE, "§7 vector");
    let (_dir, note) = file("country.checkpoint", NOTE);
    assert_eq!(
        ok(
            &["checkpoint", "verify", &note, "--key", VERIFIER_KEY],
            None
        ),
        checkpoint_line(ORIGIN, 208, COUNTRY_ROOT)
    );
}

#[test]
fn the_note_is_read_from_stdin_and_the_key_from_a_file() {
    let expected = checkpoint_line(ORIGIN, 208, COUNTRY_ROOT);
    assert_eq!(
        ok(
            &["checkpoint", "verify", "-", "--key", VERIFIER_KEY],
            Some(NOTE)
        ),
        expected
    );
    let (_dir, key_file) = file("country.vkey", &format!("{VERIFIER_KEY}\n"));
    let at_file = format!("@{key_file}");
    assert_eq!(
        ok(
            &["checkpoint", "verify", "-", "--key", &at_file],
            Some(NOTE)
        ),
        expected
    );
    let (_dir2, note) = file("country.checkpoint", NOTE);
    assert_eq!(
        ok(&["checkpoint", "verify", &note, "--key", &at_file], None),
        expected
    );
}

#[test]
fn a_tampered_note_fails() {
    let tampered = NOTE.replacen("\n208\n", "\n209\n", 1);
    let message = fails_quietly(
        &["checkpoint", "verify", "-", "--key", VERIFIER_KEY],
        Some(&tampered),
    );
    assert!(message.contains("does not verify"), "{message}");
    // A note cut short, or not a note at all.
    for bad in [
        &NOTE[..NOTE.find("\n\n").expect("split") + 1],
        "hello\n",
        "",
    ] {
        let message = fails_quietly(
            &["checkpoint", "verify", "-", "--key", VERIFIER_KEY],
            Some(bad),
        );
        assert!(
            message.contains("bad checkpoint note"),
            "{bad:?}: {message}"
        );
    }
}

#[test]
fn a_key_of_another_name_fails() {
    let colour = key()
        .renamed("registers.example/registers/colour")
        .expect("renamed")
        .verifier()
        .to_string();
    let message = fails_quietly(&["checkpoint", "verify", "-", "--key", &colour], Some(NOTE));
    assert!(message.contains("no signature by the key"), "{message}");
    assert!(message.contains(&colour), "{message}");
}

#[test]
fn a_checkpoint_for_another_origin_fails() {
    // Signed by the country key, but the body names the colour register.
    let body = format!(
        "registers.example/registers/colour\n3\n{}\n",
        "A".repeat(43) + "="
    );
    let note = key().sign(&body).expect("sign");
    let message = fails_quietly(
        &["checkpoint", "verify", "-", "--key", VERIFIER_KEY],
        Some(&note),
    );
    assert!(message.contains("origin"), "{message}");
    assert!(
        message.contains("registers.example/registers/colour"),
        "{message}"
    );
}

#[test]
fn a_private_key_is_refused_and_never_echoed() {
    let message = fails_quietly(
        &["checkpoint", "verify", "-", "--key", PRIVATE_KEY],
        Some(NOTE),
    );
    assert!(message.contains("private key"), "{message}");
    let (_dir, key_file) = file("country.key", &format!("{PRIVATE_KEY}\n"));
    let message = fails_quietly(
        &[
            "checkpoint",
            "verify",
            "-",
            "--key",
            &format!("@{key_file}"),
        ],
        Some(NOTE),
    );
    assert!(message.contains("private key"), "{message}");
    let message = fails_quietly(
        &["verify", COUNTRY, "--checkpoint", "-", "--key", PRIVATE_KEY],
        Some(NOTE),
    );
    assert!(message.contains("private key"), "{message}");
    // Given without --checkpoint, clap's usage error does not quote it either.
    let (code, stdout, stderr) = run(&["verify", COUNTRY, "--key", PRIVATE_KEY], None);
    assert_ne!(code, 0);
    assert_eq!(stdout, "");
    assert!(stderr.contains("--checkpoint"), "{stderr}");
    assert!(!stderr.contains(SEED), "{stderr}");
}

#[test]
fn a_malformed_key_fails() {
    for bad in [
        "not-a-key",
        "",
        // The key ID does not match the name and key.
        "registers.example/registers/country+038596e8+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        // The key is cut short.
        "registers.example/registers/country+038596e7+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq",
    ] {
        let message = fails_quietly(&["checkpoint", "verify", "-", "--key", bad], Some(NOTE));
        assert!(message.contains("bad verifier key"), "{bad:?}: {message}");
    }
    let message = fails_quietly(
        &["checkpoint", "verify", "-", "--key", "@/no/such/key/file"],
        Some(NOTE),
    );
    assert!(message.contains("/no/such/key/file"), "{message}");
}

#[test]
fn a_missing_note_file_fails_naming_it() {
    let message = fails_quietly(
        &[
            "checkpoint",
            "verify",
            "/no/such/note",
            "--key",
            VERIFIER_KEY,
        ],
        None,
    );
    assert!(message.contains("/no/such/note"), "{message}");
}

// ---------------------------------------------------------------------------------------------
// verify --checkpoint --key

#[test]
fn verify_against_the_section_7_checkpoint_prints_the_usual_line() {
    let (_dir, note) = file("country.checkpoint", NOTE);
    assert_eq!(
        ok(
            &[
                "verify",
                COUNTRY,
                "--checkpoint",
                &note,
                "--key",
                VERIFIER_KEY
            ],
            None
        ),
        verify_line()
    );
    assert_eq!(
        ok(
            &[
                "verify",
                "--relaxed",
                COUNTRY,
                "--checkpoint",
                "-",
                "--key",
                VERIFIER_KEY
            ],
            Some(NOTE)
        ),
        verify_line()
    );
    let (_dir2, key_file) = file("country.vkey", VERIFIER_KEY);
    let content = std::fs::read_to_string(COUNTRY).expect("read country");
    let (_dir3, note) = file("country.checkpoint", NOTE);
    assert_eq!(
        ok(
            &[
                "verify",
                "-",
                "--checkpoint",
                &note,
                "--key",
                &format!("@{key_file}")
            ],
            Some(&content)
        ),
        verify_line()
    );
}

#[test]
fn verify_relaxed_against_a_checkpoint() {
    let note = signed(ORIGIN, 209, COUNTRY_ASSERTS_ROOT);
    let args = [
        "verify",
        "--relaxed",
        COUNTRY_ASSERTS,
        "--checkpoint",
        "-",
        "--key",
        VERIFIER_KEY,
    ];
    assert_eq!(
        ok(&args, Some(&note)),
        ok(&["verify", "--relaxed", COUNTRY_ASSERTS], None)
    );
    // The same file in strict mode still fails on its own rules.
    let message = fails(
        &[
            "verify",
            COUNTRY_ASSERTS,
            "--checkpoint",
            "-",
            "--key",
            VERIFIER_KEY,
        ],
        Some(&note),
    );
    assert!(message.starts_with("line "), "{message}");
}

#[test]
fn verify_against_an_older_checkpoint_fails() {
    let note = signed(ORIGIN, 200, COUNTRY_ROOT_200);
    assert_eq!(
        ok(
            &["checkpoint", "verify", "-", "--key", VERIFIER_KEY],
            Some(&note)
        ),
        checkpoint_line(ORIGIN, 200, COUNTRY_ROOT_200)
    );
    let message = fails_quietly(
        &[
            "verify",
            COUNTRY,
            "--checkpoint",
            "-",
            "--key",
            VERIFIER_KEY,
        ],
        Some(&note),
    );
    assert_eq!(
        message,
        format!(
            "error: the file has 208 entries and root {COUNTRY_ROOT}, the checkpoint says 200 and {COUNTRY_ROOT_200}"
        )
    );
}

#[test]
fn verify_against_a_checkpoint_of_the_right_size_but_another_root_fails() {
    let note = signed(ORIGIN, 208, COUNTRY_ROOT_200);
    let message = fails_quietly(
        &[
            "verify",
            COUNTRY,
            "--checkpoint",
            "-",
            "--key",
            VERIFIER_KEY,
        ],
        Some(&note),
    );
    assert_eq!(
        message,
        format!(
            "error: the file has 208 entries and root {COUNTRY_ROOT}, the checkpoint says 208 and {COUNTRY_ROOT_200}"
        )
    );
}

#[test]
fn verify_another_file_against_the_checkpoint_fails() {
    let (_dir, note) = file("country.checkpoint", NOTE);
    let message = fails_quietly(
        &[
            "verify",
            COLOUR,
            "--checkpoint",
            &note,
            "--key",
            VERIFIER_KEY,
        ],
        None,
    );
    assert!(
        message.starts_with("error: the file has 3 entries and root "),
        "{message}"
    );
}

#[test]
fn verify_with_a_bad_checkpoint_or_key_fails() {
    let tampered = NOTE.replacen("\n208\n", "\n209\n", 1);
    let message = fails_quietly(
        &[
            "verify",
            COUNTRY,
            "--checkpoint",
            "-",
            "--key",
            VERIFIER_KEY,
        ],
        Some(&tampered),
    );
    assert!(message.contains("does not verify"), "{message}");
    let message = fails_quietly(
        &["verify", COUNTRY, "--checkpoint", "-", "--key", "not-a-key"],
        Some(NOTE),
    );
    assert!(message.contains("bad verifier key"), "{message}");
    let message = fails_quietly(
        &["verify", "-", "--checkpoint", "-", "--key", VERIFIER_KEY],
        Some(NOTE),
    );
    assert!(message.contains("standard input"), "{message}");
}

#[test]
fn verify_needs_both_options() {
    for args in [
        vec!["verify", COUNTRY, "--key", VERIFIER_KEY],
        vec!["verify", COUNTRY, "--checkpoint", "-"],
    ] {
        let (code, stdout, stderr) = run(&args, Some(NOTE));
        assert_ne!(code, 0, "{args:?}");
        assert_eq!(stdout, "", "{args:?}");
        assert!(stderr.contains("required"), "{args:?}: {stderr}");
    }
}

#[test]
fn help_lists_the_checkpoint_commands() {
    assert!(ok(&["--help"], None).contains("checkpoint"));
    assert!(ok(&["checkpoint", "verify", "--help"], None).contains("--key"));
    let verify = ok(&["verify", "--help"], None);
    assert!(
        verify.contains("--checkpoint") && verify.contains("--key"),
        "{verify}"
    );
}
