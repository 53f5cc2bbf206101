//! The parsed form of a formula file: one struct per table of the TOML format, with the key
//! names of the original (`internal/formula/types.go` of gastown and beads).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Map, Value};

/// The four kinds of formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FormulaKind {
    /// `[[steps]]` with dependencies: the usual molecule template.
    Workflow,
    /// `[[template]]` steps applied to a target step by `compose.expand` / `compose.map`.
    Expansion,
    /// `[[advice]]` + `[[pointcuts]]` applied to other formulas by `compose.aspects`
    /// (or gastown's `[[aspects]]`: parallel analyses, cooked like convoy legs).
    Aspect,
    /// Parallel `[[legs]]` and a `[synthesis]` that needs them.
    Convoy,
}

impl FormulaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FormulaKind::Workflow => "workflow",
            FormulaKind::Expansion => "expansion",
            FormulaKind::Aspect => "aspect",
            FormulaKind::Convoy => "convoy",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "workflow" => Some(FormulaKind::Workflow),
            "expansion" => Some(FormulaKind::Expansion),
            "aspect" => Some(FormulaKind::Aspect),
            "convoy" => Some(FormulaKind::Convoy),
            _ => None,
        }
    }
}

impl fmt::Display for FormulaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a formula was found. On a name clash the earlier variant wins:
/// built-in, then repo-level, then user-level (see docs/FORMULAS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Embedded in the binaries from `formulas/` of this project.
    Builtin,
    /// `<repo>/.gastown/formulas/`.
    Repo,
    /// `$XDG_CONFIG_HOME/gastown/formulas/` or `~/.config/gastown/formulas/`.
    User,
    /// A file named on the command line (or a sibling of one).
    File,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Builtin => "builtin",
            SourceKind::Repo => "repo",
            SourceKind::User => "user",
            SourceKind::File => "file",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The file a formula was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub source: SourceKind,
    /// The file on disk; `None` for built-in formulas.
    pub path: Option<PathBuf>,
    /// How messages name the file: the path, or `builtin:<name>.formula.toml`.
    pub label: String,
}

impl Origin {
    pub fn builtin(name: &str) -> Self {
        Origin {
            source: SourceKind::Builtin,
            path: None,
            label: format!("builtin:{name}.formula.toml"),
        }
    }

    pub fn file(source: SourceKind, path: PathBuf) -> Self {
        Origin {
            source,
            label: path.display().to_string(),
            path: Some(path),
        }
    }

    /// An origin for text that came from nowhere in particular (tests, stdin).
    pub fn text(label: &str) -> Self {
        Origin {
            source: SourceKind::File,
            path: None,
            label: label.to_string(),
        }
    }
}

/// A variable (`[vars.<name>]`, or a convoy's `[inputs.<name>]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VarDef {
    pub name: String,
    pub description: String,
    pub required: bool,
    pub default: Option<String>,
    /// Allowed values (`enum`, alias `allowed`); empty means any value.
    #[serde(rename = "enum", skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    /// Kept and shown; not enforced (no regex engine in the suite).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub value_type: Option<String>,
    /// Convoy inputs: required unless one of these is given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub required_unless: Vec<String>,
}

/// `[steps.gate]`: an asynchronous wait before the step can close.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Gate {
    #[serde(rename = "type")]
    pub gate_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `[steps.loop]`: a body repeated `count` times, over a `range`, or `until` a condition.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LoopSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub var: Option<String>,
    pub body: Vec<Step>,
}

/// A step: `[[steps]]`, `[[template]]`, `[[steps.children]]` and `[[steps.loop.body]]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Step {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub acceptance: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// The `type` key: a bead type (task, bug, epic, ...), or `parallel` / `sequential`
    /// for a container of children.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub step_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// `needs` and its alias `depends_on`, merged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waits_for: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Inline expansion: replace this step by the named expansion formula's template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expand: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub expand_vars: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Step>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<Gate>,
    #[serde(rename = "loop", skip_serializing_if = "Option::is_none")]
    pub loop_spec: Option<LoopSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_complete: Option<Value>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub parallel: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interactive: bool,
    /// Artifact path the step produces (gastown's `output`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// `[steps.metadata]` and the remaining known-but-uninterpreted keys.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// Where in its file the step was defined: `steps[2].children[0]`.
    #[serde(skip)]
    pub location: String,
}

