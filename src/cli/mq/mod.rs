//! `git mq`: the merge queue's requests. `list` and `show` read the records `git agent done`
//! creates (one per submitted commit, in the rig's store); the gated merge pass comes with
//! the merge-queue issue.

use clap::{Parser, Subcommand};

use super::{print_json, print_text, text, Ctx, GlobalArgs};
use crate::error::{Error, Result};
use crate::mq::{self, MergeRequest};
use crate::town::{Rig, Town};

/// The merge queue: requests to merge agents' branches into their rig's target
///
/// `git agent done` files one merge request per finished branch (deduplicated by commit);
/// its bead stays in progress until the merge closes it.
#[derive(Debug, Clone, Parser)]
#[command(name = "git-mq", version)]
#[command(after_help = "Exit status: 0 ok, 1 bad input.")]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// List merge requests, oldest first (open ones by default)
    List {
        /// The rig (default: the rig of the current directory)
        #[arg(long, value_name = "RIG", conflicts_with = "all_rigs")]
        rig: Option<String>,
        /// Every rig of the town
        #[arg(long = "all-rigs")]
        all_rigs: bool,
        /// Merged, rejected and conflicting ones too
        #[arg(long)]
        all: bool,
    },
    /// Show one merge request
    Show {
        /// Its id (e.g. gt-mr-1a2b3c4d5e) or a unique prefix
        id: String,
        #[arg(long, value_name = "RIG")]
        rig: Option<String>,
    },
}

impl super::Tool for Cli {
    fn global(&self) -> &GlobalArgs {
        &self.global
    }

    fn run(self, ctx: &Ctx) -> Result<i32> {
        let town = Town::discover(&ctx.dir())?;
        match self.command {
            Command::List { rig, all_rigs, all } => {
                let rigs = rigs(ctx, &town, rig.as_deref(), all_rigs)?;
                let mut out: Vec<MergeRequest> = Vec::new();
                for rig in rigs {
                    out.extend(mq::list(&rig.open_store()?)?.into_iter().filter(|m| all || m.status == mq::OPEN));
                }
                if ctx.global.json {
                    print_json(&out)?;
                } else if out.is_empty() {
                    ctx.status("No merge requests");
                } else {
                    let mut s = String::new();
                    for m in &out {
                        s.push_str(&format!(
                            "{} [{}] {} -> {} {} ({})\n",
                            text::line(&m.id),
                            m.status,
                            text::line(&m.branch),
                            text::line(&m.target),
                            &m.commit[..m.commit.len().min(10)],
                            text::line(m.bead.as_deref().unwrap_or("-")),
                        ));
                    }
                    print_text(&s)?;
                }
                Ok(0)
            }
            Command::Show { id, rig } => {
                let rigs = rigs(ctx, &town, rig.as_deref(), rig.is_none())?;
                let mut found: Vec<MergeRequest> = Vec::new();
                for rig in rigs {
                    found.extend(mq::list(&rig.open_store()?)?.into_iter().filter(|m| m.id.starts_with(&id)));
                }
                let mr = match found.len() {
                    1 => found.remove(0),
                    0 => return Err(Error::invalid(format!("no merge request '{id}'"))),
                    _ => {
                        return Err(Error::Ambiguous {
                            prefix: id,
                            candidates: found.into_iter().map(|m| m.id).collect(),
                        })
                    }
                };
                if ctx.global.json {
                    print_json(&mr)?;
                } else {
                    let mut s = format!("{} [{}]\n", text::line(&mr.id), mr.status);
                    for (k, v) in [
                        ("branch", Some(mr.branch.clone())),
                        ("target", Some(mr.target.clone())),
                        ("commit", Some(mr.commit.clone())),
                        ("bead", mr.bead.clone()),
                        ("worker", mr.worker.clone()),
                        ("convoy", mr.convoy.clone()),
                        ("created", Some(mr.created_at.clone())),
                        ("merged as", mr.merge_commit.clone()),
                        ("reason", mr.reason.clone()),
                    ] {
                        if let Some(v) = v {
                            s.push_str(&format!("  {k}: {}\n", text::line(&v)));
                        }
                    }
                    print_text(&s)?;
                }
                Ok(0)
            }
        }
    }
}

fn rigs(ctx: &Ctx, town: &Town, rig: Option<&str>, all: bool) -> Result<Vec<Rig>> {
    match (rig, all) {
        (Some(name), _) => Ok(vec![town.rigs().get(name)?]),
        (None, true) => town.rigs().list(),
        (None, false) => Ok(vec![town.rigs().containing(&ctx.dir())?]),
    }
}
