//! Store-level tests on real temporary repositories (hermetic git: no system or global
//! config): merge rules per declared directory, refused inputs, the derived-cache
//! checksum, and the rule that only `src/store` writes objects and refs.

use std::path::Path;
use std::process::Command;

use gix::ObjectId;
use serde_json::json;

use super::collection::{Dir, Join, Layout};
use super::*;
use crate::bead::record::{Origin, Record, Register, Stamp};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    dir
}

fn actor(name: &str) -> Actor {
    Actor {
        name: name.into(),
        email: format!("{name}@example.com"),
    }
}

/// A collection with one record directory and one settings directory, standing in for
/// the domains to come (agents, MRs, ...).
const TEST: Layout = Layout {
    dirs: &[
        Dir {
            name: "agents",
            join: Join::Records,
        },
        Dir {
            name: "settings",
            join: Join::Registers,
        },
    ],
};

fn put(store: &Store, collection: &str, who: &str, path: &'static str, bytes: Vec<u8>) {
    store
        .write(collection, &actor(who), |_, batch| {
            batch.put(path, bytes.clone());
            Ok(Outcome::Commit {
                message: format!("test: write {path}"),
                value: (),
            })
        })
        .unwrap();
}

fn record_at(store: &Store, collection: &str, path: &str) -> Record {
    Record::parse(
        &store
            .snapshot(collection)
            .unwrap()
            .read(path)
            .unwrap()
            .unwrap(),
    )
    .unwrap()
}

fn registers(fields: &[(&str, serde_json::Value, u64, &str)]) -> Vec<u8> {
    let map: std::collections::BTreeMap<String, Register> = fields
        .iter()
        .map(|(k, v, clock, who)| {
            (
                k.to_string(),
                Register {
                    v: v.clone(),
                    at: Stamp(*clock, who.to_string()),
                },
            )
        })
        .collect();
    serde_json::to_vec(&map).unwrap()
}

fn tip(store: &Store, collection: &str) -> ObjectId {
    store.snapshot(collection).unwrap().tip.unwrap()
}

