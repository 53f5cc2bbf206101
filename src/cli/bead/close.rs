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
            let code = done(ctx, "Closed", &records)?;
            let closed: Vec<String> = records
                .iter()
                .filter(|r| r.status() == "closed")
                .map(|r| r.id.clone())
                .collect();
            convoys_after_close(ctx, beads, &actor, &closed);
            return Ok(code);
        }
        let outcome = molecule::close_and_continue(beads, &actor, &self.ids, &spec, now_ms())?;
        let mut closed = vec![outcome.closed_step.clone()];
        if outcome.molecule_complete {
            closed.extend(outcome.molecule_id.clone());
        }
        convoys_after_close(ctx, beads, &actor, &closed);
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

/// The convoy follow-up of a close: land what it completed (in the town, when the convoy
/// lives there), send the landing messages, feed launched convoys. The close has happened
/// whatever this does; a failure here is repaired by the next command or `git gastown sync`.
fn convoys_after_close(
    ctx: &Ctx,
    beads: &Beads<'_>,
    actor: &crate::store::Actor,
    closed: &[String],
) {
    if beads.collection != crate::bead::COLLECTION || closed.is_empty() {
        return;
    }
    match crate::convoy::after_close(beads.store, actor, closed) {
        Ok(after) => {
            for l in &after.landed {
                ctx.status(format!(
                    "Convoy {} landed: {} ({} beads)",
                    text::line(&l.id),
                    text::line(&l.name),
                    l.beads.len()
                ));
            }
            for d in &after.fed {
                ctx.status(format!(
                    "Convoy fed {}: {}{}",
                    text::line(&d.bead),
                    d.outcome,
                    d.agent
                        .as_ref()
                        .map(|a| format!(" ({a})"))
                        .unwrap_or_default()
                ));
            }
        }
        Err(err) => ctx.status(format!(
            "warning: convoy follow-up failed ({}); `git gastown sync` repairs it",
            text::line(&crate::error::one_line(&err.to_string()))
        )),
    }
}
