//! Merging bead records, including id collisions.
//!
//! Records at the same path with the same `origin` are one bead: they join
//! ([`Record::join`]). Records at the same path with different origins are two beads that
//! two clones created under one id (short hash ids, or `<parent>.N` children minted on
//! both). Rule, the same on every clone: the record with the smaller origin (creation
//! clock, actor, nonce) keeps the id; the other moves to [`rename_target`]
//! (`<id>-<4 base36 chars>` derived from the id and the record's own origin, so every clone
//! picks the same name without coordination, and a clone that sees the collision later
//! moves it to the same place). If that name is taken by yet another record, the same
//! rule applies there.
//!
//! References follow the renamed record on the side it came from, and only there: a
//! clone that held the losing record at `<id>` had never seen the winner (it would have
//! renamed the loser itself), so every dependency that clone wrote on `<id>` meant the
//! loser. Its changed records get `<id>` rewritten to the new id before joining; the
//! winner's side keeps pointing at `<id>`. Children keep their ids (`<id>.1` stays a child
//! of the renamed record); if they collide too they are renamed by the same rule.

use std::collections::{BTreeMap, BTreeSet};

use gix::ObjectId;

use super::merge::{join_member, record_conflicts, Output, Rename};
use crate::bead::id::{id_from_path, record_path};
use crate::bead::record::{Origin, Record};
use crate::error::{Error, Result};
use crate::store::Snapshot;

/// Whether `path` holds a bead record (`beads/<shard>/<id>.json`).
pub fn is_record_path(path: &str) -> bool {
    path.starts_with("beads/") && path.ends_with(".json") && path.matches('/').count() == 2
}

/// Where a record that lost an id collision goes: `<id>-` plus four base36 characters of
/// a hash of the id and the record's origin. A pure function, so every clone agrees.
pub fn rename_target(id: &str, origin: &Origin) -> String {
    use sha2::{Digest, Sha256};
    let digest =
        Sha256::digest(format!("{id}|{}|{}|{}", origin.at.0, origin.at.1, origin.nonce).as_bytes());
    let mut value = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    let mut suffix = String::new();
    for _ in 0..4 {
        suffix.push(char::from(
            b"0123456789abcdefghijklmnopqrstuvwxyz"[(value % 36) as usize],
        ));
        value /= 36;
    }
    format!("{id}-{suffix}")
}

/// One side's view of the records the merge touches.
struct Side<'s, 'r> {
    snap: &'s Snapshot<'r>,
    /// Current records by id (`None`: absent, or moved away by a rename).
    recs: BTreeMap<String, Option<Record>>,
    /// The blob at each loaded id's path in this side's tree.
    blob: BTreeMap<String, Option<ObjectId>>,
    /// The record as it was in the tree (ours only needs it, for the report).
    orig_deleted: BTreeMap<String, Option<bool>>,
    /// Ids this side's records moved away from, and where to.
    renames: BTreeMap<String, String>,
}

impl<'s, 'r> Side<'s, 'r> {
    fn new(snap: &'s Snapshot<'r>) -> Self {
        Side {
            snap,
            recs: BTreeMap::new(),
            blob: BTreeMap::new(),
            orig_deleted: BTreeMap::new(),
            renames: BTreeMap::new(),
        }
    }

    /// Load the record at `id` (its blob is `known` when the diff already found it).
    fn load(&mut self, id: &str, known: Option<Option<ObjectId>>) -> Result<()> {
        if self.recs.contains_key(id) {
            return Ok(());
        }
        let blob = match known {
            Some(blob) => blob,
            None => self
                .snap
                .resolve(&record_path(id))?
                .filter(|e| !e.is_tree)
                .map(|e| e.oid),
        };
        let record = match blob {
            Some(oid) => {
                let path = record_path(id);
                let mut record = super::merge::parse_record(&path, &self.snap.read_blob(oid)?)?;
                record.id = id.to_string();
                Some(record)
            }
            None => None,
        };
        self.orig_deleted
            .insert(id.to_string(), record.as_ref().map(Record::is_deleted));
        self.blob.insert(id.to_string(), blob);
        self.recs.insert(id.to_string(), record);
        Ok(())
    }

    /// Put a moved record at `target`, joining it with the same bead or, if a different
    /// record already sits there on this side, applying the collision rule again.
    fn place(
        &mut self,
        target: String,
        mut record: Record,
        out: &mut Output<'_, '_>,
        depth: usize,
    ) -> Result<()> {
        if depth > 8 {
            return Err(Error::Git(format!(
                "could not settle the id collision at {target}"
            )));
        }
        self.load(&target, None)?;
        record.id = target.clone();
        let slot = self.recs.get_mut(&target).expect("just loaded");
        match slot.take() {
            Some(mut existing) if existing.origin == record.origin => {
                existing.join(&record);
                *slot = Some(existing);
            }
            Some(existing) => {
                let (stay, moved) = if existing.origin <= record.origin {
                    (existing, record)
                } else {
                    (record, existing)
                };
                *slot = Some(stay);
                let next = rename_target(&target, &moved.origin);
                out.report.renamed.push(Rename {
                    from: target.clone(),
                    to: next.clone(),
                    title: moved.title().to_string(),
                });
                self.place(next, moved, out, depth + 1)?;
            }
            None => *slot = Some(record),
        }
        Ok(())
    }

