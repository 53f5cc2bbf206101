//! The queue's settings for one rig (`git gastown config`, rig over town over default).

use std::collections::BTreeMap;

use crate::error::Result;
use crate::store::Store;
use crate::town::settings;

use super::gates::{self, Gate};

#[derive(Debug, Clone)]
pub struct Config {
    /// The configured target; `None`: the rig's HEAD branch.
    pub target: Option<String>,
    pub auto: bool,
    pub strategy: String,
    pub batch_size: usize,
    pub max_retries: u64,
    pub delete_merged: bool,
    pub gates: Vec<Gate>,
    pub gates_parallel: bool,
    pub starve_after_s: u64,
}

const GATE_PREFIX: &str = "merge_queue.gates.";
const TIMEOUT_PREFIX: &str = "merge_queue.gate_timeouts.";

impl Config {
    pub fn load(rig_store: &Store, rig_name: &str, town: &Store) -> Result<Config> {
        let get = |key: &str| settings::effective(Some(rig_store), town, key).map(|s| s.value);
        let duration = |key: &str| -> Result<u64> {
            Ok(get(key)?
                .as_str()
                .and_then(settings::parse_duration)
                .unwrap_or(0))
        };
        let mut commands = BTreeMap::new();
        let mut timeouts = BTreeMap::new();
        for s in settings::effective_all(Some((rig_store, Some(rig_name))), town)? {
            if let Some(name) = s.key.strip_prefix(GATE_PREFIX) {
                if let Some(cmd) = s.value.as_str() {
                    commands.insert(name.to_string(), cmd.to_string());
                }
            } else if let Some(name) = s.key.strip_prefix(TIMEOUT_PREFIX) {
                if let Some(secs) = s.value.as_str().and_then(settings::parse_duration) {
                    timeouts.insert(name.to_string(), secs);
                }
            }
        }
        let strategy = get("merge_queue.strategy")?
            .as_str()
            .unwrap_or("rebase")
            .to_string();
        if !["rebase", "merge"].contains(&strategy.as_str()) {
            return Err(crate::error::Error::invalid(format!(
                "merge_queue.strategy is '{strategy}': use rebase or merge"
            )));
        }
        Ok(Config {
            target: get("merge_queue.target")?
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            auto: get("merge_queue.auto")?.as_bool().unwrap_or(true),
            strategy,
            batch_size: get("merge_queue.batch_size")?
                .as_u64()
                .unwrap_or(1)
                .clamp(1, 256) as usize,
            max_retries: get("merge_queue.max_retries")?.as_u64().unwrap_or(5),
            delete_merged: get("merge_queue.delete_merged")?.as_bool().unwrap_or(true),
            gates: gates::configured(
                &commands,
                &timeouts,
                duration("merge_queue.gate_timeout")?.max(1),
            ),
            gates_parallel: get("merge_queue.gates_parallel")?.as_bool().unwrap_or(true),
            starve_after_s: duration("merge_queue.starve_after")?,
        })
    }
}
