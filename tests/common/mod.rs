//! Test harness: real binaries on real temporary repositories, with a hermetic git
//! environment (no user or system config leaks in).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A temporary home and repository.
pub struct Env {
    pub root: tempfile::TempDir,
}

/// Directory holding the freshly built `git-*` binaries.
pub fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_git-bead"))
        .parent()
        .expect("binary has a directory")
        .to_path_buf()
}

/// Where the shared test data lives (`../shared/testdata` beside the project).
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata")
}

impl Env {
    /// A home directory and an initialised repository `repo/` with one commit.
    pub fn new() -> Env {
        let env = Env::empty();
        std::fs::create_dir_all(env.repo()).unwrap();
        env.git_ok(&env.repo(), &["init", "-q", "-b", "main"]);
        std::fs::write(env.repo().join("README"), "test\n").unwrap();
        env.git_ok(&env.repo(), &["add", "README"]);
        env.git_ok(&env.repo(), &["commit", "-qm", "initial"]);
        env
    }

    /// Just a home directory.
    pub fn empty() -> Env {
        let root = tempfile::Builder::new()
            .prefix("gastown-test")
            .tempdir()
            .unwrap();
        let env = Env { root };
        std::fs::create_dir_all(env.home()).unwrap();
        std::fs::write(
            env.home().join(".gitconfig"),
            "[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n[protocol \"file\"]\n\tallow = always\n",
        )
        .unwrap();
        env
    }

    pub fn path(&self) -> &Path {
        self.root.path()
    }

    pub fn home(&self) -> PathBuf {
        self.path().join("home")
    }

    pub fn repo(&self) -> PathBuf {
        self.path().join("repo")
    }

    /// A command with the hermetic environment, run in `dir`.
    pub fn command(&self, program: &str, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        let path = format!(
            "{}:{}",
            bin_dir().display(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into())
        );
        cmd.env_clear()
            .current_dir(dir)
            .env("PATH", path)
            .env("HOME", self.home())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.home().join(".gitconfig"))
            .env("LC_ALL", "C")
            .env("TZ", "UTC")
            .env("GIT_EDITOR", ":")
            .env("GT_LOCK_TIMEOUT_MS", "20000");
        cmd
    }

    pub fn git(&self, dir: &Path, args: &[&str]) -> Output {
        self.command("git", dir)
            .args(args)
            .output()
            .expect("git runs")
    }

    pub fn git_ok(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git(dir, args);
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Run `git-<tool>` (the binary itself) in `dir`.
    pub fn run_in(&self, dir: &Path, tool: &str, args: &[&str]) -> Output {
        let program = bin_dir().join(format!("git-{tool}"));
        self.command(program.to_str().unwrap(), dir)
            .args(args)
            .output()
            .expect("binary runs")
    }

    pub fn bead(&self, args: &[&str]) -> Output {
        self.run_in(&self.repo(), "bead", args)
    }

    /// Run `git bead` in the repository, assert success, return stdout.
    pub fn bead_ok(&self, args: &[&str]) -> String {
        ok(self.bead(args), args)
    }

    /// Run with `--json`, assert success, parse stdout.
    pub fn bead_json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        let out = self.bead_ok(&args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("bad JSON from {args:?}: {e}\n{out}"))
    }

    /// Run, assert failure; return (exit code, stderr).
    pub fn bead_err(&self, args: &[&str]) -> (i32, String) {
        err(self.bead(args), args)
    }

    /// Create a bead and return its id.
    pub fn create(&self, title: &str, extra: &[&str]) -> String {
        let mut args = vec!["create", title];
        args.extend_from_slice(extra);
        let v = self.bead_json(&args);
        v["id"]
            .as_str()
            .expect("created bead has an id")
            .to_string()
    }

    /// The tip of a ref, or None.
    pub fn ref_tip(&self, dir: &Path, name: &str) -> Option<String> {
        let out = self.git(dir, &["rev-parse", "--verify", "-q", name]);
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).unwrap().trim().to_string())
    }
}

pub fn ok(out: Output, args: &[&str]) -> String {
    assert!(
        out.status.success(),
        "{args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn err(out: Output, args: &[&str]) -> (i32, String) {
    assert!(
        !out.status.success(),
        "{args:?} should have failed:\nstdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    (out.status.code().unwrap_or(-1), stderr)
}

/// Assert an error output is exactly one line starting with "error: ".
pub fn assert_one_line_error(stderr: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {stderr:?}");
    assert!(lines[0].starts_with("error: "), "{stderr:?}");
}
