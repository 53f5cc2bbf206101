//! Town and rigs. A *town* is a git repository whose store holds town-wide state (mail,
//! convoys, escalations, town agents) and the registry of rigs; a *rig* is a project
//! repository with its own store (beads, its agents, its merge requests). A rig learns its
//! town through git config (`gastown.town`, `gastown.rig`), shared by all its worktrees, so
//! every command run in a rig or in an agent's sandbox finds both.
//!
//! A repository with no town is a town of one rig: the same store plays both parts, and
//! nothing needs `git gastown init`.

pub mod rigs;
pub mod settings;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::bead::Beads;
use crate::error::{Error, Result};
use crate::gitcmd;
use crate::store::{Actor, Store};

pub use rigs::{Rig, Rigs};
pub use settings::{Setting, Settings};

/// Where the town's own identity is recorded in its store.
pub const TOWN_META: &str = "meta/town.json";
/// Prefix of the town's own beads (Gas Town's `hq-`).
pub const TOWN_PREFIX: &str = "hq";

/// A town, opened: its root directory and its store.
pub struct Town {
    /// The working directory of the town repository (or of the lone rig).
    pub root: PathBuf,
    pub store: Store,
    /// Set when there is no town: the repository acts as a town of this one rig.
    pub lone_rig: Option<String>,
}

/// What `git gastown init` reports.
#[derive(Debug, Serialize)]
pub struct TownInfo {
    pub root: PathBuf,
    pub name: String,
    pub created: bool,
}

impl Town {
    /// The default town directory: `$GT_ROOT`, else `~/gt`.
    pub fn default_root() -> Result<PathBuf> {
        if let Some(root) = std::env::var_os("GT_ROOT").filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(root));
        }
        let home = std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                Error::invalid("no town directory given and neither GT_ROOT nor HOME is set")
            })?;
        Ok(PathBuf::from(home).join("gt"))
    }

    /// Create a town at `root` (a new or existing git repository). Re-running changes
    /// nothing. `actor` is resolved once the repository exists (git config names the
    /// author); when it fails, a directory or repository this call created is removed again.
    pub fn init(root: &Path, actor: impl FnOnce(&Store) -> Result<Actor>) -> Result<TownInfo> {
        if root.exists() && !root.is_dir() {
            return Err(Error::invalid(format!(
                "cannot create a town at '{}': it is not a directory",
                root.display()
            )));
        }
        let made_dir = !root.exists();
        std::fs::create_dir_all(root)
            .map_err(|e| Error::io(format!("creating {}", root.display()), e))?;
        let root = std::fs::canonicalize(root)
            .map_err(|e| Error::io(format!("resolving {}", root.display()), e))?;
        let undo = |made_repo: bool| {
            if made_dir {
                let _ = std::fs::remove_dir_all(&root);
            } else if made_repo {
                let _ = std::fs::remove_dir_all(root.join(".git"));
            }
        };
        let bare = gitcmd::probe(&root, ["rev-parse", "--is-bare-repository"])
            .is_some_and(|s| s.trim() == "true");
        if bare {
            return Err(Error::invalid(format!(
                "cannot create a town at '{}': it is a bare repository (a town needs a working directory)",
                root.display()
            )));
        }
        // DIR itself is the town: a directory inside another repository (a project's
        // subdirectory) becomes a repository of its own rather than turning the project
        // into a town.
        let top = gitcmd::probe(&root, ["rev-parse", "--show-toplevel"])
            .and_then(|t| std::fs::canonicalize(t.trim()).ok());
        let made_repo = top.as_deref() != Some(root.as_path());
        if made_repo {
            if let Err(e) = gitcmd::run(&root, ["init", "--quiet"]) {
                undo(false);
                return Err(e);
            }
        } else if gitcmd::probe(&root, ["config", "--local", "--get", "gastown.town"]).is_some() {
            return Err(Error::invalid(format!(
                "'{}' is a rig of another town (git config gastown.town); a town cannot be a rig",
                root.display()
            )));
        }
        let store = Store::open(&root)?;
        let actor = match actor(&store) {
            Ok(actor) => actor,
            Err(e) => {
                undo(made_repo);
                return Err(e);
            }
        };
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "town".to_string());
        let beads = Beads::new(&store);
        if !store.snapshot(crate::bead::COLLECTION)?.exists() {
            beads.init(&actor, TOWN_PREFIX)?;
        }
        let created = settings::mark_town(&store, &actor, &name)?;
        // Rigs cloned into the town and their sandboxes live under rigs/: never town content.
        exclude(&root, "/rigs/")?;
        Ok(TownInfo {
            root,
            name,
            created,
        })
    }

    /// The town of the repository containing `dir`: its configured town, else the repository
    /// itself when it is a town, else the repository as a town of one rig.
    pub fn discover(dir: &Path) -> Result<Town> {
        // Absolute, so the paths derived from the root (agents' dirs) mean the same anywhere.
        let dir = &std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let store = Store::open(dir)?;
        // The main worktree comes from the common dir; asking git for the toplevel (a
        // process, a few ms on every command) is needed only when there is none.
        let main = main_worktree(&store).unwrap_or_else(|| worktree_root(&store, dir));
        let main = std::fs::canonicalize(&main).unwrap_or(main);
        if let Some(town) = store.config_string("gastown.town") {
            let root = resolve_config_path(&main, &town);
            let root = std::fs::canonicalize(&root).unwrap_or(root);
            let town_store = Store::open(&root).map_err(|_| {
                Error::invalid(format!(
                    "this rig's town '{}' (git config gastown.town) is not a git repository",
                    root.display()
                ))
            })?;
            if !settings::is_town(&town_store)? {
                return Err(Error::invalid(format!(
                    "'{}' (git config gastown.town) is not a town; run `git gastown init {}`",
                    root.display(),
                    root.display()
                )));
            }
            return Ok(Town {
                root,
                store: town_store,
                lone_rig: None,
            });
        }
        if settings::is_town(&store)? {
            return Ok(Town {
                root: main,
                store,
                lone_rig: None,
            });
        }
        let name = store
            .config_string("gastown.rig")
            .unwrap_or_else(|| rigs::name_from_dir(&main));
        Ok(Town {
            root: main,
            store,
            lone_rig: Some(name),
        })
    }

    /// The town for a command run outside any repository: `$GT_ROOT` or `~/gt`.
    pub fn open_default() -> Result<Town> {
        let root = Self::default_root()?;
        if !root.is_dir() {
            return Err(Error::invalid(format!(
                "no town at '{}'; create one with `git gastown init`",
                root.display()
            )));
        }
        Self::discover(&root)
    }

    pub fn is_lone_rig(&self) -> bool {
        self.lone_rig.is_some()
    }

    pub fn rigs(&self) -> Rigs<'_> {
        Rigs { town: self }
    }

    pub fn settings(&self) -> Settings<'_> {
        Settings::new(&self.store)
    }
}

