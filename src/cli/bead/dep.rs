//! `git bead dep`: add, remove and show dependencies; list cycles.

use clap::Subcommand;

use super::Run;
use crate::bead::{query, Beads};
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, Subcommand)]
pub enum Args {
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

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        match self {
            Args::Add {
                issue,
                depends_on,
                dep_type,
            } => {
                let actor = ctx.actor(beads.store)?;
                let added = beads.add_dep(&actor, &issue, &depends_on, &dep_type)?;
                if ctx.global.json {
                    print_json(&added)?;
                } else {
                    ctx.status(format!(
                        "{} now depends on {} ({})",
                        text::line(&added.issue_id),
                        text::line(&added.depends_on_id),
                        added.dep_type
                    ));
                }
                Ok(0)
            }
            Args::Remove { issue, depends_on } => {
                let actor = ctx.actor(beads.store)?;
                let removed = beads.remove_dep(&actor, &issue, &depends_on)?;
                if ctx.global.json {
                    print_json(&removed)?;
                } else {
                    ctx.status(format!(
                        "{} no longer depends on {}",
                        text::line(&removed.issue_id),
                        text::line(&removed.depends_on_id)
                    ));
                }
                Ok(0)
            }
            Args::Tree { id, up, depth } => {
                let snap = beads.snapshot()?;
                let config = beads.config(&snap)?;
                let mut index = Some(beads.index(&snap)?);
                let id = beads.resolve(&snap, &config, &id, &mut index)?;
                let index = index.expect("loaded above");
                let tree = query::dep_tree(&index, &id, up, depth);
                if ctx.global.json {
                    print_json(&tree)?;
                } else {
                    let mut out = String::new();
                    super::view::tree_text(&tree, 0, &mut out);
                    print_text(&out)?;
                }
                Ok(0)
            }
            Args::Cycles => {
                let snap = beads.snapshot()?;
                let index = beads.index(&snap)?;
                let cycles = crate::bead::graph::cycles(&index);
                if ctx.global.json {
                    print_json(&cycles)?;
                } else if cycles.is_empty() {
                    ctx.status("No dependency cycles.");
                } else {
                    let out: String = cycles
                        .iter()
                        .map(|c| format!("{}\n", text::line(&c.join(" → "))))
                        .collect();
                    print_text(&out)?;
                }
                Ok(if cycles.is_empty() { 0 } else { 1 })
            }
        }
    }

    fn first_id(&self) -> Option<&str> {
        match self {
            Args::Add { issue, .. } | Args::Remove { issue, .. } => Some(issue),
            Args::Tree { id, .. } => Some(id),
            Args::Cycles => None,
        }
    }
}
