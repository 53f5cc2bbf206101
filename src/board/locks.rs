//! Advisory locks with a lease: "I am editing these paths, for this long, for this reason".
//! Nothing in git enforces them; agents check before editing (`git board check`), the
//! pre-push hook warns on them, and patrol releases expired ones and those whose holder's
//! session died (docs/BOARD.md).
//!
//! One record per locked path (`locks/<hash>.json`, named by the path so that two clones
//! locking one path hold one record after sync: the later lock wins, as a lease should).

use std::path::{Component, Path, PathBuf};

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::bead::record::{Record, Stamp};
use crate::error::{Error, Result};
use crate::records;
use crate::store::Snapshot;

/// The default lease of a lock.
pub const DEFAULT_TTL: &str = "2h";
/// The longest lease one lock may take: a lock is a note about work in progress, not an
/// ownership claim; renew it to keep it.
const MAX_TTL_SECS: i64 = 7 * 24 * 3600;

/// A lock as readers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lock {
    /// Repo-relative, normalised (`src/auth`, never `./src/../src/auth/`).
    pub path: String,
    /// The agent (actor) that holds it.
    pub holder: String,
    /// When it was taken (RFC 3339).
    pub since: String,
    /// When the lease runs out (RFC 3339).
    pub expires: String,
    pub intent: String,
    #[serde(skip)]
    pub(crate) expires_ms: i64,
}

impl Lock {
    pub fn is_live(&self, now_ms: i64) -> bool {
        self.expires_ms > now_ms
    }

    /// Whether this lock covers `path` or something under it (a lock on a directory
    /// covers its files; a check of a directory sees locks inside it).
    pub fn overlaps(&self, path: &str) -> bool {
        overlaps(&self.path, path)
    }
}

/// What an expiry pass released.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExpiredLocks {
    pub released: Vec<ReleasedLock>,
}

impl ExpiredLocks {
    pub fn is_empty(&self) -> bool {
        self.released.is_empty()
    }
}

/// One lock an expiry pass released, and why.
#[derive(Debug, Clone, Serialize)]
pub struct ReleasedLock {
    #[serde(flatten)]
    pub lock: Lock,
    /// `expired` (the lease ran out) or `holder-dead` (the holder's session is gone).
    pub reason: &'static str,
}

/// What `lock` did.
#[derive(Debug, Clone, Serialize)]
pub struct Locked {
    pub locks: Vec<Lock>,
    /// Paths this holder already held: their lease and intent were renewed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub renewed: Vec<String>,
}

/// What `unlock` did.
#[derive(Debug, Clone, Serialize)]
pub struct Unlocked {
    pub released: Vec<String>,
    /// Paths that held no live lock of this holder (nothing to do).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_held: Vec<String>,
}

/// What `check` found for a path.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub path: String,
    pub locked: bool,
    pub locks: Vec<Lock>,
}

pub(crate) fn overlaps(a: &str, b: &str) -> bool {
    let within = |inner: &str, outer: &str| {
        inner == outer
            || (inner.len() > outer.len()
                && inner.starts_with(outer)
                && inner.as_bytes()[outer.len()] == b'/')
    };
    within(a, b) || within(b, a)
}

/// Where the lock record of `path` lives: named by a hash of the path (paths hold `/`,
/// and a record's name must be one file name).
pub(crate) fn record_path(path: &str) -> String {
    let digest = Sha256::digest(path.as_bytes());
    let hex: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
    format!("locks/{hex}.json")
}

/// Every lock record of a snapshot that is held (live or expired, not released).
pub(crate) fn held(snap: &Snapshot<'_>) -> Result<Vec<Lock>> {
    let mut out = Vec::new();
    for (_, record) in records::list(snap, "locks")? {
        if let Some(lock) = from_record(&record) {
            out.push(lock);
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn from_record(record: &Record) -> Option<Lock> {
    if record.is_deleted() || record.get("released").and_then(|v| v.as_bool()) == Some(true) {
        return None;
    }
    Some(Lock {
        path: record.str("path")?.to_string(),
        holder: record.str("holder")?.to_string(),
        since: record.str("since").unwrap_or("").to_string(),
        expires: record.str("expires").unwrap_or("").to_string(),
        intent: record.str("intent").unwrap_or("").to_string(),
        expires_ms: record.get("expires_ms").and_then(|v| v.as_i64())?,
    })
}

/// The record that holds `lock` (a fresh one, or the path's old record taken over).
pub(crate) fn to_record(existing: Option<Record>, lock: &Lock, stamp: &Stamp) -> Record {
    let mut record = existing.unwrap_or_else(|| records::named_record(&lock.path));
    record.set("path", json!(lock.path), stamp);
    record.set("holder", json!(lock.holder), stamp);
    record.set("since", json!(lock.since), stamp);
    record.set("expires", json!(lock.expires), stamp);
    record.set("expires_ms", json!(lock.expires_ms), stamp);
    record.set("intent", json!(lock.intent), stamp);
    record.set("released", json!(false), stamp);
    record
}

/// Mark a path's lock record released.
pub(crate) fn release_record(mut record: Record, stamp: &Stamp) -> Record {
    record.set("released", json!(true), stamp);
    record
}

/// A lease such as `90s`, `30m`, `2h`, `1h30m`, `1d`, in seconds; one line naming the bad
/// text otherwise.
pub fn parse_ttl(text: &str) -> Result<i64> {
    let bad = |why: &str| {
        Error::invalid(format!(
            "bad TTL '{}': {why} (use e.g. 90s, 30m, 2h, 1h30m, 1d)",
            text.escape_debug()
        ))
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(bad("empty"));
    }
    let mut total: i64 = 0;
    let mut number = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => return Err(bad(&format!("unknown unit '{}'", c.escape_debug()))),
        };
        if number.is_empty() {
            return Err(bad("a unit without a number"));
        }
        let n: i64 = number.parse().map_err(|_| bad("number too large"))?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| bad("too long"))?;
        number.clear();
    }
    if !number.is_empty() {
        return Err(bad("a number without a unit"));
    }
    if total <= 0 {
        return Err(bad("a lease must be longer than zero"));
    }
    if total > MAX_TTL_SECS {
        return Err(bad("at most 7d; renew a lock to keep it longer"));
    }
    Ok(total)
}

