//! The merge queue (docs/MQ.md): merge requests (`record`), their order (`order`), and the
//! pass that drains them (`pass`): a deterministic command, run by `done`, by hand or by CI,
//! that rebases each request onto its target in a scratch worktree, runs the rig's gates,
//! moves the target by compare-and-swap and records the merge in one write. An agent is
//! needed only to resolve a conflict.
//!
//! `MergeQueue` is the service the CLI calls: each method is one `Store::write` (or a pass,
//! which is a sequence of them) and returns `Serialize` values.

pub mod candidate;
pub mod config;
pub mod escalation;
pub mod gates;
pub mod integration;
pub mod journal;
pub mod order;
pub mod pass;
pub mod record;
pub mod scratch;
pub mod target;
pub mod writes;

use serde::Serialize;
use serde_json::json;

pub use pass::PassReport;
pub use record::{
    carry, id_for, list, list_in, open_for_bead, submit_in, GateFailure, MergeRequest, Submission,
    CONFLICT, MERGED, OPEN, REJECTED, SUPERSEDED,
};

use crate::bead::id::record_path;
use crate::bead::record::Stamp;
use crate::bead::{Beads, COLLECTION};
use crate::error::{Error, Result};
use crate::gitcmd;
use crate::records;
use crate::store::{Actor, Outcome, Store};
use crate::town::{Rig, Town};

/// The merge queue of one rig.
pub struct MergeQueue<'t> {
    pub town: &'t Town,
    pub rig: Rig,
    pub store: Store,
}

/// What `submit` did.
#[derive(Debug, Clone, Serialize)]
pub struct Submitted {
    #[serde(flatten)]
    pub mr: MergeRequest,
    /// False when the commit already had a request (it is returned as it is).
    pub created: bool,
    pub pinned: String,
}

/// What to submit by hand.
#[derive(Debug, Clone, Default)]
pub struct SubmitSpec {
    /// The branch (default: the current branch of the directory).
    pub branch: String,
    pub bead: Option<String>,
    pub target: Option<String>,
}

/// `git mq status`.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub rig: String,
    /// Open requests (waiting or held).
    pub depth: usize,
    pub by_status: std::collections::BTreeMap<String, usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_pass: Option<serde_json::Value>,
    /// A pass was killed after moving a target and before recording it: the next pass finishes it.
    pub unfinished_merge: bool,
}

