//! `git formula` end to end: the real binary, temporary home and working directories, a
//! hermetic environment. The formula files are tests/it/fixtures/formulas (written to use
//! every feature the original's files use); real_data.rs runs the same checks on the
//! original's own files when ../shared/testdata is there.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::support::{assert_refused, fixtures, ok, Captured, Env};

/// The working directory formula commands run in (beside `home/`).
fn work(env: &Env) -> PathBuf {
    let dir = env.path().join("work");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(env: &Env, args: &[&str]) -> Output {
    env.run_in(&work(env), "formula", args)
}

fn json(env: &Env, args: &[&str]) -> Value {
    env.json_in(&work(env), "formula", args)
}

/// The `*.formula.toml` files of `dir`, sorted; at least `at_least` of them.
pub fn formula_files(dir: &Path, at_least: usize) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".formula.toml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= at_least,
        "expected {at_least} formulas, found {files:?}"
    );
    files
}

/// The variables a formula file requires, read from the file itself and the files it
/// extends (siblings in the same directory).
pub fn required_vars(path: &Path) -> Vec<String> {
    let table: toml::Table = std::fs::read_to_string(path).unwrap().parse().unwrap();
    let mut out = Vec::new();
    if let Some(toml::Value::Array(parents)) = table.get("extends") {
        for parent in parents {
            let file = format!("{}.formula.toml", parent.as_str().unwrap());
            out.extend(required_vars(&path.parent().unwrap().join(file)));
        }
    }
    for section in ["vars", "inputs"] {
        if let Some(toml::Value::Table(vars)) = table.get(section) {
            for (name, def) in vars {
                let required = def.get("required").and_then(|r| r.as_bool()) == Some(true);
                if required && def.get("default").is_none() && !out.contains(name) {
                    out.push(name.clone());
                }
            }
        }
    }
    out
}

pub fn step_ids(cooked: &Value) -> Vec<String> {
    cooked["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

pub fn step<'v>(cooked: &'v Value, id: &str) -> &'v Value {
    cooked["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id} in {:?}", step_ids(cooked)))
}

/// Every need names a step listed earlier; every parent too.
fn assert_topological(cooked: &Value) {
    let mut seen = std::collections::HashSet::new();
    for s in cooked["steps"].as_array().unwrap() {
        for need in s["needs"].as_array().unwrap() {
            assert!(
                seen.contains(need.as_str().unwrap()),
                "{} needs {need} before it",
                s["id"]
            );
        }
        if let Some(p) = s["parent"].as_str() {
            assert!(
                seen.contains(p),
                "{} is listed before its parent {p}",
                s["id"]
            );
        }
        seen.insert(s["id"].as_str().unwrap().to_string());
    }
}

/// `validate` passes every formula file of `dir` (text and JSON, no unknown-key warnings);
/// the text report, for checks of particular lines.
pub fn check_every_formula_validates(dir: &Path, at_least: usize) -> String {
    let env = Env::empty();
    let files = formula_files(dir, at_least);
    let mut args = vec!["validate"];
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let out = run(&env, &args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = ok(out, &args);
    let ok_lines = stdout.lines().filter(|l| l.starts_with("ok ")).count();
    assert_eq!(ok_lines, files.len(), "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
    // The files use only keys the format knows.
    assert!(!stderr.contains("unknown key"), "{stderr}");

    let results = json(&env, &args);
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), files.len());
    assert!(results.iter().all(|r| r["ok"] == true));
    stdout
}

/// Every formula file of `dir` cooks with its required variables set (all substituted, the
/// graph in topological order), and without them fails naming every missing one.
pub fn check_every_formula_cooks_with_its_required_vars(dir: &Path, at_least: usize) {
    let env = Env::empty();
    for file in formula_files(dir, at_least) {
        let path = file.display().to_string();
        let required = required_vars(&file);
        let assignments: Vec<String> = required.iter().map(|v| format!("{v}=dummy-{v}")).collect();
        let mut args = vec!["cook", path.as_str()];
        for a in &assignments {
            args.push("--var");
            args.push(a);
        }
        let cooked = json(&env, &args);
        assert_topological(&cooked);
        for v in &required {
            assert_eq!(cooked["vars"][v], format!("dummy-{v}"), "{path}");
            let text = serde_json::to_string(&cooked["steps"]).unwrap();
            assert!(
                !text.contains(&format!("{{{{{v}}}}}")),
                "{path}: {{{{{v}}}}} left in steps"
            );
        }
        if !required.is_empty() {
            // Without them, the error lists every missing one.
            let mut needles = vec!["missing required variable"];
            needles.extend(required.iter().map(String::as_str));
            assert_refused(run(&env, &["cook", path.as_str()]), &needles);
        }
        let kind = cooked["kind"].as_str().unwrap();
        if kind != "aspect" {
            assert!(!step_ids(&cooked).is_empty(), "{path} cooked to nothing");
        }
    }
}

