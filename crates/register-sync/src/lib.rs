//! Sync (sync.md): a secondary keeps a verified mirror of every register slice of an
//! Approved plan.
//!
//! # Design
//!
//! - **Over two small traits**, so any store and any transport can take part:
//!   [`MirrorStore`] (the local registers, mirrors and subscription state) and [`Remote`]
//!   (the partner's server). store-diesel's `Store` and the HTTP client of `api-client` are
//!   the ones this workspace provides; tests and other programs may bring their own. No
//!   HTTP, SQL or async runtime here, and no clock: callers pass the time in.
//! - **One way to apply a delta**, [`apply_delta`], for pulls and pushes alike: the delta's
//!   first line must assert the mirror's current root — otherwise the primary's history
//!   diverges from what was received before, and nothing is applied
//!   ([`ApplyError::Diverged`]) — and its last line must be an assert (a truncated delta is
//!   never applied); then the store loads it in one transaction, whose last assert proves
//!   the mirror holds exactly what the primary held at the delta's end. Both lines are read
//!   with register-core's RSF reader.
//! - **Bounded chunks.** [`pull`] asks for at most [`Chunking::entries`] entries per request,
//!   reads the chunk whole and applies it as its own transaction, so an interruption leaves
//!   the mirror at a verified chunk boundary; the next run resumes from the mirror's own
//!   size. Full copy and incremental sync are the same loop. [`push`] is the same loop
//!   driven from the primary.
//! - **Bounded memory, whatever the primary sends.** A delta is read only up to
//!   [`Chunking::max_delta_bytes`] ([`Remote::fetch_delta`] stops there, before reading when
//!   the length is declared). A delta over the bound is asked again with half the entries,
//!   down to one; one entry over the bound fails the slice with [`SyncError::DeltaTooLarge`]
//!   and nothing of it applied.
//! - **Verified against the primary's signed checkpoint** ([`verify`], checkpoints.md §6).
//!   When the plan binds a checkpoint key, it is pinned on the subscription the first time
//!   it is seen; a pull fetches the primary's checkpoint, verifies it with the pinned key,
//!   checks it against the checkpoint the mirror accepted last (a contradiction is a
//!   [`Divergence::SplitView`] carrying the evidence) and moves the mirror exactly to it:
//!   every chunk before the last is proven a prefix of it by a consistency proof, and the
//!   store refuses a load past its size or at its size with another root. Reaching it, the
//!   mirror accepts it ([`MirrorStore::accept`]): the note the mirror serves and cosigns.
//!   A push carries the primary's checkpoint to the secondary, which checks it the same way.
//! - **Every outcome is recorded** on the slice's subscription (size and root after each
//!   verified chunk, last success, last error), for pulls and pushes alike;
//!   [`SyncError::exit_code`] gives the CLI contract (0 in sync, 1 error, 2 divergence).
//! - **Witnessing** ([`witness`]): submitting this node's checkpoints to its witnesses
//!   (tlog-witness) over the same kind of two traits, [`witness::WitnessLog`] and
//!   [`witness::Witness`], with the time passed in.

#![deny(missing_docs)]

mod delta;
mod error;
mod run;
mod traits;
pub mod verify;
pub mod witness;

pub use delta::{apply_delta, final_root};
pub use error::{ApplyError, BoxError, Divergence, SplitView, SyncError};
pub use run::{
    pull, push, subscribed_slices, Chunking, SliceReport, DEFAULT_CHUNK_ENTRIES,
    DEFAULT_MAX_DELTA_BYTES,
};
pub use traits::{Accepted, Fetched, Keys, MirrorStore, Origin, Remote};
