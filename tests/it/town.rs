//! Towns, rigs and shared settings (`git gastown init|rig|config`), driven through the real
//! binary on real repositories.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::Env;
use serde_json::Value;

fn gastown(env: &Env, dir: &Path, args: &[&str]) -> Output {
    env.run_in(dir, "gastown", args)
}

fn gt_ok(env: &Env, dir: &Path, args: &[&str]) -> String {
    crate::support::ok(gastown(env, dir, args), args)
}

fn gt_json(env: &Env, dir: &Path, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    let out = gt_ok(env, dir, &args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("bad JSON from {args:?}: {e}\n{out}"))
}

/// Run, assert a failure with one `error:` line, return that line.
fn gt_err(env: &Env, dir: &Path, args: &[&str]) -> String {
    let (code, stderr) = crate::support::err(gastown(env, dir, args), args);
    assert_eq!(code, 1, "{args:?}: {stderr}");
    crate::support::assert_one_line_error(&stderr);
    stderr
}

/// Commits on `refs/gastown/beads` of the repository at `dir` (0 when it has none).
fn writes(env: &Env, dir: &Path) -> usize {
    let out = env.git(dir, &["rev-list", "--count", "refs/gastown/beads", "--"]);
    if !out.status.success() {
        return 0;
    }
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// A project repository with one commit at `<tmp>/<name>`.
fn project(env: &Env, name: &str) -> PathBuf {
    let dir = env.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    env.git_ok(&dir, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("README"), format!("{name}\n")).unwrap();
    env.git_ok(&dir, &["add", "README"]);
    env.git_ok(&dir, &["commit", "-qm", "initial"]);
    std::fs::canonicalize(dir).unwrap()
}

fn local_config(env: &Env, dir: &Path, key: &str) -> Option<String> {
    let out = env.git(dir, &["config", "--local", "--get", key]);
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap().trim().to_string())
}

/// A fresh environment with a town at `<tmp>/town` and a project repository `<tmp>/NAME`
/// registered as rig NAME (with `add_args` after its path), or not registered when `add`
/// is false.
fn town_and_project(name: &str, add: bool, add_args: &[&str]) -> (Env, PathBuf, PathBuf) {
    let env = Env::empty();
    let town = town(&env);
    let proj = project(&env, name);
    if add {
        let mut args = vec!["rig", "add", name, s(&proj)];
        args.extend_from_slice(add_args);
        gt_ok(&env, &town, &args);
    }
    (env, town, proj)
}

/// A bare repository `<tmp>/NAME`, with `from`'s main branch pushed to it.
fn bare_remote(env: &Env, name: &str, from: Option<&Path>) -> PathBuf {
    let bare = env.path().join(name);
    env.git_ok(env.path(), &["init", "-q", "--bare", s(&bare)]);
    if let Some(repo) = from {
        env.git_ok(repo, &["push", "-q", s(&bare), "main"]);
    }
    bare
}

