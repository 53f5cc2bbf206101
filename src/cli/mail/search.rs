use super::super::Ctx;
use super::{shared, Run};
use crate::error::Result;
use crate::mail::Mail;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The text to find (case is ignored)
    text: String,
    /// Search every message of the town, not only mine
    #[arg(long)]
    everyone: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let me = shared::mailbox(ctx)?;
        let rows = Mail::new(town).search(&me, &self.text, self.everyone)?;
        shared::print_summaries(ctx, &rows, "No message matches")?;
        Ok(0)
    }
}
