//! Convoys (docs/CONVOYS.md): batches of tracked work, records in the town's store
//! (`convoys/<id>.json`) tracking beads in any rig. Progress is computed from the tracked
//! beads, never stored; landing (every tracked bead closed) is recorded once, by the first
//! command that sees it: inside the closing write when convoy and bead share a store, right
//! after it otherwise, and by `sync` or patrol as a repair (`Convoys::repair`). One
//! "Convoy landed" message goes to the owner and notify list per landing, under an id
//! derived from the convoy and the landing, so no crash or retry sends two. A launched
//! convoy feeds itself: closing one of its beads dispatches the next ready ones.

pub mod feed;
pub mod land;
pub mod locate;
pub mod record;
pub mod stage;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Serialize;
use serde_json::{json, Value};

pub use land::{after_close, land_in, AfterClose, ConvoyRepair, LandedConvoy};
pub use locate::{Locator, TrackedBead};
pub use record::Convoy;
pub use stage::{Staged, StagedBead};

use crate::bead::ops::carry_count;
use crate::bead::record::Stamp;
use crate::bead::schema::now_rfc3339;
use crate::bead::COLLECTION;
use crate::error::{Error, Result};
use crate::mail::{Mail, Resolver};
use crate::records;
use crate::store::{Actor, Outcome};
use crate::town::Town;

/// The longest convoy name.
const MAX_NAME_CHARS: usize = 200;

/// A convoy to create.
#[derive(Debug, Clone, Default)]
pub struct NewConvoy {
    pub name: String,
    pub beads: Vec<String>,
    pub owner: Option<String>,
    pub notify: Vec<String>,
    pub owned: bool,
}

/// Closed beads out of tracked ones.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Default)]
pub struct Progress {
    pub closed: usize,
    pub total: usize,
}

impl Progress {
    pub fn of(states: &[TrackedBead]) -> Progress {
        Progress {
            closed: states.iter().filter(|s| s.is_done()).count(),
            total: states.len(),
        }
    }

    /// Every tracked bead done (an empty convoy is never complete).
    pub fn complete(&self) -> bool {
        self.total > 0 && self.closed == self.total
    }
}

/// `show`: the convoy, its beads and its progress.
#[derive(Debug, Clone, Serialize)]
pub struct ConvoyView {
    #[serde(flatten)]
    pub convoy: Convoy,
    pub progress: Progress,
    pub tracked: Vec<TrackedBead>,
    /// Set when this very command saw the convoy complete and landed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub landed_now: Option<LandedConvoy>,
}

/// `list`: one convoy and its progress.
#[derive(Debug, Clone, Serialize)]
pub struct ConvoyRow {
    #[serde(flatten)]
    pub convoy: Convoy,
    pub progress: Progress,
}

/// What `add` and `remove` changed.
#[derive(Debug, Clone, Serialize)]
pub struct Changed {
    #[serde(flatten)]
    pub convoy: Convoy,
    /// Beads newly tracked (add) or no longer tracked (remove).
    pub changed: Vec<String>,
    /// A landed convoy that gained a bead is open again.
    pub reopened: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub landed_now: Option<LandedConvoy>,
}

/// Why a convoy is stranded: `ready` (ready work nobody is on), `stuck` (open work, none
/// of it ready or in anyone's hands), `empty` (no beads).
#[derive(Debug, Clone, Serialize)]
pub struct Stranded {
    pub id: String,
    pub name: String,
    pub reason: String,
    pub progress: Progress,
    /// The ready, unassigned beads.
    pub ready: Vec<String>,
}

/// The town's convoys.
pub struct Convoys<'t> {
    pub town: &'t Town,
}

/// Fault points for the crash tests: with `GT_FAULT=<name>` the process aborts there (as
/// a kill -9 would leave it). Used only by tests (docs/CONVOYS.md).
pub(crate) fn fault(name: &str) {
    if std::env::var_os("GT_FAULT").is_some_and(|v| v == name) {
        std::process::abort();
    }
}

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("a convoy needs a non-empty name"));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "a convoy name is one line without control characters",
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid(format!(
            "the convoy name has {} characters, at most {MAX_NAME_CHARS}",
            name.chars().count()
        )));
    }
    Ok(name.to_string())
}

impl<'t> Convoys<'t> {
    pub fn new(town: &'t Town) -> Self {
        Convoys { town }
    }