/// A town at `<tmp>/town`.
fn town(env: &Env) -> PathBuf {
    let dir = env.path().join("town");
    gt_ok(env, env.path(), &["init", dir.to_str().unwrap()]);
    std::fs::canonicalize(dir).unwrap()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn init_creates_a_town_and_rerunning_changes_nothing() {
    let env = Env::empty();
    let dir = env.path().join("mytown");
    let info = gt_json(&env, env.path(), &["init", s(&dir)]);
    assert_eq!(info["created"], true);
    assert_eq!(info["name"], "mytown");
    let root = std::fs::canonicalize(&dir).unwrap();
    assert_eq!(info["root"], s(&root));
    let meta = env.git_ok(&root, &["show", "refs/gastown/beads:meta/town.json"]);
    assert!(meta.contains("mytown"), "{meta}");
    let config = env.git_ok(&root, &["show", "refs/gastown/beads:meta/config.json"]);
    assert!(
        config.contains("\"hq\""),
        "the town's beads are hq-: {config}"
    );
    let exclude = std::fs::read_to_string(root.join(".git/info/exclude")).unwrap();
    assert!(exclude.lines().any(|l| l == "/rigs/"), "{exclude}");
    let before = writes(&env, &root);

    let again = gt_json(&env, env.path(), &["init", s(&dir)]);
    assert_eq!(again["created"], false);
    assert_eq!(writes(&env, &root), before, "a re-run writes nothing");
    let exclude_again = std::fs::read_to_string(root.join(".git/info/exclude")).unwrap();
    assert_eq!(exclude, exclude_again);

    // The text form reports it on stderr.
    let out = gastown(&env, env.path(), &["init", s(&dir)]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already initialized"));
}

#[test]
fn init_defaults_to_gt_root_else_home_gt() {
    let env = Env::empty();
    crate::support::ok(
        env.command(
            crate::support::bin_dir()
                .join("git-gastown")
                .to_str()
                .unwrap(),
            env.path(),
        )
        .arg("init")
        .output()
        .unwrap(),
        &["init"],
    );
    assert!(env.home().join("gt/.git").is_dir());
    assert!(env
        .ref_tip(&env.home().join("gt"), "refs/gastown/beads")
        .is_some());

    let root = env.path().join("elsewhere");
    let out = env
        .command(
            crate::support::bin_dir()
                .join("git-gastown")
                .to_str()
                .unwrap(),
            env.path(),
        )
        .env("GT_ROOT", &root)
        .args(["init", "--json"])
        .output()
        .unwrap();
    let info: Value = serde_json::from_str(&crate::support::ok(out, &["init"])).unwrap();
    assert_eq!(info["name"], "elsewhere");
    assert!(root.join(".git").is_dir());
}

#[test]
fn init_inside_a_project_makes_its_own_repository() {
    let env = Env::empty();
    let proj = project(&env, "proj");
    let inner = proj.join("hq");
    gt_ok(&env, &proj, &["init", "hq"]);
    assert!(
        inner.join(".git").is_dir(),
        "DIR became a repository of its own"
    );
    assert!(
        env.ref_tip(&proj, "refs/gastown/beads").is_none(),
        "the project did not become a town"
    );
}

#[test]
fn a_rig_of_a_town_cannot_become_a_town() {
    let (env, _town, proj) = town_and_project("proj", true, &[]);
    let before = writes(&env, &proj);
    let err = gt_err(&env, env.path(), &["init", s(&proj)]);
    assert!(err.contains("rig of another town"), "{err}");
    assert_eq!(writes(&env, &proj), before);
}

#[test]
fn rig_add_registers_a_local_repository_in_place() {
    let (env, town, proj) = town_and_project("proj", false, &[]);
    let town_writes = writes(&env, &town);

    let rig = gt_json(
        &env,
        &town,
        &["rig", "add", "web", s(&proj), "--prefix", "wb"],
    );
    assert_eq!(rig["name"], "web");
    assert_eq!(rig["path"], s(&proj));
    assert_eq!(rig["prefix"], "wb");
    assert_eq!(rig["parked"], false);
    assert_eq!(rig["changed"], true);
    assert_eq!(rig["cloned"], false);
    assert_eq!(rig["initialized"], true);
    assert_eq!(rig["agents_dir"], s(&town.join("rigs/web")));
    assert_eq!(
        writes(&env, &town),
        town_writes + 1,
        "one write in the town"
    );
    assert!(!proj.join("repo").exists(), "kept in place");

    assert_eq!(
        local_config(&env, &proj, "gastown.town").as_deref(),
        Some(s(&town))
    );
    assert_eq!(
        local_config(&env, &proj, "gastown.rig").as_deref(),
        Some("web")
    );
    let prefix = crate::support::ok(
        env.run_in(&proj, "bead", &["config", "get", "prefix"]),
        &["bead config get prefix"],
    );
    assert_eq!(prefix.trim(), "wb", "the rig's bead store has the prefix");

    // Commands in the rig, and in any of its worktrees, find the town.
    let wt = env.path().join("proj-wt");
    env.git_ok(&proj, &["worktree", "add", "-q", s(&wt)]);
    for dir in [&proj, &wt] {
        let shown = gt_json(&env, dir, &["rig", "show"]);
        assert_eq!(shown["name"], "web", "from {}", dir.display());
        let list = gt_json(&env, dir, &["rig", "list"]);
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["lone"], false);
    }

    // Adding it again the same way changes nothing.
    let rig_writes = writes(&env, &proj);
    let town_writes = writes(&env, &town);
    let again = gt_json(&env, &town, &["rig", "add", "web", s(&proj)]);
    assert_eq!(again["changed"], false);
    assert_eq!(writes(&env, &town), town_writes);
    assert_eq!(writes(&env, &proj), rig_writes);
}

#[test]
fn rig_add_keeps_an_existing_bead_store_and_its_prefix() {
    let (env, town, proj) = town_and_project("proj", false, &[]);
    crate::support::ok(
        env.run_in(&proj, "bead", &["init", "--prefix", "pj"]),
        &["bead init"],
    );
    let rig = gt_json(&env, &town, &["rig", "add", "proj", s(&proj)]);
    assert_eq!(rig["prefix"], "pj");
    assert_eq!(rig["initialized"], false);

    let other = project(&env, "other");
    crate::support::ok(
        env.run_in(&other, "bead", &["init", "--prefix", "ot"]),
        &["bead init"],
    );
    let before = writes(&env, &town);
    let err = gt_err(
        &env,
        &town,
        &["rig", "add", "other", s(&other), "--prefix", "zz"],
    );
    assert!(err.contains("already has beads with prefix 'ot'"), "{err}");
    assert_eq!(writes(&env, &town), before);
    assert_eq!(local_config(&env, &other, "gastown.town"), None);
}

#[test]
fn rig_add_by_url_clones_into_the_town_with_its_gastown_state() {
    let env = Env::empty();
    let town = town(&env);
    // An upstream project that shares its beads through a bare remote.
    let upstream = project(&env, "upstream");
    let bare = bare_remote(&env, "upstream.git", Some(&upstream));
    crate::support::ok(
        env.run_in(&upstream, "bead", &["init", "--prefix", "up"]),
        &["bead init"],
    );
    crate::support::ok(
        env.run_in(&upstream, "bead", &["create", "shared work"]),
        &["create"],
    );
    gt_ok(&env, &upstream, &["sync", s(&bare)]);

    let url = format!("file://{}", bare.display());
    let rig = gt_json(&env, &town, &["rig", "add", "api", &url]);
    let clone = town.join("rigs/api/repo");
    assert_eq!(rig["path"], s(&clone));
    assert_eq!(rig["url"], url.as_str());
    assert_eq!(rig["cloned"], true);
    assert_eq!(rig["prefix"], "up", "the origin's bead store came along");
    assert_eq!(rig["initialized"], false);
    assert!(clone.join("README").is_file());
    let beads = crate::support::ok(
        env.run_in(&clone, "bead", &["list", "--json"]),
        &["bead list"],
    );
    assert!(beads.contains("shared work"), "{beads}");
    assert_eq!(
        local_config(&env, &clone, "gastown.rig").as_deref(),
        Some("api")
    );
    let shown = gt_json(&env, &clone, &["rig", "show"]);
    assert_eq!(shown["is_git_repo"], true);
    assert_eq!(shown["knows_town"], true);
    // The town repository does not see its rigs' clones as its own files.
    let status = env.git_ok(&town, &["status", "--porcelain"]);
    assert!(!status.contains("rigs"), "{status}");

    // A plain bare repository path works as a URL too; it gets a new bead store.
    let plain = bare_remote(&env, "plain.git", Some(&upstream));
    let rig = gt_json(&env, &town, &["rig", "add", "plain", s(&plain)]);
    assert_eq!(rig["cloned"], true);
    assert_eq!(rig["initialized"], true);
    assert_eq!(rig["prefix"], "plain");
    assert!(town.join("rigs/plain/repo/.git").is_dir());

    // A source that is no repository and no URL is refused; a clone that fails leaves
    // nothing behind.
    let before = writes(&env, &town);
    let err = gt_err(&env, &town, &["rig", "add", "gone", "../missing"]);
    assert!(
        err.contains("neither a local repository nor a URL"),
        "{err}"
    );
    let missing = format!("file://{}", env.path().join("missing.git").display());
    let (code, stderr) =
        crate::support::err(gastown(&env, &town, &["rig", "add", "gone", &missing]), &[]);
    assert_eq!(code, 5, "{stderr}");
    crate::support::assert_one_line_error(&stderr);
    assert!(!town.join("rigs/gone").exists());
    assert_eq!(writes(&env, &town), before);
}

#[test]
fn duplicates_are_refused_and_nothing_changes() {
    let (env, town, proj) = town_and_project("web", true, &["--prefix", "wb"]);
    let other = project(&env, "other");
    let before = (writes(&env, &town), writes(&env, &proj));

    let err = gt_err(&env, &town, &["rig", "add", "web", s(&other)]);
    assert!(err.contains("a rig named 'web' already exists"), "{err}");
    let err = gt_err(&env, &town, &["rig", "add", "web2", s(&proj)]);
    assert!(err.contains("is already rig 'web'"), "{err}");
    let err = gt_err(
        &env,
        &town,
        &["rig", "add", "other", s(&other), "--prefix", "wb"],
    );
    assert!(err.contains("prefix 'wb' is already rig 'web''s"), "{err}");
    let err = gt_err(
        &env,
        &town,
        &["rig", "add", "other", s(&other), "--prefix", "hq"],
    );
    assert!(err.contains("the town's own"), "{err}");
    let err = gt_err(&env, &town, &["rig", "add", "self", s(&town)]);
    assert!(err.contains("cannot be one of its own rigs"), "{err}");

    assert_eq!((writes(&env, &town), writes(&env, &proj)), before);
    assert_eq!(
        writes(&env, &other),
        0,
        "the refused repository got no bead store"
    );
    assert_eq!(local_config(&env, &other, "gastown.town"), None);
    assert_eq!(local_config(&env, &other, "gastown.rig"), None);

    // A clone whose prefix is taken is removed again.
    let bare = bare_remote(&env, "wb.git", Some(&proj));
    gt_ok(&env, &proj, &["sync", s(&bare)]);
    let err = gt_err(&env, &town, &["rig", "add", "copy", s(&bare)]);
    assert!(err.contains("prefix 'wb'"), "{err}");
    assert!(!town.join("rigs/copy").exists(), "the clone was removed");
    assert_eq!(writes(&env, &town), before.0);

    // A repository of another town is refused.
    let town2 = env.path().join("town2");
    gt_ok(&env, env.path(), &["init", s(&town2)]);
    let err = gt_err(&env, &town2, &["rig", "add", "web", s(&proj)]);
    assert!(err.contains("already belongs to the town"), "{err}");
}

#[test]
fn bad_rig_names_and_unknown_rigs_are_one_line_errors() {
    let (env, town, proj) = town_and_project("proj", false, &[]);
    let before = writes(&env, &town);
    for bad in ["../x", "a/b", "Web", "", ".hidden", "x y", "-x"] {
        let err = gt_err(&env, &town, &["rig", "add", "--", bad, s(&proj)]);
        assert!(err.contains("bad rig name"), "{bad:?}: {err}");
    }
    for verb in ["show", "remove", "park", "unpark"] {
        let err = gt_err(&env, &town, &["rig", verb, "nope"]);
        assert!(err.contains("no rig named 'nope'"), "{verb}: {err}");
        let err = gt_err(&env, &town, &["rig", verb, "../etc"]);
        assert!(err.contains("bad rig name"), "{verb}: {err}");
    }
    let err = gt_err(
        &env,
        &town,
        &["config", "get", "agent.default", "--rig", "nope"],
    );
    assert!(err.contains("no rig named 'nope'"), "{err}");
    // --json errors are an object on stdout too.
    let out = gastown(&env, &town, &["rig", "show", "nope", "--json"]);
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["kind"], "invalid");
    assert_eq!(writes(&env, &town), before);
    assert_eq!(writes(&env, &proj), 0);
    assert!(!town.join("rigs").exists());
}

