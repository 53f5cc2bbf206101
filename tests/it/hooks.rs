//! The git hooks (`git gastown hooks`, docs/HOOKS.md) on real repositories: chaining to a
//! user's hooks, never failing git because of us, byte-for-byte uninstall, core.hooksPath,
//! the post-commit work notes, merges of fetched state, hand merges closing requests, and
//! the pre-push guard.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::scripted::town;
use crate::support::{self, Env};

const FURIOSA: &str = "repo/polecats/furiosa";

fn install(env: &Env, dir: &Path) -> Value {
    env.json_in(dir, "gastown", &["hooks", "install"])
}

fn status(env: &Env, dir: &Path) -> Value {
    env.json_in(dir, "gastown", &["hooks", "status"])
}

fn write_hook(path: &Path, body: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn commit(env: &Env, dir: &Path, file: &str) -> std::process::Output {
    std::fs::write(dir.join(file), format!("{file}\n")).unwrap();
    env.git_ok(dir, &["add", file]);
    env.git(dir, &["commit", "-qm", &format!("add {file}")])
}

/// A bare repository beside the test's, as `origin` of the test's repository.
fn with_origin(env: &Env) -> PathBuf {
    let bare = env.path().join("origin.git");
    env.git_ok(
        env.path(),
        &["init", "-q", "--bare", bare.to_str().unwrap()],
    );
    env.git_ok(
        &env.repo(),
        &["remote", "add", "origin", bare.to_str().unwrap()],
    );
    env.git_ok(&env.repo(), &["push", "-q", "origin", "main"]);
    bare
}

#[test]
fn hooks_installed_over_a_user_hook_keep_it_running_with_its_input_and_exit_code() {
    let env = Env::new();
    let repo = env.repo();
    let hooks = repo.join(".git/hooks");
    let log = env.path().join("user-hooks.log");
    let log_s = log.to_str().unwrap();
    with_origin(&env);
    write_hook(
        &hooks.join("post-commit"),
        &format!("#!/bin/sh\necho \"user post-commit $#\" >> {log_s}\n"),
        0o755,
    );
    // The user's pre-push sees git's arguments and input, and its refusal stops the push.
    write_hook(
        &hooks.join("pre-push"),
        &format!(
            "#!/bin/sh\necho \"user pre-push $1\" >> {log_s}\ncat >> {log_s}\n[ -e {log_s}.allow ] || exit 3\n"
        ),
        0o755,
    );
    let installed = install(&env, &repo);
    let actions: Vec<&str> = installed["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["chained", "installed", "chained"], "{installed}");

    let out = commit(&env, &repo, "a.txt");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("user post-commit 0"), "{text}");

    env.git_ok(&repo, &["checkout", "-q", "-b", "topic"]);
    let refused = env.git(&repo, &["push", "-q", "origin", "topic"]);
    assert!(!refused.status.success(), "the user's pre-push refused");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("user pre-push origin"), "{text}");
    assert!(
        text.contains("refs/heads/topic "),
        "stdin passed through: {text}"
    );
    assert!(env
        .ref_tip(&env.path().join("origin.git"), "refs/heads/topic")
        .is_none());

    std::fs::write(format!("{log_s}.allow"), "").unwrap();
    env.git_ok(&repo, &["push", "-q", "origin", "topic"]);
    assert!(env
        .ref_tip(&env.path().join("origin.git"), "refs/heads/topic")
        .is_some());

    // reference-transaction: a user's hook refusing in the prepared state aborts the update.
    write_hook(
        &hooks.join("reference-transaction.gastown-orig"),
        "#!/bin/sh\n[ \"$1\" = prepared ] && grep -q refs/heads/blocked && exit 1\nexit 0\n",
        0o755,
    );
    let out = env.git(&repo, &["branch", "blocked"]);
    assert!(!out.status.success(), "git honours the user's refusal");
    assert!(env.ref_tip(&repo, "refs/heads/blocked").is_none());
    env.git_ok(&repo, &["branch", "fine"]);
}

