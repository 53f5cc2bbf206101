use super::super::{print_json, print_text, Ctx};
use super::Run;
use crate::error::Result;
use crate::escalate::Escalations;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The escalation id (a unique prefix will do)
    id: String,
    /// How it was resolved
    #[arg(long, short, required = true)]
    reason: String,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let actor = ctx.actor(&town.store)?;
        let e = Escalations::new(town).close(&actor, &self.id, &self.reason)?;
        if ctx.global.json {
            print_json(&e)?;
        } else {
            print_text(&format!("closed {}\n", e.id))?;
        }
        Ok(0)
    }
}
