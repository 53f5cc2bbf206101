//! Groups, queues and channels: records in the mail collection (`lists/<kind>/<name>.json`),
//! so they sync with the mail they route. Members are a stamped set (two clones adding
//! different members both keep theirs); a deleted list is a `removed` field, so the name can
//! be used again.
//!
//! - group: `members` are addresses (agents, overseer, patterns, other groups), expanded at
//!   send time: each send records the mailboxes it reached.
//! - queue: `members` may claim (empty: anyone); `order` is fifo or priority.
//! - channel: `members` are subscribers; `retain_count` / `retain_hours` bound what it keeps.

use serde::Serialize;
use serde_json::{json, Value};

use super::{Mail, COLLECTION};
use crate::bead::record::{Record, Stamp};
use crate::error::{Error, Result};
use crate::records;
use crate::store::{Actor, Outcome, Snapshot};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ListKind {
    Group,
    Queue,
    Channel,
}

impl ListKind {
    pub const ALL: [ListKind; 3] = [ListKind::Group, ListKind::Queue, ListKind::Channel];

    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::Group => "group",
            ListKind::Queue => "queue",
            ListKind::Channel => "channel",
        }
    }

    /// `group:NAME` and the like, split.
    pub fn split(word: &str) -> Option<(ListKind, &str)> {
        let (kind, name) = word.split_once(':')?;
        let kind = ListKind::ALL.into_iter().find(|k| k.as_str() == kind)?;
        Some((kind, name))
    }

    fn path(self, name: &str) -> String {
        format!("lists/{}/{name}.json", self.as_str())
    }
}

/// A list as `git mail group|queue|channel show` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct ListDef {
    pub kind: ListKind,
    pub name: String,
    pub members: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retain_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retain_hours: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

impl ListDef {
    fn from_record(kind: ListKind, record: &Record) -> ListDef {
        ListDef {
            kind,
            name: record.id.clone(),
            members: record.label_names().map(str::to_string).collect(),
            order: record.str("order").map(str::to_string),
            retain_count: record.get("retain_count").and_then(Value::as_u64),
            retain_hours: record.get("retain_hours").and_then(Value::as_u64),
            created_at: record.str("created_at").map(str::to_string),
        }
    }
}

/// Every live list of a mail snapshot.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    pub defs: Vec<ListDef>,
}

impl Lists {
    pub fn load(snap: &Snapshot<'_>) -> Result<Lists> {
        let mut defs = Vec::new();
        for kind in ListKind::ALL {
            for (path, record) in records::list(snap, &format!("lists/{}", kind.as_str()))? {
                if record.get("removed").and_then(Value::as_bool) == Some(true)
                    || path != kind.path(&record.id)
                {
                    continue;
                }
                defs.push(ListDef::from_record(kind, &record));
            }
        }
        Ok(Lists { defs })
    }

    pub fn get(&self, kind: ListKind, name: &str) -> Option<&ListDef> {
        self.defs.iter().find(|d| d.kind == kind && d.name == name)
    }

    /// Channels `mailbox` subscribes to, as `channel:NAME`.
    pub fn subscriptions(&self, mailbox: &str) -> Vec<String> {
        self.defs
            .iter()
            .filter(|d| d.kind == ListKind::Channel && d.members.iter().any(|m| m == mailbox))
            .map(|d| format!("channel:{}", d.name))
            .collect()
    }
}

/// Options of a new list.
#[derive(Debug, Clone, Default)]
pub struct ListSpec {
    pub members: Vec<String>,
    pub order: Option<String>,
    pub retain_count: Option<u64>,
    pub retain_hours: Option<u64>,
}

impl Mail<'_> {
    /// Every list of the town's mail.
    pub fn lists(&self) -> Result<Lists> {
        Lists::load(&self.store.snapshot(COLLECTION)?)
    }

    /// Create a list; refuses a name that list kind already has. `members` are already
    /// validated (canonical words).
    pub fn create_list(
        &self,
        actor: &Actor,
        kind: ListKind,
        name: &str,
        spec: &ListSpec,
    ) -> Result<ListDef> {
        if let Some(order) = &spec.order {
            if kind != ListKind::Queue || !["fifo", "priority"].contains(&order.as_str()) {
                return Err(Error::invalid(format!(
                    "bad queue order '{order}': use fifo or priority"
                )));
            }
        }
        self.store.write(COLLECTION, actor, |snap, batch| {
            let path = kind.path(name);
            let existing = records::read(snap, &path)?;
            if existing
                .as_ref()
                .is_some_and(|r| r.get("removed").and_then(Value::as_bool) != Some(true))
            {
                return Err(Error::invalid(format!(
                    "{} '{name}' already exists",
                    kind.as_str()
                )));
            }
            let mut record = existing.unwrap_or_else(|| records::named_record(name));
            let stamp = Stamp(batch.clock, actor.name.clone());
            for m in record.label_names().map(str::to_string).collect::<Vec<_>>() {
                record.set_label(&m, false, &stamp);
            }
            for m in &spec.members {
                record.set_label(m, true, &stamp);
            }
            let order = spec
                .order
                .clone()
                .or_else(|| (kind == ListKind::Queue).then(|| "fifo".into()));
            for (k, v) in [
                ("kind", json!(kind.as_str())),
                ("removed", Value::Null),
                ("order", json!(order)),
                ("retain_count", json!(spec.retain_count)),
                ("retain_hours", json!(spec.retain_hours)),
                ("created_at", json!(crate::bead::schema::now_rfc3339())),
            ] {
                record.set(k, v, &stamp);
            }
            records::put(batch, &path, &record);
            Ok(Outcome::Commit {
                message: format!("mail {} create {name}", kind.as_str()),
                value: ListDef::from_record(kind, &record),
            })
        })
    }

    /// Add and remove members (subscribers) in one write; no commit when nothing changes.
    pub fn change_members(
        &self,
        actor: &Actor,
        kind: ListKind,
        name: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<ListDef> {
        self.store.write(COLLECTION, actor, |snap, batch| {
            let path = kind.path(name);
            let mut record = live(snap, kind, name)?;
            let stamp = Stamp(batch.clock, actor.name.clone());
            let mut changed = false;
            for m in add {
                changed |= record.set_label(m, true, &stamp);
            }
            for m in remove {
                changed |= record.set_label(m, false, &stamp);
            }
            let def = ListDef::from_record(kind, &record);
            if !changed {
                return Ok(Outcome::Unchanged(def));
            }
            records::put(batch, &path, &record);
            Ok(Outcome::Commit {
                message: format!("mail {} members {name}", kind.as_str()),
                value: def,
            })
        })
    }

    /// Delete a list (its messages stay).
    pub fn delete_list(&self, actor: &Actor, kind: ListKind, name: &str) -> Result<ListDef> {
        self.store.write(COLLECTION, actor, |snap, batch| {
            let mut record = live(snap, kind, name)?;
            let stamp = Stamp(batch.clock, actor.name.clone());
            record.set("removed", json!(true), &stamp);
            records::put(batch, &kind.path(name), &record);
            Ok(Outcome::Commit {
                message: format!("mail {} delete {name}", kind.as_str()),
                value: ListDef::from_record(kind, &record),
            })
        })
    }
}

fn live(snap: &Snapshot<'_>, kind: ListKind, name: &str) -> Result<Record> {
    records::read(snap, &kind.path(name))?
        .filter(|r| r.get("removed").and_then(Value::as_bool) != Some(true))
        .ok_or_else(|| {
            Error::invalid(format!(
                "no {} '{name}' (see `git mail {} list`)",
                kind.as_str(),
                kind.as_str()
            ))
        })
}