#[test]
fn two_clones_editing_one_non_bead_file_keep_both_edits() {
    let dir = repo();
    let store = Store::open(dir.path()).unwrap();
    let mut agent = Record::new(
        "polecat-nux".into(),
        Origin {
            at: Stamp(1, "mayor".into()),
            nonce: "n".into(),
        },
    );
    agent.set("state", json!("idle"), &Stamp(1, "mayor".into()));
    put(
        &store,
        "c0",
        "mayor",
        "agents/polecat-nux.json",
        agent.to_bytes(),
    );
    let from = |c: &str| format!("clone {c}");
    let merge = |ours: &str, theirs: &str| {
        crate::sync::merge_tip_as(
            &store,
            ours,
            &TEST,
            tip(&store, theirs),
            &actor(ours),
            &from(theirs),
        )
    };
    assert_eq!(merge("c1", "c0").unwrap().action, "created");
    // Each clone edits a different field of the same record, and a different key of the
    // same settings file.
    let clock = store.snapshot("c0").unwrap().clock + 1;
    let mut left = agent.clone();
    left.set("state", json!("working"), &Stamp(clock, "a".into()));
    put(
        &store,
        "c0",
        "a",
        "agents/polecat-nux.json",
        left.to_bytes(),
    );
    put(
        &store,
        "c0",
        "a",
        "settings/scheduler.json",
        registers(&[("max_polecats", json!(4), clock, "a")]),
    );
    let mut right = agent.clone();
    right.set("hook", json!("gt-abc"), &Stamp(clock, "b".into()));
    put(
        &store,
        "c1",
        "b",
        "agents/polecat-nux.json",
        right.to_bytes(),
    );
    put(
        &store,
        "c1",
        "b",
        "settings/scheduler.json",
        registers(&[("patrol_s", json!(30), clock, "b")]),
    );
    let sides = [0, 1].map(|c| store.snapshot(&format!("c{c}")).unwrap().clock);
    assert_eq!(merge("c0", "c1").unwrap().action, "merged");
    assert_eq!(merge("c1", "c0").unwrap().action, "fast-forward");
    assert_eq!(tip(&store, "c0"), tip(&store, "c1"), "the clones converge");
    let joined = record_at(&store, "c0", "agents/polecat-nux.json");
    assert_eq!(joined.str("state"), Some("working"));
    assert_eq!(joined.str("hook"), Some("gt-abc"));
    let settings: serde_json::Value = serde_json::from_slice(
        &store
            .snapshot("c0")
            .unwrap()
            .read("settings/scheduler.json")
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(settings["max_polecats"]["v"], json!(4));
    assert_eq!(settings["patrol_s"]["v"], json!(30));
    // A merge commit orders after both sides.
    let snap = store.snapshot("c0").unwrap();
    assert_eq!(snap.clock, sides[0].max(sides[1]) + 1);
    assert_eq!(store.commit_info(snap.tip.unwrap()).unwrap().1.len(), 2);

    // A path no directory declares is refused, naming it and where it came from; nothing
    // is merged.
    put(&store, "c1", "b", "notes/todo.txt", b"opaque\n".to_vec());
    let before = tip(&store, "c0");
    let err = merge("c0", "c1").unwrap_err().to_string();
    assert!(
        err.contains("'notes/todo.txt'") && err.contains("clone c1"),
        "{err}"
    );
    assert_eq!(tip(&store, "c0"), before);
    // A file that does not parse under its directory's rule, likewise.
    put(&store, "c2", "b", "agents/x.json", b"not json".to_vec());
    let err = crate::sync::merge_tip_as(
        &store,
        "c0",
        &TEST,
        tip(&store, "c2"),
        &actor("a"),
        "clone c2",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("agents/x.json") && err.contains("clone c2"),
        "{err}"
    );
}

#[test]
fn declared_collections_refuse_undeclared_paths_and_sync_refuses_unknown_collections() {
    let dir = repo();
    let store = Store::open(dir.path()).unwrap();
    let err = store
        .write("beads", &actor("a"), |_, batch| {
            batch.put("notes/x.json", b"{}".to_vec());
            Ok(Outcome::Commit {
                message: "x".into(),
                value: (),
            })
        })
        .unwrap_err();
    assert!(err.to_string().contains("'notes/x.json'"), "{err}");
    assert!(
        store.snapshot("beads").unwrap().tip.is_none(),
        "nothing written"
    );
    put(&store, "mystery", "a", "agents/x.json", b"{}".to_vec());
    // Even a fast-forward (here: creating the collection) checks what it brings.
    let err = crate::sync::merge_tip(
        &store,
        "beads",
        tip(&store, "mystery"),
        &actor("a"),
        "origin",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("agents/x.json") && err.contains("origin"),
        "{err}"
    );
    assert!(store.snapshot("beads").unwrap().tip.is_none());
    let err = crate::sync::merge_tip(
        &store,
        "mystery",
        tip(&store, "mystery"),
        &actor("a"),
        "remote origin",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("refs/gastown/mystery") && err.contains("remote origin"),
        "{err}"
    );
}

/// A commit the way a foreign (or hostile) clone might have written it.
fn foreign_commit(store: &Store, clock: &str, parents: &[ObjectId]) -> ObjectId {
    let tree = store.snapshot("none").unwrap().tree;
    let headers = [(CLOCK_HEADER.to_string(), clock.to_string())];
    let oid = store
        .write_commit(tree, parents, &actor("evil"), "x", &headers)
        .unwrap();
    store.persist_objects().unwrap();
    oid
}

/// A repository with an initialised bead store.
fn bead_repo() -> (tempfile::TempDir, Store) {
    let dir = repo();
    let store = Store::open(dir.path()).unwrap();
    crate::bead::Beads::new(&store)
        .init(&actor("a"), "gt")
        .unwrap();
    (dir, store)
}

#[test]
fn a_remote_clock_near_the_maximum_is_refused_naming_the_remote() {
    let dir = repo();
    let store = Store::open(dir.path()).unwrap();
    crate::bead::Beads::new(&store)
        .init(&actor("a"), "gt")
        .unwrap();
    let base = tip(&store, "beads");
    let huge = (u64::MAX - 1).to_string();
    let evil = foreign_commit(&store, &huge, &[base]);
    let err = crate::sync::merge_tip(&store, "beads", evil, &actor("a"), "origin").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("origin") && text.contains("2^48"), "{text}");
    assert_eq!(err.exit_code(), 5);
    assert_eq!(tip(&store, "beads"), base, "nothing merged");
    // Writes never wrap either.
    assert!(next_clock(u64::MAX).is_err());
    assert!(next_clock(MAX_CLOCK).is_err());
    assert_eq!(next_clock(41).unwrap(), 42);
}

