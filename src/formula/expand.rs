//! Expansion: loading the formulas named by `compose.expand`, `compose.map` and inline
//! `expand`, and replacing target steps by their templates (`{target}`, `{target.title}`,
//! `{target.description}` filled in). Steps that needed a target need the template's sinks.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::library::Resolver;
use super::model::*;
use super::text;
use super::transform::{push_unique, rename_needs, sinks, Node, MAX_EXPANSION_DEPTH};
use crate::error::{Error, Result};

/// Loading of the formulas named by compose rules, and expansion.
pub struct Ctx<'a> {
    resolver: &'a dyn Resolver,
    file: &'a str,
    cache: HashMap<String, Formula>,
    applied: Vec<String>,
    vars: BTreeMap<String, String>,
}

impl<'a> Ctx<'a> {
    pub fn new(resolver: &'a dyn Resolver, file: &'a str, _formula: &str) -> Self {
        Ctx {
            resolver,
            file,
            cache: HashMap::new(),
            applied: Vec::new(),
            vars: BTreeMap::new(),
        }
    }

    /// The resolved variable values; expansion templates leave these to the main pass.
    pub fn set_vars(&mut self, vars: &BTreeMap<String, String>) {
        self.vars = vars.clone();
    }

    /// Load a formula by name (extends resolved), for the rule `why`.
    pub fn load(&mut self, name: &str, why: &str, warnings: &mut Vec<String>) -> Result<Formula> {
        if let Some(f) = self.cache.get(name) {
            return Ok(f.clone());
        }
        let parsed = self.resolver.resolve(name)?.ok_or_else(|| {
            Error::invalid(format!(
                "{}: unknown formula '{name}' in {why} (searched {})",
                self.file,
                self.resolver.searched()
            ))
        })?;
        warnings.extend(parsed.warnings.iter().cloned());
        let mut ancestry = Vec::new();
        let f = super::cook::resolve_extends_pub(
            &parsed.formula,
            self.resolver,
            &mut ancestry,
            warnings,
        )?;
        self.cache.insert(name.to_string(), f.clone());
        Ok(f)
    }

    /// Load an expansion formula, checking that it is one.
    pub fn expansion(
        &mut self,
        name: &str,
        why: &str,
        warnings: &mut Vec<String>,
    ) -> Result<Formula> {
        let f = self.load(name, why, warnings)?;
        if f.kind != FormulaKind::Expansion || f.template.is_empty() {
            return Err(Error::invalid(format!(
                "{}: '{name}' in {why} is not an expansion formula (it is a {} formula{})",
                self.file,
                f.kind,
                if f.template.is_empty() {
                    " with no [[template]]"
                } else {
                    ""
                }
            )));
        }
        Ok(f)
    }

    /// Variables declared by the loaded expansion and aspect formulas.
    pub fn loaded_vars(&self) -> impl Iterator<Item = &VarDef> {
        self.cache.values().flat_map(|f| f.vars.iter())
    }

    pub fn applied_expansions(&self) -> Vec<String> {
        self.applied.clone()
    }

