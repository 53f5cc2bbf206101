//! The rules of a bead change, as functions on one record inside a write (an [`Edit`]).
//!
//! `Beads::update`, `close`, `add_dep`, … (service.rs) are each one `Store::write` that
//! applies these. Other domains (convoys, patrol, the merge queue) that change beads among
//! their own records call them inside their own write, through `Beads::modify_in`, so every
//! bead change obeys the same rules whoever makes it.

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::graph;
use super::id::record_path;
use super::index::Index;
use super::ops::{add_dep, nonce, Edit};
use super::schema::{self, now_rfc3339};
use crate::error::{Error, Result};

/// Fields `update` may never remove (besides the managed ones): every bead has them.
const REQUIRED_FIELDS: [&str; 4] = ["title", "status", "priority", "issue_type"];

/// A change to beads' fields, labels and parent. Every value is already parsed; `None`
/// leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct UpdateSpec {
    pub title: Option<String>,
    pub description: Option<String>,
    pub design: Option<String>,
    pub acceptance_criteria: Option<String>,
    pub notes: Option<String>,
    pub owner: Option<String>,
    pub external_ref: Option<String>,
    /// `Some(None)` clears the assignee.
    pub assignee: Option<Option<String>>,
    /// 0 (highest) to 4.
    pub priority: Option<i64>,
    /// RFC 3339; `Some(None)` clears.
    pub due_at: Option<Option<String>>,
    /// RFC 3339; `Some(None)` clears.
    pub defer_until: Option<Option<String>>,
    pub estimated_minutes: Option<u32>,
    /// Replaces the old metadata.
    pub metadata: Option<Map<String, Value>>,
    /// Any other field by its bd JSON name; never a managed field or the status.
    pub set: Vec<(String, Value)>,
    /// Fields to remove; never a managed or required field.
    pub unset: Vec<String>,
    /// A paragraph appended to the notes.
    pub append_notes: Option<String>,
    /// A status name (normalised against the store's statuses).
    pub status: Option<String>,
    /// A type name (normalised against the store's types).
    pub issue_type: Option<String>,
    pub add_labels: Vec<String>,
    pub remove_labels: Vec<String>,
    /// Move under this parent (a full id); `Some(None)` detaches.
    pub parent: Option<Option<String>>,
    /// bd's claim: assignee = actor and status = in_progress, refused if someone else holds it.
    pub claim: bool,
}

impl UpdateSpec {
    /// Refuse what no update may do, before anything is read.
    pub fn check(&self) -> Result<()> {
        if self.title.as_deref().is_some_and(|t| t.trim().is_empty()) {
            return Err(Error::invalid("a bead needs a non-empty title"));
        }
        for (key, _) in &self.set {
            if key.is_empty() || schema::MANAGED_FIELDS.contains(&key.as_str()) || key == "status" {
                return Err(Error::invalid(format!(
                    "--set cannot change '{key}'; use the command that manages it"
                )));
            }
        }
        for key in &self.unset {
            if schema::MANAGED_FIELDS.contains(&key.as_str())
                || REQUIRED_FIELDS.contains(&key.as_str())
            {
                return Err(Error::invalid(format!("--unset cannot remove '{key}'")));
            }
        }
        for label in &self.add_labels {
            schema::validate_label(label)?;
        }
        Ok(())
    }

    /// Whether applying it needs the dependency index (a new parent is checked for cycles).
    pub fn needs_index(&self) -> bool {
        matches!(self.parent, Some(Some(_)))
    }

    /// The verb of its commit message.
    pub fn verb(&self) -> &'static str {
        if self.claim {
            "claim"
        } else {
            "update"
        }
    }

    /// The plain field assignments, in the order they apply.
    fn assignments(&self) -> Vec<(&str, Value)> {
        let mut out: Vec<(&str, Value)> = Vec::new();
        let text_fields = [
            ("title", &self.title),
            ("description", &self.description),
            ("design", &self.design),
            ("acceptance_criteria", &self.acceptance_criteria),
            ("notes", &self.notes),
            ("owner", &self.owner),
            ("external_ref", &self.external_ref),
        ];
        for (key, value) in text_fields {
            if let Some(v) = value {
                out.push((key, json!(v)));
            }
        }
        let clearable = [
            ("assignee", &self.assignee),
            ("due_at", &self.due_at),
            ("defer_until", &self.defer_until),
        ];
        for (key, value) in clearable {
            if let Some(v) = value {
                out.push((key, json!(v)));
            }
        }
        if let Some(p) = self.priority {
            out.push(("priority", json!(p)));
        }
        if let Some(e) = self.estimated_minutes {
            out.push(("estimated_minutes", json!(e)));
        }
        if let Some(m) = &self.metadata {
            out.push(("metadata", Value::Object(m.clone())));
        }
        for (key, value) in &self.set {
            out.push((key, value.clone()));
        }
        for key in &self.unset {
            out.push((key, Value::Null));
        }
        out
    }
}

