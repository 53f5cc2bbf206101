//! `stage EPIC`: validate an epic's tree and compute its waves. The tree is every bead
//! under the epic (children, their children, ...) that is work (not an epic or another
//! container type). Validation: no cycle among blocking dependencies inside the tree (the
//! error names it), every bead described. Waves are Kahn's algorithm over the blocking
//! dependencies inside the tree: wave 1 is every open bead with no open blocker in it, wave
//! N+1 what only waits on waves 1..N. Closed beads are tracked but in no wave.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Serialize;
use serde_json::json;

use super::record::{self, Convoy};
use super::Convoys;
use crate::bead::index::NONE;
use crate::bead::ops::carry_count;
use crate::bead::record::Stamp;
use crate::bead::schema::{now_rfc3339, BLOCKING_DEP_TYPES, NOT_WORK_TYPES};
use crate::bead::Beads;
use crate::bead::COLLECTION;
use crate::error::{Error, Result};
use crate::records;
use crate::store::{Actor, Outcome};

/// One bead of a staged epic.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StagedBead {
    pub id: String,
    pub title: String,
    pub status: String,
    /// Its wave (1-based); `None` for a bead already closed.
    pub wave: Option<usize>,
    /// Its blockers inside the tree.
    pub blocked_by: Vec<String>,
}

/// What `stage` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Staged {
    pub convoy: String,
    pub epic: String,
    pub name: String,
    /// A new convoy was made (else the epic's staged convoy was brought up to date).
    pub created: bool,
    pub waves: Vec<Vec<String>>,
    pub beads: Vec<StagedBead>,
}

/// A bead of the tree, as staging needs it.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub title: String,
    pub status: String,
    /// Blocking dependencies on other beads of the tree.
    pub blockers: Vec<String>,
}

/// The first cycle among `nodes`' blockers, as a path that ends where it starts
/// (`a → b → a`), found by depth-first search in id order (deterministic).
pub fn find_cycle(nodes: &[Node]) -> Option<Vec<String>> {
    let by_id: BTreeMap<&str, &Node> = nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    // 0 unseen, 1 on the path, 2 finished.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    for start in by_id.keys() {
        if state.get(start).copied().unwrap_or(0) != 0 {
            continue;
        }
        // Iterative DFS: (node, next blocker index).
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        state.insert(start, 1);
        while let Some((node, i)) = stack.last().copied() {
            let blockers = &by_id[node].blockers;
            if i < blockers.len() {
                stack.last_mut().expect("non-empty").1 += 1;
                let next = blockers[i].as_str();
                if !by_id.contains_key(next) {
                    continue;
                }
                match state.get(next).copied().unwrap_or(0) {
                    0 => {
                        state.insert(next, 1);
                        stack.push((next, 0));
                    }
                    1 => {
                        let from = stack.iter().position(|(n, _)| *n == next).expect("on path");
                        let mut cycle: Vec<String> =
                            stack[from..].iter().map(|(n, _)| n.to_string()).collect();
                        cycle.push(next.to_string());
                        return Some(cycle);
                    }
                    _ => {}
                }
            } else {
                state.insert(node, 2);
                stack.pop();
            }
        }
    }
    None
}

/// Kahn's algorithm by levels over the open nodes: each wave holds every node whose open
/// blockers are all in earlier waves, sorted by id. Nodes on a cycle never enter a wave
/// (callers refuse cycles first).
pub fn waves(nodes: &[Node]) -> Vec<Vec<String>> {
    let open: BTreeMap<&str, &Node> = nodes
        .iter()
        .filter(|n| n.status != "closed")
        .map(|n| (n.id.as_str(), n))
        .collect();
    let mut indegree: BTreeMap<&str, usize> = BTreeMap::new();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, node) in &open {
        let blockers: BTreeSet<&str> = node
            .blockers
            .iter()
            .map(String::as_str)
            .filter(|b| open.contains_key(b))
            .collect();
        indegree.insert(id, blockers.len());
        for b in blockers {
            dependents.entry(b).or_default().push(id);
        }
    }
    let mut out = Vec::new();
    let mut current: Vec<&str> = indegree
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(id, _)| *id)
        .collect();
    while !current.is_empty() {
        let mut next = Vec::new();
        for id in &current {
            for dep in dependents.get(id).into_iter().flatten() {
                let d = indegree.get_mut(dep).expect("every open node has a degree");
                *d -= 1;
                if *d == 0 {
                    next.push(*dep);
                }
            }
        }
        next.sort_unstable();
        out.push(current.iter().map(|s| s.to_string()).collect());
        current = next;
    }
    out
}

