//! `git bead comments`: list a bead's comments (`comments ID`, as bd), add one.

use clap::Subcommand;
use serde_json::json;

use super::view::comment_line;
use super::Run;
use crate::bead::Beads;
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::{Error, Result};

#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true, arg_required_else_help = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    /// List this bead's comments (the same as `comments list ID`)
    id: Option<String>,
}

#[derive(Debug, Clone, Subcommand)]
enum Sub {
    /// Add a comment to a bead
    Add(AddArgs),
    /// List a bead's comments
    List { id: String },
}

/// A new comment: `comments add ID TEXT`, and bd's `comment ID TEXT...`.
#[derive(Debug, Clone, clap::Args)]
pub struct AddArgs {
    id: String,
    text: String,
    /// Record this person as the comment's author (default: the actor)
    #[arg(long, short)]
    author: Option<String>,
}

impl AddArgs {
    pub fn new(id: String, text: String, author: Option<String>) -> Self {
        AddArgs { id, text, author }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn add(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let actor = ctx.actor(beads.store)?;
        let added = beads.comment(&actor, &self.id, &self.text, self.author.as_deref())?;
        if ctx.global.json {
            print_json(&added)?;
        } else {
            ctx.status(format!("Comment added to {}", text::line(&added.issue_id)));
        }
        Ok(0)
    }
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        match (self.command, self.id) {
            (Some(Sub::Add(add)), _) => add.add(ctx, beads),
            (Some(Sub::List { id }), _) | (None, Some(id)) => list(ctx, beads, &id),
            // clap already answers a bare `comments` with the help (arg_required_else_help).
            (None, None) => Err(Error::invalid("comments: name a bead id")),
        }
    }

    fn first_id(&self) -> Option<&str> {
        match &self.command {
            Some(Sub::Add(add)) => Some(add.id()),
            Some(Sub::List { id }) => Some(id),
            None => self.id.as_deref(),
        }
    }
}

fn list(ctx: &Ctx, beads: &Beads<'_>, id: &str) -> Result<i32> {
    let snap = beads.snapshot()?;
    let config = beads.config(&snap)?;
    let id = beads.resolve(&snap, &config, id, &mut None)?;
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
