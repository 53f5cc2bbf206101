//! The step-graph transformations of cooking: loops, flattening, expansions (`expand`,
//! `map`), advice, branches, gate rules, conditions and variable substitution.
//!
//! Every transformation is one or two linear passes with hash maps, so a graph of thousands
//! of steps cooks in milliseconds. Rewiring rule: when a step X is replaced (expanded,
//! looped) or wrapped (advice after), steps that needed X need the replacement's sinks.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{json, Value};

use super::cook::CookMode;
use super::model::*;
use super::text;
use crate::error::{Error, Result};

/// Largest number of steps one loop may generate.
pub const MAX_LOOP_STEPS: usize = 100_000;
/// Deepest nesting of inline `expand` inside expansion templates.
pub const MAX_EXPANSION_DEPTH: usize = 5;

/// A step of the flattened graph.
#[derive(Debug, Clone)]
pub struct Node {
    /// The step, with `children` and `loop` already moved out.
    pub step: Step,
    pub parent: Option<String>,
    /// The formula that defined the step (a parent, an expansion, an aspect...).
    pub source_formula: String,
}

impl Node {
    pub fn new(step: Step, parent: Option<String>, source_formula: &str) -> Self {
        Node {
            step,
            parent,
            source_formula: source_formula.to_string(),
        }
    }

    /// The stand-in target used when an expansion formula is cooked on its own.
    pub fn synthetic(name: &str, description: &str) -> Self {
        Node::new(
            Step {
                id: name.to_string(),
                title: name.to_string(),
                description: description.to_string(),
                ..Step::default()
            },
            None,
            name,
        )
    }
}

/// Replace each need by its renames, transitively (a rename may point at a renamed step).
pub(super) fn rename_needs(
    needs: &[String],
    renames: &HashMap<String, Vec<String>>,
) -> Vec<String> {
    fn push(id: &str, renames: &HashMap<String, Vec<String>>, out: &mut Vec<String>, depth: usize) {
        match renames.get(id) {
            Some(to) if depth < 64 => {
                for t in to {
                    push(t, renames, out, depth + 1);
                }
            }
            _ => {
                if !out.iter().any(|o| o == id) {
                    out.push(id.to_string());
                }
            }
        }
    }
    let mut out = Vec::with_capacity(needs.len());
    for n in needs {
        push(n, renames, &mut out, 0);
    }
    out
}

pub fn apply_renames(nodes: &mut [Node], renames: &HashMap<String, Vec<String>>) {
    if renames.is_empty() {
        return;
    }
    for node in nodes {
        if node.step.needs.iter().any(|n| renames.contains_key(n)) {
            node.step.needs = rename_needs(&node.step.needs, renames);
        }
    }
}

pub(super) fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|x| x == item) {
        list.push(item.to_string());
    }
}

/// Ids of top-level steps that no other top-level step needs.
pub(super) fn sinks(ids: &[String], needs: &[Vec<String>]) -> Vec<String> {
    let needed: HashSet<&str> = needs.iter().flatten().map(String::as_str).collect();
    ids.iter()
        .filter(|id| !needed.contains(id.as_str()))
        .cloned()
        .collect()
}

fn all_ids(steps: &[Step], out: &mut HashSet<String>) {
    for s in steps {
        out.insert(s.id.clone());
        all_ids(&s.children, out);
    }
}

/// Expand `[steps.loop]`: `count` and `range` loops repeat the body, each iteration after the
/// previous one; `until` loops expand once with `loop = {until, max}` metadata for the
/// runtime. Iteration ids are `<loop>.iter<N>.<body id>`.
pub fn expand_loops(
    steps: Vec<Step>,
    vars: &BTreeMap<String, String>,
    renames: &mut HashMap<String, Vec<String>>,
    file: &str,
) -> Result<Vec<Step>> {
    let mut out = Vec::with_capacity(steps.len());
    for mut step in steps {
        match step.loop_spec.take() {
            None => {
                step.children =
                    expand_loops(std::mem::take(&mut step.children), vars, renames, file)?;
                out.push(step);
            }
            Some(spec) => {
                let expanded = expand_one_loop(&step, spec, vars, renames, file)?;
                out.extend(expand_loops(expanded, vars, renames, file)?);
            }
        }
    }
    Ok(out)
}

