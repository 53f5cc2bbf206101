//! The coordination board (`refs/gastown/board`), from the seed design: a bulletin of
//! posts (merged with the events the suite records itself, read from the feed), advisory
//! locks with a lease, and decisions numbered as ADRs (docs/BOARD.md).
//!
//! Every method is one [`Store::write`] on the board's own collection, so board traffic
//! never touches the work collection or `ready`.

pub mod convoy;
pub mod decisions;
pub mod export;
pub mod locks;
pub mod posts;

use std::path::Path;

use crate::bead::record::Stamp;
use crate::error::{Error, Result};
use crate::records;
use crate::store::{Actor, Outcome, Snapshot, Store};
use crate::town::Town;

pub use convoy::{landing_post_id, LandingPosted};
pub use decisions::{Decided, Decision};
pub use locks::{
    normalize, parse_ttl, repo_root, Checked, ExpiredLocks, Lock, Locked, ReleasedLock, Unlocked,
    DEFAULT_TTL,
};
pub use posts::{BulletinEntry, Post};

/// The board's collection: `refs/gastown/board`.
pub const COLLECTION: &str = "board";

/// The town's board.
pub struct Board<'t> {
    pub town: &'t Town,
    pub store: &'t Store,
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(crate) fn format_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl<'t> Board<'t> {
    pub fn new(town: &'t Town) -> Self {
        Board {
            town,
            store: &town.store,
        }
    }

    pub fn snapshot(&self) -> Result<Snapshot<'t>> {
        self.store.snapshot(COLLECTION)
    }

    /// Live locks (lease not run out), by path.
    pub fn locks(&self) -> Result<Vec<Lock>> {
        let now = now_ms();
        Ok(locks::held(&self.snapshot()?)?
            .into_iter()
            .filter(|l| l.is_live(now))
            .collect())
    }

    /// Live locks covering any of `paths` (repo-relative), or lying under one of them.
    /// The pre-push hook asks this for the paths a push touches.
    pub fn holders(&self, paths: &[String]) -> Result<Vec<Lock>> {
        Ok(self
            .locks()?
            .into_iter()
            .filter(|l| paths.iter().any(|p| l.overlaps(p.trim_end_matches('/'))))
            .collect())
    }

    /// What holds `path` (normalised, repo-relative).
    pub fn check(&self, path: &str) -> Result<Checked> {
        let locks = self.holders(&[path.to_string()])?;
        Ok(Checked {
            path: path.to_string(),
            locked: !locks.is_empty(),
            locks,
        })
    }

    /// Lock `paths` (normalised) for `actor` for `ttl_secs`, all or none: a path (or a
    /// path inside or around it) held live by another agent refuses the whole lock, naming
    /// the holder. Locking again what one already holds renews its lease and intent.
    pub fn lock(
        &self,
        actor: &Actor,
        paths: &[String],
        intent: &str,
        ttl_secs: i64,
    ) -> Result<Locked> {
        let intent = intent.trim();
        if intent.is_empty() {
            return Err(Error::invalid(
                "say why with --intent TEXT: other agents read it",
            ));
        }
        if intent.chars().any(|c| c.is_control() && c != '\n') || intent.len() > 2000 {
            return Err(Error::invalid(
                "the intent must be text of at most 2000 bytes without control characters",
            ));
        }
        if paths.is_empty() {
            return Err(Error::invalid("name at least one PATH to lock"));
        }
        let mut wanted: Vec<String> = paths.to_vec();
        wanted.sort();
        wanted.dedup();
        self.store.write(COLLECTION, actor, |snap, batch| {
            let now = now_ms();
            let held = locks::held(snap)?;
            for path in &wanted {
                if let Some(other) = held
                    .iter()
                    .find(|l| l.is_live(now) && l.holder != actor.name && l.overlaps(path))
                {
                    return Err(Error::Conflict(format!(
                        "'{}' is locked by {} since {} until {} ({}){}",
                        path,
                        other.holder,
                        other.since,
                        other.expires,
                        crate::error::one_line(&other.intent),
                        if other.path == *path {
                            String::new()
                        } else {
                            format!(" through its lock on '{}'", other.path)
                        }
                    )));
                }
            }
            let stamp = Stamp(batch.clock, actor.name.clone());
            let mut out = Locked {
                locks: Vec::new(),
                renewed: Vec::new(),
            };
            for path in &wanted {
                let file = locks::record_path(path);
                let existing = records::read(snap, &file)?;
                let mine = held
                    .iter()
                    .find(|l| l.path == *path && l.holder == actor.name && l.is_live(now));
                let expires_ms = now + ttl_secs * 1000;
                let lock = Lock {
                    path: path.clone(),
                    holder: actor.name.clone(),
                    since: mine
                        .map(|l| l.since.clone())
                        .unwrap_or_else(|| format_ms(now)),
                    expires: format_ms(expires_ms),
                    intent: intent.to_string(),
                    expires_ms,
                };
                if mine.is_some() {
                    out.renewed.push(path.clone());
                }
                records::put(batch, &file, &locks::to_record(existing, &lock, &stamp));
                out.locks.push(lock);
            }
            Ok(Outcome::Commit {
                message: format!("board lock {}: {}", wanted.join(" "), first_line(intent)),
                value: out,
            })
        })
    }

    /// Release `paths` held by `actor`. Another agent's lock is refused (naming its
    /// holder) unless `force`.
    pub fn unlock(&self, actor: &Actor, paths: &[String], force: bool) -> Result<Unlocked> {
        if paths.is_empty() {
            return Err(Error::invalid("name at least one PATH to unlock"));
        }
        self.store.write(COLLECTION, actor, |snap, batch| {
            let now = now_ms();
            let held = locks::held(snap)?;
            let stamp = Stamp(batch.clock, actor.name.clone());
            let mut out = Unlocked {
                released: Vec::new(),
                not_held: Vec::new(),
            };
            for path in paths {
                match held.iter().find(|l| l.path == *path) {
                    Some(lock) if lock.holder != actor.name && lock.is_live(now) && !force => {
                        return Err(Error::Conflict(format!(
                            "'{path}' is locked by {}, not by {}; it can release it (or --force)",
                            lock.holder, actor.name
                        )));
                    }
                    Some(_) => {
                        let file = locks::record_path(path);
                        if let Some(record) = records::read(snap, &file)? {
                            records::put(batch, &file, &locks::release_record(record, &stamp));
                            out.released.push(path.clone());
                        }
                    }
                    None => out.not_held.push(path.clone()),
                }
            }
            if out.released.is_empty() {
                return Ok(Outcome::Unchanged(out));
            }
            Ok(Outcome::Commit {
                message: format!("board unlock {}", out.released.join(" ")),
                value: out,
            })
        })
    }

    /// Release locks whose lease ran out and those whose holder's session is dead
    /// (`is_dead(holder)`); one write, or none when nothing is to release (patrol runs this
    /// every pass and a no-op pass writes nothing).
    pub fn expire_locks(
        &self,
        actor: &Actor,
        is_dead: &dyn Fn(&str) -> bool,
    ) -> Result<ExpiredLocks> {
        // Decide on the lock-free snapshot first, so a pass with nothing to do never
        // takes the board's writer lock.
        let now = now_ms();
        if !locks::held(&self.snapshot()?)?
            .iter()
            .any(|l| !l.is_live(now) || is_dead(&l.holder))
        {
            return Ok(ExpiredLocks::default());
        }
        self.store.write(COLLECTION, actor, |snap, batch| {
            let now = now_ms();
            let stamp = Stamp(batch.clock, actor.name.clone());
            let mut out = ExpiredLocks::default();
            for lock in locks::held(snap)? {
                let reason = if !lock.is_live(now) {
                    "expired"
                } else if is_dead(&lock.holder) {
                    "holder-dead"
                } else {
                    continue;
                };
                let file = locks::record_path(&lock.path);
                if let Some(record) = records::read(snap, &file)? {
                    records::put(batch, &file, &locks::release_record(record, &stamp));
                    out.released.push(ReleasedLock { lock, reason });
                }
            }
            if out.is_empty() {
                return Ok(Outcome::Unchanged(out));
            }
            let paths: Vec<&str> = out.released.iter().map(|r| r.lock.path.as_str()).collect();
            Ok(Outcome::Commit {
                message: format!("board expire {}", paths.join(" ")),
                value: out,
            })
        })
    }

    /// Live locks held by `holder`.
    pub fn locks_of(&self, holder: &str) -> Result<Vec<Lock>> {
        Ok(self
            .locks()?
            .into_iter()
            .filter(|l| l.holder == holder)
            .collect())
    }

    /// Normalise user-given paths against the repository that contains `cwd`.
    pub fn normalize_paths(cwd: &Path, paths: &[String]) -> Result<Vec<String>> {
        let root = repo_root(cwd)?;
        paths.iter().map(|p| normalize(&root, cwd, p)).collect()
    }
}

pub(crate) fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    if line.chars().count() > 72 {
        format!("{}...", line.chars().take(69).collect::<String>())
    } else {
        line.to_string()
    }
}
