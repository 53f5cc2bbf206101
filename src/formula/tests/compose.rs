//! Cooking: expansions, aspects, conditions, loops, convoys, children, order.

use super::*;

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
