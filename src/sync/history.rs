//! How two tips of a collection relate. Every commit carries the collection's Lamport
//! clock and a child's clock is always larger than its parents', so the clock works as a
//! generation number: walking both histories in decreasing clock order, the first commit
//! reached from both sides is their best common ancestor, and the walk only visits commits
//! written since the two sides diverged.

use std::collections::{BinaryHeap, HashMap};

use gix::ObjectId;

use crate::error::Result;
use crate::store::Store;

/// The relation between our tip and theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Same,
    /// Theirs is an ancestor of ours: nothing to take.
    OursContainsTheirs,
    /// Ours is an ancestor of theirs: fast-forward.
    TheirsContainsOurs,
    /// Both have commits the other lacks; `base_clock` is the clock of their best common
    /// ancestor (0 for unrelated histories).
    Diverged {
        base_clock: u64,
    },
}

/// Relate `ours` and `theirs` by a clock-ordered walk of both histories.
pub fn relation(store: &Store, ours: ObjectId, theirs: ObjectId) -> Result<Relation> {
    if ours == theirs {
        return Ok(Relation::Same);
    }
    const OURS: u8 = 1;
    const THEIRS: u8 = 2;
    let mut flags: HashMap<ObjectId, u8> = HashMap::new();
    let mut info: HashMap<ObjectId, (u64, Vec<ObjectId>)> = HashMap::new();
    let mut heap: BinaryHeap<(u64, ObjectId)> = BinaryHeap::new();
    for (oid, flag) in [(ours, OURS), (theirs, THEIRS)] {
        let commit = store.commit_info(oid)?;
        heap.push((commit.0, oid));
        info.insert(oid, commit);
        flags.insert(oid, flag);
    }
    let mut done: std::collections::HashSet<ObjectId> = std::collections::HashSet::new();
    while let Some((clock, oid)) = heap.pop() {
        if !done.insert(oid) {
            continue;
        }
        let flag = flags[&oid];
        if flag == OURS | THEIRS {
            // Children have larger clocks and were all visited: this is the newest commit
            // both sides contain.
            return Ok(if oid == theirs {
                Relation::OursContainsTheirs
            } else if oid == ours {
                Relation::TheirsContainsOurs
            } else {
                Relation::Diverged { base_clock: clock }
            });
        }
        let parents = info.remove(&oid).map(|(_, p)| p).unwrap_or_default();
        for parent in parents {
            let entry = flags.entry(parent).or_insert(0);
            let before = *entry;
            *entry |= flag;
            if before == 0 {
                let commit = store.commit_info(parent)?;
                heap.push((commit.0, parent));
                info.insert(parent, commit);
            }
        }
    }
    Ok(Relation::Diverged { base_clock: 0 })
}
