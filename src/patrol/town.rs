//! Town-wide deacon duties and the services of other domains patrol calls: convoy landing
//! and feeding repairs (`Convoys::repair`), stale escalations (`Escalations::stale`),
//! expired advisory locks (`Board::expire_locks`), the town store's housekeeping, and
//! raising escalations (the 4th death of a bead's session, an agent that says it is stuck,
//! a gate past its timeout).

use super::{deacon, Finding, Pass};
use crate::agent::Address;
use crate::board::Board;
use crate::convoy::Convoys;
use crate::error::Result;
use crate::escalate::{EscalationSpec, Escalations, Severity};

/// Town-wide duties (only on a whole-town pass).
pub(crate) fn town_duties(pass: &Pass<'_, '_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut duty = |result: Result<Vec<Finding>>, what: &str, detail: &str| match result {
        Ok(found) => out.extend(found),
        Err(err) => out.push(Finding {
            outcome: "failed".into(),
            error: Some(crate::error::one_line(&err.to_string())),
            ..Finding::new("deacon", what, detail)
        }),
    };
    duty(
        convoys(pass),
        "convoys",
        "convoy landing and feeding repairs",
    );
    duty(
        stale_escalations(pass),
        "stale-escalations",
        "escalate stale",
    );
    duty(
        expired_locks(pass),
        "expired-locks",
        "advisory locks past their lease",
    );
    if !pass.town.is_lone_rig() {
        duty(
            deacon::housekeeping(pass, &pass.town.store, &pass.town.root),
            "housekeeping",
            "gc --auto of the town store",
        );
    }
    out
}

/// Unacknowledged escalations past `escalation.stale_threshold` are bumped one severity
/// (and routed again); routings a crash left unrecorded are finished.
fn stale_escalations(pass: &Pass<'_, '_>) -> Result<Vec<Finding>> {
    let escalations = Escalations::new(pass.town);
    let report = if pass.dry_run {
        escalations.stale_dry_run(pass.actor)?
    } else {
        // Writes (and mails) only when something is due or a routing is pending.
        escalations.stale(pass.actor)?
    };
    if report.bumped.is_empty() && report.repaired.is_empty() {
        return Ok(Vec::new());
    }
    let bumped: Vec<String> = report
        .bumped
        .iter()
        .map(|b| format!("{} {}->{}", b.id, b.from.as_str(), b.to.as_str()))
        .collect();
    let mut f = Finding::new(
        "deacon",
        "stale-escalations",
        format!(
            "{} unacknowledged past escalation.stale_threshold: {}; {} routing(s) finished",
            bumped.len(),
            if bumped.is_empty() {
                "-".to_string()
            } else {
                bumped.join(", ")
            },
            report.repaired.len()
        ),
    )
    .action("bump");
    f.outcome = if pass.dry_run { "planned" } else { "done" }.into();
    Ok(vec![f])
}

/// Complete convoys not yet landed are landed, owed landing messages sent, launched
/// convoys with ready work fed (each written only when owed).
fn convoys(pass: &Pass<'_, '_>) -> Result<Vec<Finding>> {
    if pass.dry_run {
        return Ok(Vec::new()); // repair decides and writes in one call
    }
    let repair = Convoys::new(pass.town).repair(pass.actor)?;
    if repair.is_empty() {
        return Ok(Vec::new());
    }
    let landed: Vec<&str> = repair.landed.iter().map(|l| l.id.as_str()).collect();
    let mut f = Finding::new(
        "deacon",
        "convoys",
        format!(
            "landed: {}; landing mail sent: {}; beads fed: {}",
            if landed.is_empty() {
                "-".to_string()
            } else {
                landed.join(", ")
            },
            repair.mailed.len(),
            repair.fed.len()
        ),
    )
    .action("repair");
    f.outcome = "done".into();
    Ok(vec![f])
}

/// Advisory locks whose lease ran out, or whose holder (an agent) has a dead session.
fn expired_locks(pass: &Pass<'_, '_>) -> Result<Vec<Finding>> {
    if pass.dry_run {
        return Ok(Vec::new());
    }
    let is_dead = |holder: &str| -> bool {
        let Ok(address) = Address::parse(holder) else {
            return false; // a person's lock: only its lease ends it
        };
        match pass.agents.get(&address) {
            Ok(agent) if agent.is_live() => matches!(
                pass.agents.session_view(&agent),
                Ok(Some(session)) if !session.alive
            ),
            // A nuked or unknown agent holds nothing any more.
            Ok(_) | Err(_) => true,
        }
    };
    let expired = Board::new(pass.town).expire_locks(pass.actor, &is_dead)?;
    Ok(expired
        .released
        .iter()
        .map(|r| {
            let mut f = Finding::new(
                "deacon",
                "expired-lock",
                format!("{} held by {} ({})", r.lock.path, r.lock.holder, r.reason),
            )
            .agent(&r.lock.holder)
            .action("release");
            f.outcome = "done".into();
            f
        })
        .collect())
}

/// Raise an escalation (idempotently: keyed, so a pass killed after it and run again finds
/// it raised); a line saying what was raised.
pub(crate) fn escalate(
    pass: &Pass<'_, '_>,
    category: &str,
    summary: &str,
    bead: Option<&str>,
    key: &str,
) -> Result<String> {
    let severity = match category {
        "lifecycle" => Severity::High,
        _ => Severity::Medium,
    };
    let raised = Escalations::new(pass.town).create(
        pass.actor,
        &EscalationSpec {
            severity,
            summary: summary.to_string(),
            body: format!("Raised by `git patrol` ({category})."),
            category: Some(category.to_string()),
            bead: bead.map(str::to_string),
            from: Some("deacon".to_string()),
            key: Some(key.to_string()),
            ..EscalationSpec::default()
        },
    )?;
    Ok(format!(
        "escalation {} ({}{})",
        raised.escalation.id,
        raised.escalation.severity.as_str(),
        if raised.created {
            ""
        } else {
            ", already raised"
        }
    ))
}
