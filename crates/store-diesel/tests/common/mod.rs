//! Test databases (`store_diesel::testing`, feature `testing`) and the shared RSF fixtures.
#![allow(dead_code)]

pub use store_diesel::testing::*;

/// A fixture of `crates/register-core/tests/data`.
pub fn data(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../register-core/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
