//! The branch requests merge into, and moving it without disturbing anyone: by
//! compare-and-swap only (`Store::move_branch`), pushed with a lease and read back when it
//! lives on a remote (`branch.<name>.remote`), and with every worktree that has it checked
//! out brought along as git's `receive.denyCurrentBranch = updateInstead` does: a clean one
//! gets the new files (`read-tree -u -m`), a dirty one holds the merge. The worktree is
//! updated before the branch moves and put back if the move loses the race, and a pass
//! killed in between is repaired by the next one ([`repair_checkouts`]).

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::gitcmd;
use crate::store::branch::{self, Pushed};
use crate::store::{Actor, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub branch: String,
    /// The remote the branch lives on, when it tracks one.
    pub remote: Option<String>,
}

/// Where a move happens: the store, the rig's repository, the scratch worktree (never
/// counted as a checkout) and who moves it.
pub struct Place<'a> {
    pub store: &'a Store,
    pub repo: &'a Path,
    pub scratch: &'a Path,
    pub actor: &'a Actor,
}

/// What moving the target did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Advance {
    Moved,
    /// Someone else moved the target since the pass read it: nothing changed.
    Stale,
    /// Not moved, for this reason (a dirty checkout).
    Held(String),
}

impl Target {
    pub fn of(store: &Store, branch: &str) -> Target {
        let remote = store
            .config_string(&format!("branch.{branch}.remote"))
            .filter(|r| r != ".");
        Target {
            branch: branch.to_string(),
            remote,
        }
    }

    /// The target's current commit: the remote's (fetched) when it lives on one.
    pub fn tip(&self, store: &Store, repo: &Path) -> Result<Option<String>> {
        match &self.remote {
            Some(remote) => branch::fetch_branch(repo, remote, &self.branch),
            None => store.branch_tip(&self.branch),
        }
    }

    /// Worktrees (other than `except`) with the branch checked out, read from the common
    /// git dir (`HEAD`, `worktrees/*/HEAD` and `gitdir`) rather than by a `git worktree list`
    /// per look: the pass looks for every batch.
    pub fn checkouts(&self, store: &Store, except: &Path) -> Vec<PathBuf> {
        let wanted = format!("ref: refs/heads/{}", self.branch);
        let on_branch =
            |head: &Path| std::fs::read_to_string(head).is_ok_and(|h| h.trim() == wanted);
        let common = store.common_dir();
        let mut out = Vec::new();
        if common.file_name().is_some_and(|n| n == ".git") && on_branch(&common.join("HEAD")) {
            out.extend(common.parent().map(Path::to_path_buf));
        }
        if let Ok(entries) = std::fs::read_dir(common.join("worktrees")) {
            for entry in entries.flatten() {
                let dir = entry.path();
                if !on_branch(&dir.join("HEAD")) {
                    continue;
                }
                let Ok(gitdir) = std::fs::read_to_string(dir.join("gitdir")) else {
                    continue;
                };
                out.extend(Path::new(gitdir.trim()).parent().map(Path::to_path_buf));
            }
        }
        let except = std::fs::canonicalize(except).unwrap_or_else(|_| except.to_path_buf());
        out.retain(|p| {
            p.is_dir() && std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()) != except
        });
        out
    }

    /// Why the target cannot move now: a checkout of it with uncommitted changes.
    pub fn blocked_by(&self, store: &Store, scratch: &Path) -> Result<Option<String>> {
        for wt in self.checkouts(store, scratch) {
            if let Some(why) = dirty(&wt) {
                return Ok(Some(format!(
                    "{} is checked out in {} with {why}; commit or stash them and run `git mq run` again",
                    self.branch,
                    wt.display()
                )));
            }
        }
        Ok(None)
    }

    /// Move the target from `from` to `to` (a descendant the gates passed).
    pub fn advance(&self, at: &Place<'_>, from: &str, to: &str, message: &str) -> Result<Advance> {
        let (store, repo, scratch) = (at.store, at.repo, at.scratch);
        if let Some(remote) = &self.remote {
            if let Some(why) = self.blocked_by(store, scratch)? {
                return Ok(Advance::Held(why));
            }
            if branch::push_branch(repo, remote, &self.branch, to, Some(from))? == Pushed::Stale {
                return Ok(Advance::Stale);
            }
            // The remote is the target; the local branch follows when it can fast-forward.
            let local = store.branch_tip(&self.branch)?;
            let follows = match &local {
                None => true,
                Some(l) => gitcmd::probe(repo, ["merge-base", "--is-ancestor", l, to]).is_some(),
            };
            if follows {
                let _ = self.move_local(at, local.as_deref(), to, message)?;
            }
            return Ok(Advance::Moved);
        }
        self.move_local(at, Some(from), to, message)
    }

    fn move_local(
        &self,
        at: &Place<'_>,
        from: Option<&str>,
        to: &str,
        message: &str,
    ) -> Result<Advance> {
        let (store, scratch, actor) = (at.store, at.scratch, at.actor);
        if store.branch_tip(&self.branch)?.as_deref() != from {
            return Ok(Advance::Stale);
        }
        let checkouts = match from {
            Some(_) => self.checkouts(store, scratch),
            None => Vec::new(),
        };
        let mut updated: Vec<&PathBuf> = Vec::new();
        for wt in &checkouts {
            let from = from.expect("a checked-out branch exists");
            // A two-tree read-tree refuses to overwrite a changed file it must update (and
            // carries changes to files it need not touch, as a checkout does): what makes
            // a change made during the gates safe without a second cleanliness check.
            if let Err(e) = gitcmd::run(wt, ["read-tree", "-u", "-m", from, to]) {
                for done in &updated {
                    let _ = gitcmd::run(done, ["read-tree", "-u", "-m", to, from]);
                }
                return Ok(Advance::Held(format!(
                    "{} is checked out in {} and could not be updated: {e}",
                    self.branch,
                    wt.display()
                )));
            }
            updated.push(wt);
        }
        if store.move_branch(&self.branch, to, from, actor, message)? {
            return Ok(Advance::Moved);
        }
        if let Some(from) = from {
            for done in &updated {
                let _ = gitcmd::run(done, ["read-tree", "-u", "-m", to, from]);
            }
        }
        Ok(Advance::Stale)
    }
}

