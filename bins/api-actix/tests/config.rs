//! The configuration file (part of "Operate it"): precedence (defaults < file < environment <
//! flags), redaction of secrets in `config check`, every problem reported at once, the
//! commented sample in docs/ covering every setting, and `serve --config` obeying the file.

mod cli_support;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api-actix.toml");

/// The binary with an empty environment, then `env`.
fn bin(env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_api-actix"));
    command.env_clear().envs(env.iter().copied());
    command
}

/// `config check` with `env` and extra `flags`: (exit code, report, stderr).
fn check(file: &Path, env: &[(&str, &str)], flags: &[&str]) -> (i32, String, String) {
    cli_support::output(bin(env).args(["config", "check"]).arg(file).args(flags), "")
}

/// The report's settings: `section.key` → (value, source).
fn settings(report: &str) -> BTreeMap<String, (String, String)> {
    let mut section = String::new();
    let mut out = BTreeMap::new();
    for line in report.lines() {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = format!("{name}.");
            continue;
        }
        let line = line.strip_prefix("# ").unwrap_or(line);
        let Some((key, rest)) = line.split_once(" = ") else {
            continue;
        };
        let (value, source) = rest.rsplit_once("  # ").unwrap_or((rest, ""));
        out.insert(
            format!("{section}{key}"),
            (value.to_string(), source.to_string()),
        );
    }
    out
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

fn key(cosigner: bool) -> String {
    let (code, out, err) = cli_support::output(
        bin(&[])
            .args(["key", "generate"])
            .args(if cosigner { &["--cosigner"][..] } else { &[] }),
        "",
    );
    assert_eq!(code, 0, "{err}");
    out.trim().to_string()
}

#[test]
fn flags_override_the_environment_which_overrides_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(
        dir.path(),
        "api-actix.toml",
        r#"
bind = "127.0.0.1:7001"
workers = 3
shutdown_timeout = 12
[database]
url = "from-file.sqlite"
pool_size = 5
[log]
format = "json"
[metrics]
enabled = false
"#,
    );
    let env = [
        ("REGISTERS_BIND", "127.0.0.1:7002"),
        ("REGISTERS_WORKERS", "4"),
        ("DATABASE_URL", "from-env.sqlite"),
        ("RUST_LOG", "debug"),
    ];
    let (code, report, err) = check(
        &file,
        &env,
        &["--bind", "127.0.0.1:7003", "--pool-size", "6"],
    );
    assert_eq!(code, 0, "{report}\n{err}");
    let got = settings(&report);
    let expect = |key: &str, value: &str, source: &str| {
        assert_eq!(
            got.get(key),
            Some(&(value.to_string(), source.to_string())),
            "{key} in\n{report}"
        );
    };
    expect("bind", "\"127.0.0.1:7003\"", "flag --bind");
    expect("workers", "4", "env REGISTERS_WORKERS");
    expect("shutdown_timeout", "12", "file");
    expect("database.url", "\"from-env.sqlite\"", "env DATABASE_URL");
    expect("database.pool_size", "6", "flag --pool-size");
    expect("log.format", "\"json\"", "file");
    expect("log.filter", "\"debug\"", "env RUST_LOG");
    expect("metrics.enabled", "false", "file");
    expect("limits.max_rsf_bytes", "536870912", "default");

    // The same file through REGISTERS_CONFIG, for every command that opens the database:
    // `migrate` creates the database the file names.
    let (code, _, err) = cli_support::output(
        bin(&[("REGISTERS_CONFIG", file.to_str().expect("UTF-8"))])
            .current_dir(dir.path())
            .arg("migrate"),
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(dir.path().join("from-file.sqlite").exists());

    // A variable that does not parse is named.
    let (code, _, err) = check(&file, &[("REGISTERS_WORKERS", "many")], &[]);
    assert_eq!(code, 1);
    assert!(err.contains("REGISTERS_WORKERS='many'"), "{err}");
}

#[test]
fn secrets_are_redacted_and_keys_checked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cosigner = key(true);
    let cosigner_file = write(dir.path(), "cosigner.key", &cosigner);
    let file = write(
        dir.path(),
        "api-actix.toml",
        &format!(
            r#"
[database]
url = "postgres://registers:hunter2-secret@127.0.0.1:5432/registers?sslmode=disable"
[keys]
cosigner_key_file = "{}"
"#,
            cosigner_file.display()
        ),
    );
    let log = key(false);
    let secret = "a token secret of at least thirty-two bytes";
    let metrics = "metrics-bearer-token";
    let env = [
        ("LOG_KEY", log.as_str()),
        ("TOKEN_SECRET", secret),
        ("METRICS_TOKEN", metrics),
    ];
    let (code, report, err) = check(&file, &env, &[]);
    assert_eq!(code, 0, "{report}\n{err}");
    for leaked in [
        "hunter2-secret",
        log.as_str(),
        secret,
        metrics,
        cosigner.as_str(),
    ] {
        assert!(
            !report.contains(leaked) && !err.contains(leaked),
            "a secret leaked:\n{report}\n{err}"
        );
    }
    let got = settings(&report);
    assert_eq!(
        got["database.url"].0,
        "\"postgres://registers:<redacted>@127.0.0.1:5432/registers?sslmode=disable\""
    );
    assert_eq!(
        got["keys.log_key_file"],
        ("\"<redacted>\"".into(), "env LOG_KEY".into())
    );
    assert_eq!(
        got["keys.cosigner_key_file"],
        (format!("\"{}\"", cosigner_file.display()), "file".into())
    );
    assert_eq!(got["keys.token_secret_file"].1, "env TOKEN_SECRET");
    assert_eq!(got["metrics.token_file"].1, "env METRICS_TOKEN");

    // A key of the wrong kind, or one that does not parse, is a problem; the report still
    // shows nothing of it.
    let (code, report, err) = check(
        &file,
        &[("LOG_KEY", &cosigner), ("TOKEN_SECRET", secret)],
        &[],
    );
    assert_eq!(code, 1, "{report}");
    assert!(err.contains("keys.log_key_file (env LOG_KEY)"), "{err}");
    assert!(err.contains("other kind"), "{err}");
    assert!(!err.contains(&cosigner) && !report.contains(&cosigner));
}

