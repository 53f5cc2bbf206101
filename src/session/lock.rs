//! The liveness lock: an exclusive flock held by the session's processes; checks try a shared
//! one without waiting.

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::fs::{flock, FlockOperation};
use rustix::io::Errno;

use crate::error::{Error, Result};

fn contended(err: Errno) -> bool {
    err == Errno::WOULDBLOCK || err == Errno::AGAIN
}

/// Whether a live session holds the lock at `path`. No lock file means no session ever ran.
pub(super) fn is_held(path: &Path) -> Result<bool> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io(format!("opening {}", path.display()), e)),
    };
    match flock(&file, FlockOperation::NonBlockingLockShared) {
        // Free: nothing holds it. Dropping the file releases our shared lock.
        Ok(()) => Ok(false),
        Err(e) if contended(e) => Ok(true),
        Err(e) => Err(Error::io(format!("checking {}", path.display()), e.into())),
    }
}

/// Take the exclusive lock for a new session, or None if a session holds it. A concurrent
/// liveness check holds a shared lock for microseconds, so a refusal is retried briefly
/// (20 × 5 ms) before it is believed.
pub(super) fn take(path: &Path) -> Result<Option<File>> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    for attempt in 0..20 {
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(Some(file)),
            Err(e) if contended(e) => {
                if attempt < 19 {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            Err(e) => return Err(Error::io(format!("locking {}", path.display()), e.into())),
        }
    }
    Ok(None)
}

/// Make sure the lock file exists (tmux's flock(1) opens it itself).
pub(super) fn create(path: &Path) -> Result<()> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map(drop)
        .map_err(|e| Error::io(format!("creating {}", path.display()), e))
}

/// Wait up to `timeout` for the lock to be free; true once it is.
pub(super) fn wait_free(path: &Path, timeout: Duration) -> Result<bool> {
    let start = Instant::now();
    loop {
        if !is_held(path)? {
            return Ok(true);
        }
        if start.elapsed() >= timeout {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Wait up to `timeout` for the lock to be held, giving up early once `gone` says the
/// session ended before taking it; true if held.
pub(super) fn wait_held(
    path: &Path,
    timeout: Duration,
    mut gone: impl FnMut() -> Result<bool>,
) -> Result<bool> {
    let start = Instant::now();
    loop {
        if is_held(path)? {
            return Ok(true);
        }
        if gone()? || start.elapsed() >= timeout {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Between fork and exec: mark every descriptor above stderr close-on-exec, except `keep`.
/// A command run inside an agent's session inherits that session's liveness lock (the
/// agent's processes all hold it, by design); whatever it starts — a new session, a tmux
/// server, a detached queue run — must not, or the old session would look alive for as long
/// as the new process lives.
///
/// # Safety
/// Only for a `pre_exec` closure: it makes nothing but `fcntl` calls, which are
/// async-signal-safe, and allocates nothing. Descriptors that are not open fail with EBADF,
/// which is ignored.
pub(crate) unsafe fn cloexec_inherited(keep: Option<i32>) {
    use rustix::io::{fcntl_setfd, FdFlags};
    // Descriptors past 1024 would need a raised limit; gastown's own processes stay far
    // below it (a command opens a handful).
    for fd in 3..1024 {
        if Some(fd) != keep {
            let _ = fcntl_setfd(std::os::fd::BorrowedFd::borrow_raw(fd), FdFlags::CLOEXEC);
        }
    }
}
