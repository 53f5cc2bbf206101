//! The derived index: one compact file per clone holding what `list`, `ready`, `blocked`
//! and id lookups need for every bead, plus the computed blocked state. Keying, refresh by
//! diff of the `beads/` subtree only, mapping, checksum and atomic replacement are the
//! generic derived-cache machinery (`store::cache`); this file is the payload format.
//!
//! Payload (little-endian): row count, then rows sorted by id, each with its strings
//! inline. Loading is a linear scan that records spans into the mapped buffer; no
//! per-string allocation.

use std::collections::BTreeMap;
use std::path::PathBuf;

use gix::ObjectId;

use super::graph;
use super::id::id_from_path;
use super::record::Record;
use super::schema::time_ms;
use crate::error::Result;
use crate::store::cache::{put_str, put_u32, Buffer, Cached, Changes, DerivedCache, Reader, Span};
use crate::store::{Snapshot, Store};

/// Names the payload format (bump when it changes: an old file is then rebuilt).
const MAGIC: &[u8; 8] = b"GTIDX03\n";
/// The directory of the work collection the index derives from.
const DIR: &str = "beads";
pub const NONE: u32 = u32::MAX;
pub const NO_TIME: i64 = i64::MIN;

pub const FLAG_EPHEMERAL: u8 = 1;
pub const FLAG_BLOCKED: u8 = 2;

/// The owned form of a row, used while building.
#[derive(Debug, Clone)]
pub struct RowData {
    pub id: String,
    pub title: String,
    pub status: String,
    pub issue_type: String,
    pub assignee: String,
    pub priority: u8,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub defer_ms: i64,
    pub ephemeral: bool,
    pub labels: Vec<String>,
    /// (depends_on_id, type, gate) for every live dependency.
    pub deps: Vec<(String, String, String)>,
    pub blob: ObjectId,
}

impl RowData {
    pub fn from_record(record: &Record, blob: ObjectId) -> RowData {
        let time = |key: &str| record.str(key).and_then(time_ms).unwrap_or(NO_TIME);
        RowData {
            id: record.id.clone(),
            title: record.title().to_string(),
            status: record.status().to_string(),
            issue_type: record.issue_type().to_string(),
            assignee: record.assignee().unwrap_or("").to_string(),
            priority: record.priority().clamp(0, 255) as u8,
            created_ms: time("created_at"),
            updated_ms: time("updated_at"),
            defer_ms: time("defer_until"),
            ephemeral: record
                .get("ephemeral")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
            labels: record.label_names().map(str::to_string).collect(),
            deps: record
                .live_deps()
                .map(|(target, kind, member)| {
                    let gate = member
                        .data
                        .get("metadata")
                        .and_then(|m| m.get("gate"))
                        .and_then(|g| g.as_str())
                        .unwrap_or("")
                        .to_string();
                    (target.to_string(), kind.to_string(), gate)
                })
                .collect(),
            blob,
        }
    }
}

/// A row of the loaded index: scalars inline, strings as spans.
#[derive(Debug, Clone)]
pub struct Row {
    id: Span,
    title: Span,
    status: Span,
    issue_type: Span,
    assignee: Span,
    pub priority: u8,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub defer_ms: i64,
    pub flags: u8,
    /// Index of the parent row, or `NONE`.
    pub parent: u32,
    labels: (u32, u32),
    deps: (u32, u32),
    blockers: (u32, u32),
    pub blob: ObjectId,
}

/// The loaded index: rows sorted by id.
pub struct Index {
    buf: Buffer,
    /// The tip the cache was built from (for a reused cache, possibly an older tip whose
    /// `beads/` subtree is the same).
    pub tip: ObjectId,
    pub rows: Vec<Row>,
    label_pool: Vec<Span>,
    /// (target span, type span, gate span).
    dep_pool: Vec<(Span, Span, Span)>,
    blocker_pool: Vec<u32>,
}

impl Index {
    /// `<state dir>/cache/<collection>.idx` (`local/wisps` → `local-wisps.idx`).
    pub fn path(store: &Store, collection: &str) -> PathBuf {
        Index::cache(store, collection).path().to_path_buf()
    }

    fn cache(store: &Store, collection: &str) -> DerivedCache {
        DerivedCache::new(store, collection, MAGIC, DIR)
    }

