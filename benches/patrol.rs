//! The patrol benchmark: a town of 3 rigs with 100 polecats (made by `git agent add`, each
//! a real worktree), 50 beads per rig, a bead hooked on one polecat per rig (never started,
//! not yet stale) and 10 polecats whose sessions ran and ended; then whole-process medians
//! of a no-op `git patrol --json` (target ≤ 150 ms), of `--dry-run`, of the process floor,
//! and of what the lazy tick adds to an ordinary command. Every timed pass must act on
//! nothing and leave every ref of the town and its rigs where it was.
//! Run with `cargo bench --bench patrol` (options after `--`):
//!
//!   --agents 100    polecats, spread over the rigs
//!   --rigs 3        rigs
//!   --runs 15       timed runs of each command (the median is printed)
//!   --dir DIR       where to build the town (default: target/tmp)

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::{ms, tool, Hermetic};

struct Options {
    agents: usize,
    rigs: usize,
    runs: usize,
    dir: Option<PathBuf>,
}

fn options() -> Options {
    let mut o = Options {
        agents: 100,
        rigs: 3,
        runs: 15,
        dir: None,
    };
    for (name, value) in support::option_pairs() {
        match name.as_str() {
            "--agents" => o.agents = value.parse().expect("--agents takes a number"),
            "--rigs" => o.rigs = value.parse().expect("--rigs takes a number"),
            "--runs" => o.runs = value.parse().expect("--runs takes a number"),
            "--dir" => o.dir = Some(PathBuf::from(value)),
            other => panic!("unknown option {other}"),
        }
    }
    assert!(o.agents >= 1 && o.rigs >= 1 && o.runs >= 1);
    o
}

fn median_ms(mut values: Vec<Duration>) -> f64 {
    values.sort();
    let n = values.len();
    let mid = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2
    };
    ms(mid)
}

/// Every ref of the town and its rigs with its tip.
fn all_refs(h: &Hermetic, dirs: &[PathBuf]) -> String {
    dirs.iter()
        .map(|d| h.git(d, &["for-each-ref", "--format=%(refname) %(objectname)"]))
        .collect()
}

fn main() {
    let o = options();
    let base = o
        .dir
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp"));
    std::fs::create_dir_all(&base).unwrap();
    let tmp = tempfile::Builder::new()
        .prefix("patrol-bench")
        .tempdir_in(&base)
        .unwrap();
    let h = Hermetic::new(tmp.path().join("home"));
    let town = tmp.path().join("town");
    let path = format!(
        "{}:{}",
        tool("git-patrol").parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |tool_name: &str, dir: &Path, args: &[&str]| -> (String, Duration) {
        let mut cmd = h.command(tool(&format!("git-{tool_name}")), dir);
        cmd.args(args).env("PATH", &path);
        let (out, took) = h.timed(cmd);
        (String::from_utf8(out.stdout).unwrap(), took)
    };
    run("gastown", tmp.path(), &["init", town.to_str().unwrap()]);
    let mut dirs = vec![town.clone()];
    for r in 0..o.rigs {
        let name = format!("rig{r}");
        let repo = tmp.path().join(&name);
        std::fs::create_dir_all(&repo).unwrap();
        h.git(&repo, &["init", "-q", "-b", "main"]);
        std::fs::write(repo.join("README"), "bench\n").unwrap();
        h.git(&repo, &["add", "README"]);
        h.git(&repo, &["commit", "-qm", "initial"]);
        h.git(&repo, &["config", "gastown.runtime.noop.command", "true"]);
        h.git(&repo, &["config", "gastown.runtime.noop.prompt", "none"]);
        h.git(&repo, &["config", "gastown.session.backend", "process"]);
        run(
            "gastown",
            &town,
            &[
                "rig",
                "add",
                &name,
                repo.to_str().unwrap(),
                "--prefix",
                &format!("r{r}"),
            ],
        );
        for i in 0..50 {
            run(
                "bead",
                &repo,
                &["create", &format!("work {i} of {name}"), "--silent"],
            );
        }
        dirs.push(repo);
    }
    let mut polecats: Vec<(usize, String)> = Vec::new();
    for i in 0..o.agents {
        let r = i % o.rigs;
        let (out, _) = run(
            "agent",
            &town,
            &["add", "polecat", "--rig", &format!("rig{r}"), "--json"],
        );
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        polecats.push((r, value["address"].as_str().unwrap().to_string()));
    }
    // One hooked, never-started bead per rig; ten sessions that ran and ended.
    for r in 0..o.rigs {
        let (id, _) = run("bead", &dirs[r + 1], &["create", "hooked work", "--silent"]);
        let who = polecats.iter().find(|(pr, _)| *pr == r).unwrap().1.clone();
        run("agent", &town, &["hook", id.trim(), "--to", &who]);
    }
    for (_, who) in polecats.iter().rev().take(10) {
        run("agent", &town, &["start", who, "--agent", "noop"]);
    }
    std::thread::sleep(Duration::from_millis(300));
    // The first pass looks at the ended sessions once; the timed ones find nothing new.
    run("patrol", &town, &["--json"]);

    let before = all_refs(&h, &dirs);
    let mut passes = Vec::new();
    let mut dry = Vec::new();
    let mut floor = Vec::new();
    for _ in 0..o.runs {
        let (out, took) = run("patrol", &town, &["--json"]);
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(report["actions"], 0, "a timed pass acted: {report}");
        let seen: u64 = report["rigs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["polecats"].as_u64().unwrap())
            .sum();
        assert_eq!(seen as usize, o.agents);
        passes.push(took);
        dry.push(run("patrol", &town, &["--dry-run", "--json"]).1);
        floor.push(run("patrol", &town, &["--version"]).1);
    }
    assert_eq!(all_refs(&h, &dirs), before, "a no-op pass moved a ref");

    // What the lazy tick adds to an ordinary command (throttled: one stamp read).
    let mut with_tick = Vec::new();
    let mut without = Vec::new();
    for _ in 0..o.runs {
        with_tick.push(run("bead", &dirs[1], &["list", "--json"]).1);
        let mut cmd = h.command(tool("git-bead"), &dirs[1]);
        cmd.args(["list", "--json"])
            .env("PATH", &path)
            .env("GT_NO_LAZY_PATROL", "1");
        without.push(h.timed(cmd).1);
    }

    println!(
        "git patrol benchmark: {} polecats in {} rigs, {} runs (medians, whole process)",
        o.agents, o.rigs, o.runs
    );
    println!(
        "  patrol --json (no-op pass)     {:8.2} ms  (target ≤ 150 ms)",
        median_ms(passes)
    );
    println!("  patrol --dry-run --json        {:8.2} ms", median_ms(dry));
    println!(
        "  git-patrol --version (floor)   {:8.2} ms",
        median_ms(floor)
    );
    println!(
        "  bead list, lazy tick checked   {:8.2} ms",
        median_ms(with_tick)
    );
    println!(
        "  bead list, GT_NO_LAZY_PATROL   {:8.2} ms",
        median_ms(without)
    );
    // The sandboxes are worktrees of the temporary repositories: removed with them.
}
