//! `api-actix serve`, `load`, `export`, `root`, `user add`, `migrate`: the operator's commands.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use register_core::Mode;
use store_diesel::accounts::Role;
use store_diesel::error::StoreError;
use store_diesel::store::Store;

/// Database connections of a server (and so store calls in flight).
const POOL_SIZE: u32 = 8;

/// The embedded SQLite database used when no URL is given.
pub const DEFAULT_DATABASE: &str = "data/registers.sqlite";

/// The demo register loaded into a new default database.
const DEMO_COUNTRY: &[u8] =
    include_bytes!("../../../../crates/register-core/tests/data/country-data.rsf");

/// Where the store is, and the keys that sign its checkpoints.
#[derive(Debug, Args)]
pub struct Database {
    /// Database URL: `postgres://…`, or a SQLite file path.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE)]
    pub database_url: String,
    /// File holding the log key (`api-actix key generate`; or set LOG_KEY to the key).
    /// Required with PostgreSQL to load or serve; an embedded SQLite database keeps its own.
    #[arg(long, env = "LOG_KEY_FILE", value_name = "FILE")]
    log_key_file: Option<PathBuf>,
    /// File holding the cosigner key (`key generate --cosigner`; or set COSIGNER_KEY).
    #[arg(long, env = "COSIGNER_KEY_FILE", value_name = "FILE")]
    cosigner_key_file: Option<PathBuf>,
}

impl Database {
    /// Opens (creating and migrating) the store, signing with the node's keys when it has
    /// them.
    pub fn open(&self) -> anyhow::Result<Store> {
        let store = self.open_with_pool_size(4)?;
        Ok(
            match node_service::keys::resolve(&store, &self.key_sources())? {
                Some(keys) => store.with_keys(keys),
                None => store,
            },
        )
    }

    /// Opens the store for a command that loads: every load signs, so PostgreSQL without
    /// keys is refused.
    pub fn open_signing(&self, pool_size: u32) -> anyhow::Result<Store> {
        let store = self.open_with_pool_size(pool_size)?;
        let keys = node_service::keys::require(&store, &self.key_sources())?;
        Ok(store.with_keys(keys))
    }

    fn key_sources(&self) -> node_service::keys::KeySources {
        node_service::keys::KeySources {
            log_key_file: self.log_key_file.clone(),
            cosigner_key_file: self.cosigner_key_file.clone(),
        }
    }

    /// Opens the store with a pool of `size` connections.
    pub fn open_with_pool_size(&self, size: u32) -> anyhow::Result<Store> {
        if !self.database_url.starts_with("postgres") {
            let path = self.database_url.trim_start_matches("sqlite://");
            if let Some(parent) = Path::new(path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
        }
        Store::open_with_pool_size(&self.database_url, size)
            .with_context(|| format!("cannot open the database at {}", self.database_url))
    }
}

/// `api-actix serve`.
#[derive(Debug, Args)]
pub struct Serve {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
    #[command(flatten)]
    database: Database,
    /// Domain named in register summaries (default: the bind address).
    #[arg(long)]
    domain: Option<String>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
    /// Seconds in-flight requests (loads) get to finish after SIGTERM before the process
    /// exits; a load cut off is rolled back.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    shutdown_timeout: u64,
    /// `text` (for people) or `json` (one object per line, for log shippers).
    #[arg(long, value_enum, default_value = "text", env = "LOG_FORMAT")]
    log_format: LogFormat,
    /// File holding the secret that signs the plan API's tokens (at least 32 bytes; the
    /// `TOKEN_SECRET` variable may hold the secret itself instead). Required with
    /// PostgreSQL; an embedded SQLite database generates one and keeps it.
    #[arg(long, value_name = "FILE")]
    token_secret_file: Option<PathBuf>,
    /// File holding the bearer token `GET /metrics` then requires (or `METRICS_TOKEN`).
    #[arg(long, value_name = "FILE")]
    metrics_token_file: Option<PathBuf>,
}

/// How `serve` writes its logs.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

impl Serve {
    /// Runs the server until interrupted.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        let logs = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr);
        match self.log_format {
            LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
            // One JSON object per line, with the request's span (its request_id).
            LogFormat::Json => logs.json().with_current_span(true).init(),
        }
        let is_default = self.database.database_url == DEFAULT_DATABASE;
        let fresh = is_default && !Path::new(DEFAULT_DATABASE).exists();
        let store = self.database.open_signing(POOL_SIZE)?;
        if fresh {
            let report = store
                .load_rsf("country", DEMO_COUNTRY, Mode::Strict)
                .context("loading the demo register")?;
            tracing::info!(
                entries = report.total_entries,
                "new database {DEFAULT_DATABASE}: loaded the demo register 'country'"
            );
        }
        let signed = store.sign_missing_checkpoints()?;
        tracing::info!(
            signed,
            "checkpoints signed for logs that had none at their size"
        );
        let secret = node_service::keys::token_secret(&store, self.token_secret_file.as_deref())?;
        let node = store.node().context("reading this node's identity")?;
        let tokens =
            server_actix::tokens::Tokens::new(&secret, format!("urn:uuid:{}", node.node_uuid))?;
        let domain = self.domain.unwrap_or_else(|| self.bind.clone());
        let state = server_actix::AppState::new(store, domain, tokens)
            .with_metrics_token_from(self.metrics_token_file.as_deref())?;
        tracing::info!(bind = %self.bind, "serving the register API");
        let workers = self
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        let shutdown = std::time::Duration::from_secs(self.shutdown_timeout);
        server_actix::serve(state, &self.bind, workers, POOL_SIZE as usize, shutdown)
            .with_context(|| format!("serving on {}", self.bind))?;
        Ok(ExitCode::SUCCESS)
    }
}

