//! Sync between clones (docs/SYNC.md): fetch the remote's `refs/gastown/*` into
//! `refs/gastown-remotes/<remote>/*`, merge each collection into the local one under its
//! writer lock (fast-forward when one side contains the other, else a deterministic
//! join with a two-parent merge commit), push, and start over when the remote moved.

pub mod beads;
pub mod history;
pub mod merge;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use gix::ObjectId;
use serde::Serialize;

pub use history::Relation;
pub use merge::{MergeReport, Rename};

use crate::error::{Error, Result};
use crate::store::collection::{self, Join, Layout};
use crate::store::remote::{self, Git, PushResult, Remote};
use crate::store::{Actor, Outcome, Store, WriteLock};

/// Attempts of fetch-merge-push before giving up when other clones keep pushing.
pub const DEFAULT_ATTEMPTS: usize = 10;

/// What happened to one collection.
#[derive(Debug, Clone, Serialize)]
pub struct CollectionReport {
    pub collection: String,
    /// `up-to-date`, `ahead` (only we have new commits), `created`, `fast-forward` or
    /// `merged`.
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
    #[serde(flatten)]
    pub report: MergeReport,
    /// Dependency cycles in the bead graph after the merge (possible when each clone
    /// added one edge of a cycle).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cycles: Vec<Vec<String>>,
}

impl CollectionReport {
    pub fn changed_local(&self) -> bool {
        self.before != self.after
    }
}

/// What a sync did.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    pub remote: String,
    /// Where the remote's state was fetched: `refs/gastown-remotes/<name>/`.
    pub namespace: String,
    pub attempts: usize,
    pub fetched: bool,
    /// Collections whose local state changed (fast-forward or merge).
    pub merged: Vec<String>,
    /// Collections pushed to the remote.
    pub pushed: Vec<String>,
    pub up_to_date: bool,
    pub added: usize,
    pub changed: usize,
    pub deleted: usize,
    pub conflicts: usize,
    pub renamed: Vec<Rename>,
    pub cycles: Vec<Vec<String>>,
    pub collections: Vec<CollectionReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// How to sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// A remote name, URL or path; `None` = the current branch's remote, else `origin`.
    pub remote: Option<String>,
    /// Where git runs (relative remote paths resolve from here).
    pub cwd: PathBuf,
    pub attempts: usize,
}

/// Merge the commit `theirs` (a fetched state of `collection`) into the local collection,
/// under the collection's writer lock. `from` names the source in the merge commit and in
/// errors. A collection gastown does not declare is refused.
pub fn merge_tip(
    store: &Store,
    collection: &str,
    theirs: ObjectId,
    actor: &Actor,
    from: &str,
) -> Result<CollectionReport> {
    let layout = collection::known(collection, from)?;
    merge_tip_as(store, collection, layout, theirs, actor, from)
}

/// [`merge_tip`] with an explicit layout (tests keep bead states in other collections).
/// The write goes through [`Store::write`], the one write protocol (lock, CAS, retry).
pub fn merge_tip_as(
    store: &Store,
    collection: &str,
    layout: &Layout,
    theirs: ObjectId,
    actor: &Actor,
    from: &str,
) -> Result<CollectionReport> {
    let source = format!("{collection} from {from}");
    let theirs_snap = store.snapshot_at(theirs).map_err(|e| e.within(&source))?;
    let (action, before, report) = store.write(collection, actor, |ours, batch| {
        let before = ours.tip;
        let relation = match ours.tip {
            None => Relation::TheirsContainsOurs,
            Some(tip) => history::relation(store, tip, theirs).map_err(|e| e.within(&source))?,
        };
        Ok(match relation {
            Relation::Same => Outcome::Unchanged(("up-to-date", before, MergeReport::default())),
            Relation::OursContainsTheirs => {
                Outcome::Unchanged(("ahead", before, MergeReport::default()))
            }
            Relation::TheirsContainsOurs => {
                // Nothing is written, but what arrives is checked against the layout.
                let described = merge::merge(
                    store,
                    layout,
                    collection,
                    ours,
                    &theirs_snap,
                    u64::MAX,
                    None,
                )
                .map_err(|e| e.within(&source))?;
                let action = if ours.tip.is_none() {
                    "created"
                } else {
                    "fast-forward"
                };
                Outcome::FastForward {
                    to: theirs,
                    value: (action, before, described.report),
                }
            }
            Relation::Diverged { base_clock } => {
                let merged = merge::merge(
                    store,
                    layout,
                    collection,
                    ours,
                    &theirs_snap,
                    base_clock,
                    Some(&mut *batch),
                )
                .map_err(|e| e.within(&source))?;
                batch.add_parent(theirs);
                batch.raise_clock(theirs_snap.clock)?;
                Outcome::Commit {
                    message: format!(
                        "sync: merge {from} into {collection}{}",
                        summary(&merged.report, true)
                    ),
                    value: ("merged", before, merged.report),
                }
            }
        })
    })?;
    let after = store.snapshot(collection)?.tip;
    let changed = matches!(action, "created" | "fast-forward" | "merged");
    let cycles = if changed && layout.has(Join::Beads) {
        bead_cycles(store, collection)?
    } else {
        Vec::new()
    };
    Ok(CollectionReport {
        collection: collection.to_string(),
        action: action.into(),
        before: before.map(|t| t.to_string()),
        after: if changed { after } else { before }.map(|t| t.to_string()),
        report,
        cycles,
    })
}