/// The top of the working tree that contains `dir` (a sandbox, a rig, a plain clone):
/// the nearest ancestor holding `.git`.
pub fn repo_root(dir: &Path) -> Result<PathBuf> {
    let start = std::fs::canonicalize(dir).map_err(|e| {
        Error::invalid(format!("cannot resolve directory '{}': {e}", dir.display()))
    })?;
    start
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
        .ok_or_else(|| Error::NotARepository(start.clone()))
}

/// `path` (relative to `cwd`, or absolute) as a normalised path relative to `root`, or a
/// one-line error when it leaves the repository. Purely lexical: the path need not exist
/// (one may lock a file about to be created).
pub fn normalize(root: &Path, cwd: &Path, path: &str) -> Result<String> {
    let shown = path.escape_debug().to_string();
    if path.trim().is_empty() {
        return Err(Error::invalid("an empty path cannot be locked"));
    }
    if path.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "path '{shown}' has control characters"
        )));
    }
    let cwd = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let joined = cwd.join(path);
    let mut parts: Vec<String> = Vec::new();
    for component in joined.components() {
        match component {
            Component::RootDir | Component::Prefix(_) => parts.clear(),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    let root_parts: Vec<String> = root
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    if parts.len() < root_parts.len() || parts[..root_parts.len()] != root_parts[..] {
        return Err(Error::invalid(format!(
            "path '{shown}' is outside the repository {}",
            root.display()
        )));
    }
    let rel = parts[root_parts.len()..].join("/");
    if rel.is_empty() {
        return Err(Error::invalid(format!(
            "path '{shown}' names the whole repository; lock the paths you will edit"
        )));
    }
    if rel == ".git" || rel.starts_with(".git/") {
        return Err(Error::invalid(format!(
            "path '{shown}' is inside .git, not a file of the repository"
        )));
    }
    Ok(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_parse_or_name_the_bad_text() {
        assert_eq!(parse_ttl("90s").unwrap(), 90);
        assert_eq!(parse_ttl("2h").unwrap(), 7200);
        assert_eq!(parse_ttl("1h30m").unwrap(), 5400);
        for bad in [
            "",
            "0s",
            "2",
            "h",
            "2x",
            "8d",
            "-1h",
            "99999999999999999999s",
        ] {
            let err = parse_ttl(bad).unwrap_err().to_string();
            assert!(err.starts_with("bad TTL"), "{bad}: {err}");
            assert!(!err.contains('\n'));
        }
    }

    #[test]
    fn paths_normalise_inside_the_repository_only() {
        let root = Path::new("/r/repo");
        let cwd = Path::new("/r/repo/src");
        assert_eq!(normalize(root, cwd, "a.rs").unwrap(), "src/a.rs");
        assert_eq!(normalize(root, cwd, "./x/../b/").unwrap(), "src/b");
        assert_eq!(normalize(root, cwd, "/r/repo/README").unwrap(), "README");
        assert!(normalize(root, cwd, "../../etc/passwd").is_err());
        assert!(normalize(root, cwd, "/etc/passwd").is_err());
        assert!(normalize(root, cwd, "..").is_err());
        assert!(normalize(root, cwd, "../.git/config").is_err());
        assert!(normalize(Path::new("/r/repo"), Path::new("/r/repo2"), "x").is_err());
    }

    #[test]
    fn locks_overlap_by_directory() {
        assert!(overlaps("src", "src/a.rs"));
        assert!(overlaps("src/a.rs", "src"));
        assert!(overlaps("src/a.rs", "src/a.rs"));
        assert!(!overlaps("src/a", "src/ab"));
        assert!(!overlaps("src/a.rs", "src/b.rs"));
    }
}
