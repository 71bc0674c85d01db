//! Opening the store a database URL names: a SQLite file's folder is created when missing,
//! and no error shows the URL's password. And what `serve` does to a store before serving.

use std::path::Path;

use register_core::Mode;
use store_diesel::error::StoreError;
use store_diesel::store::{LoadReport, Store};

/// The demo register a new default database gets: `country`, 208 entries.
pub const DEMO_COUNTRY: &[u8] = include_bytes!("../../register-core/tests/data/country-data.rsf");

/// What replaces a password in a URL shown to people.
pub const REDACTED: &str = "<redacted>";

/// Why the store cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The folder of a SQLite file cannot be created.
    #[error("cannot create {path}: {reason}")]
    Folder {
        /// The folder.
        path: String,
        /// Why.
        reason: String,
    },
    /// The database cannot be opened or migrated.
    #[error("cannot open the database at {url}: {source}")]
    Store {
        /// The URL, its password redacted.
        url: String,
        /// Why.
        #[source]
        source: StoreError,
    },
}

/// Opens (creating and migrating) the store at `url` with a pool of `pool_size`
/// connections: `postgres://…`, else a SQLite file path (optionally `sqlite://…`).
pub fn open(url: &str, pool_size: u32) -> Result<Store, OpenError> {
    if !url.starts_with("postgres") {
        let path = url.trim_start_matches("sqlite://");
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|e| OpenError::Folder {
                path: parent.display().to_string(),
                reason: e.to_string(),
            })?;
        }
    }
    Store::open_with_pool_size(url, pool_size).map_err(|source| OpenError::Store {
        url: redact_url(url),
        source,
    })
}

/// Sets the node origin to `origin` (the configuration's, if any) when the database holds
/// another; before anything signs under it.
pub fn apply_origin(store: &Store, origin: Option<&str>) -> Result<(), StoreError> {
    if let Some(origin) = origin {
        if store.origin()? != origin {
            store.set_origin(origin)?;
            tracing::info!(%origin, "node origin set from the configuration");
        }
    }
    Ok(())
}

/// Loads [`DEMO_COUNTRY`] as `country` into the new database `url`.
pub fn load_demo(store: &Store, url: &str) -> Result<LoadReport, StoreError> {
    let report = store.load_rsf("country", DEMO_COUNTRY, Mode::Strict)?;
    tracing::info!(
        entries = report.total_entries,
        "new database {url}: loaded the demo register 'country'"
    );
    Ok(report)
}

/// Signs a checkpoint for every log that has none at its size (a store that loaded without
/// keys catches up), and says how many.
pub fn sign_missing(store: &Store) -> Result<usize, StoreError> {
    let signed = store.sign_missing_checkpoints()?;
    tracing::info!(
        signed,
        "checkpoints signed where a log had none at its size"
    );
    Ok(signed)
}

/// `url` with its password (`user:password@`, `password=` in the query) replaced.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let authority_start = scheme_end + 3;
        let authority_end = out[authority_start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| authority_start + i);
        if let Some(at) = out[authority_start..authority_end].rfind('@') {
            let userinfo = &out[authority_start..authority_start + at];
            if let Some(colon) = userinfo.find(':') {
                let from = authority_start + colon + 1;
                out.replace_range(from..authority_start + at, REDACTED);
            }
        }
    }
    if let Some(query_start) = out.find('?') {
        let (head, query) = out.split_at(query_start + 1);
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if name.eq_ignore_ascii_case("password") => {
                    format!("{name}={REDACTED}")
                }
                _ => pair.to_string(),
            })
            .collect();
        out = format!("{head}{}", query.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_leave_urls() {
        for (url, expected) in [
            (
                "postgres://app:s3cr%40t@db.example.org:5432/registers",
                "postgres://app:<redacted>@db.example.org:5432/registers",
            ),
            (
                "postgres://app@db/registers?password=s3cret&sslmode=require",
                "postgres://app@db/registers?password=<redacted>&sslmode=require",
            ),
            ("postgres://db/registers", "postgres://db/registers"),
            ("data/registers.sqlite", "data/registers.sqlite"),
            // An '@' in the path is not a password's end.
            ("postgres://db/a@b", "postgres://db/a@b"),
        ] {
            assert_eq!(redact_url(url), expected, "{url}");
        }
    }
}
