//! Talking to other clones: the only place that runs the `git` executable for network work
//! (gix 0.90 has no push). Fetches land in a namespace of their own,
//! `refs/gastown-remotes/<remote>/<collection>`, outside `refs/gastown/` so fetched state is
//! never read as local state nor pushed back. Collections under `refs/gastown/local/` are
//! clone-local: never fetched, merged or pushed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use gix::ObjectId;

use crate::error::{one_line, Error, Result};

use super::Store;

/// Where fetched remote state lives: `refs/gastown-remotes/<remote>/<collection>`.
pub const REMOTES_NAMESPACE: &str = "refs/gastown-remotes/";
/// Collections whose name starts with this (refs `refs/gastown/local/*`) never leave the clone.
pub const LOCAL_PREFIX: &str = "local/";

/// Whether a collection stays on this clone (wisps, caches of other clones, ...).
pub fn is_local_only(collection: &str) -> bool {
    collection.starts_with(LOCAL_PREFIX) || collection == "local"
}

/// A remote to sync with: what to pass to git, and the name of its tracking namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// A configured remote name or a URL/path, handed to git as is.
    pub target: String,
    /// The component under `refs/gastown-remotes/` (the remote's name, or `url-<hash>`).
    pub namespace: String,
}

impl Remote {
    /// `refs/gastown-remotes/<namespace>/`.
    pub fn tracking_prefix(&self) -> String {
        format!("{REMOTES_NAMESPACE}{}/", self.namespace)
    }

    pub fn tracking_ref(&self, collection: &str) -> String {
        format!("{}{collection}", self.tracking_prefix())
    }

    /// The fetch refspecs sync uses (and a user can add to `remote.<name>.fetch`).
    pub fn fetch_refspecs(&self) -> Vec<String> {
        vec![
            format!("+refs/gastown/*:{}*", self.tracking_prefix()),
            format!("^refs/gastown/{LOCAL_PREFIX}*"),
        ]
    }
}

/// Pick the remote: the argument (a configured remote, else a URL or path), or the current
/// branch's remote, or `origin`.
pub fn resolve_remote(store: &Store, arg: Option<&str>) -> Result<Remote> {
    let config = store.repo().config_snapshot();
    let configured = |name: &str| {
        config
            .string(format!("remote.{name}.url").as_str())
            .is_some()
            || config
                .string(format!("remote.{name}.pushurl").as_str())
                .is_some()
    };
    let Some(arg) = arg else {
        let branch_remote = store
            .repo()
            .head_name()
            .ok()
            .flatten()
            .and_then(|name| {
                let short = name.shorten().to_string();
                config
                    .string(format!("branch.{short}.remote").as_str())
                    .map(|s| s.to_string())
            })
            .filter(|r| r != "." && configured(r));
        let name = branch_remote.unwrap_or_else(|| "origin".to_string());
        if !configured(&name) {
            return Err(Error::invalid(format!(
                "no remote '{name}' to sync with: add it with `git remote add {name} <url>` or pass a remote name, URL or path"
            )));
        }
        return Ok(Remote {
            namespace: sanitize(&name),
            target: name,
        });
    };
    let arg = arg.trim();
    if arg.is_empty() || arg.starts_with('-') || arg.contains(['\n', '\0']) {
        return Err(Error::invalid(format!("bad remote '{arg}'")));
    }
    if configured(arg) {
        return Ok(Remote {
            namespace: sanitize(arg),
            target: arg.to_string(),
        });
    }
    let looks_like_location = arg.contains(['/', ':', '\\']) || Path::new(arg).exists();
    if !looks_like_location {
        return Err(Error::invalid(format!(
            "no remote named '{arg}' (and it is not a URL or path); see `git remote -v`"
        )));
    }
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(arg.as_bytes());
    let hex: String = digest[..5].iter().map(|b| format!("{b:02x}")).collect();
    Ok(Remote {
        target: arg.to_string(),
        namespace: format!("url-{hex}"),
    })
}

/// A remote name made safe as one ref path component.
fn sanitize(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() || cleaned.starts_with('.') {
        format!("r{cleaned}")
    } else {
        cleaned
    }
}

/// The `git` executable.
pub fn git_binary() -> Result<PathBuf> {
    which::which("git")
        .map_err(|_| Error::Git("the git executable was not found on PATH; sync needs it".into()))
}

/// Runs git in a directory (the user's working directory, so relative remote paths and
/// GIT_DIR behave as they do for the user's own git commands).
pub struct Git {
    program: PathBuf,
    cwd: PathBuf,
}

/// What `git push` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushResult {
    Pushed,
    /// The remote moved since we looked (non-fast-forward or ref lock races): fetch again.
    RemoteMoved(String),
}

impl Git {
    pub fn new(cwd: &Path) -> Result<Git> {
        Ok(Git {
            program: git_binary()?,
            cwd: cwd.to_path_buf(),
        })
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        // Our own fetches and pushes must not run gastown's git hooks on what sync does
        // itself (the hooks skip their part when GT_NO_HOOKS is set; a user's hooks run).
        cmd.current_dir(&self.cwd)
            .stdin(Stdio::null())
            .env("GT_NO_HOOKS", "1");
        cmd
    }

    fn run(&self, what: &str, cmd: &mut Command) -> Result<std::process::Output> {
        let out = cmd
            .output()
            .map_err(|e| Error::io(format!("running git {what}"), e))?;
        if !out.status.success() {
            return Err(Error::Git(format!(
                "{what} failed: {}",
                first_error_line(&out.stderr)
            )));
        }
        Ok(out)
    }

