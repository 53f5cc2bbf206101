use super::super::{print_json, print_text, Ctx};
use super::{view, Run};
use crate::convoy::Convoys;
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The convoy (its id or a unique prefix)
    id: String,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, convoys: &Convoys<'_>) -> Result<i32> {
        let actor = ctx.actor(&convoys.town.store)?;
        let launched = convoys.launch(&actor, &self.id)?;
        if ctx.global.json {
            print_json(&launched)?;
        } else {
            print_text(&view::launched(&launched))?;
        }
        Ok(view::exit_of(&launched.dispatched))
    }
}
