//! Git hooks for propulsion (docs/HOOKS.md): `post-commit` notes the work on each commit,
//! `reference-transaction` merges gastown state a plain `git fetch` brought and closes merge
//! requests a branch moved by hand now contains, `pre-push` guards the target branch.
//!
//! The scripts live in the project's `hooks/` folder and are embedded here. Installing
//! chains to the user's own hooks instead of replacing them: a hook already in place is
//! renamed aside (`<hook>.gastown-orig`, bytes and mode untouched) and our script runs it
//! first, with the same arguments and input; uninstalling renames it back. The hooks
//! directory is git's own answer (`core.hooksPath` honoured). What the hooks do when they
//! run is in [`run`].

pub mod run;
pub mod trail;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::gitcmd;
use crate::store::notes::DISPLAY_REF;
use crate::store::remote::Remote;

/// The hooks, by git's name, and their scripts.
pub const HOOKS: &[(&str, &str)] = &[
    ("post-commit", include_str!("../../hooks/post-commit")),
    (
        "reference-transaction",
        include_str!("../../hooks/reference-transaction"),
    ),
    ("pre-push", include_str!("../../hooks/pre-push")),
];

/// The line that marks a hook file as ours (the second line of every script).
const MARKER: &str = "# gastown-hook:";
/// Suffix of a user's hook kept aside while ours is installed.
pub const ORIG_SUFFIX: &str = ".gastown-orig";
/// The exit status by which `git gastown hooks run` says a guard refused.
pub const REFUSED: i32 = 7;

/// One hook's state.
#[derive(Debug, Clone, Serialize)]
pub struct HookState {
    pub name: String,
    pub path: PathBuf,
    /// `installed` (this version's script), `outdated` (ours, another version), `absent`,
    /// or `foreign` (someone else's hook, not chained).
    pub state: String,
    /// The user's hook that ours runs first, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chained: Option<PathBuf>,
}

/// What `hooks status` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub hooks_dir: PathBuf,
    /// `core.hooksPath`, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hooks_path: Option<String>,
    pub installed: bool,
    pub hooks: Vec<HookState>,
    /// Whether `notes.displayRef` includes the work notes (plain `git log` shows them).
    pub display_ref: bool,
    /// Remotes whose fetch refspecs bring gastown state into refs/gastown-remotes/.
    pub fetch_remotes: Vec<String>,
}

/// What install or uninstall did to one hook.
#[derive(Debug, Clone, Serialize)]
pub struct HookChange {
    pub name: String,
    pub path: PathBuf,
    /// install: `installed`, `chained` (the user's hook kept and run first), `updated`,
    /// `unchanged`; uninstall: `removed`, `restored` (the user's hook put back), `absent`,
    /// `left` (not ours: left alone).
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chained: Option<PathBuf>,
}

/// What `hooks install|uninstall` did.
#[derive(Debug, Clone, Serialize)]
pub struct Changed {
    pub hooks_dir: PathBuf,
    pub hooks: Vec<HookChange>,
    /// Whether `notes.displayRef` was changed.
    pub display_ref_changed: bool,
    /// Remotes whose fetch refspecs were changed.
    pub fetch_remotes: Vec<String>,
}

/// The directory git runs hooks from, for the repository at `dir` (absolute).
pub fn hooks_dir(dir: &Path) -> Result<PathBuf> {
    let out = gitcmd::run(
        dir,
        ["rev-parse", "--path-format=absolute", "--git-path", "hooks"],
    )?;
    Ok(PathBuf::from(out.trim_end_matches(['\n', '\r'])))
}

fn is_ours(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .is_ok_and(|text| text.lines().take(3).any(|l| l.starts_with(MARKER)))
}

fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

fn orig_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(ORIG_SUFFIX);
    PathBuf::from(name)
}

fn io<'a>(what: &str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    let what = what.to_string();
    move |e| Error::io(format!("{what} {}", path.display()), e)
}

/// Write `script` at `path`, executable, by temp file + rename (git never runs half a hook).
fn write_script(path: &Path, script: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".gastown-tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, script).map_err(io("writing", &tmp))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
        .map_err(io("making executable", &tmp))?;
    std::fs::rename(&tmp, path).map_err(io("installing", path))
}

fn state_of(dir: &Path, name: &str, script: &str) -> HookState {
    let path = dir.join(name);
    let orig = orig_of(&path);
    let state = if !exists(&path) {
        "absent"
    } else if !is_ours(&path) {
        "foreign"
    } else if std::fs::read_to_string(&path).is_ok_and(|t| t == script) {
        "installed"
    } else {
        "outdated"
    };
    HookState {
        name: name.to_string(),
        chained: exists(&orig).then_some(orig),
        path,
        state: state.to_string(),
    }
}

