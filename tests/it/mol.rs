//! `git mol` and `git bead close --continue` end to end: formulas poured into beads and
//! walked to the end.

use std::path::Path;

use serde_json::Value;

use crate::formula::required_vars;
use crate::support::{self, assert_one_line_error, fixtures, Env};

fn mol(env: &Env, args: &[&str]) -> Value {
    env.json_in(&env.repo(), "mol", args)
}

fn mol_err(env: &Env, args: &[&str]) -> (i32, String) {
    support::err(env.run_in(&env.repo(), "mol", args), args)
}

fn setup() -> Env {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "gt"]);
    env
}

/// Walk a molecule to the end as one agent: claim a ready step, close it with --continue,
/// and keep going; parallel steps that --continue did not pick are claimed from `current`.
fn walk(env: &Env, root: &str, total: usize) {
    let mut closed = 0;
    let mut next: Option<String> = None;
    for _ in 0..(total * 3 + 5) {
        let step = match next.take() {
            Some(step) => step,
            None => {
                let progress = mol(env, &["current", root]);
                if progress["complete"] == true {
                    break;
                }
                let ready = progress["next"][0]
                    .as_str()
                    .unwrap_or_else(|| panic!("stuck: {progress}"))
                    .to_string();
                env.bead_ok(&["update", &ready, "--claim", "--actor", "walker"]);
                ready
            }
        };
        let out = env.bead_json(&["close", &step, "--continue", "--actor", "walker"]);
        closed += 1;
        assert_eq!(out["closed_step"], step.as_str());
        assert_eq!(out["molecule_id"], root);
        if out["molecule_complete"] == true {
            break;
        }
        if let Some(id) = out["next_step"]["id"].as_str() {
            assert_eq!(out["next_step"]["assignee"], "walker");
            assert_eq!(out["next_step"]["status"], "in_progress");
            next = Some(id.to_string());
        }
    }
    let progress = mol(env, &["current", root]);
    assert_eq!(progress["complete"], true, "{progress}");
    assert_eq!(progress["molecule"]["status"], "closed");
    assert!(closed > 0 && closed <= total);
}