fn expand_one_loop(
    step: &Step,
    spec: LoopSpec,
    vars: &BTreeMap<String, String>,
    renames: &mut HashMap<String, Vec<String>>,
    file: &str,
) -> Result<Vec<Step>> {
    let bad = |msg: String| Error::invalid(format!("{file}: loop of step '{}': {msg}", step.id));
    if spec.body.is_empty() {
        return Err(bad("it has no body".into()));
    }
    let kinds = [
        spec.count.is_some(),
        spec.range.is_some(),
        spec.until.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err(bad("give exactly one of count, range or until".into()));
    }
    let values: Vec<Option<i64>> = if let Some(count) = spec.count {
        if count < 1 {
            return Err(bad(format!("count must be at least 1, found {count}")));
        }
        if count as usize > MAX_LOOP_STEPS {
            return Err(bad(format!(
                "count {count} is over the limit of {MAX_LOOP_STEPS}"
            )));
        }
        (1..=count).map(Some).collect()
    } else if let Some(range) = &spec.range {
        let (start, end) = text::parse_range(range, vars).map_err(bad)?;
        if end < start {
            return Err(bad(format!(
                "range {range} ends ({end}) before it starts ({start})"
            )));
        }
        if (end - start) as u64 >= MAX_LOOP_STEPS as u64 {
            return Err(bad(format!(
                "range {range} is over the limit of {MAX_LOOP_STEPS} iterations"
            )));
        }
        (start..=end).map(Some).collect()
    } else {
        if spec.max.unwrap_or(0) < 1 {
            return Err(bad("an until loop needs max (at least 1)".into()));
        }
        vec![None]
    };
    let mut body_ids = HashSet::new();
    all_ids(&spec.body, &mut body_ids);
    if values.len().saturating_mul(body_ids.len()) > MAX_LOOP_STEPS {
        return Err(bad(format!(
            "it would make {} steps, over the limit of {MAX_LOOP_STEPS}",
            values.len().saturating_mul(body_ids.len())
        )));
    }
    let top_ids: Vec<String> = spec.body.iter().map(|s| s.id.clone()).collect();
    let top_needs: Vec<Vec<String>> = spec
        .body
        .iter()
        .map(|s| {
            s.needs
                .iter()
                .filter(|n| body_ids.contains(*n))
                .cloned()
                .collect()
        })
        .collect();
    let body_sinks = sinks(&top_ids, &top_needs);

    let mut out = Vec::with_capacity(values.len() * spec.body.len());
    let mut prev_sinks: Vec<String> = Vec::new();
    for (k, value) in values.iter().enumerate() {
        let prefix = format!("{}.iter{}.", step.id, k + 1);
        let subst: Vec<(String, String)> = match (&spec.var, value) {
            (Some(var), Some(v)) => vec![(var.clone(), v.to_string())],
            _ => Vec::new(),
        };
        for (j, body) in spec.body.iter().enumerate() {
            let mut s = clone_iteration(body, &prefix, &body_ids, &subst, k + 1);
            if top_needs[j].is_empty() {
                let inherited = if k == 0 { &step.needs } else { &prev_sinks };
                for n in inherited {
                    push_unique(&mut s.needs, n);
                }
            }
            if k == 0 && j == 0 {
                if let Some(until) = &spec.until {
                    s.metadata
                        .insert("loop".into(), json!({"until": until, "max": spec.max}));
                }
            }
            out.push(s);
        }
        prev_sinks = body_sinks
            .iter()
            .map(|id| format!("{prefix}{id}"))
            .collect();
    }
    renames.insert(step.id.clone(), prev_sinks);
    Ok(out)
}

fn clone_iteration(
    body: &Step,
    prefix: &str,
    body_ids: &HashSet<String>,
    subst: &[(String, String)],
    iteration: usize,
) -> Step {
    let mut s = body.clone();
    s.id = format!("{prefix}{}", body.id);
    s.needs = body
        .needs
        .iter()
        .map(|n| {
            if body_ids.contains(n) {
                format!("{prefix}{n}")
            } else {
                n.clone()
            }
        })
        .collect();
    for (var, value) in subst {
        for field in [
            &mut s.title,
            &mut s.description,
            &mut s.acceptance,
            &mut s.notes,
        ] {
            *field = field
                .replace(&format!("{{{{{var}}}}}"), value)
                .replace(&format!("{{{var}}}"), value);
        }
    }
    s.location = format!("{} (iteration {iteration})", body.location);
    s.children = body
        .children
        .iter()
        .map(|c| clone_iteration(c, prefix, body_ids, subst, iteration))
        .collect();
    s
}

/// Flatten the step tree (pre-order: a parent before its children).
pub fn flatten(steps: Vec<Step>, formula: &str) -> Vec<Node> {
    fn walk(steps: Vec<Step>, parent: Option<&str>, formula: &str, out: &mut Vec<Node>) {
        for mut step in steps {
            let children = std::mem::take(&mut step.children);
            let id = step.id.clone();
            out.push(Node::new(step, parent.map(str::to_string), formula));
            walk(children, Some(&id), formula, out);
        }
    }
    let mut out = Vec::with_capacity(steps.len());
    walk(steps, None, formula, &mut out);
    out
}

