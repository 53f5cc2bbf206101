//! `git formula` end to end: the real binary, the original's formula files, temporary
//! repositories and home directories, a hermetic environment.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// A temporary home and working directory, and a way to run `git-formula` in them.
struct Env {
    tmp: tempfile::TempDir,
    extra: Vec<(String, String)>,
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Env {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(tmp.path().join("home")).unwrap();
        std::fs::create_dir_all(tmp.path().join("work")).unwrap();
        Env {
            tmp,
            extra: Vec::new(),
        }
    }

    fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    fn work(&self) -> PathBuf {
        self.tmp.path().join("work")
    }

    fn command(&self, program: &str, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("LC_ALL", "C")
            .env("TZ", "UTC")
            .current_dir(dir)
            .args(args);
        for (k, v) in &self.extra {
            cmd.env(k, v);
        }
        cmd
    }

    fn run_in(&self, dir: &Path, args: &[&str]) -> Out {
        let out = self
            .command(env!("CARGO_BIN_EXE_git-formula"), dir, args)
            .output()
            .expect("runs git-formula");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn run(&self, args: &[&str]) -> Out {
        self.run_in(&self.work(), args)
    }

    fn ok(&self, args: &[&str]) -> Out {
        let out = self.run(args);
        assert_eq!(
            out.code, 0,
            "{args:?} failed:\n{}{}",
            out.stdout, out.stderr
        );
        out
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.ok(&all);
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: bad JSON ({e}):\n{}", out.stdout))
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.tmp.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn git_init(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        let status = self
            .command("git", dir, &["init", "-q"])
            .status()
            .expect("git runs");
        assert!(status.success());
    }
}

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/formulas")
}

fn testdata_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(testdata())
        .expect("../shared/testdata/formulas exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".formula.toml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "expected the original's formulas, found {files:?}"
    );
    files
}

/// The variables a formula file requires, read from the file itself and the files it
/// extends (siblings in the same directory).
fn required_vars(path: &Path) -> Vec<String> {
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

fn step_ids(cooked: &Value) -> Vec<String> {
    cooked["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

fn step<'v>(cooked: &'v Value, id: &str) -> &'v Value {
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

fn assert_one_line_error(out: &Out, needles: &[&str]) {
    assert_eq!(out.code, 1, "exit code; stderr: {}", out.stderr);
    assert!(
        out.stdout.is_empty(),
        "stdout should be empty: {}",
        out.stdout
    );
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "one line of error expected: {:?}",
        out.stderr
    );
    assert!(lines[0].starts_with("error: "), "{}", lines[0]);
    for n in needles {
        assert!(
            lines[0].contains(n),
            "error should mention {n:?}: {}",
            lines[0]
        );
    }
}

#[test]
fn every_original_formula_validates() {
    let env = Env::new();
    let files = testdata_files();
    let mut args = vec!["validate"];
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let out = env.ok(&args);
    let ok_lines: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("ok "))
        .collect();
    assert_eq!(ok_lines.len(), files.len(), "{}", out.stdout);
    assert!(!out.stdout.contains("FAIL"), "{}", out.stdout);
    assert!(
        out.stdout.contains("(design convoy, 7 steps)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("(shiny-enterprise workflow, 9 steps)"),
        "{}",
        out.stdout
    );
    // No unknown-key warnings: the original's files use only keys the format knows.
    assert!(!out.stderr.contains("unknown key"), "{}", out.stderr);

    let json = env.json(&args);
    let results = json.as_array().unwrap();
    assert_eq!(results.len(), files.len());
    assert!(results.iter().all(|r| r["ok"] == true));
}

#[test]
fn every_original_formula_cooks_with_its_required_vars() {
    let env = Env::new();
    for file in testdata_files() {
        let path = file.display().to_string();
        let required = required_vars(&file);
        let assignments: Vec<String> = required.iter().map(|v| format!("{v}=dummy-{v}")).collect();
        let mut args = vec!["cook", path.as_str()];
        for a in &assignments {
            args.push("--var");
            args.push(a);
        }
        let cooked = env.json(&args);
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
            let out = env.run(&["cook", path.as_str()]);
            assert_one_line_error(&out, &["missing required variable"]);
            for v in &required {
                assert!(out.stderr.contains(v.as_str()), "{}", out.stderr);
            }
        }
        let kind = cooked["kind"].as_str().unwrap();
        if kind != "aspect" {
            assert!(!step_ids(&cooked).is_empty(), "{path} cooked to nothing");
        }
    }
}