#[test]
fn park_unpark_remove_and_add_again() {
    let (env, town, proj) = town_and_project("web", true, &["--prefix", "wb"]);

    let parked = gt_json(&env, &town, &["rig", "park", "web"]);
    assert_eq!(parked["parked"], true);
    let count = writes(&env, &town);
    gt_ok(&env, &town, &["rig", "park", "web"]);
    assert_eq!(
        writes(&env, &town),
        count,
        "parking a parked rig writes nothing"
    );
    let list = gt_ok(&env, &town, &["rig", "list"]);
    assert!(list.contains("parked"), "{list}");
    let shown = gt_ok(&env, &town, &["rig", "show", "web"]);
    assert!(shown.contains("state:      parked"), "{shown}");
    let unparked = gt_json(&env, &town, &["rig", "unpark", "web"]);
    assert_eq!(unparked["parked"], false);

    let removed = gt_json(&env, &town, &["rig", "remove", "web"]);
    assert_eq!(removed["name"], "web");
    assert_eq!(
        gt_json(&env, &town, &["rig", "list"]),
        serde_json::json!([])
    );
    gt_err(&env, &town, &["rig", "show", "web"]);
    assert!(proj.join("README").is_file(), "the repository stays");
    assert_eq!(
        local_config(&env, &proj, "gastown.town"),
        None,
        "the rig forgot its town"
    );
    // On its own again, it is a town of one rig.
    let lone = gt_json(&env, &proj, &["rig", "list"]);
    assert_eq!(lone[0]["lone"], true);
    assert_eq!(lone[0]["prefix"], "wb");

    // Its prefix is free again, and adding it back revives the record.
    let again = gt_json(&env, &town, &["rig", "add", "web", s(&proj)]);
    assert_eq!(again["revived"], true);
    assert_eq!(again["initialized"], false);
    assert_eq!(again["prefix"], "wb");
    assert_eq!(
        local_config(&env, &proj, "gastown.rig").as_deref(),
        Some("web")
    );
    let log = env.git_ok(
        &town,
        &[
            "log",
            "--format=%s",
            "refs/gastown/beads",
            "--",
            "rigs/web.json",
        ],
    );
    let subjects: Vec<&str> = log.lines().collect();
    assert_eq!(
        subjects.len(),
        5,
        "add, park, unpark, remove, add: {subjects:?}"
    );
    assert!(subjects[0].starts_with("rig add web"));
    assert_eq!(subjects[1], "rig remove web");
}

