//! The front door: [`Store`] owns the pool and the caches; each method checks out a
//! connection (or opens a transaction) and calls the module below that does the work.
//!
//! The methods are grouped by concern: opening and loading here, reads of registers and
//! index logs in `store/registers.rs`, accounts and writer tokens in `store/accounts.rs`,
//! and this node, plans and subscriptions in `store/partners.rs`.

use std::io::BufRead;
use std::sync::Arc;

use diesel::connection::SimpleConnection;
use diesel::r2d2::Pool;
use diesel::{Connection, RunQueryDsl};
use register_core::Mode;

use crate::appends;
use crate::checkpoints;
use crate::conn::{self, AnyConnection, Backend, Conn, Manager};
use crate::error::StoreError;
use crate::indexes;
use crate::known::KnownRegisters;
use crate::load;
use crate::registers::RegisterIds;
use crate::tiles::TileCache;
use crate::tree::NodeCache;
use crate::writer_tokens;

pub use crate::appends::{AppendBatch, AppendRequest, Appended};
pub use crate::model::{
    Attempt, Evidence, LoadReport, MirrorOf, NodeKeys, SubmissionState, WitnessJob, WitnessSource,
    WitnessedLog,
};

mod accounts;
mod partners;
mod registers;
mod witness;

/// Registers and plans in one database, SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool<Manager>,
    backend: Backend,
    /// Register ids by name: they never change, so reads skip one lookup per request.
    ids: Arc<RegisterIds>,
    /// Upper Merkle nodes already read (immutable once written).
    nodes: Arc<NodeCache>,
    /// Full tiles served recently (immutable once complete).
    tiles: Arc<TileCache>,
    /// The keys that sign checkpoints; without them loads sign nothing.
    keys: Option<Arc<NodeKeys>>,
    /// SQLite WAL checkpoints of the write API, run beside it (see `append_records`).
    wal: Arc<WalCheckpoints>,
    /// Frontiers and metadata the write API's last batch left, per register.
    known: Arc<KnownRegisters>,
    /// Writer tokens found active in the last second.
    recent_tokens: Arc<writer_tokens::Recent>,
}

/// How often at most the write API starts a background WAL checkpoint on SQLite.
const WAL_CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

#[derive(Debug)]
struct WalCheckpoints {
    running: std::sync::atomic::AtomicBool,
    last: std::sync::Mutex<std::time::Instant>,
}

impl Default for WalCheckpoints {
    fn default() -> WalCheckpoints {
        WalCheckpoints {
            running: Default::default(),
            last: std::sync::Mutex::new(std::time::Instant::now()),
        }
    }
}

