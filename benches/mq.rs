//! The merge queue's benchmark (`cargo bench --bench mq`): queue overhead per request with a
//! no-op gate (everything a pass does besides the gate: scratch worktree, rebase, CAS, the
//! one write, branch deletion, checkout update), and the gate runs batch-then-bisect costs
//! for batch sizes 1, 4 and 16 with 0, 1 and 2 bad requests among 16. Real release binaries
//! on real repositories under target/tmp; JSON on stdout (`--json FILE` writes it too).

#[path = "support/mod.rs"]
#[allow(unused_imports)] // the shared harness exports more than this bench uses
mod support;

use std::path::Path;

use serde_json::{json, Value};
use support::{median, ms, Hermetic};

/// A rig with `n` branches (one file each); the branches at `bad` also add `BAD`, which the
/// gate refuses. All submitted, in order.
fn rig(h: &Hermetic, dir: &Path, n: usize, bad: &[usize], gate: &str, batch: usize) {
    std::fs::create_dir_all(dir).unwrap();
    h.git(dir, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("README"), "bench\n").unwrap();
    h.git(dir, &["add", "README"]);
    h.git(dir, &["commit", "-qm", "initial"]);
    h.run("bead", dir, "bench", &["init", "--prefix", "bm"]);
    h.run(
        "gastown",
        dir,
        "bench",
        &["config", "set", "merge_queue.gates.test", gate],
    );
    h.run(
        "gastown",
        dir,
        "bench",
        &[
            "config",
            "set",
            "merge_queue.batch_size",
            &batch.to_string(),
        ],
    );
    for i in 0..n {
        let name = format!("w{i:02}");
        h.git(dir, &["checkout", "-q", "-b", &name, "main"]);
        std::fs::write(dir.join(format!("{name}.txt")), "x\n").unwrap();
        if bad.contains(&i) {
            std::fs::write(dir.join("BAD"), "x\n").unwrap();
        }
        h.git(dir, &["add", "--all"]);
        h.git(dir, &["commit", "-qm", &name]);
        h.git(dir, &["checkout", "-q", "main"]);
        h.run("mq", dir, "bench", &["submit", &name]);
    }
}

fn pass(h: &Hermetic, dir: &Path) -> (Value, f64) {
    let mut cmd = h.command(support::tool("git-mq"), dir);
    cmd.args(["run", "--json"]).env("GT_ACTOR", "bench");
    let started = std::time::Instant::now();
    let out = cmd.output().unwrap();
    let elapsed = ms(started.elapsed());
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (report, elapsed)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let json_out = args
        .iter()
        .position(|a| a == "--json")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let base = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&base).unwrap();
    let root = tempfile::Builder::new()
        .prefix("gastown-mq-bench")
        .tempdir_in(&base)
        .unwrap();
    let h = Hermetic::new(root.path().join("home"));

    // Overhead: 20 requests, gate `true`, batch 1, the scratch worktree made by the pass.
    let n = 20;
    let mut per_mr = Vec::new();
    for run in 0..runs {
        let dir = root.path().join(format!("overhead-{run}"));
        rig(&h, &dir, n, &[], "true", 1);
        let (report, elapsed) = pass(&h, &dir);
        assert_eq!(report["merged"], n as u64, "{report}");
        per_mr.push(elapsed / n as f64);
    }
    let overhead = median(&per_mr);
    eprintln!("overhead per request (no-op gate, batch 1): {overhead:.1} ms");

    let mut gate_runs = Vec::new();
    for batch in [1usize, 4, 16] {
        for bad in [&[][..], &[9][..], &[3, 12][..]] {
            let dir = root.path().join(format!("bisect-{batch}-{}", bad.len()));
            rig(&h, &dir, 16, bad, "test ! -e BAD", batch);
            let (report, elapsed) = pass(&h, &dir);
            assert_eq!(report["merged"], (16 - bad.len()) as u64, "{report}");
            eprintln!(
                "batch {batch:2}, {} bad of 16: {} gate runs, {elapsed:.0} ms",
                bad.len(),
                report["gate_runs"]
            );
            gate_runs.push(json!({
                "batch_size": batch, "requests": 16, "bad": bad.len(),
                "gate_runs": report["gate_runs"], "merged": report["merged"], "pass_ms": elapsed.round(),
            }));
        }
    }
    let report = json!({
        "date": chrono::Utc::now().to_rfc3339(),
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "runs": runs,
        "overhead_ms_per_request": (overhead * 10.0).round() / 10.0,
        "gate_runs": gate_runs,
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    if let Some(path) = json_out {
        std::fs::write(path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    }
}
