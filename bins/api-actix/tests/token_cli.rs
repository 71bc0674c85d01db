//! `api-actix token create|list|revoke` on both backends: the token printed once, listed
//! without its secret, accepted by a running server until it is revoked.

mod cli_support;
mod common;

use cli_support::bin;
use common::{backends, LoopbackServer, TestDb};
use serde_json::Value;

/// Runs the binary on `db`; returns (exit code, stdout, stderr).
fn run(db: &TestDb, args: &[&str]) -> (i32, String, String) {
    cli_support::output(bin().args(args).arg("--database-url").arg(&db.url), "")
}

/// `POST load-rsf` of colour.rsf with `Authorization: Bearer token`; the status.
fn load_colour(base: &str, token: &str) -> u16 {
    let colour = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../crates/register-core/tests/data/colour.rsf"
    ))
    .expect("colour.rsf");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    agent
        .post(&format!("{base}/registers/colour/load-rsf"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/uk-gov-rsf")
        .send(&colour[..])
        .expect("load-rsf")
        .status()
        .as_u16()
}

#[test]
fn tokens_are_printed_once_listed_without_secrets_and_revoked() {
    for db in backends() {
        let l = db.label;
        let (code, token, err) = run(&db, &["token", "create", "etl", "--register", "colour"]);
        assert_eq!(code, 0, "{l}: {err}");
        let token = token
            .strip_suffix('\n')
            .unwrap_or_else(|| panic!("{l}: {token:?}"));
        assert!(
            token.starts_with("rwt_") && token.len() == 47,
            "{l}: {token}"
        );
        assert!(!token.contains('\n') && !err.contains(token), "{l}: {err}");
        assert!(
            err.contains("'etl'") && err.contains("register 'colour'"),
            "{l}: {err}"
        );
        let (code, admin, _) = run(&db, &["token", "create", "ops", "--admin"]);
        assert_eq!(code, 0, "{l}");
        assert_ne!(admin.trim(), token, "{l}");

        // Exactly one scope; names are unique.
        for args in [
            &["token", "create", "x"][..],
            &["token", "create", "x", "--admin", "--register", "colour"],
        ] {
            assert_eq!(run(&db, args).0, 2, "{l} {args:?}");
        }
        let (code, _, err) = run(&db, &["token", "create", "etl", "--admin"]);
        assert_eq!(code, 1, "{l}");
        assert!(err.contains("exists already"), "{l}: {err}");

        // The token writes its register through a running server.
        let server = LoopbackServer::start(db.store.clone());
        assert_eq!(load_colour(&server.url(), token), 200, "{l}");

        // The list shows names, scopes and times, never a secret or hash.
        let (code, list, _) = run(&db, &["token", "list"]);
        assert_eq!(code, 0, "{l}");
        assert!(!list.contains("rwt_"), "{l}: {list}");
        let lines: Vec<Value> = list
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect();
        assert_eq!(lines.len(), 2, "{l}: {list}");
        let etl = &lines[0];
        assert_eq!(
            (&etl["name"], &etl["scope"], &etl["register"]),
            (&"etl".into(), &"register".into(), &"colour".into()),
            "{l}: {etl}"
        );
        assert!(
            etl["last_used_at"].is_string() && etl["revoked_at"].is_null(),
            "{l}"
        );
        let keys: Vec<&String> = etl.as_object().expect("object").keys().collect();
        let expected = [
            "created_at",
            "last_used_at",
            "name",
            "register",
            "revoked_at",
            "scope",
        ];
        assert_eq!(keys, expected, "{l}");
        assert_eq!(lines[1]["scope"], "admin", "{l}");
        assert!(lines[1].get("register").is_none(), "{l}");

        // Revoked by another process: the server trusts a token it found active for at most
        // a second (`writer_tokens::RECHECK_AFTER`), then refuses it.
        let (code, revoked, err) = run(&db, &["token", "revoke", "etl"]);
        let revoked_at = std::time::Instant::now();
        assert_eq!(code, 0, "{l}: {err}");
        let revoked: Value = serde_json::from_str(revoked.trim()).expect("one JSON line");
        assert!(revoked["revoked_at"].is_string(), "{l}: {revoked}");
        let recheck = store_diesel::writer_tokens::RECHECK_AFTER;
        std::thread::sleep(recheck.saturating_sub(revoked_at.elapsed()));
        assert_eq!(load_colour(&server.url(), token), 401, "{l}");
        assert_eq!(run(&db, &["token", "revoke", "nope"]).0, 1, "{l}");
        server.stop();
    }
}
