//! `git agent done`: hand finished work on without ever losing it. Ordered steps, each
//! idempotent, so a kill -9 at any instant followed by running `done` again (by the agent,
//! or later by patrol) finishes the job with no duplicate and no loss:
//!
//! 1. check the sandbox (uncommitted changes: refuse with the list, or commit them);
//! 2. record the intent (a file in the common git dir: what patrol finds after a crash);
//! 3. make the branch tip reachable from a ref that outlives the sandbox
//!    (`refs/gastown/local/work/<mr>`), and push the branch when the target is remote;
//! 4. one write: the merge request (deduplicated by commit), the bead kept `in_progress`
//!    and linked to it (the merge closes it, never `done`), the agent `idle` with its hook
//!    cleared and the completion added to its CV;
//! 5. the intent file is removed; the caller ends the session.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::{json, Value};

use super::{Address, Agents, STATE_IDLE};
use crate::bead::id::record_path;
use crate::bead::ops::carry_count;
use crate::bead::record::Stamp;
use crate::bead::schema::now_rfc3339;
use crate::bead::{rules, Beads, COLLECTION};
use crate::error::{Error, Result};
use crate::gitcmd;
use crate::mq::{self, MergeRequest, Submission};
use crate::records;
use crate::store::{Actor, Outcome, Store};
use crate::town::settings;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DoneStatus {
    /// The work is finished: it goes to the merge queue.
    Completed,
    /// The agent is stuck: the bead is blocked, with the reason.
    Escalated,
    /// The agent gives the work back: the bead returns to `open` with its note.
    Deferred,
}

