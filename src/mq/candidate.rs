//! Building a candidate — the target plus a request's changes — without a worktree: each
//! commit of the branch is replayed onto the base with `git merge-tree --write-tree` (the
//! same merge machinery `rebase` uses, no index, no files touched) and `git commit-tree`
//! (author and message kept, the queue's actor as committer), the last commit naming the
//! request and bead in trailers; or, with the `merge` strategy, one merge commit. A commit
//! whose change is already in the base (patch-equivalent) replays to the base's tree and is
//! dropped, as `rebase` drops it. Three processes for a one-commit branch instead of a
//! rebase's checkout, replay, amend and housekeeping (see docs/BENCHMARKS.md).

use std::path::Path;

use crate::error::{one_line, Error, Result};
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

/// What a merged commit names: the request and its bead, as git trailers.
pub struct Labels<'a> {
    pub mr: &'a str,
    pub bead: Option<&'a str>,
    pub branch: &'a str,
    pub target: &'a str,
}

impl Labels<'_> {
    fn trailers(&self) -> String {
        let mut t = format!("Merge-request: {}", self.mr);
        if let Some(bead) = self.bead {
            t.push_str(&format!("\nBead: {bead}"));
        }
        t
    }
}

/// Builds candidates in a repository as an actor.
pub struct Builder<'a> {
    pub store: &'a Store,
    pub repo: &'a Path,
    pub actor: &'a Actor,
}

/// One commit to replay, from `git log`.
struct Replayed {
    commit: String,
    parent: String,
    author: String,
    email: String,
    date: String,
    message: String,
}

