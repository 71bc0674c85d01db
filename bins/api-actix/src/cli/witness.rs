//! `api-actix witness …`: the logs this node witnesses, and the witnesses it submits its
//! own checkpoints to (checkpoints.md §5); node-service does the work.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use node_service::witness as w;
use serde_json::{to_value as json, Value};

use super::registers::Database;

/// `api-actix witness`.
#[derive(Debug, Args)]
pub struct Witness {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    database: Database,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Witness a log: its origin and the verifier key of its checkpoints
    Add { origin: String, key: String },
    /// Stop witnessing a log (its evidence is kept)
    Remove { origin: String },
    /// Submit this node's checkpoints to a witness: its URL prefix and cosigner verifier key
    Use { url: String, key: String },
    /// Stop submitting to a witness
    Drop { url: String },
    /// Logs witnessed here; per witness used and log: size cosigned, last success and error
    List,
    /// Submit every pending checkpoint to the witnesses now (`serve` does it in the background)
    Submit,
}

impl Witness {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let store = self.database.open()?;
        let lines: Vec<Value> = match self.action {
            Action::Add { origin, key } => vec![json(w::add(&store, &origin, &key)?)?],
            Action::Remove { origin } => vec![json(w::remove(&store, &origin)?)?],
            Action::Use { url, key } => vec![json(w::use_witness(&store, &url, &key)?)?],
            Action::Drop { url } => vec![json(w::drop_witness(&store, &url)?)?],
            Action::List => w::list(&store)?,
            Action::Submit => json(w::submit(
                &store,
                &api_client::WitnessClient::new(w::TIMEOUT),
            )?)
            .map(|v| v.as_array().cloned().unwrap_or_default())?,
        };
        lines.iter().for_each(|line| println!("{line}"));
        Ok(ExitCode::SUCCESS)
    }
}
