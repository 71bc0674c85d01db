//! The bodies of the probes `/healthz` and `/readyz`.

use serde::{Deserialize, Serialize};

/// `{"status":"ok"}` (`/healthz`) or `{"status":"ready"}` (`/readyz`); a probe that fails
/// answers 503 with the error envelope instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// `ok` or `ready`.
    pub status: String,
}
