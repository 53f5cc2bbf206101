//! `git bead stats`: counts by status, type and priority.

use std::collections::BTreeMap;

use super::shared::now_ms;
use super::Run;
use crate::bead::{query, Beads};
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let snap = beads.snapshot()?;
        let index = beads.index(&snap)?;
        let stats = query::stats(&index, now_ms());
        if ctx.global.json {
            print_json(&stats)?;
            return Ok(0);
        }
        let mut out = format!(
            "Total: {}  Open: {}  In progress: {}  Closed: {}  Ready: {}  Blocked: {}\n",
            stats.total, stats.open, stats.in_progress, stats.closed, stats.ready, stats.blocked
        );
        let counts = |name: &str, map: &BTreeMap<String, usize>| {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} {v}", text::line(k)))
                .collect();
            format!("{name}: {}\n", parts.join(", "))
        };
        out.push_str(&counts("status", &stats.by_status));
        out.push_str(&counts("type", &stats.by_type));
        out.push_str(&counts("priority", &stats.by_priority));
        print_text(&out)?;
        Ok(0)
    }
}
