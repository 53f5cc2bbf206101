//! `git gastown`: the town, its rigs and shared settings, plus suite-level commands (sync,
//! housekeeping, version, man pages, completions). One file per command, as in `git bead`:
//! each holds its clap arguments and what it does. Adding a command is a new file and one
//! line in `commands!` below.

mod completions;
mod config;
mod dashboard;
mod demo;
mod feed;
mod gc;
mod hooks;
mod init;
mod man;
mod rig;
mod status;
mod sync;
mod version;

use clap::Parser;

use super::{Ctx, GlobalArgs};
use crate::error::{Error, Result};
use crate::town::Town;

/// The town, its rigs and shared settings; sync between clones, housekeeping, version, man pages, completions
///
/// A town is a git repository holding town-wide state and the registry of rigs (project
/// repositories). A repository with no town works on its own, as a town of one rig.
#[derive(Debug, Clone, Parser)]
#[command(name = "git-gastown", version)]
#[command(
    after_help = "Exit status: 0 ok, 1 bad input or refused, 2 usage, 3 store busy, 4 conflict, 5 repository failure."
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

/// One `git gastown` command.
trait Run {
    fn run(self, ctx: &Ctx) -> Result<i32>;
}

super::subcommands! {
    ()
    /// Create a town: a git repository for town-wide state and the rig registry
    ///
    /// DIR (default: $GT_ROOT, else ~/gt) becomes a git repository if it is not one, and
    /// its store records the town. Re-running changes nothing. Rigs cloned into the town go
    /// under DIR/rigs/, which the town repository ignores.
    Init(init::Args),
    /// Show the town at a glance: problems first, then rigs, agents, merge queues, queued dispatches
    ///
    /// Problems lead: dead sessions holding work, interrupted `done`s, stuck agents, held
    /// merges, missing rigs. Read only (nothing is written or locked) and fast enough for a
    /// status line. `--json` is the document the dashboard serves as /api/status.
    Status(status::Args),
    /// Register, list, show, park and remove rigs (project repositories)
    #[command(subcommand)]
    Rig(rig::Args),
    /// Read and change shared town and rig settings (stored in refs/gastown/beads, so they sync)
    ///
    /// A rig's value overrides the town's, which overrides the built-in default. Machine-local
    /// settings (paths to agent binaries) are git config (`gastown.*`) instead.
    #[command(subcommand)]
    Config(config::Args),
    /// Fetch the remote's gastown state, merge it into ours and push the result
    ///
    /// Fetches refs/gastown/* into refs/gastown-remotes/<remote>/*, merges every shared
    /// collection deterministically (no conflict markers; every clone converges), pushes,
    /// and retries when another clone pushed in between. Collections under
    /// refs/gastown/local/ never leave this clone. See docs/SYNC.md.
    Sync(sync::Args),
    /// The town's activity stream, from the commit logs of its collections and its rigs'
    ///
    /// Every logical write is one commit naming its actor, operation and records; the feed
    /// merges those of the town and of every rig in time order: sling, hook, done, merged,
    /// rejected, landed, mail, escalations, patrol actions, board posts and locks, bead
    /// edits. --follow keeps printing new events (polling the refs; stop it with Ctrl-C).
    Feed(feed::Args),
    /// Serve a live web page of the town on 127.0.0.1: agents, convoys, merge queue, escalations, feed
    ///
    /// Prints the page's URL and serves until stopped (Ctrl-C). The page refreshes itself
    /// every two seconds from a read-only JSON API: /api/status is the document of
    /// `git gastown status --json`, /api/feed?limit=N&since=T&rig=R the newest feed events.
    /// Nothing is written; only 127.0.0.1 and localhost may ask. See docs/DASHBOARD.md.
    Dashboard(dashboard::Args),
    /// Pack refs and objects (safe while other processes write)
    ///
    /// Runs `git pack-refs --all` and an incremental `git repack -d`; --full runs `git gc`
    /// (which prunes only unreachable objects older than git's expiry). Writes start
    /// `gc --auto` by themselves when loose objects pile up (threshold: GT_GC_AUTO or git
    /// config gastown.gcAuto, default 6700; 0 disables).
    Gc(gc::Args),
    /// Install, remove or inspect the git hooks that propel the town (docs/HOOKS.md)
    ///
    /// post-commit notes each commit's bead, agent and session (refs/gastown/notes/work,
    /// shown by `git log` and `git bead trail`); reference-transaction merges gastown state
    /// a plain `git fetch` brought, and closes merge requests a branch merged by hand now
    /// contains; pre-push refuses a polecat branch pushed onto the target branch. Hooks
    /// chain to the ones already there and never fail your git command because of gastown.
    #[command(subcommand)]
    Hooks(hooks::Args),
    /// Watch scripted agents work a throwaway town: sling, done, merge queue (no LLM, no network)
    ///
    /// Builds a town with one rig in a temporary directory (or --keep DIR), files beads
    /// with dependencies, slings them to polecats running a built-in scripted agent, lets
    /// the merge queue merge their work (one conflict reworked, one gate failure retried),
    /// then prints what happened. Exit status 1 if not everything closed in time.
    Demo(demo::Args),
    /// Print the suite's version and storage format
    Version(version::Args),
    /// Write the man pages of every gastown command into a directory
    Man(man::Args),
    /// Print shell completions for every gastown command
    Completions(completions::Args),
}

/// The town of the current directory: its rig's town, the town itself, or the repository
/// as a town of one rig; outside any repository, the default town ($GT_ROOT or ~/gt).
fn open_town(ctx: &Ctx) -> Result<Town> {
    let dir = ctx.dir();
    if !dir.is_dir() {
        return Err(Error::invalid(format!(
            "cannot change to '{}': no such directory",
            dir.display()
        )));
    }
    match Town::discover(&dir) {
        Err(Error::NotARepository(_)) => Town::open_default(),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn clap_definitions_are_consistent() {
        super::Cli::command().debug_assert();
    }
}
