//! bd's JSONL export format: one issue object per line, with embedded `labels`,
//! `dependencies` and `comments`. Every field is kept, known or not, so a round trip
//! through the store is lossless.

use serde_json::{Map, Value};

use super::ops::add_dep;
use super::record::{Member, Origin, Record, Stamp, STRUCTURAL_KEYS};
use super::schema;
use crate::error::{Error, Result};

/// One object of a bd export and the 1-based line it came from.
#[derive(Debug, Clone)]
pub struct Line {
    pub number: usize,
    pub object: Map<String, Value>,
}

/// The status bd (before v0.51) gave deleted issues in its exports, with `deleted_at`,
/// `deleted_by`, `delete_reason` and `original_type` beside it.
pub const TOMBSTONE: &str = "tombstone";

/// Parse a bd JSONL export, checking every line before anything is written. A UTF-8 byte
/// order mark is skipped (editors on Windows add one); errors name the 1-based line.
pub fn parse(bytes: &[u8]) -> Result<Vec<Line>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut out = Vec::new();
    for (n, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let number = n + 1;
        let line = std::str::from_utf8(raw).map_err(|e| {
            Error::invalid(format!(
                "line {number}: not valid UTF-8 (at byte {} of the line)",
                e.valid_up_to() + 1
            ))
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line)
            .map_err(|e| Error::invalid(format!("line {number}: malformed JSON: {e}")))?;
        let Value::Object(object) = value else {
            return Err(Error::invalid(format!(
                "line {number}: expected a JSON object"
            )));
        };
        if !is_memory(&object) {
            check_issue(&object).map_err(|msg| Error::invalid(format!("line {number}: {msg}")))?;
        }
        out.push(Line { number, object });
    }
    Ok(out)
}

/// A bd memory (`bd remember`), exported as `{"_type":"memory","key":…,"value":…}`.
pub fn is_memory(object: &Map<String, Value>) -> bool {
    object.get("_type").and_then(Value::as_str) == Some("memory")
}

pub fn is_tombstone(object: &Map<String, Value>) -> bool {
    object.get("status").and_then(Value::as_str) == Some(TOMBSTONE)
}

/// The checks `create` applies, for an imported object: a status and a type this store
/// knows (bd refuses others on import too). Tombstones keep whatever type they had.
pub fn check_values(
    object: &Map<String, Value>,
    statuses: &[String],
    types: &[String],
) -> std::result::Result<(), String> {
    let id = object.get("id").and_then(Value::as_str).unwrap_or_default();
    if is_tombstone(object) {
        return Ok(());
    }
    if let Some(status) = object.get("status").and_then(Value::as_str) {
        schema::normalize_status(status, statuses).map_err(|e| {
            format!("{id}: {e}; declare it with `git bead config set statuses ...`")
        })?;
    }
    if let Some(kind) = object.get("issue_type").and_then(Value::as_str) {
        schema::normalize_type(kind, types).map_err(|e| format!("{id}: {e}"))?;
    }
    Ok(())
}

fn check_issue(object: &Map<String, Value>) -> std::result::Result<(), String> {
    let id = object
        .get("id")
        .and_then(Value::as_str)
        .ok_or("missing string field \"id\"")?;
    schema::validate_id(id).map_err(|e| e.to_string())?;
    match object.get("title") {
        Some(Value::String(t)) if !t.trim().is_empty() => {}
        _ => return Err(format!("{id}: missing or empty \"title\"")),
    }
    if let Some(p) = object.get("priority") {
        if !p.as_i64().is_some_and(|p| (0..=4).contains(&p)) {
            return Err(format!("{id}: bad priority {p} (0-4)"));
        }
    }
    for key in ["status", "issue_type"] {
        if let Some(v) = object.get(key) {
            if !v.is_string() {
                return Err(format!("{id}: \"{key}\" must be a string"));
            }
        }
    }
    if let Some(labels) = object.get("labels") {
        let ok = labels
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string))
            || labels.is_null();
        if !ok {
            return Err(format!("{id}: \"labels\" must be an array of strings"));
        }
    }
    if let Some(deps) = object.get("dependencies") {
        if !deps.is_null() {
            let deps = deps
                .as_array()
                .ok_or(format!("{id}: \"dependencies\" must be an array"))?;
            for dep in deps {
                let target = dep.get("depends_on_id").and_then(Value::as_str);
                if target.is_none_or(|t| schema::validate_id(t).is_err()) {
                    return Err(format!(
                        "{id}: a dependency lacks a valid \"depends_on_id\""
                    ));
                }
            }
        }
    }
    if let Some(comments) = object.get("comments") {
        let ok = comments.is_null()
            || comments
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_object));
        if !ok {
            return Err(format!("{id}: \"comments\" must be an array of objects"));
        }
    }
    Ok(())
}

