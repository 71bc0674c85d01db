//! Snapshot imports against a stored register: register-core's [`Importer`] fed from the
//! store, its patch staged in a temporary file, then applied as one strict load.
//!
//! The patch asserts the root its records came from, so a load that lands between staging
//! and applying makes the import fail instead of applying a diff against records that are
//! gone; a bad row stops staging and nothing is applied.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, Write};

use register_core::{Format, ImportOptions, ImportSummary, Importer, Item, Mode, Timestamp};
use store_diesel::error::StoreError;
use store_diesel::store::{LoadReport, Store};

/// Why an import stopped; nothing was applied.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The snapshot or the patch was refused: a row, line and column say where.
    #[error(transparent)]
    Refused(register_core::Error),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
    /// The temporary file of the patch failed.
    #[error("the staged patch: {0}")]
    Staging(#[from] std::io::Error),
}

impl From<register_core::Error> for ImportError {
    fn from(e: register_core::Error) -> ImportError {
        ImportError::Refused(e)
    }
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> ImportError {
        match e {
            StoreError::Register(e) => ImportError::Refused(e),
            other => ImportError::Store(other),
        }
    }
}

/// A patch computed and staged, not applied.
#[derive(Debug)]
pub struct Staged {
    /// What the snapshot changes.
    pub summary: ImportSummary,
    /// The RSF patch, positioned at its start.
    pub patch: File,
}

/// Computes the patch of `snapshot` against the register `name` (its metadata and current
/// records, read from `store`) and stages it in a temporary file: memory never grows with
/// the snapshot, and a bad row leaves nothing half-written anywhere.
pub fn stage(
    store: &Store,
    name: &str,
    options: ImportOptions,
    snapshot: impl BufRead,
) -> Result<Staged, ImportError> {
    let mut importer = Importer::new(&store.metadata(name)?, options)?;
    let root = store.for_each_record(name, |key, hashes| importer.add_record(key, hashes))?;
    importer.set_base_root(root);
    let mut staged = BufWriter::new(tempfile::tempfile()?);
    let summary = importer.import(snapshot, &mut staged, |key| {
        let record = store
            .record(name, key)
            .map_err(|e| register_core::Error::State(std::sync::Arc::new(e)))?;
        record
            .map(|r| r.items)
            .unwrap_or_default()
            .iter()
            .map(|(_, json)| Item::parse(json))
            .collect()
    })?;
    let mut patch = staged.into_inner().map_err(|e| e.into_error())?;
    patch.seek(std::io::SeekFrom::Start(0))?;
    Ok(Staged { summary, patch })
}

/// Applies a staged patch to the register `name` in one strict load.
pub fn apply(store: &Store, name: &str, staged: Staged) -> Result<LoadReport, ImportError> {
    Ok(store.load_rsf(
        name,
        BufReader::with_capacity(1 << 20, staged.patch),
        Mode::Strict,
    )?)
}

/// An import's options as operators give them: the format taken from the snapshot's file
/// name and the entries timestamped now, unless given. `None` when the clock is out of range.
pub fn options(
    file_name: &str,
    format: Option<Format>,
    timestamp: Option<Timestamp>,
    ignore: Vec<String>,
    end_missing: bool,
) -> Option<ImportOptions> {
    let timestamp = match timestamp {
        Some(timestamp) => timestamp,
        None => Timestamp::from_unix_seconds(chrono::Utc::now().timestamp())?,
    };
    Some(ImportOptions {
        format: format.unwrap_or_else(|| Format::from_file_name(file_name)),
        timestamp,
        ignore,
        end_missing,
        base_root: None,
    })
}

/// A whole import: [`stage`], then the patch copied to `dry_run` (nothing applied) or
/// [`apply`]; the report says which.
pub fn import(
    store: &Store,
    name: &str,
    options: ImportOptions,
    snapshot: impl BufRead,
    dry_run: Option<&mut dyn Write>,
) -> Result<Report, ImportError> {
    let mut staged = stage(store, name, options, snapshot)?;
    let mut report = Report::staged(name, staged.summary.clone());
    match dry_run {
        Some(out) => {
            std::io::copy(&mut staged.patch, out)?;
            out.flush()?;
        }
        None => report.applied(&apply(store, name, staged)?),
    }
    Ok(report)
}

/// The JSON line an import prints: what was applied (absent on a dry run), then the summary
/// with the possibly long list of missing keys last.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Report {
    register: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_entries_added: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_entries: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    root_hash: Option<String>,
    #[serde(flatten)]
    summary: ImportSummary,
}

impl Report {
    /// The report of a staged patch of the register `name`.
    pub fn staged(name: &str, summary: ImportSummary) -> Report {
        Report {
            register: name.to_string(),
            user_entries_added: None,
            total_entries: None,
            root_hash: None,
            summary,
        }
    }

    /// Adds what applying the patch did.
    pub fn applied(&mut self, loaded: &LoadReport) {
        self.user_entries_added = Some(loaded.summary.user_entries);
        self.total_entries = Some(loaded.total_entries);
        self.root_hash = Some(loaded.root.to_string());
    }

    /// The report as one JSON line.
    pub fn to_json(&self) -> String {
        // Strings and numbers only: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}
