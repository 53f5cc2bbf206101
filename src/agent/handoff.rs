//! `git agent handoff`: the agent's context is full (or it asks for a fresh one). Save a note
//! for the successor on the identity record, end this session and start a fresh one on the
//! same sandbox and hook: the runtime's context refreshes, the work does not move. The note
//! is shown by the successor's `prime`.

use serde::Serialize;
use serde_json::{json, Value};

use super::lifecycle::StartSpec;
use super::{Address, Agents};
use crate::bead::schema::now_rfc3339;
use crate::error::{Error, Result};
use crate::store::Actor;

/// What a handoff saved, and how the session will be replaced.
#[derive(Debug, Clone, Serialize)]
pub struct HandedOff {
    pub agent: Address,
    pub note: Value,
    pub replacement: Replacement,
}

/// How the session is replaced after a handoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Replacement {
    /// The caller's own session: a detached `git agent restart --fresh` ends it and starts
    /// the next (stopping a session kills its process group, the caller included).
    Detached,
    /// Another live session: restarted by the caller.
    Restart,
    /// No live session: the note waits for the next start.
    None,
}

impl Agents<'_> {
    /// Record the handoff note (one write). Without a note, one is made from the hook's
    /// state, so a PreCompact hook with nothing to say still leaves the successor a pointer.
    pub fn save_handoff(
        &self,
        actor: &Actor,
        address: &Address,
        note: Option<&str>,
    ) -> Result<Value> {
        let agent = self.get(address)?;
        if !agent.is_live() {
            return Err(Error::invalid(format!("{address} was nuked")));
        }
        let text = match note.map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None => match &agent.hook {
                Some(bead) => format!(
                    "Context was compacted while working on {bead}. Run `git agent prime` and `git mol current` to see where the work stands, then go on."
                ),
                None => "Context was compacted; your hook was empty.".to_string(),
            },
        };
        let value = json!({
            "text": text,
            "at": now_rfc3339(),
            "hook": agent.hook,
            "session": address.session_name(),
        });
        // A live session ends by this handoff: its history entry says so, in this write
        // (the restart that follows then finds nothing open).
        let ends_session = self.is_alive(address)?;
        self.update_record(actor, address, "agent handoff", |record, stamp| {
            let mut changed = record.set("handoff", value.clone(), stamp);
            if ends_session {
                changed |= super::seance::close_in(record, stamp, super::seance::HANDOFF);
            }
            changed
        })?;
        Ok(value)
    }

    /// How `replace_session` will replace `address`'s session, for the report printed
    /// before it (a detached replacement may end the caller at any moment after).
    pub fn replacement(&self, address: &Address, own_session: bool) -> Result<Replacement> {
        Ok(if own_session {
            Replacement::Detached
        } else if self.is_alive(address)? {
            Replacement::Restart
        } else {
            Replacement::None
        })
    }

    /// End the session and start a fresh one (a new runtime session, not a resumed one: the
    /// point is a fresh context) on the same sandbox and hook.
    pub fn replace_session(
        &self,
        actor: &Actor,
        address: &Address,
        how: Replacement,
    ) -> Result<()> {
        match how {
            Replacement::Detached => {
                let (store, _) = self.store_for(address)?;
                let log = store.state_dir().join("logs").join("handoff.log");
                let args = [
                    "restart".to_string(),
                    address.to_string(),
                    "--fresh".to_string(),
                ];
                crate::detach::spawn("git-agent", &args, &self.town.root, &log).map(drop)
            }
            Replacement::Restart => self
                .restart(actor, address, &StartSpec::default())
                .map(drop),
            Replacement::None => Ok(()),
        }
    }
}
