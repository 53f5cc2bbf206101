//! The last stage of cooking: check the flattened graph (unique ids, known `needs`, no
//! cycle) and put it in topological order as [`CookedStep`]s.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use serde_json::Value;

use super::cook::{CookMode, CookedStep};
use super::text;
use super::transform::Node;
use crate::error::{Error, Result};

/// Check the graph and order it: every step after the steps it needs and after its parent,
/// ties broken by the formula's order.
pub fn finish(nodes: Vec<Node>, file: &str, _mode: CookMode) -> Result<Vec<CookedStep>> {
    let n = nodes.len();
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(n);
    for (i, node) in nodes.iter().enumerate() {
        let id = node.step.id.as_str();
        if id.trim().is_empty() {
            return Err(Error::invalid(format!(
                "{file}: a step has an empty id ({})",
                node.step.location
            )));
        }
        if let Some(&first) = index.get(id) {
            return Err(Error::invalid(format!(
                "{file}: duplicate step id '{id}' ({} and {})",
                nodes[first].step.location, node.step.location
            )));
        }
        index.insert(id, i);
    }

    // deps[i]: what step i waits for, as (index, is_parent_edge).
    let mut deps: Vec<Vec<(usize, bool)>> = Vec::with_capacity(n);
    let mut parent_of: Vec<Option<usize>> = Vec::with_capacity(n);
    for node in &nodes {
        let id = &node.step.id;
        let mut d = Vec::with_capacity(node.step.needs.len() + 1);
        for need in &node.step.needs {
            if need == id {
                return Err(Error::invalid(format!("{file}: needs cycle: {id} -> {id}")));
            }
            let &j = index.get(need.as_str()).ok_or_else(|| {
                Error::invalid(format!(
                    "{file}: step '{id}' needs '{need}', which is not a step of this formula"
                ))
            })?;
            d.push((j, false));
        }
        let parent = match &node.parent {
            Some(p) => Some(*index.get(p.as_str()).ok_or_else(|| {
                Error::invalid(format!(
                    "{file}: step '{id}' is inside '{p}', which is not a step"
                ))
            })?),
            None => None,
        };
        if let Some(p) = parent {
            d.push((p, true));
        }
        parent_of.push(parent);
        if let Some(w) = &node.step.waits_for {
            let spec = text::parse_waits_for(w).ok_or_else(|| {
                Error::invalid(format!(
                    "{file}: step '{id}': waits_for '{w}' must be all-children, any-children or children-of(<step>)"
                ))
            })?;
            if let Some(spawner) = spec.spawner {
                if !index.contains_key(spawner.as_str()) {
                    return Err(Error::invalid(format!(
                        "{file}: step '{id}' waits for children of '{spawner}', which is not a step of this formula"
                    )));
                }
            }
        }
        deps.push(d);
    }

    // A step needing one of its own descendants could never become ready.
    for (i, d) in deps.iter().enumerate() {
        for &(j, is_parent) in d {
            if is_parent {
                continue;
            }
            let mut up = parent_of[j];
            let mut hops = 0;
            while let Some(p) = up {
                if p == i {
                    return Err(Error::invalid(format!(
                        "{file}: step '{}' needs '{}', which is inside it (a container waits for its children by itself)",
                        nodes[i].step.id, nodes[j].step.id
                    )));
                }
                up = parent_of[p];
                hops += 1;
                if hops > n {
                    break;
                }
            }
        }
    }

    // Kahn's algorithm with a min-heap on the formula's order.
    let mut indegree: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, d) in deps.iter().enumerate() {
        for &(j, _) in d {
            dependents[j].push(i);
        }
    }
    let mut heap: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&i| indegree[i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse(i)) = heap.pop() {
        order.push(i);
        for &k in &dependents[i] {
            indegree[k] -= 1;
            if indegree[k] == 0 {
                heap.push(Reverse(k));
            }
        }
    }
    if order.len() < n {
        return Err(Error::invalid(format!(
            "{file}: needs cycle: {}",
            describe_cycle(&nodes, &deps, &indegree)
        )));
    }

    let mut children: Vec<Vec<String>> = vec![Vec::new(); n];
    for &i in &order {
        if let Some(p) = parent_of[i] {
            children[p].push(nodes[i].step.id.clone());
        }
    }
    let mut slots: Vec<Option<Node>> = nodes.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(n);
    for i in order {
        let node = slots[i].take().expect("each step is ordered once");
        out.push(to_cooked(node, std::mem::take(&mut children[i])));
    }
    Ok(out)
}

