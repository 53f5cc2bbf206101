//! The bead service: every method is one `Store::write` (one commit, or nothing written on
//! error) that applies the rules of `rules` to the beads it names.

use serde::Serialize;

use super::id::record_path;
use super::ops::Beads;
use super::rules::{self, CloseSpec, Comment, UpdateSpec};
use super::schema;
use super::Record;
use crate::bead::record::Stamp;
use crate::error::{Error, Result};
use crate::store::{Actor, Outcome, Snapshot};

/// A dependency that now holds. Fields in alphabetical order, as the JSON output has them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DepAdded {
    pub depends_on_id: String,
    pub issue_id: String,
    #[serde(rename = "type")]
    pub dep_type: String,
}

/// A dependency that was removed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DepRemoved {
    pub depends_on_id: String,
    pub issue_id: String,
    pub removed: bool,
}

impl Beads<'_> {
    /// Change fields, labels, parent or claim of `ids` (ids or unique prefixes).
    pub fn update(&self, actor: &Actor, ids: &[String], spec: &UpdateSpec) -> Result<Vec<Record>> {
        spec.check()?;
        // Resolve the new parent before taking the lock; `set_parent` re-checks it inside.
        let mut spec = spec.clone();
        if let Some(Some(parent)) = &spec.parent {
            let snap = self.snapshot()?;
            let config = self.config(&snap)?;
            spec.parent = Some(Some(self.resolve(&snap, &config, parent, &mut None)?));
        }
        self.modify(actor, spec.verb(), ids, spec.needs_index(), |edit| {
            rules::apply_update(edit, &spec)
        })
    }

    /// Close `ids`: refused while a bead has open blockers (or is an epic with open
    /// children), unless forced.
    ///
    /// A convoy of this same store (a lone repository, or the town's own beads) that the
    /// close completes lands in this same commit; convoys elsewhere are landed right after
    /// by `crate::convoy::after_close`, which every closing command calls.
    pub fn close(&self, actor: &Actor, ids: &[String], spec: &CloseSpec) -> Result<Vec<Record>> {
        if ids.is_empty() {
            return Err(Error::invalid("no bead id given"));
        }
        self.store.write(self.collection, actor, |snap, batch| {
            let modified = self.modify_in(snap, batch, actor, ids, spec.needs_index(), |edit| {
                rules::close(edit, spec)
            })?;
            if modified.changed.is_empty() {
                return Ok(Outcome::Unchanged(modified.records));
            }
            let mut message = modified.message("close");
            if self.collection == super::COLLECTION {
                let stamp = Stamp(batch.clock, actor.name.clone());
                // Landing is a derived fact: trouble reading a convoy's other rigs must not
                // refuse the close (the next command or sync lands it).
                let landed =
                    crate::convoy::land_in(self.store, snap, batch, &stamp, &modified.changed)
                        .unwrap_or_default();
                if !landed.is_empty() {
                    let ids: Vec<&str> = landed.iter().map(|l| l.id.as_str()).collect();
                    message.push_str(&format!("; lands convoy {}", ids.join(", ")));
                }
            }
            Ok(Outcome::Commit {
                message,
                value: modified.records,
            })
        })
    }

    /// Reopen closed `ids`; a reason is added as a comment.
    pub fn reopen(
        &self,
        actor: &Actor,
        ids: &[String],
        reason: Option<&str>,
    ) -> Result<Vec<Record>> {
        self.modify(actor, "reopen", ids, false, |edit| {
            rules::reopen(edit, reason)
        })
    }

    /// Tombstone `ids`: they stay deleted on every clone.
    pub fn delete(&self, actor: &Actor, ids: &[String]) -> Result<Vec<Record>> {
        self.modify(actor, "delete", ids, false, |edit| {
            Ok(rules::tombstone(edit))
        })
    }

    /// Add (`on`) or remove a label on `ids`.
    pub fn label(
        &self,
        actor: &Actor,
        ids: &[String],
        label: &str,
        on: bool,
    ) -> Result<Vec<Record>> {
        let label = schema::validate_label(label)?;
        let verb = if on { "label add" } else { "label remove" };
        self.modify(actor, verb, ids, false, |edit| {
            rules::set_label(edit, &label, on)
        })
    }

    /// Make `issue` depend on `depends_on` (ids or unique prefixes) with `dep_type`.
    pub fn add_dep(
        &self,
        actor: &Actor,
        issue: &str,
        depends_on: &str,
        dep_type: &str,
    ) -> Result<DepAdded> {
        let kind = schema::validate_dep_type(dep_type)?;
        let target = {
            let snap = self.snapshot()?;
            let config = self.config(&snap)?;
            self.resolve(&snap, &config, depends_on, &mut None)?
        };
        let records = self.modify(actor, "dep add", &[issue.to_string()], true, |edit| {
            rules::add_dependency(edit, &target, &kind)
        })?;
        Ok(DepAdded {
            depends_on_id: target,
            issue_id: records[0].id.clone(),
            dep_type: kind,
        })
    }

    /// Remove the dependency of `issue` on `depends_on` (which may name a deleted bead).
    pub fn remove_dep(&self, actor: &Actor, issue: &str, depends_on: &str) -> Result<DepRemoved> {
        let target = {
            let snap = self.snapshot()?;
            self.resolve_any(&snap, depends_on)
                .unwrap_or_else(|_| depends_on.to_string())
        };
        let records = self.modify(actor, "dep remove", &[issue.to_string()], false, |edit| {
            rules::remove_dependency(edit, &target)
        })?;
        Ok(DepRemoved {
            depends_on_id: target,
            issue_id: records[0].id.clone(),
            removed: true,
        })
    }

    /// Add a comment to `id` by `author` (default: the actor).
    pub fn comment(
        &self,
        actor: &Actor,
        id: &str,
        text: &str,
        author: Option<&str>,
    ) -> Result<Comment> {
        if text.trim().is_empty() {
            return Err(Error::invalid("a comment needs text"));
        }
        let mut added = None;
        self.modify(actor, "comment", &[id.to_string()], false, |edit| {
            added = Some(rules::add_comment(edit, text, author)?);
            Ok(true)
        })?;
        added.ok_or_else(|| Error::Git("comment was not added".into()))
    }

    /// Resolve an id that may name a deleted bead (for `log` and `dep remove`).
    pub fn resolve_any(&self, snap: &Snapshot<'_>, id: &str) -> Result<String> {
        let config = self.config(snap)?;
        for candidate in [id.to_string(), format!("{}-{id}", config.prefix)] {
            if schema::validate_id(&candidate).is_ok()
                && snap.resolve(&record_path(&candidate))?.is_some()
            {
                return Ok(candidate);
            }
        }
        self.resolve(snap, &config, id, &mut None)
    }
}
