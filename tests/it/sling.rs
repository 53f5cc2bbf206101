//! Dispatch end to end (docs/SLING.md): `git sling` puts beads on hooks and starts the
//! scripted runtime (`support::scripted`), which reads its hook, commits and runs
//! `git agent done`; the scheduler's cap and queue, the circuit breaker, handoff, and
//! `done` killed at random points. Real binaries on a lone repository (a town of one rig
//! named `repo`); a parked rig needs a town of its own.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::sample::Rng;
use crate::support::scripted::{binary, fails, tmux_present, town, wait_until, Town};

const FURIOSA: &str = "repo/polecats/furiosa";

/// The scripted town with the script as every session's runtime.
fn slinging_town(backend: &str) -> Town {
    let t = town(backend);
    t.config_set("agent.default", "script");
    t
}

/// The one merge request of `bead` (`git mq list --all`), asserting there is exactly one.
fn only_merge_request(t: &Town, bead: &str, context: &str) -> Value {
    let mrs: Vec<Value> = t
        .mq_list()
        .into_iter()
        .filter(|mr| mr["bead"] == bead)
        .collect();
    assert_eq!(mrs.len(), 1, "{context}: merge requests of {bead}: {mrs:?}");
    mrs[0].clone()
}

/// What the agent wrote at a commit.
fn work_at(t: &Town, commit: &str, file: &str) -> String {
    t.git(&["show", &format!("{commit}:{file}")])
}

fn ready_ids(t: &Town) -> BTreeSet<String> {
    let ready = t.env.bead_json(&["ready"]);
    ready
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_string())
        .collect()
}

/// Three beads slung in one call are each worked by a session that runs `done`: one merge
/// request per bead holding the agent's change, the beads in progress (not ready, not
/// closed), the agents idle with empty hooks, their sandboxes kept.
fn three_beads_each_end_with_one_merge_request(backend: &str) -> Town {
    let t = slinging_town(backend);
    let ids: Vec<String> = (1..=3)
        .map(|i| t.env.create(&format!("DO-WORK part {i}"), &[]))
        .collect();
    let mut args: Vec<&str> = ids.iter().map(String::as_str).collect();
    args.push("repo");
    let dispatched = t.sling_json(&args);
    let dispatched = dispatched.as_array().unwrap();
    assert_eq!(dispatched.len(), 3);
    for (d, id) in dispatched.iter().zip(&ids) {
        assert_eq!(
            (d["bead"].as_str(), d["outcome"].as_str()),
            (Some(id.as_str()), Some("started")),
            "{d}"
        );
        assert_eq!(d["runtime"], "script");
    }
    wait_until("three merge requests and every session ended", || {
        t.mq_list().len() == 3 && t.alive_sessions() == 0
    });
    let ready = ready_ids(&t);
    for id in &ids {
        let mr = only_merge_request(&t, id, backend);
        let worker = mr["worker"].as_str().unwrap();
        let work = work_at(&t, mr["commit"].as_str().unwrap(), "work.txt");
        assert!(
            work.contains(&format!(
                "work of {worker} for {worker}: {id} [hooked] DO-WORK"
            )),
            "{work}"
        );
        let bead = t.bead(id);
        assert_eq!(bead["status"], "in_progress", "{bead}");
        assert_eq!(bead["merge_request"], mr["id"]);
        assert!(!ready.contains(id), "{id} is in progress, not ready");
    }
    for agent in t.agents() {
        assert_eq!(agent["state"], "idle", "{agent}");
        assert!(agent["hook"].is_null(), "{agent}");
        assert!(
            std::path::Path::new(agent["sandbox"].as_str().unwrap()).is_dir(),
            "sandbox kept: {agent}"
        );
    }
    t
}

