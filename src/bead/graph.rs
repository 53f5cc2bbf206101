//! Dependency-graph computations: blocked state (bd's rules), readiness, cycles.

use super::index::{Index, Row, RowData, NONE, NO_TIME};
use super::schema::{BLOCKING_DEP_TYPES, NOT_WORK_TYPES};

/// Dependency types that order work, and so must never form a cycle. A parent-child edge
/// counts: a blocked parent blocks its children, so "child → parent → child" deadlocks.
pub const ORDERING_DEP_TYPES: [&str; 4] =
    ["blocks", "conditional-blocks", "waits-for", "parent-child"];

/// What the index stores per row, computed over all rows at build time.
pub struct Computed {
    pub parent: Vec<u32>,
    pub blocked: Vec<bool>,
    pub blockers: Vec<Vec<u32>>,
}

fn is_done(status: &str) -> bool {
    status == "closed" || status == "pinned"
}

/// bd's blocked rule: a bead that is not closed or pinned is blocked when a blocking
/// dependency is not closed/pinned, when a `waits-for` spawner still has unfinished
/// children, or when its parent is blocked (transitively). Dangling targets never block.
/// Cycles (possible after merging clones) end as blocked instead of looping.
pub fn compute(rows: &[RowData]) -> Computed {
    let n = rows.len();
    let find = |id: &str| rows.binary_search_by(|r| r.id.as_str().cmp(id)).ok();
    let mut parent = vec![NONE; n];
    let mut children_total = vec![0u32; n];
    let mut children_done = vec![0u32; n];
    for (i, row) in rows.iter().enumerate() {
        if let Some((target, _, _)) = row.deps.iter().find(|(_, kind, _)| kind == "parent-child") {
            if let Some(p) = find(target) {
                if p != i {
                    parent[i] = p as u32;
                    children_total[p] += 1;
                    if row.status == "closed" {
                        children_done[p] += 1;
                    }
                }
            }
        }
    }
    let mut blockers: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (i, row) in rows.iter().enumerate() {
        if is_done(&row.status) {
            continue;
        }
        for (target, kind, gate) in &row.deps {
            let Some(t) = find(target) else { continue };
            let holds = if BLOCKING_DEP_TYPES.contains(&kind.as_str()) {
                !is_done(&rows[t].status)
            } else if kind == "waits-for" {
                let (total, done) = (children_total[t], children_done[t]);
                if gate == "any-children" {
                    total > 0 && done == 0
                } else {
                    done < total
                }
            } else {
                false
            };
            if holds && t != i {
                blockers[i].push(t as u32);
            }
        }
    }
    // Propagate through parents with an explicit walk; `state` 1 = on the current path.
    let mut blocked: Vec<Option<bool>> = vec![None; n];
    let mut state = vec![0u8; n];
    for start in 0..n {
        if blocked[start].is_some() {
            continue;
        }
        let mut path = Vec::new();
        let mut cur = start;
        let verdict = loop {
            if let Some(b) = blocked[cur] {
                break b;
            }
            if state[cur] == 1 {
                break true; // a parent cycle: nothing on it can ever start
            }
            if is_done(&rows[cur].status) {
                blocked[cur] = Some(false);
                break false;
            }
            if !blockers[cur].is_empty() {
                blocked[cur] = Some(true);
                break true;
            }
            state[cur] = 1;
            path.push(cur);
            if parent[cur] == NONE {
                break false;
            }
            cur = parent[cur] as usize;
        };
        for i in path {
            blocked[i] = Some(verdict);
            state[i] = 2;
        }
    }
    Computed {
        parent,
        blocked: blocked.into_iter().map(|b| b.unwrap_or(false)).collect(),
        blockers,
    }
}

/// Whether a bead is ready work (`not_ready_reason` is `None`), without building a reason:
/// this runs for every row on each `ready`.
pub fn is_ready(index: &Index, row: &Row, now_ms: i64) -> bool {
    let deferred = |r: &Row| r.defer_ms != NO_TIME && r.defer_ms > now_ms;
    index.status(row) == "open"
        && !index.is_blocked(row)
        && !index.is_ephemeral(row)
        && !deferred(row)
        && (row.parent == NONE || !deferred(&index.rows[row.parent as usize]))
        && !NOT_WORK_TYPES.contains(&index.issue_type(row))
}

