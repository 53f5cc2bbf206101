//! gastown: git-native, daemonless multi-agent orchestration. All state lives under
//! `refs/gastown/` as plain git objects; see docs/ARCHITECTURE.md.

pub mod bead;
pub mod cli;
pub mod error;
pub mod formula;
pub mod runtime;
pub mod session;
pub mod store;
pub mod sync;

pub use error::{Error, Result};
