//! Text views of convoys (JSON output is the service's structs as they are).

use super::super::text;
use crate::convoy::feed::Launched;
use crate::convoy::land::human_duration;
use crate::convoy::{ConvoyRow, ConvoyView, LandedConvoy, Staged};
use crate::sling::Dispatch;

pub fn landed_line(l: &LandedConvoy) -> String {
    format!(
        "Convoy {} landed: {} ({} beads, {})\n",
        l.id,
        text::line(&l.name),
        l.beads.len(),
        human_duration(l.duration_secs)
    )
}

pub fn show(v: &ConvoyView) -> String {
    let c = &v.convoy;
    let mut out = format!("{}  {}\n", c.id, text::line(&c.name));
    let mut status = c.status.clone();
    if c.launched && c.is_active() {
        status.push_str(", launched");
    }
    if c.owned {
        status.push_str(", owned");
    }
    out.push_str(&format!("Status:   {status}\n"));
    out.push_str(&format!(
        "Progress: {}/{} closed\n",
        v.progress.closed, v.progress.total
    ));
    if let Some(owner) = &c.owner {
        out.push_str(&format!("Owner:    {}\n", text::line(owner)));
    }
    if !c.notify.is_empty() {
        out.push_str(&format!("Notify:   {}\n", text::line(&c.notify.join(", "))));
    }
    if let Some(epic) = &c.epic {
        out.push_str(&format!("Epic:     {}\n", text::line(epic)));
    }
    out.push_str(&format!(
        "Created:  {} by {}\n",
        c.created,
        text::line(&c.created_by)
    ));
    if let Some(landed) = &c.landed {
        out.push_str(&format!("Landed:   {landed}\n"));
    }
    if let Some(reason) = &c.close_reason {
        out.push_str(&format!("Closed:   {}\n", text::line(reason)));
    }
    if !v.tracked.is_empty() {
        out.push_str("\nBeads:\n");
        let width = v.tracked.iter().map(|b| b.id.len()).max().unwrap_or(0);
        for b in &v.tracked {
            let mark = if b.is_done() { "x" } else { " " };
            let mut line = format!(
                "  [{mark}] {:width$}  {:<8}  {:<11}  {}",
                b.id,
                b.rig.as_deref().unwrap_or("?"),
                b.status,
                b.assignee.as_deref().unwrap_or("-"),
            );
            if !b.title.is_empty() {
                line.push_str(&format!("  {}", b.title));
            }
            if b.skipped {
                line.push_str("  (skipped: dispatch failed)");
            }
            out.push_str(&text::line(&line));
            out.push('\n');
        }
    }
    if let Some(l) = &v.landed_now {
        out.push('\n');
        out.push_str(&landed_line(l));
    }
    out
}

pub fn rows(rows: &[ConvoyRow]) -> String {
    let mut out = String::new();
    for r in rows {
        let c = &r.convoy;
        out.push_str(&format!(
            "{}  {:<7}  {:>4}/{:<4}  {}\n",
            c.id,
            c.status,
            r.progress.closed,
            r.progress.total,
            text::line(&c.name)
        ));
    }
    out
}

pub fn staged(s: &Staged) -> String {
    let verb = if s.created { "Staged" } else { "Restaged" };
    let mut out = format!(
        "{verb} convoy {} for epic {}: {} ({} beads, {} waves)\n",
        s.convoy,
        s.epic,
        text::line(&s.name),
        s.beads.len(),
        s.waves.len()
    );
    out.push_str("\nWave  Bead                 Status       Blocked by            Title\n");
    let mut beads: Vec<_> = s.beads.iter().collect();
    beads.sort_by_key(|b| (b.wave.unwrap_or(usize::MAX), b.id.clone()));
    for b in beads {
        let wave = b.wave.map(|w| w.to_string()).unwrap_or_else(|| "-".into());
        let blocked = if b.blocked_by.is_empty() {
            "-".to_string()
        } else {
            b.blocked_by.join(",")
        };
        let line = format!(
            "{wave:<4}  {:<20} {:<12} {:<21} {}",
            b.id, b.status, blocked, b.title
        );
        out.push_str(&text::line(&line));
        out.push('\n');
    }
    out
}

pub fn launched(l: &Launched) -> String {
    let mut out = format!(
        "Launched convoy {}: {}\n",
        l.convoy.id,
        text::line(&l.convoy.name)
    );
    out.push_str(&dispatches(&l.dispatched));
    for s in &l.skipped {
        out.push_str(&text::line(&format!(
            "{}: skipped after {} failed dispatches: {}",
            s.bead, s.failures, s.reason
        )));
        out.push('\n');
    }
    out
}

pub fn dispatches(ds: &[Dispatch]) -> String {
    let mut out = String::new();
    for d in ds {
        let who = d.agent.as_ref().map(|a| a.to_string()).unwrap_or_default();
        let line = match d.outcome.as_str() {
            "started" => format!("  {} -> {who}: started", d.bead),
            "hooked" => format!("  {} -> {who}: on its hook", d.bead),
            "queued" => format!(
                "  {}: queued ({})",
                d.bead,
                d.reason.as_deref().unwrap_or("")
            ),
            _ => format!(
                "  {}: dispatch failed ({} so far): {}",
                d.bead,
                d.failures,
                d.reason.as_deref().unwrap_or("")
            ),
        };
        out.push_str(&text::line(&line));
        out.push('\n');
    }
    out
}

/// 1 when a dispatch failed, as `git sling`.
pub fn exit_of(ds: &[Dispatch]) -> i32 {
    i32::from(ds.iter().any(|d| d.outcome == "failed"))
}
