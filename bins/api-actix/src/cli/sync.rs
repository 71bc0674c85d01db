//! `api-actix sync pull|push|status`: keep mirrors of a partner's register slices (sync.md),
//! with register-sync's algorithm over this node's store and the HTTP client.

use std::process::ExitCode;
use std::time::Duration;

use api_client::Client;
use clap::{Args, Subcommand};
use node_service::mirrors::{keep_evidence, transfer, Direction};
use node_service::views;
use plan_core::PlanId;
use register_sync::{Chunking, DEFAULT_CHUNK_ENTRIES, DEFAULT_MAX_DELTA_BYTES};
use store_diesel::store::Store;

use super::print_json;
use super::registers::{password_from_stdin, Database};

#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Pull every subscribed slice of an Approved plan into its local mirror.
    ///
    /// Verifies the primary's signed checkpoint with the key the plan pins and moves the
    /// mirror exactly to it. Prints one JSON line per slice. Exit codes: 0 in sync, 1 error
    /// (a checkpoint another key signed included), 2 divergence (the primary's history
    /// differs from what was received earlier; the mirror is unchanged; a split view also
    /// writes an evidence file).
    Pull(Transfer),
    /// Push every subscribed slice of an Approved plan (this node is its primary) to the
    /// secondary's mirrors. Same output and exit codes as `pull`.
    Push(Transfer),
    /// Show each subscription: mirror, size, root, the last checkpoint held, pinned keys, last
    /// success and last error (JSON lines).
    Status {
        #[command(flatten)]
        database: Database,
    },
}

/// What `pull` and `push` need.
#[derive(Debug, Args)]
pub struct Transfer {
    /// The partner's server, e.g. `https://registers.partner.example`.
    #[arg(long)]
    remote: String,
    /// The account on the partner's server.
    #[arg(long)]
    username: String,
    /// Read the password from standard input (first line).
    #[arg(long, required = true)]
    password_stdin: bool,
    /// The Approved plan.
    #[arg(long)]
    plan: uuid::Uuid,
    /// Run again after this long, forever (`30s`, `5m`, `1h`); errors are reported and the
    /// next run retries.
    #[arg(long, value_parser = node_service::parse_interval)]
    every: Option<Duration>,
    /// Entries per request and per transaction.
    #[arg(long, default_value_t = DEFAULT_CHUNK_ENTRIES)]
    chunk_entries: u64,
    /// The most bytes of one delta a pull reads (and holds in memory); a longer delta is
    /// asked again with half the entries, and one entry over it fails the slice.
    #[arg(long, default_value_t = DEFAULT_MAX_DELTA_BYTES, value_name = "BYTES")]
    max_delta_bytes: u64,
    /// Where a split view's evidence file is written (exit 2).
    #[arg(long, value_name = "DIR", default_value = ".")]
    evidence_dir: std::path::PathBuf,
    #[command(flatten)]
    database: Database,
}

impl SyncCommand {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            SyncCommand::Pull(transfer) => transfer.run(Direction::Pull),
            SyncCommand::Push(transfer) => transfer.run(Direction::Push),
            SyncCommand::Status { database } => status(&database.open()?),
        }
    }
}

impl Transfer {
    fn run(self, direction: Direction) -> anyhow::Result<ExitCode> {
        let password = password_from_stdin()?;
        let store = self.database.open_signing(4)?;
        let mut remote = Client::new(&self.remote, &self.username, &password);
        loop {
            let outcome = transfer(
                &store,
                &mut remote,
                direction,
                PlanId(self.plan),
                Chunking {
                    entries: self.chunk_entries,
                    max_delta_bytes: self.max_delta_bytes,
                },
            );
            let code = match outcome {
                Ok(reports) => {
                    reports.iter().try_for_each(print_json)?;
                    0
                }
                Err(e) => {
                    eprintln!("{e}");
                    if let Some(path) = keep_evidence(&self.evidence_dir, &e)? {
                        eprintln!("evidence written to {}", path.display());
                    }
                    e.exit_code()
                }
            };
            match self.every {
                Some(every) => std::thread::sleep(every),
                None => return Ok(ExitCode::from(code)),
            }
        }
    }
}

fn status(store: &Store) -> anyhow::Result<ExitCode> {
    views::subscriptions(store)?
        .iter()
        .try_for_each(print_json)?;
    Ok(ExitCode::SUCCESS)
}
