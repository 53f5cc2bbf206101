//! gastown: git-native, daemonless multi-agent orchestration. All state lives under
//! `refs/gastown/` as plain git objects; see docs/ARCHITECTURE.md.

// Only the CLI prints: domain code returns values, and a stray print would corrupt --json.
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

pub mod agent;
pub mod bead;
pub mod board;
#[allow(clippy::print_stdout, clippy::print_stderr)]
pub mod cli;
pub mod convoy;
pub mod dashboard;
pub mod demo;
pub mod detach;
pub mod error;
pub mod escalate;
pub mod feed;
pub mod formula;
pub mod gitcmd;
pub mod hooks;
pub mod mail;
pub mod mq;
pub mod patrol;
pub mod records;
pub mod runtime;
pub mod session;
pub mod sling;
pub mod status;
pub mod store;
pub mod sync;
pub mod telemetry;
pub mod town;

pub use error::{Error, Result};
