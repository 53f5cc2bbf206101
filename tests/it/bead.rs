//! `git bead` end to end on real temporary repositories.

use std::collections::BTreeMap;
use std::path::Path;

use gastown::bead::schema::NOT_WORK_TYPES;
use serde_json::Value;

use crate::support::{self, assert_one_line_error, bd_export, Env};

fn init(env: &Env) {
    env.bead_ok(&["init", "--prefix", "gt"]);
}

#[test]
fn create_show_list_with_bd_field_names() {
    let env = Env::new();
    init(&env);
    let created = env.bead_json(&[
        "create",
        "Fix the parser",
        "-d",
        "It breaks on tabs",
        "-t",
        "bug",
        "-p",
        "1",
        "-a",
        "alice",
        "-l",
        "parser,urgent",
        "--design",
        "Use a state machine",
        "--acceptance",
        "Tabs parse",
        "--notes",
        "see log",
        "--external-ref",
        "gh-9",
        "--estimate",
        "30",
        "--metadata",
        r#"{"team":"core"}"#,
    ]);
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("gt-") && id.len() == 7, "{id}");
    for (key, value) in [
        ("title", "Fix the parser"),
        ("description", "It breaks on tabs"),
        ("issue_type", "bug"),
        ("status", "open"),
        ("assignee", "alice"),
        ("design", "Use a state machine"),
        ("acceptance_criteria", "Tabs parse"),
        ("notes", "see log"),
        ("external_ref", "gh-9"),
        ("created_by", "Test User"),
    ] {
        assert_eq!(created[key], value, "{key}");
    }
    assert_eq!(created["priority"], 1);
    assert_eq!(created["estimated_minutes"], 30);
    assert_eq!(created["metadata"]["team"], "core");
    assert_eq!(created["labels"], serde_json::json!(["parser", "urgent"]));
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));

    let shown = env.bead_json(&["show", id]);
    assert_eq!(shown[0]["title"], "Fix the parser");
    let listed = env.bead_json(&["list"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], id);

    // One commit per write, authored by the actor, message naming the op and id.
    let log = env.git_ok(
        &env.repo(),
        &["log", "--format=%an|%s", "refs/gastown/beads"],
    );
    let first = log.lines().next().unwrap();
    assert_eq!(first, format!("Test User|bead create {id}: Fix the parser"));
}

#[test]
fn actor_precedence_flag_env_git() {
    let env = Env::new();
    init(&env);
    let by_flag = env.bead_json(&["create", "a", "--actor", "mayor"]);
    assert_eq!(by_flag["created_by"], "mayor");
    let out = env
        .command(
            support::bin_dir().join("git-bead").to_str().unwrap(),
            &env.repo(),
        )
        .args(["create", "b", "--json"])
        .env("BD_ACTOR", "bd-agent")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["created_by"], "bd-agent");
    let out = env
        .command(
            support::bin_dir().join("git-bead").to_str().unwrap(),
            &env.repo(),
        )
        .args(["create", "c", "--json"])
        .env("BD_ACTOR", "bd-agent")
        .env("GT_ACTOR", "gt-agent")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["created_by"], "gt-agent");
    let author = env.git_ok(
        &env.repo(),
        &["log", "-1", "--format=%an <%ae>", "refs/gastown/beads"],
    );
    assert_eq!(author.trim(), "gt-agent <gt-agent@gastown.local>");
}

