//! One pass of the merge queue (`git mq run`): take the merge slot, finish what a killed
//! pass left, then drain the rig's queue in order and exit. Per batch of up to
//! `merge_queue.batch_size` requests with one target:
//!
//! 1. stack them in the scratch worktree: each rebased (or merged) onto the one before, the
//!    first onto the target's current tip; stacking stops at the first request that
//!    conflicts or is already merged (it goes first in the next batch, onto the base a
//!    one-at-a-time queue would give it);
//! 2. run the gates on the stacked tip; green: the target moves to it. Red: bisect — test
//!    the middle prefix, merge it when green, narrow down when red — until the first failing
//!    request is found and rejected; the requests after it are stacked again on the new
//!    target (their old candidates contained the failing one). So the merges are those of a
//!    one-at-a-time queue whenever a failing request fails on every base that contains it,
//!    and a batch of N with one bad request costs about log2(N) + 2 gate runs;
//! 3. every move of the target: journal, compare-and-swap (checkouts brought along, or the
//!    merge held), then ONE write recording the merges and closing their beads, then merged
//!    branches deleted; a target moved by someone else during the gates sends the batch
//!    round again (never a lost update).
//!
//! Requests submitted while the pass runs are picked up before it exits: after releasing the
//! slot it looks at the queue again, and a pass that found the slot taken returned at once
//! knowing that the holder will.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::candidate::{Builder, Integrated, Labels};
use super::config::Config;
use super::gates::{self, GateResult};
use super::journal::{self, Journal, Slot};
use super::order;
use super::record::{self, GateFailure, MergeRequest};
use super::scratch::Scratch;
use super::target::{self, Advance, Target};
use super::writes;
use crate::bead::COLLECTION;
use crate::error::Result;
use crate::gitcmd;
use crate::store::branch as store_branch;
use crate::store::{Actor, Store};
use crate::town::{Rig, Town};

/// Moves of the target by others that a pass tolerates before holding what is left.
const MAX_TARGET_RACES: u32 = 5;

/// What happened to one request in a pass.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Decision {
    pub mr: String,
    /// `merged`, `rejected`, `escalated`, `conflict` or `held`.
    pub outcome: String,
    pub branch: String,
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bead: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<GateFailure>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflict_files: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rework_bead: Option<String>,
    /// The escalation this rejection raised (max retries, a gate timeout).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalation: Option<String>,
    /// Why that escalation could not be raised (the rejection stands).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalation_error: Option<String>,
}

/// One batch: the requests stacked together and the gate runs it took.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Batch {
    pub target: String,
    pub base: String,
    pub mrs: Vec<String>,
    pub gate_runs: u64,
}

/// The report of a pass (`git mq run --json`).
#[derive(Debug, Clone, Serialize, Default)]
pub struct PassReport {
    pub rig: String,
    /// Set when another pass held the merge slot: this one did nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// What this pass finished or undid of a pass that was killed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<String>,
    pub decisions: Vec<Decision>,
    pub batches: Vec<Batch>,
    /// Gate runs of the whole pass.
    pub gate_runs: u64,
    pub merged: usize,
    pub rejected: usize,
    pub conflicts: usize,
    pub held: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub convoys: Vec<String>,
    /// Beads the pass's merges closed (for the convoy follow-up after the pass).
    #[serde(skip)]
    pub closed_beads: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deleted_branches: Vec<String>,
    /// Beads queued back to their workers (rework, rejected work); the pass starts a
    /// detached `git sling queue run` for them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requeued: Vec<String>,
    /// Escalations a killed pass had not raised after its rejection, raised now.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub escalations_repaired: Vec<String>,
    pub started_at: String,
    pub millis: u64,
}

impl PassReport {
    /// The exit status a CI job wants: 0 all merged (or nothing to do), 10 something was
    /// rejected or conflicts, 11 something was held (the queue could not decide it).
    pub fn exit_code(&self) -> i32 {
        if self.held > 0 {
            11
        } else if self.rejected + self.conflicts > 0 {
            10
        } else {
            0
        }
    }
}

