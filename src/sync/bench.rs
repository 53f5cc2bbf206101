//! Sync and load benchmarks, called by `git gastown bench`: merging two clones that each
//! made 1,000 edits, 32 concurrent writer processes, and a sync when nothing changed.
//! Every figure is whole-process wall time of the real binaries (found beside the running
//! executable), reported as medians.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{json, Value};

use crate::bead::{Beads, NewBead};
use crate::error::{Error, Result};
use crate::store::{remote, Actor, Store};

const BEADS: usize = 1000;
const EDITS: usize = 1000;
const WRITERS: usize = 32;
const WRITES_PER_WRITER: usize = 10;
const NOOP_SAMPLES: usize = 15;

/// Medians for the sync benchmarks, as JSON (`runs` repetitions of each, at least one).
/// Scratch repositories go under `work_dir/sync-bench` and are removed afterwards.
pub fn bench_sync(work_dir: &Path, runs: usize) -> Result<Value> {
    let runs = runs.max(1);
    let bins = Bins::locate()?;
    let root = work_dir.join("sync-bench");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)
        .map_err(|e| Error::io(format!("creating {}", root.display()), e))?;
    let mut merges: Vec<MergeTimes> = Vec::new();
    let mut rates = Vec::new();
    let mut noop_ms = Vec::new();
    for run in 0..runs {
        merges.push(merge_run(&bins, &root.join(format!("merge-{run}")))?);
        rates.push(writers_run(&bins, &root.join(format!("writers-{run}")))?);
        noop_ms.extend(noop_run(&bins, &root.join(format!("noop-{run}")))?);
    }
    let _ = std::fs::remove_dir_all(&root);
    let pick = |f: fn(&MergeTimes) -> f64| merges.iter().map(f).collect::<Vec<f64>>();
    let totals = pick(|m| m.fetch_ms + m.merge_ms + m.push_ms);
    Ok(json!({
        "merge_1000_edits_each": {
            "what": format!("two clones of a {BEADS}-bead store each made {EDITS} edits (one commit each, every bead touched on both sides); merging the fetched state into the local one (fast-forward check, join of every changed record, merge commit)"),
            "median_ms": median(&pick(|m| m.merge_ms)),
            "runs_ms": pick(|m| m.merge_ms),
            "target_ms": 1000,
            "records_changed": merges.last().map(|m| m.changed),
            "conflicts_resolved": merges.last().map(|m| m.conflicts),
        },
        "sync_1000_edits_each": {
            "what": "the whole sync of that clone against a local bare remote: git fetch + merge + git push",
            "median_ms": median(&totals),
            "median_fetch_ms": median(&pick(|m| m.fetch_ms)),
            "median_push_ms": median(&pick(|m| m.push_ms)),
            "runs_ms": totals,
        },
        "concurrent_writers": {
            "what": format!("{WRITERS} processes at once from 8 worktrees of one repository, each running {WRITES_PER_WRITER} git bead writes (create, update, comment, claim) in turn"),
            "median_writes_per_s": median(&rates),
            "runs_writes_per_s": rates,
            "target_writes_per_s": 300,
        },
        "sync_noop": {
            "what": "git gastown sync when nothing changed, local bare remote",
            "median_ms": median(&noop_ms),
            "samples": noop_ms.len(),
            "target_ms": 100,
        },
    }))
}

/// The suite's binaries beside the running executable.
struct Bins {
    bead: PathBuf,
    gastown: PathBuf,
    git: PathBuf,
}

