//! `git agent` end to end: real binaries on a lone repository (a town of one rig, named
//! `repo` from its directory), sandboxes as real worktrees, and sessions of a scripted
//! runtime on both session backends (`support::scripted`). Every process a test starts is
//! killed by `Cleanup`, whether the test passes or not.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::assert_one_line_error;
use crate::support::scripted::{
    binary, field, group_gone, kill_group, read_env_file, tmux_present, town, wait_until,
};
use serde_json::Value;

const FURIOSA: &str = "repo/polecats/furiosa";
const NUX: &str = "repo/polecats/nux";

#[test]
fn names_from_the_pool_are_unique_under_eight_concurrent_adds() {
    let t = town("process");
    let children: Vec<_> = (0..8)
        .map(|_| {
            t.env
                .command(&binary("git-agent"), &t.repo())
                .args(["add", "polecat", "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut names = std::collections::BTreeSet::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let text = crate::support::ok(out, &["add", "polecat"]);
        let agent: Value = serde_json::from_str(&text).unwrap();
        names.insert(agent["name"].as_str().unwrap().to_string());
    }
    assert_eq!(names.len(), 8, "{names:?}");
    let listed = t.json(&["list"]);
    assert_eq!(listed.as_array().unwrap().len(), 8);
    let worktrees = t.git(&["worktree", "list", "--porcelain"]);
    for name in &names {
        let path = t.sandbox("polecats", name);
        assert!(
            worktrees.contains(&format!("worktree {}\n", path.display())),
            "{name} is no worktree: {worktrees}"
        );
        assert!(worktrees.contains(&format!("branch refs/heads/polecat/{name}\n")));
    }
}

#[test]
fn sandboxes_are_worktrees_on_their_own_branch_sharing_the_rig_store() {
    let t = town("process");
    let added = t.json(&["add", "polecat"]);
    assert_eq!(added["address"], FURIOSA, "the pool's first name");
    assert_eq!(added["branch"], "polecat/furiosa");
    let crew = t.json(&["add", "crew", "max"]);
    assert_eq!(crew["address"], "repo/crew/max");
    let sandbox = t.sandbox("polecats", "furiosa");
    assert_eq!(added["sandbox"], sandbox.to_str().unwrap());
    let worktrees = t.git(&["worktree", "list", "--porcelain"]);
    assert!(
        worktrees.contains(&format!("worktree {}\nHEAD", sandbox.display())),
        "{worktrees}"
    );
    assert!(worktrees.contains("branch refs/heads/polecat/furiosa"));
    assert!(worktrees.contains("branch refs/heads/crew/max"));
    // The sandbox is outside the rig's working tree: the rig sees nothing new.
    assert_eq!(t.git(&["status", "--porcelain"]), "");

    // A bead made in the sandbox is the rig's bead.
    let made = t.env.run_in(
        &sandbox,
        "bead",
        &["create", "made in the sandbox", "--silent"],
    );
    let id = crate::support::ok(made, &["create"]).trim().to_string();
    assert_eq!(t.bead(&id)["title"], "made in the sandbox");
    // The same name again is refused.
    let (code, line) = t.fails(&["add", "crew", "max"]);
    assert_eq!(code, 1);
    assert!(
        line.contains("agent repo/crew/max already exists"),
        "{line}"
    );
}

#[test]
fn prime_inside_a_sandbox_names_the_agent_and_shows_the_hooked_bead() {
    let t = town("process");
    t.ok(&["add", "polecat"]);
    let id = t
        .env
        .create("Fix the carburettor", &["--description", "it sputters"]);
    let sandbox = t.sandbox("polecats", "furiosa");
    // `hook BEAD` in the sandbox attaches to the sandbox's own agent, by a unique prefix.
    let short = id.trim_start_matches("ag-");
    let hooked = t.json_in(&sandbox, &["hook", short]);
    assert_eq!(hooked["bead"], id);
    assert_eq!(hooked["agent"], FURIOSA);

    let primed = t.json_in(&sandbox, &["prime"]);
    assert_eq!(primed["agent"]["address"], FURIOSA);
    assert_eq!(primed["hook"]["id"], id);
    assert_eq!(primed["hook"]["description"], "it sputters");
    assert_eq!(primed["hook"]["status"], "hooked");
    let text = crate::support::ok(t.agent_in(&sandbox, &["prime"]), &["prime"]);
    assert!(
        text.starts_with(&format!("# You are {FURIOSA} (polecat)")),
        "{text}"
    );
    assert!(text.contains(&format!("## On your hook: {id} — Fix the carburettor")));
    let mine = t.json_in(&sandbox, &["hook"]);
    assert_eq!(mine["hook"]["id"], id);
    // Outside the sandbox GT_AGENT names the agent.
    let out = t
        .env
        .command(&binary("git-agent"), &t.repo())
        .args(["prime", "--json"])
        .env("GT_AGENT", FURIOSA)
        .output()
        .unwrap();
    let primed: Value = serde_json::from_str(&crate::support::ok(out, &["prime"])).unwrap();
    assert_eq!(primed["agent"]["address"], FURIOSA);

    // As the SessionStart hook: the runtime's session id is kept, on the record once.
    let hook_prime = |input: &str| {
        let mut child = t
            .env
            .command(&binary("git-agent"), &sandbox)
            .args(["prime", "--hook"])
            .env("GT_RUNTIME", "claude")
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
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let answer: Value =
            serde_json::from_str(&crate::support::ok(out, &["prime", "--hook"])).unwrap();
        answer
    };
    let answer =
        hook_prime(r#"{"session_id":"rt-1","hook_event_name":"SessionStart","source":"startup"}"#);
    assert_eq!(
        answer["hookSpecificOutput"]["hookEventName"],
        "SessionStart"
    );
    let context = answer["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap();
    assert!(
        context.contains(FURIOSA) && context.contains(&id),
        "{context}"
    );
    assert_eq!(t.view(FURIOSA)["runtime_session_id"], "rt-1");
    let saved: Value = serde_json::from_slice(
        &std::fs::read(t.state_dir().join("sessions/gt-repo-furiosa.runtime.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (saved["id"].as_str(), saved["runtime"].as_str()),
        (Some("rt-1"), Some("claude"))
    );
    assert!(t
        .state_dir()
        .join("activity/repo+polecats+furiosa.last")
        .is_file());
    let before = t.refs();
    hook_prime(r#"{"session_id":"rt-1"}"#);
    assert_eq!(
        t.refs(),
        before,
        "the same session id again commits nothing"
    );
}

#[test]
fn hooks_never_fail_the_turn() {
    let t = town("process");
    let outside = t.env.path().to_path_buf();
    for args in [
        &["prime", "--hook"][..],
        &["activity", "--hook", "working"],
        &["activity", "--hook", "bogus"],
    ] {
        let out = t.agent_in(&outside, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !out.stderr.is_empty(),
            "{args:?} says what went wrong on stderr"
        );
        if args[0] == "prime" {
            let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert!(answer["hookSpecificOutput"]["additionalContext"]
                .as_str()
                .unwrap()
                .contains("could not prime"));
        }
    }
}

#[test]
fn hook_attach_of_one_bead_to_two_agents_concurrently_has_one_winner() {
    let t = town("process");
    t.ok(&["add", "polecat"]);
    t.ok(&["add", "polecat"]);
    for round in 0..3 {
        let id = t.env.create(&format!("contested {round}"), &[]);
        let spawn = |to: &str| {
            t.env
                .command(&binary("git-agent"), &t.repo())
                .args(["hook", &id, "--to", to])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(FURIOSA), spawn(NUX));
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let codes = (a.status.code().unwrap(), b.status.code().unwrap());
        let (winner, loser, lost) = match codes {
            (0, 4) => (FURIOSA, NUX, b),
            (4, 0) => (NUX, FURIOSA, a),
            other => panic!("expected exactly one winner, got exit codes {other:?}"),
        };
        let line = String::from_utf8(lost.stderr).unwrap();
        assert_one_line_error(&line);
        assert!(
            line.contains(&format!("bead {id} is on {winner}'s hook")),
            "{line}"
        );
        let bead = t.bead(&id);
        assert_eq!(
            (bead["status"].as_str(), bead["assignee"].as_str()),
            (Some("hooked"), Some(winner))
        );
        assert_eq!(t.view(winner)["hook"], id.as_str());
        assert!(t.view(loser)["hook"].is_null());
        // Free both for the next round.
        t.ok(&["unhook", winner]);
        let bead = t.bead(&id);
        assert_eq!(bead["status"], "open");
        assert!(bead["assignee"].is_null());
    }
}

#[test]
fn nuke_refuses_dirty_and_unmerged_work_then_succeeds_with_force() {
    let t = town("process");
    t.ok(&["add", "polecat"]);
    let sandbox = t.sandbox("polecats", "furiosa");
    std::fs::write(sandbox.join("notes.txt"), "precious\n").unwrap();
    let before = t.refs();
    let (code, line) = t.fails(&["nuke", FURIOSA]);
    assert_eq!(code, 1);
    assert!(line.contains("1 uncommitted file(s) (notes.txt)"), "{line}");
    assert!(line.contains("--force"), "{line}");
    assert_eq!(t.refs(), before);
    assert!(sandbox.join("notes.txt").is_file());

    t.env.git_ok(&sandbox, &["add", "notes.txt"]);
    t.env.git_ok(&sandbox, &["commit", "-qm", "keep me"]);
    let (_, line) = t.fails(&["nuke", FURIOSA]);
    assert!(
        line.contains("1 unmerged commit(s) (") && line.contains(" keep me)"),
        "{line}"
    );
    assert!(!line.contains("uncommitted"), "{line}");
    assert_eq!(t.view(FURIOSA)["state"], "idle");
    assert!(sandbox.is_dir());

    let nuked = t.json(&["nuke", FURIOSA, "--force"]);
    assert_eq!(
        nuked["discarded"]["unmerged_commits"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(!sandbox.exists());
    assert!(!t.git(&["branch", "--list"]).contains("polecat/furiosa"));
    assert!(!t.git(&["worktree", "list"]).contains("furiosa"));
    assert_eq!(t.json(&["list"]).as_array().unwrap().len(), 0);
    assert_eq!(t.json(&["list", "--all"])[0]["state"], "nuked");
    // The name is free again.
    assert_eq!(t.json(&["add", "polecat"])["address"], FURIOSA);
}

#[test]
fn done_killed_at_any_moment_then_run_again_makes_exactly_one_merge_request() {
    let t = town("process");
    t.ok(&["add", "polecat"]);
    let sandbox = t.sandbox("polecats", "furiosa");
    let git_agent = crate::support::bin_dir().join("git-agent");
    let mut clean_run = Duration::from_millis(100);
    for round in 0..6u32 {
        let id = t.env.create(&format!("work {round}"), &[]);
        t.ok(&["hook", &id, "--to", FURIOSA]);
        std::fs::write(sandbox.join(format!("f{round}.txt")), "x\n").unwrap();
        t.env.git_ok(&sandbox, &["add", "."]);
        t.env
            .git_ok(&sandbox, &["commit", "-qm", &format!("work {round}")]);
        let tip = t
            .env
            .git_ok(&sandbox, &["rev-parse", "HEAD"])
            .trim()
            .to_string();
        if round == 0 {
            // Uninterrupted, to learn how long a done takes here.
            let start = Instant::now();
            crate::support::ok(t.agent_in(&sandbox, &["done"]), &["done"]);
            clean_run = start.elapsed();
        } else {
            let mut child = t
                .env
                .command(git_agent.to_str().unwrap(), &sandbox)
                .arg("done")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // Kill at a different point of its run each round.
            std::thread::sleep(clean_run * round / 6);
            let _ = child.kill();
            let _ = child.wait();
            let again = t.agent_in(&sandbox, &["done", "--json"]);
            if !again.status.success() {
                // The killed run had finished everything: nothing is left to hand in.
                let line = String::from_utf8_lossy(&again.stderr);
                assert!(line.contains("hook is empty"), "round {round}: {line}");
            }
        }
        let mrs: Vec<Value> = t
            .merge_requests()
            .into_iter()
            .filter(|mr| field(mr, "bead") == id.as_str())
            .collect();
        assert_eq!(mrs.len(), 1, "round {round}: {mrs:?}");
        assert_eq!(field(&mrs[0], "commit"), tip.as_str());
        assert_eq!(t.bead(&id)["status"], "in_progress");
        let agent = t.view(FURIOSA);
        assert!(agent["hook"].is_null(), "round {round}: {agent}");
        assert_eq!(agent["state"], "idle");
        assert!(
            !t.state_dir().join("done/gt-repo-furiosa.json").exists(),
            "intent left behind"
        );
    }
    assert_eq!(t.merge_requests().len(), 6);
}

#[test]
fn bad_input_is_one_line_and_changes_nothing() {
    let t = town("process");
    t.ok(&["add", "polecat"]);
    let bead = t.env.create("a bead", &[]);
    t.env.git_ok(
        &t.repo(),
        &[
            "config",
            "gastown.runtime.ghost.command",
            "/nonexistent/ghost-cli",
        ],
    );
    let before = t.refs();
    let cases: &[(&[&str], &str)] = &[
        (&["show", "repo/polecats/ghost"], "no agent repo/polecats/ghost"),
        (&["start", "repo/polecats/ghost", "--agent", "script"], "no agent repo/polecats/ghost"),
        (&["nuke", "repo/ghost"], "no agent named 'repo/ghost'"),
        (&["start", "../x"], "bad agent address '../x'"),
        (&["show", "../x"], "bad agent address '../x'"),
        (&["hook", &bead, "--to", "../x"], "bad agent address '../x'"),
        (&["add", "polecat", "Bad/Name"], "bad agent name"),
        (&["add", "crew", "max", "--rig", "elsewhere"], "no rig named 'elsewhere'"),
        (&["hook", "ag-zzzz", "--to", FURIOSA], "no bead matches 'ag-zzzz'"),
        (&["done", "--status", "finished"], "unknown done status 'finished'"),
        (
            &["start", FURIOSA, "--agent", "ghost"],
            "needs '/nonexistent/ghost-cli', which is not on PATH; install it or run `git config gastown.runtime.ghost.command /path/to/",
        ),
        (&["start", FURIOSA, "--agent", "nope"], "unknown runtime 'nope'"),
    ];
    for (args, expected) in cases {
        let (code, line) = t.fails(args);
        assert_eq!(code, 1, "{args:?}: {line}");
        assert!(line.contains(expected), "{args:?}: {line}");
    }
    // --json errors are JSON on stdout too.
    let out = t.agent(&["show", "../x", "--json"]);
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["kind"], "invalid");
    assert_eq!(t.refs(), before, "a refused command changed refs");
    assert!(!t.state_dir().join("sessions/gt-repo-furiosa.json").exists());
    assert!(t.view(FURIOSA)["runtime"].is_null());
}

#[test]
fn runtimes_lists_presets_and_configured_commands() {
    let t = town("process");
    let all = t.json(&["runtimes"]);
    let by_name = |name: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {all}"))
            .clone()
    };
    for preset in [
        "claude",
        "codex",
        "gemini",
        "copilot",
        "opencode",
        "cursor-agent",
        "amp",
        "auggie",
    ] {
        assert_eq!(by_name(preset)["configured"], false);
    }
    let script = by_name("script");
    assert_eq!(
        (script["on_path"].as_bool(), script["prompt"].as_str()),
        (Some(true), Some("arg"))
    );
    assert_eq!(by_name("scriptin")["prompt"], "stdin");
    assert_eq!(by_name("scriptin")["args"][0], "--from-stdin");
    assert_eq!(by_name("claude")["hooks"], "claude");
    let text = t.ok(&["runtimes"]);
    assert!(
        text.lines()
            .any(|l| l.starts_with("script ") && l.contains("prompt by argument")),
        "{text}"
    );
}

/// Start, environment, prompt by argument, peek, list, activity, refusal of a second
/// start, restart, SIGKILL shows dead at once, attach, nuke stops a live session.
fn lifecycle(backend: &str) {
    let t = town(backend);
    t.ok(&["add", "polecat"]);
    let id = t.env.create("Tune the engine", &[]);
    t.ok(&["hook", &id, "--to", FURIOSA]);
    let prompt = r#"it's $HOME; "quoted" & `more` -- end;"#;
    let started = t.json(&["start", FURIOSA, "--agent", "script", "--prompt", prompt]);
    assert_eq!(started["session"]["backend"]["kind"], backend);
    let env_file = t.out_file("gt-repo-furiosa.env");
    wait_until("the runtime's environment file", || env_file.is_file());
    let seen = read_env_file(&env_file);
    let repo = t.repo();
    let expect = [
        ("GT_ROOT", repo.to_str().unwrap()),
        ("GT_RIG", "repo"),
        ("GT_ROLE", "polecat"),
        ("GT_AGENT", FURIOSA),
        ("GT_ACTOR", FURIOSA),
        ("BD_ACTOR", FURIOSA),
        ("GIT_AUTHOR_NAME", FURIOSA),
        ("GIT_AUTHOR_EMAIL", "repo.polecats.furiosa@gastown.local"),
        ("GT_SESSION", "gt-repo-furiosa"),
        ("GT_RUNTIME", "script"),
        ("prompt", prompt),
    ];
    for (key, value) in expect {
        assert_eq!(
            seen.get(key).map(String::as_str),
            Some(value),
            "{key} in {seen:?}"
        );
    }
    let sandbox = t.sandbox("polecats", "furiosa");
    assert_eq!(seen["cwd"], sandbox.to_str().unwrap());
    // The runtime read its hook from inside its sandbox.
    let prime_file = t.out_file("gt-repo-furiosa.prime.json");
    wait_until("the runtime's prime", || {
        std::fs::metadata(&prime_file).is_ok_and(|m| m.len() > 0)
    });
    let primed: Value = serde_json::from_slice(&std::fs::read(&prime_file).unwrap()).unwrap();
    assert_eq!(
        (
            primed["agent"]["address"].as_str(),
            primed["hook"]["id"].as_str()
        ),
        (Some(FURIOSA), Some(id.as_str()))
    );
    assert_eq!(t.view(FURIOSA)["state"], "working");

    wait_until("hello in peek", || {
        t.ok(&["peek", FURIOSA])
            .contains("hello from gt-repo-furiosa")
    });
    let session = t.session(FURIOSA);
    assert_eq!(
        (session["alive"].as_bool(), session["backend"].as_str()),
        (Some(true), Some(backend))
    );
    let listed = t.ok(&["list"]);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(FURIOSA) && l.contains(&format!("alive ({backend})"))),
        "{listed}"
    );

    // Activity from a hook (GT_AGENT names the agent outside its sandbox).
    let out = t
        .env
        .command(&binary("git-agent"), &t.repo())
        .args(["activity", "--hook", "working"])
        .env("GT_AGENT", FURIOSA)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let session = t.session(FURIOSA);
    assert_eq!(session["working_state"], "working");
    assert!(session["last_activity"].is_string());

    // A second start is refused in one line and leaves the session as it was.
    let pid = session["pid"].as_u64().unwrap();
    let (code, line) = t.fails(&["start", FURIOSA, "--agent", "script"]);
    assert_eq!(code, 4);
    assert!(line.contains("already running"), "{line}");
    assert_eq!(t.session(FURIOSA)["pid"].as_u64(), Some(pid));
    assert_eq!(t.session(FURIOSA)["alive"], true);

    // Attach: tmux gives its command; the process backend has no terminal to join.
    if backend == "tmux" {
        let attach = t.json(&["attach", FURIOSA]);
        let words: Vec<&str> = attach["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap())
            .collect();
        assert_eq!(words[0], "tmux");
        assert!(
            words.contains(&"attach-session") && words.contains(&"=gt-repo-furiosa"),
            "{words:?}"
        );
    } else {
        let (_, line) = t.fails(&["attach", FURIOSA]);
        assert!(line.contains("process backend"), "{line}");
    }

    // Restart: a new process with the new prompt.
    std::fs::remove_file(&env_file).unwrap();
    let restarted = t.json(&[
        "restart", FURIOSA, "--agent", "script", "--prompt", "second",
    ]);
    let new_pid = restarted["session"]["pid"].as_u64().unwrap();
    assert_ne!(new_pid, pid);
    wait_until("the restarted runtime", || env_file.is_file());
    assert_eq!(read_env_file(&env_file)["prompt"], "second");

    // SIGKILL to the session: dead at the very next list.
    kill_group(new_pid);
    wait_until("the killed processes to exit", || group_gone(new_pid));
    assert_eq!(t.session(FURIOSA)["alive"], false);
    let listed = t.ok(&["list"]);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(FURIOSA) && l.contains("dead")),
        "{listed}"
    );

    // Start again, then nuke --force stops the live session first.
    t.ok(&["start", FURIOSA, "--agent", "script", "--prompt", "third"]);
    assert_eq!(t.session(FURIOSA)["alive"], true);
    let nuked = t.json(&["nuke", FURIOSA, "--force"]);
    assert_eq!(nuked["session_stopped"], true);
    assert_eq!(nuked["released"], id.as_str());
    assert_eq!(t.bead(&id)["status"], "open");
    assert!(!sandbox.exists());
    let all = t.json(&["list", "--all"]);
    assert_eq!(all[0]["session"]["alive"], false);
}

/// The prompt on standard input (a file under the process backend, typed into the pane
/// under tmux).
fn prompt_on_stdin(backend: &str) {
    let t = town(backend);
    t.ok(&["add", "crew", "max"]);
    let prompt = "read me from stdin; $(not run) 'x'";
    t.ok(&[
        "start",
        "repo/crew/max",
        "--agent",
        "scriptin",
        "--prompt",
        prompt,
    ]);
    let env_file = t.out_file("gt-repo-crew-max.env");
    wait_until("the runtime's environment file", || env_file.is_file());
    let seen = read_env_file(&env_file);
    assert_eq!(seen["prompt"], prompt);
    assert_eq!(seen["GT_ROLE"], "crew");
    assert_eq!(seen["GT_AGENT"], "repo/crew/max");
    assert!(!seen.contains_key("GT_RUNTIME_X"));
    t.ok(&["stop", "repo/crew/max"]);
    assert_eq!(t.session("repo/crew/max")["alive"], false);
}

/// The runtime commits and runs `git agent done`: one merge request with its commit, the
/// bead in progress, the agent idle with an empty hook, and its session ended by done.
fn done_in_a_session(backend: &str) {
    let t = town(backend);
    t.ok(&["add", "polecat"]);
    let id = t.env.create("Do the work", &[]);
    t.ok(&["hook", &id, "--to", FURIOSA]);
    t.ok(&[
        "start",
        FURIOSA,
        "--agent",
        "script",
        "--prompt",
        "DO-WORK now",
    ]);
    wait_until("done to end the session", || {
        t.session(FURIOSA)["alive"] == false && !t.merge_requests().is_empty()
    });
    let report: Value =
        serde_json::from_slice(&std::fs::read(t.out_file("gt-repo-furiosa.done.json")).unwrap())
            .unwrap_or_else(|e| {
                panic!(
                    "done's report: {e}; stderr: {}",
                    std::fs::read_to_string(t.out_file("gt-repo-furiosa.done.err"))
                        .unwrap_or_default()
                )
            });
    assert_eq!(report["created_merge_request"], true);
    let tip = t.git(&["rev-parse", "polecat/furiosa"]).trim().to_string();
    let log = t.git(&["log", "-1", "--format=%an %s", &tip]);
    assert_eq!(log.trim(), format!("{FURIOSA} the work"));
    let mrs = t.merge_requests();
    assert_eq!(mrs.len(), 1, "{mrs:?}");
    assert_eq!(field(&mrs[0], "commit"), tip.as_str());
    assert_eq!(field(&mrs[0], "bead"), id.as_str());
    assert_eq!(field(&mrs[0], "worker"), FURIOSA);
    assert_eq!(report["merge_request"]["id"], mrs[0]["id"]);
    assert_eq!(t.bead(&id)["status"], "in_progress");
    let agent = t.view(FURIOSA);
    assert!(agent["hook"].is_null());
    assert_eq!(agent["state"], "idle");
    assert_eq!(agent["completions"][0]["bead"], id.as_str());
    // The handed-in work is safe: nuke has nothing to refuse.
    t.ok(&["nuke", FURIOSA]);
}

#[test]
fn process_backend_lifecycle() {
    lifecycle("process");
}

#[test]
fn tmux_backend_lifecycle() {
    if tmux_present() {
        lifecycle("tmux");
    }
}

#[test]
fn process_backend_prompt_on_stdin() {
    prompt_on_stdin("process");
}

#[test]
fn tmux_backend_prompt_on_stdin() {
    if tmux_present() {
        prompt_on_stdin("tmux");
    }
}

#[test]
fn process_backend_done_in_a_session() {
    done_in_a_session("process");
}

#[test]
fn tmux_backend_done_in_a_session() {
    if tmux_present() {
        done_in_a_session("tmux");
    }
}

/// The whole propulsion loop with the merge queue on (its default): the agent's `done`
/// starts a detached merge pass, which merges the work into `main` and closes the bead,
/// with no cron and no command from anyone.
#[test]
fn done_starts_a_merge_pass_that_lands_the_work() {
    let t = town("process");
    t.config_set("merge_queue.auto", "true");
    t.ok(&["add", "polecat"]);
    let id = t.env.create("Land the work", &[]);
    t.ok(&["hook", &id, "--to", FURIOSA]);
    t.ok(&[
        "start",
        FURIOSA,
        "--agent",
        "script",
        "--prompt",
        "DO-WORK now",
    ]);
    wait_until("the merge pass to close the bead", || {
        t.bead(&id)["status"] == "closed"
    });
    let landed = t.git(&["show", "main:work.txt"]);
    assert!(
        landed.starts_with(&format!("work of {FURIOSA}")),
        "{landed}"
    );
    let mrs = t.merge_requests();
    assert_eq!(mrs.len(), 1, "{mrs:?}");
    assert_eq!(field(&mrs[0], "status"), "merged");
    // main's checkout (clean) was brought along, as git's updateInstead would.
    assert_eq!(
        std::fs::read_to_string(t.repo().join("work.txt")).unwrap(),
        landed
    );
}
