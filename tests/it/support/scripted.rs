//! The scripted-runtime harness shared by the agent and dispatch tests: a lone repository
//! (a town of one rig named `repo`) with a shell script configured as the runtimes `script`
//! (prompt by argument) and `scriptin` (prompt on stdin), sessions on a chosen backend, and
//! `Cleanup`, which kills every session the test started whether it passes or not.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{assert_one_line_error, bin_dir, Env};

/// The scripted runtime: reads its hook with `git agent prime --json`, writes its
/// environment and prompt to `OUT/<session>.env`, says hello; when the prompt or the
/// hooked bead's title says DO-WORK it writes `work.txt` (naming the agent and the bead),
/// commits it and runs `git agent done` (when the title says SLOW, only once the test has
/// created `OUT/go`, and a little later);
/// when the title says HANDOFF and its prime shows no handoff note yet, it hands off with
/// one; then it sleeps until stopped.
const SCRIPT: &str = r#"#!/bin/sh
out="@OUT@/$GT_SESSION"
if [ "$1" = --from-stdin ]; then IFS= read -r prompt; else prompt="$1"; fi
git agent prime --json > "$out.prime.tmp" 2> "$out.prime.err"
mv "$out.prime.tmp" "$out.prime.json"
hook=$(git agent hook 2>/dev/null)
{
  env | grep -E '^(GT_|BD_ACTOR=|GIT_AUTHOR_)' | sort
  printf 'prompt=%s\n' "$prompt"
  printf 'cwd=%s\n' "$(pwd -P)"
} > "$out.env.tmp"
mv "$out.env.tmp" "$out.env"
echo "hello from $GT_SESSION"
case "$prompt $hook" in
  *DO-WORK*)
    case "$hook" in *SLOW*) while [ ! -e "@OUT@/go" ]; do sleep 0.05; done; sleep 0.2 ;; esac
    printf 'work of %s for %s\n' "$GT_AGENT" "$hook" > work.txt
    git add work.txt && git commit -q -m "the work"
    git agent done --json > "$out.done.json" 2> "$out.done.err"
    echo "done exited $?" >> "$out.done.err"
    ;;
esac
case "$hook" in
  *HANDOFF*)
    if grep -q '"handoff": null' "$out.prime.json"; then
      git agent handoff -m "note from the first session" --json > "$out.handoff.json" 2> "$out.handoff.err"
    fi
    ;;
esac
exec sleep 600
"#;

/// Kills everything the test started: each recorded session's process group, and the
/// private tmux server.
pub struct Cleanup {
    state_dir: PathBuf,
}

impl Cleanup {
    /// Kill, when dropped, every session recorded under `state_dir` (`<common git dir>/gastown`).
    pub fn new(state_dir: PathBuf) -> Cleanup {
        Cleanup { state_dir }
    }
}

/// Write the scripted runtime (see `SCRIPT`) to `path`, reporting into `out`.
pub fn write_script(path: &Path, out: &Path) {
    std::fs::write(path, SCRIPT.replace("@OUT@", out.to_str().unwrap())).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Ok(entries) = std::fs::read_dir(self.state_dir.join("sessions")) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".json") || name.ends_with(".runtime.json") {
                continue;
            }
            let Ok(info) = std::fs::read(entry.path()) else {
                continue;
            };
            let Ok(info) = serde_json::from_slice::<Value>(&info) else {
                continue;
            };
            if let Some(pid) = info["pid"].as_u64() {
                for target in [format!("-{pid}"), pid.to_string()] {
                    let _ = std::process::Command::new("kill")
                        .args(["-KILL", "--", &target])
                        .stderr(Stdio::null())
                        .status();
                }
            }
            if let Some(socket) = info["backend"]["socket"].as_str() {
                let _ = std::process::Command::new("tmux")
                    .args(["-S", socket, "kill-server"])
                    .env_remove("TMUX")
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}

/// A lone repository with the scripted runtime, and the commands tests run on it.
pub struct Town {
    // First: fields drop in order, and `Cleanup` reads the session files that dropping
    // `env` deletes (after it, every session a test left running outlived the test).
    _cleanup: Cleanup,
    pub env: Env,
    pub out: PathBuf,
}

impl Town {
    pub fn repo(&self) -> PathBuf {
        std::fs::canonicalize(self.env.repo()).unwrap()
    }

    pub fn sandbox(&self, kind: &str, name: &str) -> PathBuf {
        self.repo()
            .parent()
            .unwrap()
            .join("repo.gastown")
            .join(kind)
            .join(name)
    }

    /// `git-<tool> ARGS` in `dir`.
    pub fn tool_in(&self, dir: &Path, tool: &str, args: &[&str]) -> Output {
        self.env.run_in(dir, tool, args)
    }

    pub fn agent_in(&self, dir: &Path, args: &[&str]) -> Output {
        self.tool_in(dir, "agent", args)
    }

    pub fn agent(&self, args: &[&str]) -> Output {
        self.agent_in(&self.repo(), args)
    }

    pub fn ok(&self, args: &[&str]) -> String {
        super::ok(self.agent(args), args)
    }

    pub fn json_in(&self, dir: &Path, args: &[&str]) -> Value {
        self.env.json_in(dir, "agent", args)
    }

    pub fn json(&self, args: &[&str]) -> Value {
        self.json_in(&self.repo(), args)
    }

    /// Run, expect failure with one error line; (exit code, the line).
    pub fn fails(&self, args: &[&str]) -> (i32, String) {
        fails(self.agent(args), args)
    }

    /// `git sling ARGS` in the repository.
    pub fn sling(&self, args: &[&str]) -> Output {
        self.tool_in(&self.repo(), "sling", args)
    }

