//! Records other than beads that live in a store's work collection (`refs/gastown/beads`):
//! agents, rigs, merge requests, queued dispatches, convoys, escalations. Each is a
//! [`Record`] (stamped last-writer-wins fields, grow-only comments), so sync joins them as
//! it joins beads, and co-locating them with beads makes a write that touches a bead and an
//! agent one commit (docs/STORAGE.md).

use crate::bead::record::{Origin, Record, Stamp};
use crate::error::{Error, Result};
use crate::store::{Snapshot, WriteBatch};

/// The record stored at `path`, if any (tombstoned records included).
pub fn read(snap: &Snapshot<'_>, path: &str) -> Result<Option<Record>> {
    match snap.read(path)? {
        Some(bytes) => Ok(Some(parse(path, &bytes)?)),
        None => Ok(None),
    }
}

/// Every record under `dir` (recursively), in path order.
pub fn list(snap: &Snapshot<'_>, dir: &str) -> Result<Vec<(String, Record)>> {
    let mut out = Vec::new();
    for (path, oid) in snap.walk(dir)? {
        if !path.ends_with(".json") {
            continue;
        }
        let bytes = snap.read_blob(oid)?;
        out.push((path.clone(), parse(&path, &bytes)?));
    }
    Ok(out)
}

/// Queue `record` to be written at `path` in this batch.
pub fn put(batch: &mut WriteBatch, path: &str, record: &Record) {
    batch.put(path.to_string(), record.to_bytes());
}

/// A new record whose id names it for good (an agent address, a rig name): its origin is
/// fixed, so two clones that create the same one hold one record after sync, not two.
pub fn named_record(id: &str) -> Record {
    Record::new(
        id.to_string(),
        Origin {
            at: Stamp(0, String::new()),
            nonce: String::new(),
        },
    )
}

fn parse(path: &str, bytes: &[u8]) -> Result<Record> {
    serde_json::from_slice(bytes).map_err(|e| Error::Git(format!("corrupt record {path}: {e}")))
}