    /// The remote's collections and their tips (local-only ones left out).
    pub fn ls_remote(&self, remote: &Remote) -> Result<BTreeMap<String, ObjectId>> {
        let out = self.run(
            &format!("ls-remote {}", remote.target),
            self.command()
                .args(["ls-remote", "--refs", "--quiet", "--"])
                .arg(&remote.target)
                .arg("refs/gastown/*"),
        )?;
        let mut tips = BTreeMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Some((oid, name)) = line.split_once('\t') else {
                continue;
            };
            let Some(collection) = name.strip_prefix("refs/gastown/") else {
                continue;
            };
            if collection.is_empty() || is_local_only(collection) {
                continue;
            }
            if let Ok(oid) = ObjectId::from_hex(oid.trim().as_bytes()) {
                tips.insert(collection.to_string(), oid);
            }
        }
        Ok(tips)
    }

    /// Fetch every shared collection into the remote's tracking namespace. `--refmap=`
    /// keeps configured fetch refspecs from touching anything else.
    pub fn fetch(&self, remote: &Remote) -> Result<()> {
        self.run(
            &format!("fetch {}", remote.target),
            self.command()
                .args([
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    "--no-write-fetch-head",
                    "--no-auto-maintenance",
                    "--no-recurse-submodules",
                    "--refmap=",
                    "--",
                ])
                .arg(&remote.target)
                .args(remote.fetch_refspecs()),
        )?;
        Ok(())
    }

    /// Push `collection → commit` pairs in one atomic push; a non-fast-forward rejection is
    /// the remote's compare-and-swap telling us to fetch and merge again.
    pub fn push(&self, remote: &Remote, updates: &[(String, ObjectId)]) -> Result<PushResult> {
        let mut cmd = self.command();
        cmd.args([
            "push",
            "--porcelain",
            "--atomic",
            "--no-verify",
            "--quiet",
            "--",
        ])
        .arg(&remote.target);
        for (collection, oid) in updates {
            cmd.arg(format!("{oid}:refs/gastown/{collection}"));
        }
        let out = cmd
            .output()
            .map_err(|e| Error::io(format!("running git push {}", remote.target), e))?;
        if out.status.success() {
            return Ok(PushResult::Pushed);
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let rejected: Vec<&str> = stdout.lines().filter(|l| l.starts_with('!')).collect();
        if !rejected.is_empty() && rejected.iter().all(|l| l.contains("rejected]")) {
            let reason = rejected
                .iter()
                .map(|l| l.split('\t').skip(1).collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join("; ");
            return Ok(PushResult::RemoteMoved(reason));
        }
        Err(Error::Git(format!(
            "push to {} failed: {}",
            remote.target,
            first_error_line(&out.stderr)
        )))
    }

    /// Run a housekeeping command (`pack-refs`, `repack`, `gc`) on the repository.
    pub fn maintenance(&self, args: &[&str]) -> Result<()> {
        self.run(&args.join(" "), self.command().args(args))?;
        Ok(())
    }
}

/// The most telling line of git's stderr, for a one-line error.
pub(super) fn first_error_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("fatal:") || l.starts_with("error:"))
        .or_else(|| text.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("no message from git");
    let line = line
        .trim_start_matches("fatal:")
        .trim_start_matches("error:")
        .trim();
    one_line(line)
}

/// Local tips of every shared collection (`refs/gastown/*` minus `local/`).
pub fn local_tips(store: &Store) -> Result<BTreeMap<String, ObjectId>> {
    Ok(store
        .refs_under("refs/gastown/")?
        .into_iter()
        .filter_map(|(name, oid)| {
            let collection = name.strip_prefix("refs/gastown/")?.to_string();
            (!collection.is_empty() && !is_local_only(&collection)).then_some((collection, oid))
        })
        .collect())
}

/// Tips in a remote's tracking namespace.
pub fn tracking_tips(store: &Store, remote: &Remote) -> Result<BTreeMap<String, ObjectId>> {
    let prefix = remote.tracking_prefix();
    Ok(store
        .refs_under(&prefix)?
        .into_iter()
        .filter_map(|(name, oid)| {
            let collection = name.strip_prefix(&prefix)?.to_string();
            (!collection.is_empty() && !is_local_only(&collection)).then_some((collection, oid))
        })
        .collect())
}

/// Point a tracking ref at `oid` (no compare-and-swap: tracking refs mirror the remote).
pub fn set_tracking(store: &Store, remote: &Remote, collection: &str, oid: ObjectId) -> Result<()> {
    use gix::refs::transaction::PreviousValue;
    store
        .repo()
        .reference(
            remote.tracking_ref(collection).as_str(),
            oid,
            PreviousValue::Any,
            "gastown sync: remote tip",
        )
        .map(|_| ())
        .map_err(|e| Error::Git(one_line(&e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_collections_are_recognised() {
        assert!(is_local_only("local/wisps"));
        assert!(!is_local_only("beads"));
        assert!(!is_local_only("locals"));
    }

    #[test]
    fn names_become_safe_ref_components() {
        assert_eq!(sanitize("origin"), "origin");
        assert_eq!(sanitize("team/a b"), "team_a_b");
        let remote = Remote {
            target: "origin".into(),
            namespace: "origin".into(),
        };
        assert_eq!(
            remote.tracking_ref("beads"),
            "refs/gastown-remotes/origin/beads"
        );
        assert_eq!(
            remote.fetch_refspecs(),
            vec![
                "+refs/gastown/*:refs/gastown-remotes/origin/*",
                "^refs/gastown/local/*"
            ]
        );
    }

    #[test]
    fn first_error_line_prefers_fatal() {
        let text = b"hint: x\nfatal: 'nope' does not appear to be a git repository\nmore\n";
        assert_eq!(
            first_error_line(text),
            "'nope' does not appear to be a git repository"
        );
    }
}
