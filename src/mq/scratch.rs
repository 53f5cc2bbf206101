//! The scratch worktree where a pass runs the gates on a candidate:
//! `<common git dir>/gastown/mq/scratch`, a detached linked worktree reused across requests
//! and passes (reset, not recreated: a gate's build caches in ignored files survive, which is
//! what makes the second `cargo test` fast). Candidates are built without it
//! (`candidate.rs`); it is only checked out for the gates. A pass killed mid-checkout leaves
//! it dirty and the next reset (`checkout --force`, `clean`) repairs it; one that is no
//! longer a worktree is removed and re-created. People's checkouts are never used.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::gitcmd;
use crate::store::Store;

pub struct Scratch {
    pub path: PathBuf,
    repo: PathBuf,
}

impl Scratch {
    /// The scratch worktree of `store`'s repository (made when missing).
    pub fn prepare(store: &Store, repo: &Path, base: &str) -> Result<Scratch> {
        let scratch = Scratch {
            path: store.state_dir().join("mq").join("scratch"),
            repo: repo.to_path_buf(),
        };
        if !scratch.path.join(".git").is_file() {
            scratch.rebuild(base)?;
        }
        Ok(scratch)
    }

    /// Remove whatever is at the path and add the worktree again, at `commit`.
    fn rebuild(&self, commit: &str) -> Result<()> {
        if self.path.exists() {
            std::fs::remove_dir_all(&self.path)
                .map_err(|e| Error::io(format!("removing {}", self.path.display()), e))?;
        }
        let _ = gitcmd::probe(&self.repo, ["worktree", "prune"]);
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        }
        let path = self.path.to_string_lossy().into_owned();
        gitcmd::run(
            &self.repo,
            [
                "worktree",
                "add",
                "--quiet",
                "--detach",
                "--force",
                path.as_str(),
                commit,
            ],
        )?;
        Ok(())
    }

    /// Check out `commit` (detached) and drop every change and untracked file; ignored
    /// files (build caches) stay. A worktree that cannot be reset is made again.
    pub fn reset(&self, commit: &str) -> Result<()> {
        let checkout = |s: &Self| -> Result<()> {
            gitcmd::run(
                &s.path,
                ["checkout", "--quiet", "--detach", "--force", commit],
            )?;
            gitcmd::run(&s.path, ["clean", "--quiet", "-ffd"])?;
            Ok(())
        };
        if checkout(self).is_ok() {
            return Ok(());
        }
        self.rebuild(commit)?;
        checkout(self)
    }
}
