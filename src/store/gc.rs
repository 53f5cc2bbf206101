//! Housekeeping. Every write adds one small pack (pack.rs) and agents never run `git gc`,
//! so the store tidies itself: after each successful write, [`after_write`] merges small
//! packs in process once enough exist (rollup.rs), then counts packs and estimates loose
//! objects the way `git gc --auto` does (one fan-out directory, times 256); past either
//! limit it starts a detached `git gastown gc --auto` that a try-lock keeps single. The
//! common path costs two small `readdir`s.
//!
//! [`run`] uses the git binary (gix cannot repack): `git pack-refs --all`, `git repack -d`
//! for loose objects, and `git repack --geometric=2 -d` to roll small packs into larger
//! ones; none of them deletes an unreachable object, so they are safe beside running
//! writers. A full `git gc --aggressive` (which prunes only unreachable objects older than
//! git's default two-week expiry, and recomputes deltas) runs on request.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::lock::WriteLock;
use super::remote::Git;
use super::{rollup, Store};
use crate::error::Result;

/// Default estimated loose-object count that triggers an automatic gc (git's `gc.auto`).
pub const DEFAULT_AUTO_THRESHOLD: u64 = 6700;
/// Packs beyond which an automatic gc rolls them up (git's `gc.autoPackLimit`). Small
/// packs are merged in process long before (rollup.rs); these are large or fetched ones.
pub const AUTO_PACK_LIMIT: usize = 20;
/// A ref lock file older than this under our collection lock was left by a killed process.
pub const STALE_REF_LOCK: Duration = Duration::from_secs(1);
/// After an automatic gc that could not get below the threshold (unreachable objects
/// younger than the prune expiry), wait this long before trying again.
const RETRY_AFTER_INEFFECTIVE: Duration = Duration::from_secs(300);

/// What a gc did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct GcReport {
    /// False when another gc held the lock (automatic mode) or nothing needed doing.
    pub ran: bool,
    pub full: bool,
    pub loose_before: u64,
    pub loose_after: u64,
    pub packs_before: usize,
    pub packs_after: usize,
    /// Leftovers of killed writers removed from `objects/pack` (rollup::remove_garbage).
    pub garbage_removed: usize,
}

/// The loose-object threshold: `GT_GC_AUTO`, else git config `gastown.gcAuto`, else
/// [`DEFAULT_AUTO_THRESHOLD`]. Zero disables automatic gc.
pub fn auto_threshold(store: &Store) -> u64 {
    if let Some(v) = std::env::var("GT_GC_AUTO")
        .ok()
        .and_then(|v| v.trim().parse().ok())
    {
        return v;
    }
    store
        .repo()
        .config_snapshot()
        .integer("gastown.gcAuto")
        .and_then(|v| u64::try_from(v).ok())
        .unwrap_or(DEFAULT_AUTO_THRESHOLD)
}

/// Estimate of the loose objects: entries of `objects/17` times 256, as `git gc --auto`.
pub fn estimate_loose(common_dir: &Path) -> u64 {
    std::fs::read_dir(common_dir.join("objects").join("17"))
        .map(|dir| dir.filter(|e| e.is_ok()).count() as u64 * 256)
        .unwrap_or(0)
}

fn count_packs(common_dir: &Path) -> usize {
    packs_among(
        &rollup::pack_dir_names(&common_dir.join("objects").join("pack")).unwrap_or_default(),
    )
}

/// How many packs the names of `objects/pack` hold.
fn packs_among(names: &[String]) -> usize {
    names.iter().filter(|n| n.ends_with(".pack")).count()
}

fn gc_lock_path(store: &Store) -> PathBuf {
    store.state_dir().join("locks").join("gc.lock")
}

fn stamp_path(store: &Store) -> PathBuf {
    store.state_dir().join("gc-auto.last")
}