/// Apply `spec` to the record. Returns whether it changed.
pub fn apply_update(edit: &mut Edit<'_, '_>, spec: &UpdateSpec) -> Result<bool> {
    spec.check()?;
    let mut changed = false;
    if let Some(t) = &spec.issue_type {
        let t = schema::normalize_type(t, &edit.config.types)?;
        changed |= edit.set("issue_type", json!(t));
    }
    if let Some(s) = &spec.status {
        let s = schema::normalize_status(s, &edit.config.statuses)?;
        changed |= edit.set_status(&s);
    }
    for (key, value) in spec.assignments() {
        changed |= edit.set(key, value);
    }
    if let Some(extra) = &spec.append_notes {
        let notes = match edit.record.str("notes") {
            Some(old) => format!("{old}\n\n{extra}"),
            None => extra.clone(),
        };
        changed |= edit.set("notes", json!(notes));
    }
    for label in &spec.add_labels {
        changed |= set_label(edit, label, true)?;
    }
    for label in &spec.remove_labels {
        changed |= set_label(edit, label, false)?;
    }
    if let Some(parent) = &spec.parent {
        changed |= set_parent(edit, parent.as_deref())?;
    }
    if spec.claim {
        changed |= claim(edit)?;
    }
    Ok(changed)
}

/// How to close beads.
#[derive(Debug, Clone, Default)]
pub struct CloseSpec {
    /// Why they are closed (`close_reason`).
    pub reason: Option<String>,
    /// Close even with open blockers or open children.
    pub force: bool,
}

impl CloseSpec {
    /// Whether closing needs the dependency index (the blocker and children checks).
    pub fn needs_index(&self) -> bool {
        !self.force
    }
}

/// Close the record (a no-op if it is closed), unless forced only once nothing blocks it.
pub fn close(edit: &mut Edit<'_, '_>, spec: &CloseSpec) -> Result<bool> {
    if edit.record.status() == "closed" {
        return Ok(false);
    }
    if !spec.force {
        check_closable(edit)?;
    }
    let mut changed = edit.set_status("closed");
    if let Some(reason) = &spec.reason {
        changed |= edit.set("close_reason", json!(reason));
    }
    Ok(changed)
}

/// Reopen a closed record (a no-op otherwise); a reason becomes a comment.
pub fn reopen(edit: &mut Edit<'_, '_>, reason: Option<&str>) -> Result<bool> {
    if edit.record.status() != "closed" {
        return Ok(false);
    }
    let mut changed = edit.set_status("open");
    changed |= edit.set("close_reason", Value::Null);
    if let Some(reason) = reason {
        add_comment(edit, &format!("Reopened: {reason}"), None)?;
        changed = true;
    }
    Ok(changed)
}

/// Delete the record: a tombstone no stale edit from another clone can undo.
pub fn tombstone(edit: &mut Edit<'_, '_>) -> bool {
    if edit.record.is_deleted() {
        return false;
    }
    edit.record.deleted = Some(edit.stamp.clone());
    true
}

/// Add or remove a label. Added labels must be valid; removing one that is not there is a
/// no-op.
pub fn set_label(edit: &mut Edit<'_, '_>, label: &str, on: bool) -> Result<bool> {
    let label = if on {
        schema::validate_label(label)?
    } else {
        label.trim().to_string()
    };
    Ok(edit.record.set_label(&label, on, edit.stamp))
}

/// Make the record depend on `target` (a full id) with `kind`. One type per pair: a
/// dependency of another type must be removed first. No self-dependencies, no dangling
/// targets, no cycles among ordering dependencies (needs the index).
pub fn add_dependency(edit: &mut Edit<'_, '_>, target: &str, kind: &str) -> Result<bool> {
    let kind = schema::validate_dep_type(kind)?;
    let id = edit.record.id.clone();
    if id == target {
        return Err(Error::invalid(format!("bead {id} cannot depend on itself")));
    }
    if edit.snap.resolve(&record_path(target))?.is_none() {
        return Err(Error::NotFound(target.to_string()));
    }
    if let Some((_, existing, _)) = edit.record.live_deps().find(|(t, _, _)| *t == target) {
        if existing == kind {
            return Ok(false);
        }
        return Err(Error::invalid(format!(
            "{id} already depends on {target} as '{existing}'; remove that first (one type per pair)"
        )));
    }
    check_no_cycle(edit.index()?, &id, target, &kind)?;
    Ok(add_dep(
        edit.record,
        target,
        &kind,
        edit.stamp,
        &edit.actor.name,
        &now_rfc3339(),
    ))
}

/// Remove the record's dependency on `target`; an error if there is none.
pub fn remove_dependency(edit: &mut Edit<'_, '_>, target: &str) -> Result<bool> {
    let Some(member) = edit.record.deps.get_mut(target).filter(|m| m.on) else {
        return Err(Error::invalid(format!(
            "{} does not depend on {target}",
            edit.record.id
        )));
    };
    member.on = false;
    member.at = edit.stamp.clone();
    Ok(true)
}

