//! `api-actix key generate` and `api-actix publish`: the keys that sign checkpoints, and
//! the static copy of the read-and-verify path (checkpoints.md §2, §4).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{registers::Database, succeed_with};

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Print a new private key in the signed-note format (secret: store it as a file for
    /// --log-key-file or --cosigner-key-file); its verifier key goes to standard error
    Generate {
        /// A cosigner key (witness and mirror cosignatures) instead of a log key
        #[arg(long)]
        cosigner: bool,
        /// The key's name; informative only, as each use renames it (a log signs under its
        /// origin)
        #[arg(long)]
        name: Option<String>,
    },
}

impl KeyCommand {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let KeyCommand::Generate { cosigner, name } = self;
        let default = if cosigner { "cosigner" } else { "log" };
        let key = node_service::keys::generate(name.as_deref().unwrap_or(default), cosigner)?;
        println!("{}", key.to_private_string());
        eprintln!("verifier key: {}", key.verifier());
        Ok(ExitCode::SUCCESS)
    }
}

/// `api-actix publish`.
#[derive(Debug, Args)]
pub struct Publish {
    /// The directory to write `registers/…` under (created when missing).
    dir: PathBuf,
    /// Registers to publish, each with its index logs (default: every local register).
    registers: Vec<String>,
    #[command(flatten)]
    database: Database,
}

impl Publish {
    /// Writes what is new; one JSON line with the counts.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let store = self.database.open()?;
        let done = node_service::publish::publish(&store, &self.dir, &self.registers)?;
        succeed_with(&node_service::views::published(&done))
    }
}