/// Run one pass over `rig`'s queue.
pub fn run(town: &Town, rig: &Rig, actor: &Actor) -> Result<PassReport> {
    let started = Instant::now();
    let store = rig.open_store()?;
    let mut report = PassReport {
        rig: rig.name.clone(),
        started_at: crate::bead::schema::now_rfc3339(),
        ..Default::default()
    };
    let Some(mut slot) = Slot::try_take(&store)? else {
        let holder = Slot::holder(&store).and_then(|h| h["pid"].as_u64());
        report.skipped = Some(match holder {
            Some(pid) => format!("another pass (pid {pid}) holds the merge slot; it takes this queue's new requests too"),
            None => "another pass holds the merge slot".to_string(),
        });
        return Ok(report);
    };
    let config = Config::load(&store, &rig.name, &town.store)?;
    let mut pass = Pass {
        town,
        rig,
        repo: rig.path.clone(),
        store: &store,
        actor,
        config,
        scratch: None,
        seen: HashSet::new(),
        races: 0,
        gates_broken: None,
        report,
    };
    loop {
        let result = pass.recover().and_then(|()| pass.drain());
        if let Err(err) = result {
            pass.report.millis = started.elapsed().as_millis() as u64;
            let _ = journal::save_last(&store, &pass.report);
            return Err(err);
        }
        drop(slot);
        // A request submitted after our last look, by a `done` whose pass found the slot
        // taken, is ours to take.
        if pass.waiting()?.is_empty() {
            break;
        }
        match Slot::try_take(&store)? {
            Some(again) => slot = again,
            None => break,
        }
    }
    pass.report.escalations_repaired = super::escalation::repair(town, actor, &rig.name, &store);
    if !pass.report.requeued.is_empty() {
        // Best effort: the dispatches are durable records; any later queue run starts them.
        let log = journal::dir(&store).join("sling.log");
        let _ = crate::detach::spawn(
            "git-sling",
            ["queue", "run", "--rig", rig.name.as_str()],
            &rig.path,
            &log,
        );
    }
    if !pass.report.closed_beads.is_empty() {
        // Convoys in the town's store land (and are fed) right after the merge writes;
        // best effort: the merges are recorded, and sync or patrol repair a failure here.
        let closed = std::mem::take(&mut pass.report.closed_beads);
        if let Ok(after) = crate::convoy::Convoys::new(town).after_close(actor, &closed) {
            pass.report
                .convoys
                .extend(after.landed.into_iter().map(|l| l.id));
            pass.report.convoys.sort();
            pass.report.convoys.dedup();
        }
    }
    pass.report.millis = started.elapsed().as_millis() as u64;
    journal::save_last(&store, &pass.report)?;
    Ok(pass.report)
}

struct Pass<'a> {
    town: &'a Town,
    rig: &'a Rig,
    repo: PathBuf,
    store: &'a Store,
    actor: &'a Actor,
    config: Config,
    scratch: Option<Scratch>,
    /// Requests decided or held in this pass (never taken twice).
    seen: HashSet<String>,
    races: u32,
    /// A gate command that does not exist: everything left is held.
    gates_broken: Option<String>,
    report: PassReport,
}

enum Tested {
    Green,
    Red(GateResult),
}