/// Cycles over ordering dependencies in the current bead graph.
fn bead_cycles(store: &Store, collection: &str) -> Result<Vec<Vec<String>>> {
    if collection != crate::bead::COLLECTION {
        return Ok(Vec::new());
    }
    let snap = store.snapshot(collection)?;
    if !snap.exists() {
        return Ok(Vec::new());
    }
    let index = crate::bead::Index::for_snapshot(store, collection, &snap)?;
    Ok(crate::bead::graph::cycles(&index))
}

/// A short account for commit messages and the terminal: " (3 added, 1 changed, ...)".
pub fn summary(report: &MergeReport, with_renames: bool) -> String {
    let mut parts = Vec::new();
    for (n, what) in [
        (report.added, "added"),
        (report.changed, "changed"),
        (report.deleted, "deleted"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    if report.conflicts > 0 {
        let s = if report.conflicts == 1 { "" } else { "s" };
        parts.push(format!("{} conflict{s} resolved", report.conflicts));
    }
    if with_renames {
        for rename in &report.renamed {
            parts.push(format!("renamed {} to {}", rename.from, rename.to));
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// Fetch, merge and push until the remote accepts our state (or attempts run out).
pub fn sync(store: &Store, actor: &Actor, options: &SyncOptions) -> Result<SyncReport> {
    let remote = remote::resolve_remote(store, options.remote.as_deref())?;
    let git = Git::new(&options.cwd)?;
    let lock_path = store.state_dir().join("locks").join("sync.lock");
    let _sync_lock = WriteLock::acquire(&lock_path, "sync", crate::store::lock_timeout()?)?;
    let mut report = SyncReport {
        remote: remote.target.clone(),
        namespace: remote.tracking_prefix(),
        attempts: 0,
        fetched: false,
        merged: Vec::new(),
        pushed: Vec::new(),
        up_to_date: true,
        added: 0,
        changed: 0,
        deleted: 0,
        conflicts: 0,
        renamed: Vec::new(),
        cycles: Vec::new(),
        collections: Vec::new(),
        warnings: dangerous_refspecs(store, &remote),
    };
    let mut per_collection: BTreeMap<String, CollectionReport> = BTreeMap::new();
    let mut last_rejection = String::new();
    for attempt in 1..=options.attempts.max(1) {
        report.attempts = attempt;
        let remote_tips = git.ls_remote(&remote)?;
        let local = remote::local_tips(store)?;
        if remote_tips == local {
            mirror_tracking(store, &remote, &remote_tips)?;
            return Ok(finish(report, per_collection));
        }
        // Every collection exchanged must be declared: refuse before fetching anything.
        for collection in remote_tips.keys() {
            collection::known(collection, &format!("remote {}", remote.target))?;
        }
        for collection in local.keys() {
            collection::known(collection, "this clone")?;
        }
        let theirs = if remote_tips.values().all(|oid| store.has_object(*oid)) {
            mirror_tracking(store, &remote, &remote_tips)?;
            remote_tips.clone()
        } else {
            git.fetch(&remote)?;
            report.fetched = true;
            let fetched = remote::tracking_tips(store, &remote)?;
            remote_tips
                .keys()
                .filter_map(|c| fetched.get(c).map(|oid| (c.clone(), *oid)))
                .collect()
        };
        for (collection, tip) in &theirs {
            if local.get(collection) == Some(tip) {
                continue;
            }
            let outcome = merge_tip(store, collection, *tip, actor, &remote.target)?;
            if outcome.changed_local() {
                match per_collection.get_mut(collection) {
                    Some(previous) => {
                        previous.report.absorb(&outcome.report);
                        previous.after = outcome.after.clone();
                        previous.cycles = outcome.cycles.clone();
                        if outcome.action == "merged" {
                            previous.action = outcome.action.clone();
                        }
                    }
                    None => {
                        per_collection.insert(collection.clone(), outcome);
                    }
                }
            }
        }
        let local = remote::local_tips(store)?;
        let updates: Vec<(String, ObjectId)> = local
            .iter()
            .filter(|(c, oid)| theirs.get(*c) != Some(oid))
            .map(|(c, oid)| (c.clone(), *oid))
            .collect();
        if updates.is_empty() {
            return Ok(finish(report, per_collection));
        }
        match git.push(&remote, &updates)? {
            PushResult::Pushed => {
                for (collection, oid) in &updates {
                    remote::set_tracking(store, &remote, collection, *oid)?;
                    report.pushed.push(collection.clone());
                }
                return Ok(finish(report, per_collection));
            }
            PushResult::RemoteMoved(reason) => {
                last_rejection = reason;
                std::thread::sleep(jitter(attempt));
            }
        }
    }
    Err(Error::Conflict(format!(
        "sync with {} gave up after {} attempts: other clones kept pushing ({last_rejection}); run `git gastown sync` again",
        remote.target, report.attempts
    )))
}

fn finish(
    mut report: SyncReport,
    per_collection: BTreeMap<String, CollectionReport>,
) -> SyncReport {
    for collection in per_collection.into_values() {
        report.merged.push(collection.collection.clone());
        report.added += collection.report.added;
        report.changed += collection.report.changed;
        report.deleted += collection.report.deleted;
        report.conflicts += collection.report.conflicts;
        report
            .renamed
            .extend(collection.report.renamed.iter().cloned());
        report.cycles.extend(collection.cycles.iter().cloned());
        report.collections.push(collection);
    }
    report.up_to_date = report.merged.is_empty() && report.pushed.is_empty();
    report
}

/// Keep `refs/gastown-remotes/<remote>/*` equal to what the remote showed.
fn mirror_tracking(
    store: &Store,
    remote: &Remote,
    tips: &BTreeMap<String, ObjectId>,
) -> Result<()> {
    let current = remote::tracking_tips(store, remote)?;
    for (collection, oid) in tips {
        if current.get(collection) != Some(oid) {
            remote::set_tracking(store, remote, collection, *oid)?;
        }
    }
    Ok(())
}

/// A configured fetch refspec that writes straight into `refs/gastown/` would overwrite
/// local state on every plain `git fetch`.
fn dangerous_refspecs(store: &Store, remote: &Remote) -> Vec<String> {
    let config = store.config();
    let key = format!("remote.{}.fetch", remote.target);
    config
        .strings(key.as_str())
        .unwrap_or_default()
        .iter()
        .map(|s| s.to_string())
        .filter(|spec| {
            spec.split_once(':')
                .is_some_and(|(_, dst)| dst.starts_with("refs/gastown/"))
        })
        .map(|spec| {
            format!(
                "remote.{}.fetch has '{spec}', which lets plain `git fetch` overwrite local state; use '+refs/gastown/*:{}*' instead",
                remote.target,
                remote.tracking_prefix()
            )
        })
        .collect()
}

/// Randomised exponential backoff: up to 20 ms after the first rejection, doubling, capped
/// at one second, different in every process so racing clones spread out.
fn jitter(attempt: usize) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let seed = u64::from(nanos).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ u64::from(std::process::id());
    let spread = (20u64 << attempt.saturating_sub(1).min(6)).min(1000);
    Duration::from_millis(2 + seed % spread)
}
