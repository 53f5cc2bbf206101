//! `git gastown demo` end to end: the real binary builds its throwaway town, the scripted
//! agents work every bead through sling, done and the merge queue (a conflict reworked, a
//! gate failure retried), and it reports every bead closed with its work on main.

use crate::support::{assert_refused, Env};

#[test]
fn the_demo_closes_every_bead_and_lands_the_work_on_main() {
    let env = Env::empty();
    let kept = env.path().join("kept");
    let out = env.run_in(
        env.path(),
        "gastown",
        &[
            "demo",
            "--agents",
            "3",
            "--beads",
            "7",
            "--keep",
            kept.to_str().unwrap(),
            "--json",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["finished"], true, "{report}");
    let beads = report["beads"].as_array().unwrap();
    assert!(beads.len() >= 7, "{report}");
    assert!(beads.iter().all(|b| b["status"] == "closed"), "{report}");
    // The two beads editing CHANGELOG conflicted once: a rework bead was filed and closed.
    assert!(
        beads.iter().any(|b| b["title"]
            .as_str()
            .unwrap()
            .starts_with("Resolve merge conflict")),
        "{report}"
    );
    // The convoy of the filed beads landed, once; the feed shows the loop.
    assert_eq!(report["convoy"]["status"], "landed", "{report}");
    assert_eq!(report["convoy"]["landings"], 1, "{report}");
    let kinds: Vec<&str> = report["feed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in ["sling", "done", "merged", "rejected", "landed"] {
        assert!(kinds.contains(&kind), "no {kind} in the feed: {kinds:?}");
    }
    // The final status (`git gastown status`) names the town and its rig.
    assert!(report["status"]["town"].is_object(), "{report}");
    let rig = kept.join("app");
    let filed: Vec<&str> = beads[..7]
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    let tree = env.git_ok(&rig, &["grep", "-h", "-E", "^bead .*$", "main", "--"]);
    for id in &filed {
        let n = tree.lines().filter(|l| *l == format!("bead {id}")).count();
        assert_eq!(n, 1, "{id}'s change on main: {tree}");
    }
    let broken = env.git_ok(&rig, &["ls-tree", "-r", "--name-only", "main", "broken/"]);
    assert!(
        broken.is_empty(),
        "what broke the gate never lands: {broken}"
    );
    env.assert_fsck_clean(&rig);
    env.assert_fsck_clean(&kept.join("town"));
}

#[test]
fn the_demo_refuses_bad_sizes_and_a_used_directory() {
    let env = Env::empty();
    assert_refused(
        env.run_in(env.path(), "gastown", &["demo", "--agents", "0"]),
        &["--agents 0"],
    );
    assert_refused(
        env.run_in(env.path(), "gastown", &["demo", "--beads", "5000"]),
        &["--beads 5000"],
    );
    std::fs::write(env.path().join("used"), "x").unwrap();
    assert_refused(
        env.run_in(
            env.path(),
            "gastown",
            &["demo", "--keep", env.path().to_str().unwrap()],
        ),
        &["not a new or empty directory"],
    );
}