fn pointcut_matches(pointcuts: &[Pointcut], step: &Step) -> bool {
    pointcuts.is_empty()
        || pointcuts.iter().any(|pc| {
            pc.glob
                .as_ref()
                .is_none_or(|g| text::glob_match(g, &step.id))
                && pc
                    .step_type
                    .as_ref()
                    .is_none_or(|t| step.step_type.as_ref() == Some(t))
                && pc.label.as_ref().is_none_or(|l| step.labels.contains(l))
        })
}

/// Apply advice: `before` steps form a chain that takes over the advised step's needs and
/// that the step then needs; `after` steps form a chain after it, and the steps that needed
/// the advised step need the last `after` step instead. Only steps that existed before
/// advice is applied are advised (advice never advises its own steps).
pub fn apply_advice(nodes: Vec<Node>, sets: &[(String, &[Advice], &[Pointcut])]) -> Vec<Node> {
    if sets.is_empty() {
        return nodes;
    }
    type Plan<'s> = (
        Vec<(&'s str, &'s AdviceStep)>,
        Vec<(&'s str, &'s AdviceStep)>,
    );
    let mut plans: Vec<Option<Plan>> = Vec::with_capacity(nodes.len());
    let mut renames: HashMap<String, Vec<String>> = HashMap::new();
    for node in &nodes {
        let mut before = Vec::new();
        let mut after = Vec::new();
        for (name, advice, pointcuts) in sets {
            if !pointcut_matches(pointcuts, &node.step) {
                continue;
            }
            for rule in advice.iter() {
                if !rule.target.is_empty() && !text::glob_match(&rule.target, &node.step.id) {
                    continue;
                }
                before.extend(
                    rule.before
                        .iter()
                        .chain(&rule.around_before)
                        .map(|a| (name.as_str(), a)),
                );
                after.extend(
                    rule.after
                        .iter()
                        .chain(&rule.around_after)
                        .map(|a| (name.as_str(), a)),
                );
            }
        }
        if before.is_empty() && after.is_empty() {
            plans.push(None);
            continue;
        }
        if let Some((_, last)) = after.last() {
            renames.insert(node.step.id.clone(), vec![advice_id(last, &node.step)]);
        }
        plans.push(Some((before, after)));
    }
    let mut out = Vec::with_capacity(nodes.len() * 2);
    for (mut node, plan) in nodes.into_iter().zip(plans) {
        let needs = rename_needs(&node.step.needs, &renames);
        let Some((before, after)) = plan else {
            node.step.needs = needs;
            out.push(node);
            continue;
        };
        let mut prev: Option<String> = None;
        for (aspect, a) in before {
            let step_needs = match &prev {
                None => needs.clone(),
                Some(p) => vec![p.clone()],
            };
            let n = advice_node(a, aspect, &node, step_needs);
            prev = Some(n.step.id.clone());
            out.push(n);
        }
        node.step.needs = match prev {
            Some(p) => vec![p],
            None => needs,
        };
        let mut prev = node.step.id.clone();
        let after_nodes: Vec<Node> = after
            .into_iter()
            .map(|(aspect, a)| {
                let n = advice_node(a, aspect, &node, vec![prev.clone()]);
                prev = n.step.id.clone();
                n
            })
            .collect();
        out.push(node);
        out.extend(after_nodes);
    }
    out
}

fn advice_id(a: &AdviceStep, target: &Step) -> String {
    text::replace_placeholders(
        &a.id,
        &[("step.id", &target.id), ("step.title", &target.title)],
    )
}

fn advice_node(a: &AdviceStep, aspect: &str, target: &Node, needs: Vec<String>) -> Node {
    let t = &target.step;
    let fill =
        |s: &str| text::replace_placeholders(s, &[("step.id", &t.id), ("step.title", &t.title)]);
    let id = fill(&a.id);
    let title = if a.title.is_empty() {
        id.clone()
    } else {
        fill(&a.title)
    };
    let mut step = Step {
        title,
        description: fill(&a.description),
        step_type: a.step_type.clone(),
        needs,
        location: format!("advice of '{aspect}' for '{}'", t.id),
        id,
        ..Step::default()
    };
    step.metadata
        .insert("advice_for".into(), Value::String(t.id.clone()));
    if !a.args.is_empty() {
        step.metadata.insert("args".into(), json!(a.args));
    }
    if !a.output.is_empty() {
        step.metadata.insert("output".into(), json!(a.output));
    }
    Node::new(step, target.parent.clone(), aspect)
}

fn require_step(index: &HashMap<String, usize>, id: &str, what: &str, file: &str) -> Result<usize> {
    index
        .get(id)
        .copied()
        .ok_or_else(|| Error::invalid(format!("{file}: {what} '{id}' is not a step")))
}

