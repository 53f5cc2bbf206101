//! The detached-process backend: the agent runs in a new session and process group (setsid),
//! output appended to a log, and it inherits the liveness lock's descriptor.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use rustix::io::{fcntl_setfd, FdFlags};
use rustix::process::{kill_process_group, Pid, Signal};

use super::{lock, SessionSpec};
use crate::error::{Error, Result};

/// How long a session gets to exit after SIGTERM (or SIGKILL) before we escalate or give up.
pub(super) const GRACE: Duration = Duration::from_secs(5);

/// How much of a log `peek` reads from its end.
const TAIL_BYTES: u64 = 256 * 1024;

pub(super) fn start(
    spec: &SessionSpec,
    lock_path: &Path,
    log_path: &Path,
    already_running: impl Fn() -> Error,
) -> Result<u32> {
    let lock_file = lock::take(lock_path)?.ok_or_else(already_running)?;
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .map_err(|e| Error::io(format!("opening {}", log_path.display()), e))?;
    let log_err = log
        .try_clone()
        .map_err(|e| Error::io(format!("opening {}", log_path.display()), e))?;
    let stdin = match &spec.stdin {
        Some(bytes) => Stdio::from(stdin_file(log_path, bytes)?),
        None => Stdio::null(),
    };
    let mut command = Command::new(&spec.argv[0]);
    command
        .args(&spec.argv[1..])
        .current_dir(&spec.cwd)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(stdin)
        .stdout(log)
        .stderr(log_err);
    let lock_fd = lock_file.as_raw_fd();
    // SAFETY: between fork and exec the closure makes only async-signal-safe system calls
    // (setsid, fcntl) and allocates nothing; `lock_fd` stays open in the parent until spawn
    // returns, so it is valid in the child.
    unsafe {
        command.pre_exec(move || {
            // Own session and process group: stop() signals the whole group, and the agent
            // outlives the command that started it without a terminal's hangup.
            rustix::process::setsid()?;
            // No other session's lock (inherited when started from inside a session) ...
            super::lock::cloexec_inherited(Some(lock_fd));
            // ... but keep ours across exec: the agent, and what it spawns, hold it.
            fcntl_setfd(BorrowedFd::borrow_raw(lock_fd), FdFlags::empty())?;
            Ok(())
        });
    }
    let mut child = command.spawn().map_err(|e| {
        Error::io(
            format!(
                "starting session {}: {}",
                spec.name,
                spec.argv[0].to_string_lossy()
            ),
            e,
        )
    })?;
    let pid = child.id();
    // Reap it when it exits, so a long-lived caller (tests, a future server) keeps no zombies.
    // A short-lived command exits first and init reaps instead.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    // The child shares the lock now; our descriptor closes here without releasing it.
    drop(lock_file);
    Ok(pid)
}

/// The prompt as a file the agent reads as stdin: no pipe to fill and block on, and nothing
/// left on disk once it is open (the name is unlinked at once).
fn stdin_file(log_path: &Path, bytes: &[u8]) -> Result<File> {
    let path = log_path.with_extension("stdin");
    std::fs::write(&path, bytes)
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    let file = File::open(&path).map_err(|e| Error::io(format!("opening {}", path.display()), e));
    let _ = std::fs::remove_file(&path);
    file
}

pub(super) fn stop(name: &str, pid: u32, lock_path: &Path, alive: bool) -> Result<()> {
    if !alive {
        return Ok(());
    }
    let group = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or_else(|| Error::invalid(format!("session {name}: bad pid {pid}")))?;
    for signal in [Signal::TERM, Signal::KILL] {
        // ESRCH: the group is already gone, though an escaped child may still hold the lock.
        let _ = kill_process_group(group, signal);
        if lock::wait_free(lock_path, GRACE)? {
            return Ok(());
        }
    }
    Err(still_held(name, lock_path))
}

pub(super) fn still_held(name: &str, lock_path: &Path) -> Error {
    Error::Conflict(format!(
        "session {name}: processes outside its process group still hold {}; find them with `fuser {}`",
        lock_path.display(),
        lock_path.display()
    ))
}

pub(super) fn tail(log_path: &Path) -> Result<String> {
    let mut file = match File::open(log_path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(String::new()),
        Err(e) => return Err(Error::io(format!("reading {}", log_path.display()), e)),
    };
    let len = file
        .metadata()
        .map_err(|e| Error::io(format!("reading {}", log_path.display()), e))?
        .len();
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(len.saturating_sub(TAIL_BYTES)))
        .and_then(|_| file.read_to_end(&mut bytes))
        .map_err(|e| Error::io(format!("reading {}", log_path.display()), e))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