    /// The index for `snap`: from the cache if it matches (same tip, or same `beads/`
    /// subtree), refreshed from an older cache by diffing `beads/`, or rebuilt from scratch.
    pub fn for_snapshot(store: &Store, collection: &str, snap: &Snapshot<'_>) -> Result<Index> {
        Index::cache(store, collection).get(snap, Index::parse, |previous, changes| {
            let rows = match previous {
                Some(index) => {
                    let rows = index.to_row_data();
                    drop(index);
                    refresh(snap, changes, rows)?
                }
                None => refresh(snap, changes, Vec::new())?,
            };
            // The owned rows are dropped inside encode_rows.
            Ok(encode_rows(rows))
        })
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn text(&self, span: Span) -> &str {
        std::str::from_utf8(&self.buf[span.0 as usize..(span.0 + span.1) as usize]).unwrap_or("")
    }

    pub fn id(&self, row: &Row) -> &str {
        self.text(row.id)
    }
    pub fn title(&self, row: &Row) -> &str {
        self.text(row.title)
    }
    pub fn status(&self, row: &Row) -> &str {
        self.text(row.status)
    }
    pub fn issue_type(&self, row: &Row) -> &str {
        self.text(row.issue_type)
    }
    pub fn assignee(&self, row: &Row) -> &str {
        self.text(row.assignee)
    }
    pub fn labels<'a>(&'a self, row: &Row) -> impl Iterator<Item = &'a str> + 'a {
        let (start, len) = row.labels;
        self.label_pool[start as usize..(start + len) as usize]
            .iter()
            .map(|s| self.text(*s))
    }
    /// (depends_on_id, type, gate) of each live dependency.
    pub fn deps<'a>(&'a self, row: &Row) -> impl Iterator<Item = (&'a str, &'a str, &'a str)> + 'a {
        let (start, len) = row.deps;
        self.dep_pool[start as usize..(start + len) as usize]
            .iter()
            .map(|(t, k, g)| (self.text(*t), self.text(*k), self.text(*g)))
    }
    /// Rows that directly hold this one up (open blockers, unfinished spawners).
    pub fn blockers(&self, row: &Row) -> &[u32] {
        let (start, len) = row.blockers;
        &self.blocker_pool[start as usize..(start + len) as usize]
    }
    pub fn is_blocked(&self, row: &Row) -> bool {
        row.flags & FLAG_BLOCKED != 0
    }
    pub fn is_ephemeral(&self, row: &Row) -> bool {
        row.flags & FLAG_EPHEMERAL != 0
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.rows.binary_search_by(|r| self.id(r).cmp(id)).ok()
    }

    pub fn get(&self, id: &str) -> Option<&Row> {
        self.position(id).map(|i| &self.rows[i])
    }

    /// Ids that start with `prefix`, in order.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let start = self.rows.partition_point(|r| self.id(r) < prefix);
        self.rows[start..]
            .iter()
            .map(|r| self.id(r))
            .take_while(move |id| id.starts_with(prefix))
    }

    /// Owned rows, in id order.
    fn to_row_data(&self) -> Vec<RowData> {
        self.rows
            .iter()
            .map(|row| {
                let data = RowData {
                    id: self.id(row).to_string(),
                    title: self.title(row).to_string(),
                    status: self.status(row).to_string(),
                    issue_type: self.issue_type(row).to_string(),
                    assignee: self.assignee(row).to_string(),
                    priority: row.priority,
                    created_ms: row.created_ms,
                    updated_ms: row.updated_ms,
                    defer_ms: row.defer_ms,
                    ephemeral: self.is_ephemeral(row),
                    labels: self.labels(row).map(str::to_string).collect(),
                    deps: self
                        .deps(row)
                        .map(|(t, k, g)| (t.to_string(), k.to_string(), g.to_string()))
                        .collect(),
                    blob: row.blob,
                };
                data
            })
            .collect()
    }

    fn parse(cached: Cached) -> Result<Index> {
        let Cached { buf, tip, .. } = cached;
        let mut r = Reader::new(&buf, "bead index");
        let count = r.u32()? as usize;
        let mut rows = Vec::with_capacity(count);
        let mut label_pool = Vec::new();
        let mut dep_pool = Vec::new();
        let mut blocker_pool = Vec::new();
        for _ in 0..count {
            let id = r.span()?;
            let title = r.span()?;
            let status = r.span()?;
            let issue_type = r.span()?;
            let assignee = r.span()?;
            let priority = r.u8()?;
            let created_ms = r.i64()?;
            let updated_ms = r.i64()?;
            let defer_ms = r.i64()?;
            let flags = r.u8()?;
            let parent = r.u32()?;
            let n = r.u32()?;
            let labels = (label_pool.len() as u32, n);
            for _ in 0..n {
                label_pool.push(r.span()?);
            }
            let n = r.u32()?;
            let deps = (dep_pool.len() as u32, n);
            for _ in 0..n {
                dep_pool.push((r.span()?, r.span()?, r.span()?));
            }
            let n = r.u32()?;
            let blockers = (blocker_pool.len() as u32, n);
            for _ in 0..n {
                blocker_pool.push(r.u32()?);
            }
            let blob = r.oid()?;
            rows.push(Row {
                id,
                title,
                status,
                issue_type,
                assignee,
                priority,
                created_ms,
                updated_ms,
                defer_ms,
                flags,
                parent,
                labels,
                deps,
                blockers,
                blob,
            });
        }
        if r.pos != buf.len() {
            return Err(r.corrupt());
        }
        Ok(Index {
            buf,
            tip,
            rows,
            label_pool,
            dep_pool,
            blocker_pool,
        })
    }
}

