use super::super::{print_json, print_text, Ctx};
use super::{view, Run};
use crate::convoy::Convoys;
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The epic whose tree to stage
    epic: String,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, convoys: &Convoys<'_>) -> Result<i32> {
        let actor = ctx.actor(&convoys.town.store)?;
        let staged = convoys.stage(&actor, &self.epic)?;
        if ctx.global.json {
            print_json(&staged)?;
        } else {
            print_text(&view::staged(&staged))?;
        }
        Ok(0)
    }
}
