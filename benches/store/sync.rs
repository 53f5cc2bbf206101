//! The sync and load benchmarks: merging two clones that each made 1,000 edits, 32
//! concurrent writer processes, and a sync when nothing changed. Figures are wall times
//! of the real binaries (and of the library's merge, for the merge step alone), reported
//! as medians.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Value};

use crate::support::{self, median, ms, Hermetic};

const BEADS: usize = 1000;
const EDITS: usize = 1000;
const WRITERS: usize = 32;
const WRITES_PER_WRITER: usize = 10;
const NOOP_SAMPLES: usize = 15;

/// Medians for the sync benchmarks, as JSON (`runs` repetitions of each, at least one).
/// Scratch repositories go under `root`.
pub fn measure_sync(root: &Path, h: &Hermetic, runs: usize) -> Value {
    let runs = runs.max(1);
    eprintln!("sync:");
    let mut merges: Vec<MergeTimes> = Vec::new();
    let mut rates = Vec::new();
    let mut noop_ms = Vec::new();
    for run in 0..runs {
        merges.push(merge_run(h, &root.join(format!("merge-{run}"))));
        rates.push(writers_run(h, &root.join(format!("writers-{run}"))));
        noop_ms.extend(noop_run(h, &root.join(format!("noop-{run}"))));
    }
    let pick = |f: fn(&MergeTimes) -> f64| merges.iter().map(f).collect::<Vec<f64>>();
    let totals = pick(|m| m.fetch_ms + m.merge_ms + m.push_ms);
    let merge_ms = median(&pick(|m| m.merge_ms));
    eprintln!("  merge 1,000 edits each  median {merge_ms:7.2} ms");
    eprintln!(
        "  {WRITERS} writers           median {:7.1} writes/s",
        median(&rates)
    );
    eprintln!(
        "  no-op sync              median {:7.2} ms",
        median(&noop_ms)
    );
    json!({
        "merge_1000_edits_each": {
            "what": format!("two clones of a {BEADS}-bead store each made {EDITS} edits (one commit each, every bead touched on both sides); merging the fetched state into the local one (fast-forward check, join of every changed record, merge commit)"),
            "median_ms": round(merge_ms),
            "runs_ms": pick(|m| m.merge_ms),
            "target_ms": 1000,
            "records_changed": merges.last().map(|m| m.changed),
            "conflicts_resolved": merges.last().map(|m| m.conflicts),
        },
        "sync_1000_edits_each": {
            "what": "the whole sync of that clone against a local bare remote: git fetch + merge + git push",
            "median_ms": round(median(&totals)),
            "median_fetch_ms": round(median(&pick(|m| m.fetch_ms))),
            "median_push_ms": round(median(&pick(|m| m.push_ms))),
            "runs_ms": totals,
        },
        "concurrent_writers": {
            "what": format!("{WRITERS} processes at once from 8 worktrees of one repository, each running {WRITES_PER_WRITER} git bead writes (create, update, comment, claim) in turn"),
            "median_writes_per_s": round(median(&rates)),
            "runs_writes_per_s": rates,
            "target_writes_per_s": 300,
        },
        "sync_noop": {
            "what": "git gastown sync when nothing changed, local bare remote",
            "median_ms": round(median(&noop_ms)),
            "samples": noop_ms.len(),
            "target_ms": 100,
        },
    })
}

/// Two decimals are plenty for a report.
fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn sync(h: &Hermetic, dir: &Path, actor: &str) -> Value {
    let (out, _) = h.run("gastown", dir, actor, &["sync", "--json"]);
    serde_json::from_slice(&out.stdout).expect("sync prints JSON")
}

/// A bare remote and a first clone holding a store with `beads` beads (ids in order),
/// synced to the remote.
fn setup(h: &Hermetic, dir: &Path, beads: usize) -> (PathBuf, Vec<String>) {
    std::fs::create_dir_all(dir).unwrap();
    h.git(dir, &["init", "-q", "--bare", "remote.git"]);
    let a = dir.join("a");
    h.git(dir, &["init", "-q", "a"]);
    h.git(&a, &["remote", "add", "origin", "../remote.git"]);
    h.run("bead", &a, "seed", &["init", "--prefix", "bn"]);
    // One commit for all of them, as an import of an existing tracker would be.
    let lines: String = (0..beads)
        .map(|i| format!("{}\n", json!({"title": format!("bench bead {i}")})))
        .collect();
    let file = dir.join("seed.jsonl");
    std::fs::write(&file, lines).unwrap();
    let (out, _) = h.run(
        "bead",
        &a,
        "seed",
        &["create", "--file", file.to_str().unwrap(), "--json"],
    );
    let created: Value = serde_json::from_slice(&out.stdout).expect("create prints JSON");
    let ids: Vec<String> = created
        .as_array()
        .expect("a list of created beads")
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), beads);
    sync(h, &a, "seed");
    (a, ids)
}

/// Every `stride`-th bead (wrapping), `edits` times: the ids to edit in order.
fn strided(ids: &[String], edits: usize, stride: usize) -> Vec<String> {
    (0..edits)
        .map(|i| ids[(i * stride) % ids.len()].clone())
        .collect()
}

struct MergeTimes {
    fetch_ms: f64,
    merge_ms: f64,
    push_ms: f64,
    changed: usize,
    conflicts: usize,
}