/// Update `rows` (sorted by id) by the record files that `changed`, re-reading only
/// those. With no rows, `changed` lists every record (a full build).
fn refresh(snap: &Snapshot<'_>, changed: Changes, rows: Vec<RowData>) -> Result<Vec<RowData>> {
    if rows.is_empty() {
        // A full build: collect and sort once (a map per row would double the memory).
        let mut out = Vec::with_capacity(changed.len());
        for (_, blob) in changed {
            let Some(blob) = blob else { continue };
            let record = Record::parse(&snap.read_blob(blob)?)?;
            if !record.is_deleted() {
                out.push(RowData::from_record(&record, blob));
            }
        }
        out.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        return Ok(out);
    }
    let mut changes: BTreeMap<String, Option<RowData>> = BTreeMap::new();
    for (path, blob) in changed {
        let Some(id) = id_from_path(&path) else {
            continue;
        };
        let row = match blob {
            Some(blob) => {
                let record = Record::parse(&snap.read_blob(blob)?)?;
                (!record.is_deleted()).then(|| RowData::from_record(&record, blob))
            }
            None => None,
        };
        changes.insert(id.to_string(), row);
    }
    if changes.is_empty() {
        return Ok(rows);
    }
    // Merge two id-ordered sequences: unchanged old rows, and the changes.
    let mut out = Vec::with_capacity(rows.len() + changes.len());
    let mut changes = changes.into_iter().peekable();
    for row in rows {
        while let Some((id, _)) = changes.peek() {
            if id.as_str() >= row.id.as_str() {
                break;
            }
            out.extend(changes.next().and_then(|(_, r)| r));
        }
        if changes.peek().is_some_and(|(id, _)| *id == row.id) {
            out.extend(changes.next().and_then(|(_, r)| r));
        } else {
            out.push(row);
        }
    }
    out.extend(changes.filter_map(|(_, r)| r));
    Ok(out)
}

/// Encode id-ordered rows with their computed graph state, consuming (and freeing) them.
fn encode_rows(rows: Vec<RowData>) -> Vec<u8> {
    debug_assert!(rows.windows(2).all(|w| w[0].id < w[1].id));
    let computed = graph::compute(&rows);
    encode(&rows, &computed)
}

fn encode(rows: &[RowData], computed: &graph::Computed) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + rows.len() * 160);
    put_u32(&mut out, rows.len() as u32);
    for (i, row) in rows.iter().enumerate() {
        for s in [
            &row.id,
            &row.title,
            &row.status,
            &row.issue_type,
            &row.assignee,
        ] {
            put_str(&mut out, s);
        }
        out.push(row.priority);
        out.extend_from_slice(&row.created_ms.to_le_bytes());
        out.extend_from_slice(&row.updated_ms.to_le_bytes());
        out.extend_from_slice(&row.defer_ms.to_le_bytes());
        let mut flags = 0;
        if row.ephemeral {
            flags |= FLAG_EPHEMERAL;
        }
        if computed.blocked[i] {
            flags |= FLAG_BLOCKED;
        }
        out.push(flags);
        put_u32(&mut out, computed.parent[i]);
        put_u32(&mut out, row.labels.len() as u32);
        for label in &row.labels {
            put_str(&mut out, label);
        }
        put_u32(&mut out, row.deps.len() as u32);
        for (target, kind, gate) in &row.deps {
            put_str(&mut out, target);
            put_str(&mut out, kind);
            put_str(&mut out, gate);
        }
        put_u32(&mut out, computed.blockers[i].len() as u32);
        for b in &computed.blockers[i] {
            put_u32(&mut out, *b);
        }
        out.extend_from_slice(row.blob.as_bytes());
    }
    out
}