#[test]
fn a_ref_at_a_commit_that_is_not_a_store_is_an_error_not_an_empty_store() {
    let dir = repo();
    std::fs::write(dir.path().join("f"), "x").unwrap();
    git(dir.path(), &["add", "f"]);
    git(dir.path(), &["commit", "-qm", "work"]);
    git(dir.path(), &["update-ref", "refs/gastown/beads", "HEAD"]);
    let store = Store::open(dir.path()).unwrap();
    let err = store.snapshot("beads").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("refs/gastown/beads") && text.contains("not a gastown state"),
        "{text}"
    );
    assert_eq!(err.exit_code(), 5);
    // Pointing at a tree instead of a commit, likewise.
    let tree = git(dir.path(), &["rev-parse", "HEAD^{tree}"]);
    git(dir.path(), &["update-ref", "refs/gastown/beads", &tree]);
    let store = Store::open(dir.path()).unwrap();
    let text = store.snapshot("beads").unwrap_err().to_string();
    assert!(text.contains("not a gastown commit"), "{text}");
}

#[test]
fn a_directory_that_is_no_repository_is_one_error_with_one_status() {
    let dir = tempfile::tempdir().unwrap();
    let plain = Store::open(dir.path()).err().expect("no repository");
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let empty_git = Store::open(dir.path()).err().expect("no repository");
    for err in [plain, empty_git] {
        assert!(matches!(err, Error::NotARepository(_)), "{err}");
        assert_eq!(err.exit_code(), 1);
    }
}

#[test]
fn sha256_repositories_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "--object-format=sha256"]);
    let err = match Store::open(dir.path()) {
        Ok(_) => panic!("a SHA-256 repository opened"),
        Err(err) => err,
    };
    assert!(matches!(err, Error::Sha256(_)), "{err}");
    assert!(err.to_string().contains("SHA-256"), "{err}");
}

#[test]
fn a_flipped_bit_in_the_bead_index_is_detected_and_the_index_rebuilt() {
    let (_dir, store) = bead_repo();
    let beads = crate::bead::Beads::new(&store);
    let titles = ["first", "second", "third"];
    let new = titles
        .iter()
        .map(|t| crate::bead::NewBead {
            title: t.to_string(),
            ..Default::default()
        })
        .collect();
    beads.create(&actor("a"), new).unwrap();
    let snap = store.snapshot("beads").unwrap();
    let ids = |index: &crate::bead::Index| -> Vec<String> {
        index.rows.iter().map(|r| index.id(r).to_string()).collect()
    };
    let index = crate::bead::Index::for_snapshot(&store, "beads", &snap).unwrap();
    let expected = ids(&index);
    assert_eq!(expected.len(), 3);
    drop(index);
    // Flip one bit inside the first id's bytes (an id stays valid UTF-8 and the layout
    // stays parseable, so only the checksum can tell).
    let path = crate::bead::Index::path(&store, "beads");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes
        .windows(expected[0].len())
        .position(|w| w == expected[0].as_bytes())
        .unwrap();
    bytes[at + expected[0].len() - 1] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let index = crate::bead::Index::for_snapshot(&store, "beads", &snap).unwrap();
    assert_eq!(ids(&index), expected, "the damaged cache is not trusted");
    drop(index);
    assert_ne!(std::fs::read(&path).unwrap(), bytes, "and it was rewritten");
}