impl Convoys<'_> {
    /// The epic's tree: every work bead under it, with its blockers inside the tree; and
    /// the ids of beads without a description.
    fn tree(&self, epic: &str) -> Result<(String, String, Vec<Node>, Vec<String>)> {
        let locator = self.locator()?;
        let epic = locator.resolve(epic)?;
        let rig = locator.rig_of(&epic);
        let opened = match &rig {
            Some(r) if !r.lone => Some(r.open_store()?),
            _ => None,
        };
        let store = opened.as_ref().unwrap_or(&self.town.store);
        let beads = Beads::new(store);
        let snap = beads.snapshot()?;
        let index = beads.index(&snap)?;
        let root = index
            .position(&epic)
            .ok_or_else(|| Error::invalid(format!("no bead matches '{epic}'")))?;
        let epic_title = index.title(&index.rows[root]).to_string();
        // Rows under the epic: follow parent links up from each row (memoised).
        let n = index.rows.len();
        let mut under: Vec<Option<bool>> = vec![None; n];
        under[root] = Some(true);
        let mut members = Vec::new();
        for i in 0..n {
            let mut path = Vec::new();
            let mut at = i;
            let verdict = loop {
                if let Some(v) = under[at] {
                    break v;
                }
                path.push(at);
                let parent = index.rows[at].parent;
                if parent == NONE || path.len() > n {
                    break false;
                }
                at = parent as usize;
            };
            for p in path {
                under[p] = Some(verdict);
            }
            if verdict && i != root {
                members.push(i);
            }
        }
        let work: Vec<usize> = members
            .into_iter()
            .filter(|&i| {
                let t = index.issue_type(&index.rows[i]);
                t != "epic" && !NOT_WORK_TYPES.contains(&t)
            })
            .collect();
        if work.is_empty() {
            return Err(Error::invalid(format!(
                "epic {epic} has no beads under it to stage"
            )));
        }
        let ids: HashSet<&str> = work.iter().map(|&i| index.id(&index.rows[i])).collect();
        let mut nodes = Vec::new();
        let mut undescribed = Vec::new();
        for &i in &work {
            let row = &index.rows[i];
            let id = index.id(row).to_string();
            let blockers: Vec<String> = index
                .deps(row)
                .filter(|(_, kind, _)| BLOCKING_DEP_TYPES.contains(kind))
                .map(|(target, _, _)| target)
                .filter(|t| ids.contains(t))
                .map(str::to_string)
                .collect();
            let rec = crate::bead::Record::parse(&snap.read_blob(row.blob)?)?;
            if rec.str("description").is_none_or(|d| d.trim().is_empty()) {
                undescribed.push(id.clone());
            }
            nodes.push(Node {
                title: index.title(row).to_string(),
                status: index.status(row).to_string(),
                id,
                blockers,
            });
        }
        nodes.sort_by(|a, b| a.id.cmp(&b.id));
        undescribed.sort();
        Ok((epic, epic_title, nodes, undescribed))
    }

    /// `stage EPIC`: validate the epic's tree, compute its waves and record them on the
    /// epic's staged convoy (one write: a new convoy, or the epic's active one updated).
    pub fn stage(&self, actor: &Actor, epic: &str) -> Result<Staged> {
        let (epic, title, nodes, undescribed) = self.tree(epic)?;
        if let Some(cycle) = find_cycle(&nodes) {
            return Err(Error::invalid(format!(
                "epic {epic} has a dependency cycle: {}",
                cycle.join(" → ")
            )));
        }
        if !undescribed.is_empty() {
            let shown: Vec<&str> = undescribed.iter().take(8).map(String::as_str).collect();
            return Err(Error::invalid(format!(
                "every bead of a staged epic needs a description; {} of epic {epic} have none: {}{}",
                undescribed.len(),
                shown.join(", "),
                if undescribed.len() > 8 { ", …" } else { "" }
            )));
        }
        let waves = waves(&nodes);
        let wave_of: BTreeMap<&str, usize> = waves
            .iter()
            .enumerate()
            .flat_map(|(w, ids)| ids.iter().map(move |id| (id.as_str(), w + 1)))
            .collect();
        let beads: Vec<StagedBead> = nodes
            .iter()
            .map(|n| StagedBead {
                id: n.id.clone(),
                title: n.title.clone(),
                status: n.status.clone(),
                wave: wave_of.get(n.id.as_str()).copied(),
                blocked_by: n.blockers.clone(),
            })
            .collect();
        let name = title.clone();
        let ids: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
        let (convoy, created) = self.town.store.write(COLLECTION, actor, |snap, batch| {
            let stamp = Stamp(batch.clock, actor.name.clone());
            let existing = record::all(snap)?.into_iter().find(|r| {
                let c = Convoy::from_record(r);
                c.is_active() && c.epic.as_deref() == Some(epic.as_str())
            });
            let created = existing.is_none();
            let mut rec = match existing {
                Some(r) => r,
                None => {
                    let id = record::new_id(snap, &format!("{epic}|{}", actor.name))?;
                    let mut r = record::new_record(&id, &stamp);
                    r.set("status", json!(record::STAGED), &stamp);
                    r.set("created_at", json!(now_rfc3339()), &stamp);
                    r.set("created_by", json!(actor.name), &stamp);
                    r.set("epic", json!(epic), &stamp);
                    r
                }
            };
            let before = rec.clone();
            rec.set("title", json!(name), &stamp);
            rec.set("waves", json!(waves), &stamp);
            let current = Convoy::from_record(&rec).beads;
            for gone in current.iter().filter(|b| !ids.contains(b)) {
                record::untrack(&mut rec, gone, &stamp);
            }
            for id in &ids {
                record::track(&mut rec, id, &stamp);
            }
            let convoy = Convoy::from_record(&rec);
            if rec == before {
                return Ok(Outcome::Unchanged((convoy, false)));
            }
            records::put(batch, &record::path_of(&rec.id), &rec);
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!(
                    "convoy stage {} for {epic}: {} beads in {} waves",
                    rec.id,
                    ids.len(),
                    waves.len()
                ),
                value: (convoy, created),
            })
        })?;
        Ok(Staged {
            convoy: convoy.id,
            epic,
            name: title,
            created,
            waves: convoy.waves,
            beads,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, blockers: &[&str]) -> Node {
        Node {
            id: id.into(),
            title: id.into(),
            status: "open".into(),
            blockers: blockers.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn waves_are_kahn_levels() {
        // a, b free; c after a; d after a and c; e after b.
        let nodes = vec![
            node("a", &[]),
            node("b", &[]),
            node("c", &["a"]),
            node("d", &["a", "c"]),
            node("e", &["b"]),
        ];
        assert_eq!(
            waves(&nodes),
            vec![vec!["a", "b"], vec!["c", "e"], vec!["d"]]
        );
        assert!(find_cycle(&nodes).is_none());
    }

    #[test]
    fn closed_beads_are_in_no_wave_and_do_not_block() {
        let mut nodes = vec![node("a", &[]), node("b", &["a"])];
        nodes[0].status = "closed".into();
        assert_eq!(waves(&nodes), vec![vec!["b"]]);
    }

    #[test]
    fn a_cycle_is_named_as_a_closed_path() {
        let nodes = vec![
            node("a", &[]),
            node("b", &["d"]),
            node("c", &["b"]),
            node("d", &["c"]),
        ];
        assert_eq!(find_cycle(&nodes).unwrap(), vec!["b", "d", "c", "b"]);
    }
}
