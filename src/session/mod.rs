//! Agent sessions without a daemon: a process started in its sandbox, under tmux (on a socket of
//! our own, so the user's tmux is untouched) or as a plain detached process group with a log.
//!
//! Liveness is an OS lock, not a guess: `sessions/<name>.lock` is flock'd by the session's own
//! processes (inherited by the agent, see docs/AGENTS.md), so the kernel frees it the instant
//! the last of them dies — `kill -9` included — and a check under any load never calls a live
//! session dead. Checks take a *shared* lock without waiting, so they never block each other.
//!
//! Files under `<common git dir>/gastown/` (plain files, never commits):
//! `sessions/<name>.lock` (the liveness lock), `sessions/<name>.json` (`SessionInfo`),
//! `sessions/<name>.log` (output of detached processes), `activity/` (see `activity`).

mod activity;
mod lock;
mod process;
mod tmux;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::runtime::Launch;

pub use activity::{
    agent_state, last_activity, record_runtime_session, runtime_session, set_agent_state,
    touch_activity, AgentState, AgentStateRecord, RuntimeSession,
};
pub(crate) use lock::cloexec_inherited;

/// Where and how sessions run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Backend {
    /// A tmux server of our own on `socket`.
    Tmux { socket: PathBuf },
    /// A detached process group (setsid) writing to `sessions/<name>.log`.
    Process,
}

impl Backend {
    /// The backend for `gastown.session.backend` (auto, tmux or process; unset means auto:
    /// tmux when it and flock(1) are on PATH, else a detached process).
    pub fn choose(setting: Option<&str>, state_dir: &Path) -> Result<Backend> {
        let tmux = || Backend::Tmux {
            socket: tmux::default_socket(state_dir),
        };
        match setting.map(str::trim) {
            None | Some("") | Some("auto") => Ok(if tmux::available().is_ok() {
                tmux()
            } else {
                Backend::Process
            }),
            Some("tmux") => tmux::available().map(|()| tmux()),
            Some("process") => Ok(Backend::Process),
            Some(other) => Err(Error::invalid(format!(
                "gastown.session.backend is '{other}': use auto, tmux or process"
            ))),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Tmux { .. } => "tmux",
            Backend::Process => "process",
        }
    }
}

/// What to start: argv (never a shell line), working directory, extra environment, stdin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSpec {
    pub name: String,
    pub argv: Vec<OsString>,
    pub cwd: PathBuf,
    pub env: Vec<(OsString, OsString)>,
    pub stdin: Option<Vec<u8>>,
}

impl SessionSpec {
    pub fn from_launch(name: &str, cwd: &Path, launch: &Launch) -> SessionSpec {
        SessionSpec {
            name: name.to_string(),
            argv: launch.argv.clone(),
            cwd: cwd.to_path_buf(),
            env: launch.env.clone(),
            stdin: launch.stdin.clone(),
        }
    }
}

/// A started session, recorded in `sessions/<name>.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub name: String,
    pub backend: Backend,
    /// The process group leader: the agent itself (process) or the pane's first process (tmux).
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    pub cwd: PathBuf,
    pub command: String,
    /// Output file of a detached process; tmux keeps output in the pane.
    pub log: Option<PathBuf>,
}

/// One line of `git agent list`.
#[derive(Clone, Debug, Serialize)]
pub struct SessionStatus {
    #[serde(flatten)]
    pub info: SessionInfo,
    pub alive: bool,
}

/// The sessions of one repository, kept in `<state_dir>/sessions/`.
#[derive(Clone, Debug)]
pub struct Sessions {
    state_dir: PathBuf,
}

impl Sessions {
    /// `state_dir` is `<common git dir>/gastown`.
    pub fn new(state_dir: &Path) -> Sessions {
        Sessions {
            state_dir: state_dir.to_path_buf(),
        }
    }

    pub fn dir(&self) -> PathBuf {
        self.state_dir.join("sessions")
    }

    fn file(&self, name: &str, ext: &str) -> PathBuf {
        self.dir().join(format!("{name}.{ext}"))
    }

    /// A directory we own for this session's runtime hook config, outside any sandbox.
    pub fn hooks_dir(&self, name: &str) -> Result<PathBuf> {
        check_name(name)?;
        Ok(self.file(name, "hooks"))
    }

