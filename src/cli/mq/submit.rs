//! `git mq submit [BRANCH]`: a merge request by hand (agents get theirs from `done`).

use super::{actor, short};
use crate::cli::{print_json, Ctx};
use crate::error::{Error, Result};
use crate::gitcmd;
use crate::mq::{MergeQueue, SubmitSpec};

/// File a merge request for a branch's tip (deduplicated by commit)
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The branch (default: the current branch)
    branch: Option<String>,
    /// The bead the merge closes
    #[arg(long, value_name = "ID")]
    bead: Option<String>,
    /// The branch to merge into (default: the bead's integration branch, else merge_queue.target, else the rig's HEAD branch)
    #[arg(long, value_name = "BRANCH")]
    target: Option<String>,
}

pub fn run(ctx: &Ctx, q: &MergeQueue<'_>, args: Args) -> Result<i32> {
    let branch = match args.branch {
        Some(b) => b,
        None => gitcmd::probe(&ctx.dir(), ["symbolic-ref", "--quiet", "--short", "HEAD"])
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                Error::invalid("no branch given and HEAD is detached: name the branch")
            })?,
    };
    let actor = actor(ctx, q)?;
    let done = q.submit(
        &actor,
        &SubmitSpec {
            branch,
            bead: args.bead,
            target: args.target,
        },
    )?;
    if ctx.global.json {
        return print_json(&done).map(|()| 0);
    }
    let verb = if done.created {
        "Submitted"
    } else {
        "Already queued:"
    };
    ctx.status(format!(
        "{verb} {} ({} -> {} at {}){}",
        done.mr.id,
        done.mr.branch,
        done.mr.target,
        short(&done.mr.commit),
        done.mr
            .supersedes
            .as_deref()
            .map(|s| format!(", superseding {s}"))
            .unwrap_or_default()
    ));
    crate::cli::print_text(&format!("{}\n", done.mr.id)).map(|()| 0)
}
