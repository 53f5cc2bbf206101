//! `git bead blocked`: beads held up by open blockers, with what holds them.

use super::shared::{now_ms, QueryArgs};
use super::view::{print_rows, Layout};
use super::Run;
use crate::bead::{query, Beads};
use crate::cli::Ctx;
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    query: QueryArgs,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let snap = beads.snapshot()?;
        let index = beads.index(&snap)?;
        let filter = self.query.filter(beads, &snap, false, None)?;
        let limit = self.query.limit.unwrap_or(0);
        let (rows, total) =
            query::blocked(&snap, &index, &filter, self.query.sort(), limit, now_ms())?;
        print_rows(ctx, &snap, &index, &rows, total, true, Layout::Flat)
    }
}
