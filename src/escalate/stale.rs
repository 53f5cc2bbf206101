//! `stale`: re-escalating what nobody acknowledged (docs/ESCALATION.md, "Stale").

use std::collections::BTreeMap;

use serde_json::json;

use super::age_secs;
use super::record::{all_in, from_record};
use super::{
    path_of, route, Bump, Bumped, Delivery, Escalation, Escalations, Severity, StaleReport, OPEN,
};
use crate::bead::ops::carry_count;
use crate::bead::record::Stamp;
use crate::bead::schema::now_rfc3339;
use crate::bead::COLLECTION;
use crate::error::Result;
use crate::records;
use crate::store::{Actor, Outcome};
use crate::town::settings;

impl Escalations<'_> {
    /// Re-escalate what nobody acknowledged: each open escalation older than
    /// `escalation.stale_threshold` (since it was raised or last bumped) goes one severity
    /// up, at most `escalation.max_reescalations` times, in one write; then each bump is
    /// routed and the deliveries recorded in one more. Routings a crash left unrecorded are
    /// finished too. Nothing to do: nothing written.
    pub fn stale(&self, actor: &Actor) -> Result<StaleReport> {
        self.stale_run(actor, false)
    }

    /// [`Escalations::stale`] that only reports what it would bump (no write, no mail).
    pub fn stale_dry_run(&self, actor: &Actor) -> Result<StaleReport> {
        self.stale_run(actor, true)
    }

    fn stale_run(&self, actor: &Actor, dry_run: bool) -> Result<StaleReport> {
        let setting = |key: &str| settings::effective(None, self.store, key).map(|s| s.value);
        let threshold = setting("escalation.stale_threshold")?
            .as_str()
            .and_then(settings::parse_duration)
            .unwrap_or(4 * 3600);
        let max = setting("escalation.max_reescalations")?
            .as_u64()
            .unwrap_or(2);
        let mut report = StaleReport {
            threshold_secs: threshold,
            max_reescalations: max,
            dry_run,
            ..Default::default()
        };
        let snap = self.snapshot()?;
        if !snap.exists() {
            return Ok(report);
        }
        let now = chrono::Utc::now();
        let open: Vec<Escalation> = all_in(&snap)?
            .into_iter()
            .filter(|e| e.status == OPEN)
            .collect();
        report.checked = open.len();
        let decide = |e: &Escalation| -> Option<Severity> {
            let since = e.last_reescalated_at.as_deref().unwrap_or(&e.escalated_at);
            if age_secs(since, now) < threshold {
                return None;
            }
            e.severity
                .up()
                .filter(|_| (e.reescalation_count as u64) < max)
        };
        let due: Vec<&Escalation> = open.iter().filter(|e| decide(e).is_some()).collect();
        report.at_max = open
            .iter()
            .filter(|e| decide(e).is_none())
            .filter(|e| {
                let since = e.last_reescalated_at.as_deref().unwrap_or(&e.escalated_at);
                age_secs(since, now) >= threshold
            })
            .map(|e| e.id.clone())
            .collect();
        // Routings never recorded (a crash after the record's write): finished here.
        let pending: Vec<Escalation> = open
            .iter()
            .filter(|e| e.routing_pending() && decide(e).is_none())
            .cloned()
            .collect();
        if dry_run {
            report.bumped = due
                .iter()
                .map(|e| Bumped {
                    id: e.id.clone(),
                    summary: e.summary.clone(),
                    from: e.severity,
                    to: decide(e).expect("due"),
                    reescalation_count: e.reescalation_count + 1,
                    delivery: None,
                })
                .collect();
            return Ok(report);
        }
        let mut bumped_now: Vec<Escalation> = Vec::new();
        if !due.is_empty() {
            let mut unrouted = Vec::new();
            for s in Severity::ALL {
                if route::plan(self.town, s)?.is_empty() {
                    unrouted.push(s);
                }
            }
            let ids: Vec<String> = due.iter().map(|e| e.id.clone()).collect();
            bumped_now = self.store.write(COLLECTION, actor, |snap, batch| {
                let stamp = Stamp(batch.clock, actor.name.clone());
                let at = now_rfc3339();
                let mut out = Vec::new();
                let mut words = Vec::new();
                for id in &ids {
                    let path = path_of(id);
                    let Some(mut record) = records::read(snap, &path)? else {
                        continue;
                    };
                    let e = from_record(&record);
                    // Decided again on the tip: an ack or a bump may have landed meanwhile.
                    if e.status != OPEN {
                        continue;
                    }
                    let Some(to) = decide(&e) else { continue };
                    let number = e.reescalation_count + 1;
                    record.set("severity", json!(to.as_str()), &stamp);
                    record.set("priority", json!(to.priority()), &stamp);
                    record.set("reescalation_count", json!(number), &stamp);
                    record.set("last_reescalated_at", json!(at), &stamp);
                    record.set("last_reescalated_by", json!(actor.name), &stamp);
                    let bump = Bump {
                        number,
                        from: e.severity,
                        to,
                        at: at.clone(),
                        by: actor.name.clone(),
                    };
                    record.comments.insert(
                        format!("bump/{number:03}"),
                        serde_json::to_value(&bump).expect("serialises"),
                    );
                    if unrouted.contains(&to) {
                        route::put_delivery(&mut record, &Delivery::nothing(id, number, to));
                    }
                    records::put(batch, &path, &record);
                    words.push(format!("{id} {}->{}", e.severity.as_str(), to.as_str()));
                    out.push(from_record(&record));
                }
                if out.is_empty() {
                    return Ok(Outcome::Unchanged(out));
                }
                carry_count(snap, batch, 0);
                Ok(Outcome::Commit {
                    message: format!("escalation stale: {}", words.join(", ")),
                    value: out,
                })
            })?;
        }
        let mut to_route: Vec<Escalation> = bumped_now
            .iter()
            .filter(|e| e.routing_pending())
            .cloned()
            .collect();
        to_route.extend(pending);
        let routed = if to_route.is_empty() {
            Vec::new()
        } else {
            self.route_and_record(actor, to_route)?
        };
        let routed: BTreeMap<String, Escalation> =
            routed.into_iter().map(|e| (e.id.clone(), e)).collect();
        for e in &bumped_now {
            let e = routed.get(&e.id).unwrap_or(e);
            let last = e.bumps.last().expect("bumped");
            report.bumped.push(Bumped {
                id: e.id.clone(),
                summary: e.summary.clone(),
                from: last.from,
                to: last.to,
                reescalation_count: e.reescalation_count,
                delivery: e.current_delivery().cloned(),
            });
        }
        report.repaired = routed
            .values()
            .filter(|e| !bumped_now.iter().any(|b| b.id == e.id))
            .filter_map(|e| e.current_delivery().cloned())
            .collect();
        Ok(report)
    }
}
