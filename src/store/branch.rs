//! Branches (`refs/heads/*`) and the clone's work pins, for the merge queue: its target moves
//! only by compare-and-swap here (git's loose-ref lock protocol, `Store::move_ref`, with a
//! reflog entry as git writes one), merged branches are deleted only if they still point where
//! the queue saw them, and a target that lives on a remote is pushed with a lease and read
//! back. Argument vectors only; nothing here interprets user text.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use gix::ObjectId;

use super::remote::first_error_line;
use super::{Actor, RefMove, Store};
use crate::error::{Error, Result};
use crate::gitcmd::git_binary;

/// A branch name git would accept (`git check-ref-format --branch`'s rules, checked here so
/// no name escapes `refs/heads/` or looks like an option).
pub fn validate_branch(name: &str) -> Result<()> {
    let bad = name.is_empty()
        || name.starts_with('-')
        || name.starts_with('/')
        || name.ends_with('/')
        || name.ends_with('.')
        || name.contains("..")
        || name.contains("//")
        || name.contains("@{")
        || name == "@"
        || name
            .chars()
            .any(|c| c.is_control() || " ~^:?*[\\".contains(c))
        || name
            .split('/')
            .any(|c| c.starts_with('.') || c.ends_with(".lock"));
    if bad {
        return Err(Error::invalid(format!(
            "bad branch name '{}'",
            name.escape_debug()
        )));
    }
    Ok(())
}

fn oid(text: &str) -> Result<ObjectId> {
    ObjectId::from_hex(text.trim().as_bytes())
        .map_err(|_| Error::invalid(format!("bad commit id '{text}'")))
}

impl Store {
    /// Where `refs/heads/<branch>` points, if it exists.
    pub fn branch_tip(&self, branch: &str) -> Result<Option<String>> {
        validate_branch(branch)?;
        let name = format!("refs/heads/{branch}");
        Ok(self
            .repo
            .try_find_reference(name.as_str())?
            .and_then(|r| r.try_id().map(|id| id.detach().to_string())))
    }

    /// Point `refs/heads/<branch>` at `new` if it still points at `expected` (absent when
    /// `None`), appending a reflog entry by `actor`. `Ok(false)`: someone moved it meanwhile
    /// (nothing was changed). `new` must be a commit this repository holds.
    pub fn move_branch(
        &self,
        branch: &str,
        new: &str,
        expected: Option<&str>,
        actor: &Actor,
        message: &str,
    ) -> Result<bool> {
        validate_branch(branch)?;
        let new = oid(new)?;
        let expected = expected.map(oid).transpose()?;
        if !self.repo.has_object(new) {
            return Err(Error::invalid(format!(
                "no commit {new} in this repository"
            )));
        }
        let name = format!("refs/heads/{branch}");
        match self.move_ref(&name, new, expected) {
            Ok(()) => {}
            Err(RefMove::Moved) => return Ok(false),
            Err(RefMove::Failed(err)) => return Err(err),
        }
        self.append_reflog(&name, expected, new, actor, message);
        Ok(true)
    }

