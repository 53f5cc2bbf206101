//! The lazy tick: with `patrol.lazy_after` set, any command of the suite may start a patrol
//! in the background (detached, `crate::detach`) when the last pass is older than that and
//! no pass holds the patrol lock. Supervision then follows activity: a busy town is
//! patrolled as often as the setting allows, an idle one costs nothing. Off unless set.
//!
//! `<town state>/patrol/last.json` records the last pass (start, end, pid, actions): a
//! clone-local file, never a commit.
//!
//! Every command pays for the check, so it is throttled without opening the store: a stamp
//! in the repository's own state dir (`patrol/lazy.stamp`) remembers when it last read the
//! setting and when a pass is due. While that look is under a minute old and no pass is
//! due, the tick costs one small file read (so a change of the setting takes effect within
//! a minute).

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Patrol, PatrolReport};
use crate::town::{settings, Town};

/// The last pass, as `last.json` records it.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct LastPass {
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(default)]
    pub actions: usize,
    #[serde(default)]
    pub failures: usize,
}

pub fn last_pass(dir: &Path) -> Option<LastPass> {
    let text = std::fs::read_to_string(dir.join("last.json")).ok()?;
    serde_json::from_str(&text).ok()
}

fn save(dir: &Path, last: &LastPass) {
    let _ = std::fs::create_dir_all(dir);
    let tmp = dir.join(format!(".last.json.{}", std::process::id()));
    let Ok(bytes) = serde_json::to_vec(last) else {
        return;
    };
    if std::fs::write(&tmp, bytes).is_ok() {
        let _ = std::fs::rename(&tmp, dir.join("last.json"));
    }
}

pub(super) fn record_start(dir: &Path) {
    save(
        dir,
        &LastPass {
            started_at: Some(Utc::now()),
            pid: Some(std::process::id()),
            ..LastPass::default()
        },
    );
}

pub(super) fn record_end(dir: &Path, report: &PatrolReport) {
    let mut last = last_pass(dir).unwrap_or_default();
    last.finished_at = Some(Utc::now());
    last.pid = None;
    last.actions = report.actions;
    last.failures = report.failures;
    save(dir, &last);
}

/// Whether a lazy tick is due in `town` now: `patrol.lazy_after` set, the last pass started
/// longer ago than that (or never), and the patrol lock free.
pub fn due(town: &Town) -> bool {
    let Some(after) = lazy_after(town) else {
        return false;
    };
    let patrol = Patrol::new(town);
    let dir = patrol.dir();
    let last = last_pass(&dir).and_then(|l| l.started_at);
    if let Some(last) = last {
        if (Utc::now() - last).num_seconds() < after as i64 {
            return false;
        }
    }
    // Free now? (Dropped at once: the detached pass takes it for itself.)
    matches!(patrol.try_lock(), Ok(Some(_)))
}

/// How long a look at the setting stands.
const LOOK_AGAIN_SECS: i64 = 60;

#[derive(Serialize, Deserialize, Default)]
struct Stamp {
    checked_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    due_at: Option<i64>,
}

/// The lazy tick from a command run in `dir`: throttled (see the module docs), then
/// [`tick`] for the town `dir` belongs to.
pub fn tick_from(dir: &Path) -> Option<u32> {
    let common = common_dir(dir)?;
    let stamp_path = common.join("gastown").join("patrol").join("lazy.stamp");
    let now = Utc::now().timestamp();
    if let Some(stamp) = std::fs::read(&stamp_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Stamp>(&b).ok())
    {
        let fresh = now - stamp.checked_at < LOOK_AGAIN_SECS;
        if fresh && stamp.due_at.is_none_or(|due| now < due) {
            return None;
        }
    }
    let town = Town::discover(dir).ok()?;
    let started = tick(&town);
    let due_at = lazy_after(&town).map(|after| {
        let last = last_pass(&Patrol::new(&town).dir())
            .and_then(|l| l.started_at)
            .map(|t| t.timestamp())
            .unwrap_or(now);
        last + after as i64
    });
    let stamp = Stamp {
        checked_at: now,
        due_at,
    };
    if let Some(dir) = stamp_path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Ok(bytes) = serde_json::to_vec(&stamp) {
        let _ = std::fs::write(&stamp_path, bytes);
    }
    started
}

fn lazy_after(town: &Town) -> Option<u64> {
    settings::effective(None, &town.store, "patrol.lazy_after")
        .ok()?
        .value
        .as_str()
        .and_then(settings::parse_duration)
}

/// The common git dir of the repository containing `dir`, found without opening it.
fn common_dir(dir: &Path) -> Option<std::path::PathBuf> {
    let start = std::fs::canonicalize(dir).ok()?;
    for candidate in start.ancestors() {
        let dot_git = candidate.join(".git");
        let git_dir = if dot_git.is_dir() {
            dot_git
        } else if dot_git.is_file() {
            let text = std::fs::read_to_string(&dot_git).ok()?;
            candidate.join(text.strip_prefix("gitdir:")?.trim())
        } else {
            continue;
        };
        return Some(match std::fs::read_to_string(git_dir.join("commondir")) {
            Ok(rel) => git_dir.join(rel.trim()),
            Err(_) => git_dir,
        });
    }
    None
}

/// Start a detached `git patrol --quiet` for `town` when a lazy tick is due; its pid.
/// Never fails the command that called it.
pub fn tick(town: &Town) -> Option<u32> {
    if !due(town) {
        return None;
    }
    let dir = Patrol::new(town).dir();
    // Stamped before the child runs, so commands racing this one do not start a second.
    record_start(&dir);
    let log = dir.join("lazy.log");
    crate::detach::spawn("git-patrol", ["--quiet"], &town.root, &log).ok()
}
