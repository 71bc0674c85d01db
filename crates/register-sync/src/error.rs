//! Why a delta or a sync run failed.

use register_core::Digest;
use tlog_core::{Contradiction, Evidence};
use uuid::Uuid;

/// An error of a store or a transport, kept with its type for `source()`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// How the primary's history and a mirror disagree. Nothing is changed when one is found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Divergence {
    /// The delta does not start by asserting the mirror's root.
    #[error(
        "divergence: mirror '{mirror}' holds {size} entries with root {root}, but the delta \
         starts with '{found}' instead of asserting that root; the primary's history differs \
         from what was received earlier, so nothing was applied"
    )]
    UnexpectedStart {
        /// The local mirror.
        mirror: String,
        /// Its size.
        size: u64,
        /// Its root.
        root: Digest,
        /// The delta's first line (at most 100 characters).
        found: String,
    },
    /// Mirror and primary hold as many entries, with different roots.
    #[error(
        "divergence: mirror '{mirror}' and slice {slice} both hold {size} entries but their \
         roots differ ({here} here, {primary} on the primary)"
    )]
    RootsDiffer {
        /// The local mirror.
        mirror: String,
        /// The slice.
        slice: Uuid,
        /// The common size.
        size: u64,
        /// The mirror's root.
        here: Digest,
        /// The primary's root.
        primary: Digest,
    },
    /// The primary holds fewer entries than the mirror.
    #[error(
        "divergence: mirror '{mirror}' holds {size} entries but slice {slice} only \
         {primary_size}; the primary's history was reset"
    )]
    Reset {
        /// The local mirror.
        mirror: String,
        /// The slice.
        slice: Uuid,
        /// The mirror's size.
        size: u64,
        /// The primary's size.
        primary_size: u64,
    },
    /// The primary signed a checkpoint that contradicts one this mirror accepted earlier: a
    /// split view, with the evidence to prove it.
    #[error(
        "divergence: split view: slice {} of the primary signed a checkpoint that contradicts one mirror \
         '{}' accepted earlier ({}); nothing was applied",
        .0.slice, .0.mirror, .0.how
    )]
    SplitView(Box<SplitView>),
    /// A push found the remote mirror is not a prefix of the local register.
    #[error(
        "divergence: the mirror of slice {slice} on {remote} ({size} entries, root {root}) is \
         not a prefix of register '{register}' here; nothing was sent"
    )]
    NotAPrefix {
        /// The slice.
        slice: Uuid,
        /// The secondary.
        remote: String,
        /// The remote mirror's size.
        size: u64,
        /// The remote mirror's root.
        root: Digest,
        /// The local register.
        register: String,
    },
}

/// Two checkpoints of one slice's log, both signed by the pinned key, that cannot both be
/// true.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitView {
    /// The slice.
    pub slice: Uuid,
    /// The local mirror.
    pub mirror: String,
    /// How they contradict each other.
    pub how: Contradiction,
    /// Both signed notes and the proof that failed, for `rsf evidence verify`.
    pub evidence: Evidence,
}

/// Why a delta was not applied; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError<E: std::error::Error + 'static> {
    /// The delta does not start from the mirror's state: the primary's history diverges.
    #[error(transparent)]
    Diverged(Divergence),
    /// The delta does not end with `assert-root-hash`: it was cut short.
    #[error("the delta does not end with assert-root-hash: it is incomplete, nothing was applied")]
    Incomplete,
    /// The primary's checkpoint is missing, not signed by the pinned key, or the delta does
    /// not lead to it.
    #[error("{0}")]
    Unverified(String),
    /// The store refused the delta (an RSF error names its line) or failed.
    #[error(transparent)]
    Store(E),
}

/// Why a sync run failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The primary's history diverges from the mirror's: nothing was changed.
    #[error(transparent)]
    Diverged(Divergence),
    /// The primary's signed checkpoint could not be verified with the pinned key, or the
    /// primary's data does not lead to it; nothing was applied.
    #[error("{0}")]
    Unverified(String),
    /// A delta was refused (cut short, or an RSF error with its line); nothing of it applied.
    #[error("the delta was refused: {0}")]
    Refused(#[source] BoxError),
    /// Even one entry's delta is longer than the bound on a delta's bytes: refused unread
    /// past the bound, nothing of it applied.
    #[error(
        "the primary's delta of slice {slice} from entry {entry} is longer than the bound of \
         {max_bytes} bytes (max delta bytes) even with that one entry; nothing of it was \
         applied"
    )]
    DeltaTooLarge {
        /// The slice.
        slice: Uuid,
        /// The entry number the delta would have added.
        entry: u64,
        /// The bound.
        max_bytes: u64,
    },
    /// The local store failed.
    #[error(transparent)]
    Store(BoxError),
    /// The remote refused or could not be reached.
    #[error(transparent)]
    Remote(BoxError),
}

impl SyncError {
    /// The split view this run found, if any: its evidence is worth keeping.
    pub fn split_view(&self) -> Option<&SplitView> {
        match self {
            SyncError::Diverged(Divergence::SplitView(split)) => Some(split),
            _ => None,
        }
    }

    /// The CLI's exit code: 2 for a divergence (a split view included), 1 for anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            SyncError::Diverged(_) => 2,
            _ => 1,
        }
    }

    pub(crate) fn store<E: std::error::Error + Send + Sync + 'static>(e: E) -> SyncError {
        SyncError::Store(Box::new(e))
    }

    pub(crate) fn remote<E: std::error::Error + Send + Sync + 'static>(e: E) -> SyncError {
        SyncError::Remote(Box::new(e))
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<ApplyError<E>> for SyncError {
    fn from(e: ApplyError<E>) -> SyncError {
        match e {
            ApplyError::Diverged(d) => SyncError::Diverged(d),
            ApplyError::Incomplete => SyncError::Refused(Box::new(ApplyError::<E>::Incomplete)),
            ApplyError::Unverified(message) => SyncError::Unverified(message),
            ApplyError::Store(e) => SyncError::Refused(Box::new(e)),
        }
    }
}