/// Name one cycle among the steps Kahn's algorithm could not order.
fn describe_cycle(nodes: &[Node], deps: &[Vec<(usize, bool)>], indegree: &[usize]) -> String {
    let stuck = |i: usize| indegree[i] > 0;
    let Some(start) = (0..nodes.len()).find(|&i| stuck(i)) else {
        return "unknown".into();
    };
    // Walk dependencies among stuck steps until one repeats.
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut path: Vec<(usize, bool)> = Vec::new();
    let mut cur = (start, false);
    loop {
        if let Some(&pos) = seen.get(&cur.0) {
            let cycle = &path[pos..];
            let mut text = nodes[cycle[0].0].step.id.clone();
            for (k, &(i, _)) in cycle.iter().enumerate().skip(1) {
                let via_parent = cycle[k].1;
                text.push_str(" -> ");
                text.push_str(&nodes[i].step.id);
                if via_parent {
                    text.push_str(" (its parent)");
                }
            }
            text.push_str(" -> ");
            text.push_str(&nodes[cycle[0].0].step.id);
            if cur.1 {
                text.push_str(" (its parent)");
            }
            return text;
        }
        seen.insert(cur.0, path.len());
        path.push(cur);
        match deps[cur.0].iter().find(|&&(j, _)| stuck(j)) {
            Some(&next) => cur = next,
            None => return nodes[cur.0].step.id.clone(),
        }
    }
}

fn to_cooked(node: Node, children: Vec<String>) -> CookedStep {
    let Node {
        step,
        parent,
        source_formula,
    } = node;
    let mut metadata = step.metadata;
    let issue_type = match step.step_type.as_deref() {
        Some(t @ ("parallel" | "sequential")) => {
            metadata.insert("execution".into(), Value::String(t.to_string()));
            None
        }
        Some(t) if !t.trim().is_empty() => Some(t.to_string()),
        _ => None,
    }
    .unwrap_or_else(|| if children.is_empty() { "task" } else { "epic" }.to_string());
    if let Some(gate) = &step.gate {
        metadata.insert(
            "gate".into(),
            serde_json::to_value(gate).unwrap_or(Value::Null),
        );
    }
    if let Some(w) = step.waits_for {
        metadata.insert("waits_for".into(), Value::String(w));
    }
    if let Some(oc) = step.on_complete {
        metadata.insert("on_complete".into(), oc);
    }
    if step.parallel {
        metadata.insert("parallel".into(), Value::Bool(true));
    }
    if step.interactive {
        metadata.insert("interactive".into(), Value::Bool(true));
    }
    if let Some(o) = step.output {
        metadata.insert("output".into(), Value::String(o));
    }
    metadata.insert("source_formula".into(), Value::String(source_formula));
    metadata.insert("source_location".into(), Value::String(step.location));
    let mut needs: Vec<String> = Vec::with_capacity(step.needs.len());
    for need in step.needs {
        if !needs.contains(&need) {
            needs.push(need);
        }
    }
    CookedStep {
        id: step.id,
        title: step.title,
        description: step.description,
        acceptance: step.acceptance,
        notes: step.notes,
        issue_type,
        priority: step.priority.and_then(|p| u8::try_from(p).ok()),
        labels: step.labels,
        assignee: step.assignee.filter(|a| !a.trim().is_empty()),
        needs,
        parent,
        children,
        metadata,
    }
}
