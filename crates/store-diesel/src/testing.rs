//! Test databases for the store's own tests and for crates above it (feature `testing`).
//!
//! Every test store signs checkpoints with [`keys`] (fixed seeds, origin [`ORIGIN`]).
//! Every test runs on a fresh SQLite file, and on a fresh PostgreSQL database when
//! `TEST_DATABASE_URL` names a server where it may create databases (for example
//! `postgres://postgres@127.0.0.1:5432/test`). Each [`TestDb`] owns its database and drops it
//! when dropped. Without `TEST_DATABASE_URL` the PostgreSQL half is skipped with a loud
//! `SKIPPED` line on stderr, except under `CI=true`, where a missing URL panics: CI may not
//! silently test one backend only.
//!
//! ```no_run
//! use register_core::Mode;
//! use store_diesel::testing::backends;
//!
//! # let rsf: Vec<u8> = Vec::new();
//! for db in backends() {
//!     db.store.load_rsf("colour", &rsf[..], Mode::Strict).expect(db.label);
//! }
//! ```
//!
//! Enable it as a dev-dependency only:
//! `store-diesel = { workspace = true, features = ["testing"] }`.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use register_core::Digest;

use crate::conn::Conn;
use crate::error::StoreError;
use crate::model::Source;
use crate::store::Store;

/// A fresh, migrated store; its database goes when it is dropped.
#[derive(Debug)]
pub struct TestDb {
    /// The store on the fresh database.
    pub store: Store,
    /// The database URL (a SQLite path or `postgres://…`).
    pub url: String,
    /// `"sqlite"` or `"postgres"`, for assertion messages.
    pub label: &'static str,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A pooled connection to the test database, for tests that read or change tables
    /// behind the store's back.
    pub fn conn(&self) -> Result<Conn, StoreError> {
        self.store.conn()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.postgres {
            if let Ok(mut conn) = PgConnection::establish(admin) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// A fresh SQLite store in its own temporary directory.
pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = dir
        .path()
        .join("store.sqlite")
        .to_string_lossy()
        .into_owned();
    let store = Store::open(&url).expect("open sqlite").with_keys(keys());
    // The database's origin is the keys' one, so the CLI on it signs as the store does.
    store.set_origin(ORIGIN).expect("origin");
    TestDb {
        store,
        url,
        label: "sqlite",
        _dir: Some(dir),
        postgres: None,
    }
}

/// A fresh PostgreSQL store in a new database on the `TEST_DATABASE_URL` server; `None`
/// (after a loud `SKIPPED` line) when the variable is not set.
///
/// # Panics
///
/// Under `CI=true` when `TEST_DATABASE_URL` is not set, and when the server cannot be used.
pub fn postgres() -> Option<TestDb> {
    let Ok(admin) = std::env::var("TEST_DATABASE_URL") else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "TEST_DATABASE_URL must be set under CI=true: PostgreSQL tests may not be skipped"
            );
        }
        // Once per test binary, and past the test harness's output capture (which only
        // takes `print!`/`eprint!`), so the skip shows in every run's log.
        static SKIPPED: std::sync::Once = std::sync::Once::new();
        SKIPPED.call_once(|| {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "*** SKIPPED: PostgreSQL tests (TEST_DATABASE_URL is not set) ***"
            );
        });
        return None;
    };
    let name = format!("store_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::establish(&admin).expect("connect to TEST_DATABASE_URL");
    conn.batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create test database");
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    let url = format!("{base}/{name}");
    let store = Store::open(&url).expect("open postgres").with_keys(keys());
    store.set_origin(ORIGIN).expect("origin");
    Some(TestDb {
        store,
        url,
        label: "postgres",
        _dir: None,
        postgres: Some((admin, name)),
    })
}

/// Reverts `db`'s migrations back to before `version` (a migration folder's date, such as
/// `2026-12-16-000000`), so a test can write rows in the older schema.
pub fn revert_migrations_through(db: &TestDb, version: &str) -> Result<(), StoreError> {
    crate::conn::revert_through(&mut *db.conn()?, version)
}

/// Runs `db`'s pending migrations; returns how many ran.
pub fn migrate(db: &TestDb) -> Result<usize, StoreError> {
    crate::conn::migrate(&mut *db.conn()?)
}

/// The origin of the test stores' keys.
pub const ORIGIN: &str = "registers.test";

/// The keys every test store signs with: fixed seeds, so tests can check exact notes.
pub fn keys() -> crate::model::NodeKeys {
    let key = |name: &str, key_type: u8, byte: u8| {
        tlog_core::PrivateKey::from_seed(name, key_type, [byte; 32]).expect("test key")
    };
    crate::model::NodeKeys {
        origin: ORIGIN.to_string(),
        log: key("log", tlog_core::note::ED25519, 7),
        cosigner: key("cosigner", tlog_core::note::COSIGNATURE_V1, 9),
    }
}

/// SQLite, then PostgreSQL when available.
pub fn backends() -> Vec<TestDb> {
    let mut dbs = vec![sqlite()];
    dbs.extend(postgres());
    dbs
}

/// Another fresh database of the same backend as `db`.
pub fn another(db: &TestDb) -> TestDb {
    match db.label {
        "postgres" => postgres().expect("PostgreSQL was available a moment ago"),
        _ => sqlite(),
    }
}

/// A log's root when it held `size` entries, for any [`Source`] (the API serves a register's
/// roots only, as [`Store::root_at`]); tests check index trees with it.
pub fn log_root_at(store: &Store, source: &Source, size: u64) -> Result<Digest, StoreError> {
    store.log_root_at(source, size)
}