#[test]
fn writes_outside_beads_do_not_touch_the_bead_index() {
    let (_dir, store) = bead_repo();
    let snap = store.snapshot("beads").unwrap();
    drop(crate::bead::Index::for_snapshot(&store, "beads", &snap).unwrap());
    let path = crate::bead::Index::path(&store, "beads");
    let written = std::fs::metadata(&path).unwrap().modified().unwrap();
    let agent = Record::new(
        "mayor".into(),
        Origin {
            at: Stamp(1, "mayor".into()),
            nonce: "n".into(),
        },
    );
    put(
        &store,
        "beads",
        "mayor",
        "agents/mayor.json",
        agent.to_bytes(),
    );
    let snap = store.snapshot("beads").unwrap();
    let index = crate::bead::Index::for_snapshot(&store, "beads", &snap).unwrap();
    assert_eq!(index.len(), 0);
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        written,
        "the cache of an unchanged beads/ subtree is reused as it is"
    );
}

/// Only `src/store` writes objects or refs: every other module goes through
/// `Store::write`. Scans the sources for the calls that write.
#[test]
fn only_the_store_writes_objects_and_refs() {
    const WRITERS: [&str; 12] = [
        "write_blob",
        "write_object",
        "edit_tree",
        "edit_reference",
        "edit_references",
        "move_ref",
        ".reference(",
        "write_tree",
        "write_commit",
        "persist_objects",
        "update-ref",
        "commit_as(",
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path != root.join("store") {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for call in WRITERS {
                    if code.contains(call) {
                        offenders.push(format!("{}:{}: {call}", path.display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "writes outside src/store: {offenders:#?}"
    );
}

#[test]
fn branches_move_and_go_only_by_compare_and_swap() {
    let dir = repo();
    std::fs::write(dir.path().join("a"), "a").unwrap();
    git(dir.path(), &["add", "a"]);
    git(dir.path(), &["commit", "-qm", "one"]);
    let one = git(dir.path(), &["rev-parse", "HEAD"]);
    git(dir.path(), &["commit", "-q", "--allow-empty", "-m", "two"]);
    let two = git(dir.path(), &["rev-parse", "HEAD"]);
    git(dir.path(), &["branch", "topic", &one]);
    git(dir.path(), &["pack-refs", "--all"]);
    let store = Store::open(dir.path()).unwrap();
    let actor = Actor {
        name: "mq".into(),
        email: "mq@example.com".into(),
    };
    // A stale expectation changes nothing, packed or loose.
    assert!(!store
        .move_branch("topic", &two, Some(&two), &actor, "x")
        .unwrap());
    assert_eq!(
        store.branch_tip("topic").unwrap().as_deref(),
        Some(one.as_str())
    );
    assert!(store
        .move_branch("topic", &two, Some(&one), &actor, "mq: merge")
        .unwrap());
    assert_eq!(git(dir.path(), &["rev-parse", "topic"]), two);
    assert!(git(dir.path(), &["reflog", "show", "topic"]).contains("mq: merge"));
    // Creation expects absence.
    assert!(!store.move_branch("topic", &one, None, &actor, "x").unwrap());
    assert!(store
        .move_branch("new/branch", &one, None, &actor, "x")
        .unwrap());
    assert!(!store.delete_branch("topic", &one).unwrap());
    assert!(store.delete_branch("topic", &two).unwrap());
    assert_eq!(store.branch_tip("topic").unwrap(), None);
    for bad in ["-x", "a..b", "a/.b", "x.lock", "a b", "../heads", ""] {
        assert!(
            store.move_branch(bad, &one, None, &actor, "x").is_err(),
            "{bad:?}"
        );
    }
}
