use super::super::{print_json, print_text, Ctx};
use super::{shared, Run};
use crate::error::Result;
use crate::mail::Mail;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The claimed message (a unique prefix will do)
    id: String,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let me = shared::mailbox(ctx)?;
        let released = Mail::new(town).release(&ctx.actor(&town.store)?, &me, &self.id)?;
        if ctx.global.json {
            print_json(&released)?;
        } else {
            print_text(&format!("released {}\n", released.id))?;
        }
        Ok(0)
    }
}
