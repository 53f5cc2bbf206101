//! The `git` executable, for what gix does not do here: worktrees, clones, status, config
//! writes. Always an argument vector, never a shell string, so no user text is interpreted.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{one_line, Error, Result};

/// The git binary (`which git`), with a clear error when it is missing.
pub fn git_binary() -> Result<PathBuf> {
    which::which("git").map_err(|_| Error::invalid("the git executable is not on PATH"))
}

/// `git -C dir args...`, returning stdout; a failure becomes one line naming the command.
pub fn run<I, S>(dir: &Path, args: I) -> Result<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let output = Command::new(git_binary()?)
        .arg("-C")
        .arg(dir)
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io("running git", e))?;
    if !output.status.success() {
        let verb = args
            .iter()
            .take(2)
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("hint:"))
            .unwrap_or("failed");
        return Err(Error::Git(format!("git {verb}: {}", one_line(first))));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Like [`run`], but a failure is `None` (for probes such as "does this ref exist").
pub fn probe<I, S>(dir: &Path, args: I) -> Option<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run(dir, args).ok()
}

/// The top level of the worktree containing `dir`.
pub fn toplevel(dir: &Path) -> Result<PathBuf> {
    let out = run(dir, ["rev-parse", "--show-toplevel"])?;
    Ok(PathBuf::from(out.trim()))
}

/// Set a repository-local git config value (shared by all worktrees of the repository).
pub fn set_config(repo: &Path, key: &str, value: &str) -> Result<()> {
    run(repo, ["config", "--local", key, value]).map(|_| ())
}

/// A git config value as git itself resolves it (all scopes).
pub fn get_config(repo: &Path, key: &str) -> Option<String> {
    probe(repo, ["config", "--get", key])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// One entry of `git worktree list --porcelain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worktree {
    pub path: PathBuf,
    pub head: Option<String>,
    pub branch: Option<String>,
}

/// Every worktree of the repository at `repo` (the main one first).
pub fn worktrees(repo: &Path) -> Result<Vec<Worktree>> {
    let out = run(repo, ["worktree", "list", "--porcelain"])?;
    let mut list = Vec::new();
    let mut current: Option<Worktree> = None;
    for line in out.lines() {
        if let Some(path) = line.strip_prefix("worktree ") {
            list.extend(current.take());
            current = Some(Worktree {
                path: PathBuf::from(path),
                head: None,
                branch: None,
            });
        } else if let (Some(wt), Some(head)) = (current.as_mut(), line.strip_prefix("HEAD ")) {
            wt.head = Some(head.to_string());
        } else if let (Some(wt), Some(branch)) = (current.as_mut(), line.strip_prefix("branch ")) {
            wt.branch = Some(branch.trim_start_matches("refs/heads/").to_string());
        }
    }
    list.extend(current);
    Ok(list)
}

/// Paths with uncommitted changes or untracked files (`git status --porcelain`), ignoring
/// ignored files.
pub fn dirty_paths(worktree: &Path) -> Result<Vec<String>> {
    let out = run(
        worktree,
        ["status", "--porcelain=v1", "--untracked-files=all"],
    )?;
    Ok(out
        .lines()
        .filter(|l| l.len() > 3)
        .map(|l| l[3..].to_string())
        .collect())
}

/// Commits on `branch` that no ref in `others` contains (short ids and subjects).
pub fn commits_not_in(repo: &Path, branch: &str, others: &[String]) -> Result<Vec<String>> {
    let mut args: Vec<String> = vec!["log".into(), "--format=%h %s".into(), branch.to_string()];
    for other in others {
        args.push(format!("^{other}"));
    }
    args.push("--".into());
    let out = run(repo, &args)?;
    Ok(out.lines().map(str::to_string).collect())
}

/// Whether `rev` names a commit in the repository.
pub fn rev_exists(repo: &Path, rev: &str) -> bool {
    probe(
        repo,
        [
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .is_some()
}

/// `git -C dir args...` with extra environment variables and optional stdin, returning the
/// raw output whatever the exit status (for plumbing whose status is an answer, such as
/// `merge-tree`'s 1 for "conflicts").
pub fn output<S: AsRef<OsStr>>(
    dir: &Path,
    args: &[S],
    env: &[(&str, &str)],
    stdin: Option<&[u8]>,
) -> Result<std::process::Output> {
    use std::io::Write as _;
    let mut command = Command::new(git_binary()?);
    command
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().map_err(|e| Error::io("running git", e))?;
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(bytes)
            .map_err(|e| Error::io("writing to git", e))?;
    }
    child
        .wait_with_output()
        .map_err(|e| Error::io("running git", e))
}
