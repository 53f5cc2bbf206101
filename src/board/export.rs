//! `git board export DIR`: the board as files, in the seed design's shapes, for tools and
//! agents that only read files: `BULLETIN.md`, `LOCKS.json` (path, holder, since, intent),
//! `DECISIONS.json` (id, date, context, decision, rationale, source, propagated_to).

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

use super::{BulletinEntry, Decision, Lock};
use crate::error::{Error, Result};

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Exported {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    pub posts: usize,
    pub locks: usize,
    pub decisions: usize,
}

/// The seed's LOCKS.json document.
pub fn locks_json(locks: &[Lock]) -> serde_json::Value {
    json!({
        "locks": locks.iter().map(|l| json!({
            "path": l.path,
            "holder": l.holder,
            "since": l.since,
            "intent": l.intent,
            "expires": l.expires,
        })).collect::<Vec<_>>()
    })
}

/// The seed's DECISIONS.json document.
pub fn decisions_json(decisions: &[Decision]) -> serde_json::Value {
    json!({
        "decisions": decisions.iter().map(|d| json!({
            "id": d.id,
            "date": d.date,
            "title": d.title,
            "context": d.context,
            "decision": d.decision,
            "rationale": d.rationale,
            "source": d.source,
            "propagated_to": d.propagated_to,
        })).collect::<Vec<_>>()
    })
}

/// BULLETIN.md: newest first, one section per entry.
pub fn bulletin_md(entries: &[BulletinEntry]) -> String {
    let mut out = String::from("# Bulletin\n\n");
    if entries.is_empty() {
        out.push_str("Nothing posted yet.\n");
    }
    for e in entries.iter().rev() {
        let ids = if e.ids.is_empty() {
            String::new()
        } else {
            format!(" ({})", e.ids.join(", "))
        };
        out.push_str(&format!(
            "## {} — {} — {}{}\n\n",
            e.at, e.actor, e.kind, ids
        ));
        out.push_str(e.text.trim_end());
        out.push_str("\n\n");
    }
    out
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    // Write beside and rename, so a reader never sees half a file.
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(format!("writing {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

/// Write the three files into `dir` (created if missing).
pub fn write(
    dir: &Path,
    bulletin: &[BulletinEntry],
    locks: &[Lock],
    decisions: &[Decision],
) -> Result<Exported> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::invalid(format!(
            "'{}' exists and is not a directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let pretty = |v: &serde_json::Value| {
        let mut bytes = serde_json::to_vec_pretty(v).expect("JSON values serialise");
        bytes.push(b'\n');
        bytes
    };
    let files = vec![
        dir.join("BULLETIN.md"),
        dir.join("LOCKS.json"),
        dir.join("DECISIONS.json"),
    ];
    write_file(&files[0], bulletin_md(bulletin).as_bytes())?;
    write_file(&files[1], &pretty(&locks_json(locks)))?;
    write_file(&files[2], &pretty(&decisions_json(decisions)))?;
    Ok(Exported {
        dir: dir.to_path_buf(),
        files,
        posts: bulletin.len(),
        locks: locks.len(),
        decisions: decisions.len(),
    })
}
