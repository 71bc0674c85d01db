//! Plan documents and their lifecycle.
//!
//! A plan is the XML agreement between a primary (data owner) and a secondary (receiver) about
//! which slices flow between them (see `spec/plans.md`). This crate is pure: no HTTP, SQL,
//! async or clock; callers pass timestamps in.
//!
//! # Design
//!
//! - **The schema file is the source of truth.** `schema/plan.xsd` is embedded and interpreted
//!   at run time by [`Schema`], a small XSD engine for exactly the subset the plan schema uses
//!   (see the [`Schema`] docs). Constructs outside the subset are refused when the schema is
//!   compiled ([`Error::UnsupportedSchema`]), so a schema edit can never be half-enforced.
//!   libxml2's `xmllint --schema` is the reference for "valid": `tests/corpus_agreement.rs`
//!   requires the same verdict on every corpus document.
//! - **Validation reports, it does not fail.** [`Schema::validate`] returns every problem as a
//!   [`Diagnostic`] (line, column, element path, message); untrusted input is bounded by
//!   [`Limits`] (size, depth, node count, number of diagnostics), DTDs are refused, and no
//!   input can make it panic.
//! - **Application rules** that the XSD cannot express (a complete plan has a UUID, all UUIDs
//!   are distinct, subscriptions name slices of the primary, register slices name their
//!   register) run in [`validate_plan`] on the same parse, with the same diagnostics.
//! - **A typed model** ([`Plan`]) is built only from a valid document and written back with
//!   [`Plan::to_xml`]; writing then validating then parsing gives the same value.
//! - **The lifecycle** ([`PlanRecord`]) is a state machine over [`PlanStatus`]; each
//!   [`Action`] checks the acting [`Actor`] and either records a [`Transition`] or returns an
//!   error and changes nothing.

#![deny(missing_docs)]

mod checks;
mod document;
mod error;
mod lifecycle;
mod model;
mod xsd;

use std::sync::OnceLock;

pub use document::Limits;
pub use error::{Diagnostic, Error};
pub use lifecycle::{
    Action, Actor, Approval, ConversationRole, DataRole, PlanRecord, PlanStatus, Transition,
};
pub use model::{
    Admin, Capability, Communal, Controller, DeliveryProfile, Instance, Links, MultiLink,
    MultiLinkEntry, Plan, PlanId, Pool, Primary, RegisterSlice, Response, Secondary, Slice,
    Software, Subscription, UniqueLink, NIL_UUID,
};
pub use xsd::Schema;

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
        match document::Parsed::parse(text, limits) {
            Ok(parsed) => document::finish(xsd::Validation::run(self, &parsed, limits), limits),
            Err(problem) => vec![problem],
        }
    }
}

/// Validate a plan document: the plan XSD and then the application rules. Empty means valid.
///
/// Whether register slices name registers that exist is left to the caller, who knows the
/// registers: see [`Plan::register_slices`].
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
    match document::Parsed::parse(text, limits) {
        Ok(parsed) => {
            let mut diagnostics = xsd::Validation::run(schema, &parsed, limits);
            diagnostics.extend(checks::run(schema, &parsed));
            document::finish(diagnostics, limits)
        }
        Err(problem) => vec![problem],
    }
}
