//! The stored form of a bead: a state-based CRDT. Every scalar field is a last-writer-wins
//! register stamped with the write's Lamport clock and actor; labels and dependencies are
//! maps of stamped members (an add and a remove of different members both hold); comments
//! only grow; a deletion is a tombstone that no stale edit can undo.
//!
//! Merging two records is a join (commutative, associative, idempotent), so every clone
//! that has seen the same writes holds byte-identical records, whatever the order of syncs.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// When a change was made: (Lamport clock, actor). Ordered by clock, then actor.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stamp(pub u64, pub String);

/// A last-writer-wins value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Register {
    pub v: Value,
    pub at: Stamp,
}

/// A member of a stamped set (a label, a dependency) with optional data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub on: bool,
    pub at: Stamp,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub data: Map<String, Value>,
}

/// Who created a record, when and with what nonce: two records with one id but different
/// origins are different beads (an id collision between clones).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Origin {
    pub at: Stamp,
    pub nonce: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub origin: Origin,
    #[serde(default)]
    pub fields: BTreeMap<String, Register>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, Member>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub deps: BTreeMap<String, Member>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub comments: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Stamp>,
}

/// Keys of the bd JSON shape that are not plain fields of a record.
pub const STRUCTURAL_KEYS: [&str; 4] = ["id", "labels", "dependencies", "comments"];

impl Record {
    pub fn new(id: String, origin: Origin) -> Self {
        Record {
            id,
            origin,
            fields: BTreeMap::new(),
            labels: BTreeMap::new(),
            deps: BTreeMap::new(),
            comments: BTreeMap::new(),
            deleted: None,
        }
    }

    pub fn parse(bytes: &[u8]) -> crate::Result<Record> {
        serde_json::from_slice(bytes)
            .map_err(|e| crate::Error::Git(format!("corrupt bead record: {e}")))
    }

    /// Canonical bytes: keys sorted, so equal states give equal blobs on every clone.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec(self).expect("records always serialise");
        bytes.push(b'\n');
        bytes
    }

    /// A field's value, `None` when absent or null.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key).map(|r| &r.v).filter(|v| !v.is_null())
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn status(&self) -> &str {
        self.str("status").unwrap_or("open")
    }

    pub fn priority(&self) -> i64 {
        self.get("priority").and_then(Value::as_i64).unwrap_or(2)
    }

    pub fn issue_type(&self) -> &str {
        self.str("issue_type").unwrap_or("task")
    }

    pub fn title(&self) -> &str {
        self.str("title").unwrap_or("")
    }

    pub fn assignee(&self) -> Option<&str> {
        self.str("assignee")
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted.is_some()
    }

    /// Set a field if the value differs; returns whether anything changed.
    pub fn set(&mut self, key: &str, value: Value, at: &Stamp) -> bool {
        if self.fields.get(key).is_some_and(|r| r.v == value) {
            return false;
        }
        self.fields.insert(
            key.to_string(),
            Register {
                v: value,
                at: at.clone(),
            },
        );
        true
    }

    /// Labels currently present, sorted.
    pub fn label_names(&self) -> impl Iterator<Item = &str> {
        self.labels
            .iter()
            .filter(|(_, m)| m.on)
            .map(|(k, _)| k.as_str())
    }

    pub fn set_label(&mut self, label: &str, on: bool, at: &Stamp) -> bool {
        if self.labels.get(label).map(|m| m.on) == Some(on)
            || (!on && !self.labels.contains_key(label))
        {
            return false;
        }
        self.labels.insert(
            label.to_string(),
            Member {
                on,
                at: at.clone(),
                data: Map::new(),
            },
        );
        true
    }

    /// Dependencies currently present: (depends_on_id, type, data).
    pub fn live_deps(&self) -> impl Iterator<Item = (&str, &str, &Member)> {
        self.deps.iter().filter(|(_, m)| m.on).map(|(target, m)| {
            let kind = m
                .data
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("blocks");
            (target.as_str(), kind, m)
        })
    }

    /// The parent, from a live parent-child dependency.
    pub fn parent(&self) -> Option<&str> {
        self.live_deps()
            .find(|(_, kind, _)| *kind == "parent-child")
            .map(|(target, _, _)| target)
    }

    /// The bd JSON shape: fields, then `labels`, `dependencies` and `comments` arrays.
    pub fn to_json(&self, with_comments: bool) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), Value::String(self.id.clone()));
        for (key, register) in &self.fields {
            if !register.v.is_null() {
                out.insert(key.clone(), register.v.clone());
            }
        }
        let labels: Vec<Value> = self
            .label_names()
            .map(|l| Value::String(l.into()))
            .collect();
        if !labels.is_empty() {
            out.insert("labels".into(), Value::Array(labels));
        }
        let deps: Vec<Value> = self
            .live_deps()
            .map(|(target, kind, member)| {
                let mut dep = Map::new();
                dep.insert("issue_id".into(), Value::String(self.id.clone()));
                dep.insert("depends_on_id".into(), Value::String(target.into()));
                dep.insert("type".into(), Value::String(kind.into()));
                for (k, v) in &member.data {
                    dep.entry(k.clone()).or_insert_with(|| v.clone());
                }
                Value::Object(dep)
            })
            .collect();
        if !deps.is_empty() {
            out.insert("dependencies".into(), Value::Array(deps));
        }
        if with_comments && !self.comments.is_empty() {
            let mut comments: Vec<&Value> = self.comments.values().collect();
            comments.sort_by(|a, b| comment_order(a, b));
            out.insert(
                "comments".into(),
                Value::Array(comments.into_iter().cloned().collect()),
            );
        }
        Value::Object(out)
    }

    /// Join `other` (the same bead as seen by another clone) into this record.
    pub fn join(&mut self, other: &Record) {
        debug_assert_eq!(self.id, other.id);
        for (key, theirs) in &other.fields {
            match self.fields.get(key) {
                Some(ours) if register_cmp(ours, theirs) != Ordering::Less => {}
                _ => {
                    self.fields.insert(key.clone(), theirs.clone());
                }
            }
        }
        join_members(&mut self.labels, &other.labels);
        join_members(&mut self.deps, &other.deps);
        for (key, theirs) in &other.comments {
            match self.comments.get(key) {
                Some(ours) if canonical(ours) >= canonical(theirs) => {}
                _ => {
                    self.comments.insert(key.clone(), theirs.clone());
                }
            }
        }
        self.deleted = match (self.deleted.take(), &other.deleted) {
            (Some(a), Some(b)) => Some(a.min(b.clone())),
            (a, b) => a.or_else(|| b.clone()),
        };
    }
}

