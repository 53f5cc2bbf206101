//! A read-only view of one collection at one commit.

use gix::ObjectId;

use super::{CLOCK_HEADER, MAX_CLOCK};
use crate::error::{Error, Result};

/// The clock of commit `oid` from its header value: a number no larger than [`MAX_CLOCK`].
fn parse_clock(oid: ObjectId, value: Option<&str>) -> Result<u64> {
    let Some(value) = value else {
        return Err(Error::Corrupt(format!(
            "commit {oid} is not a gastown state (it has no {CLOCK_HEADER} header)"
        )));
    };
    match value.trim().parse::<u64>() {
        Ok(clock) if clock <= MAX_CLOCK => Ok(clock),
        _ => Err(Error::Corrupt(format!(
            "commit {oid} has {CLOCK_HEADER} '{}', not a clock within 2^48",
            value.trim()
        ))),
    }
}

/// The clock and parents of a gastown commit (history walks).
pub(super) fn commit_info(repo: &gix::Repository, oid: ObjectId) -> Result<(u64, Vec<ObjectId>)> {
    let commit = repo.find_commit(oid)?;
    let decoded = commit.decode()?;
    let clock = decoded
        .extra_headers
        .iter()
        .find(|(k, _)| *k == CLOCK_HEADER)
        .map(|(_, v)| v.to_string());
    Ok((
        parse_clock(oid, clock.as_deref())?,
        decoded.parents().collect(),
    ))
}

/// One collection at one commit: every read goes through the tree of that commit, so a
/// snapshot is consistent however many writers run meanwhile.
pub struct Snapshot<'r> {
    repo: &'r gix::Repository,
    /// The commit the collection ref pointed at, `None` if the collection does not exist.
    pub tip: Option<ObjectId>,
    /// Its tree (the empty tree when there is no tip).
    pub tree: ObjectId,
    /// The Lamport clock recorded in the tip commit.
    pub clock: u64,
    headers: Vec<(String, String)>,
}

/// A tree entry: a file (blob) or a directory (tree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub oid: ObjectId,
    pub is_tree: bool,
}

impl<'r> Snapshot<'r> {
    pub(super) fn at_ref(repo: &'r gix::Repository, ref_name: &str) -> Result<Self> {
        let tip = match repo.try_find_reference(ref_name)? {
            Some(mut reference) => Some(reference.peel_to_id()?.detach()),
            None => None,
        };
        Self::at_commit(repo, tip).map_err(|e| match e {
            Error::Corrupt(why) => Error::Corrupt(format!("{ref_name}: {why}")),
            other => other,
        })
    }

    /// The state at commit `tip`, which must be a gastown state: a commit whose clock
    /// header is a number within [`super::MAX_CLOCK`]. Anything else is an error, never
    /// an empty store.
    pub(super) fn at_commit(repo: &'r gix::Repository, tip: Option<ObjectId>) -> Result<Self> {
        let Some(tip) = tip else {
            return Ok(Snapshot {
                repo,
                tip: None,
                tree: ObjectId::empty_tree(repo.object_hash()),
                clock: 0,
                headers: Vec::new(),
            });
        };
        let object = repo.find_object(tip)?;
        if object.kind != gix::object::Kind::Commit {
            return Err(Error::Corrupt(format!(
                "{tip} is a {}, not a gastown commit",
                object.kind
            )));
        }
        let commit = object.into_commit();
        let decoded = commit.decode()?;
        let tree = decoded.tree();
        let headers: Vec<(String, String)> = decoded
            .extra_headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let clock = parse_clock(
            tip,
            headers
                .iter()
                .find(|(k, _)| k == CLOCK_HEADER)
                .map(|(_, v)| v.as_str()),
        )?;
        Ok(Snapshot {
            repo,
            tip: Some(tip),
            tree,
            clock,
            headers,
        })
    }

    /// A view of an arbitrary tree, for reading historical or fetched states.
    pub(super) fn at_tree(repo: &'r gix::Repository, tree: ObjectId) -> Self {
        Snapshot {
            repo,
            tip: None,
            tree,
            clock: 0,
            headers: Vec::new(),
        }
    }

    pub fn exists(&self) -> bool {
        self.tip.is_some()
    }