    /// Point this side's references to renamed ids at their new ids.
    fn rewrite_references(&mut self) {
        if self.renames.is_empty() {
            return;
        }
        let renames = self.renames.clone();
        let follow = |id: &str| {
            let mut current = id.to_string();
            for _ in 0..16 {
                match renames.get(&current) {
                    Some(next) => current = next.clone(),
                    None => break,
                }
            }
            current
        };
        for record in self.recs.values_mut().flatten() {
            let keys: Vec<String> = record
                .deps
                .keys()
                .filter(|k| renames.contains_key(*k))
                .cloned()
                .collect();
            for key in keys {
                let member = record.deps.remove(&key).expect("key listed");
                let target = follow(&key);
                let member = match record.deps.remove(&target) {
                    Some(existing) => join_member(existing, member),
                    None => member,
                };
                record.deps.insert(target, member);
            }
        }
    }
}

fn collisions(sides: &[Side<'_, '_>; 2]) -> Vec<String> {
    sides[0]
        .recs
        .iter()
        .filter_map(|(id, x)| {
            let x = x.as_ref()?;
            let y = sides[1].recs.get(id)?.as_ref()?;
            (x.origin != y.origin).then(|| id.clone())
        })
        .collect()
}

/// Join the bead records that differ between `ours` and `theirs` into `out`. Returns how
/// many records the merged tree has that ours did not (for the record-count header).
pub(super) fn merge_records(
    out: &mut Output<'_, '_>,
    ours: &Snapshot<'_>,
    theirs: &Snapshot<'_>,
    diffs: Vec<super::merge::Diff>,
    base_clock: u64,
) -> Result<usize> {
    let mut sides = [Side::new(ours), Side::new(theirs)];
    for (path, a, b) in &diffs {
        let Some(id) = id_from_path(path) else {
            continue;
        };
        sides[0].load(id, Some(*a))?;
        sides[1].load(id, Some(*b))?;
    }
    let mut settled = false;
    for _round in 0..64 {
        let ids: BTreeSet<String> = sides[0]
            .recs
            .keys()
            .chain(sides[1].recs.keys())
            .cloned()
            .collect();
        for id in &ids {
            sides[0].load(id, None)?;
            sides[1].load(id, None)?;
        }
        let colliding = collisions(&sides);
        if colliding.is_empty() {
            settled = true;
            break;
        }
        for id in colliding {
            let (Some(Some(x)), Some(Some(y))) = (sides[0].recs.get(&id), sides[1].recs.get(&id))
            else {
                continue;
            };
            if x.origin == y.origin {
                continue;
            }
            let loser = usize::from(x.origin < y.origin);
            let record = sides[loser]
                .recs
                .insert(id.clone(), None)
                .flatten()
                .expect("checked above");
            let target = rename_target(&id, &record.origin);
            out.report.renamed.push(Rename {
                from: id.clone(),
                to: target.clone(),
                title: record.title().to_string(),
            });
            sides[loser].renames.insert(id.clone(), target.clone());
            sides[loser].place(target.clone(), record, out, 0)?;
            sides[1 - loser].load(&target, None)?;
        }
    }
    if !settled {
        return Err(Error::Git(
            "could not settle id collisions while merging beads".into(),
        ));
    }
    for side in &mut sides {
        side.rewrite_references();
    }
    let ids: BTreeSet<String> = sides[0]
        .recs
        .keys()
        .chain(sides[1].recs.keys())
        .cloned()
        .collect();
    let mut new_records = 0;
    for id in ids {
        let x = sides[0].recs.get(&id).cloned().flatten();
        let y = sides[1].recs.get(&id).cloned().flatten();
        let merged = match (x, y) {
            (Some(mut x), Some(y)) => {
                out.report.conflicts += record_conflicts(&x, &y, base_clock);
                x.join(&y);
                x
            }
            (Some(x), None) => x,
            (None, Some(y)) => y,
            (None, None) => continue,
        };
        let current = sides[0].blob.get(&id).copied().flatten();
        let before_deleted = sides[0].orig_deleted.get(&id).copied().flatten();
        let changed = out.put(&record_path(&id), current, &merged.to_bytes())?;
        match before_deleted {
            None => {
                new_records += 1;
                if !merged.is_deleted() {
                    out.report.added += 1;
                }
            }
            Some(false) if changed && merged.is_deleted() => out.report.deleted += 1,
            Some(false) if changed => out.report.changed += 1,
            _ => {}
        }
    }
    Ok(new_records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bead::record::Stamp;

    #[test]
    fn rename_targets_are_stable_and_distinct() {
        let a = Origin {
            at: Stamp(3, "alice".into()),
            nonce: "n1".into(),
        };
        let b = Origin {
            at: Stamp(3, "bob".into()),
            nonce: "n2".into(),
        };
        let ta = rename_target("gt-ab12", &a);
        assert_eq!(ta, rename_target("gt-ab12", &a));
        assert_ne!(ta, rename_target("gt-ab12", &b));
        assert!(
            ta.starts_with("gt-ab12-") && ta.len() == "gt-ab12-".len() + 4,
            "{ta}"
        );
        crate::bead::schema::validate_id(&ta).unwrap();
        assert!(is_record_path(&record_path("gt-ab12.1")));
        assert!(!is_record_path("meta/config.json"));
    }
}
