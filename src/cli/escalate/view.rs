//! Text views of escalations, and what several commands share.

use super::super::{text, Ctx};
use crate::escalate::{Delivery, Escalation};

/// Who its mail is from, as `git mail` decides a sender: --actor when it is a mailbox,
/// else GT_AGENT (set in agent sessions), else the overseer (the person at the keyboard).
pub fn sender(ctx: &Ctx) -> Option<String> {
    let mailbox = |v: &str| crate::mail::parse_mailbox(v.trim()).ok();
    if let Some(m) = ctx.global.actor.as_deref().and_then(mailbox) {
        return Some(m);
    }
    std::env::var("GT_AGENT")
        .ok()
        .and_then(|v| mailbox(&v))
        .or_else(|| Some(crate::mail::OVERSEER.to_string()))
}

/// Routing failures on stderr: recorded on the escalation, not fatal.
pub fn warn_failures(ctx: &Ctx, d: &Delivery) {
    for e in &d.errors {
        ctx.status(format!("warning: {}: {}", d.escalation, text::line(e)));
    }
    if let Some(n) = d.notify.as_ref().filter(|n| n.status != "ok") {
        ctx.status(format!(
            "warning: {}: notify command {}{}",
            d.escalation,
            n.status,
            n.exit_status
                .map(|c| format!(" (exit {c})"))
                .unwrap_or_default()
        ));
    }
}

/// What a delivery did, one line per route taken.
pub fn delivery_lines(d: &Delivery, indent: &str) -> String {
    let mut out = String::new();
    if d.routes.is_empty() && d.errors.is_empty() {
        out.push_str(&format!(
            "{indent}recorded only (no routes for {})\n",
            d.severity
        ));
    }
    if let Some(m) = &d.mail {
        out.push_str(&format!(
            "{indent}mail {m} to {}\n",
            text::line(&d.mailed_to.join(", "))
        ));
    }
    if let Some(n) = &d.notify {
        out.push_str(&format!(
            "{indent}notify: {}{} in {} ms\n",
            n.status,
            n.exit_status
                .map(|c| format!(" (exit {c})"))
                .unwrap_or_default(),
            n.millis
        ));
    }
    for e in &d.errors {
        out.push_str(&format!("{indent}failed: {}\n", text::line(e)));
    }
    out
}

/// One line of `list`.
pub fn row(e: &Escalation) -> String {
    let date = e
        .escalated_at
        .get(..16)
        .unwrap_or(&e.escalated_at)
        .replace('T', " ");
    let mut extra = String::new();
    if let Some(c) = &e.category {
        extra.push_str(&format!(" [{c}]"));
    }
    if let Some(b) = &e.bead {
        extra.push_str(&format!(" ({b})"));
    }
    if e.reescalation_count > 0 {
        extra.push_str(&format!(" ↑{}", e.reescalation_count));
    }
    format!(
        "{}  {:<8} P{}  {:<6} {}  {}{}\n",
        e.id,
        e.severity.as_str(),
        e.priority,
        e.status,
        date,
        text::line(&e.summary),
        text::line(&extra)
    )
}

/// `show`: every field, the bumps and the deliveries.
pub fn details(e: &Escalation) -> String {
    let mut out = format!(
        "{} {} (P{}) {}: {}\n",
        e.id,
        e.severity.as_str(),
        e.priority,
        e.status,
        text::line(&e.summary)
    );
    let mut field = |label: &str, value: Option<&str>| {
        if let Some(v) = value {
            out.push_str(&format!("  {label:<14} {}\n", text::line(v)));
        }
    };
    field("category", e.category.as_deref());
    field("bead", e.bead.as_deref());
    field("merge request", e.mr.as_deref());
    field("rig", e.rig.as_deref());
    let raised = format!("{} at {} (from {})", e.escalated_by, e.escalated_at, e.from);
    field("raised by", Some(&raised));
    if e.original_severity != e.severity {
        field("raised as", Some(e.original_severity.as_str()));
    }
    let acked = e
        .acked_by
        .as_ref()
        .map(|b| format!("{b} at {}", e.acked_at.as_deref().unwrap_or("?")));
    field("acked by", acked.as_deref());
    let closed = e
        .closed_by
        .as_ref()
        .map(|b| format!("{b} at {}", e.closed_at.as_deref().unwrap_or("?")));
    field("closed by", closed.as_deref());
    field("reason", e.closed_reason.as_deref());
    if !e.body.is_empty() {
        out.push('\n');
        for line in e.body.lines() {
            out.push_str(&format!("  {}\n", text::block_line(line)));
        }
    }
    for b in &e.bumps {
        out.push_str(&format!(
            "\nbump {}: {} -> {} by {} at {}\n",
            b.number,
            b.from.as_str(),
            b.to.as_str(),
            text::line(&b.by),
            b.at
        ));
    }
    for d in &e.deliveries {
        out.push_str(&format!(
            "\nrouting {} ({}) at {}:\n",
            d.bump, d.severity, d.at
        ));
        out.push_str(&delivery_lines(d, "  "));
    }
    if e.routing_pending() {
        out.push_str("\nrouting of the current severity not recorded yet (`git escalate stale` finishes it)\n");
    }
    out
}