/// The hook run after every successful write, once the collection lock is released: cheap
/// unless housekeeping is due.
pub fn after_write(store: &Store) {
    let threshold = auto_threshold(store);
    if threshold == 0 {
        return;
    }
    let objects = store.common_dir().join("objects");
    let mut names = rollup::pack_dir_names(&objects.join("pack")).unwrap_or_default();
    // Each write adds one small pack: merge them in process (rollup.rs) before lookups
    // slow down. Whoever holds the gc lock (another roll-up, a gc) is doing the same.
    if rollup::due(&names) {
        if let Ok(Some(_lock)) = WriteLock::try_acquire(&gc_lock_path(store)) {
            if rollup::roll_up(&objects, rollup::TRIGGER).is_ok_and(|r| r.packs_merged > 0) {
                names = rollup::pack_dir_names(&objects.join("pack")).unwrap_or_default();
            }
        }
    }
    // Large packs (rolled-up ones, fetched ones) are git's to consolidate.
    if packs_among(&names) > AUTO_PACK_LIMIT {
        if let Ok(Some(lock)) = WriteLock::try_acquire(&gc_lock_path(store)) {
            drop(lock);
            let _ = spawn_detached(store);
        }
        return;
    }
    let loose = estimate_loose(store.common_dir());
    if loose == 0 || loose <= threshold {
        return;
    }
    // A recent automatic gc that left us above the threshold (unreachable loose objects it
    // must not prune yet) means another run would not help either.
    if let Ok(meta) = std::fs::metadata(stamp_path(store)) {
        let recent = meta
            .modified()
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age < RETRY_AFTER_INEFFECTIVE);
        let left: u64 = std::fs::read_to_string(stamp_path(store))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        if recent && left > threshold {
            return;
        }
    }
    // Only spawn when no gc runs now; the child takes the lock itself.
    match WriteLock::try_acquire(&gc_lock_path(store)) {
        Ok(Some(lock)) => drop(lock),
        _ => return,
    }
    let _ = spawn_detached(store);
}

/// Start `git gastown gc --auto` (the binary beside the running one) in the background.
fn spawn_detached(store: &Store) -> std::io::Result<()> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe()?;
    // Beside the running binary, or one level up (a test or benchmark in target/*/deps).
    let program = exe
        .ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join("git-gastown"))
        .find(|p| p.is_file())
        .ok_or_else(|| std::io::Error::other("git-gastown not found"))?;
    let mut child = std::process::Command::new(program)
        .args(["gc", "--auto", "--quiet", "-C"])
        .arg(store.common_dir())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()?;
    // Reap it if we live long enough; a CLI exits first and init adopts it.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
}

/// Pack refs and objects. `auto`: only if over the threshold and no other gc runs (a
/// busy lock is not an error). `full`: also run `git gc` (consolidate packs, prune
/// unreachable objects older than git's expiry).
pub fn run(store: &Store, cwd: &Path, auto: bool, full: bool) -> Result<GcReport> {
    let lock_path = gc_lock_path(store);
    let _lock = if auto {
        match WriteLock::try_acquire(&lock_path)? {
            Some(lock) => lock,
            None => return Ok(GcReport::default()),
        }
    } else {
        WriteLock::acquire(&lock_path, "gc", super::lock_timeout()?)?
    };
    let common = store.common_dir().to_path_buf();
    clear_stale_packed_refs_lock(&common);
    // Under the gc lock no roll-up runs; writers' own leftovers go once they are old.
    let pack_dir = common.join("objects").join("pack");
    let garbage_removed = rollup::remove_garbage(
        &pack_dir,
        &rollup::pack_dir_names(&pack_dir).unwrap_or_default(),
        rollup::garbage_age(),
    );
    let mut report = GcReport {
        loose_before: estimate_loose(&common),
        packs_before: count_packs(&common),
        garbage_removed,
        ..GcReport::default()
    };
    let too_many_packs = report.packs_before > AUTO_PACK_LIMIT;
    if auto {
        let threshold = auto_threshold(store);
        if threshold == 0 || (report.loose_before <= threshold && !too_many_packs) {
            report.loose_after = report.loose_before;
            report.packs_after = report.packs_before;
            return Ok(report);
        }
    }
    let git = Git::new(cwd)?;
    git.maintenance(&["pack-refs", "--all"])?;
    report.full = full;
    if report.full {
        // Per-write packs hold whole objects; --aggressive recomputes deltas across them.
        git.maintenance(&["gc", "--aggressive", "--quiet"])?;
    } else {
        // Pack loose objects, then roll the small per-write packs into geometrically
        // growing ones: the large base pack is left alone, and (as --stdin-packs packs every
        // object of the rolled-up packs) nothing an in-flight write just wrote is dropped.
        git.maintenance(&["repack", "-d", "-q", "--no-write-bitmap-index"])?;
        if count_packs(&common) > 1 {
            git.maintenance(&[
                "repack",
                "--geometric=2",
                "-d",
                "-q",
                "--no-write-bitmap-index",
            ])?;
        }
    }
    report.ran = true;
    report.loose_after = estimate_loose(&common);
    report.packs_after = count_packs(&common);
    if auto {
        let _ = std::fs::write(stamp_path(store), format!("{}\n", report.loose_after));
    }
    Ok(report)
}

