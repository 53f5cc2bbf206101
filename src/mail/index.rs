//! The mail index: one row per message with what `inbox`, `check`, id lookups and threads
//! need (id, sender, recipients, subject, type, priority, time, thread, claimant and every
//! per-recipient state), so those commands never read 10,000 blobs. Keying by the mail tip
//! and the `messages/` subtree, refresh by tree diff, mapping, checksum and atomic
//! replacement are the generic derived-cache machinery (`store::cache`); this file is the
//! payload format.
//!
//! Payload (little-endian): row count, then rows sorted by id, strings inline; loading is
//! one linear scan recording spans into the mapped buffer.

use std::collections::BTreeMap;

use gix::ObjectId;

use crate::bead::record::Record;
use crate::bead::schema::time_ms;
use crate::error::Result;
use crate::store::cache::{
    put_str, put_u32, Buffer, Cached, Changes, DerivedCache, Reader, Span, HEADER_LEN,
};
use crate::store::{Snapshot, Store};

/// Names the payload format (bump when it changes: an old file is then rebuilt).
const MAGIC: &[u8; 8] = b"GTMAIL1\n";
const DIR: &str = "messages";

/// A message as the index holds it, owned (while building).
#[derive(Debug, Clone)]
pub struct RowData {
    pub id: String,
    pub from: String,
    pub subject: String,
    pub kind: String,
    pub thread: String,
    pub reply_to: String,
    pub claimed_by: String,
    pub priority: u8,
    pub created_ms: i64,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// Per-recipient states that are on, as `state:address` (`read:web/witness`).
    pub states: Vec<String>,
    pub blob: ObjectId,
}

impl RowData {
    pub fn from_record(record: &Record, blob: ObjectId) -> RowData {
        let text = |k: &str| record.str(k).unwrap_or("").to_string();
        let list = |k: &str| -> Vec<String> {
            record
                .get(k)
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        RowData {
            id: record.id.clone(),
            from: text("from"),
            subject: text("subject"),
            kind: text("type"),
            thread: text("thread"),
            reply_to: text("reply_to"),
            claimed_by: text("claimed_by"),
            priority: super::priority_rank(record.str("priority").unwrap_or("normal")),
            created_ms: record.str("created_at").and_then(time_ms).unwrap_or(0),
            to: list("to"),
            cc: list("cc"),
            states: record.label_names().map(str::to_string).collect(),
            blob,
        }
    }
}

/// A row of the loaded index.
#[derive(Debug, Clone)]
pub struct Row {
    strings: [Span; 7],
    pub priority: u8,
    pub created_ms: i64,
    to: (u32, u32),
    cc: (u32, u32),
    states: (u32, u32),
    pub blob: ObjectId,
    /// The row's encoded bytes in the buffer: a refresh copies unchanged rows as they are.
    bytes: (u32, u32),
}

const ID: usize = 0;
const FROM: usize = 1;
const SUBJECT: usize = 2;
const KIND: usize = 3;
const THREAD: usize = 4;
const REPLY_TO: usize = 5;
const CLAIMED_BY: usize = 6;

/// The loaded index: rows sorted by id.
pub struct MailIndex {
    buf: Buffer,
    pub rows: Vec<Row>,
    pool: Vec<Span>,
}

impl MailIndex {
    /// The index for `snap` (cached, refreshed by diff, or built).
    pub fn for_snapshot(store: &Store, snap: &Snapshot<'_>) -> Result<MailIndex> {
        DerivedCache::new(store, "mail", MAGIC, DIR).get(
            snap,
            MailIndex::parse,
            |previous, changes| {
                let changed = read_changes(snap, changes)?;
                Ok(match previous {
                    Some(index) => index.splice(changed),
                    None => encode(changed.into_values().flatten()),
                })
            },
        )
    }

    fn text(&self, span: Span) -> &str {
        std::str::from_utf8(&self.buf[span.0 as usize..(span.0 + span.1) as usize]).unwrap_or("")
    }

    fn list(&self, (start, len): (u32, u32)) -> impl Iterator<Item = &str> + '_ {
        self.pool[start as usize..(start + len) as usize]
            .iter()
            .map(|s| self.text(*s))
    }

