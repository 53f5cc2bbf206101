//! `git bead search`: beads whose text contains a string.

use super::shared::{now_ms, QueryArgs};
use super::view::{print_rows, Layout};
use super::Run;
use crate::bead::{query, Beads};
use crate::cli::Ctx;
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Text to look for (case-insensitive) in ids, titles, descriptions, design and notes
    query: String,
    #[command(flatten)]
    query_args: QueryArgs,
    /// Include closed beads
    #[arg(long)]
    all: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let snap = beads.snapshot()?;
        let index = beads.index(&snap)?;
        let filter = self
            .query_args
            .filter(beads, &snap, self.all, Some(self.query))?;
        let limit = self.query_args.limit.unwrap_or(50);
        let sort = self.query_args.sort();
        let (rows, total) = query::list(&snap, &index, &filter, sort, false, limit, now_ms())?;
        print_rows(ctx, &snap, &index, &rows, total, false, Layout::Flat)
    }
}
