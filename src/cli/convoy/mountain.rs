use super::super::{print_json, print_text, Ctx};
use super::{view, Run};
use crate::convoy::Convoys;
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The epic to stage and launch
    epic: String,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, convoys: &Convoys<'_>) -> Result<i32> {
        let actor = ctx.actor(&convoys.town.store)?;
        let mountain = convoys.mountain(&actor, &self.epic)?;
        if ctx.global.json {
            print_json(&mountain)?;
        } else {
            let mut out = view::staged(&mountain.staged);
            out.push_str(&view::launched(&mountain.launched));
            print_text(&out)?;
        }
        // Skipped beads are reported, not a failure of the mountain.
        Ok(0)
    }
}
