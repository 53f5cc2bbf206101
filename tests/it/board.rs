//! `git board` (docs/BOARD.md): advisory locks with a lease, the bulletin, decisions, export,
//! and what `git agent prime` shows of them; on a lone repository (a town of one rig,
//! `repo`), agents told apart by GT_ACTOR as their sessions are.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use crate::support::{self, assert_one_line_error, bin_dir, seed_agent, Env};

const NUX: &str = "repo/polecats/nux";
const MAX: &str = "repo/polecats/max";

/// `git board ARGS` in `dir` as `actor` (GT_ACTOR).
fn board_in(env: &Env, dir: &Path, actor: &str, args: &[&str]) -> Output {
    let program = bin_dir().join("git-board");
    env.command(program.to_str().unwrap(), dir)
        .env("GT_ACTOR", actor)
        .args(args)
        .output()
        .expect("git-board runs")
}

fn board(env: &Env, actor: &str, args: &[&str]) -> Output {
    board_in(env, &env.repo(), actor, args)
}

fn json(env: &Env, actor: &str, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = support::ok(board(env, actor, &all), &all);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("bad JSON from {args:?}: {e}\n{out}"))
}

/// A failure: (exit code, its one error line).
fn refused(out: Output) -> (i32, String) {
    let code = out.status.code().unwrap_or(-1);
    assert_ne!(code, 0, "should have failed");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_one_line_error(&stderr);
    (code, stderr)
}

fn board_tip(env: &Env) -> Option<String> {
    env.ref_tip(&env.repo(), "refs/gastown/board")
}

