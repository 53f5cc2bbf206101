//! `cook`: a parsed formula → the final step graph ([`Cooked`]), written nowhere.
//!
//! Pipeline: `extends` (cycle-checked) → variables (unknown, missing, allowed values) →
//! loops → convoy legs / synthesis → flatten children → `compose.expand` and inline `expand`
//! → `compose.map` → aspects (advice) → `compose.branch` / `compose.gate` → conditions →
//! `{{var}}` substitution → checks (unique ids, known `needs`, no cycle) → topological order.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::{Map, Value};

use super::expand::Ctx;
use super::graph;
use super::library::Resolver;
use super::model::*;
use super::parse::Parsed;
use super::text;
use super::transform::{self, Node};
use crate::error::{Error, Result};

/// How strictly variables are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CookMode {
    /// For pouring: every required variable must have a value, conditions filter steps.
    #[default]
    Runtime,
    /// For validation: missing variables are left as `{{name}}` placeholders and steps with
    /// a `condition` are all kept (their condition is still checked for syntax).
    Compile,
}

/// What to cook with.
#[derive(Debug, Clone, Default)]
pub struct CookOptions {
    /// `--var name=value` pairs.
    pub vars: BTreeMap<String, String>,
    pub mode: CookMode,
    /// Convoy formulas: cook only the legs of this `[presets.<name>]`.
    pub preset: Option<String>,
}

/// One step of the cooked graph: what the pourer turns into a bead.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CookedStep {
    /// Unique within the molecule; `needs`, `parent` and `children` use these ids.
    pub id: String,
    pub title: String,
    pub description: String,
    /// Acceptance criteria (bead field `acceptance_criteria`); empty if none.
    pub acceptance: String,
    /// Bead notes; empty if none.
    pub notes: String,
    /// Bead type: the step's `type` if it names one, else `epic` for a step with children
    /// and `task` otherwise.
    pub issue_type: String,
    /// 0-4 if the formula gives one (bead default 2 otherwise).
    pub priority: Option<u8>,
    pub labels: Vec<String>,
    pub assignee: Option<String>,
    /// Steps that must be closed before this one is ready (blocking dependencies).
    pub needs: Vec<String>,
    /// The containing step of a nested `children` step (a parent-child edge).
    pub parent: Option<String>,
    /// Direct children, in order.
    pub children: Vec<String>,
    /// Everything else kept from the formula: `gate`, `waits_for`, `loop`, `on_complete`,
    /// `parallel`, `interactive`, `output`, `execution`, convoy `leg`/`focus`/`prompt`/
    /// `output_path`, `synthesis`, `expanded_from`, `advice_for`, `condition`,
    /// `gate_conditions`, `source_formula`, `source_location`, plus the step's own
    /// `[steps.metadata]`.
    pub metadata: Map<String, Value>,
}

/// A cooked formula: the complete, ordered step graph plus what the pourer needs to know.
#[derive(Debug, Clone, Serialize)]
pub struct Cooked {
    pub formula: String,
    pub kind: FormulaKind,
    pub description: String,
    pub version: Option<i64>,
    /// Where the formula came from: `builtin`, `repo`, `user` or `file`.
    pub source: SourceKind,
    /// The file (or `builtin:<name>.formula.toml`).
    pub path: String,
    /// `pour = true`: materialise every step as a bead even for a wisp.
    pub pour: bool,
    /// `liquid` (pour) or `vapor` (wisp), if the formula says.
    pub phase: Option<String>,
    pub agent: Option<String>,
    /// `[squash]` settings for `git mol squash`, as written.
    pub squash: Option<Map<String, Value>>,
    /// The value of every declared variable that has one (given, else default).
    pub vars: BTreeMap<String, String>,
    /// Steps in a topological order: every step comes after the steps it needs and after
    /// its parent; ties keep the formula's order.
    pub steps: Vec<CookedStep>,
    /// Convoy formulas: the ids of the leg steps (parallel, no needs of their own).
    pub legs: Vec<String>,
    /// Convoy formulas: the id of the synthesis step (it needs the legs).
    pub synthesis: Option<String>,
    /// Convoy `[prompts]`, as written.
    pub prompts: BTreeMap<String, String>,
    /// Convoy `[output]`.
    pub output: Option<Output>,
    /// The `extends` ancestry that was merged in, nearest first.
    pub extends: Vec<String>,
    /// Expansion formulas applied (compose.expand, compose.map, inline expand).
    pub expansions: Vec<String>,
    /// Aspect formulas applied (compose.aspects).
    pub aspects: Vec<String>,
    /// Bond points and hooks of `[compose]`, kept for bonding.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bond_points: Vec<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<Value>,
    /// Non-fatal findings: unknown keys, undeclared `{{vars}}`, shadowed names, ...
    pub warnings: Vec<String>,
}

