//! `git bead comments`: add and list comments.

use clap::Subcommand;
use serde_json::json;

use super::view::comment_line;
use super::Run;
use crate::bead::Beads;
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, Subcommand)]
pub enum Args {
    /// Add a comment to a bead
    Add { id: String, text: String },
    /// List a bead's comments
    List { id: String },
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        match self {
            Args::Add { id, text: body } => {
                let actor = ctx.actor(beads.store)?;
                let added = beads.comment(&actor, &id, &body)?;
                if ctx.global.json {
                    print_json(&added)?;
                } else {
                    ctx.status(format!("Comment added to {}", text::line(&added.issue_id)));
                }
                Ok(0)
            }
            Args::List { id } => {
                let snap = beads.snapshot()?;
                let config = beads.config(&snap)?;
                let id = beads.resolve(&snap, &config, &id, &mut None)?;
                let record = beads.load(&snap, &id)?;
                let comments = record
                    .to_json(true)
                    .get("comments")
                    .cloned()
                    .unwrap_or(json!([]));
                if ctx.global.json {
                    print_json(&comments)?;
                } else {
                    let out: String = comments
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(comment_line)
                        .collect();
                    print_text(&out)?;
                }
                Ok(0)
            }
        }
    }

    fn first_id(&self) -> Option<&str> {
        match self {
            Args::Add { id, .. } | Args::List { id } => Some(id),
        }
    }
}
