//! `api-actix remote plan request|show`: the initiator's side of plan negotiation, so that a
//! partner never writes plan XML by hand (plans.md §3, "initiator is the secondary").
//!
//! `request` logs in to the partner's server, invokes a plan, completes the stub as this node
//! ([`node_service::identity::subscribe`]: the Secondary part and one subscription per
//! requested slice), proposes it, and records each subscription in the local store so that a
//! later sync knows where to mirror it from. The HTTP client is `api-client`'s: a command
//! makes a handful of blocking requests in sequence.
//!
//! A remote's refusal is shown as it was given: the HTTP status, the envelope's
//! `message_text`, and every entry of `schema_errors`.

use std::process::ExitCode;

use anyhow::Context;
use api_client::Client;
use clap::{Args, Subcommand};
use node_service::views;
use uuid::Uuid;

use super::registers::{password_from_stdin, Database};
use super::succeed_with;

#[derive(Debug, Subcommand)]
pub enum RemoteCommand {
    /// Plans on a partner's server, as the initiator
    #[command(subcommand)]
    Plan(RemotePlanCommand),
}

impl RemoteCommand {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            RemoteCommand::Plan(RemotePlanCommand::Request(command)) => command.run(),
            RemoteCommand::Plan(RemotePlanCommand::Show(command)) => command.run(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum RemotePlanCommand {
    /// Ask a partner's server for a plan to receive its registers (this node is the secondary).
    ///
    /// Invokes a plan, subscribes to the slices asked for, proposes the completed plan and
    /// records the subscriptions locally. Prints the plan UUID; the partner's operators then
    /// approve or reject it (see `remote plan show`).
    Request(Request),
    /// Show the status of a plan on a partner's server
    Show(Show),
}

/// Where and as whom to log in.
#[derive(Debug, Args)]
struct Login {
    /// The partner's server (base URL, e.g. `https://registers.example.org`)
    #[arg(long, value_name = "URL")]
    remote: String,
    /// The account the partner's operators created for this node
    #[arg(long)]
    username: String,
    /// Read the password from standard input (first line)
    #[arg(long, required = true)]
    password_stdin: bool,
}

/// `api-actix remote plan request`.
#[derive(Debug, Args)]
pub struct Request {
    #[command(flatten)]
    login: Login,
    /// Subscribe to the slice that carries this register (repeatable)
    #[arg(
        long = "register",
        value_name = "NAME",
        required_unless_present = "slices"
    )]
    registers: Vec<String>,
    /// Subscribe to this slice of the partner's stub (repeatable)
    #[arg(long = "slice", value_name = "UUID")]
    slices: Vec<Uuid>,
    #[command(flatten)]
    database: Database,
}

/// `api-actix remote plan show`.
#[derive(Debug, Args)]
pub struct Show {
    /// Plan UUID
    uuid: Uuid,
    #[command(flatten)]
    login: Login,
}

impl Login {
    /// Logs in with the password on standard input: a limited (plans only) token.
    fn session(&self) -> anyhow::Result<Client> {
        let password = password_from_stdin()?;
        let mut remote = Client::new(&self.remote, &self.username, &password);
        remote.login(None)?;
        Ok(remote)
    }
}

impl Request {
    fn run(self) -> anyhow::Result<ExitCode> {
        // The local side first: a broken database should fail before the remote has a plan.
        let store = self.database.open()?;
        let node = store.node().context("reading this node's identity")?;
        let session = self.login.session()?;
        let remote = session.base().to_string();
        let invoked = session.invoke()?;
        if invoked.document.is_none() {
            anyhow::bail!(
                "{remote} offers no registers: plan {} has no Primary part to subscribe to",
                invoked.plan_uuid
            );
        }
        let stub = session.document(&invoked)?;
        let plan_id = stub
            .uuid
            .ok_or_else(|| anyhow::anyhow!("{remote} sent a stub without a plan uuid"))?;
        let (plan, wanted) = node_service::identity::subscribe(
            stub,
            &node,
            store.keys(),
            &remote,
            &self.registers,
            &self.slices,
        )
        .with_context(|| format!("plan {plan_id} stays Invoked at {remote}"))?;
        let proposed = session.propose(&plan)?;
        let at = (remote.as_str(), proposed.status.as_str());
        node_service::identity::record_subscriptions(&store, plan_id, &plan, at, &wanted)?;
        succeed_with(&views::plan_requested(proposed, remote, &wanted))
    }
}

impl Show {
    fn run(self) -> anyhow::Result<ExitCode> {
        let session = self.login.session()?;
        let plan = session.plan(self.uuid)?;
        succeed_with(&views::remote_plan(plan))
    }
}