/// Position of each step in `nodes`, by id.
fn step_index(nodes: &[Node]) -> HashMap<String, usize> {
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.step.id.clone(), i))
        .collect()
}

/// `[[compose.branch]]`: the branch steps need `from`, and `join` needs them all.
pub fn apply_branches(nodes: &mut [Node], rules: &[BranchRule], file: &str) -> Result<()> {
    if rules.is_empty() {
        return Ok(());
    }
    let index = step_index(nodes);
    for rule in rules {
        require_step(&index, &rule.from, "compose.branch from", file)?;
        let join = require_step(&index, &rule.join, "compose.branch join", file)?;
        for s in &rule.steps {
            let i = require_step(&index, s, "compose.branch step", file)?;
            push_unique(&mut nodes[i].step.needs, &rule.from);
            push_unique(&mut nodes[join].step.needs, s);
        }
    }
    Ok(())
}

/// `[[compose.gate]]`: recorded as `gate_conditions` metadata for the runtime.
pub fn apply_gate_rules(nodes: &mut [Node], rules: &[GateRule], file: &str) -> Result<()> {
    if rules.is_empty() {
        return Ok(());
    }
    let index = step_index(nodes);
    for rule in rules {
        let i = require_step(&index, &rule.before, "compose.gate before", file)?;
        let list = nodes[i]
            .step
            .metadata
            .entry("gate_conditions")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = list {
            items.push(Value::String(rule.condition.clone()));
        }
    }
    Ok(())
}

/// Drop the steps whose `condition` is false (runtime mode), with their children; steps
/// that needed a dropped step need what it needed.
pub fn apply_conditions(
    nodes: Vec<Node>,
    vars: &BTreeMap<String, String>,
    mode: CookMode,
    file: &str,
) -> Result<Vec<Node>> {
    let mut removed: HashMap<String, Vec<String>> = HashMap::new();
    let mut keep = Vec::with_capacity(nodes.len());
    for mut node in nodes {
        let parent_removed = node
            .parent
            .as_ref()
            .is_some_and(|p| removed.contains_key(p));
        if let Some(cond) = node.step.condition.clone() {
            let ok = text::eval_condition(&cond, vars)
                .map_err(|msg| Error::invalid(format!("{file}: step '{}': {msg}", node.step.id)))?;
            node.step
                .metadata
                .insert("condition".into(), Value::String(cond));
            if !ok && mode == CookMode::Runtime {
                removed.insert(node.step.id.clone(), node.step.needs.clone());
                continue;
            }
        }
        if parent_removed && mode == CookMode::Runtime {
            removed.insert(node.step.id.clone(), node.step.needs.clone());
            continue;
        }
        keep.push(node);
    }
    apply_renames(&mut keep, &removed);
    Ok(keep)
}

/// Substitute `{{var}}` in the text fields of every step. Variable-like names that are not
/// declared anywhere are left as they are, with one warning each. A field may not grow past
/// `MAX_VAR_BYTES` (plus its own length) through substitution.
pub fn substitute_vars(
    nodes: &mut [Node],
    vars: &BTreeMap<String, String>,
    declared: &[&str],
    file: &str,
    warnings: &mut Vec<String>,
) -> crate::error::Result<()> {
    let mut undeclared: BTreeMap<String, String> = BTreeMap::new();
    for node in nodes.iter_mut() {
        let id = node.step.id.clone();
        let mut note = |name: &str| {
            if !declared.contains(&name) && !undeclared.contains_key(name) {
                undeclared.insert(name.to_string(), id.clone());
            }
        };
        let s = &mut node.step;
        let mut fields: Vec<&mut String> = vec![
            &mut s.title,
            &mut s.description,
            &mut s.acceptance,
            &mut s.notes,
        ];
        fields.extend(s.labels.iter_mut());
        fields.extend(s.assignee.as_mut());
        if let Some(g) = s.gate.as_mut() {
            fields.extend([&mut g.id, &mut g.timeout].into_iter().flatten());
        }
        fields.extend(s.output.as_mut());
        for field in fields {
            if !field.contains("{{") {
                continue;
            }
            let limit = super::cook::MAX_VAR_BYTES.saturating_add(field.len());
            *field = text::substitute_within(field, vars, &mut note, limit).ok_or_else(|| {
                crate::error::Error::invalid(format!(
                    "{file}: step '{id}' grows past 1 MiB when its variables are substituted"
                ))
            })?;
        }
    }
    for (name, step) in undeclared {
        warnings.push(format!(
            "{file}: step '{step}' uses {{{{{name}}}}}, which is not a declared variable; left as is"
        ));
    }
    Ok(())
}
