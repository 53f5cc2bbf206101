//! `git mq list`: requests in queue order.

use super::{rig_of, short};
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;
use crate::mq::{MergeQueue, MergeRequest};
use crate::town::Town;

/// List merge requests in queue order (open ones; --all adds the decided, newest first)
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Every rig of the town
    #[arg(long = "all-rigs")]
    all_rigs: bool,
    /// Merged, rejected, conflicting and superseded ones too
    #[arg(long)]
    all: bool,
}

pub fn run(ctx: &Ctx, town: &Town, rig: Option<&str>, args: Args) -> Result<i32> {
    let rigs = if args.all_rigs && rig.is_none() {
        town.rigs().list()?
    } else {
        vec![rig_of(ctx, town, rig)?]
    };
    let mut out: Vec<MergeRequest> = Vec::new();
    for rig in rigs {
        out.extend(MergeQueue::new(town, rig)?.list(args.all)?);
    }
    if ctx.global.json {
        return print_json(&out).map(|()| 0);
    }
    if out.is_empty() {
        ctx.status("No merge requests");
        return Ok(0);
    }
    let mut s = String::new();
    for m in &out {
        s.push_str(&format!(
            "{} [{}] {} -> {} {} ({})\n",
            text::line(&m.id),
            m.status,
            text::line(&m.branch),
            text::line(&m.target),
            short(&m.commit),
            text::line(m.bead.as_deref().unwrap_or("-")),
        ));
    }
    print_text(&s).map(|()| 0)
}