impl Builder<'_> {
    fn git(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: Option<&[u8]>,
    ) -> Result<std::process::Output> {
        gitcmd::output(self.repo, args, env, stdin)
    }

    fn ok(&self, what: &str, out: std::process::Output) -> Result<String> {
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(Error::Git(format!(
                "git {what}: {}",
                one_line(stderr.lines().next().unwrap_or("failed"))
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Put `commit`'s changes on top of `base` by `strategy` (`rebase` or `merge`).
    /// `merged`: the original commits of requests of the same branch the queue already
    /// merged. A rebase merge puts new commits on the target, so those originals stay
    /// outside `base` and would be replayed again with a later request of the branch that
    /// builds on them (the same change on the target twice: found by the town simulation).
    pub fn integrate(
        &self,
        base: &str,
        commit: &str,
        strategy: &str,
        labels: &Labels<'_>,
        merged: &[String],
    ) -> Result<Integrated> {
        if strategy == "merge" {
            return self.merge(base, commit, labels);
        }
        let commits = self.commits(base, commit, merged)?;
        if commits.is_empty() {
            return Ok(Integrated::Empty);
        }
        let mut current = base.to_string();
        let mut current_tree = self.store.tree_of_commit(base)?;
        let last = commits.len() - 1;
        for (i, c) in commits.iter().enumerate() {
            let merge_base = format!("--merge-base={}", c.parent);
            let out = self.git(
                &[
                    "merge-tree",
                    "--write-tree",
                    "--name-only",
                    "--no-messages",
                    &merge_base,
                    &current,
                    &c.commit,
                ],
                &[],
                None,
            )?;
            let tree = match tree_or_conflict(&out)? {
                Ok(tree) => tree,
                Err(files) => return Ok(Integrated::Conflict(files)),
            };
            if tree == current_tree && i != last {
                continue;
            }
            if tree == current_tree && current == base {
                return Ok(Integrated::Empty);
            }
            let mut message = c.message.trim_end().to_string();
            if i == last {
                message = with_trailers(&message, &labels.trailers());
            }
            message.push('\n');
            current = self.commit_tree(
                &tree,
                &[&current],
                Some((&c.author, &c.email, &c.date)),
                &message,
            )?;
            current_tree = tree;
        }
        Ok(Integrated::Commit(current))
    }

    fn merge(&self, base: &str, commit: &str, labels: &Labels<'_>) -> Result<Integrated> {
        let out = self.git(&["merge-base", "--is-ancestor", commit, base], &[], None)?;
        if out.status.success() {
            return Ok(Integrated::Empty);
        }
        let out = self.git(
            &[
                "merge-tree",
                "--write-tree",
                "--name-only",
                "--no-messages",
                base,
                commit,
            ],
            &[],
            None,
        )?;
        let tree = match tree_or_conflict(&out)? {
            Ok(tree) => tree,
            Err(files) => return Ok(Integrated::Conflict(files)),
        };
        let message = format!(
            "Merge {} into {} ({})\n\n{}\n",
            labels.branch,
            labels.target,
            labels.mr,
            labels.trailers()
        );
        Ok(Integrated::Commit(self.commit_tree(
            &tree,
            &[base, commit],
            None,
            &message,
        )?))
    }

    /// The non-merge commits of `commit` not in `base`, oldest first.
    fn commits(&self, base: &str, commit: &str, merged: &[String]) -> Result<Vec<Replayed>> {
        let range = format!("{base}..{commit}");
        let hidden: Vec<String> = merged
            .iter()
            .filter(|c| c.len() >= 40 && c.chars().all(|x| x.is_ascii_hexdigit()))
            .map(|c| format!("^{c}"))
            .collect();
        let mut args = vec![
            "log",
            "--no-merges",
            "--reverse",
            "--topo-order",
            "--date=raw",
            // A merged request's commit that is gone (its pin dropped, its branch reset)
            // hides nothing.
            "--ignore-missing",
            "--format=%H%x1f%P%x1f%an%x1f%ae%x1f%ad%x1f%B%x1e",
            &range,
        ];
        args.extend(hidden.iter().map(String::as_str));
        args.push("--");
        let out = self.git(&args, &[], None)?;
        let text = self.ok("log", out)?;
        let mut commits = Vec::new();
        for record in text.split('\x1e') {
            let record = record.trim_start_matches('\n');
            if record.is_empty() {
                continue;
            }
            let f: Vec<&str> = record.splitn(6, '\x1f').collect();
            if f.len() < 6 {
                return Err(Error::Git(format!(
                    "git log: unexpected output for {range}"
                )));
            }
            commits.push(Replayed {
                commit: f[0].to_string(),
                parent: f[1].split(' ').next().unwrap_or_default().to_string(),
                author: f[2].to_string(),
                email: f[3].to_string(),
                date: f[4].to_string(),
                message: f[5].to_string(),
            });
        }
        Ok(commits)
    }

    fn commit_tree(
        &self,
        tree: &str,
        parents: &[&str],
        author: Option<(&str, &str, &str)>,
        message: &str,
    ) -> Result<String> {
        let mut args: Vec<&str> = vec!["commit-tree", tree];
        for p in parents {
            args.extend(["-p", p]);
        }
        args.extend(["-F", "-"]);
        let mut env = vec![
            ("GIT_COMMITTER_NAME", self.actor.name.as_str()),
            ("GIT_COMMITTER_EMAIL", self.actor.email.as_str()),
        ];
        match author {
            Some((name, email, date)) => env.extend([
                ("GIT_AUTHOR_NAME", name),
                ("GIT_AUTHOR_EMAIL", email),
                ("GIT_AUTHOR_DATE", date),
            ]),
            None => env.extend([
                ("GIT_AUTHOR_NAME", self.actor.name.as_str()),
                ("GIT_AUTHOR_EMAIL", self.actor.email.as_str()),
            ]),
        }
        let out = self.git(&args, &env, Some(message.as_bytes()))?;
        Ok(self.ok("commit-tree", out)?.trim().to_string())
    }
}

/// `merge-tree --write-tree --name-only`'s answer: the tree, or the conflicting files.
fn tree_or_conflict(
    out: &std::process::Output,
) -> Result<std::result::Result<String, Vec<String>>> {
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let tree = lines.next().unwrap_or_default().trim().to_string();
    match out.status.code() {
        Some(0) => Ok(Ok(tree)),
        Some(1) => {
            let mut files: Vec<String> = lines
                .take_while(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            files.dedup();
            Ok(Err(files))
        }
        _ => Err(Error::Git(format!(
            "git merge-tree: {}",
            one_line(
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .next()
                    .unwrap_or("failed")
            )
        ))),
    }
}

/// The message with `trailers` added to its trailer block (a new paragraph unless the last
/// paragraph already is trailers).
fn with_trailers(message: &str, trailers: &str) -> String {
    let last = message.rsplit("\n\n").next().unwrap_or("");
    let is_trailer_block = message.contains("\n\n")
        && !last.is_empty()
        && last.lines().all(|l| {
            l.split_once(": ")
                .is_some_and(|(k, _)| !k.is_empty() && !k.contains(' '))
        });
    if is_trailer_block {
        format!("{message}\n{trailers}")
    } else {
        format!("{message}\n\n{trailers}")
    }
}

#[cfg(test)]
mod tests {
    use super::with_trailers;

    #[test]
    fn trailers_join_an_existing_block_or_start_one() {
        assert_eq!(
            with_trailers("fix it", "Bead: gt-1"),
            "fix it\n\nBead: gt-1"
        );
        assert_eq!(
            with_trailers("fix it\n\nSigned-off-by: A <a@x>", "Bead: gt-1"),
            "fix it\n\nSigned-off-by: A <a@x>\nBead: gt-1"
        );
        assert_eq!(
            with_trailers("fix it\n\nmore words here: yes", "Bead: gt-1"),
            "fix it\n\nmore words here: yes\n\nBead: gt-1"
        );
    }
}
