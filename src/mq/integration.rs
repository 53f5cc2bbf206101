//! Integration branches (gastown.md §10): `integration/<epic>`, made from the rig's target
//! and recorded on the epic (`integration_branch`, `integration_target`), so work on the
//! epic's children branches from it and merges into it; landing merges it into the target
//! through the queue (gates included, a merge commit) and the merge closes the epic.

use serde::Serialize;
use serde_json::json;

use super::pass::PassReport;
use super::record::{self, submit_with, MergeRequest, Submission, MERGED, SUPERSEDED};
use super::MergeQueue;
use crate::bead::id::record_path;
use crate::bead::record::Stamp;
use crate::bead::{Beads, COLLECTION};
use crate::error::{Error, Result};
use crate::gitcmd;
use crate::records;
use crate::store::{Actor, Outcome, Snapshot};

/// The integration branch of an epic.
pub fn branch_name(epic: &str) -> String {
    format!("integration/{epic}")
}

/// Parent links followed when looking for an epic's integration branch (epics of epics).
const MAX_DEPTH: usize = 16;

/// The integration branch work on `bead` merges into: its own or its nearest ancestor's.
/// What sling (branch base) and `done` (target) call.
pub fn target_for(snap: &Snapshot<'_>, bead: &str) -> Result<Option<String>> {
    let mut id = bead.to_string();
    for _ in 0..MAX_DEPTH {
        let Some(rec) = records::read(snap, &record_path(&id))? else {
            return Ok(None);
        };
        if let Some(branch) = rec.str("integration_branch") {
            return Ok(Some(branch.to_string()));
        }
        match rec.parent() {
            Some(parent) => id = parent.to_string(),
            None => return Ok(None),
        }
    }
    Ok(None)
}

#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub epic: String,
    pub branch: String,
    pub target: String,
    pub base: String,
    /// False when the epic already had it.
    pub created: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Landed {
    pub epic: String,
    pub branch: String,
    pub merge_request: MergeRequest,
    /// Whether the epic's branch is now in the target (and the epic closed).
    pub landed: bool,
    pub pass: PassReport,
}

impl MergeQueue<'_> {
    fn epic(&self, id: &str) -> Result<crate::bead::record::Record> {
        let beads = Beads::new(&self.store);
        let snap = beads.snapshot()?;
        let id = beads.resolve_any(&snap, id)?;
        let rec = beads.load(&snap, &id)?;
        if rec.issue_type() != "epic" {
            return Err(Error::invalid(format!(
                "{id} is a {}, not an epic",
                rec.issue_type()
            )));
        }
        Ok(rec)
    }

    /// `git mq integration create EPIC`.
    pub fn integration_create(&self, actor: &Actor, epic: &str) -> Result<Created> {
        let rec = self.epic(epic)?;
        let epic = rec.id.clone();
        let branch = branch_name(&epic);
        if let (Some(b), Some(t)) = (rec.str("integration_branch"), rec.str("integration_target")) {
            if let Some(tip) = self.store.branch_tip(b)? {
                return Ok(Created {
                    epic,
                    branch: b.to_string(),
                    target: t.to_string(),
                    base: tip,
                    created: false,
                });
            }
        }
        let target = self.default_target(None)?;
        let base = super::target::Target::of(&self.store, &target)
            .tip(&self.store, &self.rig.path)?
            .ok_or_else(|| {
                Error::invalid(format!("the target branch '{target}' does not exist"))
            })?;
        let base = match self.store.branch_tip(&branch)? {
            Some(existing) => existing,
            None => {
                if !self.store.move_branch(
                    &branch,
                    &base,
                    None,
                    actor,
                    &format!("mq: integration branch for {epic}"),
                )? {
                    return Err(Error::Conflict(format!(
                        "{branch} was created by someone else meanwhile; run again"
                    )));
                }
                base
            }
        };
        self.store.write(COLLECTION, actor, |snap, batch| {
            Beads::new(&self.store).modify_in(
                snap,
                batch,
                actor,
                std::slice::from_ref(&epic),
                false,
                |edit| {
                    let mut changed = edit.set("integration_branch", json!(branch));
                    changed |= edit.set("integration_target", json!(target));
                    Ok(changed)
                },
            )?;
            Ok(Outcome::Commit {
                message: format!("mq integration create {branch}"),
                value: (),
            })
        })?;
        Ok(Created {
            epic,
            branch,
            target,
            base,
            created: true,
        })
    }

    /// `git mq integration land EPIC`: every request into the branch merged and every child
    /// closed, then the branch goes through the queue into the target and the epic closes.
    pub fn integration_land(&self, actor: &Actor, epic: &str) -> Result<Landed> {
        let rec = self.epic(epic)?;
        let epic = rec.id.clone();
        let branch = rec
            .str("integration_branch")
            .ok_or_else(|| {
                Error::invalid(format!(
                    "epic {epic} has no integration branch (`git mq integration create {epic}`)"
                ))
            })?
            .to_string();
        let target = rec
            .str("integration_target")
            .map(str::to_string)
            .map_or_else(|| self.default_target(None), Ok)?;
        let snap = self.store.snapshot(COLLECTION)?;
        let pending: Vec<String> = record::list_in(&snap)?
            .into_iter()
            .filter(|m| m.target == branch && ![MERGED, SUPERSEDED].contains(&m.status.as_str()))
            .map(|m| format!("{} ({})", m.id, m.status))
            .collect();
        if !pending.is_empty() {
            return Err(Error::invalid(format!(
                "{branch} still has unmerged requests: {}",
                pending.join(", ")
            )));
        }
        let beads = Beads::new(&self.store);
        let index = beads.index(&snap)?;
        let open = crate::bead::rules::open_children(&index, &epic);
        if !open.is_empty() {
            return Err(Error::invalid(format!(
                "epic {epic} has open children ({})",
                open.join(", ")
            )));
        }
        let tip = self
            .store
            .branch_tip(&branch)?
            .ok_or_else(|| Error::invalid(format!("the integration branch {branch} is gone")))?;
        let target_tip = super::target::Target::of(&self.store, &target)
            .tip(&self.store, &self.rig.path)?
            .ok_or_else(|| {
                Error::invalid(format!("the target branch '{target}' does not exist"))
            })?;
        if gitcmd::probe(
            &self.rig.path,
            ["merge-base", "--is-ancestor", &tip, &target_tip],
        )
        .is_some()
        {
            return Err(Error::invalid(format!(
                "{branch} has no commits beyond {target}: nothing to land"
            )));
        }
        let prefix = beads.config(&snap)?.prefix;
        let id = super::id_for(&prefix, &tip);
        self.store.pin_work(&id, &tip)?;
        let mr = self.store.write(COLLECTION, actor, |snap, batch| {
            let stamp = Stamp(batch.clock, actor.name.clone());
            let sub = Submission {
                branch: branch.clone(),
                target: target.clone(),
                commit: tip.clone(),
                bead: Some(epic.clone()),
                priority: rec.priority(),
                ..Default::default()
            };
            // An integration branch lands as one merge commit (`--no-ff`), its history kept.
            let (mr, created) = submit_with(snap, batch, &stamp, &prefix, &sub, Some("merge"))?;
            if !created {
                return Ok(Outcome::Unchanged(mr));
            }
            super::carry(snap, batch);
            Ok(Outcome::Commit {
                message: format!("mq integration land {branch} -> {target}"),
                value: mr,
            })
        })?;
        let pass = self.run(actor)?;
        let merge_request = self.show(&mr.id)?;
        Ok(Landed {
            epic,
            branch,
            landed: merge_request.status == MERGED,
            merge_request,
            pass,
        })
    }
}
