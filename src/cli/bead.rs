//! `git bead`: bd's verbs, flags and JSON over the bead store.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use super::{finish, GlobalArgs};
use crate::bead::query::Sort;

/// Track work as beads stored under refs/gastown/beads
///
/// Beads are issues with bd's schema: ids like gt-a1b2, statuses, priorities 0-4, labels,
/// dependencies and comments. Every write is one commit on refs/gastown/beads authored by
/// the acting agent; `ready` lists the open work nothing blocks.
#[derive(Debug, Clone, Parser)]
#[command(name = "git-bead", version, about, long_about)]
#[command(
    after_help = "Exit status: 0 ok, 1 bad input or refused, 2 usage, 3 store busy, 4 claim conflict, 5 repository failure."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Create the bead store in this repository
    Init {
        /// Id prefix for new beads (default: the repository directory's name)
        #[arg(long, short)]
        prefix: Option<String>,
    },
    /// Create a bead (or many, from a file)
    Create(CreateArgs),
    /// Show beads in full
    Show {
        /// Bead ids (or unique prefixes)
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// List beads (open and in progress by default)
    List(ListArgs),
    /// Change fields of beads
    Update(UpdateArgs),
    /// Close beads
    Close {
        #[arg(required = true)]
        ids: Vec<String>,
        /// Why they are closed
        #[arg(long, short)]
        reason: Option<String>,
        /// Close even with open blockers or open children
        #[arg(long, short)]
        force: bool,
        /// Then claim the next ready step of the same molecule
        #[arg(long = "continue")]
        continue_molecule: bool,
    },
    /// Reopen closed beads
    Reopen {
        #[arg(required = true)]
        ids: Vec<String>,
        /// Why they are reopened (added as a comment)
        #[arg(long, short)]
        reason: Option<String>,
    },
    /// Delete beads (a tombstone: they stay deleted on every clone)
    Delete {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Manage dependencies
    #[command(subcommand)]
    Dep(DepCommand),
    /// Manage labels
    #[command(subcommand)]
    Label(LabelCommand),
    /// Add or list comments
    #[command(subcommand)]
    Comments(CommentCommand),
    /// List open beads that nothing blocks
    Ready(ReadyArgs),
    /// List beads held up by open blockers
    Blocked(QueryArgs),
    /// Find beads whose text contains a string
    Search {
        /// Text to look for (case-insensitive) in ids, titles, descriptions, design and notes
        query: String,
        #[command(flatten)]
        query_args: QueryArgs,
        /// Include closed beads
        #[arg(long)]
        all: bool,
    },
    /// Count beads by status, type and priority
    Stats,
    /// Show the commits that changed a bead
    Log {
        id: String,
        /// Show at most N commits (0 = all)
        #[arg(long, short = 'n', default_value_t = 0)]
        limit: usize,
    },
    /// Import bd JSONL (all or nothing)
    Import {
        /// File to read, or - for standard input
        file: PathBuf,
        /// Check the file and report what would change, without writing
        #[arg(long)]
        dry_run: bool,
    },
    /// Export every bead as bd JSONL
    Export {
        /// Write to this file instead of standard output
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Include deleted beads, as bd tombstones (status "tombstone", deleted_at, deleted_by)
        #[arg(long)]
        include_deleted: bool,
    },
    /// Read or change store-wide settings (prefix, types, statuses)
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// Title of the bead
    #[arg(required_unless_present = "file")]
    pub title: Option<String>,
    #[arg(long, short)]
    pub description: Option<String>,
    /// Issue type: task, bug, feature, epic, chore, decision, ...
    #[arg(long = "type", short = 't')]
    pub issue_type: Option<String>,
    /// Priority 0 (highest) to 4 (backlog), or P0-P4
    #[arg(long, short)]
    pub priority: Option<String>,
    #[arg(long, short)]
    pub assignee: Option<String>,
    /// Labels, comma-separated (can be repeated)
    #[arg(long = "labels", short = 'l', value_delimiter = ',')]
    pub labels: Vec<String>,
    /// Make the bead a child of this one (its id becomes <parent>.N)
    #[arg(long)]
    pub parent: Option<String>,
    /// Dependencies, comma-separated: ID or TYPE:ID (can be repeated)
    #[arg(long, value_delimiter = ',')]
    pub deps: Vec<String>,
    #[arg(long)]
    pub design: Option<String>,
    /// Acceptance criteria
    #[arg(long)]
    pub acceptance: Option<String>,
    #[arg(long)]
    pub notes: Option<String>,
    /// Use this id instead of generating one
    #[arg(long)]
    pub id: Option<String>,
    #[arg(long)]
    pub owner: Option<String>,
    #[arg(long)]
    pub external_ref: Option<String>,
    /// Due time: RFC 3339, YYYY-MM-DD or +N[m|h|d|w]
    #[arg(long)]
    pub due: Option<String>,
    /// Hide from ready until this time
    #[arg(long)]
    pub defer: Option<String>,
    /// Estimated minutes of work
    #[arg(long)]
    pub estimate: Option<u32>,
    /// Metadata as a JSON object
    #[arg(long)]
    pub metadata: Option<String>,
    /// Create many beads from a file: bd JSONL (.jsonl/.json) or markdown (## Title sections)
    #[arg(long, short, conflicts_with = "title")]
    pub file: Option<PathBuf>,
    /// Print only the new id
    #[arg(long)]
    pub silent: bool,
}

#[derive(Debug, Clone, Args)]
pub struct QueryArgs {
    /// Only these statuses (comma-separated)
    #[arg(long, short, value_delimiter = ',')]
    pub status: Vec<String>,
    /// Only these types (comma-separated)
    #[arg(long = "type", short = 't', value_delimiter = ',')]
    pub issue_type: Vec<String>,
    /// Only beads with all of these labels (can be repeated)
    #[arg(long, short, value_delimiter = ',')]
    pub label: Vec<String>,
    /// Only beads with at least one of these labels
    #[arg(long, value_delimiter = ',')]
    pub label_any: Vec<String>,
    #[arg(long, short)]
    pub assignee: Option<String>,
    /// Only beads nobody is assigned to
    #[arg(long)]
    pub unassigned: bool,
    /// Only these priorities (comma-separated, 0-4)
    #[arg(long, short, value_delimiter = ',')]
    pub priority: Vec<String>,
    /// Only descendants of this bead
    #[arg(long)]
    pub parent: Option<String>,
    /// Show at most N beads (0 = no limit)
    #[arg(long, short = 'n')]
    pub limit: Option<usize>,
    /// Sort order
    #[arg(long, value_enum)]
    pub sort: Option<Sort>,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub query: QueryArgs,
    /// Include closed and frozen beads
    #[arg(long)]
    pub all: bool,
    /// Only beads whose text contains this (case-insensitive)
    #[arg(long)]
    pub text: Option<String>,
    /// Reverse the sort order
    #[arg(long, short)]
    pub reverse: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ReadyArgs {
    #[command(flatten)]
    pub query: QueryArgs,
    /// Say for every open bead why it is or is not ready, and list dependency cycles
    #[arg(long)]
    pub explain: bool,
    /// Claim the first ready bead for the actor
    #[arg(long)]
    pub claim: bool,
}

#[derive(Debug, Clone, Args)]
pub struct UpdateArgs {
    #[arg(required = true)]
    pub ids: Vec<String>,
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long, short)]
    pub description: Option<String>,
    #[arg(long)]
    pub design: Option<String>,
    #[arg(long)]
    pub acceptance: Option<String>,
    #[arg(long)]
    pub notes: Option<String>,
    /// Append a paragraph to the notes
    #[arg(long)]
    pub append_notes: Option<String>,
    #[arg(long, short)]
    pub status: Option<String>,
    #[arg(long, short)]
    pub priority: Option<String>,
    #[arg(long = "type", short = 't')]
    pub issue_type: Option<String>,
    /// Assignee ("" to clear)
    #[arg(long, short)]
    pub assignee: Option<String>,
    #[arg(long)]
    pub owner: Option<String>,
    #[arg(long)]
    pub external_ref: Option<String>,
    #[arg(long)]
    pub due: Option<String>,
    #[arg(long)]
    pub defer: Option<String>,
    #[arg(long)]
    pub estimate: Option<u32>,
    /// Metadata as a JSON object (replaces the old one)
    #[arg(long)]
    pub metadata: Option<String>,
    /// Add labels (comma-separated, can be repeated)
    #[arg(long, value_delimiter = ',')]
    pub add_label: Vec<String>,
    /// Remove labels
    #[arg(long, value_delimiter = ',')]
    pub remove_label: Vec<String>,
    /// Move under this parent ("" to detach)
    #[arg(long)]
    pub parent: Option<String>,
    /// Take the bead: assignee = actor, status = in_progress, atomically; fails if someone else holds it
    #[arg(long)]
    pub claim: bool,
    /// Set any field: KEY=VALUE (VALUE parsed as JSON when it is valid JSON)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Remove a field
    #[arg(long, value_name = "KEY")]
    pub unset: Vec<String>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum DepCommand {
    /// Make ISSUE depend on DEPENDS_ON
    Add {
        issue: String,
        depends_on: String,
        /// Dependency type: blocks, parent-child, related, discovered-from, tracks, waits-for, ...
        #[arg(long = "type", short = 't', default_value = "blocks")]
        dep_type: String,
    },
    /// Remove the dependency of ISSUE on DEPENDS_ON
    Remove { issue: String, depends_on: String },
    /// Show what a bead depends on, as a tree
    Tree {
        id: String,
        /// Show what depends on the bead instead
        #[arg(long)]
        up: bool,
        /// How many levels to show
        #[arg(long, default_value_t = 10)]
        depth: usize,
    },
    /// List dependency cycles
    Cycles,
}

#[derive(Debug, Clone, Subcommand)]
pub enum LabelCommand {
    /// Add LABEL to beads: IDS... LABEL
    Add {
        #[arg(required = true, num_args = 2..)]
        ids_and_label: Vec<String>,
    },
    /// Remove LABEL from beads: IDS... LABEL
    Remove {
        #[arg(required = true, num_args = 2..)]
        ids_and_label: Vec<String>,
    },
    /// List a bead's labels, or every label in use with counts
    List { id: Option<String> },
}

#[derive(Debug, Clone, Subcommand)]
pub enum CommentCommand {
    /// Add a comment to a bead
    Add { id: String, text: String },
    /// List a bead's comments
    List { id: String },
}

#[derive(Debug, Clone, Subcommand)]
pub enum ConfigCommand {
    /// Print one setting
    Get { key: String },
    /// Change one setting (prefix, or comma-separated custom types / statuses)
    Set { key: String, value: String },
    /// Print every setting
    List,
}

pub fn main() -> ! {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let json = super::wants_json(&args);
    let cli = Cli::parse_from(args);
    let ctx = super::Ctx::new(cli.global.clone());
    finish(
        json,
        super::retrying(|| super::bead_run::run(&ctx, cli.command.clone())),
    )
}