#[test]
fn a_lock_with_a_one_second_lease_blocks_another_agent_then_frees() {
    let env = Env::new();
    let locked = json(
        &env,
        NUX,
        &[
            "lock",
            "src/auth.rs",
            "--intent",
            "rewrite login",
            "--ttl",
            "1s",
        ],
    );
    let lock = &locked["locks"][0];
    assert_eq!(lock["path"], "src/auth.rs");
    assert_eq!(lock["holder"], NUX);
    assert_eq!(lock["intent"], "rewrite login");

    // Another agent is refused, naming the holder and the intent; nothing is written.
    let tip = board_tip(&env);
    let (code, line) = refused(board(
        &env,
        MAX,
        &["lock", "src/auth.rs", "--intent", "fix typo"],
    ));
    assert_eq!(code, 4, "{line}");
    assert!(
        line.contains(NUX) && line.contains("rewrite login"),
        "{line}"
    );
    assert_eq!(board_tip(&env), tip, "a refused lock writes nothing");
    // check: exit 1 while held, naming the holder.
    let out = board(&env, MAX, &["check", "src/auth.rs"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains(NUX));

    std::thread::sleep(Duration::from_millis(1300));
    let out = board(&env, MAX, &["check", "src/auth.rs"]);
    assert_eq!(out.status.code(), Some(0), "the lease ran out");
    let locked = json(
        &env,
        MAX,
        &[
            "lock",
            "src/auth.rs",
            "--intent",
            "fix typo",
            "--ttl",
            "30m",
        ],
    );
    assert_eq!(locked["locks"][0]["holder"], MAX);
    let live = json(&env, NUX, &["locks"]);
    assert_eq!(live.as_array().unwrap().len(), 1, "{live}");
    assert_eq!(live[0]["holder"], MAX);
}

#[test]
fn locks_cover_directories_renew_for_their_holder_and_unlock_only_by_it() {
    let env = Env::new();
    std::fs::create_dir_all(env.repo().join("src")).unwrap();
    // Relative to where the agent stands, normalised.
    json(
        &env,
        NUX,
        &["-C", "src", "lock", "./auth/../auth/", "--intent", "auth"],
    );
    let (code, line) = refused(board(
        &env,
        MAX,
        &["lock", "src/auth/login.rs", "--intent", "x"],
    ));
    assert_eq!(code, 4);
    assert!(
        line.contains(NUX) && line.contains("through its lock on 'src/auth'"),
        "{line}"
    );
    // All or none: one free path beside a held one is not locked either.
    refused(board(
        &env,
        MAX,
        &["lock", "docs/x.md", "src/auth", "--intent", "x"],
    ));
    assert_eq!(
        board(&env, MAX, &["check", "docs/x.md"]).status.code(),
        Some(0)
    );
    // The holder locking again renews.
    let again = json(&env, NUX, &["lock", "src/auth", "--intent", "auth, longer"]);
    assert_eq!(again["renewed"][0], "src/auth");
    // Checking a directory sees locks inside it.
    let out = board(&env, MAX, &["check", "src", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "locked: exit 1, with --json too"
    );
    let checked: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(checked["locked"], true);
    assert_eq!(checked["locks"][0]["path"], "src/auth");
    // Only the holder unlocks (or --force).
    let (code, line) = refused(board(&env, MAX, &["unlock", "src/auth"]));
    assert_eq!(code, 4);
    assert!(line.contains(NUX), "{line}");
    let done = json(&env, NUX, &["unlock", "src/auth"]);
    assert_eq!(done["released"][0], "src/auth");
    assert_eq!(json(&env, NUX, &["locks"]), serde_json::json!([]));
}

#[test]
fn a_path_outside_the_repository_or_a_bad_ttl_is_one_line_and_writes_nothing() {
    let env = Env::new();
    for (args, needle) in [
        (
            vec!["lock", "../elsewhere.rs", "--intent", "x"],
            "outside the repository",
        ),
        (
            vec!["lock", "/etc/passwd", "--intent", "x"],
            "outside the repository",
        ),
        (vec!["lock", ".git/config", "--intent", "x"], "inside .git"),
        (vec!["lock", ".", "--intent", "x"], "whole repository"),
        (
            vec!["lock", "a.rs", "--intent", "x", "--ttl", "2x"],
            "bad TTL '2x'",
        ),
        (
            vec!["lock", "a.rs", "--intent", "x", "--ttl", "0s"],
            "bad TTL",
        ),
        (
            vec!["lock", "a.rs", "--intent", "x", "--ttl", "30"],
            "bad TTL",
        ),
        (vec!["lock", "a.rs", "--intent", "  "], "--intent"),
        (vec!["check", "../x"], "outside the repository"),
    ] {
        let (code, line) = refused(board(&env, NUX, &args));
        assert_eq!(code, 1, "{args:?}: {line}");
        assert!(line.contains(needle), "{args:?}: {line}");
    }
    assert_eq!(board_tip(&env), None, "nothing was written");
}

#[test]
fn decisions_are_numbered_and_listed() {
    let env = Env::new();
    let first = json(
        &env,
        NUX,
        &[
            "decide",
            "Use JWT for sessions",
            "--decision",
            "JWT, 15 min expiry",
            "--rationale",
            "stateless",
            "--context",
            "auth rewrite",
        ],
    );
    assert_eq!(first["id"], "ADR-001");
    assert_eq!(first["source"], NUX);
    let second = json(
        &env,
        MAX,
        &[
            "decide",
            "Keep SQLite",
            "--decision",
            "stay",
            "--rationale",
            "small",
        ],
    );
    assert_eq!(second["id"], "ADR-002");
    let all = json(&env, NUX, &["decisions"]);
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ADR-001", "ADR-002"]);
    assert_eq!(all[0]["context"], "auth rewrite");
    // A missing rationale is a usage error; an empty one a one-line refusal.
    let out = board(&env, NUX, &["decide", "T", "--decision", "d"]);
    assert_eq!(out.status.code(), Some(2));
    let (code, line) = refused(board(
        &env,
        NUX,
        &["decide", "T", "--decision", "d", "--rationale", " "],
    ));
    assert_eq!(code, 1);
    assert!(line.contains("rationale"), "{line}");
}

#[test]
fn export_writes_the_seed_shapes_and_the_bulletin_holds_posts() {
    let env = Env::new();
    json(&env, NUX, &["post", "starting on auth"]);
    json(
        &env,
        NUX,
        &["lock", "src/auth.rs", "--intent", "rewrite login"],
    );
    json(
        &env,
        MAX,
        &[
            "decide",
            "Use JWT",
            "--decision",
            "JWT",
            "--rationale",
            "stateless",
        ],
    );
    let bulletin = json(&env, MAX, &[]);
    assert_eq!(bulletin[0]["kind"], "post");
    assert_eq!(bulletin[0]["text"], "starting on auth");
    assert_eq!(bulletin[0]["actor"], NUX);
    assert_eq!(
        json(&env, MAX, &["--since", "2999-01-01"]),
        serde_json::json!([])
    );

    let dir = env.path().join("export");
    json(&env, MAX, &["export", dir.to_str().unwrap()]);
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
    };
    let locks = read("LOCKS.json");
    let lock = &locks["locks"][0];
    for key in ["path", "holder", "since", "intent"] {
        assert!(lock[key].is_string(), "LOCKS.json lacks {key}: {locks}");
    }
    assert_eq!(lock["path"], "src/auth.rs");
    assert_eq!(lock["holder"], NUX);
    let decisions = read("DECISIONS.json");
    let d = &decisions["decisions"][0];
    for key in ["id", "date", "context", "decision", "rationale", "source"] {
        assert!(
            d[key].is_string(),
            "DECISIONS.json lacks {key}: {decisions}"
        );
    }
    assert!(d["propagated_to"].is_array());
    assert_eq!(d["id"], "ADR-001");
    let md = std::fs::read_to_string(dir.join("BULLETIN.md")).unwrap();
    assert!(
        md.starts_with("# Bulletin") && md.contains("starting on auth"),
        "{md}"
    );
    // A file where the directory should be: one line.
    let file = env.write("plain-file", "x");
    let (code, _) = refused(board(&env, NUX, &["export", file.to_str().unwrap()]));
    assert_eq!(code, 1);
}

#[test]
fn prime_shows_the_agents_locks_and_the_recent_decisions() {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "gt"]);
    seed_agent(&env.repo(), NUX, None);
    json(
        &env,
        NUX,
        &["lock", "src/auth.rs", "--intent", "rewrite login"],
    );
    json(&env, MAX, &["lock", "docs", "--intent", "not nux's"]);
    json(
        &env,
        MAX,
        &[
            "decide",
            "Use JWT",
            "--decision",
            "JWT",
            "--rationale",
            "stateless",
        ],
    );
    let primed = env.json_in(&env.repo(), "agent", &["prime", NUX]);
    let locks = primed["locks"].as_array().unwrap();
    assert_eq!(locks.len(), 1, "only its own locks: {locks:?}");
    assert_eq!(locks[0]["path"], "src/auth.rs");
    assert_eq!(primed["decisions"][0]["id"], "ADR-001");
    let text = support::ok(
        env.run_in(&env.repo(), "agent", &["prime", NUX]),
        &["prime"],
    );
    assert!(
        text.contains("## Your locks: 1") && text.contains("src/auth.rs"),
        "{text}"
    );
    assert!(text.contains("ADR-001 Use JWT"), "{text}");
}

