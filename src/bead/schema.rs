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
        let mut known: Vec<&str> = STATUSES.to_vec();
        known.extend(custom.iter().map(String::as_str));
        Err(Error::invalid(format!(
            "unknown status '{raw}' (known: {})",
            known.join(", ")
        )))
    }
}

/// Check and normalise the statuses and types a query filters on, so a misspelt
/// `--status` is an error instead of an empty list (bd validates them the same way).
pub fn normalize_filter(
    statuses: &mut [String],
    types: &mut [String],
    custom_statuses: &[String],
    custom_types: &[String],
) -> Result<()> {
    for status in statuses.iter_mut() {
        *status = normalize_status(status, custom_statuses)?;
    }
    for kind in types.iter_mut() {
        *kind = normalize_type(kind, custom_types)?;
    }
    Ok(())
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

/// Longest id: ids become file names (`<id>.json`, 255 bytes at most on common file systems).
pub const MAX_ID_LEN: usize = 200;
/// Longest prefix: bd derives a database name from it, which MySQL caps at 64 characters.
pub const MAX_PREFIX_LEN: usize = 64;

/// Ids become file names in the store: keep them to a safe alphabet.
pub fn validate_id(id: &str) -> Result<()> {
    if id.len() > MAX_ID_LEN {
        return Err(Error::invalid(format!(
            "bead id too long ({} characters, at most {MAX_ID_LEN}): '{}…'",
            id.chars().count(),
            id.chars().take(40).collect::<String>()
        )));
    }
    let ok = !id.is_empty()
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

/// An id given to `create --id`: bd's form `<prefix>-<hash>`, children `.N`.
pub fn validate_explicit_id(id: &str) -> Result<()> {
    validate_id(id)?;
    if super::id::parse_id(id, "").is_none() {
        return Err(Error::invalid(format!(
            "bad bead id '{id}': expected <prefix>-<hash> or <prefix>-<hash>.N, like 'gt-a3f8' or 'gt-a3f8.1'"
        )));
    }
    Ok(())
}

/// bd's prefix as given to `init --prefix` or `config set prefix`: surrounding blanks,
/// leading dots and trailing hyphens are dropped (bd does the same), and what is left must
/// be letters, digits, '-', '_' and '.' (bd's older releases kept a directory name such as
/// `haxe.ocaml` as is, and their exports carry ids like `haxe.ocaml-a1b`).
pub fn normalize_prefix(raw: &str) -> Result<String> {
    let prefix = raw.trim().trim_start_matches('.').trim_end_matches('-');
    if prefix.chars().count() > MAX_PREFIX_LEN {
        return Err(Error::invalid(format!(
            "prefix too long ({} characters, at most {MAX_PREFIX_LEN}): '{}…'",
            prefix.chars().count(),
            prefix.chars().take(20).collect::<String>()
        )));
    }
    let ok = prefix.starts_with(|c: char| c.is_ascii_alphanumeric())
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !prefix.ends_with('.')
        && !prefix.contains("..");
    if ok {
        Ok(prefix.to_string())
    } else {
        Err(Error::invalid(format!(
            "bad prefix '{raw}': start with a letter or digit, then letters, digits, '-', '_' or '.'"
        )))
    }
}

/// The prefix bd picks for a project directory: its name, lower-cased, with characters
/// bd never put in a prefix turned into '-' (dots are kept, as bd's exports show).
pub fn prefix_from_dir_name(name: &str) -> String {
    let name = name.trim_end_matches(".git").to_ascii_lowercase();
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches(['-', '.']).replace("..", ".");
    let cleaned: String = cleaned.chars().take(MAX_PREFIX_LEN).collect();
    match normalize_prefix(&cleaned) {
        Ok(prefix) => prefix,
        Err(_) => "bd".to_string(),
    }
}

pub fn validate_label(label: &str) -> Result<String> {
    let label = label.trim();
    if label.is_empty() || label.len() > 200 || label.contains(['\n', ',']) {
        return Err(Error::invalid(format!("bad label '{label}'")));
    }
    Ok(label.to_string())
}

/// A comment's author given by name (`comment --author`): a person's display name, so
/// spaces are fine; control characters are not (they would rewrite a reader's terminal).
pub fn validate_author(author: &str) -> Result<String> {
    let author = author.trim();
    if author.is_empty() || author.len() > 200 || author.chars().any(char::is_control) {
        return Err(Error::invalid(format!("bad comment author '{author}'")));
    }
    Ok(author.to_string())
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

    #[test]
    fn prefixes_as_bd_accepts_them() {
        assert_eq!(normalize_prefix("haxe.ocaml").unwrap(), "haxe.ocaml");
        assert_eq!(normalize_prefix("bd-").unwrap(), "bd");
        assert_eq!(normalize_prefix("hq-cv").unwrap(), "hq-cv");
        assert_eq!(normalize_prefix("my_proj").unwrap(), "my_proj");
        assert_eq!(normalize_prefix("2024proj").unwrap(), "2024proj");
        assert!(normalize_prefix("a b").is_err());
        assert!(normalize_prefix("a/b").is_err());
        assert!(normalize_prefix("a.").is_err());
        let long = "a".repeat(MAX_PREFIX_LEN + 1);
        let message = normalize_prefix(&long).unwrap_err().to_string();
        assert!(
            message.contains("too long (65 characters, at most 64)"),
            "{message}"
        );
        let message = validate_id(&"a".repeat(201)).unwrap_err().to_string();
        assert!(message.contains("too long (201 characters"), "{message}");
        assert_eq!(prefix_from_dir_name("haxe.ocaml"), "haxe.ocaml");
        assert_eq!(prefix_from_dir_name("My Project.git"), "my-project");
        assert_eq!(prefix_from_dir_name("..."), "bd");
    }
}
