//! What the benchmarks share: the suite's binaries, a hermetic environment (a home of its
//! own, no user or system git config), running a command and timing it, and the same
//! deterministic generator and median as the tests (one file, included from tests/).
#![allow(dead_code)]

#[path = "../../tests/it/support/sample.rs"]
mod sample;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

#[allow(unused_imports)] // not every benchmark draws random numbers
pub use sample::{median, Rng};

/// A freshly built `git-*` binary of the suite (cargo builds them for the bench).
pub fn tool(name: &str) -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_git-bead")).with_file_name(name)
}

/// A home directory with a minimal git config, and commands confined to it.
pub struct Hermetic {
    pub home: PathBuf,
}

impl Hermetic {
    /// Creates `home` with its `.gitconfig` (git's own auto gc off: the suite's
    /// housekeeping is part of what is measured, git's is not).
    pub fn new(home: PathBuf) -> Hermetic {
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(
            home.join(".gitconfig"),
            "[user]\n\tname = bench\n\temail = bench@example.com\n[gc]\n\tauto = 0\n",
        )
        .unwrap();
        Hermetic { home }
    }

    /// `program` in `dir` with only the hermetic environment; stdin closed.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .current_dir(dir)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.home.join(".gitconfig"))
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GT_ACTOR", "bench")
            .env("LC_ALL", "C")
            .stdin(Stdio::null());
        cmd
    }

    /// Run `cmd`, panic naming it unless it succeeds; the output and the wall time.
    pub fn timed(&self, mut cmd: Command) -> (Output, Duration) {
        let started = Instant::now();
        let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        let elapsed = started.elapsed();
        assert!(
            out.status.success(),
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (out, elapsed)
    }

    /// `git ARGS` in `dir`; stdout.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let mut cmd = self.command("git", dir);
        cmd.args(args);
        String::from_utf8(self.timed(cmd).0.stdout).unwrap()
    }

    /// `git-<tool> ARGS` in `dir` as `actor`; the output and the wall time.
    pub fn run(
        &self,
        tool_name: &str,
        dir: &Path,
        actor: &str,
        args: &[&str],
    ) -> (Output, Duration) {
        let mut cmd = self.command(tool(&format!("git-{tool_name}")), dir);
        cmd.args(args).env("GT_ACTOR", actor);
        self.timed(cmd)
    }
}

/// The `--name VALUE` options given after `--`, in order (cargo's own `--bench` dropped).
pub fn option_pairs() -> Vec<(String, String)> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    args.chunks(2)
        .map(|pair| (pair[0].clone(), pair.get(1).cloned().unwrap_or_default()))
        .collect()
}

/// Milliseconds, as the reports give them.
pub fn ms(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64() * 1000.0
}

/// One commit per id through the library, setting `field` of `ids[i]` to `value(i)` as
/// `actor` (setup for a measurement: thousands of process starts would dominate it). Every
/// write runs the same housekeeping as a command's (pack roll-up, background gc).
pub fn edit(dir: &Path, actor: &str, ids: &[String], field: &str, value: impl Fn(usize) -> String) {
    let who = gastown::store::Actor {
        name: actor.to_string(),
        email: format!("{actor}@bench.local"),
    };
    let started = Instant::now();
    let mut store = gastown::store::Store::open(dir).expect("store opens");
    for (i, id) in ids.iter().enumerate() {
        // A long-lived process: look afresh now and then, as each command does, so packs
        // that housekeeping replaced are not held open.
        if i % 100 == 99 {
            store = gastown::store::Store::open(dir).expect("store opens");
        }
        let text = serde_json::Value::String(value(i));
        gastown::bead::Beads::new(&store)
            .modify(&who, "update", std::slice::from_ref(id), false, |e| {
                Ok(e.set(field, text.clone()))
            })
            .expect("update works");
        if i > 0 && i % 10_000 == 0 {
            let rate = i as f64 / started.elapsed().as_secs_f64();
            eprintln!("  {i} updates ({rate:.0}/s)");
        }
    }
}
