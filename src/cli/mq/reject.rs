//! `git mq reject ID --reason TEXT`.

use super::actor;
use crate::cli::{print_json, print_text, Ctx};
use crate::error::Result;
use crate::mq::MergeQueue;

/// Reject a request by hand: its bead goes back to the worker with the reason
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The request's id or a unique prefix
    id: String,
    /// Why (shown to the worker)
    #[arg(long, value_name = "TEXT")]
    reason: String,
}

pub fn run(ctx: &Ctx, q: &MergeQueue<'_>, args: Args) -> Result<i32> {
    let mr = q.reject(&actor(ctx, q)?, &args.id, &args.reason)?;
    if ctx.global.json {
        return print_json(&mr).map(|()| 0);
    }
    print_text(&super::show::describe(&mr)).map(|()| 0)
}