/// Patrol's call: expired locks and those of dead holders are released in one write; a
/// pass with nothing to release writes nothing.
#[test]
fn expire_locks_releases_expired_and_dead_holders_and_is_a_no_op_otherwise() {
    let env = Env::new();
    json(&env, NUX, &["lock", "a.rs", "--intent", "x", "--ttl", "1s"]);
    json(
        &env,
        "repo/polecats/dead",
        &["lock", "b.rs", "--intent", "x"],
    );
    json(&env, MAX, &["lock", "c.rs", "--intent", "x"]);
    std::thread::sleep(Duration::from_millis(1100));
    let town = gastown::town::Town::discover(&env.repo()).unwrap();
    let board = gastown::board::Board::new(&town);
    let actor = gastown::store::Actor {
        name: "patrol".into(),
        email: "patrol@gastown.local".into(),
    };
    let is_dead = |holder: &str| holder == "repo/polecats/dead";
    let expired = board.expire_locks(&actor, &is_dead).unwrap();
    let mut released: Vec<(String, &str)> = expired
        .released
        .iter()
        .map(|r| (r.lock.path.clone(), r.reason))
        .collect();
    released.sort();
    assert_eq!(
        released,
        [
            ("a.rs".to_string(), "expired"),
            ("b.rs".to_string(), "holder-dead")
        ]
    );
    let holders = board
        .holders(&["c.rs".to_string(), "a.rs".to_string()])
        .unwrap();
    assert_eq!(holders.len(), 1);
    assert_eq!(holders[0].holder, MAX);
    let tip = board_tip(&env);
    assert!(board.expire_locks(&actor, &is_dead).unwrap().is_empty());
    assert_eq!(board_tip(&env), tip, "a no-op pass writes nothing");
}

