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
//!   [`Limits`] (size, depth, elements, attributes, namespaces, value length, nodes, number
//!   of diagnostics), checked by a linear pre-scan before any tree is built; DTDs are
//!   refused, no input can make it panic, and validation time is linear in the document.
//! - **Application rules** that the XSD cannot express (a complete plan has a UUID, all UUIDs
//!   are distinct, subscriptions name slices of the primary, register slices name their
//!   register) run in [`validate_plan`] on the same parse, with the same diagnostics.
//! - **A typed model** ([`Plan`]) is built only from a valid document and written back with
//!   [`Plan::to_xml`]; writing then validating then parsing gives the same value.
//! - **The lifecycle** ([`PlanRecord`]) is a state machine over [`PlanStatus`]; each
//!   [`Action`] checks the acting [`Actor`] and either records a [`Transition`] or returns an
//!   error and changes nothing.
//! - **Modules form layers**, each using only those below it: `status` (the lifecycle's
//!   words), `error`, `limits`, `scan` and `document` (untrusted-input guard), `xsd`,
//!   `checks` (the application rules), `validate` (the one validation path, used by [`validate_plan_with`] and
//!   [`Plan::from_xml`] alike), `model`, `lifecycle`.

#![deny(missing_docs)]

mod checks;
mod document;
mod error;
mod lifecycle;
mod limits;
mod model;
mod read;
mod scan;
mod status;
mod validate;
mod write;
mod xsd;

pub use checks::NIL_UUID;
pub use error::{Diagnostic, Error};
pub use lifecycle::{Approval, PlanRecord, Transition};
pub use limits::Limits;
pub use model::{
    Admin, Capability, Communal, Controller, DeliveryProfile, Instance, Links, MultiLink,
    MultiLinkEntry, Plan, PlanId, Pool, Primary, RegisterSlice, Response, Secondary, Slice,
    Software, Subscription, UniqueLink, CHECKPOINT_KEY_FIELD, COSIGNER_KEY_FIELD, INDEX_FIELD,
    REGISTER_FIELD,
};
pub use status::{Action, Actor, ConversationRole, DataRole, PlanStatus};
pub use validate::{plan_schema, validate_plan, validate_plan_with, PLAN_XSD};
pub use xsd::Schema;
