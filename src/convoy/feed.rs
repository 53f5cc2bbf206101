//! Feeding, launch and mountain. A launched convoy dispatches its ready, unassigned beads
//! through the sling service, inline in the command that made them ready (a close), so no
//! poller is needed. The scheduler decides what starts: over capacity sling queues the
//! dispatch, and a paused rig (`scheduler.paused`) only gets queue entries.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::locate::TrackedBead;
use super::record::{self, Convoy};
use super::{mark_skipped, Convoys, Staged};
use crate::agent::Agents;
use crate::bead::ops::carry_count;
use crate::bead::record::Stamp;
use crate::bead::COLLECTION;
use crate::error::{Error, Result};
use crate::formula::{self, Library};
use crate::records;
use crate::sling::{
    queue, Dispatch, FormulaChoice, Sling, SlingSpec, Target, MAX_DISPATCH_FAILURES,
};
use crate::store::{Actor, Outcome, Store};
use crate::town::{settings, Rig};

/// A bead mountain gave up dispatching.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SkippedBead {
    pub bead: String,
    pub failures: u64,
    pub reason: String,
}

/// What `launch` did.
#[derive(Debug, Clone, Serialize)]
pub struct Launched {
    #[serde(flatten)]
    pub convoy: Convoy,
    /// Wave 1's dispatches.
    pub dispatched: Vec<Dispatch>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedBead>,
}

/// What `mountain` did: the staging, then the launch.
#[derive(Debug, Clone, Serialize)]
pub struct Mountain {
    pub staged: Staged,
    pub launched: Launched,
}

fn dispatch(bead: &str, outcome: &str, reason: Option<String>, failures: u64) -> Dispatch {
    Dispatch {
        bead: bead.to_string(),
        outcome: outcome.to_string(),
        agent: None,
        molecule: None,
        runtime: None,
        reason,
        failures,
    }
}