const FIXTURES: usize = 10;

#[test]
fn every_fixture_formula_validates() {
    let report = check_every_formula_validates(&fixtures("formulas"), FIXTURES);
    assert!(report.contains("(survey convoy, 4 steps)"), "{report}");
    assert!(
        report.contains("(ship-thorough workflow, 8 steps)"),
        "{report}"
    );
    assert!(
        report.contains("(ship-scanned workflow, 9 steps)"),
        "{report}"
    );
}

#[test]
fn every_fixture_formula_cooks_with_its_required_vars() {
    check_every_formula_cooks_with_its_required_vars(&fixtures("formulas"), FIXTURES);
}

#[test]
fn fixture_formulas_cook_to_the_expected_graphs() {
    let env = Env::empty();
    let dir = fixtures("formulas");
    let file = |n: &str| dir.join(format!("{n}.formula.toml")).display().to_string();

    // extends + compose.expand: implement becomes the expansion's chain.
    let thorough = json(
        &env,
        &["cook", &file("ship-thorough"), "--var", "feature=login"],
    );
    assert_eq!(
        step_ids(&thorough),
        [
            "design",
            "implement.draft",
            "implement.refine-1",
            "implement.refine-2",
            "implement.refine-3",
            "review",
            "test",
            "submit"
        ]
    );
    assert_eq!(
        step(&thorough, "implement.draft")["title"],
        "Draft: Implement login"
    );
    assert_eq!(
        step(&thorough, "implement.draft")["needs"],
        serde_json::json!(["design"])
    );
    assert_eq!(
        step(&thorough, "review")["needs"],
        serde_json::json!(["implement.refine-3"])
    );
    assert_eq!(thorough["extends"], serde_json::json!(["ship"]));

    // compose.aspects: around advice on the pointcut steps only.
    let scanned = json(
        &env,
        &["cook", &file("ship-scanned"), "--var", "feature=login"],
    );
    assert_eq!(
        step(&scanned, "implement")["needs"],
        serde_json::json!(["implement-prescan"])
    );
    assert_eq!(
        step(&scanned, "review")["needs"],
        serde_json::json!(["implement-postscan"])
    );
    assert_eq!(
        step(&scanned, "submit-postscan")["title"],
        "Postscan for submit"
    );
    assert!(!step_ids(&scanned)
        .iter()
        .any(|id| id.starts_with("design-")));

    // convoy: legs all ready, synthesis after them, prompts filled.
    let survey = json(&env, &["cook", &file("survey"), "--var", "problem=caching"]);
    assert_eq!(survey["legs"], serde_json::json!(["api", "data", "risk"]));
    assert_eq!(
        step(&survey, "synthesis")["needs"],
        serde_json::json!(["api", "data", "risk"])
    );
    assert!(step(&survey, "api")["needs"].as_array().unwrap().is_empty());
    let prompt = step(&survey, "api")["metadata"]["prompt"].as_str().unwrap();
    assert!(prompt.contains("**Problem**: caching"), "{prompt}");
    assert!(prompt.contains("**Leg ID**: api"), "{prompt}");
    assert!(prompt.contains("**Scope**: medium"), "{prompt}");
    assert_eq!(survey["vars"]["context"], "");

    // Parallel containers: an epic listing its children, each child naming its parent.
    let bring_up = json(&env, &["cook", &file("bring-up")]);
    assert_eq!(step(&bring_up, "start-workers")["issue_type"], "epic");
    assert_eq!(
        step(&bring_up, "start-workers")["children"],
        serde_json::json!(["start-east-worker", "start-west-worker"])
    );
    assert_eq!(
        step(&bring_up, "start-west-worker")["parent"],
        "start-workers"
    );

    // Gates, pour, phase; a step declared before the step it needs is ordered after it.
    let publish = json(&env, &["cook", &file("publish"), "--var", "version=1.2.3"]);
    let gate = &step(&publish, "await-ci")["metadata"]["gate"];
    assert_eq!(gate["type"], "gh:run");
    assert_eq!(gate["id"], "release.yml");
    assert_eq!(gate["timeout"], "30m");
    assert_eq!(publish["pour"], true);
    assert_eq!(publish["phase"], "vapor");
    assert_eq!(
        step(&publish, "push-tag")["description"],
        "git push origin v1.2.3"
    );
    let ids = step_ids(&publish);
    let pos = |id: &str| ids.iter().position(|x| x == id).unwrap();
    assert!(pos("snapshot-docs") < pos("stamp-changelog"));

    // Defaults fill variables; squash settings pass through.
    let hanoi = json(&env, &["cook", &file("hanoi-2")]);
    assert_eq!(hanoi["vars"]["source_peg"], "A");
    assert_eq!(step(&hanoi, "move-2")["title"], "Move disk 2: A → C");
    assert_eq!(
        step(&hanoi, "verify")["needs"],
        serde_json::json!(["move-3"])
    );
    let checkpoint = json(&env, &["cook", &file("checkpoint")]);
    assert_eq!(checkpoint["squash"]["trigger"], "on_complete");
    assert_eq!(checkpoint["squash"]["include_metrics"], true);
}