/// A ref update in flight, recorded (under the collection's flock) in
/// `<state>/locks/<ref>.inflight` as the pid and the new commit, and emptied when dropped
/// (the file itself stays: creating files is the expensive part of a write). The next
/// flock holder that finds the marker still filled knows its writer died mid-update (it
/// could not hold the flock otherwise); a ref lock created after that marker and holding
/// its commit id (or nothing yet) is that writer's leftover and goes at once. Other ref
/// locks (a live git process's) fall under the [`STALE_REF_LOCK`] age rule only.
pub struct InflightRefUpdate {
    path: PathBuf,
}

impl InflightRefUpdate {
    /// Call with the collection's flock held, right before moving `ref_name` to `new`.
    pub fn begin(
        common_dir: &Path,
        ref_name: &str,
        new: gix::ObjectId,
    ) -> Option<InflightRefUpdate> {
        let path = common_dir
            .join("gastown")
            .join("locks")
            .join(format!("{}.inflight", ref_name.replace('/', "%")));
        let previous = std::fs::read_to_string(&path).unwrap_or_default();
        if let Some(dead_oid) = previous.split_whitespace().nth(1) {
            // The marker's writer died mid-update. A ref lock it created is younger than the
            // marker and holds its commit id, or nothing yet (killed before gix wrote it).
            let lock = common_dir.join(format!("{ref_name}.lock"));
            let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
            if let (Ok(content), Some(marked), Some(locked)) =
                (std::fs::read_to_string(&lock), mtime(&path), mtime(&lock))
            {
                let content = content.trim();
                if locked >= marked && (content.is_empty() || content == dead_oid) {
                    let _ = std::fs::remove_file(&lock);
                }
            }
        }
        std::fs::write(&path, format!("{} {new}\n", std::process::id())).ok()?;
        Some(InflightRefUpdate { path })
    }
}

impl Drop for InflightRefUpdate {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.path, b"");
    }
}

/// Remove `<ref>.lock` if a killed process left it: called by writers that hold the
/// collection's flock, so no gastown writer can own it; a git process that bypasses our
/// lock holds a ref lock for milliseconds. Returns true when the caller should retry (the
/// lock was removed, or is young and may go away by itself).
pub fn clear_stale_ref_lock(common_dir: &Path, ref_name: &str) -> bool {
    let path = common_dir.join(format!("{ref_name}.lock"));
    let Some(age) = age_of(&path) else {
        return false;
    };
    if age >= STALE_REF_LOCK {
        return std::fs::remove_file(&path).is_ok() || !path.exists();
    }
    std::thread::sleep(Duration::from_millis(50));
    true
}

/// Git waits at most `core.packedRefsTimeout` (1 s) for `packed-refs.lock` and holds it
/// for milliseconds while it rewrites the file; one this old was left by a killed git (a
/// ref deletion, a `pack-refs`) and would make every later deletion of a packed ref fail.
pub const STALE_PACKED_REFS_LOCK: Duration = Duration::from_secs(10);

