//! The store's error type.

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The RSF (or the register rules) refused the input; nothing was changed.
    #[error(transparent)]
    Register(#[from] register_core::Error),
    /// No register of that name.
    #[error("register '{0}' not found")]
    RegisterNotFound(String),
    /// A register is a mirror and takes no local loads.
    #[error("register '{0}' is a mirror of a partner's register and cannot be loaded locally")]
    Mirror(String),
    /// The RSF names another register.
    #[error("the RSF describes register '{found}', not '{expected}'")]
    NameMismatch {
        /// The register loaded into.
        expected: String,
        /// The `name` system record of the RSF.
        found: String,
    },
    /// A tile path that names no tile, or a bundle that cannot be written.
    #[error(transparent)]
    Tile(#[from] tlog_core::TileError),
    /// Something that must exist does not (user, plan, subscription).
    #[error("{0} not found")]
    NotFound(String),
    /// The caller passed a value the store refuses (e.g. an empty user name or password).
    #[error("{0}")]
    Invalid(String),
    /// A uniqueness rule was broken, or the state changed underneath the caller (a user that
    /// exists already, a plan saved by someone else since it was read, a frozen document).
    #[error("{0}")]
    Conflict(String),
    /// A stored value that cannot be read back (corruption or a foreign writer).
    #[error("corrupt store: {0}")]
    Corrupt(String),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(diesel::result::Error),
    /// The database is busy for now: SQLite's write lock is held (a load) past the busy
    /// timeout, or no pooled connection came free in time. Worth retrying; nothing changed.
    #[error("the database is busy ({0}); try again shortly")]
    Busy(String),
    /// The database failed for a request that shared a transaction with others (the write
    /// API's group commit): each gets this copy of the failure, worded as the original.
    #[error("{0}")]
    Unavailable(String),
    /// No connection could be had.
    #[error("database connection failed: {0}")]
    Pool(diesel::r2d2::PoolError),
    /// The pool could not be built.
    #[error("database connection failed: {0}")]
    Connect(#[from] diesel::r2d2::Error),
}

impl StoreError {
    /// This error again, for the other requests of a failed shared transaction: the same
    /// variant where it can be copied, else [`StoreError::Unavailable`] with its message.
    pub fn shared(&self) -> StoreError {
        match self {
            StoreError::Register(e) => StoreError::Register(e.clone()),
            StoreError::RegisterNotFound(name) => StoreError::RegisterNotFound(name.clone()),
            StoreError::Mirror(name) => StoreError::Mirror(name.clone()),
            StoreError::NotFound(what) => StoreError::NotFound(what.clone()),
            StoreError::Invalid(why) => StoreError::Invalid(why.clone()),
            StoreError::Conflict(why) => StoreError::Conflict(why.clone()),
            StoreError::Busy(why) => StoreError::Busy(why.clone()),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> StoreError {
        use diesel::result::Error as E;
        match &e {
            // SQLITE_BUSY / SQLITE_LOCKED after the busy timeout; PostgreSQL's lock timeout.
            E::DatabaseError(_, info)
                if info.message().contains("database is locked")
                    || info.message().contains("database table is locked")
                    || info.message().contains("lock timeout") =>
            {
                StoreError::Busy(info.message().to_string())
            }
            _ => StoreError::Database(e),
        }
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(e: diesel::r2d2::PoolError) -> StoreError {
        // r2d2's only error is "timed out waiting for connection" (its message may carry
        // the last connection error, which is not a reason to tell the client).
        let text = e.to_string();
        if text.contains("timed out") {
            StoreError::Busy("no database connection came free in time".into())
        } else {
            StoreError::Pool(e)
        }
    }
}
