//! gastown: git-native, daemonless multi-agent orchestration. All state lives under
//! `refs/gastown/` as plain git objects; see docs/ARCHITECTURE.md.

pub mod agent;
pub mod bead;
pub mod cli;
pub mod error;
pub mod formula;
pub mod gitcmd;
pub mod mq;
pub mod records;
pub mod store;
pub mod sync;
pub mod town;

pub use error::{Error, Result};
