//! Unit tests of the pure formula logic, on formulas written inline.

use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::error::Result;

/// Formulas by name, from inline text.
struct Map(HashMap<String, String>);

impl Map {
    fn new(items: &[(&str, &str)]) -> Self {
        Map(items
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect())
    }
}

impl Resolver for Map {
    fn resolve(&self, name: &str) -> Result<Option<Parsed>> {
        match self.0.get(name) {
            Some(text) => parse_str(text, Origin::text(&format!("{name}.formula.toml"))).map(Some),
            None => Ok(None),
        }
    }
    fn searched(&self) -> String {
        "the test map".into()
    }
}

fn parse(text: &str) -> Parsed {
    parse_str(text, Origin::text("t.formula.toml")).expect("parses")
}

fn parse_err(text: &str) -> String {
    parse_str(text, Origin::text("t.formula.toml"))
        .expect_err("must fail")
        .to_string()
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn cook_with(text: &str, lib: &Map, pairs: &[(&str, &str)]) -> Result<Cooked> {
    let opts = CookOptions {
        vars: vars(pairs),
        ..CookOptions::default()
    };
    cook(&parse(text), lib, &opts)
}

fn cook_ok(text: &str, lib: &Map, pairs: &[(&str, &str)]) -> Cooked {
    cook_with(text, lib, pairs).expect("cooks")
}

fn ids(c: &Cooked) -> Vec<&str> {
    c.steps.iter().map(|s| s.id.as_str()).collect()
}

fn needs<'c>(c: &'c Cooked, id: &str) -> Vec<&'c str> {
    c.step(id)
        .unwrap_or_else(|| panic!("no step {id}"))
        .needs
        .iter()
        .map(String::as_str)
        .collect()
}

fn none() -> Map {
    Map::new(&[])
}

const SHINY: &str = r#"
formula = "shiny"
type = "workflow"
version = 1
[vars.feature]
required = true
[[steps]]
id = "design"
title = "Design {{feature}}"
[[steps]]
id = "implement"
title = "Implement {{feature}}"
description = "Write {{feature}}"
needs = ["design"]
[[steps]]
id = "review"
title = "Review"
needs = ["implement"]
[[steps]]
id = "submit"
title = "Submit"
needs = ["review"]
"#;

const REFINE: &str = r#"
formula = "refine"
type = "expansion"
[[template]]
id = "{target}.draft"
title = "Draft: {target.title}"
description = "About: {target.description}"
[[template]]
id = "{target}.polish"
title = "Polish {target}"
needs = ["{target}.draft"]
"#;

