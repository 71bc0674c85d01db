//! The transparency-log formats of C2SP, as our registers use them (checkpoints.md):
//!
//! - [`note`]: signed notes (c2sp.org/signed-note) with Ed25519 keys, and `cosignature/v1`
//!   (c2sp.org/tlog-cosignature); key names, key IDs, verifier and private key strings.
//! - [`checkpoint`]: checkpoints (c2sp.org/tlog-checkpoint): origin, size and root, signed.
//! - [`evidence`]: split-view evidence, two signed checkpoints of one log that cannot both
//!   be true, in a documented JSON file anyone can check offline with the log's key.
//! - [`tile`]: tile and entry-bundle paths and bytes (c2sp.org/tlog-tiles) over the complete
//!   subtrees register-core's Merkle trees already keep.
//! - [`witness`]: the witness protocol (c2sp.org/tlog-witness): `add-checkpoint` bodies, the
//!   witness's decision over its state, and checking cosignature lines.
//!
//! Pure like the cores: no I/O, no clock, no randomness (callers pass key seeds and
//! timestamps), so any program can embed it and every instance signs identical bytes.

#![deny(missing_docs)]

pub mod checkpoint;
pub mod evidence;
pub mod note;
pub mod tile;
pub mod witness;

pub use checkpoint::{verify_checkpoint, Checkpoint, CheckpointError};
pub use evidence::{contradiction, verify_evidence, Contradiction, Evidence, EvidenceError};
pub use note::{NoteError, PrivateKey, VerifierKey};
pub use tile::{TileError, TilePath};