impl DoneStatus {
    pub fn parse(text: &str) -> Result<DoneStatus> {
        match text.to_ascii_lowercase().as_str() {
            "completed" | "complete" | "done" => Ok(DoneStatus::Completed),
            "escalated" | "escalate" => Ok(DoneStatus::Escalated),
            "deferred" | "defer" => Ok(DoneStatus::Deferred),
            _ => Err(Error::invalid(format!(
                "unknown done status '{text}' (completed, escalated, deferred)"
            ))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DoneSpec {
    pub status: DoneStatus,
    pub note: Option<String>,
    /// Commit uncommitted changes instead of refusing.
    pub commit: bool,
    /// Review-only work: no merge request; the bead waits for a person.
    pub no_merge: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DoneReport {
    pub agent: Address,
    pub bead: String,
    pub status: DoneStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_request: Option<MergeRequest>,
    /// False when an earlier, interrupted `done` had already created the request.
    pub created_merge_request: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed_to: Option<String>,
    /// An interrupted `done` was found and finished.
    pub resumed: bool,
}

/// The intent file of an agent's `done`.
pub fn intent_path(store: &Store, address: &Address) -> PathBuf {
    store
        .state_dir()
        .join("done")
        .join(format!("{}.json", address.session_name()))
}

/// Whether an interrupted `done` is pending for the agent (for patrol).
pub fn pending_intent(store: &Store, address: &Address) -> Option<Value> {
    let text = std::fs::read_to_string(intent_path(store, address)).ok()?;
    serde_json::from_str(&text).ok()
}

impl Agents<'_> {
    /// Run (or finish) `done` for `address`.
    pub fn done(&self, actor: &Actor, address: &Address, spec: &DoneSpec) -> Result<DoneReport> {
        let agent = self.get(address)?;
        let rig_name = address.rig.clone().ok_or_else(|| {
            Error::invalid(format!("{address} has no rig: done is for rig agents"))
        })?;
        let rig = self.town.rigs().get(&rig_name)?;
        let store = rig.open_store()?;
        let intent_file = intent_path(&store, address);
        let intent = pending_intent(&store, address);
        let resumed = intent.is_some();
        let bead = match (&agent.hook, &intent) {
            (Some(bead), _) => bead.clone(),
            (None, Some(intent)) => {
                // The one write happened; only the clean-up remains.
                let bead = intent["bead"].as_str().unwrap_or_default().to_string();
                let _ = std::fs::remove_file(&intent_file);
                let snap = store.snapshot(COLLECTION)?;
                let mr = mq::open_for_bead(&snap, &bead)?;
                return Ok(DoneReport {
                    agent: address.clone(),
                    bead,
                    status: spec.status,
                    commit: intent["commit"].as_str().map(str::to_string),
                    merge_request: mr,
                    created_merge_request: false,
                    pinned: None,
                    pushed_to: None,
                    resumed: true,
                });
            }
            (None, None) => {
                return Err(Error::invalid(format!(
                    "{address}'s hook is empty: there is nothing to hand in"
                )))
            }
        };
        let sandbox = agent
            .sandbox
            .clone()
            .filter(|p| p.exists())
            .ok_or_else(|| Error::invalid(format!("{address} has no sandbox on this machine")))?;
        let branch = agent
            .branch
            .clone()
            .ok_or_else(|| Error::invalid(format!("{address} has no branch")))?;

        // 1. The sandbox must hold everything as commits.
        let dirty = gitcmd::dirty_paths(&sandbox)?;
        if !dirty.is_empty() {
            if !spec.commit {
                let shown: Vec<String> = dirty
                    .iter()
                    .take(5)
                    .map(|p| p.escape_debug().to_string())
                    .collect();
                return Err(Error::invalid(format!(
                    "{} uncommitted file(s) in {} ({}{}); commit them, or pass --commit",
                    dirty.len(),
                    sandbox.display(),
                    shown.join(", "),
                    if dirty.len() > 5 { ", ..." } else { "" }
                )));
            }
            let title = Beads::new(&store)
                .snapshot()
                .ok()
                .and_then(|snap| records::read(&snap, &record_path(&bead)).ok().flatten())
                .map(|r| r.title().to_string())
                .unwrap_or_default();
            gitcmd::run(&sandbox, ["add", "--all"])?;
            gitcmd::run(
                &sandbox,
                [
                    "commit",
                    "--quiet",
                    "--no-verify",
                    "-m",
                    &format!("{bead}: {title}"),
                ],
            )?;
        }
        let commit = gitcmd::run(&sandbox, ["rev-parse", "HEAD"])?
            .trim()
            .to_string();
        // The branch to merge into: the one sling recorded on the bead, else the epic's
        // integration branch, else the rig's target.
        let target = {
            let snap = store.snapshot(COLLECTION)?;
            let recorded = records::read(&snap, &record_path(&bead))?
                .and_then(|r| r.str("target_branch").map(str::to_string));
            match recorded.or(mq::integration::target_for(&snap, &bead)?) {
                Some(branch) => branch,
                None => {
                    let configured =
                        settings::effective(Some(&store), &self.town.store, "merge_queue.target")?;
                    super::sandbox::target_branch(&rig.path, configured.value.as_str())
                }
            }
        };
        let on_target =
            gitcmd::probe(&rig.path, ["merge-base", "--is-ancestor", &commit, &target]).is_some();
        let wants_merge = spec.status == DoneStatus::Completed && !spec.no_merge;
        if wants_merge && on_target {
            return Err(Error::invalid(format!(
                "{branch} has no commits beyond {target}: commit your work first (or use --status deferred)"
            )));
        }

        // 2. The intent, for whoever finishes this after a crash.
        let intent = json!({
            "bead": bead, "commit": commit, "status": spec.status,
            "note": spec.note, "no_merge": spec.no_merge, "at": now_rfc3339(),
        });
        write_atomically(&intent_file, intent.to_string().as_bytes())?;

        // 3. The work outlives the sandbox.
        let prefix = Beads::new(&store)
            .config(&store.snapshot(COLLECTION)?)?
            .prefix;
        let mr_id = mq::id_for(&prefix, &commit);
        let pinned = Some(store.pin_work(&mr_id, &commit)?);
        let pushed_to = if wants_merge {
            push_if_remote(&rig.path, &sandbox, &branch, &target)?
        } else {
            None
        };

        // 4. One write: merge request + bead + agent.
        let convoy = {
            let snap = store.snapshot(COLLECTION)?;
            records::read(&snap, &record_path(&bead))?
                .and_then(|r| r.str("convoy_id").map(str::to_string))
        };
        let (mr, created) = store.write(COLLECTION, actor, |snap, batch| {
            let stamp = Stamp(batch.clock, actor.name.clone());
            let agent_path = address.record_path();
            let mut agent_rec = records::read(snap, &agent_path)?
                .ok_or_else(|| Error::invalid(format!("no agent {address}")))?;
            if agent_rec.str("hook") != Some(bead.as_str()) {
                // Someone already finished it (a concurrent done, or patrol).
                let mr = mq::open_for_bead(snap, &bead)?;
                return Ok(Outcome::Unchanged((mr, false)));
            }
            let priority = records::read(snap, &record_path(&bead))?
                .ok_or_else(|| Error::NotFound(bead.clone()))?
                .priority();
            let mut result = (None, false);
            let now = now_rfc3339();
            if spec.status == DoneStatus::Completed && !spec.no_merge {
                result = {
                    let (mr, created) = mq::submit_in(
                        snap,
                        batch,
                        &stamp,
                        &prefix,
                        &Submission {
                            branch: branch.clone(),
                            target: target.clone(),
                            commit: commit.clone(),
                            bead: Some(bead.clone()),
                            worker: Some(address.to_string()),
                            convoy: convoy.clone(),
                            priority,
                        },
                    )?;
                    (Some(mr), created)
                };
            }
            // The bead changes by the bead rules, in this same write.
            let mr_id = result.0.as_ref().map(|m: &MergeRequest| m.id.clone());
            Beads::new(&store).modify_in(
                snap,
                batch,
                actor,
                std::slice::from_ref(&bead),
                false,
                |edit| {
                    let mut changed = match spec.status {
                        DoneStatus::Completed => {
                            let mut c = false;
                            if edit.record.status() != "closed" {
                                c |= edit.set_status("in_progress");
                            }
                            match &mr_id {
                                Some(id) => c |= edit.set("merge_request", json!(id)),
                                None => c |= edit.set("review_commit", json!(commit)),
                            }
                            c
                        }
                        DoneStatus::Escalated => edit.set_status("blocked"),
                        DoneStatus::Deferred => {
                            edit.set_status("open") | edit.set("assignee", Value::Null)
                        }
                    };
                    if let Some(note) = &spec.note {
                        rules::add_comment(edit, note, None)?;
                        changed = true;
                    }
                    Ok(changed)
                },
            )?;
            agent_rec.set("state", json!(STATE_IDLE), &stamp);
            agent_rec.set("hook", Value::Null, &stamp);
            // The session that did the work ends with it (the caller stops it next).
            let outcome = serde_json::to_value(spec.status).unwrap_or_default();
            super::seance::close_in(
                &mut agent_rec,
                &stamp,
                outcome.as_str().unwrap_or("completed"),
            );
            agent_rec.comments.insert(
                format!("{:020}-{bead}", batch.clock),
                json!({
                    "bead": bead, "status": spec.status, "commit": commit,
                    "merge_request": result.0.as_ref().map(|m: &MergeRequest| m.id.clone()),
                    "at": now,
                }),
            );
            records::put(batch, &agent_path, &agent_rec);
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!(
                    "agent done {address}: {bead} {}",
                    serde_json::to_value(spec.status)
                        .unwrap_or_default()
                        .as_str()
                        .unwrap_or("")
                ),
                value: result,
            })
        })?;

        // 5. Clean up.
        let _ = std::fs::remove_file(&intent_file);
        Ok(DoneReport {
            agent: address.clone(),
            bead,
            status: spec.status,
            commit: Some(commit),
            merge_request: mr,
            created_merge_request: created,
            pinned,
            pushed_to,
            resumed,
        })
    }
}

/// Push the branch when the target branch tracks a remote; the remote's name, if pushed.
fn push_if_remote(
    rig: &std::path::Path,
    sandbox: &std::path::Path,
    branch: &str,
    target: &str,
) -> Result<Option<String>> {
    let Some(remote) = gitcmd::get_config(rig, &format!("branch.{target}.remote")) else {
        return Ok(None);
    };
    if remote == "." {
        return Ok(None);
    }
    gitcmd::run(
        sandbox,
        [
            "push",
            "--quiet",
            "--force",
            &remote,
            &format!("HEAD:refs/heads/{branch}"),
        ],
    )?;
    Ok(Some(remote))
}

fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(format!("writing {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}
