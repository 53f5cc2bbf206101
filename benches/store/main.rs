//! The store benchmark: builds bead stores of the requested sizes with a realistic
//! dependency graph and prints whole-process medians of the commands agents run most,
//! plus peak memory. Run with `cargo bench --bench store` (options after `--`):
//!
//!   --sizes 1000,10000,100000   store sizes to build
//!   --runs 15                   timed runs per command (the median is printed)
//!   --history 50000             updates of history before re-timing `ready` (0 = skip)
//!   --history-size 10000        store size used for the history check
//!   --no-molecule               skip the 1,023-step molecule pour and `mol current`
//!   --no-sync                   skip the sync and concurrency benchmarks
//!   --json FILE                 also write all figures as JSON
//!   --dir DIR                   where to build the stores (default: target/tmp)

#[path = "../support/mod.rs"]
mod support;
mod sync;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use support::{median, ms, tool, Hermetic, Rng};

struct Options {
    sizes: Vec<usize>,
    runs: usize,
    history: usize,
    history_size: usize,
    sync: bool,
    molecule: bool,
    json: Option<PathBuf>,
    dir: Option<PathBuf>,
}

fn options() -> Options {
    let mut o = Options {
        sizes: vec![1_000, 10_000, 100_000],
        runs: 15,
        history: 50_000,
        history_size: 10_000,
        sync: true,
        molecule: true,
        json: None,
        dir: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--sizes" => {
                o.sizes = value
                    .split(',')
                    .map(|s| s.trim().parse().expect("--sizes takes numbers"))
                    .collect()
            }
            "--runs" => o.runs = value.parse().expect("--runs takes a number"),
            "--history" => o.history = value.parse().expect("--history takes a number"),
            "--history-size" => {
                o.history_size = value.parse().expect("--history-size takes a number")
            }
            "--json" => o.json = Some(PathBuf::from(value)),
            "--dir" => o.dir = Some(PathBuf::from(value)),
            "--no-sync" => {
                o.sync = false;
                i += 1;
                continue;
            }
            "--no-molecule" => {
                o.molecule = false;
                i += 1;
                continue;
            }
            "--bench" => {
                i += 1;
                continue;
            }
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    o
}

/// Run `git bead ARGS` once: (wall time, peak RSS in kB, stdout).
fn bead(h: &Hermetic, dir: &Path, args: &[&str]) -> (Duration, u64, Vec<u8>) {
    let mut cmd = h.command(tool("git-bead"), dir);
    cmd.args(args).env("GT_REPORT_PEAK_RSS", "1");
    let (out, elapsed) = h.timed(cmd);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rss = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kb="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (elapsed, rss, out.stdout)
}

/// bd JSONL for `n` beads shaped like a real tracker: most work closed, epics with
/// children, chains and fans of `blocks` edges, provenance links, labels, long bodies.
fn generate(n: usize) -> String {
    let mut rng = Rng(0x9e3779b97f4a7c15 ^ n as u64);
    let id = |i: usize| format!("bn-{i:06x}");
    let mut out = String::with_capacity(n * 700);
    let mut epic: Option<usize> = None;
    for i in 0..n {
        let roll = rng.below(100);
        let status = match roll {
            0..=59 => "closed",
            60..=84 => "open",
            85..=94 => "in_progress",
            95..=97 => "blocked",
            _ => "deferred",
        };
        let issue_type = match rng.below(20) {
            0 => "epic",
            1..=4 => "bug",
            5..=7 => "feature",
            8 => "chore",
            _ => "task",
        };
        let mut deps = Vec::new();
        if let Some(e) = epic {
            if rng.below(3) == 0 && e != i {
                deps.push(json!({"issue_id": id(i), "depends_on_id": id(e), "type": "parent-child", "created_at": "2026-01-01T00:00:00Z", "created_by": "bench"}));
            }
        }
        if i > 0 && rng.below(10) < 4 {
            let k = 1 + rng.below(3);
            for _ in 0..k {
                let target = rng.below(i as u64) as usize;
                if !deps.iter().any(|d| d["depends_on_id"] == id(target)) && Some(target) != epic {
                    let kind = if rng.below(5) == 0 {
                        "discovered-from"
                    } else {
                        "blocks"
                    };
                    deps.push(json!({"issue_id": id(i), "depends_on_id": id(target), "type": kind, "created_at": "2026-01-01T00:00:00Z", "created_by": "bench"}));
                }
            }
        }
        let mut bead = json!({
            "id": id(i),
            "title": format!("Bead {i}: improve component {} handling", rng.below(500)),
            "description": format!("## Context\nGenerated bead {i} for the benchmark. {}\n\n## Tasks\n- one\n- two\n- three", "Lorem ipsum dolor sit amet. ".repeat(1 + rng.below(8) as usize)),
            "status": status,
            "priority": rng.below(5),
            "issue_type": issue_type,
            "created_at": format!("2026-01-{:02}T{:02}:{:02}:00Z", 1 + rng.below(28), rng.below(24), rng.below(60)),
            "created_by": "bench",
            "updated_at": "2026-02-01T00:00:00Z",
            "labels": [format!("area:{}", rng.below(12))],
        });
        if status == "closed" {
            bead["closed_at"] = json!("2026-02-01T00:00:00Z");
        }
        if status == "in_progress" {
            bead["assignee"] = json!(format!("polecat-{}", rng.below(30)));
        }
        if !deps.is_empty() {
            bead["dependencies"] = Value::Array(deps);
        }
        out.push_str(&bead.to_string());
        out.push('\n');
        if issue_type == "epic" {
            epic = Some(i);
        }
    }
    out
}

