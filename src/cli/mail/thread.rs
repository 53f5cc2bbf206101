use super::super::{print_json, print_text, Ctx};
use super::{shared, Run};
use crate::error::Result;
use crate::mail::Mail;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Any message of the thread (a unique prefix will do)
    id: String,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let me = shared::mailbox(ctx)?;
        let messages = Mail::new(town).thread(&me, &self.id)?;
        if ctx.global.json {
            print_json(&messages)?;
        } else {
            let text: Vec<String> = messages.iter().map(shared::render).collect();
            print_text(&text.join("\n---\n"))?;
        }
        Ok(0)
    }
}
