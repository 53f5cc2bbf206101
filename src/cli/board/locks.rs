use super::super::{print_json, print_text, Ctx};
use super::{lock_line, Run};
use crate::board::Board;
use crate::error::Result;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Only locks held by this agent
    #[arg(long, value_name = "AGENT")]
    holder: Option<String>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let mut locks = Board::new(town).locks()?;
        if let Some(holder) = &self.holder {
            locks.retain(|l| &l.holder == holder);
        }
        if ctx.global.json {
            print_json(&locks)?;
        } else if locks.is_empty() {
            ctx.status("No live locks");
        } else {
            print_text(&locks.iter().map(lock_line).collect::<String>())?;
        }
        Ok(0)
    }
}
