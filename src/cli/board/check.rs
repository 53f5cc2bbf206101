use super::super::{print_json, print_text, text, Ctx};
use super::{lock_line, Run};
use crate::board::Board;
use crate::error::Result;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The path to check (a directory shows the locks inside it too)
    #[arg(value_name = "PATH")]
    path: String,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let path = Board::normalize_paths(&ctx.dir(), std::slice::from_ref(&self.path))?.remove(0);
        let checked = Board::new(town).check(&path)?;
        if ctx.global.json {
            print_json(&checked)?;
        } else if checked.locked {
            print_text(&checked.locks.iter().map(lock_line).collect::<String>())?;
        } else {
            print_text(&format!("{} is free\n", text::line(&path)))?;
        }
        Ok(if checked.locked { 1 } else { 0 })
    }
}
