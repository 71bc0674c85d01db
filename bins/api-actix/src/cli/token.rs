//! `api-actix token create|list|revoke`: writer tokens for data owners' pipelines
//! (node-service's `writer_tokens`; only a token's SHA-256 is stored).

use std::process::ExitCode;

use clap::{ArgGroup, Args, Subcommand};
use node_service::{views, writer_tokens};
use store_diesel::writer_tokens::WriterScope;

use super::{print_json, registers::Database};

/// `api-actix token`.
#[derive(Debug, Args)]
pub struct Token {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    database: Database,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Create a writer token and print it, once, on standard output (only its hash is kept)
    #[command(group(ArgGroup::new("scope").required(true).args(["admin", "register"])))]
    Create {
        /// The token's name: a unique label (revoked tokens keep theirs)
        name: String,
        /// The token may write every register
        #[arg(long)]
        admin: bool,
        /// The token may write this register only
        #[arg(long, value_name = "R")]
        register: Option<String>,
    },
    /// List writer tokens: name, scope, created, last used, revoked (never the secret)
    List,
    /// Revoke a writer token: it is refused from now on (its name stays taken)
    Revoke {
        /// The token's name
        name: String,
    },
}

impl Token {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let store = self.database.open()?;
        match self.action {
            Action::Create { name, register, .. } => {
                let scope = register.map_or(WriterScope::Admin, WriterScope::Register);
                let (token, secret) = writer_tokens::create(&store, &name, &scope)?;
                println!("{}", secret.expose());
                eprintln!(
                    "writer token '{}' for {} created; it is shown only now",
                    token.name, token.scope
                );
            }
            Action::List => {
                let tokens = store.writer_tokens()?;
                tokens
                    .iter()
                    .map(views::writer_token)
                    .try_for_each(|t| print_json(&t))?;
            }
            Action::Revoke { name } => {
                print_json(&views::writer_token(&store.revoke_writer_token(&name)?))?;
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
