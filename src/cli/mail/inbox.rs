use super::super::Ctx;
use super::{shared, Run};
use crate::error::Result;
use crate::mail::Mail;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Archived messages too
    #[arg(long)]
    all: bool,
    /// Only messages not read yet
    #[arg(long)]
    unread: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let me = shared::mailbox(ctx)?;
        let rows = Mail::new(town).inbox(&me, self.all, self.unread)?;
        shared::print_summaries(ctx, &rows, &format!("No messages for {me}"))?;
        Ok(0)
    }
}
