//! Work notes: git notes kept under `refs/gastown/notes/work`, written by the `post-commit`
//! hook to say which bead, agent and session made a code commit.
//!
//! The ref's tree is git's notes format — the note for commit `abcd…` is the blob at
//! `ab/cd…` (one level of fan-out, which git reads whatever the number of notes) — so
//! `git log` shows the notes once `notes.displayRef` names the ref (git's `--notes=` and
//! `git notes` refuse refs outside `refs/notes/`). Beside the fan-out, `trail/<bead>/<commit>`
//! (each holding the clock of the write that noted it) indexes the commits by bead, so `git bead trail` lists one directory instead
//! of reading every note; git ignores entries that are not notes.
//!
//! Commits are written by [`Store::write`] like every collection (lock, CAS, clock header,
//! which git ignores), so sync merges work notes as it merges everything else: a note's
//! lines are a set, and two versions join as their sorted union.

use gix::ObjectId;

use super::collection::{Dir, Join, Layout, FANOUT};
use super::{Actor, Outcome, Store};
use crate::error::{Error, Result};

/// The collection (`refs/gastown/notes/work`).
pub const COLLECTION: &str = "notes/work";
/// What `notes.displayRef` is set to, so every gastown notes ref shows in `git log`.
pub const DISPLAY_REF: &str = "refs/gastown/notes/*";
/// The index of commits by bead.
pub const TRAIL: &str = "trail";

pub const LAYOUT: Layout = Layout {
    dirs: &[
        Dir {
            name: FANOUT,
            join: Join::Notes,
        },
        Dir {
            name: TRAIL,
            join: Join::Notes,
        },
    ],
};

/// A note to add: its text (lines, joined with any note the commit already has) and the
/// trail keys (bead ids) it is indexed under.
#[derive(Debug, Clone)]
pub struct NoteWrite {
    pub commit: ObjectId,
    pub text: String,
    pub trail: Vec<String>,
}

/// Where the note for `commit` lives.
pub fn note_path(commit: &ObjectId) -> String {
    let hex = commit.to_string();
    format!("{}/{}", &hex[..2], &hex[2..])
}

/// The join of two versions of a note: the sorted union of their non-empty lines (a set,
/// so the result is the same whichever side is "ours", and joining twice changes nothing).
pub fn join(a: &[u8], b: &[u8]) -> Vec<u8> {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let (a, b) = (text(a), text(b));
    let mut lines: Vec<&str> = a
        .lines()
        .chain(b.lines())
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort_unstable();
    lines.dedup();
    let mut out = lines.join("\n").into_bytes();
    if !out.is_empty() {
        out.push(b'\n');
    }
    out
}

/// A trail key must be one path component: a bead id.
fn check_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && !key.starts_with('.')
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "'{key}' cannot index a work note (letters, digits, '.', '_' and '-' only)"
        )))
    }
}

/// A note found by [`Store::trail`]: the commit and the note's text.
#[derive(Debug, Clone)]
pub struct TrailNote {
    pub commit: ObjectId,
    pub text: String,
    /// The clock of the write that noted it (the order commits were noted in).
    pub noted: u64,
}

impl Store {
    /// Add work notes in one write (one notes commit). A commit that already has a note
    /// keeps its lines: the new text joins it. Nothing is written when every note and
    /// trail entry is already there. True when a commit was made.
    pub fn add_notes(&self, actor: &Actor, notes: &[NoteWrite]) -> Result<bool> {
        for note in notes {
            for key in &note.trail {
                check_key(key)?;
            }
        }
        self.write(COLLECTION, actor, |snap, batch| {
            let mut written = Vec::new();
            for note in notes {
                let path = note_path(&note.commit);
                let existing = snap.read(&path)?;
                let bytes = join(
                    existing.as_deref().unwrap_or_default(),
                    note.text.as_bytes(),
                );
                let mut changed = existing.as_deref() != Some(bytes.as_slice());
                if changed {
                    batch.put(path, bytes);
                }
                for key in &note.trail {
                    let entry = format!("{TRAIL}/{key}/{}", note.commit);
                    if snap.resolve(&entry)?.is_none() {
                        // The write's clock: the order commits were noted in (their
                        // own times have only seconds).
                        batch.put(entry, format!("{}\n", batch.clock).into_bytes());
                        changed = true;
                    }
                }
                if changed {
                    written.push(note.commit.to_hex_with_len(10).to_string());
                }
            }
            if written.is_empty() {
                return Ok(Outcome::Unchanged(false));
            }
            Ok(Outcome::Commit {
                message: format!("notes: work note on {}", written.join(", ")),
                value: true,
            })
        })
    }

    /// The note on `commit`, if it has one.
    pub fn note(&self, commit: &ObjectId) -> Result<Option<String>> {
        let snap = self.snapshot(COLLECTION)?;
        Ok(snap
            .read(&note_path(commit))?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// The notes indexed under `key` (a bead id), from one snapshot.
    pub fn trail(&self, key: &str) -> Result<Vec<TrailNote>> {
        check_key(key)?;
        let snap = self.snapshot(COLLECTION)?;
        let mut out = Vec::new();
        for entry in snap.list(&format!("{TRAIL}/{key}"))? {
            let Ok(commit) = ObjectId::from_hex(entry.name.as_bytes()) else {
                continue;
            };
            let text = snap
                .read(&note_path(&commit))?
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            // Two clones may have noted one commit: the earlier noting counts.
            let noted = String::from_utf8_lossy(&snap.read_blob(entry.oid)?)
                .lines()
                .filter_map(|l| l.trim().parse::<u64>().ok())
                .min()
                .unwrap_or(0);
            out.push(TrailNote {
                commit,
                text,
                noted,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_join_as_a_set_of_lines() {
        let a = b"agent: x\nbead: gt-1\n";
        let b = b"bead: gt-2\nagent: x\n";
        let ab = join(a, b);
        assert_eq!(ab, b"agent: x\nbead: gt-1\nbead: gt-2\n");
        assert_eq!(ab, join(b, a));
        assert_eq!(join(&ab, a), ab);
        assert_eq!(join(b"", b""), b"");
    }

    #[test]
    fn fanout_paths_are_declared() {
        let oid = ObjectId::from_hex(b"abcdef0123456789abcdef0123456789abcdef01").unwrap();
        let path = note_path(&oid);
        assert_eq!(path, "ab/cdef0123456789abcdef0123456789abcdef01");
        assert_eq!(LAYOUT.join_for(COLLECTION, &path).unwrap(), Join::Notes);
        assert!(LAYOUT.join_for(COLLECTION, "trail/gt-1/x").is_ok());
        assert!(LAYOUT.join_for(COLLECTION, "AB/x").is_err());
        assert!(LAYOUT.join_for(COLLECTION, "other/x").is_err());
        assert!(check_key("../x").is_err() && check_key("gt-1.2").is_ok());
    }
}
