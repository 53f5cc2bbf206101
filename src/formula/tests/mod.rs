//! Unit tests of the pure formula logic, on formulas written inline.

mod compose;
mod library;
mod properties;

use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::error::Result;

/// Formulas by name, from inline text.
pub(super) struct Map(HashMap<String, String>);

impl Map {
    pub(super) fn new(items: &[(&str, &str)]) -> Self {
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

pub(super) fn parse(text: &str) -> Parsed {
    parse_str(text, Origin::text("t.formula.toml")).expect("parses")
}

pub(super) fn parse_err(text: &str) -> String {
    parse_str(text, Origin::text("t.formula.toml"))
        .expect_err("must fail")
        .to_string()
}

pub(super) fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(super) fn cook_with(text: &str, lib: &Map, pairs: &[(&str, &str)]) -> Result<Cooked> {
    let opts = CookOptions {
        vars: vars(pairs),
        ..CookOptions::default()
    };
    cook(&parse(text), lib, &opts)
}

pub(super) fn cook_ok(text: &str, lib: &Map, pairs: &[(&str, &str)]) -> Cooked {
    cook_with(text, lib, pairs).expect("cooks")
}

pub(super) fn ids(c: &Cooked) -> Vec<&str> {
    c.steps.iter().map(|s| s.id.as_str()).collect()
}

pub(super) fn needs<'c>(c: &'c Cooked, id: &str) -> Vec<&'c str> {
    c.step(id)
        .unwrap_or_else(|| panic!("no step {id}"))
        .needs
        .iter()
        .map(String::as_str)
        .collect()
}

pub(super) fn none() -> Map {
    Map::new(&[])
}

pub(super) const SHINY: &str = r#"
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

pub(super) const REFINE: &str = r#"
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
