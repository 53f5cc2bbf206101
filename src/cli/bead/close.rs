//! `git bead close`: close beads, optionally walking on to the next molecule step.

use super::shared::{done, now_ms};
use super::Run;
use crate::bead::{molecule, Beads, CloseSpec};
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
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
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let actor = ctx.actor(beads.store)?;
        let spec = CloseSpec {
            reason: self.reason,
            force: self.force,
        };
        if !self.continue_molecule {
            let records = beads.close(&actor, &self.ids, &spec)?;
            return done(ctx, "Closed", &records);
        }
        let outcome = molecule::close_and_continue(beads, &actor, &self.ids, &spec, now_ms())?;
        if ctx.global.json {
            print_json(&outcome)?;
        } else {
            let mut out = format!("Closed {}\n", text::line(&outcome.closed_step));
            if let Some(next) = &outcome.next_step {
                out.push_str(&format!(
                    "Next step (claimed): {}: {}\n",
                    text::line(&next.id),
                    text::line(next.title())
                ));
            } else if outcome.molecule_complete {
                out.push_str(&format!(
                    "Molecule {} complete\n",
                    text::line(outcome.molecule_id.as_deref().unwrap_or(""))
                ));
            } else {
                out.push_str("No next step is ready\n");
            }
            print_text(&out)?;
        }
        Ok(0)
    }

    fn first_id(&self) -> Option<&str> {
        self.ids.first().map(String::as_str)
    }
}
