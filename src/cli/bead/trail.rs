//! `git bead trail`: the code commits that did a bead's work (from the work notes the
//! post-commit git hook writes) and its merge requests.

use super::Run;
use crate::bead::Beads;
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    id: String,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let snap = beads.snapshot()?;
        let id = beads.resolve_any(&snap, &self.id)?;
        let trail = crate::hooks::trail::trail(beads.store, &id)?;
        if ctx.global.json {
            print_json(&trail)?;
            return Ok(0);
        }
        let mut out = String::new();
        if trail.commits.is_empty() {
            ctx.status(format!(
                "no commits noted for {id} (the post-commit hook notes them: git gastown hooks install)"
            ));
        }
        for c in &trail.commits {
            out.push_str(&format!(
                "{} {} {} {}\n",
                &c.commit[..12],
                text::line(c.date.as_deref().unwrap_or("(commit not in this clone)")),
                text::line(c.agent.as_deref().unwrap_or("-")),
                text::line(c.subject.as_deref().unwrap_or(""))
            ));
        }
        for mr in &trail.merge_requests {
            out.push_str(&format!(
                "{} {} {} -> {}{}\n",
                text::line(&mr.id),
                text::line(&mr.status),
                text::line(&mr.branch),
                text::line(&mr.target),
                mr.reason
                    .as_deref()
                    .map(|r| format!(" ({})", text::line(r)))
                    .unwrap_or_default()
            ));
        }
        print_text(&out)?;
        Ok(0)
    }

    fn first_id(&self) -> Option<&str> {
        Some(&self.id)
    }
}