impl Store {
    /// Opens (creating a SQLite file if needed) and migrates the database at `url`:
    /// `postgres://…` for PostgreSQL, anything else a SQLite path (`sqlite://` optional).
    pub fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with_pool_size(url, 8)
    }

    /// As [`Store::open`], with a pool of at most `size` connections.
    pub fn open_with_pool_size(url: &str, size: u32) -> Result<Store, StoreError> {
        let (pool, backend) = conn::pool(url, size)?;
        indexes::backfill(&mut *pool.get()?)?;
        Ok(Store {
            pool,
            backend,
            ids: Default::default(),
            nodes: Default::default(),
            tiles: Default::default(),
            keys: None,
            wal: Default::default(),
            known: Default::default(),
            recent_tokens: Default::default(),
        })
    }

    /// This store, signing a checkpoint in every load that leaves a local log at a new size.
    pub fn with_keys(mut self, keys: NodeKeys) -> Store {
        self.keys = Some(Arc::new(keys));
        self
    }

    /// The keys loads sign with, if any.
    pub fn keys(&self) -> Option<&NodeKeys> {
        self.keys.as_deref()
    }

    /// Signs the checkpoints local logs lack at their current size (once on start: logs
    /// loaded by a process without keys). Returns how many were signed; 0 without keys.
    pub fn sign_missing_checkpoints(&self) -> Result<usize, StoreError> {
        match &self.keys {
            Some(keys) => self.transaction(|conn| checkpoints::sign_all(conn, keys)),
            None => Ok(0),
        }
    }

    /// Whether this store can serve (a readiness probe): a connection within `wait`, a
    /// statement that answers, no migration pending, signing keys loaded. `Err` says which
    /// failed, in words safe to show.
    pub fn readiness(&self, wait: std::time::Duration) -> Result<(), String> {
        let mut conn = self
            .pool
            .get_timeout(wait)
            .map_err(|e| format!("the database does not answer: {e}"))?;
        diesel::sql_query("SELECT 1")
            .execute(&mut *conn)
            .map_err(|e| format!("the database does not answer: {e}"))?;
        match conn::has_pending_migrations(&mut conn) {
            Ok(false) => {}
            Ok(true) => return Err("a database migration is pending (api-actix migrate)".into()),
            Err(e) => return Err(e.to_string()),
        }
        if self.keys.is_none() {
            return Err("no signing keys are loaded".into());
        }
        Ok(())
    }

    /// The connection pool's use: (connections open, of which idle).
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A pooled connection.
    pub(crate) fn conn(&self) -> Result<Conn, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Runs `f` in a transaction on a pooled connection: committed if `f` succeeds, rolled
    /// back if it fails.
    fn transaction<T>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut pooled = self.pool.get()?;
        let conn: &mut AnyConnection = &mut pooled;
        conn.transaction(f)
    }

    /// Loads RSF into the register `name`, creating it when new, in one transaction: the
    /// register-core loader validates every line against the state inside the transaction,
    /// and any error rolls everything back. Loads into one register are serialised (an
    /// advisory lock on PostgreSQL, the database write lock on SQLite). A mirror refuses
    /// local loads ([`StoreError::Mirror`]), and the RSF's `name` must be `name`.
    pub fn load_rsf<R: BufRead + Send>(
        &self,
        name: &str,
        reader: R,
        mode: Mode,
    ) -> Result<LoadReport, StoreError> {
        self.load_into(name, reader, mode, None)
    }

    /// Applies a partner's RSF to the mirror `name` of `mirror` (sync.md), creating it when
    /// new: the same one-transaction load as [`Store::load_rsf`], in relaxed mode, without
    /// the name rule (a mirror keeps the primary's metadata under its local name). `Conflict`
    /// when `name` is a local register or mirrors another slice.
    pub fn load_mirror_rsf<R: BufRead + Send>(
        &self,
        name: &str,
        reader: R,
        mirror: &MirrorOf,
    ) -> Result<LoadReport, StoreError> {
        self.load_into(name, reader, Mode::Relaxed, Some(mirror))
    }

    /// Writes records given as JSON to the local register `name` (the write API), all
    /// `requests` in one transaction: each is validated as a strict RSF load of its records
    /// would be, in order, against the state plus the requests before it; records already
    /// holding their item are reported unchanged, not appended; a refused request changes
    /// nothing and fails no other. The signed checkpoint covers the whole batch.
    pub fn append_records(
        &self,
        name: &str,
        requests: &[AppendRequest],
    ) -> Result<AppendBatch, StoreError> {
        register_core::entry::check_user_key(name).map_err(StoreError::Register)?;
        let keys = self.keys.as_deref();
        let mut pooled = self.pool.get()?;
        let conn: &mut AnyConnection = &mut pooled;
        let sqlite = matches!(conn, AnyConnection::Sqlite(_));
        if sqlite {
            // SQLite would checkpoint the WAL inside the commit that crosses its threshold,
            // stalling every writer of that batch; the checkpoint runs beside them instead.
            conn.batch_execute("PRAGMA wal_autocheckpoint = 0")?;
        }
        let batch =
            conn.transaction(|conn| appends::append(conn, name, requests, keys, &self.known));
        let batch = batch.map(|(batch, (id, known))| {
            // Committed: the next batch may start from here.
            self.known.put(id, known);
            batch
        });
        if sqlite {
            conn.batch_execute("PRAGMA wal_autocheckpoint = 1000")?;
            drop(pooled);
            self.checkpoint_wal_beside();
        }
        batch
    }

    /// Starts a passive WAL checkpoint on another thread, unless one runs or one started
    /// less than [`WAL_CHECKPOINT_EVERY`] ago. Passive: it never blocks readers or writers.
    fn checkpoint_wal_beside(&self) {
        use std::sync::atomic::Ordering;
        {
            let mut last = self.wal.last.lock().unwrap_or_else(|e| e.into_inner());
            if last.elapsed() < WAL_CHECKPOINT_EVERY
                || self.wal.running.swap(true, Ordering::AcqRel)
            {
                return;
            }
            *last = std::time::Instant::now();
        }
        let store = self.clone();
        let spawned = std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || {
                // A checkpoint that fails or finds the WAL busy is simply the next one's work.
                if let Ok(mut conn) = store.pool.get() {
                    let _ = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)");
                }
                store.wal.running.store(false, Ordering::Release);
            });
        if spawned.is_err() {
            self.wal.running.store(false, Ordering::Release);
        }
    }

    fn load_into<R: BufRead + Send>(
        &self,
        name: &str,
        reader: R,
        mode: Mode,
        mirror: Option<&MirrorOf>,
    ) -> Result<LoadReport, StoreError> {
        // A register that may exist has a valid key as its name (registers created before
        // the rule of names included); anything else is refused with that rule.
        register_core::entry::check_user_key(name)
            .or_else(|_| register_core::check_register_name(name))?;
        let keys = self.keys.as_deref();
        self.transaction(|conn| load::load(conn, name, reader, mode, mirror, keys))
    }
}