#[test]
fn git_commit_succeeds_without_our_binaries_and_with_a_broken_store() {
    let env = Env::new();
    let repo = env.repo();
    env.bead_ok(&["init", "--prefix", "gt"]);
    install(&env, &repo);
    let git = which::which("git").unwrap();
    let path = format!("{}:/usr/bin:/bin", git.parent().unwrap().display());
    std::fs::write(repo.join("b.txt"), "b\n").unwrap();
    env.git_ok(&repo, &["add", "b.txt"]);
    let out = env
        .command("git", &repo)
        .env("PATH", &path)
        .args(["commit", "-qm", "no gastown on PATH"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).is_empty(),
        "silent: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A store whose ref points at a blob is broken: the commit still goes through, with a
    // warning, as do a branch move and a push.
    let blob = env.git_ok(&repo, &["hash-object", "-w", "README"]);
    env.git_ok(&repo, &["update-ref", "refs/gastown/beads", blob.trim()]);
    let out = commit(&env, &repo, "c.txt");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning") && stderr.contains("goes on"),
        "{stderr}"
    );
    with_origin(&env);
    env.git_ok(&repo, &["push", "-q", "origin", "main"]);
}

#[test]
fn uninstall_restores_the_user_hook_byte_for_byte_and_its_mode() {
    let env = Env::new();
    let repo = env.repo();
    let hook = repo.join(".git/hooks/pre-push");
    let body = b"#!/bin/sh\n# odd bytes: \xff\xfe\r\nexit 0   \n\n";
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(&hook, body).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o750)).unwrap();
    install(&env, &repo);
    assert_ne!(std::fs::read(&hook).unwrap(), body);
    let removed = env.json_in(&repo, "gastown", &["hooks", "uninstall"]);
    let actions: Vec<&str> = removed["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["removed", "removed", "restored"], "{removed}");
    assert_eq!(std::fs::read(&hook).unwrap(), body);
    assert_eq!(mode(&hook), 0o750);
    assert!(!repo.join(".git/hooks/pre-push.gastown-orig").exists());
    assert!(!repo.join(".git/hooks/post-commit").exists());
    assert!(env
        .git(&repo, &["config", "--get-all", "notes.displayRef"])
        .stdout
        .is_empty());
}

#[test]
fn install_is_idempotent() {
    let env = Env::new();
    let repo = env.repo();
    let user = repo.join(".git/hooks/post-commit");
    write_hook(&user, "#!/bin/sh\nexit 0\n", 0o755);
    with_origin(&env);
    let first = install(&env, &repo);
    assert_eq!(first["display_ref_changed"], true);
    assert_eq!(first["fetch_remotes"][0], "origin");
    let files = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = files(&repo.join(".git/hooks"));
    let config = std::fs::read(repo.join(".git/config")).unwrap();
    let second = install(&env, &repo);
    for h in second["hooks"].as_array().unwrap() {
        assert_eq!(h["action"], "unchanged", "{second}");
    }
    assert_eq!(second["display_ref_changed"], false);
    assert!(second["fetch_remotes"].as_array().unwrap().is_empty());
    assert_eq!(files(&repo.join(".git/hooks")), before);
    assert_eq!(std::fs::read(repo.join(".git/config")).unwrap(), config);
    assert_eq!(
        std::fs::read_to_string(repo.join(".git/hooks/post-commit.gastown-orig")).unwrap(),
        "#!/bin/sh\nexit 0\n"
    );
}

#[test]
fn core_hooks_path_is_honoured() {
    let env = Env::new();
    let repo = env.repo();
    env.git_ok(&repo, &["config", "core.hooksPath", ".githooks"]);
    let log = env.path().join("ran");
    write_hook(
        &repo.join(".githooks/post-commit"),
        &format!("#!/bin/sh\ntouch {}\n", log.display()),
        0o755,
    );
    let installed = install(&env, &repo);
    let dir = installed["hooks_dir"].as_str().unwrap();
    assert!(dir.ends_with(".githooks"), "{dir}");
    assert!(repo.join(".githooks/post-commit.gastown-orig").exists());
    assert!(repo.join(".githooks/pre-push").exists());
    assert!(!repo.join(".git/hooks/pre-push").exists());
    let s = status(&env, &repo);
    assert_eq!(s["hooks_path"], ".githooks");
    assert_eq!(s["installed"], true);
    // From a subdirectory too, the hooks are git's.
    std::fs::create_dir_all(repo.join("sub")).unwrap();
    let s = status(&env, &repo.join("sub"));
    assert!(s["hooks_dir"].as_str().unwrap().ends_with(".githooks"));
    assert!(commit(&env, &repo, "d.txt").status.success());
    assert!(log.exists(), "the user's hook in core.hooksPath ran");
}

