use super::super::{print_json, print_text, Ctx};
use super::{view, Run};
use crate::error::Result;
use crate::escalate::{Escalations, ListFilter, Severity};
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Only this severity (CRITICAL, HIGH, MEDIUM, LOW)
    #[arg(long, short, value_name = "SEVERITY")]
    severity: Option<String>,
    /// Only those nobody acknowledged yet
    #[arg(long)]
    unacked: bool,
    /// Closed ones too
    #[arg(long)]
    all: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let filter = ListFilter {
            severity: self.severity.as_deref().map(Severity::parse).transpose()?,
            unacked: self.unacked,
            all: self.all,
        };
        let rows = Escalations::new(town).list(&filter)?;
        if ctx.global.json {
            print_json(&rows)?;
        } else if rows.is_empty() {
            ctx.status("No escalations");
        } else {
            print_text(&rows.iter().map(view::row).collect::<String>())?;
        }
        Ok(0)
    }
}
