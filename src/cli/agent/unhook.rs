//! `git agent unhook`: take the bead off an agent's hook; it goes back to `open`.

use super::{on_agent, Run};
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The agent (default: the agent whose sandbox this is, else GT_AGENT)
    address: Option<String>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        on_agent(ctx, self.address.as_deref(), |town, agents, address| {
            let actor = ctx.actor(&town.store)?;
            let unhooked = agents.unhook(&actor, &address)?;
            if ctx.global.json {
                print_json(&unhooked)?;
            } else {
                match &unhooked.released {
                    Some(bead) => print_text(&format!(
                        "Unhooked {} from {address}; it is open again\n",
                        text::line(bead)
                    ))?,
                    None => print_text(&format!("{address}'s hook was already empty\n"))?,
                }
            }
            Ok(0)
        })
    }
}
