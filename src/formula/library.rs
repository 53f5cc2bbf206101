//! Finding formulas by name: built-in (embedded), repo-level `.gastown/formulas/`, user-level
//! `~/.config/gastown/formulas/`. On a name clash the first of these wins.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::model::{Origin, SourceKind};
use super::parse::{parse_str, Parsed};
use crate::error::{Error, Result};

/// Built-in formulas: (name, TOML text), embedded from `formulas/` at the project root.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "mol-polecat-work",
        include_str!("../../formulas/mol-polecat-work.formula.toml"),
    ),
    (
        "mol-code-review",
        include_str!("../../formulas/mol-code-review.formula.toml"),
    ),
    (
        "mol-release",
        include_str!("../../formulas/mol-release.formula.toml"),
    ),
    (
        "mol-witness-patrol",
        include_str!("../../formulas/mol-witness-patrol.formula.toml"),
    ),
    (
        "mol-refinery-patrol",
        include_str!("../../formulas/mol-refinery-patrol.formula.toml"),
    ),
    (
        "mol-deacon-patrol",
        include_str!("../../formulas/mol-deacon-patrol.formula.toml"),
    ),
    (
        "exp-refine",
        include_str!("../../formulas/exp-refine.formula.toml"),
    ),
    (
        "asp-secret-scan",
        include_str!("../../formulas/asp-secret-scan.formula.toml"),
    ),
];

/// File name suffixes of formula files.
pub const SUFFIXES: &[&str] = &[".formula.toml", ".formula.json"];

/// The formula name of a file name (`x.formula.toml` → `x`), if it is a formula file.
pub fn name_of_file(file_name: &str) -> Option<&str> {
    SUFFIXES
        .iter()
        .find_map(|suffix| file_name.strip_suffix(suffix))
        .filter(|name| !name.is_empty())
}

/// The user-level formula directory: `$XDG_CONFIG_HOME/gastown/formulas` when that variable
/// is set to an absolute path, else `$HOME/.config/gastown/formulas`.
pub fn user_dir(home: Option<&Path>, xdg_config_home: Option<&Path>) -> Option<PathBuf> {
    match xdg_config_home {
        Some(xdg) if xdg.is_absolute() => Some(xdg.join("gastown").join("formulas")),
        _ => home.map(|h| h.join(".config").join("gastown").join("formulas")),
    }
}

/// The repo-level formula directory of a worktree root.
pub fn repo_dir(repo_root: &Path) -> PathBuf {
    repo_root.join(".gastown").join("formulas")
}

/// One formula the library can see.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub name: String,
    pub source: SourceKind,
    /// The file; `None` for built-in formulas.
    pub path: Option<PathBuf>,
    /// Set when a formula of the same name from a higher-precedence source wins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadowed_by: Option<SourceKind>,
}

impl Entry {
    pub fn origin(&self) -> Origin {
        match &self.path {
            None => Origin::builtin(&self.name),
            Some(p) => Origin::file(self.source, p.clone()),
        }
    }
}

/// Resolves formula names for `extends`, `compose.expand`, `compose.map` and
/// `compose.aspects`. [`Library`] is the real one; tests may use a map.
pub trait Resolver {
    /// The formula called `name`, or `Ok(None)` if there is none.
    fn resolve(&self, name: &str) -> Result<Option<Parsed>>;
    /// Where names are looked up, for "unknown formula" messages.
    fn searched(&self) -> String;
}

/// The formulas visible from one place: built-in, repo-level, user-level, plus extra
/// directories (the directory of a formula file given on the command line), in that order.
#[derive(Debug, Clone, Default)]
pub struct Library {
    dirs: Vec<(SourceKind, PathBuf)>,
}

impl Library {
    /// `repo_root`: the worktree root (its `.gastown/formulas/` is searched), if any.
    /// `user_dir`: see [`user_dir`].
    pub fn new(repo_root: Option<&Path>, user_dir: Option<PathBuf>) -> Self {
        let mut dirs = Vec::new();
        if let Some(root) = repo_root {
            dirs.push((SourceKind::Repo, repo_dir(root)));
        }
        if let Some(dir) = user_dir {
            dirs.push((SourceKind::User, dir));
        }
        Library { dirs }
    }

    /// Only the built-in formulas.
    pub fn builtin_only() -> Self {
        Library::default()
    }

    /// Also search `dir` (lowest precedence), labelled as `file`.
    pub fn with_extra_dir(mut self, dir: PathBuf) -> Self {
        if !self.dirs.iter().any(|(_, d)| d == &dir) {
            self.dirs.push((SourceKind::File, dir));
        }
        self
    }

