//! The command tree. Add a command group by adding a variant to [`Command`] and a module.

mod import;
mod keys;
mod partners;
mod plan;
mod registers;
mod remote;
mod serve;
mod sync;
mod token;
mod witness;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Prints `value` as one JSON line on standard output.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}

/// Prints `value` as one JSON line, the whole report of a command that succeeded.
fn succeed_with(value: &impl serde::Serialize) -> anyhow::Result<ExitCode> {
    print_json(value)?;
    Ok(ExitCode::SUCCESS)
}

/// Register and plan API server, and operator commands.
#[derive(Debug, Parser)]
#[command(name = "api-actix", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API (a new default SQLite database gets the demo `country` register)
    Serve(serve::Serve),
    /// Configuration files: check one and see the effective configuration
    #[command(subcommand)]
    Config(serve::ConfigCommand),
    /// Load an RSF file into a register, atomically (creates the register when new)
    Load(registers::Load),
    /// Append records given as JSON (the write API without HTTP), atomically
    Append(registers::Append),
    /// Import a CSV, TSV or JSON Lines snapshot: one entry per new or changed record, atomically
    Import(import::Import),
    /// Write a register (or a range of it) as RSF to standard output
    Export(registers::Export),
    /// Print a register's size and root hash
    Root(registers::Root),
    /// Accounts
    #[command(subcommand)]
    User(UserCommand),
    /// Create or update the database schema
    Migrate(registers::Migrate),
    /// Plan documents, and the plans partners invoked here (this node responds)
    #[command(subcommand)]
    Plan(plan::PlanCommand),
    /// Mirrors of partners' register slices: pull, push, status
    #[command(subcommand)]
    Sync(sync::SyncCommand),
    /// Partner accounts
    #[command(subcommand)]
    Partner(PartnerCommand),
    /// Registers offered to partners as slices of this node's pool
    #[command(subcommand)]
    Register(partners::RegisterCommand),
    /// This server's node identity in plan documents
    #[command(subcommand)]
    Node(partners::NodeCommand),
    /// A partner's server, as the initiator of a plan
    #[command(subcommand)]
    Remote(remote::RemoteCommand),
    /// Signing keys of checkpoints and cosignatures
    #[command(subcommand)]
    Key(keys::KeyCommand),
    /// Write every log's checkpoint, tiles and entry bundles as static files, incrementally
    Publish(keys::Publish),
    /// Witnessing: logs this node witnesses, witnesses it uses (tlog-witness)
    Witness(witness::Witness),
    /// Writer tokens: bearer tokens that let pipelines load one register (or every one)
    Token(token::Token),
}

#[derive(Debug, Subcommand)]
enum PartnerCommand {
    /// Create a partner's account (password read from standard input)
    Add(partners::PartnerAdd),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account (password read from standard input)
    Add(registers::UserAdd),
}

impl Cli {
    /// Run the chosen command; the exit code is part of each command's contract.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self.command {
            Command::Serve(command) => command.run(),
            Command::Config(command) => command.run(),
            Command::Load(command) => command.run(),
            Command::Append(command) => command.run(),
            Command::Import(command) => command.run(),
            Command::Export(command) => command.run(),
            Command::Root(command) => command.run(),
            Command::User(UserCommand::Add(command)) => command.run(),
            Command::Migrate(command) => command.run(),
            Command::Plan(command) => command.run(),
            Command::Sync(command) => command.run(),
            Command::Partner(PartnerCommand::Add(command)) => command.run(),
            Command::Register(command) => command.run(),
            Command::Node(command) => command.run(),
            Command::Remote(command) => command.run(),
            Command::Key(command) => command.run(),
            Command::Publish(command) => command.run(),
            Command::Witness(command) => command.run(),
            Command::Token(command) => command.run(),
        }
    }
}
