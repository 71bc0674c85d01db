//! `api-actix`: the register and plan API server, and the operator CLI.
//!
//! This binary parses arguments and wires the library crates together: the command tree
//! lives in [`cli`], one module per command group; the server is `server-actix`, the domain
//! rules `node-service`, sync `register-sync` over `api-client`.

mod cli;
mod settings;

use std::process::ExitCode;

use clap::Parser;

fn main() -> anyhow::Result<ExitCode> {
    cli::Cli::parse().run()
}
