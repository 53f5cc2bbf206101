//! The queue's decisions, each ONE write to the rig's store, so a reader sees a request and
//! its beads change together: merged (request closed with its merge commit, its beads closed,
//! the worker's completion recorded, convoys told), rejected (the bead goes back to its worker
//! with the failure, or is escalated after `merge_queue.max_retries`), conflict (a rework bead
//! linked to the original, queued for the worker), and the hand-made `retry` and `reject`.

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::record::{self, GateFailure, MergeRequest, CONFLICT, MERGED, OPEN, REJECTED};
use crate::agent::Address;
use crate::bead::ops::{carry_count, NewBead};
use crate::bead::record::Stamp;
use crate::bead::rules::{self, CloseSpec, UpdateSpec};
use crate::bead::schema::now_rfc3339;
use crate::bead::{Beads, COLLECTION};
use crate::error::{Error, Result};
use crate::records;
use crate::sling::queue::{self, Queued};
use crate::store::{Actor, Outcome, Snapshot, Store, WriteBatch};

/// What a merge write did.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct MergedWrite {
    pub beads_closed: Vec<String>,
    /// Convoys whose beads this merge closed (see [`after_merge_in`]).
    pub convoys: Vec<String>,
}

/// The convoy hook: called inside the merge write with the beads the merge closed, so a
/// convoy lands in the same commit as its last bead's merge when the convoy lives in this
/// store (a lone repository: gastown.md §6, convoys showed "complete" while main had not
/// changed because landing was a separate poll). Convoys in a town's store are landed
/// right after the pass by `crate::convoy::after_close` (see `pass::run`). Returns the
/// convoys the closed beads belong to (`convoy_id` on the bead, `convoy` on the request)
/// and those this write landed, which the pass reports.
pub fn after_merge_in(
    store: &Store,
    snap: &Snapshot<'_>,
    batch: &mut WriteBatch,
    stamp: &Stamp,
    merged: &[MergeRequest],
    closed_beads: &[String],
) -> Result<Vec<String>> {
    let mut convoys: Vec<String> = merged.iter().filter_map(|m| m.convoy.clone()).collect();
    for bead in closed_beads {
        if let Some(c) = records::read(snap, &crate::bead::id::record_path(bead))?
            .and_then(|r| r.str("convoy_id").map(str::to_string))
        {
            convoys.push(c);
        }
    }
    // A derived fact: trouble reading another rig must not fail the merge record.
    let landed =
        crate::convoy::land_in(store, snap, batch, stamp, closed_beads).unwrap_or_default();
    convoys.extend(landed.into_iter().map(|l| l.id));
    convoys.sort();
    convoys.dedup();
    Ok(convoys)
}

/// The beads of `ids` that exist (a bead deleted meanwhile must not fail a merge record).
fn existing(snap: &Snapshot<'_>, ids: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for id in ids {
        if records::read(snap, &crate::bead::id::record_path(id))?.is_some_and(|r| !r.is_deleted())
        {
            out.push(id.clone());
        }
    }
    Ok(out)
}

/// Record that `merged` (request, its commit on the target) landed on `target`: one write.
/// Requests already recorded as merged are left alone, so a re-run after a crash writes the
/// rest and nothing twice.
pub fn record_merged(
    store: &Store,
    actor: &Actor,
    target: &str,
    merged: &[(String, String)],
) -> Result<MergedWrite> {
    record_merged_as(store, actor, target, merged, false)
}

/// Record that `merged` (request, the target's commit that now contains it) reached
/// `target` outside the queue (someone merged the branch by hand; seen by the
/// `reference-transaction` hook): the same one write as a queue merge — requests merged,
/// beads closed, completions, convoys — with reasons that say how it happened.
pub fn record_merged_outside(
    store: &Store,
    actor: &Actor,
    target: &str,
    merged: &[(String, String)],
) -> Result<MergedWrite> {
    record_merged_as(store, actor, target, merged, true)
}

