//! `git gastown feed` (docs/FEED.md): the activity stream read from the commit logs of the
//! town's and rigs' collections. A scripted polecat is slung a bead, commits, runs `done`,
//! and the merge pass merges it; the feed shows those events in order with their actors and
//! ids, filters by time and rig, and `--follow` prints what is written after it started.
//! The bulletin (`git board`) shows the same events: one derivation.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::support::scripted::{town, wait_until, Town};
use crate::support::{self, bin_dir, Env};

fn feed(env: &Env, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["feed"];
    all.extend_from_slice(args);
    env.json_in(&env.repo(), "gastown", &all)
        .as_array()
        .unwrap()
        .clone()
}

fn position(events: &[Value], kind: &str, id: &str) -> usize {
    events
        .iter()
        .position(|e| {
            e["kind"] == kind
                && e["ids"]
                    .as_array()
                    .is_some_and(|ids| ids.iter().any(|i| i == id))
        })
        .unwrap_or_else(|| panic!("no {kind} event for {id} in {events:#?}"))
}

/// A slung bead worked to the end: (town, bead id).
fn sling_done_merge() -> (Town, String) {
    let t = town("process");
    t.config_set("agent.default", "script");
    t.config_set("merge_queue.auto", "true");
    let id = t.env.create("DO-WORK for the feed", &[]);
    t.sling_json(&[&id, "repo"]);
    wait_until("the merge pass to close the bead", || {
        t.bead(&id)["status"] == "closed"
    });
    wait_until("every session to end", || t.alive_sessions() == 0);
    // The detached merge pass goes on after the close (the convoy's landing message and
    // post): wait until the history stops growing.
    let mut last = feed(&t.env, &[]).len();
    wait_until("the merge pass to finish writing", || {
        std::thread::sleep(Duration::from_millis(500));
        let now = feed(&t.env, &[]).len();
        std::mem::replace(&mut last, now) == now && feed(&t.env, &["--kind", "landed"]).len() == 1
    });
    (t, id)
}

#[test]
fn sling_done_and_merge_appear_in_order_with_actor_and_ids() {
    let (t, id) = sling_done_merge();
    let events = feed(&t.env, &[]);
    let sling = position(&events, "sling", &id);
    let done = position(&events, "done", &id);
    let merged = position(&events, "merged", &id);
    assert!(sling < done && done < merged, "{events:#?}");
    let times: Vec<&str> = events.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "the feed is in time order");
    let worker = events[done]["actor"].as_str().unwrap();
    assert!(worker.starts_with("repo/polecats/"), "{}", events[done]);
    assert!(
        events[sling]["ids"].as_array().unwrap().iter().any(|i| i
            .as_str()
            .unwrap()
            .ends_with(worker.rsplit('/').next().unwrap())),
        "the sling names the polecat too: {}",
        events[sling]
    );
    assert_eq!(events[merged]["op"], "mq merge");
    assert!(events[merged]["ids"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i.as_str().unwrap().contains("-mr-")));
    for e in [&events[sling], &events[done], &events[merged]] {
        assert_eq!(e["rig"], "repo", "{e}");
        assert_eq!(e["collection"], "beads", "{e}");
    }

    // Filters: by kind, by rig, by time.
    let only = feed(&t.env, &["--kind", "done"]);
    assert!(only.iter().all(|e| e["kind"] == "done") && !only.is_empty());
    assert_eq!(feed(&t.env, &["--rig", "repo"]).len(), events.len());
    assert!(feed(&t.env, &["--since", "2999-01-01T00:00:00Z"]).is_empty());
    let since = events[done]["at"].as_str().unwrap();
    let later = feed(&t.env, &["--since", since]);
    assert!(later.len() < events.len() && later.iter().all(|e| e["at"].as_str().unwrap() >= since));
    position(&later, "merged", &id);
    let out = t
        .env
        .run_in(&t.repo(), "gastown", &["feed", "--rig", "nosuch"]);
    assert_eq!(out.status.code(), Some(1));
    let out = t
        .env
        .run_in(&t.repo(), "gastown", &["feed", "--since", "yesterday"]);
    let (_, line) = support::err(out, &["feed", "--since", "yesterday"]);
    assert!(line.contains("bad time 'yesterday'"), "{line}");

    // Text: one line per event.
    let text = support::ok(t.env.run_in(&t.repo(), "gastown", &["feed"]), &["feed"]);
    assert_eq!(text.lines().count(), events.len(), "{text}");
    assert!(text.contains("merged"), "{text}");

    // The bulletin is the same derivation: the sling, done and merge events are there.
    let bulletin = t.env.json_in(&t.repo(), "board", &[]);
    let bulletin = bulletin.as_array().unwrap();
    let kinds: Vec<&str> = bulletin
        .iter()
        .filter(|e| {
            e["ids"]
                .as_array()
                .is_some_and(|ids| ids.iter().any(|i| i == id.as_str()))
        })
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    // Sling put the bead into a convoy of its own, which landed with the merge: its
    // summary names the merge request.
    assert_eq!(
        kinds,
        ["sling", "done", "merged", "convoy-landed"],
        "{bulletin:#?}"
    );
    let summary = bulletin
        .iter()
        .find(|e| e["kind"] == "convoy-landed")
        .unwrap()["text"]
        .as_str()
        .unwrap();
    let mr = events[merged]["ids"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i.as_str().unwrap().contains("-mr-"))
        .unwrap()
        .as_str()
        .unwrap();
    assert!(
        summary.contains("1 merged") && summary.contains(mr),
        "{summary}"
    );
}

