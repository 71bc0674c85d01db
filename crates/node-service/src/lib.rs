//! This node's domain rules over the store, shared by the HTTP server and the operator CLI
//! so that each exists once.
//!
//! # Design
//!
//! - [`identity`]: this node as plan documents describe it (its Primary domain of offered
//!   registers, its Secondary side), and the check an operator's change must pass before it
//!   is stored.
//! - [`plans`]: who acts on a plan (the initiator, or this node as the respondent) and the
//!   review of a plan: read, let plan-core's lifecycle decide, save with the store's
//!   optimistic check, re-read.
//! - [`import`]: a tabular snapshot becomes an RSF patch (register-core's importer fed from
//!   the store's records) and is applied as one strict load asserting the root it was
//!   computed against.
//! - [`mirrors`]: the store as register-sync's [`register_sync::MirrorStore`], and the
//!   receiving side of a push.
//! - [`database`]: opening the store a URL names (errors never show its password).
//! - [`keys`]: this node's signing keys, supplied or (embedded SQLite) generated and kept.
//! - [`publish`]: checkpoints, tiles and bundles written as static files.
//! - [`witness`]: this node as a witness (`add-checkpoint`, the logs it witnesses) and as a
//!   log that uses witnesses (the store as register-sync's `WitnessLog`, one-shot and
//!   background submission).
//! - [`writer_tokens`]: the tokens data owners' pipelines write with (`rwt_…`): made,
//!   hashed (SHA-256, the only form stored) and checked here.
//! - [`lockout`]: the one lock against password guessing (login and HTTP Basic), per
//!   account name and client address, in memory.
//! - [`writes`]: the write API's group commit (concurrent writes to one register share
//!   transactions, each answered on its own).
//!
//! Nothing here speaks HTTP or parses arguments; time is passed in or read once through
//! [`now`], in the whole seconds the store keeps.

#![deny(missing_docs)]

pub mod database;
pub mod identity;
pub mod import;
pub mod keys;
pub mod lockout;
pub mod mirrors;
pub mod plans;
pub mod publish;
pub mod views;
pub mod witness;
pub mod writer_tokens;
pub mod writes;

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Now, in the whole seconds the store keeps plan and sync times in.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
}

/// An interval as operators write one (`sync --every`): `30s`, `5m`, `1h`, or whole
/// seconds; at least one second.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, ""), |at| text.split_at(at));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration such as 30s, 5m or 1h"))?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => return Err(format!("'{text}': the unit must be s, m or h")),
    };
    if seconds == 0 {
        return Err("the interval must be at least one second".into());
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::parse_interval;
    use std::time::Duration;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_interval("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_interval("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_interval("45"), Ok(Duration::from_secs(45)));
        assert!(parse_interval("0s").is_err());
        assert!(parse_interval("5 minutes").is_err());
        assert!(parse_interval("m").is_err());
    }
}
