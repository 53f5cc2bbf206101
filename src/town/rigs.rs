//! The rig registry: `rigs/<name>.json` records in the town's store. A rig registered from
//! a local path stays where it is; one given by URL is cloned into `<town>/rigs/<name>/repo`.
//! Agents' sandboxes go in the rig's agent directory (`<town>/rigs/<name>/`, or beside a
//! lone repository as `<dir>.gastown/`), never inside the rig's working tree or `.git`.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Value};

use super::Town;
use crate::bead::ops::carry_count;
use crate::bead::record::{Record, Stamp};
use crate::bead::{Beads, COLLECTION};
use crate::error::{Error, Result};
use crate::gitcmd;
use crate::records;
use crate::store::{Actor, Outcome, Store};

const DIR: &str = "rigs";

/// A registered rig.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rig {
    pub name: String,
    /// The rig repository's main working directory.
    pub path: PathBuf,
    /// Where it was cloned from, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Its beads' id prefix.
    pub prefix: String,
    pub parked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added_at: Option<String>,
    /// Where its agents' sandboxes live.
    pub agents_dir: PathBuf,
    /// The repository is its own town (no `git gastown init` was run).
    pub lone: bool,
}

impl Rig {
    pub fn open_store(&self) -> Result<Store> {
        Store::open(&self.path).map_err(|e| match e {
            Error::NotARepository(_) => Error::invalid(format!(
                "rig '{}' is missing: {} is not a git repository (remove it with `git gastown rig remove {}`)",
                self.name,
                self.path.display(),
                self.name
            )),
            other => other,
        })
    }

    pub fn check_not_parked(&self) -> Result<()> {
        if self.parked {
            return Err(Error::invalid(format!(
                "rig '{}' is parked; `git gastown rig unpark {}` first",
                self.name, self.name
            )));
        }
        Ok(())
    }
}

/// Rig names: a letter or digit, then letters, digits, '-' or '_' (32 at most), so a name is
/// always one safe path component.
pub fn validate_name(name: &str) -> Result<()> {
    validate_path_name("rig", name, 32)
}

/// A name that becomes one path component (rigs, agents): lower-case letters, digits, '-'
/// and '_', starting with a letter or digit, at most `max` bytes.
pub fn validate_path_name(what: &str, name: &str, max: usize) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= max
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else if name.len() > max {
        Err(Error::invalid(format!(
            "bad {what} name '{name}': {} characters, at most {max}",
            name.chars().count()
        )))
    } else {
        Err(Error::invalid(format!(
            "bad {what} name '{}': use lower-case letters, digits, '-' and '_'",
            name.escape_debug()
        )))
    }
}

/// A rig name from a directory name (`My.Project` → `my-project`).
pub fn name_from_dir(dir: &Path) -> String {
    let raw = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    name = name.trim_matches('-').chars().take(32).collect();
    if name.is_empty() {
        "rig".to_string()
    } else {
        name
    }
}

/// The registry, seen from a town.
pub struct Rigs<'t> {
    pub(super) town: &'t Town,
}

fn path_of(name: &str) -> String {
    format!("{DIR}/{name}.json")
}

/// A registered rig from its record. A path inside the town (a cloned rig) is stored
/// relative to the town, so every clone of the town finds it under its own root.
fn from_record(town_root: &Path, record: &Record) -> Rig {
    let text = |k: &str| record.str(k).map(str::to_string);
    let name = record.id.clone();
    Rig {
        path: town_root.join(text("path").unwrap_or_default()),
        url: text("url"),
        prefix: text("prefix").unwrap_or_default(),
        parked: record
            .get("parked")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        added_at: text("added_at"),
        agents_dir: town_root.join(DIR).join(&name),
        lone: false,
        name,
    }
}

/// What `rig add` did.
#[derive(Debug, Clone, Serialize)]
pub struct Added {
    #[serde(flatten)]
    pub rig: Rig,
    /// False when the rig was already registered so (nothing was written).
    pub changed: bool,
    /// The repository was cloned into the town.
    pub cloned: bool,
    /// The rig's bead store was created.
    pub initialized: bool,
    /// A removed rig of that name came back (its record and history kept).
    pub revived: bool,
}

/// A rig and the state of its directories, for `rig show`.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    #[serde(flatten)]
    pub rig: Rig,
    pub path_exists: bool,
    pub is_git_repo: bool,
    /// The rig's own git config names this town (`gastown.town`).
    pub knows_town: bool,
    pub agents_dir_exists: bool,
}

