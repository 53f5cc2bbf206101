//! The tmux backend: one tmux server per repository on a socket of our own (`-S`), with our own
//! config file (`-f`), so the user's tmux server and ~/.tmux.conf are never touched. The pane
//! runs `flock -n LOCK argv...`: flock(1) takes the liveness lock and its child, the agent,
//! inherits the descriptor, so the lock lives while either does.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use rustix::process::{kill_process_group, Pid, Signal};
use sha2::{Digest, Sha256};

use super::{activity, lock, process, SessionSpec};
use crate::error::{one_line, Error, Result};

/// flock(1)'s exit status when the lock is taken (`-E`): the session was already running.
const LOCK_TAKEN_STATUS: &str = "75";

/// How long tmux gets to show the session running (lock held) or dead.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Our server's settings: dead panes stay (their last screen is the crash report) and keep
/// more history than tmux's 2,000 lines for `peek`.
const CONFIG: &str = "set-option -g remain-on-exit on\nset-option -g history-limit 20000\n";

/// A pane of 200 × 50: room for an agent's TUI when nobody is attached.
const SIZE: (&str, &str) = ("200", "50");

/// Unix socket paths are limited to 108 bytes; a deep repository gets a socket in the temp
/// directory named by a hash of its state directory instead.
pub(super) fn default_socket(state_dir: &Path) -> PathBuf {
    let socket = state_dir.join("tmux.sock");
    if socket.as_os_str().len() < 100 {
        return socket;
    }
    let hash = Sha256::digest(state_dir.as_os_str().as_encoded_bytes());
    let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
    std::env::temp_dir().join(format!("gastown-{hex}.sock"))
}

/// Both tools the backend needs, or a one-line error saying what is missing.
pub(super) fn available() -> Result<()> {
    for tool in ["tmux", "flock"] {
        if which::which(tool).is_err() {
            return Err(Error::invalid(format!(
                "the tmux session backend needs {tool} on PATH; install it or run `git config gastown.session.backend process`"
            )));
        }
    }
    Ok(())
}

fn tmux(socket: &Path) -> Command {
    let mut command = Command::new("tmux");
    let config = socket.with_extension("conf");
    command
        .arg("-S")
        .arg(socket)
        .arg("-f")
        .arg(config)
        // Inside the user's tmux, TMUX would point our client at their server's context.
        .env_remove("TMUX")
        .stdin(Stdio::null());
    // The tmux server forks from this client and lives on: it must not hold a session lock
    // this process inherited (started from inside an agent's session).
    // SAFETY: cloexec_inherited makes only fcntl calls and allocates nothing.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(|| {
            super::lock::cloexec_inherited(None);
            Ok(())
        });
    }
    command
}

fn run(mut command: Command, what: &str) -> Result<Output> {
    let output = command
        .output()
        .map_err(|e| Error::io(format!("running tmux to {what}"), e))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(Error::Git(format!(
            "tmux could not {what}: {}",
            one_line(&String::from_utf8_lossy(&output.stderr))
        )))
    }
}

/// tmux splits its command line at arguments that end in `;` and turns a final `\;` into `;`,
/// so an argument ending in `;` gets a backslash before that last `;` and reaches the program
/// unchanged.
fn escape(arg: &OsStr) -> OsString {
    let bytes = arg.as_encoded_bytes();
    if bytes.last() != Some(&b';') {
        return arg.to_os_string();
    }
    let mut out = bytes[..bytes.len() - 1].to_vec();
    out.extend_from_slice(b"\\;");
    // SAFETY: the bytes came from an OsStr, with ASCII spliced in at an ASCII boundary.
    unsafe { OsString::from_encoded_bytes_unchecked(out) }
}

fn session_target(name: &str) -> String {
    // `=` makes tmux match the name exactly instead of as a prefix.
    format!("={name}")
}

fn pane_target(name: &str) -> String {
    format!("={name}:")
}

fn has_session(socket: &Path, name: &str) -> bool {
    let mut command = tmux(socket);
    command
        .args(["has-session", "-t", &session_target(name)])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command.status().is_ok_and(|s| s.success())
}

/// `(dead, status)` of the session's pane, or None if the session is gone.
fn pane_state(socket: &Path, name: &str) -> Option<(bool, String)> {
    let mut command = tmux(socket);
    command.args([
        "display-message",
        "-p",
        "-t",
        &pane_target(name),
        "#{pane_dead} #{pane_dead_status}",
    ]);
    let output = command.output().ok().filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut parts = text.split_whitespace();
    let dead = parts.next() == Some("1");
    Some((dead, parts.next().unwrap_or("").to_string()))
}

/// The program must exist before tmux runs it: otherwise its absence would only show as a
/// pane that died at once.
fn check_program(program: &OsStr) -> Result<()> {
    let found = if Path::new(program).components().count() > 1 {
        Path::new(program).is_file()
    } else {
        which::which(program).is_ok()
    };
    if found {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "cannot start a session: '{}' is not an executable on PATH",
            program.to_string_lossy()
        )))
    }
}

