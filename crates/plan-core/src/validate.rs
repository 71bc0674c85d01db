//! Validation entry points: a document against any compiled schema, and a plan against the
//! plan schema and the application rules.
//!
//! [`check_plan`] is the one path a plan document takes, whether the caller wants the
//! diagnostics ([`validate_plan_with`]) or the typed plan (`Plan::from_xml`), so the two can
//! never disagree on what is valid.

use std::sync::OnceLock;

use crate::checks;
use crate::document::{self, Parsed};
use crate::error::{Diagnostic, Error};
use crate::limits::Limits;
use crate::xsd::validate::Validation;
use crate::xsd::Schema;

/// The text of the plan schema, `schema/plan.xsd`.
pub const PLAN_XSD: &str = include_str!("../schema/plan.xsd");

/// The compiled plan schema, compiled once on first use.
pub fn plan_schema() -> Result<&'static Schema, Error> {
    static SCHEMA: OnceLock<Result<Schema, Error>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| Schema::parse(PLAN_XSD))
        .as_ref()
        .map_err(Clone::clone)
}

impl Schema {
    /// Validate a document against this schema with the default [`Limits`]; empty means valid.
    pub fn validate(&self, text: &str) -> Vec<Diagnostic> {
        self.validate_with(text, &Limits::default())
    }

    /// Validate a document against this schema within `limits`; empty means valid.
    pub fn validate_with(&self, text: &str, limits: &Limits) -> Vec<Diagnostic> {
        match Parsed::parse(text, limits) {
            Ok(parsed) => document::finish(Validation::run(self, &parsed, limits), limits),
            Err(problem) => vec![problem],
        }
    }
}

/// Validate a plan document: the plan XSD and then the application rules. Empty means valid.
///
/// Whether register slices name registers that exist is left to the caller, who knows the
/// registers: see [`Plan::register_slices`](crate::Plan::register_slices).
pub fn validate_plan(text: &str) -> Vec<Diagnostic> {
    validate_plan_with(text, &Limits::default())
}

/// [`validate_plan`] within `limits`.
pub fn validate_plan_with(text: &str, limits: &Limits) -> Vec<Diagnostic> {
    let schema = match plan_schema() {
        Ok(schema) => schema,
        Err(e) => {
            return vec![Diagnostic {
                line: 1,
                column: 1,
                path: "/".into(),
                message: format!("plan schema: {e}"),
            }]
        }
    };
    match check_plan(schema, text, limits) {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics,
    }
}

/// Parses `text` within `limits` and checks it against `schema` and then the application
/// rules, on the same parse: the parsed document when it passes, else every problem (sorted
/// and capped as [`Limits`] says).
pub(crate) fn check_plan<'a>(
    schema: &Schema,
    text: &'a str,
    limits: &Limits,
) -> Result<Parsed<'a>, Vec<Diagnostic>> {
    let parsed = Parsed::parse(text, limits).map_err(|problem| vec![problem])?;
    let mut diagnostics = Validation::run(schema, &parsed, limits);
    diagnostics.extend(checks::run(schema, &parsed));
    if diagnostics.is_empty() {
        Ok(parsed)
    } else {
        Err(document::finish(diagnostics, limits))
    }
}
