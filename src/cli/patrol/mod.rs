//! `git patrol`: one supervision pass (witness, deacon and refinery work), and `cron`, the
//! crontab line that runs it. The rules live in `crate::patrol`; this maps arguments to its
//! calls and prints what they return.

mod cron;
mod pass;

use clap::{Parser, Subcommand};

use super::{Ctx, GlobalArgs};
use crate::error::Result;

/// One supervision pass over the town: restart dead agents, finish interrupted work, merge
///
/// What Gas Town's daemon and its Boot, Deacon, Witness and Refinery patrols did around the
/// clock, as one mechanical, idempotent, lock-guarded pass that cron, CI, a git hook or a
/// person runs, then exits. Witness: every polecat's session (its OS lock), hook, bead, done
/// intent and activity; a dead session with hooked work is restarted on the same sandbox
/// and hook (3 times per bead; the 4th death escalates and releases the bead), an
/// interrupted `done` is finished, a session whose bead was closed is stopped (its sandbox
/// kept). Deacon: stale hooks, the scheduler's queue, dispatch.auto, molecule gates, wisp
/// reaping, checkpoints of dead sessions' dirty sandboxes, gc --auto, convoys, stale
/// escalations, expired advisory locks. Refinery: a merge-queue pass where requests wait.
/// A pass over a quiet town writes nothing. A second pass while one runs exits at once.
#[derive(Debug, Clone, Parser)]
#[command(name = "git-patrol", version)]
#[command(
    after_help = "Exit status: 0 ok (also when another pass was running: it covers this one); 1 bad input, or an action of the pass failed (see the report); 3 store busy; 5 repository failure."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Patrol one rig only (its witness, deacon and refinery work)
    #[arg(long, global = true, value_name = "RIG")]
    pub rig: Option<String>,
    /// Report what the pass would do; change nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Print (or install into your crontab) the line that runs a pass every few minutes
    Cron(cron::Args),
}

impl super::Tool for Cli {
    fn global(&self) -> &GlobalArgs {
        &self.global
    }

    fn run(self, ctx: &Ctx) -> Result<i32> {
        match self.command {
            Some(Command::Cron(args)) => cron::run(ctx, args),
            None => pass::run(ctx, self.rig, self.dry_run),
        }
    }
}
