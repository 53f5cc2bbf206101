use super::super::{print_json, print_text, text, Ctx};
use super::{view, Run};
use crate::convoy::Convoys;
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The convoy (its id or a unique prefix)
    id: String,
    /// Beads to stop tracking
    #[arg(required = true)]
    beads: Vec<String>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, convoys: &Convoys<'_>) -> Result<i32> {
        let actor = ctx.actor(&convoys.town.store)?;
        let changed = convoys.remove(&actor, &self.id, &self.beads)?;
        if ctx.global.json {
            print_json(&changed)?;
        } else {
            let mut out = format!(
                "Convoy {} no longer tracks {}\n",
                changed.convoy.id,
                text::line(&changed.changed.join(", "))
            );
            if let Some(l) = &changed.landed_now {
                out.push_str(&view::landed_line(l));
            }
            print_text(&out)?;
        }
        Ok(0)
    }
}