impl Bins {
    /// Beside the running executable, or one directory up (a cargo test or bench binary
    /// runs from `target/<profile>/deps/`), or on PATH.
    fn locate() -> Result<Bins> {
        let exe =
            std::env::current_exe().map_err(|e| Error::io("locating the running executable", e))?;
        let dirs: Vec<PathBuf> = exe
            .ancestors()
            .skip(1)
            .take(2)
            .map(Path::to_path_buf)
            .collect();
        let find = |name: &str| {
            dirs.iter()
                .map(|dir| dir.join(name))
                .find(|path| path.is_file())
                .or_else(|| which::which(name).ok())
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "{name} not found beside {} nor on PATH; build all binaries first",
                        exe.display()
                    ))
                })
        };
        Ok(Bins {
            bead: find("git-bead")?,
            gastown: find("git-gastown")?,
            git: crate::store::remote::git_binary()?,
        })
    }

    fn run(
        &self,
        program: &Path,
        dir: &Path,
        args: &[&str],
        actor: &str,
    ) -> Result<std::process::Output> {
        let out = Command::new(program)
            .args(args)
            .current_dir(dir)
            .env("GT_ACTOR", actor)
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::io(format!("running {}", program.display()), e))?;
        if !out.status.success() {
            return Err(Error::Git(format!(
                "benchmark step {} {} failed: {}",
                program.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
                args.join(" "),
                crate::error::one_line(&String::from_utf8_lossy(&out.stderr))
            )));
        }
        Ok(out)
    }

    fn git(&self, dir: &Path, args: &[&str]) -> Result<()> {
        self.run(&self.git, dir, args, "bench").map(|_| ())
    }

    fn sync(&self, dir: &Path, actor: &str) -> Result<Value> {
        let out = self.run(&self.gastown, dir, &["sync", "--json"], actor)?;
        serde_json::from_slice(&out.stdout).map_err(|e| Error::Git(format!("bad sync output: {e}")))
    }
}

fn actor(name: &str) -> Actor {
    Actor {
        name: name.to_string(),
        email: format!("{name}@bench.local"),
    }
}

/// A bare remote and a first clone holding an initialised store with `beads` beads.
fn setup(bins: &Bins, dir: &Path, beads: usize) -> Result<(PathBuf, Vec<String>)> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    bins.git(dir, &["init", "-q", "--bare", "remote.git"])?;
    let a = dir.join("a");
    bins.git(dir, &["init", "-q", "a"])?;
    bins.git(&a, &["remote", "add", "origin", "../remote.git"])?;
    let store = Store::open(&a)?;
    let beads_store = Beads::new(&store);
    let who = actor("seed");
    beads_store.init(&who, "bn")?;
    let mut ids = Vec::new();
    if beads > 0 {
        let batch: Vec<NewBead> = (0..beads)
            .map(|i| NewBead {
                title: format!("bench bead {i}"),
                ..NewBead::default()
            })
            .collect();
        ids = beads_store
            .create(&who, batch)?
            .into_iter()
            .map(|r| r.id)
            .collect();
    }
    bins.sync(&a, "seed")?;
    Ok((a, ids))
}

/// `edits` one-commit edits through the library (setup, not timed).
fn edit(
    dir: &Path,
    who: &str,
    ids: &[String],
    edits: usize,
    stride: usize,
    field: &str,
) -> Result<()> {
    let mut store = Store::open(dir)?;
    let who = actor(who);
    for i in 0..edits {
        // Each write adds a small pack: roll them up as the CLI's housekeeping would, and
        // look afresh when that replaced packs this long-lived process had open.
        if i % 10 == 0 && crate::store::gc::run(&store, dir, true, false)?.ran {
            store = Store::open(dir)?;
        }
        let beads = Beads::new(&store);
        let id = ids[(i * stride) % ids.len()].clone();
        let value = json!(format!("{} {i}", who.name));
        beads.modify(&who, "update", &[id], false, |e| {
            Ok(e.set(field, value.clone()))
        })?;
    }
    Ok(())
}