    /// git's reflog line for a ref update. Best effort, as for git: a missing log never
    /// fails an update that already happened.
    fn append_reflog(
        &self,
        name: &str,
        old: Option<ObjectId>,
        new: ObjectId,
        actor: &Actor,
        message: &str,
    ) {
        let disabled = self
            .config_string("core.logAllRefUpdates")
            .is_some_and(|v| v.eq_ignore_ascii_case("false"));
        if disabled {
            return;
        }
        let path = self.common_dir.join("logs").join(name);
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let old = old.map(|o| o.to_string()).unwrap_or_else(|| "0".repeat(40));
        let now = super::now();
        let sign = if now.offset < 0 { '-' } else { '+' };
        let minutes = now.offset.abs() / 60;
        let line = format!(
            "{old} {new} {} <{}> {} {sign}{:02}{:02}\t{}\n",
            actor.name,
            actor.email,
            now.seconds,
            minutes / 60,
            minutes % 60,
            message.lines().next().unwrap_or("")
        );
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            let _ = file.write_all(line.as_bytes());
        }
    }

    /// Delete `refs/heads/<branch>` if it still points at `expected`; false when it moved or
    /// is gone. git does the deletion (a packed entry must be removed from `packed-refs`).
    pub fn delete_branch(&self, branch: &str, expected: &str) -> Result<bool> {
        validate_branch(branch)?;
        oid(expected)?;
        self.delete_ref_if(&format!("refs/heads/{branch}"), expected)
    }

    fn delete_ref_if(&self, ref_name: &str, expected: &str) -> Result<bool> {
        super::gc::clear_stale_packed_refs_lock(&self.common_dir);
        let out = Command::new(git_binary()?)
            .arg("--git-dir")
            .arg(&self.common_dir)
            .args(["update-ref", "-d", ref_name, expected])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::io("running git update-ref", e))?;
        Ok(out.status.success())
    }
}

/// What pushing a branch to a remote did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// The remote now points at the commit (read back after the push).
    Verified,
    /// The remote's branch was not at the expected commit: someone else moved it.
    Stale,
}

fn git_in(dir: &Path) -> Result<Command> {
    let mut cmd = Command::new(git_binary()?);
    // The queue's own pushes and fetches skip gastown's git hooks (a user's still run).
    cmd.arg("-C")
        .arg(dir)
        .stdin(Stdio::null())
        .env("GT_NO_HOOKS", "1");
    Ok(cmd)
}