/// Why a bead is not ready, or `None` when it is.
pub fn not_ready_reason(index: &Index, row: &Row, now_ms: i64) -> Option<String> {
    let status = index.status(row);
    if status != "open" {
        return Some(format!("status is {status}"));
    }
    if NOT_WORK_TYPES.contains(&index.issue_type(row)) {
        return Some(format!("type {} is not work", index.issue_type(row)));
    }
    if index.is_ephemeral(row) {
        return Some("ephemeral".into());
    }
    if row.defer_ms != NO_TIME && row.defer_ms > now_ms {
        return Some("deferred until later".into());
    }
    if row.parent != NONE {
        let parent = &index.rows[row.parent as usize];
        if parent.defer_ms != NO_TIME && parent.defer_ms > now_ms {
            return Some(format!("parent {} is deferred", index.id(parent)));
        }
    }
    if index.is_blocked(row) {
        return Some(blocked_reason(index, row));
    }
    None
}

/// A one-line account of what holds a blocked bead up.
pub fn blocked_reason(index: &Index, row: &Row) -> String {
    let direct: Vec<&str> = index
        .blockers(row)
        .iter()
        .map(|&b| index.id(&index.rows[b as usize]))
        .collect();
    if !direct.is_empty() {
        return format!("blocked by {}", direct.join(", "));
    }
    let mut cur = row.parent;
    let mut hops = 0;
    while cur != NONE && hops < index.len() {
        let parent = &index.rows[cur as usize];
        if !index.blockers(parent).is_empty() {
            return format!("parent {} is blocked", index.id(parent));
        }
        cur = parent.parent;
        hops += 1;
    }
    "in a parent cycle".into()
}

/// Blocked beads' direct blockers plus the blocked ancestor, as ids.
pub fn blocked_by(index: &Index, row: &Row) -> Vec<String> {
    let mut out: Vec<String> = index
        .blockers(row)
        .iter()
        .map(|&b| index.id(&index.rows[b as usize]).to_string())
        .collect();
    if out.is_empty() && row.parent != NONE {
        out.push(index.id(&index.rows[row.parent as usize]).to_string());
    }
    out
}

/// Ordering edges out of a row (dependency targets that exist in the index).
fn ordering_targets(index: &Index, row: &Row) -> Vec<usize> {
    index
        .deps(row)
        .filter(|(_, kind, _)| ORDERING_DEP_TYPES.contains(kind))
        .filter_map(|(target, _, _)| index.position(target))
        .collect()
}

/// A path `from → … → to` over ordering edges, if one exists (used to refuse a new edge
/// `to → from` that would close a cycle).
pub fn path_between(index: &Index, from: &str, to: &str) -> Option<Vec<String>> {
    let start = index.position(from)?;
    let goal = index.position(to)?;
    let mut prev = vec![usize::MAX; index.len()];
    let mut queue = std::collections::VecDeque::from([start]);
    prev[start] = start;
    while let Some(cur) = queue.pop_front() {
        if cur == goal {
            let mut path = vec![cur];
            let mut at = cur;
            while at != start {
                at = prev[at];
                path.push(at);
            }
            path.reverse();
            return Some(
                path.into_iter()
                    .map(|i| index.id(&index.rows[i]).to_string())
                    .collect(),
            );
        }
        for next in ordering_targets(index, &index.rows[cur]) {
            if prev[next] == usize::MAX {
                prev[next] = cur;
                queue.push_back(next);
            }
        }
    }
    None
}

