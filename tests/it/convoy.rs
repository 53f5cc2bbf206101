//! Convoys (docs/CONVOYS.md) end to end: a town with two rigs whose beads one convoy
//! tracks, landing exactly once (one message) from the rig that closes the last bead, a
//! kill -9 between the close and the landing repaired by the next command or by sync
//! (`GT_FAULT`), staged waves against Kahn levels, a cycle named, bad input refused with
//! nothing changed, and on the scripted town: sling's auto-convoy, feeding on close, and
//! mountain skipping a bead whose dispatch failed three times.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::support::scripted::{town as scripted_town, wait_until, Town as Scripted};
use crate::support::{self, assert_one_line_error, bin_dir, Env};

/// `git convoy ARGS` in `dir`, with extra environment variables.
fn convoy_with(env: &Env, dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> Output {
    let program = bin_dir().join("git-convoy");
    let mut cmd = env.command(program.to_str().unwrap(), dir);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.args(args).output().expect("git-convoy runs")
}

fn cv_json(env: &Env, dir: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = support::ok(convoy_with(env, dir, &[], &all), &all);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("bad JSON from {all:?}: {e}\n{out}"))
}

/// Run, assert exit 1 with one `error:` line; that line.
fn cv_err(env: &Env, dir: &Path, args: &[&str]) -> String {
    let (code, stderr) = support::err(convoy_with(env, dir, &[], args), args);
    assert_eq!(code, 1, "{args:?}: {stderr}");
    assert_one_line_error(&stderr);
    stderr
}

fn bead_in(env: &Env, dir: &Path, args: &[&str]) -> Output {
    env.run_in(dir, "bead", args)
}

fn create_in(env: &Env, dir: &Path, title: &str, extra: &[&str]) -> String {
    let mut args = vec!["create", title];
    args.extend_from_slice(extra);
    env.json_in(dir, "bead", &args)["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Every ref of the repository at `dir` (what a refused command must not change).
fn refs(env: &Env, dir: &Path) -> String {
    env.git_ok(dir, &["for-each-ref", "refs/gastown/"])
}

/// The overseer's (or `agent`'s) messages in the town whose subject says a convoy landed.
fn landing_messages(env: &Env, town: &Path, agent: Option<&str>) -> Vec<Value> {
    let program = bin_dir().join("git-mail");
    let mut cmd = env.command(program.to_str().unwrap(), town);
    if let Some(a) = agent {
        cmd.env("GT_AGENT", a);
    }
    let out = cmd
        .args(["inbox", "--all", "--json"])
        .output()
        .expect("git-mail runs");
    let text = support::ok(out, &["inbox"]);
    let inbox: Value = serde_json::from_str(&text).unwrap();
    inbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .unwrap_or("")
                .starts_with("Convoy landed")
        })
        .cloned()
        .collect()
}

/// Landing commits on the town's store.
fn landing_commits(env: &Env, town: &Path) -> usize {
    env.git_ok(
        town,
        &[
            "log",
            "--format=%s",
            "refs/gastown/beads",
            "--grep=^convoy land ",
        ],
    )
    .lines()
    .count()
}

/// A town with rigs `alpha` (prefix `al`) and `beta` (prefix `be`), each with one bead,
/// and a convoy in the town tracking both (owner overseer, notify mayor).
struct TwoRigs {
    env: Env,
    town: PathBuf,
    alpha: PathBuf,
    beta: PathBuf,
    a: String,
    b: String,
    convoy: String,
}

fn project(env: &Env, name: &str) -> PathBuf {
    let dir = env.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    env.git_ok(&dir, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("README"), format!("{name}\n")).unwrap();
    env.git_ok(&dir, &["add", "README"]);
    env.git_ok(&dir, &["commit", "-qm", "initial"]);
    std::fs::canonicalize(dir).unwrap()
}