#[test]
fn park_and_remove_of_a_cloned_rig_keep_its_clone_for_the_next_add() {
    let (env, town, proj) = town_and_project("proj", false, &[]);
    let bare = bare_remote(&env, "p.git", Some(&proj));
    gt_ok(&env, &town, &["rig", "add", "api", s(&bare)]);
    gt_ok(&env, &town, &["rig", "remove", "api"]);
    assert!(town.join("rigs/api/repo/.git").is_dir());
    let again = gt_json(&env, &town, &["rig", "add", "api", s(&bare)]);
    assert_eq!(again["revived"], true);
    assert_eq!(again["cloned"], false, "the kept clone is used");
    assert_eq!(again["prefix"], "api");
}

#[test]
fn settings_take_the_rig_then_the_town_then_the_default() {
    let env = Env::empty();
    let town = town(&env);
    let web = project(&env, "web");
    let api = project(&env, "api");
    gt_ok(&env, &town, &["rig", "add", "web", s(&web)]);
    gt_ok(&env, &town, &["rig", "add", "api", s(&api)]);
    let key = "scheduler.max_polecats";

    let default = gt_json(&env, &town, &["config", "get", key]);
    assert_eq!(default["value"], 0);
    assert_eq!(default["source"], "default");

    let set = gt_json(&env, &town, &["config", "set", key, "3"]);
    assert_eq!(set["source"], "town");
    assert_eq!(set["value"], 3);
    assert_eq!(set["changed"], true);
    let set = gt_json(&env, &town, &["config", "set", key, "5", "--rig", "web"]);
    assert_eq!(set["source"], "rig");
    assert_eq!(set["rig"], "web");

    let get = |dir: &Path, extra: &[&str]| {
        let mut args = vec!["config", "get", key];
        args.extend_from_slice(extra);
        gt_json(&env, dir, &args)
    };
    assert_eq!(get(&town, &["--rig", "web"])["value"], 5);
    assert_eq!(get(&town, &["--rig", "web"])["source"], "rig");
    assert_eq!(get(&town, &["--rig", "api"])["value"], 3);
    assert_eq!(get(&town, &["--rig", "api"])["source"], "town");
    assert_eq!(get(&town, &[])["value"], 3);
    // Inside a rig, its own view is the default.
    assert_eq!(get(&web, &[])["value"], 5);
    assert_eq!(get(&api, &[])["source"], "town");
    let text = gt_ok(&env, &web, &["config", "get", key]);
    assert_eq!(text, "5\n");

    // The rig's value lives in the rig's store, the town's in the town's.
    let in_rig = env.git_ok(
        &web,
        &["show", &format!("refs/gastown/beads:settings/{key}.json")],
    );
    assert!(in_rig.contains("\"v\":5"), "{in_rig}");
    let in_town = env.git_ok(
        &town,
        &["show", &format!("refs/gastown/beads:settings/{key}.json")],
    );
    assert!(in_town.contains("\"v\":3"), "{in_town}");

    let list = gt_ok(&env, &web, &["config", "list"]);
    assert!(list.contains(&format!("{key} = 5  (rig web)")), "{list}");
    assert!(list.contains("agent.default = claude  (default)"), "{list}");
    let list = gt_json(&env, &town, &["config", "list", "--rig", "api"]);
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap();
    assert_eq!(row["source"], "town");

    // Setting the same value again writes nothing; unset falls back a layer.
    let count = writes(&env, &web);
    let same = gt_json(&env, &town, &["config", "set", key, "5", "--rig", "web"]);
    assert_eq!(same["changed"], false);
    assert_eq!(writes(&env, &web), count);
    gt_ok(&env, &town, &["config", "unset", key, "--rig", "web"]);
    assert_eq!(get(&web, &[])["source"], "town");
    gt_ok(&env, &town, &["config", "unset", key]);
    assert_eq!(get(&web, &[])["source"], "default");

    // Values are typed and normalised.
    assert_eq!(
        gt_json(&env, &town, &["config", "set", "dispatch.auto", "on"])["value"],
        true
    );
    assert_eq!(
        gt_json(
            &env,
            &town,
            &["config", "set", "sandbox.copy", ".env, .envrc"]
        )["value"],
        serde_json::json!([".env", ".envrc"])
    );
    assert_eq!(
        gt_ok(&env, &town, &["config", "get", "sandbox.copy"]),
        ".env,.envrc\n"
    );
    gt_ok(
        &env,
        &town,
        &["config", "set", "merge_queue.gates.test", "cargo test"],
    );
    assert_eq!(
        gt_ok(&env, &town, &["config", "get", "merge_queue.gates.test"]),
        "cargo test\n"
    );
}

