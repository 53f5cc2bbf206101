//! `git agent peek`: the last lines of an agent's session output.

use serde_json::json;

use super::{on_agent, Run};
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The agent's address
    address: String,
    /// How many lines
    #[arg(short = 'n', long, default_value_t = 40, value_name = "LINES")]
    lines: usize,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        on_agent(ctx, Some(&self.address), |_, agents, address| {
            agents.get(&address)?;
            let output = agents.peek(&address, self.lines)?;
            if ctx.global.json {
                print_json(&json!({ "agent": address, "output": output }))?;
            } else {
                // The agent's output may hold terminal escapes: shown, not obeyed.
                let lines: String = output
                    .lines()
                    .map(|l| format!("{}\n", text::block_line(l)))
                    .collect();
                print_text(&lines)?;
            }
            Ok(0)
        })
    }
}
