//! Nudges: short texts for a live session, never kept as mail. A nudge is a plain file in
//! the common git dir of the store that holds the agent (where its session files are):
//! `gastown/nudges/<session>/<time>-<pid>-<n>.json`. The runtime's UserPromptSubmit hook
//! (`git mail check --inject`) drains the queue at the session's next turn boundary; each
//! file is claimed by rename, so two hooks racing never show one nudge twice. Runtimes
//! without hooks get the text typed into their tmux pane instead. Every delivery is a line of
//! `gastown/nudges/delivered.log`.
//!
//! Do-not-disturb is a file `gastown/dnd/<session>`: a nudge to such an agent is refused
//! unless forced, and `check --inject` then injects only urgent mail.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};

use super::address::Resolver;
use super::Mail;
use crate::agent::{Address, Agents};
use crate::error::{Error, Result};
use crate::runtime::{HookKind, Runtimes};
use crate::session::Sessions;
use crate::town::Town;

/// Queued nudges per session at most: past this, an agent is not reading them.
pub const MAX_QUEUED: usize = 50;
/// A queued nudge older than this is dropped (and logged) instead of delivered: 30 minutes,
/// as Gas Town's queue, so a stale "check your mail" never arrives hours late.
pub const TTL_SECS: i64 = 30 * 60;
/// A nudge is a line or two, not a message.
pub const MAX_TEXT_BYTES: usize = 4096;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Nudge {
    pub id: String,
    pub from: String,
    pub to: String,
    pub text: String,
    pub created_at: String,
}

/// What `git mail nudge` did for one agent.
#[derive(Debug, Clone, Serialize)]
pub struct NudgeReport {
    pub id: String,
    pub to: String,
    pub session: String,
    /// `queued` (for the runtime's hook) or `tmux` (typed into the pane).
    pub via: &'static str,
    /// The agent was in do-not-disturb and `--force` was given.
    pub forced: bool,
}

/// Where an agent's session state lives: the common git dir of the store holding it.
pub fn state_dir_of(town: &Town, address: &Address) -> Result<PathBuf> {
    let (store, _) = Agents::new(town).store_for(address)?;
    Ok(store.state_dir())
}

fn queue_dir(state_dir: &Path, session: &str) -> PathBuf {
    state_dir.join("nudges").join(session)
}

fn dnd_file(state_dir: &Path, session: &str) -> PathBuf {
    state_dir.join("dnd").join(session)
}

pub fn is_dnd(state_dir: &Path, session: &str) -> bool {
    dnd_file(state_dir, session).exists()
}

/// Turn do-not-disturb on or off; whether it changed.
pub fn set_dnd(state_dir: &Path, session: &str, on: bool) -> Result<bool> {
    crate::session::check_name(session)?;
    let path = dnd_file(state_dir, session);
    if on == path.exists() {
        return Ok(false);
    }
    if on {
        let dir = path.parent().expect("dnd files live in a directory");
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        std::fs::write(&path, format!("{}\n", crate::bead::schema::now_rfc3339()))
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    } else {
        std::fs::remove_file(&path)
            .map_err(|e| Error::io(format!("removing {}", path.display()), e))?;
    }
    Ok(true)
}

/// The text of a nudge, checked: not empty, at most [`MAX_TEXT_BYTES`], no control
/// characters but newlines and tabs (it may be typed into a terminal).
pub fn validate_text(text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::invalid("the nudge text is empty"));
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(Error::invalid(format!(
            "the nudge text has {} bytes, at most {MAX_TEXT_BYTES}; send mail instead",
            text.len()
        )));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Error::invalid("the nudge text has control characters"));
    }
    Ok(())
}