#[test]
fn status_json_reports_each_hook_and_the_config() {
    let env = Env::new();
    let repo = env.repo();
    let s = status(&env, &repo);
    assert_eq!(s["installed"], false);
    assert_eq!(s["display_ref"], false);
    let states: Vec<&str> = s["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["absent", "absent", "absent"]);
    write_hook(&repo.join(".git/hooks/pre-push"), "#!/bin/sh\n", 0o755);
    assert_eq!(status(&env, &repo)["hooks"][2]["state"], "foreign");
    install(&env, &repo);
    let s = status(&env, &repo);
    assert_eq!(s["installed"], true);
    assert_eq!(s["display_ref"], true);
    let names: Vec<&str> = s["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["post-commit", "reference-transaction", "pre-push"]);
    assert!(s["hooks"][2]["chained"]
        .as_str()
        .unwrap()
        .ends_with("pre-push.gastown-orig"));
    assert!(s["hooks"][0]["chained"].is_null());
    // An outdated script of ours is reported, and install brings it up to date.
    let hook = repo.join(".git/hooks/post-commit");
    let text = std::fs::read_to_string(&hook).unwrap() + "# older\n";
    std::fs::write(&hook, text).unwrap();
    assert_eq!(status(&env, &repo)["hooks"][0]["state"], "outdated");
    assert_eq!(install(&env, &repo)["hooks"][0]["action"], "updated");
}

#[test]
fn post_commit_notes_the_work_in_git_log_and_bead_trail() {
    let t = town("process");
    let repo = t.repo();
    install(&t.env, &repo);
    t.ok(&["add", "polecat"]);
    let id = t.env.create("Fix the carburettor", &[]);
    t.ok(&["hook", &id, "--to", FURIOSA]);
    let sandbox = t.sandbox("polecats", "furiosa");
    let out = commit(&t.env, &sandbox, "fix.txt");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let head = t
        .env
        .git_ok(&sandbox, &["rev-parse", "HEAD"])
        .trim()
        .to_string();

    // Plain `git log` shows the note (notes.displayRef), in the rig and in the sandbox.
    for dir in [&sandbox, &repo] {
        let log = t.env.git_ok(dir, &["log", "-1", &head]);
        assert!(log.contains("Notes (gastown/notes/work)"), "{log}");
        assert!(log.contains(&format!("agent: {FURIOSA}")), "{log}");
        assert!(log.contains(&format!("bead: {id}")), "{log}");
        assert!(log.contains("session: "), "{log}");
    }
    // The note is git's notes format: a tree entry named by the commit's id, fanned out.
    let tree = t.env.git_ok(
        &repo,
        &["ls-tree", "-r", "--name-only", "refs/gastown/notes/work"],
    );
    assert!(
        tree.contains(&format!("{}/{}", &head[..2], &head[2..])),
        "{tree}"
    );

    // A second commit, and the trail lists both, oldest first.
    let out = commit(&t.env, &sandbox, "more.txt");
    assert!(out.status.success());
    let second = t
        .env
        .git_ok(&sandbox, &["rev-parse", "HEAD"])
        .trim()
        .to_string();
    let trail = t.env.bead_json(&["trail", &id]);
    let commits: Vec<&str> = trail["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["commit"].as_str().unwrap())
        .collect();
    assert_eq!(commits, [head.as_str(), second.as_str()], "{trail}");
    assert_eq!(trail["commits"][0]["agent"], FURIOSA);
    assert_eq!(trail["commits"][1]["subject"], "add more.txt");
    assert_eq!(trail["commits"][0]["beads"][0], id.as_str());
    let text = support::ok(t.env.bead(&["trail", &id]), &["trail"]);
    assert!(
        text.contains(&head[..12]) && text.contains(FURIOSA),
        "{text}"
    );
    // The commit counted as the agent's activity.
    let active = gastown::session::last_activity(&t.state_dir(), FURIOSA).unwrap();
    assert!(active.is_some(), "activity recorded");
    // A commit by no agent gets no note.
    assert!(commit(&t.env, &repo, "own.txt").status.success());
    let mine = t.env.git_ok(&repo, &["log", "-1"]);
    assert!(!mine.contains("Notes"), "{mine}");
    t.env.assert_fsck_clean(&repo);
}

#[test]
fn gastown_refs_arriving_by_a_plain_fetch_are_merged() {
    let env = Env::new();
    let repo = env.repo();
    env.bead_ok(&["init", "--prefix", "gt"]);
    let first = env.create("made upstream", &[]);
    let bare = with_origin(&env);
    ok_sync(&env, &repo);
    let clone = env.path().join("clone");
    env.git_ok(
        env.path(),
        &[
            "clone",
            "-q",
            bare.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    install(&env, &clone);
    // The first fetch creates the collection from the remote's.
    env.git_ok(&clone, &["fetch", "-q"]);
    assert_eq!(
        env.ref_tip(&clone, "refs/gastown/beads"),
        env.ref_tip(&repo, "refs/gastown/beads")
    );
    let shown = env.json_in(&clone, "bead", &["show", &first]);
    assert!(shown.to_string().contains("made upstream"));
    // Both sides write; the next plain fetch merges theirs into ours.
    let theirs = env.create("second upstream", &[]);
    ok_sync(&env, &repo);
    let ours = env.json_in(&clone, "bead", &["create", "made in the clone"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.git_ok(&clone, &["fetch", "-q"]);
    let list = env.json_in(&clone, "bead", &["list"]).to_string();
    for id in [&first, &theirs, &ours] {
        assert!(list.contains(id.as_str()), "{id} in {list}");
    }
    let parents = env.git_ok(&clone, &["log", "-1", "--format=%P", "refs/gastown/beads"]);
    assert_eq!(parents.split_whitespace().count(), 2, "a merge commit");
    env.assert_fsck_clean(&clone);
}

fn ok_sync(env: &Env, dir: &Path) {
    support::ok(env.run_in(dir, "gastown", &["sync"]), &["sync"]);
}

#[test]
fn a_target_branch_moved_by_hand_closes_the_merge_request_and_its_bead() {
    let env = Env::new();
    let repo = env.repo();
    env.bead_ok(&["init", "--prefix", "gt"]);
    env.config_set("merge_queue.auto", "false");
    let bead = env.create("Hand-merged work", &[]);
    let other = env.create("Still queued", &[]);
    env.branch_with("polecat/nux", "main", &[("nux.txt", "nux\n")]);
    env.branch_with("polecat/max", "main", &[("max.txt", "max\n")]);
    let (code, mr) = env.mq_json(&["submit", "polecat/nux", "--bead", &bead]);
    assert_eq!(code, 0, "{mr}");
    let (code, waiting) = env.mq_json(&["submit", "polecat/max", "--bead", &other]);
    assert_eq!(code, 0, "{waiting}");
    install(&env, &repo);
    env.git_ok(
        &repo,
        &["merge", "-q", "--no-ff", "--no-edit", "polecat/nux"],
    );
    let (_, shown) = env.mq_json(&["show", mr["id"].as_str().unwrap()]);
    assert_eq!(shown["status"], "merged", "{shown}");
    let reason = shown["reason"].as_str().unwrap();
    assert!(
        reason.contains("outside the queue") && reason.contains("main"),
        "{reason}"
    );
    let merged_at = env.ref_tip(&repo, "refs/heads/main").unwrap();
    assert_eq!(shown["merge_commit"], merged_at.as_str());
    let closed = env.bead_json(&["show", &bead]);
    let closed = if closed.is_array() {
        closed[0].clone()
    } else {
        closed
    };
    assert_eq!(closed["status"], "closed", "{closed}");
    assert!(closed["close_reason"]
        .as_str()
        .unwrap_or_default()
        .contains("outside the queue"));
    // The other request is untouched, and an ordinary commit on main changes nothing.
    let (_, still) = env.mq_json(&["show", waiting["id"].as_str().unwrap()]);
    assert_eq!(still["status"], "open");
    let before = env.commits(&repo, "beads");
    assert!(commit(&env, &repo, "plain.txt").status.success());
    assert_eq!(env.commits(&repo, "beads"), before);
    // A fast-forward by hand is a merge too.
    env.git_ok(&repo, &["checkout", "-q", "-b", "ff", "main"]);
    env.git_ok(&repo, &["merge", "-q", "--no-edit", "polecat/max"]);
    env.git_ok(&repo, &["checkout", "-q", "main"]);
    env.git_ok(&repo, &["merge", "-q", "--ff-only", "ff"]);
    let (_, now) = env.mq_json(&["show", waiting["id"].as_str().unwrap()]);
    assert_eq!(now["status"], "merged", "{now}");
}

#[test]
fn pre_push_refuses_a_polecat_branch_onto_the_target_and_says_how_to_bypass() {
    let env = Env::new();
    let repo = env.repo();
    env.bead_ok(&["init", "--prefix", "gt"]);
    let bare = with_origin(&env);
    env.branch_with("polecat/nux", "main", &[("nux.txt", "nux\n")]);
    install(&env, &repo);
    let out = env.git(&repo, &["push", "origin", "polecat/nux:main"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refusing to push polecat/nux onto main"),
        "{stderr}"
    );
    assert!(stderr.contains("git push --no-verify"), "{stderr}");
    let main = env.ref_tip(&repo, "refs/heads/main");
    assert_eq!(env.ref_tip(&bare, "refs/heads/main"), main);
    // The same commit by id is refused too; its own branch is fine, and so is a bypass.
    let tip = env.ref_tip(&repo, "refs/heads/polecat/nux").unwrap();
    let out = env.git(
        &repo,
        &["push", "origin", &format!("{tip}:refs/heads/main")],
    );
    assert!(!out.status.success());
    env.git_ok(&repo, &["push", "-q", "origin", "polecat/nux"]);
    env.git_ok(
        &repo,
        &["push", "-q", "--no-verify", "origin", "polecat/nux:main"],
    );
    assert_eq!(env.ref_tip(&bare, "refs/heads/main"), Some(tip));
}

#[test]
fn pre_push_warns_or_refuses_when_pushed_commits_touch_a_path_another_agent_locked() {
    let env = Env::new();
    let repo = env.repo();
    env.bead_ok(&["init", "--prefix", "gt"]);
    let bare = with_origin(&env);
    install(&env, &repo);
    support::ok(
        env.run_in(
            &repo,
            "board",
            &[
                "lock",
                "src/auth",
                "--intent",
                "reworking auth",
                "--actor",
                "repo/polecats/nux",
            ],
        ),
        &["board", "lock"],
    );
    std::fs::create_dir_all(repo.join("src/auth")).unwrap();
    env.git_ok(&repo, &["checkout", "-q", "-b", "topic"]);
    assert!(commit(&env, &repo, "src/auth/login.rs").status.success());
    let out = env.git(&repo, &["push", "-q", "origin", "topic"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "a warning only: {stderr}");
    assert!(
        stderr.contains("src/auth/login.rs") && stderr.contains("repo/polecats/nux"),
        "{stderr}"
    );
    assert!(stderr.contains("reworking auth"), "{stderr}");
    // The holder itself pushes without a word.
    assert!(commit(&env, &repo, "src/auth/more.rs").status.success());
    let out = env
        .command("git", &repo)
        .env("GT_ACTOR", "repo/polecats/nux")
        .args(["push", "-q", "origin", "topic"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("locked"));
    // By setting, such a push is refused, with the way around it.
    env.config_set("hooks.locked_paths", "refuse");
    assert!(commit(&env, &repo, "src/auth/again.rs").status.success());
    let out = env.git(&repo, &["push", "-q", "origin", "topic"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("git push --no-verify") && stderr.contains("src/auth"),
        "{stderr}"
    );
    let pushed = env.ref_tip(&bare, "refs/heads/topic");
    assert_ne!(pushed, env.ref_tip(&repo, "refs/heads/topic"));
    // A push touching nothing locked goes through.
    env.git_ok(&repo, &["checkout", "-q", "-b", "elsewhere", "main"]);
    assert!(commit(&env, &repo, "free.txt").status.success());
    env.git_ok(&repo, &["push", "-q", "origin", "elsewhere"]);
}

#[test]
fn a_busy_store_keeps_the_note_for_the_next_commit_and_the_commit_goes_on() {
    let t = town("process");
    let repo = t.repo();
    install(&t.env, &repo);
    t.ok(&["add", "polecat"]);
    let id = t.env.create("Busy work", &[]);
    t.ok(&["hook", &id, "--to", FURIOSA]);
    let sandbox = t.sandbox("polecats", "furiosa");
    let lock_path = t.state_dir().join("locks/notes/work.lock");
    std::fs::create_dir_all(lock_path.parent().unwrap()).unwrap();
    let lock = std::fs::File::create(&lock_path).unwrap();
    lock.lock().unwrap();
    std::fs::write(sandbox.join("busy.txt"), "busy\n").unwrap();
    t.env.git_ok(&sandbox, &["add", "busy.txt"]);
    let started = std::time::Instant::now();
    let out = t
        .env
        .command("git", &sandbox)
        .env("GT_HOOK_LOCK_TIMEOUT_MS", "100")
        .args(["commit", "-qm", "while busy"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("busy"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let first = t
        .env
        .git_ok(&sandbox, &["rev-parse", "HEAD"])
        .trim()
        .to_string();
    assert!(!t
        .env
        .git_ok(&repo, &["log", "-1", &first])
        .contains("Notes"));
    drop(lock);
    assert!(commit(&t.env, &sandbox, "after.txt").status.success());
    let log = t.env.git_ok(&repo, &["log", "-1", &first]);
    assert!(
        log.contains(&format!("bead: {id}")),
        "the kept note was written: {log}"
    );
    let trail = t.env.bead_json(&["trail", &id]);
    assert_eq!(trail["commits"].as_array().unwrap().len(), 2, "{trail}");
}

#[test]
fn work_notes_sync_between_clones_as_a_union() {
    use gastown::store::notes::NoteWrite;
    let env = Env::new();
    let repo = env.repo();
    env.bead_ok(&["init", "--prefix", "gt"]);
    let bare = with_origin(&env);
    let clone = env.path().join("clone");
    env.git_ok(
        env.path(),
        &[
            "clone",
            "-q",
            bare.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    let head = env.git_ok(&repo, &["rev-parse", "HEAD"]).trim().to_string();
    let commit = gix::ObjectId::from_hex(head.as_bytes()).unwrap();
    let actor = gastown::store::Actor {
        name: "test".into(),
        email: "test@example.com".into(),
    };
    let note = |dir: &Path, text: &str, bead: &str| {
        let store = gastown::store::Store::open(dir).unwrap();
        let written = store
            .add_notes(
                &actor,
                &[NoteWrite {
                    commit,
                    text: text.to_string(),
                    trail: vec![bead.to_string()],
                }],
            )
            .unwrap();
        assert!(written);
    };
    note(&repo, "agent: web/polecats/nux\nbead: gt-aaa\n", "gt-aaa");
    note(&clone, "agent: web/polecats/max\nbead: gt-bbb\n", "gt-bbb");
    ok_sync(&env, &repo);
    ok_sync(&env, &clone);
    ok_sync(&env, &repo);
    let a = env.ref_tip(&repo, "refs/gastown/notes/work");
    assert_eq!(
        a,
        env.ref_tip(&clone, "refs/gastown/notes/work"),
        "converged"
    );
    let shown = env.git_ok(
        &clone,
        &[
            "-c",
            "notes.displayRef=refs/gastown/notes/*",
            "log",
            "-1",
            &head,
        ],
    );
    for line in [
        "agent: web/polecats/max",
        "agent: web/polecats/nux",
        "bead: gt-aaa",
        "bead: gt-bbb",
    ] {
        assert!(shown.contains(line), "{line} in {shown}");
    }
    for bead in ["gt-aaa", "gt-bbb"] {
        let store = gastown::store::Store::open(&repo).unwrap();
        let trail = store.trail(bead).unwrap();
        assert_eq!(trail.len(), 1);
        assert_eq!(trail[0].commit, commit);
    }
    env.assert_fsck_clean(&repo);
}

#[test]
fn bad_input_is_one_line_and_changes_nothing() {
    let env = Env::new();
    let repo = env.repo();
    // Outside any repository.
    let nowhere = env.path().join("nowhere");
    std::fs::create_dir_all(&nowhere).unwrap();
    let (code, stderr) = support::err(
        env.run_in(&nowhere, "gastown", &["hooks", "install"]),
        &["hooks", "install"],
    );
    assert_ne!(code, 0);
    support::assert_one_line_error(&stderr);
    // A user's hook and a kept-aside one that is not ours: install refuses, touching nothing.
    let hooks = repo.join(".git/hooks");
    write_hook(&hooks.join("pre-push"), "#!/bin/sh\necho mine\n", 0o755);
    write_hook(
        &hooks.join("pre-push.gastown-orig"),
        "#!/bin/sh\necho older\n",
        0o700,
    );
    let before: Vec<String> = std::fs::read_dir(&hooks)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    support::assert_refused(
        env.run_in(&repo, "gastown", &["hooks", "install"]),
        &["pre-push.gastown-orig", "move one away"],
    );
    let after: Vec<String> = std::fs::read_dir(&hooks)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(before, after);
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push")).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    // An unknown hook name given to the hidden runner is a warning, never a failure.
    let out = env.run_in(&repo, "gastown", &["hooks", "run", "post-merge"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown hook 'post-merge'"));
}