#[test]
fn original_formulas_cook_to_the_expected_graphs() {
    let env = Env::new();
    let td = testdata();
    let file = |n: &str| td.join(format!("{n}.formula.toml")).display().to_string();

    let enterprise = env.json(&["cook", &file("shiny-enterprise"), "--var", "feature=login"]);
    assert_eq!(
        step_ids(&enterprise),
        [
            "design",
            "implement.draft",
            "implement.refine-1",
            "implement.refine-2",
            "implement.refine-3",
            "implement.refine-4",
            "review",
            "test",
            "submit"
        ]
    );
    assert_eq!(
        step(&enterprise, "implement.draft")["title"],
        "Draft: Implement login"
    );
    assert_eq!(
        step(&enterprise, "review")["needs"],
        serde_json::json!(["implement.refine-4"])
    );
    assert_eq!(enterprise["extends"], serde_json::json!(["shiny"]));

    let secure = env.json(&["cook", &file("shiny-secure"), "--var", "feature=login"]);
    assert_eq!(
        step(&secure, "implement")["needs"],
        serde_json::json!(["implement-security-prescan"])
    );
    assert_eq!(
        step(&secure, "review")["needs"],
        serde_json::json!(["implement-security-postscan"])
    );
    assert_eq!(
        step(&secure, "submit-security-postscan")["title"],
        "Security postscan for submit"
    );

    let design = env.json(&["cook", &file("design"), "--var", "problem=caching"]);
    let legs = design["legs"].as_array().unwrap();
    assert_eq!(legs.len(), 6);
    assert_eq!(
        step(&design, "synthesis")["needs"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert!(step(&design, "api")["needs"].as_array().unwrap().is_empty());
    let prompt = step(&design, "api")["metadata"]["prompt"].as_str().unwrap();
    assert!(prompt.contains("**Problem**: caching"), "{prompt}");
    assert!(prompt.contains("**Leg ID**: api"), "{prompt}");

    let boot = env.json(&["cook", &file("mol-gastown-boot")]);
    assert_eq!(step(&boot, "ensure-witnesses")["issue_type"], "epic");
    assert_eq!(
        step(&boot, "ensure-witnesses")["children"],
        serde_json::json!(["ensure-gastown-witness", "ensure-beads-witness"])
    );
    assert_eq!(
        step(&boot, "ensure-beads-refinery")["parent"],
        "ensure-refineries"
    );

    let release = env.json(&["cook", &file("beads-release"), "--var", "version=1.2.3"]);
    let gate = &step(&release, "await-ci")["metadata"]["gate"];
    assert_eq!(gate["type"], "gh:run");
    assert_eq!(gate["id"], "release.yml");
    assert_eq!(release["pour"], true);
    assert!(step(&release, "push-tag")["description"]
        .as_str()
        .unwrap()
        .contains("git push origin v1.2.3"));
    // stamp-changelog is declared before the step it needs; cooking orders it after.
    let ids = step_ids(&release);
    let pos = |id: &str| ids.iter().position(|x| x == id).unwrap();
    assert!(pos("snapshot-docs") < pos("stamp-changelog"));

    let hanoi = env.json(&["cook", &file("towers-of-hanoi")]);
    assert_eq!(hanoi["vars"]["source_peg"], "A");
    assert_eq!(step_ids(&hanoi).len(), 9);
    assert_eq!(
        step(&hanoi, "verify")["needs"],
        serde_json::json!(["move-7"])
    );
}

#[test]
fn bad_input_gives_one_line_errors() {
    let env = Env::new();
    let two_required = env.write(
        "f/two.formula.toml",
        "formula = \"two\"\n[vars.alpha]\nrequired = true\n[vars.beta]\nrequired = true\n[[steps]]\nid = \"a\"\ntitle = \"{{alpha}} {{beta}}\"\n",
    );
    let two = two_required.display().to_string();
    assert_one_line_error(
        &env.run(&["cook", &two]),
        &["missing required variables", "alpha, beta"],
    );
    assert_one_line_error(
        &env.run(&[
            "cook", &two, "--var", "alpha=1", "--var", "beta=2", "--var", "gamma=3",
        ]),
        &["unknown variable 'gamma'", "known variables: alpha, beta"],
    );

    let cycle = env.write(
        "f/cyc.formula.toml",
        "formula = \"cyc\"\n[[steps]]\nid = \"a\"\ntitle = \"A\"\nneeds = [\"b\"]\n[[steps]]\nid = \"b\"\ntitle = \"B\"\nneeds = [\"a\"]\n",
    );
    assert_one_line_error(
        &env.run(&["cook", &cycle.display().to_string()]),
        &["needs cycle: a -> b -> a"],
    );

    let missing = env.write(
        "f/miss.formula.toml",
        "formula = \"miss\"\n[[steps]]\nid = \"a\"\ntitle = \"A\"\nneeds = [\"ghost\"]\n",
    );
    assert_one_line_error(
        &env.run(&["cook", &missing.display().to_string()]),
        &["step 'a' needs 'ghost'", "not a step"],
    );

    let ext = env.write(
        "f/ext.formula.toml",
        "formula = \"ext\"\nextends = [\"nowhere\"]\n",
    );
    assert_one_line_error(
        &env.run(&["cook", &ext.display().to_string()]),
        &["unknown formula 'nowhere' in extends"],
    );

    let malformed = env.write(
        "f/bad.formula.toml",
        "formula = \"bad\"\n[[steps]]\nid = \"a\"\ntitle = = \"A\"\n",
    );
    let malformed_path = malformed.display().to_string();
    assert_one_line_error(
        &env.run(&["cook", &malformed_path]),
        &[&format!("{malformed_path}:4:9: malformed TOML")],
    );

    let dup = env.write(
        "f/dup.formula.toml",
        "formula = \"dup\"\n[[steps]]\nid = \"a\"\ntitle = \"A\"\n[[steps]]\nid = \"a\"\ntitle = \"A2\"\n",
    );
    assert_one_line_error(
        &env.run(&["cook", &dup.display().to_string()]),
        &["duplicate step id 'a' (steps[0] and steps[1])"],
    );

    assert_one_line_error(
        &env.run(&["cook", "no-such-formula"]),
        &["unknown formula 'no-such-formula'"],
    );
    assert_one_line_error(
        &env.run(&["cook", "./missing.formula.toml"]),
        &["no formula file"],
    );
    assert_one_line_error(
        &env.run(&["cook", &two, "--var", "oops"]),
        &["expected NAME=VALUE"],
    );

    // With --json the error is also an object on stdout.
    let out = env.run(&["cook", &cycle.display().to_string(), "--json"]);
    assert_eq!(out.code, 1);
    let v: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(v["kind"], "invalid");
    assert!(v["error"].as_str().unwrap().contains("needs cycle"));

    // validate reports each file and fails if any fails.
    let good = testdata().join("shiny.formula.toml").display().to_string();
    let out = env.run(&["validate", &good, &malformed_path]);
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
    let env = Env::new();
    let path = env.write(
        "f/odd.formula.toml",
        "formula = \"odd\"\ncolour = \"blue\"\n[[steps]]\nid = \"a\"\ntitle = \"A\"\nfrobnicate = 1\n",
    );
    let p = path.display().to_string();
    let out = env.ok(&["validate", &p]);
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
    let cooked = env.json(&["cook", &p]);
    assert_eq!(step_ids(&cooked), ["a"]);
    let warnings = cooked["warnings"].as_array().unwrap();
    assert!(warnings
        .iter()
        .any(|w| w.as_str().unwrap().contains("'frobnicate'")));
}

#[test]
fn repo_and_user_formulas_are_listed_with_their_source() {
    let mut env = Env::new();
    let repo = env.work().join("proj");
    env.git_init(&repo);
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

    let out = env.run_in(&sub, &["list"]);
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

    let listed = env.run_in(&sub, &["list", "--json"]);
    let items: Value = serde_json::from_str(&listed.stdout).unwrap();
    let mine = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "my-flow")
        .unwrap();
    assert_eq!(mine["source"], "user");
    assert_eq!(mine["kind"], "workflow");

    // Cooking by name takes the winner.
    let both = env.run_in(&sub, &["cook", "both", "--json"]);
    let cooked: Value = serde_json::from_str(&both.stdout).unwrap();
    assert_eq!(cooked["source"], "repo");
    assert_eq!(step(&cooked, "only")["title"], "repo copy");
    let release = env.run_in(
        &sub,
        &["cook", "mol-release", "--var", "version=2.0.0", "--json"],
    );
    let cooked: Value = serde_json::from_str(&release.stdout).unwrap();
    assert_eq!(cooked["source"], "builtin");
    assert!(step_ids(&cooked).contains(&"await-ci".to_string()));

    // XDG_CONFIG_HOME moves the user directory.
    env.write(
        "xdg/gastown/formulas/xdg-flow.formula.toml",
        &formula("xdg-flow", "xdg"),
    );
    env.extra.push((
        "XDG_CONFIG_HOME".into(),
        env.tmp.path().join("xdg").display().to_string(),
    ));
    let out = env.run_in(&sub, &["list"]);
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
    let env = Env::new();
    let out = env.ok(&["show", "mol-polecat-work"]);
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

    let shown = env.json(&[
        "show",
        &testdata().join("design.formula.toml").display().to_string(),
    ]);
    assert_eq!(shown["formula"]["type"], "convoy");
    assert_eq!(shown["formula"]["legs"].as_array().unwrap().len(), 6);
    assert_eq!(shown["source"], "file");
}

#[test]
fn builtin_formulas_cook() {
    let env = Env::new();
    let work = env.json(&[
        "cook",
        "mol-polecat-work",
        "--var",
        "issue=gt-5",
        "--var",
        "test_command=make check",
    ]);
    assert_eq!(
        step_ids(&work),
        ["claim", "branch", "implement", "test", "commit", "done"]
    );
    assert!(step(&work, "test")["description"]
        .as_str()
        .unwrap()
        .contains("make check"));
    assert_eq!(work["vars"]["branch"], "polecat/gt-5");

    let review = env.json(&[
        "cook",
        "mol-code-review",
        "--var",
        "target=feature-x",
        "--preset",
        "quick",
    ]);
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
        let cooked = env.json(&["cook", patrol]);
        assert_eq!(cooked["phase"], "vapor", "{patrol}");
        assert!(cooked["squash"].is_object(), "{patrol}");
        assert!(step_ids(&cooked).len() >= 5, "{patrol}");
        assert_eq!(step_ids(&cooked).last().unwrap(), "report", "{patrol}");
    }
}

#[test]
fn a_generated_1023_step_chain_cooks() {
    let env = Env::new();
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
    let cooked = env.json(&["cook", &path.display().to_string()]);
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
    let cooked = env.json(&["cook", &looped.display().to_string()]);
    assert_eq!(step_ids(&cooked).len(), 1024);
    assert_eq!(step(&cooked, "moves.iter1023.move")["title"], "Move 1023");
    assert_eq!(
        step(&cooked, "verify")["needs"],
        serde_json::json!(["moves.iter1023.move"])
    );
}