/// Uncommitted changes to tracked files (what git's updateInstead refuses), described.
fn dirty(worktree: &Path) -> Option<String> {
    let status = gitcmd::probe(
        worktree,
        [
            "status",
            "--porcelain=v1",
            "--untracked-files=no",
            "--ignore-submodules=all",
        ],
    )?;
    let files: Vec<&str> = status
        .lines()
        .filter(|l| l.len() > 3)
        .map(|l| &l[3..])
        .collect();
    if files.is_empty() {
        return None;
    }
    let shown: Vec<String> = files
        .iter()
        .take(3)
        .map(|f| f.escape_debug().to_string())
        .collect();
    Some(format!(
        "uncommitted changes ({}{})",
        shown.join(", "),
        if files.len() > 3 {
            format!(" and {} more", files.len() - 3)
        } else {
            String::new()
        }
    ))
}

/// After a killed pass: every checkout of `branch` whose index (and files) hold one of
/// `commits` while HEAD is another is brought to HEAD, so no worktree is left disagreeing
/// with its HEAD. The repaired worktrees.
pub fn repair_checkouts(
    target: &Target,
    store: &Store,
    scratch: &Path,
    commits: &[&str],
) -> Result<Vec<PathBuf>> {
    let mut repaired = Vec::new();
    for wt in target.checkouts(store, scratch) {
        let Some(head) = gitcmd::probe(&wt, ["rev-parse", "HEAD"]).map(|h| h.trim().to_string())
        else {
            continue;
        };
        let matches =
            |c: &str| gitcmd::probe(&wt, ["diff-index", "--cached", "--quiet", c, "--"]).is_some();
        if matches(&head) {
            continue;
        }
        if let Some(held) = commits.iter().find(|c| **c != head && matches(c)) {
            gitcmd::run(&wt, ["read-tree", "-u", "-m", held, &head])?;
            repaired.push(wt);
        }
    }
    Ok(repaired)
}
