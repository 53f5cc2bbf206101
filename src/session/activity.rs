//! Activity, working state and the runtime's own session id: small files in the common git
//! dir, rewritten by the runtime's hooks at every turn. Never commits — a commit per turn per
//! agent would flood the refs that `ready` reads — and never in the sandbox.
//!
//! `activity/<agent>.last` holds the last activity time (RFC 3339), `activity/<agent>.state`
//! the working state set by the hooks, `sessions/<name>.runtime.json` the runtime's session id
//! from its SessionStart input, for resuming after a crash. `<agent>` is the address with `/`
//! written as `+`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::check_name;
use crate::error::{Error, Result};

/// What the agent is doing, as its hooks report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentState {
    /// A prompt was submitted and the agent is on it.
    Working,
    /// The turn ended (Stop) or the runtime asks for permission: input would be read now.
    Waiting,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStateRecord {
    pub state: AgentState,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeSession {
    pub runtime: String,
    pub id: String,
    pub at: DateTime<Utc>,
}

/// An agent address as one file name: each segment letters, digits, `.`, `_`, `-` (not `.` or
/// `..`), joined with `+`, so no address reaches outside `activity/`.
fn agent_file(state_dir: &Path, agent: &str, ext: &str) -> Result<PathBuf> {
    let segments: Vec<&str> = agent.split('/').collect();
    let ok = agent.len() <= 200
        && segments.iter().all(|s| {
            !s.is_empty()
                && *s != "."
                && *s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        });
    if !ok {
        return Err(Error::invalid(format!(
            "'{agent}' is not an agent address (segments of letters, digits, . _ - joined by /)"
        )));
    }
    Ok(state_dir
        .join("activity")
        .join(format!("{}.{ext}", segments.join("+"))))
}

/// Write `bytes` to `path` so that readers see the old or the new contents, never a part.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::invalid(format!("{} has no directory", path.display())))?;
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>> {
    match read_optional(path)? {
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::invalid(format!("{}: {e}", path.display()))),
        None => Ok(None),
    }
}

/// Record activity now; returns the time written.
pub fn touch_activity(state_dir: &Path, agent: &str) -> Result<DateTime<Utc>> {
    let now = Utc::now();
    let path = agent_file(state_dir, agent, "last")?;
    write_atomic(&path, format!("{}\n", now.to_rfc3339()).as_bytes())?;
    Ok(now)
}

pub fn last_activity(state_dir: &Path, agent: &str) -> Result<Option<DateTime<Utc>>> {
    let path = agent_file(state_dir, agent, "last")?;
    let Some(bytes) = read_optional(&path)? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&bytes);
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|e| Error::invalid(format!("{}: {e}", path.display())))
}

/// Record the agent's working state (and its activity).
pub fn set_agent_state(
    state_dir: &Path,
    agent: &str,
    state: AgentState,
) -> Result<AgentStateRecord> {
    let at = touch_activity(state_dir, agent)?;
    let record = AgentStateRecord { state, at };
    let json = serde_json::to_vec(&record).expect("state serializes");
    write_atomic(&agent_file(state_dir, agent, "state")?, &json)?;
    Ok(record)
}

pub fn agent_state(state_dir: &Path, agent: &str) -> Result<Option<AgentStateRecord>> {
    read_json(&agent_file(state_dir, agent, "state")?)
}

/// Save the runtime's own session id (from SessionStart's input) for `session`.
pub fn record_runtime_session(
    state_dir: &Path,
    session: &str,
    runtime: &str,
    id: &str,
) -> Result<RuntimeSession> {
    check_name(session)?;
    let record = RuntimeSession {
        runtime: runtime.to_string(),
        id: id.to_string(),
        at: Utc::now(),
    };
    let path = state_dir
        .join("sessions")
        .join(format!("{session}.runtime.json"));
    write_atomic(
        &path,
        &serde_json::to_vec(&record).expect("record serializes"),
    )?;
    Ok(record)
}

pub fn runtime_session(state_dir: &Path, session: &str) -> Result<Option<RuntimeSession>> {
    check_name(session)?;
    read_json(
        &state_dir
            .join("sessions")
            .join(format!("{session}.runtime.json")),
    )
}
