//! Escalation records: reading them back, ids, and the bead an escalation names.

use serde_json::Value;

use super::{path_of, route, Bump, Delivery, Escalation, Severity, DIR, OPEN};
use crate::bead::record::Record;
use crate::bead::Beads;
use crate::error::{Error, Result};
use crate::records;
use crate::store::{Snapshot, Store};
use crate::town::Town;

/// Every escalation of a snapshot.
pub(super) fn all_in(snap: &Snapshot<'_>) -> Result<Vec<Escalation>> {
    Ok(records::list(snap, DIR)?
        .into_iter()
        .filter(|(_, r)| !r.is_deleted())
        .map(|(_, r)| from_record(&r))
        .collect())
}

/// An escalation id from an exact id, one without `esc-`, or a unique prefix.
pub fn resolve_id(snap: &Snapshot<'_>, text: &str) -> Result<String> {
    let text = text.trim();
    let unknown = || {
        Error::invalid(format!(
            "no escalation '{}' (see `git escalate list --all`)",
            text.escape_debug()
        ))
    };
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(unknown());
    }
    for candidate in [text.to_string(), format!("esc-{text}")] {
        if records::read(snap, &path_of(&candidate))?.is_some_and(|r| !r.is_deleted()) {
            return Ok(candidate);
        }
    }
    let mut found: Vec<String> = Vec::new();
    for (path, _) in snap.walk(DIR)? {
        let Some(id) = path
            .strip_prefix(&format!("{DIR}/"))
            .and_then(|p| p.strip_suffix(".json"))
        else {
            continue;
        };
        if id.starts_with(text) || id.starts_with(&format!("esc-{text}")) {
            found.push(id.to_string());
        }
    }
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(unknown()),
        many => Err(Error::Ambiguous {
            prefix: text.to_string(),
            candidates: many.iter().take(10).cloned().collect(),
        }),
    }
}

/// The bead `text` names, and its rig: looked up in the town's store, then in the rigs
/// whose prefix it starts with, then in the other rigs.
pub(super) fn find_bead(town: &Town, text: &str) -> Result<(String, Option<String>)> {
    let text = text.trim();
    let lookup = |store: &Store| -> Result<Option<String>> {
        let beads = Beads::new(store);
        let snap = beads.snapshot()?;
        let Ok(config) = beads.config(&snap) else {
            return Ok(None);
        };
        match beads.resolve(&snap, &config, text, &mut None) {
            Ok(id) => Ok(Some(id)),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    };
    if let Some(id) = lookup(&town.store)? {
        return Ok((id, town.lone_rig.clone()));
    }
    if !town.is_lone_rig() {
        let mut rigs = town.rigs().list()?;
        rigs.sort_by_key(|r| !text.starts_with(&format!("{}-", r.prefix)));
        for rig in rigs {
            let Ok(store) = rig.open_store() else {
                continue;
            };
            if let Some(id) = lookup(&store)? {
                return Ok((id, Some(rig.name)));
            }
        }
    }
    Err(Error::invalid(format!(
        "--bead: no bead matches '{}' in the town or its rigs",
        text.escape_debug()
    )))
}

pub(super) fn from_record(record: &Record) -> Escalation {
    let text = |k: &str| record.str(k).map(str::to_string);
    let severity = |k: &str| {
        record
            .str(k)
            .and_then(|s| Severity::parse(s).ok())
            .unwrap_or_default()
    };
    let mut bumps = Vec::new();
    let mut deliveries = Vec::new();
    for (key, value) in &record.comments {
        if key.starts_with("bump/") {
            if let Some(b) = bump_from(value) {
                bumps.push(b);
            }
        } else if key.starts_with(route::DELIVERY_PREFIX) {
            if let Ok(d) = serde_json::from_value::<Delivery>(value.clone()) {
                deliveries.push(d);
            }
        }
    }
    bumps.sort_by_key(|b| b.number);
    deliveries.sort_by_key(|d| d.bump);
    let current = severity("severity");
    Escalation {
        id: record.id.clone(),
        severity: current,
        priority: current.priority(),
        summary: text("summary").unwrap_or_default(),
        body: text("body").unwrap_or_default(),
        category: text("category"),
        bead: text("bead"),
        mr: text("mr"),
        rig: text("rig"),
        status: text("status").unwrap_or_else(|| OPEN.into()),
        from: text("from").unwrap_or_default(),
        escalated_by: text("escalated_by").unwrap_or_default(),
        escalated_at: text("escalated_at").unwrap_or_default(),
        acked_by: text("acked_by"),
        acked_at: text("acked_at"),
        closed_by: text("closed_by"),
        closed_at: text("closed_at"),
        closed_reason: text("closed_reason"),
        original_severity: record
            .str("original_severity")
            .map(|_| severity("original_severity"))
            .unwrap_or(current),
        reescalation_count: record
            .get("reescalation_count")
            .and_then(Value::as_u64)
            .unwrap_or(0) as u32,
        last_reescalated_at: text("last_reescalated_at"),
        last_reescalated_by: text("last_reescalated_by"),
        bumps,
        deliveries,
    }
}

fn bump_from(value: &Value) -> Option<Bump> {
    Some(Bump {
        number: value.get("number")?.as_u64()? as u32,
        from: Severity::parse(value.get("from")?.as_str()?).ok()?,
        to: Severity::parse(value.get("to")?.as_str()?).ok()?,
        at: value.get("at")?.as_str()?.to_string(),
        by: value.get("by")?.as_str()?.to_string(),
    })
}