#[test]
fn vars_in_both_forms() {
    let p = parse(
        r#"
formula = "v"
[vars]
mode = "fast"
[vars.level]
description = "How hard"
enum = ["low", "high"]
default = "low"
[vars.who]
required = true
"#,
    );
    let f = &p.formula;
    assert_eq!(f.kind, FormulaKind::Workflow);
    assert_eq!(f.var("mode").unwrap().default.as_deref(), Some("fast"));
    let level = f.var("level").unwrap();
    assert_eq!(level.allowed, vec!["low", "high"]);
    assert_eq!(level.description, "How hard");
    assert_eq!(f.required_vars(), vec!["who"]);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn unknown_keys_warn_with_key_and_file() {
    let p = parse(
        r#"
formula = "w"
colour = "blue"
[[steps]]
id = "a"
title = "A"
frobnicate = true
"#,
    );
    assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
    assert!(p.warnings[0].contains("t.formula.toml") && p.warnings[0].contains("'colour'"));
    assert!(p.warnings[1].contains("'frobnicate'") && p.warnings[1].contains("step 'a'"));
}

#[test]
fn malformed_toml_names_file_line_and_column() {
    let err = parse_err("formula = \"x\"\n[[steps]]\nid = \"a\"\ntitle = = 1\n");
    assert!(
        err.starts_with("t.formula.toml:4:9: malformed TOML"),
        "{err}"
    );
    assert!(!err.contains('\n'));
}

#[test]
fn wrong_types_and_missing_parts_are_errors() {
    let err =
        parse_err("formula = \"x\"\n[[steps]]\nid = \"a\"\ntitle = \"A\"\npriority = \"high\"\n");
    assert!(
        err.contains("step 'a'") && err.contains("'priority' must be an integer"),
        "{err}"
    );
    let err = parse_err("formula = \"x\"\n[[steps]]\nid = \"a\"\ntitle = \"A\"\npriority = 7\n");
    assert!(err.contains("priority must be 0-4, found 7"), "{err}");
    let err = parse_err("description = \"no name\"\n");
    assert!(err.contains("missing the 'formula' key"), "{err}");
    let err = parse_err("formula = \"x\"\ntype = \"recipe\"\n");
    assert!(err.contains("unknown formula type 'recipe'"), "{err}");
    let err = parse_err("formula = \"x\"\n[[steps]]\ntitle = \"A\"\n");
    assert!(err.contains("steps[0]: step has no 'id'"), "{err}");
}

#[test]
fn duplicate_ids_are_found_in_children_too() {
    let err = parse_err(
        r#"
formula = "d"
[[steps]]
id = "a"
title = "A"
[[steps.children]]
id = "b"
title = "B"
[[steps]]
id = "b"
title = "B again"
"#,
    );
    assert!(
        err.contains("duplicate step id 'b' (steps[0].children[0] and steps[1])"),
        "{err}"
    );
}

#[test]
fn json_formulas_parse_too() {
    let text = r#"{"formula": "j", "steps": [{"id": "a", "title": "A"}, {"id": "b", "title": "B", "depends_on": ["a"]}]}"#;
    let p = parse_str(text, Origin::text("j.formula.json")).unwrap();
    assert_eq!(p.formula.steps[1].needs, vec!["a"]);
}

#[test]
fn substitutes_vars_and_orders_steps() {
    let c = cook_ok(SHINY, &none(), &[("feature", "login")]);
    assert_eq!(ids(&c), vec!["design", "implement", "review", "submit"]);
    assert_eq!(c.step("implement").unwrap().title, "Implement login");
    assert_eq!(c.step("implement").unwrap().description, "Write login");
    assert_eq!(c.vars["feature"], "login");
    assert_eq!(needs(&c, "submit"), vec!["review"]);
    assert_eq!(
        c.roots().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        vec!["design"]
    );
}

#[test]
fn missing_required_vars_are_all_listed() {
    let text = r#"
formula = "m"
[vars.a]
required = true
[vars.b]
required = true
[vars.c]
default = "x"
"#;
    let err = cook_with(text, &none(), &[]).unwrap_err().to_string();
    assert!(
        err.contains("missing required variables for formula 'm': a, b"),
        "{err}"
    );
    assert!(err.contains("--var a=VALUE --var b=VALUE"), "{err}");
    // Compile mode keeps the placeholders instead.
    let opts = CookOptions {
        mode: CookMode::Compile,
        ..CookOptions::default()
    };
    let c = cook(&parse(SHINY), &none(), &opts).unwrap();
    assert_eq!(c.step("design").unwrap().title, "Design {{feature}}");
}

#[test]
fn unknown_var_names_it_and_the_known_ones() {
    let err = cook_with(SHINY, &none(), &[("feature", "x"), ("colour", "red")])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown variable 'colour' for formula 'shiny'; known variables: feature"),
        "{err}"
    );
}

#[test]
fn allowed_values_types_and_chained_defaults() {
    let text = r#"
formula = "e"
[vars.level]
enum = ["low", "high"]
default = "low"
[vars.count]
type = "int"
default = "3"
[vars.issue]
required = true
[vars.branch]
default = "work/{{issue}}"
[[steps]]
id = "a"
title = "On {{branch}} at {{level}}"
"#;
    let err = cook_with(text, &none(), &[("issue", "x"), ("level", "mid")])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("variable 'level' must be one of low, high (got 'mid')"),
        "{err}"
    );
    let err = cook_with(text, &none(), &[("issue", "x"), ("count", "many")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("variable 'count' must be an integer"), "{err}");
    let c = cook_ok(text, &none(), &[("issue", "gt-7")]);
    assert_eq!(c.step("a").unwrap().title, "On work/gt-7 at low");
}