#[test]
fn update_close_reopen_delete_and_labels() {
    let env = Env::new();
    init(&env);
    let id = env.create("Task", &[]);
    let v = env.bead_json(&[
        "update",
        &id,
        "--status",
        "in_progress",
        "--priority",
        "P0",
        "--add-label",
        "x",
        "--set",
        "custom_field=42",
    ]);
    assert_eq!(v[0]["status"], "in_progress");
    assert_eq!(v[0]["priority"], 0);
    assert_eq!(v[0]["custom_field"], 42);
    assert!(v[0]["started_at"].is_string());
    env.bead_ok(&["label", "add", &id, "y"]);
    assert_eq!(
        env.bead_json(&["label", "list", &id]),
        serde_json::json!(["x", "y"])
    );
    env.bead_ok(&["label", "remove", &id, "x"]);
    let closed = env.bead_json(&["close", &id, "--reason", "done"]);
    assert_eq!(closed[0]["status"], "closed");
    assert_eq!(closed[0]["close_reason"], "done");
    assert!(closed[0]["closed_at"].is_string());
    assert_eq!(
        env.bead_json(&["list"]).as_array().unwrap().len(),
        0,
        "closed beads leave the default list"
    );
    assert_eq!(
        env.bead_json(&["list", "--all"]).as_array().unwrap().len(),
        1
    );
    let reopened = env.bead_json(&["reopen", &id]);
    assert_eq!(reopened[0]["status"], "open");
    assert!(
        reopened[0].get("closed_at").is_none(),
        "closed_at is set iff closed"
    );
    env.bead_ok(&["comments", "add", &id, "looks good"]);
    let comments = env.bead_json(&["comments", "list", &id]);
    assert_eq!(comments[0]["text"], "looks good");
    assert_eq!(comments[0]["author"], "Test User");
    env.bead_ok(&["delete", &id]);
    let (_, stderr) = env.bead_err(&["show", &id]);
    assert!(stderr.contains("deleted"), "{stderr}");
    assert_eq!(
        env.bead_json(&["list", "--all"]).as_array().unwrap().len(),
        0
    );
}

