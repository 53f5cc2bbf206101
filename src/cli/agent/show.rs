//! `git agent show`: one agent and its session.

use super::{on_agent, view, Run};
use crate::cli::{print_json, print_text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The agent's address (default: the agent whose sandbox this is)
    address: Option<String>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        on_agent(ctx, self.address.as_deref(), |_, agents, address| {
            let v = agents.view(&address)?;
            if ctx.global.json {
                print_json(&v)?;
            } else {
                print_text(&view::full(&v))?;
            }
            Ok(0)
        })
    }
}
