//! Refinery work: a merge-queue pass (`git mq run`, docs/MQ.md) for a rig whose queue holds
//! open requests while no pass holds its merge slot — the pass `done` starts can be lost
//! (auto off, the process killed, the slot busy at that moment); patrol makes sure queued
//! work is never left waiting for the next `done`.

use super::{Acted, Finding, Pass};
use crate::mq::journal::{Journal, Slot};
use crate::mq::{record, MergeQueue};
use crate::store::Store;
use crate::town::Rig;

pub(crate) fn run(pass: &Pass<'_, '_>, rig: &Rig, store: &Store) -> Vec<Finding> {
    let open = match record::list(store) {
        Ok(mrs) => mrs.iter().filter(|m| m.is_open()).count(),
        Err(err) => {
            return vec![Finding {
                outcome: "failed".into(),
                error: Some(crate::error::one_line(&err.to_string())),
                ..Finding::new(
                    "refinery",
                    "merge-queue",
                    "the merge queue could not be read",
                )
            }]
        }
    };
    let unfinished = Journal::pending(store).ok().flatten().is_some();
    if (open == 0 && !unfinished) || rig.parked {
        return Vec::new();
    }
    if let Some(holder) = Slot::holder(store) {
        let pid = holder["pid"].as_u64().unwrap_or_default();
        return vec![Finding::new(
            "refinery",
            "merge-queue",
            format!("{open} open request(s); a pass (pid {pid}) is running"),
        )];
    }
    let detail = if unfinished {
        format!("{open} open request(s) and a killed pass's merge to finish")
    } else {
        format!("{open} open request(s), no pass running")
    };
    let f = Finding::new("refinery", "merge-queue", detail).action("merge-pass");
    vec![pass.act(f, || {
        let report = MergeQueue::new(pass.town, rig.clone())?.run(pass.actor)?;
        if let Some(why) = report.skipped {
            return Ok(Acted::Skipped(why));
        }
        Ok(Acted::Done(Some(format!(
            "{} merged, {} rejected, {} conflicts, {} held",
            report.merged, report.rejected, report.conflicts, report.held
        ))))
    })]
}
