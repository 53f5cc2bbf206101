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
use crate::error::{Error, Result};
use crate::store::collection::{Join, Layout};
use crate::store::{Snapshot, Store, WriteBatch, MAX_CLOCK};

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

/// The outcome of a merge: what changed, and extra commit headers the collection keeps
/// (e.g. the bead count; already set on the batch when there was one).
pub struct Merged {
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

/// Merge `theirs` into `ours` by the rules `layout` declares for each top-level
/// directory. The merged files go into `batch`; without one nothing is written (used to
/// describe a fast-forward, and to validate what it brings). `base_clock` is the Lamport
/// clock of the newest common ancestor: writes stamped after it on both sides count as
/// conflicts. A path the layout does not declare, or a file that does not parse under its
/// directory's rule, is an error naming it: nothing is merged by guesswork.
pub fn merge(
    store: &Store,
    layout: &Layout,
    collection: &str,
    ours: &Snapshot<'_>,
    theirs: &Snapshot<'_>,
    base_clock: u64,
    batch: Option<&mut WriteBatch>,
) -> Result<Merged> {
    let repo = store.repo();
    let diffs = diff_trees(repo, ours.tree, theirs.tree)?;
    let mut out = Output {
        repo,
        batch,
        report: MergeReport::default(),
    };
    let mut bead_diffs = Vec::new();
    for (path, a, b) in diffs {
        let join = layout.join_for(collection, &path)?;
        if join == Join::Beads {
            if !super::beads::is_record_path(&path) {
                return Err(Error::Corrupt(format!(
                    "'{path}' is not a bead record path (beads/<shard>/<id>.json)"
                )));
            }
            // Records only we have matter too: references to a renamed id follow.
            bead_diffs.push((path, a, b));
            continue;
        }
        let Some(b) = b else {
            // Stores never remove files: a path only we have stays as it is.
            continue;
        };
        match join {
            Join::Beads => {} // joined by merge_records below
            Join::Records => {
                let theirs_rec = parse_record(&path, &read(repo, b)?)?;
                let merged = match a {
                    Some(a) => {
                        let ours_rec = parse_record(&path, &read(repo, a)?)?;
                        out.report.conflicts +=
                            record_conflicts(&ours_rec, &theirs_rec, base_clock);
                        let was_deleted = ours_rec.is_deleted();
                        let merged = join_entities(&path, ours_rec, &theirs_rec)?;
                        if out.put(&path, Some(a), &merged.to_bytes())? {
                            if merged.is_deleted() && !was_deleted {
                                out.report.deleted += 1;
                            } else {
                                out.report.changed += 1;
                            }
                        }
                        continue;
                    }
                    None => theirs_rec,
                };
                out.put_blob(&path, b);
                if !merged.is_deleted() {
                    out.report.added += 1;
                }
            }
            Join::Notes => match a {
                Some(a) => {
                    let joined = crate::store::notes::join(&read(repo, a)?, &read(repo, b)?);
                    if out.put(&path, Some(a), &joined)? {
                        out.report.changed += 1;
                    }
                }
                None => {
                    out.put_blob(&path, b);
                    out.report.added += 1;
                }
            },
            Join::Registers => {
                let theirs_map = parse_registers(&path, &read(repo, b)?)?;
                match a {
                    Some(a) => {
                        let ours_map = parse_registers(&path, &read(repo, a)?)?;
                        out.report.conflicts +=
                            register_conflicts(&ours_map, &theirs_map, base_clock);
                        let mut bytes = serde_json::to_vec(&join_registers(&ours_map, &theirs_map))
                            .map_err(|e| Error::Corrupt(format!("'{path}': {e}")))?;
                        bytes.push(b'\n');
                        out.put(&path, Some(a), &bytes)?;
                    }
                    None => out.put_blob(&path, b),
                }
            }
        }
    }
    let mut headers = Vec::new();
    if layout.has(Join::Beads) {
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
    if let Some(batch) = out.batch {
        for (key, value) in &headers {
            batch.header(key.clone(), value.clone());
        }
    }
    Ok(Merged {
        report: out.report,
        headers,
    })
}

/// A record of a `Records` directory, with its stamps in range.
pub(super) fn parse_record(path: &str, bytes: &[u8]) -> Result<Record> {
    let record = Record::parse(bytes)
        .map_err(|e| Error::Corrupt(format!("'{path}' is not a record: {e}")))?;
    check_stamps(path, record_stamps(&record))?;
    Ok(record)
}

fn parse_registers(path: &str, bytes: &[u8]) -> Result<BTreeMap<String, Register>> {
    let map: BTreeMap<String, Register> = serde_json::from_slice(bytes)
        .map_err(|e| Error::Corrupt(format!("'{path}' is not a register map: {e}")))?;
    check_stamps(path, map.values().map(|r| r.at.0))?;
    Ok(map)
}

/// Every clock a record carries.
fn record_stamps(record: &Record) -> impl Iterator<Item = u64> + '_ {
    std::iter::once(record.origin.at.0)
        .chain(record.fields.values().map(|r| r.at.0))
        .chain(record.labels.values().map(|m| m.at.0))
        .chain(record.deps.values().map(|m| m.at.0))
        .chain(record.deleted.iter().map(|s| s.0))
}

/// Refuse stamps beyond [`MAX_CLOCK`]: a register stamped near u64::MAX would win against
/// every later write forever.
pub(super) fn check_stamps(path: &str, mut stamps: impl Iterator<Item = u64>) -> Result<()> {
    match stamps.find(|clock| *clock > MAX_CLOCK) {
        Some(clock) => Err(Error::Corrupt(format!(
            "'{path}' carries clock {clock}, beyond the sane bound 2^48"
        ))),
        None => Ok(()),
    }
}

/// Join two records stored at one path of a `Records` directory: one entity, whatever
/// origins the two clones gave it (the smaller is kept, so the join stays commutative).
fn join_entities(path: &str, mut ours: Record, theirs: &Record) -> Result<Record> {
    if ours.id != theirs.id {
        return Err(Error::Corrupt(format!(
            "'{path}' holds records '{}' and '{}' on the two sides",
            ours.id, theirs.id
        )));
    }
    if theirs.origin < ours.origin {
        ours.origin = theirs.origin.clone();
    }
    let mut theirs = theirs.clone();
    theirs.origin = ours.origin.clone();
    ours.join(&theirs);
    Ok(ours)
}

/// Accumulates the files a merge changes.
pub(super) struct Output<'r, 'b> {
    pub repo: &'r gix::Repository,
    pub batch: Option<&'b mut WriteBatch>,
    pub report: MergeReport,
}

impl Output<'_, '_> {
    /// Record `bytes` as the merged content of `path` unless it equals ours (`current`).
    /// Returns whether it changes our side.
    pub fn put(&mut self, path: &str, current: Option<ObjectId>, bytes: &[u8]) -> Result<bool> {
        let oid = gix::objs::compute_hash(self.repo.object_hash(), gix::object::Kind::Blob, bytes)
            .map_err(|e| crate::Error::Git(e.to_string()))?;
        if current == Some(oid) {
            return Ok(false);
        }
        if let Some(batch) = self.batch.as_deref_mut() {
            batch.put(path, bytes.to_vec());
        }
        Ok(true)
    }

    /// Take their blob for `path` as is.
    pub fn put_blob(&mut self, path: &str, blob: ObjectId) {
        if let Some(batch) = self.batch.as_deref_mut() {
            batch.put_blob(path, blob);
        }
    }
}

pub(super) fn read(repo: &gix::Repository, oid: ObjectId) -> Result<Vec<u8>> {
    Ok(repo.find_blob(oid)?.take_data())
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
}
