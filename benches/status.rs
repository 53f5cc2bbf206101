//! The status benchmark: whole-process medians of `git gastown status --json` (and the text
//! view) on a town of two rigs holding 100 polecats in all (made by `git agent add`, each a
//! fresh worktree), 60 of them with live sessions (a `sleep` runtime), 40 with hooked beads,
//! sessions killed on 10 of them, merge requests and queued dispatches in each rig. Target:
//! ≤ 30 ms with 100 agents (docs/BENCHMARKS.md, "Status"). Run with
//! `cargo bench --bench status` (options after `--`):
//!
//!   --agents 100    polecats in all (half per rig)
//!   --runs 15       timed runs of each view (the median is printed)
//!   --dir DIR       where to build the town (default: target/tmp)

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use support::{ms, Hermetic};

struct Options {
    agents: usize,
    runs: usize,
    dir: Option<PathBuf>,
}

fn options() -> Options {
    let mut o = Options {
        agents: 100,
        runs: 15,
        dir: None,
    };
    for (name, value) in support::option_pairs() {
        match name.as_str() {
            "--agents" => o.agents = value.parse().expect("--agents takes a number"),
            "--runs" => o.runs = value.parse().expect("--runs takes a number"),
            "--dir" => o.dir = Some(PathBuf::from(value)),
            other => panic!("unknown option {other}"),
        }
    }
    assert!(o.agents >= 2 && o.runs >= 1, "--agents ≥ 2 and --runs ≥ 1");
    o
}

fn json(h: &Hermetic, tool: &str, dir: &Path, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    let (out, _) = h.run(tool, dir, "bench", &args);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn median_ms(mut values: Vec<Duration>) -> f64 {
    values.sort();
    ms(values[values.len() / 2])
}

/// Kills every session recorded in the rigs when dropped, whatever happened.
struct Sessions(Vec<PathBuf>);

impl Drop for Sessions {
    fn drop(&mut self) {
        for dir in &self.0 {
            let Ok(entries) = std::fs::read_dir(dir.join(".git/gastown/sessions")) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !name.ends_with(".json") || name.ends_with(".runtime.json") {
                    continue;
                }
                let info: Value = std::fs::read(entry.path())
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .unwrap_or_default();
                if let Some(pid) = info["pid"].as_u64() {
                    let _ = std::process::Command::new("kill")
                        .args(["-KILL", "--", &format!("-{pid}")])
                        .stderr(std::process::Stdio::null())
                        .status();
                }
            }
        }
    }
}

fn main() {
    let o = options();
    let base = o
        .dir
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp"));
    std::fs::create_dir_all(&base).unwrap();
    let tmp = tempfile::Builder::new()
        .prefix("status-bench")
        .tempdir_in(&base)
        .unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let h = Hermetic::new(root.join("home"));
    let town = root.join("town");
    h.run("gastown", &root, "bench", &["init", town.to_str().unwrap()]);
    let sleep = which::which("sleep").expect("sleep on PATH");
    let mut rigs = Vec::new();
    for (name, prefix) in [("web", "wb"), ("api", "ap")] {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        h.git(&dir, &["init", "-q", "-b", "main"]);
        std::fs::write(dir.join("README"), "bench\n").unwrap();
        h.git(&dir, &["add", "README"]);
        h.git(&dir, &["commit", "-qm", "initial"]);
        let path = dir.to_str().unwrap();
        h.run(
            "gastown",
            &town,
            "bench",
            &["rig", "add", name, path, "--prefix", prefix],
        );
        for (key, value) in [
            ("gastown.runtime.sleeper.command", sleep.to_str().unwrap()),
            ("gastown.runtime.sleeper.args", "600"),
            ("gastown.runtime.sleeper.prompt", "none"),
            ("gastown.session.backend", "process"),
        ] {
            h.git(&dir, &["config", key, value]);
        }
        rigs.push((name, dir));
    }
    let _sessions = Sessions(rigs.iter().map(|(_, d)| d.clone()).collect());
    h.run(
        "gastown",
        &town,
        "bench",
        &["config", "set", "merge_queue.auto", "false"],
    );

    let per_rig = o.agents / 2;
    for (name, dir) in &rigs {
        let mut addresses = Vec::new();
        for _ in 0..per_rig {
            let added = json(&h, "agent", dir, &["add", "polecat", "--rig", name]);
            addresses.push(added["address"].as_str().unwrap().to_string());
        }
        // 40 % hooked and started, 20 % started idle, 10 % of all killed while hooked.
        for (i, address) in addresses.iter().enumerate() {
            let hooked = i < per_rig * 2 / 5;
            let started = i < per_rig * 3 / 5;
            if hooked {
                let bead = json(&h, "bead", dir, &["create", &format!("work {i}")]);
                h.run(
                    "agent",
                    dir,
                    "bench",
                    &["hook", bead["id"].as_str().unwrap(), "--to", address],
                );
            }
            if started {
                h.run(
                    "agent",
                    dir,
                    "bench",
                    &["start", address, "--agent", "sleeper"],
                );
            }
            if hooked && i < per_rig / 10 {
                let shown = json(&h, "agent", dir, &["show", address]);
                let pid = shown["session"]["pid"].as_u64().unwrap();
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", "--", &format!("-{pid}")])
                    .status();
            }
        }
        // Merge requests waiting, and dispatches queued behind a full scheduler.
        for i in 0..5 {
            let branch = format!("feature-{i}");
            h.git(dir, &["checkout", "-q", "-b", &branch, "main"]);
            std::fs::write(dir.join(format!("f{i}.txt")), "x\n").unwrap();
            h.git(dir, &["add", "."]);
            h.git(dir, &["commit", "-qm", &branch]);
            h.git(dir, &["checkout", "-q", "main"]);
            h.run("mq", dir, "bench", &["submit", &branch]);
        }
        h.run(
            "gastown",
            &town,
            "bench",
            &[
                "config",
                "set",
                "scheduler.max_polecats",
                "1",
                "--rig",
                name,
            ],
        );
        for i in 0..3 {
            let bead = json(&h, "bead", dir, &["create", &format!("queued {i}")]);
            h.run(
                "sling",
                dir,
                "bench",
                &[bead["id"].as_str().unwrap(), name, "--agent", "sleeper"],
            );
        }
    }

    let status = json(&h, "gastown", &town, &["status"]);
    assert_eq!(
        status["agents"]["total"].as_u64(),
        Some((per_rig * 2) as u64)
    );
    let mut json_runs = Vec::new();
    let mut text_runs = Vec::new();
    for _ in 0..o.runs {
        json_runs.push(h.run("gastown", &town, "bench", &["status", "--json"]).1);
        text_runs.push(h.run("gastown", &town, "bench", &["status"]).1);
    }
    println!(
        "git gastown status benchmark: 2 rigs, {} agents ({} alive, {} problems, {} queued dispatches), {} runs (medians, whole process)",
        status["agents"]["total"],
        status["agents"]["alive"],
        status["problems"].as_array().map_or(0, Vec::len),
        status["dispatch_queue"].as_array().map_or(0, Vec::len),
        o.runs
    );
    println!(
        "  status --json   {:8.2} ms  (target ≤ 30 ms)",
        median_ms(json_runs)
    );
    println!("  status (text)   {:8.2} ms", median_ms(text_runs));
}
