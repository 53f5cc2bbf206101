use std::path::PathBuf;

use super::super::{print_json, print_text, resolve_path, Ctx};
use super::Run;
use crate::board::{export, Board};
use crate::error::Result;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The directory to write into (created if missing; the three files are replaced)
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let board = Board::new(town);
        let bulletin = board.bulletin(None)?;
        let exported = export::write(
            &resolve_path(ctx, &self.dir),
            &bulletin,
            &board.locks()?,
            &board.decisions()?,
        )?;
        if ctx.global.json {
            print_json(&exported)?;
        } else {
            let names: Vec<String> = exported
                .files
                .iter()
                .map(|f| f.display().to_string())
                .collect();
            print_text(&format!("wrote {}\n", names.join(", ")))?;
        }
        Ok(0)
    }
}
