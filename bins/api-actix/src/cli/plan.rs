//! `api-actix plan ...`

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Validate plan documents against the plan XSD and the plan rules.
    ///
    /// Prints one line per problem to stdout, `FILE:LINE:COL: PATH: message`, and exits 1
    /// if any file has a problem, 0 if all are valid. Other checks rely on this contract.
    Validate {
        /// Plan XML files
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

impl PlanCommand {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            PlanCommand::Validate { files } => validate(&files),
        }
    }
}

fn validate(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    // Fail early and clearly if the embedded schema is broken, rather than once per file.
    plan_core::plan_schema().context("the embedded plan schema does not compile")?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut problems = 0usize;
    for file in files {
        let shown = file.display();
        let diagnostics = match std::fs::read(file) {
            Err(e) => vec![format!("0:0: /: cannot read the file: {e}")],
            Ok(bytes) => match String::from_utf8(bytes) {
                Err(e) => {
                    vec![format!(
                        "1:1: /: the document is not UTF-8 (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    )]
                }
                Ok(text) => plan_core::validate_plan(&text)
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            },
        };
        problems += diagnostics.len();
        for line in diagnostics {
            writeln!(out, "{shown}:{line}")?;
        }
    }
    out.flush()?;
    Ok(if problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
