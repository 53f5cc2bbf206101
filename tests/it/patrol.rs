//! `git patrol` (docs/PATROL.md) end to end, with the scripted runtime
//! (`support::scripted`) on a lone repository (a town of one rig named `repo`): a polecat
//! killed with SIGKILL is restarted on the same sandbox and hook three times and released
//! at the fourth death; a session whose bead was closed is stopped with its sandbox kept;
//! two concurrent passes act once; a quiet pass writes nothing; an interrupted `done` is
//! finished; a dead session's dirty sandbox is checkpointed; stale hooks are released; a
//! town with a missing rig, corrupt files or a sandbox deleted by hand is reported, repaired
//! where safe, and never crashes a pass.

use std::process::Stdio;

use serde_json::Value;

use crate::support::scripted::{
    binary, group_gone, kill_group, read_env_file, tmux_present, town, wait_until, Town,
};

const FURIOSA: &str = "repo/polecats/furiosa";

fn patrol_town(backend: &str) -> Town {
    let t = town(backend);
    t.config_set("agent.default", "script");
    t
}

/// `git patrol ARGS --json`: (exit code, report).
fn patrol(t: &Town, args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.push("--json");
    let out = t.tool_in(&t.repo(), "patrol", &all);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "patrol {args:?}: {e}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

/// Every finding of a report (rigs and town).
fn findings(report: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = report["rigs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["findings"].as_array().unwrap().clone())
        .collect();
    out.extend(report["town"].as_array().unwrap().iter().cloned());
    out
}

fn with_class(report: &Value, class: &str) -> Vec<Value> {
    findings(report)
        .into_iter()
        .filter(|f| f["class"] == class)
        .collect()
}

/// Sling a bead that keeps its session busy (the script sleeps) and wait for the session.
fn slung(t: &Town, title: &str) -> (String, u64) {
    let id = t.env.create(title, &[]);
    let out = t.sling_json(&[&id, "repo"]);
    assert_eq!(out[0]["outcome"], "started", "{out}");
    let env_file = t.out_file("gt-repo-furiosa.env");
    wait_until("the session's environment file", || env_file.is_file());
    let pid = t.session(FURIOSA)["pid"].as_u64().unwrap();
    (id, pid)
}

fn kill(t: &Town, pid: u64) {
    kill_group(pid);
    wait_until("the killed session to end", || group_gone(pid));
    assert_eq!(t.session(FURIOSA)["alive"], false);
}

fn bead_field(t: &Town, id: &str, key: &str) -> Value {
    let path = gastown::bead::id::record_path(id);
    let text = t.git(&["show", &format!("refs/gastown/beads:{path}")]);
    let record: Value = serde_json::from_str(&text).unwrap();
    record["fields"][key]["v"].clone()
}

/// SIGKILL three times: each time the next pass restarts the session on the same sandbox
/// and hook (a new process, the death counted on the bead); the fourth death releases the
/// bead (back to open, the hook empty, no session) instead.
fn killed_polecat_is_restarted_three_times_then_released(backend: &str) {
    let t = patrol_town(backend);
    let (id, mut pid) = slung(&t, "Tune the engine");
    let sandbox = t.sandbox("polecats", "furiosa");
    let env_file = t.out_file("gt-repo-furiosa.env");
    for death in 1..=3u64 {
        kill(&t, pid);
        std::fs::remove_file(&env_file).unwrap();
        let (code, report) = patrol(&t, &[]);
        assert_eq!(code, 0, "{report}");
        let dead = with_class(&report, "dead-session-hooked");
        assert_eq!(dead.len(), 1, "{report}");
        assert_eq!(
            (dead[0]["action"].as_str(), dead[0]["outcome"].as_str()),
            (Some("restart"), Some("done")),
            "{report}"
        );
        assert_eq!(dead[0]["bead"], id.as_str());
        let session = t.session(FURIOSA);
        assert_eq!(session["alive"], true, "after death {death}");
        let new_pid = session["pid"].as_u64().unwrap();
        assert_ne!(new_pid, pid);
        pid = new_pid;
        // Same sandbox, same hook: the restarted runtime ran in it and read it.
        wait_until("the restarted runtime", || env_file.is_file());
        let seen = read_env_file(&env_file);
        assert_eq!(seen["cwd"], sandbox.to_str().unwrap());
        assert_eq!(t.view(FURIOSA)["hook"], id.as_str());
        assert_eq!(t.bead(&id)["status"], "hooked");
        assert_eq!(bead_field(&t, &id, "session_deaths"), death);
        // A pass right after sees a healthy session: nothing to do, nothing written.
        let before = t.refs();
        let (_, quiet) = patrol(&t, &[]);
        assert_eq!(quiet["actions"], 0, "{quiet}");
        assert_eq!(t.refs(), before);
    }
    kill(&t, pid);
    let (code, report) = patrol(&t, &[]);
    assert_eq!(code, 0, "{report}");
    let dead = with_class(&report, "dead-session-hooked");
    assert_eq!(dead.len(), 1, "{report}");
    assert_eq!(
        (dead[0]["action"].as_str(), dead[0]["outcome"].as_str()),
        (Some("escalate-release"), Some("done")),
        "{report}"
    );
    let escalations = t.env.json_in(&t.repo(), "escalate", &["list"]);
    let ours: Vec<&Value> = escalations
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["bead"] == id.as_str())
        .collect();
    assert_eq!(ours.len(), 1, "{escalations}");
    assert_eq!(ours[0]["category"], "lifecycle");
    assert_eq!(bead_field(&t, &id, "session_deaths"), 4);
    let bead = t.bead(&id);
    assert_eq!(bead["status"], "open", "{bead}");
    assert!(bead["assignee"].is_null(), "{bead}");
    assert!(t.view(FURIOSA)["hook"].is_null());
    assert_eq!(t.session(FURIOSA)["alive"], false);
    assert!(sandbox.is_dir(), "the sandbox is kept");
    // Released work is not restarted again, and automatic dispatch leaves it alone (it
    // would only kill another session and escalate again); a person slings it by name.
    let (_, after) = patrol(&t, &[]);
    assert!(
        with_class(&after, "dead-session-hooked").is_empty(),
        "{after}"
    );
    let (code, line) = t.sling_fails(&["--ready", "3", "repo"]);
    assert_eq!(code, 1, "{line}");
    assert!(line.contains("no ready, unassigned beads"), "{line}");
    let other = t.env.create("Someone else's work", &[]);
    let picked = t.sling_json(&["--ready", "3", "repo"]);
    let picked: Vec<&str> = picked
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["bead"].as_str().unwrap())
        .collect();
    assert_eq!(picked, [other.as_str()]);
}

