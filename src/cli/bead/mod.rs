//! `git bead`: bd's verbs, flags and JSON over the bead store. One file per command: each
//! holds its clap arguments and what it does (map the arguments to a bead service call,
//! print the answer). Adding a flag touches the command's file; adding a command is a new
//! file and one line in `commands!` below.

mod blocked;
mod close;
mod comment;
mod comments;
mod config;
mod create;
mod delete;
mod dep;
mod epic;
mod export;
mod import;
mod init;
mod label;
mod list;
mod log;
mod ready;
mod reopen;
mod search;
mod shared;
mod show;
mod stats;
mod trail;
mod update;
mod view;

use clap::{Parser, Subcommand};

use super::{Ctx, GlobalArgs};
use crate::bead::Beads;
use crate::error::Result;

pub use shared::QueryArgs;

/// Track work as beads stored under refs/gastown/beads
///
/// Beads are issues with bd's schema: ids like gt-a1b2, statuses, priorities 0-4, labels,
/// dependencies and comments. Every write is one commit on refs/gastown/beads authored by
/// the acting agent; `ready` lists the open work nothing blocks.
#[derive(Debug, Clone, Parser)]
#[command(name = "git-bead", version)]
#[command(
    after_help = "Exit status: 0 ok, 1 bad input or refused, 2 usage, 3 store busy, 4 claim conflict, 5 repository failure."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// bd's sandbox mode (no auto-sync), which beads-ui passes to every call: accepted and
    /// ignored, because this tool never syncs on its own.
    #[arg(long, global = true, hide = true)]
    sandbox: bool,
    #[command(subcommand)]
    pub command: Command,
}

impl super::Tool for Cli {
    fn global(&self) -> &GlobalArgs {
        &self.global
    }

    fn run(self, ctx: &Ctx) -> Result<i32> {
        let store = ctx.open_store()?;
        // Wisp ids (`<prefix>-wisp-…`) address the clone-local wisp store.
        let beads = match self.command.first_id() {
            Some(id) => Beads::for_id(&store, id),
            None => Beads::new(&store),
        };
        self.command.run(ctx, &beads)
    }
}

/// One `git bead` command.
trait Run {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32>;

    /// The first bead id the command names, which picks the store it runs on.
    fn first_id(&self) -> Option<&str> {
        None
    }
}

/// The subcommands, in `--help` order: `Variant(module::Args)`, with the summary line.
macro_rules! commands {
    ($($(#[$meta:meta])* $variant:ident($args:ty),)*) => {
        #[derive(Debug, Clone, Subcommand)]
        pub enum Command {
            $($(#[$meta])* $variant($args),)*
        }

        impl Command {
            fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
                match self {
                    $(Command::$variant(args) => Run::run(args, ctx, beads),)*
                }
            }

            fn first_id(&self) -> Option<&str> {
                match self {
                    $(Command::$variant(args) => Run::first_id(args),)*
                }
            }
        }
    };
}

commands! {
    /// Create the bead store in this repository
    Init(init::Args),
    /// Create a bead (or many, from a file)
    Create(create::Args),
    /// Show beads in full
    Show(show::Args),
    /// List beads (open and in progress by default)
    List(list::Args),
    /// Change fields of beads
    Update(update::Args),
    /// Close beads
    Close(close::Args),
    /// Reopen closed beads
    Reopen(reopen::Args),
    /// Delete beads (a tombstone: they stay deleted on every clone)
    Delete(delete::Args),
    /// Manage dependencies
    #[command(subcommand)]
    Dep(dep::Args),
    /// Manage labels
    #[command(subcommand)]
    Label(label::Args),
    /// List a bead's comments (`comments ID`), or add one
    Comments(comments::Args),
    /// Add a comment to a bead (bd's short form of `comments add`)
    Comment(comment::Args),
    /// List open beads that nothing blocks
    Ready(ready::Args),
    /// List beads held up by open blockers
    Blocked(blocked::Args),
    /// Epics and how far their children are
    #[command(subcommand)]
    Epic(epic::Args),
    /// Find beads whose text contains a string
    Search(search::Args),
    /// Count beads by status, type and priority
    Stats(stats::Args),
    /// Show the commits that changed a bead
    Log(log::Args),
    /// Show the code commits that did a bead's work, and its merge requests
    ///
    /// From the work notes the post-commit git hook attaches to each commit an agent makes
    /// (refs/gastown/notes/work; see `git gastown hooks`).
    Trail(trail::Args),
    /// Import bd JSONL (all or nothing)
    Import(import::Args),
    /// Export every bead as bd JSONL
    Export(export::Args),
    /// Read or change store-wide settings (prefix, types, statuses)
    #[command(subcommand)]
    Config(config::Args),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn clap_definitions_are_consistent() {
        super::Cli::command().debug_assert();
    }
}
