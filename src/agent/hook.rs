//! The hook: one pinned-work slot per agent. Attaching is one write to the rig's store —
//! the bead becomes `hooked` with the agent as assignee and carries the attachment (formula,
//! molecule, vars, convoy, dispatcher, merge strategy); the agent's record names the bead —
//! so readers see both or neither, and two concurrent attaches serialise on the rig's lock:
//! exactly one wins.

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::agent::{Address, STATE_NUKED};
use crate::bead::id::record_path;
use crate::bead::ops::carry_count;
use crate::bead::record::{Record, Stamp};
use crate::bead::schema::now_rfc3339;
use crate::bead::{Beads, COLLECTION};
use crate::error::{Error, Result};
use crate::records;
use crate::store::{Actor, Outcome, Snapshot, WriteBatch};

/// The agent record's mark of an attach whose session start has not happened yet.
pub const START_PENDING: &str = "start_pending";

/// What travels with the work onto the hook.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Attachment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub molecule: Option<String>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub vars: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convoy: Option<String>,
    pub dispatched_by: String,
    /// `mr` (through the merge queue, the default), `direct` or `none` (review only).
    pub merge_strategy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_branch: Option<String>,
    /// A session start follows this attach (a sling; not `git agent hook`): recorded on the
    /// agent until the start's own write, so that a dispatch killed between the two is
    /// finished by patrol instead of waiting out `patrol.stale_hook_after`.
    #[serde(skip)]
    pub start_pending: bool,
}

/// The result of an attach.
#[derive(Debug, Clone, Serialize)]
pub struct Hooked {
    pub bead: String,
    pub title: String,
    pub agent: Address,
    /// A bead `--force` took off the agent's hook (back to `open`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced: Option<String>,
    /// The previous holder `--force` took this bead from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken_from: Option<String>,
    pub attachment: Attachment,
}

/// Within a write: attach `bead` to `agent`'s hook. Refuses a closed, deferred or deleted
/// bead, a bead on another hook, and a taken hook — unless `force`, which first releases
/// the old bead and the old holder properly.
pub fn attach_in(
    snap: &Snapshot<'_>,
    batch: &mut WriteBatch,
    stamp: &Stamp,
    bead: &str,
    agent: &Address,
    attachment: &Attachment,
    force: bool,
) -> Result<Hooked> {
    let bead_path = record_path(bead);
    let mut record = records::read(snap, &bead_path)?
        .filter(|r| !r.is_deleted())
        .ok_or_else(|| Error::NotFound(bead.to_string()))?;
    let agent_path = agent.record_path();
    let mut agent_rec = records::read(snap, &agent_path)?
        .filter(|r| r.str("state") != Some(STATE_NUKED))
        .ok_or_else(|| Error::invalid(format!("no agent {agent} (see `git agent list`)")))?;
    let me = agent.to_string();
    match record.status() {
        "closed" => return Err(Error::invalid(format!("bead {bead} is closed"))),
        "deferred" => {
            return Err(Error::invalid(format!(
                "bead {bead} is deferred; `git bead update {bead} --status open` first"
            )))
        }
        "tombstone" => return Err(Error::NotFound(bead.to_string())),
        _ => {}
    }
    let mut taken_from = None;
    if let Some(holder) = holder_of(&record) {
        if holder != me {
            if !force {
                return Err(Error::Conflict(format!(
                    "bead {bead} is on {holder}'s hook; pass --force to take it"
                )));
            }
            // Clear the old holder's hook if it still points here.
            if let Ok(old) = Address::parse(&holder) {
                let path = old.record_path();
                if let Some(mut old_rec) = records::read(snap, &path)? {
                    if old_rec.str("hook") == Some(bead) {
                        old_rec.set("hook", Value::Null, stamp);
                        records::put(batch, &path, &old_rec);
                    }
                }
            }
            taken_from = Some(holder);
        }
    }
    let mut replaced = None;
    if let Some(current) = agent_rec.str("hook").map(str::to_string) {
        if current != bead {
            if !force {
                return Err(Error::Conflict(format!(
                    "{agent}'s hook already holds {current}; unhook it or pass --force"
                )));
            }
            release_bead_in(snap, batch, stamp, &current, agent)?;
            replaced = Some(current);
        }
    }
    let now = now_rfc3339();
    record.set("status", json!("hooked"), stamp);
    record.set("assignee", json!(me), stamp);
    record.set("updated_at", json!(now), stamp);
    record.set("attached_at", json!(now), stamp);
    record.set("dispatched_by", json!(attachment.dispatched_by), stamp);
    record.set("merge_strategy", json!(attachment.merge_strategy), stamp);
    record.set("attached_formula", json!(attachment.formula), stamp);
    if attachment.molecule.is_some() {
        record.set("attached_molecule", json!(attachment.molecule), stamp);
    }
    record.set(
        "attached_vars",
        if attachment.vars.is_empty() {
            Value::Null
        } else {
            Value::Object(attachment.vars.clone())
        },
        stamp,
    );
    if attachment.convoy.is_some() {
        record.set("convoy_id", json!(attachment.convoy), stamp);
    }
    record.set("target_branch", json!(attachment.target_branch), stamp);
    records::put(batch, &bead_path, &record);
    agent_rec.set("hook", json!(bead), stamp);
    agent_rec.set("hook_attached_at", json!(now), stamp);
    agent_rec.set(
        START_PENDING,
        if attachment.start_pending {
            json!(true)
        } else {
            Value::Null
        },
        stamp,
    );
    records::put(batch, &agent_path, &agent_rec);
    Ok(Hooked {
        bead: bead.to_string(),
        title: record.title().to_string(),
        agent: agent.clone(),
        replaced,
        taken_from,
        attachment: attachment.clone(),
    })
}

