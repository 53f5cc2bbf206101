//! The stored convoy: a [`Record`] at `convoys/<id>.json` in the town's work collection.
//! Scalar facts are last-writer-wins fields; the tracked beads are the record's stamped
//! member map (`deps`: bead id → member, with `skipped`/`reason` data for a bead mountain
//! gave up dispatching), so an add on one clone and a remove of another bead on a second
//! both hold after sync.

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::bead::record::{Member, Origin, Record, Stamp};
use crate::error::{Error, Result};
use crate::records;
use crate::store::Snapshot;

pub const DIR: &str = "convoys";

/// Statuses: `staged` (made by `stage`, not yet launched), `open`, `landed` (every tracked
/// bead closed; recorded once), `closed` (closed by hand with a reason).
pub const STAGED: &str = "staged";
pub const OPEN: &str = "open";
pub const LANDED: &str = "landed";
pub const CLOSED: &str = "closed";

pub fn path_of(id: &str) -> String {
    format!("{DIR}/{id}.json")
}

/// A convoy as commands report it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Convoy {
    pub id: String,
    pub name: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub notify: Vec<String>,
    /// Closed only by `land` (never automatically, never by `close`).
    pub owned: bool,
    /// Launched: closing a tracked bead dispatches the next ready ones.
    pub launched: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epic: Option<String>,
    pub created: String,
    pub created_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub landed: Option<String>,
    /// How many times it landed (a landed convoy that gains a bead reopens).
    pub landings: u64,
    /// The landing whose "Convoy landed" message is sent.
    pub mailed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<String>,
    /// Tracked bead ids, sorted.
    pub beads: Vec<String>,
    /// Tracked beads whose dispatch was given up (mountain: failed 3 times).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// The waves `stage` computed (bead ids per wave).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub waves: Vec<Vec<String>>,
}

impl Convoy {
    pub fn from_record(record: &Record) -> Convoy {
        let text = |k: &str| record.str(k).map(str::to_string);
        let num = |k: &str| record.get(k).and_then(Value::as_u64).unwrap_or(0);
        let flag = |k: &str| record.get(k).and_then(Value::as_bool).unwrap_or(false);
        let strings = |k: &str| -> Vec<String> {
            record
                .get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let waves = record
            .get("waves")
            .and_then(Value::as_array)
            .map(|ws| {
                ws.iter()
                    .map(|w| {
                        w.as_array()
                            .map(|ids| {
                                ids.iter()
                                    .filter_map(|v| v.as_str().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap_or_default();
        let live = || record.deps.iter().filter(|(_, m)| m.on);
        Convoy {
            id: record.id.clone(),
            name: text("title").unwrap_or_default(),
            status: text("status").unwrap_or_else(|| OPEN.to_string()),
            owner: text("owner"),
            notify: strings("notify"),
            owned: flag("owned"),
            launched: flag("launched"),
            epic: text("epic"),
            created: text("created_at").unwrap_or_default(),
            created_by: text("created_by").unwrap_or_default(),
            landed: text("landed_at"),
            landings: num("landings"),
            mailed: num("mailed"),
            close_reason: text("close_reason"),
            beads: live().map(|(id, _)| id.clone()).collect(),
            skipped: live()
                .filter(|(_, m)| m.data.get("skipped").and_then(Value::as_bool) == Some(true))
                .map(|(id, _)| id.clone())
                .collect(),
            waves,
        }
    }

    /// Still collecting work: neither landed nor closed.
    pub fn is_active(&self) -> bool {
        self.status == OPEN || self.status == STAGED
    }

    pub fn tracks(&self, bead: &str) -> bool {
        self.beads.iter().any(|b| b == bead)
    }

    /// Landed, and that landing's message not yet sent (a crash between the two).
    pub fn needs_mail(&self) -> bool {
        self.status == LANDED && self.mailed < self.landings
    }
}

/// Start tracking `bead` (or revive it); false when it is tracked already.
pub fn track(record: &mut Record, bead: &str, stamp: &Stamp) -> bool {
    if record.deps.get(bead).is_some_and(|m| m.on) {
        return false;
    }
    record.deps.insert(
        bead.to_string(),
        Member {
            on: true,
            at: stamp.clone(),
            data: Map::new(),
        },
    );
    true
}

/// Stop tracking `bead`; false when it was not tracked.
pub fn untrack(record: &mut Record, bead: &str, stamp: &Stamp) -> bool {
    match record.deps.get_mut(bead) {
        Some(m) if m.on => {
            m.on = false;
            m.at = stamp.clone();
            m.data = Map::new();
            true
        }
        _ => false,
    }
}

/// Mark a tracked bead as skipped (its dispatch was given up), with the reason.
pub fn skip(record: &mut Record, bead: &str, reason: &str, stamp: &Stamp) {
    let mut data = Map::new();
    data.insert("skipped".into(), json!(true));
    data.insert("reason".into(), json!(reason));
    record.deps.insert(
        bead.to_string(),
        Member {
            on: true,
            at: stamp.clone(),
            data,
        },
    );
}

/// A new convoy record: its id is random, so its origin is the creating write.
pub fn new_record(id: &str, stamp: &Stamp) -> Record {
    Record::new(
        id.to_string(),
        Origin {
            at: stamp.clone(),
            nonce: crate::bead::ops::nonce(id),
        },
    )
}

/// A fresh convoy id: `hq-cv-` and six base-36 characters (Gas Town's shape).
pub fn new_id(snap: &Snapshot<'_>, seed: &str) -> Result<String> {
    for nonce in 0..64u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let seed = format!("{seed}|{nanos}|{}", std::process::id());
        let id = crate::bead::id::hash_id("hq-cv", &seed, nonce, 6);
        if snap.resolve(&path_of(&id))?.is_none() {
            return Ok(id);
        }
    }
    Err(Error::Git("could not find a free convoy id".into()))
}

/// Every convoy record in the snapshot (tombstoned ones left out).
pub fn all(snap: &Snapshot<'_>) -> Result<Vec<Record>> {
    if snap.resolve(DIR)?.is_none() {
        return Ok(Vec::new());
    }
    Ok(records::list(snap, DIR)?
        .into_iter()
        .filter(|(path, r)| !r.is_deleted() && *path == path_of(&r.id))
        .map(|(_, r)| r)
        .collect())
}

/// Resolve a convoy id: the full id, its part after `hq-cv-`, or a unique prefix of either.
pub fn resolve(snap: &Snapshot<'_>, text: &str) -> Result<Record> {
    let text = text.trim();
    let unknown = || {
        Error::invalid(format!(
            "no convoy matches '{}' (see `git convoy list --all`)",
            text.escape_debug()
        ))
    };
    let safe = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if !safe {
        return Err(unknown());
    }
    for candidate in [text.to_string(), format!("hq-cv-{text}")] {
        if let Some(r) = records::read(snap, &path_of(&candidate))? {
            if !r.is_deleted() {
                return Ok(r);
            }
        }
    }
    let found: Vec<Record> = all(snap)?
        .into_iter()
        .filter(|r| r.id.starts_with(text) || r.id.starts_with(&format!("hq-cv-{text}")))
        .collect();
    match found.len() {
        1 => Ok(found.into_iter().next().expect("one")),
        0 => Err(unknown()),
        _ => Err(Error::Ambiguous {
            prefix: text.to_string(),
            candidates: found.iter().take(10).map(|r| r.id.clone()).collect(),
        }),
    }
}