    /// The template of `exp` applied to `target`: the new nodes and the sink ids (what
    /// dependents of the target will need instead).
    pub fn instantiate(
        &mut self,
        target: &Node,
        exp: &Formula,
        rule_vars: &BTreeMap<String, String>,
    ) -> Result<(Vec<Node>, Vec<String>)> {
        if !self.applied.contains(&exp.name) {
            self.applied.push(exp.name.clone());
        }
        let t = &target.step;
        let pairs = [
            ("target", t.id.as_str()),
            ("target.id", t.id.as_str()),
            ("target.title", t.title.as_str()),
            ("target.description", t.description.as_str()),
        ];
        // Expansion-local values: rule vars, then the main formula's, then the defaults.
        let mut local: BTreeMap<String, String> = BTreeMap::new();
        for v in &exp.vars {
            if let Some(d) = &v.default {
                if !self.vars.contains_key(&v.name) {
                    local.insert(v.name.clone(), d.clone());
                }
            }
        }
        local.extend(rule_vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        let fill = |s: &str| -> String {
            let s = text::replace_placeholders(s, &pairs);
            text::substitute(&s, &local, &mut |_| {})
        };
        let mut ids = HashSet::new();
        collect_ids_with(&exp.template, &fill, &mut ids);
        let top_ids: Vec<String> = exp.template.iter().map(|s| fill(&s.id)).collect();
        let top_needs: Vec<Vec<String>> = exp
            .template
            .iter()
            .map(|s| {
                s.needs
                    .iter()
                    .map(|n| fill(n))
                    .filter(|n| ids.contains(n))
                    .collect()
            })
            .collect();
        let mut out = Vec::new();
        for (j, tmpl) in exp.template.iter().enumerate() {
            let inherit = top_needs[j].is_empty();
            self.emit_template(
                tmpl,
                &fill,
                target,
                exp,
                target.parent.clone(),
                inherit,
                &mut out,
            )?;
        }
        Ok((out, sinks(&top_ids, &top_needs)))
    }

    #[allow(clippy::too_many_arguments)]
    fn emit_template(
        &self,
        tmpl: &Step,
        fill: &dyn Fn(&str) -> String,
        target: &Node,
        exp: &Formula,
        parent: Option<String>,
        inherit: bool,
        out: &mut Vec<Node>,
    ) -> Result<()> {
        if tmpl.loop_spec.is_some() {
            return Err(Error::invalid(format!(
                "{}: template step '{}' of expansion '{}' has a loop, which templates cannot have",
                self.file, tmpl.id, exp.name
            )));
        }
        let mut s = tmpl.clone();
        s.children = Vec::new();
        s.id = fill(&tmpl.id);
        s.title = fill(&tmpl.title);
        s.description = fill(&tmpl.description);
        s.acceptance = fill(&tmpl.acceptance);
        s.notes = fill(&tmpl.notes);
        s.labels = tmpl.labels.iter().map(|l| fill(l)).collect();
        s.assignee = tmpl.assignee.as_ref().map(|a| fill(a));
        s.needs = tmpl.needs.iter().map(|n| fill(n)).collect();
        if inherit {
            for n in &target.step.needs {
                push_unique(&mut s.needs, n);
            }
        }
        s.location = format!(
            "{} of '{}' for '{}'",
            tmpl.location, exp.name, target.step.id
        );
        s.metadata.insert(
            "expanded_from".into(),
            Value::String(target.step.id.clone()),
        );
        let id = s.id.clone();
        out.push(Node::new(s, parent, &exp.name));
        for child in &tmpl.children {
            self.emit_template(child, fill, target, exp, Some(id.clone()), false, out)?;
        }
        Ok(())
    }

    /// Replace each target (id → expansion name and vars) by its expansion.
    fn apply_targets(
        &mut self,
        nodes: Vec<Node>,
        targets: &HashMap<String, (String, BTreeMap<String, String>, &'static str)>,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<Node>> {
        if targets.is_empty() {
            return Ok(nodes);
        }
        let parents: HashSet<&str> = nodes.iter().filter_map(|n| n.parent.as_deref()).collect();
        let mut replaced: HashMap<String, (Vec<Node>, HashSet<String>)> = HashMap::new();
        let mut renames: HashMap<String, Vec<String>> = HashMap::new();
        for node in &nodes {
            let Some((with, vars, why)) = targets.get(&node.step.id) else {
                continue;
            };
            if parents.contains(node.step.id.as_str()) {
                return Err(Error::invalid(format!(
                    "{}: cannot expand step '{}' with '{with}': it has children",
                    self.file, node.step.id
                )));
            }
            let exp = self.expansion(with, why, warnings)?;
            let (new_nodes, sink_ids) = self.instantiate(node, &exp, vars)?;
            let internal: HashSet<String> = new_nodes.iter().map(|n| n.step.id.clone()).collect();
            renames.insert(node.step.id.clone(), sink_ids);
            replaced.insert(node.step.id.clone(), (new_nodes, internal));
        }
        let mut out = Vec::with_capacity(nodes.len() + replaced.len() * 4);
        for mut node in nodes {
            match replaced.remove(&node.step.id) {
                Some((new_nodes, internal)) => {
                    for mut n in new_nodes {
                        let (inside, outside): (Vec<String>, Vec<String>) =
                            n.step.needs.into_iter().partition(|x| internal.contains(x));
                        let mut needs = inside;
                        for x in rename_needs(&outside, &renames) {
                            push_unique(&mut needs, &x);
                        }
                        n.step.needs = needs;
                        out.push(n);
                    }
                }
                None => {
                    if node.step.needs.iter().any(|n| renames.contains_key(n)) {
                        node.step.needs = rename_needs(&node.step.needs, &renames);
                    }
                    out.push(node);
                }
            }
        }
        Ok(out)
    }

    /// `[[compose.expand]]` rules and inline `expand` steps (nested up to a depth limit).
    pub fn apply_expand_rules(
        &mut self,
        mut nodes: Vec<Node>,
        rules: &[ExpandRule],
        warnings: &mut Vec<String>,
    ) -> Result<Vec<Node>> {
        let mut targets = HashMap::new();
        let index: HashSet<&str> = nodes.iter().map(|n| n.step.id.as_str()).collect();
        for rule in rules {
            if !index.contains(rule.target.as_str()) {
                return Err(Error::invalid(format!(
                    "{}: compose.expand target '{}' is not a step",
                    self.file, rule.target
                )));
            }
            targets.entry(rule.target.clone()).or_insert((
                rule.with.clone(),
                rule.vars.clone(),
                "compose.expand",
            ));
        }
        for depth in 0..=MAX_EXPANSION_DEPTH {
            for n in &nodes {
                if let Some(with) = &n.step.expand {
                    targets.entry(n.step.id.clone()).or_insert((
                        with.clone(),
                        n.step.expand_vars.clone(),
                        "expand",
                    ));
                }
            }
            if targets.is_empty() {
                return Ok(nodes);
            }
            if depth == MAX_EXPANSION_DEPTH {
                break;
            }
            nodes = self.apply_targets(nodes, &targets, warnings)?;
            targets.clear();
        }
        Err(Error::invalid(format!(
            "{}: expansions nest deeper than {MAX_EXPANSION_DEPTH} levels",
            self.file
        )))
    }

    /// `[[compose.map]]` rules, one after the other.
    pub fn apply_map_rules(
        &mut self,
        mut nodes: Vec<Node>,
        rules: &[MapRule],
        warnings: &mut Vec<String>,
    ) -> Result<Vec<Node>> {
        for rule in rules {
            let targets: HashMap<_, _> = nodes
                .iter()
                .filter(|n| text::glob_match(&rule.select, &n.step.id))
                .map(|n| {
                    (
                        n.step.id.clone(),
                        (rule.with.clone(), rule.vars.clone(), "compose.map"),
                    )
                })
                .collect();
            if targets.is_empty() {
                warnings.push(format!(
                    "{}: compose.map select '{}' matches no step",
                    self.file, rule.select
                ));
            }
            nodes = self.apply_targets(nodes, &targets, warnings)?;
        }
        Ok(nodes)
    }
}

fn collect_ids_with(steps: &[Step], fill: &dyn Fn(&str) -> String, out: &mut HashSet<String>) {
    for s in steps {
        out.insert(fill(&s.id));
        collect_ids_with(&s.children, fill, out);
    }
}
