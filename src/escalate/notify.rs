//! The notify route: the town owner's command (`escalation.notify_command`, a program and
//! its arguments, e.g. a webhook or pager script) run with the escalation as JSON on
//! stdin. An argument vector, never a shell line: nothing of the escalation's text can
//! become a command. It runs in its own process group and is killed with it after
//! `escalation.notify_timeout`; whatever happens is reported, never raised, so a broken
//! pager never loses the escalation it was told about.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rustix::process::{kill_process_group, Pid, Signal};
use serde::{Deserialize, Serialize};

/// Output kept from the command (its last bytes), for `show`.
const OUTPUT_TAIL: usize = 2048;

/// How one run of the notify command went.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NotifyRun {
    pub command: Vec<String>,
    /// `ok` (exit 0), `failed` (non-zero exit or killed by a signal), `timeout` (killed
    /// after the timeout), `error` (could not be started).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<i32>,
    pub millis: u64,
    /// The tail of its stdout and stderr, or why it could not start.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub output: String,
}

/// Run `argv` in `dir` with `input` on stdin and `env` added, for at most `timeout`.
pub fn run(
    argv: &[String],
    input: &[u8],
    timeout: Duration,
    dir: &Path,
    env: &[(&str, String)],
) -> NotifyRun {
    let started = Instant::now();
    let finish = |status: &str, exit: Option<i32>, output: String| NotifyRun {
        command: argv.to_vec(),
        status: status.to_string(),
        exit_status: exit,
        millis: started.elapsed().as_millis() as u64,
        output,
    };
    let Some((program, args)) = argv.split_first() else {
        return finish("error", None, "no command".into());
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: a timeout ends it and everything it started.
        .process_group(0);
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return finish("error", None, format!("cannot start {program}: {e}")),
    };
    let pid = child.id();
    if let Some(mut stdin) = child.stdin.take() {
        let input = input.to_vec();
        // A command that does not read its input must not block us: written aside, and a
        // closed pipe is fine.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    for pipe in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut pipe = pipe;
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            let _ = tx.send(bytes);
        });
    }
    drop(tx);
    let deadline = started + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    let Some(status) = status else {
        if let Some(pid) = Pid::from_raw(pid as i32) {
            let _ = kill_process_group(pid, Signal::KILL);
        }
        let _ = child.wait();
        let output = collect(&rx, Duration::from_millis(200));
        return finish("timeout", None, output);
    };
    // A grandchild may still hold the pipes: wait for the output only briefly.
    let output = collect(&rx, Duration::from_millis(500));
    match status.code() {
        Some(0) => finish("ok", Some(0), output),
        Some(code) => finish("failed", Some(code), output),
        None => {
            use std::os::unix::process::ExitStatusExt;
            finish("failed", status.signal().map(|s| 128 + s), output)
        }
    }
}

/// What the output readers send within `wait`, its tail as text.
fn collect(rx: &mpsc::Receiver<Vec<u8>>, wait: Duration) -> String {
    let until = Instant::now() + wait;
    let mut all = Vec::new();
    while let Ok(bytes) = rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
        all.extend(bytes);
    }
    let start = all.len().saturating_sub(OUTPUT_TAIL);
    String::from_utf8_lossy(&all[start..])
        .trim_end()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn input_arrives_on_stdin_and_exits_are_told_apart() {
        let dir = std::env::temp_dir();
        let ok = run(
            &sh("cat; echo done >&2"),
            b"{\"a\":1}",
            Duration::from_secs(10),
            &dir,
            &[],
        );
        assert_eq!(ok.status, "ok");
        assert!(
            ok.output.contains("{\"a\":1}") && ok.output.contains("done"),
            "{ok:?}"
        );
        let failed = run(&sh("exit 3"), b"", Duration::from_secs(10), &dir, &[]);
        assert_eq!(
            (failed.status.as_str(), failed.exit_status),
            ("failed", Some(3))
        );
        let env = run(
            &sh("printf %s \"$GT_X\""),
            b"",
            Duration::from_secs(10),
            &dir,
            &[("GT_X", "y".into())],
        );
        assert_eq!(env.output, "y");
        let missing = run(
            &["/no/such/notifier".into()],
            b"",
            Duration::from_secs(1),
            &dir,
            &[],
        );
        assert_eq!(missing.status, "error");
        assert_eq!(
            run(&[], b"", Duration::from_secs(1), &dir, &[]).status,
            "error"
        );
    }

    #[test]
    fn a_hanging_command_is_killed_with_its_children_at_the_timeout() {
        let dir = std::env::temp_dir();
        let started = Instant::now();
        let slow = run(
            &sh("sleep 30 & sleep 30"),
            b"",
            Duration::from_millis(300),
            &dir,
            &[],
        );
        assert_eq!(slow.status, "timeout");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
