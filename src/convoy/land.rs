//! Landing: a convoy whose tracked beads are all done is recorded `landed` once, by the
//! first command that sees it so, and its one "Convoy landed" message is sent under an id
//! derived from the convoy and the landing's number. The steps are each idempotent, so a
//! process killed between any two leaves work the next command (or `sync`, or patrol)
//! finishes, never a second landing or a second message:
//!
//! 1. the close (in the bead's store); when the convoy lives in that store too, the landing
//!    is recorded in the same commit ([`land_in`]);
//! 2. otherwise the landing write on the town's store ([`Convoys::land_complete`]);
//! 3. the message (`Mail::send_once`: present already, nothing is sent);
//! 4. `mailed` set to the landing's number.

use std::collections::HashSet;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{json, Value};

use super::locate::{Locator, TrackedBead};
use super::record::{self, Convoy};
use super::{fault, Convoys, Progress};
use crate::bead::ops::carry_count;
use crate::bead::record::{Record, Stamp};
use crate::bead::schema::now_rfc3339;
use crate::bead::COLLECTION;
use crate::error::Result;
use crate::mail::{Mail, Outgoing, Resolver, OVERSEER};
use crate::records;
use crate::sling::Dispatch;
use crate::store::{Actor, Outcome, Snapshot, Store, WriteBatch};
use crate::town::Town;

/// A landing, as recorded and announced (the board posts it as its landing summary).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LandedConvoy {
    pub id: String,
    pub name: String,
    pub created: String,
    pub landed: String,
    pub duration_secs: i64,
    pub beads: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub notify: Vec<String>,
    /// Which landing of this convoy (a reopened convoy lands again).
    pub landing: u64,
    /// The id of its "Convoy landed" message.
    pub mail_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epic: Option<String>,
}

impl LandedConvoy {
    /// The landing a landed convoy records.
    pub fn of(convoy: &Convoy) -> LandedConvoy {
        let landed = convoy.landed.clone().unwrap_or_default();
        LandedConvoy {
            id: convoy.id.clone(),
            name: convoy.name.clone(),
            duration_secs: seconds_between(&convoy.created, &landed),
            created: convoy.created.clone(),
            landed,
            beads: convoy.beads.clone(),
            owner: convoy.owner.clone(),
            notify: convoy.notify.clone(),
            landing: convoy.landings,
            mail_id: mail_id(convoy),
            epic: convoy.epic.clone(),
        }
    }
}

/// What the commands after a close did for convoys.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AfterClose {
    /// Convoys that landed (in the closing write, or right after it).
    pub landed: Vec<LandedConvoy>,
    /// Convoys whose landing message was sent.
    pub mailed: Vec<String>,
    /// Dispatches of launched convoys' next ready beads.
    pub fed: Vec<Dispatch>,
}

/// What a repair pass (`sync`, patrol) did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConvoyRepair {
    /// Complete convoys that had not landed, landed now.
    pub landed: Vec<LandedConvoy>,
    /// Landing messages that were owed, sent now.
    pub mailed: Vec<String>,
    /// Launched convoys' ready, unassigned beads dispatched.
    pub fed: Vec<Dispatch>,
}

impl ConvoyRepair {
    pub fn is_empty(&self) -> bool {
        self.landed.is_empty() && self.mailed.is_empty() && self.fed.is_empty()
    }
}

pub(super) struct Settled {
    pub landed: Vec<LandedConvoy>,
    #[allow(dead_code)]
    pub mailed: Vec<String>,
}

/// The deterministic id of a convoy's landing message: a retry finds it already sent.
pub fn mail_id(convoy: &Convoy) -> String {
    let seed = format!(
        "convoy-landed|{}|{}|{}",
        convoy.id, convoy.landings, convoy.created
    );
    crate::bead::id::hash_id("m", &seed, 0, 10)
}

fn seconds_between(from: &str, to: &str) -> i64 {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    match (parse(from), parse(to)) {
        (Some(a), Some(b)) => (b - a).num_seconds().max(0),
        _ => 0,
    }
}

/// Record the landing on `rec` if `states` are all done; the landing, or `None`.
fn land_record(rec: &mut Record, states: &[TrackedBead], stamp: &Stamp) -> Option<LandedConvoy> {
    let convoy = Convoy::from_record(rec);
    if !convoy.is_active() || !Progress::of(states).complete() {
        return None;
    }
    rec.set("status", json!(record::LANDED), stamp);
    rec.set("landed_at", json!(now_rfc3339()), stamp);
    rec.set("landed_by", json!(stamp.1), stamp);
    rec.set("landings", json!(convoy.landings + 1), stamp);
    Some(LandedConvoy::of(&Convoy::from_record(rec)))
}

