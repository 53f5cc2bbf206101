//! Where tracked beads live: a bead id resolves to its rig by prefix through the rig
//! registry (the town's own beads, `hq-`, live in the town's store; a lone repository is its
//! own town and its one rig). States are read from each rig's derived index, one snapshot
//! per store, so `show` of hundreds of beads costs a few index loads.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::bead::graph;
use crate::bead::id::record_path;
use crate::bead::{Beads, COLLECTION};
use crate::error::{Error, Result};
use crate::records;
use crate::store::{Snapshot, Store};
use crate::town::{Rig, Town};

/// What a convoy shows of one tracked bead.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TrackedBead {
    pub id: String,
    /// The rig it lives in (`town` for the town's own beads), `None` when no rig's prefix
    /// matches.
    pub rig: Option<String>,
    /// The bead's status; `deleted` (tombstoned), `missing` or `unknown` (its rig cannot be
    /// read) when there is none.
    pub status: String,
    pub assignee: Option<String>,
    pub title: String,
    pub priority: u8,
    /// Open, unblocked, unassigned work (what feeding dispatches).
    pub ready: bool,
    /// Mountain gave up dispatching it (failed 3 times).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

impl TrackedBead {
    /// Nothing left to do: closed, or deleted.
    pub fn is_done(&self) -> bool {
        self.status == "closed" || self.status == "deleted"
    }
}

/// Which store a bead id belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    /// The town's own store (the town's beads; a lone repository's beads).
    Town,
    /// A registered rig (index into `rigs`).
    Rig(usize),
}

/// Resolves bead ids to rigs and reads their states.
pub struct Locator<'t> {
    town: &'t Town,
    rigs: Vec<Rig>,
    town_prefix: String,
}

impl<'t> Locator<'t> {
    pub fn new(town: &'t Town) -> Result<Self> {
        let rigs = town.rigs().list()?;
        let town_prefix = Beads::new(&town.store)
            .snapshot()
            .and_then(|s| Beads::new(&town.store).config(&s))
            .map(|c| c.prefix)
            .unwrap_or_else(|_| crate::town::TOWN_PREFIX.to_string());
        Ok(Locator {
            town,
            rigs,
            town_prefix,
        })
    }

    /// The store a bead id's prefix names (longest matching prefix wins).
    fn place_of(&self, id: &str) -> Option<Place> {
        let mut best: Option<(usize, Place)> = None;
        let mut consider = |prefix: &str, place: Place| {
            if !prefix.is_empty()
                && id.len() > prefix.len() + 1
                && id.starts_with(prefix)
                && id.as_bytes()[prefix.len()] == b'-'
                && best.as_ref().is_none_or(|(len, _)| prefix.len() > *len)
            {
                best = Some((prefix.len(), place));
            }
        };
        consider(&self.town_prefix, Place::Town);
        for (i, rig) in self.rigs.iter().enumerate() {
            let place = if rig.lone { Place::Town } else { Place::Rig(i) };
            consider(&rig.prefix, place);
        }
        best.map(|(_, p)| p)
    }

    fn rig_name(&self, place: &Place) -> String {
        match place {
            Place::Rig(i) => self.rigs[*i].name.clone(),
            Place::Town => match &self.town.lone_rig {
                Some(name) => name.clone(),
                None => "town".to_string(),
            },
        }
    }

    fn open(&self, place: &Place) -> Result<Option<Store>> {
        match place {
            Place::Town => Ok(None),
            Place::Rig(i) => self.rigs[*i].open_store().map(Some),
        }
    }

    /// The rig a bead id belongs to (by prefix), if any.
    pub fn rig_of(&self, id: &str) -> Option<Rig> {
        match self.place_of(id)? {
            Place::Rig(i) => Some(self.rigs[i].clone()),
            Place::Town => self.rigs.iter().find(|r| r.lone).cloned(),
        }
    }

    /// Resolve user input to a full bead id in its rig's store: a full id, or a unique
    /// prefix in the store its prefix names (in a lone repository, the id without its
    /// prefix too). Unknown and deleted beads are errors naming the input.
    pub fn resolve(&self, text: &str) -> Result<String> {
        let text = text.trim();
        let place = match self.place_of(text) {
            Some(p) => p,
            None if self.town.is_lone_rig() => Place::Town,
            None => {
                return Err(Error::invalid(format!(
                    "no rig's bead prefix matches '{}' (see `git gastown rig list`)",
                    text.escape_debug()
                )))
            }
        };
        let opened = self.open(&place)?;
        let store = opened.as_ref().unwrap_or(&self.town.store);
        let beads = Beads::new(store);
        let snap = beads.snapshot()?;
        let config = beads.config(&snap)?;
        beads
            .resolve(&snap, &config, text, &mut None)
            .map_err(|e| match e {
                Error::NotFound(_) => Error::invalid(format!(
                    "no bead matches '{}' in rig {}",
                    text.escape_debug(),
                    self.rig_name(&place)
                )),
                other => other,
            })
    }

    /// The states of `ids`, in order. `town_snap` is the town store's snapshot to read
    /// (inside a write on it); `closed_now` are beads this very write closes.
    pub fn states(
        &self,
        ids: &[String],
        town_snap: Option<&Snapshot<'_>>,
        closed_now: &HashSet<String>,
    ) -> Result<Vec<TrackedBead>> {
        let mut by_place: BTreeMap<Place, Vec<usize>> = BTreeMap::new();
        let mut out: Vec<TrackedBead> = ids
            .iter()
            .map(|id| TrackedBead {
                id: id.clone(),
                rig: None,
                status: "unknown".into(),
                assignee: None,
                title: String::new(),
                priority: 2,
                ready: false,
                skipped: false,
            })
            .collect();
        for (i, id) in ids.iter().enumerate() {
            if let Some(place) = self.place_of(id) {
                by_place.entry(place).or_default().push(i);
            } else if self.town.is_lone_rig() {
                by_place.entry(Place::Town).or_default().push(i);
            }
        }
        let now = chrono::Utc::now().timestamp_millis();
        for (place, members) in by_place {
            let rig = self.rig_name(&place);
            for &i in &members {
                out[i].rig = Some(rig.clone());
            }
            let Ok(opened) = self.open(&place) else {
                continue; // a missing rig: its beads stay `unknown`
            };
            let store = opened.as_ref().unwrap_or(&self.town.store);
            let fresh;
            let snap = match (&place, town_snap) {
                (Place::Town, Some(s)) => s,
                _ => {
                    fresh = store.snapshot(COLLECTION)?;
                    &fresh
                }
            };
            if !snap.exists() {
                continue;
            }
            let index = Beads::new(store).index(snap)?;
            for i in members {
                let bead = &mut out[i];
                match index.get(&bead.id) {
                    Some(row) => {
                        bead.status = index.status(row).to_string();
                        bead.title = index.title(row).to_string();
                        bead.priority = row.priority;
                        let who = index.assignee(row);
                        bead.assignee = (!who.is_empty()).then(|| who.to_string());
                        bead.ready = bead.assignee.is_none() && graph::is_ready(&index, row, now);
                    }
                    None => {
                        let deleted = records::read(snap, &record_path(&bead.id))?
                            .is_some_and(|r| r.is_deleted());
                        bead.status = if deleted { "deleted" } else { "missing" }.into();
                    }
                }
                if closed_now.contains(&bead.id) {
                    bead.status = "closed".into();
                    bead.ready = false;
                }
            }
        }
        Ok(out)
    }
}
