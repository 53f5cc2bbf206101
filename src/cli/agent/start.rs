//! `git agent start`: start an agent's session in its sandbox.

use super::{on_agent, Run};
use crate::agent::lifecycle::{StartSpec, Started};
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The agent's address
    address: String,
    #[command(flatten)]
    options: StartOptions,
    /// Resume the runtime's previous session (its recorded id) where the runtime can
    #[arg(long)]
    resume: bool,
}

/// What `start` and `restart` share.
#[derive(Debug, Clone, clap::Args)]
pub struct StartOptions {
    /// The runtime (default: the rig's, then the town's `agent.default`, then claude)
    #[arg(long, value_name = "RUNTIME")]
    pub agent: Option<String>,
    /// The first prompt (default: a beacon naming the hook)
    #[arg(long, value_name = "TEXT")]
    pub prompt: Option<String>,
}

impl StartOptions {
    pub fn spec(&self, resume: bool) -> StartSpec {
        StartSpec {
            runtime: self.agent.clone(),
            prompt: self.prompt.clone(),
            resume,
        }
    }
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        on_agent(ctx, Some(&self.address), |town, agents, address| {
            let actor = ctx.actor(&town.store)?;
            let started = agents.start(&actor, &address, &self.options.spec(self.resume))?;
            report(ctx, &started, "Started")
        })
    }
}

pub fn report(ctx: &Ctx, started: &Started, verb: &str) -> Result<i32> {
    if ctx.global.json {
        print_json(started)?;
    } else {
        let resumed = started
            .resumed
            .as_deref()
            .map(|id| format!(", resuming {}", text::line(id)))
            .unwrap_or_default();
        print_text(&format!(
            "{verb} {} ({}, {} session {}, pid {}{resumed})\n",
            started.agent,
            text::line(&started.runtime),
            started.session.backend.name(),
            started.session.name,
            started.session.pid
        ))?;
    }
    Ok(0)
}
