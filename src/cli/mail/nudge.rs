use super::super::{print_json, print_text, Ctx};
use super::{shared, Run};
use crate::error::Result;
use crate::mail::nudge;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The agent (or a group or pattern of agents)
    address: String,
    /// The text (words are joined with spaces)
    #[arg(required = true)]
    text: Vec<String>,
    /// Nudge even an agent in do-not-disturb
    #[arg(long)]
    force: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let from = shared::mailbox(ctx)?;
        let reports = nudge::nudge(town, &from, &self.address, &self.text.join(" "), self.force)?;
        if ctx.global.json {
            print_json(&reports)?;
        } else {
            let mut out = String::new();
            for r in &reports {
                let how = match r.via {
                    "tmux" => "typed into its session",
                    _ => "queued for its next turn",
                };
                out.push_str(&format!("nudged {}: {how}\n", r.to));
            }
            print_text(&out)?;
        }
        Ok(0)
    }
}
