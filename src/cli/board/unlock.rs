use super::super::{print_json, print_text, text, Ctx};
use super::Run;
use crate::board::Board;
use crate::error::Result;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Paths to release
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<String>,
    /// Release another agent's live lock too
    #[arg(long)]
    force: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let paths = Board::normalize_paths(&ctx.dir(), &self.paths)?;
        let actor = ctx.actor(&town.store)?;
        let done = Board::new(town).unlock(&actor, &paths, self.force)?;
        if ctx.global.json {
            print_json(&done)?;
        } else {
            let mut out = String::new();
            for p in &done.released {
                out.push_str(&format!("unlocked {}\n", text::line(p)));
            }
            print_text(&out)?;
            for p in &done.not_held {
                ctx.status(format!("{} was not locked", text::line(p)));
            }
        }
        Ok(0)
    }
}
