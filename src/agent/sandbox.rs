//! Sandboxes: a `git worktree` of the rig on the agent's own branch, in the rig's agent
//! directory (outside the rig's working tree and outside `.git`). The worktree's private git
//! dir holds a marker naming its agent, so commands run inside it know who they are without
//! reading any record, and nothing is written where the agent could commit it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};
use crate::gitcmd;
use crate::town::Rig;

/// File in a sandbox worktree's own git dir naming the agent that owns it.
const MARKER: &str = "gastown-agent";

/// Where an agent's sandbox lives: `<agents dir>/<polecats|crew>/<name>`.
pub fn path_for(rig: &Rig, kind_dir: &str, name: &str) -> PathBuf {
    rig.agents_dir.join(kind_dir).join(name)
}

/// The branch a rig's work is merged into: `merge_queue.target`, else the rig's checked-out
/// branch, else `main`.
pub fn target_branch(rig_path: &Path, configured: Option<&str>) -> String {
    if let Some(t) = configured.filter(|t| !t.is_empty()) {
        return t.to_string();
    }
    gitcmd::probe(rig_path, ["symbolic-ref", "--quiet", "--short", "HEAD"])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "main".to_string())
}

/// What to set up in a new sandbox.
pub struct Setup<'a> {
    /// Untracked files copied from the rig (relative paths, e.g. `.env`).
    pub copy: &'a [String],
    /// A command the rig's owner configured (`sandbox.setup`), run by `sh -c` in the sandbox.
    pub command: Option<&'a str>,
    pub env: &'a [(String, String)],
}

/// Create the worktree at `path` on `branch` (reset to `base`), mark it as `address`'s and
/// set it up. On any failure the half-made worktree is removed again.
pub fn create(
    rig: &Rig,
    path: &Path,
    branch: &str,
    base: &str,
    address: &str,
    setup: &Setup<'_>,
) -> Result<()> {
    if path.exists() {
        if is_worktree_of(rig, path)? {
            return mark(path, address);
        }
        return Err(Error::invalid(format!(
            "sandbox path {} exists but is not a worktree of rig '{}'; move it away first",
            path.display(),
            rig.name
        )));
    }
    if !gitcmd::rev_exists(&rig.path, base) {
        return Err(Error::invalid(format!(
            "rig '{}' has no commit '{base}' to start a sandbox from; commit something first",
            rig.name
        )));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
    }
    let lock = worktree_lock(rig)?;
    // A `worktree add` killed while it moved the branch leaves git's ref lock, which would
    // refuse this and every later add of the name. The name was reserved under the rig's
    // write lock and worktree changes take turns under this one: the lock file is stale.
    if let Some(common) = gitcmd::probe(&rig.path, ["rev-parse", "--git-common-dir"]) {
        let common = rig.path.join(common.trim());
        let _ = std::fs::remove_file(common.join("refs/heads").join(format!("{branch}.lock")));
    }
    gitcmd::run(
        &rig.path,
        [
            "worktree".as_ref(),
            "add".as_ref(),
            "--quiet".as_ref(),
            "-B".as_ref(),
            std::ffi::OsStr::new(branch),
            path.as_os_str(),
            std::ffi::OsStr::new(base),
        ],
    )?;
    drop(lock);
    let result = mark(path, address)
        .and_then(|_| copy_files(rig, path, setup.copy))
        .and_then(|_| run_setup(path, setup));
    if let Err(err) = result {
        let _ = remove(rig, path, None);
        return Err(err);
    }
    Ok(())
}

/// Put an idle sandbox's `branch` back on `base` (`checkout -B`). A command killed while
/// it changed the sandbox (a sling refreshing it, a `worktree add`) leaves git's
/// `index.lock` behind, which would refuse every later checkout and strand the polecat:
/// sandbox changes take turns under the rig's worktree lock, and the caller knows no
/// session runs there, so a lock file found while holding it is stale.
pub fn refresh(rig: &Rig, path: &Path, branch: &str, base: &str) -> Result<()> {
    let _lock = worktree_lock(rig)?;
    if let Some(git_dir) = worktree_git_dir(path) {
        let _ = std::fs::remove_file(git_dir.join("index.lock"));
    }
    // The other locks a killed git leaves (the branch's ref lock, `HEAD.lock`) would fail
    // the checkout too, and the polecat would never be reused: a new one made each time.
    clear_stale_git_locks(path, Some(branch));
    gitcmd::run(path, ["checkout", "--quiet", "--force", "-B", branch, base])?;
    Ok(())
}

/// A lock file younger than this may belong to a git command running right now in the
/// sandbox (patrol's `git status` holds `index.lock` for milliseconds); an older one, with
/// the sandbox's session dead, was left by a killed one. Short, because patrol restarts a
/// dead session within seconds and each start that fails on a lock counts as a death.
const STALE_LOCK_SECS: u64 = 1;

