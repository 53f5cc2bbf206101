//! What a pass knows about each polecat, read once per rig: the identity record, the
//! session (its file and its OS lock), the hooked bead, a pending `done` intent and the last
//! activity. Only stats and small reads: a quiet town costs a few files per agent. Files
//! that do not parse are reported (and set aside when nothing alive could be using them).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Finding, Pass};
use crate::agent::{done, Agent, Role};
use crate::bead::id::record_path;
use crate::bead::record::Record;
use crate::bead::COLLECTION;
use crate::error::Result;
use crate::records;
use crate::session::{self, SessionInfo, Sessions};
use crate::store::Store;
use crate::town::Rig;

/// One polecat as the pass sees it.
pub(crate) struct Polecat {
    pub agent: Agent,
    pub session_name: String,
    pub session: Option<SessionInfo>,
    pub alive: bool,
    /// The hooked bead's record (None: no hook, or the bead is gone).
    pub bead: Option<Record>,
    /// A pending `done` intent (an interrupted `done`).
    pub intent: Option<Value>,
    pub intent_age_secs: Option<i64>,
    pub last_activity: Option<DateTime<Utc>>,
    pub sandbox: Option<PathBuf>,
    pub sandbox_exists: bool,
}

impl Polecat {
    pub fn address(&self) -> String {
        self.agent.address.to_string()
    }

    /// The hooked bead's id.
    pub fn hook(&self) -> Option<&str> {
        self.agent.hook.as_deref()
    }

    /// What identifies the session that ran last: its start time (a new session, a new key).
    pub fn session_key(&self) -> String {
        self.session
            .as_ref()
            .map(|s| s.started_at.to_rfc3339())
            .unwrap_or_else(|| "no-session-record".to_string())
    }

    /// When the agent last showed progress: its hooks' activity, else its session's start.
    pub fn last_progress(&self) -> Option<DateTime<Utc>> {
        let started = self.session.as_ref().map(|s| s.started_at);
        match (self.last_activity, started) {
            (Some(a), Some(s)) => Some(a.max(s)),
            (a, s) => a.or(s),
        }
    }
}

pub(crate) struct Facts {
    pub polecats: Vec<Polecat>,
    /// Files that did not parse, and what was done about them.
    pub problems: Vec<Finding>,
}

pub(crate) fn gather(pass: &Pass<'_, '_>, rig: &Rig, store: &Store) -> Result<Facts> {
    let snap = store.snapshot(COLLECTION)?;
    let sessions = Sessions::new(&store.state_dir());
    let state_dir = store.state_dir();
    let mut facts = Facts {
        polecats: Vec::new(),
        problems: Vec::new(),
    };
    let agents = pass.agents.list(Some(&rig.name), false)?;
    for agent in agents.into_iter().filter(|a| a.role == Role::Polecat) {
        let address = agent.address.to_string();
        let session_name = agent.address.session_name();
        let alive = sessions.is_alive(&session_name).unwrap_or(false);
        let session = match sessions.info(&session_name) {
            Ok(info) => info,
            Err(err) => {
                facts.problems.push(
                    corrupt_session_file(pass, &sessions, &session_name, alive, &err)
                        .agent(&address),
                );
                None
            }
        };
        let bead = match &agent.hook {
            Some(id) => records::read(&snap, &record_path(id)).ok().flatten(),
            None => None,
        };
        let intent_file = done::intent_path(store, &agent.address);
        let (intent, intent_age_secs) = match std::fs::metadata(&intent_file) {
            Err(_) => (None, None),
            Ok(meta) => {
                let age = meta
                    .modified()
                    .ok()
                    .and_then(|m| m.elapsed().ok())
                    .map(|d| d.as_secs() as i64);
                match done::pending_intent(store, &agent.address) {
                    Some(intent) => (Some(intent), age),
                    None => {
                        facts.problems.push(
                            corrupt_intent(pass, &intent_file, agent.hook.is_none())
                                .agent(&address),
                        );
                        (None, None)
                    }
                }
            }
        };
        let last_activity = match session::last_activity(&state_dir, &address) {
            Ok(t) => t,
            Err(err) => {
                facts.problems.push(
                    Finding::new(
                        "witness",
                        "corrupt-activity-file",
                        format!(
                            "{}; ignored (the next hook event rewrites it)",
                            crate::error::one_line(&err.to_string())
                        ),
                    )
                    .agent(&address),
                );
                None
            }
        };
        let sandbox = agent.sandbox.clone();
        let sandbox_exists = sandbox.as_ref().is_some_and(|p| p.is_dir());
        facts.polecats.push(Polecat {
            agent,
            session_name,
            session,
            alive,
            bead,
            intent,
            intent_age_secs,
            last_activity,
            sandbox,
            sandbox_exists,
        });
    }
    Ok(facts)
}

/// A session file that does not parse: set aside (renamed `.corrupt`) when no process of
/// the session lives, so the next start writes a fresh one; reported either way.
fn corrupt_session_file(
    pass: &Pass<'_, '_>,
    sessions: &Sessions,
    name: &str,
    alive: bool,
    err: &crate::error::Error,
) -> Finding {
    let finding = Finding::new(
        "witness",
        "corrupt-session-file",
        crate::error::one_line(&err.to_string()),
    );
    if alive {
        return finding; // its session runs: leave its file to it
    }
    let path = sessions.dir().join(format!("{name}.json"));
    pass.act(finding.action("set-aside"), || {
        set_aside(&path)?;
        Ok(super::Acted::Done(Some(format!(
            "moved to {}.corrupt",
            path.display()
        ))))
    })
}

/// A `done` intent that does not parse. With the agent's hook empty, `done`'s one write
/// happened and the file is only clean-up left: set aside. Otherwise it is kept for a
/// person (the work it describes may not be recorded yet).
fn corrupt_intent(pass: &Pass<'_, '_>, path: &std::path::Path, hook_empty: bool) -> Finding {
    let finding = Finding::new(
        "witness",
        "corrupt-done-intent",
        format!("{} does not parse", path.display()),
    );
    if !hook_empty {
        return finding;
    }
    let path = path.to_path_buf();
    pass.act(finding.action("set-aside"), move || {
        set_aside(&path)?;
        Ok(super::Acted::Done(None))
    })
}

fn set_aside(path: &std::path::Path) -> Result<()> {
    let mut aside = path.as_os_str().to_owned();
    aside.push(".corrupt");
    std::fs::rename(path, &aside)
        .map_err(|e| crate::error::Error::io(format!("moving {}", path.display()), e))
}
