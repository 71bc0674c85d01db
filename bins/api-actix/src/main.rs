//! `api-actix`: the register and plan HTTP API, and the operator CLI.
//!
//! This binary is thin glue: the command tree lives in [`cli`], one module per command group,
//! and every command calls into the library crates.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> anyhow::Result<ExitCode> {
    cli::Cli::parse().run()
}
