//! The merge queue's records: one merge request per submitted commit, in the rig's store at
//! `mrs/<id>.json`, beside the bead it would close and the agent that made it (so `done`
//! creates the request, keeps the bead in progress and frees the agent in one commit).
//! The commit is the dedup key: submitting the same commit again returns the same request.
//! A new commit on a branch whose request ended in a conflict or a rejection (the worker's
//! rework) supersedes it: the new request carries the old one's beads and retry count.

use serde::Serialize;
use serde_json::{json, Value};

use crate::bead::ops::carry_count;
use crate::bead::record::{Record, Stamp};
use crate::bead::schema::now_rfc3339;
use crate::bead::COLLECTION;
use crate::error::{Error, Result};
use crate::records;
use crate::store::{Snapshot, Store, WriteBatch};

const DIR: &str = "mrs";

/// Merge request states. `open` requests wait in the queue (a held one stays open);
/// the others are decided.
pub const OPEN: &str = "open";
pub const MERGED: &str = "merged";
pub const REJECTED: &str = "rejected";
pub const CONFLICT: &str = "conflict";
/// Replaced by a newer commit of the same branch (`superseded_by`).
pub const SUPERSEDED: &str = "superseded";

/// Why a gate run failed, as stored on a rejected request.
#[derive(Debug, Clone, Serialize, PartialEq, serde::Deserialize)]
pub struct GateFailure {
    pub gate: String,
    /// `failed` (non-zero exit), `timeout`, or `signal`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<i32>,
    /// The last lines of the gate's output.
    pub log_tail: String,
}

/// A merge request, as `git mq list|show` report it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MergeRequest {
    pub id: String,
    pub status: String,
    pub branch: String,
    pub target: String,
    pub commit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bead: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convoy: Option<String>,
    pub priority: i64,
    pub retries: u64,
    pub created_at: String,
    /// `rebase` or `merge` for this request alone (an integration branch lands by merge).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<GateFailure>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflict_files: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rework_bead: Option<String>,
    /// Beads of superseded requests that this one closes too.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub closes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    /// Rejected `merge_queue.max_retries` times: handed to a person.
    pub escalated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convoy_created_at: Option<String>,
}

impl MergeRequest {
    pub fn from_record(record: &Record) -> MergeRequest {
        let text = |k: &str| record.str(k).map(str::to_string);
        let list = |k: &str| {
            record
                .get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        MergeRequest {
            id: record.id.clone(),
            status: text("status").unwrap_or_else(|| OPEN.to_string()),
            branch: text("branch").unwrap_or_default(),
            target: text("target").unwrap_or_default(),
            commit: text("commit").unwrap_or_default(),
            bead: text("bead"),
            worker: text("worker"),
            convoy: text("convoy"),
            priority: record.get("priority").and_then(Value::as_i64).unwrap_or(2),
            retries: record.get("retries").and_then(Value::as_u64).unwrap_or(0),
            created_at: text("created_at").unwrap_or_default(),
            strategy: text("strategy"),
            merge_commit: text("merge_commit"),
            reason: text("reason"),
            failure: record
                .get("failure")
                .and_then(|v| serde_json::from_value(v.clone()).ok()),
            conflict_files: list("conflict_files"),
            rework_bead: text("rework_bead"),
            closes: list("closes"),
            supersedes: text("supersedes"),
            superseded_by: text("superseded_by"),
            escalated: record
                .get("escalated")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            decided_at: text("decided_at"),
            convoy_created_at: text("convoy_created_at"),
        }
    }

    pub fn is_open(&self) -> bool {
        self.status == OPEN
    }

    /// Every bead a merge of this request closes: its own, then those it took over.
    pub fn beads_to_close(&self) -> Vec<String> {
        let mut out: Vec<String> = self.bead.iter().cloned().collect();
        for b in &self.closes {
            if !out.contains(b) {
                out.push(b.clone());
            }
        }
        out
    }
}

/// What to submit.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    pub branch: String,
    pub target: String,
    pub commit: String,
    pub bead: Option<String>,
    pub worker: Option<String>,
    pub convoy: Option<String>,
    pub priority: i64,
}

/// The id of the request for `commit`: `<prefix>-mr-<first 10 hex digits>`.
pub fn id_for(prefix: &str, commit: &str) -> String {
    let short: String = commit.chars().take(10).collect();
    format!("{prefix}-mr-{short}")
}

pub fn path_of(id: &str) -> String {
    format!("{DIR}/{id}.json")
}

/// Within a write: the request for this commit, created if there is none. The bool says
/// whether it was created (or, for a rejected one handed in again, reopened) now. A request
/// of the same branch and target that ended in a conflict or a rejection, or still waits
/// with an older commit, is superseded by it.
pub fn submit_in(
    snap: &Snapshot<'_>,
    batch: &mut WriteBatch,
    stamp: &Stamp,
    prefix: &str,
    sub: &Submission,
) -> Result<(MergeRequest, bool)> {
    submit_with(snap, batch, stamp, prefix, sub, None)
}

