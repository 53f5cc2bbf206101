use super::super::{print_json, print_text, text, Ctx};
use super::Run;
use crate::convoy::Convoys;
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The convoy (its id or a unique prefix)
    id: String,
    /// Why it is closed
    #[arg(long, short, required = true)]
    reason: String,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, convoys: &Convoys<'_>) -> Result<i32> {
        let actor = ctx.actor(&convoys.town.store)?;
        let convoy = convoys.close(&actor, &self.id, &self.reason)?;
        if ctx.global.json {
            print_json(&convoy)?;
        } else {
            print_text(&format!(
                "Closed convoy {}: {}\n",
                convoy.id,
                text::line(convoy.close_reason.as_deref().unwrap_or(""))
            ))?;
        }
        Ok(0)
    }
}
