//! Past sessions of an agent (`git agent seance`): a bounded history on the agent's record
//! (field `sessions`, the newest [`HISTORY_LIMIT`] entries), written inside the one write
//! that starts, stops or ends a session — start, stop, restart, done, handoff, nuke — so
//! the history is exactly as durable as the agent's state and costs no extra commit. The
//! session files beside the store are overwritten by the next session; the record is not.
//!
//! A session whose end nobody recorded (killed, crashed, or stopped by code that does not
//! record) shows `exited`; the live one shows `running`.
//!
//! `--talk ID` opens the runtime's own session again for a person, forked where the runtime
//! can fork (Claude's `--fork-session`), so the agent's session is left as it was.

use std::ffi::OsString;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Address, Agents};
use crate::bead::record::{Record, Stamp};
use crate::bead::schema::now_rfc3339;
use crate::error::{Error, Result};
use crate::runtime::Runtimes;
use crate::session::{self, Sessions};
use crate::store::Actor;

/// The record field holding the history.
const FIELD: &str = "sessions";
/// Entries kept; older ones are dropped by the write that adds a new one.
pub const HISTORY_LIMIT: usize = 20;

/// Recorded outcomes (besides `done`'s statuses: completed, escalated, deferred).
pub const STOPPED: &str = "stopped";
pub const RESTARTED: &str = "restarted";
pub const HANDOFF: &str = "handoff";
pub const NUKED: &str = "nuked";
/// Derived when reading: the live session, and a session whose end was not recorded.
pub const RUNNING: &str = "running";
pub const EXITED: &str = "exited";

/// One session as the record keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEntry {
    /// 1, 2, 3, … per agent: what `--talk` takes (as does the runtime's session id).
    pub id: u64,
    pub runtime: String,
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    /// The runtime's own session id, as its SessionStart hook reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_session_id: Option<String>,
    /// The runtime session this one resumed (`restart`, `start --resume`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed: Option<String>,
    /// The bead on the hook when the session started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// One past (or the current) session, as `seance` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct PastSession {
    #[serde(flatten)]
    pub entry: SessionEntry,
    /// The recorded outcome, else `running` or `exited`.
    pub outcome: String,
    /// Seconds from start to end (to now while running); unknown for an unrecorded end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_s: Option<i64>,
}

/// `git agent seance`.
#[derive(Debug, Clone, Serialize)]
pub struct Seance {
    pub agent: Address,
    /// Oldest first.
    pub sessions: Vec<PastSession>,
}

/// What `--talk` runs: an argument vector in the agent's sandbox.
#[derive(Debug, Clone, Serialize)]
pub struct Talk {
    pub agent: Address,
    pub session: u64,
    pub runtime: String,
    pub runtime_session_id: String,
    /// A copy of the session (the agent's own is untouched), rather than the session itself.
    pub forked: bool,
    pub cwd: PathBuf,
    #[serde(serialize_with = "lossy_words")]
    pub argv: Vec<OsString>,
}

fn lossy_words<S: serde::Serializer>(
    argv: &[OsString],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(argv.iter().map(|a| a.to_string_lossy().into_owned()))
}

