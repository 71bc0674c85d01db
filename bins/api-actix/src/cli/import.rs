//! `api-actix import`: a tabular snapshot becomes an RSF patch and is applied in one load,
//! through node-service's import.

use std::io::{BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use node_service::import::{self, ImportError};
use register_core::{Format, Timestamp};

use super::registers::{input, refused, Database};

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
        let store = self.database.open_signing(4)?;
        let file_name = self.file.to_string_lossy();
        let options = import::options(
            &file_name,
            self.format,
            self.timestamp,
            self.ignore.clone(),
            self.end_missing,
        )
        .context("the clock is out of range")?;
        let snapshot = BufReader::with_capacity(1 << 20, input(&self.file)?.0);
        let mut stdout = std::io::stdout().lock();
        let dry_run = self.dry_run.then_some(&mut stdout as &mut dyn Write);
        let outcome = import::import(&store, &self.name, options, snapshot, dry_run);
        match outcome {
            Ok(report) if self.dry_run => {
                eprintln!("{}", report.to_json());
                Ok(ExitCode::SUCCESS)
            }
            Ok(report) => {
                println!("{}", report.to_json());
                Ok(ExitCode::SUCCESS)
            }
            Err(ImportError::Refused(e)) => refused(e, true),
            Err(e) => refused(e, false),
        }
    }
}
