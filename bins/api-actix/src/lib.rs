//! `api-actix` as a library: the HTTP server, for the binary and for tests.

pub mod node;
pub mod server;
pub mod sync;