/// The history on a record, oldest first (an unreadable field reads as none).
pub fn history(record: &Record) -> Vec<SessionEntry> {
    record
        .get(FIELD)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

fn put(record: &mut Record, stamp: &Stamp, entries: &[SessionEntry]) -> bool {
    record.set(FIELD, json!(entries), stamp)
}

/// Within a write: a session of `runtime` started at `started_at`. An entry still open
/// ended without a record of how (`exited` stays derived: nothing is invented).
pub(crate) fn open_in(
    record: &mut Record,
    stamp: &Stamp,
    runtime: &str,
    started_at: &str,
    hook: Option<&str>,
    resumed: Option<&str>,
    runtime_session_id: Option<&str>,
) -> bool {
    let mut entries = history(record);
    let id = entries.last().map_or(1, |e| e.id + 1);
    entries.push(SessionEntry {
        id,
        runtime: runtime.to_string(),
        started_at: started_at.to_string(),
        ended_at: None,
        runtime_session_id: runtime_session_id.map(str::to_string),
        resumed: resumed.map(str::to_string),
        hook: hook.map(str::to_string),
        outcome: None,
    });
    let excess = entries.len().saturating_sub(HISTORY_LIMIT);
    entries.drain(..excess);
    put(record, stamp, &entries)
}

/// Within a write: the open session (the newest, if it has no end) ended with `outcome`.
/// False when no session was open.
pub(crate) fn close_in(record: &mut Record, stamp: &Stamp, outcome: &str) -> bool {
    let mut entries = history(record);
    match entries.last_mut() {
        Some(last) if last.ended_at.is_none() => {
            last.ended_at = Some(now_rfc3339());
            last.outcome = Some(outcome.to_string());
        }
        _ => return false,
    }
    put(record, stamp, &entries)
}

/// Within a write: the runtime reported its session id for the open session that started
/// at `started_at` (so a report racing a newer start never lands on an older entry).
pub(crate) fn note_runtime_id_in(
    record: &mut Record,
    stamp: &Stamp,
    started_at: &DateTime<Utc>,
    id: &str,
) -> bool {
    let mut entries = history(record);
    match entries.last_mut() {
        Some(last)
            if last.ended_at.is_none()
                && same_instant(&last.started_at, started_at)
                && last.runtime_session_id.as_deref() != Some(id) =>
        {
            last.runtime_session_id = Some(id.to_string());
        }
        _ => return false,
    }
    put(record, stamp, &entries)
}

fn same_instant(text: &str, at: &DateTime<Utc>) -> bool {
    DateTime::parse_from_rfc3339(text).is_ok_and(|t| t.with_timezone(&Utc) == *at)
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The times a session entry records (RFC 3339 with the exact instant, so a hook's report
/// matches its session's entry).
pub(crate) fn stamp_time(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

impl Agents<'_> {
    /// The agent's past sessions, oldest first, the live one marked `running`.
    pub fn seance(&self, address: &Address) -> Result<Seance> {
        let (store, _) = self.store_for(address)?;
        let snap = store.snapshot(crate::bead::COLLECTION)?;
        let record = crate::records::read(&snap, &address.record_path())?
            .ok_or_else(|| super::unknown(address))?;
        let sessions = Sessions::new(&store.state_dir());
        let name = address.session_name();
        let alive = sessions.is_alive(&name)?;
        let current = sessions.info(&name)?.map(|i| i.started_at);
        let now = Utc::now();
        let entries = history(&record);
        let last = entries.len().saturating_sub(1);
        let sessions = entries
            .into_iter()
            .enumerate()
            .map(|(i, entry)| {
                let running = i == last
                    && entry.ended_at.is_none()
                    && alive
                    && current.is_some_and(|c| same_instant(&entry.started_at, &c));
                let outcome = match (&entry.outcome, running) {
                    (Some(o), _) => o.clone(),
                    (None, true) => RUNNING.to_string(),
                    (None, false) => EXITED.to_string(),
                };
                let start = parse_time(&entry.started_at);
                let end = match (&entry.ended_at, running) {
                    (Some(t), _) => parse_time(t),
                    (None, true) => Some(now),
                    (None, false) => None,
                };
                let runtime_s = start.zip(end).map(|(s, e)| (e - s).num_seconds().max(0));
                PastSession {
                    entry,
                    outcome,
                    runtime_s,
                }
            })
            .collect();
        Ok(Seance {
            agent: address.clone(),
            sessions,
        })
    }

    /// What `seance --talk ID` runs: `id` is a session's number or its runtime session id.
    /// Refused, in one line, for a session whose runtime reported no id or cannot resume.
    pub fn talk(&self, address: &Address, id: &str) -> Result<Talk> {
        let seance = self.seance(address)?;
        let found = seance
            .sessions
            .iter()
            .find(|s| {
                s.entry.id.to_string() == id || s.entry.runtime_session_id.as_deref() == Some(id)
            })
            .ok_or_else(|| {
                Error::invalid(format!(
                    "{address} has no session '{id}' (see `git agent seance {address}`)"
                ))
            })?;
        let runtime_id = found.entry.runtime_session_id.clone().ok_or_else(|| {
            Error::invalid(format!(
                "session {} of {address} has no runtime session id (runtime '{}' never reported one), so there is nothing to resume",
                found.entry.id, found.entry.runtime
            ))
        })?;
        let agent = self.get(address)?;
        let cwd = agent
            .sandbox
            .clone()
            .filter(|p| p.is_dir())
            .ok_or_else(|| Error::invalid(format!("{address} has no sandbox on this machine")))?;
        let (store, _) = self.store_for(address)?;
        let runtime = Runtimes::from_repo(store.repo()).get(&found.entry.runtime)?;
        let (argv, forked) = runtime.talk_command(&runtime_id)?;
        Ok(Talk {
            agent: address.clone(),
            session: found.entry.id,
            runtime: runtime.name,
            runtime_session_id: runtime_id,
            forked,
            cwd,
            argv,
        })
    }

    /// Stop the agent's session and record how it ended (`stopped`): `git agent stop`.
    pub fn stop_as(&self, actor: &Actor, address: &Address) -> Result<bool> {
        self.stop_with(actor, address, STOPPED)
    }

    /// Stop the session, then close its history entry with `outcome` (no commit when none
    /// was open). The entry is closed even when the process was already gone.
    pub(crate) fn stop_with(
        &self,
        actor: &Actor,
        address: &Address,
        outcome: &str,
    ) -> Result<bool> {
        let stopped = self.stop(address)?;
        self.close_session(actor, address, outcome)?;
        Ok(stopped)
    }

    /// Close the open history entry with `outcome` (one write, none when nothing is open).
    pub(crate) fn close_session(
        &self,
        actor: &Actor,
        address: &Address,
        outcome: &str,
    ) -> Result<()> {
        let agent_exists = self.get(address).is_ok();
        if !agent_exists {
            return Ok(());
        }
        self.update_record(
            actor,
            address,
            &format!("agent session {outcome}"),
            |record, stamp| close_in(record, stamp, outcome),
        )
        .map(drop)
    }

    /// The runtime's session id, read back from the file its SessionStart hook wrote, when
    /// that report belongs to the session that started at `started_at`.
    pub(crate) fn fresh_runtime_id(
        &self,
        state_dir: &std::path::Path,
        session_name: &str,
        runtime: &str,
        started_at: &DateTime<Utc>,
    ) -> Option<String> {
        session::runtime_session(state_dir, session_name)
            .ok()
            .flatten()
            .filter(|r| r.runtime == runtime && r.at >= *started_at)
            .map(|r| r.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        crate::records::named_record("repo/polecats/nux")
    }

    fn stamp(n: u64) -> Stamp {
        Stamp(n, "test".into())
    }

    #[test]
    fn sessions_open_close_and_stay_bounded() {
        let mut r = record();
        assert!(open_in(
            &mut r,
            &stamp(1),
            "claude",
            "2026-01-01T00:00:00Z",
            Some("ag-1"),
            None,
            None
        ));
        assert!(close_in(&mut r, &stamp(2), STOPPED));
        assert!(
            !close_in(&mut r, &stamp(3), STOPPED),
            "nothing open: no change"
        );
        for i in 0..30 {
            open_in(
                &mut r,
                &stamp(4 + i),
                "claude",
                "2026-01-01T00:00:00Z",
                None,
                None,
                None,
            );
        }
        let h = history(&r);
        assert_eq!(h.len(), HISTORY_LIMIT);
        assert_eq!(h.first().unwrap().id, 31 - HISTORY_LIMIT as u64 + 1);
        assert_eq!(h.last().unwrap().id, 31);
        assert_eq!(h[0].outcome, None);
    }

    #[test]
    fn a_runtime_id_lands_only_on_the_session_it_belongs_to() {
        let mut r = record();
        let at: DateTime<Utc> = "2026-01-01T00:00:00.5Z".parse().unwrap();
        open_in(
            &mut r,
            &stamp(1),
            "claude",
            &stamp_time(&at),
            None,
            None,
            None,
        );
        let other: DateTime<Utc> = "2026-01-01T00:00:01Z".parse().unwrap();
        assert!(!note_runtime_id_in(&mut r, &stamp(2), &other, "abc"));
        assert!(note_runtime_id_in(&mut r, &stamp(3), &at, "abc"));
        assert!(
            !note_runtime_id_in(&mut r, &stamp(4), &at, "abc"),
            "same id: no change"
        );
        assert_eq!(history(&r)[0].runtime_session_id.as_deref(), Some("abc"));
    }
}