    /// For reading history inside the crate; nothing outside `src/store` writes through it.
    pub(crate) fn repo(&self) -> &'r gix::Repository {
        self.repo
    }

    /// An extra header of the tip commit.
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The entries of the directory at `path` ("" is the root); empty if it does not exist.
    pub fn list(&self, path: &str) -> Result<Vec<Entry>> {
        match self.resolve(path)? {
            Some(entry) if entry.is_tree => self.entries_of(entry.oid),
            _ => Ok(Vec::new()),
        }
    }

    /// The entries of the tree object `tree`.
    pub fn entries_of(&self, tree: ObjectId) -> Result<Vec<Entry>> {
        let tree = self.repo.find_tree(tree)?;
        let decoded = tree.decode()?;
        Ok(decoded
            .entries
            .iter()
            .map(|e| Entry {
                name: e.filename.to_string(),
                oid: e.oid.to_owned(),
                is_tree: e.mode.is_tree(),
            })
            .collect())
    }

    /// The entry at `path`, walking one tree per component.
    pub fn resolve(&self, path: &str) -> Result<Option<Entry>> {
        let mut current = Entry {
            name: String::new(),
            oid: self.tree,
            is_tree: true,
        };
        for component in path.split('/').filter(|c| !c.is_empty()) {
            if !current.is_tree {
                return Ok(None);
            }
            let tree = self.repo.find_tree(current.oid)?;
            let decoded = tree.decode()?;
            let Some(found) = decoded.entries.iter().find(|e| e.filename == component) else {
                return Ok(None);
            };
            current = Entry {
                name: component.to_string(),
                oid: found.oid.to_owned(),
                is_tree: found.mode.is_tree(),
            };
        }
        Ok(Some(current))
    }

    /// The contents of the file at `path`, if there is one.
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        match self.resolve(path)? {
            Some(entry) if !entry.is_tree => Ok(Some(self.read_blob(entry.oid)?)),
            _ => Ok(None),
        }
    }

    pub fn read_blob(&self, oid: ObjectId) -> Result<Vec<u8>> {
        let mut blob = self.repo.find_blob(oid)?;
        Ok(blob.take_data())
    }

    /// Every file below `path`, as (path relative to the root, blob id).
    pub fn walk(&self, path: &str) -> Result<Vec<(String, ObjectId)>> {
        let mut out = Vec::new();
        if let Some(entry) = self.resolve(path)? {
            if entry.is_tree {
                self.walk_tree(entry.oid, path.trim_end_matches('/'), &mut out)?;
            } else {
                out.push((path.to_string(), entry.oid));
            }
        }
        Ok(out)
    }

    fn walk_tree(
        &self,
        tree: ObjectId,
        prefix: &str,
        out: &mut Vec<(String, ObjectId)>,
    ) -> Result<()> {
        for entry in self.entries_of(tree)? {
            let path = join(prefix, &entry.name);
            if entry.is_tree {
                self.walk_tree(entry.oid, &path, out)?;
            } else {
                out.push((path, entry.oid));
            }
        }
        Ok(())
    }

    /// Files below `path` that differ between `older` (a tree id) and this snapshot: each
    /// as (path, blob id here or `None` if removed). Unchanged subtrees are skipped by id, so
    /// the cost follows the size of the change, not of the store.
    pub fn changed_since(
        &self,
        older: ObjectId,
        path: &str,
    ) -> Result<Vec<(String, Option<ObjectId>)>> {
        let mut out = Vec::new();
        let old_root = Snapshot {
            repo: self.repo,
            tip: None,
            tree: older,
            clock: 0,
            headers: Vec::new(),
        };
        let old = old_root.resolve(path)?.filter(|e| e.is_tree).map(|e| e.oid);
        let new = self.resolve(path)?.filter(|e| e.is_tree).map(|e| e.oid);
        self.diff_trees(old, new, path.trim_end_matches('/'), &mut out)?;
        Ok(out)
    }

    /// Files that differ between two versions of the directory `path`, given as subtree
    /// ids (the empty tree for "absent"): each as (path from the root, blob id in `newer`
    /// or `None` if removed). Identical subtrees are skipped by id.
    pub fn changed_between(
        &self,
        older: ObjectId,
        newer: ObjectId,
        path: &str,
    ) -> Result<Vec<(String, Option<ObjectId>)>> {
        let mut out = Vec::new();
        let some = |t: ObjectId| (!t.is_empty_tree()).then_some(t);
        self.diff_trees(
            some(older),
            some(newer),
            path.trim_end_matches('/'),
            &mut out,
        )?;
        Ok(out)
    }

    fn diff_trees(
        &self,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
        prefix: &str,
        out: &mut Vec<(String, Option<ObjectId>)>,
    ) -> Result<()> {
        if old == new {
            return Ok(());
        }
        let old_entries = match old {
            Some(oid) => self.entries_of(oid)?,
            None => Vec::new(),
        };
        let new_entries = match new {
            Some(oid) => self.entries_of(oid)?,
            None => Vec::new(),
        };
        let mut old_by_name: std::collections::HashMap<&str, &Entry> =
            old_entries.iter().map(|e| (e.name.as_str(), e)).collect();
        for entry in &new_entries {
            let path = join(prefix, &entry.name);
            match old_by_name.remove(entry.name.as_str()) {
                Some(prev) if prev.oid == entry.oid && prev.is_tree == entry.is_tree => {}
                Some(prev) => match (prev.is_tree, entry.is_tree) {
                    (true, true) => self.diff_trees(Some(prev.oid), Some(entry.oid), &path, out)?,
                    (false, false) => out.push((path, Some(entry.oid))),
                    (true, false) => {
                        self.diff_trees(Some(prev.oid), None, &path, out)?;
                        out.push((path, Some(entry.oid)));
                    }
                    (false, true) => {
                        out.push((path.clone(), None));
                        self.diff_trees(None, Some(entry.oid), &path, out)?;
                    }
                },
                None if entry.is_tree => self.diff_trees(None, Some(entry.oid), &path, out)?,
                None => out.push((path, Some(entry.oid))),
            }
        }
        for (name, prev) in old_by_name {
            let path = join(prefix, name);
            if prev.is_tree {
                self.diff_trees(Some(prev.oid), None, &path, out)?;
            } else {
                out.push((path, None));
            }
        }
        Ok(())
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

impl std::fmt::Debug for Snapshot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("tip", &self.tip)
            .field("tree", &self.tree)
            .field("clock", &self.clock)
            .finish()
    }
}
