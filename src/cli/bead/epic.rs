//! `git bead epic status`: open epics and how far their children are (bd's shape).

use clap::Subcommand;

use super::Run;
use crate::bead::{details, Beads};
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, Subcommand)]
pub enum Args {
    /// Epics not closed, with their children closed and in all
    Status {
        /// Only epics whose children are all closed (ready to close)
        #[arg(long)]
        eligible_only: bool,
    },
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let Args::Status { eligible_only } = self;
        let snap = beads.snapshot()?;
        let index = beads.index(&snap)?;
        let epics = details::epic_status(&snap, &index, eligible_only)?;
        if ctx.global.json {
            print_json(&epics)?;
            return Ok(0);
        }
        let mut out = String::new();
        for status in &epics {
            let field = |key: &str| {
                text::line(status.epic.get(key).and_then(|v| v.as_str()).unwrap_or("")).into_owned()
            };
            out.push_str(&format!(
                "{}  {}/{} closed{}  {}\n",
                field("id"),
                status.closed_children,
                status.total_children,
                if status.eligible_for_close {
                    "  (ready to close)"
                } else {
                    ""
                },
                field("title")
            ));
        }
        if epics.is_empty() {
            ctx.status("No open epics.");
        }
        print_text(&out)?;
        Ok(0)
    }
}
