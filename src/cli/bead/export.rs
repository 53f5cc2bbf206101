//! `git bead export`: every bead as bd JSONL.

use std::path::PathBuf;

use super::Run;
use crate::bead::{jsonl, Beads, Record};
use crate::cli::{print_text, resolve_path, Ctx};
use crate::error::{Error, Result};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Write to this file instead of standard output
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Include deleted beads, as bd tombstones (status "tombstone", deleted_at, deleted_by)
    #[arg(long)]
    include_deleted: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let snap = beads.snapshot()?;
        let mut records = Vec::new();
        for (_, blob) in snap.walk("beads")? {
            let record = Record::parse(&snap.read_blob(blob)?)?;
            if record.is_deleted() && !self.include_deleted {
                continue;
            }
            records.push(record);
        }
        records.sort_by(|a, b| a.id.cmp(&b.id));
        let mut text = String::new();
        for record in &records {
            text.push_str(&jsonl::export_line(record));
            text.push('\n');
        }
        match self.output {
            Some(path) => {
                let path = resolve_path(ctx, &path);
                std::fs::write(&path, text)
                    .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
                ctx.status(format!(
                    "Exported {} beads to {}",
                    records.len(),
                    path.display()
                ));
            }
            None => print_text(&text)?,
        }
        Ok(0)
    }
}