/// Remove the lock files git's killed commands left in a sandbox whose session is dead:
/// every `*.lock` of its worktree git dir (`index.lock`, `HEAD.lock`, `ORIG_HEAD.lock`,
/// `CHERRY_PICK_HEAD.lock`, `AUTO_MERGE.lock`, ...) and its own branch's ref lock. A
/// half-done rebase or cherry-pick is left as it is: it may be the agent's progress.
/// Returns what was removed (best effort: a lock that cannot be read or removed stays).
pub fn clear_stale_git_locks(sandbox: &Path, branch: Option<&str>) -> Vec<PathBuf> {
    let Some(git_dir) = worktree_git_dir(sandbox) else {
        return Vec::new();
    };
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(&git_dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "lock"))
        .collect();
    // The common dir: `<common>/worktrees/<name>` is the worktree's own git dir.
    if let (Some(branch), Some(common)) = (branch, git_dir.parent().and_then(Path::parent)) {
        candidates.push(common.join("refs/heads").join(format!("{branch}.lock")));
    }
    let now = std::time::SystemTime::now();
    candidates
        .into_iter()
        .filter(|p| {
            std::fs::metadata(p)
                .and_then(|m| m.modified())
                .is_ok_and(|t| {
                    now.duration_since(t)
                        .is_ok_and(|age| age.as_secs() >= STALE_LOCK_SECS)
                })
        })
        .filter(|p| std::fs::remove_file(p).is_ok())
        .collect()
}

/// A worktree's own git dir (`<common>/worktrees/<name>`), read from its `.git` file
/// without a git process; `None` when the file is missing or is not a `gitdir:` line.
pub fn worktree_git_dir(sandbox: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(sandbox.join(".git")).ok()?;
    let dir = PathBuf::from(text.trim().strip_prefix("gitdir: ")?);
    Some(if dir.is_absolute() {
        dir
    } else {
        sandbox.join(dir)
    })
}

/// Whether `path` is one of the rig's worktrees.
pub fn is_worktree_of(rig: &Rig, path: &Path) -> Result<bool> {
    let want = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    Ok(gitcmd::worktrees(&rig.path)?
        .iter()
        .any(|wt| std::fs::canonicalize(&wt.path).unwrap_or_else(|_| wt.path.clone()) == want))
}

/// Concurrent `git worktree add`s read each other's half-made `.git/worktrees/<name>/`
/// ("failed to read .../commondir") and `worktree prune` may delete one: worktree changes
/// of a rig take turns.
fn worktree_lock(rig: &Rig) -> Result<crate::store::WriteLock> {
    rig.open_store()?.lock("worktrees")
}

/// Remove the worktree (whatever it holds) and, if given, its branch.
pub fn remove(rig: &Rig, path: &Path, branch: Option<&str>) -> Result<()> {
    let _lock = worktree_lock(rig)?;
    if path.exists() {
        gitcmd::run(
            &rig.path,
            [
                "worktree".as_ref(),
                "remove".as_ref(),
                "--force".as_ref(),
                "--force".as_ref(),
                path.as_os_str(),
            ],
        )?;
    }
    let _ = gitcmd::run(&rig.path, ["worktree", "prune"]);
    if let Some(branch) = branch {
        if gitcmd::rev_exists(&rig.path, &format!("refs/heads/{branch}")) {
            gitcmd::run(&rig.path, ["branch", "--quiet", "-D", branch])?;
        }
    }
    Ok(())
}

/// The agent a sandbox belongs to, from the marker in its git dir.
pub fn owner(worktree: &Path) -> Option<String> {
    let git_dir = gitcmd::probe(worktree, ["rev-parse", "--absolute-git-dir"])?;
    std::fs::read_to_string(Path::new(git_dir.trim()).join(MARKER))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The agent a sandbox belongs to, from its worktree's own git dir (no git process: for
/// hooks, which must be quick).
pub fn owner_of_git_dir(git_dir: &Path) -> Option<String> {
    std::fs::read_to_string(git_dir.join(MARKER))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn mark(path: &Path, address: &str) -> Result<()> {
    let git_dir = gitcmd::run(path, ["rev-parse", "--absolute-git-dir"])?;
    let marker = Path::new(git_dir.trim()).join(MARKER);
    std::fs::write(&marker, format!("{address}\n"))
        .map_err(|e| Error::io(format!("writing {}", marker.display()), e))
}

fn copy_files(rig: &Rig, sandbox: &Path, files: &[String]) -> Result<()> {
    for file in files {
        let rel = Path::new(file);
        let safe = !rel.is_absolute()
            && rel
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !safe {
            return Err(Error::invalid(format!(
                "sandbox.copy entry '{file}' must be a relative path inside the rig"
            )));
        }
        let from = rig.path.join(rel);
        if !from.is_file() {
            continue; // optional by nature: `.env` exists on some machines only
        }
        let to = sandbox.join(rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
        }
        std::fs::copy(&from, &to)
            .map_err(|e| Error::io(format!("copying {file} into the sandbox"), e))?;
    }
    Ok(())
}

fn run_setup(sandbox: &Path, setup: &Setup<'_>) -> Result<()> {
    let Some(command) = setup.command.filter(|c| !c.trim().is_empty()) else {
        return Ok(());
    };
    // The rig owner's own command line, like a Makefile recipe: it is run by sh on purpose.
    // Nothing an agent or a bead wrote is part of it.
    let output = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(sandbox)
        .envs(setup.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io("running sandbox.setup", e))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(Error::invalid(format!(
            "sandbox.setup failed ({}): {}",
            output.status,
            crate::error::one_line(last)
        )));
    }
    Ok(())
}
