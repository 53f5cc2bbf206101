use super::super::Ctx;
use super::{shared, Run};
use crate::error::Result;
use crate::mail::{Mail, State};
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Message ids (unique prefixes will do)
    #[arg(required = true)]
    ids: Vec<String>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let me = shared::mailbox(ctx)?;
        let marked = Mail::new(town).mark(&ctx.actor(&town.store)?, &me, &self.ids, State::Acked)?;
        shared::print_marked(ctx, &marked)
    }
}
