//! The git hooks' benchmark: what each installed hook adds to the user's own git commands,
//! as medians of the whole command with and without it (interleaved runs, so drift of the
//! machine hits both alike):
//!
//! - `git commit` in a polecat's sandbox (a hooked bead, so post-commit writes a note):
//!   no hooks, post-commit alone, reference-transaction alone, all three;
//! - `git commit` in the rig by a person (no agent: post-commit notes nothing);
//! - `git push` of a new branch to a local bare remote: no hooks, pre-push;
//! - `git fetch` bringing one new bead from another clone: no hooks (fetch only),
//!   reference-transaction (fetch and the merge).
//!
//! Run with `cargo bench --bench hooks` (options after `--`):
//!
//!   --runs 21       timed runs of each configuration (the median is printed)
//!   --dir DIR       where to build the repositories (default: target/tmp)

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::{ms, Hermetic};

struct Options {
    runs: usize,
    dir: Option<PathBuf>,
}

fn options() -> Options {
    let mut o = Options {
        runs: 21,
        dir: None,
    };
    for (name, value) in support::option_pairs() {
        match name.as_str() {
            "--runs" => o.runs = value.parse().expect("--runs takes a number"),
            "--dir" => o.dir = Some(PathBuf::from(value)),
            other => panic!("unknown option {other}"),
        }
    }
    assert!(o.runs >= 1, "--runs must be at least 1");
    o
}

