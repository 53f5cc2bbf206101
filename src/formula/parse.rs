//! TOML (and JSON) text → [`Formula`]. Unknown keys become warnings naming the key and the
//! file; wrong types and malformed TOML become one-line errors.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};
use toml::Table;

use super::model::*;
use super::value::{json_to_table, table_to_json, toml_table, toml_to_json, type_name};
use crate::error::{Error, Result};

/// A parsed formula and the warnings found while reading it.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub formula: Formula,
    pub warnings: Vec<String>,
}

const TOP_KEYS: &[&str] = &[
    "formula",
    "description",
    "type",
    "version",
    "pour",
    "phase",
    "agent",
    "review_only",
    "execution",
    "extends",
    "vars",
    "inputs",
    "steps",
    "template",
    "compose",
    "advice",
    "pointcuts",
    "aspects",
    "legs",
    "synthesis",
    "prompts",
    "output",
    "presets",
    "squash",
    "source",
];

const STEP_KEYS: &[&str] = &[
    "id",
    "title",
    "description",
    "acceptance",
    "notes",
    "type",
    "priority",
    "labels",
    "assignee",
    "needs",
    "depends_on",
    "waits_for",
    "condition",
    "expand",
    "expand_vars",
    "children",
    "gate",
    "loop",
    "on_complete",
    "parallel",
    "interactive",
    "output",
    "metadata",
    "agent",
    "review_only",
];

const VAR_KEYS: &[&str] = &[
    "description",
    "required",
    "default",
    "enum",
    "allowed",
    "pattern",
    "type",
    "required_unless",
];

/// Parse formula text. `label` names the file in messages. JSON is accepted when `label`
/// ends with `.json`.
pub fn parse_str(text: &str, origin: Origin) -> Result<Parsed> {
    let table = if origin.label.ends_with(".json") {
        json_to_table(text, &origin.label)?
    } else {
        toml_table(text, &origin.label)?
    };
    let mut p = Parser {
        file: origin.label.clone(),
        warnings: Vec::new(),
    };
    let formula = p.formula(&table, origin)?;
    Ok(Parsed {
        formula,
        warnings: p.warnings,
    })
}

struct Parser {
    file: String,
    warnings: Vec<String>,
}

impl Parser {
    fn err(&self, place: &str, message: impl std::fmt::Display) -> Error {
        Error::invalid(format!("{}: {place}: {message}", self.file))
    }

    /// Warn about every key of `t` not in `known`.
    fn check_keys(&mut self, t: &Table, known: &[&str], place: &str) {
        for key in t.keys() {
            if !known.contains(&key.as_str()) {
                self.warnings.push(format!(
                    "{}: unknown key '{key}' in {place} ignored",
                    self.file
                ));
            }
        }
    }

    fn wrong(&self, place: &str, key: &str, want: &str, got: &toml::Value) -> Error {
        self.err(
            place,
            format!("'{key}' must be {want}, found {}", type_name(got)),
        )
    }

