//! `git agent hook`: show an agent's hook, or attach a bead to it without starting a
//! session (bead `hooked` and agent record in one commit; of two racing attaches of one
//! bead exactly one wins, the other exits 4).

use serde_json::json;

use super::{open_town, Run};
use crate::agent::hook::Attachment;
use crate::agent::Agents;
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The bead to attach (an id or a unique prefix); without it, show the hook
    bead: Option<String>,
    /// The agent (default: the agent whose sandbox this is, else GT_AGENT)
    #[arg(long, value_name = "ADDRESS")]
    to: Option<String>,
    /// Replace what is on the agent's hook, or take the bead from another agent's hook
    #[arg(long, requires = "bead")]
    force: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        let town = open_town(ctx)?;
        let agents = Agents::new(&town);
        let address = super::target(&agents, ctx, self.to.as_deref())?;
        let Some(bead) = &self.bead else {
            let primed = agents.prime(&address)?;
            if ctx.global.json {
                print_json(&json!({ "agent": address, "hook": primed.hook }))?;
            } else {
                match &primed.hook {
                    Some(h) => print_text(&format!(
                        "{address}: {} [{}] {}\n",
                        text::line(&h.id),
                        text::line(&h.status),
                        text::line(&h.title)
                    ))?,
                    None => print_text(&format!("{address}: hook empty\n"))?,
                }
            }
            return Ok(0);
        };
        let actor = ctx.actor(&town.store)?;
        let attachment = Attachment {
            dispatched_by: actor.name.clone(),
            merge_strategy: "mr".to_string(),
            ..Attachment::default()
        };
        let hooked = agents.attach(&actor, &address, bead, &attachment, self.force)?;
        if ctx.global.json {
            print_json(&hooked)?;
        } else {
            let mut out = format!(
                "Hooked {} on {}: {}",
                text::line(&hooked.bead),
                hooked.agent,
                text::line(&hooked.title)
            );
            if let Some(old) = &hooked.replaced {
                out.push_str(&format!(" (replaced {}, back to open)", text::line(old)));
            }
            if let Some(from) = &hooked.taken_from {
                out.push_str(&format!(" (taken from {})", text::line(from)));
            }
            out.push('\n');
            print_text(&out)?;
        }
        Ok(0)
    }
}
