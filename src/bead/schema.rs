//! What values bead fields may take: statuses, types, priorities, dependency types, ids.

use crate::error::{Error, Result};

pub const STATUSES: [&str; 7] = [
    "open",
    "in_progress",
    "blocked",
    "deferred",
    "closed",
    "pinned",
    "hooked",
];

/// Types every store knows: bd's core types plus bd's orchestration types. Beads of types
/// `agent`, `rig`, `merge-request`, `convoy` or `queue` come from bd data (imports) and
/// stay readable; gastown's own agents, rigs, MRs, convoys and queue entries are records in
/// their own directories of the work collection (docs/STORAGE.md, "Collections and their
/// layout"), not beads.
pub const TYPES: [&str; 20] = [
    "task",
    "bug",
    "feature",
    "epic",
    "chore",
    "decision",
    "message",
    "spike",
    "story",
    "milestone",
    "molecule",
    "gate",
    "event",
    "convoy",
    "agent",
    "role",
    "rig",
    "merge-request",
    "slot",
    "queue",
];

/// Types never offered by `ready` (bd's list).
pub const NOT_WORK_TYPES: [&str; 7] = [
    "merge-request",
    "gate",
    "molecule",
    "message",
    "agent",
    "role",
    "rig",
];

/// Dependency types that hold up the dependent bead.
pub const BLOCKING_DEP_TYPES: [&str; 2] = ["blocks", "conditional-blocks"];

/// bd's well-known dependency types; any other name up to 50 characters is kept as a plain link.
pub const KNOWN_DEP_TYPES: [&str; 20] = [
    "blocks",
    "parent-child",
    "conditional-blocks",
    "waits-for",
    "related",
    "relates-to",
    "discovered-from",
    "replies-to",
    "duplicates",
    "supersedes",
    "tracks",
    "authored-by",
    "assigned-to",
    "approved-by",
    "attests",
    "until",
    "caused-by",
    "validates",
    "delegated-from",
    "thread",
];

/// Fields `update --set` may not touch: they are managed by the commands that own them.
pub const MANAGED_FIELDS: [&str; 7] = [
    "id",
    "labels",
    "dependencies",
    "comments",
    "created_at",
    "created_by",
    "closed_at",
];

pub fn normalize_type(raw: &str, custom: &[String]) -> Result<String> {
    let lowered = raw.trim().to_ascii_lowercase();
    let canonical = match lowered.as_str() {
        "feat" | "enhancement" => "feature",
        "adr" | "dec" => "decision",
        "timebox" | "investigation" => "spike",
        "user-story" => "story",
        "ms" => "milestone",
        "mr" => "merge-request",
        other => other,
    };
    if TYPES.contains(&canonical) || custom.iter().any(|c| c == canonical) {
        Ok(canonical.to_string())
    } else {
        let mut known: Vec<&str> = TYPES.to_vec();
        known.extend(custom.iter().map(String::as_str));
        Err(Error::invalid(format!(
            "unknown issue type '{raw}' (known: {}; declare more with `git bead config set types ...`)",
            known.join(", ")
        )))
    }
}

pub fn normalize_status(raw: &str, custom: &[String]) -> Result<String> {
    let lowered = raw.trim().to_ascii_lowercase().replace('-', "_");
    if STATUSES.contains(&lowered.as_str()) || custom.contains(&lowered) {
        Ok(lowered)
    } else {
        Err(Error::invalid(format!(
            "unknown status '{raw}' (known: {})",
            STATUSES.join(", ")
        )))
    }
}

/// `0`–`4`, also written `P0`–`P4`.
pub fn parse_priority(raw: &str) -> Result<i64> {
    let trimmed = raw.trim();
    let digits = trimmed.strip_prefix(['P', 'p']).unwrap_or(trimmed);
    match digits.parse::<i64>() {
        Ok(p) if (0..=4).contains(&p) => Ok(p),
        _ => Err(Error::invalid(format!(
            "bad priority '{raw}': use 0 (highest) to 4 (backlog), or P0-P4"
        ))),
    }
}

pub fn validate_dep_type(raw: &str) -> Result<String> {
    let kind = raw.trim().to_ascii_lowercase();
    let ok = !kind.is_empty()
        && kind.len() <= 50
        && kind
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_:".contains(c));
    if ok {
        Ok(kind)
    } else {
        Err(Error::invalid(format!(
            "bad dependency type '{raw}' (known: {})",
            KNOWN_DEP_TYPES.join(", ")
        )))
    }
}

/// Ids become file names in the store: keep them to a safe alphabet.
pub fn validate_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 200
        && !id.starts_with(['.', '-'])
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "bad bead id '{id}': use letters, digits, '-', '_', '.' and ':'"
        )))
    }
}

pub fn validate_prefix(prefix: &str) -> Result<()> {
    let ok = !prefix.is_empty()
        && prefix.len() <= 32
        && prefix.starts_with(|c: char| c.is_ascii_alphabetic())
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !prefix.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "bad prefix '{prefix}': start with a letter, then letters, digits, '-' or '_'"
        )))
    }
}

pub fn validate_label(label: &str) -> Result<String> {
    let label = label.trim();
    if label.is_empty() || label.len() > 200 || label.contains(['\n', ',']) {
        return Err(Error::invalid(format!("bad label '{label}'")));
    }
    Ok(label.to_string())
}

/// Parse a user-given time: RFC 3339, a date (YYYY-MM-DD), or a relative `+3d`, `+2h`, `+30m`.
pub fn parse_time(raw: &str, now: chrono::DateTime<chrono::Utc>) -> Result<String> {
    let raw = raw.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let t = d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        return Ok(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }
    if let Some(rest) = raw.strip_prefix('+') {
        let (num, unit) = rest.split_at(rest.len().saturating_sub(1));
        if let Ok(n) = num.parse::<i64>() {
            let delta = match unit {
                "m" => Some(chrono::Duration::minutes(n)),
                "h" => Some(chrono::Duration::hours(n)),
                "d" => Some(chrono::Duration::days(n)),
                "w" => Some(chrono::Duration::weeks(n)),
                _ => None,
            };
            if let Some(delta) = delta {
                return Ok((now + delta).to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            }
        }
    }
    Err(Error::invalid(format!(
        "bad time '{raw}': use RFC 3339, YYYY-MM-DD, or +N[m|h|d|w]"
    )))
}

/// Milliseconds since the epoch of an RFC 3339 time, for ordering and defer checks.
pub fn time_ms(raw: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|t| t.timestamp_millis())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc().timestamp_millis())
        })
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_and_types() {
        assert_eq!(parse_priority("P1").unwrap(), 1);
        assert_eq!(parse_priority("4").unwrap(), 4);
        assert!(parse_priority("5").is_err());
        assert_eq!(normalize_type("feat", &[]).unwrap(), "feature");
        assert!(normalize_type("saga", &[]).is_err());
        assert_eq!(normalize_type("saga", &["saga".into()]).unwrap(), "saga");
        assert!(validate_id("gt-abc.1").is_ok());
        assert!(validate_id("../x").is_err());
    }
}