fn two_rigs() -> TwoRigs {
    let env = Env::empty();
    let town = env.path().join("town");
    let tp = town.to_str().unwrap().to_string();
    support::ok(env.run_in(env.path(), "gastown", &["init", &tp]), &["init"]);
    let town = std::fs::canonicalize(town).unwrap();
    let alpha = project(&env, "alpha");
    let beta = project(&env, "beta");
    for (name, dir, prefix) in [("alpha", &alpha, "al"), ("beta", &beta, "be")] {
        let args = [
            "rig",
            "add",
            name,
            dir.to_str().unwrap(),
            "--prefix",
            prefix,
        ];
        support::ok(env.run_in(&town, "gastown", &args), &args);
    }
    let a = create_in(&env, &alpha, "alpha work", &[]);
    let b = create_in(&env, &beta, "beta work", &[]);
    let created = cv_json(
        &env,
        &town,
        &[
            "create", "Ship it", &a, &b, "--owner", "overseer", "--notify", "mayor",
        ],
    );
    let convoy = created["id"].as_str().unwrap().to_string();
    assert!(convoy.starts_with("hq-cv-"), "{created}");
    assert_eq!(created["status"], "open");
    TwoRigs {
        env,
        town,
        alpha,
        beta,
        a,
        b,
        convoy,
    }
}