#[test]
fn required_unless_is_satisfied_by_another_input() {
    let text = r#"
formula = "r"
type = "convoy"
[inputs.pr]
required_unless = ["files"]
[inputs.files]
required_unless = ["pr"]
[[legs]]
id = "one"
title = "One"
"#;
    let err = cook_with(text, &none(), &[]).unwrap_err().to_string();
    assert!(err.contains("files, pr"), "{err}");
    let c = cook_ok(text, &none(), &[("files", "src/*.rs")]);
    assert_eq!(c.vars["files"], "src/*.rs");
}

#[test]
fn undeclared_placeholders_are_kept_with_a_warning() {
    let text = "formula = \"u\"\n[[steps]]\nid = \"a\"\ntitle = \"Hi {{who}} {{.go.template}}\"\n";
    let c = cook_ok(text, &none(), &[]);
    assert_eq!(c.step("a").unwrap().title, "Hi {{who}} {{.go.template}}");
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(c.warnings[0].contains("{{who}}") && c.warnings[0].contains("step 'a'"));
}

#[test]
fn needs_cycle_is_named() {
    let text = r#"
formula = "c"
[[steps]]
id = "a"
title = "A"
needs = ["c"]
[[steps]]
id = "b"
title = "B"
needs = ["a"]
[[steps]]
id = "c"
title = "C"
needs = ["b"]
[[steps]]
id = "d"
title = "D"
"#;
    let err = cook_with(text, &none(), &[]).unwrap_err().to_string();
    assert!(err.ends_with("needs cycle: a -> c -> b -> a"), "{err}");
    let err = cook_with(
        "formula = \"s\"\n[[steps]]\nid = \"a\"\ntitle = \"A\"\nneeds = [\"a\"]\n",
        &none(),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(err.ends_with("needs cycle: a -> a"), "{err}");
}

#[test]
fn needs_to_missing_step_names_both() {
    let err = cook_with(
        "formula = \"n\"\n[[steps]]\nid = \"a\"\ntitle = \"A\"\nneeds = [\"ghost\"]\n",
        &none(),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("step 'a' needs 'ghost', which is not a step"),
        "{err}"
    );
}

#[test]
fn extends_merges_and_overrides() {
    let child = r#"
formula = "child"
extends = ["shiny"]
[vars.feature]
default = "search"
[[steps]]
id = "review"
title = "Review twice"
needs = ["implement"]
[[steps]]
id = "release"
title = "Release"
needs = ["submit"]
"#;
    let lib = Map::new(&[("shiny", SHINY)]);
    let c = cook_ok(child, &lib, &[]);
    assert_eq!(c.extends, vec!["shiny"]);
    assert_eq!(
        ids(&c),
        vec!["design", "implement", "review", "submit", "release"]
    );
    assert_eq!(c.step("review").unwrap().title, "Review twice");
    assert_eq!(c.step("design").unwrap().title, "Design search");
    assert_eq!(
        c.step("design").unwrap().metadata["source_formula"],
        "child",
        "the merged formula owns the steps"
    );
}

#[test]
fn extends_cycle_and_unknown_parent() {
    let lib = Map::new(&[
        ("a", "formula = \"a\"\nextends = [\"b\"]\n"),
        ("b", "formula = \"b\"\nextends = [\"a\"]\n"),
    ]);
    let err = cook_with("formula = \"a\"\nextends = [\"b\"]\n", &lib, &[])
        .unwrap_err()
        .to_string();
    assert!(err.ends_with("extends cycle: a -> b -> a"), "{err}");
    let err = cook_with("formula = \"x\"\nextends = [\"nope\"]\n", &lib, &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown formula 'nope' in extends"), "{err}");
}

#[test]
fn compose_expand_rewires_around_the_template() {
    let text = format!("{SHINY}\n[[compose.expand]]\ntarget = \"implement\"\nwith = \"refine\"\n");
    let lib = Map::new(&[("refine", REFINE)]);
    let c = cook_ok(&text, &lib, &[("feature", "auth")]);
    assert_eq!(
        ids(&c),
        vec![
            "design",
            "implement.draft",
            "implement.polish",
            "review",
            "submit"
        ]
    );
    assert_eq!(needs(&c, "implement.draft"), vec!["design"]);
    assert_eq!(needs(&c, "implement.polish"), vec!["implement.draft"]);
    assert_eq!(needs(&c, "review"), vec!["implement.polish"]);
    let draft = c.step("implement.draft").unwrap();
    assert_eq!(draft.title, "Draft: Implement auth");
    assert_eq!(draft.description, "About: Write auth");
    assert_eq!(draft.metadata["expanded_from"], "implement");
    assert_eq!(draft.metadata["source_formula"], "refine");
    assert_eq!(c.expansions, vec!["refine"]);
}

#[test]
fn compose_map_and_inline_expand() {
    let text = r#"
formula = "m"
[[steps]]
id = "a.build"
title = "Build A"
[[steps]]
id = "b.build"
title = "Build B"
[[steps]]
id = "ship"
title = "Ship"
needs = ["a.build", "b.build"]
expand = "refine"
[compose]
[[compose.map]]
select = "*.build"
with = "refine"
"#;
    let lib = Map::new(&[("refine", REFINE)]);
    let c = cook_ok(text, &lib, &[]);
    assert_eq!(c.steps.len(), 6, "{:?}", ids(&c));
    // The inline expansion of ship inherits its needs, which the map then rewired.
    assert_eq!(
        needs(&c, "ship.draft"),
        vec!["a.build.polish", "b.build.polish"]
    );
    let err = cook_with(
        "formula = \"x\"\n[[steps]]\nid = \"a\"\ntitle = \"A\"\nexpand = \"shiny\"\n",
        &Map::new(&[("shiny", SHINY)]),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("'shiny' in expand is not an expansion formula"),
        "{err}"
    );
}

#[test]
fn aspects_wrap_matching_steps() {
    let aspect = r#"
formula = "audit"
type = "aspect"
[[advice]]
target = "*"
[advice.around]
[[advice.around.before]]
id = "{step.id}-pre"
title = "Before {step.id}"
[[advice.around.after]]
id = "{step.id}-post"
[[pointcuts]]
glob = "implement"
[[pointcuts]]
glob = "sub*"
"#;
    let text = format!("{SHINY}\n[compose]\naspects = [\"audit\"]\n");
    let lib = Map::new(&[("audit", aspect)]);
    let c = cook_ok(&text, &lib, &[("feature", "x")]);
    assert_eq!(
        ids(&c),
        vec![
            "design",
            "implement-pre",
            "implement",
            "implement-post",
            "review",
            "submit-pre",
            "submit",
            "submit-post"
        ]
    );
    assert_eq!(needs(&c, "implement-pre"), vec!["design"]);
    assert_eq!(needs(&c, "implement"), vec!["implement-pre"]);
    assert_eq!(needs(&c, "implement-post"), vec!["implement"]);
    assert_eq!(needs(&c, "review"), vec!["implement-post"]);
    assert_eq!(c.step("implement-pre").unwrap().title, "Before implement");
    assert_eq!(c.step("implement-post").unwrap().title, "implement-post");
    assert_eq!(
        c.step("submit-post").unwrap().metadata["advice_for"],
        "submit"
    );
    assert_eq!(c.aspects, vec!["audit"]);
    // A workflow is not an aspect.
    let err = cook_with(
        &format!("{SHINY}\n[compose]\naspects = [\"shiny\"]\n"),
        &Map::new(&[("shiny", SHINY)]),
        &[("feature", "x")],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("'shiny' in compose.aspects is not an aspect formula"),
        "{err}"
    );
}

#[test]
fn pointcuts_by_type_and_label() {
    let aspect = r#"
formula = "log"
type = "aspect"
[[advice]]
[[advice.after]]
id = "{step.id}-log"
title = "Log {step.title}"
[[pointcuts]]
type = "bug"
[[pointcuts]]
label = "risky"
"#;
    let text = r#"
formula = "p"
[compose]
aspects = ["log"]
[[steps]]
id = "a"
title = "A"
type = "bug"
[[steps]]
id = "b"
title = "B"
labels = ["risky"]
[[steps]]
id = "c"
title = "C"
"#;
    let c = cook_ok(text, &Map::new(&[("log", aspect)]), &[]);
    assert_eq!(ids(&c), vec!["a", "a-log", "b", "b-log", "c"]);
    assert_eq!(c.step("a").unwrap().issue_type, "bug");
    assert_eq!(c.step("b-log").unwrap().title, "Log B");
}

#[test]
fn conditions_drop_steps_and_rewire() {
    let text = r#"
formula = "c"
[vars.lint]
default = "false"
[vars.mode]
default = "fast"
[[steps]]
id = "a"
title = "A"
[[steps]]
id = "lint"
title = "Lint"
needs = ["a"]
condition = "{{lint}}"
[[steps]]
id = "slow"
title = "Slow"
needs = ["lint"]
condition = "{{mode}} == slow"
[[steps]]
id = "z"
title = "Z"
needs = ["slow"]
"#;
    let c = cook_ok(text, &none(), &[]);
    assert_eq!(ids(&c), vec!["a", "z"]);
    assert_eq!(needs(&c, "z"), vec!["a"]);
    let c = cook_ok(text, &none(), &[("lint", "true")]);
    assert_eq!(ids(&c), vec!["a", "lint", "z"]);
    assert_eq!(needs(&c, "z"), vec!["lint"]);
    // Compile mode keeps every step, so validation sees the whole graph.
    let opts = CookOptions {
        mode: CookMode::Compile,
        ..CookOptions::default()
    };
    let c = cook(&parse(text), &none(), &opts).unwrap();
    assert_eq!(c.steps.len(), 4);
    assert_eq!(
        c.step("slow").unwrap().metadata["condition"],
        "{{mode}} == slow"
    );
    let err = cook_with(
        "formula = \"b\"\n[[steps]]\nid = \"a\"\ntitle = \"A\"\ncondition = \"always\"\n",
        &none(),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("step 'a': condition 'always' must use a variable"),
        "{err}"
    );
}

#[test]
fn loops_expand_and_chain() {
    let text = r#"
formula = "l"
[vars.n]
default = "3"
[[steps]]
id = "start"
title = "Start"
[[steps]]
id = "rounds"
title = "Rounds"
needs = ["start"]
[steps.loop]
range = "1..{n}"
var = "i"
[[steps.loop.body]]
id = "work"
title = "Work round {i}"
[[steps.loop.body]]
id = "check"
title = "Check round {i}"
needs = ["work"]
[[steps]]
id = "end"
title = "End"
needs = ["rounds"]
[[steps]]
id = "retry"
title = "Retry"
needs = ["end"]
[steps.loop]
until = "step.status == 'complete'"
max = 3
[[steps.loop.body]]
id = "try"
title = "Try"
"#;
    let c = cook_ok(text, &none(), &[]);
    assert_eq!(c.steps.len(), 9, "{:?}", ids(&c));
    assert_eq!(needs(&c, "rounds.iter1.work"), vec!["start"]);
    assert_eq!(needs(&c, "rounds.iter2.work"), vec!["rounds.iter1.check"]);
    assert_eq!(needs(&c, "rounds.iter3.check"), vec!["rounds.iter3.work"]);
    assert_eq!(c.step("rounds.iter2.check").unwrap().title, "Check round 2");
    assert_eq!(needs(&c, "end"), vec!["rounds.iter3.check"]);
    let try1 = c.step("retry.iter1.try").unwrap();
    assert_eq!(try1.needs, vec!["end"]);
    assert_eq!(try1.metadata["loop"]["max"], 3);
    let err = cook_with(
        "formula = \"x\"\n[[steps]]\nid = \"l\"\n[steps.loop]\ncount = 2\nrange = \"1..2\"\n[[steps.loop.body]]\nid = \"b\"\ntitle = \"B\"\n",
        &none(),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("loop of step 'l': give exactly one of count, range or until"),
        "{err}"
    );
}

#[test]
fn convoy_legs_run_in_parallel_and_synthesis_needs_them() {
    let text = r#"
formula = "rev"
type = "convoy"
[inputs.target]
required = true
[prompts]
base = "Review {{.target}} for {{.leg.focus}} into {{.output_path}} {{if .x}}keep{{end}}"
[output]
directory = ".reviews/{{.target}}"
leg_pattern = "{{.leg.id}}.md"
synthesis = "summary.md"
[[legs]]
id = "safety"
title = "Safety"
focus = "safety"
[[legs]]
id = "speed"
title = "Speed"
focus = "speed"
[[legs]]
id = "style"
title = "Style"
[presets.fast]
legs = ["speed"]
[synthesis]
title = "Merge findings on {{target}}"
"#;
    let c = cook_ok(text, &none(), &[("target", "pr-9")]);
    assert_eq!(c.legs, vec!["safety", "speed", "style"]);
    assert_eq!(c.synthesis.as_deref(), Some("synthesis"));
    assert!(c.legs.iter().all(|l| needs(&c, l).is_empty()));
    assert_eq!(needs(&c, "synthesis"), vec!["safety", "speed", "style"]);
    assert_eq!(c.step("synthesis").unwrap().title, "Merge findings on pr-9");
    let speed = c.step("speed").unwrap();
    assert_eq!(speed.metadata["output_path"], ".reviews/pr-9/speed.md");
    assert_eq!(
        speed.metadata["prompt"],
        "Review pr-9 for speed into .reviews/pr-9/speed.md {{if .x}}keep{{end}}"
    );
    assert_eq!(
        c.step("synthesis").unwrap().metadata["output_path"],
        ".reviews/pr-9/summary.md"
    );
    let opts = CookOptions {
        vars: vars(&[("target", "pr-9")]),
        preset: Some("fast".into()),
        ..CookOptions::default()
    };
    let c = cook(&parse(text), &none(), &opts).unwrap();
    assert_eq!(ids(&c), vec!["speed", "synthesis"]);
    let opts = CookOptions {
        preset: Some("slow".into()),
        ..opts
    };
    let err = cook(&parse(text), &none(), &opts).unwrap_err().to_string();
    assert!(
        err.contains("unknown preset 'slow'; presets: fast"),
        "{err}"
    );
}

#[test]
fn children_gates_and_waits_for() {
    let text = r#"
formula = "boot"
[[steps]]
id = "start"
title = "Start"
[[steps]]
id = "group"
title = "Group"
type = "parallel"
needs = ["start"]
[[steps.children]]
id = "one"
title = "One"
[[steps.children]]
id = "two"
title = "Two"
needs = ["one"]
[[steps]]
id = "wait"
title = "Wait"
needs = ["group"]
waits_for = "children-of(group)"
[steps.gate]
type = "timer"
timeout = "15m"
"#;
    let c = cook_ok(text, &none(), &[]);
    assert_eq!(ids(&c), vec!["start", "group", "one", "two", "wait"]);
    let group = c.step("group").unwrap();
    assert_eq!(group.issue_type, "epic");
    assert_eq!(group.children, vec!["one", "two"]);
    assert_eq!(group.metadata["execution"], "parallel");
    assert_eq!(c.step("one").unwrap().parent.as_deref(), Some("group"));
    let wait = c.step("wait").unwrap();
    assert_eq!(wait.metadata["gate"]["type"], "timer");
    assert_eq!(wait.metadata["gate"]["timeout"], "15m");
    assert_eq!(wait.metadata["waits_for"], "children-of(group)");

    let bad = text.replace("children-of(group)", "children-of(nowhere)");
    let err = cook_with(&bad, &none(), &[]).unwrap_err().to_string();
    assert!(err.contains("waits for children of 'nowhere'"), "{err}");
    let bad = text.replace("needs = [\"start\"]", "needs = [\"two\"]");
    let err = cook_with(&bad, &none(), &[]).unwrap_err().to_string();
    assert!(
        err.contains("step 'group' needs 'two', which is inside it"),
        "{err}"
    );
}

#[test]
fn duplicate_ids_after_cooking_are_errors() {
    let text = format!(
        "{SHINY}\n[[steps]]\nid = \"implement.draft\"\ntitle = \"Clash\"\n[[compose.expand]]\ntarget = \"implement\"\nwith = \"refine\"\n"
    );
    let err = cook_with(&text, &Map::new(&[("refine", REFINE)]), &[("feature", "x")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("duplicate step id 'implement.draft'"), "{err}");
    assert!(
        err.contains("template[0] of 'refine' for 'implement'"),
        "{err}"
    );
}

#[test]
fn standalone_expansion_and_aspect() {
    let c = cook_ok(REFINE, &none(), &[]);
    assert_eq!(ids(&c), vec!["refine.draft", "refine.polish"]);
    assert!(c.warnings[0].contains("cooked on its own"));
    let aspect = "formula = \"a\"\ntype = \"aspect\"\n[[advice]]\ntarget = \"x\"\n[[advice.after]]\nid = \"y\"\n";
    let c = cook_ok(aspect, &none(), &[]);
    assert!(c.steps.is_empty());
    assert!(
        c.warnings[0].contains("compose.aspects = [\"a\"]"),
        "{:?}",
        c.warnings
    );
}

#[test]
fn a_long_chain_cooks_in_order() {
    let mut text = String::from("formula = \"chain\"\n[vars.who]\ndefault = \"me\"\n");
    for i in 1..=1023 {
        text.push_str(&format!(
            "[[steps]]\nid = \"move-{i}\"\ntitle = \"Move {i} by {{{{who}}}}\"\n"
        ));
        if i > 1 {
            text.push_str(&format!("needs = [\"move-{}\"]\n", i - 1));
        }
    }
    let c = cook_ok(&text, &none(), &[]);
    assert_eq!(c.steps.len(), 1023);
    assert_eq!(c.steps[1022].id, "move-1023");
    assert_eq!(c.steps[1022].needs, vec!["move-1022"]);
    assert_eq!(c.steps[500].title, "Move 501 by me");
    assert_eq!(c.roots().count(), 1);
}

#[test]
fn builtin_formulas_parse_cleanly_and_cook() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("formulas");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| name_of_file(e.ok()?.file_name().to_str()?).map(str::to_string))
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = BUILTIN.iter().map(|(n, _)| n.to_string()).collect();
    embedded.sort();
    assert_eq!(on_disk, embedded, "every file in formulas/ is embedded");
    let lib = Library::builtin_only();
    for (name, _) in BUILTIN {
        let parsed = lib.load(name).unwrap();
        assert!(parsed.warnings.is_empty(), "{name}: {:?}", parsed.warnings);
        assert_eq!(&parsed.formula.name, name);
        let given: BTreeMap<String, String> = parsed
            .formula
            .vars
            .iter()
            .filter(|v| v.required)
            .map(|v| (v.name.clone(), "X-1".to_string()))
            .collect();
        let opts = CookOptions {
            vars: given,
            ..CookOptions::default()
        };
        let cooked = cook(&parsed, &lib, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        let undeclared: Vec<_> = cooked
            .warnings
            .iter()
            .filter(|w| w.contains("{{"))
            .collect();
        assert!(undeclared.is_empty(), "{name}: {undeclared:?}");
        if parsed.formula.kind == FormulaKind::Workflow {
            assert!(
                cooked.steps.len() >= 5,
                "{name} has {} steps",
                cooked.steps.len()
            );
        }
    }
    let work = cook(
        &lib.load("mol-polecat-work").unwrap(),
        &lib,
        &CookOptions {
            vars: vars(&[("issue", "gt-42")]),
            ..CookOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        ids(&work),
        vec!["claim", "branch", "implement", "test", "commit", "done"]
    );
    assert!(work
        .step("branch")
        .unwrap()
        .description
        .contains("git switch -c polecat/gt-42"));
}

#[test]
fn library_precedence_builtin_then_repo_then_user() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let user = tmp.path().join("config/gastown/formulas");
    std::fs::create_dir_all(repo_dir(&repo)).unwrap();
    std::fs::create_dir_all(&user).unwrap();
    let write = |dir: &std::path::Path, name: &str, title: &str| {
        std::fs::write(
            dir.join(format!("{name}.formula.toml")),
            format!("formula = \"{name}\"\n[[steps]]\nid = \"a\"\ntitle = \"{title}\"\n"),
        )
        .unwrap();
    };
    write(&repo_dir(&repo), "shared", "from repo");
    write(&user, "shared", "from user");
    write(&user, "mine", "from user");
    write(&repo_dir(&repo), "mol-release", "hijack");
    let lib = Library::new(Some(&repo), Some(user.clone()));
    assert_eq!(lib.find("shared").unwrap().source, SourceKind::Repo);
    assert_eq!(lib.find("mine").unwrap().source, SourceKind::User);
    assert_eq!(lib.find("mol-release").unwrap().source, SourceKind::Builtin);
    let list = lib.list();
    let shared: Vec<_> = list.iter().filter(|e| e.name == "shared").collect();
    assert_eq!(shared.len(), 2);
    assert_eq!(
        (shared[0].source, shared[0].shadowed_by),
        (SourceKind::Repo, None)
    );
    assert_eq!(
        (shared[1].source, shared[1].shadowed_by),
        (SourceKind::User, Some(SourceKind::Repo))
    );
    let release: Vec<_> = list.iter().filter(|e| e.name == "mol-release").collect();
    assert_eq!(release[1].shadowed_by, Some(SourceKind::Builtin));
    let title = &lib.load("shared").unwrap().formula.steps[0].title;
    assert_eq!(title, "from repo");
}

#[test]
fn user_dir_honours_xdg() {
    let home = std::path::Path::new("/home/u");
    assert_eq!(
        user_dir(Some(home), None).unwrap(),
        std::path::PathBuf::from("/home/u/.config/gastown/formulas")
    );
    assert_eq!(
        user_dir(Some(home), Some(std::path::Path::new("/x/cfg"))).unwrap(),
        std::path::PathBuf::from("/x/cfg/gastown/formulas")
    );
    // A relative XDG_CONFIG_HOME is invalid per the spec and ignored.
    assert_eq!(
        user_dir(Some(home), Some(std::path::Path::new("rel"))).unwrap(),
        std::path::PathBuf::from("/home/u/.config/gastown/formulas")
    );
    assert!(user_dir(None, None).is_none());
}

#[test]
fn var_assignments() {
    let m = parse_var_assignments(&["a=1", "b=x=y", "c="]).unwrap();
    assert_eq!(m["b"], "x=y");
    assert_eq!(m["c"], "");
    assert!(parse_var_assignments(&["nope"])
        .unwrap_err()
        .to_string()
        .contains("NAME=VALUE"));
    assert!(parse_var_assignments(&["a=1", "a=2"])
        .unwrap_err()
        .to_string()
        .contains("given twice"));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A formula of `n` steps declared in a shuffled order, with `edges` (a needs b).
    fn graph_formula(n: usize, edges: &[(usize, usize)], seed: u64) -> String {
        let mut order: Vec<usize> = (0..n).collect();
        let mut state = seed | 1;
        for i in (1..n).rev() {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            order.swap(i, (state >> 33) as usize % (i + 1));
        }
        let mut text = String::from("formula = \"g\"\n");
        for &i in &order {
            let needs: Vec<String> = edges
                .iter()
                .filter(|(a, b)| *a % n == i && *b % n != i)
                .map(|(_, b)| format!("\"s{}\"", b % n))
                .collect();
            text.push_str(&format!(
                "[[steps]]\nid = \"s{i}\"\ntitle = \"S{i}\"\nneeds = [{}]\n",
                needs.join(", ")
            ));
        }
        text
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Either the graph cooks into a topological order of all its steps, or the error
        /// names a cycle whose every hop is a real `needs` edge.
        #[test]
        fn cooked_order_is_topological_or_the_cycle_is_real(
            n in 1usize..30,
            edges in proptest::collection::vec((0usize..30, 0usize..30), 0..60),
            seed in any::<u64>(),
        ) {
            let text = graph_formula(n, &edges, seed);
            let has_edge = |a: &str, b: &str| {
                edges.iter().any(|(x, y)| format!("s{}", x % n) == a && format!("s{}", y % n) == b)
            };
            match cook_with(&text, &none(), &[]) {
                Ok(c) => {
                    prop_assert_eq!(c.steps.len(), n);
                    let mut seen = std::collections::HashSet::new();
                    for s in &c.steps {
                        for need in &s.needs {
                            prop_assert!(seen.contains(need), "{} before its need {}", s.id, need);
                        }
                        seen.insert(s.id.clone());
                    }
                }
                Err(e) => {
                    let msg = e.to_string();
                    let cycle = msg.split("needs cycle: ").nth(1).expect("a cycle error");
                    let hops: Vec<&str> = cycle.split(" -> ").collect();
                    prop_assert!(hops.len() >= 2);
                    prop_assert_eq!(hops.first(), hops.last());
                    for pair in hops.windows(2) {
                        prop_assert!(has_edge(pair[0], pair[1]), "{} -> {} is not an edge", pair[0], pair[1]);
                    }
                }
            }
        }
    }
}