/// The commit `refs/heads/<branch>` points at on `remote` (`git ls-remote`).
pub fn remote_branch_tip(dir: &Path, remote: &str, branch: &str) -> Result<Option<String>> {
    validate_branch(branch)?;
    let name = format!("refs/heads/{branch}");
    let out = git_in(dir)?
        .args(["ls-remote", "--quiet", "--", remote, &name])
        .output()
        .map_err(|e| Error::io("running git ls-remote", e))?;
    if !out.status.success() {
        return Err(Error::Git(format!(
            "ls-remote {remote}: {}",
            first_error_line(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .find(|(_, n)| *n == name)
        .map(|(oid, _)| oid.to_string()))
}

/// Fetch `branch` from `remote` into its remote-tracking ref; the remote's tip.
pub fn fetch_branch(dir: &Path, remote: &str, branch: &str) -> Result<Option<String>> {
    validate_branch(branch)?;
    let spec = format!("+refs/heads/{branch}:refs/remotes/{remote}/{branch}");
    let out = git_in(dir)?
        .args(["fetch", "--quiet", "--no-tags", "--", remote, &spec])
        .output()
        .map_err(|e| Error::io("running git fetch", e))?;
    if !out.status.success() {
        return Err(Error::Git(format!(
            "fetch {remote} {branch}: {}",
            first_error_line(&out.stderr)
        )));
    }
    let tracking = format!("refs/remotes/{remote}/{branch}");
    let out = git_in(dir)?
        .args(["rev-parse", "--verify", "--quiet", &tracking])
        .output()
        .map_err(|e| Error::io("running git rev-parse", e))?;
    Ok(out
        .status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()))
}

/// Push `new` to `refs/heads/<branch>` on `remote` if the remote still has `expected`
/// there (a lease: never a lost update), then read the remote back.
pub fn push_branch(
    dir: &Path,
    remote: &str,
    branch: &str,
    new: &str,
    expected: Option<&str>,
) -> Result<Pushed> {
    validate_branch(branch)?;
    oid(new)?;
    let name = format!("refs/heads/{branch}");
    let lease = format!("--force-with-lease={name}:{}", expected.unwrap_or(""));
    let out = git_in(dir)?
        .args([
            "push",
            "--quiet",
            "--porcelain",
            &lease,
            "--",
            remote,
            &format!("{new}:{name}"),
        ])
        .output()
        .map_err(|e| Error::io("running git push", e))?;
    if !out.status.success() {
        let stdout = String::from_utf8_lossy(&out.stdout);
        if stdout.contains("stale info")
            || stdout.contains("fetch first")
            || stdout.contains("non-fast-forward")
        {
            return Ok(Pushed::Stale);
        }
        return Err(Error::Git(format!(
            "push {remote} {branch}: {}",
            first_error_line(&out.stderr)
        )));
    }
    match remote_branch_tip(dir, remote, branch)? {
        Some(tip) if tip == new => Ok(Pushed::Verified),
        other => Err(Error::Git(format!(
            "push {remote} {branch}: the remote reports {} instead of the merged commit {new}",
            other.as_deref().unwrap_or("no branch")
        ))),
    }
}

/// Delete `refs/heads/<branch>` on `remote` if it still points at `expected`.
pub fn delete_remote_branch(
    dir: &Path,
    remote: &str,
    branch: &str,
    expected: &str,
) -> Result<bool> {
    validate_branch(branch)?;
    oid(expected)?;
    let name = format!("refs/heads/{branch}");
    let lease = format!("--force-with-lease={name}:{expected}");
    let out = git_in(dir)?
        .args(["push", "--quiet", &lease, "--", remote, &format!(":{name}")])
        .output()
        .map_err(|e| Error::io("running git push", e))?;
    Ok(out.status.success())
}

impl Store {
    /// The tree of `commit` (read in process; a commit git just wrote is found too).
    pub fn tree_of_commit(&self, commit: &str) -> Result<String> {
        let oid = oid(commit)?;
        let object = self
            .repo
            .find_object(oid)
            .map_err(|_| Error::invalid(format!("no commit {commit} in this repository")))?;
        let commit = object
            .try_into_commit()
            .map_err(|_| Error::invalid(format!("{commit} is not a commit")))?;
        Ok(commit
            .tree_id()
            .map_err(|e| Error::Git(e.to_string()))?
            .detach()
            .to_string())
    }

    /// Delete refs that still point where the caller saw them, `(ref, expected)` in order,
    /// each its own transaction, all in one git process. Which were deleted (a ref that is
    /// gone is skipped; the first that had moved stops the ones after it).
    pub fn delete_refs_if(&self, refs: &[(String, String)]) -> Result<Vec<bool>> {
        let mut script = String::new();
        let mut asked = Vec::new();
        for (i, (name, expected)) in refs.iter().enumerate() {
            let valid =
                name.starts_with("refs/heads/") || name.starts_with("refs/gastown/local/work/");
            if !valid || name.contains("..") || name.chars().any(|c| c.is_control() || c == ' ') {
                return Err(Error::invalid(format!(
                    "bad ref name '{}'",
                    name.escape_debug()
                )));
            }
            oid(expected)?;
            if self.repo.try_find_reference(name.as_str())?.is_none() {
                continue;
            }
            script.push_str(&format!("start\ndelete {name} {expected}\ncommit\n"));
            asked.push(i);
        }
        let mut deleted = vec![false; refs.len()];
        if asked.is_empty() {
            return Ok(deleted);
        }
        super::gc::clear_stale_packed_refs_lock(&self.common_dir);
        let mut child = Command::new(git_binary()?)
            .arg("--git-dir")
            .arg(&self.common_dir)
            .args(["update-ref", "--stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::io("running git update-ref", e))?;
        if let Some(mut pipe) = child.stdin.take() {
            let _ = pipe.write_all(script.as_bytes());
        }
        let out = child
            .wait_with_output()
            .map_err(|e| Error::io("running git update-ref", e))?;
        let done = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| *l == "commit: ok")
            .count();
        for &i in asked.iter().take(done) {
            deleted[i] = true;
        }
        Ok(deleted)
    }
}
