//! `git convoy`: batches of tracked work across rigs. One file per command: its clap
//! arguments and what it does (map them to a `Convoys` call, print the answer). The rules
//! live in `crate::convoy`.

mod add;
mod close;
mod create;
mod land;
mod launch;
mod list;
mod mountain;
mod remove;
mod show;
mod stage;
mod stranded;
mod view;

use clap::Parser;

use super::{Ctx, GlobalArgs};
use crate::convoy::Convoys;
use crate::error::Result;
use crate::mail::{parse_mailbox, OVERSEER};
use crate::town::Town;

/// Track batches of work across rigs: convoys that land when their last bead closes
///
/// A convoy is a record in the town (refs/gastown/beads, convoys/<id>.json) tracking beads
/// of any rig; bead ids resolve to rigs by prefix. Progress is computed from the beads.
/// The first command that sees every tracked bead closed records the landing (once) and
/// sends one "Convoy landed" message to the owner and notify list. A launched convoy
/// dispatches its next ready beads when one of its beads closes.
#[derive(Debug, Clone, Parser)]
#[command(name = "git-convoy", version)]
#[command(
    after_help = "Exit status: 0 ok; 1 bad input or refused (unknown convoy or bead, a cycle, a closed convoy closed again), or a dispatch failed; 2 usage; 3 store busy; 5 repository failure."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

impl super::Tool for Cli {
    fn global(&self) -> &GlobalArgs {
        &self.global
    }

    fn run(self, ctx: &Ctx) -> Result<i32> {
        let town = Town::discover(&ctx.dir())?;
        let convoys = Convoys::new(&town);
        self.command.run(ctx, &convoys)
    }
}

/// One `git convoy` command.
trait Run {
    fn run(self, ctx: &Ctx, convoys: &Convoys<'_>) -> Result<i32>;
}

super::subcommands! {
    (convoys: &Convoys<'_>)
    /// Create a convoy tracking beads of any rig
    Create(create::Args),
    /// Track more beads (a landed convoy reopens)
    Add(add::Args),
    /// Stop tracking beads
    Remove(remove::Args),
    /// Show a convoy: status, every bead with its rig, status and assignee, progress
    Show(show::Args),
    /// List open convoys (every one with --all), with progress
    List(list::Args),
    /// Close a convoy by hand, with a reason (not an owned one: those only land)
    Close(close::Args),
    /// Land a complete convoy now (how an owned convoy closes)
    Land(land::Args),
    /// Convoys with ready work nobody is on, with nothing ready, or empty
    Stranded(stranded::Args),
    /// Validate an epic's tree and compute its waves (Kahn levels over blocking deps)
    Stage(stage::Args),
    /// Open a convoy for feeding and dispatch its first wave
    Launch(launch::Args),
    /// Stage an epic and launch it; beads that fail to dispatch 3 times are skipped
    Mountain(mountain::Args),
}

/// The mailbox of whoever runs the command: GT_AGENT, else --actor when it is a mailbox,
/// else the overseer (the default owner of a new convoy).
pub(super) fn my_mailbox(ctx: &Ctx) -> String {
    let from_env = std::env::var("GT_AGENT")
        .ok()
        .and_then(|a| parse_mailbox(a.trim()).ok());
    from_env
        .or_else(|| {
            ctx.global
                .actor
                .as_deref()
                .and_then(|a| parse_mailbox(a.trim()).ok())
        })
        .unwrap_or_else(|| OVERSEER.to_string())
}
