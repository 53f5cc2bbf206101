//! `git escalate`: raise a problem to the people above (mayor, overseer, a pager), and
//! follow it: list, show, ack, close, stale. One file per command: its clap arguments and
//! what it does (map them to an `Escalations` call, print the answer). The rules live in
//! `crate::escalate`.

mod ack;
mod close;
mod create;
mod list;
mod show;
mod stale;
mod view;

use clap::Parser;

use super::{Ctx, GlobalArgs};
use crate::error::Result;
use crate::town::Town;

/// Raise escalations and follow them, stored in the town under refs/gastown/beads
///
/// `git escalate -s HIGH SUMMARY` records an escalation and routes it by severity (town
/// settings escalation.routes.*; defaults: LOW recorded only, MEDIUM mail to the mayor,
/// HIGH also to the overseer, CRITICAL also the notify command with the escalation as JSON
/// on stdin). Severity maps to priority: CRITICAL P0, HIGH P1, MEDIUM P2, LOW P3.
/// `stale` re-escalates unacknowledged ones (run it from cron, or let patrol do it).
#[derive(Debug, Clone, Parser)]
#[command(name = "git-escalate", version)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
#[command(
    after_help = "Exit status: 0 ok (a routing failure is reported and recorded, not fatal); 1 bad input or refused; 2 usage; 3 store busy; 5 repository failure."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(flatten)]
    pub create: create::Args,
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
            None => Run::run(self.create, ctx, &town),
        }
    }
}

/// One `git escalate` command.
trait Run {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32>;
}

super::subcommands! {
    (town: &Town)
    /// List escalations, most severe first (closed ones only with --all)
    List(list::Args),
    /// Show one escalation: its bumps and what each routing delivered
    Show(show::Args),
    /// Acknowledge an escalation: someone has it (stops re-escalation)
    Ack(ack::Args),
    /// Close an escalation with the reason
    Close(close::Args),
    /// Re-escalate unacknowledged escalations past escalation.stale_threshold
    Stale(stale::Args),
}
