//! `api-actix serve` and `api-actix config check`: the server, from its layered settings.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use node_service::database;

use super::registers::{open_store, signing, Database};
use crate::settings::{self, LogFormat, ServeFlags, ServeSettings, DEFAULT_DATABASE};

/// `api-actix serve`.
#[derive(Debug, Args)]
pub struct Serve {
    #[command(flatten)]
    database: Database,
    #[command(flatten)]
    flags: ServeFlags,
}

impl Serve {
    /// Runs the server until interrupted.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let settings =
            settings::resolve_serve(self.database.flags(), &self.flags, &settings::process_env)?;
        let problems = settings.problems();
        if !problems.is_empty() {
            anyhow::bail!(
                "the configuration has {} problem(s):\n  {}",
                problems.len(),
                problems.join("\n  ")
            );
        }
        init_logs(&settings);
        serve(&settings)
    }
}

fn init_logs(settings: &ServeSettings) {
    let filter = tracing_subscriber::EnvFilter::new(&settings.log_filter.value);
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match settings.log_format.value {
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        // One JSON object per line, with the request's span (its request_id).
        LogFormat::Json => logs.json().with_current_span(true).init(),
    }
}

fn serve(settings: &ServeSettings) -> anyhow::Result<ExitCode> {
    let fresh = settings.database.is_default() && !Path::new(DEFAULT_DATABASE).exists();
    let store = open_store(&settings.database, settings.pool_size.value)?;
    database::apply_origin(&store, settings.origin.value.as_deref())?;
    let store = signing(store, &settings.database)?;
    if fresh {
        database::load_demo(&store, DEFAULT_DATABASE).context("loading the demo register")?;
    }
    database::sign_missing(&store)?;
    let secret = node_service::keys::token_secret(&store, settings.token_secret.value.as_ref())?;
    let node = store.node().context("reading this node's identity")?;
    let tokens =
        server_actix::tokens::Tokens::new(&secret, format!("urn:uuid:{}", node.node_uuid))?;
    let (bind, domain) = (settings.bind.value.clone(), settings.domain());
    let witnesses = Box::new(api_client::WitnessClient::new(
        node_service::witness::TIMEOUT,
    ));
    node_service::witness::spawn(store.clone(), witnesses)?;
    let mut state = server_actix::AppState::new(store, domain, tokens);
    state = match (settings.metrics.value, settings.metrics_token()?) {
        (false, _) => state.without_metrics(),
        (true, Some(token)) => state.with_metrics_token(token),
        (true, None) => state,
    };
    tracing::info!(%bind, "serving the register API");
    let options = server_actix::ServeOptions {
        bind: bind.clone(),
        workers: settings.workers.value,
        store_calls: settings.pool_size.value as usize,
        shutdown: Duration::from_secs(settings.shutdown_timeout.value),
        max_body: settings.max_rsf_bytes.value,
    };
    server_actix::serve(state, &options).with_context(|| format!("serving on {bind}"))?;
    Ok(ExitCode::SUCCESS)
}

/// `api-actix config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a configuration file and print the effective configuration (the file, then
    /// environment variables, then these flags), secrets redacted; exit 1 with every problem
    Check(ConfigCheck),
}

/// `api-actix config check`.
#[derive(Debug, Args)]
pub struct ConfigCheck {
    /// The configuration file (TOML)
    file: PathBuf,
    #[command(flatten)]
    database: Database,
    #[command(flatten)]
    flags: ServeFlags,
}

impl ConfigCommand {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let ConfigCommand::Check(check) = self;
        let mut database = check.database.flags().clone();
        database.config = Some(check.file);
        let settings = settings::resolve_serve(&database, &check.flags, &settings::process_env)?;
        print!("{}", settings.report());
        let problems = settings.problems();
        if problems.is_empty() {
            eprintln!("configuration OK (the database was not contacted)");
            return Ok(ExitCode::SUCCESS);
        }
        for problem in &problems {
            eprintln!("problem: {problem}");
        }
        Ok(ExitCode::FAILURE)
    }
}
