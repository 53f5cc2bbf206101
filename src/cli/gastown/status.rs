//! `git gastown status`: the town at a glance, problems first.

use super::{open_town, Run};
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;
use crate::status::{self, short_duration, AgentStatus, Liveness, Status};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        let town = open_town(ctx)?;
        let status = status::gather(&town)?;
        if ctx.global.json {
            print_json(&status)?;
        } else {
            print_text(&render(&status))?;
        }
        Ok(0)
    }
}

/// The text view: problems, rigs, agents, merge queues, queued dispatches (the demo
/// prints its final status with it too).
pub(super) fn render(s: &Status) -> String {
    let mut out = String::new();
    let root = s.town.root.to_string_lossy();
    match &s.town.lone_rig {
        Some(rig) => out.push_str(&format!(
            "Town {} (a town of one rig, '{}')\n",
            text::line(&root),
            text::line(rig)
        )),
        None => out.push_str(&format!("Town {}\n", text::line(&root))),
    }

    if s.problems.is_empty() {
        out.push_str("\nNo problems.\n");
    } else {
        out.push_str(&format!("\nProblems ({})\n", s.problems.len()));
        for p in &s.problems {
            out.push_str(&format!(
                "  ! {:<24} {}\n",
                p.kind.label(),
                text::line(&p.message)
            ));
        }
    }

    out.push_str(&format!("\nRigs ({})\n", s.rigs.len()));
    let mut rows: Vec<Vec<String>> = Vec::new();
    for r in &s.rigs {
        let state = if !r.available {
            "missing"
        } else if r.parked {
            "parked"
        } else {
            "active"
        };
        rows.push(vec![
            text::line(&r.name).into_owned(),
            state.to_string(),
            format!("{} agents, {} alive", r.agents, r.alive),
            format!("mq {}", r.merge_queue_depth),
            format!("queued {}", r.queued_dispatches),
        ]);
    }
    out.push_str(&table(&rows, "  "));

    let a = &s.agents;
    let roles: Vec<String> = a
        .by_role
        .iter()
        .map(|(role, states)| {
            let parts: Vec<String> = states.iter().map(|(st, n)| format!("{n} {st}")).collect();
            format!("{role}: {}", text::line(&parts.join(", ")))
        })
        .collect();
    out.push_str(&format!("\nAgents ({}, {} alive)", a.total, a.alive));
    if !roles.is_empty() {
        out.push_str(&format!("  {}", roles.join(" · ")));
    }
    out.push('\n');
    if !a.list.is_empty() {
        let mut rows = vec![vec![
            "ADDRESS".to_string(),
            "STATE".into(),
            "SESSION".into(),
            "QUIET".into(),
            "HOOK".into(),
        ]];
        rows.extend(a.list.iter().map(agent_row));
        out.push_str(&table(&rows, "  "));
    }

    out.push_str("\nMerge queue\n");
    for mq in &s.merge_queue {
        let mut line = format!("  {}: {} open", text::line(&mq.rig), mq.depth);
        if let Some(pid) = mq.running_pid {
            line.push_str(&format!(", a pass running (pid {pid})"));
        }
        match &mq.last_pass {
            Some(p) => line.push_str(&format!(
                "; last pass {}: {} merged, {} rejected, {} conflicts, {} held",
                short_time(&p.started_at),
                p.merged,
                p.rejected,
                p.conflicts,
                p.held
            )),
            None => line.push_str("; no pass yet"),
        }
        out.push_str(&line);
        out.push('\n');
        for m in &mq.next {
            let bead = m.bead.as_deref().unwrap_or("-");
            let held = if m.held.is_some() { "  (held)" } else { "" };
            out.push_str(&format!(
                "    {} {} -> {} {}{held}\n",
                text::line(&m.id),
                text::line(&m.branch),
                text::line(&m.target),
                text::line(bead)
            ));
        }
    }

    out.push_str(&format!("\nConvoys ({} active)\n", s.convoys.len()));
    for c in &s.convoys {
        let stranded = c
            .stranded
            .as_deref()
            .map(|why| format!("  stranded ({why})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {} {}  {}/{} closed  {}{stranded}\n",
            text::line(&c.id),
            text::line(&c.name),
            c.progress.closed,
            c.progress.total,
            text::line(&c.status)
        ));
    }

    let e = &s.escalations;
    let severities: Vec<String> = ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
        .iter()
        .filter_map(|sev| e.by_severity.get(*sev).map(|n| format!("{n} {sev}")))
        .collect();
    out.push_str(&format!(
        "\nEscalations ({} open, {} acknowledged){}\n",
        e.open,
        e.acked,
        if severities.is_empty() {
            String::new()
        } else {
            format!("  {}", severities.join(", "))
        }
    ));
    for x in &e.list {
        out.push_str(&format!(
            "  {} {:<8} {:<5} {}\n",
            text::line(&x.id),
            x.severity.as_str(),
            text::line(&x.status),
            text::line(&x.summary)
        ));
    }

    out.push_str(&format!("\nLocks ({})\n", s.locks.len()));
    for l in &s.locks {
        out.push_str(&format!(
            "  {}  {}  until {}  {}\n",
            text::line(&l.path),
            text::line(&l.holder),
            short_time(&l.expires),
            text::line(&l.intent)
        ));
    }

    out.push_str(&format!(
        "\nQueued dispatches ({})\n",
        s.dispatch_queue.len()
    ));
    for q in &s.dispatch_queue {
        out.push_str(&format!(
            "  {}: {} -> {} (P{}, since {})\n",
            text::line(&q.rig),
            text::line(&q.entry.bead),
            text::line(&q.entry.target),
            q.entry.priority,
            short_time(&q.entry.queued_at)
        ));
    }
    out
}

fn agent_row(a: &AgentStatus) -> Vec<String> {
    let session = match (a.liveness, &a.session) {
        (Liveness::Alive, Some(s)) => format!("alive ({})", s.backend),
        (Liveness::Dead, Some(s)) => format!("dead ({})", s.backend),
        _ => "-".to_string(),
    };
    let quiet = match a.quiet_for_s {
        Some(q) => {
            let mut cell = short_duration(q);
            if let Some(w) = a.session.as_ref().and_then(|s| s.working_state.as_deref()) {
                cell.push(' ');
                cell.push_str(w);
            }
            if a.stuck {
                cell.push_str(" STUCK");
            }
            cell
        }
        None => "-".to_string(),
    };
    let hook = match (&a.hook, &a.hook_title) {
        (Some(h), Some(t)) => format!("{} {}", text::line(h), text::line(t)),
        (Some(h), None) => text::line(h).into_owned(),
        _ => "-".to_string(),
    };
    vec![
        text::line(&a.address).into_owned(),
        text::line(&a.state).into_owned(),
        session,
        quiet,
        hook,
    ]
}

/// `2026-12-02T01:02:03.456Z` as `2026-12-02 01:02:03`.
fn short_time(rfc3339: &str) -> String {
    let t = rfc3339.replace('T', " ");
    let t = t
        .split('.')
        .next()
        .unwrap_or_default()
        .trim_end_matches('Z');
    text::line(t).into_owned()
}

/// Rows aligned in columns (the last column unpadded).
fn table(rows: &[Vec<String>], indent: &str) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = indent.to_string();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