impl Pass<'_> {
    /// Open requests not yet decided in this pass, in queue order.
    fn waiting(&self) -> Result<Vec<MergeRequest>> {
        let snap = self.store.snapshot(COLLECTION)?;
        let mut open: Vec<MergeRequest> = record::list_in(&snap)?
            .into_iter()
            .filter(|m| m.is_open() && !self.seen.contains(&m.id))
            .collect();
        order::sort(&mut open, chrono::Utc::now(), self.config.starve_after_s);
        Ok(open)
    }

    fn scratch_path(&self) -> PathBuf {
        journal::dir(self.store).join("scratch")
    }

    /// Finish or undo the merge a killed pass journaled.
    fn recover(&mut self) -> Result<()> {
        let Some(j) = Journal::pending(self.store)? else {
            return Ok(());
        };
        let target = Target {
            branch: j.target.clone(),
            remote: j.remote.clone(),
        };
        let tip = match &target.remote {
            Some(remote) => store_branch::remote_branch_tip(&self.repo, remote, &target.branch)?,
            None => self.store.branch_tip(&target.branch)?,
        };
        let landed = tip.as_deref().is_some_and(|t| {
            t == j.to
                || gitcmd::probe(&self.repo, ["merge-base", "--is-ancestor", &j.to, t]).is_some()
        });
        target::repair_checkouts(&target, self.store, &self.scratch_path(), &[&j.from, &j.to])?;
        if landed {
            let done = writes::record_merged(self.store, self.actor, &target.branch, &j.merged)?;
            self.report.convoys.extend(done.convoys);
            self.report.closed_beads.extend(done.beads_closed);
            self.cleanup_merged(&target, &j.merged)?;
            self.report.recovered =
                Some(format!(
                "finished recording the merge of {} into {} (a pass was killed after moving it)",
                j.merged.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>().join(", "),
                target.branch
            ));
        } else {
            self.report.recovered = Some(format!(
                "discarded an unfinished merge into {} (a pass was killed before it moved)",
                target.branch
            ));
        }
        Journal::clear(self.store)
    }

    /// Take batches from the front of the queue until nothing undecided is left.
    fn drain(&mut self) -> Result<()> {
        loop {
            let queue = self.waiting()?;
            let Some(first) = queue.first() else {
                return Ok(());
            };
            let target = first.target.clone();
            let batch: Vec<MergeRequest> = queue
                .into_iter()
                .take_while(|m| m.target == target)
                .take(self.config.batch_size)
                .collect();
            if let Some(why) = self.gates_broken.clone() {
                self.hold(&batch, &why);
                continue;
            }
            if self.races >= MAX_TARGET_RACES {
                let why = format!("{target} kept moving under the pass ({MAX_TARGET_RACES} times); run `git mq run` again");
                self.hold(&batch, &why);
                continue;
            }
            self.process(&Target::of(self.store, &target), &batch)?;
        }
    }

    fn hold(&mut self, mrs: &[MergeRequest], why: &str) {
        for mr in mrs {
            self.seen.insert(mr.id.clone());
            self.report.held += 1;
            self.report
                .decisions
                .push(decision(mr, "held", Some(why.to_string())));
        }
    }

    fn decide(&mut self, d: Decision) {
        self.seen.insert(d.mr.clone());
        match d.outcome.as_str() {
            "merged" => self.report.merged += 1,
            "rejected" | "escalated" => self.report.rejected += 1,
            "conflict" => self.report.conflicts += 1,
            _ => self.report.held += 1,
        }
        self.report.decisions.push(d);
    }

    /// Stack, test and merge one batch. Requests it leaves undecided go round again.
    fn process(&mut self, target: &Target, batch: &[MergeRequest]) -> Result<()> {
        let Some(base) = target.tip(self.store, &self.repo)? else {
            let why = format!("the target branch {} does not exist", target.branch);
            self.hold(batch, &why);
            return Ok(());
        };
        if let Some(why) = target.blocked_by(self.store, &self.scratch_path())? {
            self.hold(batch, &why);
            return Ok(());
        }
        let requests = crate::mq::record::list(self.store)?;
        let mut tips: Vec<String> = Vec::new();
        for (i, mr) in batch.iter().enumerate() {
            let current = tips.last().unwrap_or(&base).clone();
            let present = gix::ObjectId::from_hex(mr.commit.as_bytes())
                .is_ok_and(|oid| self.store.has_object(oid));
            if !present {
                if i == 0 {
                    let why = format!("commit {} is not in this repository", short(&mr.commit));
                    self.reject(mr, &why, None)?;
                    return Ok(());
                }
                break;
            }
            let strategy = mr
                .strategy
                .clone()
                .unwrap_or_else(|| self.config.strategy.clone());
            let labels = Labels {
                mr: &mr.id,
                bead: mr.bead.as_deref(),
                branch: &mr.branch,
                target: &target.branch,
            };
            let builder = Builder {
                store: self.store,
                repo: &self.repo,
                actor: self.actor,
            };
            let merged = merged_on_branch(&requests, &mr.branch);
            match builder.integrate(&current, &mr.commit, &strategy, &labels, &merged)? {
                Integrated::Commit(c) => tips.push(c),
                Integrated::Conflict(files) if i == 0 => {
                    let done = writes::record_conflict(
                        self.store,
                        self.actor,
                        &mr.id,
                        &target.branch,
                        &base,
                        &files,
                    )?;
                    if done.requeued {
                        self.report.requeued.push(done.rework_bead.clone());
                    }
                    let mut d = decision(
                        mr,
                        "conflict",
                        Some(format!(
                            "conflict with {} in {} file(s)",
                            target.branch,
                            files.len()
                        )),
                    );
                    d.conflict_files = files;
                    d.rework_bead = Some(done.rework_bead);
                    self.decide(d);
                    return Ok(());
                }
                Integrated::Empty if i == 0 => {
                    // Nothing of it is missing from the target: it is merged already.
                    let merged = vec![(mr.id.clone(), base.clone())];
                    let done =
                        writes::record_merged(self.store, self.actor, &target.branch, &merged)?;
                    self.report.convoys.extend(done.convoys);
                    self.report.closed_beads.extend(done.beads_closed);
                    let mut d =
                        decision(mr, "merged", Some(format!("already in {}", target.branch)));
                    d.merge_commit = Some(base.clone());
                    self.decide(d);
                    self.cleanup_merged(target, &merged)?;
                    return Ok(());
                }
                Integrated::Conflict(_) | Integrated::Empty => break,
            }
        }
        let stack = &batch[..tips.len()];
        let mut record = Batch {
            target: target.branch.clone(),
            base: base.clone(),
            mrs: stack.iter().map(|m| m.id.clone()).collect(),
            gate_runs: 0,
        };
        let result = self.bisect(target, stack, &tips, &base, &mut record);
        self.report.gate_runs += record.gate_runs;
        self.report.batches.push(record);
        result
    }

    /// Run the gates on the candidate with the first `k` requests of the stack.
    fn test(
        &mut self,
        target: &Target,
        stack: &[MergeRequest],
        tips: &[String],
        base: &str,
        k: usize,
        record: &mut Batch,
    ) -> Result<Option<Tested>> {
        if self.config.gates.is_empty() {
            return Ok(Some(Tested::Green));
        }
        let tip = &tips[k - 1];
        if self.scratch.is_none() {
            self.scratch = Some(Scratch::prepare(self.store, &self.repo, tip)?);
        }
        let scratch = self.scratch.as_ref().expect("prepared above");
        scratch.reset(tip)?;
        let mrs: Vec<&str> = stack[..k].iter().map(|m| m.id.as_str()).collect();
        let env = vec![
            ("GT_MQ_MR".to_string(), mrs[k - 1].to_string()),
            ("GT_MQ_MRS".to_string(), mrs.join(" ")),
            ("GT_MQ_TARGET".to_string(), target.branch.clone()),
            ("GT_MQ_BASE".to_string(), base.to_string()),
            ("GT_MQ_TIP".to_string(), tip.clone()),
            ("GT_MQ_RIG".to_string(), self.rig.name.clone()),
        ];
        let log_dir = journal::dir(self.store).join("logs");
        let result = gates::run(
            &self.config.gates,
            &scratch.path,
            &env,
            self.config.gates_parallel,
            &log_dir,
        )?;
        record.gate_runs += 1;
        if let Some(missing) = result.missing() {
            let why = format!(
                "gate '{}' could not run its command (exit {}): fix merge_queue.gates.{}",
                missing.gate,
                missing.exit_status.unwrap_or(127),
                missing.gate
            );
            self.gates_broken = Some(why);
            return Ok(None);
        }
        Ok(Some(if result.passed() {
            Tested::Green
        } else {
            Tested::Red(result)
        }))
    }

    /// Test the stack and merge what passes: the whole of it, or, bisecting, the longest
    /// green prefix, rejecting the first request that turns it red.
    fn bisect(
        &mut self,
        target: &Target,
        stack: &[MergeRequest],
        tips: &[String],
        base: &str,
        record: &mut Batch,
    ) -> Result<()> {
        let n = stack.len();
        let Some(whole) = self.test(target, stack, tips, base, n, record)? else {
            let why = self.gates_broken.clone().unwrap_or_default();
            self.hold(stack, &why);
            return Ok(());
        };
        let mut red_result = match whole {
            Tested::Green => {
                self.merge_prefix(target, stack, tips, base, 0, n)?;
                return Ok(());
            }
            Tested::Red(result) => result,
        };
        // Known: the first `green` requests pass (0: the target itself), the first `red` fail.
        let (mut green, mut red) = (0usize, n);
        while red - green > 1 {
            let mid = (green + red) / 2;
            match self.test(target, stack, tips, base, mid, record)? {
                None => {
                    let why = self.gates_broken.clone().unwrap_or_default();
                    self.hold(&stack[green..], &why);
                    return Ok(());
                }
                Some(Tested::Green) => {
                    if !self.merge_prefix(target, stack, tips, base, green, mid)? {
                        return Ok(());
                    }
                    green = mid;
                }
                Some(Tested::Red(result)) => {
                    red = mid;
                    red_result = result;
                }
            }
        }
        let bad = &stack[red - 1];
        let failure = red_result.failure().expect("a red result has a failure");
        let why = match failure.kind.as_str() {
            "timeout" => format!("gate '{}' timed out", failure.gate),
            "signal" => format!("gate '{}' was killed by a signal", failure.gate),
            _ => format!(
                "gate '{}' failed (exit {})",
                failure.gate,
                failure.exit_status.unwrap_or(-1)
            ),
        };
        self.reject(bad, &why, Some(failure))
        // The requests after it were tested on candidates that contained it: they go round
        // again, stacked on the new target.
    }

    fn reject(&mut self, mr: &MergeRequest, why: &str, failure: Option<GateFailure>) -> Result<()> {
        let done = writes::record_rejected(
            self.store,
            self.actor,
            &mr.id,
            why,
            failure.as_ref(),
            self.config.max_retries,
        )?;
        if done.requeued {
            self.report.requeued.extend(mr.bead.clone());
        }
        let mut d = decision(
            mr,
            if done.escalated {
                "escalated"
            } else {
                "rejected"
            },
            Some(why.to_string()),
        );
        match super::escalation::raise(
            self.town,
            self.actor,
            &self.rig.name,
            mr,
            done.escalated,
            why,
            failure.as_ref(),
        ) {
            Some(Ok(id)) => d.escalation = Some(id),
            Some(Err(e)) => d.escalation_error = Some(e),
            None => {}
        }
        d.failure = failure;
        self.decide(d);
        Ok(())
    }

    /// Move the target from the candidate of the first `from` requests (the base when 0) to
    /// that of the first `to`, and record those merges. False when it did not move (held,
    /// or raced: the batch goes round again).
    fn merge_prefix(
        &mut self,
        target: &Target,
        stack: &[MergeRequest],
        tips: &[String],
        base: &str,
        from: usize,
        to: usize,
    ) -> Result<bool> {
        let old = if from == 0 {
            base.to_string()
        } else {
            tips[from - 1].clone()
        };
        let new = tips[to - 1].clone();
        let merged: Vec<(String, String)> = (from..to)
            .map(|i| (stack[i].id.clone(), tips[i].clone()))
            .collect();
        let journal = Journal {
            target: target.branch.clone(),
            remote: target.remote.clone(),
            from: old.clone(),
            to: new.clone(),
            merged: merged.clone(),
        };
        journal.write(self.store)?;
        let ids: Vec<&str> = merged.iter().map(|(id, _)| id.as_str()).collect();
        let message = format!("mq: merge {}", ids.join(", "));
        let scratch = self.scratch_path();
        let place = target::Place {
            store: self.store,
            repo: &self.repo,
            scratch: &scratch,
            actor: self.actor,
        };
        match target.advance(&place, &old, &new, &message)? {
            Advance::Moved => {}
            Advance::Stale => {
                Journal::clear(self.store)?;
                self.races += 1;
                return Ok(false);
            }
            Advance::Held(why) => {
                Journal::clear(self.store)?;
                self.hold(&stack[from..], &why);
                return Ok(false);
            }
        }
        let done = writes::record_merged(self.store, self.actor, &target.branch, &merged)?;
        self.report.convoys.extend(done.convoys);
        self.report.closed_beads.extend(done.beads_closed);
        for (i, (_, commit)) in merged.iter().enumerate() {
            let mut d = decision(&stack[from + i], "merged", None);
            d.merge_commit = Some(commit.clone());
            self.decide(d);
        }
        self.cleanup_merged(target, &merged)?;
        Journal::clear(self.store)?;
        Ok(true)
    }

    /// After a merge is recorded: delete the merged branches that still point at the merged
    /// work and are checked out nowhere (a sandbox keeps its branch), and drop the pins.
    fn cleanup_merged(&mut self, target: &Target, merged: &[(String, String)]) -> Result<()> {
        let snap = self.store.snapshot(COLLECTION)?;
        let mut pins = Vec::new();
        let mut branches = Vec::new();
        for (id, _) in merged {
            let Ok(mr) = record::find_in(&snap, id) else {
                continue;
            };
            pins.push((
                format!("refs/gastown/local/work/{}", mr.id),
                mr.commit.clone(),
            ));
            let wanted = self.config.delete_merged
                && mr.branch != target.branch
                && Target {
                    branch: mr.branch.clone(),
                    remote: None,
                }
                .checkouts(self.store, Path::new(""))
                .is_empty()
                && self.store.branch_tip(&mr.branch).ok().flatten().as_deref()
                    == Some(mr.commit.as_str());
            if wanted {
                branches.push(mr.clone());
            }
            if let Some(remote) = target.remote.as_ref().filter(|_| self.config.delete_merged) {
                if store_branch::remote_branch_tip(&self.repo, remote, &mr.branch)
                    .ok()
                    .flatten()
                    .as_deref()
                    == Some(mr.commit.as_str())
                {
                    let _ = store_branch::delete_remote_branch(
                        &self.repo, remote, &mr.branch, &mr.commit,
                    );
                }
            }
        }
        // Pins first, then each branch that still points at the merged work; one git process.
        let pinned = pins.len();
        let mut refs = pins;
        refs.extend(
            branches
                .iter()
                .map(|m| (format!("refs/heads/{}", m.branch), m.commit.clone())),
        );
        let deleted = self.store.delete_refs_if(&refs)?;
        for (m, gone) in branches.iter().zip(&deleted[pinned..]) {
            if *gone {
                self.report.deleted_branches.push(m.branch.clone());
            }
        }
        Ok(())
    }
}

fn decision(mr: &MergeRequest, outcome: &str, reason: Option<String>) -> Decision {
    Decision {
        mr: mr.id.clone(),
        outcome: outcome.to_string(),
        branch: mr.branch.clone(),
        target: mr.target.clone(),
        bead: mr.bead.clone(),
        merge_commit: None,
        reason,
        failure: None,
        conflict_files: Vec::new(),
        rework_bead: None,
        escalation: None,
        escalation_error: None,
    }
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}

/// The original commits of the newest requests of `branch` the queue merged (newest
/// first): a branch is reset onto its base for each new bead, so only the last few can be
/// under a new request's commit, and hiding one hides everything before it.
fn merged_on_branch(requests: &[MergeRequest], branch: &str) -> Vec<String> {
    requests
        .iter()
        .rev()
        .filter(|m| m.status == crate::mq::record::MERGED && m.branch == branch)
        .take(20)
        .map(|m| m.commit.clone())
        .collect()
}
