//! `git gastown sync`: fetch, merge and push all shared state.

use super::Run;
use crate::cli::{print_json, print_text, Ctx};
use crate::error::Result;
use crate::sync::SyncOptions;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// A configured remote, a URL or a path (default: the current branch's remote, else origin)
    remote: Option<String>,
    /// Give up after this many fetch-merge-push rounds when other clones keep pushing
    #[arg(long, default_value_t = crate::sync::DEFAULT_ATTEMPTS, value_name = "N")]
    attempts: usize,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        if self.attempts == 0 {
            return Err(crate::Error::invalid("--attempts must be at least 1"));
        }
        let store = ctx.open_store()?;
        let actor = ctx.actor(&store)?;
        let options = SyncOptions {
            remote: self.remote,
            cwd: ctx.dir(),
            attempts: self.attempts,
        };
        let report = crate::sync::sync(&store, &actor, &options)?;
        for warning in &report.warnings {
            ctx.status(format!("warning: {warning}"));
        }
        repair_convoys(ctx, &actor);
        if ctx.global.json {
            print_json(&report)?;
            return Ok(0);
        }
        if report.up_to_date {
            ctx.status(format!("Already up to date with {}.", report.remote));
            return Ok(0);
        }
        let mut text = String::new();
        for collection in &report.collections {
            text.push_str(&format!(
                "{}: {} from {}{}\n",
                collection.collection,
                collection.action,
                report.remote,
                crate::sync::summary(&collection.report, false)
            ));
            for rename in &collection.report.renamed {
                text.push_str(&format!(
                    "  renamed {} to {} ({}): another clone created a different bead with that id\n",
                    rename.from, rename.to, rename.title
                ));
            }
            for cycle in &collection.cycles {
                text.push_str(&format!("  dependency cycle: {}\n", cycle.join(" → ")));
            }
        }
        if !report.pushed.is_empty() {
            text.push_str(&format!(
                "pushed {} to {}\n",
                report.pushed.join(", "),
                report.remote
            ));
        }
        print_text(&text)?;
        Ok(0)
    }
}

/// Convoys the synced state completes land now (and owed landing messages go out): sync
/// is one of the repairs of a landing a killed command left undone.
fn repair_convoys(ctx: &Ctx, actor: &crate::store::Actor) {
    let repaired = crate::town::Town::discover(&ctx.dir())
        .and_then(|town| crate::convoy::Convoys::new(&town).repair(actor));
    match repaired {
        Ok(r) => {
            for l in &r.landed {
                ctx.status(format!(
                    "Convoy {} landed: {}",
                    crate::cli::text::line(&l.id),
                    crate::cli::text::line(&l.name)
                ));
            }
        }
        Err(err) => ctx.status(format!(
            "warning: convoy repair failed: {}",
            crate::cli::text::line(&crate::error::one_line(&err.to_string()))
        )),
    }
}