#[test]
fn process_backend_killed_polecat_is_restarted_three_times_then_released() {
    killed_polecat_is_restarted_three_times_then_released("process");
}

#[test]
fn tmux_backend_killed_polecat_is_restarted_three_times_then_released() {
    if tmux_present() {
        killed_polecat_is_restarted_three_times_then_released("tmux");
    }
}

/// A bead closed while its session runs: the pass stops the session, clears the hook and
/// keeps the sandbox (and what is in it).
#[test]
fn a_session_whose_bead_was_closed_is_stopped_and_its_sandbox_kept() {
    let t = patrol_town("process");
    let (id, pid) = slung(&t, "Paint the fence");
    let sandbox = t.sandbox("polecats", "furiosa");
    std::fs::write(sandbox.join("notes.txt"), "half done\n").unwrap();
    t.env
        .bead_ok(&["close", &id, "--reason", "not needed any more"]);
    let (code, report) = patrol(&t, &[]);
    assert_eq!(code, 0, "{report}");
    let closed = with_class(&report, "bead-closed-while-running");
    assert_eq!(closed.len(), 1, "{report}");
    assert_eq!(closed[0]["outcome"], "done", "{report}");
    wait_until("the stopped session", || group_gone(pid));
    assert_eq!(t.session(FURIOSA)["alive"], false);
    assert!(t.view(FURIOSA)["hook"].is_null());
    assert_eq!(
        std::fs::read_to_string(sandbox.join("notes.txt")).unwrap(),
        "half done\n"
    );
    assert_eq!(t.bead(&id)["status"], "closed");
}

