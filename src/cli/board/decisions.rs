use super::super::{print_json, print_text, text, Ctx};
use super::Run;
use crate::board::Board;
use crate::error::Result;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let decisions = Board::new(town).decisions()?;
        if ctx.global.json {
            print_json(&decisions)?;
        } else if decisions.is_empty() {
            ctx.status("No decisions recorded");
        } else {
            let mut out = String::new();
            for d in &decisions {
                out.push_str(&format!(
                    "{}  {}  {}  {}\n    decision: {}\n    rationale: {}\n",
                    d.id,
                    d.date.get(..10).unwrap_or(&d.date),
                    text::line(&d.source),
                    text::line(&d.title),
                    text::line(&d.decision),
                    text::line(&d.rationale)
                ));
            }
            print_text(&out)?;
        }
        Ok(0)
    }
}
