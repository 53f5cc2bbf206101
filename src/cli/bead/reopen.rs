//! `git bead reopen`: reopen closed beads.

use super::shared::done;
use super::Run;
use crate::bead::Beads;
use crate::cli::Ctx;
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[arg(required = true)]
    ids: Vec<String>,
    /// Why they are reopened (added as a comment)
    #[arg(long, short)]
    reason: Option<String>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let actor = ctx.actor(beads.store)?;
        let records = beads.reopen(&actor, &self.ids, self.reason.as_deref())?;
        done(ctx, "Reopened", &records)
    }

    fn first_id(&self) -> Option<&str> {
        self.ids.first().map(String::as_str)
    }
}
