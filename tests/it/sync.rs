//! `git gastown sync`: clones of one repository exchanging bead state through a bare
//! remote, one merge rule per test.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::{self, Env};
use serde_json::Value;

/// A bare remote plus named clones of it, all with a hermetic git environment.
struct Net {
    env: Env,
}

impl Net {
    /// A remote whose bead store was created (and pushed) by clone `a`.
    fn new() -> Net {
        let net = Net { env: Env::empty() };
        net.env
            .git_ok(net.env.path(), &["init", "-q", "--bare", "remote.git"]);
        let a = net.dir("a");
        std::fs::create_dir_all(&a).unwrap();
        net.env.git_ok(&a, &["init", "-q", "-b", "main"]);
        net.env
            .git_ok(&a, &["remote", "add", "origin", "../remote.git"]);
        net.bead(&a, "alice", &["init", "--prefix", "gt"]);
        net.sync(&a);
        net
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.env.path().join(name)
    }

    fn remote(&self) -> PathBuf {
        self.dir("remote.git")
    }

    /// `git clone` the remote (which copies no gastown refs) and sync once.
    fn clone(&self, name: &str) -> PathBuf {
        self.env
            .git_ok(self.env.path(), &["clone", "-q", "remote.git", name]);
        let dir = self.dir(name);
        let first = self.sync(&dir);
        assert_eq!(
            first["up_to_date"], false,
            "a fresh clone takes the state: {first}"
        );
        dir
    }

    fn bead_out(&self, dir: &Path, actor: &str, args: &[&str]) -> std::process::Output {
        let mut all = args.to_vec();
        all.extend(["--json", "--actor", actor]);
        self.env.run_in(dir, "bead", &all)
    }