#[test]
fn ready_follows_bd_rules() {
    let env = Env::new();
    init(&env);
    let blocker = env.create("blocker", &[]);
    let blocked = env.create("blocked", &["--deps", &blocker]);
    let epic = env.create(
        "epic",
        &["-t", "epic", "--deps", &format!("blocks:{blocker}")],
    );
    let child = env.create("child of blocked epic", &["--parent", &epic]);
    let grandchild = env.create("grandchild", &["--parent", &child]);
    let deferred = env.create("deferred", &["--defer", "+2d"]);
    let deferred_parent = env.create("parent deferred", &["--defer", "2099-01-01"]);
    let under_deferred = env.create("under deferred", &["--parent", &deferred_parent]);
    let pinned = env.create("pinned", &[]);
    env.bead_ok(&["update", &pinned, "--status", "pinned"]);
    let past_defer = env.create("defer passed", &["--defer", "2001-01-01"]);
    assert_eq!(child, format!("{epic}.1"));
    assert_eq!(grandchild, format!("{epic}.1.1"));

    let ready: Vec<String> = env
        .bead_json(&["ready"])
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        ready.contains(&blocker) && ready.contains(&past_defer),
        "{ready:?}"
    );
    for not in [
        &blocked,
        &epic,
        &child,
        &grandchild,
        &deferred,
        &deferred_parent,
        &under_deferred,
        &pinned,
    ] {
        assert!(!ready.contains(not), "{not} should not be ready: {ready:?}");
    }
    let blocked_list = env.bead_json(&["blocked"]);
    let blocked_ids: Vec<&str> = blocked_list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    for id in [&blocked, &epic, &child, &grandchild] {
        assert!(
            blocked_ids.contains(&id.as_str()),
            "{id} should be blocked: {blocked_ids:?}"
        );
    }
    let explain = env.bead_json(&["ready", "--explain"]);
    let reasons: BTreeMap<String, String> = explain["blocked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_string(),
                v["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(reasons[&blocked], format!("blocked by {blocker}"));
    assert_eq!(reasons[&grandchild], format!("parent {epic} is blocked"));
    assert_eq!(
        reasons[&under_deferred],
        format!("parent {deferred_parent} is deferred")
    );

    // Closing the blocker releases everything below it.
    env.bead_ok(&["close", &blocker]);
    let ready: Vec<String> = env
        .bead_json(&["ready"])
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    for id in [&blocked, &epic, &child, &grandchild] {
        assert!(ready.contains(id), "{id} should be ready now: {ready:?}");
    }
    // Priority order, then newest first.
    let p0 = env.create("urgent", &["-p", "0"]);
    assert_eq!(
        env.bead_json(&["ready", "--limit", "1"])[0]["id"],
        p0.as_str()
    );
}

#[test]
fn dependency_cycles_are_refused_and_trees_shown() {
    let env = Env::new();
    init(&env);
    let a = env.create("a", &[]);
    let b = env.create("b", &["--deps", &a]);
    let c = env.create("c", &["--deps", &b]);
    let head = env.ref_tip(&env.repo(), "refs/gastown/beads");
    let (code, stderr) = env.bead_err(&["dep", "add", &a, &c]);
    assert_eq!(code, 1);
    assert_one_line_error(&stderr);
    assert!(
        stderr.contains(&format!("{a} → {c} → {b} → {a}")),
        "{stderr}"
    );
    assert_eq!(
        env.ref_tip(&env.repo(), "refs/gastown/beads"),
        head,
        "nothing written"
    );
    // Non-blocking links may point anywhere.
    env.bead_ok(&["dep", "add", &a, &c, "--type", "related"]);
    let tree = env.bead_json(&["dep", "tree", &c]);
    assert_eq!(tree["children"][0]["id"], b.as_str());
    assert_eq!(tree["children"][0]["children"][0]["id"], a.as_str());
    let up = env.bead_json(&["dep", "tree", &a, "--up"]);
    let ups: Vec<&str> = up["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert!(ups.contains(&b.as_str()), "{up}");
    assert_eq!(env.bead_json(&["dep", "cycles"]), serde_json::json!([]));
    env.bead_ok(&["dep", "remove", &b, &a]);
    assert!(env.bead_json(&["show", &b])[0]
        .get("dependencies")
        .is_none());
}

#[test]
fn ids_prefixes_and_ambiguity() {
    let env = Env::new();
    init(&env);
    let ids: Vec<String> = (0..40)
        .map(|i| env.create(&format!("bead {i}"), &[]))
        .collect();
    let id = &ids[0];
    let hash = id.trim_start_matches("gt-");
    // Unique prefix of the full id, and the hash alone, both resolve.
    let unique = (4..=id.len())
        .map(|n| &id[..n])
        .find(|p| ids.iter().filter(|i| i.starts_with(p)).count() == 1)
        .unwrap();
    assert_eq!(env.bead_json(&["show", unique])[0]["id"], id.as_str());
    assert_eq!(env.bead_json(&["show", hash])[0]["id"], id.as_str());
    let (code, stderr) = env.bead_err(&["show", "gt-"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("ambiguous"), "{stderr}");
    assert_one_line_error(&stderr);
    let (_, stderr) = env.bead_err(&["show", "gt-zzzzzzz"]);
    assert_eq!(stderr.trim(), "error: no bead matches 'gt-zzzzzzz'");
    // Children can't collide within one clone.
    let c1 = env.create("c1", &["--parent", id]);
    let c2 = env.create("c2", &["--parent", id]);
    assert_eq!(
        (c1.as_str(), c2.as_str()),
        (format!("{id}.1").as_str(), format!("{id}.2").as_str())
    );
}

#[test]
fn bad_input_is_one_line_and_writes_nothing() {
    let env = Env::new();
    init(&env);
    let id = env.create("x", &[]);
    let head = env.ref_tip(&env.repo(), "refs/gastown/beads");
    let cases: Vec<Vec<&str>> = vec![
        vec!["update", &id, "--status", "bogus"],
        vec!["update", &id, "--priority", "7"],
        vec!["update", &id, "--type", "saga"],
        vec!["create", "y", "-p", "high"],
        vec!["create", "y", "--deps", "gt-nope"],
        vec!["create", "y", "--metadata", "[1]"],
        vec!["create", "y", "--defer", "someday"],
        vec!["close", "gt-nope"],
        vec!["dep", "add", &id, &id],
        vec!["update", &id, "--set", "id=x"],
        vec!["config", "set", "colour", "red"],
        vec!["create", "   "],
    ];
    for args in cases {
        let (code, stderr) = env.bead_err(&args);
        assert_eq!(code, 1, "{args:?}: {stderr}");
        assert_one_line_error(&stderr);
        assert_eq!(
            env.ref_tip(&env.repo(), "refs/gastown/beads"),
            head,
            "{args:?} wrote something"
        );
    }
    let (_, stderr) = env.bead_err(&["update", &id, "--status", "bogus"]);
    assert!(stderr.contains("'bogus'"), "{stderr}");
    // Usage errors from clap exit 2.
    let out = env.bead(&["create"]);
    assert_eq!(out.status.code(), Some(2));
    // JSON errors for agents.
    let out = env.bead(&["show", "gt-nope", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "not_found");
}

#[test]
fn uninitialised_repo_and_non_repo() {
    let env = Env::new();
    let (code, stderr) = env.bead_err(&["list"]);
    assert_eq!(code, 1);
    assert_one_line_error(&stderr);
    assert!(stderr.contains("git bead init"), "{stderr}");
    let outside = env.path().join("plain");
    std::fs::create_dir_all(&outside).unwrap();
    let (code, stderr) = support::err(env.run_in(&outside, "bead", &["list"]), &["list"]);
    assert_eq!(code, 1);
    assert_one_line_error(&stderr);
    assert!(stderr.contains("not a git repository"), "{stderr}");
    // An empty `.git` is no repository either, with the same status; `-C` at a file says so.
    std::fs::create_dir_all(outside.join(".git")).unwrap();
    let (code, stderr) = support::err(env.run_in(&outside, "bead", &["list"]), &["list"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("not a git repository"), "{stderr}");
    let file = env.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let args = ["-C", file.to_str().unwrap(), "list"];
    let (code, stderr) = support::err(env.run_in(env.path(), "bead", &args), &args);
    assert_eq!(code, 1);
    assert!(stderr.contains("not a directory"), "{stderr}");
    assert!(env
        .git(
            &env.repo(),
            &["rev-parse", "--verify", "-q", "refs/gastown/beads"]
        )
        .stdout
        .is_empty());
}

#[test]
fn reftable_repositories_are_refused_clearly() {
    let env = Env::empty();
    let dir = env.path().join("rt");
    let out = env.git(
        env.path(),
        &["init", "-q", "--ref-format=reftable", dir.to_str().unwrap()],
    );
    if !out.status.success() {
        panic!(
            "this git cannot create reftable repositories: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (code, stderr) = support::err(
        env.run_in(&dir, "bead", &["init", "--prefix", "gt"]),
        &["init"],
    );
    assert_eq!(code, 1);
    assert_one_line_error(&stderr);
    assert!(stderr.contains("reftable"), "{stderr}");
}

#[test]
fn busy_store_times_out_with_a_clear_error() {
    let env = Env::new();
    init(&env);
    let lock_path = env.repo().join(".git/gastown/locks/beads.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap();
    file.lock().unwrap();
    let head = env.ref_tip(&env.repo(), "refs/gastown/beads");
    let out = env
        .command(
            support::bin_dir().join("git-bead").to_str().unwrap(),
            &env.repo(),
        )
        .args(["create", "waits"])
        .env("GT_LOCK_TIMEOUT_MS", "300")
        .output()
        .unwrap();
    let (code, stderr) = support::err(out, &["create"]);
    assert_eq!(code, 3);
    assert_one_line_error(&stderr);
    assert!(stderr.contains("busy"), "{stderr}");
    assert_eq!(env.ref_tip(&env.repo(), "refs/gastown/beads"), head);
    drop(file);
    env.create("after release", &[]);
    // Reads never take the lock.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&lock_path)
        .unwrap();
    file.lock().unwrap();
    assert_eq!(env.bead_json(&["list"]).as_array().unwrap().len(), 1);
}

#[test]
fn sixteen_concurrent_creators_lose_nothing() {
    let env = Env::new();
    init(&env);
    let children: Vec<_> = (0..16)
        .map(|i| {
            env.command(
                support::bin_dir().join("git-bead").to_str().unwrap(),
                &env.repo(),
            )
            .args(["create", &format!("parallel {i}"), "--silent"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let mut ids = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        ids.push(String::from_utf8(out.stdout).unwrap().trim().to_string());
    }
    let listed = env.bead_json(&["list", "--limit", "0"]);
    let mut listed_ids: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    listed_ids.sort();
    ids.sort();
    assert_eq!(listed_ids, ids);
    let commits = env.git_ok(&env.repo(), &["rev-list", "--count", "refs/gastown/beads"]);
    assert_eq!(commits.trim(), "17", "init + one commit per create");
}

#[test]
fn eight_concurrent_claims_exactly_one_wins() {
    let env = Env::new();
    init(&env);
    let id = env.create("contested", &[]);
    let children: Vec<_> = (0..8)
        .map(|i| {
            env.command(
                support::bin_dir().join("git-bead").to_str().unwrap(),
                &env.repo(),
            )
            .args(["update", &id, "--claim", "--actor", &format!("agent-{i}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let codes: Vec<i32> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().status.code().unwrap())
        .collect();
    assert_eq!(codes.iter().filter(|&&c| c == 0).count(), 1, "{codes:?}");
    assert_eq!(
        codes.iter().filter(|&&c| c == 4).count(),
        7,
        "losers exit 4: {codes:?}"
    );
    let bead = env.bead_json(&["show", &id]);
    assert_eq!(bead[0]["status"], "in_progress");
    assert!(bead[0]["assignee"].as_str().unwrap().starts_with("agent-"));
}

#[test]
fn linked_worktrees_and_bare_repositories_share_the_store() {
    let env = Env::new();
    init(&env);
    let wt = env.path().join("wt");
    env.git_ok(
        &env.repo(),
        &["worktree", "add", "-q", wt.to_str().unwrap(), "-b", "side"],
    );
    let out = env.run_in(&wt, "bead", &["create", "from worktree", "--json"]);
    let id = serde_json::from_str::<Value>(&support::ok(out, &["create"])).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(env.bead_json(&["show", &id])[0]["title"], "from worktree");
    assert!(
        env.repo().join(".git/gastown/locks/beads.lock").exists(),
        "locks live in the common dir"
    );

    let bare = env.path().join("bare.git");
    env.git_ok(
        env.path(),
        &[
            "clone",
            "-q",
            "--bare",
            env.repo().to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    support::ok(
        env.run_in(&bare, "bead", &["init", "--prefix", "bb"]),
        &["init"],
    );
    let out = env.run_in(&bare, "bead", &["create", "in bare", "--json"]);
    let v: Value = serde_json::from_str(&support::ok(out, &["create"])).unwrap();
    assert!(v["id"].as_str().unwrap().starts_with("bb-"));
    env.assert_fsck_clean(&bare);
}

#[test]
fn fsck_stays_clean_and_log_lists_touching_commits() {
    let env = Env::new();
    init(&env);
    let a = env.create("a", &[]);
    let b = env.create("b", &[]);
    env.bead_ok(&["update", &a, "--title", "a2"]);
    env.bead_ok(&["close", &b]);
    env.bead_ok(&["close", &a]);
    let log = env.bead_json(&["log", &a]);
    let messages: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        vec![
            format!("bead close {a}: a2"),
            format!("bead update {a}: a2"),
            format!("bead create {a}: a")
        ]
    );
    env.assert_fsck_clean(&env.repo());
    // The state is readable with plain git.
    let show = env.git_ok(
        &env.repo(),
        &["show", "refs/gastown/beads:meta/config.json"],
    );
    assert!(show.contains("\"prefix\""), "{show}");
}

#[test]
fn cache_survives_deletion_and_external_ref_moves() {
    let env = Env::new();
    init(&env);
    let a = env.create("a", &[]);
    assert_eq!(env.bead_json(&["ready"]).as_array().unwrap().len(), 1);
    let before = env.ref_tip(&env.repo(), "refs/gastown/beads").unwrap();
    env.create("b", &["--deps", &a]);
    // Move the ref back by hand (as a plain git operation would); the cache must follow.
    env.git_ok(&env.repo(), &["update-ref", "refs/gastown/beads", &before]);
    assert_eq!(env.bead_json(&["list"]).as_array().unwrap().len(), 1);
    std::fs::remove_dir_all(env.repo().join(".git/gastown/cache")).unwrap();
    assert_eq!(env.bead_json(&["ready"])[0]["id"], a.as_str());
    std::fs::write(env.repo().join(".git/gastown/cache/beads.idx"), b"garbage").unwrap();
    assert_eq!(env.bead_json(&["ready"])[0]["id"], a.as_str());
}

fn normalized(export: &str) -> BTreeMap<String, Value> {
    export
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["id"].as_str().unwrap().to_string(), v)
        })
        .collect()
}

/// Importing the bd export at `path` and exporting again gives back every bead with every
/// field and nested value; export -> import -> export is byte-identical; re-importing
/// changes nothing.
pub fn check_bd_export_round_trips_losslessly(path: &Path) {
    let name = path.display();
    let original = std::fs::read_to_string(path).unwrap();
    let env = Env::new();
    init(&env);
    let report = env.bead_json(&["import", path.to_str().unwrap()]);
    let expected = normalized(&original);
    assert_eq!(report["created"], expected.len(), "{name}");
    let exported = env.bead_ok(&["export"]);
    let got = normalized(&exported);
    assert_eq!(got.len(), expected.len());
    for (id, want) in &expected {
        let have = &got[id];
        // Every field and nested value survives; bd omits empty arrays, so do we.
        let mut want = want.clone();
        for key in ["labels", "dependencies", "comments"] {
            if want
                .get(key)
                .is_some_and(|v| v.as_array().is_some_and(|a| a.is_empty()) || v.is_null())
            {
                want.as_object_mut().unwrap().remove(key);
            }
        }
        if let Some(deps) = want.get_mut("dependencies").and_then(Value::as_array_mut) {
            deps.sort_by(|a, b| {
                a["depends_on_id"]
                    .as_str()
                    .cmp(&b["depends_on_id"].as_str())
            });
        }
        if let Some(labels) = want.get_mut("labels").and_then(Value::as_array_mut) {
            labels.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        }
        assert_eq!(have, &want, "{name}: {id} differs");
    }
    // Export → import into a fresh store → export again is identical.
    let env2 = Env::new();
    init(&env2);
    let file = env2.path().join("export.jsonl");
    std::fs::write(&file, &exported).unwrap();
    env2.bead_ok(&["import", file.to_str().unwrap()]);
    assert_eq!(env2.bead_ok(&["export"]), exported, "{name}");
    // Re-importing the same data changes nothing.
    let again = env.bead_json(&["import", path.to_str().unwrap()]);
    assert_eq!(again["created"], 0);
    assert_eq!(again["updated"], 0);
    env.assert_fsck_clean(&env.repo());
}

/// After importing the bd export at `path` (`total` beads, `closed` of them closed),
/// `ready` lists exactly the open beads nothing open blocks, computed from the file.
pub fn check_bd_import_answers_ready_like_bd(path: &Path, total: usize, closed: usize) {
    let env = Env::new();
    init(&env);
    env.bead_ok(&["import", path.to_str().unwrap()]);
    let stats = env.bead_json(&["stats"]);
    assert_eq!(stats["total"], total);
    assert_eq!(stats["closed"], closed);
    // Independent check of readiness straight from the file.
    let text = std::fs::read_to_string(path).unwrap();
    let issues: BTreeMap<String, Value> = normalized(&text);
    let status = |id: &str| {
        issues
            .get(id)
            .and_then(|v| v["status"].as_str())
            .unwrap_or("")
    };
    let mut expected: Vec<String> = issues
        .values()
        .filter(|v| v["status"] == "open")
        // bd never offers these types as work (agents, molecules, gates, ...).
        .filter(|v| !NOT_WORK_TYPES.contains(&v["issue_type"].as_str().unwrap_or("task")))
        .filter(|v| {
            v["dependencies"].as_array().into_iter().flatten().all(|d| {
                let t = d["depends_on_id"].as_str().unwrap();
                match d["type"].as_str().unwrap() {
                    "blocks" => !issues.contains_key(t) || status(t) == "closed",
                    // A parent only matters when it is blocked itself: checked below.
                    _ => true,
                }
            })
        })
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    let blocked: Vec<String> = env
        .bead_json(&["blocked", "--limit", "0"])
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    expected.retain(|id| !blocked.contains(id));
    expected.sort();
    let mut ready: Vec<String> = env
        .bead_json(&["ready", "--limit", "0"])
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    ready.sort();
    assert_eq!(ready, expected);
    assert!(!ready.is_empty());
}

/// A generated export with everything the real ones use (support/bd_export.rs).
fn generated_export(env: &Env) -> (std::path::PathBuf, bd_export::Export) {
    let export = bd_export::generate(0x5eed, 120);
    let path = env.write("bd/generated.issues.jsonl", &export.text);
    (path, export)
}

#[test]
fn generated_bd_export_round_trips_losslessly() {
    let env = Env::empty();
    let (path, _) = generated_export(&env);
    check_bd_export_round_trips_losslessly(&path);
}

#[test]
fn generated_bd_import_answers_ready_like_bd() {
    let env = Env::empty();
    let (path, export) = generated_export(&env);
    check_bd_import_answers_ready_like_bd(&path, export.total, export.closed);
}

#[test]
fn import_is_all_or_nothing_with_line_numbers() {
    let env = Env::new();
    init(&env);
    let head = env.ref_tip(&env.repo(), "refs/gastown/beads");
    let file = env.path().join("bad.jsonl");
    std::fs::write(&file, "{\"id\":\"gt-a1\",\"title\":\"ok\"}\n{\"id\":\"gt-a2\",\"title\":\"ok\"}\n{\"id\":\"gt-a3\",\"title\":\n").unwrap();
    let (code, stderr) = env.bead_err(&["import", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_one_line_error(&stderr);
    assert!(stderr.contains("line 3"), "{stderr}");
    std::fs::write(
        &file,
        "{\"id\":\"gt-a1\",\"title\":\"ok\"}\n{\"id\":\"gt-a2\",\"priority\":9,\"title\":\"x\"}\n",
    )
    .unwrap();
    let (_, stderr) = env.bead_err(&["import", file.to_str().unwrap()]);
    assert!(
        stderr.contains("line 2") && stderr.contains("priority"),
        "{stderr}"
    );
    assert_eq!(env.ref_tip(&env.repo(), "refs/gastown/beads"), head);
}

#[test]
fn bulk_create_from_markdown_and_jsonl() {
    let env = Env::new();
    init(&env);
    let md = env.path().join("plan.md");
    std::fs::write(&md, "## First task\nDo the first thing.\n### Priority\n1\n### Labels\nplan, q3\n\n## Second task\n### Type\nbug\n").unwrap();
    let created = env.bead_json(&["create", "--file", md.to_str().unwrap()]);
    assert_eq!(created.as_array().unwrap().len(), 2);
    assert_eq!(created[0]["description"], "Do the first thing.");
    assert_eq!(created[0]["priority"], 1);
    assert_eq!(created[0]["labels"], serde_json::json!(["plan", "q3"]));
    assert_eq!(created[1]["issue_type"], "bug");
    let jl = env.path().join("plan.jsonl");
    let first = created[0]["id"].as_str().unwrap();
    std::fs::write(&jl, format!("{{\"title\":\"third\",\"deps\":[\"{first}\"]}}\n{{\"title\":\"fourth\",\"issue_type\":\"chore\"}}\n")).unwrap();
    let more = env.bead_json(&["create", "--file", jl.to_str().unwrap()]);
    assert_eq!(more[0]["dependencies"][0]["depends_on_id"], first);
    assert_eq!(
        env.git_ok(&env.repo(), &["rev-list", "--count", "refs/gastown/beads"])
            .trim(),
        "3",
        "one commit per bulk create"
    );
}

#[test]
fn close_guards_and_continue() {
    let env = Env::new();
    init(&env);
    let epic = env.create("epic", &["-t", "epic"]);
    let s1 = env.create("step 1", &["--parent", &epic]);
    let s2 = env.create("step 2", &["--parent", &epic, "--deps", &s1]);
    let (_, stderr) = env.bead_err(&["close", &epic]);
    assert!(stderr.contains("open children"), "{stderr}");
    let (_, stderr) = env.bead_err(&["close", &s2]);
    assert!(stderr.contains("open blockers"), "{stderr}");
    env.bead_ok(&["update", &s1, "--claim", "--actor", "polecat"]);
    let out = env.bead_json(&["close", &s1, "--continue", "--actor", "polecat"]);
    assert_eq!(out["closed_step"], s1.as_str());
    assert_eq!(out["next_step"]["id"], s2.as_str());
    assert_eq!(out["next_step"]["assignee"], "polecat");
    let out = env.bead_json(&["close", &s2, "--continue", "--actor", "polecat"]);
    assert_eq!(out["molecule_complete"], true);
    assert_eq!(env.bead_json(&["show", &epic])[0]["status"], "closed");
}

#[test]
fn search_and_list_filters() {
    let env = Env::new();
    init(&env);
    let a = env.create(
        "Parser crash",
        &[
            "-d",
            "segfault in tokenizer",
            "-l",
            "core",
            "-a",
            "bob",
            "-p",
            "0",
        ],
    );
    let b = env.create("Docs typo", &["-t", "chore", "-l", "docs"]);
    env.create("Other", &["-l", "core,docs", "-p", "3"]);
    let ids = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(env.bead_json(&["search", "TOKENIZER"])),
        vec![a.clone()]
    );
    assert_eq!(
        ids(env.bead_json(&["list", "--type", "chore"])),
        vec![b.clone()]
    );
    assert_eq!(
        ids(env.bead_json(&["list", "--assignee", "bob"])),
        vec![a.clone()]
    );
    assert_eq!(
        ids(env.bead_json(&["list", "--label", "core", "--priority", "0"])),
        vec![a.clone()]
    );
    assert_eq!(
        ids(env.bead_json(&["list", "--label", "core", "--label", "docs"])).len(),
        1
    );
    assert_eq!(
        ids(env.bead_json(&["list", "--label-any", "core,docs"])).len(),
        3
    );
    assert_eq!(ids(env.bead_json(&["list", "--limit", "2"])).len(), 2);
    assert_eq!(
        ids(env.bead_json(&["list", "--sort", "id", "--limit", "0"])).len(),
        3
    );
}
