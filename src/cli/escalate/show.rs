use super::super::{print_json, print_text, Ctx};
use super::{view, Run};
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
        let e = Escalations::new(town).get(&self.id)?;
        if ctx.global.json {
            print_json(&e)?;
        } else {
            print_text(&view::details(&e))?;
        }
        Ok(0)
    }
}
