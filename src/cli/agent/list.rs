//! `git agent list`: agents with their sessions.

use super::{open_town, view, Run};
use crate::agent::Agents;
use crate::cli::{print_json, print_text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Only this rig's agents
    #[arg(long, value_name = "RIG")]
    rig: Option<String>,
    /// Include nuked agents (their records and CVs stay)
    #[arg(long)]
    all: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        let town = open_town(ctx)?;
        let views = Agents::new(&town).list_views(self.rig.as_deref(), self.all)?;
        if ctx.global.json {
            print_json(&views)?;
        } else if views.is_empty() {
            ctx.status("No agents (add one with `git agent add polecat`)");
        } else {
            print_text(&view::rows(&views))?;
        }
        Ok(0)
    }
}
