//! `git bead log`: the commits that changed a bead.

use super::Run;
use crate::bead::{query, Beads};
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    id: String,
    /// Show at most N commits (0 = all)
    #[arg(long, short = 'n', default_value_t = 0)]
    limit: usize,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let snap = beads.snapshot()?;
        let id = beads.resolve_any(&snap, &self.id)?;
        let entries = query::log(&snap, &id, self.limit)?;
        if ctx.global.json {
            print_json(&entries)?;
            return Ok(0);
        }
        let mut out = String::new();
        for e in &entries {
            let short = &e.commit[..12.min(e.commit.len())];
            out.push_str(&format!(
                "{short} {} {} {}\n",
                text::line(&e.date),
                text::line(&e.author),
                text::line(e.message.lines().next().unwrap_or(""))
            ));
        }
        print_text(&out)?;
        Ok(0)
    }

    fn first_id(&self) -> Option<&str> {
        Some(&self.id)
    }
}