impl Convoys<'_> {
    /// Dispatch the convoy's ready, unassigned, not skipped beads (of `only`, when given),
    /// each to its rig. One sling per bead, so one bead's failure is its own.
    pub fn feed(
        &self,
        actor: &Actor,
        convoy: &Convoy,
        only: Option<&[String]>,
    ) -> Result<Vec<Dispatch>> {
        Ok(self.feed_with(actor, convoy, only, false)?.0)
    }

    /// The body of `feed`; with `persist`, a bead whose dispatch fails is tried again until
    /// it has failed [`MAX_DISPATCH_FAILURES`] times, then skipped (mountain).
    fn feed_with(
        &self,
        actor: &Actor,
        convoy: &Convoy,
        only: Option<&[String]>,
        persist: bool,
    ) -> Result<(Vec<Dispatch>, Vec<SkippedBead>)> {
        let locator = self.locator()?;
        let mut states = locator.states(&convoy.beads, None, &HashSet::new())?;
        mark_skipped(&mut states, convoy);
        let wanted: Vec<&TrackedBead> = states
            .iter()
            .filter(|s| s.ready && !s.skipped)
            .filter(|s| only.is_none_or(|o| o.contains(&s.id)))
            .collect();
        let mut out = Vec::new();
        let mut skipped = Vec::new();
        let mut queued_by_rig: std::collections::BTreeMap<String, HashSet<String>> =
            Default::default();
        for bead in wanted {
            let Some(rig) = locator.rig_of(&bead.id) else {
                continue; // the town's own beads have no rig to work them
            };
            if rig.parked {
                continue;
            }
            let store = match rig.open_store() {
                Ok(s) => s,
                Err(err) => {
                    out.push(dispatch(&bead.id, "failed", Some(one_line(&err)), 0));
                    continue;
                }
            };
            let queued = match queued_by_rig.get(&rig.name) {
                Some(q) => q,
                None => {
                    let q: HashSet<String> = queue::waiting(&store)?
                        .into_iter()
                        .map(|q| q.bead)
                        .collect();
                    queued_by_rig.entry(rig.name.clone()).or_insert(q)
                }
            };
            if queued.contains(&bead.id) {
                continue; // waits for a slot already
            }
            let mut attempts = 0;
            loop {
                attempts += 1;
                let d = self.dispatch_to_rig(actor, &rig, &store, &bead.id);
                let failed = d.outcome == "failed";
                let failures = d.failures;
                let reason = d.reason.clone().unwrap_or_default();
                out.push(d);
                if !failed || !persist {
                    break;
                }
                if failures >= MAX_DISPATCH_FAILURES || attempts >= MAX_DISPATCH_FAILURES {
                    skipped.push(SkippedBead {
                        bead: bead.id.clone(),
                        failures,
                        reason,
                    });
                    break;
                }
            }
        }
        if !skipped.is_empty() {
            self.mark_skipped_beads(actor, &convoy.id, &skipped)?;
        }
        Ok((out, skipped))
    }

    /// One bead to its rig through sling, with the rig's default formula; a paused rig
    /// gets a queue entry instead.
    fn dispatch_to_rig(&self, actor: &Actor, rig: &Rig, store: &Store, bead: &str) -> Dispatch {
        let attempt = || -> Result<Vec<Dispatch>> {
            let formula_name =
                settings::effective(Some(store), &self.town.store, "workflow.default_formula")?
                    .value
                    .as_str()
                    .map(str::to_string);
            let paused = settings::effective(Some(store), &self.town.store, "scheduler.paused")?
                .value
                .as_bool()
                .unwrap_or(false);
            if paused {
                let entry = queue::Queued {
                    bead: bead.to_string(),
                    status: queue::QUEUED.into(),
                    target: rig.name.clone(),
                    priority: records::read(
                        &store.snapshot(COLLECTION)?,
                        &crate::bead::id::record_path(bead),
                    )?
                    .map(|r| r.priority())
                    .unwrap_or(2),
                    runtime: None,
                    formula: formula_name.clone(),
                    vars: Map::new(),
                    no_formula: formula_name.is_none(),
                    dispatched_by: actor.name.clone(),
                    queued_at: String::new(),
                };
                queue::enqueue(store, actor, &entry)?;
                return Ok(vec![dispatch(
                    bead,
                    "queued",
                    Some(format!("rig {} is paused (scheduler.paused)", rig.name)),
                    0,
                )]);
            }
            let library = library_for(rig);
            let parsed = match &formula_name {
                Some(name) => Some(library.load(name)?),
                None => None,
            };
            let spec = SlingSpec {
                beads: vec![bead.to_string()],
                target: Target::Rig(rig.name.clone()),
                runtime: None,
                formula: parsed.map(|parsed| FormulaChoice {
                    parsed,
                    resolver: &library,
                }),
                vars: Map::new(),
                force: false,
                no_start: false,
            };
            Sling::new(Agents::new(self.town)).sling(actor, &spec)
        };
        match attempt() {
            Ok(mut ds) if !ds.is_empty() => ds.remove(0),
            Ok(_) => dispatch(bead, "failed", Some("nothing was dispatched".into()), 0),
            Err(err) => {
                let failures = store
                    .snapshot(COLLECTION)
                    .ok()
                    .and_then(|s| {
                        records::read(&s, &crate::bead::id::record_path(bead))
                            .ok()
                            .flatten()
                    })
                    .and_then(|r| r.get("dispatch_failures").and_then(Value::as_u64))
                    .unwrap_or(0);
                dispatch(bead, "failed", Some(one_line(&err)), failures)
            }
        }
    }

    fn mark_skipped_beads(&self, actor: &Actor, id: &str, skipped: &[SkippedBead]) -> Result<()> {
        self.town.store.write(COLLECTION, actor, |snap, batch| {
            let Some(mut rec) = records::read(snap, &record::path_of(id))? else {
                return Ok(Outcome::Unchanged(()));
            };
            let stamp = Stamp(batch.clock, actor.name.clone());
            for s in skipped {
                record::skip(&mut rec, &s.bead, &s.reason, &stamp);
            }
            records::put(batch, &record::path_of(id), &rec);
            carry_count(snap, batch, 0);
            let ids: Vec<&str> = skipped.iter().map(|s| s.bead.as_str()).collect();
            Ok(Outcome::Commit {
                message: format!("convoy skip {id}: {} (dispatch failed)", ids.join(", ")),
                value: (),
            })
        })
    }

    /// `launch ID`: open the convoy for feeding (one write) and dispatch wave 1 (the first
    /// staged wave, else every ready bead).
    pub fn launch(&self, actor: &Actor, id: &str) -> Result<Launched> {
        self.launch_with(actor, id, false)
    }

    fn launch_with(&self, actor: &Actor, id: &str, persist: bool) -> Result<Launched> {
        let id = self.get(id)?.id;
        let convoy = self.town.store.write(COLLECTION, actor, |snap, batch| {
            let mut rec = record::resolve(snap, &id)?;
            let c = Convoy::from_record(&rec);
            if !c.is_active() {
                return Err(Error::invalid(format!(
                    "convoy {id} is {}; only a staged or open convoy launches",
                    c.status
                )));
            }
            if c.beads.is_empty() {
                return Err(Error::invalid(format!(
                    "convoy {id} tracks no beads; add some first"
                )));
            }
            if c.launched && c.status == record::OPEN {
                return Ok(Outcome::Unchanged(c));
            }
            let stamp = Stamp(batch.clock, actor.name.clone());
            rec.set("status", json!(record::OPEN), &stamp);
            rec.set("launched", json!(true), &stamp);
            rec.set(
                "launched_at",
                json!(crate::bead::schema::now_rfc3339()),
                &stamp,
            );
            records::put(batch, &record::path_of(&id), &rec);
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!("convoy launch {id}: {}", c.name),
                value: Convoy::from_record(&rec),
            })
        })?;
        let wave = convoy.waves.first().cloned();
        let (dispatched, skipped) = self.feed_with(actor, &convoy, wave.as_deref(), persist)?;
        Ok(Launched {
            convoy: self.get(&id)?,
            dispatched,
            skipped,
        })
    }

    /// `mountain EPIC`: stage the epic, then launch it; a bead whose dispatch fails
    /// [`MAX_DISPATCH_FAILURES`] times is skipped and reported, and the rest go on.
    pub fn mountain(&self, actor: &Actor, epic: &str) -> Result<Mountain> {
        let staged = self.stage(actor, epic)?;
        let launched = self.launch_with(actor, &staged.convoy, true)?;
        Ok(Mountain { staged, launched })
    }
}

/// The formula library a rig's dispatches use: the rig's, the user's, the built-in ones.
fn library_for(rig: &Rig) -> Library {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from)
    };
    Library::new(
        Some(&rig.path),
        formula::user_dir(env("HOME").as_deref(), env("XDG_CONFIG_HOME").as_deref()),
    )
}

fn one_line(err: &Error) -> String {
    crate::error::one_line(&err.to_string())
}