/// A convoy's landing posts its summary once: its beads, and the decisions recorded while
/// it was open, which then name the post in `propagated_to`; the feed shows one `landed`.
#[test]
fn a_landing_convoy_posts_its_summary_with_the_decisions_made_meanwhile() {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "lo"]);
    json(
        &env,
        MAX,
        &[
            "decide",
            "Before",
            "--decision",
            "old",
            "--rationale",
            "earlier",
        ],
    );
    let a = env.create("one", &[]);
    let b = env.create("two", &[]);
    let convoy = env.json_in(&env.repo(), "convoy", &["create", "Both", &a, &b]);
    let convoy = convoy["id"].as_str().unwrap().to_string();
    std::thread::sleep(Duration::from_millis(20));
    json(
        &env,
        NUX,
        &[
            "decide",
            "Use JWT",
            "--decision",
            "JWT",
            "--rationale",
            "stateless",
        ],
    );
    env.bead_ok(&["close", &a, &b]);

    let bulletin = json(&env, MAX, &[]);
    let landings: Vec<&Value> = bulletin
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "convoy-landed")
        .collect();
    assert_eq!(landings.len(), 1, "{bulletin:#}");
    let text = landings[0]["text"].as_str().unwrap();
    assert!(
        text.contains(&convoy) && text.contains(&a) && text.contains(&b),
        "{text}"
    );
    assert!(text.contains("ADR-002 Use JWT"), "{text}");
    assert!(
        !text.contains("ADR-001"),
        "decided before the convoy: {text}"
    );
    assert!(
        !bulletin
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "landed"),
        "the landing shows once, as its post: {bulletin:#}"
    );
    let post = landings[0]["post"].as_str().unwrap();
    let decisions = json(&env, MAX, &["decisions"]);
    assert_eq!(decisions[1]["propagated_to"], serde_json::json!([post]));
    assert_eq!(decisions[0]["propagated_to"], serde_json::json!([]));

    let landed = env.json_in(&env.repo(), "gastown", &["feed", "--kind", "landed"]);
    let landed = landed.as_array().unwrap();
    assert_eq!(landed.len(), 1, "{landed:#?}");
    assert!(landed[0]["ids"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i == convoy.as_str()));
    // The landing's repair path (sync, patrol) finds it posted: no second post.
    let town = gastown::town::Town::discover(&env.repo()).unwrap();
    let show = env.json_in(&env.repo(), "convoy", &["show", &convoy]);
    let landed: gastown::convoy::LandedConvoy = {
        let convoys = gastown::convoy::Convoys::new(&town);
        gastown::convoy::LandedConvoy::of(&convoys.get(&convoy).unwrap())
    };
    assert_eq!(show["status"], "landed");
    let again = gastown::board::Board::new(&town)
        .convoy_landed(
            &gastown::store::Actor {
                name: "patrol".into(),
                email: "p@x".into(),
            },
            &landed,
        )
        .unwrap();
    assert!(!again.fresh);
    assert_eq!(again.post.id, post);
}