/// Two clones that each made `EDITS` edits since they last synced: time each step of
/// the second clone's sync (the same fetch, merge and push `git gastown sync` runs).
fn merge_run(h: &Hermetic, dir: &Path) -> MergeTimes {
    let (a, ids) = setup(h, dir, BEADS);
    h.git(dir, &["clone", "-q", "remote.git", "b"]);
    let b = dir.join("b");
    // No background gc from the 2,000 setup writes competing with later measurements.
    for clone in [&a, &b] {
        h.git(clone, &["config", "gastown.gcAuto", "0"]);
    }
    sync(h, &b, "bob");
    // Every bead edited on both sides, the notes field on half of them (conflicts).
    support::edit(&a, "alice", &strided(&ids, EDITS, 7), "notes", |i| {
        format!("alice {i}")
    });
    sync(h, &a, "alice");
    support::edit(&b, "bob", &strided(&ids, EDITS / 2, 13), "notes", |i| {
        format!("bob {i}")
    });
    support::edit(
        &b,
        "bob",
        &strided(&ids, EDITS - EDITS / 2, 3),
        "design",
        |i| format!("bob {i}"),
    );
    // The fetch `git gastown sync` runs (docs/SYNC.md), into the tracking namespace.
    let started = Instant::now();
    h.git(
        &b,
        &[
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--no-auto-maintenance",
            "--refmap=",
            "--",
            "origin",
            "+refs/gastown/*:refs/gastown-remotes/origin/*",
            "^refs/gastown/local/*",
        ],
    );
    let fetch_ms = ms(started.elapsed());
    let theirs = h.git(&b, &["rev-parse", "refs/gastown-remotes/origin/beads"]);
    let theirs = gix::ObjectId::from_hex(theirs.trim().as_bytes()).expect("a commit id");
    let store = gastown::store::Store::open(&b).expect("store opens");
    let bob = gastown::store::Actor {
        name: "bob".into(),
        email: "bob@bench.local".into(),
    };
    let started = Instant::now();
    let report =
        gastown::sync::merge_tip(&store, gastown::bead::COLLECTION, theirs, &bob, "origin")
            .expect("merge works");
    let merge_ms = ms(started.elapsed());
    assert_eq!(report.action, "merged", "the benchmark must merge");
    let ours = report.after.clone().expect("merged has a tip");
    let started = Instant::now();
    h.git(
        &b,
        &[
            "push",
            "--porcelain",
            "--atomic",
            "--no-verify",
            "--quiet",
            "--",
            "origin",
            &format!("{ours}:refs/gastown/beads"),
        ],
    );
    let push_ms = ms(started.elapsed());
    MergeTimes {
        fetch_ms,
        merge_ms,
        push_ms,
        changed: report.report.changed,
        conflicts: report.report.conflicts,
    }
}

/// 32 writer processes from 8 worktrees of one repository (as agents work), each making
/// `WRITES_PER_WRITER` writes in turn: create, update, comment, and claim a bead of its own
/// (so every claim succeeds and each is a real write). Writes per second.
fn writers_run(h: &Hermetic, dir: &Path) -> f64 {
    const WORKTREES: usize = 8;
    let claims_per_writer = WRITES_PER_WRITER.div_ceil(4);
    let shared = 64;
    let (a, ids) = setup(h, dir, shared + WRITERS * claims_per_writer);
    h.git(&a, &["commit", "-q", "--allow-empty", "-m", "initial"]);
    let mut worktrees = Vec::new();
    for n in 0..WORKTREES {
        let path = dir.join(format!("wt{n}"));
        h.git(
            &a,
            &["worktree", "add", "-q", "--detach", path.to_str().unwrap()],
        );
        worktrees.push(path);
    }
    let started = Instant::now();
    std::thread::scope(|scope| {
        for w in 0..WRITERS {
            let (worktrees, ids) = (&worktrees, &ids);
            scope.spawn(move || {
                let who = format!("writer{w}");
                let dir = &worktrees[w % WORKTREES];
                for i in 0..WRITES_PER_WRITER {
                    let target = &ids[(w * 7 + i) % shared];
                    let own = &ids[shared + w * claims_per_writer + i / 4];
                    let title = format!("w{w} {i}");
                    let note = format!("note {w} {i}");
                    let args: Vec<&str> = match i % 4 {
                        0 => vec!["create", &title, "--silent"],
                        1 => vec!["update", target, "--notes", &note],
                        2 => vec!["comments", "add", target, &note],
                        _ => vec!["update", own, "--claim"],
                    };
                    h.run("bead", dir, &who, &args);
                }
            });
        }
    });
    (WRITERS * WRITES_PER_WRITER) as f64 / started.elapsed().as_secs_f64()
}

/// `git gastown sync` against a remote that has nothing new, `NOOP_SAMPLES` times (ms).
fn noop_run(h: &Hermetic, dir: &Path) -> Vec<f64> {
    let (a, _) = setup(h, dir, 100);
    sync(h, &a, "seed");
    (0..NOOP_SAMPLES)
        .map(|_| {
            let started = Instant::now();
            let report = sync(h, &a, "seed");
            let elapsed = ms(started.elapsed());
            assert_eq!(
                report["up_to_date"], true,
                "no-op sync changed something: {report}"
            );
            elapsed
        })
        .collect()
}