/// Within a write: take `bead` off `agent`'s hook; the bead goes back to `open` with no
/// assignee (unless someone else holds it now). Returns whether anything changed.
pub fn release_in(
    snap: &Snapshot<'_>,
    batch: &mut WriteBatch,
    stamp: &Stamp,
    bead: &str,
    agent: &Address,
) -> Result<bool> {
    let mut changed = false;
    let agent_path = agent.record_path();
    if let Some(mut agent_rec) = records::read(snap, &agent_path)? {
        if agent_rec.str("hook") == Some(bead) {
            agent_rec.set("hook", Value::Null, stamp);
            records::put(batch, &agent_path, &agent_rec);
            changed = true;
        }
    }
    Ok(release_bead_in(snap, batch, stamp, bead, agent)? || changed)
}

/// Within a write: the bead side of a release only (the caller updates the agent record).
pub fn release_bead_in(
    snap: &Snapshot<'_>,
    batch: &mut WriteBatch,
    stamp: &Stamp,
    bead: &str,
    agent: &Address,
) -> Result<bool> {
    let bead_path = record_path(bead);
    let Some(mut record) = records::read(snap, &bead_path)? else {
        return Ok(false); // deleted meanwhile: nothing to release
    };
    let mine = holder_of(&record).as_deref() == Some(agent.to_string().as_str());
    if !mine || record.is_deleted() || record.status() == "closed" {
        return Ok(false);
    }
    record.set("status", json!("open"), stamp);
    record.set("assignee", Value::Null, stamp);
    record.set("updated_at", json!(now_rfc3339()), stamp);
    records::put(batch, &bead_path, &record);
    Ok(true)
}

/// Who holds a bead on their hook: its assignee while it is hooked or in progress.
pub fn holder_of(record: &Record) -> Option<String> {
    match record.status() {
        "hooked" | "in_progress" => record.assignee().map(str::to_string),
        _ => None,
    }
}

/// What `unhook` did.
#[derive(Debug, Clone, Serialize)]
pub struct Unhooked {
    pub agent: Address,
    /// The bead taken off the hook (back to `open`); None when the hook was already empty.
    pub released: Option<String>,
}

impl crate::agent::Agents<'_> {
    /// Attach `bead` (an id or a unique prefix) to `agent`'s hook without starting anything:
    /// one write on the agent's store, bead and agent together.
    pub fn attach(
        &self,
        actor: &Actor,
        agent: &Address,
        bead: &str,
        attachment: &Attachment,
        force: bool,
    ) -> Result<Hooked> {
        let (store, _) = self.store_for(agent)?;
        let beads = Beads::new(&store);
        store.write(COLLECTION, actor, |snap, batch| {
            let config = beads.config(snap)?;
            let id = beads.resolve(snap, &config, bead, &mut None)?;
            let stamp = Stamp(batch.clock, actor.name.clone());
            let hooked = attach_in(snap, batch, &stamp, &id, agent, attachment, force)?;
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!("hook {id} -> {agent}"),
                value: hooked,
            })
        })
    }

    /// Take whatever is on `agent`'s hook off it; the bead goes back to `open`.
    pub fn unhook(&self, actor: &Actor, agent: &Address) -> Result<Unhooked> {
        let (store, _) = self.store_for(agent)?;
        store.write(COLLECTION, actor, |snap, batch| {
            let record = records::read(snap, &agent.record_path())?
                .filter(|r| r.str("state") != Some(STATE_NUKED))
                .ok_or_else(|| {
                    Error::invalid(format!("no agent {agent} (see `git agent list`)"))
                })?;
            let Some(bead) = record.str("hook").map(str::to_string) else {
                return Ok(Outcome::Unchanged(Unhooked {
                    agent: agent.clone(),
                    released: None,
                }));
            };
            let stamp = Stamp(batch.clock, actor.name.clone());
            release_in(snap, batch, &stamp, &bead, agent)?;
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!("unhook {bead} from {agent}"),
                value: Unhooked {
                    agent: agent.clone(),
                    released: Some(bead),
                },
            })
        })
    }
}
