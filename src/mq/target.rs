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
    pub fn of(repo: &Path, branch: &str) -> Target {
        let remote = gitcmd::get_config(repo, &format!("branch.{branch}.remote")).filter(|r| r != ".");
        Target { branch: branch.to_string(), remote }
    }

    /// The target's current commit: the remote's (fetched) when it lives on one.
    pub fn tip(&self, store: &Store, repo: &Path) -> Result<Option<String>> {
        match &self.remote {
            Some(remote) => branch::fetch_branch(repo, remote, &self.branch),
            None => store.branch_tip(&self.branch),
        }
    }

    /// Worktrees (other than `except`) with the branch checked out.
    pub fn checkouts(&self, repo: &Path, except: &Path) -> Result<Vec<PathBuf>> {
        let except = std::fs::canonicalize(except).unwrap_or_else(|_| except.to_path_buf());
        Ok(gitcmd::worktrees(repo)?
            .into_iter()
            .filter(|w| w.branch.as_deref() == Some(self.branch.as_str()))
            .map(|w| w.path)
            .filter(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()) != except && p.is_dir())
            .collect())
    }

    /// Why the target cannot move now: a checkout of it with uncommitted changes.
    pub fn blocked_by(&self, repo: &Path, scratch: &Path) -> Result<Option<String>> {
        for wt in self.checkouts(repo, scratch)? {
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
            if let Some(why) = self.blocked_by(repo, scratch)? {
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

    fn move_local(&self, at: &Place<'_>, from: Option<&str>, to: &str, message: &str) -> Result<Advance> {
        let (store, repo, scratch, actor) = (at.store, at.repo, at.scratch, at.actor);
        if store.branch_tip(&self.branch)?.as_deref() != from {
            return Ok(Advance::Stale);
        }
        let checkouts = match from {
            Some(_) => self.checkouts(repo, scratch)?,
            None => Vec::new(),
        };
        let mut updated: Vec<&PathBuf> = Vec::new();
        for wt in &checkouts {
            let from = from.expect("a checked-out branch exists");
            let held = match dirty(wt) {
                Some(why) => Some(format!("{} is checked out in {} with {why}", self.branch, wt.display())),
                None => gitcmd::run(wt, ["read-tree", "-u", "-m", from, to])
                    .err()
                    .map(|e| format!("{} is checked out in {} and could not be updated: {e}", self.branch, wt.display())),
            };
            if let Some(why) = held {
                for done in &updated {
                    let _ = gitcmd::run(done, ["read-tree", "-u", "-m", to, from]);
                }
                return Ok(Advance::Held(why));
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
    let _ = gitcmd::probe(worktree, ["update-index", "-q", "--ignore-submodules", "--refresh"]);
    let unstaged = gitcmd::probe(worktree, ["diff-files", "--name-only", "--ignore-submodules"]).unwrap_or_default();
    let staged = gitcmd::probe(worktree, ["diff-index", "--cached", "--name-only", "--ignore-submodules", "HEAD", "--"]).unwrap_or_default();
    let mut files: Vec<&str> = unstaged.lines().chain(staged.lines()).filter(|l| !l.is_empty()).collect();
    files.sort();
    files.dedup();
    if files.is_empty() {
        return None;
    }
    let shown: Vec<String> = files.iter().take(3).map(|f| f.escape_debug().to_string()).collect();
    Some(format!(
        "uncommitted changes ({}{})",
        shown.join(", "),
        if files.len() > 3 { format!(" and {} more", files.len() - 3) } else { String::new() }
    ))
}

/// After a killed pass: every checkout of `branch` whose index (and files) hold one of
/// `commits` while HEAD is another is brought to HEAD, so no worktree is left disagreeing
/// with its HEAD. The repaired worktrees.
pub fn repair_checkouts(target: &Target, repo: &Path, scratch: &Path, commits: &[&str]) -> Result<Vec<PathBuf>> {
    let mut repaired = Vec::new();
    for wt in target.checkouts(repo, scratch)? {
        let Some(head) = gitcmd::probe(&wt, ["rev-parse", "HEAD"]).map(|h| h.trim().to_string()) else {
            continue;
        };
        let matches = |c: &str| gitcmd::probe(&wt, ["diff-index", "--cached", "--quiet", c, "--"]).is_some();
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