/// The top of the worktree containing `dir` (falling back to `dir`).
fn worktree_root(_store: &Store, dir: &Path) -> PathBuf {
    gitcmd::toplevel(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// The main worktree of the repository (a sandbox's rig is the repository's main worktree).
fn main_worktree(store: &Store) -> Option<PathBuf> {
    let common = store.common_dir();
    // A non-bare repository's common dir is `<main worktree>/.git`.
    if common.file_name().is_some_and(|n| n == ".git") {
        return common.parent().map(Path::to_path_buf);
    }
    None
}

/// A path from git config, relative paths taken from the repository's main worktree.
fn resolve_config_path(base: &Path, value: &str) -> PathBuf {
    let path = PathBuf::from(value);
    if path.is_absolute() {
        path
    } else {
        base.join(path)
    }
}

/// Add `pattern` to the repository's `info/exclude` once.
pub(crate) fn exclude(repo_root: &Path, pattern: &str) -> Result<()> {
    let git_dir = gitcmd::run(repo_root, ["rev-parse", "--git-common-dir"])?;
    let git_dir = resolve_config_path(repo_root, git_dir.trim());
    let info = git_dir.join("info");
    std::fs::create_dir_all(&info)
        .map_err(|e| Error::io(format!("creating {}", info.display()), e))?;
    let path = info.join("exclude");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    if text.lines().any(|l| l.trim() == pattern) {
        return Ok(());
    }
    let mut text = text;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(pattern);
    text.push('\n');
    std::fs::write(&path, text).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}