/// A record holding exactly what the bd object says, stamped with `stamp`.
pub fn record_from_bd(object: &Map<String, Value>, stamp: &Stamp, nonce: &str) -> Result<Record> {
    let id = object.get("id").and_then(Value::as_str).unwrap_or_default();
    let mut record = Record::new(
        id.to_string(),
        Origin {
            at: stamp.clone(),
            nonce: nonce.to_string(),
        },
    );
    for (key, value) in object {
        if !STRUCTURAL_KEYS.contains(&key.as_str()) && !value.is_null() {
            record.set(key, value.clone(), stamp);
        }
    }
    if is_tombstone(object) {
        record.deleted = Some(stamp.clone());
    }
    // bd v0.35-v0.37 wrote `wisp: true`; v0.38 renamed it `ephemeral` (bd maps it on import).
    if object.get("wisp") == Some(&Value::Bool(true)) && record.get("ephemeral").is_none() {
        record.set("ephemeral", Value::Bool(true), stamp);
    }
    for label in object
        .get("labels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(label) = label.as_str() {
            record.set_label(label, true, stamp);
        }
    }
    for dep in object
        .get("dependencies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(dep) = dep.as_object() else { continue };
        let Some(target) = dep.get("depends_on_id").and_then(Value::as_str) else {
            continue;
        };
        let kind = dep.get("type").and_then(Value::as_str).unwrap_or("blocks");
        add_dep(&mut record, target, kind, stamp, "", "");
        let member = record.deps.get_mut(target).expect("just added");
        member.data = dep
            .iter()
            .filter(|(k, _)| *k != "issue_id" && *k != "depends_on_id")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        member
            .data
            .insert("type".into(), Value::String(kind.to_string()));
    }
    for comment in object
        .get("comments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        record
            .comments
            .insert(comment_key(comment), comment.clone());
    }
    Ok(record)
}

/// The key a comment is stored under: its own id when it has one, else a content hash.
pub fn comment_key(comment: &Value) -> String {
    match comment.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            use sha2::{Digest, Sha256};
            let digest = Sha256::digest(serde_json::to_vec(comment).unwrap_or_default());
            digest[..8].iter().map(|b| format!("{b:02x}")).collect()
        }
    }
}

/// Bring `record` to what `fresh` (an imported object) says: changed fields, the label and
/// dependency sets, and any new comments. Returns whether anything changed.
pub fn apply_bd(record: &mut Record, fresh: &Record, stamp: &Stamp) -> bool {
    let mut changed = false;
    if record.is_deleted() {
        return false;
    }
    if fresh.is_deleted() {
        record.deleted = Some(stamp.clone());
        changed = true;
    }
    for (key, register) in &fresh.fields {
        changed |= record.set(key, register.v.clone(), stamp);
    }
    let wanted: Vec<&str> = fresh.label_names().collect();
    let current: Vec<String> = record.label_names().map(str::to_string).collect();
    for label in &current {
        if !wanted.contains(&label.as_str()) {
            changed |= record.set_label(label, false, stamp);
        }
    }
    for label in wanted {
        changed |= record.set_label(label, true, stamp);
    }
    let current: Vec<String> = record.live_deps().map(|(t, _, _)| t.to_string()).collect();
    for target in &current {
        if !fresh.deps.get(target).is_some_and(|m| m.on) {
            let member = record.deps.get_mut(target).expect("listed above");
            *member = Member {
                on: false,
                at: stamp.clone(),
                data: member.data.clone(),
            };
            changed = true;
        }
    }
    for (target, member) in &fresh.deps {
        if record.deps.get(target).map(|m| (&m.data, m.on)) != Some((&member.data, true)) {
            record.deps.insert(
                target.clone(),
                Member {
                    on: true,
                    at: stamp.clone(),
                    data: member.data.clone(),
                },
            );
            changed = true;
        }
    }
    for (key, comment) in &fresh.comments {
        if !record.comments.contains_key(key) {
            record.comments.insert(key.clone(), comment.clone());
            changed = true;
        }
    }
    changed
}

/// One bd JSONL line for a record. A deleted bead is written as bd wrote deletions: status
/// `tombstone` with `deleted_at`, `deleted_by` and `original_type`, so bd and this tool
/// both read it back as a deletion. A `content_hash` from bd is dropped once a field
/// changed after it was imported: bd trusts an exported hash, and a stale one would make it
/// skip the change.
pub fn export_line(record: &Record) -> String {
    let mut value = record.to_json(true);
    let object = value.as_object_mut().expect("records are objects");
    if let Some(hash) = record.fields.get("content_hash") {
        if record.fields.values().any(|r| r.at > hash.at) {
            object.remove("content_hash");
        }
    }
    if let Some(stamp) = &record.deleted {
        if object.get("status").and_then(Value::as_str) != Some(TOMBSTONE) {
            let kind = object
                .get("issue_type")
                .cloned()
                .unwrap_or_else(|| Value::String("task".into()));
            object.entry("original_type").or_insert(kind);
            let when = object.get("updated_at").cloned().unwrap_or(Value::Null);
            object.entry("deleted_at").or_insert(when);
            object
                .entry("deleted_by")
                .or_insert_with(|| Value::String(stamp.1.clone()));
            object.insert("status".into(), Value::String(TOMBSTONE.into()));
        }
    }
    serde_json::to_string(&value).expect("records serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_and_bad_utf8_are_handled_with_line_numbers() {
        let text = b"\xEF\xBB\xBF{\"id\":\"bd-a\",\"title\":\"t\"}\n\n{\"id\":\"bd-b\",\"title\":\"\xFF\"}\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("line 3: not valid UTF-8"), "{err}");
        let lines = parse(b"\xEF\xBB\xBF{\"id\":\"bd-a\",\"title\":\"t\"}\r\n").unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].number, 1);
    }
}
