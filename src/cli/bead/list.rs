//! `git bead list`: beads matching filters, open and in progress by default.

use super::shared::{now_ms, QueryArgs};
use super::view::{print_rows, Layout};
use super::Run;
use crate::bead::query;
use crate::bead::Beads;
use crate::cli::Ctx;
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    query: QueryArgs,
    /// Include closed and frozen beads
    #[arg(long)]
    all: bool,
    /// Only beads whose text contains this (case-insensitive)
    #[arg(long)]
    text: Option<String>,
    /// Reverse the sort order
    #[arg(long, short)]
    reverse: bool,
    /// Show children indented under their parents (--tree=false: flat; JSON is always flat)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    tree: Option<bool>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let snap = beads.snapshot()?;
        let index = beads.index(&snap)?;
        let mut filter = self
            .query
            .filter(beads, &snap, self.all, self.text.clone())?;
        if let Some(parent) = &filter.parent {
            let config = beads.config(&snap)?;
            filter.parent = Some(beads.resolve(&snap, &config, parent, &mut None)?);
        }
        let limit = self.query.limit.unwrap_or(50);
        let (rows, total) = query::list(
            &snap,
            &index,
            &filter,
            self.query.sort(),
            self.reverse,
            limit,
            now_ms(),
        )?;
        let layout = match self.tree {
            Some(true) => Layout::Tree,
            _ => Layout::Flat,
        };
        print_rows(ctx, &snap, &index, &rows, total, false, layout)
    }
}