/// The repository directory of a store (its main worktree, else its git dir).
fn dir_of(store: &Store) -> PathBuf {
    store
        .repo()
        .workdir()
        .map(PathBuf::from)
        .unwrap_or_else(|| store.common_dir().to_path_buf())
}

/// Inside a write on `store` that closes `closed`: land the unowned, active convoys of this
/// same store that track them and are now complete, in this write. A store without
/// convoys (a rig of a town) costs one tree lookup. Returns the landings (their messages
/// are sent after the write by [`after_close`]).
pub fn land_in(
    store: &Store,
    snap: &Snapshot<'_>,
    batch: &mut WriteBatch,
    stamp: &Stamp,
    closed: &[String],
) -> Result<Vec<LandedConvoy>> {
    if closed.is_empty() || snap.resolve(record::DIR)?.is_none() {
        return Ok(Vec::new());
    }
    let mut candidates: Vec<Record> = record::all(snap)?
        .into_iter()
        .filter(|r| {
            let c = Convoy::from_record(r);
            c.is_active() && !c.owned && closed.iter().any(|b| c.tracks(b))
        })
        .collect();
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let town = Town::discover(&dir_of(store))?;
    // Only when the town's store is this store: convoys left in a rig's store by the time
    // it was a lone repository are not the town's.
    let same = std::fs::canonicalize(town.store.common_dir()).ok()
        == std::fs::canonicalize(store.common_dir()).ok();
    if !same {
        return Ok(Vec::new());
    }
    let locator = Locator::new(&town)?;
    let closed_now: HashSet<String> = closed.iter().cloned().collect();
    let mut out = Vec::new();
    for rec in &mut candidates {
        let beads = Convoy::from_record(rec).beads;
        let states = locator.states(&beads, Some(snap), &closed_now)?;
        if let Some(landed) = land_record(rec, &states, stamp) {
            records::put(batch, &record::path_of(&rec.id), rec);
            out.push(landed);
        }
    }
    Ok(out)
}

/// After a write on `store` closed `closed`: land convoys in the town that the close
/// completed, send owed landing messages, and feed launched convoys. Best effort by
/// design: the close itself has happened; what fails here the next command, `sync` or
/// patrol repairs.
pub fn after_close(store: &Store, actor: &Actor, closed: &[String]) -> Result<AfterClose> {
    if closed.is_empty() {
        return Ok(AfterClose::default());
    }
    let town = Town::discover(&dir_of(store))?;
    Convoys::new(&town).after_close(actor, closed)
}