#[test]
fn bad_input_gives_one_line_errors() {
    let env = Env::empty();
    let two_required = env.write(
        "f/two.formula.toml",
        "formula = \"two\"\n[vars.alpha]\nrequired = true\n[vars.beta]\nrequired = true\n[[steps]]\nid = \"a\"\ntitle = \"{{alpha}} {{beta}}\"\n",
    );
    let two = two_required.display().to_string();
    assert_refused(
        run(&env, &["cook", &two]),
        &["missing required variables", "alpha, beta"],
    );
    assert_refused(
        run(
            &env,
            &[
                "cook", &two, "--var", "alpha=1", "--var", "beta=2", "--var", "gamma=3",
            ],
        ),
        &["unknown variable 'gamma'", "known variables: alpha, beta"],
    );

    let cycle = env.write(
        "f/cyc.formula.toml",
        "formula = \"cyc\"\n[[steps]]\nid = \"a\"\ntitle = \"A\"\nneeds = [\"b\"]\n[[steps]]\nid = \"b\"\ntitle = \"B\"\nneeds = [\"a\"]\n",
    );
    assert_refused(
        run(&env, &["cook", &cycle.display().to_string()]),
        &["needs cycle: a -> b -> a"],
    );

    let missing = env.write(
        "f/miss.formula.toml",
        "formula = \"miss\"\n[[steps]]\nid = \"a\"\ntitle = \"A\"\nneeds = [\"ghost\"]\n",
    );
    assert_refused(
        run(&env, &["cook", &missing.display().to_string()]),
        &["step 'a' needs 'ghost'", "not a step"],
    );

    let ext = env.write(
        "f/ext.formula.toml",
        "formula = \"ext\"\nextends = [\"nowhere\"]\n",
    );
    assert_refused(
        run(&env, &["cook", &ext.display().to_string()]),
        &["unknown formula 'nowhere' in extends"],
    );

    let malformed = env.write(
        "f/bad.formula.toml",
        "formula = \"bad\"\n[[steps]]\nid = \"a\"\ntitle = = \"A\"\n",
    );
    let malformed_path = malformed.display().to_string();
    assert_refused(
        run(&env, &["cook", &malformed_path]),
        &[&format!("{malformed_path}:4:9: malformed TOML")],
    );

    let dup = env.write(
        "f/dup.formula.toml",
        "formula = \"dup\"\n[[steps]]\nid = \"a\"\ntitle = \"A\"\n[[steps]]\nid = \"a\"\ntitle = \"A2\"\n",
    );
    assert_refused(
        run(&env, &["cook", &dup.display().to_string()]),
        &["duplicate step id 'a' (steps[0] and steps[1])"],
    );

    assert_refused(
        run(&env, &["cook", "no-such-formula"]),
        &["unknown formula 'no-such-formula'"],
    );
    assert_refused(
        run(&env, &["cook", "./missing.formula.toml"]),
        &["no formula file"],
    );
    assert_refused(
        run(&env, &["cook", &two, "--var", "oops"]),
        &["expected NAME=VALUE"],
    );

    // With --json the error is also an object on stdout.
    let out = Captured::from(run(&env, &["cook", &cycle.display().to_string(), "--json"]));
    assert_eq!(out.code, 1);
    let v: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(v["kind"], "invalid");
    assert!(v["error"].as_str().unwrap().contains("needs cycle"));

    // validate reports each file and fails if any fails.
    let good = fixtures("formulas/ship.formula.toml").display().to_string();
    let out = Captured::from(run(&env, &["validate", &good, &malformed_path]));
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains(&format!("ok    {good}")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("FAIL  {malformed_path}")),
        "{}",
        out.stdout
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

#[test]
fn unknown_keys_are_warnings_naming_key_and_file() {
    let env = Env::empty();
    let path = env.write(
        "f/odd.formula.toml",
        "formula = \"odd\"\ncolour = \"blue\"\n[[steps]]\nid = \"a\"\ntitle = \"A\"\nfrobnicate = 1\n",
    );
    let p = path.display().to_string();
    let out = Captured::from(run(&env, &["validate", &p]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("2 warnings"), "{}", out.stdout);
    assert!(
        out.stderr.contains(&format!(
            "warning: {p}: unknown key 'colour' in the top level ignored"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "warning: {p}: unknown key 'frobnicate' in step 'a' ignored"
        )),
        "{}",
        out.stderr
    );
    // Cooking still works, and JSON carries the warnings.
    let cooked = json(&env, &["cook", &p]);
    assert_eq!(step_ids(&cooked), ["a"]);
    let warnings = cooked["warnings"].as_array().unwrap();
    assert!(warnings
        .iter()
        .any(|w| w.as_str().unwrap().contains("'frobnicate'")));
}

#[test]
fn repo_and_user_formulas_are_listed_with_their_source() {
    let env = Env::empty();
    let repo = work(&env).join("proj");
    std::fs::create_dir_all(&repo).unwrap();
    env.git_ok(&repo, &["init", "-q"]);
    let sub = repo.join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    let formula = |name: &str, title: &str| {
        format!("formula = \"{name}\"\ndescription = \"{title}\"\n[[steps]]\nid = \"only\"\ntitle = \"{title}\"\n")
    };
    env.write(
        "work/proj/.gastown/formulas/team-flow.formula.toml",
        &formula("team-flow", "repo flow"),
    );
    env.write(
        "work/proj/.gastown/formulas/both.formula.toml",
        &formula("both", "repo copy"),
    );
    env.write(
        "work/proj/.gastown/formulas/mol-release.formula.toml",
        &formula("mol-release", "hijack"),
    );
    env.write(
        "home/.config/gastown/formulas/my-flow.formula.toml",
        &formula("my-flow", "user flow"),
    );
    env.write(
        "home/.config/gastown/formulas/both.formula.toml",
        &formula("both", "user copy"),
    );

    let out = Captured::from(env.run_in(&sub, "formula", &["list"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = |name: &str, source: &str| {
        out.stdout
            .lines()
            .find(|l| {
                l.split_whitespace().next() == Some(name)
                    && l.split_whitespace().nth(2) == Some(source)
            })
            .unwrap_or_else(|| panic!("no {name} from {source} in\n{}", out.stdout))
            .to_string()
    };
    assert!(line("team-flow", "repo").contains(".gastown/formulas/team-flow.formula.toml"));
    assert!(line("my-flow", "user").contains("home/.config/gastown/formulas/my-flow.formula.toml"));
    assert!(line("both", "user").contains("(shadowed by repo)"));
    assert!(!line("both", "repo").contains("shadowed"));
    assert!(line("mol-release", "repo").contains("(shadowed by builtin)"));
    assert!(line("mol-polecat-work", "builtin").contains("workflow"));

    let items = env.json_in(&sub, "formula", &["list"]);
    let mine = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "my-flow")
        .unwrap();
    assert_eq!(mine["source"], "user");
    assert_eq!(mine["kind"], "workflow");

    // Cooking by name takes the winner.
    let cooked = env.json_in(&sub, "formula", &["cook", "both"]);
    assert_eq!(cooked["source"], "repo");
    assert_eq!(step(&cooked, "only")["title"], "repo copy");
    let cooked = env.json_in(
        &sub,
        "formula",
        &["cook", "mol-release", "--var", "version=2.0.0"],
    );
    assert_eq!(cooked["source"], "builtin");
    assert!(step_ids(&cooked).contains(&"await-ci".to_string()));

    // XDG_CONFIG_HOME moves the user directory.
    env.write(
        "xdg/gastown/formulas/xdg-flow.formula.toml",
        &formula("xdg-flow", "xdg"),
    );
    let program = crate::support::bin_dir().join("git-formula");
    let out = Captured::from(
        env.command(program.to_str().unwrap(), &sub)
            .env("XDG_CONFIG_HOME", env.path().join("xdg"))
            .arg("list")
            .output()
            .unwrap(),
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("xdg-flow ") && l.contains(" user ")),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("my-flow"), "{}", out.stdout);
}

#[test]
fn show_prints_description_vars_and_steps() {
    let env = Env::empty();
    let out = Captured::from(run(&env, &["show", "mol-polecat-work"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .starts_with("mol-polecat-work (workflow, version 1)"),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains("Work one issue from claim to merge request."));
    assert!(out
        .stdout
        .lines()
        .any(|l| l.trim_start().starts_with("issue") && l.contains("required")));
    assert!(out
        .stdout
        .lines()
        .any(|l| l.trim_start().starts_with("base_branch") && l.contains("default \"main\"")));
    assert!(
        out.stdout.contains("commit  Commit the work  (needs test)"),
        "{}",
        out.stdout
    );

    let shown = json(
        &env,
        &[
            "show",
            &fixtures("formulas/survey.formula.toml")
                .display()
                .to_string(),
        ],
    );
    assert_eq!(shown["formula"]["type"], "convoy");
    assert_eq!(shown["formula"]["legs"].as_array().unwrap().len(), 3);
    assert_eq!(shown["source"], "file");
}

#[test]
fn builtin_formulas_cook() {
    let env = Env::empty();
    let work = json(
        &env,
        &[
            "cook",
            "mol-polecat-work",
            "--var",
            "issue=gt-5",
            "--var",
            "test_command=make check",
        ],
    );
    assert_eq!(
        step_ids(&work),
        ["claim", "branch", "implement", "test", "commit", "done"]
    );
    assert!(step(&work, "test")["description"]
        .as_str()
        .unwrap()
        .contains("make check"));
    assert_eq!(work["vars"]["branch"], "polecat/gt-5");

    let review = json(
        &env,
        &[
            "cook",
            "mol-code-review",
            "--var",
            "target=feature-x",
            "--preset",
            "quick",
        ],
    );
    assert_eq!(step_ids(&review), ["correctness", "tests", "synthesis"]);
    assert_eq!(
        step(&review, "synthesis")["needs"],
        serde_json::json!(["correctness", "tests"])
    );

    for patrol in [
        "mol-witness-patrol",
        "mol-refinery-patrol",
        "mol-deacon-patrol",
    ] {
        let cooked = json(&env, &["cook", patrol]);
        assert_eq!(cooked["phase"], "vapor", "{patrol}");
        assert!(cooked["squash"].is_object(), "{patrol}");
        assert!(step_ids(&cooked).len() >= 5, "{patrol}");
        assert_eq!(step_ids(&cooked).last().unwrap(), "report", "{patrol}");
    }
}

#[test]
fn a_generated_1023_step_chain_cooks() {
    let env = Env::empty();
    let mut text = String::from("formula = \"hanoi-10\"\nversion = 1\n");
    for i in 1..=1023 {
        text.push_str(&format!(
            "[[steps]]\nid = \"move-{i}\"\ntitle = \"Move {i}\"\n"
        ));
        if i > 1 {
            text.push_str(&format!("needs = [\"move-{}\"]\n", i - 1));
        }
    }
    let path = env.write("f/hanoi-10.formula.toml", &text);
    let cooked = json(&env, &["cook", &path.display().to_string()]);
    let ids = step_ids(&cooked);
    assert_eq!(ids.len(), 1023);
    assert_eq!(ids[0], "move-1");
    assert_eq!(ids[1022], "move-1023");
    assert_eq!(
        step(&cooked, "move-1023")["needs"],
        serde_json::json!(["move-1022"])
    );
    assert_topological(&cooked);

    // The same chain as a range loop of the original's kind.
    let looped = env.write(
        "f/hanoi-loop.formula.toml",
        "formula = \"hanoi-loop\"\n[vars.disks]\ndefault = \"10\"\n[[steps]]\nid = \"moves\"\ntitle = \"Moves\"\n[steps.loop]\nrange = \"1..2^{disks}-1\"\nvar = \"n\"\n[[steps.loop.body]]\nid = \"move\"\ntitle = \"Move {n}\"\n[[steps]]\nid = \"verify\"\ntitle = \"Verify\"\nneeds = [\"moves\"]\n",
    );
    let cooked = json(&env, &["cook", &looped.display().to_string()]);
    assert_eq!(step_ids(&cooked).len(), 1024);
    assert_eq!(step(&cooked, "moves.iter1023.move")["title"], "Move 1023");
    assert_eq!(
        step(&cooked, "verify")["needs"],
        serde_json::json!(["moves.iter1023.move"])
    );
}
