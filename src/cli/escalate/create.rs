use super::super::{print_json, print_text, Ctx};
use super::{view, Run};
use crate::error::Result;
use crate::escalate::{EscalationSpec, Escalations, Severity};
use crate::town::Town;

/// Raise an escalation (the command without a subcommand).
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// CRITICAL, HIGH, MEDIUM or LOW (or P0-P3)
    #[arg(short, long, value_name = "SEVERITY", default_value = "MEDIUM")]
    severity: String,
    /// What needs attention, one line (several words are joined)
    #[arg(value_name = "SUMMARY", required = true)]
    summary: Vec<String>,
    /// Details: what was tried, what is needed
    #[arg(short, long, value_name = "BODY")]
    message: Option<String>,
    /// The bead it is about (a unique prefix will do)
    #[arg(long, value_name = "ID")]
    bead: Option<String>,
    /// decision, help, blocked, failed, emergency, gate_timeout or lifecycle
    #[arg(long, value_name = "CATEGORY")]
    category: Option<String>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let spec = EscalationSpec {
            severity: Severity::parse(&self.severity)?,
            summary: self.summary.join(" "),
            body: self.message.unwrap_or_default(),
            category: self.category,
            bead: self.bead,
            from: view::sender(ctx),
            ..Default::default()
        };
        let actor = ctx.actor(&town.store)?;
        let done = Escalations::new(town).create(&actor, &spec)?;
        if let Some(d) = done.escalation.current_delivery() {
            view::warn_failures(ctx, d);
        }
        if ctx.global.json {
            print_json(&done)?;
        } else {
            let e = &done.escalation;
            let mut out = format!(
                "escalated {} {} (P{}): {}\n",
                e.id,
                e.severity.as_str(),
                e.priority,
                super::super::text::line(&e.summary)
            );
            if let Some(d) = e.current_delivery() {
                out.push_str(&view::delivery_lines(d, "  "));
            }
            print_text(&out)?;
        }
        Ok(0)
    }
}