impl<'t> Rigs<'t> {
    /// Every registered rig (the lone repository itself when there is no town).
    pub fn list(&self) -> Result<Vec<Rig>> {
        if let Some(name) = &self.town.lone_rig {
            return Ok(vec![self.lone(name)?]);
        }
        Ok(self
            .records()?
            .into_iter()
            .filter(|r| !is_removed(r))
            .map(|r| from_record(&self.town.root, &r))
            .collect())
    }

    /// Every rig record, removed ones included. A record whose name is not a valid rig name
    /// (written by hand, or by another version, and synced here) is left out: names become
    /// paths.
    fn records(&self) -> Result<Vec<Record>> {
        let snap = self.town.store.snapshot(COLLECTION)?;
        Ok(records::list(&snap, DIR)?
            .into_iter()
            .filter(|(path, r)| validate_name(&r.id).is_ok() && *path == path_of(&r.id))
            .map(|(_, r)| r)
            .collect())
    }

    /// The rig named `name`.
    pub fn get(&self, name: &str) -> Result<Rig> {
        validate_name(name)?;
        if let Some(lone) = &self.town.lone_rig {
            if lone == name {
                return self.lone(lone);
            }
            return Err(Error::invalid(format!(
                "no rig named '{name}': this repository is a town of one rig ('{lone}')"
            )));
        }
        let snap = self.town.store.snapshot(COLLECTION)?;
        match records::read(&snap, &path_of(name))? {
            Some(record) if !is_removed(&record) => Ok(from_record(&self.town.root, &record)),
            _ => Err(Error::invalid(format!(
                "no rig named '{name}' (see `git gastown rig list`)"
            ))),
        }
    }

    /// The rig `name` and the state of its directories.
    pub fn status(&self, name: &str) -> Result<Status> {
        let rig = self.get(name)?;
        let town_root = canonical(&self.town.root);
        let is_git_repo = gitcmd::probe(&rig.path, ["rev-parse", "--show-toplevel"])
            .is_some_and(|top| canonical(Path::new(top.trim())) == canonical(&rig.path));
        let knows_town = rig.lone
            || (is_git_repo
                && gitcmd::get_config(&rig.path, "gastown.town")
                    .is_some_and(|t| canonical(Path::new(&t)) == town_root));
        Ok(Status {
            path_exists: rig.path.is_dir(),
            is_git_repo,
            knows_town,
            agents_dir_exists: rig.agents_dir.is_dir(),
            rig,
        })
    }

    /// The rig whose repository contains `dir` (a rig's worktree or one of its sandboxes).
    pub fn containing(&self, dir: &Path) -> Result<Rig> {
        if let Some(name) = &self.town.lone_rig {
            return self.lone(name);
        }
        let store = Store::open(dir)?;
        if let Some(name) = store.config_string("gastown.rig") {
            return self.get(&name);
        }
        Err(Error::invalid(format!(
            "'{}' is not in a rig of this town; name one with --rig",
            dir.display()
        )))
    }