/// The remotes of the repository.
fn remotes(dir: &Path) -> Vec<String> {
    gitcmd::probe(dir, ["remote"])
        .map(|out| {
            out.lines()
                .map(str::to_string)
                .filter(|l| !l.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn config_values(dir: &Path, key: &str) -> Vec<String> {
    gitcmd::probe(dir, ["config", "--local", "--get-all", key])
        .map(|out| out.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

fn refspecs(remote: &str) -> Vec<String> {
    Remote {
        target: remote.to_string(),
        namespace: remote.to_string(),
    }
    .fetch_refspecs()
}

/// Where the hooks stand in the repository at `dir`.
pub fn status(dir: &Path) -> Result<Status> {
    let hooks_dir = hooks_dir(dir)?;
    let hooks: Vec<HookState> = HOOKS
        .iter()
        .map(|(name, script)| state_of(&hooks_dir, name, script))
        .collect();
    let fetch_remotes = remotes(dir)
        .into_iter()
        .filter(|r| {
            let have = config_values(dir, &format!("remote.{r}.fetch"));
            refspecs(r).iter().all(|s| have.contains(s))
        })
        .collect();
    Ok(Status {
        installed: hooks.iter().all(|h| h.state == "installed"),
        hooks_path: gitcmd::get_config(dir, "core.hooksPath"),
        display_ref: config_values(dir, "notes.displayRef")
            .iter()
            .any(|v| v == DISPLAY_REF),
        hooks,
        hooks_dir,
        fetch_remotes,
    })
}

/// Install (or update) every hook, chaining to the user's own, and set `notes.displayRef`;
/// with `fetch`, add the fetch refspecs that bring gastown state to every remote. Running
/// it again changes nothing.
pub fn install(dir: &Path, fetch: bool) -> Result<Changed> {
    let hooks_dir = hooks_dir(dir)?;
    // Refuse before changing anything: a kept-aside hook we would have to overwrite.
    for (name, _) in HOOKS {
        let path = hooks_dir.join(name);
        let orig = orig_of(&path);
        if exists(&path) && !is_ours(&path) && exists(&orig) {
            return Err(Error::invalid(format!(
                "both {} and {} exist and neither is gastown's hook; move one away, then install again",
                path.display(),
                orig.display()
            )));
        }
    }
    std::fs::create_dir_all(&hooks_dir).map_err(io("creating", &hooks_dir))?;
    let mut hooks = Vec::new();
    for (name, script) in HOOKS {
        let path = hooks_dir.join(name);
        let orig = orig_of(&path);
        let action = if !exists(&path) {
            write_script(&path, script)?;
            "installed"
        } else if is_ours(&path) {
            if std::fs::read_to_string(&path).is_ok_and(|t| t == *script) {
                "unchanged"
            } else {
                write_script(&path, script)?;
                "updated"
            }
        } else {
            // rename keeps the file itself: its bytes, mode and owner (or the symlink).
            std::fs::rename(&path, &orig).map_err(io("keeping aside", &path))?;
            if let Err(e) = write_script(&path, script) {
                let _ = std::fs::rename(&orig, &path);
                return Err(e);
            }
            "chained"
        };
        hooks.push(HookChange {
            name: name.to_string(),
            chained: exists(&orig).then_some(orig),
            path,
            action: action.to_string(),
        });
    }
    let mut display_ref_changed = false;
    if !config_values(dir, "notes.displayRef")
        .iter()
        .any(|v| v == DISPLAY_REF)
    {
        gitcmd::run(
            dir,
            [
                "config",
                "--local",
                "--add",
                "notes.displayRef",
                DISPLAY_REF,
            ],
        )?;
        display_ref_changed = true;
    }
    let mut fetch_remotes = Vec::new();
    if fetch {
        for remote in remotes(dir) {
            let key = format!("remote.{remote}.fetch");
            let have = config_values(dir, &key);
            let mut changed = false;
            for spec in refspecs(&remote) {
                if !have.contains(&spec) {
                    gitcmd::run(dir, ["config", "--local", "--add", &key, &spec])?;
                    changed = true;
                }
            }
            if changed {
                fetch_remotes.push(remote);
            }
        }
    }
    Ok(Changed {
        hooks_dir,
        hooks,
        display_ref_changed,
        fetch_remotes,
    })
}

/// Remove our hooks, putting back the user's hooks byte for byte, and the config install
/// added. A hook that is not ours is left alone.
pub fn uninstall(dir: &Path) -> Result<Changed> {
    let hooks_dir = hooks_dir(dir)?;
    let mut hooks = Vec::new();
    for (name, _) in HOOKS {
        let path = hooks_dir.join(name);
        let orig = orig_of(&path);
        let action = if exists(&path) && !is_ours(&path) {
            "left"
        } else {
            let ours = exists(&path);
            if ours {
                std::fs::remove_file(&path).map_err(io("removing", &path))?;
            }
            if exists(&orig) {
                std::fs::rename(&orig, &path).map_err(io("restoring", &orig))?;
                "restored"
            } else if ours {
                "removed"
            } else {
                "absent"
            }
        };
        hooks.push(HookChange {
            name: name.to_string(),
            chained: None,
            path,
            action: action.to_string(),
        });
    }
    let display_ref_changed = config_values(dir, "notes.displayRef")
        .iter()
        .any(|v| v == DISPLAY_REF);
    if display_ref_changed {
        gitcmd::run(
            dir,
            [
                "config",
                "--local",
                "--fixed-value",
                "--unset-all",
                "notes.displayRef",
                DISPLAY_REF,
            ],
        )?;
    }
    let mut fetch_remotes = Vec::new();
    for remote in remotes(dir) {
        let key = format!("remote.{remote}.fetch");
        let have = config_values(dir, &key);
        let mut changed = false;
        for spec in refspecs(&remote) {
            if have.contains(&spec) {
                gitcmd::run(
                    dir,
                    [
                        "config",
                        "--local",
                        "--fixed-value",
                        "--unset-all",
                        &key,
                        &spec,
                    ],
                )?;
                changed = true;
            }
        }
        if changed {
            fetch_remotes.push(remote);
        }
    }
    Ok(Changed {
        hooks_dir,
        hooks,
        display_ref_changed,
        fetch_remotes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_is_marked_and_posix_sh() {
        for (name, script) in HOOKS {
            assert!(script.starts_with("#!/bin/sh\n"), "{name}");
            assert_eq!(
                script.lines().nth(1),
                Some(format!("{MARKER} {name}").as_str()),
                "{name}"
            );
            assert!(script.contains(ORIG_SUFFIX), "{name} chains");
            assert!(script.contains("GT_NO_HOOKS"), "{name} can be skipped");
        }
    }
}
