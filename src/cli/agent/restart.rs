//! `git agent restart`: stop the session, start it again resuming the runtime's session.

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
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        on_agent(ctx, Some(&self.address), |town, agents, address| {
            let actor = ctx.actor(&town.store)?;
            let started = agents.restart(&actor, &address, &self.options.spec(true))?;
            report(ctx, &started, "Restarted")
        })
    }
}
