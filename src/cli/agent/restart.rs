//! `git agent restart`: stop the session, start it again (by default resuming the runtime's
//! session; `--fresh` for a new one, as after a handoff).

use super::start::{report, StartOptions};
use super::{on_agent, Run};
use crate::cli::Ctx;
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The agent's address
    address: String,
    #[command(flatten)]
    options: StartOptions,
    /// Start a new runtime session instead of resuming the recorded one (a fresh context)
    #[arg(long)]
    fresh: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        on_agent(ctx, Some(&self.address), |town, agents, address| {
            let actor = ctx.actor(&town.store)?;
            let started = agents.restart(&actor, &address, &self.options.spec(!self.fresh))?;
            report(ctx, &started, "Restarted")
        })
    }
}
