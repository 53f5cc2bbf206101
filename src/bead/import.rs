//! `import`: bd JSONL exports into the store, with the checks `create` applies.
//!
//! What bd does, and what this does instead where bd would lose data silently:
//! - unknown status or type: bd refuses the import ("validation failed"); so does this.
//! - `status: tombstone` (bd before v0.51 exported deletions so): bd now skips the line;
//!   here it becomes a deletion, so a clone holding the bead live loses it too, and the
//!   tombstone is kept for `export --include-deleted`.
//! - a dependency on an id neither in the store nor in the file: bd drops the edge without a
//!   word; here it is kept (a later import or sync may bring the target) with a warning.
//!   `external:` targets are cross-project references and never warned about.
//! - `_type: memory` lines (bd's `remember`): this store has no memories; they are skipped
//!   with a warning rather than refused, so the issues still import.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;

use super::id::record_path;
use super::jsonl::{self, Line};
use super::ops::{carry_count, nonce, Beads};
use super::record::{Record, Stamp};
use crate::error::{Error, Result};
use crate::store::{Actor, Outcome};

/// What an import did (or, with `dry_run`, would do).
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Tombstones: new deleted records, and live beads the file deletes.
    pub deleted: usize,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// One line each, naming the input line: kept-but-suspicious input.
    pub warnings: Vec<String>,
}

/// Warnings beyond this many are summarised in one line (a 10,000-line export with one
/// systematic problem would otherwise print 10,000 lines).
const MAX_WARNINGS: usize = 20;

impl Beads<'_> {
    /// Import records in bd's JSONL shape: all or nothing, one commit. Existing ids are
    /// updated field by field (bd's upsert). With `dry_run` nothing is written.
    pub fn import(&self, actor: &Actor, lines: Vec<Line>, dry_run: bool) -> Result<ImportReport> {
        self.store.write(self.collection, actor, |snap, batch| {
            let config = self.config(snap)?;
            let stamp = Stamp(batch.clock, actor.name.clone());
            let mut report = ImportReport {
                dry_run,
                ..ImportReport::default()
            };
            let mut warnings = Vec::new();
            let mut seen = HashSet::new();
            for line in &lines {
                let n = line.number;
                if jsonl::is_memory(&line.object) {
                    let key = line.object.get("key").and_then(Value::as_str).unwrap_or("");
                    warnings.push((
                        n,
                        format!("line {n}: bd memory '{key}' skipped (git bead keeps no memories)"),
                    ));
                    continue;
                }
                jsonl::check_values(&line.object, &config.statuses, &config.types)
                    .map_err(|msg| Error::invalid(format!("line {n}: {msg}")))?;
                let id = line.object["id"].as_str().unwrap_or_default().to_string();
                if !seen.insert(id.clone()) {
                    return Err(Error::invalid(format!("line {n}: id {id} appears twice")));
                }
            }
            for line in &lines {
                if jsonl::is_memory(&line.object) || jsonl::is_tombstone(&line.object) {
                    continue;
                }
                for dep in line.object.get("dependencies").and_then(Value::as_array).into_iter().flatten() {
                    let target = dep["depends_on_id"].as_str().unwrap_or_default();
                    if target.starts_with("external:")
                        || seen.contains(target)
                        || snap.resolve(&record_path(target))?.is_some()
                    {
                        continue;
                    }
                    let id = line.object["id"].as_str().unwrap_or_default();
                    warnings.push((
                        line.number,
                        format!(
                            "line {}: {id} depends on {target}, which is neither in the store nor in the file (kept)",
                            line.number
                        ),
                    ));
                }
            }
            let mut added = 0;
            for line in lines.iter().filter(|l| !jsonl::is_memory(&l.object)) {
                let id = line.object["id"].as_str().unwrap_or_default();
                let existing = match snap.read(&record_path(id))? {
                    Some(bytes) => Some(Record::parse(&bytes)?),
                    None => None,
                };
                let fresh = jsonl::record_from_bd(&line.object, &stamp, &nonce(id))?;
                match existing {
                    None => {
                        batch.put(record_path(id), fresh.to_bytes());
                        added += 1;
                        if fresh.is_deleted() {
                            report.deleted += 1;
                        } else {
                            report.created += 1;
                        }
                    }
                    Some(mut record) => {
                        let was_deleted = record.is_deleted();
                        if jsonl::apply_bd(&mut record, &fresh, &stamp) {
                            batch.put(record_path(id), record.to_bytes());
                            if record.is_deleted() && !was_deleted {
                                report.deleted += 1;
                            } else {
                                report.updated += 1;
                            }
                        } else {
                            report.unchanged += 1;
                        }
                    }
                }
            }
            warnings.sort_by_key(|(line, _)| *line);
            report.warnings = warnings.into_iter().map(|(_, w)| w).collect();
            if report.warnings.len() > MAX_WARNINGS {
                let more = report.warnings.len() - MAX_WARNINGS;
                report.warnings.truncate(MAX_WARNINGS);
                report.warnings.push(format!("… and {more} more warnings"));
            }
            if dry_run || report.created + report.updated + report.deleted == 0 {
                return Ok(Outcome::Unchanged(report));
            }
            carry_count(snap, batch, added);
            Ok(Outcome::Commit {
                message: format!(
                    "bead import: {} created, {} updated, {} deleted",
                    report.created, report.updated, report.deleted
                ),
                value: report,
            })
        })
    }
}
