//! The feed benchmark: a town (a lone repository) whose collections hold N events (10,000
//! by default) — slings, dones, merges and bead edits in `refs/gastown/beads`, mail sends in
//! `refs/gastown/mail`, board posts in `refs/gastown/board` — then whole-process medians of
//! `git gastown feed`. Run with `cargo bench --bench feed` (options after `--`):
//!
//!   --events 10000   commits across the three collections
//!   --runs 15        timed runs per command (the median is printed)
//!   --dir DIR        where to build the town (default: target/tmp)
//!   --keep           leave the town there afterwards
//!
//! The history is written with `git fast-import` in one go (the feed reads commits only:
//! their author, time and the trailers `Store::write` adds, which the stream reproduces
//! byte for byte), so building 10k events takes a second, not 10k process starts.

#[path = "support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use support::{median, ms, Hermetic};

fn main() {
    let mut events = 10_000usize;
    let mut runs = 15;
    let mut dir: Option<PathBuf> = None;
    let mut keep = false;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--events" => events = value.parse().expect("--events takes a number"),
            "--runs" => runs = value.parse().expect("--runs takes a number"),
            "--dir" => dir = Some(PathBuf::from(value)),
            "--keep" => {
                keep = true;
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
    let base = dir.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp"));
    let root = base.join(format!("feed-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let h = Hermetic::new(root.join("home"));
    let repo = root.join("town");
    std::fs::create_dir_all(&repo).unwrap();
    h.git(&repo, &["init", "-q", "-b", "main"]);
    h.git(&repo, &["commit", "-q", "--allow-empty", "-m", "initial"]);
    let started = std::time::Instant::now();
    seed(&h, &repo, events);
    eprintln!(
        "built a town with {events} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let feed = |args: &[&str]| -> Duration {
        let mut cmd = h.command(support::tool("git-gastown"), &repo);
        cmd.arg("feed").args(args).stdout(Stdio::null());
        h.timed(cmd).1
    };
    let count = {
        let mut cmd = h.command(support::tool("git-gastown"), &repo);
        cmd.args(["feed", "--json"]);
        let out = h.timed(cmd).0;
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_array().unwrap().len()
    };
    assert_eq!(count, events, "the feed shows every event");
    let timed = |f: &dyn Fn() -> Duration| -> f64 {
        let samples: Vec<f64> = (0..runs).map(|_| ms(f())).collect();
        median(&samples)
    };
    let floor = timed(&|| {
        let mut cmd = h.command(support::tool("git-gastown"), &repo);
        cmd.arg("--version").stdout(Stdio::null());
        h.timed(cmd).1
    });
    // The first feed after the history was written reads every commit (and writes the
    // feed's cache); later ones read the cache and the commits written since.
    let cache_dir = repo.join(".git/gastown/cache");
    let cold = timed(&|| {
        for c in ["beads", "mail", "board"] {
            let _ = std::fs::remove_file(cache_dir.join(format!("feed-{c}.idx")));
        }
        feed(&["--json"])
    });
    let text = timed(&|| feed(&[]));
    let json = timed(&|| feed(&["--json"]));
    let since = timed(&|| feed(&["--since", "10m", "--json"]));
    let kind = timed(&|| feed(&["--kind", "merged", "--json"]));
    let bulletin = timed(&|| {
        let mut cmd = h.command(support::tool("git-board"), &repo);
        cmd.arg("--json").stdout(Stdio::null());
        h.timed(cmd).1
    });
    println!("feed benchmark: {events} events in 3 collections, {runs} runs each (whole-process medians)");
    println!("  git-gastown --version (process floor)   {floor:7.2} ms");
    println!("  feed --json, no cache (whole history)   {cold:7.2} ms");
    println!("  feed (text, every event)                {text:7.2} ms");
    println!("  feed --json (every event)               {json:7.2} ms");
    println!("  feed --since 10m --json (last ~100)     {since:7.2} ms");
    println!("  feed --kind merged --json               {kind:7.2} ms");
    println!("  git board --json (bulletin)             {bulletin:7.2} ms");
    if keep {
        eprintln!("kept the town in {}", repo.display());
    } else {
        let _ = std::fs::remove_dir_all(&root);
    }
}

/// `n` commits through `git fast-import`: 80% in beads (sling, done, merge, bead edits in
/// turn), 15% mail sends, 5% board posts; one second apart, the last ~100 in the last ten
/// minutes. Messages carry the trailers `Store::write` writes.
fn seed(h: &Hermetic, repo: &Path, n: usize) {
    let now = chrono::Utc::now().timestamp();
    let start = now - 600 - (n as i64);
    let mut stream = Vec::new();
    let mut marks: [Option<usize>; 3] = [None, None, None];
    let refs = [
        "refs/gastown/beads",
        "refs/gastown/mail",
        "refs/gastown/board",
    ];
    for i in 0..n {
        let which = match i % 20 {
            0..=15 => 0,
            16..=18 => 1,
            _ => 2,
        };
        let at = if i + 100 >= n {
            now - (n - i) as i64 * 5
        } else {
            start + i as i64
        };
        let bead = format!("gt-{:x}", i / 4);
        let agent = format!("town/polecats/p{}", i % 50);
        let (message, author) = match which {
            0 => match i % 4 {
                0 => (
                    format!(
                        "hook {bead} -> {agent}: work item\n\nGastown-Op: sling\nGastown-Records: agents/town-polecats-p{} beads/{bead}\n",
                        i % 50
                    ),
                    "mayor".to_string(),
                ),
                1 => (
                    format!(
                        "agent done {agent}: {bead} completed\n\nGastown-Op: agent done\nGastown-Records: agents/town-polecats-p{} beads/{bead} mrs/gt-mr-{i:x}\n",
                        i % 50
                    ),
                    agent.clone(),
                ),
                2 => (
                    format!(
                        "mq merge gt-mr-{i:x} into main ({bead})\n\nGastown-Op: mq merge\nGastown-Records: beads/{bead} mrs/gt-mr-{i:x}\n"
                    ),
                    "town/refinery".to_string(),
                ),
                _ => (
                    format!("bead update {bead}: notes\n\nGastown-Op: bead update\nGastown-Records: beads/{bead}\n"),
                    agent.clone(),
                ),
            },
            1 => (
                format!("mail send m-{i:x}: status? -> {agent}\n\nGastown-Op: mail send\nGastown-Records: messages/m-{i:x}\n"),
                "overseer".to_string(),
            ),
            _ => (
                format!("board post p-{i:x}: progress note\n\nGastown-Op: board post\nGastown-Records: posts/p-{i:x}\n"),
                agent.clone(),
            ),
        };
        let message = format!("{message}Gastown-At: {}\n", at * 1000);
        let mark = i + 1;
        stream.extend_from_slice(format!("commit {}\nmark :{mark}\n", refs[which]).as_bytes());
        stream.extend_from_slice(
            format!("committer {author} <bench@gastown.local> {at} +0000\n").as_bytes(),
        );
        stream.extend_from_slice(format!("data {}\n{message}\n", message.len()).as_bytes());
        if let Some(parent) = marks[which] {
            stream.extend_from_slice(format!("from :{parent}\n").as_bytes());
        }
        // One small file per commit keeps each commit's tree distinct, as a store's is.
        let file = format!("meta/n{}", i % 64);
        let body = format!("{i}\n");
        stream.extend_from_slice(
            format!("M 100644 inline {file}\ndata {}\n{body}\n", body.len()).as_bytes(),
        );
        marks[which] = Some(mark);
    }
    let mut cmd = h.command("git", repo);
    cmd.args(["fast-import", "--quiet"]).stdin(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(&stream).unwrap();
    assert!(child.wait().unwrap().success(), "fast-import failed");
    add_clocks(h, repo, &refs);
    // The store writes packs and rolls them up; leave no loose objects behind, as it does.
    let out = h
        .command("git", repo)
        .args(["repack", "-a", "-d", "-q"])
        .output()
        .unwrap();
    assert!(out.status.success(), "repack");
}

/// fast-import cannot write extra commit headers, and a gastown state without its clock
/// header is refused as malformed: rewrite each collection's chain with the clock
/// `Store::write` would have given it (1, 2, ...), same trees, messages and times.
fn add_clocks(h: &Hermetic, repo: &Path, refs: &[&str]) {
    let git = gix::open(repo).unwrap();
    for name in refs {
        let Ok(mut reference) = git.find_reference(*name) else {
            continue;
        };
        let mut chain = Vec::new();
        let mut next = Some(reference.peel_to_id().unwrap().detach());
        while let Some(id) = next {
            let commit = git.find_commit(id).unwrap();
            next = commit.parent_ids().next().map(|p| p.detach());
            chain.push(id);
        }
        chain.reverse();
        let mut parent: Option<gix::ObjectId> = None;
        for (clock, id) in chain.iter().enumerate() {
            let commit = git.find_commit(*id).unwrap();
            let mut owned: gix::objs::Commit = commit.decode().unwrap().into_owned().unwrap();
            owned.parents = parent.into_iter().collect();
            owned.extra_headers.push((
                gastown::store::CLOCK_HEADER.into(),
                (clock + 1).to_string().into(),
            ));
            parent = Some(git.write_object(&owned).unwrap().detach());
        }
        let tip = parent.unwrap().to_string();
        let out = h
            .command("git", repo)
            .args(["update-ref", name, &tip])
            .output()
            .unwrap();
        assert!(out.status.success(), "update-ref {name}");
    }
}
