//! `api-actix plan ...`: plan documents, and the plans partners invoked on this server, on
//! which this node is the respondent (plans.md §2–§3).
//!
//! The commands act on the local store through node-service, as the admin API does: the
//! actor is [`node_service::plans::respondent`], and plan-core's lifecycle decides what is
//! allowed. A refused action prints plan-core's error, exits 1 and changes nothing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use node_service::plans::{self as review, respondent, PlanFileError};
use node_service::views;
use plan_core::Action;
use store_diesel::store::Store;

use super::{registers::Database, succeed_with};

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// List every plan partners invoked here, newest first (one JSON array)
    List {
        #[command(flatten)]
        database: Database,
    },
    /// Show a plan: status, message, history and its document
    Show {
        /// Plan UUID
        uuid: String,
        /// Print only the document's XML (nothing when it has none yet)
        #[arg(long)]
        xml: bool,
        #[command(flatten)]
        database: Database,
    },
    /// Propose a plan a primary invoked here, completed by this node as the secondary.
    ///
    /// FILE is the complete plan XML: the invoked Primary part unchanged, with this node's
    /// Secondary part and the Communal subscriptions. It is validated like `plan validate`.
    Propose {
        /// Plan UUID
        uuid: String,
        /// The complete plan XML
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Status message recorded with the proposal
        #[arg(long)]
        message: Option<String>,
        #[command(flatten)]
        database: Database,
    },
    /// Approve a Proposed plan, or re-activate an On Hold one (as the respondent)
    Approve(Review),
    /// Reject a Proposed or On Hold plan (as the respondent; final)
    Reject(Review),
    /// Put a Proposed or Approved plan On Hold (as the respondent)
    Hold(Review),
    /// Validate plan documents against the plan XSD and the plan rules.
    ///
    /// Prints one line per problem to stdout, `FILE:LINE:COL: PATH: message`, and exits 1
    /// if any file has a problem, 0 if all are valid. Other checks rely on this contract.
    Validate {
        /// Plan XML files
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

/// The respondent's action on one plan.
#[derive(Debug, Args)]
pub struct Review {
    /// Plan UUID
    #[arg(value_name = "UUID")]
    uuid: String,
    /// Status message recorded with the action
    #[arg(long)]
    message: Option<String>,
    #[command(flatten)]
    database: Database,
}

impl PlanCommand {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            PlanCommand::Validate { files } => validate(&files),
            PlanCommand::List { database } => {
                let plans = database.open()?.plans()?;
                succeed_with(&plans.iter().map(views::plan_summary).collect::<Vec<_>>())
            }
            PlanCommand::Show {
                uuid,
                xml,
                database,
            } => show(&database.open()?, &uuid, xml),
            PlanCommand::Propose {
                uuid,
                file,
                message,
                database,
            } => propose(&database.open()?, &uuid, &file, message),
            PlanCommand::Approve(review) => review.act(Action::Approve),
            PlanCommand::Reject(review) => review.act(Action::Reject),
            PlanCommand::Hold(review) => review.act(Action::Hold),
        }
    }
}

fn show(store: &Store, uuid: &str, xml: bool) -> anyhow::Result<ExitCode> {
    let plan = review::stored(store, uuid)?;
    if xml {
        print!("{}", views::plan_xml(&plan));
        return Ok(ExitCode::SUCCESS);
    }
    succeed_with(&views::plan_details(&plan))
}

impl Review {
    /// Applies `action` as this node, the respondent; prints the plan as stored.
    fn act(self, action: Action) -> anyhow::Result<ExitCode> {
        let store = self.database.open()?;
        let at = node_service::now();
        let saved = review::respond(&store, &self.uuid, action, self.message, at)?;
        succeed_with(&views::plan_summary(&saved))
    }
}

fn propose(
    store: &Store,
    uuid: &str,
    file: &Path,
    status_message: Option<String>,
) -> anyhow::Result<ExitCode> {
    let stored = review::stored(store, uuid)?;
    let plan = review::read_plan(file).inspect_err(|e| {
        if let PlanFileError::Invalid { path, diagnostics } = e {
            diagnostics.iter().for_each(|d| eprintln!("{path}:{d}"));
        }
    })?;
    let actor = respondent(&stored.record);
    let saved = review::propose(
        store,
        stored,
        actor,
        plan,
        status_message,
        node_service::now(),
    )?;
    succeed_with(&views::plan_summary(&saved))
}

fn validate(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    // Fail early and clearly if the embedded schema is broken, rather than once per file.
    let problems =
        review::validate_files(files).context("the embedded plan schema does not compile")?;
    let mut out = std::io::stdout().lock();
    for line in &problems {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