fn record_merged_as(
    store: &Store,
    actor: &Actor,
    target: &str,
    merged: &[(String, String)],
    outside: bool,
) -> Result<MergedWrite> {
    let short = |c: &str| c[..c.len().min(10)].to_string();
    store.write(COLLECTION, actor, |snap, batch| {
        let stamp = Stamp(batch.clock, actor.name.clone());
        let now = now_rfc3339();
        let mut done: Vec<MergeRequest> = Vec::new();
        for (id, commit) in merged {
            let path = record::path_of(id);
            let Some(mut rec) = records::read(snap, &path)? else {
                continue;
            };
            let mr = MergeRequest::from_record(&rec);
            if mr.status == MERGED {
                continue;
            }
            rec.set("status", json!(MERGED), &stamp);
            rec.set("merge_commit", json!(commit), &stamp);
            let reason = if outside {
                format!(
                    "merged outside the queue: {target} at {} contains {}",
                    short(commit),
                    short(&mr.commit)
                )
            } else {
                format!("merged into {target}")
            };
            rec.set("reason", json!(reason), &stamp);
            rec.set("decided_at", json!(now), &stamp);
            records::put(batch, &path, &rec);
            done.push(MergeRequest::from_record(&rec));
        }
        if done.is_empty() {
            return Ok(Outcome::Unchanged(MergedWrite::default()));
        }
        let mut to_close: Vec<String> = Vec::new();
        for mr in &done {
            for b in mr.beads_to_close() {
                if !to_close.contains(&b) {
                    to_close.push(b);
                }
            }
        }
        let to_close = existing(snap, &to_close)?;
        let beads = Beads::new(store);
        let mut closed = Vec::new();
        if !to_close.is_empty() {
            let reasons: Vec<(String, String)> = done
                .iter()
                .flat_map(|m| {
                    let at = m.merge_commit.as_deref().map(short).unwrap_or_default();
                    let why = if outside {
                        format!(
                            "merged outside the queue: {} ({}) is in {target} at {at}",
                            m.id,
                            short(&m.commit)
                        )
                    } else {
                        format!("merged: {} ({at})", m.id)
                    };
                    m.beads_to_close()
                        .into_iter()
                        .map(move |b| (b, why.clone()))
                })
                .collect();
            let modified = beads.modify_in(snap, batch, actor, &to_close, false, |edit| {
                let reason = reasons
                    .iter()
                    .find(|(b, _)| *b == edit.record.id)
                    .map(|(_, r)| r.clone());
                rules::close(
                    edit,
                    &CloseSpec {
                        reason,
                        force: true,
                    },
                )
            })?;
            closed = modified.changed;
        }
        for mr in &done {
            record_completion_in(snap, batch, &stamp, mr, "merged")?;
        }
        let convoys = after_merge_in(store, snap, batch, &stamp, &done, &closed)?;
        carry_count(snap, batch, 0);
        let ids: Vec<&str> = done.iter().map(|m| m.id.as_str()).collect();
        let beads_text = if closed.is_empty() {
            String::new()
        } else {
            format!(": closes {}", closed.join(", "))
        };
        Ok(Outcome::Commit {
            message: if outside {
                format!(
                    "mq merged outside the queue {} into {target}{beads_text}",
                    ids.join(", ")
                )
            } else {
                format!("mq merge {} into {target}{beads_text}", ids.join(", "))
            },
            value: MergedWrite {
                beads_closed: closed,
                convoys,
            },
        })
    })
}

/// Note the decision on the worker's record (its CV), if the worker is an agent here.
fn record_completion_in(
    snap: &Snapshot<'_>,
    batch: &mut WriteBatch,
    stamp: &Stamp,
    mr: &MergeRequest,
    outcome: &str,
) -> Result<()> {
    let Some(worker) = mr.worker.as_deref().and_then(|w| Address::parse(w).ok()) else {
        return Ok(());
    };
    let path = worker.record_path();
    let Some(mut rec) = records::read(snap, &path)? else {
        return Ok(());
    };
    rec.comments.insert(
        format!("{:020}-{}", stamp.0, mr.id),
        json!({
            "merge_request": mr.id, "bead": mr.bead, "outcome": outcome,
            "commit": mr.merge_commit.as_deref().unwrap_or(&mr.commit), "at": now_rfc3339(),
        }),
    );
    records::put(batch, &path, &rec);
    Ok(())
}