#[test]
fn process_backend_three_slung_beads_end_with_one_merge_request_each() {
    let t = three_beads_each_end_with_one_merge_request("process");
    // The next sling does not reuse a polecat whose request still waits (the queue has not
    // run): it adds one, on the current base (see the cap test for why).
    let agents_before: BTreeSet<String> = t
        .agents()
        .iter()
        .map(|a| a["address"].as_str().unwrap().to_string())
        .collect();
    std::fs::write(t.repo().join("later.txt"), "main moved on\n").unwrap();
    t.git(&["add", "later.txt"]);
    t.git(&["commit", "-qm", "main moves on"]);
    let base = t.git(&["rev-parse", "main"]).trim().to_string();
    let id = t.env.create("DO-WORK once more", &[]);
    let d = t.sling_json(&[&id, "repo"])[0].clone();
    assert_eq!(d["outcome"], "started", "{d}");
    let reused = d["agent"].as_str().unwrap().to_string();
    assert!(
        !agents_before.contains(&reused),
        "{reused} was reused with its request in flight: {agents_before:?}"
    );
    wait_until("the fourth merge request", || {
        t.mq_list().len() == 4 && t.alive_sessions() == 0
    });
    let mr = only_merge_request(&t, &id, "reuse");
    assert_eq!(mr["worker"], reused.as_str());
    let commit = mr["commit"].as_str().unwrap();
    assert_eq!(
        t.git(&["rev-parse", &format!("{commit}^")]).trim(),
        base,
        "the branch was reset onto main"
    );
    assert!(work_at(&t, commit, "work.txt").contains(&id));
    let after: BTreeSet<String> = t
        .agents()
        .iter()
        .map(|a| a["address"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        after.len(),
        agents_before.len() + 1,
        "one polecat was added"
    );
}

#[test]
fn tmux_backend_three_slung_beads_end_with_one_merge_request_each() {
    if tmux_present() {
        three_beads_each_end_with_one_merge_request("tmux");
    }
}

/// `git sling BEAD repo --json` for each of `beads`, all at once; their outputs in order.
fn concurrent_slings(t: &Town, beads: &[&str]) -> Vec<std::process::Output> {
    let children: Vec<_> = beads
        .iter()
        .map(|id| {
            t.env
                .command(&binary("git-sling"), &t.repo())
                .args([id, "repo", "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect()
}

#[test]
fn eight_concurrent_slings_of_one_bead_hook_it_once() {
    let t = slinging_town("process");
    let id = t.env.create("contested", &[]);
    let mut winners = Vec::new();
    for out in concurrent_slings(&t, &[id.as_str(); 8]) {
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        match out.status.code() {
            Some(0) => {
                let report: Value = serde_json::from_str(&stdout).unwrap();
                assert_eq!(report[0]["outcome"], "started", "{report}");
                winners.push(report[0]["agent"].as_str().unwrap().to_string());
            }
            // The bead is on the winner's hook (exit 4), or a reported failure (exit 1).
            Some(4) => {
                let line = String::from_utf8_lossy(&out.stderr);
                assert!(line.contains(&format!("bead {id} is on ")), "{line}");
            }
            Some(1) => {
                let report: Value = serde_json::from_str(&stdout).unwrap();
                assert_eq!(report[0]["outcome"], "failed", "{report}");
            }
            other => panic!(
                "exit {other:?}: {stdout} {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one sling wins: {winners:?}");
    let holders: Vec<String> = t
        .agents()
        .iter()
        .filter(|a| a["hook"] == id.as_str())
        .map(|a| a["address"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(holders, winners, "exactly one agent holds it");
    let bead = t.bead(&id);
    assert_eq!(
        (bead["status"].as_str(), bead["assignee"].as_str()),
        (Some("hooked"), Some(winners[0].as_str()))
    );
}

#[test]
fn concurrent_slings_of_different_beads_each_find_a_polecat() {
    let t = slinging_town("process");
    t.ok(&["add", "polecat"]);
    t.ok(&["add", "polecat"]);
    let ids: Vec<String> = (0..4)
        .map(|i| t.env.create(&format!("parallel {i}"), &[]))
        .collect();
    // Four dispatchers race for two idle polecats: the losers of a pick try the next one.
    let beads: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut holders = BTreeSet::new();
    for (out, id) in concurrent_slings(&t, &beads).into_iter().zip(&ids) {
        let report: Value = serde_json::from_str(&crate::support::ok(out, &[id])).unwrap();
        assert_eq!(report[0]["outcome"], "started", "{report}");
        let agent = report[0]["agent"].as_str().unwrap().to_string();
        assert_eq!(t.bead(id)["assignee"], agent.as_str());
        holders.insert(agent);
    }
    assert_eq!(holders.len(), 4, "one polecat per bead: {holders:?}");
}

#[test]
fn an_idle_polecat_whose_killed_git_left_a_lock_is_reused() {
    let t = slinging_town("process");
    t.ok(&["add", "polecat"]);
    let agents = t.agents();
    assert_eq!(agents.len(), 1, "{agents:?}");
    let polecat = agents[0]["address"].as_str().unwrap().to_string();
    let sandbox = std::path::PathBuf::from(agents[0]["sandbox"].as_str().unwrap());
    // What a git killed in a dead session leaves: the reset onto the base would fail on it.
    let branch = agents[0]["branch"].as_str().unwrap();
    let common = t.env.git_ok(
        &sandbox,
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    );
    let lock = std::path::PathBuf::from(common.trim()).join(format!("refs/heads/{branch}.lock"));
    let file = std::fs::File::create(&lock).unwrap();
    file.set_modified(std::time::SystemTime::now() - Duration::from_secs(60))
        .unwrap();
    drop(file);
    let id = t.env.create("DO-WORK after a killed git", &[]);
    let d = t.sling_json(&[&id, "repo"])[0].clone();
    assert_eq!(d["outcome"], "started", "{d}");
    assert_eq!(
        d["agent"],
        polecat.as_str(),
        "the idle polecat was reused: {d}"
    );
    assert!(!lock.exists(), "the stale lock was cleared");
    wait_until("its merge request", || {
        t.mq_list().len() == 1 && t.alive_sessions() == 0
    });
    assert_eq!(t.agents().len(), 1, "no polecat was added");
}

/// Live sessions, read straight from their liveness locks (a shared lock is refused while a
/// session's processes hold theirs): cheaper than `git agent list`, so sampled often.
fn live_by_locks(t: &Town) -> usize {
    let Ok(entries) = std::fs::read_dir(t.state_dir().join("sessions")) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".lock"))
        .filter(|e| {
            let Ok(file) = std::fs::File::open(e.path()) else {
                return false;
            };
            matches!(
                file.try_lock_shared(),
                Err(std::fs::TryLockError::WouldBlock)
            )
        })
        .count()
}

#[test]
fn the_cap_holds_and_queued_dispatches_start_as_done_frees_slots() {
    let t = slinging_town("process");
    t.config_set("scheduler.max_polecats", "2");
    let ids: Vec<String> = (1..=6)
        .map(|i| t.env.create(&format!("DO-WORK SLOW {i}"), &[]))
        .collect();
    let mut args: Vec<&str> = ids.iter().map(String::as_str).collect();
    args.push("repo");
    let dispatched = t.sling_json(&args);
    let outcomes: Vec<&str> = dispatched
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["outcome"].as_str().unwrap())
        .collect();
    // The first two sessions wait for `go`, so the other four find no slot.
    assert_eq!(
        outcomes,
        ["started", "started", "queued", "queued", "queued", "queued"]
    );
    let queued = t.env.json_in(&t.repo(), "sling", &["queue"]);
    assert_eq!(queued.as_array().unwrap().len(), 4, "{queued}");
    t.go();
    // No one runs `git sling queue run`: each done starts the next, after its session ends.
    let (mut most_by_list, mut most_by_locks, mut samples) = (0, 0, 0);
    wait_until("six merge requests", || {
        most_by_locks = most_by_locks.max(live_by_locks(&t));
        most_by_list = most_by_list.max(t.alive_sessions());
        most_by_locks = most_by_locks.max(live_by_locks(&t));
        samples += 1;
        t.mq_list().len() == 6
    });
    assert!(
        most_by_list <= 2 && most_by_locks <= 2,
        "over the cap: list {most_by_list}, locks {most_by_locks} ({samples} samples)"
    );
    for id in &ids {
        let mr = only_merge_request(&t, id, "capped");
        assert!(work_at(&t, mr["commit"].as_str().unwrap(), "work.txt").contains(id.as_str()));
        assert_eq!(t.bead(id)["status"], "in_progress");
    }
    assert!(t
        .env
        .json_in(&t.repo(), "sling", &["queue"])
        .as_array()
        .unwrap()
        .is_empty());
    // A freed polecat whose request still waits (no merge pass here) gets no new work:
    // its next `done` would supersede that request and close its bead without the change
    // (found by the town simulation). So no polecat did two beads (a race between two
    // queue runs may add a seventh that then lost the attach).
    let agents = t.agents();
    let done: Vec<usize> = agents
        .iter()
        .map(|a| a["completions"].as_array().unwrap().len())
        .collect();
    assert!(done.iter().all(|&n| n <= 1), "{agents:?}");
    assert_eq!(done.iter().sum::<usize>(), 6, "{agents:?}");
}

#[test]
fn done_killed_at_random_points_then_run_again_loses_nothing_and_duplicates_nothing() {
    const ROUNDS: u64 = 50;
    let seed = std::env::var("GT_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("done kill test: seed {seed} (replay with GT_TEST_SEED={seed})");
    let mut rng = Rng(seed);
    let t = town("process");
    t.ok(&["add", "polecat"]);
    let sandbox = t.sandbox("polecats", "furiosa");
    let mut longest = Duration::from_millis(40);
    // Rounds where the kill landed before done exited, and where the re-run finished an
    // interrupted done (its intent file found).
    let (mut interrupted, mut resumed) = (0, 0);
    for round in 0..ROUNDS {
        let context = format!("seed {seed} round {round}");
        let id = t.env.create(&format!("work {round}"), &[]);
        t.ok(&["hook", &id, "--to", FURIOSA]);
        let file = format!("f{round}.txt");
        std::fs::write(sandbox.join(&file), format!("change {round} for {id}\n")).unwrap();
        t.env.git_ok(&sandbox, &["add", "."]);
        t.env
            .git_ok(&sandbox, &["commit", "-qm", &format!("work {round}")]);
        let tip = t
            .env
            .git_ok(&sandbox, &["rev-parse", "HEAD"])
            .trim()
            .to_string();
        let mut child = t
            .env
            .command(&binary("git-agent"), &sandbox)
            .arg("done")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Anywhere from before it starts to after it ends (the longest run seen bounds it).
        let delay = Duration::from_millis(rng.below(longest.as_millis() as u64 + 1));
        let started = Instant::now();
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.success() {
            longest = longest.max(started.elapsed());
        } else {
            interrupted += 1;
        }
        let again = t.agent_in(&sandbox, &["done", "--json"]);
        if again.status.success() {
            let report: Value = serde_json::from_slice(&again.stdout).unwrap();
            resumed += usize::from(report["resumed"] == true);
        } else {
            // The killed run had finished everything: nothing is left to hand in.
            let line = String::from_utf8_lossy(&again.stderr);
            assert!(line.contains("hook is empty"), "{context}: {line}");
        }
        let mr = only_merge_request(&t, &id, &context);
        assert_eq!(mr["commit"], tip.as_str(), "{context}");
        assert_eq!(
            work_at(&t, &tip, &file),
            format!("change {round} for {id}\n"),
            "{context}"
        );
        let pinned = t.env.ref_tip(
            &t.repo(),
            &format!("refs/gastown/local/work/{}", mr["id"].as_str().unwrap()),
        );
        assert_eq!(
            pinned.as_deref(),
            Some(tip.as_str()),
            "{context}: the work is pinned"
        );
        assert_eq!(t.bead(&id)["status"], "in_progress", "{context}");
        let agent = t.view(FURIOSA);
        assert!(
            agent["hook"].is_null() && agent["state"] == "idle",
            "{context}: {agent}"
        );
        assert!(
            !t.state_dir().join("done/gt-repo-furiosa.json").exists(),
            "{context}: intent left behind"
        );
    }
    assert_eq!(t.mq_list().len(), ROUNDS as usize, "seed {seed}");
    eprintln!("done kill test: {interrupted} of {ROUNDS} runs killed before they exited, {resumed} finished from their intent");
    assert!(interrupted > 0, "seed {seed}: no kill landed inside a run");
}

#[test]
fn failed_dispatches_roll_back_and_stop_being_retried_after_three() {
    let t = slinging_town("process");
    t.env.git_ok(
        &t.repo(),
        &[
            "config",
            "gastown.runtime.ghost.command",
            "/nonexistent/ghost-cli",
        ],
    );
    let id = t.env.create("needs a ghost", &[]);
    // Fails after the attach (the binary is missing): rolled back and counted.
    let out = t.sling(&[&id, "repo", "--agent", "ghost", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            report[0]["outcome"].as_str(),
            report[0]["failures"].as_u64()
        ),
        (Some("failed"), Some(1)),
        "{report}"
    );
    assert!(
        report[0]["reason"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/ghost-cli"),
        "{report}"
    );
    let assert_rolled_back = |failures: u64| {
        let bead = t.bead(&id);
        assert_eq!(bead["status"], "open", "{bead}");
        assert!(bead["assignee"].is_null(), "{bead}");
        assert_eq!(bead["dispatch_failures"], failures, "{bead}");
        assert!(bead["last_dispatch_error"]
            .as_str()
            .unwrap()
            .contains("ghost-cli"));
        assert!(
            t.agents().iter().all(|a| a["hook"] != id.as_str()),
            "{:?}",
            t.agents()
        );
    };
    assert_rolled_back(1);

    // Through the queue: the only slot is taken, so the dispatch waits.
    t.config_set("scheduler.max_polecats", "1");
    let blocker = t.env.create("keeps the slot", &[]);
    let held = t.sling_json(&[&blocker, "repo"])[0].clone();
    assert_eq!(held["outcome"], "started", "{held}");
    let queued = t.sling_json(&[&id, "repo", "--agent", "ghost"])[0].clone();
    assert_eq!(queued["outcome"], "queued", "{queued}");
    t.ok(&["stop", held["agent"].as_str().unwrap()]);
    for failures in [2, 3] {
        let out = t.sling(&["queue", "run", "--json"]);
        assert_eq!(out.status.code(), Some(1));
        let run: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(run["dispatched"][0]["outcome"], "failed", "{run}");
        assert_eq!(run["dispatched"][0]["failures"], failures, "{run}");
        assert_rolled_back(failures);
    }
    // The circuit breaker: no more automatic attempts, and sling says why.
    assert!(t
        .env
        .json_in(&t.repo(), "sling", &["queue"])
        .as_array()
        .unwrap()
        .is_empty());
    let run = t.env.json_in(&t.repo(), "sling", &["queue", "run"]);
    assert!(run["dispatched"].as_array().unwrap().is_empty(), "{run}");
    assert_rolled_back(3);
    let before = t.refs();
    let out = t.sling(&[&id, "repo"]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("failed to dispatch 3 times") && said.contains("--force"),
        "{said}"
    );
    assert_eq!(t.refs(), before, "a refused sling changed refs");
    let forced = t.sling_json(&[&id, "repo", "--force"])[0].clone();
    assert_eq!(forced["outcome"], "started", "{forced}");
    assert_eq!(t.bead(&id)["status"], "hooked");
}

#[test]
fn sling_ready_dispatches_the_most_urgent_ready_beads() {
    let t = slinging_town("process");
    let mut by_priority = std::collections::BTreeMap::new();
    for p in ["3", "0", "2", "1"] {
        by_priority.insert(
            p,
            t.env.create(&format!("priority {p}"), &["--priority", p]),
        );
    }
    let dispatched = t.sling_json(&["--ready", "2", "repo"]);
    let slung: BTreeSet<&str> = dispatched
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["bead"].as_str().unwrap())
        .collect();
    assert_eq!(
        slung,
        BTreeSet::from([by_priority["0"].as_str(), by_priority["1"].as_str()]),
        "{dispatched}"
    );
    assert!(
        dispatched
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["outcome"] == "started"),
        "{dispatched}"
    );
    for p in ["0", "1"] {
        assert_eq!(t.bead(&by_priority[p])["status"], "hooked");
    }
    for p in ["2", "3"] {
        assert_eq!(t.bead(&by_priority[p])["status"], "open");
    }
}

#[test]
fn bad_input_is_one_line_and_changes_nothing() {
    let t = slinging_town("process");
    t.ok(&["add", "polecat"]);
    t.ok(&["add", "polecat"]);
    let open = t.env.create("open work", &[]);
    let closed = t.env.create("finished", &[]);
    t.env.bead_ok(&["close", &closed]);
    let hooked = t.env.create("taken", &[]);
    t.ok(&["hook", &hooked, "--to", FURIOSA]);
    // Two beads sharing the first character after the prefix make that an ambiguous prefix.
    let mut seen = std::collections::BTreeMap::new();
    let ambiguous = loop {
        let id = t.env.create("one of many", &[]);
        let first = id.trim_start_matches("ag-").chars().next().unwrap();
        if seen.insert(first, id).is_some() {
            break format!("ag-{first}");
        }
    };
    let before = t.refs();
    let agents_before = t.agents();
    let sling_cases: &[(&[&str], i32, &str)] = &[
        (&["ag-zzzz", "repo"], 1, "no bead matches 'ag-zzzz'"),
        (&[&ambiguous, "repo"], 1, "is ambiguous"),
        (&[&closed, "repo"], 1, &format!("bead {closed} is closed")),
        (
            &[&hooked, "repo"],
            4,
            &format!("bead {hooked} is on {FURIOSA}'s hook"),
        ),
        (
            &[&open, "nosuchrig"],
            1,
            "no rig, agent or bead named 'nosuchrig'",
        ),
        (
            &[&open, "repo/polecats/ghost"],
            1,
            "no agent repo/polecats/ghost",
        ),
        (
            &[&open, "repo", "--agent", "nope"],
            1,
            "unknown runtime 'nope'",
        ),
        (&[], 1, "nothing to sling"),
        (
            &["--ready", "2", &open],
            1,
            "--ready picks the beads itself",
        ),
    ];
    for (args, code, expected) in sling_cases {
        let (got, line) = t.sling_fails(args);
        assert_eq!(got, *code, "{args:?}: {line}");
        assert!(line.contains(expected), "{args:?}: {line}");
    }
    // done outside a sandbox, and with an empty hook.
    let (code, line) = t.fails(&["done"]);
    assert_eq!(code, 1);
    assert!(line.contains("not inside an agent's sandbox"), "{line}");
    let (code, line) = fails(
        t.agent_in(&t.sandbox("polecats", "nux"), &["done"]),
        &["done"],
    );
    assert_eq!(code, 1);
    assert!(line.contains("repo/polecats/nux's hook is empty"), "{line}");
    assert_eq!(t.refs(), before, "a refused command changed refs");
    assert_eq!(t.agents(), agents_before);
    assert_eq!(t.bead(&open)["status"], "open");
    assert!(!t.state_dir().join("sessions").exists() || live_by_locks(&t) == 0);
}

#[test]
fn sling_to_a_parked_rig_is_refused_and_changes_nothing() {
    let env = crate::support::Env::empty();
    let gastown = |dir: &std::path::Path, args: &[&str]| {
        crate::support::ok(env.run_in(dir, "gastown", args), args)
    };
    gastown(
        env.path(),
        &["init", env.path().join("town").to_str().unwrap()],
    );
    let town_dir = std::fs::canonicalize(env.path().join("town")).unwrap();
    let proj = env.path().join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    env.git_ok(&proj, &["init", "-q", "-b", "main"]);
    std::fs::write(proj.join("README"), "proj\n").unwrap();
    env.git_ok(&proj, &["add", "README"]);
    env.git_ok(&proj, &["commit", "-qm", "initial"]);
    gastown(
        &town_dir,
        &[
            "rig",
            "add",
            "proj",
            proj.to_str().unwrap(),
            "--prefix",
            "pj",
        ],
    );
    let made = crate::support::ok(
        env.run_in(&proj, "bead", &["create", "parked work", "--silent"]),
        &["create"],
    );
    let id = made.trim();
    gastown(&town_dir, &["rig", "park", "proj"]);
    let refs = |dir: &std::path::Path| {
        env.git_ok(dir, &["for-each-ref", "--format=%(refname) %(objectname)"])
    };
    let (town_before, rig_before) = (refs(&town_dir), refs(&proj));
    for (dir, args) in [(&town_dir, vec![id, "proj"]), (&proj, vec![id])] {
        let (code, line) = fails(env.run_in(dir, "sling", &args), &args);
        assert_eq!(code, 1, "{args:?}: {line}");
        assert!(line.contains("rig 'proj' is parked"), "{args:?}: {line}");
    }
    assert_eq!(
        (refs(&town_dir), refs(&proj)),
        (town_before, rig_before),
        "a refused sling changed refs"
    );
}

#[test]
fn handoff_in_a_session_starts_a_fresh_one_whose_prime_shows_the_note() {
    let t = town("process");
    t.ok(&["add", "polecat"]);
    let id = t.env.create("HANDOFF midway", &[]);
    t.ok(&["hook", &id, "--to", FURIOSA]);
    let first = t.json(&["start", FURIOSA, "--agent", "script"]);
    let first_pid = first["session"]["pid"].as_u64().unwrap();
    // The first session hands off; the successor (same runtime, same hook) reads the note.
    let prime_file = t.out_file("gt-repo-furiosa.prime.json");
    wait_until("the successor's prime", || {
        std::fs::read_to_string(&prime_file)
            .is_ok_and(|text| text.contains("note from the first session"))
    });
    let handed: Value =
        serde_json::from_slice(&std::fs::read(t.out_file("gt-repo-furiosa.handoff.json")).unwrap())
            .unwrap();
    assert_eq!(handed["note"]["text"], "note from the first session");
    assert_eq!(handed["note"]["hook"], id.as_str());
    assert_eq!(handed["replacement"], "detached");
    let primed: Value = serde_json::from_slice(&std::fs::read(&prime_file).unwrap()).unwrap();
    assert_eq!(primed["hook"]["id"], id.as_str());
    assert_eq!(primed["handoff"]["text"], "note from the first session");
    let session = t.session(FURIOSA);
    assert_eq!(session["alive"], true);
    assert_ne!(session["pid"].as_u64(), Some(first_pid), "a new session");
    assert_eq!(t.view(FURIOSA)["runtime"], "script");
    assert_eq!(t.view(FURIOSA)["hook"], id.as_str());
    let text = crate::support::ok(
        t.agent_in(&t.sandbox("polecats", "furiosa"), &["prime"]),
        &["prime"],
    );
    assert!(
        text.contains("## Handoff from your previous session\nnote from the first session"),
        "{text}"
    );
}

#[test]
fn handoff_without_a_note_leaves_a_pointer_to_the_hook_and_restarts_a_live_session() {
    let t = town("process");
    t.ok(&["add", "polecat"]);
    let id = t.env.create("long work", &[]);
    t.ok(&["hook", &id, "--to", FURIOSA]);
    let sandbox = t.sandbox("polecats", "furiosa");
    let mut child = t
        .env
        .command(&binary("git-agent"), &sandbox)
        .args(["handoff", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"hook_event_name":"PreCompact","trigger":"auto"}"#)
        .unwrap();
    let out = crate::support::ok(child.wait_with_output().unwrap(), &["handoff"]);
    let handed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        handed["replacement"], "none",
        "no session runs: nothing to restart"
    );
    let note = handed["note"]["text"].as_str().unwrap();
    assert!(note.contains(&format!("while working on {id}")), "{note}");
    assert_eq!(t.json_in(&sandbox, &["prime"])["handoff"]["text"], note);
    // For another agent's live session, handoff restarts it in place (its runtime kept).
    let first = t.json(&["start", FURIOSA, "--agent", "script"])["session"]["pid"].as_u64();
    let handed = t.json(&["handoff", FURIOSA, "-m", "from outside"]);
    assert_eq!(handed["replacement"], "restart");
    let session = t.session(FURIOSA);
    assert_eq!(session["alive"], true);
    assert_ne!(session["pid"].as_u64(), first, "a new session");
    assert_eq!(t.view(FURIOSA)["handoff"]["text"], "from outside");
    // Outside a sandbox, with no agent named: one line, nothing changed.
    let before = t.refs();
    let (code, line) = t.fails(&["handoff", "-m", "x"]);
    assert_eq!(code, 1);
    assert!(line.contains("not inside an agent's sandbox"), "{line}");
    assert_eq!(t.refs(), before);
}
