//! `git gastown rig`: register, list, show, park and remove rigs.

use clap::Subcommand;

use super::{open_town, Run};
use crate::cli::{print_json, print_text, resolve_path, text, Ctx};
use crate::error::Result;
use crate::town::rigs::{Rig, Status};

#[derive(Debug, Clone, Subcommand)]
pub enum Args {
    /// Register a rig: a local repository (kept in place) or a URL (cloned into the town)
    ///
    /// A local repository stays where it is; anything else is cloned into
    /// <town>/rigs/NAME/repo, with the gastown state its origin shares. The rig's git config
    /// learns its town (gastown.town, gastown.rig), so commands run in it or in any of its
    /// worktrees find the town. Its bead store is created with --prefix (default: from NAME)
    /// unless it has one. Adding a removed rig again revives it.
    Add {
        /// The rig's name: lower-case letters, digits, '-' and '_'
        name: String,
        /// A local repository's path, or a URL to clone
        #[arg(value_name = "PATH|URL")]
        source: String,
        /// Id prefix for the rig's beads (must differ from every other rig's)
        #[arg(long, short)]
        prefix: Option<String>,
    },
    /// List the town's rigs (in a repository with no town: itself)
    List,
    /// Show a rig: its path and whether it is a git repository, prefix, state, agents dir
    Show {
        /// The rig (default: the one containing the current directory)
        name: Option<String>,
    },
    /// Unregister a rig (its repository and sandboxes stay on disk)
    Remove { name: String },
    /// Park a rig: no new sessions or dispatch until it is unparked
    Park { name: String },
    /// Unpark a parked rig
    Unpark { name: String },
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        let town = open_town(ctx)?;
        let rigs = town.rigs();
        match self {
            Args::Add {
                name,
                source,
                prefix,
            } => {
                // A path is taken from the -C directory; anything else is passed on as a URL.
                let local = resolve_path(ctx, std::path::Path::new(&source));
                let source = if local.exists() {
                    local.to_string_lossy().into_owned()
                } else {
                    source
                };
                let actor = ctx.actor(&town.store)?;
                let added = rigs.add(&actor, &name, &source, prefix.as_deref())?;
                if ctx.global.json {
                    return print_json(&added).map(|_| 0);
                }
                let rig = &added.rig;
                let how = if !added.changed {
                    "already registered"
                } else if added.revived {
                    "registered again"
                } else if added.cloned {
                    "cloned and registered"
                } else {
                    "registered"
                };
                let store_note = if added.initialized {
                    ", new bead store"
                } else {
                    ""
                };
                ctx.status(format!(
                    "Rig '{}' {how} at {} (prefix '{}'{store_note})",
                    rig.name,
                    text::line(&rig.path.to_string_lossy()),
                    text::line(&rig.prefix)
                ));
            }
            Args::List => {
                let list = rigs.list()?;
                if ctx.global.json {
                    return print_json(&list).map(|_| 0);
                }
                print_text(&rows(&list))?;
            }
            Args::Show { name } => {
                let name = match name {
                    Some(name) => name,
                    None => rigs.containing(&ctx.dir())?.name,
                };
                let status = rigs.status(&name)?;
                if ctx.global.json {
                    return print_json(&status).map(|_| 0);
                }
                print_text(&show(&status))?;
            }
            Args::Remove { name } => {
                let actor = ctx.actor(&town.store)?;
                let rig = rigs.remove(&actor, &name)?;
                if ctx.global.json {
                    return print_json(&rig).map(|_| 0);
                }
                ctx.status(format!(
                    "Removed rig '{}' (its repository stays at {})",
                    rig.name,
                    text::line(&rig.path.to_string_lossy())
                ));
            }
            Args::Park { name } => return park(ctx, &town, &name, true),
            Args::Unpark { name } => return park(ctx, &town, &name, false),
        }
        Ok(0)
    }
}

fn park(ctx: &Ctx, town: &crate::town::Town, name: &str, parked: bool) -> Result<i32> {
    let actor = ctx.actor(&town.store)?;
    let rig = town.rigs().set_parked(&actor, name, parked)?;
    if ctx.global.json {
        print_json(&rig)?;
    } else {
        let state = if parked { "parked" } else { "unparked" };
        ctx.status(format!("Rig '{}' {state}", rig.name));
    }
    Ok(0)
}

fn state(rig: &Rig) -> &'static str {
    match (rig.lone, rig.parked) {
        (true, _) => "lone",
        (false, true) => "parked",
        (false, false) => "active",
    }
}

/// `NAME  PREFIX  STATE  PATH`, one rig a line.
fn rows(list: &[Rig]) -> String {
    let name_width = list.iter().map(|r| r.name.len()).max().unwrap_or(0).max(4);
    let prefix_width = list
        .iter()
        .map(|r| text::line(&r.prefix).chars().count())
        .max()
        .unwrap_or(0)
        .max(6);
    let mut out = String::new();
    for rig in list {
        out.push_str(&format!(
            "{:name_width$}  {:prefix_width$}  {:6}  {}\n",
            rig.name,
            text::line(&rig.prefix),
            state(rig),
            text::line(&rig.path.to_string_lossy())
        ));
    }
    out
}

fn show(status: &Status) -> String {
    let rig = &status.rig;
    let path_note = match (status.path_exists, status.is_git_repo) {
        (false, _) => "missing",
        (true, false) => "not a git repository",
        (true, true) if !status.knows_town => "git repository, but its config names another town",
        (true, true) => "git repository",
    };
    let agents_note = if status.agents_dir_exists {
        ""
    } else {
        " (not created yet)"
    };
    let mut out = format!("rig {}\n", rig.name);
    let mut field = |label: &str, value: &str| {
        out.push_str(&format!("  {label:<11} {value}\n"));
    };
    field(
        "path:",
        &format!("{} ({path_note})", text::line(&rig.path.to_string_lossy())),
    );
    if let Some(url) = &rig.url {
        field("url:", &text::line(url));
    }
    field("prefix:", &text::line(&rig.prefix));
    field("state:", state(rig));
    field(
        "agents dir:",
        &format!(
            "{}{agents_note}",
            text::line(&rig.agents_dir.to_string_lossy())
        ),
    );
    if let Some(at) = &rig.added_at {
        field("added:", &text::line(at));
    }
    out
}