/// [`submit_in`] with a strategy for this request alone.
pub fn submit_with(
    snap: &Snapshot<'_>,
    batch: &mut WriteBatch,
    stamp: &Stamp,
    prefix: &str,
    sub: &Submission,
    strategy: Option<&str>,
) -> Result<(MergeRequest, bool)> {
    if sub.commit.len() < 40 || !sub.commit.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::invalid(format!("bad commit id '{}'", sub.commit)));
    }
    let id = id_for(prefix, &sub.commit);
    let path = path_of(&id);
    if let Some(mut existing) = records::read(snap, &path)? {
        if existing.str("commit") == Some(sub.commit.as_str()) {
            let mr = MergeRequest::from_record(&existing);
            if mr.status != REJECTED || mr.escalated {
                return Ok((mr, false));
            }
            // The very commit a gate refused, handed in again: a retry (a flaky gate, or
            // a worker with nothing to fix). Reopened and counted, so that a commit that
            // keeps failing reaches `merge_queue.max_retries` and a person, instead of a
            // bead left in progress on a request nobody will look at again.
            reopen(&mut existing, &mr, stamp);
            existing.set("resubmitted_at", json!(now_rfc3339()), stamp);
            records::put(batch, &path, &existing);
            return Ok((MergeRequest::from_record(&existing), true));
        }
    }
    let mut record = records::named_record(&id);
    let mut priority = sub.priority;
    let mut retries = 0;
    let mut closes: Vec<String> = Vec::new();
    let mut supersedes = None;
    let mut convoy_created_at = None;
    for (old_path, mut old) in records::list(snap, DIR)? {
        let mr = MergeRequest::from_record(&old);
        let replaceable = [CONFLICT, REJECTED, OPEN].contains(&mr.status.as_str());
        if old.is_deleted()
            || !replaceable
            || mr.branch != sub.branch
            || mr.target != sub.target
            || mr.id == id
        {
            continue;
        }
        if mr.status != OPEN {
            retries = retries.max(mr.retries + 1);
        }
        priority = priority.min(mr.priority);
        for b in mr.beads_to_close() {
            if Some(&b) != sub.bead.as_ref() && !closes.contains(&b) {
                closes.push(b);
            }
        }
        convoy_created_at = convoy_created_at.or(mr.convoy_created_at.clone());
        supersedes = Some(mr.id.clone());
        old.set("status", json!(SUPERSEDED), stamp);
        old.set("superseded_by", json!(id), stamp);
        old.set("decided_at", json!(now_rfc3339()), stamp);
        records::put(batch, &old_path, &old);
    }
    for (k, v) in [
        ("status", json!(OPEN)),
        ("branch", json!(sub.branch)),
        ("target", json!(sub.target)),
        ("commit", json!(sub.commit)),
        ("bead", json!(sub.bead)),
        ("worker", json!(sub.worker)),
        ("convoy", json!(sub.convoy)),
        ("priority", json!(priority)),
        ("retries", json!(retries)),
        ("created_at", json!(now_rfc3339())),
        ("strategy", json!(strategy)),
        ("supersedes", json!(supersedes)),
        (
            "closes",
            if closes.is_empty() {
                Value::Null
            } else {
                json!(closes)
            },
        ),
        ("convoy_created_at", json!(convoy_created_at)),
    ] {
        if !v.is_null() {
            record.set(k, v, stamp);
        }
    }
    records::put(batch, &path, &record);
    Ok((MergeRequest::from_record(&record), true))
}

/// A rejected or conflicting request back to `open` for another try, counted in its
/// `retries`, its last decision cleared.
pub(crate) fn reopen(record: &mut Record, mr: &MergeRequest, stamp: &Stamp) {
    record.set("status", json!(OPEN), stamp);
    record.set("retries", json!(mr.retries + 1), stamp);
    for k in [
        "reason",
        "failure",
        "conflict_files",
        "conflict_base",
        "decided_at",
        "escalated",
    ] {
        record.set(k, Value::Null, stamp);
    }
}

/// Every merge request of a store, oldest first.
pub fn list(store: &Store) -> Result<Vec<MergeRequest>> {
    let snap = store.snapshot(COLLECTION)?;
    list_in(&snap)
}

pub fn list_in(snap: &Snapshot<'_>) -> Result<Vec<MergeRequest>> {
    let mut out: Vec<MergeRequest> = records::list(snap, DIR)?
        .into_iter()
        .filter(|(_, r)| !r.is_deleted())
        .map(|(_, r)| MergeRequest::from_record(&r))
        .collect();
    out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// The request `id` (or a unique prefix of it).
pub fn find_in(snap: &Snapshot<'_>, id: &str) -> Result<MergeRequest> {
    if let Some(record) = records::read(snap, &path_of(id))?.filter(|r| !r.is_deleted()) {
        return Ok(MergeRequest::from_record(&record));
    }
    let mut found: Vec<MergeRequest> = list_in(snap)?
        .into_iter()
        .filter(|m| m.id.starts_with(id))
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::invalid(format!(
            "no merge request '{}'",
            id.escape_debug()
        ))),
        _ => Err(Error::Ambiguous {
            prefix: id.to_string(),
            candidates: found.into_iter().map(|m| m.id).collect(),
        }),
    }
}

/// The request for a bead that is still open, if any.
pub fn open_for_bead(snap: &Snapshot<'_>, bead: &str) -> Result<Option<MergeRequest>> {
    Ok(list_in(snap)?
        .into_iter()
        .find(|mr| mr.bead.as_deref() == Some(bead) && mr.status == OPEN))
}

/// Carry the bead count header on writes that only touch merge requests.
pub fn carry(snap: &Snapshot<'_>, batch: &mut WriteBatch) {
    carry_count(snap, batch, 0);
}
