//! The merge queue's records: one merge request per submitted commit, in the rig's store at
//! `mrs/<id>.json`, beside the bead it would close and the agent that made it (so `done`
//! creates the request, keeps the bead in progress and frees the agent in one commit).
//! The commit is the dedup key: submitting the same commit again returns the same request.

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

/// Merge request states.
pub const OPEN: &str = "open";
pub const MERGED: &str = "merged";
pub const REJECTED: &str = "rejected";
pub const CONFLICT: &str = "conflict";

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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl MergeRequest {
    pub fn from_record(record: &Record) -> MergeRequest {
        let text = |k: &str| record.str(k).map(str::to_string);
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
            merge_commit: text("merge_commit"),
            reason: text("reason"),
        }
    }
}

/// What to submit.
#[derive(Debug, Clone)]
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

fn path_of(id: &str) -> String {
    format!("{DIR}/{id}.json")
}

/// Within a write: the request for this commit, created if there is none. The bool says
/// whether it was created now.
pub fn submit_in(
    snap: &Snapshot<'_>,
    batch: &mut WriteBatch,
    stamp: &Stamp,
    prefix: &str,
    sub: &Submission,
) -> Result<(MergeRequest, bool)> {
    if sub.commit.len() < 40 || !sub.commit.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::invalid(format!("bad commit id '{}'", sub.commit)));
    }
    let id = id_for(prefix, &sub.commit);
    let path = path_of(&id);
    if let Some(existing) = records::read(snap, &path)? {
        if existing.str("commit") == Some(sub.commit.as_str()) {
            return Ok((MergeRequest::from_record(&existing), false));
        }
    }
    let mut record = records::named_record(&id);
    for (k, v) in [
        ("status", json!(OPEN)),
        ("branch", json!(sub.branch)),
        ("target", json!(sub.target)),
        ("commit", json!(sub.commit)),
        ("bead", json!(sub.bead)),
        ("worker", json!(sub.worker)),
        ("convoy", json!(sub.convoy)),
        ("priority", json!(sub.priority)),
        ("retries", json!(0)),
        ("created_at", json!(now_rfc3339())),
    ] {
        record.set(k, v, stamp);
    }
    records::put(batch, &path, &record);
    Ok((MergeRequest::from_record(&record), true))
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
