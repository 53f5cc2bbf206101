//! `git agent add polecat|crew`: a name (from the rig's pool for polecats), a record and a
//! sandbox worktree on the agent's own branch.

use super::{open_town, rig_for, Run};
use crate::agent::{Agent, Agents};
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Args {
    /// Add a polecat (a worker for one bead at a time); the name comes from the rig's pool
    Polecat {
        /// Use this name instead of the next free one from the pool
        name: Option<String>,
        /// The rig (default: the rig containing the current directory)
        #[arg(long, value_name = "RIG")]
        rig: Option<String>,
    },
    /// Add a crew member (a long-lived workspace for a person or agent)
    Crew {
        name: String,
        /// The rig (default: the rig containing the current directory)
        #[arg(long, value_name = "RIG")]
        rig: Option<String>,
    },
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        let town = open_town(ctx)?;
        let agents = Agents::new(&town);
        let actor = ctx.actor(&town.store)?;
        let agent = match &self {
            Args::Polecat { name, rig } => {
                let rig = rig_for(&town, ctx, rig.as_deref())?;
                agents.add_polecat(&actor, &rig, name.as_deref())?
            }
            Args::Crew { name, rig } => {
                let rig = rig_for(&town, ctx, rig.as_deref())?;
                agents.add_crew(&actor, &rig, name)?
            }
        };
        report(ctx, &agent)
    }
}

fn report(ctx: &Ctx, agent: &Agent) -> Result<i32> {
    if ctx.global.json {
        print_json(agent)?;
    } else {
        let sandbox = agent
            .sandbox
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        print_text(&format!(
            "Added {} (sandbox {}, branch {})\n",
            text::line(&agent.address.to_string()),
            text::line(&sandbox),
            text::line(agent.branch.as_deref().unwrap_or("-"))
        ))?;
    }
    Ok(0)
}