#[test]
fn every_problem_is_reported_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let short = write(dir.path(), "short-secret", "too short\n");
    let file = write(
        dir.path(),
        "api-actix.toml",
        &format!(
            r#"
bind = "not an address"
origin = "https://registers.example.org"
workers = 0
[database]
url = "postgres://127.0.0.1:5432/registers"
[keys]
log_key_file = "{}"
token_secret_file = "{}"
[log]
filter = "[[["
"#,
            dir.path().join("missing.key").display(),
            short.display()
        ),
    );
    let (code, _, err) = check(&file, &[], &[]);
    assert_eq!(code, 1, "{err}");
    for expected in [
        "bind (file): 'not an address' is not host:port",
        "origin (file): origin 'https://registers.example.org' has no scheme",
        "workers (file): 0 is not within 1..=1024",
        "keys.log_key_file (file): cannot read the log key file",
        "keys.cosigner_key_file (default): a cosigner key is required with PostgreSQL",
        "keys.token_secret_file (file): the token secret is 9 bytes; it must be at least 32 bytes long",
        "log.filter (file):",
    ] {
        assert!(err.contains(expected), "{expected} in\n{err}");
    }
    // `serve` refuses the same file with the same list, before opening anything.
    let (code, _, serve_err) =
        cli_support::output(bin(&[]).args(["serve", "--config"]).arg(&file), "");
    assert_eq!(code, 1);
    assert!(serve_err.contains("7 problem(s)"), "{serve_err}");

    // A file that is not the configuration's shape names its line and key.
    let typo = write(
        dir.path(),
        "typo.toml",
        "bind = \"127.0.0.1:1\"\n[database]\nulr = \"x\"\n",
    );
    let (code, _, err) = check(&typo, &[], &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("line 3") && err.contains("unknown field `ulr`"),
        "{err}"
    );
}

#[test]
fn the_sample_is_valid_and_names_every_setting() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, report, err) = check(Path::new(SAMPLE), &[], &[]);
    assert_eq!(code, 0, "the sample must pass as shipped: {err}");
    let sample = std::fs::read_to_string(SAMPLE).expect("sample");
    // Every setting the report shows appears in the sample, set or commented out.
    let in_sample = settings(&sample);
    for key in settings(&report).keys() {
        assert!(
            in_sample.contains_key(key),
            "{key} is missing from docs/api-actix.toml"
        );
    }
    // Its active values are the defaults it claims (apart from the unset ones).
    let empty = write(dir.path(), "empty.toml", "");
    let (_, defaults, _) = check(&empty, &[], &[]);
    for (key, (value, _)) in settings(&defaults) {
        if let Some((sample_value, source)) = settings(&report).get(&key) {
            if source == "file" {
                assert_eq!(
                    sample_value, &value,
                    "{key}: the sample's value is the default"
                );
            }
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[test]
fn serve_obeys_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let file = write(
        dir.path(),
        "api-actix.toml",
        &format!(
            r#"
bind = "127.0.0.1:{port}"
domain = "registers.config.example"
origin = "registers.config.example"
[database]
url = "{}"
[metrics]
enabled = false
"#,
            dir.path().join("served.sqlite").display()
        ),
    );
    let (code, _, err) = cli_support::output(
        cli_support::bin()
            .args(["load", "colour", "--config"])
            .arg(&file)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../crates/register-core/tests/data/colour.rsf"
            )),
        "",
    );
    assert_eq!(code, 0, "{err}");
    let mut child = bin(&[("TOKEN_SECRET", "a test secret of at least 32 bytes!")])
        .args(["serve", "--config"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while ureq::get(&format!("{base}/healthz")).call().is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never answered"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let body = ureq::get(&format!("{base}/registers/colour/register"))
        .call()
        .expect("summary")
        .body_mut()
        .read_to_string()
        .expect("body");
    let summary: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(summary["domain"], "registers.config.example", "{summary}");
    assert_eq!(
        summary["origin"], "registers.config.example/registers/colour",
        "{summary}"
    );
    let metrics = ureq::get(&format!("{base}/metrics")).call();
    assert!(
        matches!(metrics, Err(ureq::Error::StatusCode(404))),
        "metrics are off: {metrics:?}"
    );
    let _ = child.kill();
    let _ = child.wait();
}
