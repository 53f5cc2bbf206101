//! `git mq retry ID`.

use super::actor;
use crate::cli::{print_json, print_text, Ctx};
use crate::error::Result;
use crate::mq::MergeQueue;

/// Put a rejected or conflicting request back into the queue
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The request's id or a unique prefix
    id: String,
}

pub fn run(ctx: &Ctx, q: &MergeQueue<'_>, args: Args) -> Result<i32> {
    let mr = q.retry(&actor(ctx, q)?, &args.id)?;
    if ctx.global.json {
        return print_json(&mr).map(|()| 0);
    }
    print_text(&super::show::describe(&mr)).map(|()| 0)
}