/// Every elementary cycle's representative over ordering edges: one cycle per strongly
/// connected component (Tarjan, iterative), each listed from its smallest id.
pub fn cycles(index: &Index) -> Vec<Vec<String>> {
    let n = index.len();
    let edges: Vec<Vec<usize>> = index
        .rows
        .iter()
        .map(|r| ordering_targets(index, r))
        .collect();
    let mut idx = vec![usize::MAX; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut counter = 0;
    let mut out = Vec::new();
    for root in 0..n {
        if idx[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        idx[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut next)) = work.last_mut() {
            if *next < edges[v].len() {
                let w = edges[v][*next];
                *next += 1;
                if idx[w] == usize::MAX {
                    idx[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(idx[w]);
                }
            } else {
                work.pop();
                if let Some(&(u, _)) = work.last() {
                    low[u] = low[u].min(low[v]);
                }
                if low[v] == idx[v] {
                    let mut component = Vec::new();
                    loop {
                        let w = stack.pop().expect("tarjan stack holds the component");
                        on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    let self_loop = component.len() == 1 && edges[v].contains(&v);
                    if component.len() > 1 || self_loop {
                        out.push(cycle_in(index, &edges, &component));
                    }
                }
            }
        }
    }
    out.sort();
    out
}

/// One concrete cycle inside a strongly connected component, starting at its smallest id.
fn cycle_in(index: &Index, edges: &[Vec<usize>], component: &[usize]) -> Vec<String> {
    let members: std::collections::HashSet<usize> = component.iter().copied().collect();
    let start = *component.iter().min().expect("component is not empty");
    // BFS inside the component from start's successors back to start.
    let mut prev = std::collections::HashMap::new();
    let mut queue = std::collections::VecDeque::new();
    for &w in &edges[start] {
        if members.contains(&w) && !prev.contains_key(&w) {
            prev.insert(w, start);
            queue.push_back(w);
        }
    }
    while let Some(cur) = queue.pop_front() {
        if cur == start {
            break;
        }
        for &w in &edges[cur] {
            if members.contains(&w) && !prev.contains_key(&w) {
                prev.insert(w, cur);
                queue.push_back(w);
            }
        }
    }
    let mut path = vec![start];
    let mut at = prev.get(&start).copied().unwrap_or(start);
    while at != start {
        path.push(at);
        at = prev[&at];
    }
    path.push(start);
    path.reverse();
    // path now runs start → … → start; present ids in edge order.
    path.into_iter()
        .map(|i| index.id(&index.rows[i]).to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, status: &str, deps: &[(&str, &str)], parent: Option<&str>) -> RowData {
        let mut all: Vec<(String, String, String)> = deps
            .iter()
            .map(|(t, k)| (t.to_string(), k.to_string(), String::new()))
            .collect();
        if let Some(p) = parent {
            all.push((p.to_string(), "parent-child".into(), String::new()));
        }
        RowData {
            id: id.into(),
            title: id.into(),
            status: status.into(),
            issue_type: "task".into(),
            assignee: String::new(),
            priority: 2,
            created_ms: 0,
            updated_ms: 0,
            defer_ms: NO_TIME,
            ephemeral: false,
            labels: Vec::new(),
            deps: all,
            blob: gix::ObjectId::null(gix::hash::Kind::Sha1),
        }
    }

    #[test]
    fn blocked_propagates_through_parents_and_survives_cycles() {
        // Sorted by id, as the index keeps them.
        let rows = vec![
            row("a", "open", &[], None),
            row("b", "open", &[("a", "blocks")], None),
            row("c", "open", &[], Some("b")),
            row("d", "open", &[], Some("c")),
            row("e", "closed", &[("a", "blocks")], None),
            row("f", "open", &[("g", "blocks")], None),
            row("g", "open", &[("f", "blocks")], None),
            row("h", "open", &[], Some("i")),
            row("i", "open", &[], Some("h")),
            row(
                "j",
                "open",
                &[("missing", "blocks"), ("a", "related")],
                None,
            ),
        ];
        let c = compute(&rows);
        let blocked: Vec<&str> = rows
            .iter()
            .zip(&c.blocked)
            .filter(|(_, b)| **b)
            .map(|(r, _)| r.id.as_str())
            .collect();
        assert_eq!(blocked, vec!["b", "c", "d", "f", "g", "h", "i"]);
        assert_eq!(c.blockers[1], vec![0]);
        assert!(
            c.blockers[2].is_empty(),
            "c is blocked through its parent, not directly"
        );
    }
}
