use super::super::{print_json, print_text, Ctx};
use super::{view, Run};
use crate::convoy::Convoys;
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Landed and closed convoys too
    #[arg(long, short)]
    all: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, convoys: &Convoys<'_>) -> Result<i32> {
        let actor = ctx.actor(&convoys.town.store)?;
        let rows = convoys.list(&actor, self.all)?;
        if ctx.global.json {
            print_json(&rows)?;
        } else if rows.is_empty() {
            ctx.status(if self.all {
                "No convoys"
            } else {
                "No open convoys (--all shows landed and closed ones)"
            });
        } else {
            print_text(&view::rows(&rows))?;
        }
        Ok(0)
    }
}
