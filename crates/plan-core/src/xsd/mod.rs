//! An XSD interpreter for the subset of XML Schema 1.0 that the plan schema uses.
//!
//! [`Schema::parse`] reads a `.xsd` file with roxmltree and compiles it into a small arena of
//! element declarations, complex types and simple types (indices instead of references, so
//! recursive types need no `Rc`). Every construct of the schema is checked against the
//! supported subset; anything else is an [`Error::UnsupportedSchema`], never silently ignored,
//! because ignoring a constraint would accept documents libxml2 rejects.
//!
//! Supported: global elements; named and anonymous complex types; `xs:sequence` of local
//! elements with `minOccurs`/`maxOccurs`; empty content; attributes (`use` required, optional,
//! prohibited) and attribute groups (nested); simple types restricting `xs:string` or another
//! such simple type with `length`, `minLength`, `maxLength`, `pattern` and `enumeration`
//! (facets of every derivation step apply); `xs:unique` with a selector that is a union of child
//! names and a single `@attr` field; `xs:annotation` anywhere.

mod compile;
mod names;
mod regex;
mod schema;
pub(crate) mod validate;

pub use schema::Schema;