/// A repository with a store of `n` beads, packed as `git gc` would leave it, cache warm.
fn build_store(root: &Path, h: &Hermetic, n: usize) -> PathBuf {
    let dir = root.join(format!("store-{n}"));
    std::fs::create_dir_all(&dir).unwrap();
    h.git(&dir, &["init", "-q"]);
    bead(h, &dir, &["init", "--prefix", "bn"]);
    let file = root.join(format!("beads-{n}.jsonl"));
    std::fs::write(&file, generate(n)).unwrap();
    let start = Instant::now();
    bead(h, &dir, &["import", file.to_str().unwrap()]);
    eprintln!(
        "  built {n} beads in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    h.git(&dir, &["pack-refs", "--all"]);
    h.git(&dir, &["repack", "-adfq"]);
    bead(h, &dir, &["ready", "--json"]);
    dir
}

fn time_command(
    dir: &Path,
    h: &Hermetic,
    runs: usize,
    mut args: impl FnMut(usize) -> Vec<String>,
) -> (f64, u64) {
    let mut times = Vec::new();
    let mut peak = 0;
    for run in 0..runs {
        let owned = args(run);
        let argv: Vec<&str> = owned.iter().map(String::as_str).collect();
        let (t, rss, _) = bead(h, dir, &argv);
        times.push(t.as_secs_f64() * 1000.0);
        peak = peak.max(rss);
    }
    (median(&times), peak)
}

fn measure_size(root: &Path, h: &Hermetic, n: usize, runs: usize) -> Value {
    eprintln!("size {n}:");
    let dir = build_store(root, h, n);
    let mut result = json!({"beads": n});
    let mut peak = 0;
    let s = |v: &str| v.to_string();
    let reads: [(&str, Vec<String>); 3] = [
        ("ready --json", vec![s("ready"), s("--json")]),
        ("list --json", vec![s("list"), s("--json")]),
        ("show", vec![s("show"), format!("bn-{:06x}", n / 2)]),
    ];
    for (name, argv) in reads {
        let (ms, rss) = time_command(&dir, h, runs, |_| argv.clone());
        eprintln!(
            "  {name:<14} median {ms:7.2} ms   peak {:6.1} MB",
            rss as f64 / 1024.0
        );
        result[name] = json!(ms);
        peak = peak.max(rss);
    }
    let (ms, rss) = time_command(&dir, h, runs, |i| {
        vec![s("create"), format!("bench create {i}"), s("-p"), s("2")]
    });
    eprintln!(
        "  {:<14} median {ms:7.2} ms   peak {:6.1} MB",
        "create",
        rss as f64 / 1024.0
    );
    result["create"] = json!(ms);
    peak = peak.max(rss);
    let (ms, rss) = time_command(&dir, h, runs, |i| {
        vec![
            s("update"),
            format!("bn-{:06x}", (i * 7919) % n),
            s("--notes"),
            format!("run {i}"),
        ]
    });
    eprintln!(
        "  {:<14} median {ms:7.2} ms   peak {:6.1} MB",
        "update",
        rss as f64 / 1024.0
    );
    result["update"] = json!(ms);
    peak = peak.max(rss);
    // A cold rebuild of the derived index, for reference.
    std::fs::remove_dir_all(dir.join(".git/gastown/cache")).ok();
    let (cold, rss, _) = bead(h, &dir, &["ready", "--json"]);
    eprintln!(
        "  {:<14} {:7.2} ms (one run, index rebuilt from the store)",
        "ready (cold)",
        cold.as_secs_f64() * 1000.0
    );
    result["ready --json (cold index)"] = json!(cold.as_secs_f64() * 1000.0);
    peak = peak.max(rss);
    result["peak_rss_mb"] = json!(peak as f64 / 1024.0);
    eprintln!("  peak memory {:.1} MB", peak as f64 / 1024.0);
    result
}

/// `ready` on a store with `updates` commits of history against the same store fresh.
fn measure_history(root: &Path, h: &Hermetic, n: usize, updates: usize, runs: usize) -> Value {
    eprintln!("history: {n} beads, {updates} updates");
    let dir = build_store(root, h, n);
    let (fresh, _) = time_command(&dir, h, runs, |_| vec!["ready".into(), "--json".into()]);
    let ids: Vec<String> = (0..updates)
        .map(|i| format!("bn-{:06x}", (i * 7919) % n))
        .collect();
    support::edit(&dir, "bench", &ids, "notes", |i| format!("update {i}"));
    // The tool's own full gc: it waits for any automatic one still running.
    h.run("gastown", &dir, "bench", &["gc", "--full"]);
    bead(h, &dir, &["ready", "--json"]);
    let (deep, _) = time_command(&dir, h, runs, |_| vec!["ready".into(), "--json".into()]);
    let ratio = deep / fresh;
    eprintln!(
        "  ready --json fresh {fresh:.2} ms, after {updates} updates {deep:.2} ms ({:+.1} %)",
        (ratio - 1.0) * 100.0
    );
    json!({"beads": n, "updates": updates, "ready_fresh_ms": fresh, "ready_after_history_ms": deep, "ratio": ratio})
}

fn main() {
    let o = options();
    // Work under target/ rather than /tmp: on a machine whose /tmp saw thousands of test
    // directories come and go, ext4 can take ~1 ms per new file there (scanning recently
    // freed inodes), which would measure the machine's /tmp instead of the store.
    let base = o
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
    std::fs::create_dir_all(&base).unwrap();
    let root = tempfile::Builder::new()
        .prefix("gastown-bench")
        .tempdir_in(&base)
        .unwrap();
    let h = Hermetic::new(root.path().join("home"));
    let mut report = json!({
        "date": chrono::Utc::now().to_rfc3339(),
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "runs": o.runs,
        "sizes": [],
    });
    for &n in &o.sizes {
        let r = measure_size(root.path(), &h, n, o.runs);
        report["sizes"].as_array_mut().unwrap().push(r);
    }
    if o.history > 0 {
        report["history"] = measure_history(root.path(), &h, o.history_size, o.history, o.runs);
    }
    if o.molecule {
        report["molecule"] = measure_molecule(root.path(), &h, o.runs);
    }
    if o.sync {
        report["sync"] = sync::measure_sync(&root.path().join("sync"), &h, o.runs);
    }
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    if let Some(path) = o.json {
        std::fs::write(path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    }
    if std::env::var_os("GT_BENCH_KEEP").is_some() {
        eprintln!("kept {}", root.keep().display());
    }
}

/// A workflow formula whose steps form one chain of `n` steps (like towers-of-hanoi).
fn chain_formula(n: usize) -> String {
    let mut text = String::from("formula = \"bench-chain\"\ntype = \"workflow\"\nversion = 1\n");
    for i in 0..n {
        text.push_str(&format!(
            "\n[[steps]]\nid = \"move-{i}\"\ntitle = \"Move disk {}\"\n",
            i % 10
        ));
        if i > 0 {
            text.push_str(&format!("needs = [\"move-{}\"]\n", i - 1));
        }
    }
    text
}

/// Cook + pour of a 1,023-step chain (fresh store each run) and `git mol current` on it.
fn measure_molecule(root: &Path, h: &Hermetic, runs: usize) -> Value {
    let steps = 1023;
    eprintln!("molecule: {steps}-step chain");
    let file = root.join("chain.formula.toml");
    std::fs::write(&file, chain_formula(steps)).unwrap();
    let mut pour_times = Vec::new();
    let mut last = (PathBuf::new(), String::new());
    for run in 0..runs {
        let dir = root.join(format!("mol-{run}"));
        std::fs::create_dir_all(&dir).unwrap();
        h.git(&dir, &["init", "-q"]);
        bead(h, &dir, &["init", "--prefix", "bn"]);
        let (out, elapsed) = h.run(
            "mol",
            &dir,
            "bench",
            &["pour", file.to_str().unwrap(), "--json"],
        );
        pour_times.push(ms(elapsed));
        let poured: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(poured["steps"].as_array().unwrap().len(), steps);
        let commits = h.git(&dir, &["rev-list", "--count", "refs/gastown/beads"]);
        assert_eq!(commits.trim(), "2", "init + one pour commit");
        last = (dir, poured["molecule"]["id"].as_str().unwrap().to_string());
    }
    let (dir, mol) = last;
    let mut current_times = Vec::new();
    for _ in 0..runs {
        let (_, elapsed) = h.run("mol", &dir, "bench", &["current", &mol, "--json"]);
        current_times.push(ms(elapsed));
    }
    let pour = median(&pour_times);
    let current = median(&current_times);
    eprintln!("  cook + pour    median {pour:7.2} ms (one commit)");
    eprintln!("  mol current    median {current:7.2} ms");
    json!({"steps": steps, "cook_and_pour_ms": pour, "mol_current_ms": current, "commits_per_pour": 1})
}
