//! bd's display shapes, for clients that parse bd's JSON (beads-ui and scripts written for
//! bd): `show`'s details with the linked beads themselves, list rows with counts, epic
//! progress. bd's names are the contract (`IssueDetails`, `IssueWithDependencyMetadata`,
//! `IssueWithCounts`, `BlockedIssue`, `EpicStatus` in bd's `internal/types`); the stored
//! edges (`issue_id, depends_on_id, type`) stay the shape of `export`.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::graph;
use super::index::Index;
use super::record::Record;
use crate::error::Result;
use crate::store::Snapshot;

/// A bead linked to the one shown: its own fields plus how it is linked (bd's
/// `IssueWithDependencyMetadata`). A target that is not a live bead here (deleted, not yet
/// synced, `external:`) is just `{id, dependency_type}`, so no link disappears from view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Linked {
    #[serde(flatten)]
    pub issue: Map<String, Value>,
    pub dependency_type: String,
}

/// `show --json`: one bead with what it depends on and what depends on it (bd's
/// `IssueDetails`; empty lists are omitted, as bd omits them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Details {
    #[serde(flatten)]
    pub issue: Map<String, Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Linked>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dependents: Vec<Linked>,
    /// The target of the bead's `parent-child` dependency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Epics with children only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epic_total_children: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epic_closed_children: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epic_closeable: Option<bool>,
}

/// A row of `list`, `ready`, `blocked` and `search --json` (bd's `IssueWithCounts`, and
/// `BlockedIssue` for `blocked`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counted {
    #[serde(flatten)]
    pub issue: Map<String, Value>,
    /// Dependencies of any type this bead has.
    pub dependency_count: usize,
    /// Live beads with a dependency of any type on this one.
    pub dependent_count: usize,
    pub comment_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by_count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<Vec<String>>,
}

/// An open epic and how far its children are (bd's `EpicStatus`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpicStatus {
    pub epic: Map<String, Value>,
    pub total_children: usize,
    pub closed_children: usize,
    /// At least one child, and every child closed.
    pub eligible_for_close: bool,
}

/// Who links to some beads: wanted id → (row, dependency type) of each live bead with a
/// dependency on it. Only the wanted ids are kept: `ready --json` at 100k beads asks about
/// 100 of them, and a map of every target would cost more than the rest of the command.
struct Dependents<'a> {
    by_target: HashMap<&'a str, Vec<(usize, &'a str)>>,
}

impl<'a> Dependents<'a> {
    fn of(index: &'a Index, wanted: impl IntoIterator<Item = &'a str>) -> Self {
        let mut by_target: HashMap<&str, Vec<(usize, &str)>> =
            wanted.into_iter().map(|id| (id, Vec::new())).collect();
        if !by_target.is_empty() {
            for (i, row) in index.rows.iter().enumerate() {
                for (target, kind, _) in index.deps(row) {
                    if let Some(found) = by_target.get_mut(target) {
                        found.push((i, kind));
                    }
                }
            }
        }
        Dependents { by_target }
    }

