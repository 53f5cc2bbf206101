//! `git mq`: the merge queue. One file per command; the rules are in `crate::mq`
//! (`MergeQueue`), this maps arguments to its calls and prints what they return.

mod integration;
mod list;
mod reject;
mod retry;
mod run;
mod show;
mod status;
mod submit;

use clap::{Parser, Subcommand};

use super::{Ctx, GlobalArgs};
use crate::error::Result;
use crate::mq::MergeQueue;
use crate::store::Actor;
use crate::town::{Rig, Town};

/// The merge queue: gated, deterministic merges of agents' branches into their rig's target
///
/// `git agent done` (or `git mq submit`) files one merge request per finished branch,
/// deduplicated by commit. `git mq run` drains the queue once: each request (or batch) is
/// rebased onto the target in a scratch worktree, the rig's gates (`merge_queue.gates.*`)
/// run, and on green the target moves by compare-and-swap and the bead closes.
#[derive(Debug, Clone, Parser)]
#[command(name = "git-mq", version)]
#[command(
    after_help = "Exit status: 0 ok; 1 bad input; 3 busy; 10 `run` rejected a request or found a conflict; 11 `run` held a request (dirty checkout of the target, a gate command that does not exist, a target that kept moving)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The rig (default: the rig of the current directory)
    #[arg(long, global = true, value_name = "RIG")]
    pub rig: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    List(list::Args),
    Show(show::Args),
    Submit(submit::Args),
    Run(run::Args),
    Status(status::Args),
    Retry(retry::Args),
    Reject(reject::Args),
    Integration(integration::Args),
}

impl super::Tool for Cli {
    fn global(&self) -> &GlobalArgs {
        &self.global
    }

    fn run(self, ctx: &Ctx) -> Result<i32> {
        let town = Town::discover(&ctx.dir())?;
        let rig = self.rig.as_deref();
        match self.command {
            Command::List(args) => list::run(ctx, &town, rig, args),
            Command::Show(args) => show::run(ctx, &town, rig, args),
            Command::Submit(args) => submit::run(ctx, &queue(ctx, &town, rig)?, args),
            Command::Run(args) => run::run(ctx, &queue(ctx, &town, rig)?, args),
            Command::Status(args) => status::run(ctx, &queue(ctx, &town, rig)?, args),
            Command::Retry(args) => retry::run(ctx, &queue(ctx, &town, rig)?, args),
            Command::Reject(args) => reject::run(ctx, &queue(ctx, &town, rig)?, args),
            Command::Integration(args) => integration::run(ctx, &queue(ctx, &town, rig)?, args),
        }
    }
}

/// The rig named, else the rig of the current directory.
fn rig_of(ctx: &Ctx, town: &Town, rig: Option<&str>) -> Result<Rig> {
    match rig {
        Some(name) => town.rigs().get(name),
        None => town.rigs().containing(&ctx.dir()),
    }
}

fn queue<'t>(ctx: &Ctx, town: &'t Town, rig: Option<&str>) -> Result<MergeQueue<'t>> {
    MergeQueue::new(town, rig_of(ctx, town, rig)?)
}

fn actor(ctx: &Ctx, q: &MergeQueue<'_>) -> Result<Actor> {
    ctx.actor(&q.store)
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}
