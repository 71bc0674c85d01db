//! `api-actix remote plan request|show`: the initiator's side of plan negotiation, so that a
//! partner never writes plan XML by hand (plans.md §3, "initiator is the secondary").
//!
//! `request` logs in to the partner's server, invokes a plan, fills the stub's Secondary
//! part from this node's identity ([`api_actix::node::secondary`]) and its Communal part with
//! one subscription per requested slice, proposes it, and records each subscription in the
//! local store so that a later sync knows where to mirror it from. The HTTP client is sync's
//! [`Remote`]: a command makes a handful of blocking requests in sequence.
//!
//! A remote's refusal is shown as it was given: the HTTP status, the envelope's
//! `message_text`, and every entry of `schema_errors`.

use std::process::ExitCode;

use anyhow::Context;
use api_actix::sync::Remote;
use base64::Engine as _;
use clap::{Args, Subcommand};
use plan_core::{Plan, Subscription};
use serde::Deserialize;
use uuid::Uuid;

use super::registers::{password_from_stdin, Database};

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

/// Every plan response of the remote (`GET /v1/plans/{uuid}`).
#[derive(Debug, Deserialize)]
struct PlanReply {
    plan_uuid: String,
    status: String,
    status_message: Option<String>,
    status_on: Option<String>,
    primary_approved_on: Option<String>,
    secondary_approved_on: Option<String>,
    document: Option<String>,
}

impl PlanReply {
    /// The document, decoded and validated.
    fn plan(&self, remote: &str) -> anyhow::Result<Plan> {
        let encoded = self.document.as_deref().ok_or_else(|| {
            anyhow::anyhow!(
                "{remote} offers no registers: plan {} has no Primary part to subscribe to",
                self.plan_uuid
            )
        })?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .with_context(|| format!("{remote} sent a document that is not base64"))?;
        let text = String::from_utf8(bytes)
            .with_context(|| format!("{remote} sent a document that is not UTF-8"))?;
        Plan::from_xml(&text)
            .with_context(|| format!("{remote} sent plan {} with a document", self.plan_uuid))
    }
}

impl Login {
    /// Logs in with the password on standard input: a limited (plans only) token.
    fn session(&self) -> anyhow::Result<Remote> {
        let password = password_from_stdin()?;
        let mut remote = Remote::new(&self.remote, &self.username, &password);
        remote.login(None)?;
        Ok(remote)
    }
}

/// A plan answer of `remote`.
fn plan_reply(remote: &Remote, value: serde_json::Value) -> anyhow::Result<PlanReply> {
    serde_json::from_value(value)
        .with_context(|| format!("{} did not answer with a plan", remote.base()))
}

/// A slice subscribed to, and the local register that will mirror it.
struct Wanted {
    slice: Uuid,
    register: String,
}

/// The stub's slices for `--register` and `--slice`, each once, in the order given.
fn wanted_slices(
    stub: &Plan,
    remote: &str,
    registers: &[String],
    slices: &[Uuid],
) -> anyhow::Result<Vec<Wanted>> {
    let offered: Vec<_> = stub
        .register_slices()
        .into_iter()
        .filter(|s| s.index.is_none())
        .collect();
    let mut wanted: Vec<Wanted> = Vec::new();
    for name in registers {
        let slice = offered
            .iter()
            .find(|s| &s.register == name)
            .ok_or_else(|| {
                let names: Vec<&str> = offered.iter().map(|s| s.register.as_str()).collect();
                anyhow::anyhow!(
                    "{remote} does not offer register '{name}'; it offers: {}",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                )
            })?;
        wanted.push(Wanted {
            slice: slice.slice_uuid,
            register: slice.register.clone(),
        });
    }
    for uuid in slices {
        let slice = stub
            .slice(*uuid)
            .ok_or_else(|| anyhow::anyhow!("{remote} offers no slice {uuid}"))?;
        let register = slice
            .register()
            .filter(|r| r.index.is_none())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "slice {uuid} of {remote} is a '{}' slice, not a register",
                    slice.slice_type
                )
            })?;
        wanted.push(Wanted {
            slice: *uuid,
            register: register.register,
        });
    }
    let mut seen = std::collections::HashSet::new();
    wanted.retain(|w| seen.insert(w.slice));
    Ok(wanted)
}

impl Request {
    fn run(self) -> anyhow::Result<ExitCode> {
        // The local side first: a broken database should fail before the remote has a plan.
        let store = self.database.open()?;
        let node = store.node().context("reading this node's identity")?;
        let session = self.login.session()?;
        let remote = session.base().to_string();
        let invoked = plan_reply(&session, session.get_json("/v1/plans/invoke")?)?;
        let stub = invoked.plan(&remote)?;
        let plan_id = stub
            .uuid
            .ok_or_else(|| anyhow::anyhow!("{remote} sent a stub without a plan uuid"))?;
        let wanted = wanted_slices(&stub, &remote, &self.registers, &self.slices)
            .with_context(|| format!("plan {plan_id} stays Invoked at {remote}"))?;
        let subscriptions: Vec<Subscription> = wanted
            .iter()
            .map(|w| Subscription {
                uuid: Uuid::new_v4(),
                slice_uuid: Some(w.slice),
                delivery_profiles: Vec::new(),
            })
            .collect();
        let plan = stub.complete(api_actix::node::secondary(&node), subscriptions.clone())?;
        let document = base64::engine::general_purpose::STANDARD.encode(plan.to_xml());
        let proposed = plan_reply(
            &session,
            session.post_json(
                "/v1/proposals/new",
                &serde_json::json!({ "document": document }),
            )?,
        )?;
        for w in &wanted {
            store
                .upsert_subscription(plan_id, w.slice, &remote, &w.register)
                .with_context(|| {
                    format!(
                        "plan {plan_id} is {} at {remote}, but its subscription to slice {} \
                         could not be recorded here",
                        proposed.status, w.slice
                    )
                })?;
        }
        let listed: Vec<serde_json::Value> = subscriptions
            .iter()
            .zip(&wanted)
            .map(|(s, w)| {
                serde_json::json!({
                    "subscription_uuid": s.uuid.to_string(),
                    "slice_uuid": w.slice.to_string(),
                    "register": w.register,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "plan_uuid": proposed.plan_uuid,
                "status": proposed.status,
                "remote": remote,
                "subscriptions": listed,
            })
        );
        Ok(ExitCode::SUCCESS)
    }
}

impl Show {
    fn run(self) -> anyhow::Result<ExitCode> {
        let session = self.login.session()?;
        let reply = session.get_json(&format!("/v1/plans/{}", self.uuid))?;
        let plan = plan_reply(&session, reply)?;
        println!(
            "{}",
            serde_json::json!({
                "plan_uuid": plan.plan_uuid,
                "status": plan.status,
                "status_message": plan.status_message,
                "status_on": plan.status_on,
                "primary_approved_on": plan.primary_approved_on,
                "secondary_approved_on": plan.secondary_approved_on,
            })
        );
        Ok(ExitCode::SUCCESS)
    }
}
