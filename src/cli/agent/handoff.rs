//! `git agent handoff [-m NOTE]`: leave the successor a note, end this session and start a
//! fresh one on the same sandbox and hook (`crate::agent::handoff`). The runtime's
//! PreCompact hook runs it with no note (one is written from the hook's state).

use std::io::Write;

use super::{open_town, Run};
use crate::agent::handoff::{HandedOff, Replacement};
use crate::agent::Agents;
use crate::cli::{print_json, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The note for the next session (default: one naming the hooked bead)
    #[arg(short = 'm', long = "message", value_name = "NOTE")]
    note: Option<String>,
    /// The agent (default: the agent whose sandbox this is, else GT_AGENT)
    address: Option<String>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        let town = open_town(ctx)?;
        let agents = Agents::new(&town);
        let address = super::target(&agents, ctx, self.address.as_deref())?;
        let actor = ctx.actor(&town.store)?;
        let own_session =
            std::env::var("GT_SESSION").ok().as_deref() == Some(address.session_name().as_str());
        let replacement = agents.replacement(&address, own_session)?;
        let note = agents.save_handoff(&actor, &address, self.note.as_deref())?;
        let saved = HandedOff {
            agent: address.clone(),
            note,
            replacement,
        };
        // Report first: a detached restart stops our session, this process included.
        if ctx.global.json {
            print_json(&saved)?;
        } else {
            ctx.status(match replacement {
                Replacement::Detached => {
                    format!("Handed off {address}: this session ends, a fresh one starts")
                }
                Replacement::Restart => format!("Handed off {address}: restarting its session"),
                Replacement::None => format!(
                    "Handed off {address}: no live session; the note waits for the next start"
                ),
            });
        }
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        agents.replace_session(&actor, &address, replacement)?;
        Ok(0)
    }
}
