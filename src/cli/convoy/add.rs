use super::super::{print_json, print_text, text, Ctx};
use super::Run;
use crate::convoy::Convoys;
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The convoy (its id or a unique prefix)
    id: String,
    /// Beads to track
    #[arg(required = true)]
    beads: Vec<String>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, convoys: &Convoys<'_>) -> Result<i32> {
        let actor = ctx.actor(&convoys.town.store)?;
        let changed = convoys.add(&actor, &self.id, &self.beads)?;
        if ctx.global.json {
            print_json(&changed)?;
        } else {
            let mut out = match changed.changed.as_slice() {
                [] => format!("Convoy {} tracks them already\n", changed.convoy.id),
                added => format!(
                    "Convoy {} now tracks {}\n",
                    changed.convoy.id,
                    text::line(&added.join(", "))
                ),
            };
            if changed.reopened {
                out.push_str(&format!("Convoy {} reopened\n", changed.convoy.id));
            }
            print_text(&out)?;
        }
        Ok(0)
    }
}
