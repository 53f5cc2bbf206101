//! `git board`: the coordination board — a bulletin, advisory locks with a lease, and
//! decisions (ADRs). One file per command: its clap arguments and what it does (map them to
//! a `Board` call, print the answer). The rules live in `crate::board`.

mod bulletin;
mod check;
mod decide;
mod decisions;
mod export;
mod lock;
mod locks;
mod post;
mod unlock;

use clap::Parser;

use super::{Ctx, GlobalArgs};
use crate::error::Result;
use crate::town::Town;

/// The coordination board: bulletin, advisory locks, decisions, stored under refs/gastown/board
///
/// Without a command, prints the bulletin: posts merged with the events the suite records
/// itself (sling, done, merged, landed, escalated), oldest first. Locks are advisory: they
/// tell other agents what you are editing and why, for a lease (--ttl); nothing refuses an
/// edit, but `check` and the pre-push hook show them, and patrol releases expired locks and
/// those of dead sessions. The acting agent (lock holder, post author) is --actor, else
/// GT_ACTOR (set in agent sessions), else git user.name.
#[derive(Debug, Clone, Parser)]
#[command(name = "git-board", version)]
#[command(
    after_help = "Exit status: 0 ok (for `check`: the path is free); 1 bad input or refused (for `check`: the path is locked); 2 usage; 3 store busy; 4 held by another agent (lock, unlock); 5 repository failure."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(flatten)]
    pub bulletin: bulletin::Args,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl super::Tool for Cli {
    fn global(&self) -> &GlobalArgs {
        &self.global
    }

    fn run(self, ctx: &Ctx) -> Result<i32> {
        let town = Town::discover(&ctx.dir())?;
        match self.command {
            Some(command) => command.run(ctx, &town),
            None => Run::run(self.bulletin, ctx, &town),
        }
    }
}

/// One `git board` command.
trait Run {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32>;
}

super::subcommands! {
    (town: &Town)
    /// Post a note to the bulletin
    Post(post::Args),
    /// Take advisory locks on paths, with an intent and a lease (--ttl, default 2h)
    Lock(lock::Args),
    /// Release your locks on paths
    Unlock(unlock::Args),
    /// List live locks
    Locks(locks::Args),
    /// Is a path locked? Exit 0 free, 1 locked (naming the holder)
    Check(check::Args),
    /// Record a decision: it gets the next ADR number
    Decide(decide::Args),
    /// List decisions, oldest first
    Decisions(decisions::Args),
    /// Write BULLETIN.md, LOCKS.json and DECISIONS.json into a directory
    Export(export::Args),
}

/// A lock as one line.
fn lock_line(lock: &crate::board::Lock) -> String {
    format!(
        "{}  {}  since {}  until {}  {}\n",
        super::text::line(&lock.path),
        super::text::line(&lock.holder),
        lock.since,
        lock.expires,
        super::text::line(lock.intent.lines().next().unwrap_or(""))
    )
}