fn join_members(ours: &mut BTreeMap<String, Member>, theirs: &BTreeMap<String, Member>) {
    for (key, member) in theirs {
        match ours.get(key) {
            Some(mine) if member_cmp(mine, member) != Ordering::Less => {}
            _ => {
                ours.insert(key.clone(), member.clone());
            }
        }
    }
}

/// Later stamp wins; equal stamps (the same actor name at the same clock on two clones)
/// fall back to comparing the values, so every clone picks the same winner.
fn register_cmp(a: &Register, b: &Register) -> Ordering {
    a.at.cmp(&b.at)
        .then_with(|| canonical(&a.v).cmp(&canonical(&b.v)))
}

fn member_cmp(a: &Member, b: &Member) -> Ordering {
    a.at.cmp(&b.at).then_with(|| a.on.cmp(&b.on)).then_with(|| {
        canonical(&Value::Object(a.data.clone())).cmp(&canonical(&Value::Object(b.data.clone())))
    })
}

fn canonical(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn comment_order(a: &Value, b: &Value) -> Ordering {
    let key = |v: &Value| {
        (
            v.get("created_at")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            canonical(v.get("id").unwrap_or(&Value::Null)),
        )
    };
    key(a).cmp(&key(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stamp(clock: u64, actor: &str) -> Stamp {
        Stamp(clock, actor.into())
    }

    fn record() -> Record {
        Record::new(
            "gt-abc".into(),
            Origin {
                at: stamp(1, "a"),
                nonce: "n".into(),
            },
        )
    }

    #[test]
    fn join_keeps_later_field_writes_and_both_fields() {
        let mut base = record();
        base.set("title", json!("t"), &stamp(1, "a"));
        let mut left = base.clone();
        let mut right = base.clone();
        left.set("title", json!("left"), &stamp(2, "a"));
        right.set("title", json!("right"), &stamp(3, "b"));
        right.set("priority", json!(1), &stamp(3, "b"));
        let mut l2 = left.clone();
        l2.join(&right);
        let mut r2 = right.clone();
        r2.join(&left);
        assert_eq!(l2, r2);
        assert_eq!(l2.title(), "right");
        assert_eq!(l2.priority(), 1);
        assert_eq!(l2.to_bytes(), r2.to_bytes());
    }

    #[test]
    fn labels_merge_as_sets_and_deletion_sticks() {
        let mut base = record();
        base.set_label("x", true, &stamp(1, "a"));
        let mut left = base.clone();
        let mut right = base.clone();
        left.set_label("x", false, &stamp(2, "a"));
        right.set_label("y", true, &stamp(2, "b"));
        right.set("title", json!("edited"), &stamp(5, "b"));
        left.deleted = Some(stamp(2, "a"));
        left.join(&right);
        assert_eq!(left.label_names().collect::<Vec<_>>(), vec!["y"]);
        assert!(left.is_deleted());
    }

    #[test]
    fn bytes_are_canonical() {
        let mut r = record();
        r.set("zeta", json!({"b": 1, "a": 2}), &stamp(1, "a"));
        r.set("alpha", json!(1), &stamp(1, "a"));
        let text = String::from_utf8(r.to_bytes()).unwrap();
        assert!(text.find("alpha").unwrap() < text.find("zeta").unwrap());
        assert!(text.contains(r#"{"a":2,"b":1}"#), "{text}");
    }
}