    fn bead(&self, dir: &Path, actor: &str, args: &[&str]) -> Value {
        let out = support::ok(self.bead_out(dir, actor, args), args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
    }

    fn create(&self, dir: &Path, actor: &str, title: &str, extra: &[&str]) -> String {
        let mut args = vec!["create", title];
        args.extend_from_slice(extra);
        self.bead(dir, actor, &args)["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn show(&self, dir: &Path, id: &str) -> Value {
        self.bead(dir, "reader", &["show", id])[0].clone()
    }

    fn sync(&self, dir: &Path) -> Value {
        let out = support::ok(
            self.env.run_in(dir, "gastown", &["sync", "--json"]),
            &["sync"],
        );
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("sync: {e}: {out}"))
    }

    fn tip(&self, dir: &Path) -> Option<String> {
        self.env.ref_tip(dir, "refs/gastown/beads")
    }

    fn tree(&self, dir: &Path) -> String {
        self.env
            .git_ok(dir, &["rev-parse", "refs/gastown/beads^{tree}"])
            .trim()
            .to_string()
    }

    /// Sync every clone twice in turn: afterwards all hold the same state.
    fn settle(&self, dirs: &[&Path]) {
        for _ in 0..2 {
            for dir in dirs {
                self.sync(dir);
            }
        }
        let first = self.tree(dirs[0]);
        for dir in dirs {
            assert_eq!(self.tree(dir), first, "{} did not converge", dir.display());
            assert_eq!(
                self.tip(dir),
                self.tip(dirs[0]),
                "after settling, clones share the tip"
            );
        }
    }

    fn ids(&self, dir: &Path) -> Vec<String> {
        let list = self.bead(dir, "reader", &["list", "--all", "--limit", "0"]);
        let mut ids: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    }
}

fn deps_of(bead: &Value) -> Vec<String> {
    let mut out: Vec<String> = bead["dependencies"]
        .as_array()
        .map(|deps| {
            deps.iter()
                .map(|d| d["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn labels_of(bead: &Value) -> Vec<String> {
    bead["labels"]
        .as_array()
        .map(|l| l.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn fresh_clone_gets_everything_with_one_sync_and_a_second_sync_is_a_no_op() {
    let net = Net::new();
    let a = net.dir("a");
    let ids: Vec<String> = (0..3)
        .map(|i| net.create(&a, "alice", &format!("bead {i}"), &[]))
        .collect();
    let pushed = net.sync(&a);
    assert_eq!(pushed["pushed"], serde_json::json!(["beads"]));
    let b = net.clone("b");
    assert_eq!(net.ids(&b), {
        let mut sorted = ids.clone();
        sorted.sort();
        sorted
    });
    assert_eq!(net.tree(&a), net.tree(&b));
    let config = net.bead(&b, "bob", &["config", "list"]);
    assert!(
        config.to_string().contains("\"gt\""),
        "settings travel too: {config}"
    );

    let remote_before = net.env.ref_tip(&net.remote(), "refs/gastown/beads");
    let local_before = net.tip(&b);
    let again = net.sync(&b);
    assert_eq!(again["up_to_date"], true, "{again}");
    assert_eq!(again["pushed"], serde_json::json!([]));
    assert_eq!(again["fetched"], false);
    assert_eq!(net.tip(&b), local_before, "no commit when nothing changed");
    assert_eq!(
        net.env.ref_tip(&net.remote(), "refs/gastown/beads"),
        remote_before
    );
    // The remote's state is kept in a namespace of its own.
    assert_eq!(
        net.env.ref_tip(&b, "refs/gastown-remotes/origin/beads"),
        remote_before
    );
    let human = support::ok(net.env.run_in(&b, "gastown", &["sync"]), &["sync"]);
    assert!(human.is_empty(), "status goes to stderr: {human}");
}

#[test]
fn different_fields_are_both_kept_and_the_later_clock_wins_a_field() {
    let net = Net::new();
    let a = net.dir("a");
    let id = net.create(&a, "alice", "shared", &[]);
    net.sync(&a);
    let b = net.clone("b");
    // Alice writes four times, the title last; Bob writes the title once, later in wall
    // time. Alice's title carries the larger Lamport clock and wins on every clone.
    for (flag, value) in [("--notes", "n"), ("--design", "d"), ("--description", "x")] {
        net.bead(&a, "alice", &["update", &id, flag, value]);
    }
    net.bead(&a, "alice", &["update", &id, "--title", "alice's title"]);
    std::thread::sleep(Duration::from_millis(20));
    net.bead(
        &b,
        "bob",
        &["update", &id, "--title", "bob's title", "--priority", "0"],
    );
    net.sync(&a);
    let merged = net.sync(&b);
    assert_eq!(merged["collections"][0]["action"], "merged", "{merged}");
    assert_eq!(merged["conflicts"], 1, "both wrote the title: {merged}");
    assert_eq!(merged["changed"], 1);
    net.settle(&[&a, &b]);
    for dir in [&a, &b] {
        let bead = net.show(dir, &id);
        assert_eq!(bead["title"], "alice's title");
        assert_eq!(bead["priority"], 0, "bob's other field is kept");
        assert_eq!(bead["notes"], "n");
        assert_eq!(bead["design"], "d");
    }
    // Equal clocks: the actor breaks the tie, the same way everywhere.
    net.bead(&a, "alice", &["update", &id, "--assignee", "from-alice"]);
    net.bead(&b, "bob", &["update", &id, "--assignee", "from-bob"]);
    net.settle(&[&b, &a]);
    assert_eq!(net.show(&a, &id)["assignee"], "from-bob");
    assert_eq!(net.show(&b, &id)["assignee"], "from-bob");
    // The merge commit has both tips as parents and names what merged.
    let parents = net.env.git_ok(
        &a,
        &[
            "log",
            "--merges",
            "-1",
            "--format=%P%n%s%n%an",
            "refs/gastown/beads",
        ],
    );
    let lines: Vec<&str> = parents.lines().collect();
    assert_eq!(lines[0].split(' ').count(), 2, "{parents}");
    assert!(lines[1].starts_with("sync: merge"), "{parents}");
}

#[test]
fn labels_and_dependencies_merge_as_sets_and_comments_are_never_lost() {
    let net = Net::new();
    let a = net.dir("a");
    let x = net.create(&a, "alice", "x", &["--labels", "keep,drop"]);
    let d1 = net.create(&a, "alice", "dep one", &[]);
    let d2 = net.create(&a, "alice", "dep two", &[]);
    let d3 = net.create(&a, "alice", "dep three", &[]);
    net.bead(&a, "alice", &["dep", "add", &x, &d1]);
    net.sync(&a);
    let b = net.clone("b");
    net.bead(&a, "alice", &["label", "remove", &x, "drop"]);
    net.bead(&a, "alice", &["dep", "add", &x, &d2]);
    net.bead(&a, "alice", &["comments", "add", &x, "from alice"]);
    net.bead(&b, "bob", &["label", "add", &x, "new"]);
    net.bead(&b, "bob", &["dep", "remove", &x, &d1]);
    net.bead(&b, "bob", &["dep", "add", &x, &d3]);
    net.bead(&b, "bob", &["comments", "add", &x, "from bob"]);
    net.settle(&[&a, &b]);
    for dir in [&a, &b] {
        let bead = net.show(dir, &x);
        assert_eq!(labels_of(&bead), vec!["keep", "new"]);
        let mut want = vec![d2.clone(), d3.clone()];
        want.sort();
        assert_eq!(deps_of(&bead), want);
        let comments = net.bead(dir, "reader", &["comments", "list", &x]);
        let texts: Vec<&str> = comments
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["text"].as_str().unwrap())
            .collect();
        assert_eq!(texts.len(), 2, "{comments}");
        assert!(texts.contains(&"from alice") && texts.contains(&"from bob"));
    }
}

#[test]
fn deleted_beads_stay_deleted_even_when_a_stale_clone_edits_them() {
    let net = Net::new();
    let a = net.dir("a");
    let x = net.create(&a, "alice", "doomed", &[]);
    let keep = net.create(&a, "alice", "kept", &[]);
    net.sync(&a);
    let b = net.clone("b");
    let stale = net.clone("stale");
    net.bead(&a, "alice", &["delete", &x]);
    net.sync(&a);
    net.bead(
        &b,
        "bob",
        &["update", &x, "--title", "edited after the delete"],
    );
    let merged = net.sync(&b);
    assert_eq!(merged["deleted"], 1, "{merged}");
    // The stale clone edits many times (a larger clock than the delete) before syncing.
    for i in 0..4 {
        net.bead(
            &stale,
            "carol",
            &["update", &x, "--notes", &format!("stale {i}")],
        );
    }
    net.settle(&[&a, &b, &stale]);
    for dir in [&a, &b, &stale] {
        assert_eq!(
            net.ids(dir),
            vec![keep.clone()],
            "{} resurrected {x}",
            dir.display()
        );
        let out = net.bead_out(dir, "reader", &["show", &x]);
        assert!(!out.status.success());
    }
}

#[test]
fn one_id_created_on_two_clones_keeps_both_and_references_follow() {
    let net = Net::new();
    let a = net.dir("a");
    let b = net.clone("b");
    net.create(&a, "alice", "alice's gt-dup", &["--id", "gt-dup"]);
    net.create(&b, "bob", "bob's gt-dup", &["--id", "gt-dup"]);
    let needs_alice = net.create(&a, "alice", "needs alice's", &["--deps", "gt-dup"]);
    let needs_bob = net.create(&b, "bob", "needs bob's", &["--deps", "gt-dup"]);
    let child_of_bob = net.create(&b, "bob", "child of bob's", &["--parent", "gt-dup"]);
    net.sync(&a);
    let report = net.sync(&b);
    let renamed = report["renamed"].as_array().unwrap();
    assert!(!renamed.is_empty(), "{report}");
    assert_eq!(renamed[0]["from"], "gt-dup");
    let new_id = renamed[0]["to"].as_str().unwrap().to_string();
    assert!(new_id.starts_with("gt-dup-"), "{new_id}");
    net.settle(&[&a, &b]);
    for dir in [&a, &b] {
        let kept = net.show(dir, "gt-dup");
        let moved = net.show(dir, &new_id);
        let titles = [
            kept["title"].as_str().unwrap(),
            moved["title"].as_str().unwrap(),
        ];
        assert!(
            titles.contains(&"alice's gt-dup") && titles.contains(&"bob's gt-dup"),
            "{titles:?}"
        );
        let id_of = |title: &str| {
            if kept["title"] == title {
                "gt-dup".to_string()
            } else {
                new_id.clone()
            }
        };
        assert_eq!(
            deps_of(&net.show(dir, &needs_alice)),
            vec![id_of("alice's gt-dup")]
        );
        assert_eq!(
            deps_of(&net.show(dir, &needs_bob)),
            vec![id_of("bob's gt-dup")]
        );
        assert_eq!(
            deps_of(&net.show(dir, &child_of_bob)),
            vec![id_of("bob's gt-dup")]
        );
    }
}

#[test]
fn children_minted_on_two_clones_collide_and_both_survive() {
    let net = Net::new();
    let a = net.dir("a");
    let parent = net.create(&a, "alice", "epic", &["--type", "epic"]);
    net.sync(&a);
    let b = net.clone("b");
    let child_a = net.create(&a, "alice", "child from alice", &["--parent", &parent]);
    let child_b = net.create(&b, "bob", "child from bob", &["--parent", &parent]);
    assert_eq!(child_a, format!("{parent}.1"));
    assert_eq!(child_b, child_a, "both clones minted the same child id");
    net.sync(&a);
    let report = net.sync(&b);
    assert_eq!(report["renamed"].as_array().unwrap().len(), 1, "{report}");
    net.settle(&[&a, &b]);
    let list = net.bead(&a, "reader", &["list", "--parent", &parent, "--limit", "0"]);
    let mut titles: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["title"].as_str().unwrap().to_string())
        .collect();
    titles.sort();
    assert_eq!(titles, vec!["child from alice", "child from bob"]);
    // New children continue after the highest number in use.
    let next = net.create(&a, "alice", "third", &["--parent", &parent]);
    assert_eq!(next, format!("{parent}.2"));
}

#[test]
fn a_cycle_formed_only_by_merging_is_reported_and_ready_still_answers() {
    let net = Net::new();
    let a = net.dir("a");
    let x = net.create(&a, "alice", "x", &[]);
    let y = net.create(&a, "alice", "y", &[]);
    let free = net.create(&a, "alice", "free", &[]);
    net.sync(&a);
    let b = net.clone("b");
    net.bead(&a, "alice", &["dep", "add", &x, &y]);
    net.bead(&b, "bob", &["dep", "add", &y, &x]);
    net.sync(&a);
    let report = net.sync(&b);
    let cycles = report["cycles"].as_array().unwrap();
    assert_eq!(cycles.len(), 1, "{report}");
    let members: Vec<&str> = cycles[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        members.contains(&x.as_str()) && members.contains(&y.as_str()),
        "{members:?}"
    );
    let human = support::ok(net.env.run_in(&a, "gastown", &["sync"]), &["sync"]);
    assert!(human.contains("dependency cycle"), "{human}");
    let out = net.env.run_in(&b, "bead", &["dep", "cycles", "--json"]);
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let started = Instant::now();
    let ready = net.bead(&b, "reader", &["ready"]);
    assert!(started.elapsed() < Duration::from_secs(10));
    let ready_ids: Vec<&str> = ready
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ready_ids,
        vec![free.as_str()],
        "beads on a cycle are never ready"
    );
}

#[test]
fn clones_pushing_concurrently_to_one_bare_remote_converge() {
    let net = Net::new();
    let clones: Vec<PathBuf> = ["b", "c", "d"].iter().map(|n| net.clone(n)).collect();
    let created: Vec<Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = clones
            .iter()
            .enumerate()
            .map(|(n, dir)| {
                let net = &net;
                scope.spawn(move || {
                    let actor = format!("agent{n}");
                    let mut mine = Vec::new();
                    for round in 0..4 {
                        mine.push(net.create(dir, &actor, &format!("{actor} round {round}"), &[]));
                        let out =
                            net.env
                                .run_in(dir, "gastown", &["sync", "--json", "--attempts", "20"]);
                        assert!(
                            out.status.success(),
                            "sync failed: {}",
                            String::from_utf8_lossy(&out.stderr)
                        );
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let dirs: Vec<&Path> = clones.iter().map(PathBuf::as_path).collect();
    net.settle(&dirs);
    let mut want: Vec<String> = created.into_iter().flatten().collect();
    want.sort();
    assert_eq!(want.len(), 12);
    for dir in &dirs {
        assert_eq!(net.ids(dir), want);
    }
    assert_eq!(
        net.env.ref_tip(&net.remote(), "refs/gastown/beads"),
        net.tip(dirs[0])
    );
    net.env.assert_fsck_clean(&net.remote());
}

#[test]
fn urls_and_paths_work_and_local_collections_never_leave() {
    let net = Net::new();
    let a = net.dir("a");
    net.create(&a, "alice", "one", &[]);
    // A clone-local collection (a commit under refs/gastown/local/).
    let empty_tree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    let commit = net
        .env
        .git_ok(&a, &["commit-tree", "-m", "wisps", empty_tree]);
    net.env.git_ok(
        &a,
        &["update-ref", "refs/gastown/local/wisps", commit.trim()],
    );
    let url = format!("file://{}", net.remote().display());
    let report = net.sync_args(&a, &[&url]);
    assert_eq!(report["pushed"], serde_json::json!(["beads"]), "{report}");
    assert!(report["namespace"]
        .as_str()
        .unwrap()
        .starts_with("refs/gastown-remotes/url-"));
    assert_eq!(
        net.env.ref_tip(&net.remote(), "refs/gastown/local/wisps"),
        None
    );
    let fresh = net.dir("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    net.env.git_ok(&fresh, &["init", "-q"]);
    let path = net.remote().display().to_string();
    let taken = net.sync_args(&fresh, &[&path]);
    assert_eq!(taken["merged"], serde_json::json!(["beads"]), "{taken}");
    assert_eq!(net.tree(&fresh), net.tree(&a));
}

impl Net {
    fn sync_args(&self, dir: &Path, extra: &[&str]) -> Value {
        let mut args = vec!["sync", "--json"];
        args.extend_from_slice(extra);
        let out = support::ok(self.env.run_in(dir, "gastown", &args), &args);
        serde_json::from_str(&out).unwrap()
    }
}

#[test]
fn the_documented_refspec_lets_plain_git_fetch_carry_state_and_sync_merges_it() {
    let net = Net::new();
    let a = net.dir("a");
    let b = net.clone("b");
    for spec in [
        "+refs/gastown/*:refs/gastown-remotes/origin/*",
        "^refs/gastown/local/*",
    ] {
        net.env
            .git_ok(&b, &["config", "--add", "remote.origin.fetch", spec]);
    }
    let id = net.create(&a, "alice", "made on a", &[]);
    net.sync(&a);
    net.env.git_ok(&b, &["fetch", "-q", "origin"]);
    assert_eq!(
        net.env.ref_tip(&b, "refs/gastown-remotes/origin/beads"),
        net.tip(&a),
        "plain git fetch filled the tracking namespace"
    );
    assert!(
        net.ids(&b).is_empty(),
        "local state is untouched until sync"
    );
    let report = net.sync(&b);
    assert_eq!(
        report["fetched"], false,
        "objects were already there: {report}"
    );
    assert_eq!(report["added"], 1);
    assert_eq!(net.ids(&b), vec![id]);
    // A refspec that writes into refs/gastown/ is flagged.
    net.env.git_ok(
        &b,
        &[
            "config",
            "--add",
            "remote.origin.fetch",
            "+refs/gastown/*:refs/gastown/*",
        ],
    );
    let out = net.env.run_in(&b, "gastown", &["sync"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("overwrite local state"));
}

#[test]
fn the_documented_push_refspecs_let_plain_git_push_carry_state_safely() {
    let net = Net::new();
    let a = net.dir("a");
    let b = net.clone("b");
    for spec in [
        "HEAD",
        "refs/gastown/*:refs/gastown/*",
        "^refs/gastown/local/*",
    ] {
        net.env
            .git_ok(&b, &["config", "--add", "remote.origin.push", spec]);
    }
    std::fs::write(b.join("file"), "x\n").unwrap();
    net.env.git_ok(&b, &["add", "file"]);
    net.env.git_ok(&b, &["commit", "-qm", "work"]);
    let empty_tree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    let wisps = net
        .env
        .git_ok(&b, &["commit-tree", "-m", "wisps", empty_tree]);
    net.env.git_ok(
        &b,
        &["update-ref", "refs/gastown/local/wisps", wisps.trim()],
    );
    let first = net.create(&b, "bob", "pushed by plain git push", &[]);
    net.env.git_ok(&b, &["push", "-q", "origin"]);
    assert_eq!(
        net.env.ref_tip(&net.remote(), "refs/gastown/beads"),
        net.tip(&b)
    );
    assert!(
        net.env.ref_tip(&net.remote(), "refs/heads/main").is_some(),
        "the branch went too"
    );
    assert_eq!(
        net.env.ref_tip(&net.remote(), "refs/gastown/local/wisps"),
        None
    );
    // Another clone pushed meanwhile: plain git push is refused, nothing is overwritten.
    net.sync(&a);
    let from_a = net.create(&a, "alice", "from a", &[]);
    net.sync(&a);
    let second = net.create(&b, "bob", "second from b", &[]);
    let out = net.env.git(&b, &["push", "-q", "origin"]);
    assert!(
        !out.status.success(),
        "a non-fast-forward push of the state is rejected"
    );
    assert_eq!(
        net.env.ref_tip(&net.remote(), "refs/gastown/beads"),
        net.tip(&a)
    );
    let report = net.sync(&b);
    assert_eq!(report["pushed"], serde_json::json!(["beads"]), "{report}");
    net.settle(&[&a, &b]);
    let mut want = vec![first, from_a, second];
    want.sort();
    assert_eq!(net.ids(&a), want);
}

#[test]
fn bad_remotes_are_one_line_errors() {
    let net = Net::new();
    let a = net.dir("a");
    let out = net.env.run_in(&a, "gastown", &["sync", "nowhere"]);
    let (code, stderr) = support::err(out, &["sync", "nowhere"]);
    assert_eq!(code, 1);
    support::assert_one_line_error(&stderr);
    assert!(stderr.contains("nowhere"), "{stderr}");
    let out = net.env.run_in(&a, "gastown", &["sync", "/does/not/exist"]);
    let (code, stderr) = support::err(out, &["sync", "/does/not/exist"]);
    assert_eq!(code, 5);
    support::assert_one_line_error(&stderr);
    let lonely = net.dir("lonely");
    std::fs::create_dir_all(&lonely).unwrap();
    net.env.git_ok(&lonely, &["init", "-q"]);
    let (_, stderr) = support::err(net.env.run_in(&lonely, "gastown", &["sync"]), &["sync"]);
    support::assert_one_line_error(&stderr);
    assert!(stderr.contains("origin"), "{stderr}");
}
