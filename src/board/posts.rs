//! The bulletin: posts people and agents write (`git board post`), merged at read time with
//! the events the suite records itself (sling, done, merged, landed, escalated), which come
//! from the feed: one derivation of "what happened", never a second event log.

use std::sync::atomic::{AtomicU32, Ordering};

use serde::Serialize;
use serde_json::{json, Value};

use super::{Board, COLLECTION};
use crate::bead::record::{Origin, Record, Stamp};
use crate::error::{Error, Result};
use crate::records;
use crate::store::{Actor, Outcome, Snapshot, WriteBatch};

const MAX_POST_BYTES: usize = 64 << 10;

/// A post on the bulletin.
#[derive(Debug, Clone, Serialize)]
pub struct Post {
    pub id: String,
    pub author: String,
    /// RFC 3339.
    pub at: String,
    pub text: String,
    /// `post` for what someone wrote, `convoy-landed` for a landing summary.
    pub kind: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    #[serde(skip)]
    pub(crate) at_ms: i64,
}

/// One line of the bulletin: a post, or an event of the feed.
#[derive(Debug, Clone, Serialize)]
pub struct BulletinEntry {
    /// RFC 3339.
    pub at: String,
    pub actor: String,
    /// `post`, `convoy-landed`, or the feed's event kind (`sling`, `done`, `merged`,
    /// `landed`, `escalated`).
    pub kind: String,
    pub text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    /// The post's id, for posts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post: Option<String>,
    #[serde(skip)]
    pub(crate) at_ms: i64,
}

/// The feed's event kinds the bulletin shows beside posts.
pub const BULLETIN_EVENTS: [&str; 5] = ["sling", "done", "merged", "landed", "escalated"];

pub(crate) fn new_id(seed: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let seed = format!("{seed}|{nanos}|{}|{n}", std::process::id());
    crate::bead::id::hash_id("p", &seed, 0, 10)
}

pub(crate) fn post_path(id: &str) -> String {
    format!("posts/{:02x}/{id}.json", crate::bead::id::shard(id))
}

/// Put a new post into `batch` under a fresh id.
pub(crate) fn put_post(
    snap: &Snapshot<'_>,
    batch: &mut WriteBatch,
    actor: &Actor,
    kind: &str,
    text: &str,
    ids: &[String],
) -> Result<Post> {
    let mut id = new_id(&actor.name);
    while snap.read(&post_path(&id))?.is_some() {
        id = new_id(&actor.name);
    }
    put_post_as(snap, batch, actor, &id, kind, text, ids)
}

/// Put a post with the given `id` into `batch` (a landing's post has a derived id).
pub(crate) fn put_post_as(
    _snap: &Snapshot<'_>,
    batch: &mut WriteBatch,
    actor: &Actor,
    id: &str,
    kind: &str,
    text: &str,
    ids: &[String],
) -> Result<Post> {
    let stamp = Stamp(batch.clock, actor.name.clone());
    let mut record = Record::new(
        id.to_string(),
        Origin {
            at: stamp.clone(),
            nonce: String::new(),
        },
    );
    let now = chrono::Utc::now();
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    record.set("author", json!(actor.name), &stamp);
    record.set("at", json!(at), &stamp);
    record.set("at_ms", json!(now.timestamp_millis()), &stamp);
    record.set("text", json!(text), &stamp);
    record.set("kind", json!(kind), &stamp);
    if !ids.is_empty() {
        record.set("ids", json!(ids), &stamp);
    }
    records::put(batch, &post_path(id), &record);
    Ok(from_record(&record))
}

/// The post `id`, if it exists.
pub(crate) fn read(snap: &Snapshot<'_>, id: &str) -> Result<Option<Post>> {
    Ok(records::read(snap, &post_path(id))?
        .filter(|r| !r.is_deleted())
        .map(|r| from_record(&r)))
}

fn from_record(record: &Record) -> Post {
    let ids = record
        .get("ids")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Post {
        id: record.id.clone(),
        author: record.str("author").unwrap_or("").to_string(),
        at: record.str("at").unwrap_or("").to_string(),
        text: record.str("text").unwrap_or("").to_string(),
        kind: record.str("kind").unwrap_or("post").to_string(),
        ids,
        at_ms: record.get("at_ms").and_then(Value::as_i64).unwrap_or(0),
    }
}

pub(crate) fn check_post(text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::invalid("the post is empty: give its TEXT"));
    }
    if text.len() > MAX_POST_BYTES {
        return Err(Error::invalid(format!(
            "the post has {} bytes, at most {MAX_POST_BYTES}",
            text.len()
        )));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Error::invalid("the post has control characters"));
    }
    Ok(())
}

/// Every post of a snapshot, oldest first.
pub(crate) fn list(snap: &Snapshot<'_>) -> Result<Vec<Post>> {
    let mut out: Vec<Post> = records::list(snap, "posts")?
        .into_iter()
        .filter(|(_, r)| !r.is_deleted())
        .map(|(_, r)| from_record(&r))
        .collect();
    out.sort_by(|a, b| (a.at_ms, &a.id).cmp(&(b.at_ms, &b.id)));
    Ok(out)
}

impl Board<'_> {
    /// Post `text` to the bulletin.
    pub fn post(&self, actor: &Actor, text: &str) -> Result<Post> {
        check_post(text)?;
        let text = text.trim();
        self.store.write(COLLECTION, actor, |snap, batch| {
            let post = put_post(snap, batch, actor, "post", text, &[])?;
            Ok(Outcome::Commit {
                message: format!("board post {}: {}", post.id, super::first_line(text)),
                value: post,
            })
        })
    }

    /// Every post, oldest first.
    pub fn posts(&self) -> Result<Vec<Post>> {
        list(&self.snapshot()?)
    }

    /// The bulletin: posts and the feed's sling, done, merged, landed and escalated events,
    /// oldest first, from `since_ms` on.
    pub fn bulletin(&self, since_ms: Option<i64>) -> Result<Vec<BulletinEntry>> {
        let mut out: Vec<BulletinEntry> = self
            .posts()?
            .into_iter()
            .filter(|p| since_ms.is_none_or(|s| p.at_ms >= s))
            .map(BulletinEntry::from)
            .collect();
        let filter = crate::feed::Filter {
            since_ms,
            rig: None,
            kinds: BULLETIN_EVENTS.iter().map(|k| k.to_string()).collect(),
        };
        // A landing's post says more than its `convoy land` commit: show the post only.
        let posted: Vec<String> = out
            .iter()
            .filter(|e| e.kind == "convoy-landed")
            .flat_map(|e| e.ids.first().cloned())
            .collect();
        for e in crate::feed::Feed::new(self.town)?.events(&filter)? {
            // Board writes are the posts above (a landing's post is also the feed's
            // `landed` event for it).
            if e.collection == super::COLLECTION
                || (e.kind == "landed" && e.ids.iter().any(|i| posted.contains(i)))
            {
                continue;
            }
            out.push(BulletinEntry {
                at: e.at,
                actor: e.actor,
                kind: e.kind,
                text: match &e.rig {
                    Some(rig) => format!("{} ({rig})", e.summary),
                    None => e.summary,
                },
                ids: e.ids,
                post: None,
                at_ms: e.at_ms,
            });
        }
        out.sort_by_key(|e| e.at_ms);
        Ok(out)
    }
}

impl From<Post> for BulletinEntry {
    fn from(p: Post) -> Self {
        BulletinEntry {
            at: p.at,
            actor: p.author,
            kind: p.kind,
            text: p.text,
            ids: p.ids,
            post: Some(p.id),
            at_ms: p.at_ms,
        }
    }
}
