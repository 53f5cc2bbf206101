//! `git agent stop`: end an agent's session (its whole process group).

use serde_json::json;

use super::{on_agent, Run};
use crate::cli::{print_json, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The agent's address
    address: String,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        on_agent(ctx, Some(&self.address), |town, agents, address| {
            agents.get(&address)?;
            let actor = ctx.actor(&town.store)?;
            let stopped = agents.stop_as(&actor, &address)?;
            if ctx.global.json {
                print_json(&json!({ "agent": address, "stopped": stopped }))?;
            } else if stopped {
                ctx.status(format!("Stopped {address}"));
            } else {
                ctx.status(format!("{address} had no running session"));
            }
            Ok(0)
        })
    }
}
