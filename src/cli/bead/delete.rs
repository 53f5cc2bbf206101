//! `git bead delete`: tombstone beads.

use super::shared::done;
use super::Run;
use crate::bead::Beads;
use crate::cli::Ctx;
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[arg(required = true)]
    ids: Vec<String>,
    /// Accepted for bd's callers (bd previews without it); deletion here is always done
    #[arg(long, short)]
    force: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let actor = ctx.actor(beads.store)?;
        let records = beads.delete(&actor, &self.ids)?;
        done(ctx, "Deleted", &records)
    }

    fn first_id(&self) -> Option<&str> {
        self.ids.first().map(String::as_str)
    }
}
