use super::super::{print_json, print_text, Ctx};
use super::Run;
use crate::board::Board;
use crate::error::Result;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// What to tell the town
    #[arg(value_name = "TEXT", required = true)]
    text: Vec<String>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let actor = ctx.actor(&town.store)?;
        let post = Board::new(town).post(&actor, &self.text.join(" "))?;
        if ctx.global.json {
            print_json(&post)?;
        } else {
            print_text(&format!("posted {}\n", post.id))?;
        }
        Ok(0)
    }
}
