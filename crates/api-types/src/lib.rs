//! The JSON bodies of the register and plan API (registers.md §8, plans.md §4, sync.md):
//! one serde type per body, shared by the server that writes them and every client that
//! reads them (the sync client, `remote plan`, `rsf`, tests).
//!
//! # Design
//!
//! - **Pure serde.** No HTTP, SQL, async runtime or domain crate: a program that only talks
//!   to the API can depend on this crate alone. Values the domain types own (hashes, times,
//!   UUIDs) travel as the strings the API writes.
//! - **Field order is the wire order.** Bodies that round 1 wrote through `serde_json::json!`
//!   came out with their keys sorted; their structs declare fields in that sorted order so
//!   the bytes served did not change. Proofs and entries keep the order of their specs.
//! - **Requests are strict** (`deny_unknown_fields`): a misspelt field is a 400, not a
//!   silently ignored option.
//! - Entries and records on the read API's hot path are written by the server's own
//!   renderer; [`Entry`] and [`Record`] describe the same bytes (the server checks its
//!   renderer against them) and let clients read them.

#![deny(missing_docs)]

pub mod cli;
pub mod document;
pub mod error;
pub mod health;
pub mod plans;
pub mod proofs;
pub mod registers;
pub mod sync;

pub use document::{decode_document, encode_document, DocumentError};
pub use error::{ErrorEnvelope, SchemaError};
pub use health::Probe;
pub use plans::{DocumentRequest, LoginRequest, LoginResponse, PlanBody, ReviewRequest};
pub use proofs::{ConsistencyProof, EntryProof, RegisterProof, PROOF_IDENTIFIER};
pub use registers::{
    Entry, IndexRecord, LoadFailure, LoadReport, Record, RegisterListing, RegisterSummary,
    Unchanged, WriteReport,
};
pub use sync::{
    CosignatureKept, CosignatureRequest, HeldCheckpoint, PushResponse, SliceReport, SliceState,
    SubscriptionStatus,
};
