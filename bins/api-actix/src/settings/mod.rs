//! Server settings in layers: defaults < the configuration file (TOML) < environment
//! variables < flags. `serve` resolves all of them, every other command the database and
//! keys; `config check` prints the result with secrets redacted. Only this module reads the
//! environment for settings, and it reads it through a function, so tests give their own.

use std::fmt::{self, Display};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Context;
use clap::Args;
use node_service::keys::{KeySources, Supplied};
use serde::Deserialize;

mod check;

/// The embedded SQLite database used when no URL is given.
pub const DEFAULT_DATABASE: &str = "data/registers.sqlite";

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// The configuration file.
    File,
    /// An environment variable.
    Env(&'static str),
    /// A command-line flag.
    Flag(&'static str),
}

impl Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File => f.write_str("file"),
            Source::Env(name) => write!(f, "env {name}"),
            Source::Flag(name) => write!(f, "flag --{name}"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    /// The value in effect.
    pub value: T,
    /// Its layer.
    pub source: Source,
}

/// How `serve` writes its logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// For people.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<LogFormat, String> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err("expected text or json".into()),
        }
    }
}

impl Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        })
    }
}

/// The configuration file: every server setting, each optional (docs/api-actix.toml).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    bind: Option<String>,
    domain: Option<String>,
    origin: Option<String>,
    workers: Option<usize>,
    shutdown_timeout: Option<u64>,
    #[serde(default)]
    database: FileDatabase,
    #[serde(default)]
    keys: FileKeys,
    #[serde(default)]
    log: FileLog,
    #[serde(default)]
    metrics: FileMetrics,
    #[serde(default)]
    limits: FileLimits,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDatabase {
    url: Option<String>,
    pool_size: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileKeys {
    log_key_file: Option<PathBuf>,
    cosigner_key_file: Option<PathBuf>,
    token_secret_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLog {
    format: Option<LogFormat>,
    filter: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMetrics {
    enabled: Option<bool>,
    token_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    max_rsf_bytes: Option<usize>,
}

impl File {
    /// Reads and parses `path`; errors name the file, line and column.
    pub fn read(path: &Path) -> anyhow::Result<File> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        File::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    /// Parses a configuration file's text.
    pub fn parse(text: &str) -> anyhow::Result<File> {
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))
    }
}

/// The flags every command that opens the database takes.
#[derive(Debug, Clone, Default, Args)]
pub struct DatabaseFlags {
    /// Configuration file (TOML; docs/api-actix.toml) [env: REGISTERS_CONFIG]
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// Database URL: `postgres://…`, or a SQLite file path [env: DATABASE_URL; default:
    /// data/registers.sqlite]
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// File holding the log key (`api-actix key generate`) [env: LOG_KEY_FILE, or LOG_KEY
    /// holding the key]. Required with PostgreSQL to load or serve; an embedded SQLite
    /// database keeps its own
    #[arg(long, value_name = "FILE", global = true)]
    pub log_key_file: Option<PathBuf>,
    /// File holding the cosigner key (`key generate --cosigner`) [env: COSIGNER_KEY_FILE, or
    /// COSIGNER_KEY]
    #[arg(long, value_name = "FILE", global = true)]
    pub cosigner_key_file: Option<PathBuf>,
}

/// The flags of `serve` (and `config check`) beyond the database's.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeFlags {
    /// Address to listen on [env: REGISTERS_BIND; default: 127.0.0.1:8080]
    #[arg(long)]
    pub bind: Option<String>,
    /// Domain named in register summaries [env: REGISTERS_DOMAIN; default: the bind address]
    #[arg(long)]
    pub domain: Option<String>,
    /// Node origin that checkpoints are signed under, set in the database at start
    /// (`node set --origin`) [env: REGISTERS_ORIGIN]
    #[arg(long)]
    pub origin: Option<String>,
    /// Worker threads [env: REGISTERS_WORKERS; default: one per core]
    #[arg(long)]
    pub workers: Option<usize>,
    /// Database connections of the server, and so store calls in flight
    /// [env: REGISTERS_POOL_SIZE; default: 8]
    #[arg(long)]
    pub pool_size: Option<u32>,
    /// Seconds in-flight requests (loads) get to finish after SIGTERM before the process
    /// exits; a load cut off is rolled back [env: REGISTERS_SHUTDOWN_TIMEOUT; default: 30]
    #[arg(long, value_name = "SECONDS")]
    pub shutdown_timeout: Option<u64>,
    /// `text` (for people) or `json` (one object per line, for log shippers)
    /// [env: LOG_FORMAT; default: text]
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Which log lines to write, as tracing's EnvFilter reads it [env: RUST_LOG; default:
    /// info]
    #[arg(long, value_name = "FILTER")]
    pub log_filter: Option<String>,
    /// File holding the secret that signs the plan API's tokens, at least 32 bytes
    /// [env: TOKEN_SECRET_FILE, or TOKEN_SECRET holding it]. Required with PostgreSQL; an
    /// embedded SQLite database generates one and keeps it
    #[arg(long, value_name = "FILE")]
    pub token_secret_file: Option<PathBuf>,
    /// Serve `/metrics` and count requests (`--metrics false` turns them off)
    /// [env: REGISTERS_METRICS; default: true]
    #[arg(long, value_name = "BOOL")]
    pub metrics: Option<bool>,
    /// File holding the bearer token `/metrics` then requires [env: METRICS_TOKEN_FILE, or
    /// METRICS_TOKEN holding it]
    #[arg(long, value_name = "FILE")]
    pub metrics_token_file: Option<PathBuf>,
    /// The largest RSF upload `load-rsf` reads, in bytes [env: REGISTERS_MAX_RSF_BYTES;
    /// default: 536870912]
    #[arg(long, value_name = "BYTES")]
    pub max_rsf_bytes: Option<usize>,
}

