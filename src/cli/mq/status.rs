//! `git mq status`: queue depth, the running pass, the last result.

use crate::cli::{print_json, print_text, Ctx};
use crate::error::Result;
use crate::mq::MergeQueue;

/// Queue depth, the running pass and the last pass's result
#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

pub fn run(ctx: &Ctx, q: &MergeQueue<'_>, _args: Args) -> Result<i32> {
    let status = q.status()?;
    if ctx.global.json {
        return print_json(&status).map(|()| 0);
    }
    let mut s = format!("rig {}: {} open\n", status.rig, status.depth);
    for (k, n) in &status.by_status {
        s.push_str(&format!("  {k}: {n}\n"));
    }
    match &status.running {
        Some(r) => s.push_str(&format!(
            "pass running: pid {} since {}\n",
            r["pid"],
            r["started_at"].as_str().unwrap_or("?")
        )),
        None => s.push_str("no pass running\n"),
    }
    if let Some(last) = &status.last_pass {
        s.push_str(&format!(
            "last pass {}: {} merged, {} rejected, {} conflicts, {} held, {} gate run(s)\n",
            last["started_at"].as_str().unwrap_or("?"),
            last["merged"],
            last["rejected"],
            last["conflicts"],
            last["held"],
            last["gate_runs"]
        ));
        for d in last["decisions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["outcome"] == "held")
        {
            s.push_str(&format!(
                "  held {}: {}\n",
                crate::cli::text::line(d["mr"].as_str().unwrap_or("")),
                crate::cli::text::line(d["reason"].as_str().unwrap_or(""))
            ));
        }
    }
    if status.unfinished_merge {
        s.push_str("a killed pass left a merge to finish: the next `git mq run` does it\n");
    }
    print_text(&s).map(|()| 0)
}
