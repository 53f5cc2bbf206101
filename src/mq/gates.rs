//! Gates: the commands a rig's owner configured (`merge_queue.gates.<name>`), run before a
//! merge by `sh -c` in the scratch worktree, like a Makefile recipe. Nothing of a request
//! (branch names, bead text) is ever put into the command: what a gate may want to know
//! comes as environment variables (`GT_MQ_MR`, `GT_MQ_MRS`, `GT_MQ_TARGET`, `GT_MQ_BASE`,
//! `GT_MQ_TIP`, `GT_MQ_GATE`). Each gate runs in its own process group with a timeout
//! (`merge_queue.gate_timeout`, or `merge_queue.gate_timeouts.<name>`), all at once when
//! `merge_queue.gates_parallel` is on; the first failure stops the others.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rustix::process::{kill_process_group, Pid, Signal};
use serde::Serialize;

use super::record::GateFailure;
use crate::error::{Error, Result};

/// One configured gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    pub name: String,
    pub command: String,
    pub timeout: Duration,
}

/// How one gate run ended.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GateRun {
    pub gate: String,
    /// `passed`, `failed`, `timeout`, `signal`, `missing` (the command was not found: a
    /// configuration problem, not the request's fault) or `cancelled` (another gate failed).
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<i32>,
    pub millis: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub log_tail: String,
}

/// The outcome of running every gate once on one commit.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GateResult {
    pub runs: Vec<GateRun>,
}

impl GateResult {
    pub fn passed(&self) -> bool {
        self.runs.iter().all(|r| r.status == "passed")
    }

    /// A gate whose command does not exist: the pass holds instead of rejecting.
    pub fn missing(&self) -> Option<&GateRun> {
        self.runs.iter().find(|r| r.status == "missing")
    }

    /// The failure to record on a rejected request.
    pub fn failure(&self) -> Option<GateFailure> {
        let run = self
            .runs
            .iter()
            .find(|r| !["passed", "cancelled"].contains(&r.status.as_str()))?;
        Some(GateFailure {
            gate: run.gate.clone(),
            kind: run.status.clone(),
            exit_status: run.exit_status,
            log_tail: run.log_tail.clone(),
        })
    }
}

/// Exit statuses of `sh` when the command is not there or cannot be executed.
const NOT_FOUND: [i32; 2] = [126, 127];
/// Lines and bytes of a gate's output kept for the report: enough to see the failing test
/// without storing a whole build log in a record.
const TAIL_LINES: usize = 20;
const TAIL_BYTES: u64 = 4096;

/// The gates configured for a rig, from `merge_queue.gates.*` settings (name → command) and
/// timeouts; in name order.
pub fn configured(
    commands: &BTreeMap<String, String>,
    timeouts: &BTreeMap<String, u64>,
    default_timeout: u64,
) -> Vec<Gate> {
    commands
        .iter()
        .filter(|(_, cmd)| !cmd.trim().is_empty())
        .map(|(name, command)| Gate {
            name: name.clone(),
            command: command.clone(),
            timeout: Duration::from_secs(*timeouts.get(name).unwrap_or(&default_timeout)),
        })
        .collect()
}

/// Run `gates` in `dir` with `env`, logs in `log_dir/<gate>.log`.
pub fn run(
    gates: &[Gate],
    dir: &Path,
    env: &[(String, String)],
    parallel: bool,
    log_dir: &Path,
) -> Result<GateResult> {
    std::fs::create_dir_all(log_dir)
        .map_err(|e| Error::io(format!("creating {}", log_dir.display()), e))?;
    let mut runs: Vec<GateRun> = Vec::new();
    if parallel {
        runs.extend(run_together(gates, dir, env, log_dir)?);
    } else {
        for gate in gates {
            let run = run_together(std::slice::from_ref(gate), dir, env, log_dir)?.remove(0);
            let failed = run.status != "passed";
            runs.push(run);
            if failed {
                break;
            }
        }
    }
    runs.sort_by(|a, b| a.gate.cmp(&b.gate));
    Ok(GateResult { runs })
}

type Exit = (usize, std::io::Result<std::process::ExitStatus>);

struct Running {
    gate: Gate,
    pid: u32,
    log: PathBuf,
    started: Instant,
}

impl Running {
    fn start(
        n: usize,
        gate: &Gate,
        dir: &Path,
        env: &[(String, String)],
        log_dir: &Path,
        tx: &mpsc::Sender<Exit>,
    ) -> Result<Running> {
        let log = log_dir.join(format!("{}.log", gate.name));
        let out = std::fs::File::create(&log)
            .map_err(|e| Error::io(format!("creating {}", log.display()), e))?;
        let err = out
            .try_clone()
            .map_err(|e| Error::io("duplicating a log descriptor", e))?;
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(&gate.command)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .env("GT_MQ_GATE", &gate.name)
            // Its own process group: a timeout ends the gate and everything it started.
            .process_group(0);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command
            .spawn()
            .map_err(|e| Error::io(format!("starting gate '{}'", gate.name), e))?;
        let pid = child.id();
        let tx = tx.clone();
        std::thread::spawn(move || {
            let _ = tx.send((n, child.wait()));
        });
        Ok(Running {
            gate: gate.clone(),
            pid,
            log,
            started: Instant::now(),
        })
    }

