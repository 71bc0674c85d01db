//! The pure heart of registers: items, entries, records, indexes, RSF, canonical hashing and
//! RFC 6962 Merkle proofs, in the GOV.UK Registers model (ADR-007).
//!
//! # Design
//!
//! - **Items** ([`item`]) are JSON objects of string or list-of-string fields, identified by
//!   the SHA-256 of their canonical JSON ([`ItemHash`]). RSF carries them canonical, so loading
//!   checks canonicity by re-serialising into a reused buffer and comparing bytes.
//! - **Entries** ([`Entry`]) live in two logs per register, user and system ([`LogKind`]),
//!   each numbered from 1. An entry lists its item hashes: one or more, or none when the
//!   record left the current set (registers.md §6.1).
//! - **Metadata** ([`Metadata`]) is derived from the system log's records and drives the
//!   validation rules of registers.md §3 ([`Mode::Strict`] or [`Mode::Relaxed`]).
//! - **Loading** ([`load`]) validates RSF against a read-only [`RegisterState`] and stages the
//!   result as [`Changes`]; committing is a separate step. The in-memory [`Register`] and the
//!   database store share the same loader, so both are atomic and apply identical rules.
//! - **Merkle trees** ([`merkle`]) are kept as complete aligned subtrees behind the
//!   [`NodeStore`] trait: append is O(log n), and roots and proofs at any size cost O(log n)
//!   reads, in memory or in a database.
//! - **Indexes** ([`index`]) are derived logs keyed by a field value, rebuilt by replaying the
//!   user log.
//! - **Snapshot imports** ([`import`]) turn a full copy of a source table (CSV, TSV, JSON
//!   Lines) into an RSF patch with one entry per new or changed record, streaming the rows
//!   against an index of the current records; applying the patch is an ordinary load.
//! - **Dialects**: the reader accepts every RSF form GOV.UK published (registers.md §6.1);
//!   writers emit the current one, and [`upgrade`] rewrites a file in it.
//!
//! Nothing here does I/O beyond [`std::io::BufRead`] and [`std::io::Write`] (the `csv` crate
//! parses snapshots from them); there is no HTTP, SQL or async code, so other programs can
//! embed the crate freely.
//!
//! ```
//! use register_core::{LogKind, Mode, Register};
//!
//! let rsf = "add-item\t{\"name\":\"colour\"}\n\
//! append-entry\tsystem\tname\t2019-01-01T00:00:00Z\tsha-256:7cbc96a7ee8071a89b3ba4da1cc3574d2d9f6e96e1a631670611aa83cc2f9ea2\n";
//! let mut register = Register::new();
//! let summary = register.load(rsf.as_bytes(), Mode::Strict)?;
//! assert_eq!(summary.system_entries, 1);
//! assert_eq!(register.name(), Some("colour"));
//! assert_eq!(register.size(LogKind::User), 0);
//! # Ok::<(), register_core::Error>(())
//! ```

#![deny(missing_docs)]

pub mod datatype;
pub mod entry;
pub mod error;
pub mod hash;
pub mod import;
pub mod index;
pub mod item;
pub mod load;
pub mod merkle;
pub mod metadata;
pub mod name;
pub mod register;
pub mod rsf;
pub mod time;
pub mod upgrade;
pub mod write;

pub use datatype::Datatype;
pub use entry::{Entry, LogKind};
pub use error::{Error, StateError};
pub use hash::{Digest, ItemHash};
pub use import::{diff_register, Format, ImportOptions, ImportSummary, Importer};
pub use index::IndexLog;
pub use item::{canonicalise, Item, ItemView, Value};
pub use load::{load, verify, Changes, LoadSummary, Loader, RegisterState, Verification};
pub use merkle::{Frontier, NodeStore};
pub use metadata::{Metadata, Mode};
pub use name::check_register_name;
pub use register::Register;
pub use time::Timestamp;
pub use upgrade::{upgrade, Upgrade};