/// `[[legs]]` of a convoy formula (and `[[aspects]]` of an analysis aspect formula).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Leg {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub focus: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_only: Option<bool>,
}

/// `[synthesis]` of a convoy formula.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Synthesis {
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The legs it waits for; empty means all legs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

/// `[output]` of a convoy formula.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Output {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directory: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leg_pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synthesis: Option<String>,
}

/// `[presets.<name>]` of a convoy formula: a named selection of legs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Preset {
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub legs: Vec<String>,
}

/// `[[compose.expand]]`: replace one step by an expansion's template.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExpandRule {
    pub target: String,
    pub with: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
}

/// `[[compose.map]]`: replace every step whose id matches a glob.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MapRule {
    pub select: String,
    pub with: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
}

/// `[[compose.branch]]`: fork-join wiring.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BranchRule {
    pub from: String,
    pub steps: Vec<String>,
    pub join: String,
}

/// `[[compose.gate]]`: a runtime condition before a step.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GateRule {
    pub before: String,
    pub condition: String,
}

/// `[compose]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Compose {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expand: Vec<ExpandRule>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub map: Vec<MapRule>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aspects: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub branch: Vec<BranchRule>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gate: Vec<GateRule>,
    /// Kept as data for bonding (`bd mol bond`); not applied by cook.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bond_points: Vec<Value>,
    /// Kept as data; not applied by cook.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<Value>,
}

impl Compose {
    pub fn is_empty(&self) -> bool {
        self == &Compose::default()
    }
}

/// A step inserted by advice. `{step.id}` and `{step.title}` name the advised step.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AdviceStep {
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub step_type: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub output: BTreeMap<String, String>,
}

/// `[[advice]]`: steps to insert before / after / around the steps matching `target`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Advice {
    /// Glob over step ids; empty means every step (subject to pointcuts).
    pub target: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub before: Vec<AdviceStep>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<AdviceStep>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub around_before: Vec<AdviceStep>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub around_after: Vec<AdviceStep>,
}

/// `[[pointcuts]]`: which steps an aspect may advise (all given fields must match).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Pointcut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub glob: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub step_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A parsed formula file.
#[derive(Debug, Clone, Serialize)]
pub struct Formula {
    /// The `formula` key.
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FormulaKind,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pour: Option<bool>,
    /// `liquid` (pour) or `vapor` (wisp).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_only: Option<bool>,
    /// `local` or `distributed` (gastown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extends: Vec<String>,
    /// `[vars]` and `[inputs]`, sorted by name within each.
    pub vars: Vec<VarDef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub template: Vec<Step>,
    #[serde(skip_serializing_if = "Compose::is_empty")]
    pub compose: Compose,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub advice: Vec<Advice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pointcuts: Vec<Pointcut>,
    /// Convoy `[[legs]]`, and an aspect formula's `[[aspects]]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub legs: Vec<Leg>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synthesis: Option<Synthesis>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub prompts: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Output>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub presets: Vec<Preset>,
    /// `[squash]`, kept as data for `git mol squash`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub squash: Option<Map<String, Value>>,
    pub origin: Origin,
}

impl Formula {
    pub fn var(&self, name: &str) -> Option<&VarDef> {
        self.vars.iter().find(|v| v.name == name)
    }

    /// Names of the variables that must be given (`required`, no `required_unless`).
    pub fn required_vars(&self) -> Vec<&str> {
        self.vars
            .iter()
            .filter(|v| v.required && v.default.is_none())
            .map(|v| v.name.as_str())
            .collect()
    }

    /// Number of steps including nested children and loop bodies (before cooking).
    pub fn step_count(&self) -> usize {
        fn count(steps: &[Step]) -> usize {
            steps
                .iter()
                .map(|s| {
                    1 + count(&s.children)
                        + s.loop_spec.as_ref().map(|l| count(&l.body)).unwrap_or(0)
                })
                .sum()
        }
        count(&self.steps) + count(&self.template) + self.legs.len()
    }
}