/// Pour each named formula of `dir` (one commit each) and walk it to the end.
pub fn check_formulas_pour_and_walk_to_the_end(dir: &Path, names: &[&str]) {
    let env = setup();
    for name in names {
        let path = dir.join(format!("{name}.formula.toml"));
        let mut args = vec!["pour".to_string(), path.to_str().unwrap().to_string()];
        for var in required_vars(&path) {
            args.push("--var".into());
            args.push(format!("{var}=x"));
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let before = env.commits(&env.repo(), "beads");
        let out = mol(&env, &argv);
        assert_eq!(
            env.commits(&env.repo(), "beads"),
            before + 1,
            "{name}: one commit"
        );
        let root = out["molecule"]["id"].as_str().unwrap().to_string();
        assert!(root.starts_with("gt-mol-"), "{root}");
        assert_eq!(out["molecule"]["issue_type"], "molecule");
        let steps = out["steps"].as_array().unwrap();
        assert!(!steps.is_empty(), "{name}");
        for step in steps {
            assert!(step["id"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{root}.")));
        }
        walk(&env, &root, steps.len());
    }
    env.assert_fsck_clean(&env.repo());
}

#[test]
fn fixture_formulas_pour_and_walk_to_the_end() {
    check_formulas_pour_and_walk_to_the_end(
        &fixtures("formulas"),
        &[
            "ship",
            "ship-thorough",
            "hanoi-2",
            "checkpoint",
            "survey",
            "bring-up",
        ],
    );
}

#[test]
fn needs_become_blocking_dependencies() {
    let env = setup();
    let file = env.path().join("flow.formula.toml");
    std::fs::write(
        &file,
        r#"formula = "flow"
type = "workflow"
[vars.thing]
required = true
[[steps]]
id = "a"
title = "Start {{thing}}"
[[steps]]
id = "b"
title = "Middle"
needs = ["a"]
[[steps]]
id = "c"
title = "Side"
needs = ["a"]
[[steps]]
id = "d"
title = "End"
needs = ["b", "c"]
"#,
    )
    .unwrap();
    let out = mol(
        &env,
        &["pour", file.to_str().unwrap(), "--var", "thing=widgets"],
    );
    let root = out["molecule"]["id"].as_str().unwrap().to_string();
    assert_eq!(out["steps"][0]["title"], "Start widgets");
    let progress = mol(&env, &["current", &root]);
    assert_eq!(progress["next"], serde_json::json!([format!("{root}.a")]));
    let states: Vec<&str> = progress["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["ready", "blocked", "blocked", "blocked"]);
    // Steps are ordinary beads: ready shows the first one, the molecule root is not work.
    let ready: Vec<String> = env
        .bead_json(&["ready"])
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ready, vec![format!("{root}.a")]);
    env.bead_ok(&["close", &format!("{root}.a")]);
    let mut next: Vec<String> = mol(&env, &["current", &root])["next"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    next.sort();
    assert_eq!(next, vec![format!("{root}.b"), format!("{root}.c")]);
}

#[test]
fn pour_on_a_bead_and_wisps_stay_local() {
    let env = setup();
    let work = env.create("Implement login", &[]);
    let out = mol(
        &env,
        &[
            "pour",
            "mol-polecat-work",
            "--var",
            &format!("issue={work}"),
            "--on",
            &work,
        ],
    );
    let root = out["molecule"]["id"].as_str().unwrap();
    let bead = env.bead_json(&["show", &work]);
    assert_eq!(bead[0]["attached_molecule"], root);
    assert_eq!(bead[0]["attached_formula"], "mol-polecat-work");

    let wisp = mol(&env, &["wisp", "mol-witness-patrol"]);
    let wisp_root = wisp["molecule"]["id"].as_str().unwrap().to_string();
    assert!(wisp_root.starts_with("gt-wisp-"), "{wisp_root}");
    assert!(env
        .ref_tip(&env.repo(), "refs/gastown/local/wisps")
        .is_some());
    // Not in the shared store.
    let shared = env.git_ok(
        &env.repo(),
        &["ls-tree", "-r", "--name-only", "refs/gastown/beads"],
    );
    assert!(
        !shared.contains("wisp"),
        "wisps must not be in the shared store"
    );
    // Wisp steps are walked with the same commands.
    let first = mol(&env, &["current", &wisp_root])["next"][0]
        .as_str()
        .unwrap()
        .to_string();
    env.bead_ok(&["update", &first, "--claim"]);
    let listed = mol(&env, &["list"]);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    // Sync never pushes it.
    let remote = env.path().join("remote.git");
    env.git_ok(
        env.path(),
        &["init", "-q", "--bare", remote.to_str().unwrap()],
    );
    env.git_ok(
        &env.repo(),
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    support::ok(env.run_in(&env.repo(), "gastown", &["sync"]), &["sync"]);
    let refs = env.git_ok(&remote, &["for-each-ref", "--format=%(refname)"]);
    assert!(refs.contains("refs/gastown/beads"), "{refs}");
    assert!(!refs.contains("local"), "{refs}");
}

#[test]
fn squash_and_burn() {
    let env = setup();
    let out = mol(&env, &["pour", "mol-release", "--var", "version=1.2.3"]);
    let root = out["molecule"]["id"].as_str().unwrap().to_string();
    let total = out["steps"].as_array().unwrap().len();
    let first = mol(&env, &["current", &root])["next"][0]
        .as_str()
        .unwrap()
        .to_string();
    env.bead_ok(&["close", &first, "--reason", "tagged"]);
    let digest = mol(&env, &["squash", &root, "--summary", "Released 1.2.3"]);
    assert_eq!(digest["status"], "closed");
    assert!(digest["labels"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l == "digest"));
    let text = digest["description"].as_str().unwrap();
    assert!(text.starts_with("Released 1.2.3"), "{text}");
    assert!(text.contains(&format!("1/{total} steps closed")), "{text}");
    assert!(
        text.contains(&format!("[x] {first}")) && text.contains("tagged"),
        "{text}"
    );
    let (_, stderr) = env.bead_err(&["show", &root]);
    assert!(stderr.contains("deleted"), "{stderr}");

    let wisp = mol(&env, &["wisp", "mol-deacon-patrol"]);
    let wisp_root = wisp["molecule"]["id"].as_str().unwrap().to_string();
    let burned = mol(&env, &["burn", &wisp_root]);
    assert_eq!(
        burned["deleted"].as_u64().unwrap() as usize,
        wisp["steps"].as_array().unwrap().len() + 1
    );
    assert_eq!(mol(&env, &["list"]).as_array().unwrap().len(), 0);
}

#[test]
fn bad_pours_write_nothing() {
    let env = setup();
    let head = env.ref_tip(&env.repo(), "refs/gastown/beads");
    let (code, stderr) = mol_err(&env, &["pour", "mol-polecat-work"]);
    assert_eq!(code, 1);
    assert_one_line_error(&stderr);
    assert!(
        stderr.contains("issue"),
        "names the missing variable: {stderr}"
    );
    let (_, stderr) = mol_err(
        &env,
        &[
            "pour",
            "mol-polecat-work",
            "--var",
            "issue=x",
            "--var",
            "nonsense=1",
        ],
    );
    assert_one_line_error(&stderr);
    assert!(stderr.contains("nonsense"), "{stderr}");
    let (_, stderr) = mol_err(&env, &["pour", "no-such-formula"]);
    assert_one_line_error(&stderr);
    let (_, stderr) = mol_err(
        &env,
        &[
            "pour",
            "mol-polecat-work",
            "--var",
            "issue=x",
            "--on",
            "gt-nope",
        ],
    );
    assert_one_line_error(&stderr);
    let id = env.create("plain", &[]);
    let head2 = env.ref_tip(&env.repo(), "refs/gastown/beads");
    let (_, stderr) = mol_err(&env, &["current", &id]);
    assert!(stderr.contains("not a molecule"), "{stderr}");
    assert_eq!(env.ref_tip(&env.repo(), "refs/gastown/beads"), head2);
    assert_ne!(head, head2);
}

#[test]
fn nested_children_close_their_container() {
    let env = setup();
    let file = env.path().join("nested.formula.toml");
    std::fs::write(
        &file,
        r#"formula = "nested"
type = "workflow"
[[steps]]
id = "prep"
title = "Prepare"
[[steps]]
id = "build"
title = "Build all"
needs = ["prep"]
[[steps.children]]
id = "lib"
title = "Build the library"
[[steps.children]]
id = "bin"
title = "Build the binary"
needs = ["lib"]
[[steps]]
id = "ship"
title = "Ship"
needs = ["build"]
"#,
    )
    .unwrap();
    let out = mol(&env, &["pour", file.to_str().unwrap()]);
    let root = out["molecule"]["id"].as_str().unwrap().to_string();
    let total = out["steps"].as_array().unwrap().len();
    walk(&env, &root, total);
    let members = mol(&env, &["show", &root]);
    for step in members["steps"].as_array().unwrap() {
        assert_eq!(step["status"], "closed", "{}", step["id"]);
    }
}
