use super::super::{print_json, print_text, text, Ctx};
use super::{my_mailbox, Run};
use crate::convoy::{Convoys, NewConvoy};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The convoy's name
    name: String,
    /// Beads to track (ids of any rig, or unique prefixes)
    beads: Vec<String>,
    /// Who is told when it lands (default: GT_AGENT, else the overseer)
    #[arg(long, value_name = "ADDRESS")]
    owner: Option<String>,
    /// Who else is told when it lands (repeatable)
    #[arg(long, value_name = "ADDRESS", num_args = 1..)]
    notify: Vec<String>,
    /// Owned: it closes only by `git convoy land`, never by itself
    #[arg(long)]
    owned: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, convoys: &Convoys<'_>) -> Result<i32> {
        let actor = ctx.actor(&convoys.town.store)?;
        let spec = NewConvoy {
            name: self.name,
            beads: self.beads,
            owner: Some(self.owner.unwrap_or_else(|| my_mailbox(ctx))),
            notify: self.notify,
            owned: self.owned,
        };
        let convoy = convoys.create(&actor, &spec)?;
        if ctx.global.json {
            print_json(&convoy)?;
        } else {
            print_text(&format!(
                "Created convoy {}: {} ({} beads)\n",
                convoy.id,
                text::line(&convoy.name),
                convoy.beads.len()
            ))?;
        }
        Ok(0)
    }
}
