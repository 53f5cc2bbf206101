//! Sync and load benchmarks (called by `git gastown bench`).

use std::path::Path;

use crate::error::Result;

/// Medians of the sync and load benchmarks, as JSON.
pub fn bench_sync(_work_dir: &Path, _runs: usize) -> Result<serde_json::Value> {
    Ok(serde_json::json!({}))
}
