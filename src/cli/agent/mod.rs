//! `git agent`: identities, sandboxes, sessions and runtimes, and what an agent runs about
//! itself (prime, hook, done, handoff, activity). One file per command: its clap arguments and what
//! it does (map the arguments to an `Agents` call, print the answer). Adding a command is a
//! new file and one line in `commands!` below.

mod activity;
mod add;
mod attach;
mod done;
mod handoff;
mod hook;
mod list;
mod nuke;
mod peek;
mod prime;
mod restart;
mod runtimes;
mod seance;
mod show;
mod start;
mod stop;
mod unhook;
mod view;

use std::path::Path;

use clap::Parser;

use super::{Ctx, GlobalArgs};
use crate::agent::{Address, Agents};
use crate::error::{Error, Result};
use crate::town::{Rig, Town};

/// Run agents: polecats and crew in sandboxes, their sessions and runtimes
///
/// An agent has an identity (a record in its rig's store under refs/gastown/beads), a
/// sandbox (a git worktree of the rig on its own branch) and a session (a process under
/// tmux or detached). Addresses: mayor, deacon, RIG/witness, RIG/refinery,
/// RIG/polecats/NAME, RIG/crew/NAME (or RIG/NAME when the name is unique). Inside a
/// sandbox, commands that act on "me" know the agent from the sandbox.
#[derive(Debug, Clone, Parser)]
#[command(name = "git-agent", version)]
#[command(
    after_help = "Exit status: 0 ok, 1 bad input or refused, 2 usage, 3 store busy, 4 conflict (someone else won, or the session is already running), 5 repository failure. `prime --hook` and `activity --hook` always exit 0."
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
        self.command.run(ctx)
    }
}

/// One `git agent` command.
trait Run {
    fn run(self, ctx: &Ctx) -> Result<i32>;
}

super::subcommands! {
    ()
    /// Add a polecat or crew member: a name, a record and a sandbox
    #[command(subcommand)]
    Add(add::Args),
    /// List agents with their sessions
    List(list::Args),
    /// Show one agent and its session
    Show(show::Args),
    /// Start an agent's session in its sandbox
    Start(start::Args),
    /// Stop an agent's session
    Stop(stop::Args),
    /// Stop an agent's session and start it again, resuming the runtime's session
    Restart(restart::Args),
    /// Join an agent's terminal (tmux sessions)
    Attach(attach::Args),
    /// Show the last lines of an agent's session output
    Peek(peek::Args),
    /// Remove an agent's sandbox and free its name (refuses to lose work)
    Nuke(nuke::Args),
    /// List the agent runtimes and whether each is installed
    Runtimes(runtimes::Args),
    /// Print what an agent needs at the start of a session: identity, role, hook, steps
    Prime(prime::Args),
    /// Record activity from a runtime hook (working, waiting, stop)
    Activity(activity::Args),
    /// Show my hook, or attach a bead to an agent's hook without starting it
    Hook(hook::Args),
    /// Take the bead off an agent's hook (back to open)
    Unhook(unhook::Args),
    /// Hand finished work in: merge request, bead kept in progress, agent idle, session ended
    Done(done::Args),
    /// Leave a note for the next session, end this one and start a fresh one on the same hook
    Handoff(handoff::Args),
    /// List an agent's past sessions; --talk ID opens one again (forked where the runtime can)
    ///
    /// Each session's start, end, runtime, the runtime's own session id, the hook it started
    /// with and how it ended (stopped, restarted, completed, escalated, deferred, handoff,
    /// nuked; exited when its end was not recorded, running for the live one). --talk runs
    /// the runtime's resume command in the agent's sandbox, with its fork flag where it has
    /// one (claude: --fork-session), so the agent's own session is left as it was.
    Seance(seance::Args),
}

/// The town of the -C directory (a lone repository is a town of one rig).
fn open_town(ctx: &Ctx) -> Result<Town> {
    let dir = ctx.dir();
    if !dir.is_dir() {
        let why = if dir.exists() {
            "not a directory"
        } else {
            "no such directory"
        };
        return Err(Error::invalid(format!(
            "cannot change to '{}': {why}",
            dir.display()
        )));
    }
    Town::discover(&dir)
}

/// The rig named by --rig, else the rig containing the -C directory.
fn rig_for(town: &Town, ctx: &Ctx, rig: Option<&str>) -> Result<Rig> {
    match rig {
        Some(name) => town.rigs().get(name),
        None => town.rigs().containing(&ctx.dir()),
    }
}

/// Open the town, resolve the agent (an address, or none: the agent whose sandbox this is,
/// else GT_AGENT) and run `f` on it.
fn on_agent(
    ctx: &Ctx,
    address: Option<&str>,
    f: impl FnOnce(&Town, &Agents<'_>, Address) -> Result<i32>,
) -> Result<i32> {
    let town = open_town(ctx)?;
    let agents = Agents::new(&town);
    let address = target(&agents, ctx, address)?;
    f(&town, &agents, address)
}

/// The agent an address names, or (none given) the agent whose sandbox we are in.
fn target(agents: &Agents<'_>, ctx: &Ctx, address: Option<&str>) -> Result<Address> {
    match address {
        Some(text) => agents.resolve(text),
        None => agents.whoami(&absolute(&ctx.dir())),
    }
}

fn absolute(dir: &Path) -> std::path::PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn clap_definitions_are_consistent() {
        super::Cli::command().debug_assert();
    }
}
