//! `api-actix import`: a tabular snapshot becomes an RSF patch and is applied in one load,
//! through node-service's import.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use node_service::import::{self, ImportError};
use register_core::{Format, ImportOptions, Timestamp};

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
        let store = self.database.open_signing(4)?;
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
        let outcome =
            import::stage(&store, &self.name, options, self.input()?).and_then(|mut staged| {
                let mut report = import::Report::staged(&self.name, staged.summary.clone());
                if self.dry_run {
                    let stdout = std::io::stdout();
                    let mut out = stdout.lock();
                    std::io::copy(&mut staged.patch, &mut out)?;
                    out.flush()?;
                    eprintln!("{}", report.to_json());
                    return Ok(());
                }
                let loaded = import::apply(&store, &self.name, staged)?;
                report.applied(&loaded);
                println!("{}", report.to_json());
                Ok(())
            });
        match outcome {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(ImportError::Refused(e)) => {
                eprintln!("{e}");
                Ok(ExitCode::FAILURE)
            }
            Err(e) => {
                eprintln!("error: {e}");
                Ok(ExitCode::FAILURE)
            }
        }
    }

    fn input(&self) -> anyhow::Result<Box<dyn BufRead>> {
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