#[test]
fn follow_prints_an_event_written_after_it_started() {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "gt"]);
    let program = bin_dir().join("git-gastown");
    let mut child = env
        .command(program.to_str().unwrap(), &env.repo())
        .args(["feed", "--follow", "--json", "--poll-ms", "50"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<Value>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Ok(v) = serde_json::from_str(&line) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        }
    });
    // The history comes first (bead init), then what is written while it runs.
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the history");
    assert_eq!(first["op"], "bead init", "{first}");
    let id = env.create("Written while following", &[]);
    let mut seen = None;
    while let Ok(event) = rx.recv_timeout(Duration::from_secs(30)) {
        if event["ids"]
            .as_array()
            .is_some_and(|ids| ids.iter().any(|i| i == id.as_str()))
        {
            seen = Some(event);
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();
    let event = seen.expect("--follow printed the new bead's event");
    assert_eq!(event["kind"], "bead");
    assert_eq!(event["actor"], "Test User");
}

/// The feed keeps the events it has read in a clone-local cache keyed by each
/// collection's tip and extends it with the commits written since: what it shows is always
/// what a walk of the whole history shows, after new writes, a damaged cache file, and a
/// ref moved by hand to a history that does not descend from the cached tip.
#[test]
fn the_feed_cache_follows_new_writes_and_survives_damage_and_rewrites() {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "gt"]);
    let repo = env.repo();
    let cache = repo.join(".git/gastown/cache/feed-beads.idx");
    let commits = |e: &[Value]| -> Vec<String> {
        e.iter()
            .map(|e| e["commit"].as_str().unwrap().to_string())
            .collect()
    };
    // What the feed shows with no cache at all: the whole history walked.
    let uncached = |env: &Env| {
        let _ = std::fs::remove_file(&cache);
        feed(env, &[])
    };
    let a = env.create("first", &[]);
    let first = feed(&env, &[]);
    assert!(cache.is_file(), "the feed wrote its cache");
    position(&first, "bead", &a);

    // New writes: the cache is extended, and nothing is shown twice or missed.
    let b = env.create("second", &[]);
    env.bead_ok(&["update", &a, "--status", "in_progress"]);
    let extended = feed(&env, &[]);
    assert_eq!(extended.len(), first.len() + 2, "{extended:#?}");
    position(&extended, "bead", &b);
    assert_eq!(commits(&extended), commits(&uncached(&env)));
    let again = feed(&env, &[]);
    assert_eq!(
        commits(&again),
        commits(&extended),
        "a warm cache answers the same"
    );

    // A flipped byte in the payload fails the checksum: rebuilt, same answer.
    let mut bytes = std::fs::read(&cache).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&cache, &bytes).unwrap();
    assert_eq!(commits(&feed(&env, &[])), commits(&extended));

    // The ref reset by hand to an older state, then a new write on that: the cached
    // events of the discarded commits must not be shown.
    let tip = env.git_ok(&repo, &["rev-parse", "refs/gastown/beads"]);
    let older = env.git_ok(&repo, &["rev-parse", "refs/gastown/beads~2"]);
    env.git_ok(
        &repo,
        &["update-ref", "refs/gastown/beads", older.trim(), tip.trim()],
    );
    let reset = feed(&env, &[]);
    assert_eq!(reset.len(), first.len(), "{reset:#?}");
    let c = env.create("third, on the older state", &[]);
    let rewritten = feed(&env, &[]);
    position(&rewritten, "bead", &c);
    assert!(
        !rewritten
            .iter()
            .any(|e| e["ids"].as_array().unwrap().iter().any(|i| i == b.as_str())),
        "the discarded write of {b} is gone: {rewritten:#?}"
    );
    assert_eq!(commits(&rewritten), commits(&uncached(&env)));
}
