//! `git agent handoff`: the agent's context is full (or it asks for a fresh one). Save a note
//! for the successor on the identity record, end this session and start a fresh one on the
//! same sandbox and hook: the runtime's context refreshes, the work does not move. The note
//! is shown by the successor's `prime`.

use serde::Serialize;
use serde_json::{json, Value};

use super::{Address, Agents};
use crate::bead::schema::now_rfc3339;
use crate::error::{Error, Result};
use crate::store::Actor;

/// What a handoff saved.
#[derive(Debug, Clone, Serialize)]
pub struct HandedOff {
    pub agent: Address,
    pub note: Value,
    /// The pid of the detached process that restarts the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restarter: Option<u32>,
}

impl Agents<'_> {
    /// Record the handoff note (one write). Without a note, one is made from the hook's
    /// state, so a PreCompact hook with nothing to say still leaves the successor a pointer.
    pub fn save_handoff(&self, actor: &Actor, address: &Address, note: Option<&str>) -> Result<Value> {
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
        self.set_fields(actor, address, "agent handoff", &[("handoff", value.clone())])?;
        Ok(value)
    }
}
