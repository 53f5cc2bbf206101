//! `git gastown gc`: pack refs and objects.

use super::Run;
use crate::cli::{print_json, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Only if loose objects passed the threshold and no other gc runs
    #[arg(long)]
    auto: bool,
    /// Also consolidate packs and prune old unreachable objects (`git gc`)
    #[arg(long, conflicts_with = "auto")]
    full: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        let store = ctx.open_store()?;
        let report = crate::store::gc::run(&store, &ctx.dir(), self.auto, self.full)?;
        if ctx.global.json {
            print_json(&report)?;
        } else if report.ran {
            ctx.status(format!(
                "packed: ~{} loose objects before, ~{} after; {} packs",
                report.loose_before, report.loose_after, report.packs_after
            ));
        } else {
            ctx.status("nothing to do");
        }
        Ok(0)
    }
}