/// Remove `packed-refs.lock` if a killed git left it ([`STALE_PACKED_REFS_LOCK`]). Called
/// before our own ref deletions and by every gc; true when one was removed.
pub fn clear_stale_packed_refs_lock(common_dir: &Path) -> bool {
    let path = common_dir.join("packed-refs.lock");
    age_of(&path).is_some_and(|age| age >= STALE_PACKED_REFS_LOCK)
        && std::fs::remove_file(&path).is_ok()
}

/// How long ago a file was last modified; `None` when it does not exist (an unreadable
/// time, or one in the future, counts as new).
fn age_of(path: &Path) -> Option<Duration> {
    let meta = std::fs::metadata(path).ok()?;
    Some(
        meta.modified()
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_old_packed_refs_lock_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!clear_stale_packed_refs_lock(dir.path()));
        let lock = dir.path().join("packed-refs.lock");
        let file = std::fs::File::create(&lock).unwrap();
        assert!(
            !clear_stale_packed_refs_lock(dir.path()),
            "a young lock is git's"
        );
        assert!(lock.exists());
        file.set_modified(SystemTime::now() - Duration::from_secs(60))
            .unwrap();
        assert!(clear_stale_packed_refs_lock(dir.path()));
        assert!(!lock.exists());
    }

    #[test]
    fn loose_estimate_counts_one_fanout_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(estimate_loose(dir.path()), 0);
        let fan = dir.path().join("objects").join("17");
        std::fs::create_dir_all(&fan).unwrap();
        for i in 0..3 {
            std::fs::write(fan.join(format!("{i:038}")), b"x").unwrap();
        }
        assert_eq!(estimate_loose(dir.path()), 3 * 256);
    }

    #[test]
    fn a_ref_lock_left_by_a_dead_gastown_writer_goes_at_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("gastown/locks")).unwrap();
        std::fs::create_dir_all(dir.path().join("refs/gastown")).unwrap();
        let name = "refs/gastown/beads";
        let lock = dir.path().join("refs/gastown/beads.lock");
        let dead = gix::ObjectId::from_hex(b"1111111111111111111111111111111111111111").unwrap();
        let live = gix::ObjectId::from_hex(b"2222222222222222222222222222222222222222").unwrap();
        // A writer killed after gix wrote its ref lock: marker and lock name one commit.
        let marker = InflightRefUpdate::begin(dir.path(), name, dead).unwrap();
        std::fs::write(&lock, format!("{dead}\n")).unwrap();
        std::mem::forget(marker);
        let next = InflightRefUpdate::begin(dir.path(), name, live).unwrap();
        assert!(!lock.exists(), "the dead writer's ref lock is removed");
        drop(next);
        // A ref lock holding another commit belongs to a live git process: it stays.
        std::mem::forget(InflightRefUpdate::begin(dir.path(), name, dead).unwrap());
        std::fs::write(&lock, format!("{live}\n")).unwrap();
        let again = InflightRefUpdate::begin(dir.path(), name, live).unwrap();
        assert!(lock.exists());
        drop(again);
        let marker = dir.path().join("gastown/locks/refs%gastown%beads.inflight");
        assert_eq!(
            std::fs::read(marker).unwrap(),
            b"",
            "a finished update leaves no claim"
        );
    }

    #[test]
    fn stale_ref_locks_are_removed_young_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let refs = dir.path().join("refs/gastown");
        std::fs::create_dir_all(&refs).unwrap();
        assert!(!clear_stale_ref_lock(dir.path(), "refs/gastown/beads"));
        let lock = refs.join("beads.lock");
        std::fs::write(&lock, b"").unwrap();
        assert!(clear_stale_ref_lock(dir.path(), "refs/gastown/beads"));
        assert!(
            lock.exists(),
            "a young lock may belong to a live git process"
        );
        let old = SystemTime::now() - Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&lock)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(clear_stale_ref_lock(dir.path(), "refs/gastown/beads"));
        assert!(!lock.exists());
    }
}
