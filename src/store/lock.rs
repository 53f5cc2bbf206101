//! Writer locks: one flock'd file per collection in the common git dir. The kernel drops a
//! flock when its process dies, so a file left behind by `kill -9` never blocks anyone.

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long a writer waits for a lock before giving up with `Error::Busy`:
/// `GT_LOCK_TIMEOUT_MS` (milliseconds), default 10 s. A value that is not a number is an
/// error, not silently the default.
pub fn lock_timeout() -> Result<Duration> {
    parse_timeout(std::env::var("GT_LOCK_TIMEOUT_MS").ok().as_deref())
}

fn parse_timeout(value: Option<&str>) -> Result<Duration> {
    match value {
        None => Ok(Duration::from_secs(10)),
        Some(text) => text
            .trim()
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| {
                Error::invalid(format!(
                    "GT_LOCK_TIMEOUT_MS='{text}' is not a number of milliseconds"
                ))
            }),
    }
}

/// An exclusive lock, released when dropped (or when the process dies).
pub struct WriteLock {
    file: File,
}

impl WriteLock {
    pub fn acquire(path: &Path, what: &str, timeout: Duration) -> Result<WriteLock> {
        let file = open_lock_file(path)?;
        match file.try_lock() {
            Ok(()) => return Ok(WriteLock { file }),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(err)) => {
                return Err(Error::io(format!("locking {}", path.display()), err))
            }
        }
        // Contended: wait in the kernel, which hands the lock over the moment it is released
        // (polling with sleeps leaves it idle between polls, which costs dozens of writers
        // much of their throughput). A helper thread blocks so that the wait can time out.
        let start = Instant::now();
        let waiter = file
            .try_clone()
            .map_err(|e| Error::io(format!("locking {}", path.display()), e))?;
        let cancelled = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let flag = Arc::clone(&cancelled);
        std::thread::spawn(move || {
            let result = waiter.lock();
            if result.is_ok() && flag.load(Ordering::SeqCst) {
                // The caller gave up: let the next writer in.
                let _ = waiter.unlock();
            }
            let _ = tx.send(result);
        });
        match rx.recv_timeout(timeout) {
            Ok(Ok(())) => Ok(WriteLock { file }),
            Ok(Err(err)) => Err(Error::io(format!("locking {}", path.display()), err)),
            Err(_) => {
                cancelled.store(true, Ordering::SeqCst);
                // If the thread got the lock just now, it unlocks (flag set) or its result is
                // dropped with our descriptor; either way nothing stays locked.
                if let Ok(Ok(())) = rx.try_recv() {
                    let _ = file.unlock();
                }
                Err(Error::Busy {
                    what: what.to_string(),
                    waited_ms: start.elapsed().as_millis(),
                })
            }
        }
    }

    /// Take the lock only if it is free right now.
    pub fn try_acquire(path: &Path) -> Result<Option<WriteLock>> {
        let file = open_lock_file(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(WriteLock { file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(err)) => {
                Err(Error::io(format!("locking {}", path.display()), err))
            }
        }
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// Open (creating it and its directory if needed) the file a lock is taken on.
fn open_lock_file(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    }
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| Error::io(format!("opening lock {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_timeouts_parse_or_fail_with_one_line() {
        assert_eq!(parse_timeout(None).unwrap(), Duration::from_secs(10));
        assert_eq!(
            parse_timeout(Some("250")).unwrap(),
            Duration::from_millis(250)
        );
        let err = parse_timeout(Some("10s")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "GT_LOCK_TIMEOUT_MS='10s' is not a number of milliseconds"
        );
        assert_eq!(err.exit_code(), 1);
    }
}