/// Queue a dispatch of `bead` back to the request's worker (the next `git sling queue run`,
/// which the pass starts, hands it over); nothing without a worker.
fn back_to_worker_in(
    snap: &Snapshot<'_>,
    batch: &mut WriteBatch,
    stamp: &Stamp,
    actor: &Actor,
    mr: &MergeRequest,
    bead: &str,
) -> Result<bool> {
    let Some(worker) = mr.worker.as_deref().filter(|w| Address::parse(w).is_ok()) else {
        return Ok(false);
    };
    let priority = records::read(snap, &crate::bead::id::record_path(bead))?
        .map(|r| r.priority())
        .unwrap_or(mr.priority);
    queue::enqueue_in(
        snap,
        batch,
        stamp,
        &Queued {
            bead: bead.to_string(),
            status: queue::QUEUED.to_string(),
            target: worker.to_string(),
            priority,
            runtime: None,
            formula: None,
            vars: Map::new(),
            no_formula: true,
            dispatched_by: actor.name.clone(),
            queued_at: String::new(),
        },
    )?;
    Ok(true)
}

/// What a rejection write did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RejectedWrite {
    pub escalated: bool,
    /// The bead was queued back to its worker.
    pub requeued: bool,
}

/// Record a rejection of `id`: its failure (a gate's, or a person's reason), and the bead
/// back to its worker with that note — or, on the request's `max_retries`-th rejection,
/// escalated (bead blocked) for a person.
pub fn record_rejected(
    store: &Store,
    actor: &Actor,
    id: &str,
    reason: &str,
    failure: Option<&GateFailure>,
    max_retries: u64,
) -> Result<RejectedWrite> {
    store.write(COLLECTION, actor, |snap, batch| {
        let stamp = Stamp(batch.clock, actor.name.clone());
        let path = record::path_of(id);
        let mut rec = records::read(snap, &path)?
            .ok_or_else(|| Error::invalid(format!("no merge request '{id}'")))?;
        let mr = MergeRequest::from_record(&rec);
        if ![OPEN, CONFLICT].contains(&mr.status.as_str()) {
            return Err(Error::invalid(format!(
                "merge request {id} is {}: only an open one can be rejected",
                mr.status
            )));
        }
        let escalated = max_retries > 0 && mr.retries + 1 >= max_retries;
        rec.set("status", json!(REJECTED), &stamp);
        rec.set("reason", json!(reason), &stamp);
        rec.set(
            "failure",
            failure
                .map(|f| serde_json::to_value(f).expect("serialises"))
                .unwrap_or(Value::Null),
            &stamp,
        );
        rec.set("decided_at", json!(now_rfc3339()), &stamp);
        if escalated {
            rec.set("escalated", json!(true), &stamp);
        }
        records::put(batch, &path, &rec);
        let mut note = format!("Merge request {id} rejected: {reason}");
        if let Some(f) = failure.filter(|f| !f.log_tail.is_empty()) {
            note.push_str(&format!("\n\n{}", f.log_tail));
        }
        if escalated {
            note.push_str(&format!(
                "\n\nEscalated: rejected {} times (merge_queue.max_retries).",
                mr.retries + 1
            ));
        }
        let beads = existing(snap, &mr.beads_to_close())?;
        let mut requeued = false;
        if !beads.is_empty() {
            let status = if escalated { "blocked" } else { "open" };
            Beads::new(store).modify_in(snap, batch, actor, &beads, false, |edit| {
                rules::apply_update(
                    edit,
                    &UpdateSpec {
                        status: Some(status.into()),
                        ..Default::default()
                    },
                )?;
                rules::add_comment(edit, &note, None)?;
                Ok(true)
            })?;
            if !escalated {
                requeued = back_to_worker_in(snap, batch, &stamp, actor, &mr, &beads[0])?;
            }
        }
        record_completion_in(
            snap,
            batch,
            &stamp,
            &mr,
            if escalated { "escalated" } else { "rejected" },
        )?;
        carry_count(snap, batch, 0);
        Ok(Outcome::Commit {
            message: format!("mq reject {id}: {}", reason.lines().next().unwrap_or("")),
            value: RejectedWrite {
                escalated,
                requeued,
            },
        })
    })
}

/// What a conflict write did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConflictWrite {
    pub rework_bead: String,
    pub requeued: bool,
}

