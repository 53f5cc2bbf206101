//! `git mq integration create|land EPIC`.

use super::{actor, short};
use crate::cli::{print_json, Ctx};
use crate::error::Result;
use crate::mq::MergeQueue;

/// Integration branches: an epic's work merges into integration/<epic>, which lands as one
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Clone, clap::Subcommand)]
enum Action {
    /// Make integration/<epic> from the target and record it on the epic
    Create {
        /// The epic's id
        epic: String,
    },
    /// Once every request into it merged: merge it into the target (gates run) and close the epic
    Land {
        /// The epic's id
        epic: String,
    },
}

pub fn run(ctx: &Ctx, q: &MergeQueue<'_>, args: Args) -> Result<i32> {
    let actor = actor(ctx, q)?;
    match args.action {
        Action::Create { epic } => {
            let made = q.integration_create(&actor, &epic)?;
            if ctx.global.json {
                return print_json(&made).map(|()| 0);
            }
            let verb = if made.created { "Created" } else { "Exists:" };
            ctx.status(format!(
                "{verb} {} from {} at {} for {}",
                made.branch,
                made.target,
                short(&made.base),
                made.epic
            ));
            crate::cli::print_text(&format!("{}\n", made.branch)).map(|()| 0)
        }
        Action::Land { epic } => {
            let landed = q.integration_land(&actor, &epic)?;
            let code = if landed.landed {
                0
            } else {
                landed.pass.exit_code().max(10)
            };
            if ctx.global.json {
                print_json(&landed)?;
                return Ok(code);
            }
            if landed.landed {
                ctx.status(format!(
                    "Landed {} into {}; {} closed",
                    landed.branch, landed.merge_request.target, landed.epic
                ));
            } else {
                ctx.status(format!(
                    "{} did not land: {} ({})",
                    landed.branch,
                    landed.merge_request.status,
                    landed
                        .merge_request
                        .reason
                        .as_deref()
                        .unwrap_or("see `git mq status`")
                ));
            }
            Ok(code)
        }
    }
}
