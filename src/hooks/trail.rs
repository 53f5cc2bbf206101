//! `git bead trail`: which code commits did which work for a bead, from the work notes the
//! `post-commit` hook wrote (indexed by bead, so the cost follows the bead's commits, not
//! the number of notes), plus the bead's merge requests.

use gix::ObjectId;
use serde::Serialize;

use crate::error::Result;
use crate::mq::record::{self, MergeRequest};
use crate::store::Store;

/// One commit of a bead's trail.
#[derive(Debug, Clone, Serialize)]
pub struct TrailCommit {
    pub commit: String,
    /// The commit's subject, author and date; absent when this clone lacks the commit (its
    /// note arrived by sync without the code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_session: Option<String>,
    /// Every bead the commit's note names.
    pub beads: Vec<String>,
    #[serde(skip)]
    time: i64,
    #[serde(skip)]
    noted: u64,
}

/// A merge request of the bead, in short.
#[derive(Debug, Clone, Serialize)]
pub struct TrailRequest {
    pub id: String,
    pub status: String,
    pub branch: String,
    pub target: String,
    pub commit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What `git bead trail` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Trail {
    pub bead: String,
    /// Oldest first.
    pub commits: Vec<TrailCommit>,
    pub merge_requests: Vec<TrailRequest>,
}

fn field<'a>(text: &'a str, key: &str) -> impl Iterator<Item = String> + 'a {
    let prefix = format!("{key}: ");
    text.lines().filter_map(move |l| {
        l.strip_prefix(prefix.as_str())
            .map(|v| v.trim().to_string())
    })
}

fn describe(store: &Store, commit: ObjectId, text: &str, noted: u64) -> TrailCommit {
    let mut out = TrailCommit {
        commit: commit.to_string(),
        subject: None,
        author: None,
        date: None,
        agent: field(text, "agent").next(),
        session: field(text, "session").next(),
        runtime_session: field(text, "runtime-session").next(),
        beads: field(text, "bead").collect(),
        time: 0,
        noted,
    };
    if let Ok(found) = store.repo().find_commit(commit) {
        if let Ok(decoded) = found.decode() {
            let message = decoded.message.to_string();
            out.subject = Some(message.lines().next().unwrap_or("").to_string());
            if let Ok(author) = decoded.author() {
                out.author = Some(author.name.to_string());
                out.time = author.time().map(|t| t.seconds).unwrap_or(0);
                out.date = chrono::DateTime::from_timestamp(out.time, 0)
                    .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            }
        }
    }
    out
}

/// The trail of `bead` (an exact id) in `store`.
pub fn trail(store: &Store, bead: &str) -> Result<Trail> {
    let mut commits: Vec<TrailCommit> = store
        .trail(bead)?
        .into_iter()
        .map(|n| describe(store, n.commit, &n.text, n.noted))
        .collect();
    commits.sort_by_key(|c| (c.time, c.noted));
    let snap = store.snapshot(crate::bead::COLLECTION)?;
    let merge_requests = if snap.exists() {
        record::list_in(&snap)?
            .into_iter()
            .filter(|m: &MergeRequest| {
                m.bead.as_deref() == Some(bead) || m.closes.iter().any(|b| b == bead)
            })
            .map(|m| TrailRequest {
                id: m.id,
                status: m.status,
                branch: m.branch,
                target: m.target,
                commit: m.commit,
                merge_commit: m.merge_commit,
                reason: m.reason,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Trail {
        bead: bead.to_string(),
        commits,
        merge_requests,
    })
}