/// Record that `id` does not apply onto `target` at `base`: the files, and a rework bead
/// (the original's priority, linked to it by `discovered-from`) queued for the worker. The
/// request waits for the worker's next `done` on the branch, which supersedes it.
pub fn record_conflict(
    store: &Store,
    actor: &Actor,
    id: &str,
    target: &str,
    base: &str,
    files: &[String],
) -> Result<ConflictWrite> {
    store.write(COLLECTION, actor, |snap, batch| {
        let stamp = Stamp(batch.clock, actor.name.clone());
        let path = record::path_of(id);
        let mut rec = records::read(snap, &path)?.ok_or_else(|| Error::invalid(format!("no merge request '{id}'")))?;
        let mr = MergeRequest::from_record(&rec);
        if mr.status != OPEN {
            return Ok(Outcome::Unchanged(ConflictWrite { rework_bead: mr.rework_bead.unwrap_or_default(), requeued: false }));
        }
        let original = existing(snap, &mr.bead.iter().cloned().collect::<Vec<_>>())?.into_iter().next();
        let shown: Vec<&str> = files.iter().take(20).map(String::as_str).collect();
        let mut fields = Map::new();
        fields.insert("priority".into(), json!(mr.priority));
        fields.insert("issue_type".into(), json!("task"));
        fields.insert(
            "description".into(),
            json!(format!(
                "Merge request {id} (branch {}) does not apply onto {target} at {}.\n\nConflicting files:\n{}\n\nRebase the branch onto {target}, resolve, commit, and run `git agent done`: the new commit supersedes {id}.",
                mr.branch,
                &base[..base.len().min(10)],
                if shown.is_empty() { "(none listed)".to_string() } else { shown.iter().map(|f| format!("- {f}")).collect::<Vec<_>>().join("\n") }
            )),
        );
        fields.insert("rework_of".into(), json!(id));
        let created = Beads::new(store).create_in(snap, batch, actor, &[NewBead {
            title: format!("Resolve merge conflict: {} onto {target}", mr.branch),
            fields,
            deps: original.iter().map(|b| (b.clone(), "discovered-from".to_string())).collect(),
            ..Default::default()
        }], "")?;
        let rework = created[0].id.clone();
        rec.set("status", json!(CONFLICT), &stamp);
        rec.set("conflict_files", json!(files), &stamp);
        rec.set("conflict_base", json!(base), &stamp);
        rec.set("rework_bead", json!(rework), &stamp);
        rec.set("reason", json!(format!("conflict with {target} in {} file(s)", files.len())), &stamp);
        rec.set("decided_at", json!(now_rfc3339()), &stamp);
        records::put(batch, &path, &rec);
        if let Some(orig) = &original {
            let note = format!("Merge conflict on {target}; rework: {rework}");
            Beads::new(store).modify_in(snap, batch, actor, std::slice::from_ref(orig), false, |edit| {
                rules::add_comment(edit, &note, None)?;
                Ok(true)
            })?;
        }
        let requeued = back_to_worker_in(snap, batch, &stamp, actor, &mr, &rework)?;
        record_completion_in(snap, batch, &stamp, &mr, "conflict")?;
        carry_count(snap, batch, 1);
        Ok(Outcome::Commit {
            message: format!("mq conflict {id}: rework {rework}"),
            value: ConflictWrite { rework_bead: rework, requeued },
        })
    })
}

/// Put a rejected or conflicting request back into the queue (`git mq retry`).
pub fn retry(store: &Store, actor: &Actor, id: &str) -> Result<MergeRequest> {
    store.write(COLLECTION, actor, |snap, batch| {
        let stamp = Stamp(batch.clock, actor.name.clone());
        let mr = record::find_in(snap, id)?;
        let path = record::path_of(&mr.id);
        let mut rec = records::read(snap, &path)?.expect("found above");
        match mr.status.as_str() {
            REJECTED | CONFLICT => {}
            other => {
                return Err(Error::invalid(format!(
                "merge request {} is {other}: only a rejected or conflicting one can be retried",
                mr.id
            )))
            }
        }
        record::reopen(&mut rec, &mr, &stamp);
        records::put(batch, &path, &rec);
        carry_count(snap, batch, 0);
        Ok(Outcome::Commit {
            message: format!("mq retry {}", mr.id),
            value: MergeRequest::from_record(&rec),
        })
    })
}
