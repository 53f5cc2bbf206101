//! `git mail`: messages between agents and the overseer, and nudges into live sessions.
//! One file per command: its clap arguments and what it does (map them to a `Mail` call,
//! print the answer). The rules live in `crate::mail`.

mod ack;
mod archive;
mod channel;
mod check;
mod claim;
mod dnd;
mod group;
mod inbox;
mod lists;
mod nudge;
mod queue;
mod read;
mod release;
mod reply;
mod search;
mod send;
mod shared;
mod thread;

use clap::Parser;

use super::{Ctx, GlobalArgs};
use crate::error::Result;
use crate::town::Town;

/// Send and read mail between agents and the overseer, stored under refs/gastown/mail
///
/// Messages live in the town's own collection (one commit per send, whatever the fan-out),
/// so mail never slows bead queries. Whose mailbox a command reads is --actor, else
/// GT_AGENT, else `overseer` (the person). Addresses: agents (mayor, deacon, RIG/witness,
/// RIG/refinery, RIG/polecats/NAME, RIG/crew/NAME, RIG/NAME), overseer, group:NAME,
/// queue:NAME, channel:NAME, patterns (*/witness, RIG/*, @town, @crew, @polecats,
/// @witnesses, @refineries, @all) and bare group, queue or channel names. Mail informs;
/// state decides: protocol facts (done, merged) are records, messages only tell of them.
#[derive(Debug, Clone, Parser)]
#[command(name = "git-mail", version)]
#[command(
    after_help = "Exit status: 0 ok; 1 bad input or refused (and for `check`, `claim`: nothing new, nothing to claim); 2 usage; 3 store busy; 5 repository failure. `check --inject` always exits 0."
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
        if let Command::Check(args) = &self.command {
            if args.inject {
                // A runtime hook: it must never fail the agent's turn.
                return Ok(check::inject(ctx));
            }
        }
        let town = Town::discover(&ctx.dir())?;
        self.command.run(ctx, &town)
    }
}

/// One `git mail` command.
trait Run {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32>;
}

super::subcommands! {
    (town: &Town)
    /// Send a message (one commit, whatever the fan-out)
    Send(send::Args),
    /// List my messages, newest first (not archived ones unless --all)
    Inbox(inbox::Args),
    /// Show a message in full and mark it read
    Read(read::Args),
    /// Acknowledge messages (marks them read too)
    Ack(ack::Args),
    /// Archive messages: out of the inbox, kept in the store
    Archive(archive::Args),
    /// Reply to a message, in its thread
    Reply(reply::Args),
    /// Show every message of a message's thread, oldest first
    Thread(thread::Args),
    /// Find messages whose subject, sender or body contains a text
    Search(search::Args),
    /// Is there new mail? Exit 0 yes, 1 no; --inject prints it for a runtime hook
    Check(check::Args),
    /// Queue a short text for an agent's live session (not kept as mail)
    Nudge(nudge::Args),
    /// Do-not-disturb: on, off, or show it
    Dnd(dnd::Args),
    /// Take the next message of a queue (one claimant per message)
    Claim(claim::Args),
    /// Give a claimed queue message back to its queue
    Release(release::Args),
    /// Groups: addresses that fan out to their members
    #[command(subcommand)]
    Group(group::Args),
    /// Queues: messages taken by one claimant each
    #[command(subcommand)]
    Queue(queue::Args),
    /// Channels: messages for subscribers, pruned by retention
    #[command(subcommand)]
    Channel(channel::Args),
}