/// Put exactly the hooks named in `which` into `hooks_dir` (the embedded scripts).
fn set_hooks(hooks_dir: &Path, which: &[&str]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(hooks_dir).unwrap();
    for (name, script) in gastown::hooks::HOOKS {
        let path = hooks_dir.join(name);
        if which.contains(name) {
            std::fs::write(&path, script).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
}

fn median(values: &[Duration]) -> f64 {
    let v: Vec<f64> = values.iter().map(|d| ms(*d)).collect();
    support::median(&v)
}

/// PATH with the suite's binaries first, as an installed suite would be.
fn with_suite_path(h: &Hermetic, program: &str, dir: &Path) -> std::process::Command {
    let mut cmd = h.command(program, dir);
    let path = format!(
        "{}:{}",
        support::tool("git-bead").parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.env("PATH", path);
    cmd
}

fn timed_commit(h: &Hermetic, dir: &Path, n: usize, actor: Option<&str>) -> Duration {
    std::fs::write(dir.join("bench.txt"), format!("{n}\n")).unwrap();
    h.git(dir, &["add", "bench.txt"]);
    let mut cmd = with_suite_path(h, "git", dir);
    cmd.args(["commit", "-q", "-m", &format!("bench {n}")]);
    if let Some(a) = actor {
        cmd.env("GT_ACTOR", a);
    }
    h.timed(cmd).1
}

fn main() {
    let o = options();
    let base = o
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
    std::fs::create_dir_all(&base).unwrap();
    let root = tempfile::Builder::new()
        .prefix("hooks-bench")
        .tempdir_in(&base)
        .unwrap();
    let h = Hermetic::new(root.path().join("home"));
    let repo = root.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    h.git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("README"), "bench\n").unwrap();
    h.git(&repo, &["add", "README"]);
    h.git(&repo, &["commit", "-qm", "initial"]);
    h.run("bead", &repo, "bench", &["init", "--prefix", "gt"]);
    for i in 0..200 {
        h.run("bead", &repo, "bench", &["create", &format!("bead {i}")]);
    }
    let bead = String::from_utf8(
        h.run(
            "bead",
            &repo,
            "bench",
            &["create", "the hooked one", "--silent"],
        )
        .0
        .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    let added = h
        .run("agent", &repo, "bench", &["add", "polecat", "--json"])
        .0;
    let added: serde_json::Value = serde_json::from_slice(&added.stdout).unwrap();
    let address = added["address"].as_str().unwrap().to_string();
    let sandbox = PathBuf::from(added["sandbox"].as_str().unwrap());
    h.run("agent", &repo, "bench", &["hook", &bead, "--to", &address]);
    let bare = root.path().join("origin.git");
    h.git(
        root.path(),
        &["init", "-q", "--bare", bare.to_str().unwrap()],
    );
    h.git(&repo, &["remote", "add", "origin", bare.to_str().unwrap()]);
    h.git(&repo, &["push", "-q", "origin", "main"]);
    h.run("gastown", &repo, "bench", &["sync"]);
    // gastown state arrives by plain fetch once these refspecs are configured.
    let (_, _) = {
        let mut cmd = with_suite_path(&h, support::tool("git-gastown").to_str().unwrap(), &repo);
        cmd.args(["hooks", "install"]);
        h.timed(cmd)
    };
    let hooks_dir = repo.join(".git/hooks");
    let other = root.path().join("other");
    h.git(
        root.path(),
        &[
            "clone",
            "-q",
            bare.to_str().unwrap(),
            other.to_str().unwrap(),
        ],
    );
    h.run("gastown", &other, "bench", &["sync"]);

    let sandbox_configs: [(&str, &[&str]); 4] = [
        ("no hooks", &[]),
        ("post-commit", &["post-commit"]),
        ("reference-transaction", &["reference-transaction"]),
        (
            "all hooks",
            &["post-commit", "reference-transaction", "pre-push"],
        ),
    ];
    let mut sandbox_times: Vec<Vec<Duration>> = vec![Vec::new(); sandbox_configs.len()];
    let mut rig_times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let mut push_times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let mut fetch_times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let all = ["post-commit", "reference-transaction", "pre-push"];
    let mut n = 0;
    for run in 0..o.runs {
        for (i, (_, which)) in sandbox_configs.iter().enumerate() {
            set_hooks(&hooks_dir, which);
            n += 1;
            sandbox_times[i].push(timed_commit(&h, &sandbox, n, Some(&address)));
        }
        for (i, which) in [&[][..], &all[..]].iter().enumerate() {
            set_hooks(&hooks_dir, which);
            n += 1;
            rig_times[i].push(timed_commit(&h, &repo, n, None));
        }
        for (i, which) in [&[][..], &["pre-push"][..]].iter().enumerate() {
            set_hooks(&hooks_dir, which);
            let mut cmd = with_suite_path(&h, "git", &repo);
            cmd.args([
                "push",
                "-q",
                "origin",
                &format!("HEAD:refs/heads/bench-{run}-{i}"),
            ]);
            push_times[i].push(h.timed(cmd).1);
        }
        for (i, which) in [&[][..], &["reference-transaction"][..]].iter().enumerate() {
            set_hooks(&hooks_dir, which);
            h.run(
                "bead",
                &other,
                "bench",
                &["create", &format!("from the other clone {run} {i}")],
            );
            h.run("gastown", &other, "bench", &["sync"]);
            let mut cmd = with_suite_path(&h, "git", &repo);
            cmd.args(["fetch", "-q", "origin"]);
            fetch_times[i].push(h.timed(cmd).1);
            // Without the hook the fetched state waits for a sync: do it outside the timing.
            h.run("gastown", &repo, "bench", &["sync"]);
        }
    }
    set_hooks(&hooks_dir, &all);
    let notes = h.git(&repo, &["rev-list", "--count", "refs/gastown/notes/work"]);
    println!(
        "git hooks benchmark: {} runs each (medians of the whole git command, ms); {} notes written",
        o.runs,
        notes.trim()
    );
    let none = median(&sandbox_times[0]);
    println!("  git commit in a polecat sandbox:");
    for (i, (label, _)) in sandbox_configs.iter().enumerate() {
        let m = median(&sandbox_times[i]);
        println!("    {label:<24} {m:7.2}   (+{:.2})", m - none);
    }
    let (a, b) = (median(&rig_times[0]), median(&rig_times[1]));
    println!("  git commit in the rig, no agent:");
    println!("    {:<24} {a:7.2}", "no hooks");
    println!("    {:<24} {b:7.2}   (+{:.2})", "all hooks", b - a);
    let (a, b) = (median(&push_times[0]), median(&push_times[1]));
    println!("  git push of a new branch (local bare remote):");
    println!("    {:<24} {a:7.2}", "no hooks");
    println!("    {:<24} {b:7.2}   (+{:.2})", "pre-push", b - a);
    let (a, b) = (median(&fetch_times[0]), median(&fetch_times[1]));
    println!("  git fetch bringing one new bead:");
    println!("    {:<24} {a:7.2}", "no hooks (fetch only)");
    println!(
        "    {:<24} {b:7.2}   (+{:.2})",
        "reference-transaction",
        b - a
    );
}
