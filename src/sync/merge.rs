//! The merge of two states of one collection: a pure function of the two trees (plus the
//! clock of their common ancestor, used only to report conflicts). Files are CRDT states,
//! so no merge base is needed: for every path that differs, the two versions are joined.
//! Stores never remove files (deletions are tombstones), so a path present on one side
//! only is taken as is. The result depends only on the two states, never on which side is
//! "ours": every clone converges to byte-identical trees whatever the order of syncs.

use std::collections::BTreeMap;

use gix::ObjectId;
use serde::Serialize;

use crate::bead::record::{Member, Origin, Record, Register, Stamp};
use crate::error::Result;
use crate::store::{Snapshot, Store};

/// How the files of a collection join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The bead store: records joined field by field, id collisions renamed.
    Beads,
    /// Any other collection: files that are CRDT records or register maps join; other
    /// files keep the larger content (deterministic, but one side's edit is dropped).
    Generic,
}

/// The merge rules a collection uses. Collections added later register theirs here.
pub fn kind_for(collection: &str) -> Kind {
    match collection {
        crate::bead::COLLECTION => Kind::Beads,
        _ => Kind::Generic,
    }
}

/// A record moved to a new id because another clone created a different record with the
/// same id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rename {
    pub from: String,
    pub to: String,
    pub title: String,
}

/// What a merge changed, relative to "our" side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MergeReport {
    /// Records (files) that appear.
    pub added: usize,
    /// Records that exist on our side and change.
    pub changed: usize,
    /// Records that become deleted (tombstoned).
    pub deleted: usize,
    /// Fields, labels or dependencies both sides wrote since their common state, settled
    /// by the later (clock, actor) stamp.
    pub conflicts: usize,
    pub renamed: Vec<Rename>,
}

impl MergeReport {
    pub fn absorb(&mut self, other: &MergeReport) {
        self.added += other.added;
        self.changed += other.changed;
        self.deleted += other.deleted;
        self.conflicts += other.conflicts;
        self.renamed.extend(other.renamed.iter().cloned());
    }

    pub fn is_empty(&self) -> bool {
        *self == MergeReport::default()
    }
}

/// The outcome of a merge: the tree (written unless this was a dry run), what changed,
/// and extra commit headers the collection keeps (e.g. the bead count).
pub struct Merged {
    pub tree: ObjectId,
    pub report: MergeReport,
    pub headers: Vec<(String, String)>,
}

/// A file that differs between the two trees: (path, our blob, their blob).
pub type Diff = (String, Option<ObjectId>, Option<ObjectId>);

/// Files that differ between two trees, skipping identical subtrees by id.
pub fn diff_trees(repo: &gix::Repository, ours: ObjectId, theirs: ObjectId) -> Result<Vec<Diff>> {
    let view = Store::tree_view(repo, ours);
    let mut out = Vec::new();
    diff_rec(&view, Some(ours), Some(theirs), "", &mut out)?;
    Ok(out)
}

fn diff_rec(
    view: &Snapshot<'_>,
    a: Option<ObjectId>,
    b: Option<ObjectId>,
    prefix: &str,
    out: &mut Vec<Diff>,
) -> Result<()> {
    if a == b {
        return Ok(());
    }
    let mut names: BTreeMap<String, [Option<(ObjectId, bool)>; 2]> = BTreeMap::new();
    for (slot, tree) in [a, b].into_iter().enumerate() {
        if let Some(tree) = tree {
            for entry in view.entries_of(tree)? {
                names.entry(entry.name).or_default()[slot] = Some((entry.oid, entry.is_tree));
            }
        }
    }
    for (name, [x, y]) in names {
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if x == y {
            continue;
        }
        let file = |e: Option<(ObjectId, bool)>| e.filter(|(_, t)| !t).map(|(o, _)| o);
        let tree = |e: Option<(ObjectId, bool)>| e.filter(|(_, t)| *t).map(|(o, _)| o);
        if file(x).is_some() || file(y).is_some() {
            out.push((path.clone(), file(x), file(y)));
        }
        if tree(x).is_some() || tree(y).is_some() {
            diff_rec(view, tree(x), tree(y), &path, out)?;
        }
    }
    Ok(())
}

