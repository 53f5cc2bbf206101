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
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else if name.len() > 32 {
        Err(Error::invalid(format!(
            "bad rig name '{name}': {} characters, at most 32",
            name.chars().count()
        )))
    } else {
        Err(Error::invalid(format!(
            "bad rig name '{name}': use lower-case letters, digits, '-' and '_'"
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
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '-' })
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

fn from_record(town_root: &Path, record: &Record) -> Rig {
    let text = |k: &str| record.str(k).map(str::to_string);
    let name = record.id.clone();
    Rig {
        path: PathBuf::from(text("path").unwrap_or_default()),
        url: text("url"),
        prefix: text("prefix").unwrap_or_default(),
        parked: record.get("parked").and_then(Value::as_bool).unwrap_or(false),
        added_at: text("added_at"),
        agents_dir: town_root.join(DIR).join(&name),
        lone: false,
        name,
    }
}

impl<'t> Rigs<'t> {
    /// Every registered rig (the lone repository itself when there is no town).
    pub fn list(&self) -> Result<Vec<Rig>> {
        if let Some(name) = &self.town.lone_rig {
            return Ok(vec![self.lone(name)?]);
        }
        let snap = self.town.store.snapshot(COLLECTION)?;
        Ok(records::list(&snap, DIR)?
            .into_iter()
            .filter(|(_, r)| !is_removed(r))
            .map(|(_, r)| from_record(&self.town.root, &r))
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

    /// Register `source` (a local repository, kept in place, or a URL, cloned into the town)
    /// as rig `name`, initialising its bead store with `prefix` when it has none.
    pub fn add(&self, actor: &Actor, name: &str, source: &str, prefix: Option<&str>) -> Result<Rig> {
        self.require_town()?;
        validate_name(name)?;
        if let Some(p) = prefix {
            crate::bead::schema::validate_prefix(p)?;
        }
        let existing = self.list()?;
        let local = Path::new(source);
        let (path, url) = if local.is_dir() && !is_bare(local) {
            let top = gitcmd::toplevel(local).map_err(|_| {
                Error::invalid(format!("'{source}' is not a git repository"))
            })?;
            (std::fs::canonicalize(&top).unwrap_or(top), None)
        } else {
            (self.town.root.join(DIR).join(name).join("repo"), Some(source.to_string()))
        };
        if let Some(rig) = existing.iter().find(|r| r.name == name) {
            if rig.path == path {
                return Ok(rig.clone());
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
        let town_root = std::fs::canonicalize(&self.town.root).unwrap_or(self.town.root.clone());
        if path == town_root {
            return Err(Error::invalid("the town repository cannot be one of its own rigs"));
        }
        if url.is_none() {
            if let Some(other) = gitcmd::get_config(&path, "gastown.town") {
                let other_path = std::fs::canonicalize(&other).unwrap_or(PathBuf::from(&other));
                if other_path != town_root {
                    return Err(Error::invalid(format!(
                        "{} already belongs to the town at {other}",
                        path.display()
                    )));
                }
            }
        } else {
            if path.exists() {
                return Err(Error::invalid(format!(
                    "cannot clone rig '{name}': {} already exists",
                    path.display()
                )));
            }
            std::fs::create_dir_all(path.parent().expect("clone path has a parent"))
                .map_err(|e| Error::io("creating the rig directory", e))?;
            gitcmd::run(&self.town.root, [
                std::ffi::OsStr::new("clone"),
                std::ffi::OsStr::new("--quiet"),
                std::ffi::OsStr::new("--"),
                std::ffi::OsStr::new(source),
                path.as_os_str(),
            ])?;
        }
        // The rig's store: keep its prefix, or create it with the given (or a derived) one.
        let store = Store::open(&path)?;
        let beads = Beads::new(&store);
        let prefix = match beads.snapshot().and_then(|s| beads.config(&s)) {
            Ok(config) => {
                if let Some(p) = prefix.filter(|p| *p != config.prefix) {
                    return Err(Error::invalid(format!(
                        "{} already has beads with prefix '{}', not '{p}'",
                        path.display(),
                        config.prefix
                    )));
                }
                config.prefix
            }
            Err(Error::NotInitialized(_)) => {
                let p = prefix.map(str::to_string).unwrap_or_else(|| derived_prefix(name));
                beads.init(actor, &p)?;
                p
            }
            Err(e) => return Err(e),
        };
        if let Some(rig) = existing.iter().find(|r| r.prefix == prefix) {
            return Err(Error::invalid(format!(
                "prefix '{prefix}' is already rig '{}''s; give another with --prefix",
                rig.name
            )));
        }
        gitcmd::set_config(&path, "gastown.town", &town_root.to_string_lossy())?;
        gitcmd::set_config(&path, "gastown.rig", name)?;
        let path_text = path.to_string_lossy().into_owned();
        self.town.store.write(COLLECTION, actor, |snap, batch| {
            let stamp = Stamp(batch.clock, actor.name.clone());
            // A removed rig's record is revived: its identity (and history) is kept.
            let mut record = records::read(snap, &path_of(name))?
                .unwrap_or_else(|| records::named_record(name));
            for (k, v) in [
                ("removed", json!(false)),
                ("path", json!(path_text)),
                ("url", json!(url)),
                ("prefix", json!(prefix)),
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
        })
    }

    /// Unregister a rig (its repository and sandboxes are left on disk).
    pub fn remove(&self, actor: &Actor, name: &str) -> Result<Rig> {
        self.require_town()?;
        let rig = self.get(name)?;
        self.town.store.write(COLLECTION, actor, |snap, batch| {
            let Some(mut record) = records::read(snap, &path_of(name))? else {
                return Err(Error::invalid(format!("no rig named '{name}'")));
            };
            // Not a tombstone: adding the name again later revives the record.
            record.set("removed", json!(true), &Stamp(batch.clock, actor.name.clone()));
            records::put(batch, &path_of(name), &record);
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!("rig remove {name}"),
                value: rig.clone(),
            })
        })
    }

    /// Park (no new sessions or dispatch) or unpark a rig.
    pub fn set_parked(&self, actor: &Actor, name: &str, parked: bool) -> Result<Rig> {
        self.require_town()?;
        self.get(name)?;
        self.town.store.write(COLLECTION, actor, |snap, batch| {
            let Some(mut record) = records::read(snap, &path_of(name))? else {
                return Err(Error::invalid(format!("no rig named '{name}'")));
            };
            let changed = record.set("parked", json!(parked), &Stamp(batch.clock, actor.name.clone()));
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
    record.is_deleted() || record.get("removed").and_then(Value::as_bool).unwrap_or(false)
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
        assert!(validate_name(&"a".repeat(33)).unwrap_err().to_string().contains("33 characters"));
        validate_name("web-app_2").unwrap();
    }

    #[test]
    fn names_and_prefixes_derive_from_directories() {
        assert_eq!(name_from_dir(Path::new("/x/My.Project")), "my-project");
        assert_eq!(name_from_dir(Path::new("/x/...")), "rig");
        assert_eq!(derived_prefix("web-app"), "webapp");
        assert_eq!(derived_prefix("9lives"), "r9lives");
    }
}
