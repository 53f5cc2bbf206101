use super::super::{print_json, print_text, text, Ctx};
use super::{view, Run};
use crate::error::Result;
use crate::escalate::Escalations;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Only say what would be re-escalated; write and send nothing
    #[arg(long)]
    dry_run: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let actor = ctx.actor(&town.store)?;
        let escalations = Escalations::new(town);
        let report = if self.dry_run {
            escalations.stale_dry_run(&actor)?
        } else {
            escalations.stale(&actor)?
        };
        for b in &report.bumped {
            if let Some(d) = &b.delivery {
                view::warn_failures(ctx, d);
            }
        }
        if ctx.global.json {
            print_json(&report)?;
            return Ok(0);
        }
        let verb = if report.dry_run {
            "would re-escalate"
        } else {
            "re-escalated"
        };
        let mut out = String::new();
        for b in &report.bumped {
            out.push_str(&format!(
                "{verb} {} {} -> {} ({} of {}): {}\n",
                b.id,
                b.from.as_str(),
                b.to.as_str(),
                b.reescalation_count,
                report.max_reescalations,
                text::line(&b.summary)
            ));
            if let Some(d) = &b.delivery {
                out.push_str(&view::delivery_lines(d, "  "));
            }
        }
        for d in &report.repaired {
            out.push_str(&format!(
                "routed {} (its routing had not been recorded)\n",
                d.escalation
            ));
        }
        if out.is_empty() {
            ctx.status(format!(
                "Nothing to re-escalate ({} unacknowledged, threshold {} s)",
                report.checked, report.threshold_secs
            ));
        } else {
            print_text(&out)?;
        }
        Ok(0)
    }
}
