//! Test harness: real binaries on real temporary repositories, with a hermetic git
//! environment (no user or system config leaks in). Every test module uses this one
//! `Env`; add helpers here rather than beside a test, so the next module finds them.
#![allow(dead_code)]

pub mod bd_export;
pub mod sample;
pub mod scripted;
pub mod town_sim;

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

/// Set (by .ci/run, whenever the data is there) to make missing real data a failure.
pub const REQUIRE_REAL_DATA: &str = "GT_REQUIRE_REAL_DATA";

/// `../shared/testdata/<sub>` beside the project (real data no one on the project wrote),
/// or None after a loud SKIPPED line when it is absent: a fresh clone has no `../shared`.
/// Only `real_data_*` tests call this; the default suite covers the same behaviour with
/// data it generates (fixtures/, bd_export.rs). Panics instead of skipping when
/// `GT_REQUIRE_REAL_DATA=1`, so CI cannot silently skip the group.
pub fn real_data(test: &str, sub: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/testdata")
        .join(sub);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os(REQUIRE_REAL_DATA).is_none_or(|v| v != "1"),
        "{test}: {} not found and {REQUIRE_REAL_DATA}=1",
        path.display()
    );
    // Straight to stderr: the test harness captures eprintln! of passing tests, and a skip
    // must be seen.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {test}: ../shared/testdata/{sub} not found"
    );
    None
}

/// Test data the project itself provides (tests/it/fixtures/<sub>).
pub fn fixtures(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures")
        .join(sub)
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

    /// Run `git-<tool>` in `dir` with `--json`, assert success, parse stdout.
    pub fn json_in(&self, dir: &Path, tool: &str, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        let out = ok(self.run_in(dir, tool, &args), &args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("bad JSON from {args:?}: {e}\n{out}"))
    }

    /// Write `text` to `rel` under the temporary root (parents created); its path.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `git fsck --strict` in `dir` passes and reports no error (dangling objects, as
    /// killed writers leave, are fine).
    pub fn assert_fsck_clean(&self, dir: &Path) {
        let out = self.git(dir, &["fsck", "--strict", "--no-progress"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "fsck failed in {}: {stderr}",
            dir.display()
        );
        assert!(
            !stderr.contains("error"),
            "fsck in {}: {stderr}",
            dir.display()
        );
    }

    /// Commits on a collection's ref.
    pub fn commits(&self, dir: &Path, collection: &str) -> usize {
        let name = format!("refs/gastown/{collection}");
        self.git_ok(dir, &["rev-list", "--count", &name])
            .trim()
            .parse()
            .unwrap()
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
        self.json_in(&self.repo(), "bead", args)
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

/// A refused command: exit 1, nothing on stdout, one `error: ` line naming every needle.
pub fn assert_refused(out: Output, needles: &[&str]) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exit code; stderr: {stderr}");
    assert!(stdout.is_empty(), "stdout should be empty: {stdout}");
    assert_one_line_error(&stderr);
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "error should mention {needle:?}: {stderr}"
        );
    }
}

/// A finished command's exit code and output as text.
pub struct Captured {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Captured {
    fn from(out: Output) -> Captured {
        Captured {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Record the agent `address` (e.g. `web/polecats/nux`) in the store of the repository at
/// `dir`, as `git agent add` would, with `runtime` as the runtime it was last started with.
/// Through the library: no `git agent` binary is needed to have agents to write to.
pub fn seed_agent(dir: &Path, address: &str, runtime: Option<&str>) {
    use gastown::bead::record::Stamp;
    let parsed = gastown::agent::Address::parse(address).expect("a full agent address");
    let store = gastown::store::Store::open(dir).expect("store opens");
    let actor = gastown::store::Actor {
        name: "test".into(),
        email: "test@example.com".into(),
    };
    store
        .write("beads", &actor, |snap, batch| {
            let mut record = gastown::records::named_record(address);
            let stamp = Stamp(batch.clock, actor.name.clone());
            record.set("role", serde_json::json!(parsed.role.as_str()), &stamp);
            record.set("rig", serde_json::json!(parsed.rig), &stamp);
            record.set("state", serde_json::json!("idle"), &stamp);
            if let Some(r) = runtime {
                record.set("runtime", serde_json::json!(r), &stamp);
            }
            gastown::records::put(batch, &parsed.record_path(), &record);
            gastown::bead::ops::carry_count(snap, batch, 0);
            Ok(gastown::store::Outcome::Commit {
                message: format!("agent add {address}"),
                value: (),
            })
        })
        .expect("agent record written");
}

impl Env {
    /// A branch `name` from `base` with one commit writing `files` (path, content), made in
    /// the repository's worktree, which is put back on `main` afterwards. Its tip.
    pub fn branch_with(&self, name: &str, base: &str, files: &[(&str, &str)]) -> String {
        let repo = self.repo();
        self.git_ok(&repo, &["checkout", "-q", "-b", name, base]);
        for (path, content) in files {
            let full = repo.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, content).unwrap();
            self.git_ok(&repo, &["add", path]);
        }
        self.git_ok(&repo, &["commit", "-qm", &format!("{name}: work")]);
        let tip = self
            .git_ok(&repo, &["rev-parse", "HEAD"])
            .trim()
            .to_string();
        self.git_ok(&repo, &["checkout", "-q", "main"]);
        tip
    }

    /// Run `git mq` in the repository; (exit code, parsed JSON stdout).
    pub fn mq_json(&self, args: &[&str]) -> (i32, Value) {
        let mut args = args.to_vec();
        args.push("--json");
        let out = self.run_in(&self.repo(), "mq", &args);
        let code = out.status.code().unwrap_or(-1);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "bad JSON from git mq {args:?} (exit {code}): {e}\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (code, value)
    }

    /// Set a shared setting (`git gastown config set KEY VALUE`).
    pub fn config_set(&self, key: &str, value: &str) {
        ok(
            self.run_in(&self.repo(), "gastown", &["config", "set", key, value]),
            &[key, value],
        );
    }
}