impl Cooked {
    pub fn step(&self, id: &str) -> Option<&CookedStep> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// Steps that need nothing and have no parent: ready as soon as the molecule is poured.
    pub fn roots(&self) -> impl Iterator<Item = &CookedStep> {
        self.steps
            .iter()
            .filter(|s| s.needs.is_empty() && s.parent.is_none())
    }
}

/// Cook a parsed formula. `resolver` finds the formulas named by `extends`, `compose` and
/// inline `expand`.
pub fn cook(parsed: &Parsed, resolver: &dyn Resolver, opts: &CookOptions) -> Result<Cooked> {
    let mut warnings = parsed.warnings.clone();
    let file = parsed.formula.origin.label.clone();
    let mut ancestry = Vec::new();
    let formula = resolve_extends(
        &parsed.formula,
        resolver,
        &mut vec![parsed.formula.name.clone()],
        &mut ancestry,
        &mut warnings,
    )?;
    let mut ctx = Ctx::new(resolver, &file, &formula.name);

    // Load the aspects and compose expansions first: their variables are known variables.
    let mut aspects = Vec::new();
    for name in &formula.compose.aspects {
        let aspect = ctx.load(name, "compose.aspects", &mut warnings)?;
        if aspect.advice.is_empty() {
            return Err(Error::invalid(format!(
                "{file}: '{name}' in compose.aspects is not an aspect formula (it is a {} formula with no [[advice]])",
                aspect.kind
            )));
        }
        aspects.push(aspect);
    }
    for with in formula
        .compose
        .expand
        .iter()
        .map(|r| (&r.with, "compose.expand"))
        .chain(formula.compose.map.iter().map(|r| (&r.with, "compose.map")))
    {
        ctx.expansion(with.0, with.1, &mut warnings)?;
    }

    let vars = resolve_vars(&formula, &aspects, &ctx, opts, &file)?;
    ctx.set_vars(&vars);

    // The step tree: steps (loops expanded), then convoy legs and synthesis.
    let mut renames: HashMap<String, Vec<String>> = HashMap::new();
    let steps = transform::expand_loops(formula.steps.clone(), &vars, &mut renames, &file)?;
    let mut nodes = transform::flatten(steps, &formula.name);
    let (legs, synthesis) = convoy_steps(&formula, opts, &vars, &mut nodes, &file)?;
    let mut standalone = false;
    if formula.kind == FormulaKind::Expansion && nodes.is_empty() {
        standalone = true;
        let exp = formula.clone();
        let target = Node::synthetic(&formula.name, &formula.description);
        nodes = ctx.instantiate(&target, &exp, &BTreeMap::new())?.0;
        warnings.push(format!(
            "{file}: expansion formula cooked on its own: its template is applied to a step called '{}'",
            formula.name
        ));
    }
    if formula.kind == FormulaKind::Aspect && nodes.is_empty() {
        warnings.push(format!(
            "{file}: aspect formula '{}' has no steps of its own; apply it with compose.aspects = [\"{}\"]",
            formula.name, formula.name
        ));
    }
    transform::apply_renames(&mut nodes, &renames);

    // Expansions, then maps, then aspects.
    if !standalone {
        nodes = ctx.apply_expand_rules(nodes, &formula.compose.expand, &mut warnings)?;
        nodes = ctx.apply_map_rules(nodes, &formula.compose.map, &mut warnings)?;
    }
    let mut advice_sets: Vec<(String, &[Advice], &[Pointcut])> = Vec::new();
    if formula.kind != FormulaKind::Aspect && !formula.advice.is_empty() {
        advice_sets.push((formula.name.clone(), &formula.advice, &formula.pointcuts));
    }
    for aspect in &aspects {
        advice_sets.push((aspect.name.clone(), &aspect.advice, &aspect.pointcuts));
    }
    nodes = transform::apply_advice(nodes, &advice_sets);
    transform::apply_branches(&mut nodes, &formula.compose.branch, &file)?;
    transform::apply_gate_rules(&mut nodes, &formula.compose.gate, &file)?;
    nodes = transform::apply_conditions(nodes, &vars, opts.mode, &file)?;

    let declared: Vec<&str> = formula
        .vars
        .iter()
        .chain(aspects.iter().flat_map(|a| a.vars.iter()))
        .chain(ctx.loaded_vars())
        .map(|v| v.name.as_str())
        .collect();
    transform::substitute_vars(&mut nodes, &vars, &declared, &file, &mut warnings)?;

    let steps = graph::finish(nodes, &file, opts.mode)?;
    let mut undeclared = Vec::new();
    let description = text::substitute(&formula.description, &vars, &mut |n| {
        undeclared.push(n.to_string())
    });

    Ok(Cooked {
        formula: formula.name.clone(),
        kind: formula.kind,
        description,
        version: formula.version,
        source: formula.origin.source,
        path: file.clone(),
        pour: formula.pour.unwrap_or(false),
        phase: formula.phase.clone(),
        agent: formula.agent.clone(),
        squash: formula.squash.clone(),
        vars,
        steps,
        legs,
        synthesis,
        prompts: formula.prompts.clone(),
        output: formula.output.clone(),
        extends: ancestry,
        expansions: ctx.applied_expansions(),
        aspects: aspects.iter().map(|a| a.name.clone()).collect(),
        bond_points: formula.compose.bond_points.clone(),
        hooks: formula.compose.hooks.clone(),
        warnings,
    })
}