    /// Start `spec` on `backend`. Refuses, in one line, a session that is already alive.
    pub fn start(&self, backend: &Backend, spec: &SessionSpec) -> Result<SessionInfo> {
        check_name(&spec.name)?;
        if spec.argv.is_empty() {
            return Err(Error::invalid(format!(
                "session {}: nothing to run (empty command)",
                spec.name
            )));
        }
        let dir = self.dir();
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let lock = self.file(&spec.name, "lock");
        let (pid, log) = match backend {
            Backend::Process => {
                let log = self.file(&spec.name, "log");
                let pid = process::start(spec, &lock, &log, || self.already_running(&spec.name))?;
                (pid, Some(log))
            }
            Backend::Tmux { socket } => {
                if lock::is_held(&lock)? {
                    return Err(self.already_running(&spec.name));
                }
                let pid = tmux::start(socket, spec, &lock, || self.already_running(&spec.name))?;
                (pid, None)
            }
        };
        let info = SessionInfo {
            name: spec.name.clone(),
            backend: backend.clone(),
            pid,
            started_at: Utc::now(),
            cwd: spec.cwd.clone(),
            command: spec.argv[0].to_string_lossy().into_owned(),
            log,
        };
        let json = serde_json::to_vec_pretty(&info).expect("session info serializes");
        activity::write_atomic(&self.file(&spec.name, "json"), &json)?;
        Ok(info)
    }

    fn already_running(&self, name: &str) -> Error {
        let pid = self
            .info(name)
            .ok()
            .flatten()
            .map(|i| format!(" (pid {})", i.pid))
            .unwrap_or_default();
        Error::Conflict(format!(
            "session {name} is already running{pid}; stop it first"
        ))
    }

    /// Whether any process of the session still lives, from its lock: exact at once after a
    /// kill, whatever the load.
    pub fn is_alive(&self, name: &str) -> Result<bool> {
        check_name(name)?;
        lock::is_held(&self.file(name, "lock"))
    }

    pub fn info(&self, name: &str) -> Result<Option<SessionInfo>> {
        check_name(name)?;
        let path = self.file(name, "json");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::invalid(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
        }
    }

    fn require_info(&self, name: &str) -> Result<SessionInfo> {
        self.info(name)?
            .ok_or_else(|| Error::NotFound(format!("session {name}")))
    }

    /// End the session: hang up (tmux) or SIGTERM its process group, SIGKILL what is left
    /// after a grace period, and return once its lock is free. False if it was not running.
    pub fn stop(&self, name: &str) -> Result<bool> {
        let info = self.require_info(name)?;
        let lock = self.file(name, "lock");
        let was_alive = lock::is_held(&lock)?;
        match &info.backend {
            Backend::Tmux { socket } => tmux::stop(socket, name, info.pid, &lock)?,
            Backend::Process => process::stop(name, info.pid, &lock, was_alive)?,
        }
        Ok(was_alive)
    }

    /// The last `lines` lines of the session's output.
    pub fn peek(&self, name: &str, lines: usize) -> Result<String> {
        let info = self.require_info(name)?;
        let text = match (&info.backend, &info.log) {
            (Backend::Tmux { socket }, _) => tmux::capture(socket, name, lines)?,
            (Backend::Process, Some(log)) => process::tail(log)?,
            (Backend::Process, None) => String::new(),
        };
        Ok(last_lines(&text, lines))
    }

    /// Type `text` into a live tmux session (the nudge fallback for runtimes without hooks).
    /// False, typing nothing, when the session is not alive or runs without a terminal.
    pub fn type_text(&self, name: &str, text: &str) -> Result<bool> {
        if !self.is_alive(name)? {
            return Ok(false);
        }
        match self.info(name)?.map(|i| i.backend) {
            Some(Backend::Tmux { socket }) => tmux::send_text(&socket, name, text).map(|()| true),
            _ => Ok(false),
        }
    }

    /// The command that attaches a terminal to the session.
    pub fn attach_command(&self, name: &str) -> Result<Vec<OsString>> {
        let info = self.require_info(name)?;
        match &info.backend {
            Backend::Tmux { socket } => Ok(tmux::attach_command(socket, name)),
            Backend::Process => Err(Error::invalid(format!(
                "session {name} runs without a terminal (process backend); follow its output with `tail -f {}`",
                info.log.as_deref().unwrap_or(Path::new("?")).display()
            ))),
        }
    }

    /// Every recorded session, by name, with its liveness.
    pub fn list(&self) -> Result<Vec<SessionStatus>> {
        let dir = self.dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(format!("reading {}", dir.display()), e)),
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let file = e.file_name().to_string_lossy().into_owned();
                file.strip_suffix(".json").map(str::to_string)
            })
            .filter(|n| check_name(n).is_ok() && !n.contains('.'))
            .collect();
        names.sort();
        let mut out = Vec::new();
        for name in names {
            if let Some(info) = self.info(&name)? {
                let alive = self.is_alive(&name)?;
                out.push(SessionStatus { info, alive });
            }
        }
        Ok(out)
    }
}

/// Session names become file names and tmux targets: letters, digits, `-` and `_` only (tmux
/// rewrites `.` and `:`), not starting with `-`, at most 64 characters.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "'{name}' is not a session name (letters, digits, - and _, at most 64)"
        )))
    }
}

fn last_lines(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.trim_end_matches(['\n', ' ']).lines().collect();
    let start = all.len().saturating_sub(lines);
    let mut out = all[start..].join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}