    fn kill(&self) {
        if let Some(pid) = Pid::from_raw(self.pid as i32) {
            let _ = kill_process_group(pid, Signal::KILL);
        }
    }

    fn finish(&self, status: &str, exit: Option<i32>) -> GateRun {
        GateRun {
            gate: self.gate.name.clone(),
            status: status.to_string(),
            exit_status: exit,
            millis: self.started.elapsed().as_millis() as u64,
            log_tail: if status == "passed" {
                String::new()
            } else {
                tail(&self.log)
            },
        }
    }
}

/// Start every gate and wait for all of them; the first failure (or timeout) ends the
/// others, which count as cancelled.
fn run_together(
    gates: &[Gate],
    dir: &Path,
    env: &[(String, String)],
    log_dir: &Path,
) -> Result<Vec<GateRun>> {
    let (tx, rx) = mpsc::channel::<Exit>();
    let mut running: Vec<Option<Running>> = Vec::new();
    for (n, gate) in gates.iter().enumerate() {
        match Running::start(n, gate, dir, env, log_dir, &tx) {
            Ok(r) => running.push(Some(r)),
            Err(e) => {
                for r in running.iter().flatten() {
                    r.kill();
                }
                return Err(e);
            }
        }
    }
    let mut runs = Vec::new();
    let mut left = running.len();
    let mut failed = false;
    while left > 0 {
        let deadline = running
            .iter()
            .flatten()
            .map(|r| r.started + r.gate.timeout)
            .min()
            .expect("a gate is running");
        let wait = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok((n, result)) => {
                if let Some(r) = running[n].take() {
                    left -= 1;
                    let run = conclude(&r, result);
                    failed |= run.status != "passed";
                    runs.push(run);
                }
            }
            Err(_) => {
                let now = Instant::now();
                for slot in running.iter_mut() {
                    if slot
                        .as_ref()
                        .is_some_and(|r| r.started + r.gate.timeout <= now)
                    {
                        let r = slot.take().expect("checked");
                        r.kill();
                        left -= 1;
                        runs.push(r.finish("timeout", None));
                        failed = true;
                    }
                }
            }
        }
        if failed {
            for r in running.iter_mut().filter_map(Option::take) {
                r.kill();
                left -= 1;
                runs.push(r.finish("cancelled", None));
            }
        }
    }
    Ok(runs)
}

/// The run of a gate whose process ended.
fn conclude(r: &Running, result: std::io::Result<std::process::ExitStatus>) -> GateRun {
    use std::os::unix::process::ExitStatusExt;
    match result {
        Ok(status) if status.success() => r.finish("passed", Some(0)),
        Ok(status) => match status.code() {
            Some(code) if NOT_FOUND.contains(&code) => r.finish("missing", Some(code)),
            Some(code) => r.finish("failed", Some(code)),
            None => r.finish("signal", status.signal().map(|s| 128 + s)),
        },
        Err(_) => r.finish("failed", None),
    }
}

/// The last lines of a log, at most [`TAIL_BYTES`].
fn tail(log: &Path) -> String {
    let Ok(mut file) = std::fs::File::open(log) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(TAIL_BYTES)));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(name: &str, command: &str, secs: u64) -> Gate {
        Gate {
            name: name.into(),
            command: command.into(),
            timeout: Duration::from_secs(secs),
        }
    }

    #[test]
    fn a_failure_cancels_the_others_and_keeps_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let gates = [
            gate("fails", "echo \"checking $GT_MQ_MR\"; exit 3", 60),
            gate("slow", "sleep 30", 60),
        ];
        let env = [("GT_MQ_MR".to_string(), "gt-mr-1".to_string())];
        let result = run(&gates, dir.path(), &env, true, &dir.path().join("logs")).unwrap();
        assert!(!result.passed());
        let failure = result.failure().unwrap();
        assert_eq!(
            (
                failure.gate.as_str(),
                failure.kind.as_str(),
                failure.exit_status
            ),
            ("fails", "failed", Some(3))
        );
        assert_eq!(failure.log_tail, "checking gt-mr-1");
        assert_eq!(
            result
                .runs
                .iter()
                .find(|r| r.gate == "slow")
                .unwrap()
                .status,
            "cancelled"
        );
    }

    #[test]
    fn timeouts_and_missing_commands_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        let result = run(
            &[gate("hang", "sleep 30", 1)],
            dir.path(),
            &[],
            false,
            &logs,
        )
        .unwrap();
        assert_eq!(result.failure().unwrap().kind, "timeout");
        let result = run(
            &[gate("lint", "no-such-command-here", 60)],
            dir.path(),
            &[],
            false,
            &logs,
        )
        .unwrap();
        assert_eq!(result.missing().unwrap().gate, "lint");
        // One after another: the second never runs after the first fails.
        let result = run(
            &[gate("a", "false", 60), gate("b", "true", 60)],
            dir.path(),
            &[],
            false,
            &logs,
        )
        .unwrap();
        assert_eq!(result.runs.len(), 1);
        let result = run(
            &[gate("a", "true", 60), gate("b", "true", 60)],
            dir.path(),
            &[],
            true,
            &logs,
        )
        .unwrap();
        assert!(result.passed() && result.runs.len() == 2);
    }
}