/// [`resolve_extends`] for a formula loaded by name (aspects, expansions).
pub(super) fn resolve_extends_pub(
    f: &Formula,
    resolver: &dyn Resolver,
    ancestry: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Result<Formula> {
    resolve_extends(f, resolver, &mut vec![f.name.clone()], ancestry, warnings)
}

/// Merge the `extends` ancestry into one formula. Parents are merged in order, then the
/// child on top: vars, steps, template steps, legs and presets with the same name/id are
/// replaced in place; compose rules, advice and pointcuts are concatenated.
fn resolve_extends(
    f: &Formula,
    resolver: &dyn Resolver,
    stack: &mut Vec<String>,
    ancestry: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Result<Formula> {
    if f.extends.is_empty() {
        return Ok(f.clone());
    }
    let mut base: Option<Formula> = None;
    for parent_name in &f.extends {
        if stack.contains(parent_name) {
            let start = stack.iter().position(|n| n == parent_name).unwrap_or(0);
            let mut cycle: Vec<&str> = stack[start..].iter().map(String::as_str).collect();
            cycle.push(parent_name);
            return Err(Error::invalid(format!(
                "{}: extends cycle: {}",
                stack_label(f, stack),
                cycle.join(" -> ")
            )));
        }
        let parent = resolver.resolve(parent_name)?.ok_or_else(|| {
            Error::invalid(format!(
                "{}: unknown formula '{parent_name}' in extends (searched {})",
                f.origin.label,
                resolver.searched()
            ))
        })?;
        warnings.extend(parent.warnings.iter().cloned());
        ancestry.push(parent_name.clone());
        stack.push(parent_name.clone());
        let resolved = resolve_extends(&parent.formula, resolver, stack, ancestry, warnings)?;
        stack.pop();
        base = Some(match base {
            None => resolved,
            Some(b) => merge(b, &resolved),
        });
    }
    let mut merged = match base {
        Some(b) => merge(b, f),
        None => f.clone(),
    };
    merged.extends.clear();
    Ok(merged)
}

/// The file to name for an extends problem: the formula at the bottom of the stack is the
/// one being cooked, but only its own origin is at hand here.
fn stack_label(f: &Formula, stack: &[String]) -> String {
    if stack.len() <= 1 {
        f.origin.label.clone()
    } else {
        format!(
            "{} (extended by {})",
            f.origin.label,
            stack[..stack.len() - 1].join(" <- ")
        )
    }
}

fn merge(mut base: Formula, child: &Formula) -> Formula {
    fn merge_by<T: Clone>(base: &mut Vec<T>, child: &[T], key: impl Fn(&T) -> &str) {
        let mut index: HashMap<String, usize> = base
            .iter()
            .enumerate()
            .map(|(i, x)| (key(x).to_string(), i))
            .collect();
        for item in child {
            match index.get(key(item)) {
                Some(&i) => base[i] = item.clone(),
                None => {
                    index.insert(key(item).to_string(), base.len());
                    base.push(item.clone());
                }
            }
        }
    }
    merge_by(&mut base.vars, &child.vars, |v| &v.name);
    merge_by(&mut base.steps, &child.steps, |s| &s.id);
    merge_by(&mut base.template, &child.template, |s| &s.id);
    merge_by(&mut base.legs, &child.legs, |l| &l.id);
    merge_by(&mut base.presets, &child.presets, |p| &p.name);
    base.compose
        .expand
        .extend(child.compose.expand.iter().cloned());
    base.compose.map.extend(child.compose.map.iter().cloned());
    for a in &child.compose.aspects {
        if !base.compose.aspects.contains(a) {
            base.compose.aspects.push(a.clone());
        }
    }
    base.compose
        .branch
        .extend(child.compose.branch.iter().cloned());
    base.compose.gate.extend(child.compose.gate.iter().cloned());
    base.compose
        .bond_points
        .extend(child.compose.bond_points.iter().cloned());
    base.compose
        .hooks
        .extend(child.compose.hooks.iter().cloned());
    base.advice.extend(child.advice.iter().cloned());
    base.pointcuts.extend(child.pointcuts.iter().cloned());
    base.prompts.extend(child.prompts.clone());
    Formula {
        name: child.name.clone(),
        kind: child.kind,
        description: if child.description.is_empty() {
            base.description
        } else {
            child.description.clone()
        },
        version: child.version.or(base.version),
        pour: child.pour.or(base.pour),
        phase: child.phase.clone().or(base.phase),
        agent: child.agent.clone().or(base.agent),
        review_only: child.review_only.or(base.review_only),
        execution: child.execution.clone().or(base.execution),
        extends: Vec::new(),
        vars: base.vars,
        steps: base.steps,
        template: base.template,
        compose: base.compose,
        advice: base.advice,
        pointcuts: base.pointcuts,
        legs: base.legs,
        synthesis: child.synthesis.clone().or(base.synthesis),
        prompts: base.prompts,
        output: child.output.clone().or(base.output),
        presets: base.presets,
        squash: child.squash.clone().or(base.squash),
        origin: child.origin.clone(),
    }
}

/// Check `--var`s against the declared variables and give every variable its value.
fn resolve_vars(
    formula: &Formula,
    aspects: &[Formula],
    ctx: &Ctx,
    opts: &CookOptions,
    file: &str,
) -> Result<BTreeMap<String, String>> {
    // The formula's own variables, then those of its aspects and expansions (which are
    // never required here: their rules may give them values).
    let mut defs: Vec<(&VarDef, bool)> = formula.vars.iter().map(|v| (v, true)).collect();
    for extra in aspects
        .iter()
        .flat_map(|a| a.vars.iter())
        .chain(ctx.loaded_vars())
    {
        if !defs.iter().any(|(d, _)| d.name == extra.name) {
            defs.push((extra, false));
        }
    }
    for name in opts.vars.keys() {
        if !defs.iter().any(|(d, _)| &d.name == name) {
            let known: Vec<&str> = defs.iter().map(|(d, _)| d.name.as_str()).collect();
            return Err(Error::invalid(if known.is_empty() {
                format!(
                    "{file}: unknown variable '{name}': formula '{}' declares no variables",
                    formula.name
                )
            } else {
                format!(
                    "{file}: unknown variable '{name}' for formula '{}'; known variables: {}",
                    formula.name,
                    known.join(", ")
                )
            }));
        }
    }
    let mut values = BTreeMap::new();
    let mut missing = Vec::new();
    for &(def, own) in &defs {
        let value = opts.vars.get(&def.name).or(def.default.as_ref());
        match value {
            Some(v) => {
                if !def.allowed.is_empty() && !def.allowed.contains(v) {
                    return Err(Error::invalid(format!(
                        "{file}: variable '{}' must be one of {} (got '{v}')",
                        def.name,
                        def.allowed.join(", ")
                    )));
                }
                check_type(def, v, file)?;
                values.insert(def.name.clone(), v.clone());
            }
            None => {
                let excused = !def.required_unless.is_empty()
                    && def
                        .required_unless
                        .iter()
                        .any(|o| opts.vars.contains_key(o));
                let required = own
                    && if def.required_unless.is_empty() {
                        def.required
                    } else {
                        !excused
                    };
                if required {
                    missing.push(def.name.as_str());
                } else if opts.mode == CookMode::Runtime {
                    values.insert(def.name.clone(), String::new());
                }
            }
        }
    }
    if !missing.is_empty() && opts.mode == CookMode::Runtime {
        let plural = if missing.len() == 1 { "" } else { "s" };
        let hint: Vec<String> = missing.iter().map(|m| format!("--var {m}=VALUE")).collect();
        return Err(Error::invalid(format!(
            "{file}: missing required variable{plural} for formula '{}': {} (give {})",
            formula.name,
            missing.join(", "),
            hint.join(" ")
        )));
    }
    // Values may refer to other variables (`branch = "polecat/{{issue}}"`).
    let mut expanded = BTreeMap::new();
    for name in values.keys() {
        expand_var(name, &values, &mut expanded, &mut Vec::new(), file)?;
    }
    Ok(expanded)
}

/// Longest value a variable may reach through references to others: 1 MiB is far above any
/// real bead text, and keeps `a = "{{b}}{{b}}"`, `b = "{{c}}{{c}}"`, … from doubling per level.
pub const MAX_VAR_BYTES: usize = 1 << 20;
/// Longest chain of variables referring to variables (real formulas use one or two links).
const MAX_VAR_DEPTH: usize = 32;

/// The value of `name` with every variable it refers to expanded (memoised in `done`).
/// `chain` holds the variables being expanded, to name a cycle.
fn expand_var(
    name: &str,
    raw: &BTreeMap<String, String>,
    done: &mut BTreeMap<String, String>,
    chain: &mut Vec<String>,
    file: &str,
) -> Result<String> {
    if let Some(value) = done.get(name) {
        return Ok(value.clone());
    }
    if let Some(start) = chain.iter().position(|n| n == name) {
        let mut cycle = chain[start..].to_vec();
        cycle.push(name.to_string());
        return Err(Error::invalid(format!(
            "{file}: variables refer to each other in a cycle: {}",
            cycle.join(" -> ")
        )));
    }
    if chain.len() >= MAX_VAR_DEPTH {
        return Err(Error::invalid(format!(
            "{file}: variables refer to variables more than {MAX_VAR_DEPTH} levels deep: {} -> {name}",
            chain[..3].join(" -> ")
        )));
    }
    let value = &raw[name];
    let mut refs = Vec::new();
    text::referenced_vars(value, &mut refs);
    refs.retain(|r| raw.contains_key(r));
    chain.push(name.to_string());
    let mut inner = BTreeMap::new();
    for r in &refs {
        let v = expand_var(r, raw, done, chain, file)?;
        inner.insert(r.clone(), v);
    }
    chain.pop();
    let out = text::substitute_within(value, &inner, &mut |_| {}, MAX_VAR_BYTES.max(value.len()))
        .ok_or_else(|| {
        Error::invalid(format!(
            "{file}: variable '{name}' expands to more than 1 MiB through {}",
            refs.join(", ")
        ))
    })?;
    done.insert(name.to_string(), out.clone());
    Ok(out)
}

fn check_type(def: &VarDef, value: &str, file: &str) -> Result<()> {
    let ok = match def.value_type.as_deref() {
        Some("int" | "integer") => value.trim().parse::<i64>().is_ok(),
        Some("number") => value.trim().parse::<f64>().is_ok(),
        Some("bool" | "boolean") => matches!(value.trim(), "true" | "false"),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{file}: variable '{}' must be {} (got '{value}')",
            def.name,
            match def.value_type.as_deref() {
                Some("bool" | "boolean") => "true or false",
                Some("number") => "a number",
                _ => "an integer",
            }
        )))
    }
}

