//! `git mq run`: one pass that drains the rig's queue and exits (for `done`, cron or CI).

use super::{actor, short};
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;
use crate::mq::MergeQueue;

/// Drain the queue once: rebase, gate, merge (exit 10: rejected/conflict, 11: held)
#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

pub fn run(ctx: &Ctx, q: &MergeQueue<'_>, _args: Args) -> Result<i32> {
    let actor = actor(ctx, q)?;
    let report = q.run(&actor)?;
    if ctx.global.json {
        print_json(&report)?;
        return Ok(report.exit_code());
    }
    if let Some(why) = &report.skipped {
        ctx.status(format!("Nothing to do here: {why}"));
        return Ok(0);
    }
    if let Some(what) = &report.recovered {
        ctx.status(format!("Recovered: {what}"));
    }
    let mut s = String::new();
    for d in &report.decisions {
        let detail = match d.outcome.as_str() {
            "merged" => d
                .merge_commit
                .as_deref()
                .map(|c| format!("as {}", short(c)))
                .unwrap_or_default(),
            "conflict" => format!(
                "in {} (rework {})",
                d.conflict_files.join(", "),
                d.rework_bead.as_deref().unwrap_or("-")
            ),
            _ => d.reason.clone().unwrap_or_default(),
        };
        s.push_str(&format!(
            "{} {} {} -> {}: {}\n",
            d.outcome,
            text::line(&d.mr),
            text::line(&d.branch),
            text::line(&d.target),
            text::line(&detail)
        ));
    }
    print_text(&s)?;
    ctx.status(format!(
        "{} merged, {} rejected, {} conflicts, {} held; {} gate run(s) in {} batch(es), {} ms",
        report.merged,
        report.rejected,
        report.conflicts,
        report.held,
        report.gate_runs,
        report.batches.len(),
        report.millis
    ));
    Ok(report.exit_code())
}