    fn on(&self, id: &str) -> &[(usize, &'a str)] {
        self.by_target.get(id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Live children (rows with a `parent-child` dependency on `id`).
    fn children(&self, id: &str) -> impl Iterator<Item = usize> + '_ {
        self.on(id)
            .iter()
            .filter(|(_, kind)| *kind == "parent-child")
            .map(|(row, _)| *row)
    }
}

/// A record in bd's shape without its edges (`dependencies`), with or without comments.
fn fields_without_edges(record: &Record, with_comments: bool) -> Map<String, Value> {
    match record.to_json(with_comments) {
        Value::Object(mut map) => {
            map.remove("dependencies");
            map
        }
        _ => Map::new(),
    }
}

/// A linked bead's own fields.
fn issue_fields(record: &Record) -> Map<String, Value> {
    fields_without_edges(record, false)
}

fn read_row(snap: &Snapshot<'_>, index: &Index, row: usize) -> Result<Record> {
    Record::parse(&snap.read_blob(index.rows[row].blob)?)
}

/// (total, closed) children of `id`.
fn child_counts(index: &Index, dependents: &Dependents<'_>, id: &str) -> (usize, usize) {
    let mut total = 0;
    let mut closed = 0;
    for row in dependents.children(id) {
        total += 1;
        if index.status(&index.rows[row]) == "closed" {
            closed += 1;
        }
    }
    (total, closed)
}

/// `show`: `record` with the beads it links to and the live beads that link to it.
pub fn details(snap: &Snapshot<'_>, index: &Index, record: &Record) -> Result<Details> {
    let dependents_index = Dependents::of(index, [record.id.as_str()]);
    let mut dependencies = Vec::new();
    for (target, kind, _) in record.live_deps() {
        let issue = match index.position(target) {
            Some(row) => issue_fields(&read_row(snap, index, row)?),
            None => Map::from_iter([("id".to_string(), Value::String(target.to_string()))]),
        };
        dependencies.push(Linked {
            issue,
            dependency_type: kind.to_string(),
        });
    }
    let mut dependents = Vec::new();
    for &(row, kind) in dependents_index.on(&record.id) {
        dependents.push(Linked {
            issue: issue_fields(&read_row(snap, index, row)?),
            dependency_type: kind.to_string(),
        });
    }
    let mut out = Details {
        issue: fields_without_edges(record, true),
        dependencies,
        dependents,
        parent: record.parent().map(str::to_string),
        epic_total_children: None,
        epic_closed_children: None,
        epic_closeable: None,
    };
    if record.issue_type() == "epic" {
        let (total, closed) = child_counts(index, &dependents_index, &record.id);
        if total > 0 {
            out.epic_total_children = Some(total);
            out.epic_closed_children = Some(closed);
            out.epic_closeable = Some(closed == total && record.status() != "closed");
        }
    }
    Ok(out)
}

/// Index rows as bd's counted rows; `with_blockers` adds what holds each one up.
pub fn counted_rows(
    snap: &Snapshot<'_>,
    index: &Index,
    rows: &[usize],
    with_blockers: bool,
) -> Result<Vec<Counted>> {
    let dependents = Dependents::of(index, rows.iter().map(|&i| index.id(&index.rows[i])));
    let mut out = Vec::with_capacity(rows.len());
    for &i in rows {
        let row = &index.rows[i];
        let record = read_row(snap, index, i)?;
        let blocked_by = with_blockers.then(|| graph::blocked_by(index, row));
        out.push(Counted {
            dependency_count: record.live_deps().count(),
            dependent_count: dependents.on(index.id(row)).len(),
            comment_count: record.comments.len(),
            parent: record.parent().map(str::to_string),
            blocked_by_count: blocked_by.as_ref().map(Vec::len),
            blocked_by,
            issue: match record.to_json(false) {
                Value::Object(map) => map,
                _ => Map::new(),
            },
        });
    }
    Ok(out)
}

/// `epic status`: epics not closed, by priority then oldest first (bd's order), with their
/// children's progress; `eligible_only` keeps those whose children are all closed.
pub fn epic_status(
    snap: &Snapshot<'_>,
    index: &Index,
    eligible_only: bool,
) -> Result<Vec<EpicStatus>> {
    let mut epics: Vec<usize> = (0..index.rows.len())
        .filter(|&i| {
            let row = &index.rows[i];
            index.issue_type(row) == "epic" && index.status(row) != "closed"
        })
        .collect();
    epics.sort_by_key(|&i| {
        let row = &index.rows[i];
        (row.priority, row.created_ms, index.id(row).to_string())
    });
    let dependents = Dependents::of(index, epics.iter().map(|&i| index.id(&index.rows[i])));
    let mut out = Vec::new();
    for i in epics {
        let (total, closed) = child_counts(index, &dependents, index.id(&index.rows[i]));
        let eligible = total > 0 && closed == total;
        if eligible_only && !eligible {
            continue;
        }
        out.push(EpicStatus {
            epic: issue_fields(&read_row(snap, index, i)?),
            total_children: total,
            closed_children: closed,
            eligible_for_close: eligible,
        });
    }
    Ok(out)
}