    pub fn id(&self, row: &Row) -> &str {
        self.text(row.strings[ID])
    }
    pub fn from(&self, row: &Row) -> &str {
        self.text(row.strings[FROM])
    }
    pub fn subject(&self, row: &Row) -> &str {
        self.text(row.strings[SUBJECT])
    }
    pub fn kind(&self, row: &Row) -> &str {
        self.text(row.strings[KIND])
    }
    pub fn thread(&self, row: &Row) -> &str {
        self.text(row.strings[THREAD])
    }
    pub fn reply_to(&self, row: &Row) -> &str {
        self.text(row.strings[REPLY_TO])
    }
    pub fn claimed_by(&self, row: &Row) -> &str {
        self.text(row.strings[CLAIMED_BY])
    }
    pub fn to<'a>(&'a self, row: &Row) -> impl Iterator<Item = &'a str> + 'a {
        self.list(row.to)
    }
    pub fn cc<'a>(&'a self, row: &Row) -> impl Iterator<Item = &'a str> + 'a {
        self.list(row.cc)
    }
    pub fn states<'a>(&'a self, row: &Row) -> impl Iterator<Item = &'a str> + 'a {
        self.list(row.states)
    }

    /// Whether `state` (read, acked, archived, delivered) is on for `who`.
    pub fn has_state(&self, row: &Row, state: &str, who: &str) -> bool {
        self.states(row).any(|s| {
            s.split_once(':')
                .is_some_and(|(st, addr)| st == state && addr == who)
        })
    }

    /// Whether `who` is among the message's direct recipients (to or cc).
    pub fn is_addressed_to(&self, row: &Row, who: &str) -> bool {
        self.to(row).chain(self.cc(row)).any(|a| a == who)
    }

    /// The row of the message `id`, exactly.
    pub fn get(&self, id: &str) -> Option<&Row> {
        self.rows
            .binary_search_by(|r| self.id(r).cmp(id))
            .ok()
            .map(|i| &self.rows[i])
    }

    /// Ids that start with `prefix`, in order.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let start = self.rows.partition_point(|r| self.id(r) < prefix);
        self.rows[start..]
            .iter()
            .map(|r| self.id(r))
            .take_while(move |id| id.starts_with(prefix))
    }

    /// The payload with `changed` applied: unchanged rows are copied byte for byte (no
    /// per-row allocation), changed ones encoded afresh, removed ones left out; id order kept.
    fn splice(&self, changed: BTreeMap<String, Option<RowData>>) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.buf.len() - HEADER_LEN + changed.len() * 256);
        put_u32(&mut out, 0);
        let mut count = 0u32;
        let mut changes = changed.into_iter().peekable();
        for row in &self.rows {
            let id = self.id(row);
            while changes.peek().is_some_and(|(next, _)| next.as_str() < id) {
                if let Some((_, Some(new))) = changes.next() {
                    encode_row(&mut out, &new);
                    count += 1;
                }
            }
            if changes.peek().is_some_and(|(next, _)| next == id) {
                if let Some((_, Some(new))) = changes.next() {
                    encode_row(&mut out, &new);
                    count += 1;
                }
                continue;
            }
            out.extend_from_slice(&self.buf[row.bytes.0 as usize..row.bytes.1 as usize]);
            count += 1;
        }
        for (_, new) in changes {
            if let Some(new) = new {
                encode_row(&mut out, &new);
                count += 1;
            }
        }
        out[..4].copy_from_slice(&count.to_le_bytes());
        out
    }

    fn parse(cached: Cached) -> Result<MailIndex> {
        let buf = cached.buf;
        let mut r = Reader::new(&buf, "mail index");
        let count = r.u32()? as usize;
        let mut rows = Vec::with_capacity(count);
        let mut pool = Vec::with_capacity(count * 3);
        for _ in 0..count {
            let row_start = r.pos as u32;
            let mut strings = [Span(0, 0); 7];
            for s in strings.iter_mut() {
                *s = r.span()?;
            }
            let priority = r.u8()?;
            let created_ms = r.i64()?;
            let mut lists = [(0u32, 0u32); 3];
            for list in lists.iter_mut() {
                let n = r.u32()?;
                *list = (pool.len() as u32, n);
                for _ in 0..n {
                    pool.push(r.span()?);
                }
            }
            let blob = r.oid()?;
            rows.push(Row {
                strings,
                priority,
                created_ms,
                to: lists[0],
                cc: lists[1],
                states: lists[2],
                blob,
                bytes: (row_start, r.pos as u32),
            });
        }
        if r.pos != buf.len() {
            return Err(r.corrupt());
        }
        Ok(MailIndex { buf, rows, pool })
    }
}

/// The message files that changed, read: id → its row, or `None` when it is gone (or
/// tombstoned: pruned from a channel). In id order.
fn read_changes(
    snap: &Snapshot<'_>,
    changes: Changes,
) -> Result<BTreeMap<String, Option<RowData>>> {
    let mut changed = BTreeMap::new();
    for (path, blob) in changes {
        let Some(id) = path
            .rsplit('/')
            .next()
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        let row = match blob {
            Some(blob) => {
                let record = Record::parse(&snap.read_blob(blob)?)?;
                (!record.is_deleted()).then(|| RowData::from_record(&record, blob))
            }
            None => None,
        };
        changed.insert(id.to_string(), row);
    }
    Ok(changed)
}

/// A whole payload from rows in id order.
fn encode(rows: impl Iterator<Item = RowData>) -> Vec<u8> {
    let mut out = Vec::new();
    put_u32(&mut out, 0);
    let mut count = 0u32;
    for row in rows {
        encode_row(&mut out, &row);
        count += 1;
    }
    out[..4].copy_from_slice(&count.to_le_bytes());
    out
}

fn encode_row(out: &mut Vec<u8>, row: &RowData) {
    for s in [
        &row.id,
        &row.from,
        &row.subject,
        &row.kind,
        &row.thread,
        &row.reply_to,
        &row.claimed_by,
    ] {
        put_str(out, s);
    }
    out.push(row.priority);
    out.extend_from_slice(&row.created_ms.to_le_bytes());
    for list in [&row.to, &row.cc, &row.states] {
        put_u32(out, list.len() as u32);
        for s in list {
            put_str(out, s);
        }
    }
    out.extend_from_slice(row.blob.as_bytes());
}