    fn lone(&self, name: &str) -> Result<Rig> {
        let root = &self.town.root;
        let prefix = Beads::new(&self.town.store)
            .snapshot()
            .and_then(|snap| Beads::new(&self.town.store).config(&snap))
            .map(|c| c.prefix)
            .unwrap_or_default();
        let parent = root.parent().unwrap_or(root);
        let dir_name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| name.to_string());
        Ok(Rig {
            name: name.to_string(),
            path: root.clone(),
            url: None,
            prefix,
            parked: false,
            added_at: None,
            agents_dir: parent.join(format!("{dir_name}.gastown")),
            lone: true,
        })
    }

    fn require_town(&self) -> Result<()> {
        if self.town.is_lone_rig() {
            return Err(Error::invalid(format!(
                "'{}' has no town; create one with `git gastown init [DIR]` and add rigs to it",
                self.town.root.display()
            )));
        }
        Ok(())
    }

    /// Register `source` (a local repository, kept in place, or a URL, cloned into
    /// `<town>/rigs/<name>/repo`) as rig `name`, creating its bead store with `prefix` when
    /// it has none. Every check runs before anything is written; a clone made for a refused
    /// rig is removed again.
    pub fn add(
        &self,
        actor: &Actor,
        name: &str,
        source: &str,
        prefix: Option<&str>,
    ) -> Result<Added> {
        self.require_town()?;
        validate_name(name)?;
        // bd's prefix rules (dots allowed, trailing '-' dropped), as `git bead init` applies.
        let normalized = match prefix {
            Some(p) => Some(crate::bead::schema::normalize_prefix(p)?),
            None => None,
        };
        let prefix = normalized.as_deref();
        let town_root = canonical(&self.town.root);
        let all = self.records()?;
        let previous = all
            .iter()
            .find(|r| r.id == name)
            .map(|r| from_record(&self.town.root, r));
        let removed_before = all.iter().any(|r| r.id == name && is_removed(r));
        let existing: Vec<Rig> = all
            .iter()
            .filter(|r| !is_removed(r))
            .map(|r| from_record(&self.town.root, r))
            .collect();
        let local = Path::new(source);
        let (path, url) = if local.is_dir() && !is_bare(local) {
            let top = gitcmd::toplevel(local)
                .map_err(|_| Error::invalid(format!("'{source}' is not a git repository")))?;
            (canonical(&top), None)
        } else if !looks_like_url(source) {
            return Err(Error::invalid(format!(
                "'{source}' is neither a local repository nor a URL"
            )));
        } else {
            let clone_path = town_root.join(DIR).join(name).join("repo");
            (clone_path, Some(source.to_string()))
        };
        if let Some(rig) = existing.iter().find(|r| r.name == name) {
            if rig.path == path && rig.url == url && prefix.is_none_or(|p| p == rig.prefix) {
                return Ok(Added {
                    rig: rig.clone(),
                    changed: false,
                    cloned: false,
                    initialized: false,
                    revived: false,
                });
            }
            return Err(Error::invalid(format!(
                "a rig named '{name}' already exists at {}",
                rig.path.display()
            )));
        }
        if let Some(rig) = existing.iter().find(|r| r.path == path) {
            return Err(Error::invalid(format!(
                "{} is already rig '{}'",
                path.display(),
                rig.name
            )));
        }
        if path == town_root || town_root.starts_with(&path) {
            return Err(Error::invalid(
                "the town repository cannot be one of its own rigs",
            ));
        }
        if url.is_none() {
            if let Some(other) = gitcmd::get_config(&path, "gastown.town") {
                if canonical(Path::new(&other)) != town_root {
                    return Err(Error::invalid(format!(
                        "{} already belongs to the town at {other}",
                        path.display()
                    )));
                }
            }
        }
        // A clone left behind by `rig remove` is taken back rather than cloned again.
        let reuse_clone = url.is_some()
            && previous.as_ref().is_some_and(|p| p.path == path)
            && is_repo_top(&path);
        let cloned = url.is_some() && !reuse_clone;
        let made_dir = if cloned {
            Some(self.clone_rig(actor, name, source, &path)?)
        } else {
            None
        };
        let undo_clone = || {
            if let Some(dir) = &made_dir {
                let _ = std::fs::remove_dir_all(dir);
            }
        };
        let result = self.register(actor, name, &path, url.as_deref(), prefix, &existing);
        match result {
            Ok((rig, initialized)) => Ok(Added {
                rig,
                changed: true,
                cloned,
                initialized,
                revived: removed_before,
            }),
            Err(e) => {
                undo_clone();
                Err(e)
            }
        }
    }

    /// Clone `source` to `path` and bring over the gastown state the source shares (a clone
    /// copies branches and tags only). Returns the directory to delete if the rig is refused.
    fn clone_rig(&self, actor: &Actor, name: &str, source: &str, path: &Path) -> Result<PathBuf> {
        let rig_dir = path
            .parent()
            .expect("clone path has a parent")
            .to_path_buf();
        if path.exists() {
            return Err(Error::invalid(format!(
                "cannot clone rig '{name}': {} already exists",
                path.display()
            )));
        }
        // Delete on failure only what this command created.
        let made = if rig_dir.exists() {
            path.to_path_buf()
        } else {
            rig_dir.clone()
        };
        std::fs::create_dir_all(&rig_dir)
            .map_err(|e| Error::io(format!("creating {}", rig_dir.display()), e))?;
        let fetched = gitcmd::run(
            &rig_dir,
            [
                std::ffi::OsStr::new("clone"),
                std::ffi::OsStr::new("--quiet"),
                std::ffi::OsStr::new("--"),
                std::ffi::OsStr::new(source),
                path.as_os_str(),
            ],
        )
        .and_then(|_| {
            let store = Store::open(path)?;
            let options = crate::sync::SyncOptions {
                remote: Some("origin".into()),
                cwd: path.to_path_buf(),
                attempts: 1,
            };
            // A fresh clone has nothing of its own: this only fetches (nothing to push).
            crate::sync::sync(&store, actor, &options).map(|_| ())
        });
        if let Err(e) = fetched {
            let _ = std::fs::remove_dir_all(&made);
            return Err(e);
        }
        Ok(made)
    }

    /// The writes of `add` once the repository is in place: the rig's bead store (after the
    /// prefix is known to be free), its git config, then the registry record.
    fn register(
        &self,
        actor: &Actor,
        name: &str,
        path: &Path,
        url: Option<&str>,
        prefix: Option<&str>,
        existing: &[Rig],
    ) -> Result<(Rig, bool)> {
        let store = Store::open(path)?;
        let beads = Beads::new(&store);
        let current = match beads.snapshot().and_then(|s| beads.config(&s)) {
            Ok(config) => Some(config.prefix),
            Err(Error::NotInitialized(_)) => None,
            Err(e) => return Err(e),
        };
        let chosen = match (&current, prefix) {
            (Some(have), Some(want)) if have != want => {
                return Err(Error::invalid(format!(
                    "{} already has beads with prefix '{have}', not '{want}'",
                    path.display()
                )));
            }
            (Some(have), _) => have.clone(),
            (None, Some(want)) => want.to_string(),
            (None, None) => derived_prefix(name),
        };
        if let Some(rig) = existing.iter().find(|r| r.prefix == chosen) {
            return Err(Error::invalid(format!(
                "prefix '{chosen}' is already rig '{}''s; give another with --prefix",
                rig.name
            )));
        }
        if chosen == super::TOWN_PREFIX {
            return Err(Error::invalid(format!(
                "prefix '{chosen}' is the town's own; give another with --prefix"
            )));
        }
        let initialized = current.is_none();
        if initialized {
            beads.init(actor, &chosen)?;
        }
        let town_root = canonical(&self.town.root);
        let old_config = ["gastown.town", "gastown.rig"].map(|k| (k, local_config(path, k)));
        gitcmd::set_config(path, "gastown.town", &town_root.to_string_lossy())?;
        gitcmd::set_config(path, "gastown.rig", name)?;
        let stored = path.strip_prefix(&town_root).unwrap_or(path);
        let path_text = stored.to_string_lossy().into_owned();
        let written = self.town.store.write(COLLECTION, actor, |snap, batch| {
            let stamp = Stamp(batch.clock, actor.name.clone());
            // A removed rig's record is revived: its identity (and history) is kept.
            let mut record =
                records::read(snap, &path_of(name))?.unwrap_or_else(|| records::named_record(name));
            for (k, v) in [
                ("removed", json!(false)),
                ("path", json!(path_text)),
                ("url", json!(url)),
                ("prefix", json!(chosen)),
                ("parked", json!(false)),
                ("added_at", json!(crate::bead::schema::now_rfc3339())),
            ] {
                record.set(k, v, &stamp);
            }
            records::put(batch, &path_of(name), &record);
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!("rig add {name}: {path_text}"),
                value: from_record(&self.town.root, &record),
            })
        });
        match written {
            Ok(rig) => Ok((rig, initialized)),
            Err(e) => {
                for (key, old) in &old_config {
                    restore_config(path, key, old.as_deref());
                }
                Err(e)
            }
        }
    }

    /// Unregister a rig. Its repository and sandboxes stay on disk; its git config forgets
    /// the town, so it works on its own again.
    pub fn remove(&self, actor: &Actor, name: &str) -> Result<Rig> {
        self.require_town()?;
        let rig = self.get(name)?;
        let removed = self.town.store.write(COLLECTION, actor, |snap, batch| {
            let Some(mut record) = records::read(snap, &path_of(name))? else {
                return Err(Error::invalid(format!("no rig named '{name}'")));
            };
            // Not a tombstone: adding the name again later revives the record.
            record.set(
                "removed",
                json!(true),
                &Stamp(batch.clock, actor.name.clone()),
            );
            records::put(batch, &path_of(name), &record);
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!("rig remove {name}"),
                value: rig.clone(),
            })
        })?;
        let town_root = canonical(&self.town.root);
        let ours = local_config(&rig.path, "gastown.town")
            .is_some_and(|t| canonical(Path::new(&t)) == town_root);
        if ours && is_repo_top(&rig.path) {
            restore_config(&rig.path, "gastown.town", None);
            restore_config(&rig.path, "gastown.rig", None);
        }
        Ok(removed)
    }

    /// Park (no new sessions or dispatch) or unpark a rig.
    pub fn set_parked(&self, actor: &Actor, name: &str, parked: bool) -> Result<Rig> {
        self.require_town()?;
        self.get(name)?;
        self.town.store.write(COLLECTION, actor, |snap, batch| {
            let Some(mut record) = records::read(snap, &path_of(name))? else {
                return Err(Error::invalid(format!("no rig named '{name}'")));
            };
            let changed = record.set(
                "parked",
                json!(parked),
                &Stamp(batch.clock, actor.name.clone()),
            );
            let rig = from_record(&self.town.root, &record);
            if !changed {
                return Ok(Outcome::Unchanged(rig));
            }
            records::put(batch, &path_of(name), &record);
            carry_count(snap, batch, 0);
            let verb = if parked { "park" } else { "unpark" };
            Ok(Outcome::Commit {
                message: format!("rig {verb} {name}"),
                value: rig,
            })
        })
    }
}