    /// `git sling ARGS --json`, asserting success: one dispatch report per bead.
    pub fn sling_json(&self, args: &[&str]) -> Value {
        self.env.json_in(&self.repo(), "sling", args)
    }

    /// `git sling ARGS`, expecting one error line; (exit code, the line).
    pub fn sling_fails(&self, args: &[&str]) -> (i32, String) {
        fails(self.sling(args), args)
    }

    /// `git gastown config set KEY VALUE` (the lone repository's own settings).
    pub fn config_set(&self, key: &str, value: &str) {
        super::ok(
            self.tool_in(&self.repo(), "gastown", &["config", "set", key, value]),
            &[key, value],
        );
    }

    pub fn git(&self, args: &[&str]) -> String {
        self.env.git_ok(&self.repo(), args)
    }

    /// Every ref and its tip: what "nothing changed" compares.
    pub fn refs(&self) -> String {
        self.git(&["for-each-ref", "--format=%(refname) %(objectname)"])
    }

    pub fn state_dir(&self) -> PathBuf {
        self.repo().join(".git/gastown")
    }

    pub fn view(&self, address: &str) -> Value {
        self.json(&["show", address])
    }

    /// `git agent list --json`.
    pub fn agents(&self) -> Vec<Value> {
        self.json(&["list"]).as_array().unwrap().clone()
    }

    pub fn session(&self, address: &str) -> Value {
        let list = self.agents();
        list.iter()
            .find(|a| a["address"] == address)
            .unwrap_or_else(|| panic!("{address} not listed: {list:?}"))["session"]
            .clone()
    }

    /// How many agents' sessions are alive, as `git agent list` sees them.
    pub fn alive_sessions(&self) -> usize {
        self.agents()
            .iter()
            .filter(|a| a["session"]["alive"] == true)
            .count()
    }

    pub fn bead(&self, id: &str) -> Value {
        self.env.bead_json(&["show", id])[0].clone()
    }

    /// Merge requests in the rig's store, as stored records.
    pub fn merge_requests(&self) -> Vec<Value> {
        let names = self.git(&["ls-tree", "-r", "--name-only", "refs/gastown/beads", "mrs/"]);
        names
            .lines()
            .map(|path| {
                let text = self.git(&["show", &format!("refs/gastown/beads:{path}")]);
                serde_json::from_str(&text).unwrap()
            })
            .collect()
    }

    /// Every merge request as `git mq list --all --json` reports it.
    pub fn mq_list(&self) -> Vec<Value> {
        self.env
            .json_in(&self.repo(), "mq", &["list", "--all"])
            .as_array()
            .unwrap()
            .clone()
    }

    pub fn out_file(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }

    /// Let sessions working on SLOW beads go on to `done`.
    pub fn go(&self) {
        std::fs::write(self.out_file("go"), "").unwrap();
    }
}

/// Expect a failure with exactly one `error:` line; (exit code, the line).
pub fn fails(out: Output, args: &[&str]) -> (i32, String) {
    let (code, stderr) = super::err(out, args);
    assert_one_line_error(&stderr);
    (code, stderr)
}

/// A field of a stored record.
pub fn field<'a>(record: &'a Value, key: &str) -> &'a Value {
    &record["fields"][key]["v"]
}

/// A lone repository with a bead store, the scripted runtime configured as `script`
/// (prompt by argument) and `scriptin` (prompt on stdin), sessions on `backend`.
pub fn town(backend: &str) -> Town {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "ag"]);
    let out = env.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let script = env.path().join("scripted-agent");
    write_script(&script, &out);
    let repo = env.repo();
    let script = script.to_str().unwrap();
    for (key, value) in [
        ("gastown.runtime.script.command", script),
        ("gastown.runtime.script.prompt", "arg"),
        ("gastown.runtime.scriptin.command", script),
        ("gastown.runtime.scriptin.prompt", "stdin"),
        ("gastown.runtime.scriptin.args", "--from-stdin"),
        ("gastown.session.backend", backend),
    ] {
        env.git_ok(&repo, &["config", key, value]);
    }
    // These tests look at what `done` leaves for the merge queue: no automatic pass
    // (a test that wants one turns `merge_queue.auto` back on).
    super::ok(
        env.run_in(
            &repo,
            "gastown",
            &["config", "set", "merge_queue.auto", "false"],
        ),
        &["config", "set", "merge_queue.auto", "false"],
    );
    let state_dir = std::fs::canonicalize(&repo).unwrap().join(".git/gastown");
    Town {
        _cleanup: Cleanup { state_dir },
        env,
        out,
    }
}

/// Whether the tmux backend can run here; says loudly when a tmux test is skipped.
pub fn tmux_present() -> bool {
    if which::which("tmux").is_ok() && which::which("flock").is_ok() {
        return true;
    }
    eprintln!("\n\n!!!!!!!! tmux or flock(1) is not installed: SKIPPING the tmux agent tests !!!!!!!!\n\n");
    false
}

/// Poll until `done` holds; the limit only bounds a failing test.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn read_env_file(path: &Path) -> std::collections::BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn kill_group(pid: u64) {
    let status = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .status()
        .unwrap();
    assert!(status.success(), "kill -KILL -{pid}");
}

/// Whether every process of the group has exited (zombies count as exited: they hold no
/// descriptors, and a container's init may never reap them).
pub fn group_gone(pgid: u64) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    !entries.flatten().any(|e| {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            return false;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string()
    })
}

/// The path of a suite binary, as a string for `Env::command`.
pub fn binary(name: &str) -> String {
    bin_dir().join(name).to_str().unwrap().to_string()
}