/// Merge `theirs` into `ours`. With `write` false nothing is written and `tree` is ours
/// (used to describe a fast-forward). `base_clock` is the Lamport clock of the newest
/// common ancestor: writes stamped after it on both sides count as conflicts.
pub fn merge(
    store: &Store,
    kind: Kind,
    ours: &Snapshot<'_>,
    theirs: &Snapshot<'_>,
    base_clock: u64,
    write: bool,
) -> Result<Merged> {
    let repo = store.repo();
    let diffs = diff_trees(repo, ours.tree, theirs.tree)?;
    let mut out = Output {
        repo,
        write,
        upserts: Vec::new(),
        report: MergeReport::default(),
    };
    let mut bead_diffs = Vec::new();
    for (path, a, b) in diffs {
        if kind == Kind::Beads && super::beads::is_record_path(&path) {
            bead_diffs.push((path, a, b));
            continue;
        }
        let joined = match (a, b) {
            (Some(a), Some(b)) => {
                let (x, y) = (read(repo, a)?, read(repo, b)?);
                let (bytes, conflicts) = join_files(&x, &y, base_clock);
                out.report.conflicts += conflicts;
                bytes
            }
            (None, Some(b)) => read(repo, b)?,
            _ => continue,
        };
        // In the bead store only records count as added or changed, not its settings.
        if out.put(&path, a, &joined)? && kind == Kind::Generic {
            if a.is_none() {
                out.report.added += 1;
            } else {
                out.report.changed += 1;
            }
        }
    }
    let mut headers = Vec::new();
    if kind == Kind::Beads {
        let new_records =
            super::beads::merge_records(&mut out, ours, theirs, bead_diffs, base_clock)?;
        let count: usize = ours
            .header(crate::bead::ops::COUNT_HEADER)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        headers.push((
            crate::bead::ops::COUNT_HEADER.to_string(),
            (count + new_records).to_string(),
        ));
    }
    let tree = if write && !out.upserts.is_empty() {
        store.write_tree_entries(ours.tree, &out.upserts)?
    } else {
        ours.tree
    };
    Ok(Merged {
        tree,
        report: out.report,
        headers,
    })
}

/// Accumulates the files a merge changes.
pub(super) struct Output<'r> {
    pub repo: &'r gix::Repository,
    pub write: bool,
    pub upserts: Vec<(String, ObjectId)>,
    pub report: MergeReport,
}

impl Output<'_> {
    /// Record `bytes` as the merged content of `path` unless it equals ours (`current`).
    /// Returns whether it changes our side.
    pub fn put(&mut self, path: &str, current: Option<ObjectId>, bytes: &[u8]) -> Result<bool> {
        let oid = if self.write {
            self.repo.write_blob(bytes)?.detach()
        } else {
            gix::objs::compute_hash(self.repo.object_hash(), gix::object::Kind::Blob, bytes)
                .map_err(|e| crate::Error::Git(e.to_string()))?
        };
        if current == Some(oid) {
            return Ok(false);
        }
        self.upserts.push((path.to_string(), oid));
        Ok(true)
    }
}

pub(super) fn read(repo: &gix::Repository, oid: ObjectId) -> Result<Vec<u8>> {
    Ok(repo.find_blob(oid)?.take_data())
}

/// Join two versions of a file that is not a bead record: CRDT records and register maps
/// join; anything else keeps the larger bytes (commutative, associative, idempotent).
/// Returns the bytes and the number of conflicting writes.
pub fn join_files(a: &[u8], b: &[u8], base_clock: u64) -> (Vec<u8>, usize) {
    if let (Ok(x), Ok(y)) = (Record::parse(a), Record::parse(b)) {
        if x.id == y.id && x.origin == y.origin {
            let conflicts = record_conflicts(&x, &y, base_clock);
            let mut joined = x;
            joined.join(&y);
            return (joined.to_bytes(), conflicts);
        }
    }
    type Registers = BTreeMap<String, Register>;
    if let (Ok(x), Ok(y)) = (
        serde_json::from_slice::<Registers>(a),
        serde_json::from_slice::<Registers>(b),
    ) {
        let conflicts = register_conflicts(&x, &y, base_clock);
        let joined = join_registers(&x, &y);
        let mut bytes = serde_json::to_vec(&joined).unwrap_or_default();
        bytes.push(b'\n');
        return (bytes, conflicts);
    }
    (a.max(b).to_vec(), usize::from(a != b))
}