    /// The directories searched after the built-ins, in precedence order.
    pub fn dirs(&self) -> &[(SourceKind, PathBuf)] {
        &self.dirs
    }

    /// Every formula of every source, sorted by name and then precedence; entries that
    /// lose a name clash carry `shadowed_by`.
    pub fn list(&self) -> Vec<Entry> {
        let mut all: Vec<Entry> = BUILTIN
            .iter()
            .map(|(name, _)| Entry {
                name: name.to_string(),
                source: SourceKind::Builtin,
                path: None,
                shadowed_by: None,
            })
            .collect();
        for (source, dir) in &self.dirs {
            for (name, path) in dir_entries(dir) {
                all.push(Entry {
                    name,
                    source: *source,
                    path: Some(path),
                    shadowed_by: None,
                });
            }
        }
        // Stable sort keeps precedence order within a name.
        all.sort_by(|a, b| a.name.cmp(&b.name));
        let mut winner: BTreeMap<String, SourceKind> = BTreeMap::new();
        for entry in &mut all {
            match winner.get(&entry.name) {
                Some(source) => entry.shadowed_by = Some(*source),
                None => {
                    winner.insert(entry.name.clone(), entry.source);
                }
            }
        }
        all
    }

    /// The winning entry for `name`.
    pub fn find(&self, name: &str) -> Option<Entry> {
        if BUILTIN.iter().any(|(n, _)| *n == name) {
            return Some(Entry {
                name: name.to_string(),
                source: SourceKind::Builtin,
                path: None,
                shadowed_by: None,
            });
        }
        for (source, dir) in &self.dirs {
            for suffix in SUFFIXES {
                let path = dir.join(format!("{name}{suffix}"));
                if path.is_file() {
                    return Some(Entry {
                        name: name.to_string(),
                        source: *source,
                        path: Some(path),
                        shadowed_by: None,
                    });
                }
            }
        }
        None
    }

    /// Load and parse an entry.
    pub fn load_entry(&self, entry: &Entry) -> Result<Parsed> {
        match &entry.path {
            None => {
                let text = BUILTIN
                    .iter()
                    .find(|(n, _)| *n == entry.name)
                    .map(|(_, t)| *t)
                    .ok_or_else(|| {
                        Error::invalid(format!("no built-in formula '{}'", entry.name))
                    })?;
                parse_named(text, entry.origin(), &entry.name)
            }
            Some(path) => load_file(path, entry.source),
        }
    }

    /// Load the formula called `name`, or fail naming where it was looked for.
    pub fn load(&self, name: &str) -> Result<Parsed> {
        match self.find(name) {
            Some(entry) => self.load_entry(&entry),
            None => Err(Error::invalid(format!(
                "unknown formula '{name}' (searched {})",
                self.searched()
            ))),
        }
    }
}

impl Resolver for Library {
    fn resolve(&self, name: &str) -> Result<Option<Parsed>> {
        match self.find(name) {
            Some(entry) => self.load_entry(&entry).map(Some),
            None => Ok(None),
        }
    }

    fn searched(&self) -> String {
        let mut places = vec!["built-in".to_string()];
        places.extend(self.dirs.iter().map(|(_, d)| d.display().to_string()));
        places.join(", ")
    }
}

/// Read and parse a formula file.
pub fn load_file(path: &Path, source: SourceKind) -> Result<Parsed> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let origin = Origin::file(source, path.to_path_buf());
    match path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(name_of_file)
    {
        Some(name) => {
            let name = name.to_string();
            parse_named(&text, origin, &name)
        }
        None => parse_str(&text, origin),
    }
}

/// Parse, and warn when the `formula` key differs from the file name.
fn parse_named(text: &str, origin: Origin, file_name: &str) -> Result<Parsed> {
    let mut parsed = parse_str(text, origin)?;
    if parsed.formula.name != file_name {
        parsed.warnings.push(format!(
            "{}: the formula is called '{}' but the file name says '{file_name}'; it is found by the file name",
            parsed.formula.origin.label, parsed.formula.name
        ));
    }
    Ok(parsed)
}

/// Formula files of a directory, sorted by name (missing or unreadable directories are empty).
fn dir_entries(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, PathBuf)> = read
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let path = e.path();
            let name = name_of_file(path.file_name()?.to_str()?)?.to_string();
            path.is_file().then_some((name, path))
        })
        .collect();
    // A name with both .toml and .json: the .toml wins, as in `find`.
    out.sort_by_key(|(name, path)| (name.clone(), path.extension().is_some_and(|e| e == "json")));
    out.dedup_by(|b, a| a.0 == b.0);
    out
}