/// Convoy legs become parallel steps and the synthesis a step needing them.
fn convoy_steps(
    formula: &Formula,
    opts: &CookOptions,
    vars: &BTreeMap<String, String>,
    nodes: &mut Vec<Node>,
    file: &str,
) -> Result<(Vec<String>, Option<String>)> {
    let mut legs: Vec<&Leg> = formula.legs.iter().collect();
    if let Some(preset_name) = &opts.preset {
        let preset = formula
            .presets
            .iter()
            .find(|p| &p.name == preset_name)
            .ok_or_else(|| {
                let names: Vec<&str> = formula.presets.iter().map(|p| p.name.as_str()).collect();
                Error::invalid(if names.is_empty() {
                    format!("{file}: formula '{}' has no presets", formula.name)
                } else {
                    format!(
                        "{file}: unknown preset '{preset_name}'; presets: {}",
                        names.join(", ")
                    )
                })
            })?;
        let mut chosen = Vec::new();
        for leg_id in &preset.legs {
            let leg = formula
                .legs
                .iter()
                .find(|l| &l.id == leg_id)
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "{file}: preset '{preset_name}' names unknown leg '{leg_id}'"
                    ))
                })?;
            chosen.push(leg);
        }
        legs = chosen;
    }
    if legs.is_empty() {
        return Ok((Vec::new(), None));
    }
    let mut leg_ids = Vec::new();
    for (i, leg) in legs.iter().enumerate() {
        let mut meta = Map::new();
        meta.insert("leg".into(), Value::Bool(true));
        if !leg.focus.is_empty() {
            meta.insert("focus".into(), Value::String(leg.focus.clone()));
        }
        if let Some(agent) = leg.agent.as_ref().or(formula.agent.as_ref()) {
            meta.insert("agent".into(), Value::String(agent.clone()));
        }
        if let Some(r) = leg.review_only.or(formula.review_only) {
            meta.insert("review_only".into(), Value::Bool(r));
        }
        let output_path = formula.output.as_ref().and_then(|o| {
            let pattern = o.leg_pattern.as_ref()?;
            let file_name = render_prompt(pattern, formula, vars, Some(leg), None);
            Some(match &o.directory {
                Some(dir) => format!(
                    "{}/{file_name}",
                    render_prompt(dir, formula, vars, None, None)
                ),
                None => file_name,
            })
        });
        if let Some(base) = formula.prompts.get("base") {
            let prompt = render_prompt(base, formula, vars, Some(leg), output_path.as_deref());
            meta.insert("prompt".into(), Value::String(prompt));
        }
        if let Some(path) = output_path {
            meta.insert("output_path".into(), Value::String(path));
        }
        let step = Step {
            id: leg.id.clone(),
            title: leg.title.clone(),
            description: leg.description.clone(),
            metadata: meta,
            location: format!("legs[{i}]"),
            ..Step::default()
        };
        leg_ids.push(leg.id.clone());
        nodes.push(Node::new(step, None, &formula.name));
    }
    let Some(syn) = &formula.synthesis else {
        return Ok((leg_ids, None));
    };
    let needs: Vec<String> = if syn.depends_on.is_empty() {
        leg_ids.clone()
    } else {
        syn.depends_on
            .iter()
            .filter(|d| {
                // A preset drops the legs it does not choose, and the synthesis with them.
                opts.preset.is_none()
                    || leg_ids.contains(d)
                    || !formula.legs.iter().any(|l| &l.id == *d)
            })
            .cloned()
            .collect()
    };
    let mut meta = Map::new();
    meta.insert("synthesis".into(), Value::Bool(true));
    if let Some(o) = &formula.output {
        if let Some(name) = &o.synthesis {
            let path = match &o.directory {
                Some(dir) => format!("{}/{name}", render_prompt(dir, formula, vars, None, None)),
                None => name.clone(),
            };
            meta.insert("output_path".into(), Value::String(path));
        }
    }
    let step = Step {
        id: "synthesis".into(),
        title: if syn.title.is_empty() {
            "Synthesis".into()
        } else {
            syn.title.clone()
        },
        description: syn.description.clone(),
        needs,
        metadata: meta,
        location: "[synthesis]".into(),
        ..Step::default()
    };
    nodes.push(Node::new(step, None, &formula.name));
    Ok((leg_ids, Some("synthesis".into())))
}

/// Fill the simple fields of a convoy's Go-template prompt: `{{.var}}`, `{{.formula_name}}`,
/// `{{.leg.id}}` / `.title` / `.focus` / `.description`, `{{.output_path}}`. Control
/// actions (`{{if}}`, `{{range}}`) and unknown fields are kept for the agent runtime.
fn render_prompt(
    template: &str,
    formula: &Formula,
    vars: &BTreeMap<String, String>,
    leg: Option<&Leg>,
    output_path: Option<&str>,
) -> String {
    text::substitute_with(template, &mut |inner| {
        let field = inner.strip_prefix('.')?;
        match field {
            "formula_name" => Some(formula.name.clone()),
            "output_path" => output_path.map(str::to_string),
            "leg.id" => leg.map(|l| l.id.clone()),
            "leg.title" => leg.map(|l| l.title.clone()),
            "leg.focus" => leg.map(|l| l.focus.clone()),
            "leg.description" => leg.map(|l| l.description.clone()),
            other => vars.get(other).filter(|v| !v.is_empty()).cloned(),
        }
    })
}