/// Nudge every agent `word` names (an agent, a group, a pattern). All or nothing: an
/// unknown address, a full queue or do-not-disturb without `force` refuses before any
/// nudge is queued.
pub fn nudge(
    town: &Town,
    from: &str,
    word: &str,
    text: &str,
    force: bool,
) -> Result<Vec<NudgeReport>> {
    validate_text(text)?;
    let lists = Mail::new(town).lists()?;
    let recipients = Resolver::new(town, &lists).resolve_all(&[word.to_string()])?;
    let mut plans = Vec::new();
    for r in &recipients {
        let address = Address::parse(r).map_err(|_| {
            Error::invalid(format!(
                "cannot nudge '{r}': only agents have sessions (send mail instead)"
            ))
        })?;
        let state_dir = state_dir_of(town, &address)?;
        let session = address.session_name();
        let dnd = is_dnd(&state_dir, &session);
        if dnd && !force {
            return Err(Error::invalid(format!(
                "{address} is in do-not-disturb; pass --force to nudge anyway"
            )));
        }
        if queued(&state_dir, &session) >= MAX_QUEUED {
            return Err(Error::invalid(format!(
                "{address} has {MAX_QUEUED} nudges waiting already; it is not reading them"
            )));
        }
        plans.push((address, state_dir, session, dnd));
    }
    let agents = Agents::new(town);
    let mut out = Vec::new();
    for (address, state_dir, session, forced) in plans {
        let nudge = Nudge {
            id: new_file_name(),
            from: from.to_string(),
            to: address.to_string(),
            text: text.to_string(),
            created_at: crate::bead::schema::now_rfc3339(),
        };
        let via = if has_no_hooks(&agents, &address)?
            && Sessions::new(&state_dir).type_text(&session, text)?
        {
            log(&state_dir, &nudge, &session, "tmux");
            "tmux"
        } else {
            enqueue(&state_dir, &session, &nudge)?;
            "queued"
        };
        out.push(NudgeReport {
            id: nudge.id,
            to: nudge.to,
            session,
            via,
            forced,
        });
    }
    Ok(out)
}

/// Whether the agent's runtime (as last started) has no hooks to drain a queue.
fn has_no_hooks(agents: &Agents<'_>, address: &Address) -> Result<bool> {
    let Ok(agent) = agents.get(address) else {
        return Ok(false);
    };
    let Some(runtime) = agent.runtime else {
        return Ok(false);
    };
    let (store, _) = agents.store_for(address)?;
    Ok(Runtimes::from_repo(store.repo())
        .get(&runtime)
        .map(|r| r.hooks == HookKind::None)
        .unwrap_or(false))
}

/// Sortable, unique file names: nanoseconds, pid and a counter.
fn new_file_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{nanos:020}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn queued(state_dir: &Path, session: &str) -> usize {
    std::fs::read_dir(queue_dir(state_dir, session))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| is_queued(&e.file_name().to_string_lossy()))
                .count()
        })
        .unwrap_or(0)
}

fn is_queued(name: &str) -> bool {
    !name.starts_with('.') && name.ends_with(".json")
}

/// Write the nudge into the queue whole: a temporary file renamed into place.
fn enqueue(state_dir: &Path, session: &str, nudge: &Nudge) -> Result<()> {
    let dir = queue_dir(state_dir, session);
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let tmp = dir.join(format!(".{}.tmp", nudge.id));
    let bytes = serde_json::to_vec(nudge).expect("nudges serialize");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, dir.join(format!("{}.json", nudge.id))))
        .map_err(|e| Error::io(format!("queueing a nudge in {}", dir.display()), e))
}

/// Take every queued nudge of `session`, oldest first. Each file is claimed by renaming
/// it (one process wins each), read, logged as delivered by the hook and removed; expired
/// ones are logged as such and dropped.
pub fn drain(state_dir: &Path, session: &str) -> Result<Vec<Nudge>> {
    let dir = queue_dir(state_dir, session);
    let mut names: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(d) => d
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| is_queued(n))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(format!("reading {}", dir.display()), e)),
    };
    names.sort();
    let now = chrono::Utc::now();
    let mut out = Vec::new();
    for name in names {
        let claimed = dir.join(format!(".taken-{}-{name}", std::process::id()));
        if std::fs::rename(dir.join(&name), &claimed).is_err() {
            continue; // another hook took it
        }
        let parsed: Option<Nudge> = std::fs::read(&claimed)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let _ = std::fs::remove_file(&claimed);
        let Some(nudge) = parsed else { continue };
        let age = chrono::DateTime::parse_from_rfc3339(&nudge.created_at)
            .map(|t| (now - t.with_timezone(&chrono::Utc)).num_seconds())
            .unwrap_or(0);
        if age > TTL_SECS {
            log(state_dir, &nudge, session, "expired");
            continue;
        }
        log(state_dir, &nudge, session, "hook");
        out.push(nudge);
    }
    Ok(out)
}

/// One line per delivery; appended with one write (atomic for lines this short).
fn log(state_dir: &Path, nudge: &Nudge, session: &str, via: &str) {
    let path = state_dir.join("nudges").join("delivered.log");
    let line = serde_json::json!({
        "at": crate::bead::schema::now_rfc3339(),
        "id": nudge.id,
        "session": session,
        "to": nudge.to,
        "from": nudge.from,
        "via": via,
    });
    let _ = std::fs::create_dir_all(path.parent().expect("in a directory"));
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        let _ = file.write_all(format!("{line}\n").as_bytes());
    }
}

/// The delivery log (newest last), for `git mail nudge --log`.
pub fn delivery_log(state_dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(state_dir.join("nudges").join("delivered.log"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
