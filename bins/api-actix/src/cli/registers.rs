//! `api-actix load`, `export`, `root`, `user add`, `migrate`, and how every command opens
//! the database.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use node_service::keys;
use register_core::Mode;
use store_diesel::accounts::Role;
use store_diesel::error::StoreError;
use store_diesel::store::Store;

use super::succeed_with;
use crate::settings::{self, DatabaseFlags, DatabaseSettings};

/// Where the store is, and the keys that sign its checkpoints: flags, else environment, else
/// the configuration file (`--config`), else defaults.
#[derive(Debug, Args)]
pub struct Database {
    #[command(flatten)]
    flags: DatabaseFlags,
}

impl Database {
    /// The resolved database settings.
    pub fn settings(&self) -> anyhow::Result<DatabaseSettings> {
        self.flags.resolve(&settings::process_env)
    }

    /// The flags, for `serve`'s own resolution.
    pub fn flags(&self) -> &DatabaseFlags {
        &self.flags
    }

    /// Opens (creating and migrating) the store, signing with the node's keys when it has
    /// them.
    pub fn open(&self) -> anyhow::Result<Store> {
        let settings = self.settings()?;
        let store = open_store(&settings, 4)?;
        Ok(keys::sign_with(store, &settings.key_sources(), false)?)
    }

    /// Opens the store for a command that loads: every load signs, so PostgreSQL without
    /// keys is refused.
    pub fn open_signing(&self, pool_size: u32) -> anyhow::Result<Store> {
        let settings = self.settings()?;
        signing(open_store(&settings, pool_size)?, &settings)
    }

    /// Opens the store with a pool of `size` connections.
    pub fn open_with_pool_size(&self, size: u32) -> anyhow::Result<Store> {
        open_store(&self.settings()?, size)
    }
}

/// `store` signing with the keys `settings` name (PostgreSQL without them is refused).
pub fn signing(store: Store, settings: &DatabaseSettings) -> anyhow::Result<Store> {
    Ok(keys::sign_with(store, &settings.key_sources(), true)?)
}

/// Opens (creating and migrating) the store `settings` name, with a pool of `size`.
pub fn open_store(settings: &DatabaseSettings, size: u32) -> anyhow::Result<Store> {
    Ok(node_service::database::open(&settings.url.value, size)?)
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
        let (input, size) = input(&self.file)?;
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
        match store.load_rsf(&self.name, reader, Mode::relaxed_if(self.relaxed)) {
            Ok(report) => succeed_with(&node_service::views::load_report(&report)),
            Err(StoreError::Register(e)) => refused(e, true),
            Err(e) => refused(e, false),
        }
    }
}

/// `api-actix append`.
#[derive(Debug, Args)]
pub struct Append {
    /// Register name.
    name: String,
    /// JSON file (one item object, or an array of them), or `-` for standard input.
    file: PathBuf,
    /// The entries' timestamp, `YYYY-MM-DDThh:mm:ssZ`; now when absent.
    #[arg(long)]
    entry_timestamp: Option<String>,
    #[command(flatten)]
    database: Database,
}

impl Append {
    /// Writes the records as the write API does; its JSON answer on success, exit 1 naming
    /// the record and field otherwise.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let mut body = String::new();
        input(&self.file)?.0.read_to_string(&mut body)?;
        let at = self.entry_timestamp.as_deref();
        let request = match node_service::writes::put_request(&body, at) {
            Ok(request) => request,
            Err(e) => return refused(e, false),
        };
        let writes = node_service::writes::Writes::new(self.database.open_signing(2)?);
        match writes.write_report(&self.name, request, false) {
            Ok(report) => succeed_with(&report),
            Err(e) => refused(e, false),
        }
    }
}

/// Exit 1 after a refused file: its own positioned `line N: message`, else `error: …`.
pub fn refused(message: impl std::fmt::Display, positioned: bool) -> anyhow::Result<ExitCode> {
    match positioned {
        true => eprintln!("{message}"),
        false => eprintln!("error: {message}"),
    }
    Ok(ExitCode::FAILURE)
}

/// The file `path`, or standard input for `-`, with its size when known (else 0).
pub fn input(path: &Path) -> anyhow::Result<(Box<dyn Read + Send>, u64)> {
    if path == Path::new("-") {
        return Ok((Box::new(std::io::stdin()), 0));
    }
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok((Box::new(file), size))
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
        let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
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
        succeed_with(&node_service::views::root(&summary))
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
    succeed_with(&added)
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
        succeed_with(&api_types::cli::Migrated { migrated: true })
    }
}