impl Convoys<'_> {
    /// See [`after_close`].
    pub fn after_close(&self, actor: &Actor, closed: &[String]) -> Result<AfterClose> {
        let mut out = AfterClose::default();
        let snap = self.town.store.snapshot(COLLECTION)?;
        if closed.is_empty() || snap.resolve(record::DIR)?.is_none() {
            return Ok(out);
        }
        let touched: Vec<Convoy> = record::all(&snap)?
            .iter()
            .map(Convoy::from_record)
            .filter(|c| closed.iter().any(|b| c.tracks(b)))
            .collect();
        if touched.is_empty() {
            return Ok(out);
        }
        let ids: Vec<String> = touched.iter().map(|c| c.id.clone()).collect();
        fault("convoy-before-land");
        out.landed = self.land_complete(actor, &ids)?;
        // Landed in the closing write itself (convoy and bead in one store): report those.
        for c in &touched {
            if c.needs_mail() && !out.landed.iter().any(|l| l.id == c.id) {
                out.landed.push(LandedConvoy::of(c));
            }
        }
        out.mailed = self.mail_owed(actor, &ids)?;
        for c in self.all()? {
            if ids.contains(&c.id) && c.launched && c.is_active() {
                out.fed.extend(self.feed(actor, &c, None)?);
            }
        }
        Ok(out)
    }

    /// Land every active, unowned convoy of `ids` whose beads are all done: one write on
    /// the town's store (nothing when none is).
    pub(super) fn land_complete(&self, actor: &Actor, ids: &[String]) -> Result<Vec<LandedConvoy>> {
        self.land_where(actor, ids, false)
    }

    /// The landing write. `owned_too`: `land` lands an owned convoy as well.
    fn land_where(
        &self,
        actor: &Actor,
        ids: &[String],
        owned_too: bool,
    ) -> Result<Vec<LandedConvoy>> {
        let locator = self.locator()?;
        // Read outside the lock first: most calls find nothing to land and write nothing.
        let snap = self.town.store.snapshot(COLLECTION)?;
        let mut due = false;
        for id in ids {
            if let Some(rec) = records::read(&snap, &record::path_of(id))? {
                let c = Convoy::from_record(&rec);
                if c.is_active() && (owned_too || !c.owned) {
                    let states = locator.states(&c.beads, None, &HashSet::new())?;
                    due |= Progress::of(&states).complete();
                }
            }
        }
        if !due {
            return Ok(Vec::new());
        }
        self.town.store.write(COLLECTION, actor, |snap, batch| {
            let stamp = Stamp(batch.clock, actor.name.clone());
            let mut landed = Vec::new();
            for id in ids {
                let Some(mut rec) = records::read(snap, &record::path_of(id))? else {
                    continue;
                };
                let c = Convoy::from_record(&rec);
                if !c.is_active() || (c.owned && !owned_too) {
                    continue;
                }
                let states = locator.states(&c.beads, Some(snap), &HashSet::new())?;
                if let Some(l) = land_record(&mut rec, &states, &stamp) {
                    records::put(batch, &record::path_of(id), &rec);
                    landed.push(l);
                }
            }
            if landed.is_empty() {
                return Ok(Outcome::Unchanged(landed));
            }
            carry_count(snap, batch, 0);
            let names: Vec<&str> = landed.iter().map(|l| l.id.as_str()).collect();
            Ok(Outcome::Commit {
                message: format!("convoy land {}", names.join(", ")),
                value: landed,
            })
        })
    }

    /// `land ID`: land a complete convoy now, owned or not, and send its message.
    pub fn land(&self, actor: &Actor, id: &str) -> Result<LandedConvoy> {
        let convoy = self.get(id)?;
        match convoy.status.as_str() {
            record::LANDED => {
                // Landed already: finish its message if a crash left it owed.
                self.mail_owed(actor, std::slice::from_ref(&convoy.id))?;
                return Err(crate::Error::invalid(format!(
                    "convoy {} has already landed ({})",
                    convoy.id,
                    convoy.landed.as_deref().unwrap_or("")
                )));
            }
            record::CLOSED => {
                return Err(crate::Error::invalid(format!(
                    "convoy {} is closed; it cannot land",
                    convoy.id
                )))
            }
            _ => {}
        }
        let states = self
            .locator()?
            .states(&convoy.beads, None, &HashSet::new())?;
        let open: Vec<&str> = states
            .iter()
            .filter(|s| !s.is_done())
            .map(|s| s.id.as_str())
            .collect();
        if convoy.beads.is_empty() {
            return Err(crate::Error::invalid(format!(
                "convoy {} tracks no beads; nothing can land",
                convoy.id
            )));
        }
        if !open.is_empty() {
            let shown: Vec<&str> = open.iter().take(5).copied().collect();
            return Err(crate::Error::invalid(format!(
                "convoy {} is not complete: {} of {} beads still open ({}{})",
                convoy.id,
                open.len(),
                states.len(),
                shown.join(", "),
                if open.len() > 5 { ", …" } else { "" }
            )));
        }
        let landed = self.land_where(actor, std::slice::from_ref(&convoy.id), true)?;
        self.mail_owed(actor, std::slice::from_ref(&convoy.id))?;
        match landed.into_iter().next() {
            Some(l) => Ok(l),
            // A concurrent command landed it first: report that landing.
            None => Ok(LandedConvoy::of(&self.get(&convoy.id)?)),
        }
    }

    /// Send the landing message of each convoy of `ids` that is landed and owes it, then
    /// record it sent. Returns the convoys whose message went out.
    pub(super) fn mail_owed(&self, actor: &Actor, ids: &[String]) -> Result<Vec<String>> {
        let owed: Vec<Convoy> = self
            .all()?
            .into_iter()
            .filter(|c| ids.contains(&c.id) && c.needs_mail())
            .collect();
        let mut sent = Vec::new();
        for convoy in owed {
            fault("convoy-before-mail");
            self.send_landing(actor, &convoy)?;
            // The bulletin's landing summary, also once per landing (a derived post id).
            crate::board::Board::new(self.town).convoy_landed(actor, &LandedConvoy::of(&convoy))?;
            let landing = convoy.landings;
            let id = convoy.id.clone();
            self.town.store.write(COLLECTION, actor, |snap, batch| {
                let Some(mut rec) = records::read(snap, &record::path_of(&id))? else {
                    return Ok(Outcome::Unchanged(()));
                };
                let mailed = rec.get("mailed").and_then(Value::as_u64).unwrap_or(0);
                if mailed >= landing {
                    return Ok(Outcome::Unchanged(()));
                }
                let stamp = Stamp(batch.clock, actor.name.clone());
                rec.set("mailed", json!(landing), &stamp);
                records::put(batch, &record::path_of(&id), &rec);
                carry_count(snap, batch, 0);
                Ok(Outcome::Commit {
                    message: format!("convoy mailed {id}: landing {landing}"),
                    value: (),
                })
            })?;
            sent.push(convoy.id);
        }
        Ok(sent)
    }

    /// The one "Convoy landed" message of a landing, to the owner and notify list.
    fn send_landing(&self, actor: &Actor, convoy: &Convoy) -> Result<bool> {
        let landed = LandedConvoy::of(convoy);
        let mail = Mail::new(self.town);
        let lists = mail.lists()?;
        let resolver = Resolver::new(self.town, &lists);
        let mut words: Vec<String> = convoy.owner.iter().cloned().collect();
        words.extend(convoy.notify.iter().cloned());
        if words.is_empty() {
            words.push(OVERSEER.to_string());
        }
        // An address that no longer resolves (an agent nuked since) is dropped, not fatal:
        // the message still reaches the others, or the overseer.
        let mut to = Vec::new();
        for w in &words {
            if let Ok(found) = resolver.resolve(w, 0) {
                for r in found {
                    if !to.contains(&r) {
                        to.push(r);
                    }
                }
            }
        }
        if to.is_empty() {
            to.push(OVERSEER.to_string());
        }
        let mut body = format!(
            "Convoy {} \"{}\" landed: all {} tracked beads are closed.\nDuration: {} (created {}, landed {}).\n",
            convoy.id,
            convoy.name,
            convoy.beads.len(),
            human_duration(landed.duration_secs),
            landed.created,
            landed.landed
        );
        if let Some(epic) = &convoy.epic {
            body.push_str(&format!("Epic: {epic}\n"));
        }
        body.push_str("Beads:\n");
        for b in convoy.beads.iter().take(200) {
            body.push_str(&format!("  {b}\n"));
        }
        if convoy.beads.len() > 200 {
            body.push_str(&format!("  … and {} more\n", convoy.beads.len() - 200));
        }
        let mut subject: String = format!("Convoy landed: {}", convoy.name)
            .chars()
            .take(190)
            .collect();
        subject = subject.replace(char::is_control, " ");
        let out = Outgoing {
            to,
            cc: Vec::new(),
            sent_to: words,
            subject,
            body,
            kind: Some("notification".into()),
            priority: None,
            payload: serde_json::to_value(&landed).ok(),
        };
        let (_, fresh) = mail.send_once(actor, &actor.name, &landed.mail_id, &out)?;
        Ok(fresh)
    }

    /// Repair for `sync` and patrol: land every complete, unlanded, unowned convoy, send
    /// every owed landing message, and feed launched convoys that have ready, unassigned
    /// work. Writes nothing when nothing is owed.
    pub fn repair(&self, actor: &Actor) -> Result<ConvoyRepair> {
        let snap = self.town.store.snapshot(COLLECTION)?;
        if snap.resolve(record::DIR)?.is_none() {
            return Ok(ConvoyRepair::default());
        }
        let convoys = self.all()?;
        let active: Vec<String> = convoys
            .iter()
            .filter(|c| c.is_active() && !c.owned)
            .map(|c| c.id.clone())
            .collect();
        let mut out = ConvoyRepair {
            landed: self.land_complete(actor, &active)?,
            ..ConvoyRepair::default()
        };
        let owed: Vec<String> = self
            .all()?
            .into_iter()
            .filter(|c| c.needs_mail())
            .map(|c| c.id)
            .collect();
        for id in &owed {
            if !out.landed.iter().any(|l| &l.id == id) {
                out.landed.push(LandedConvoy::of(&self.get(id)?));
            }
        }
        out.mailed = self.mail_owed(actor, &owed)?;
        for c in self.all()? {
            if c.launched && c.is_active() {
                out.fed.extend(self.feed(actor, &c, None)?);
            }
        }
        Ok(out)
    }
}

/// `1h 2m`, `3m 4s`, `5s`.
pub fn human_duration(secs: i64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}