#[test]
fn bad_settings_are_refused_and_nothing_changes() {
    let (env, town, web) = town_and_project("web", true, &[]);
    let before = (writes(&env, &town), writes(&env, &web));
    let cases: [(&[&str], &str); 7] = [
        (
            &["config", "set", "scheduler.max_polecats", "abc"],
            "expected a whole number",
        ),
        (
            &["config", "set", "scheduler.max_polecats", "-1"],
            "expected a whole number",
        ),
        (
            &["config", "set", "dispatch.auto", "maybe"],
            "expected true or false",
        ),
        (
            &["config", "set", "patrol.stuck_after", "soon"],
            "expected a duration",
        ),
        (
            &["config", "set", "no.such_key", "1"],
            "unknown setting 'no.such_key'",
        ),
        (
            &["config", "set", "merge_queue.gates.a/b", "x"],
            "unknown setting",
        ),
        (
            &["config", "unset", "../../etc", "--rig", "web"],
            "unknown setting",
        ),
    ];
    for (args, expected) in cases {
        let err = gt_err(&env, &town, args);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    let err = gt_err(&env, &town, &["config", "get", "no.such_key"]);
    assert!(err.contains("unknown setting"), "{err}");
    let err = gt_err(
        &env,
        &town,
        &[
            "config",
            "set",
            "scheduler.max_polecats",
            "abc",
            "--rig",
            "web",
        ],
    );
    assert!(err.contains("expected a whole number"), "{err}");
    assert_eq!((writes(&env, &town), writes(&env, &web)), before);
}

#[test]
fn known_settings_are_listed_with_type_default_and_meaning() {
    let env = Env::empty();
    let known = gt_json(&env, env.path(), &["config", "list", "--known"]);
    let rows = known.as_array().unwrap();
    let row = rows
        .iter()
        .find(|r| r["key"] == "scheduler.max_polecats")
        .unwrap();
    assert_eq!(row["type"], "int");
    assert_eq!(row["default"], "0");
    assert!(row["about"].as_str().unwrap().contains("polecat"));
    let gates = rows
        .iter()
        .find(|r| r["key"] == "merge_queue.gates.*")
        .unwrap();
    assert_eq!(gates["default"], Value::Null);
    for key in ["namepool.theme", "sandbox.setup", "agent.default"] {
        assert!(rows.iter().any(|r| r["key"] == key), "{key}");
    }
    let text = gt_ok(&env, env.path(), &["config", "list", "--known"]);
    assert_eq!(text.lines().count(), rows.len());
    assert!(text.contains("(default mad-max)"), "{text}");
}

#[test]
fn text_output_escapes_control_characters() {
    let env = Env::new();
    crate::support::ok(env.bead(&["init", "--prefix", "gt"]), &["init"]);
    let repo = env.repo();
    gt_ok(
        &env,
        &repo,
        &["config", "set", "sandbox.setup", "make\u{1b}[2J setup"],
    );
    let text = gt_ok(&env, &repo, &["config", "get", "sandbox.setup"]);
    assert_eq!(text, "make\\u{1b}[2J setup\n");
    let json = gt_json(&env, &repo, &["config", "get", "sandbox.setup"]);
    assert_eq!(
        json["value"], "make\u{1b}[2J setup",
        "JSON carries the text exactly"
    );
    let err = gt_err(
        &env,
        &repo,
        &["config", "set", "sandbox.setup", "two\nlines"],
    );
    assert!(err.contains("one line of text"), "{err}");
}

#[test]
fn a_lone_repository_is_a_town_of_one_rig() {
    let env = Env::new();
    let repo = std::fs::canonicalize(env.repo()).unwrap();
    let list = gt_json(&env, &repo, &["rig", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "repo");
    assert_eq!(list[0]["lone"], true);
    assert_eq!(list[0]["path"], s(&repo));
    let shown = gt_json(&env, &repo, &["rig", "show"]);
    assert_eq!(shown["is_git_repo"], true);
    assert_eq!(
        gt_json(&env, &repo, &["rig", "show", "repo"])["name"],
        "repo"
    );

    // Settings need the bead store (not a town).
    let err = gt_err(
        &env,
        &repo,
        &["config", "set", "namepool.theme", "minerals"],
    );
    assert!(err.contains("git bead init"), "{err}");
    crate::support::ok(env.bead(&["init", "--prefix", "gt"]), &["init"]);
    let set = gt_json(
        &env,
        &repo,
        &["config", "set", "namepool.theme", "minerals"],
    );
    assert_eq!(set["changed"], true);
    let get = gt_json(&env, &repo, &["config", "get", "namepool.theme"]);
    assert_eq!(get["value"], "minerals");
    assert_eq!(get["source"], "town");
    // Naming itself as the rig is the same single layer.
    let get = gt_json(
        &env,
        &repo,
        &["config", "get", "namepool.theme", "--rig", "repo"],
    );
    assert_eq!(get["value"], "minerals");
    assert_eq!(gt_json(&env, &repo, &["rig", "list"])[0]["prefix"], "gt");

    // Registry changes need a town.
    let before = writes(&env, &repo);
    let other = project(&env, "other");
    for args in [
        &["rig", "add", "other", s(&other)][..],
        &["rig", "park", "repo"],
        &["rig", "remove", "repo"],
    ] {
        let err = gt_err(&env, &repo, args);
        assert!(err.contains("git gastown init"), "{args:?}: {err}");
    }
    assert_eq!(writes(&env, &repo), before);
    assert_eq!(writes(&env, &other), 0);
    assert!(env.ref_tip(&repo, "refs/gastown/beads").is_some());
}

#[test]
fn outside_any_repository_commands_use_the_default_town() {
    let env = Env::empty();
    let err = gt_err(&env, env.path(), &["rig", "list"]);
    assert!(err.contains("git gastown init"), "{err}");
    gt_ok(&env, env.path(), &["init"]);
    let proj = project(&env, "proj");
    gt_ok(&env, env.path(), &["rig", "add", "proj", s(&proj)]);
    let list = gt_json(&env, env.path(), &["rig", "list"]);
    assert_eq!(list[0]["name"], "proj");
    assert_eq!(
        local_config(&env, &proj, "gastown.town").as_deref(),
        Some(s(&std::fs::canonicalize(env.home().join("gt")).unwrap()))
    );
}

#[test]
fn settings_and_rigs_sync_between_clones_of_a_town() {
    let (env, town, proj) = town_and_project("web", true, &["--prefix", "wb"]);
    let upstream = bare_remote(&env, "api.git", Some(&proj));
    gt_ok(
        &env,
        &town,
        &["rig", "add", "api", s(&upstream), "--prefix", "api"],
    );
    let stored = env.git_ok(&town, &["show", "refs/gastown/beads:rigs/api.json"]);
    assert!(
        stored.contains("\"rigs/api/repo\""),
        "a clone's path is kept relative: {stored}"
    );
    gt_ok(
        &env,
        &town,
        &["config", "set", "scheduler.max_polecats", "3"],
    );
    let bare = bare_remote(&env, "town.git", None);
    gt_ok(&env, &town, &["sync", s(&bare)]);

    let other = env.path().join("town-b");
    env.git_ok(env.path(), &["clone", "-q", s(&bare), s(&other)]);
    gt_ok(&env, &other, &["sync"]);
    let list = gt_json(&env, &other, &["rig", "list"]);
    assert_eq!(
        list.as_array().unwrap().len(),
        2,
        "the clone is a town with the registry"
    );
    assert_eq!(list[0]["name"], "api");
    let other_root = std::fs::canonicalize(&other).unwrap();
    assert_eq!(list[0]["path"], s(&other_root.join("rigs/api/repo")));
    let shown = gt_json(&env, &other, &["rig", "show", "api"]);
    assert_eq!(shown["path_exists"], false, "not cloned on this side yet");
    assert_eq!(list[1]["name"], "web");
    assert_eq!(list[1]["prefix"], "wb");
    let get = gt_json(&env, &other, &["config", "get", "scheduler.max_polecats"]);
    assert_eq!(get["value"], 3);

    // Different keys on each side both survive; the same key converges on one value.
    gt_ok(
        &env,
        &other,
        &["config", "set", "namepool.theme", "minerals"],
    );
    gt_ok(&env, &other, &["config", "set", "agent.default", "codex"]);
    gt_ok(
        &env,
        &town,
        &["config", "set", "scheduler.max_polecats", "7"],
    );
    gt_ok(&env, &town, &["config", "set", "agent.default", "gemini"]);
    gt_ok(&env, &town, &["rig", "park", "web"]);
    gt_ok(&env, &other, &["sync"]);
    gt_ok(&env, &town, &["sync", s(&bare)]);
    gt_ok(&env, &other, &["sync"]);
    let a = gt_json(&env, &town, &["config", "list"]);
    let b = gt_json(&env, &other, &["config", "list"]);
    assert_eq!(a, b, "both clones converge");
    let value = |list: &Value, key: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == key)
            .unwrap()["value"]
            .clone()
    };
    assert_eq!(value(&a, "namepool.theme"), "minerals");
    assert_eq!(value(&a, "scheduler.max_polecats"), 7);
    let agent = value(&a, "agent.default");
    assert!(agent == "codex" || agent == "gemini", "{agent}");
    assert_eq!(gt_json(&env, &other, &["rig", "list"])[1]["parked"], true);
}