fn scratch(fields: BTreeMap<String, Register>, deps: BTreeMap<String, Member>) -> Record {
    let mut record = Record::new(
        String::new(),
        Origin {
            at: Stamp(0, String::new()),
            nonce: String::new(),
        },
    );
    record.fields = fields;
    record.deps = deps;
    record
}

/// Join two register maps with exactly the rule records use.
pub fn join_registers(
    a: &BTreeMap<String, Register>,
    b: &BTreeMap<String, Register>,
) -> BTreeMap<String, Register> {
    let mut x = scratch(a.clone(), BTreeMap::new());
    x.join(&scratch(b.clone(), BTreeMap::new()));
    x.fields
}

/// Join two stamped members (of one key) with exactly the rule records use.
pub fn join_member(a: Member, b: Member) -> Member {
    let mut x = scratch(BTreeMap::new(), BTreeMap::from([(String::new(), a)]));
    x.join(&scratch(
        BTreeMap::new(),
        BTreeMap::from([(String::new(), b)]),
    ));
    x.deps.into_values().next().expect("joined member")
}

/// Bookkeeping fields every write touches; both sides writing them is no conflict.
const BOOKKEEPING: [&str; 1] = ["updated_at"];

/// Registers both sides wrote, differently, after the common state.
fn register_conflicts(
    a: &BTreeMap<String, Register>,
    b: &BTreeMap<String, Register>,
    base: u64,
) -> usize {
    a.iter()
        .filter(|(k, _)| !BOOKKEEPING.contains(&k.as_str()))
        .filter(|(k, x)| {
            b.get(*k)
                .is_some_and(|y| y != *x && x.at.0 > base && y.at.0 > base)
        })
        .count()
}

fn member_conflicts(
    a: &BTreeMap<String, Member>,
    b: &BTreeMap<String, Member>,
    base: u64,
) -> usize {
    a.iter()
        .filter(|(k, x)| {
            b.get(*k)
                .is_some_and(|y| y != *x && x.at.0 > base && y.at.0 > base)
        })
        .count()
}

/// Fields, labels and dependencies of one record both sides wrote since the common state.
pub fn record_conflicts(a: &Record, b: &Record, base: u64) -> usize {
    register_conflicts(&a.fields, &b.fields, base)
        + member_conflicts(&a.labels, &b.labels, base)
        + member_conflicts(&a.deps, &b.deps, base)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reg(v: serde_json::Value, clock: u64, actor: &str) -> Register {
        Register {
            v,
            at: Stamp(clock, actor.into()),
        }
    }

    #[test]
    fn register_maps_join_by_stamp_and_count_conflicts() {
        let a = BTreeMap::from([("prefix".to_string(), reg(json!("aa"), 5, "x"))]);
        let b = BTreeMap::from([
            ("prefix".to_string(), reg(json!("bb"), 6, "y")),
            ("types".to_string(), reg(json!("t"), 2, "y")),
        ]);
        let ab = join_registers(&a, &b);
        assert_eq!(ab, join_registers(&b, &a));
        assert_eq!(ab["prefix"].v, json!("bb"));
        assert_eq!(ab.len(), 2);
        assert_eq!(register_conflicts(&a, &b, 4), 1);
        assert_eq!(register_conflicts(&a, &b, 5), 0);
    }

    #[test]
    fn opaque_files_join_deterministically() {
        let (x, c) = join_files(b"alpha", b"beta", 0);
        assert_eq!(x, b"beta");
        assert_eq!(c, 1);
        assert_eq!(join_files(b"beta", b"alpha", 0).0, b"beta");
        assert_eq!(join_files(b"same", b"same", 0), (b"same".to_vec(), 0));
    }
}
