//! Fault injection: writers SIGKILLed at random moments, again and again. Afterwards the
//! store opens, `git fsck --strict` is clean, and every write whose command exited 0 is
//! present with its content.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::sample::{median, Rng};
use crate::support::{self, Env};

/// What a writer was asked to do, so its effect can be checked if it exited 0.
#[derive(Debug, Clone)]
enum Write {
    Create { title: String },
    Comment { on: String, text: String },
    Label { on: String, label: String },
    Notes { on: String, text: String },
}

impl Write {
    fn args(&self) -> Vec<String> {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect();
        match self {
            Write::Create { title } => v(&["create", title, "--silent"]),
            Write::Comment { on, text } => v(&["comments", "add", on, text]),
            Write::Label { on, label } => v(&["label", "add", on, label]),
            Write::Notes { on, text } => v(&["update", on, "--notes", text]),
        }
    }
}

#[test]
fn writers_killed_at_random_moments_lose_no_acknowledged_write() {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "cr"]);
    let seeds: Vec<String> = (0..4)
        .map(|i| env.create(&format!("seed {i}"), &[]))
        .collect();
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let program = support::bin_dir().join("git-bead");
    let started = Instant::now();
    let mut kills = 0;
    let mut killed: Vec<Write> = Vec::new();
    let mut left_ref_locks = 0;
    let mut acknowledged: Vec<Write> = Vec::new();
    let mut lifetimes: Vec<Duration> = Vec::new();
    let mut round = 0;
    while kills < 240 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "too slow: {kills} kills"
        );
        round += 1;
        // A writer killed inside git's ref update leaves `beads.lock`; the next writer
        // must clear it instead of waiting.
        if env.repo().join(".git/refs/gastown/beads.lock").exists() {
            left_ref_locks += 1;
        }
        let mut running: Vec<(Child, Write, Instant, Duration)> = (0..6)
            .map(|k| {
                let on = seeds[rng.below(4) as usize].clone();
                let tag = format!("r{round}k{k}");
                let write = match rng.below(4) {
                    0 => Write::Create {
                        title: format!("crash {tag}"),
                    },
                    1 => Write::Comment {
                        on,
                        text: format!("comment {tag}"),
                    },
                    2 => Write::Label {
                        on,
                        label: format!("l-{tag}"),
                    },
                    _ => Write::Notes {
                        on,
                        text: format!("notes {tag}"),
                    },
                };
                let child = env
                    .command(program.to_str().unwrap(), &env.repo())
                    .args(write.args())
                    .args(["--actor", &format!("agent{k}")])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                // The first rounds run unharmed to learn how long a writer lives under this
                // contention; then each is killed at a uniform moment of up to 1.3 lifetimes
                // (so some finish, and the rest die anywhere on the write path).
                let delay = match typical(&lifetimes) {
                    Some(typical) if round > 3 => typical.mul_f64(rng.below(1300) as f64 / 1000.0),
                    _ => Duration::from_secs(3600),
                };
                (child, write, Instant::now(), delay)
            })
            .collect();
        while !running.is_empty() {
            let mut still = Vec::new();
            for (mut child, write, spawned, delay) in running {
                match child.try_wait().unwrap() {
                    Some(status) => {
                        let out = child.wait_with_output().unwrap();
                        assert!(
                            status.success(),
                            "{write:?} failed without being killed ({status}): {}",
                            String::from_utf8_lossy(&out.stderr)
                        );
                        if round <= 3 {
                            lifetimes.push(spawned.elapsed());
                        }
                        acknowledged.push(write);
                    }
                    None if spawned.elapsed() >= delay => {
                        child.kill().unwrap();
                        let status = child.wait().unwrap();
                        if status.signal() == Some(9) {
                            kills += 1;
                            killed.push(write);
                        } else {
                            assert!(status.success(), "{write:?}: {status}");
                            acknowledged.push(write);
                        }
                    }
                    None => still.push((child, write, spawned, delay)),
                }
            }
            running = still;
            std::thread::sleep(Duration::from_micros(300));
        }
    }
    eprintln!(
        "{kills} kills, {} acknowledged writes in {round} rounds, {:?}",
        acknowledged.len(),
        started.elapsed()
    );
    // The store opens and answers.
    let listed = env.bead_json(&["list", "--all", "--limit", "0"]);
    let titles: BTreeSet<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["title"].as_str().unwrap().to_string())
        .collect();
    // fsck: dangling objects from killed writers are fine, errors are not.
    env.assert_fsck_clean(&env.repo());
    // Every acknowledged write is present.
    let mut shown: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for id in &seeds {
        shown.insert(id.clone(), env.bead_json(&["show", id])[0].clone());
    }
    let mut comments: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for id in &seeds {
        let listed = env.bead_json(&["comments", "list", id]);
        comments.insert(
            id.clone(),
            listed
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["text"].as_str().unwrap().to_string())
                .collect(),
        );
    }
    let mut notes_written: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for write in &acknowledged {
        match write {
            Write::Create { title } => assert!(titles.contains(title), "lost create {title}"),
            Write::Comment { on, text } => {
                assert!(comments[on].contains(text), "lost comment {text}")
            }
            Write::Label { on, label } => {
                let labels = shown[on]["labels"].as_array().cloned().unwrap_or_default();
                assert!(
                    labels.iter().any(|l| l == label.as_str()),
                    "lost label {label}"
                );
            }
            Write::Notes { on, text } => {
                notes_written
                    .entry(on.clone())
                    .or_default()
                    .insert(text.clone());
            }
        }
    }
    // Notes are last-writer-wins: the value held is one that some write produced, and when
    // only acknowledged writes touched a bead's notes, one of those.
    for (on, written) in notes_written {
        let held = shown[&on]["notes"].as_str().unwrap_or_default().to_string();
        assert!(
            held.starts_with("notes r"),
            "{on} holds {held:?}, written {written:?}"
        );
    }
    // How many killed writers had already committed (kills late on the write path).
    let late = killed
        .iter()
        .filter(|w| match w {
            Write::Create { title } => titles.contains(title),
            Write::Comment { on, text } => comments[on].contains(text),
            _ => false,
        })
        .count();
    eprintln!("{late} killed writers had committed before dying; {left_ref_locks} left a ref lock");
    // And the store still takes writes.
    env.create("after the storm", &[]);
    // Killed writers leave no lasting garbage: once no writer runs, a gc removes their
    // leftovers (temporaries, packs without an index). The age rule is set to 0 here; by
    // default a leftover must be 10 minutes old (GT_GARBAGE_AGE_S).
    let gc = env
        .command(
            support::bin_dir().join("git-gastown").to_str().unwrap(),
            &env.repo(),
        )
        .args(["gc", "--json"])
        .env("GT_GARBAGE_AGE_S", "0")
        .output()
        .unwrap();
    assert!(
        gc.status.success(),
        "{}",
        String::from_utf8_lossy(&gc.stderr)
    );
    let counts = env.git_ok(&env.repo(), &["count-objects", "-v"]);
    for key in ["garbage: 0", "size-garbage: 0"] {
        assert!(counts.lines().any(|l| l == key), "{key} expected: {counts}");
    }
    let fsck = env.git(&env.repo(), &["fsck", "--strict", "--no-progress"]);
    let stderr = String::from_utf8_lossy(&fsck.stderr);
    assert!(
        fsck.status.success() && !stderr.contains("error"),
        "fsck after gc: {stderr}"
    );
}

/// The typical lifetime once enough unharmed writers have been timed.
fn typical(lifetimes: &[Duration]) -> Option<Duration> {
    let secs: Vec<f64> = lifetimes.iter().map(Duration::as_secs_f64).collect();
    (secs.len() >= 5).then(|| Duration::from_secs_f64(median(&secs)))
}
