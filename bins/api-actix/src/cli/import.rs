//! `api-actix import`: a tabular snapshot becomes an RSF patch (register-core's importer),
//! applied through the store's atomic load.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use register_core::{Format, ImportOptions, ImportSummary, Importer, Item, Mode, Timestamp};
use store_diesel::error::StoreError;

use super::registers::Database;

/// `api-actix import`.
#[derive(Debug, Args)]
pub struct Import {
    /// Register name (the register must exist).
    name: String,
    /// Snapshot file (CSV or TSV with a header row, or JSON Lines), or `-` for standard input.
    file: PathBuf,
    /// `csv`, `tsv` or `jsonl` (default: from the file's extension, else csv).
    #[arg(long)]
    format: Option<Format>,
    /// Timestamp of the new entries, `YYYY-MM-DDThh:mm:ssZ` (default: now).
    #[arg(long)]
    timestamp: Option<Timestamp>,
    /// Columns to leave out (repeat, or separate with commas).
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Give records absent from the snapshot an entry setting `end-date` to the snapshot date.
    #[arg(long)]
    end_missing: bool,
    /// Print the RSF patch to stdout and the summary to stderr; change nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    database: Database,
}

impl Import {
    /// Imports atomically; one JSON line on success, the first problem and exit 1 on error
    /// (the register unchanged).
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let store = self.database.open()?;
        match self.import(&store) {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(Failure::Refused(e)) => {
                eprintln!("{e}");
                Ok(ExitCode::FAILURE)
            }
            Err(Failure::Store(e)) => {
                eprintln!("error: {e}");
                Ok(ExitCode::FAILURE)
            }
            Err(Failure::Other(e)) => Err(e),
        }
    }

    fn import(&self, store: &store_diesel::store::Store) -> Result<(), Failure> {
        let timestamp = match self.timestamp {
            Some(timestamp) => timestamp,
            None => Timestamp::from_unix_seconds(chrono::Utc::now().timestamp())
                .context("the clock is out of range")?,
        };
        let format = self
            .format
            .unwrap_or_else(|| Format::from_file_name(&self.file.to_string_lossy()));
        let options = ImportOptions {
            format,
            timestamp,
            ignore: self.ignore.clone(),
            end_missing: self.end_missing,
            base_root: None,
        };
        let mut importer = Importer::new(&store.metadata(&self.name)?, options)?;
        let root =
            store.for_each_record(&self.name, |key, hashes| importer.add_record(key, hashes))?;
        // The patch asserts the root its records came from: a load in between makes it fail
        // instead of applying a diff against records that are gone.
        importer.set_base_root(root);

        // A temporary file holds the patch: it never grows memory with the snapshot, and a bad
        // row further down leaves nothing half-written anywhere.
        let mut staged = BufWriter::new(
            tempfile::tempfile().context("cannot create a temporary file for the patch")?,
        );
        let summary = importer.import(self.input()?, &mut staged, |key| {
            let record = store
                .record(&self.name, key)
                .map_err(|e| register_core::Error::State(std::sync::Arc::new(e)))?;
            record
                .map(|r| r.items)
                .unwrap_or_default()
                .iter()
                .map(|(_, json)| Item::parse(json))
                .collect()
        })?;
        let mut staged = staged
            .into_inner()
            .map_err(|e| anyhow::Error::from(e.into_error()))?;
        staged
            .seek(std::io::SeekFrom::Start(0))
            .context("cannot read the patch back")?;

        let mut report = Report {
            register: &self.name,
            user_entries_added: None,
            total_entries: None,
            root_hash: None,
            summary: &summary,
        };
        if self.dry_run {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            std::io::copy(&mut staged, &mut out).context("cannot write the patch")?;
            out.flush().context("cannot write the patch")?;
            eprintln!("{}", report.to_json()?);
            return Ok(());
        }
        let loaded = store.load_rsf(
            &self.name,
            BufReader::with_capacity(1 << 20, staged),
            Mode::Strict,
        )?;
        report.user_entries_added = Some(loaded.summary.user_entries);
        report.total_entries = Some(loaded.total_entries);
        report.root_hash = Some(loaded.root.to_string());
        println!("{}", report.to_json()?);
        Ok(())
    }

    fn input(&self) -> Result<Box<dyn BufRead>, Failure> {
        let input: Box<dyn Read> = if self.file == Path::new("-") {
            Box::new(std::io::stdin())
        } else {
            Box::new(
                File::open(&self.file)
                    .with_context(|| format!("cannot open {}", self.file.display()))?,
            )
        };
        Ok(Box::new(BufReader::with_capacity(1 << 20, input)))
    }
}

/// The JSON line an import prints: what was applied (absent on a dry run), then the summary
/// with the possibly long list of missing keys last.
#[derive(serde::Serialize)]
#[serde(rename_all = "kebab-case")]
struct Report<'a> {
    register: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_entries_added: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_entries: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    root_hash: Option<String>,
    #[serde(flatten)]
    summary: &'a ImportSummary,
}

impl Report<'_> {
    fn to_json(&self) -> anyhow::Result<String> {
        serde_json::to_string(self).context("cannot write the summary")
    }
}

/// Why an import stopped: the input was refused, the store failed, or something else.
enum Failure {
    Refused(register_core::Error),
    Store(StoreError),
    Other(anyhow::Error),
}

impl From<register_core::Error> for Failure {
    fn from(e: register_core::Error) -> Failure {
        Failure::Refused(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        match e {
            StoreError::Register(e) => Failure::Refused(e),
            other => Failure::Store(other),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure::Other(e)
    }
}
