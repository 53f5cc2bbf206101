use super::super::{print_json, print_text, Ctx};
use super::{shared, Run};
use crate::error::Result;
use crate::mail::Mail;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The queue (NAME or queue:NAME)
    queue: String,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let me = shared::mailbox(ctx)?;
        let name = self.queue.strip_prefix("queue:").unwrap_or(&self.queue);
        match Mail::new(town).claim(&ctx.actor(&town.store)?, &me, name)? {
            Some(message) => {
                if ctx.global.json {
                    print_json(&message)?;
                } else {
                    print_text(&shared::render(&message))?;
                }
                Ok(0)
            }
            None => {
                if ctx.global.json {
                    print_json(&serde_json::Value::Null)?;
                }
                ctx.status(format!("queue '{name}' has nothing to claim"));
                Ok(1)
            }
        }
    }
}
