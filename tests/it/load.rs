//! Load and housekeeping: 32 writers from 8 worktrees, bounded lock waits, lock files left
//! by killed processes, `git gastown gc` while writing, and automatic gc.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{self, Env};
use serde_json::Value;

fn bead_cmd(env: &Env, dir: &Path, actor: &str, args: &[&str]) -> Command {
    let mut cmd = env.command(support::bin_dir().join("git-bead").to_str().unwrap(), dir);
    cmd.args(args).args(["--actor", actor]);
    cmd
}

fn run(env: &Env, dir: &Path, actor: &str, args: &[&str]) -> Output {
    bead_cmd(env, dir, actor, args).output().unwrap()
}

fn init(env: &Env) {
    env.bead_ok(&["init", "--prefix", "ld"]);
}

#[test]
fn thirty_two_writers_in_eight_worktrees_lose_nothing_and_claims_stay_exclusive() {
    let env = Env::new();
    init(&env);
    let worktrees: Vec<PathBuf> = (0..8)
        .map(|i| {
            let path = env.path().join(format!("wt{i}"));
            env.git_ok(
                &env.repo(),
                &["worktree", "add", "-q", "--detach", path.to_str().unwrap()],
            );
            path
        })
        .collect();
    let contested: Vec<String> = (0..8)
        .map(|i| env.create(&format!("contested {i}"), &[]))
        .collect();
    let before = env.commits(&env.repo(), "beads");
    struct Done {
        created: Vec<(String, String)>,
        notes: Vec<(String, String)>,
        comments: Vec<(String, String)>,
        claim: (String, i32),
    }
    let results: Vec<Done> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..32)
            .map(|t| {
                let (env, worktrees, contested) = (&env, &worktrees, &contested);
                scope.spawn(move || {
                    let dir = &worktrees[t % 8];
                    let actor = format!("agent-{t}");
                    let target = &contested[t % 8];
                    let claim = run(env, dir, &actor, &["update", target, "--claim"]);
                    let mut done = Done {
                        created: Vec::new(),
                        notes: Vec::new(),
                        comments: Vec::new(),
                        claim: (target.clone(), claim.status.code().unwrap()),
                    };
                    for j in 0..4 {
                        let title = format!("load {t} {j}");
                        let out = support::ok(
                            run(env, dir, &actor, &["create", &title, "--silent"]),
                            &["create"],
                        );
                        let id = out.trim().to_string();
                        let on = &contested[(t + j) % 8];
                        let text = format!("comment {t} {j}");
                        support::ok(
                            run(env, dir, &actor, &["comments", "add", on, &text]),
                            &["comments"],
                        );
                        let note = format!("note {t} {j}");
                        support::ok(
                            run(env, dir, &actor, &["update", &id, "--notes", &note]),
                            &["update"],
                        );
                        done.created.push((id.clone(), title));
                        done.notes.push((id, note));
                        done.comments.push((on.clone(), text));
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Claims: exactly one winner per contested bead, every loser told so (exit 4).
    let mut winners: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (t, done) in results.iter().enumerate() {
        let (target, code) = &done.claim;
        assert!(*code == 0 || *code == 4, "claim exit {code}");
        if *code == 0 {
            winners.entry(target.clone()).or_default().push(t);
        }
    }
    for id in &contested {
        let won = winners.get(id).cloned().unwrap_or_default();
        assert_eq!(won.len(), 1, "{id}: winners {won:?}");
        let bead = env.bead_json(&["show", id]);
        assert_eq!(bead[0]["assignee"], format!("agent-{}", won[0]));
        assert_eq!(bead[0]["status"], "in_progress");
    }
    // Every acknowledged write is there.
    let listed = env.bead_json(&["list", "--all", "--limit", "0"]);
    let titles: BTreeMap<String, String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["id"].as_str().unwrap().to_string(),
                b["title"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut expected_comments: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for done in &results {
        for (id, title) in &done.created {
            assert_eq!(titles.get(id), Some(title));
        }
        for (id, note) in &done.notes {
            let bead = env.bead_json(&["show", id]);
            assert_eq!(&bead[0]["notes"], note);
        }
        for (on, text) in &done.comments {
            expected_comments
                .entry(on.clone())
                .or_default()
                .insert(text.clone());
        }
    }
    for (on, texts) in expected_comments {
        let listed = env.bead_json(&["comments", "list", &on]);
        let got: BTreeSet<String> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["text"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(got, texts, "comments on {on}");
    }
    assert_eq!(titles.len(), 8 + 32 * 4);
    // One commit per successful write: 8 claims + 32 × 4 × (create, comment, update).
    assert_eq!(env.commits(&env.repo(), "beads"), before + 8 + 32 * 4 * 3);
    env.assert_fsck_clean(&env.repo());
}

/// Wait until another process holds an exclusive flock on `path`.
fn wait_until_locked(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let file = std::fs::OpenOptions::new().read(true).open(path);
        if let Ok(file) = file {
            if file.try_lock().is_err() {
                return;
            }
        }
        assert!(Instant::now() < deadline, "holder never took the lock");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn lock_waits_are_bounded_and_a_killed_holder_never_blocks() {
    let env = Env::new();
    init(&env);
    let lock = env.repo().join(".git/gastown/locks/beads.lock");
    assert!(lock.exists(), "writers leave their lock file in place");
    // A process that holds the writer lock (flock(1) without forking, then sleeping).
    let mut holder = Command::new("flock")
        .args(["-F", "-x"])
        .arg(&lock)
        .args(["sleep", "60"])
        .stdin(Stdio::null())
        .spawn()
        .expect("flock(1) from util-linux");
    wait_until_locked(&lock);
    let out = bead_cmd(&env, &env.repo(), "waiter", &["create", "waits"])
        .env("GT_LOCK_TIMEOUT_MS", "300")
        .output()
        .unwrap();
    let (code, stderr) = support::err(out, &["create"]);
    assert_eq!(code, 3, "busy exits 3");
    support::assert_one_line_error(&stderr);
    assert!(stderr.contains("busy"), "{stderr}");
    // kill -9 the holder: the kernel drops its flock; the file stays behind.
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(lock.exists());
    let out = bead_cmd(&env, &env.repo(), "waiter", &["create", "after the kill"])
        .env("GT_LOCK_TIMEOUT_MS", "2000")
        .output()
        .unwrap();
    support::ok(out, &["create after kill"]);
}

#[test]
fn a_ref_lock_file_left_by_a_killed_writer_is_cleared() {
    let env = Env::new();
    init(&env);
    let before = env.commits(&env.repo(), "beads");
    // What a writer killed between taking git's ref lock and renaming it leaves behind.
    let stale = env.repo().join(".git/refs/gastown/beads.lock");
    std::fs::write(&stale, b"0000000000000000000000000000000000000000\n").unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(30);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(old)
        .unwrap();
    env.create("after a crash", &[]);
    assert!(!stale.exists());
    assert_eq!(env.commits(&env.repo(), "beads"), before + 1);
}

fn count_objects(env: &Env) -> BTreeMap<String, u64> {
    env.git_ok(&env.repo(), &["count-objects", "-v"])
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(": ")?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

fn loose_objects(env: &Env) -> Vec<String> {
    let objects = env.repo().join(".git/objects");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(&objects).unwrap().flatten() {
        let name = dir.file_name().to_string_lossy().to_string();
        if name.len() != 2 || !name.chars().all(|c| c.is_ascii_hexdigit()) {
            continue;
        }
        for file in std::fs::read_dir(dir.path()).unwrap().flatten() {
            out.push(format!("{name}{}", file.file_name().to_string_lossy()));
        }
    }
    out
}

#[test]
fn gc_while_writing_loses_nothing() {
    let env = Env::new();
    init(&env);
    let created: Vec<Vec<(String, String)>> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let env = &env;
                scope.spawn(move || {
                    (0..25)
                        .map(|i| {
                            let title = format!("gc {w} {i}");
                            let out = run(
                                env,
                                &env.repo(),
                                &format!("w{w}"),
                                &["create", &title, "--silent"],
                            );
                            (support::ok(out, &["create"]).trim().to_string(), title)
                        })
                        .collect()
                })
            })
            .collect();
        for full in [false, false, true, false] {
            let mut args = vec!["gc", "--json"];
            if full {
                args.push("--full");
            }
            let out = support::ok(env.run_in(&env.repo(), "gastown", &args), &args);
            let report: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(report["ran"], true, "{report}");
        }
        writers.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let final_gc = support::ok(
        env.run_in(&env.repo(), "gastown", &["gc", "--json"]),
        &["gc"],
    );
    let report: Value = serde_json::from_str(&final_gc).unwrap();
    assert_eq!(report["ran"], true);
    let listed = env.bead_json(&["list", "--all", "--limit", "0"]);
    assert_eq!(listed.as_array().unwrap().len(), 100);
    for (id, title) in created.iter().flatten() {
        assert_eq!(env.bead_json(&["show", id])[0]["title"], title.as_str());
    }
    let counts = count_objects(&env);
    assert!(counts["packs"] >= 1, "{counts:?}");
    assert_eq!(counts["prune-packable"], 0, "{counts:?}");
    // Every reachable object got packed; what stays loose is unreachable (writes retried
    // after racing the gc), kept until git's prune expiry.
    let unreachable = env.git_ok(
        &env.repo(),
        &["fsck", "--unreachable", "--no-reflogs", "--no-progress"],
    );
    for loose in loose_objects(&env) {
        assert!(
            unreachable.contains(&loose),
            "reachable object {loose} is still loose"
        );
    }
    assert!(
        env.path().join("repo/.git/packed-refs").exists(),
        "refs were packed"
    );
    env.assert_fsck_clean(&env.repo());
    // Writes keep working on packed refs.
    env.create("after gc", &[]);
}

#[test]
fn writes_start_a_background_gc_past_the_loose_object_threshold() {
    let env = Env::new();
    init(&env);
    // Make the estimate (entries of objects/17 × 256) cross a threshold of 100: an
    // unreachable loose object whose id starts with 17 (gc must keep it: it is young).
    let probe = (0u32..)
        .map(|n| format!("probe {n}\n"))
        .find(|text| {
            let oid = gix::objs::compute_hash(
                gix::hash::Kind::Sha1,
                gix::object::Kind::Blob,
                text.as_bytes(),
            )
            .unwrap();
            oid.as_bytes()[0] == 0x17
        })
        .unwrap();
    let mut hash = env.command("git", &env.repo());
    hash.args(["hash-object", "-w", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = hash.spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), probe.as_bytes()).unwrap();
    let probe_oid = String::from_utf8(child.wait_with_output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string();
    assert!(count_objects(&env)["count"] >= 1, "the probe is loose");
    let out = bead_cmd(&env, &env.repo(), "w", &["create", "triggers gc"])
        .env("GT_GC_AUTO", "100")
        .output()
        .unwrap();
    support::ok(out, &["create"]);
    // The gc runs detached; wait for its result to show.
    let stamp = env.repo().join(".git/gastown/gc-auto.last");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !stamp.exists() {
        assert!(Instant::now() < deadline, "no automatic gc happened");
        std::thread::sleep(Duration::from_millis(20));
    }
    let counts = count_objects(&env);
    assert!(counts["packs"] >= 1, "{counts:?}");
    let left = env.git(&env.repo(), &["cat-file", "-t", &probe_oid]);
    assert!(
        left.status.success(),
        "young unreachable objects are never pruned"
    );
    env.assert_fsck_clean(&env.repo());
}

#[test]
fn writes_roll_up_their_packs_automatically() {
    let env = Env::new();
    init(&env);
    // Each write leaves one small pack; writers merge them as they go, in process.
    for i in 0..60 {
        env.create(&format!("pack {i}"), &[]);
    }
    let pack_dir = env.repo().join(".git/objects/pack");
    let names: Vec<String> = std::fs::read_dir(&pack_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let packs = names.iter().filter(|n| n.ends_with(".pack")).count();
    // At most the trigger's worth of small packs, nothing left half-written, and no
    // detached git gc was needed for it.
    assert!(packs <= 8, "{packs} packs: {names:?}");
    assert!(!names.iter().any(|n| n.starts_with(".tmp")), "{names:?}");
    assert!(!env.repo().join(".git/gastown/gc-auto.last").exists());
    assert_eq!(
        env.bead_json(&["list", "--limit", "0"])
            .as_array()
            .unwrap()
            .len(),
        60
    );
    env.assert_fsck_clean(&env.repo());
}

#[test]
fn readers_never_fail_while_writers_roll_up_packs() {
    let env = Env::new();
    init(&env);
    let first = env.create("first", &[]);
    let writing = std::sync::atomic::AtomicBool::new(true);
    let failures: Vec<String> = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..4)
            .map(|r| {
                let (env, first, writing) = (&env, &first, &writing);
                scope.spawn(move || {
                    let mut failures = Vec::new();
                    let mut reads = 0;
                    // Read until the writers are done, and at least a few times.
                    while writing.load(std::sync::atomic::Ordering::SeqCst) || reads < 5 {
                        let args: &[&str] = match reads % 3 {
                            0 => &["ready", "--json"],
                            1 => &["list", "--json", "--limit", "0"],
                            _ => &["show", first.as_str(), "--json"],
                        };
                        let out = run(env, &env.repo(), &format!("reader{r}"), args);
                        if !out.status.success() {
                            failures.push(format!(
                                "{args:?}: {}",
                                String::from_utf8_lossy(&out.stderr)
                            ));
                        }
                        reads += 1;
                    }
                    failures
                })
            })
            .collect();
        let writers: Vec<_> = (0..16)
            .map(|w| {
                let env = &env;
                scope.spawn(move || {
                    for i in 0..8 {
                        let out = run(
                            env,
                            &env.repo(),
                            &format!("writer{w}"),
                            &["create", &format!("w{w} {i}")],
                        );
                        assert!(
                            out.status.success(),
                            "{}",
                            String::from_utf8_lossy(&out.stderr)
                        );
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        writing.store(false, std::sync::atomic::Ordering::SeqCst);
        readers
            .into_iter()
            .flat_map(|r| r.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{failures:#?}");
    let listed = env.bead_json(&["list", "--limit", "0"]);
    assert_eq!(listed.as_array().unwrap().len(), 1 + 16 * 8);
    env.assert_fsck_clean(&env.repo());
}