/// Move the record under `parent` (a full id), or detach it (`None`). A bead has at most
/// one parent; the old parent link is removed.
pub fn set_parent(edit: &mut Edit<'_, '_>, parent: Option<&str>) -> Result<bool> {
    let id = edit.record.id.clone();
    let old: Vec<String> = edit
        .record
        .live_deps()
        .filter(|(_, kind, _)| *kind == "parent-child")
        .map(|(t, _, _)| t.to_string())
        .collect();
    let mut changed = false;
    for target in old.iter().filter(|t| Some(t.as_str()) != parent) {
        if let Some(member) = edit.record.deps.get_mut(target) {
            member.on = false;
            member.at = edit.stamp.clone();
            changed = true;
        }
    }
    if let Some(parent) = parent {
        if parent == id {
            return Err(Error::invalid(format!(
                "bead {id} cannot be its own parent"
            )));
        }
        if edit.snap.resolve(&record_path(parent))?.is_none() {
            return Err(Error::NotFound(parent.to_string()));
        }
        check_no_cycle(edit.index()?, &id, parent, "parent-child")?;
        changed |= add_dep(
            edit.record,
            parent,
            "parent-child",
            edit.stamp,
            &edit.actor.name,
            &now_rfc3339(),
        );
    }
    Ok(changed)
}

/// Refuse a new ordering edge `from → to` that would close a cycle.
pub fn check_no_cycle(index: &Index, from: &str, to: &str, kind: &str) -> Result<()> {
    if !graph::ORDERING_DEP_TYPES.contains(&kind) {
        return Ok(());
    }
    if let Some(path) = graph::path_between(index, to, from) {
        let mut cycle = vec![from.to_string()];
        cycle.extend(path);
        return Err(Error::invalid(format!(
            "adding {from} → {to} ({kind}) would create a dependency cycle: {}",
            cycle.join(" → ")
        )));
    }
    Ok(())
}

/// bd's claim: assignee = actor and status = in_progress, only if nobody else holds the
/// bead. Idempotent for the same actor.
pub fn claim(edit: &mut Edit<'_, '_>) -> Result<bool> {
    let me = edit.actor.name.clone();
    let id = edit.record.id.clone();
    if let Some(holder) = edit.record.assignee() {
        if holder != me {
            return Err(Error::Conflict(format!(
                "{id} is already claimed by {holder}"
            )));
        }
    }
    let status = edit.record.status().to_string();
    if !["open", "in_progress", "hooked"].contains(&status.as_str()) {
        return Err(Error::invalid(format!(
            "{id} is not claimable: its status is {status}"
        )));
    }
    let mut changed = edit.set("assignee", json!(me));
    changed |= edit.set_status("in_progress");
    Ok(changed)
}

/// bd's close guards: no open blockers, and an epic only once its children are closed.
pub fn check_closable(edit: &Edit<'_, '_>) -> Result<()> {
    let index = edit.index()?;
    let id = &edit.record.id;
    let Some(pos) = index.position(id) else {
        return Ok(());
    };
    let row = &index.rows[pos];
    let blockers: Vec<&str> = index
        .blockers(row)
        .iter()
        .map(|&b| index.id(&index.rows[b as usize]))
        .collect();
    if !blockers.is_empty() {
        return Err(Error::invalid(format!(
            "{id} has open blockers ({}); close them first or use --force",
            blockers.join(", ")
        )));
    }
    if edit.record.issue_type() == "epic" {
        let open_children = open_children(index, id);
        if !open_children.is_empty() {
            return Err(Error::invalid(format!(
                "epic {id} has open children ({}); close them first or use --force",
                open_children.join(", ")
            )));
        }
    }
    Ok(())
}

/// Up to ten children of `id` that are not closed (an epic closes only without them).
pub fn open_children<'i>(index: &'i Index, id: &str) -> Vec<&'i str> {
    let Some(pos) = index.position(id) else {
        return Vec::new();
    };
    index
        .rows
        .iter()
        .filter(|r| r.parent as usize == pos && index.status(r) != "closed")
        .map(|r| index.id(r))
        .take(10)
        .collect()
}

/// A comment in bd's shape. Fields are in alphabetical order: that is the order of the
/// stored JSON object and of the `--json` output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comment {
    pub author: String,
    pub created_at: String,
    pub id: String,
    pub issue_id: String,
    pub text: String,
}

/// Append a comment (comments only grow) by `author`, or by the actor when `None` (bd's
/// `--author`: the UI records the person at the keyboard, the commit still names the actor).
pub fn add_comment(edit: &mut Edit<'_, '_>, text: &str, author: Option<&str>) -> Result<Comment> {
    if text.trim().is_empty() {
        return Err(Error::invalid("a comment needs text"));
    }
    let author = match author {
        Some(name) => schema::validate_author(name)?,
        None => edit.actor.name.clone(),
    };
    let comment = Comment {
        id: nonce(&format!("{}|{author}|{text}", edit.record.id)),
        author,
        created_at: now_rfc3339(),
        issue_id: edit.record.id.clone(),
        text: text.to_string(),
    };
    let value = serde_json::to_value(&comment).expect("a comment serialises");
    edit.record.comments.insert(comment.id.clone(), value);
    Ok(comment)
}
