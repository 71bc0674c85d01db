//! Why a delta or a sync run failed.

use register_core::Digest;
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

/// Why a delta was not applied; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError<E: std::error::Error + 'static> {
    /// The delta does not start from the mirror's state: the primary's history diverges.
    #[error(transparent)]
    Diverged(Divergence),
    /// The delta does not end with `assert-root-hash`: it was cut short.
    #[error("the delta does not end with assert-root-hash: it is incomplete, nothing was applied")]
    Incomplete,
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
    /// A delta was refused (cut short, or an RSF error with its line); nothing of it applied.
    #[error("the delta was refused: {0}")]
    Refused(#[source] BoxError),
    /// The local store failed.
    #[error(transparent)]
    Store(BoxError),
    /// The remote refused or could not be reached.
    #[error(transparent)]
    Remote(BoxError),
}

impl SyncError {
    /// The CLI's exit code: 2 for a divergence, 1 for anything else.
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
            ApplyError::Store(e) => SyncError::Refused(Box::new(e)),
        }
    }
}