#[test]
fn a_convoy_over_two_rigs_lands_once_with_one_message_when_its_last_bead_closes() {
    let t = two_rigs();
    let show = cv_json(&t.env, &t.town, &["show", &t.convoy]);
    assert_eq!(
        show["progress"],
        serde_json::json!({"closed": 0, "total": 2})
    );
    let rigs: Vec<&str> = show["tracked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["rig"].as_str().unwrap())
        .collect();
    assert_eq!(rigs, ["alpha", "beta"], "{show}");

    support::ok(bead_in(&t.env, &t.alpha, &["close", &t.a]), &["close"]);
    let show = cv_json(&t.env, &t.town, &["show", &t.convoy]);
    assert_eq!(show["status"], "open", "{show}");
    assert_eq!(show["progress"]["closed"], 1);
    assert!(landing_messages(&t.env, &t.town, None).is_empty());

    // The last bead closes from its own rig: that command lands the convoy.
    let out = bead_in(&t.env, &t.beta, &["close", &t.b, "-r", "done"]);
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    support::ok(out, &["close"]);
    assert!(
        said.contains(&format!("Convoy {} landed", t.convoy)),
        "{said}"
    );
    let show = cv_json(&t.env, &t.town, &["show", &t.convoy]);
    assert_eq!(
        (
            show["status"].as_str(),
            show["landings"].as_u64(),
            show["mailed"].as_u64()
        ),
        (Some("landed"), Some(1), Some(1)),
        "{show}"
    );
    assert_eq!(
        show["progress"],
        serde_json::json!({"closed": 2, "total": 2})
    );

    // Whatever runs after it, nothing lands or is sent twice.
    support::ok(bead_in(&t.env, &t.beta, &["close", &t.b]), &["close"]);
    cv_json(&t.env, &t.town, &["list", "--all"]);
    cv_json(&t.env, &t.town, &["show", &t.convoy]);
    assert_eq!(
        cv_json(&t.env, &t.town, &["stranded"]),
        serde_json::json!([])
    );
    assert_eq!(landing_commits(&t.env, &t.town), 1);
    let to_overseer = landing_messages(&t.env, &t.town, None);
    let to_mayor = landing_messages(&t.env, &t.town, Some("mayor"));
    assert_eq!(to_overseer.len(), 1, "{to_overseer:?}");
    assert_eq!(to_mayor.len(), 1, "{to_mayor:?}");
    assert_eq!(
        to_overseer[0]["id"], to_mayor[0]["id"],
        "one message, two recipients"
    );
    assert!(t.env.ref_tip(&t.alpha, "refs/gastown/mail").is_none());

    // Landing twice by hand is refused; adding a bead reopens it.
    let err = cv_err(&t.env, &t.town, &["land", &t.convoy]);
    assert!(err.contains("already landed"), "{err}");
    let c = create_in(&t.env, &t.alpha, "late work", &[]);
    let added = cv_json(&t.env, &t.town, &["add", &t.convoy, &c]);
    assert_eq!(
        (added["reopened"].as_bool(), added["status"].as_str()),
        (Some(true), Some("open"))
    );
    support::ok(bead_in(&t.env, &t.alpha, &["close", &c]), &["close"]);
    let show = cv_json(&t.env, &t.town, &["show", &t.convoy]);
    assert_eq!(
        (show["status"].as_str(), show["landings"].as_u64()),
        (Some("landed"), Some(2))
    );
    assert_eq!(
        landing_messages(&t.env, &t.town, None).len(),
        2,
        "one per landing"
    );
    t.env.assert_fsck_clean(&t.town);
}

/// Close the last bead with a fault point that aborts the process (as kill -9 would) at
/// `fault`; the bead is closed, the landing (or its message) is owed.
fn close_with_fault(t: &TwoRigs, fault: &str) {
    support::ok(bead_in(&t.env, &t.alpha, &["close", &t.a]), &["close"]);
    let program = bin_dir().join("git-bead");
    let out = t
        .env
        .command(program.to_str().unwrap(), &t.beta)
        .env("GT_FAULT", fault)
        .args(["close", &t.b])
        .output()
        .unwrap();
    assert!(
        out.status.code().is_none(),
        "aborted by the fault point: {out:?}"
    );
    let bead = t.env.json_in(&t.beta, "bead", &["show", &t.b]);
    assert_eq!(
        bead[0]["status"], "closed",
        "the close itself was written: {bead}"
    );
}

#[test]
fn a_kill_between_the_close_and_the_landing_is_repaired_by_the_next_command() {
    let t = two_rigs();
    close_with_fault(&t, "convoy-before-land");
    let stored = t.env.git_ok(
        &t.town,
        &[
            "show",
            &format!("refs/gastown/beads:convoys/{}.json", t.convoy),
        ],
    );
    assert!(!stored.contains("landed"), "not landed yet: {stored}");
    // The next command that looks at the convoy sees it complete and lands it.
    let listed = cv_json(&t.env, &t.town, &["list", "--all"]);
    assert_eq!(listed[0]["status"], "landed", "{listed}");
    assert_eq!(landing_commits(&t.env, &t.town), 1);
    assert_eq!(landing_messages(&t.env, &t.town, None).len(), 1);
    cv_json(&t.env, &t.town, &["show", &t.convoy]);
    assert_eq!(landing_messages(&t.env, &t.town, None).len(), 1);

    // Killed after the landing, before its message: the message is sent once, by sync.
    let t = two_rigs();
    close_with_fault(&t, "convoy-before-mail");
    assert_eq!(landing_commits(&t.env, &t.town), 1);
    assert!(landing_messages(&t.env, &t.town, None).is_empty());
    let remote = t.env.path().join("town-remote.git");
    t.env.git_ok(
        t.env.path(),
        &["init", "-q", "--bare", remote.to_str().unwrap()],
    );
    t.env.git_ok(
        &t.town,
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    support::ok(t.env.run_in(&t.town, "gastown", &["sync"]), &["sync"]);
    assert_eq!(landing_messages(&t.env, &t.town, None).len(), 1);
    support::ok(t.env.run_in(&t.town, "gastown", &["sync"]), &["sync"]);
    cv_json(&t.env, &t.town, &["list", "--all"]);
    assert_eq!(landing_messages(&t.env, &t.town, None).len(), 1);
    assert_eq!(landing_commits(&t.env, &t.town), 1);
    let show = cv_json(&t.env, &t.town, &["show", &t.convoy]);
    assert_eq!(show["mailed"], 1, "{show}");
}

#[test]
fn in_a_lone_repository_the_closing_commit_itself_lands_the_convoy() {
    let env = Env::new();
    support::ok(env.bead(&["init", "--prefix", "lo"]), &["init"]);
    let a = env.create("one", &[]);
    let b = env.create("two", &[]);
    let repo = env.repo();
    let id = cv_json(&env, &repo, &["create", "Both", &a, &b])["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.bead_ok(&["close", &a, &b]);
    let subject = env.git_ok(
        &repo,
        &[
            "log",
            "-1",
            "--format=%s",
            "refs/gastown/beads",
            "--grep=^bead close",
        ],
    );
    assert!(subject.contains(&format!("lands convoy {id}")), "{subject}");
    assert_eq!(landing_commits(&env, &repo), 0, "no separate landing write");
    let show = cv_json(&env, &repo, &["show", &id]);
    assert_eq!(
        (show["status"].as_str(), show["mailed"].as_u64()),
        (Some("landed"), Some(1))
    );
    let messages = landing_messages(&env, &repo, None);
    assert_eq!(messages.len(), 1, "{messages:?}");
}

/// An epic with children in a lone repository, from bd JSONL (which may hold a cycle,
/// as a merge of clones can).
fn import(env: &Env, lines: &[Value]) {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let path = env.write("issues.jsonl", &text);
    env.bead_ok(&["import", path.to_str().unwrap()]);
}

fn issue(id: &str, kind: &str, deps: &[(&str, &str)]) -> Value {
    let deps: Vec<Value> = deps
        .iter()
        .map(|(on, t)| serde_json::json!({"issue_id": id, "depends_on_id": on, "type": t}))
        .collect();
    serde_json::json!({
        "id": id, "title": format!("work {id}"), "description": format!("do {id}"),
        "status": "open", "priority": 2, "issue_type": kind,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "dependencies": deps,
    })
}

#[test]
fn staged_waves_are_kahn_levels_and_a_cycle_is_named() {
    let env = Env::new();
    support::ok(env.bead(&["init", "--prefix", "st"]), &["init"]);
    let child = |id: &str, blocks: &[&str]| {
        let mut deps = vec![("st-epic", "parent-child")];
        deps.extend(blocks.iter().map(|b| (*b, "blocks")));
        issue(id, "task", &deps)
    };
    // a, b free; c after a; d after a and c; e after b; f after d and e.
    import(
        &env,
        &[
            issue("st-epic", "epic", &[]),
            child("st-a", &[]),
            child("st-b", &[]),
            child("st-c", &["st-a"]),
            child("st-d", &["st-a", "st-c"]),
            child("st-e", &["st-b"]),
            child("st-f", &["st-d", "st-e"]),
        ],
    );
    let repo = env.repo();
    let staged = cv_json(&env, &repo, &["stage", "st-epic"]);
    let expected = serde_json::json!([["st-a", "st-b"], ["st-c", "st-e"], ["st-d"], ["st-f"]]);
    assert_eq!(staged["waves"], expected, "{staged}");
    let convoy = staged["convoy"].as_str().unwrap().to_string();
    let show = cv_json(&env, &repo, &["show", &convoy]);
    assert_eq!(
        (show["status"].as_str(), show["epic"].as_str()),
        (Some("staged"), Some("st-epic"))
    );
    assert_eq!(show["waves"], expected);
    assert_eq!(show["progress"]["total"], 6);
    let table = support::ok(
        convoy_with(&env, &repo, &[], &["stage", "st-epic"]),
        &["stage"],
    );
    assert!(
        table.contains("Restaged") && table.contains("Wave"),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("4 ") && l.contains("st-f")),
        "{table}"
    );

    // A cycle (as a merge of two clones can make): named, and nothing staged.
    let env = Env::new();
    support::ok(env.bead(&["init", "--prefix", "cy"]), &["init"]);
    let child = |id: &str, blocks: &[&str]| {
        let mut deps = vec![("cy-epic", "parent-child")];
        deps.extend(blocks.iter().map(|b| (*b, "blocks")));
        issue(id, "task", &deps)
    };
    import(
        &env,
        &[
            issue("cy-epic", "epic", &[]),
            child("cy-a", &[]),
            child("cy-b", &["cy-d"]),
            child("cy-c", &["cy-b"]),
            child("cy-d", &["cy-c"]),
        ],
    );
    let repo = env.repo();
    let before = refs(&env, &repo);
    let err = cv_err(&env, &repo, &["stage", "cy-epic"]);
    assert!(
        err.contains("cycle") && err.contains("cy-b → cy-d → cy-c → cy-b"),
        "{err}"
    );
    assert_eq!(refs(&env, &repo), before);

    // Every bead must be described.
    env.bead_ok(&["create", "vague", "--parent", "cy-a"]);
    env.bead_ok(&["dep", "remove", "cy-b", "cy-d"]);
    let err = cv_err(&env, &repo, &["stage", "cy-epic"]);
    assert!(
        err.contains("description") && err.contains("cy-a.1"),
        "{err}"
    );
}

#[test]
fn bad_input_is_one_line_and_changes_nothing() {
    let t = two_rigs();
    let before = (refs(&t.env, &t.town), refs(&t.env, &t.alpha));
    let same = |t: &TwoRigs| {
        assert_eq!((refs(&t.env, &t.town), refs(&t.env, &t.alpha)), before);
    };
    let err = cv_err(&t.env, &t.town, &["show", "hq-cv-nope"]);
    assert!(err.contains("no convoy matches 'hq-cv-nope'"), "{err}");
    let err = cv_err(&t.env, &t.town, &["add", &t.convoy, "al-zzzz"]);
    assert!(err.contains("al-zzzz") && err.contains("alpha"), "{err}");
    let err = cv_err(&t.env, &t.town, &["create", "Nope", &t.a, "zz-1"]);
    assert!(err.contains("zz-1"), "{err}");
    let err = cv_err(&t.env, &t.town, &["create", "  ", &t.a]);
    assert!(err.contains("name"), "{err}");
    let err = cv_err(
        &t.env,
        &t.town,
        &["create", "Who", &t.a, "--owner", "nobody/x/y"],
    );
    assert!(err.contains("nobody/x/y"), "{err}");
    let err = cv_err(&t.env, &t.town, &["remove", &t.convoy, &t.a, "al-zzzz"]);
    assert!(err.contains("al-zzzz"), "{err}");
    let err = cv_err(&t.env, &t.town, &["land", &t.convoy]);
    assert!(err.contains("not complete"), "{err}");
    let err = cv_err(&t.env, &t.town, &["stage", &t.a]);
    assert!(err.contains("no beads under it"), "{err}");
    same(&t);

    cv_json(
        &t.env,
        &t.town,
        &["close", &t.convoy, "--reason", "abandoned"],
    );
    let closed = refs(&t.env, &t.town);
    let err = cv_err(&t.env, &t.town, &["close", &t.convoy, "--reason", "again"]);
    assert!(err.contains("already closed"), "{err}");
    let err = cv_err(&t.env, &t.town, &["add", &t.convoy, &t.b]);
    assert!(err.contains("closed"), "{err}");
    assert_eq!(refs(&t.env, &t.town), closed);

    // An owned convoy closes only by land.
    let owned = cv_json(&t.env, &t.town, &["create", "Mine", &t.a, "--owned"]);
    let id = owned["id"].as_str().unwrap();
    let err = cv_err(&t.env, &t.town, &["close", id, "--reason", "x"]);
    assert!(err.contains("owned") && err.contains("land"), "{err}");
    support::ok(bead_in(&t.env, &t.alpha, &["close", &t.a]), &["close"]);
    let show = cv_json(&t.env, &t.town, &["show", id]);
    assert_eq!(
        show["status"], "open",
        "an owned convoy waits for land: {show}"
    );
    let landed = cv_json(&t.env, &t.town, &["land", id]);
    assert_eq!(landed["beads"], serde_json::json!([t.a]));
    assert_eq!(cv_json(&t.env, &t.town, &["show", id])["status"], "landed");
}

fn scripted() -> Scripted {
    let t = scripted_town("process");
    t.config_set("agent.default", "script");
    t
}

fn convoys_of(t: &Scripted) -> Vec<Value> {
    cv_json(&t.env, &t.repo(), &["list", "--all"])
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn sling_puts_untracked_beads_into_one_work_convoy_unless_no_convoy() {
    let t = scripted();
    let a = t.env.create("first thing", &[]);
    let b = t.env.create("second thing", &[]);
    t.sling_json(&[&a, &b, "repo"]);
    let all = convoys_of(&t);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["name"], "Work: first thing (+1 more)");
    assert_eq!(
        all[0]["beads"],
        serde_json::json!([a.clone(), b.clone()]
            .iter()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>())
    );
    assert_eq!(all[0]["owner"], "overseer");

    // A tracked bead makes no second convoy; --no-convoy makes none.
    let c = t.env.create("third thing", &[]);
    t.sling_json(&[&c, "repo", "--no-convoy"]);
    assert_eq!(convoys_of(&t).len(), 1);
    let d = t.env.create("fourth thing", &[]);
    t.sling_json(&[&d, "repo"]);
    let all = convoys_of(&t);
    assert_eq!(all.len(), 2);
    assert!(
        all.iter().any(|c| c["name"] == "Work: fourth thing"),
        "{all:?}"
    );
}

#[test]
fn a_launched_convoy_feeds_its_next_ready_bead_when_one_closes() {
    let t = scripted();
    let repo = t.repo();
    let a = t.env.create("first step", &[]);
    let b = t.env.create("second step", &[]);
    let c = t.env.create("third step", &[]);
    t.env.bead_ok(&["dep", "add", &b, &a]);
    t.env.bead_ok(&["dep", "add", &c, &b]);
    let id = cv_json(&t.env, &repo, &["create", "Steps", &a, &b, &c])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let launched = cv_json(&t.env, &repo, &["launch", &id]);
    let wave: Vec<&str> = launched["dispatched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["bead"].as_str().unwrap())
        .collect();
    assert_eq!(wave, [a.as_str()], "{launched}");
    assert_eq!(launched["dispatched"][0]["outcome"], "started");
    assert_eq!(t.bead(&b)["status"], "open");

    // Closing a dispatches b, inline, in the closing command.
    let out = t.env.bead(&["close", &a, "--force"]);
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    support::ok(out, &["close"]);
    assert!(said.contains(&format!("Convoy fed {b}: started")), "{said}");
    assert_eq!(t.bead(&b)["status"], "hooked", "{}", t.bead(&b));
    assert_eq!(t.bead(&c)["status"], "open");

    // The scheduler decides: with no slot left, the next one is queued, not started.
    t.config_set("scheduler.max_polecats", "1");
    wait_until("b's session is up", || t.alive_sessions() >= 1);
    let live = t.alive_sessions();
    t.config_set("scheduler.max_polecats", &live.to_string());
    t.env.bead_ok(&["close", &b, "--force"]);
    let queued = t.env.json_in(&repo, "sling", &["queue"]);
    assert_eq!(queued[0]["bead"], c.as_str(), "{queued}");
    assert_eq!(t.bead(&c)["status"], "open");
}

#[test]
fn mountain_skips_a_bead_whose_dispatch_failed_three_times_and_goes_on() {
    let t = scripted();
    let repo = t.repo();
    t.env.git_ok(
        &repo,
        &[
            "config",
            "gastown.runtime.ghost.command",
            "/nonexistent/ghost-cli",
        ],
    );
    let epic = t.env.create("The mountain", &["--type", "epic"]);
    let make = |title: &str| {
        t.env
            .create(title, &["--parent", &epic, "--description", "climb it"])
    };
    let broken = make("broken step");
    let fine = make("fine step");
    let after = make("after the broken one");
    t.env.bead_ok(&["dep", "add", &after, &broken]);
    // Every dispatch of `broken` fails (its runtime's binary is missing) until the breaker.
    for _ in 0..3 {
        let out = t.sling(&[&broken, "repo", "--agent", "ghost", "--no-convoy"]);
        assert_eq!(out.status.code(), Some(1));
    }
    assert_eq!(t.bead(&broken)["dispatch_failures"], 3);

    let out = convoy_with(&t.env, &repo, &[], &["mountain", &epic, "--json"]);
    let text = support::ok(out, &["mountain"]);
    let m: Value = serde_json::from_str(&text).unwrap();
    let mut wave1: Vec<&str> = m["staged"]["waves"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    wave1.sort();
    let mut expected = vec![broken.as_str(), fine.as_str()];
    expected.sort();
    assert_eq!(wave1, expected, "{m}");
    let skipped = m["launched"]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{m}");
    assert_eq!(
        (skipped[0]["bead"].as_str(), skipped[0]["failures"].as_u64()),
        (Some(broken.as_str()), Some(3))
    );
    let started: Vec<&str> = m["launched"]["dispatched"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["outcome"] == "started")
        .map(|d| d["bead"].as_str().unwrap())
        .collect();
    assert_eq!(started, [fine.as_str()], "the rest goes on: {m}");
    let id = m["staged"]["convoy"].as_str().unwrap();
    let show = cv_json(&t.env, &repo, &["show", id]);
    assert_eq!(
        (show["status"].as_str(), show["launched"].as_bool()),
        (Some("open"), Some(true))
    );
    assert_eq!(show["skipped"], serde_json::json!([broken.clone()]));

    // A mountain whose beads fail to start tries each three times, then skips it.
    t.config_set("agent.default", "ghost");
    let epic2 = t.env.create("Second mountain", &["--type", "epic"]);
    let lone = t
        .env
        .create("never starts", &["--parent", &epic2, "--description", "x"]);
    let m = cv_json(&t.env, &repo, &["mountain", &epic2]);
    let attempts = m["launched"]["dispatched"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "{m}");
    assert!(attempts.iter().all(|d| d["outcome"] == "failed"), "{m}");
    assert_eq!(m["launched"]["skipped"][0]["bead"], lone.as_str());
    assert_eq!(t.bead(&lone)["dispatch_failures"], 3);
    assert_eq!(t.bead(&lone)["status"], "open");
}
