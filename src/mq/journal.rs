//! The pass's clone-local files in `<common git dir>/gastown/mq/` (never commits):
//!
//! - `slot.lock`, the merge slot: a flock held for the whole pass (the kernel drops it when
//!   a pass dies, so a killed pass never blocks the next one); `running.json` says who holds it;
//! - `journal.json`, written before the target moves and removed after the one write that
//!   records the merge: a pass killed in between leaves it, and the next pass finishes the
//!   merge (the target holds the commit) or discards it (the target never moved);
//! - `last.json`, the report of the last pass (`git mq status`); `logs/`, the gates' output.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::Store;

pub fn dir(store: &Store) -> PathBuf {
    store.state_dir().join("mq")
}

/// The merge slot, held while a pass runs.
pub struct Slot {
    _file: File,
    running: PathBuf,
}

impl Slot {
    /// Take the slot, or `None` at once when another pass holds it.
    pub fn try_take(store: &Store) -> Result<Option<Slot>> {
        let dir = dir(store);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let path = dir.join("slot.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io(format!("locking {}", path.display()), e))
            }
        }
        let running = dir.join("running.json");
        let info = serde_json::json!({ "pid": std::process::id(), "started_at": crate::bead::schema::now_rfc3339() });
        write_atomically(&running, info.to_string().as_bytes())?;
        Ok(Some(Slot {
            _file: file,
            running,
        }))
    }

    /// The pass holding the slot now, as it described itself. Read without touching the
    /// lock (a status query must never make a starting pass think the slot is taken): the
    /// file is removed when a pass ends, and a killed pass's file names a dead process.
    pub fn holder(store: &Store) -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(dir(store).join("running.json")).ok()?;
        let info: serde_json::Value = serde_json::from_str(&text).ok()?;
        let pid = info["pid"].as_u64()?;
        Path::new(&format!("/proc/{pid}")).exists().then_some(info)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.running);
    }
}

/// A merge about to move the target.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Journal {
    pub target: String,
    #[serde(default)]
    pub remote: Option<String>,
    pub from: String,
    pub to: String,
    /// (request id, its merged commit), in order.
    pub merged: Vec<(String, String)>,
}

impl Journal {
    fn path(store: &Store) -> PathBuf {
        dir(store).join("journal.json")
    }

    pub fn write(&self, store: &Store) -> Result<()> {
        let bytes = serde_json::to_vec(self).expect("a journal serialises");
        write_atomically(&Self::path(store), &bytes)
    }

    /// The journal a killed pass left, if any. One that does not parse is reported, not
    /// silently dropped: it names a merge that may have happened.
    pub fn pending(store: &Store) -> Result<Option<Journal>> {
        let path = Self::path(store);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::Corrupt(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
        }
    }

    pub fn clear(store: &Store) -> Result<()> {
        match std::fs::remove_file(Self::path(store)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("removing the merge-queue journal", e)),
        }
    }
}

/// Save the last pass's report.
pub fn save_last(store: &Store, report: &impl Serialize) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(report).expect("a report serialises");
    write_atomically(&dir(store).join("last.json"), &bytes)
}

pub fn last(store: &Store) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(dir(store).join("last.json")).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(format!("writing {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}