/// The environment, as a lookup (tests pass their own).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A setting from its layers: the flag, else the variable `env`, else the file's value,
/// else `default`.
fn pick<T: FromStr>(
    flag: (Option<T>, &'static str),
    env: (Env, &'static str),
    file: Option<T>,
    default: impl FnOnce() -> T,
) -> anyhow::Result<Setting<T>>
where
    T::Err: Display,
{
    if let (Some(value), name) = flag {
        return Ok(Setting {
            value,
            source: Source::Flag(name),
        });
    }
    let (lookup, name) = env;
    if let Some(text) = lookup(name) {
        let value = text
            .trim()
            .parse()
            .map_err(|e| anyhow::anyhow!("environment variable {name}='{text}': {e}"))?;
        return Ok(Setting {
            value,
            source: Source::Env(name),
        });
    }
    Ok(match file {
        Some(value) => Setting {
            value,
            source: Source::File,
        },
        None => Setting {
            value: default(),
            source: Source::Default,
        },
    })
}

/// An optional text setting: as [`pick`], `None` when no layer sets it.
fn pick_opt(
    flag: (Option<String>, &'static str),
    env: (Env, &'static str),
    file: Option<String>,
) -> anyhow::Result<Setting<Option<String>>> {
    let Setting { value, source } = pick(flag, env, file, String::new)?;
    Ok(Setting {
        value: (source != Source::Default).then_some(value),
        source,
    })
}

/// A secret: the flag's file, else the variable naming a file, else the variable holding the
/// secret, else the file's path.
fn pick_secret(
    flag: (Option<PathBuf>, &'static str),
    env: Env,
    (file_var, value_var): (&'static str, &'static str),
    file: Option<PathBuf>,
) -> Setting<Option<Supplied>> {
    let (value, source) = if let Some(path) = flag.0 {
        (Some(Supplied::File(path)), Source::Flag(flag.1))
    } else if let Some(path) = env(file_var) {
        (Some(Supplied::File(path.into())), Source::Env(file_var))
    } else if let Some(secret) = env(value_var) {
        (Some(Supplied::Value(secret)), Source::Env(value_var))
    } else if let Some(path) = file {
        (Some(Supplied::File(path)), Source::File)
    } else {
        (None, Source::Default)
    };
    Setting { value, source }
}

/// Where the database is, and the keys that sign its checkpoints.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// The configuration file read, if any.
    pub config: Option<PathBuf>,
    /// `postgres://…` or a SQLite path.
    pub url: Setting<String>,
    /// The log key.
    pub log_key: Setting<Option<Supplied>>,
    /// The cosigner key.
    pub cosigner_key: Setting<Option<Supplied>>,
}

impl DatabaseSettings {
    /// The keys as node-service takes them.
    pub fn key_sources(&self) -> KeySources {
        KeySources {
            log_key: self.log_key.value.clone(),
            cosigner_key: self.cosigner_key.value.clone(),
        }
    }

    /// Whether this is the embedded default database.
    pub fn is_default(&self) -> bool {
        self.url.value == DEFAULT_DATABASE
    }
}

/// Every setting of `serve`.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    /// The database and keys.
    pub database: DatabaseSettings,
    /// `host:port` to listen on.
    pub bind: Setting<String>,
    /// Domain named in summaries (`None`: the bind address).
    pub domain: Setting<Option<String>>,
    /// Node origin to set at start.
    pub origin: Setting<Option<String>>,
    /// Worker threads.
    pub workers: Setting<usize>,
    /// Database connections.
    pub pool_size: Setting<u32>,
    /// Seconds of grace after SIGTERM.
    pub shutdown_timeout: Setting<u64>,
    /// Log format.
    pub log_format: Setting<LogFormat>,
    /// Log filter.
    pub log_filter: Setting<String>,
    /// The token secret.
    pub token_secret: Setting<Option<Supplied>>,
    /// Metrics on or off.
    pub metrics: Setting<bool>,
    /// The metrics token.
    pub metrics_token: Setting<Option<Supplied>>,
    /// Largest RSF upload, in bytes.
    pub max_rsf_bytes: Setting<usize>,
}

/// The file named by the flag or `REGISTERS_CONFIG`, parsed (an empty one without either).
fn config_file(flag: &Option<PathBuf>, env: Env) -> anyhow::Result<(Option<PathBuf>, File)> {
    let path = flag
        .clone()
        .or_else(|| env("REGISTERS_CONFIG").map(PathBuf::from));
    Ok(match path {
        Some(path) => {
            let file = File::read(&path)?;
            (Some(path), file)
        }
        None => (None, File::default()),
    })
}

impl DatabaseFlags {
    /// The database settings these flags, the environment and the configuration file give.
    pub fn resolve(&self, env: Env) -> anyhow::Result<DatabaseSettings> {
        let (config, file) = config_file(&self.config, env)?;
        database_settings(self, env, config, &file)
    }
}

fn database_settings(
    flags: &DatabaseFlags,
    env: Env,
    config: Option<PathBuf>,
    file: &File,
) -> anyhow::Result<DatabaseSettings> {
    Ok(DatabaseSettings {
        config,
        url: pick(
            (flags.database_url.clone(), "database-url"),
            (env, "DATABASE_URL"),
            file.database.url.clone(),
            || DEFAULT_DATABASE.to_string(),
        )?,
        log_key: pick_secret(
            (flags.log_key_file.clone(), "log-key-file"),
            env,
            ("LOG_KEY_FILE", "LOG_KEY"),
            file.keys.log_key_file.clone(),
        ),
        cosigner_key: pick_secret(
            (flags.cosigner_key_file.clone(), "cosigner-key-file"),
            env,
            ("COSIGNER_KEY_FILE", "COSIGNER_KEY"),
            file.keys.cosigner_key_file.clone(),
        ),
    })
}

/// Resolves every `serve` setting.
pub fn resolve_serve(
    database: &DatabaseFlags,
    flags: &ServeFlags,
    env: Env,
) -> anyhow::Result<ServeSettings> {
    let (config, file) = config_file(&database.config, env)?;
    Ok(ServeSettings {
        database: database_settings(database, env, config, &file)?,
        bind: pick(
            (flags.bind.clone(), "bind"),
            (env, "REGISTERS_BIND"),
            file.bind.clone(),
            || "127.0.0.1:8080".to_string(),
        )?,
        domain: pick_opt(
            (flags.domain.clone(), "domain"),
            (env, "REGISTERS_DOMAIN"),
            file.domain.clone(),
        )?,
        origin: pick_opt(
            (flags.origin.clone(), "origin"),
            (env, "REGISTERS_ORIGIN"),
            file.origin.clone(),
        )?,
        workers: pick(
            (flags.workers, "workers"),
            (env, "REGISTERS_WORKERS"),
            file.workers,
            || std::thread::available_parallelism().map_or(2, |n| n.get()),
        )?,
        pool_size: pick(
            (flags.pool_size, "pool-size"),
            (env, "REGISTERS_POOL_SIZE"),
            file.database.pool_size,
            || 8,
        )?,
        shutdown_timeout: pick(
            (flags.shutdown_timeout, "shutdown-timeout"),
            (env, "REGISTERS_SHUTDOWN_TIMEOUT"),
            file.shutdown_timeout,
            || 30,
        )?,
        log_format: pick(
            (flags.log_format, "log-format"),
            (env, "LOG_FORMAT"),
            file.log.format,
            || LogFormat::Text,
        )?,
        log_filter: pick(
            (flags.log_filter.clone(), "log-filter"),
            (env, "RUST_LOG"),
            file.log.filter.clone(),
            || "info".to_string(),
        )?,
        token_secret: pick_secret(
            (flags.token_secret_file.clone(), "token-secret-file"),
            env,
            ("TOKEN_SECRET_FILE", "TOKEN_SECRET"),
            file.keys.token_secret_file.clone(),
        ),
        metrics: pick(
            (flags.metrics, "metrics"),
            (env, "REGISTERS_METRICS"),
            file.metrics.enabled,
            || true,
        )?,
        metrics_token: pick_secret(
            (flags.metrics_token_file.clone(), "metrics-token-file"),
            env,
            ("METRICS_TOKEN_FILE", "METRICS_TOKEN"),
            file.metrics.token_file.clone(),
        ),
        max_rsf_bytes: pick(
            (flags.max_rsf_bytes, "max-rsf-bytes"),
            (env, "REGISTERS_MAX_RSF_BYTES"),
            file.limits.max_rsf_bytes,
            || server_actix::MAX_RSF_BYTES,
        )?,
    })
}
