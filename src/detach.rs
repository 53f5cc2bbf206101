//! Follow-up work a command leaves behind when it must not wait for it: a queue run after
//! `done` frees its slot, the restart of a session that handed off. The child is a suite
//! binary started in a new session (setsid), so ending the caller's own agent session —
//! which kills that session's process group — does not end it; its output goes to a log in
//! the common git dir. Argument vectors only: no shell. It inherits no descriptor beyond
//! stdin, stdout and stderr: an agent session's liveness lock is a descriptor its processes
//! inherit (docs/AGENTS.md), and a follow-up holding it would keep the session alive after
//! its stop — the very session a queue run waits for and a restart stops.

use std::ffi::OsStr;
use std::os::fd::BorrowedFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// The path of a suite binary: beside the running one, else found on PATH.
pub fn suite_binary(name: &str) -> Result<PathBuf> {
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(PathBuf::from))
    {
        let beside = dir.join(name);
        if beside.is_file() {
            return Ok(beside);
        }
    }
    which::which(name).map_err(|_| {
        Error::invalid(format!(
            "{name} is not installed beside this binary or on PATH"
        ))
    })
}

/// Start `binary args...` in `cwd`, detached; returns its pid.
pub fn spawn<I, S>(binary: &str, args: I, cwd: &Path, log: &Path) -> Result<u32>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let program = suite_binary(binary)?;
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    }
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| Error::io(format!("opening {}", log.display()), e))?;
    let err = out
        .try_clone()
        .map_err(|e| Error::io("duplicating a log descriptor", e))?;
    close_inherited_on_exec();
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    // SAFETY: setsid and fcntl are async-signal-safe and the closure allocates nothing.
    unsafe {
        command.pre_exec(|| {
            rustix::process::setsid()?;
            // Started from inside an agent's session (done, handoff), this process must
            // not keep that session's liveness lock once the session ends.
            crate::session::cloexec_inherited(None);
            Ok(())
        });
    }
    let child = command
        .spawn()
        .map_err(|e| Error::io(format!("starting {binary}"), e))?;
    Ok(child.id())
}

/// Mark every descriptor above stderr close-on-exec in this process, so a child it starts
/// inherits none of them (std only marks the ones it opens itself). Only this process's
/// descriptor table changes: the session's other processes keep their lock.
fn close_inherited_on_exec() {
    let Ok(entries) = std::fs::read_dir("/dev/fd") else {
        return;
    };
    let fds: Vec<i32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|&fd| fd > 2)
        .collect();
    for fd in fds {
        // SAFETY: each was open when listed and nothing closes descriptors meanwhile (the
        // directory's own, closed by now, just answers EBADF, which is ignored).
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let _ = rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::CLOEXEC);
    }
}
