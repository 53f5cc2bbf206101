//! `git bead import`: bd JSONL in, all or nothing.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use super::shared::read_input;
use super::Run;
use crate::bead::{jsonl, Beads};
use crate::cli::{print_json, resolve_path, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// File to read, or - for standard input
    file: PathBuf,
    /// Check the file and report what would change, without writing
    #[arg(long)]
    dry_run: bool,
}

/// `--dry-run --json` (fields in alphabetical order, as before).
#[derive(Serialize)]
struct DryRun {
    dry_run: bool,
    existing: usize,
    new: usize,
    records: usize,
}

/// `--json` after an import.
#[derive(Serialize)]
struct Imported {
    created: usize,
    unchanged: usize,
    updated: usize,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let path = resolve_path(ctx, &self.file);
        let text = read_input(&path)?;
        let objects = jsonl::parse(&text)?;
        if self.dry_run {
            let snap = beads.snapshot()?;
            let mut existing = 0;
            for object in &objects {
                let id = object.get("id").and_then(Value::as_str).unwrap_or_default();
                if snap.resolve(&crate::bead::id::record_path(id))?.is_some() {
                    existing += 1;
                }
            }
            let summary = DryRun {
                dry_run: true,
                existing,
                new: objects.len() - existing,
                records: objects.len(),
            };
            if ctx.global.json {
                print_json(&summary)?;
            } else {
                ctx.status(format!(
                    "{} records: {} new, {} already present (nothing written)",
                    summary.records, summary.new, summary.existing
                ));
            }
            return Ok(0);
        }
        let actor = ctx.actor(beads.store)?;
        let (created, updated, unchanged) = beads.import(&actor, objects)?;
        if ctx.global.json {
            print_json(&Imported {
                created,
                unchanged,
                updated,
            })?;
        } else {
            ctx.status(format!(
                "Imported: {created} created, {updated} updated, {unchanged} unchanged"
            ));
        }
        Ok(0)
    }
}
