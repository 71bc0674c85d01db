//! `api-actix partner add`, `register offer|unoffer`, `node show|set`: what partners see of
//! this server before a plan exists — their accounts, the registers offered as slices of
//! this node's Primary domain, and the node identity stubs and completed plans carry.

use std::process::ExitCode;

use super::registers::{add_account, Database};
use super::succeed_with;
use clap::{Args, Subcommand};
use node_service::views;
use store_diesel::accounts::Role;

/// `api-actix partner add`.
#[derive(Debug, Args)]
pub struct PartnerAdd {
    /// Account name, given to the partner out of band with the password
    name: String,
    /// Read the password from standard input (first line)
    #[arg(long, required = true)]
    password_stdin: bool,
    #[command(flatten)]
    database: Database,
}

impl PartnerAdd {
    /// Creates the partner account; prints `{"user":NAME,"role":"partner"}`.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        add_account(&self.database, &self.name, Role::Partner)
    }
}

#[derive(Debug, Subcommand)]
pub enum RegisterCommand {
    /// Offer a register to partners: it appears as a slice in the stubs of new plans
    Offer {
        /// Register name
        name: String,
        /// The slice's description (default: the register's name)
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        database: Database,
    },
    /// Withdraw an offer: new stubs no longer list the register (plans already made keep it)
    Unoffer {
        /// Register name
        name: String,
        #[command(flatten)]
        database: Database,
    },
}

impl RegisterCommand {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            RegisterCommand::Offer {
                name,
                description,
                database,
            } => {
                let store = database.open()?;
                let offer = node_service::identity::offer(&store, &name, description.as_deref())?;
                succeed_with(&views::offer(&offer))
            }
            RegisterCommand::Unoffer { name, database } => {
                database.open()?.unoffer_register(&name)?;
                succeed_with(&api_types::cli::Unoffered {
                    offered: false,
                    register: name,
                })
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Show this server's node identity (as plan documents name it) and its offers
    Show {
        #[command(flatten)]
        database: Database,
    },
    /// Change the descriptive parts of the node identity (the UUIDs never change)
    Set {
        /// The node's description
        #[arg(long)]
        description: Option<String>,
        /// The administrators' contact (an empty value removes it)
        #[arg(long)]
        contact: Option<String>,
        /// The administrators' email (an empty value removes it)
        #[arg(long)]
        email: Option<String>,
        /// The node origin, a scheme-less URL prefix such as `registers.example.org`: the
        /// checkpoints of register R are signed as the log `<origin>/registers/R`
        #[arg(long)]
        origin: Option<String>,
        #[command(flatten)]
        database: Database,
    },
}

impl NodeCommand {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let (store, node) = match self {
            NodeCommand::Show { database } => {
                let store = database.open()?;
                let node = store.node()?;
                (store, node)
            }
            NodeCommand::Set {
                description,
                contact,
                email,
                origin,
                database,
            } => {
                if let Some(origin) = origin {
                    database.open_with_pool_size(1)?.set_origin(&origin)?;
                }
                let store = database.open()?;
                let node = node_service::identity::set_details(
                    &store,
                    description.as_deref(),
                    contact.as_deref(),
                    email.as_deref(),
                )?;
                (store, node)
            }
        };
        succeed_with(&views::node(
            &node,
            &store.offers()?,
            &store.origin()?,
            store.keys(),
        ))
    }
}
