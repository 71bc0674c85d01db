//! The server's test support (`server_actix::testing`), for tests that run it beside the CLI.
#![allow(dead_code)]

pub use server_actix::testing::*;