/// Two passes started together over one dead session: one restart, one death counted.
#[test]
fn two_concurrent_patrols_act_once() {
    let t = patrol_town("process");
    let (id, pid) = slung(&t, "Sweep the yard");
    kill(&t, pid);
    let spawn = || {
        t.env
            .command(&binary("git-patrol"), &t.repo())
            .arg("--json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let mut restarts = 0;
    let mut skipped = 0;
    for out in &outs {
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        if report["skipped"].is_string() {
            skipped += 1;
            assert!(
                report["skipped"]
                    .as_str()
                    .unwrap()
                    .contains("a patrol is running"),
                "{report}"
            );
        }
        restarts += with_class(&report, "dead-session-hooked")
            .iter()
            .filter(|f| f["outcome"] == "done")
            .count();
    }
    assert_eq!(restarts, 1, "{outs:?}");
    assert!(skipped <= 1);
    assert_eq!(bead_field(&t, &id, "session_deaths"), 1);
    assert_eq!(t.session(FURIOSA)["alive"], true);
    assert_eq!(t.alive_sessions(), 1);
}

/// A pass over a town where everything is healthy (a working session, an idle polecat,
/// open beads) acts on nothing and writes nothing: no ref moves, no mail.
#[test]
fn a_no_op_patrol_writes_nothing() {
    let t = patrol_town("process");
    let (_id, _pid) = slung(&t, "Watch the gauges");
    t.ok(&["add", "polecat", "nux"]);
    t.env.create("Later work", &[]);
    let before = t.refs();
    for _ in 0..2 {
        let (code, report) = patrol(&t, &[]);
        assert_eq!(code, 0, "{report}");
        assert_eq!(report["actions"], 0, "{report}");
        assert_eq!(report["failures"], 0, "{report}");
        assert_eq!(report["rigs"][0]["polecats"], 2, "{report}");
    }
    assert_eq!(t.refs(), before, "a quiet pass moved a ref");
    assert!(!t.refs().contains("refs/gastown/mail"), "{}", t.refs());
}

/// `--dry-run` reports the restart it would make and changes nothing.
#[test]
fn a_dry_run_plans_and_changes_nothing() {
    let t = patrol_town("process");
    let (_id, pid) = slung(&t, "Check the tyres");
    kill(&t, pid);
    let before = t.refs();
    let (code, report) = patrol(&t, &["--dry-run"]);
    assert_eq!(code, 0);
    let dead = with_class(&report, "dead-session-hooked");
    assert_eq!(dead[0]["outcome"], "planned", "{report}");
    assert_eq!(t.refs(), before);
    assert_eq!(t.session(FURIOSA)["alive"], false);
}

/// A `done` killed after its intent was written: the pass finishes it (one merge request,
/// the agent idle), and a second pass finds nothing left.
#[test]
fn an_interrupted_done_is_finished() {
    let t = patrol_town("process");
    t.ok(&["add", "polecat"]);
    let id = t.env.create("Oil the chain", &[]);
    t.ok(&["hook", &id, "--to", FURIOSA]);
    let sandbox = t.sandbox("polecats", "furiosa");
    std::fs::write(sandbox.join("chain.txt"), "oiled\n").unwrap();
    t.env.git_ok(&sandbox, &["add", "chain.txt"]);
    t.env.git_ok(&sandbox, &["commit", "-qm", "oil the chain"]);
    let commit = t
        .env
        .git_ok(&sandbox, &["rev-parse", "HEAD"])
        .trim()
        .to_string();
    let intent_dir = t.state_dir().join("done");
    std::fs::create_dir_all(&intent_dir).unwrap();
    std::fs::write(
        intent_dir.join("gt-repo-furiosa.json"),
        serde_json::json!({"bead": id, "commit": commit, "status": "completed",
            "note": null, "no_merge": false, "at": "2026-01-01T00:00:00Z"})
        .to_string(),
    )
    .unwrap();
    let (code, report) = patrol(&t, &[]);
    assert_eq!(code, 0, "{report}");
    let done = with_class(&report, "done-intent-dead");
    assert_eq!(done.len(), 1, "{report}");
    assert_eq!(done[0]["outcome"], "done", "{report}");
    let mrs: Vec<Value> = t
        .mq_list()
        .into_iter()
        .filter(|m| m["bead"] == id.as_str())
        .collect();
    assert_eq!(mrs.len(), 1, "{mrs:?}");
    assert!(t.view(FURIOSA)["hook"].is_null());
    assert!(!intent_dir.join("gt-repo-furiosa.json").exists());
    let (_, again) = patrol(&t, &[]);
    assert!(with_class(&again, "done-intent-dead").is_empty(), "{again}");
}

/// An idle polecat whose session ended leaving uncommitted files: a WIP checkpoint commit
/// on its own branch holds them; the sandbox (files, index, branch) is left as it was, and
/// the next pass does not look again.
#[test]
fn a_dead_sessions_dirty_sandbox_is_checkpointed_on_its_own_branch() {
    let t = patrol_town("process");
    t.ok(&["add", "polecat"]);
    t.ok(&["start", FURIOSA, "--prompt", "hello"]);
    let sandbox = t.sandbox("polecats", "furiosa");
    std::fs::write(sandbox.join("draft.txt"), "unsaved work\n").unwrap();
    let head = t.env.git_ok(&sandbox, &["rev-parse", "HEAD"]);
    t.ok(&["stop", FURIOSA]);
    let (code, report) = patrol(&t, &[]);
    assert_eq!(code, 0, "{report}");
    let dirty = with_class(&report, "idle-dirty-sandbox");
    assert_eq!(dirty.len(), 1, "{report}");
    assert_eq!(dirty[0]["outcome"], "done", "{report}");
    let shown = t.git(&["show", "checkpoint/polecat/furiosa:draft.txt"]);
    assert_eq!(shown, "unsaved work\n");
    assert!(t
        .git(&["log", "-1", "--format=%s", "checkpoint/polecat/furiosa"])
        .starts_with("WIP: checkpoint (auto)"));
    assert_eq!(t.env.git_ok(&sandbox, &["rev-parse", "HEAD"]), head);
    assert_eq!(
        t.env.git_ok(&sandbox, &["status", "--porcelain"]),
        "?? draft.txt\n"
    );
    let before = t.refs();
    let (_, again) = patrol(&t, &[]);
    assert_eq!(again["actions"], 0, "{again}");
    assert_eq!(t.refs(), before);
}

/// A bead hooked on an agent that never started, past `patrol.stale_hook_after`, goes back
/// to open.
#[test]
fn a_stale_hook_is_released() {
    let t = patrol_town("process");
    t.ok(&["add", "polecat"]);
    let id = t.env.create("Forgotten work", &[]);
    t.ok(&["hook", &id, "--to", FURIOSA]);
    let (_, fresh) = patrol(&t, &[]);
    assert!(with_class(&fresh, "stale-hook").is_empty(), "{fresh}");
    t.config_set("patrol.stale_hook_after", "1s");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (_, report) = patrol(&t, &[]);
    let stale = with_class(&report, "stale-hook");
    assert_eq!(stale.len(), 1, "{report}");
    assert_eq!(stale[0]["outcome"], "done", "{report}");
    assert_eq!(t.bead(&id)["status"], "open");
    assert!(t.view(FURIOSA)["hook"].is_null());
}

/// Corrupt run files and a sandbox deleted by hand: reported, repaired where safe (the
/// session file set aside, the bead released), and the pass still covers everything else.
#[test]
fn corrupt_files_and_a_deleted_sandbox_are_reported_and_repaired_never_a_crash() {
    let t = patrol_town("process");
    let (id, pid) = slung(&t, "Fix the roof");
    kill(&t, pid);
    let sessions = t.state_dir().join("sessions");
    std::fs::write(sessions.join("gt-repo-furiosa.json"), "{not json").unwrap();
    let activity = t.state_dir().join("activity");
    std::fs::create_dir_all(&activity).unwrap();
    std::fs::write(activity.join("repo+polecats+furiosa.last"), "yesterday-ish").unwrap();
    let sandbox = t.sandbox("polecats", "furiosa");
    t.env.git_ok(
        &t.repo(),
        &["worktree", "remove", "--force", sandbox.to_str().unwrap()],
    );
    assert!(!sandbox.exists());
    let (code, report) = patrol(&t, &[]);
    assert!(code == 0 || code == 1, "{report}");
    let corrupt = with_class(&report, "corrupt-session-file");
    assert_eq!(corrupt.len(), 1, "{report}");
    assert_eq!(corrupt[0]["outcome"], "done", "{report}");
    assert!(sessions.join("gt-repo-furiosa.json.corrupt").exists());
    assert_eq!(
        with_class(&report, "corrupt-activity-file").len(),
        1,
        "{report}"
    );
    let missing = with_class(&report, "sandbox-missing");
    assert_eq!(missing.len(), 1, "{report}");
    assert_eq!(missing[0]["outcome"], "done", "{report}");
    assert_eq!(t.bead(&id)["status"], "open");
    // Again: nothing crashes, nothing more to release.
    let (code, again) = patrol(&t, &[]);
    assert_eq!(code, 0, "{again}");
    assert!(with_class(&again, "sandbox-missing")
        .iter()
        .all(|f| f["outcome"] == "reported"));
}

/// A town whose rig's repository was deleted: the pass reports the rig and goes on.
#[test]
fn a_missing_rig_is_reported_and_the_pass_goes_on() {
    let env = crate::support::Env::empty();
    let town_dir = env.path().join("town");
    let gt = |args: &[&str]| env.run_in(env.path(), "gastown", args);
    crate::support::ok(gt(&["init", town_dir.to_str().unwrap()]), &["init"]);
    for name in ["web", "api"] {
        let proj = env.path().join(name);
        std::fs::create_dir_all(&proj).unwrap();
        env.git_ok(&proj, &["init", "-q", "-b", "main"]);
        std::fs::write(proj.join("README"), "x\n").unwrap();
        env.git_ok(&proj, &["add", "README"]);
        env.git_ok(&proj, &["commit", "-qm", "initial"]);
        crate::support::ok(
            env.run_in(
                &town_dir,
                "gastown",
                &["rig", "add", name, proj.to_str().unwrap()],
            ),
            &["rig", "add"],
        );
    }
    std::fs::remove_dir_all(env.path().join("web")).unwrap();
    let out = env.run_in(&town_dir, "patrol", &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rigs = report["rigs"].as_array().unwrap();
    assert_eq!(rigs.len(), 2, "{report}");
    let web = rigs.iter().find(|r| r["rig"] == "web").unwrap();
    assert_eq!(web["findings"][0]["class"], "rig-missing", "{report}");
    let api = rigs.iter().find(|r| r["rig"] == "api").unwrap();
    assert!(api["findings"].as_array().unwrap().is_empty(), "{report}");
    let (code, line) = crate::support::err(
        env.run_in(&town_dir, "patrol", &["--rig", "nope"]),
        &["--rig", "nope"],
    );
    assert_eq!(code, 1);
    assert!(line.contains("no rig named 'nope'"), "{line}");
}

/// `cron` prints the line; `--install` puts it into the crontab once (through a fake
/// `crontab` that keeps the table in a file), replacing this town's line, keeping others.
#[test]
fn cron_prints_and_installs_the_line_idempotently() {
    use std::os::unix::fs::PermissionsExt;
    let t = patrol_town("process");
    let printed = t
        .env
        .json_in(&t.repo(), "patrol", &["cron", "--every", "10m"]);
    let line = printed["line"].as_str().unwrap();
    assert!(line.starts_with("*/10 * * * * '"), "{line}");
    assert!(line.contains("git-patrol' -C '"), "{line}");
    let (code, err) = crate::support::err(
        t.tool_in(&t.repo(), "patrol", &["cron", "--every", "90s"]),
        &["cron"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("bad --every '90s'"), "{err}");

    let fake = t.env.path().join("fakebin");
    std::fs::create_dir_all(&fake).unwrap();
    let table = t.env.path().join("crontab.txt");
    std::fs::write(&table, "MAILTO=me\n0 3 * * * backup\n").unwrap();
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = -l ]; then cat '{0}'; else cat > '{0}'; fi\n",
        table.display()
    );
    std::fs::write(fake.join("crontab"), script).unwrap();
    std::fs::set_permissions(fake.join("crontab"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let install = |every: &str| -> Value {
        let path = format!(
            "{}:{}:{}",
            fake.display(),
            crate::support::bin_dir().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = t
            .env
            .command(&binary("git-patrol"), &t.repo())
            .args(["cron", "--install", "--every", every, "--json"])
            .env("PATH", path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert_eq!(install("5m")["changed"], true);
    assert_eq!(install("5m")["changed"], false);
    assert_eq!(install("15m")["changed"], true);
    let text = std::fs::read_to_string(&table).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(&lines[..2], &["MAILTO=me", "0 3 * * * backup"]);
    assert!(lines[2].starts_with("*/15 * * * * "), "{text}");
}

/// With `patrol.lazy_after` set, an ordinary command starts a background pass when the last
/// one is older; unset, nothing starts.
#[test]
fn a_lazy_tick_starts_a_background_pass_only_when_configured() {
    let t = patrol_town("process");
    let last = t.state_dir().join("patrol/last.json");
    t.env.bead_ok(&["list"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!last.exists(), "a pass ran with the lazy tick off");
    t.config_set("patrol.lazy_after", "1s");
    // A command looks at the setting once a minute; forget the last look.
    std::fs::remove_file(t.state_dir().join("patrol/lazy.stamp")).unwrap();
    t.env.bead_ok(&["list"]);
    wait_until("the background pass", || {
        std::fs::read_to_string(&last).is_ok_and(|s| s.contains("finished_at"))
    });
}

/// An advisory lock whose holder's session died is released by the next pass; a person's
/// lock with a live lease is left alone.
#[test]
fn a_dead_holders_advisory_lock_is_released() {
    let t = patrol_town("process");
    t.ok(&["add", "polecat"]);
    t.ok(&["start", FURIOSA, "--prompt", "hello"]);
    let lock = |actor: &str, path: &str| {
        let out = t.tool_in(
            &t.repo(),
            "board",
            &["lock", path, "--intent", "working on it", "--actor", actor],
        );
        assert_eq!(out.status.code(), Some(0), "{out:?}");
    };
    lock(FURIOSA, "README");
    lock("Test User", "docs");
    let (_, quiet) = patrol(&t, &[]);
    assert!(with_class(&quiet, "expired-lock").is_empty(), "{quiet}");
    let pid = t.session(FURIOSA)["pid"].as_u64().unwrap();
    kill(&t, pid);
    let (code, report) = patrol(&t, &[]);
    assert_eq!(code, 0, "{report}");
    let released = with_class(&report, "expired-lock");
    assert_eq!(released.len(), 1, "{report}");
    assert!(
        released[0]["detail"].as_str().unwrap().contains("README"),
        "{report}"
    );
    let locks = t.env.json_in(&t.repo(), "board", &["locks"]);
    let held: Vec<&str> = locks
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].as_str().unwrap())
        .collect();
    assert_eq!(held, vec!["docs"], "{locks}");
}

/// A sling killed between its attach and its session start (here: inside a `tmux` that
/// never returns) leaves the bead hooked on an agent that never started. Patrol starts it
/// once `patrol.start_grace` has passed — not before, so a sling still starting is not
/// raced — and the work goes on to `done` as the sling would have had it.
#[test]
fn a_sling_killed_before_its_start_is_started_by_patrol() {
    use std::os::unix::process::CommandExt;
    let t = patrol_town("tmux");
    let fake = t.env.path().join("hanging-tmux");
    std::fs::create_dir_all(&fake).unwrap();
    let tmux = fake.join("tmux");
    std::fs::write(&tmux, "#!/bin/sh\nexec sleep 600\n").unwrap();
    std::fs::set_permissions(&tmux, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let id = t.env.create("DO-WORK after an interrupted sling", &[]);
    let mut sling = t.env.command(&binary("git-sling"), &t.repo());
    let path = format!(
        "{}:{}:{}",
        fake.display(),
        crate::support::bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = sling
        .args([id.as_str(), "repo"])
        .env("PATH", path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    wait_until("the sling's attach", || t.bead(&id)["status"] == "hooked");
    wait_until("the sling to reach tmux", || {
        std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
            std::fs::read_to_string(e.path().join("cmdline"))
                .is_ok_and(|c| c.starts_with("sleep\x00600"))
        })
    });
    kill_group(child.id() as u64);
    let _ = child.wait();
    wait_until("the killed sling's group to end", || {
        group_gone(child.id() as u64)
    });
    assert_eq!(t.view(FURIOSA)["hook"], id.as_str());
    assert_eq!(t.view(FURIOSA)["state"], "idle");
    assert_eq!(t.view(FURIOSA)["start_pending"], true);

    // Within the grace: left alone.
    t.env
        .git_ok(&t.repo(), &["config", "gastown.session.backend", "process"]);
    let (_, early) = patrol(&t, &[]);
    assert!(
        with_class(&early, "dispatch-not-started").is_empty(),
        "{early}"
    );
    t.config_set("patrol.start_grace", "1s");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (code, report) = patrol(&t, &[]);
    assert_eq!(code, 0, "{report}");
    let started = with_class(&report, "dispatch-not-started");
    assert_eq!(started.len(), 1, "{report}");
    assert_eq!(started[0]["outcome"], "done", "{report}");
    assert!(with_class(&report, "stale-hook").is_empty(), "{report}");
    wait_until("the started agent's done", || {
        t.mq_list().iter().any(|m| m["bead"] == id.as_str())
    });
    assert!(t.view(FURIOSA)["start_pending"].is_null());
    let (_, again) = patrol(&t, &[]);
    assert!(
        with_class(&again, "dispatch-not-started").is_empty(),
        "{again}"
    );
}

/// A sling killed while it made a new polecat leaves an identity that never ran with its
/// sandbox missing or half checked out (git's `index.lock` still there). Once
/// `patrol.half_made_after` has passed, patrol nukes it (worktree and branch gone, the name
/// free); a healthy polecat that never ran is left alone.
#[test]
fn half_made_polecats_are_nuked_and_healthy_idle_ones_kept() {
    let t = patrol_town("process");
    for _ in 0..3 {
        t.ok(&["add", "polecat"]);
    }
    let mut names: Vec<String> = t
        .agents()
        .iter()
        .filter(|a| a["role"] == "polecat")
        .map(|a| a["address"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    let sandbox_of = |a: &str| std::path::PathBuf::from(t.view(a)["sandbox"].as_str().unwrap());
    // One never made: its directory gone. One half checked out: git's lock left behind.
    let missing = sandbox_of(&names[0]);
    std::fs::remove_dir_all(&missing).unwrap();
    let half = sandbox_of(&names[1]);
    let git_dir = std::fs::read_to_string(half.join(".git")).unwrap();
    let git_dir = std::path::PathBuf::from(git_dir.trim().strip_prefix("gitdir: ").unwrap());
    std::fs::write(git_dir.join("index.lock"), "").unwrap();
    let healthy = sandbox_of(&names[2]);

    let (_, early) = patrol(&t, &[]);
    assert!(
        with_class(&early, "half-made-sandbox").is_empty(),
        "{early}"
    );
    t.config_set("patrol.half_made_after", "1s");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (code, report) = patrol(&t, &[]);
    assert_eq!(code, 0, "{report}");
    let found = with_class(&report, "half-made-sandbox");
    assert_eq!(found.len(), 2, "{report}");
    assert!(found.iter().all(|f| f["outcome"] == "done"), "{report}");
    for a in &names[..2] {
        assert_eq!(t.view(a)["state"], "nuked", "{a}");
    }
    assert!(!half.exists());
    let worktrees = t.git(&["worktree", "list", "--porcelain"]);
    assert!(!worktrees.contains(half.to_str().unwrap()), "{worktrees}");
    assert!(
        !worktrees.contains(missing.to_str().unwrap()),
        "{worktrees}"
    );
    assert_eq!(t.view(&names[2])["state"], "idle");
    assert!(healthy.join(".git").is_file());
    let (_, again) = patrol(&t, &[]);
    assert!(
        with_class(&again, "half-made-sandbox").is_empty(),
        "{again}"
    );
}

/// A session killed in the middle of a git command leaves git's lock files in its sandbox
/// (`index.lock`, `CHERRY_PICK_HEAD.lock`, its branch's ref lock), which would fail every
/// git command of the next session and so kill it again and again. The restart removes
/// them: the session is dead, so no git of its runs there.
#[test]
fn a_restart_clears_the_git_locks_a_killed_session_left() {
    let t = patrol_town("process");
    let (_, pid) = slung(&t, "Tune the engine");
    kill(&t, pid);
    let sandbox = t.sandbox("polecats", "furiosa");
    let git_dir = std::fs::read_to_string(sandbox.join(".git")).unwrap();
    let git_dir = std::path::PathBuf::from(git_dir.trim().strip_prefix("gitdir: ").unwrap());
    let common = git_dir.parent().unwrap().parent().unwrap();
    let locks = [
        git_dir.join("index.lock"),
        git_dir.join("CHERRY_PICK_HEAD.lock"),
        git_dir.join("AUTO_MERGE.lock"),
        common.join("refs/heads/polecat/furiosa.lock"),
    ];
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(30);
    for lock in &locks {
        let f = std::fs::File::create(lock).unwrap();
        f.set_modified(old).unwrap();
    }
    let (code, report) = patrol(&t, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        with_class(&report, "dead-session-hooked").len(),
        1,
        "{report}"
    );
    for lock in &locks {
        assert!(!lock.exists(), "{} is still there", lock.display());
    }
    assert_eq!(t.session(FURIOSA)["alive"], true);
    let status = t.env.git(
        &sandbox,
        &[
            "commit",
            "--allow-empty",
            "-qm",
            "the next session can commit",
        ],
    );
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}
