//! `git bead show`: beads in full.

use super::view::record_lines;
use super::Run;
use crate::bead::{details, Beads};
use crate::cli::{print_json, print_text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Bead ids (or unique prefixes)
    #[arg(required = true)]
    ids: Vec<String>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let snap = beads.snapshot()?;
        let config = beads.config(&snap)?;
        let mut index = None;
        let mut records = Vec::new();
        for id in &self.ids {
            let id = beads.resolve(&snap, &config, id, &mut index)?;
            records.push(beads.load(&snap, &id)?);
        }
        if ctx.global.json {
            // Dependents need the index (a pass over every bead, like `ready`); the text view
            // reads only the records, so it stays the cheapest read (docs/BENCHMARKS.md).
            let index = match index {
                Some(index) => index,
                None => beads.index(&snap)?,
            };
            let shown = records
                .iter()
                .map(|record| details::details(&snap, &index, record))
                .collect::<Result<Vec<_>>>()?;
            print_json(&shown)?;
        } else {
            let text: Vec<String> = records.iter().map(record_lines).collect();
            print_text(&text.join("\n"))?;
        }
        Ok(0)
    }

    fn first_id(&self) -> Option<&str> {
        self.ids.first().map(String::as_str)
    }
}
