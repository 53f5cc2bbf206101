//! Domain services seen from the binaries: a pour bonded to a bead is one write on the
//! shared store, and bead rules hold whichever command applies them.

use crate::support::Env;
use serde_json::Value;

fn setup() -> Env {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "gt"]);
    env
}

fn mol(env: &Env, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    let out = crate::support::ok(env.run_in(&env.repo(), "mol", &args), &args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("bad JSON from {args:?}: {e}\n{out}"))
}

/// How many commits refs/gastown/beads has.
fn bead_commits(env: &Env) -> usize {
    env.git_ok(&env.repo(), &["rev-list", "--count", "refs/gastown/beads"])
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn pour_on_a_bead_is_one_commit() {
    let env = setup();
    let work = env.create("Implement login", &[]);
    let before = bead_commits(&env);
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
    assert_eq!(
        bead_commits(&env),
        before + 1,
        "pour --on wrote more than one commit"
    );
    let root = out["molecule"]["id"].as_str().unwrap();
    let bead = &env.bead_json(&["show", &work])[0];
    assert_eq!(bead["attached_molecule"], root);
    assert_eq!(bead["attached_formula"], "mol-polecat-work");
    assert!(bead["attached_at"].is_string(), "{bead}");
    // The molecule's steps are in the same commit as the attachment.
    let tree = env.git_ok(
        &env.repo(),
        &["ls-tree", "-r", "--name-only", "refs/gastown/beads"],
    );
    assert!(tree.contains(&format!("{root}.json")), "{tree}");
}

#[test]
fn wisp_on_a_bead_attaches_like_a_pour() {
    let env = setup();
    let work = env.create("Patrol target", &[]);
    let before = bead_commits(&env);
    let out = mol(&env, &["wisp", "mol-witness-patrol", "--on", &work]);
    let root = out["molecule"]["id"].as_str().unwrap();
    assert!(root.starts_with("gt-wisp-"), "{root}");
    // The wisp lives in the local store; the shared store gets only the attachment.
    assert_eq!(bead_commits(&env), before + 1);
    let bead = &env.bead_json(&["show", &work])[0];
    assert_eq!(bead["attached_molecule"], root);
    assert_eq!(bead["attached_formula"], "mol-witness-patrol");
    assert!(bead["attached_at"].is_string(), "{bead}");
}

#[test]
fn a_refused_dependency_writes_nothing() {
    let env = setup();
    let a = env.create("A", &[]);
    let b = env.create("B", &[]);
    env.bead_ok(&["dep", "add", &a, &b]);
    let before = bead_commits(&env);
    // One type per pair.
    let (code, stderr) = env.bead_err(&["dep", "add", &a, &b, "--type", "related"]);
    assert_eq!(code, 1);
    crate::support::assert_one_line_error(&stderr);
    assert!(stderr.contains("one type per pair"), "{stderr}");
    // No cycles.
    let (code, stderr) = env.bead_err(&["dep", "add", &b, &a]);
    assert_eq!(code, 1);
    assert!(stderr.contains("cycle"), "{stderr}");
    assert_eq!(bead_commits(&env), before);
    // The same dependency again changes nothing and writes nothing.
    let added = env.bead_json(&["dep", "add", &a, &b]);
    assert_eq!(added["issue_id"], a.as_str());
    assert_eq!(added["depends_on_id"], b.as_str());
    assert_eq!(added["type"], "blocks");
    assert_eq!(bead_commits(&env), before);
}