/// Two clones that each made `EDITS` edits since they last synced: time each step of
/// the second clone's sync (the same fetch, merge and push `git gastown sync` runs).
fn merge_run(bins: &Bins, dir: &Path) -> Result<MergeTimes> {
    let (a, ids) = setup(bins, dir, BEADS)?;
    bins.git(dir, &["clone", "-q", "remote.git", "b"])?;
    let b = dir.join("b");
    // No background gc from the 2,000 setup writes competing with later measurements.
    for clone in [&a, &b] {
        bins.git(clone, &["config", "gastown.gcAuto", "0"])?;
    }
    bins.sync(&b, "bob")?;
    // Every bead edited on both sides, the notes field on half of them (conflicts).
    edit(&a, "alice", &ids, EDITS, 7, "notes")?;
    bins.sync(&a, "alice")?;
    edit(&b, "bob", &ids, EDITS / 2, 13, "notes")?;
    edit(&b, "bob", &ids, EDITS - EDITS / 2, 3, "design")?;
    let store = Store::open(&b)?;
    let remote = remote::resolve_remote(&store, Some("origin"))?;
    let git = remote::Git::new(&b)?;
    let started = Instant::now();
    git.fetch(&remote)?;
    let fetch_ms = ms_since(started);
    let theirs = remote::tracking_tips(&store, &remote)?
        .get(crate::bead::COLLECTION)
        .copied()
        .ok_or_else(|| Error::Git("benchmark fetch brought no bead store".into()))?;
    let started = Instant::now();
    let report = super::merge_tip(
        &store,
        crate::bead::COLLECTION,
        theirs,
        &actor("bob"),
        "origin",
    )?;
    let merge_ms = ms_since(started);
    if report.action != "merged" {
        return Err(Error::Git(format!(
            "benchmark sync did not merge: {}",
            report.action
        )));
    }
    let tip = store
        .snapshot(crate::bead::COLLECTION)?
        .tip
        .expect("merged");
    let started = Instant::now();
    let pushed = git.push(&remote, &[(crate::bead::COLLECTION.to_string(), tip)])?;
    let push_ms = ms_since(started);
    if pushed != remote::PushResult::Pushed {
        return Err(Error::Git("benchmark push was rejected".into()));
    }
    Ok(MergeTimes {
        fetch_ms,
        merge_ms,
        push_ms,
        changed: report.report.changed,
        conflicts: report.report.conflicts,
    })
}

struct MergeTimes {
    fetch_ms: f64,
    merge_ms: f64,
    push_ms: f64,
    changed: usize,
    conflicts: usize,
}

fn ms_since(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// 32 writer processes from 8 worktrees of one repository (as agents work), each making
/// `WRITES_PER_WRITER` writes in turn: create, update, comment, and claim a bead of its own
/// (so every claim succeeds and each is a real write).
fn writers_run(bins: &Bins, dir: &Path) -> Result<f64> {
    const WORKTREES: usize = 8;
    let claims_per_writer = WRITES_PER_WRITER.div_ceil(4);
    let shared = 64;
    let (a, ids) = setup(bins, dir, shared + WRITERS * claims_per_writer)?;
    bins.git(
        &a,
        &[
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@bench.local",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "initial",
        ],
    )?;
    let mut worktrees = Vec::new();
    for n in 0..WORKTREES {
        let path = dir.join(format!("wt{n}"));
        let path_arg = path.to_string_lossy().into_owned();
        bins.git(&a, &["worktree", "add", "-q", "--detach", &path_arg])?;
        worktrees.push(path);
    }
    let started = Instant::now();
    let results: Vec<Result<()>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (worktrees, ids) = (&worktrees, &ids);
                scope.spawn(move || -> Result<()> {
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
                        bins.run(&bins.bead, dir, &args, &who)?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::Git("writer thread panicked".into())))
            })
            .collect()
    });
    let elapsed = started.elapsed();
    for result in results {
        result?;
    }
    Ok((WRITERS * WRITES_PER_WRITER) as f64 / elapsed.as_secs_f64())
}

fn noop_run(bins: &Bins, dir: &Path) -> Result<Vec<f64>> {
    let (a, _) = setup(bins, dir, 100)?;
    bins.sync(&a, "seed")?;
    let mut samples = Vec::new();
    for _ in 0..NOOP_SAMPLES {
        let started = Instant::now();
        let report = bins.sync(&a, "seed")?;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
        if report["up_to_date"] != true {
            return Err(Error::Git(format!(
                "no-op sync changed something: {report}"
            )));
        }
    }
    Ok(samples)
}

fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let mid = sorted.len() / 2;
    let value = if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    };
    (value * 100.0).round() / 100.0
}