fn is_removed(record: &Record) -> bool {
    record.is_deleted()
        || record
            .get("removed")
            .and_then(Value::as_bool)
            .unwrap_or(false)
}

/// Whether git would take `source` as a remote: `scheme://…`, scp-like `host:path`, or an
/// existing path (a bare repository or a bundle).
fn looks_like_url(source: &str) -> bool {
    let scp_like = source
        .split_once(':')
        .is_some_and(|(host, _)| !host.is_empty() && !host.contains('/'));
    source.contains("://") || scp_like || Path::new(source).exists()
}

/// Whether `dir` is the top of a git working tree.
fn is_repo_top(dir: &Path) -> bool {
    gitcmd::probe(dir, ["rev-parse", "--show-toplevel"])
        .is_some_and(|top| canonical(Path::new(top.trim())) == canonical(dir))
}

/// A path with symlinks resolved when it exists (paths are compared in this form).
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// A repository-local git config value (not the user's or the system's).
fn local_config(repo: &Path, key: &str) -> Option<String> {
    gitcmd::probe(repo, ["config", "--local", "--get", key])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Put a repository-local git config value back as it was (best effort: used to undo).
fn restore_config(repo: &Path, key: &str, value: Option<&str>) {
    let _ = match value {
        Some(v) => gitcmd::set_config(repo, key, v),
        None => gitcmd::run(repo, ["config", "--local", "--unset-all", key]).map(|_| ()),
    };
}

fn is_bare(dir: &Path) -> bool {
    gitcmd::probe(dir, ["rev-parse", "--is-bare-repository"]).is_some_and(|s| s.trim() == "true")
}

/// A bead prefix from a rig name: its first letters and digits (at most 8).
fn derived_prefix(name: &str) -> String {
    let p: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(8)
        .collect();
    if p.starts_with(|c: char| c.is_ascii_alphabetic()) {
        p
    } else {
        format!("r{p}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_never_escape_a_directory() {
        for bad in ["", "..", "a/b", "../x", "A", ".hidden", "a b", "x\0"] {
            assert!(validate_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(validate_name(&"a".repeat(33))
            .unwrap_err()
            .to_string()
            .contains("33 characters"));
        validate_name("web-app_2").unwrap();
    }

    #[test]
    fn urls_are_told_from_missing_paths() {
        for url in [
            "https://github.com/o/r",
            "file:///tmp/x.git",
            "git@github.com:o/r.git",
            "host:repo",
        ] {
            assert!(looks_like_url(url), "{url}");
        }
        for path in ["../missing", "/no/such/dir", "rel/path", "./x:y"] {
            assert!(!looks_like_url(path), "{path}");
        }
    }

    #[test]
    fn names_and_prefixes_derive_from_directories() {
        assert_eq!(name_from_dir(Path::new("/x/My.Project")), "my-project");
        assert_eq!(name_from_dir(Path::new("/x/...")), "rig");
        assert_eq!(derived_prefix("web-app"), "webapp");
        assert_eq!(derived_prefix("9lives"), "r9lives");
    }
}
