//! The scratch worktree where a pass builds and tests candidates:
//! `<common git dir>/gastown/mq/scratch`, a detached linked worktree reused across requests
//! and passes (reset, not recreated: a gate's build caches in ignored files survive, which is
//! what makes the second `cargo test` fast). A pass killed mid-rebase leaves it dirty; the
//! next pass aborts whatever was in progress and resets it, or, when it is no longer a
//! worktree, removes and re-creates it. Person's checkouts are never used.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::gitcmd;
use crate::store::{Actor, Store};

/// A candidate made from one request on top of a base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Integrated {
    /// The commit that results (the base plus the request's changes).
    Commit(String),
    /// The request's changes do not apply: the files in conflict.
    Conflict(Vec<String>),
    /// Nothing of the request is missing from the base: it is already merged.
    Empty,
}

pub struct Scratch {
    pub path: PathBuf,
    repo: PathBuf,
    committer: Vec<String>,
}

/// Labels a merged commit carries: the request and its bead, as git trailers.
pub struct Labels<'a> {
    pub mr: &'a str,
    pub bead: Option<&'a str>,
    pub branch: &'a str,
    pub target: &'a str,
}

impl Scratch {
    /// The scratch worktree of `store`'s repository, ready at `base` (made if missing,
    /// repaired if a killed pass left it half-way).
    pub fn prepare(store: &Store, repo: &Path, base: &str, actor: &Actor) -> Result<Scratch> {
        let path = store.state_dir().join("mq").join("scratch");
        let scratch = Scratch {
            path: path.clone(),
            repo: repo.to_path_buf(),
            committer: vec![
                "-c".into(),
                format!("user.name={}", actor.name),
                "-c".into(),
                format!("user.email={}", actor.email),
            ],
        };
        let usable = path.join(".git").is_file()
            && gitcmd::probe(&path, ["rev-parse", "--show-toplevel"])
                .is_some_and(|t| Path::new(t.trim()) == path || std::fs::canonicalize(t.trim()).ok() == std::fs::canonicalize(&path).ok());
        if usable {
            // Whatever a killed pass left in progress.
            let _ = gitcmd::probe(&path, ["rebase", "--abort"]);
            let _ = gitcmd::probe(&path, ["merge", "--abort"]);
            if scratch.reset(base).is_ok() {
                return Ok(scratch);
            }
        }
        if path.exists() {
            std::fs::remove_dir_all(&path).map_err(|e| Error::io(format!("removing {}", path.display()), e))?;
        }
        let _ = gitcmd::probe(repo, ["worktree", "prune"]);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        }
        gitcmd::run(repo, ["worktree", "add", "--quiet", "--detach", "--force"].iter().map(|s| s.to_string()).chain([
            path.to_string_lossy().into_owned(),
            base.to_string(),
        ]))?;
        Ok(scratch)
    }

    fn git<I, S>(&self, args: I) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut all: Vec<std::ffi::OsString> = self.committer.iter().map(Into::into).collect();
        all.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        gitcmd::run(&self.path, all)
    }

    /// Check out `commit` (detached) and drop every change and untracked file; ignored
    /// files (build caches) stay.
    pub fn reset(&self, commit: &str) -> Result<()> {
        self.git(["checkout", "--quiet", "--detach", "--force", commit])?;
        self.git(["clean", "--quiet", "-ffd"])?;
        Ok(())
    }

    fn head(&self) -> Result<String> {
        Ok(self.git(["rev-parse", "HEAD"])?.trim().to_string())
    }

    fn conflicted(&self) -> Vec<String> {
        gitcmd::probe(&self.path, ["diff", "--name-only", "--diff-filter=U"])
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// Put `commit`'s changes on top of `base`: rebase its commits (`rebase`) or merge it
    /// with a merge commit (`merge`). The result names the request and bead.
    pub fn integrate(&self, base: &str, commit: &str, strategy: &str, labels: &Labels<'_>) -> Result<Integrated> {
        if gitcmd::probe(&self.repo, ["merge-base", "--is-ancestor", commit, base]).is_some() {
            return Ok(Integrated::Empty);
        }
        let mut trailers = vec![format!("Merge-request: {}", labels.mr)];
        if let Some(bead) = labels.bead {
            trailers.push(format!("Bead: {bead}"));
        }
        if strategy == "merge" {
            self.reset(base)?;
            let mut message = format!("Merge {} into {} ({})\n\n", labels.branch, labels.target, labels.mr);
            message.push_str(&trailers.join("\n"));
            let merged = self.git(["merge", "--quiet", "--no-ff", "--no-verify", "--no-edit", "-m", &message, commit]);
            if merged.is_err() {
                let files = self.conflicted();
                let _ = self.git(["merge", "--abort"]);
                return Ok(Integrated::Conflict(files));
            }
            return Ok(Integrated::Commit(self.head()?));
        }
        self.reset(commit)?;
        if self.git(["rebase", "--quiet", "--no-autostash", base]).is_err() {
            let files = self.conflicted();
            let _ = self.git(["rebase", "--abort"]);
            return Ok(Integrated::Conflict(files));
        }
        let tip = self.head()?;
        if tip == base {
            // Every commit was already upstream (patch-equivalent).
            return Ok(Integrated::Empty);
        }
        let mut args: Vec<String> = ["commit", "--quiet", "--amend", "--no-edit", "--no-verify", "--allow-empty"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for t in &trailers {
            args.push("--trailer".into());
            args.push(t.clone());
        }
        self.git(&args)?;
        Ok(Integrated::Commit(self.head()?))
    }
}
