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
use node_service::plans::{self as review, respondent};
use node_service::views;
use plan_core::{Action, Plan, PlanId};
use store_diesel::plans::StoredPlan;
use store_diesel::store::Store;

use super::registers::Database;

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
                let list: Vec<_> = plans.iter().map(views::plan_summary).collect();
                println!("{}", serde_json::to_string(&list)?);
                Ok(ExitCode::SUCCESS)
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

/// The plan `uuid` of the local store.
fn stored_plan(store: &Store, uuid: &str) -> anyhow::Result<StoredPlan> {
    let id = uuid::Uuid::parse_str(uuid)
        .map(PlanId)
        .map_err(|_| anyhow::anyhow!("'{uuid}' is not a plan UUID"))?;
    store
        .plan(id)?
        .ok_or_else(|| anyhow::anyhow!("no plan {id}"))
}

fn show(store: &Store, uuid: &str, xml: bool) -> anyhow::Result<ExitCode> {
    let plan = stored_plan(store, uuid)?;
    if xml {
        print!(
            "{}",
            plan.record.document().map(Plan::to_xml).unwrap_or_default()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let body = serde_json::to_string(&views::plan_details(&plan))?;
    println!("{body}");
    Ok(ExitCode::SUCCESS)
}

impl Review {
    /// Applies `action` as this node, the respondent; prints the plan as stored.
    fn act(self, action: Action) -> anyhow::Result<ExitCode> {
        let store = self.database.open()?;
        let id = stored_plan(&store, &self.uuid)?.record.id();
        let saved = review::review(
            &store,
            id,
            action,
            |plan| Some(respondent(&plan.record)),
            self.message,
            node_service::now(),
        )?;
        println!("{}", serde_json::to_string(&views::plan_summary(&saved))?);
        Ok(ExitCode::SUCCESS)
    }
}

fn propose(
    store: &Store,
    uuid: &str,
    file: &Path,
    status_message: Option<String>,
) -> anyhow::Result<ExitCode> {
    let stored = stored_plan(store, uuid)?;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let plan = match Plan::from_xml(&text) {
        Ok(plan) => plan,
        Err(plan_core::Error::Invalid(diagnostics)) => {
            for diagnostic in diagnostics {
                eprintln!("{}:{diagnostic}", file.display());
            }
            anyhow::bail!("{} is not a valid plan document", file.display());
        }
        Err(e) => return Err(e.into()),
    };
    let actor = respondent(&stored.record);
    let saved = review::propose(
        store,
        stored,
        actor,
        plan,
        status_message,
        node_service::now(),
    )?;
    println!("{}", serde_json::to_string(&views::plan_summary(&saved))?);
    Ok(ExitCode::SUCCESS)
}

fn validate(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    // Fail early and clearly if the embedded schema is broken, rather than once per file.
    plan_core::plan_schema().context("the embedded plan schema does not compile")?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut problems = 0usize;
    for file in files {
        let shown = file.display();
        let diagnostics = match std::fs::read(file) {
            Err(e) => vec![format!("0:0: /: cannot read the file: {e}")],
            Ok(bytes) => match String::from_utf8(bytes) {
                Err(e) => {
                    vec![format!(
                        "1:1: /: the document is not UTF-8 (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    )]
                }
                Ok(text) => plan_core::validate_plan(&text)
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            },
        };
        problems += diagnostics.len();
        for line in diagnostics {
            writeln!(out, "{shown}:{line}")?;
        }
    }
    out.flush()?;
    Ok(if problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
