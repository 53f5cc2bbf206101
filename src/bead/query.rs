//! Reads over the bead index: list, ready, blocked, search, stats, dependency trees, logs.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use serde_json::{json, Value};

use super::graph;
use super::id::record_path;
use super::index::{Index, Row, NONE};
use super::record::Record;
use crate::error::{Error, Result};
use crate::store::Snapshot;

/// Statuses `list` shows without `--all` or `--status`: bd's active and wip categories.
pub const DEFAULT_LIST_STATUSES: [&str; 4] = ["open", "in_progress", "blocked", "hooked"];

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub statuses: Vec<String>,
    pub all: bool,
    pub types: Vec<String>,
    /// Every one of these labels (AND).
    pub labels: Vec<String>,
    /// At least one of these labels (OR).
    pub labels_any: Vec<String>,
    pub assignee: Option<String>,
    pub unassigned: bool,
    pub priorities: Vec<u8>,
    /// Case-insensitive text in the id, title, description, design, acceptance or notes.
    pub text: Option<String>,
    /// Only descendants of this bead.
    pub parent: Option<String>,
}

impl Filter {
    /// Refuse statuses and types the store does not know (they would silently match
    /// nothing) and write the known ones as stored (types accept bd's aliases).
    pub fn check(&mut self, config: &super::ops::Config) -> Result<()> {
        super::schema::normalize_filter(
            &mut self.statuses,
            &mut self.types,
            &config.statuses,
            &config.types,
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Sort {
    /// Priority first, newest first within a priority
    Priority,
    /// Newest first
    Created,
    /// Most recently updated first
    Updated,
    /// Oldest first
    Oldest,
    /// Beads from the last 48 hours by priority, older ones by age
    Hybrid,
    Id,
    Title,
    Status,
}

impl Filter {
    fn matches_row(&self, index: &Index, row: &Row, statuses_default: &[&str]) -> bool {
        let status = index.status(row);
        if !self.statuses.is_empty() {
            if !self.statuses.iter().any(|s| s == status) {
                return false;
            }
        } else if !self.all && !statuses_default.contains(&status) {
            return false;
        }
        if !self.types.is_empty() && !self.types.iter().any(|t| t == index.issue_type(row)) {
            return false;
        }
        if !self.labels.is_empty() || !self.labels_any.is_empty() {
            let labels: Vec<&str> = index.labels(row).collect();
            if !self.labels.iter().all(|l| labels.contains(&l.as_str())) {
                return false;
            }
            if !self.labels_any.is_empty()
                && !self.labels_any.iter().any(|l| labels.contains(&l.as_str()))
            {
                return false;
            }
        }
        if let Some(assignee) = &self.assignee {
            if index.assignee(row) != assignee {
                return false;
            }
        }
        if self.unassigned && !index.assignee(row).is_empty() {
            return false;
        }
        if !self.priorities.is_empty() && !self.priorities.contains(&row.priority) {
            return false;
        }
        if let Some(parent) = &self.parent {
            if !has_ancestor(index, row, parent) {
                return false;
            }
        }
        true
    }
}

/// Whether `ancestor` is on `row`'s parent chain.
pub fn has_ancestor(index: &Index, row: &Row, ancestor: &str) -> bool {
    let mut cur = row.parent;
    let mut hops = 0;
    while cur != NONE && hops <= index.len() {
        let parent = &index.rows[cur as usize];
        if index.id(parent) == ancestor {
            return true;
        }
        cur = parent.parent;
        hops += 1;
    }
    false
}

/// `rows` as a forest for `list --tree`: each row under its parent when the parent is
/// among `rows`, in `rows`' order otherwise; (row, depth) in print order. A row on a parent
/// cycle (which import or sync can bring) is printed once, at the point the walk reaches it.
pub fn forest(index: &Index, rows: &[usize]) -> Vec<(usize, usize)> {
    let selected: HashSet<usize> = rows.iter().copied().collect();
    let mut children: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut roots = Vec::new();
    for &i in rows {
        let parent = index.rows[i].parent;
        if parent != NONE && selected.contains(&(parent as usize)) {
            children.entry(parent as usize).or_default().push(i);
        } else {
            roots.push(i);
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    let mut seen = HashSet::new();
    // Rows on a cycle have a selected parent, so they are no root: start from them last.
    for start in roots.into_iter().chain(rows.iter().copied()) {
        let mut stack = vec![(start, 0)];
        while let Some((i, depth)) = stack.pop() {
            if !seen.insert(i) {
                continue;
            }
            out.push((i, depth));
            for &child in children.get(&i).into_iter().flatten().rev() {
                stack.push((child, depth + 1));
            }
        }
    }
    out
}

/// Row positions passing `keep` and the text filter (which may read records).
fn select(
    snap: &Snapshot<'_>,
    index: &Index,
    filter: &Filter,
    mut keep: impl FnMut(&Row) -> bool,
) -> Result<Vec<usize>> {
    let needle = filter.text.as_ref().map(|t| t.to_lowercase());
    let mut out = Vec::new();
    for (i, row) in index.rows.iter().enumerate() {
        if !keep(row) {
            continue;
        }
        if let Some(needle) = &needle {
            if !text_matches(snap, index, row, needle)? {
                continue;
            }
        }
        out.push(i);
    }
    Ok(out)
}

fn text_matches(snap: &Snapshot<'_>, index: &Index, row: &Row, needle: &str) -> Result<bool> {
    if index.id(row).to_lowercase().contains(needle)
        || index.title(row).to_lowercase().contains(needle)
    {
        return Ok(true);
    }
    let record = Record::parse(&snap.read_blob(row.blob)?)?;
    Ok(["description", "design", "acceptance_criteria", "notes"]
        .iter()
        .filter_map(|k| record.str(k))
        .any(|text| text.to_lowercase().contains(needle)))
}

pub fn sort_rows(index: &Index, rows: &mut [usize], sort: Sort, now_ms: i64) {
    let key_created = |i: &usize| std::cmp::Reverse(index.rows[*i].created_ms);
    match sort {
        Sort::Priority => rows.sort_by_key(|i| (index.rows[*i].priority, key_created(i))),
        Sort::Created => rows.sort_by_key(key_created),
        Sort::Updated => rows.sort_by_key(|i| std::cmp::Reverse(index.rows[*i].updated_ms)),
        Sort::Oldest => rows.sort_by_key(|i| index.rows[*i].created_ms),
        Sort::Hybrid => {
            let cutoff = now_ms - 48 * 3600 * 1000;
            rows.sort_by_key(|i| {
                let row = &index.rows[*i];
                if row.created_ms >= cutoff {
                    (0, row.priority as i64, -row.created_ms)
                } else {
                    (1, row.created_ms, 0)
                }
            })
        }
        Sort::Id => rows.sort_by(|a, b| index.id(&index.rows[*a]).cmp(index.id(&index.rows[*b]))),
        Sort::Title => rows.sort_by(|a, b| {
            index
                .title(&index.rows[*a])
                .cmp(index.title(&index.rows[*b]))
        }),
        Sort::Status => rows.sort_by(|a, b| {
            index
                .status(&index.rows[*a])
                .cmp(index.status(&index.rows[*b]))
        }),
    }
}

/// Sort the matches and cut them to `max` (0 = all): (page, how many matched).
fn page(
    index: &Index,
    mut rows: Vec<usize>,
    sort: Sort,
    reverse: bool,
    max: usize,
    now_ms: i64,
) -> (Vec<usize>, usize) {
    let total = rows.len();
    sort_rows(index, &mut rows, sort, now_ms);
    if reverse {
        rows.reverse();
    }
    if max > 0 && rows.len() > max {
        rows.truncate(max);
    }
    (rows, total)
}

/// `list`: (matching rows after the limit, how many matched in all).
pub fn list(
    snap: &Snapshot<'_>,
    index: &Index,
    filter: &Filter,
    sort: Sort,
    reverse: bool,
    max: usize,
    now_ms: i64,
) -> Result<(Vec<usize>, usize)> {
    let rows = select(snap, index, filter, |row| {
        filter.matches_row(index, row, &DEFAULT_LIST_STATUSES)
    })?;
    Ok(page(index, rows, sort, reverse, max, now_ms))
}

/// `ready`: open beads nothing holds up, as bd computes them.
pub fn ready(
    snap: &Snapshot<'_>,
    index: &Index,
    filter: &Filter,
    sort: Sort,
    max: usize,
    now_ms: i64,
) -> Result<(Vec<usize>, usize)> {
    let all_statuses = Filter {
        all: true,
        statuses: Vec::new(),
        ..filter.clone()
    };
    let rows = select(snap, index, filter, |row| {
        all_statuses.matches_row(index, row, &[]) && graph::is_ready(index, row, now_ms)
    })?;
    Ok(page(index, rows, sort, false, max, now_ms))
}

/// `blocked`: beads not closed whose computed state is blocked.
pub fn blocked(
    snap: &Snapshot<'_>,
    index: &Index,
    filter: &Filter,
    sort: Sort,
    max: usize,
    now_ms: i64,
) -> Result<(Vec<usize>, usize)> {
    let any_status = Filter {
        all: true,
        ..filter.clone()
    };
    let rows = select(snap, index, filter, |row| {
        index.is_blocked(row)
            && index.status(row) != "closed"
            && any_status.matches_row(index, row, &[])
    })?;
    Ok(page(index, rows, sort, false, max, now_ms))
}

/// `ready --explain`: every open bead with its verdict.
pub fn explain(index: &Index, now_ms: i64) -> Value {
    let mut ready = Vec::new();
    let mut not_ready = Vec::new();
    for row in &index.rows {
        if index.status(row) != "open" {
            continue;
        }
        match graph::not_ready_reason(index, row, now_ms) {
            None => ready.push(
                json!({"id": index.id(row), "title": index.title(row), "priority": row.priority}),
            ),
            Some(reason) => not_ready.push(json!({
                "id": index.id(row),
                "title": index.title(row),
                "reason": reason,
                "blocked_by": graph::blocked_by(index, row),
            })),
        }
    }
    let cycles = graph::cycles(index);
    json!({
        "summary": {"open": ready.len() + not_ready.len(), "ready": ready.len(), "not_ready": not_ready.len(), "cycles": cycles.len()},
        "ready": ready,
        "blocked": not_ready,
        "cycles": cycles,
    })
}

/// Counts by status, type and priority, plus ready and blocked totals.
/// Counts over every bead. Fields in alphabetical order, as the JSON output has them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub blocked: usize,
    pub by_priority: BTreeMap<String, usize>,
    pub by_status: BTreeMap<String, usize>,
    pub by_type: BTreeMap<String, usize>,
    pub closed: usize,
    pub in_progress: usize,
    pub open: usize,
    pub ready: usize,
    pub total: usize,
}

pub fn stats(index: &Index, now_ms: i64) -> Stats {
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_type: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_priority: BTreeMap<String, usize> = BTreeMap::new();
    let (mut ready, mut blocked) = (0, 0);
    for row in &index.rows {
        *by_status.entry(index.status(row).to_string()).or_default() += 1;
        *by_type
            .entry(index.issue_type(row).to_string())
            .or_default() += 1;
        *by_priority.entry(format!("P{}", row.priority)).or_default() += 1;
        if graph::is_ready(index, row, now_ms) {
            ready += 1;
        }
        if index.is_blocked(row) && index.status(row) != "closed" {
            blocked += 1;
        }
    }
    let count = |status: &str| by_status.get(status).copied().unwrap_or(0);
    Stats {
        blocked,
        closed: count("closed"),
        in_progress: count("in_progress"),
        open: count("open"),
        ready,
        total: index.len(),
        by_priority,
        by_status,
        by_type,
    }
}

/// The dependency tree below `id` (what it depends on), or above it (`up`: what depends on
/// it), to `max_depth` levels. Beads seen earlier on the path are marked, not re-expanded.
pub fn dep_tree(index: &Index, id: &str, up: bool, max_depth: usize) -> Value {
    let mut reverse: BTreeMap<&str, Vec<(usize, &str)>> = BTreeMap::new();
    if up {
        for (i, row) in index.rows.iter().enumerate() {
            for (target, kind, _) in index.deps(row) {
                reverse.entry(target).or_default().push((i, kind));
            }
        }
    }
    let mut path = HashSet::new();
    tree_node(index, id, None, up, &reverse, &mut path, 0, max_depth)
}

#[allow(clippy::too_many_arguments)]
fn tree_node<'a>(
    index: &'a Index,
    id: &'a str,
    kind: Option<&str>,
    up: bool,
    reverse: &BTreeMap<&str, Vec<(usize, &'a str)>>,
    path: &mut HashSet<&'a str>,
    depth: usize,
    max_depth: usize,
) -> Value {
    let row = index.get(id);
    let mut node = json!({
        "id": id,
        "title": row.map(|r| index.title(r)).unwrap_or(""),
        "status": row.map(|r| index.status(r)).unwrap_or("missing"),
    });
    if let Some(kind) = kind {
        node["dep_type"] = json!(kind);
    }
    if !path.insert(id) {
        node["cycle"] = json!(true);
        return node;
    }
    if depth < max_depth {
        let edges: Vec<(&str, &str)> = if up {
            reverse
                .get(id)
                .map(|v| {
                    v.iter()
                        .map(|(i, k)| (index.id(&index.rows[*i]), *k))
                        .collect()
                })
                .unwrap_or_default()
        } else {
            row.map(|r| index.deps(r).map(|(t, k, _)| (t, k)).collect())
                .unwrap_or_default()
        };
        let children: Vec<Value> = edges
            .into_iter()
            .map(|(child, k)| {
                tree_node(
                    index,
                    child,
                    Some(k),
                    up,
                    reverse,
                    path,
                    depth + 1,
                    max_depth,
                )
            })
            .collect();
        if !children.is_empty() {
            node["children"] = Value::Array(children);
        }
    }
    path.remove(id);
    node
}

/// The commits of the bead history that changed `id`'s record, newest first.
/// One commit that changed a bead. Fields in alphabetical order, as the JSON output has them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogEntry {
    pub author: String,
    pub commit: String,
    /// RFC 3339, UTC.
    pub date: String,
    pub email: String,
    pub message: String,
}

pub fn log(snap: &Snapshot<'_>, id: &str, max: usize) -> Result<Vec<LogEntry>> {
    let Some(tip) = snap.tip else {
        return Ok(Vec::new());
    };
    let repo = snap.repo();
    let path = record_path(id);
    let shard = path
        .rsplit_once('/')
        .map(|(dir, _)| dir.to_string())
        .unwrap_or_default();
    let entry_at = |tree: gix::ObjectId, p: &str| -> Result<Option<gix::ObjectId>> {
        let view = crate::store::Store::tree_view(repo, tree);
        Ok(view.resolve(p)?.map(|e| e.oid))
    };
    let mut out = Vec::new();
    let walk = repo
        .rev_walk([tip])
        .all()
        .map_err(|e| Error::Git(e.to_string()))?;
    for info in walk {
        let info = info.map_err(|e| Error::Git(e.to_string()))?;
        let commit = repo.find_commit(info.id)?;
        let tree = commit.tree_id()?.detach();
        let parent_tree = match commit.parent_ids().next() {
            Some(p) => Some(repo.find_commit(p.detach())?.tree_id()?.detach()),
            None => None,
        };
        let changed = match parent_tree {
            None => entry_at(tree, &path)?.is_some(),
            Some(pt) => {
                entry_at(tree, &shard)? != entry_at(pt, &shard)?
                    && entry_at(tree, &path)? != entry_at(pt, &path)?
            }
        };
        if changed {
            let decoded = commit.decode()?;
            let author = decoded.author().map_err(|e| Error::Git(e.to_string()))?;
            let seconds = author.time().map(|t| t.seconds).unwrap_or(0);
            out.push(LogEntry {
                author: author.name.to_string(),
                commit: info.id.to_string(),
                date: chrono::DateTime::from_timestamp(seconds, 0)
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default(),
                email: author.email.to_string(),
                message: crate::store::without_trailers(&decoded.message.to_string()).to_string(),
            });
            if max > 0 && out.len() >= max {
                break;
            }
        }
    }
    Ok(out)
}
