//! `git bead ready`: open beads nothing blocks; `--claim` takes the first, `--explain` says why.

use super::shared::{now_ms, QueryArgs};
use super::view::{explain_text, print_rows, Layout};
use super::Run;
use crate::bead::{query, Beads};
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    query: QueryArgs,
    /// Say for every open bead why it is or is not ready, and list dependency cycles
    #[arg(long)]
    explain: bool,
    /// Claim the first ready bead for the actor
    #[arg(long)]
    claim: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let snap = beads.snapshot()?;
        let filter = self.query.filter(beads, &snap, false, None)?;
        let sort = self.query.sort();
        if self.claim {
            let actor = ctx.actor(beads.store)?;
            return match beads.claim_first_ready(&actor, &filter, sort, now_ms())? {
                Some(record) => {
                    if ctx.global.json {
                        print_json(&record.to_json(true))?;
                    } else {
                        print_text(&format!(
                            "Claimed {}: {}\n",
                            text::line(&record.id),
                            text::line(record.title())
                        ))?;
                    }
                    Ok(0)
                }
                None => {
                    if ctx.global.json {
                        print_json(&serde_json::Value::Null)?;
                    } else {
                        ctx.status("No ready work to claim.");
                    }
                    Ok(1)
                }
            };
        }
        let index = beads.index(&snap)?;
        if self.explain {
            let explained = query::explain(&index, now_ms());
            if ctx.global.json {
                print_json(&explained)?;
            } else {
                print_text(&explain_text(&explained))?;
            }
            return Ok(0);
        }
        let limit = self.query.limit.unwrap_or(100);
        let (rows, total) = query::ready(&snap, &index, &filter, sort, limit, now_ms())?;
        if rows.is_empty() && !ctx.global.json {
            let open = index
                .rows
                .iter()
                .filter(|r| index.status(r) == "open")
                .count();
            ctx.status(if open == 0 {
                "No open beads."
            } else {
                "No ready work: every open bead is blocked or deferred (see `git bead blocked`)."
            });
            return Ok(0);
        }
        print_rows(ctx, &snap, &index, &rows, total, false, Layout::Flat)
    }
}
