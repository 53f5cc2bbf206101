//! The merge queue on real repositories: requests made with `git mq submit` on branches the
//! tests commit, passes run with `git mq run`, gates that are small shell commands deciding
//! by the files of the candidate (a `BAD` file fails the `test` gate).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

use serde_json::Value;

use crate::support::{self, Env};

/// The gate every test uses: a candidate containing a file named BAD fails it.
const GATE: &str = "test ! -e BAD";

fn rig() -> Env {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "gt"]);
    env.config_set("merge_queue.gates.test", GATE);
    env
}

fn main_tip(env: &Env) -> String {
    env.ref_tip(&env.repo(), "refs/heads/main").unwrap()
}

fn is_ancestor(env: &Env, a: &str, b: &str) -> bool {
    env.git(&env.repo(), &["merge-base", "--is-ancestor", a, b])
        .status
        .success()
}

fn submit(env: &Env, branch: &str, bead: Option<&str>) -> String {
    let mut args = vec!["submit", branch];
    if let Some(b) = bead {
        args.extend(["--bead", b]);
    }
    let (code, v) = env.mq_json(&args);
    assert_eq!(code, 0, "{v}");
    v["id"].as_str().unwrap().to_string()
}

fn bead_json(env: &Env, id: &str) -> Value {
    let v = env.bead_json(&["show", id]);
    if v.is_array() {
        v[0].clone()
    } else {
        v
    }
}

