use super::super::{print_json, print_text, Ctx};
use super::Run;
use crate::error::Result;
use crate::escalate::Escalations;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The escalation id (a unique prefix will do)
    id: String,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let actor = ctx.actor(&town.store)?;
        let done = Escalations::new(town).ack(&actor, &self.id)?;
        if ctx.global.json {
            print_json(&done)?;
        } else if done.changed {
            print_text(&format!("acknowledged {}\n", done.escalation.id))?;
        } else {
            print_text(&format!(
                "{} was already acknowledged by {}\n",
                done.escalation.id,
                super::super::text::line(done.escalation.acked_by.as_deref().unwrap_or("someone"))
            ))?;
        }
        Ok(0)
    }
}
