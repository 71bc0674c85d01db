//! The command tree. Add a command group by adding a variant to [`Command`] and a module.

mod import;
mod plan;
mod registers;
mod sync;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    Serve(registers::Serve),
    /// Load an RSF file into a register, atomically (creates the register when new)
    Load(registers::Load),
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
    /// Plan documents: validation and, later, the plan lifecycle
    #[command(subcommand)]
    Plan(plan::PlanCommand),
    /// Mirrors of partners' register slices: pull, push, status
    #[command(subcommand)]
    Sync(sync::SyncCommand),
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
            Command::Load(command) => command.run(),
            Command::Import(command) => command.run(),
            Command::Export(command) => command.run(),
            Command::Root(command) => command.run(),
            Command::User(UserCommand::Add(command)) => command.run(),
            Command::Migrate(command) => command.run(),
            Command::Plan(command) => command.run(),
            Command::Sync(command) => command.run(),
        }
    }
}
