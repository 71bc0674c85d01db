//! `api-actix remote plan request|show`: the initiator's side of plan negotiation, so that a
//! partner never writes plan XML by hand (plans.md §3, "initiator is the secondary").
//!
//! `request` logs in to the partner's server, invokes a plan, fills the stub's Secondary
//! part from this node's identity ([`api_actix::node::secondary`]) and its Communal part with
//! one subscription per requested slice, proposes it, and records each subscription in the
//! local store so that a later sync knows where to mirror it from. The HTTP client is ureq,
//! blocking: a command makes a handful of requests in sequence.
//!
//! A remote's refusal is shown as it was given: the HTTP status, the envelope's
//! `message_text`, and every entry of `schema_errors`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use base64::Engine as _;
use clap::{Args, Subcommand};
use plan_core::{Plan, Subscription};
use serde::Deserialize;
use uuid::Uuid;

use super::registers::{password_from_stdin, Database};

/// How long one remote command may take, all requests included.
const TIMEOUT: Duration = Duration::from_secs(60);

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

/// A logged-in conversation with a partner's server.
struct Session {
    agent: ureq::Agent,
    remote: String,
    token: String,
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

/// The JSON body of a remote's answer, or the remote's refusal as an error.
fn answer(
    remote: &str,
    what: &str,
    sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> anyhow::Result<serde_json::Value> {
    let mut response = sent.with_context(|| format!("{what} {remote}: no answer"))?;
    let status = response.status();
    let text = response
        .body_mut()
        .read_to_string()
        .with_context(|| format!("{what} {remote}: cannot read the answer"))?;
    let body: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    if status.is_success() {
        return body.ok_or_else(|| anyhow::anyhow!("{what} {remote}: the answer is not JSON"));
    }
    Err(anyhow::anyhow!(refusal(
        &format!("{what} {remote}"),
        status,
        body.as_ref(),
        &text
    )))
}

/// A remote's refusal for people: `WHAT: STATUS: message_text`, then each schema error on a
/// line of its own (`  LINE:COL: PATH: message`). A body that is not the error envelope is
/// shown as a short excerpt.
fn refusal(
    what: &str,
    status: ureq::http::StatusCode,
    body: Option<&serde_json::Value>,
    text: &str,
) -> String {
    let message = body
        .and_then(|b| b["message_text"].as_str())
        .map_or_else(|| text.chars().take(200).collect(), str::to_string);
    let mut refusal = format!("{what}: {status}: {message}");
    let schema_errors = body.and_then(|b| b["schema_errors"].as_array());
    for problem in schema_errors.into_iter().flatten() {
        refusal.push_str(&format!(
            "\n  {}:{}: {}: {}",
            problem["line"],
            problem["column"],
            problem["path"].as_str().unwrap_or("/"),
            problem["message"].as_str().unwrap_or_default()
        ));
    }
    refusal
}

impl Login {
    /// Logs in with the password on standard input; a limited (plans only) token.
    fn session(&self) -> anyhow::Result<Session> {
        let password = password_from_stdin()?;
        let remote = self.remote.trim_end_matches('/').to_string();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(TIMEOUT))
            .build()
            .into();
        let body = serde_json::json!({
            "username": self.username,
            "password": password,
            "plan": null,
        });
        let url = format!("{remote}/v1/login");
        let reply = answer(&remote, "login at", agent.post(&url).send_json(&body))?;
        let token = reply["token"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("login at {remote}: the answer has no token"))?
            .to_string();
        Ok(Session {
            agent,
            remote,
            token,
        })
    }
}

impl Session {
    fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    fn plan_reply(&self, what: &str, value: serde_json::Value) -> anyhow::Result<PlanReply> {
        serde_json::from_value(value)
            .with_context(|| format!("{what} {}: not a plan answer", self.remote))
    }

    /// `GET {remote}{path}` → a plan.
    fn get_plan(&self, what: &str, path: &str) -> anyhow::Result<PlanReply> {
        let sent = self
            .agent
            .get(format!("{}{path}", self.remote))
            .header("Authorization", self.bearer())
            .call();
        let value = answer(&self.remote, what, sent)?;
        self.plan_reply(what, value)
    }

    /// `POST {remote}{path}` with a JSON body → a plan.
    fn post_plan(
        &self,
        what: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<PlanReply> {
        let sent = self
            .agent
            .post(format!("{}{path}", self.remote))
            .header("Authorization", self.bearer())
            .send_json(body);
        let value = answer(&self.remote, what, sent)?;
        self.plan_reply(what, value)
    }
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
        let remote = session.remote.clone();
        let invoked = session.get_plan("invoking a plan at", "/v1/plans/invoke")?;
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
        let proposed = session.post_plan(
            "proposing the plan at",
            "/v1/proposals/new",
            &serde_json::json!({ "document": document }),
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
        let plan = session.get_plan("reading the plan at", &format!("/v1/plans/{}", self.uuid))?;
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

#[cfg(test)]
mod tests {
    use super::refusal;
    use ureq::http::StatusCode;

    #[test]
    fn a_refusal_shows_the_message_and_every_schema_error() {
        let body = serde_json::json!({
            "message_code": 1422,
            "message_text": "the plan document is not valid (2 problem(s))",
            "schema_errors": [
                {"line": 3, "column": 5, "path": "/Plan/Primary/@uuid", "message": "too short"},
                {"line": 9, "column": 1, "path": "/Plan", "message": "missing Primary"},
            ],
        });
        assert_eq!(
            refusal(
                "proposing the plan at http://x",
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&body),
                ""
            ),
            "proposing the plan at http://x: 422 Unprocessable Entity: the plan document is not \
             valid (2 problem(s))\n  3:5: /Plan/Primary/@uuid: too short\n  9:1: /Plan: missing \
             Primary"
        );
    }

    #[test]
    fn a_body_that_is_not_the_envelope_is_shown_short() {
        let text = "x".repeat(500);
        let shown = refusal("login at http://x", StatusCode::BAD_GATEWAY, None, &text);
        assert_eq!(
            shown,
            format!("login at http://x: 502 Bad Gateway: {}", "x".repeat(200))
        );
    }
}