    pub fn locator(&self) -> Result<Locator<'t>> {
        Locator::new(self.town)
    }

    fn snapshot(&self) -> Result<crate::store::Snapshot<'t>> {
        self.town.store.snapshot(COLLECTION)
    }

    /// Check mail addresses (owner, notify) before anything is written.
    fn check_addresses(&self, words: &[String]) -> Result<()> {
        if words.is_empty() {
            return Ok(());
        }
        let mail = Mail::new(self.town);
        let lists = mail.lists()?;
        Resolver::new(self.town, &lists).resolve_all(words)?;
        Ok(())
    }

    /// Resolve bead ids (unique prefixes too) in their rigs, in order, without duplicates.
    fn resolve_beads(&self, locator: &Locator<'_>, beads: &[String]) -> Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for text in beads {
            let id = locator.resolve(text)?;
            if !out.contains(&id) {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// Create a convoy tracking `spec.beads` (one write).
    pub fn create(&self, actor: &Actor, spec: &NewConvoy) -> Result<Convoy> {
        let name = check_name(&spec.name)?;
        let locator = self.locator()?;
        let beads = self.resolve_beads(&locator, &spec.beads)?;
        let mut addresses: Vec<String> = spec.owner.iter().cloned().collect();
        addresses.extend(spec.notify.iter().cloned());
        self.check_addresses(&addresses)?;
        self.write_new(actor, &name, &beads, spec, "convoy create")
    }

    fn write_new(
        &self,
        actor: &Actor,
        name: &str,
        beads: &[String],
        spec: &NewConvoy,
        verb: &str,
    ) -> Result<Convoy> {
        self.town.store.write(COLLECTION, actor, |snap, batch| {
            let stamp = Stamp(batch.clock, actor.name.clone());
            let id = record::new_id(snap, &format!("{name}|{}", actor.name))?;
            let mut rec = record::new_record(&id, &stamp);
            let now = now_rfc3339();
            rec.set("title", json!(name), &stamp);
            rec.set("status", json!(record::OPEN), &stamp);
            rec.set("created_at", json!(now), &stamp);
            rec.set("created_by", json!(actor.name), &stamp);
            if let Some(owner) = &spec.owner {
                rec.set("owner", json!(owner), &stamp);
            }
            if !spec.notify.is_empty() {
                rec.set("notify", json!(spec.notify), &stamp);
            }
            if spec.owned {
                rec.set("owned", json!(true), &stamp);
            }
            for bead in beads {
                record::track(&mut rec, bead, &stamp);
            }
            records::put(batch, &record::path_of(&id), &rec);
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!("{verb} {id}: {name} ({} beads)", beads.len()),
                value: Convoy::from_record(&rec),
            })
        })
    }

    /// Track more beads; a landed convoy that gains one reopens (one write).
    pub fn add(&self, actor: &Actor, id: &str, beads: &[String]) -> Result<Changed> {
        if beads.is_empty() {
            return Err(Error::invalid("name the beads to add"));
        }
        let id = record::resolve(&self.snapshot()?, id)?.id;
        let locator = self.locator()?;
        let beads = self.resolve_beads(&locator, beads)?;
        let (convoy, added, reopened) =
            self.town.store.write(COLLECTION, actor, |snap, batch| {
                let mut rec = record::resolve(snap, &id)?;
                let before = Convoy::from_record(&rec);
                if before.status == record::CLOSED {
                    return Err(Error::invalid(format!(
                        "convoy {id} is closed ({}); create a new one",
                        before.close_reason.as_deref().unwrap_or("no reason")
                    )));
                }
                let stamp = Stamp(batch.clock, actor.name.clone());
                let added: Vec<String> = beads
                    .iter()
                    .filter(|b| record::track(&mut rec, b, &stamp))
                    .cloned()
                    .collect();
                if added.is_empty() {
                    return Ok(Outcome::Unchanged((before, added, false)));
                }
                let reopened = before.status == record::LANDED;
                if reopened {
                    rec.set("status", json!(record::OPEN), &stamp);
                    rec.set("landed_at", Value::Null, &stamp);
                }
                records::put(batch, &record::path_of(&id), &rec);
                carry_count(snap, batch, 0);
                Ok(Outcome::Commit {
                    message: format!(
                        "convoy add {id}: {}{}",
                        added.join(", "),
                        if reopened { " (reopened)" } else { "" }
                    ),
                    value: (Convoy::from_record(&rec), added, reopened),
                })
            })?;
        Ok(Changed {
            convoy,
            changed: added,
            reopened,
            landed_now: None,
        })
    }

    /// Stop tracking beads (one write); what is left may be complete, and then it lands.
    pub fn remove(&self, actor: &Actor, id: &str, beads: &[String]) -> Result<Changed> {
        if beads.is_empty() {
            return Err(Error::invalid("name the beads to remove"));
        }
        let current = Convoy::from_record(&record::resolve(&self.snapshot()?, id)?);
        let id = current.id.clone();
        let locator = self.locator()?;
        let mut names = Vec::new();
        for text in beads {
            // A tracked id as written, else resolved in its rig.
            let text = text.trim();
            let full = if current.tracks(text) {
                text.to_string()
            } else {
                locator.resolve(text)?
            };
            if !current.tracks(&full) {
                return Err(Error::invalid(format!(
                    "bead {full} is not tracked by convoy {id}"
                )));
            }
            if !names.contains(&full) {
                names.push(full);
            }
        }
        let (convoy, removed) = self.town.store.write(COLLECTION, actor, |snap, batch| {
            let mut rec = record::resolve(snap, &id)?;
            let stamp = Stamp(batch.clock, actor.name.clone());
            let removed: Vec<String> = names
                .iter()
                .filter(|b| record::untrack(&mut rec, b, &stamp))
                .cloned()
                .collect();
            if removed.is_empty() {
                return Ok(Outcome::Unchanged((Convoy::from_record(&rec), removed)));
            }
            records::put(batch, &record::path_of(&id), &rec);
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!("convoy remove {id}: {}", removed.join(", ")),
                value: (Convoy::from_record(&rec), removed),
            })
        })?;
        let landed = self.settle(actor, std::slice::from_ref(&id))?;
        let convoy = self.get(&id).unwrap_or(convoy);
        Ok(Changed {
            convoy,
            changed: removed,
            reopened: false,
            landed_now: landed.landed.into_iter().next(),
        })
    }

    /// One convoy, as stored.
    pub fn get(&self, id: &str) -> Result<Convoy> {
        Ok(Convoy::from_record(&record::resolve(
            &self.snapshot()?,
            id,
        )?))
    }

    /// Every convoy, as stored.
    pub fn all(&self) -> Result<Vec<Convoy>> {
        Ok(record::all(&self.snapshot()?)?
            .iter()
            .map(Convoy::from_record)
            .collect())
    }

    /// Land what is complete and send what is owed among `ids` (convoy ids): the repair
    /// every reading command runs for the convoys it looks at.
    fn settle(&self, actor: &Actor, ids: &[String]) -> Result<land::Settled> {
        let landed = self.land_complete(actor, ids)?;
        let mailed = self.mail_owed(actor, ids)?;
        Ok(land::Settled { landed, mailed })
    }

    /// `show`: status, every tracked bead with its rig, status and assignee, and progress.
    /// A convoy seen complete here lands here.
    pub fn show(&self, actor: &Actor, id: &str) -> Result<ConvoyView> {
        let mut convoy = self.get(id)?;
        let locator = self.locator()?;
        let mut tracked = locator.states(&convoy.beads, None, &HashSet::new())?;
        mark_skipped(&mut tracked, &convoy);
        let progress = Progress::of(&tracked);
        let mut landed_now = None;
        let owes_landing = convoy.is_active() && !convoy.owned && progress.complete();
        if owes_landing || convoy.needs_mail() {
            let settled = self.settle(actor, std::slice::from_ref(&convoy.id))?;
            landed_now = settled.landed.into_iter().next();
            convoy = self.get(&convoy.id)?;
        }
        Ok(ConvoyView {
            convoy,
            progress,
            tracked,
            landed_now,
        })
    }

    /// `list`: active convoys (every one with `all`), newest first, with progress. Complete
    /// convoys seen here land here.
    pub fn list(&self, actor: &Actor, all: bool) -> Result<Vec<ConvoyRow>> {
        let mut convoys = self.all()?;
        let progress = self.progress_of(&convoys)?;
        let owed: Vec<String> = convoys
            .iter()
            .filter(|c| (c.is_active() && !c.owned && progress[&c.id].complete()) || c.needs_mail())
            .map(|c| c.id.clone())
            .collect();
        if !owed.is_empty() {
            self.settle(actor, &owed)?;
            convoys = self.all()?;
        }
        convoys.retain(|c| all || c.is_active());
        convoys.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
        Ok(convoys
            .into_iter()
            .map(|c| ConvoyRow {
                progress: progress.get(&c.id).copied().unwrap_or_default(),
                convoy: c,
            })
            .collect())
    }

    /// Progress of many convoys, reading every rig's index once.
    fn progress_of(&self, convoys: &[Convoy]) -> Result<BTreeMap<String, Progress>> {
        let ids: Vec<String> = convoys
            .iter()
            .flat_map(|c| c.beads.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let states = self.locator()?.states(&ids, None, &HashSet::new())?;
        let by_id: BTreeMap<&str, &TrackedBead> =
            states.iter().map(|s| (s.id.as_str(), s)).collect();
        Ok(convoys
            .iter()
            .map(|c| {
                let mine: Vec<TrackedBead> = c
                    .beads
                    .iter()
                    .filter_map(|b| by_id.get(b.as_str()).map(|s| (*s).clone()))
                    .collect();
                (c.id.clone(), Progress::of(&mine))
            })
            .collect())
    }

    /// Close a convoy by hand (one write). Owned convoys close only by `land`; a closed or
    /// landed convoy cannot be closed again.
    pub fn close(&self, actor: &Actor, id: &str, reason: &str) -> Result<Convoy> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::invalid("closing a convoy needs --reason"));
        }
        if reason.chars().any(char::is_control) {
            return Err(Error::invalid(
                "the reason is one line without control characters",
            ));
        }
        let id = record::resolve(&self.snapshot()?, id)?.id;
        self.town.store.write(COLLECTION, actor, |snap, batch| {
            let mut rec = record::resolve(snap, &id)?;
            let convoy = Convoy::from_record(&rec);
            match convoy.status.as_str() {
                record::CLOSED => {
                    return Err(Error::invalid(format!("convoy {id} is already closed")))
                }
                record::LANDED => {
                    return Err(Error::invalid(format!(
                        "convoy {id} has landed; there is nothing to close"
                    )))
                }
                _ if convoy.owned => {
                    return Err(Error::invalid(format!(
                        "convoy {id} is owned: it closes only by `git convoy land {id}`"
                    )))
                }
                _ => {}
            }
            let stamp = Stamp(batch.clock, actor.name.clone());
            rec.set("status", json!(record::CLOSED), &stamp);
            rec.set("close_reason", json!(reason), &stamp);
            rec.set("closed_at", json!(now_rfc3339()), &stamp);
            records::put(batch, &record::path_of(&id), &rec);
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!("convoy close {id}: {reason}"),
                value: Convoy::from_record(&rec),
            })
        })
    }

    /// `stranded`: active convoys with ready work nobody is on, with open work none of
    /// which is ready or in anyone's hands, or with no beads at all.
    pub fn stranded(&self) -> Result<Vec<Stranded>> {
        let convoys: Vec<Convoy> = self.all()?.into_iter().filter(|c| c.is_active()).collect();
        let locator = self.locator()?;
        let mut out = Vec::new();
        for c in convoys {
            let mut states = locator.states(&c.beads, None, &HashSet::new())?;
            mark_skipped(&mut states, &c);
            let progress = Progress::of(&states);
            let ready: Vec<String> = states
                .iter()
                .filter(|s| s.ready && !s.skipped)
                .map(|s| s.id.clone())
                .collect();
            let busy = states.iter().any(|s| !s.is_done() && s.assignee.is_some());
            let reason = if states.is_empty() {
                "empty"
            } else if !ready.is_empty() {
                "ready"
            } else if !progress.complete() && !busy {
                "stuck"
            } else {
                continue;
            };
            out.push(Stranded {
                id: c.id.clone(),
                name: c.name.clone(),
                reason: reason.to_string(),
                progress,
                ready,
            });
        }
        Ok(out)
    }

    /// The active convoys tracking `bead`.
    pub fn tracking(&self, bead: &str) -> Result<Vec<Convoy>> {
        Ok(self
            .all()?
            .into_iter()
            .filter(|c| c.is_active() && c.tracks(bead))
            .collect())
    }

    /// `git sling`'s convoy: the beads of `beads` that no active convoy tracks go into one
    /// new "Work: <title>" convoy (one write); `None` when every one is tracked already.
    pub fn track_new_work(
        &self,
        actor: &Actor,
        beads: &[String],
        owner: Option<String>,
    ) -> Result<Option<Convoy>> {
        let tracked: HashSet<String> = self
            .all()?
            .into_iter()
            .filter(|c| c.is_active())
            .flat_map(|c| c.beads)
            .collect();
        let mut fresh: Vec<String> = Vec::new();
        for b in beads {
            if !tracked.contains(b) && !fresh.contains(b) {
                fresh.push(b.clone());
            }
        }
        if fresh.is_empty() {
            return Ok(None);
        }
        let states = self.locator()?.states(&fresh, None, &HashSet::new())?;
        let first = states
            .first()
            .map(|s| s.title.clone())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| fresh[0].clone());
        let mut name: String = format!("Work: {first}").chars().take(160).collect();
        if fresh.len() > 1 {
            name.push_str(&format!(" (+{} more)", fresh.len() - 1));
        }
        let name = name.replace(char::is_control, " ");
        let spec = NewConvoy {
            name: name.clone(),
            beads: fresh.clone(),
            owner,
            ..NewConvoy::default()
        };
        self.write_new(actor, &name, &fresh, &spec, "convoy create (sling)")
            .map(Some)
    }
}

/// Mark the states of beads the convoy skipped.
fn mark_skipped(states: &mut [TrackedBead], convoy: &Convoy) {
    for s in states.iter_mut() {
        if convoy.skipped.contains(&s.id) {
            s.skipped = true;
            s.ready = false;
        }
    }
}
