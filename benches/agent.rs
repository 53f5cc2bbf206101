//! The agent benchmark: a lone repository with 100 polecats (made by `git agent add`, each a
//! fresh worktree) and whole-process medians of what agents and their hooks run most:
//! `git agent add polecat`, `git agent list --json`, `git agent prime --json` (inside a
//! sandbox, with a hooked bead) and `git agent hook BEAD --to AGENT` (target ≤ 10 ms).
//! Run with `cargo bench --bench agent` (options after `--`):
//!
//!   --agents 100    polecats to add (each add is timed)
//!   --runs 15       timed runs of list, prime and hook (the median is printed)
//!   --dir DIR       where to build the repository (default: target/tmp)

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    assert!(
        o.agents >= 1 && o.runs >= 1,
        "--agents and --runs must be at least 1"
    );
    o
}

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_git-agent"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Run a command hermetically (our binaries first on PATH); its wall time and stdout.
fn run(dir: &Path, home: &Path, program: &str, args: &[&str]) -> (Duration, String) {
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", home.join(".gitconfig"))
        .env("GT_ACTOR", "bench")
        .env("LC_ALL", "C")
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null());
    let start = Instant::now();
    let out = cmd.output().expect("command runs");
    let elapsed = start.elapsed();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (elapsed, String::from_utf8(out.stdout).unwrap())
}

fn agent(dir: &Path, home: &Path, args: &[&str]) -> (Duration, String) {
    run(
        dir,
        home,
        bin_dir().join("git-agent").to_str().unwrap(),
        args,
    )
}

fn median_ms(mut values: Vec<Duration>) -> f64 {
    values.sort();
    let n = values.len();
    let mid = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2
    };
    mid.as_secs_f64() * 1000.0
}

fn main() {
    let o = options();
    let base = o
        .dir
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp"));
    std::fs::create_dir_all(&base).unwrap();
    let tmp = tempfile::Builder::new()
        .prefix("agent-bench")
        .tempdir_in(&base)
        .unwrap();
    let home = tmp.path().join("home");
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        home.join(".gitconfig"),
        "[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n",
    )
    .unwrap();
    run(&repo, &home, "git", &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("README"), "bench\n").unwrap();
    run(&repo, &home, "git", &["add", "README"]);
    run(&repo, &home, "git", &["commit", "-qm", "initial"]);
    run(&repo, &home, "git-bead", &["init", "--prefix", "bn"]);

    let mut adds = Vec::new();
    let mut addresses = Vec::new();
    for _ in 0..o.agents {
        let (took, out) = agent(&repo, &home, &["add", "polecat", "--json"]);
        adds.push(took);
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        addresses.push(value["address"].as_str().unwrap().to_string());
    }

    let mut lists = Vec::new();
    for _ in 0..o.runs {
        lists.push(agent(&repo, &home, &["list", "--json"]).0);
    }

    // Hook distinct beads onto distinct agents (each attach is a real write).
    let mut hooks = Vec::new();
    for (i, address) in addresses.iter().take(o.runs).enumerate() {
        let (_, id) = run(
            &repo,
            &home,
            "git-bead",
            &["create", &format!("work {i}"), "--silent"],
        );
        hooks.push(agent(&repo, &home, &["hook", id.trim(), "--to", address]).0);
    }

    // Prime inside the first agent's sandbox, which has a bead on its hook.
    let (_, shown) = agent(&repo, &home, &["show", &addresses[0], "--json"]);
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    let sandbox = PathBuf::from(shown["sandbox"].as_str().unwrap());
    let mut primes = Vec::new();
    for _ in 0..o.runs {
        primes.push(agent(&sandbox, &home, &["prime", "--json"]).0);
    }

    println!(
        "git agent benchmark: {} polecats, {} runs (medians, whole process)",
        o.agents, o.runs
    );
    println!("  add polecat (fresh worktree)  {:8.2} ms", median_ms(adds));
    println!(
        "  list --json ({} agents)      {:8.2} ms",
        o.agents,
        median_ms(lists)
    );
    println!(
        "  prime --json (in a sandbox)   {:8.2} ms",
        median_ms(primes)
    );
    println!(
        "  hook BEAD --to AGENT          {:8.2} ms  (target ≤ 10 ms)",
        median_ms(hooks)
    );
    // The sandboxes are worktrees of the temporary repository: removed with it.
}
