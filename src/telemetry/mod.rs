//! Telemetry (docs/TELEMETRY.md): when an OTLP endpoint is configured (`GT_OTEL_LOGS_URL`,
//! `GT_OTEL_METRICS_URL`, or the town settings `telemetry.logs_url` / `telemetry.metrics_url`),
//! commands export what they did: log records (`gastown.sling`, `gastown.done`,
//! `gastown.polecat.spawn`) and counters and durations (`gastown.sling.total`,
//! `gastown.done.total`, `gastown.polecat.spawns.total`, `gastown.sling.duration_ms`,
//! `gastown.done.duration_ms`) carrying `rig`, `role` and `agent` attributes.
//!
//! A command records into an in-process batch (no I/O) and the batch goes out once, when the
//! command ends ([`flush`], called by the CLI's exit path), over OTLP/HTTP with JSON bodies,
//! within a total deadline ([`DEFAULT_DEADLINE_MS`]): a slow, absent or broken collector
//! costs a command at most that, and nothing is reported. Telemetry never fails a command.

mod export;
mod otlp;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::agent::done::DoneReport;
use crate::sling::Dispatch;
use crate::store::Store;
use crate::town::{settings, Town};

pub use export::Flushed;

/// How long the exit path may spend exporting, all requests together.
pub const DEFAULT_DEADLINE_MS: u64 = 150;
/// The most `GT_OTEL_TIMEOUT_MS` may ask for (a remote collector over a slow link).
const MAX_DEADLINE_MS: u64 = 5_000;

/// Attributes of one record or data point: sorted, so equal sets aggregate.
pub type Attributes = BTreeMap<&'static str, String>;

/// Where to send: full OTLP/HTTP URLs, or base URLs to which `/v1/logs` and `/v1/metrics`
/// are appended (as OTEL_EXPORTER_OTLP_ENDPOINT is used).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    pub logs: Option<String>,
    pub metrics: Option<String>,
}

impl Endpoints {
    /// The environment's endpoints, then the town's settings for what it leaves unset.
    pub fn resolve(town: Option<&Store>) -> Endpoints {
        let mut endpoints = Endpoints {
            logs: env_url("GT_OTEL_LOGS_URL"),
            metrics: env_url("GT_OTEL_METRICS_URL"),
        };
        if let Some(store) = town {
            if endpoints.logs.is_none() {
                endpoints.logs = setting_url(store, "telemetry.logs_url");
            }
            if endpoints.metrics.is_none() {
                endpoints.metrics = setting_url(store, "telemetry.metrics_url");
            }
        }
        endpoints
    }

    pub fn is_empty(&self) -> bool {
        self.logs.is_none() && self.metrics.is_none()
    }
}