/// `api-actix load`.
#[derive(Debug, Args)]
pub struct Load {
    /// Register name.
    name: String,
    /// RSF file, or `-` for standard input.
    file: PathBuf,
    /// Skip rules 3 and 5 and accept entries before metadata (production files).
    #[arg(long)]
    relaxed: bool,
    #[command(flatten)]
    database: Database,
}

impl Load {
    /// Loads atomically; one JSON line on success, `line N: message` and exit 1 on error.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let store = self.database.open_signing(4)?;
        let (input, size): (Box<dyn Read + Send>, u64) = if self.file == Path::new("-") {
            (Box::new(std::io::stdin()), 0)
        } else {
            let file = File::open(&self.file)
                .with_context(|| format!("cannot open {}", self.file.display()))?;
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            (Box::new(file), size)
        };
        let reader: Box<dyn BufRead + Send> = if std::io::stderr().is_terminal() && size > 0 {
            let bar = indicatif::ProgressBar::new(size).with_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            Box::new(BufReader::with_capacity(1 << 20, bar.wrap_read(input)))
        } else {
            Box::new(BufReader::with_capacity(1 << 20, input))
        };
        let mode = if self.relaxed {
            Mode::Relaxed
        } else {
            Mode::Strict
        };
        match store.load_rsf(&self.name, reader, mode) {
            Ok(report) => {
                let line = serde_json::to_string(&node_service::views::load_report(&report))?;
                println!("{line}");
                Ok(ExitCode::SUCCESS)
            }
            Err(StoreError::Register(e)) => {
                eprintln!("{e}");
                Ok(ExitCode::FAILURE)
            }
            Err(e) => {
                eprintln!("error: {e}");
                Ok(ExitCode::FAILURE)
            }
        }
    }
}

/// `api-actix export`.
#[derive(Debug, Args)]
pub struct Export {
    /// Register name.
    name: String,
    /// Size the receiver holds (0: a full dump with metadata).
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// Size to end at (default: all entries).
    #[arg(long)]
    to: Option<u64>,
    #[command(flatten)]
    database: Database,
}

impl Export {
    /// Writes the (ranged) RSF dump to standard output, streamed.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let store = self.database.open()?;
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
        store.export_rsf(&self.name, self.from, self.to, &mut out)?;
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    }
}

/// `api-actix root`.
#[derive(Debug, Args)]
pub struct Root {
    /// Register name.
    name: String,
    #[command(flatten)]
    database: Database,
}

impl Root {
    /// Prints `{"total-entries":N,"root-hash":"sha-256:…"}`.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let summary = self.database.open()?.register(&self.name)?;
        let line = api_types::cli::RootLine {
            total_entries: summary.total_entries,
            root_hash: summary.root.to_string(),
        };
        println!("{}", serde_json::to_string(&line)?);
        Ok(ExitCode::SUCCESS)
    }
}

/// `api-actix user add`.
#[derive(Debug, Args)]
pub struct UserAdd {
    /// Account name.
    name: String,
    /// Make the account an administrator (may load registers).
    #[arg(long)]
    admin: bool,
    /// Read the password from standard input (first line).
    #[arg(long, required = true)]
    password_stdin: bool,
    #[command(flatten)]
    database: Database,
}

impl UserAdd {
    /// Creates the account.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let role = if self.admin {
            Role::Admin
        } else {
            Role::Partner
        };
        add_account(&self.database, &self.name, role)
    }
}

/// The first line of standard input, without its line ending.
pub fn password_from_stdin() -> anyhow::Result<String> {
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("cannot read the password from standard input")?;
    Ok(password.trim_end_matches(['\r', '\n']).to_string())
}

/// Creates the account `name` with the password on standard input; prints
/// `{"user":NAME,"role":ROLE}`.
pub fn add_account(database: &Database, name: &str, role: Role) -> anyhow::Result<ExitCode> {
    let password = password_from_stdin()?;
    database.open()?.add_user(name, &password, role)?;
    let added = api_types::cli::AccountAdded {
        user: name.to_string(),
        role: role.as_str().to_string(),
    };
    println!("{}", serde_json::to_string(&added)?);
    Ok(ExitCode::SUCCESS)
}

/// `api-actix migrate`.
#[derive(Debug, Args)]
pub struct Migrate {
    #[command(flatten)]
    database: Database,
}

impl Migrate {
    /// Opening the store runs the pending migrations.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        self.database.open()?;
        let migrated = api_types::cli::Migrated { migrated: true };
        println!("{}", serde_json::to_string(&migrated)?);
        Ok(ExitCode::SUCCESS)
    }
}
