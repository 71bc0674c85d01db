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
//!   validates every line against the `state` module's view of the register *inside* that transaction,
//!   and only then are the changes written with multi-row inserts (the `bulk` module); any error rolls
//!   everything back. Loads into one register are serialised: a PostgreSQL advisory lock on
//!   the register name, the database write lock on SQLite.
//! - Merkle trees are stored as their complete aligned subtrees (`merkle_nodes`), so a root or
//!   proof at any size reads O(log n) rows and every server process sees the same tree.
//! - Row types (`rows`) are private; the API speaks register-core's types.
//! - With the `testing` feature, `testing` hands out fresh migrated databases on both
//!   backends; the store's own tests and the API's tests use it (dev-dependencies only).

pub mod accounts;
mod bulk;
pub mod conn;
pub mod error;
pub mod indexes;
pub mod node;
mod pg_copy;
pub mod plans;
pub mod queries;
mod rows;
pub mod schema;
mod state;
pub mod store;
pub mod subscriptions;
#[cfg(feature = "testing")]
pub mod testing;
