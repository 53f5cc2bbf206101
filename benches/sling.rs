//! The dispatch benchmark: whole-process medians of the three commands of the propulsion
//! loop on a lone repository (a town of one rig) with one polecat:
//!
//! - `git agent hook BEAD --to AGENT`: the attach, one write (target ≤ 10 ms);
//! - `git sling BEAD RIG/polecats/NAME` to that idle polecat: capacity check, attach, start
//!   of a session (target ≤ 50 ms). The runtime is a script that exits at once and the
//!   process backend does not wait for the agent, so what is timed is sling's own work —
//!   including forking the detached session — and not the agent's start-up;
//! - `git agent done` in the sandbox after a commit: intent, pin, the one write of merge
//!   request + bead + agent (target ≤ 60 ms). Run outside a session, so it stops none.
//!
//! Between timed runs (untimed): a fresh bead, a commit, waiting for the session to end,
//! `unhook`. Run with `cargo bench --bench sling` (options after `--`):
//!
//!   --runs 15       timed runs of each command (the median is printed)
//!   --beads 1000    beads in the store besides the ones dispatched
//!   --dir DIR       where to build the repository (default: target/tmp)

#[path = "support/mod.rs"]
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::{median, ms, Hermetic};

const AGENT: &str = "repo/polecats/furiosa";

struct Options {
    runs: usize,
    beads: usize,
    dir: Option<PathBuf>,
}

fn options() -> Options {
    let mut o = Options {
        runs: 15,
        beads: 1000,
        dir: None,
    };
    for (name, value) in support::option_pairs() {
        match name.as_str() {
            "--runs" => o.runs = value.parse().expect("--runs takes a number"),
            "--beads" => o.beads = value.parse().expect("--beads takes a number"),
            "--dir" => o.dir = Some(PathBuf::from(value)),
            other => panic!("unknown option {other}"),
        }
    }
    assert!(o.runs >= 1, "--runs must be at least 1");
    o
}

struct Bench {
    h: Hermetic,
    repo: PathBuf,
}

impl Bench {
    fn run(&self, tool: &str, dir: &Path, args: &[&str]) -> (String, Duration) {
        let mut cmd = self.h.command(support::tool(&format!("git-{tool}")), dir);
        // Our binaries first on PATH: the runtime's and git's hooks find them there.
        let path = format!(
            "{}:{}",
            support::tool("git-agent").parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.args(args).env("PATH", path);
        let (out, took) = self.h.timed(cmd);
        (String::from_utf8(out.stdout).unwrap(), took)
    }

    fn new_bead(&self, title: &str) -> String {
        self.run("bead", &self.repo, &["create", title, "--silent"])
            .0
            .trim()
            .to_string()
    }

    fn session_alive(&self) -> bool {
        let (out, _) = self.run("agent", &self.repo, &["show", AGENT, "--json"]);
        let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
        shown["session"]["alive"] == true
    }
}

fn main() {
    let o = options();
    let base = o
        .dir
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp"));
    std::fs::create_dir_all(&base).unwrap();
    let tmp = tempfile::Builder::new()
        .prefix("sling-bench")
        .tempdir_in(&base)
        .unwrap();
    let b = Bench {
        h: Hermetic::new(tmp.path().join("home")),
        repo: tmp.path().join("repo"),
    };
    std::fs::create_dir_all(&b.repo).unwrap();
    b.h.git(&b.repo, &["init", "-q", "-b", "main"]);
    std::fs::write(b.repo.join("README"), "bench\n").unwrap();
    b.h.git(&b.repo, &["add", "README"]);
    b.h.git(&b.repo, &["commit", "-qm", "initial"]);
    b.run("bead", &b.repo, &["init", "--prefix", "bn"]);
    let runtime = tmp.path().join("instant-agent");
    std::fs::write(&runtime, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o755)).unwrap();
    for (key, value) in [
        ("gastown.runtime.instant.command", runtime.to_str().unwrap()),
        ("gastown.runtime.instant.prompt", "arg"),
        ("gastown.session.backend", "process"),
    ] {
        b.h.git(&b.repo, &["config", key, value]);
    }
    b.run(
        "gastown",
        &b.repo,
        &["config", "set", "agent.default", "instant"],
    );
    // Background beads, so the store is not empty (an import is one write).
    let jsonl: String = (0..o.beads)
        .map(|i| format!("{{\"id\":\"bn-bg{i}\",\"title\":\"background {i}\",\"status\":\"open\",\"priority\":2,\"issue_type\":\"task\",\"created_at\":\"2026-01-01T00:00:00Z\",\"updated_at\":\"2026-01-01T00:00:00Z\"}}\n"))
        .collect();
    let import = tmp.path().join("background.jsonl");
    std::fs::write(&import, jsonl).unwrap();
    b.run("bead", &b.repo, &["import", import.to_str().unwrap()]);
    b.run("agent", &b.repo, &["add", "polecat"]);
    let (out, _) = b.run("agent", &b.repo, &["show", AGENT, "--json"]);
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    let sandbox = PathBuf::from(shown["sandbox"].as_str().unwrap());

    let (mut hooks, mut dones, mut slings) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..o.runs {
        // hook, then done on it.
        let bead = b.new_bead(&format!("hooked {i}"));
        hooks.push(ms(b
            .run("agent", &b.repo, &["hook", &bead, "--to", AGENT])
            .1));
        std::fs::write(sandbox.join(format!("work{i}.txt")), format!("work {i}\n")).unwrap();
        b.h.git(&sandbox, &["add", "."]);
        b.h.git(&sandbox, &["commit", "-qm", &format!("work {i}")]);
        dones.push(ms(b.run("agent", &sandbox, &["done"]).1));

        // sling to the idle polecat; then wait for the instant agent to end, and unhook.
        let bead = b.new_bead(&format!("slung {i}"));
        let (out, took) = b.run("sling", &b.repo, &[&bead, AGENT, "--json"]);
        assert!(
            out.contains("\"started\""),
            "sling did not start a session: {out}"
        );
        slings.push(ms(took));
        let waited = Instant::now();
        while b.session_alive() {
            assert!(
                waited.elapsed() < Duration::from_secs(30),
                "the instant agent never ended"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        b.run("agent", &b.repo, &["unhook", AGENT]);
    }

    println!(
        "git sling benchmark: one polecat, {} background beads, {} runs (medians, whole process)",
        o.beads, o.runs
    );
    println!(
        "  agent hook BEAD --to AGENT        {:8.2} ms  (target ≤ 10 ms)",
        median(&hooks)
    );
    println!(
        "  sling BEAD <idle polecat>         {:8.2} ms  (target ≤ 50 ms; agent start-up excluded)",
        median(&slings)
    );
    println!(
        "  agent done (commit pinned, MR)    {:8.2} ms  (target ≤ 60 ms)",
        median(&dones)
    );
}
