//! Connections: one type for both backends, a pool, per-connection SQLite settings, migrations.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{CustomizeConnection, Pool, PooledConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::StoreError;

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

pub use any::AnyConnection;

mod any {
    // The derive generates a backend, rows and values for the enum, which diesel does not
    // document; they are reachable through `AnyConnection`'s trait impls.
    #![allow(missing_docs)]

    use diesel::{PgConnection, SqliteConnection};

    /// A connection to either backend. PostgreSQL first: SQLite accepts any string as a path.
    #[derive(diesel::MultiConnection)]
    pub enum AnyConnection {
        /// PostgreSQL.
        Postgresql(PgConnection),
        /// SQLite (the embedded default).
        Sqlite(SqliteConnection),
    }
}

impl std::fmt::Debug for AnyConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AnyConnection::Postgresql(_) => "AnyConnection::Postgresql",
            AnyConnection::Sqlite(_) => "AnyConnection::Sqlite",
        })
    }
}

/// Runs a diesel query on the connection's own backend (`$c` is the `PgConnection` or the
/// `SqliteConnection`) instead of through the multi-backend wrapper, which writes out the
/// SQL text of every query again just to collect its binds: on the hot reads that was a
/// measurable share of a request. Prepared statements are cached either way.
macro_rules! native {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::conn::AnyConnection::Postgresql($c) => $body,
            $crate::conn::AnyConnection::Sqlite($c) => $body,
        }
    };
}
pub(crate) use native;

/// Which backend a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://…` or `postgresql://…`.
    Postgres,
    /// Anything else: a file path, optionally prefixed `sqlite://`.
    Sqlite,
}

impl Backend {
    /// The backend a database URL names.
    pub fn of(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Opens connections of the backend the URL names (not by trial, as the derive would).
#[derive(Debug)]
pub struct Manager {
    url: String,
    backend: Backend,
}

impl Manager {
    fn connect(&self) -> diesel::ConnectionResult<AnyConnection> {
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.url).map(AnyConnection::Postgresql),
            Backend::Sqlite => {
                let path = self.url.strip_prefix("sqlite://").unwrap_or(&self.url);
                SqliteConnection::establish(path).map(AnyConnection::Sqlite)
            }
        }
    }
}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, Self::Error> {
        Manager::connect(self).map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        false
    }
}

/// Settings every SQLite connection needs: WAL (readers never block the writer), foreign keys,
/// a busy timeout so concurrent writers wait briefly instead of failing (past 5 s — a load
/// holding the write lock — they fail as busy, which the API answers 503 with Retry-After), and a page cache large enough
/// (32 MiB instead of 2) that bulk loads into million-row indexes do not thrash.
#[derive(Debug, Clone, Copy)]
struct SqlitePragmas;

impl CustomizeConnection<AnyConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), diesel::r2d2::Error> {
        if let AnyConnection::Sqlite(c) = conn {
            c.batch_execute(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
                 PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// A pooled connection.
pub type Conn = PooledConnection<Manager>;

/// Builds the pool and runs pending migrations.
pub(crate) fn pool(url: &str, size: u32) -> Result<(Pool<Manager>, Backend), StoreError> {
    let backend = Backend::of(url);
    let manager = Manager {
        url: url.to_string(),
        backend,
    };
    let pool = Pool::builder()
        .max_size(size)
        // Open connections as they are needed, on the caller's request only: opening all at
        // once makes SQLite's first `journal_mode = WAL` race with the migrations, and a spare
        // kept idle is opened by a pool thread in the background, which a short-lived CLI
        // process may still be doing when it exits (libpq's TLS then crashes in OpenSSL's
        // exit handlers).
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(10))
        // r2d2 runs `SELECT 1` on every checkout by default: a statement per request for
        // nothing on SQLite, whose connections are a file handle. PostgreSQL connections can
        // break under us, so they keep the check.
        .test_on_check_out(backend == Backend::Postgres)
        .connection_customizer(Box::new(SqlitePragmas))
        .build(manager)?;
    let mut conn = pool.get()?;
    migrate(&mut conn)?;
    Ok((pool, backend))
}

/// Runs the migrations this build embeds that the database has not seen; returns how many.
pub(crate) fn migrate(conn: &mut AnyConnection) -> Result<usize, StoreError> {
    let applied = match conn {
        AnyConnection::Postgresql(c) => {
            // Several instances may start on a new database at once: one migrates, the
            // others wait and then find nothing pending.
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
            let applied = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len());
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
            applied
        }
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    }
    .map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(applied)
}

/// Reverts the applied migrations newer than `version` and `version` itself, newest first
/// (`version` as its folder name starts, `2026-12-16-000000`): tests put rows into an
/// older schema this way, then migrate them.
#[cfg(feature = "testing")]
pub(crate) fn revert_through(conn: &mut AnyConnection, version: &str) -> Result<(), StoreError> {
    let digits = |v: &str| v.chars().filter(char::is_ascii_digit).collect::<String>();
    let target = digits(version);
    let error = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
    loop {
        let applied = match conn {
            AnyConnection::Postgresql(c) => c.applied_migrations(),
            AnyConnection::Sqlite(c) => c.applied_migrations(),
        }
        .map_err(error)?;
        if !applied.iter().any(|v| digits(&v.to_string()) >= target) {
            return Ok(());
        }
        match conn {
            AnyConnection::Postgresql(c) => c.revert_last_migration(POSTGRES_MIGRATIONS),
            AnyConnection::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS),
        }
        .map_err(error)?;
    }
}

/// Whether the database has a migration this build embeds and it has not run.
pub(crate) fn has_pending_migrations(conn: &mut AnyConnection) -> Result<bool, StoreError> {
    match conn {
        AnyConnection::Postgresql(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
        AnyConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
    }
    .map_err(|e| StoreError::Migration(e.to_string()))
}

/// The advisory lock key that serialises migrations on PostgreSQL ("registers" in ASCII).
const MIGRATION_LOCK: i64 = 0x7265_6769_7374_6572;