pub(super) fn start(
    socket: &Path,
    spec: &SessionSpec,
    lock_path: &Path,
    already_running: impl Fn() -> Error,
) -> Result<u32> {
    available()?;
    check_program(&spec.argv[0])?;
    if let Some(dir) = socket.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    }
    activity::write_atomic(&socket.with_extension("conf"), CONFIG.as_bytes())?;
    lock::create(lock_path)?;
    if has_session(socket, &spec.name) {
        // A dead pane kept for its last screen; the lock says nothing of it lives.
        let mut kill = tmux(socket);
        kill.args(["kill-session", "-t", &session_target(&spec.name)]);
        run(kill, &format!("remove the dead session {}", spec.name))?;
    }
    let mut command = tmux(socket);
    command.args([
        "new-session",
        "-d",
        "-P",
        "-F",
        "#{pane_pid}",
        "-s",
        &spec.name,
        "-x",
        SIZE.0,
        "-y",
        SIZE.1,
    ]);
    command.arg("-c").arg(escape(spec.cwd.as_os_str()));
    for (key, value) in &spec.env {
        let mut pair = key.clone();
        pair.push("=");
        pair.push(value);
        command.arg("-e").arg(escape(&pair));
    }
    command
        .arg("--")
        .arg("flock")
        .args(["-n", "-E", LOCK_TAKEN_STATUS])
        .arg(escape(lock_path.as_os_str()));
    command.args(spec.argv.iter().map(|a| escape(a)));
    let output = run(command, &format!("start session {}", spec.name))?;
    let pid: u32 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|_| Error::Git(format!("tmux did not report a pid for {}", spec.name)))?;
    let mut dead_status = None;
    let held = lock::wait_held(lock_path, START_TIMEOUT, || {
        Ok(match pane_state(socket, &spec.name) {
            Some((true, status)) => {
                dead_status = Some(status);
                true
            }
            Some((false, _)) => false,
            None => {
                dead_status = Some(String::new());
                true
            }
        })
    })?;
    if !held {
        match dead_status.as_deref() {
            Some(LOCK_TAKEN_STATUS) => return Err(already_running()),
            // It ran and ended already: a finished session, as with a quick process.
            Some(_) => return Ok(pid),
            None => {
                return Err(Error::Git(format!(
                    "tmux did not start session {} within {} s",
                    spec.name,
                    START_TIMEOUT.as_secs()
                )))
            }
        }
    }
    if let Some(bytes) = &spec.stdin {
        type_into(socket, &spec.name, bytes)?;
    }
    Ok(pid)
}

/// Standard input for a program in a pane is what is typed there: paste the bytes through a
/// tmux buffer (read from our pipe, never a command line), then press Enter.
fn type_into(socket: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let text = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let buffer = format!("gastown-{name}");
    let mut load = tmux(socket);
    load.args(["load-buffer", "-b", &buffer, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = load
        .spawn()
        .map_err(|e| Error::io("running tmux to load the prompt", e))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text)
            .map_err(|e| Error::io("sending the prompt to tmux", e))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| Error::io("running tmux to load the prompt", e))?;
    if !output.status.success() {
        return Err(Error::Git(format!(
            "tmux could not load the prompt: {}",
            one_line(&String::from_utf8_lossy(&output.stderr))
        )));
    }
    let mut paste = tmux(socket);
    paste.args([
        "paste-buffer",
        "-d",
        "-p",
        "-b",
        &buffer,
        "-t",
        &pane_target(name),
    ]);
    run(paste, "paste the prompt")?;
    let mut enter = tmux(socket);
    enter.args(["send-keys", "-t", &pane_target(name), "Enter"]);
    run(enter, "submit the prompt")?;
    Ok(())
}

pub(super) fn stop(socket: &Path, name: &str, pid: u32, lock_path: &Path) -> Result<()> {
    if has_session(socket, name) {
        let mut kill = tmux(socket);
        kill.args(["kill-session", "-t", &session_target(name)]);
        // Gone in between is fine: the lock decides below.
        let _ = kill.output();
    }
    if lock::wait_free(lock_path, process::GRACE)? {
        return Ok(());
    }
    // Something ignored the hangup: kill the pane's process group.
    if let Some(group) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
        let _ = kill_process_group(group, Signal::KILL);
    }
    if lock::wait_free(lock_path, process::GRACE)? {
        return Ok(());
    }
    Err(process::still_held(name, lock_path))
}

pub(super) fn capture(socket: &Path, name: &str, lines: usize) -> Result<String> {
    if !has_session(socket, name) {
        return Ok(String::new());
    }
    let mut command = tmux(socket);
    command.args([
        "capture-pane",
        "-p",
        "-J",
        "-t",
        &pane_target(name),
        "-S",
        &format!("-{lines}"),
    ]);
    let output = run(command, &format!("read session {name}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    // Drop tmux's own "Pane is dead" banner: peek shows the program's output.
    Ok(text
        .lines()
        .filter(|l| !l.starts_with("Pane is dead ("))
        .collect::<Vec<_>>()
        .join("\n"))
}

pub(super) fn attach_command(socket: &Path, name: &str) -> Vec<OsString> {
    vec![
        "tmux".into(),
        "-S".into(),
        socket.as_os_str().to_os_string(),
        "attach-session".into(),
        "-t".into(),
        session_target(name).into(),
    ]
}

/// Type `text` into the session's pane and press Enter: `send-keys -l` with the text as one
/// argument (never a shell line; `-l` keeps tmux from reading key names in it).
pub(super) fn send_text(socket: &Path, name: &str, text: &str) -> Result<()> {
    let mut keys = tmux(socket);
    keys.args(["send-keys", "-t", &pane_target(name), "-l", "--"])
        .arg(escape(OsStr::new(text)));
    run(keys, &format!("type into session {name}"))?;
    let mut enter = tmux(socket);
    enter.args(["send-keys", "-t", &pane_target(name), "Enter"]);
    run(enter, &format!("submit in session {name}"))?;
    Ok(())
}
