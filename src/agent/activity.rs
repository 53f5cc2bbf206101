//! What the runtime's hooks report about an agent's session: the runtime's own session id
//! at SessionStart (kept so a crashed session resumes), and activity and working state at
//! each turn. Plain files in the agent's store's state dir (`crate::session`), except the
//! session id, which also goes on the agent's record (one commit, only when it changed).

use serde::Serialize;
use serde_json::json;

use super::{Address, Agents};
use crate::error::{Error, Result};
use crate::runtime::HookInput;
use crate::session::{self, AgentState};
use crate::store::Actor;

/// What a runtime's hook event was, as `git agent activity --hook EVENT` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HookEvent {
    /// A prompt was submitted: the agent is on it.
    Working,
    /// The runtime waits for a person (a permission prompt).
    Waiting,
    /// The turn ended.
    Stop,
}

impl HookEvent {
    pub fn parse(text: &str) -> Result<HookEvent> {
        match text {
            "working" => Ok(HookEvent::Working),
            "waiting" => Ok(HookEvent::Waiting),
            "stop" => Ok(HookEvent::Stop),
            other => Err(Error::invalid(format!(
                "unknown hook event '{other}' (working, waiting, stop)"
            ))),
        }
    }

    fn state(self) -> AgentState {
        match self {
            HookEvent::Working => AgentState::Working,
            // A finished turn reads input next, as a permission prompt does.
            HookEvent::Waiting | HookEvent::Stop => AgentState::Waiting,
        }
    }
}

/// What `activity --hook` recorded.
#[derive(Debug, Clone, Serialize)]
pub struct ActivityReport {
    pub agent: Address,
    pub event: HookEvent,
    pub state: session::AgentStateRecord,
}

/// What the SessionStart hook recorded.
#[derive(Debug, Clone, Serialize)]
pub struct SessionStarted {
    pub agent: Address,
    pub runtime: String,
    /// The runtime's own session id, when its hook input carried one.
    pub runtime_session_id: Option<String>,
    /// Whether the agent's record changed (a new id was saved).
    pub recorded: bool,
}

impl Agents<'_> {
    /// Record a hook event's activity and working state.
    pub fn report_activity(&self, address: &Address, event: HookEvent) -> Result<ActivityReport> {
        let (store, _) = self.store_for(address)?;
        let state =
            session::set_agent_state(&store.state_dir(), &address.to_string(), event.state())?;
        Ok(ActivityReport {
            agent: address.clone(),
            event,
            state,
        })
    }

    /// SessionStart: touch activity, save the runtime's session id beside the session and,
    /// when it changed, on the agent's record.
    pub fn session_started(
        &self,
        actor: &Actor,
        address: &Address,
        runtime: &str,
        input: &HookInput,
    ) -> Result<SessionStarted> {
        let (store, _) = self.store_for(address)?;
        let state_dir = store.state_dir();
        session::touch_activity(&state_dir, &address.to_string())?;
        let id = input.session_id.clone().filter(|id| !id.trim().is_empty());
        let mut recorded = false;
        if let Some(id) = &id {
            session::record_runtime_session(&state_dir, &address.session_name(), runtime, id)?;
            let before = self.get(address)?.runtime_session_id;
            recorded = before.as_deref() != Some(id.as_str());
            // The session this report belongs to, so the id lands on its history entry
            // (and on no older one, if the start's write has not happened yet).
            let started_at = session::Sessions::new(&state_dir)
                .info(&address.session_name())?
                .map(|i| i.started_at);
            self.update_record(actor, address, "agent session", |record, stamp| {
                let mut changed = record.set("runtime_session_id", json!(id), stamp);
                if let Some(at) = &started_at {
                    changed |= super::seance::note_runtime_id_in(record, stamp, at, id);
                }
                changed
            })?;
        }
        Ok(SessionStarted {
            agent: address.clone(),
            runtime: runtime.to_string(),
            runtime_session_id: id,
            recorded,
        })
    }
}