#[test]
fn settings_sync_between_clones_of_a_lone_repository() {
    let env = Env::new();
    let repo = env.repo();
    crate::support::ok(env.bead(&["init", "--prefix", "gt"]), &["init"]);
    let bare = bare_remote(&env, "remote.git", None);
    gt_ok(
        &env,
        &repo,
        &["config", "set", "merge_queue.batch_size", "4"],
    );
    gt_ok(&env, &repo, &["sync", s(&bare)]);
    let other = env.path().join("other");
    env.git_ok(env.path(), &["clone", "-q", s(&bare), s(&other)]);
    gt_ok(&env, &other, &["sync"]);
    assert_eq!(
        gt_json(&env, &other, &["config", "get", "merge_queue.batch_size"])["value"],
        4
    );
    gt_ok(&env, &other, &["config", "unset", "merge_queue.batch_size"]);
    gt_ok(&env, &other, &["sync"]);
    gt_ok(&env, &repo, &["sync", s(&bare)]);
    let get = gt_json(&env, &repo, &["config", "get", "merge_queue.batch_size"]);
    assert_eq!(get["source"], "default", "the later unset wins");
}

#[test]
fn rig_show_reports_a_missing_or_foreign_rig_directory() {
    let (env, town, web) = town_and_project("web", true, &[]);
    let shown = gt_json(&env, &town, &["rig", "show", "web"]);
    assert_eq!(shown["path_exists"], true);
    assert_eq!(shown["is_git_repo"], true);
    assert_eq!(shown["knows_town"], true);
    assert_eq!(shown["agents_dir_exists"], false);
    let text = gt_ok(&env, &town, &["rig", "show", "web"]);
    assert!(text.contains("(git repository)"), "{text}");
    assert!(text.contains("(not created yet)"), "{text}");

    // Its git config names another town: shown, not hidden.
    env.git_ok(&web, &["config", "gastown.town", "/elsewhere"]);
    let shown = gt_json(&env, &town, &["rig", "show", "web"]);
    assert_eq!(shown["knows_town"], false);

    std::fs::rename(&web, env.path().join("moved")).unwrap();
    let shown = gt_json(&env, &town, &["rig", "show", "web"]);
    assert_eq!(shown["path_exists"], false);
    assert_eq!(shown["is_git_repo"], false);
    let text = gt_ok(&env, &town, &["rig", "show", "web"]);
    assert!(text.contains("(missing)"), "{text}");
    // It can still be removed.
    gt_ok(&env, &town, &["rig", "remove", "web"]);
    assert_eq!(
        gt_json(&env, &town, &["rig", "list"]),
        serde_json::json!([])
    );
}