impl<'t> MergeQueue<'t> {
    pub fn new(town: &'t Town, rig: Rig) -> Result<MergeQueue<'t>> {
        let store = rig.open_store()?;
        Ok(MergeQueue { town, rig, store })
    }

    pub fn config(&self) -> Result<config::Config> {
        config::Config::load(&self.store, &self.rig.name, &self.town.store)
    }

    /// The branch requests go to by default: the bead's epic's integration branch, else the
    /// rig's `merge_queue.target`, else its HEAD branch.
    pub fn default_target(&self, bead: Option<&str>) -> Result<String> {
        if let Some(bead) = bead {
            let snap = self.store.snapshot(COLLECTION)?;
            if let Some(branch) = integration::target_for(&snap, bead)? {
                return Ok(branch);
            }
        }
        let configured = self.config()?.target;
        Ok(crate::agent::sandbox::target_branch(
            &self.rig.path,
            configured.as_deref(),
        ))
    }

    /// Every request, in queue order for the open ones (then the decided, newest first).
    pub fn list(&self, all: bool) -> Result<Vec<MergeRequest>> {
        let mrs = record::list(&self.store)?;
        let (mut open, mut rest): (Vec<_>, Vec<_>) = mrs.into_iter().partition(|m| m.is_open());
        order::sort(&mut open, chrono::Utc::now(), self.config()?.starve_after_s);
        if all {
            rest.sort_by(|a, b| {
                b.decided_at
                    .cmp(&a.decided_at)
                    .then(b.created_at.cmp(&a.created_at))
            });
            open.extend(rest);
        }
        Ok(open)
    }

    pub fn show(&self, id: &str) -> Result<MergeRequest> {
        record::find_in(&self.store.snapshot(COLLECTION)?, id)
    }

    /// File a request for `spec.branch`'s tip by hand (deduplicated by commit).
    pub fn submit(&self, actor: &Actor, spec: &SubmitSpec) -> Result<Submitted> {
        crate::store::branch::validate_branch(&spec.branch)?;
        let commit = self.store.branch_tip(&spec.branch)?.ok_or_else(|| {
            Error::invalid(format!(
                "no branch '{}' in rig '{}'",
                spec.branch, self.rig.name
            ))
        })?;
        let snap = self.store.snapshot(COLLECTION)?;
        let beads = Beads::new(&self.store);
        let bead = match &spec.bead {
            Some(b) => Some(beads.resolve_any(&snap, b)?),
            None => None,
        };
        let target = match &spec.target {
            Some(t) => {
                crate::store::branch::validate_branch(t)?;
                t.clone()
            }
            None => self.default_target(bead.as_deref())?,
        };
        if target == spec.branch {
            return Err(Error::invalid(format!(
                "'{}' is the target itself: submit a branch that holds work for it",
                spec.branch
            )));
        }
        let target_ref = target::Target::of(&self.store, &target);
        let target_tip = target_ref
            .tip(&self.store, &self.rig.path)?
            .ok_or_else(|| {
                Error::invalid(format!("the target branch '{target}' does not exist"))
            })?;
        if gitcmd::probe(
            &self.rig.path,
            ["merge-base", "--is-ancestor", &commit, &target_tip],
        )
        .is_some()
        {
            return Err(Error::invalid(format!(
                "{} has no commits beyond {target}: nothing to merge",
                spec.branch
            )));
        }
        let prefix = beads.config(&snap)?.prefix;
        let id = id_for(&prefix, &commit);
        let pinned = self.store.pin_work(&id, &commit)?;
        let (mr, created) = self.store.write(COLLECTION, actor, |snap, batch| {
            let stamp = Stamp(batch.clock, actor.name.clone());
            let (priority, convoy) = match &bead {
                Some(b) => {
                    let rec = records::read(snap, &record_path(b))?
                        .ok_or_else(|| Error::NotFound(b.clone()))?;
                    (rec.priority(), rec.str("convoy_id").map(str::to_string))
                }
                None => (2, None),
            };
            let sub = Submission {
                branch: spec.branch.clone(),
                target: target.clone(),
                commit: commit.clone(),
                bead: bead.clone(),
                worker: None,
                convoy,
                priority,
            };
            let (mr, created) = submit_in(snap, batch, &stamp, &prefix, &sub)?;
            if !created {
                return Ok(Outcome::Unchanged((mr, false)));
            }
            if let Some(b) = &bead {
                let mut rec = records::read(snap, &record_path(b))?.expect("read above");
                rec.set("merge_request", json!(mr.id), &stamp);
                records::put(batch, &record_path(b), &rec);
            }
            carry(snap, batch);
            Ok(Outcome::Commit {
                message: format!("mq submit {} ({} -> {target})", mr.id, spec.branch),
                value: (mr, true),
            })
        })?;
        Ok(Submitted {
            mr,
            created,
            pinned,
        })
    }

    /// One pass over the queue.
    pub fn run(&self, actor: &Actor) -> Result<PassReport> {
        pass::run(self.town, &self.rig, actor)
    }

    pub fn retry(&self, actor: &Actor, id: &str) -> Result<MergeRequest> {
        writes::retry(&self.store, actor, id)
    }

    /// Reject `id` by hand: the bead goes back to its worker with the reason.
    pub fn reject(&self, actor: &Actor, id: &str, reason: &str) -> Result<MergeRequest> {
        if reason.trim().is_empty() {
            return Err(Error::invalid("a rejection needs a reason (--reason)"));
        }
        let mr = self.show(id)?;
        writes::record_rejected(&self.store, actor, &mr.id, reason, None, 0)?;
        self.show(&mr.id)
    }

    pub fn status(&self) -> Result<Status> {
        let mut by_status = std::collections::BTreeMap::new();
        let mrs = record::list(&self.store)?;
        for m in &mrs {
            *by_status.entry(m.status.clone()).or_insert(0) += 1;
        }
        Ok(Status {
            rig: self.rig.name.clone(),
            depth: mrs.iter().filter(|m| m.is_open()).count(),
            by_status,
            running: journal::Slot::holder(&self.store),
            last_pass: journal::last(&self.store),
            unfinished_merge: journal::Journal::pending(&self.store)?.is_some(),
        })
    }
}

/// Start a detached `git mq run` for `rig` when its `merge_queue.auto` is on (the default):
/// what `git agent done` calls after its write, so work merges within seconds with no cron.
/// A pass already running makes the new one return at once, after which the running one
/// takes the new request. The pid, or `None` when auto is off.
pub fn spawn_pass(town: &Town, rig: &Rig) -> Result<Option<u32>> {
    let store = rig.open_store()?;
    if !config::Config::load(&store, &rig.name, &town.store)?.auto {
        return Ok(None);
    }
    let log = journal::dir(&store).join("auto.log");
    let pid = crate::detach::spawn(
        "git-mq",
        ["run", "--quiet", "--rig", rig.name.as_str()],
        &rig.path,
        &log,
    )?;
    Ok(Some(pid))
}
