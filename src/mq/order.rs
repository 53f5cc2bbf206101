//! Queue order. Gas Town's score, higher first: 1000 + convoy age × 10/h + (4 − priority) ×
//! 100 − min(retries × 50, 300) + request age × 1/h. On its own the score lets a stream of
//! new urgent requests keep an old low-priority one waiting for good (Gas Town starved old
//! branches for two days), so a request that has waited longer than
//! `merge_queue.starve_after` (default 1 h) goes ahead of every request that has not,
//! oldest first: each request waits behind newer ones for at most that long.

use chrono::{DateTime, Utc};

use super::record::MergeRequest;

/// The score of a request at `now` (Gas Town's formula).
pub fn score(mr: &MergeRequest, now: DateTime<Utc>) -> f64 {
    let hours = |at: Option<&str>| {
        at.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| (now - t.with_timezone(&Utc)).num_seconds().max(0) as f64 / 3600.0)
            .unwrap_or(0.0)
    };
    let priority = mr.priority.clamp(0, 4) as f64;
    let retries = (mr.retries as f64 * 50.0).min(300.0);
    1000.0 + hours(mr.convoy_created_at.as_deref()) * 10.0 + (4.0 - priority) * 100.0 - retries
        + hours(Some(&mr.created_at))
}

/// Whether the request has waited longer than `starve_after_s` seconds.
fn starving(mr: &MergeRequest, now: DateTime<Utc>, starve_after_s: u64) -> bool {
    DateTime::parse_from_rfc3339(&mr.created_at)
        .map(|t| (now - t.with_timezone(&Utc)).num_seconds() >= starve_after_s as i64)
        .unwrap_or(false)
}

/// Sort requests into queue order: starving ones first (oldest first), then by score,
/// then oldest, then id (a total order, so every pass agrees).
pub fn sort(mrs: &mut [MergeRequest], now: DateTime<Utc>, starve_after_s: u64) {
    mrs.sort_by(|a, b| {
        let (sa, sb) = (
            starving(a, now, starve_after_s),
            starving(b, now, starve_after_s),
        );
        sb.cmp(&sa)
            .then_with(|| {
                if sa && sb {
                    std::cmp::Ordering::Equal
                } else {
                    score(b, now).total_cmp(&score(a, now))
                }
            })
            .then_with(|| a.created_at.cmp(&b.created_at))
            .then_with(|| a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mr(id: &str, priority: i64, age_h: i64, retries: u64, now: DateTime<Utc>) -> MergeRequest {
        MergeRequest {
            id: id.into(),
            status: "open".into(),
            branch: id.into(),
            target: "main".into(),
            commit: "0".repeat(40),
            bead: None,
            worker: None,
            convoy: None,
            priority,
            retries,
            created_at: (now - chrono::Duration::hours(age_h)).to_rfc3339(),
            strategy: None,
            merge_commit: None,
            reason: None,
            failure: None,
            conflict_files: vec![],
            rework_bead: None,
            closes: vec![],
            supersedes: None,
            superseded_by: None,
            escalated: false,
            decided_at: None,
            convoy_created_at: None,
        }
    }

    #[test]
    fn priority_then_retries_then_age() {
        let now = Utc::now();
        let mut q = vec![
            mr("low", 4, 0, 0, now),
            mr("urgent", 0, 0, 0, now),
            mr("retried", 0, 0, 3, now),
        ];
        sort(&mut q, now, 3600 * 100);
        let ids: Vec<&str> = q.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["urgent", "retried", "low"]);
    }

    #[test]
    fn an_old_request_is_never_kept_behind_newer_ones_past_the_bound() {
        let now = Utc::now();
        // Without the bound the P4 request (score 1000 + 2) loses to every new P0 (1400).
        let mut q = vec![mr("new-p0", 0, 0, 0, now), mr("old-p4", 4, 2, 0, now)];
        sort(&mut q, now, 3600 * 100);
        assert_eq!(q[0].id, "new-p0");
        sort(&mut q, now, 3600);
        assert_eq!(q[0].id, "old-p4");
        // Among starving requests the oldest goes first, whatever their scores.
        let mut q = vec![mr("p0-2h", 0, 2, 0, now), mr("p4-5h", 4, 5, 0, now)];
        sort(&mut q, now, 3600);
        assert_eq!(q[0].id, "p4-5h");
    }
}
