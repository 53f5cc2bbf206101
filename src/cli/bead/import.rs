//! `git bead import`: bd JSONL in, all or nothing.

use std::path::PathBuf;

use super::shared::read_input_bytes;
use super::Run;
use crate::bead::{jsonl, Beads};
use crate::cli::{print_json, resolve_path, text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// File to read, or - for standard input
    file: PathBuf,
    /// Check the file and report what would change, without writing
    #[arg(long)]
    dry_run: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let path = resolve_path(ctx, &self.file);
        let lines = jsonl::parse(&read_input_bytes(&path)?)?;
        let actor = ctx.actor(beads.store)?;
        let report = beads.import(&actor, lines, self.dry_run)?;
        for warning in &report.warnings {
            ctx.status(format!("warning: {}", text::line(warning)));
        }
        if ctx.global.json {
            print_json(&report)?;
        } else {
            let verb = if self.dry_run {
                "Would import (nothing written)"
            } else {
                "Imported"
            };
            ctx.status(format!(
                "{verb}: {} created, {} updated, {} unchanged, {} deleted",
                report.created, report.updated, report.unchanged, report.deleted
            ));
        }
        Ok(0)
    }
}