    fn string(&self, t: &Table, key: &str, place: &str) -> Result<Option<String>> {
        match t.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.wrong(place, key, "a string", other)),
        }
    }

    /// A scalar rendered as a string (for defaults and var values: `default = 3` is fine).
    fn scalar(&self, t: &Table, key: &str, place: &str) -> Result<Option<String>> {
        match t.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(
                v @ (toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_)),
            ) => Ok(Some(v.to_string())),
            Some(other) => Err(self.wrong(place, key, "a string", other)),
        }
    }

    fn text(&self, t: &Table, key: &str, place: &str) -> Result<String> {
        Ok(self.string(t, key, place)?.unwrap_or_default())
    }

    fn boolean(&self, t: &Table, key: &str, place: &str) -> Result<Option<bool>> {
        match t.get(key) {
            None => Ok(None),
            Some(toml::Value::Boolean(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong(place, key, "true or false", other)),
        }
    }

    fn integer(&self, t: &Table, key: &str, place: &str) -> Result<Option<i64>> {
        match t.get(key) {
            None => Ok(None),
            Some(toml::Value::Integer(i)) => Ok(Some(*i)),
            Some(toml::Value::String(s)) if s.trim().parse::<i64>().is_ok() => {
                Ok(s.trim().parse().ok())
            }
            Some(other) => Err(self.wrong(place, key, "an integer", other)),
        }
    }

    /// A list of strings; a single string is accepted as a list of one.
    fn strings(&self, t: &Table, key: &str, place: &str) -> Result<Vec<String>> {
        match t.get(key) {
            None => Ok(Vec::new()),
            Some(toml::Value::String(s)) => Ok(vec![s.clone()]),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    toml::Value::String(s) => Ok(s.clone()),
                    other => Err(self.wrong(place, key, "a list of strings", other)),
                })
                .collect(),
            Some(other) => Err(self.wrong(place, key, "a list of strings", other)),
        }
    }

    fn string_map(&self, t: &Table, key: &str, place: &str) -> Result<BTreeMap<String, String>> {
        match t.get(key) {
            None => Ok(BTreeMap::new()),
            Some(toml::Value::Table(map)) => {
                let mut out = BTreeMap::new();
                for k in map.keys() {
                    let v = self.scalar(map, k, &format!("{place}.{key}"))?;
                    out.insert(k.clone(), v.unwrap_or_default());
                }
                Ok(out)
            }
            Some(other) => Err(self.wrong(place, key, "a table", other)),
        }
    }

    fn table<'t>(&self, t: &'t Table, key: &str, place: &str) -> Result<Option<&'t Table>> {
        match t.get(key) {
            None => Ok(None),
            Some(toml::Value::Table(inner)) => Ok(Some(inner)),
            Some(other) => Err(self.wrong(place, key, "a table", other)),
        }
    }

    /// An array of tables; a single table is accepted as an array of one.
    fn tables<'t>(&self, t: &'t Table, key: &str, place: &str) -> Result<Vec<&'t Table>> {
        match t.get(key) {
            None => Ok(Vec::new()),
            Some(toml::Value::Table(inner)) => Ok(vec![inner]),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    toml::Value::Table(inner) => Ok(inner),
                    other => Err(self.wrong(place, key, "an array of tables", other)),
                })
                .collect(),
            Some(other) => Err(self.wrong(place, key, "an array of tables", other)),
        }
    }

    fn formula(&mut self, t: &Table, origin: Origin) -> Result<Formula> {
        let top = "the top level";
        self.check_keys(t, TOP_KEYS, top);
        let name = match self.string(t, "formula", top)? {
            Some(name) if !name.trim().is_empty() => name,
            _ => {
                return Err(Error::invalid(format!(
                    "{}: missing the 'formula' key (the formula's name)",
                    self.file
                )))
            }
        };
        let explicit_kind = match self.string(t, "type", top)? {
            None => None,
            Some(text) => Some(FormulaKind::parse(&text).ok_or_else(|| {
                self.err(
                    top,
                    format!("unknown formula type '{text}' (expected workflow, expansion, aspect or convoy)"),
                )
            })?),
        };
        let version = match t.get("version") {
            Some(toml::Value::Float(f)) => Some(*f as i64),
            _ => self.integer(t, "version", top)?,
        };

        let mut vars = Vec::new();
        for key in ["vars", "inputs"] {
            if let Some(table) = self.table(t, key, top)? {
                for (var_name, value) in table {
                    if vars.iter().any(|v: &VarDef| &v.name == var_name) {
                        self.warnings.push(format!(
                            "{}: variable '{var_name}' declared in both [vars] and [inputs]; the first wins",
                            self.file
                        ));
                        continue;
                    }
                    vars.push(self.var(var_name, value, key)?);
                }
            }
        }

        let mut steps = Vec::new();
        for (i, st) in self.tables(t, "steps", top)?.into_iter().enumerate() {
            steps.push(self.step(st, &format!("steps[{i}]"))?);
        }
        let mut template = Vec::new();
        for (i, st) in self.tables(t, "template", top)?.into_iter().enumerate() {
            template.push(self.step(st, &format!("template[{i}]"))?);
        }

        let compose = match self.table(t, "compose", top)? {
            Some(c) => self.compose(c)?,
            None => Compose::default(),
        };

        let mut advice = Vec::new();
        for (i, a) in self.tables(t, "advice", top)?.into_iter().enumerate() {
            advice.push(self.advice(a, &format!("advice[{i}]"))?);
        }
        let mut pointcuts = Vec::new();
        for (i, pc) in self.tables(t, "pointcuts", top)?.into_iter().enumerate() {
            let place = format!("pointcuts[{i}]");
            self.check_keys(pc, &["glob", "type", "label"], &place);
            pointcuts.push(Pointcut {
                glob: self.string(pc, "glob", &place)?,
                step_type: self.string(pc, "type", &place)?,
                label: self.string(pc, "label", &place)?,
            });
        }

        let mut legs = Vec::new();
        for key in ["legs", "aspects"] {
            for (i, l) in self.tables(t, key, top)?.into_iter().enumerate() {
                legs.push(self.leg(l, &format!("{key}[{i}]"))?);
            }
        }
        let synthesis = match self.table(t, "synthesis", top)? {
            None => None,
            Some(s) => {
                let place = "[synthesis]";
                self.check_keys(s, &["title", "description", "depends_on", "needs"], place);
                let mut depends_on = self.strings(s, "depends_on", place)?;
                depends_on.extend(self.strings(s, "needs", place)?);
                Some(Synthesis {
                    title: self.text(s, "title", place)?,
                    description: self.text(s, "description", place)?,
                    depends_on,
                })
            }
        };
        let prompts = self.string_map(t, "prompts", top)?;
        let output = match self.table(t, "output", top)? {
            None => None,
            Some(o) => {
                let place = "[output]";
                self.check_keys(o, &["directory", "leg_pattern", "synthesis"], place);
                Some(Output {
                    directory: self.string(o, "directory", place)?,
                    leg_pattern: self.string(o, "leg_pattern", place)?,
                    synthesis: self.string(o, "synthesis", place)?,
                })
            }
        };
        let mut presets = Vec::new();
        if let Some(ps) = self.table(t, "presets", top)? {
            for (preset_name, value) in ps {
                let place = format!("presets.{preset_name}");
                let toml::Value::Table(p) = value else {
                    return Err(self.wrong(top, &place, "a table", value));
                };
                self.check_keys(p, &["description", "legs"], &place);
                presets.push(Preset {
                    name: preset_name.clone(),
                    description: self.text(p, "description", &place)?,
                    legs: self.strings(p, "legs", &place)?,
                });
            }
        }
        let squash = self.table(t, "squash", top)?.map(table_to_json);

        let kind = explicit_kind.unwrap_or(if !legs.is_empty() && steps.is_empty() {
            if t.contains_key("aspects") {
                FormulaKind::Aspect
            } else {
                FormulaKind::Convoy
            }
        } else if !template.is_empty() && steps.is_empty() {
            FormulaKind::Expansion
        } else if !advice.is_empty() && steps.is_empty() {
            FormulaKind::Aspect
        } else {
            FormulaKind::Workflow
        });

        let formula = Formula {
            name,
            kind,
            description: self.text(t, "description", top)?,
            version,
            pour: self.boolean(t, "pour", top)?,
            phase: self.string(t, "phase", top)?,
            agent: self.string(t, "agent", top)?,
            review_only: self.boolean(t, "review_only", top)?,
            execution: self.string(t, "execution", top)?,
            extends: self.strings(t, "extends", top)?,
            vars,
            steps,
            template,
            compose,
            advice,
            pointcuts,
            legs,
            synthesis,
            prompts,
            output,
            presets,
            squash,
            origin,
        };
        self.check_structure(&formula)?;
        Ok(formula)
    }

    fn var(&mut self, name: &str, value: &toml::Value, section: &str) -> Result<VarDef> {
        let place = format!("{section}.{name}");
        match value {
            toml::Value::String(_)
            | toml::Value::Integer(_)
            | toml::Value::Float(_)
            | toml::Value::Boolean(_) => Ok(VarDef {
                name: name.to_string(),
                default: Some(match value {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                }),
                ..VarDef::default()
            }),
            toml::Value::Table(t) => {
                self.check_keys(t, VAR_KEYS, &place);
                let mut allowed = self.strings(t, "enum", &place)?;
                allowed.extend(self.strings(t, "allowed", &place)?);
                let var = VarDef {
                    name: name.to_string(),
                    description: self.text(t, "description", &place)?,
                    required: self.boolean(t, "required", &place)?.unwrap_or(false),
                    default: self.scalar(t, "default", &place)?,
                    allowed,
                    pattern: self.string(t, "pattern", &place)?,
                    value_type: self.string(t, "type", &place)?,
                    required_unless: self.strings(t, "required_unless", &place)?,
                };
                if var.required && var.default.is_some() {
                    self.warnings.push(format!(
                        "{}: {place} is required and has a default; the default makes it optional",
                        self.file
                    ));
                }
                if let Some(default) = &var.default {
                    if !var.allowed.is_empty() && !var.allowed.contains(default) {
                        return Err(self.err(
                            &place,
                            format!(
                                "default '{default}' is not one of the allowed values: {}",
                                var.allowed.join(", ")
                            ),
                        ));
                    }
                }
                Ok(var)
            }
            other => Err(self.wrong(section, name, "a string or a table", other)),
        }
    }

    fn step(&mut self, t: &Table, location: &str) -> Result<Step> {
        let id = self.string(t, "id", location)?.unwrap_or_default();
        if id.trim().is_empty() {
            return Err(self.err(location, "step has no 'id'"));
        }
        let place = format!("step '{id}'");
        self.check_keys(t, STEP_KEYS, &place);
        let mut needs = self.strings(t, "needs", &place)?;
        for dep in self.strings(t, "depends_on", &place)? {
            if !needs.contains(&dep) {
                needs.push(dep);
            }
        }
        let mut children = Vec::new();
        for (i, child) in self.tables(t, "children", &place)?.into_iter().enumerate() {
            children.push(self.step(child, &format!("{location}.children[{i}]"))?);
        }
        let gate = match self.table(t, "gate", &place)? {
            None => None,
            Some(g) => {
                let gp = format!("{place} gate");
                self.check_keys(g, &["type", "id", "timeout"], &gp);
                let gate_type = self.string(g, "type", &gp)?.unwrap_or_default();
                if gate_type.is_empty() {
                    return Err(self.err(
                        &gp,
                        "a gate needs a 'type' (human, timer, gh:run, gh:pr, bead, mail)",
                    ));
                }
                Some(Gate {
                    gate_type,
                    id: self.scalar(g, "id", &gp)?,
                    timeout: self.scalar(g, "timeout", &gp)?,
                })
            }
        };
        let loop_spec = match self.table(t, "loop", &place)? {
            None => None,
            Some(l) => {
                let lp = format!("{place} loop");
                self.check_keys(l, &["count", "range", "until", "max", "var", "body"], &lp);
                let mut body = Vec::new();
                for (i, b) in self.tables(l, "body", &lp)?.into_iter().enumerate() {
                    body.push(self.step(b, &format!("{location}.loop.body[{i}]"))?);
                }
                Some(LoopSpec {
                    count: self.integer(l, "count", &lp)?,
                    range: self.scalar(l, "range", &lp)?,
                    until: self.string(l, "until", &lp)?,
                    max: self.integer(l, "max", &lp)?,
                    var: self.string(l, "var", &lp)?,
                    body,
                })
            }
        };
        let mut metadata = match self.table(t, "metadata", &place)? {
            Some(m) => table_to_json(m),
            None => Map::new(),
        };
        for key in ["agent", "review_only"] {
            if let Some(v) = t.get(key) {
                metadata.insert(key.to_string(), toml_to_json(v));
            }
        }
        let title = self.text(t, "title", &place)?;
        let expand = self.string(t, "expand", &place)?;
        if title.trim().is_empty() && expand.is_none() && loop_spec.is_none() {
            return Err(self.err(&place, "step has no 'title'"));
        }
        Ok(Step {
            title,
            description: self.text(t, "description", &place)?,
            acceptance: self.text(t, "acceptance", &place)?,
            notes: self.text(t, "notes", &place)?,
            step_type: self.string(t, "type", &place)?,
            priority: self.integer(t, "priority", &place)?,
            labels: self.strings(t, "labels", &place)?,
            assignee: self.string(t, "assignee", &place)?,
            needs,
            waits_for: self.string(t, "waits_for", &place)?,
            condition: self.string(t, "condition", &place)?,
            expand,
            expand_vars: self.string_map(t, "expand_vars", &place)?,
            children,
            gate,
            loop_spec,
            on_complete: t.get("on_complete").map(toml_to_json),
            parallel: self.boolean(t, "parallel", &place)?.unwrap_or(false),
            interactive: self.boolean(t, "interactive", &place)?.unwrap_or(false),
            output: self.string(t, "output", &place)?,
            metadata,
            location: location.to_string(),
            id,
        })
    }

    fn compose(&mut self, c: &Table) -> Result<Compose> {
        let place = "[compose]";
        self.check_keys(
            c,
            &[
                "expand",
                "map",
                "aspects",
                "branch",
                "gate",
                "bond_points",
                "hooks",
            ],
            place,
        );
        let mut compose = Compose {
            aspects: self.strings(c, "aspects", place)?,
            ..Compose::default()
        };
        for (i, e) in self.tables(c, "expand", place)?.into_iter().enumerate() {
            let ep = format!("compose.expand[{i}]");
            self.check_keys(e, &["target", "with", "vars"], &ep);
            compose.expand.push(ExpandRule {
                target: self.required(e, "target", &ep)?,
                with: self.required(e, "with", &ep)?,
                vars: self.string_map(e, "vars", &ep)?,
            });
        }
        for (i, m) in self.tables(c, "map", place)?.into_iter().enumerate() {
            let mp = format!("compose.map[{i}]");
            self.check_keys(m, &["select", "with", "vars"], &mp);
            compose.map.push(MapRule {
                select: self.required(m, "select", &mp)?,
                with: self.required(m, "with", &mp)?,
                vars: self.string_map(m, "vars", &mp)?,
            });
        }
        for (i, b) in self.tables(c, "branch", place)?.into_iter().enumerate() {
            let bp = format!("compose.branch[{i}]");
            self.check_keys(b, &["from", "steps", "join"], &bp);
            compose.branch.push(BranchRule {
                from: self.required(b, "from", &bp)?,
                steps: self.strings(b, "steps", &bp)?,
                join: self.required(b, "join", &bp)?,
            });
        }
        for (i, g) in self.tables(c, "gate", place)?.into_iter().enumerate() {
            let gp = format!("compose.gate[{i}]");
            self.check_keys(g, &["before", "condition"], &gp);
            compose.gate.push(GateRule {
                before: self.required(g, "before", &gp)?,
                condition: self.required(g, "condition", &gp)?,
            });
        }
        for key in ["bond_points", "hooks"] {
            for item in self.tables(c, key, place)? {
                let value = Value::Object(table_to_json(item));
                if key == "bond_points" {
                    compose.bond_points.push(value);
                } else {
                    compose.hooks.push(value);
                }
            }
        }
        Ok(compose)
    }

    fn required(&self, t: &Table, key: &str, place: &str) -> Result<String> {
        match self.string(t, key, place)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(self.err(place, format!("missing '{key}'"))),
        }
    }

    fn advice(&mut self, a: &Table, place: &str) -> Result<Advice> {
        self.check_keys(a, &["target", "before", "after", "around"], place);
        let mut advice = Advice {
            target: self.text(a, "target", place)?,
            before: self.advice_steps(a, "before", place)?,
            after: self.advice_steps(a, "after", place)?,
            ..Advice::default()
        };
        if let Some(around) = self.table(a, "around", place)? {
            let ap = format!("{place}.around");
            self.check_keys(around, &["before", "after"], &ap);
            advice.around_before = self.advice_steps(around, "before", &ap)?;
            advice.around_after = self.advice_steps(around, "after", &ap)?;
        }
        Ok(advice)
    }

    fn advice_steps(&mut self, t: &Table, key: &str, place: &str) -> Result<Vec<AdviceStep>> {
        let mut out = Vec::new();
        for (i, s) in self.tables(t, key, place)?.into_iter().enumerate() {
            let sp = format!("{place}.{key}[{i}]");
            self.check_keys(
                s,
                &["id", "title", "description", "type", "args", "output"],
                &sp,
            );
            out.push(AdviceStep {
                id: self.required(s, "id", &sp)?,
                title: self.text(s, "title", &sp)?,
                description: self.text(s, "description", &sp)?,
                step_type: self.string(s, "type", &sp)?,
                args: self.string_map(s, "args", &sp)?,
                output: self.string_map(s, "output", &sp)?,
            });
        }
        Ok(out)
    }

    fn leg(&mut self, l: &Table, location: &str) -> Result<Leg> {
        let id = self.string(l, "id", location)?.unwrap_or_default();
        if id.trim().is_empty() {
            return Err(self.err(location, "leg has no 'id'"));
        }
        let place = format!("leg '{id}'");
        self.check_keys(
            l,
            &[
                "id",
                "title",
                "focus",
                "description",
                "agent",
                "review_only",
            ],
            &place,
        );
        let title = self.text(l, "title", &place)?;
        Ok(Leg {
            title: if title.trim().is_empty() {
                id.clone()
            } else {
                title
            },
            focus: self.text(l, "focus", &place)?,
            description: self.text(l, "description", &place)?,
            agent: self.string(l, "agent", &place)?,
            review_only: self.boolean(l, "review_only", &place)?,
            id,
        })
    }

    /// Checks that need only the file itself: duplicate ids, priorities, waits_for syntax.
    fn check_structure(&self, f: &Formula) -> Result<()> {
        for (what, steps) in [("step", &f.steps), ("template step", &f.template)] {
            let mut seen: HashMap<&str, &str> = HashMap::new();
            check_steps(self, steps, what, &mut seen)?;
        }
        let mut legs: HashMap<&str, usize> = HashMap::new();
        for (i, leg) in f.legs.iter().enumerate() {
            if let Some(first) = legs.insert(&leg.id, i) {
                return Err(Error::invalid(format!(
                    "{}: duplicate leg id '{}' (legs[{first}] and legs[{i}])",
                    self.file, leg.id
                )));
            }
        }
        return Ok(());

        fn check_steps<'a>(
            p: &Parser,
            steps: &'a [Step],
            what: &str,
            seen: &mut HashMap<&'a str, &'a str>,
        ) -> Result<()> {
            for s in steps {
                if let Some(first) = seen.insert(&s.id, &s.location) {
                    return Err(Error::invalid(format!(
                        "{}: duplicate {what} id '{}' ({first} and {})",
                        p.file, s.id, s.location
                    )));
                }
                if let Some(pr) = s.priority {
                    if !(0..=4).contains(&pr) {
                        return Err(p.err(
                            &format!("step '{}'", s.id),
                            format!("priority must be 0-4, found {pr}"),
                        ));
                    }
                }
                if let Some(w) = &s.waits_for {
                    if super::text::parse_waits_for(w).is_none() {
                        return Err(p.err(
                            &format!("step '{}'", s.id),
                            format!("waits_for '{w}' must be all-children, any-children or children-of(<step>)"),
                        ));
                    }
                }
                check_steps(p, &s.children, what, seen)?;
            }
            Ok(())
        }
    }
}
