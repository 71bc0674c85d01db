//! Registers and plans persisted with diesel, on SQLite (the embedded default) or PostgreSQL.
//!
//! # Design
//!
//! - One connection type for both backends, [`conn::AnyConnection`]
//!   (`#[derive(diesel::MultiConnection)]`), behind an r2d2 pool whose customizer sets the
//!   SQLite pragmas (WAL, foreign keys, busy timeout) on every connection. The URL picks the
//!   backend: `postgres://…` or a SQLite path.
//! - Migrations for each backend live in the top-level `migrations/` folder, are embedded, and
//!   run when a store opens. `schema.rs` is generated and checked against both in CI.
//! - Loading RSF ([`store::Store::load_rsf`]) is one transaction. The register-core loader
//!   validates every line against the `state` module's view of the register *inside* that
//!   transaction, and only then are the changes written with multi-row inserts (the `bulk`
//!   module) or PostgreSQL's `COPY` (`pg_copy`); any error rolls everything back. Loads into
//!   one register are serialised: a PostgreSQL advisory lock on the register name, the
//!   database write lock on SQLite.
//! - Merkle trees are stored as their complete aligned subtrees (`merkle_nodes`), so a root or
//!   proof at any size reads O(log n) rows and every server process sees the same tree.
//! - Row types (`rows`) are private; the API speaks register-core's and plan-core's types and
//!   the store's own values (`model`, re-exported where callers use them).
//! - With the `testing` feature, [`testing`] hands out fresh migrated databases on both
//!   backends; the store's own tests and the API's tests use it (dev-dependencies only).
//!
//! # Layers
//!
//! Modules use only modules of lower layers, so their imports form no circle:
//!
//! 1. Bottom: `error`, `schema` (generated), `model` (the API's values), `conn` (connections,
//!    pool, migrations), `rows` (every diesel row struct and the conversions between rows and
//!    values), `bulk` (multi-row INSERTs) and `pg_copy` (PostgreSQL `COPY`).
//! 2. Stored registers: `registers` (a register's row, the id cache, the lock, its logs'
//!    entries and records, its metadata) and `index_logs` (reading index logs), then `tree`
//!    (Merkle trees: nodes, leaves, the node cache, roots and proofs in two round trips),
//!    then `state` (the loader's view inside a load).
//! 3. Concerns, each a set of functions over a connection or the caller's transaction:
//!    `indexes` (deriving index logs), `load` (the RSF load), `queries` (the reads the API
//!    serves), `accounts`, `node`, `plans`, `subscriptions`. None of them knows [`Store`].
//! 4. Top: `store`, the front door. [`Store`] owns the pool and the caches; each method
//!    checks out a connection or opens a transaction and calls one concern. `testing`
//!    builds on it.
//!
//! [`Store`]: store::Store

pub mod accounts;
mod bulk;
pub mod conn;
pub mod error;
mod index_logs;
mod indexes;
mod load;
mod model;
pub mod node;
mod pg_copy;
pub mod plans;
pub mod queries;
mod registers;
mod rows;
pub mod schema;
mod state;
pub mod store;
pub mod subscriptions;
#[cfg(feature = "testing")]
pub mod testing;
mod tree;
