//! The scheduler's queue: dispatches that could not start for lack of capacity, as durable
//! records in the rig's store (`queue/<bead>.json`) holding everything sling needs to start
//! them later. They start, most urgent first, when a slot frees — after `done`, `nuke`, a
//! dead session noticed by patrol, or any `git sling` — with no daemon.

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::bead::ops::carry_count;
use crate::bead::record::{Record, Stamp};
use crate::bead::schema::now_rfc3339;
use crate::bead::COLLECTION;
use crate::error::{Error, Result};
use crate::records;
use crate::store::{Actor, Outcome, Snapshot, Store, WriteBatch};

const DIR: &str = "queue";

pub const QUEUED: &str = "queued";
pub const DISPATCHED: &str = "dispatched";
pub const CLEARED: &str = "cleared";

/// A dispatch waiting for a slot.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Queued {
    pub bead: String,
    pub status: String,
    /// The target as given to sling (`RIG`, `RIG/polecats/NAME`, ...).
    pub target: String,
    pub priority: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub vars: Map<String, Value>,
    pub no_formula: bool,
    pub dispatched_by: String,
    pub queued_at: String,
}

impl Queued {
    fn from_record(record: &Record) -> Queued {
        let text = |k: &str| record.str(k).map(str::to_string);
        Queued {
            bead: record.id.clone(),
            status: text("status").unwrap_or_else(|| QUEUED.to_string()),
            target: text("target").unwrap_or_default(),
            priority: record.priority(),
            runtime: text("runtime"),
            formula: text("formula"),
            vars: record
                .get("vars")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            no_formula: record
                .get("no_formula")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            dispatched_by: text("dispatched_by").unwrap_or_default(),
            queued_at: text("queued_at").unwrap_or_default(),
        }
    }
}

fn path_of(bead: &str) -> String {
    format!("{DIR}/{bead}.json")
}

/// Within a write: queue (or re-queue) a dispatch of `entry.bead`.
pub fn enqueue_in(
    snap: &Snapshot<'_>,
    batch: &mut WriteBatch,
    stamp: &Stamp,
    entry: &Queued,
) -> Result<()> {
    let path = path_of(&entry.bead);
    let mut record =
        records::read(snap, &path)?.unwrap_or_else(|| records::named_record(&entry.bead));
    for (k, v) in [
        ("status", json!(QUEUED)),
        ("target", json!(entry.target)),
        ("priority", json!(entry.priority)),
        ("runtime", json!(entry.runtime)),
        ("formula", json!(entry.formula)),
        (
            "vars",
            if entry.vars.is_empty() {
                Value::Null
            } else {
                Value::Object(entry.vars.clone())
            },
        ),
        ("no_formula", json!(entry.no_formula)),
        ("dispatched_by", json!(entry.dispatched_by)),
        (
            "queued_at",
            json!(if entry.queued_at.is_empty() {
                now_rfc3339()
            } else {
                entry.queued_at.clone()
            }),
        ),
    ] {
        record.set(k, v, stamp);
    }
    records::put(batch, &path, &record);
    Ok(())
}

/// Within a write: mark the queued dispatch of `bead` done (it started, or was cleared).
pub fn settle_in(
    snap: &Snapshot<'_>,
    batch: &mut WriteBatch,
    stamp: &Stamp,
    bead: &str,
    status: &str,
) -> Result<bool> {
    let path = path_of(bead);
    let Some(mut record) = records::read(snap, &path)? else {
        return Ok(false);
    };
    if record.str("status") != Some(QUEUED) {
        return Ok(false);
    }
    record.set("status", json!(status), stamp);
    records::put(batch, &path, &record);
    Ok(true)
}

/// The rig's waiting dispatches, most urgent first (priority, then oldest).
pub fn waiting(store: &Store) -> Result<Vec<Queued>> {
    let snap = store.snapshot(COLLECTION)?;
    let mut out: Vec<Queued> = records::list(&snap, DIR)?
        .into_iter()
        .map(|(_, r)| Queued::from_record(&r))
        .filter(|q| q.status == QUEUED)
        .collect();
    out.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then(a.queued_at.cmp(&b.queued_at))
            .then(a.bead.cmp(&b.bead))
    });
    Ok(out)
}

/// Queue a dispatch as one write (used when capacity is full).
pub fn enqueue(store: &Store, actor: &Actor, entry: &Queued) -> Result<Queued> {
    store.write(COLLECTION, actor, |snap, batch| {
        if records::read(snap, &crate::bead::id::record_path(&entry.bead))?.is_none() {
            return Err(Error::NotFound(entry.bead.clone()));
        }
        let stamp = Stamp(batch.clock, actor.name.clone());
        enqueue_in(snap, batch, &stamp, entry)?;
        carry_count(snap, batch, 0);
        Ok(Outcome::Commit {
            message: format!("sling queue {} -> {}", entry.bead, entry.target),
            value: entry.clone(),
        })
    })
}

/// Drop every waiting dispatch (one write); the count dropped.
pub fn clear(store: &Store, actor: &Actor) -> Result<usize> {
    store.write(COLLECTION, actor, |snap, batch| {
        let stamp = Stamp(batch.clock, actor.name.clone());
        let mut n = 0;
        for (_, record) in records::list(snap, DIR)? {
            if settle_in(snap, batch, &stamp, &record.id, CLEARED)? {
                n += 1;
            }
        }
        if n == 0 {
            return Ok(Outcome::Unchanged(0));
        }
        carry_count(snap, batch, 0);
        Ok(Outcome::Commit {
            message: format!("sling queue clear ({n})"),
            value: n,
        })
    })
}

/// When dispatches wait in `rig`'s queue, start a detached `git sling queue run` for it
/// that first waits for `freed_session` (the slot just given back) to end. The pid, if one
/// was started. Nothing waits: the caller may be about to end its own session.
pub fn run_detached(
    rig: &crate::town::Rig,
    store: &Store,
    freed_session: Option<&str>,
) -> Result<Option<u32>> {
    if waiting(store)?.is_empty() {
        return Ok(None);
    }
    let mut args: Vec<String> = vec![
        "queue".into(),
        "run".into(),
        "--rig".into(),
        rig.name.clone(),
        "--quiet".into(),
    ];
    if let Some(session) = freed_session {
        args.push("--after-session".into());
        args.push(session.to_string());
    }
    let log = store.state_dir().join("logs").join("queue-run.log");
    crate::detach::spawn("git-sling", &args, &rig.path, &log).map(Some)
}