fn outcomes(report: &Value) -> BTreeMap<String, String> {
    report["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["branch"].as_str().unwrap().to_string(),
                d["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn assert_clean_checkout(env: &Env) {
    let status = env.git_ok(
        &env.repo(),
        &["status", "--porcelain", "--untracked-files=no"],
    );
    assert!(
        status.is_empty(),
        "the checkout of main disagrees with its HEAD: {status}"
    );
}

/// Good branches, one failing its gate, one conflicting with an earlier good one, with beads.
fn mixed_queue(env: &Env) -> BTreeMap<&'static str, String> {
    let mut beads = BTreeMap::new();
    let specs: [(&'static str, &[(&str, &str)]); 4] = [
        ("good-a", &[("README", "changed by a\n"), ("a.txt", "a\n")]),
        ("bad", &[("BAD", "x\n")]),
        ("clash", &[("README", "changed by clash\n")]),
        ("good-b", &[("b.txt", "b\n")]),
    ];
    for (branch, files) in specs {
        let bead = env.create(&format!("work on {branch}"), &["--priority", "1"]);
        env.branch_with(branch, "main", files);
        submit(env, branch, Some(&bead));
        beads.insert(branch, bead);
    }
    beads
}

#[test]
fn a_mixed_queue_ends_merged_rejected_and_conflict_as_one_at_a_time_decides() {
    let expected: BTreeMap<String, String> = [
        ("good-a", "merged"),
        ("bad", "rejected"),
        ("clash", "conflict"),
        ("good-b", "merged"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    for batch in ["1", "4"] {
        let env = rig();
        env.config_set("merge_queue.batch_size", batch);
        let beads = mixed_queue(&env);
        let before = main_tip(&env);
        let (code, report) = env.mq_json(&["run"]);
        assert_eq!(code, 10, "rejections and conflicts exit 10: {report}");
        assert_eq!(outcomes(&report), expected, "batch {batch}: {report}");
        let after = main_tip(&env);
        assert!(
            is_ancestor(&env, &before, &after),
            "the target only moves forward"
        );
        // The target holds the good work and nothing of the bad.
        let files = env.git_ok(&env.repo(), &["ls-tree", "--name-only", "main"]);
        assert!(
            files.contains("a.txt") && files.contains("b.txt") && !files.contains("BAD"),
            "{files}"
        );
        assert_clean_checkout(&env);
        assert!(
            env.repo().join("b.txt").exists(),
            "the clean checkout of main was updated"
        );

        for b in ["good-a", "good-b"] {
            assert_eq!(
                bead_json(&env, &beads[b])["status"],
                "closed",
                "{b}'s bead closes with the merge"
            );
            assert!(
                env.ref_tip(&env.repo(), &format!("refs/heads/{b}"))
                    .is_none(),
                "merged branch {b} is deleted"
            );
        }
        let message = env.git_ok(&env.repo(), &["log", "-1", "--format=%B", "main"]);
        assert!(
            message.contains("Merge-request: gt-mr-")
                && message.contains(&format!("Bead: {}", beads["good-b"])),
            "{message}"
        );

        // The bad one: rejected with the gate, its exit status and log; its bead goes back.
        let bad = report["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["branch"] == "bad")
            .unwrap();
        let (_, shown) = env.mq_json(&["show", bad["mr"].as_str().unwrap()]);
        assert_eq!(shown["status"], "rejected");
        assert_eq!(shown["failure"]["gate"], "test");
        assert_eq!(shown["failure"]["kind"], "failed");
        assert_eq!(shown["failure"]["exit_status"], 1);
        let bad_bead = bead_json(&env, &beads["bad"]);
        assert_eq!(bad_bead["status"], "open");
        assert!(
            bad_bead["comments"]
                .to_string()
                .contains("gate 'test' failed (exit 1)"),
            "{bad_bead}"
        );

        // The conflict: files listed, a rework bead of the same priority linked to the original.
        let clash = report["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["branch"] == "clash")
            .unwrap();
        assert_eq!(clash["conflict_files"], serde_json::json!(["README"]));
        let rework = bead_json(&env, clash["rework_bead"].as_str().unwrap());
        assert_eq!(rework["priority"], 1);
        assert!(
            rework["dependencies"].to_string().contains(&beads["clash"]),
            "{rework}"
        );
        assert!(rework["title"].as_str().unwrap().contains("clash"));
        assert_eq!(
            bead_json(&env, &beads["clash"])["status"],
            "open",
            "the original waits for the rework"
        );
        if batch == "4" {
            assert!(report["gate_runs"].as_u64().unwrap() <= 4, "{report}");
        }
        env.assert_fsck_clean(&env.repo());
    }
}

#[test]
fn a_batch_of_16_with_one_bad_request_merges_the_15_good_in_at_most_9_gate_runs() {
    let env = rig();
    env.config_set("merge_queue.batch_size", "16");
    for i in 0..16 {
        let name = format!("w{i:02}");
        let file = format!("f{i:02}.txt");
        if i == 9 {
            env.branch_with(&name, "main", &[(file.as_str(), "x\n"), ("BAD", "x\n")]);
        } else {
            env.branch_with(&name, "main", &[(file.as_str(), "x\n")]);
        }
        submit(&env, &name, None);
    }
    let (code, report) = env.mq_json(&["run"]);
    assert_eq!(code, 10, "{report}");
    assert_eq!(report["merged"], 15, "{report}");
    assert_eq!(report["rejected"], 1);
    assert_eq!(outcomes(&report)["w09"], "rejected");
    let runs = report["gate_runs"].as_u64().unwrap();
    assert!(runs <= 9, "{runs} gate runs: {report}");
    let files = env.git_ok(&env.repo(), &["ls-tree", "--name-only", "main"]);
    for i in (0..16).filter(|i| *i != 9) {
        assert!(files.contains(&format!("f{i:02}.txt")), "{files}");
    }
    assert!(!files.contains("BAD"));
    // Every batch reports its gate runs, and they add up.
    let sum: u64 = report["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["gate_runs"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, runs);
}

#[test]
fn a_dirty_checkout_of_the_target_holds_the_merge_and_a_clean_one_is_updated() {
    let env = rig();
    env.branch_with("feature", "main", &[("feature.txt", "new\n")]);
    let mr = submit(&env, "feature", None);
    let before = main_tip(&env);
    std::fs::write(env.repo().join("README"), "my unsaved edit\n").unwrap();
    let (code, report) = env.mq_json(&["run"]);
    assert_eq!(code, 11, "held exits 11: {report}");
    assert_eq!(report["held"], 1);
    let reason = report["decisions"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("uncommitted changes") && reason.contains("README"),
        "{reason}"
    );
    assert_eq!(main_tip(&env), before, "nothing moved");
    assert_eq!(
        std::fs::read_to_string(env.repo().join("README")).unwrap(),
        "my unsaved edit\n"
    );
    let (_, shown) = env.mq_json(&["show", &mr]);
    assert_eq!(shown["status"], "open", "a held request stays in the queue");
    let (_, status) = env.mq_json(&["status"]);
    assert_eq!(status["depth"], 1);
    assert_eq!(status["last_pass"]["held"], 1);

    env.git_ok(&env.repo(), &["checkout", "README"]);
    let (code, report) = env.mq_json(&["run"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["merged"], 1);
    assert_eq!(
        std::fs::read_to_string(env.repo().join("feature.txt")).unwrap(),
        "new\n"
    );
    assert_clean_checkout(&env);
}

#[test]
fn gate_timeouts_are_rejections_and_a_missing_gate_command_holds_the_pass() {
    let env = rig();
    env.config_set(
        "merge_queue.gates.slow",
        "if [ -e SLOW ]; then sleep 30; fi",
    );
    env.config_set("merge_queue.gate_timeouts.slow", "1s");
    env.branch_with("slow", "main", &[("SLOW", "x\n")]);
    let mr = submit(&env, "slow", None);
    let (code, report) = env.mq_json(&["run"]);
    assert_eq!(code, 10, "{report}");
    let (_, shown) = env.mq_json(&["show", &mr]);
    assert_eq!(shown["failure"]["gate"], "slow");
    assert_eq!(shown["failure"]["kind"], "timeout");

    env.config_set("merge_queue.gates.lint", "no-such-linter-anywhere --check");
    for b in ["one", "two"] {
        env.branch_with(b, "main", &[(&format!("{b}.txt"), "x\n")]);
        submit(&env, b, None);
    }
    let (code, report) = env.mq_json(&["run"]);
    assert_eq!(code, 11, "{report}");
    assert_eq!(
        report["held"], 2,
        "every request is held, none rejected: {report}"
    );
    assert_eq!(report["rejected"], 0);
    assert!(
        report["decisions"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("gate 'lint'"),
        "{report}"
    );
    let (_, list) = env.mq_json(&["list"]);
    assert_eq!(list.as_array().unwrap().len(), 2, "both still wait: {list}");
}

#[test]
fn a_target_moved_during_the_gates_is_retried_never_lost() {
    let env = rig();
    let repo = env.repo();
    let marker = env.path().join("moved-once");
    // The first gate run commits to main behind the queue's back (a person pushing).
    let gate = format!(
        "if [ ! -e '{m}' ]; then touch '{m}'; echo p > '{r}/person.txt' && git -C '{r}' add person.txt && git -C '{r}' commit -qm person; fi",
        m = marker.display(),
        r = repo.display()
    );
    env.config_set("merge_queue.gates.test", &gate);
    env.branch_with("feature", "main", &[("feature.txt", "x\n")]);
    submit(&env, "feature", None);
    let (code, report) = env.mq_json(&["run"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["merged"], 1);
    assert_eq!(
        report["gate_runs"], 2,
        "the candidate is rebuilt on the moved target and tested again"
    );
    let person = env.git_ok(&repo, &["log", "--format=%H", "--grep=^person$", "main"]);
    assert!(!person.trim().is_empty(), "the person's commit is on main");
    let files = env.git_ok(&repo, &["ls-tree", "--name-only", "main"]);
    assert!(
        files.contains("person.txt") && files.contains("feature.txt"),
        "{files}"
    );
}

#[test]
fn bad_input_gets_one_line_errors_and_changes_nothing() {
    let env = rig();
    let before = env.commits(&env.repo(), "beads");
    support::assert_refused(
        env.run_in(&env.repo(), "mq", &["submit", "no-such-branch"]),
        &["no-such-branch"],
    );
    env.git_ok(&env.repo(), &["branch", "empty", "main"]);
    support::assert_refused(
        env.run_in(&env.repo(), "mq", &["submit", "empty"]),
        &["no commits beyond main"],
    );
    support::assert_refused(
        env.run_in(&env.repo(), "mq", &["submit", "--target", "nope", "empty"]),
        &["nope"],
    );
    support::assert_refused(
        env.run_in(&env.repo(), "mq", &["show", "gt-mr-0000"]),
        &["gt-mr-0000"],
    );
    support::assert_refused(
        env.run_in(&env.repo(), "mq", &["retry", "gt-mr-0000"]),
        &["gt-mr-0000"],
    );
    support::assert_refused(
        env.run_in(&env.repo(), "mq", &["submit", "--bead", "gt-zzz", "main"]),
        &["gt-zzz"],
    );
    assert_eq!(
        env.commits(&env.repo(), "beads"),
        before,
        "nothing was written"
    );

    // Dedup by commit; retry and reject by hand.
    env.branch_with("f", "main", &[("f.txt", "x\n")]);
    let id = submit(&env, "f", None);
    let (_, again) = env.mq_json(&["submit", "f"]);
    assert_eq!(again["id"], id.as_str());
    assert_eq!(again["created"], false);
    support::assert_refused(env.run_in(&env.repo(), "mq", &["retry", &id]), &["open"]);
    let (code, rejected) = env.mq_json(&["reject", &id, "--reason", "not wanted"]);
    assert_eq!(code, 0);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["reason"], "not wanted");
    let (_, retried) = env.mq_json(&["retry", &id]);
    assert_eq!(retried["status"], "open");
    assert_eq!(retried["retries"], 1);
    let (code, report) = env.mq_json(&["run"]);
    assert_eq!((code, report["merged"].as_u64()), (0, Some(1)), "{report}");
    // An empty queue is a pass with nothing to do.
    let (code, report) = env.mq_json(&["run"]);
    assert_eq!(
        (code, report["decisions"].as_array().unwrap().len()),
        (0, 0)
    );
}

#[test]
fn a_conflict_is_reworked_on_the_branch_and_the_new_commit_supersedes_it() {
    let env = rig();
    let bead = env.create("change the readme", &[]);
    env.branch_with("first", "main", &[("README", "first\n")]);
    env.branch_with("second", "main", &[("README", "second\n")]);
    submit(&env, "first", None);
    let old = submit(&env, "second", Some(&bead));
    let (_, report) = env.mq_json(&["run"]);
    assert_eq!(outcomes(&report)["second"], "conflict");
    let rework = report["decisions"][1]["rework_bead"]
        .as_str()
        .unwrap()
        .to_string();

    // The worker rebases and resolves on the same branch.
    env.git_ok(&env.repo(), &["checkout", "-q", "second"]);
    env.git_ok(&env.repo(), &["reset", "-q", "--hard", "main"]);
    std::fs::write(env.repo().join("README"), "first and second\n").unwrap();
    env.git_ok(&env.repo(), &["commit", "-qam", "resolve"]);
    env.git_ok(&env.repo(), &["checkout", "-q", "main"]);
    let (_, new) = env.mq_json(&["submit", "second", "--bead", &rework]);
    assert_eq!(new["supersedes"], old.as_str());
    assert_eq!(new["retries"], 1);
    let (_, old_mr) = env.mq_json(&["show", &old]);
    assert_eq!(old_mr["status"], "superseded");
    let (code, report) = env.mq_json(&["run"]);
    assert_eq!(code, 0, "{report}");
    for b in [&bead, &rework] {
        assert_eq!(
            bead_json(&env, b)["status"],
            "closed",
            "{b} closes with the merge"
        );
    }
    assert_eq!(
        std::fs::read_to_string(env.repo().join("README")).unwrap(),
        "first and second\n"
    );
}

#[test]
fn an_escalation_follows_max_retries_rejections() {
    let env = rig();
    env.config_set("merge_queue.max_retries", "2");
    let bead = env.create("flaky", &[]);
    env.branch_with("bad", "main", &[("BAD", "x\n")]);
    let id = submit(&env, "bad", Some(&bead));
    let (_, report) = env.mq_json(&["run"]);
    assert_eq!(report["decisions"][0]["outcome"], "rejected");
    env.mq_json(&["retry", &id]);
    let (_, report) = env.mq_json(&["run"]);
    assert_eq!(report["decisions"][0]["outcome"], "escalated", "{report}");
    assert_eq!(bead_json(&env, &bead)["status"], "blocked");
    let (_, shown) = env.mq_json(&["show", &id]);
    assert_eq!(shown["escalated"], true);
}

#[test]
fn a_second_pass_returns_at_once_and_the_running_one_takes_new_requests() {
    let env = rig();
    let started = env.path().join("gate-started");
    let go = env.path().join("go");
    let gate = format!(
        "touch '{s}'; while [ ! -e '{g}' ]; do sleep 0.02; done; test ! -e BAD",
        s = started.display(),
        g = go.display()
    );
    env.config_set("merge_queue.gates.test", &gate);
    env.branch_with("one", "main", &[("one.txt", "x\n")]);
    submit(&env, "one", None);
    let program = support::bin_dir().join("git-mq");
    let first = env
        .command(program.to_str().unwrap(), &env.repo())
        .args(["run", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    while !started.exists() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let (code, second) = env.mq_json(&["run"]);
    assert_eq!(code, 0);
    assert!(
        second["skipped"].as_str().unwrap().contains("merge slot"),
        "{second}"
    );
    let (_, status) = env.mq_json(&["status"]);
    assert!(status["running"]["pid"].is_u64(), "{status}");
    // Submitted while the first pass runs: it must take it before exiting.
    env.branch_with("two", "main", &[("two.txt", "x\n")]);
    submit(&env, "two", None);
    std::fs::write(&go, "").unwrap();
    let out = first.wait_with_output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert_eq!(report["merged"], 2, "{report}");
}

#[test]
fn integration_branches_collect_an_epics_work_and_land_it_with_gates() {
    let env = rig();
    let epic = env.create("big feature", &["--type", "epic"]);
    let child = env.create("part one", &["--parent", &epic]);
    let (code, made) = env.mq_json(&["integration", "create", &epic]);
    assert_eq!(code, 0, "{made}");
    let branch = format!("integration/{epic}");
    assert_eq!(made["branch"], branch.as_str());
    assert_eq!(
        bead_json(&env, &epic)["integration_branch"],
        branch.as_str()
    );
    let (_, again) = env.mq_json(&["integration", "create", &epic]);
    assert_eq!(again["created"], false);

    env.branch_with("part-one", &branch, &[("part1.txt", "x\n")]);
    let (_, sub) = env.mq_json(&["submit", "part-one", "--bead", &child]);
    assert_eq!(
        sub["target"],
        branch.as_str(),
        "a child's work targets the integration branch"
    );
    // Landing before its requests merged is refused.
    support::assert_refused(
        env.run_in(&env.repo(), "mq", &["integration", "land", &epic]),
        &["unmerged"],
    );
    let before = main_tip(&env);
    let (code, report) = env.mq_json(&["run"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        main_tip(&env),
        before,
        "main is untouched until the epic lands"
    );
    assert_eq!(bead_json(&env, &child)["status"], "closed");

    let (code, landed) = env.mq_json(&["integration", "land", &epic]);
    assert_eq!(code, 0, "{landed}");
    assert_eq!(landed["landed"], true);
    let parents = env.git_ok(&env.repo(), &["log", "-1", "--format=%P", "main"]);
    assert_eq!(
        parents.split_whitespace().count(),
        2,
        "an integration branch lands as a merge commit"
    );
    assert!(env
        .git_ok(&env.repo(), &["ls-tree", "--name-only", "main"])
        .contains("part1.txt"));
    assert_eq!(bead_json(&env, &epic)["status"], "closed");
    assert!(
        env.ref_tip(&env.repo(), &format!("refs/heads/{branch}"))
            .is_none(),
        "the landed branch is deleted"
    );
}

#[test]
fn a_target_on_a_remote_is_pushed_and_verified() {
    let env = rig();
    let remote = env.path().join("origin.git");
    env.git_ok(
        env.path(),
        &["init", "-q", "--bare", remote.to_str().unwrap()],
    );
    env.git_ok(
        &env.repo(),
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    env.git_ok(&env.repo(), &["push", "-q", "-u", "origin", "main"]);
    env.branch_with("feature", "main", &[("feature.txt", "x\n")]);
    submit(&env, "feature", None);
    let (code, report) = env.mq_json(&["run"]);
    assert_eq!(code, 0, "{report}");
    let merged = report["decisions"][0]["merge_commit"].as_str().unwrap();
    let remote_tip = env.git_ok(&remote, &["rev-parse", "refs/heads/main"]);
    assert_eq!(remote_tip.trim(), merged, "the remote holds the merge");
    assert_eq!(main_tip(&env), merged, "the local branch follows");
    assert_clean_checkout(&env);
}

#[test]
fn passes_killed_at_any_moment_leave_no_half_state() {
    let env = rig();
    let tested = env.path().join("tested.log");
    // Records each candidate that passed, so the target's history can be checked against it.
    let gate = format!(
        "test ! -e BAD && echo \"$GT_MQ_TIP\" >> '{}'",
        tested.display()
    );
    env.config_set("merge_queue.gates.test", &gate);
    let start = main_tip(&env);
    let n = 8;
    for i in 0..n {
        env.branch_with(
            &format!("k{i}"),
            "main",
            &[(format!("k{i}.txt").as_str(), "x\n")],
        );
        submit(&env, &format!("k{i}"), None);
    }
    let program = support::bin_dir().join("git-mq");
    let mut previous = start.clone();
    for round in 0..12u64 {
        let mut child = env
            .command(program.to_str().unwrap(), &env.repo())
            .args(["run", "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Spread the kills over the pass: each round dies a little later.
        std::thread::sleep(std::time::Duration::from_millis(5 + round * 9));
        let _ = child.kill();
        let _ = child.wait();
        let tip = main_tip(&env);
        assert!(
            is_ancestor(&env, &previous, &tip),
            "round {round}: the target moved backwards"
        );
        previous = tip;
        // A kill between updating the checkout and moving the branch leaves them apart
        // for that instant: then the journal says so, and the next pass (the next round)
        // repairs it before anything else.
        let journaled = env.repo().join(".git/gastown/mq/journal.json").exists();
        if !journaled {
            assert_clean_checkout(&env);
        }
    }
    let (code, report) = env.mq_json(&["run"]);
    assert_eq!(code, 0, "{report}");
    let (_, status) = env.mq_json(&["status"]);
    assert_eq!(status["depth"], 0, "{status}");
    assert_eq!(status["unfinished_merge"], false);
    let (_, all) = env.mq_json(&["list", "--all"]);
    let merged: Vec<&Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["status"] == "merged")
        .collect();
    assert_eq!(merged.len(), n, "{all}");
    let files = env.git_ok(&env.repo(), &["ls-tree", "--name-only", "main"]);
    for i in 0..n {
        assert!(files.contains(&format!("k{i}.txt")), "{files}");
    }
    // Every commit the target ever pointed at passed the gates (batch size 1).
    let tested_tips = std::fs::read_to_string(&tested).unwrap_or_default();
    let moves = env.git_ok(
        &env.repo(),
        &["rev-list", "--first-parent", &format!("{start}..main")],
    );
    for commit in moves.lines() {
        assert!(
            tested_tips.contains(commit),
            "main holds {commit}, which no gate passed"
        );
    }
    for mr in &merged {
        assert!(is_ancestor(
            &env,
            mr["merge_commit"].as_str().unwrap(),
            &main_tip(&env)
        ));
    }
    assert_clean_checkout(&env);
    env.assert_fsck_clean(&env.repo());
    let scratch_ok = Path::new(&env.repo())
        .join(".git/gastown/mq/scratch")
        .is_dir();
    assert!(scratch_ok, "the scratch worktree is kept for reuse");
}

/// The two windows a SIGKILL can hit while the target moves, made exactly: the journal is
/// written, the checkout of main updated, and then the pass dies before (or after) the
/// compare-and-swap of the branch.
#[test]
fn a_pass_killed_while_moving_the_target_is_finished_or_undone_by_the_next() {
    for moved in [false, true] {
        let env = rig();
        let repo = env.repo();
        let from = main_tip(&env);
        let to = env.branch_with("feature", "main", &[("feature.txt", "x\n")]);
        let id = submit(&env, "feature", None);
        let journal =
            serde_json::json!({ "target": "main", "from": from, "to": to, "merged": [[id, to]] });
        let dir = repo.join(".git/gastown/mq");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("journal.json"), journal.to_string()).unwrap();
        env.git_ok(&repo, &["read-tree", "-u", "-m", &from, &to]);
        if moved {
            env.git_ok(&repo, &["update-ref", "refs/heads/main", &to, &from]);
        }
        let (_, status) = env.mq_json(&["status"]);
        assert_eq!(status["unfinished_merge"], true);
        let (code, report) = env.mq_json(&["run"]);
        assert_eq!(code, 0, "{report}");
        let recovered = report["recovered"].as_str().unwrap();
        assert!(
            recovered.contains(if moved { "finished" } else { "discarded" }),
            "{recovered}"
        );
        assert_clean_checkout(&env);
        let (_, mr) = env.mq_json(&["show", &id]);
        assert_eq!(mr["status"], "merged", "moved: {moved}: {report}");
        if moved {
            assert_eq!(
                mr["merge_commit"],
                to.as_str(),
                "the journaled merge is recorded as it happened"
            );
            assert!(
                report["decisions"].as_array().unwrap().is_empty(),
                "and not merged twice: {report}"
            );
        } else {
            assert_eq!(report["merged"], 1, "redone by the pass: {report}");
        }
        assert!(!dir.join("journal.json").exists());
    }
}

/// The very commit a gate refused, handed in again (the same branch tip submitted, as a
/// worker's `done` with nothing new does): reopened as a retry and counted — not answered
/// with the old rejected request, which left its bead in progress on a request nothing
/// would look at again. A commit that keeps failing reaches `max_retries` and a person;
/// after that, handing it in again changes nothing.
#[test]
fn a_rejected_commit_handed_in_again_is_retried_and_counted() {
    let env = rig();
    env.config_set("merge_queue.max_retries", "3");
    let bead = env.create("flaky", &[]);
    env.branch_with("bad", "main", &[("BAD", "x\n")]);
    let id = submit(&env, "bad", Some(&bead));
    for retry in 1..=2 {
        let (_, report) = env.mq_json(&["run"]);
        assert_eq!(report["decisions"][0]["outcome"], "rejected", "{report}");
        let (code, again) = env.mq_json(&["submit", "bad", "--bead", &bead]);
        assert_eq!(code, 0, "{again}");
        assert_eq!(again["id"], id.as_str(), "{again}");
        assert_eq!(again["status"], "open", "{again}");
        assert_eq!(again["retries"], retry, "{again}");
        assert!(again["reason"].is_null(), "{again}");
    }
    let (_, report) = env.mq_json(&["run"]);
    assert_eq!(report["decisions"][0]["outcome"], "escalated", "{report}");
    let before = env.ref_tip(&env.repo(), "refs/gastown/beads");
    let (_, last) = env.mq_json(&["submit", "bad", "--bead", &bead]);
    assert_eq!(last["status"], "rejected", "{last}");
    assert_eq!(last["escalated"], true, "{last}");
    assert_eq!(env.ref_tip(&env.repo(), "refs/gastown/beads"), before);
    assert_eq!(bead_json(&env, &bead)["status"], "blocked");
}

/// A rebase merge puts new commits on the target, so a branch's merged commit stays
/// outside it: a later request of the same branch that builds on that commit must replay
/// only what is new. Replaying the merged commit again put a bead's change on the target
/// twice in the town simulation (seed 1002); here it would conflict with the change made
/// on the target since.
#[test]
fn a_later_request_of_a_branch_replays_only_what_its_merged_one_did_not() {
    let env = rig();
    let merge = |branch: &str| {
        submit(&env, branch, None);
        let (_, report) = env.mq_json(&["run"]);
        assert_eq!(outcomes(&report)[branch], "merged", "{report}");
    };
    env.branch_with("seed", "main", &[("line.txt", "x\n")]);
    merge("seed");
    let work = env.branch_with("work", "main", &[("line.txt", "y\n")]);
    merge("work");
    env.branch_with("other", "main", &[("line.txt", "z\n")]);
    merge("other");
    // More work on the same branch, on top of its merged commit (a polecat's branch
    // lives on in its sandbox; the queue deleted this one).
    env.branch_with("next", &work, &[("more.txt", "m\n")]);
    env.git_ok(&env.repo(), &["branch", "-f", "work", "next"]);
    merge("work");
    assert_eq!(env.git_ok(&env.repo(), &["show", "main:line.txt"]), "z\n");
    assert_eq!(env.git_ok(&env.repo(), &["show", "main:more.txt"]), "m\n");
}
