use super::super::{print_json, print_text, text, Ctx};
use super::Run;
use crate::board::Board;
use crate::error::Result;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// A one-line title
    #[arg(value_name = "TITLE")]
    title: String,
    /// What was decided
    #[arg(long, value_name = "TEXT")]
    decision: String,
    /// Why
    #[arg(long, value_name = "TEXT")]
    rationale: String,
    /// The situation that called for it
    #[arg(long, value_name = "TEXT", default_value = "")]
    context: String,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let actor = ctx.actor(&town.store)?;
        let decided = Board::new(town).decide(
            &actor,
            &self.title,
            &self.decision,
            &self.rationale,
            &self.context,
        )?;
        if ctx.global.json {
            print_json(&decided)?;
        } else {
            print_text(&format!(
                "{}: {}\n",
                decided.decision.id,
                text::line(&decided.decision.title)
            ))?;
        }
        Ok(0)
    }
}