fn env_url(key: &str) -> Option<String> {
    std::env::var(key)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn setting_url(store: &Store, key: &str) -> Option<String> {
    // A setting that cannot be read disables telemetry, it never fails the command.
    let setting = settings::effective(None, store, key).ok()?;
    setting
        .value
        .as_str()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// One log record: an event with its time and attributes.
#[derive(Debug, Clone)]
pub struct LogRecord {
    pub name: &'static str,
    pub at: SystemTime,
    pub attributes: Attributes,
}

/// What a command recorded, waiting for [`flush`].
#[derive(Debug, Clone)]
pub struct Batch {
    pub started: SystemTime,
    pub logs: Vec<LogRecord>,
    /// Monotonic counters, by name and attribute set (delta: this command's increments).
    pub counters: BTreeMap<(&'static str, Attributes), u64>,
    /// Durations in milliseconds, by histogram name and attribute set.
    pub durations: BTreeMap<(&'static str, Attributes), Vec<f64>>,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            started: SystemTime::now(),
            logs: Vec::new(),
            counters: BTreeMap::new(),
            durations: BTreeMap::new(),
        }
    }
}

impl Batch {
    pub fn event(&mut self, name: &'static str, attributes: Attributes) {
        self.logs.push(LogRecord {
            name,
            at: SystemTime::now(),
            attributes,
        });
    }

    pub fn count(&mut self, name: &'static str, attributes: Attributes) {
        *self.counters.entry((name, attributes)).or_default() += 1;
    }

    pub fn duration(&mut self, name: &'static str, attributes: Attributes, elapsed: Duration) {
        self.durations
            .entry((name, attributes))
            .or_default()
            .push(elapsed.as_secs_f64() * 1000.0);
    }

    pub fn is_empty(&self) -> bool {
        self.logs.is_empty() && self.counters.is_empty() && self.durations.is_empty()
    }

    /// The batch for what `git sling` did: one event and one count per bead (and per polecat
    /// session it started), and the command's duration.
    pub fn sling(&mut self, rig: Option<&str>, dispatches: &[Dispatch], elapsed: Duration) {
        for d in dispatches {
            let mut attributes = Attributes::new();
            let rig = d.agent.as_ref().and_then(|a| a.rig.as_deref()).or(rig);
            if let Some(rig) = rig {
                attributes.insert("rig", rig.to_string());
            }
            if let Some(agent) = &d.agent {
                attributes.insert("role", agent.role.as_str().to_string());
                attributes.insert("agent", agent.to_string());
            }
            attributes.insert("outcome", d.outcome.clone());
            self.count("gastown.sling.total", attributes.clone());
            let spawned = d.outcome == "started"
                && d.agent
                    .as_ref()
                    .is_some_and(|a| a.role == crate::agent::Role::Polecat);
            if spawned {
                self.count("gastown.polecat.spawns.total", attributes.clone());
            }
            // The bead goes on the records only: as a counter attribute it would make one
            // series per bead.
            let mut detailed = attributes;
            detailed.insert("bead", d.bead.clone());
            if let Some(runtime) = &d.runtime {
                detailed.insert("runtime", runtime.clone());
            }
            if spawned {
                self.event("gastown.polecat.spawn", detailed.clone());
            }
            self.event("gastown.sling", detailed);
        }
        let mut attributes = Attributes::new();
        if let Some(rig) = rig {
            attributes.insert("rig", rig.to_string());
        }
        self.duration("gastown.sling.duration_ms", attributes, elapsed);
    }

    /// The batch for what `git agent done` did.
    pub fn done(&mut self, report: &DoneReport, elapsed: Duration) {
        let mut attributes = Attributes::new();
        if let Some(rig) = &report.agent.rig {
            attributes.insert("rig", rig.clone());
        }
        attributes.insert("role", report.agent.role.as_str().to_string());
        attributes.insert("agent", report.agent.to_string());
        let status = serde_json::to_value(report.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        attributes.insert("status", status);
        self.count("gastown.done.total", attributes.clone());
        self.duration("gastown.done.duration_ms", attributes.clone(), elapsed);
        let mut detailed = attributes;
        detailed.insert("bead", report.bead.clone());
        if let Some(mr) = &report.merge_request {
            detailed.insert("merge_request", mr.id.clone());
        }
        self.event("gastown.done", detailed);
    }
}

/// The process's pending telemetry: where it goes (resolved at the first record) and what.
struct Pending {
    endpoints: Endpoints,
    batch: Batch,
}

static PENDING: Mutex<Option<Pending>> = Mutex::new(None);

/// Record what a command did, to be exported when it ends. `fill` adds to the batch; when no
/// endpoint is configured nothing is kept (the settings are read once per process).
pub fn record(town: &Town, fill: impl FnOnce(&mut Batch)) {
    let Ok(mut pending) = PENDING.lock() else {
        return;
    };
    let pending = pending.get_or_insert_with(|| Pending {
        endpoints: Endpoints::resolve(Some(&town.store)),
        batch: Batch::default(),
    });
    if !pending.endpoints.is_empty() {
        fill(&mut pending.batch);
    }
}

/// `git sling`'s one call: its dispatches and how long it took.
pub fn sling(town: &Town, rig: Option<&str>, dispatches: &[Dispatch], started: Instant) {
    record(town, |b| b.sling(rig, dispatches, started.elapsed()));
}

/// `git agent done`'s one call.
pub fn done(town: &Town, report: &DoneReport, started: Instant) {
    record(town, |b| b.done(report, started.elapsed()));
}

/// Export what was recorded, within the deadline (`GT_OTEL_TIMEOUT_MS`, default
/// [`DEFAULT_DEADLINE_MS`]); None when there was nothing to send. Called once at exit (and
/// by a command about to end its own process group).
pub fn flush() -> Option<Flushed> {
    let pending = PENDING.lock().ok()?.take()?;
    if pending.endpoints.is_empty() || pending.batch.is_empty() {
        return None;
    }
    Some(export_batch(&pending.endpoints, &pending.batch, deadline()))
}

/// Send one batch to the endpoints within `deadline` (all requests together).
pub fn export_batch(endpoints: &Endpoints, batch: &Batch, deadline: Duration) -> Flushed {
    let resource = otlp::resource();
    let now = SystemTime::now();
    let mut requests = Vec::new();
    if let Some(url) = &endpoints.logs {
        if !batch.logs.is_empty() {
            requests.push((
                signal_url(url, "logs"),
                otlp::logs(&resource, batch).to_string(),
            ));
        }
    }
    if let Some(url) = &endpoints.metrics {
        if !batch.counters.is_empty() || !batch.durations.is_empty() {
            requests.push((
                signal_url(url, "metrics"),
                otlp::metrics(&resource, batch, now).to_string(),
            ));
        }
    }
    export::post_all(requests, deadline)
}

fn deadline() -> Duration {
    let ms = std::env::var("GT_OTEL_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(DEFAULT_DEADLINE_MS)
        .min(MAX_DEADLINE_MS);
    Duration::from_millis(ms)
}

/// A base URL (no path, or `/`) gets the signal's path; a URL with a path is used as given.
pub fn signal_url(url: &str, signal: &str) -> String {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) if url[after_scheme + i..] != *"/" => url.to_string(),
        _ => format!("{}/v1/{signal}", url.trim_end_matches('/')),
    }
}

fn unix_nanos(at: SystemTime) -> String {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
        .to_string()
}

#[cfg(test)]
mod tests;
