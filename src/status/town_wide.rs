//! The town-wide sections of the status: convoys with their progress, escalations by
//! severity and the board's advisory locks. Read through their services' read-only calls
//! (`Convoys::all` and `stranded`, `Escalations::list`, `Board::locks`): `git convoy list` lands complete convoys as it reads, and
//! status must never write, so it does not call it.

use std::collections::HashSet;

use serde::Serialize;

use super::problems::{Problem, ProblemKind};
use crate::board::{Board, Lock};
use crate::convoy::{Convoys, Progress};
use crate::error::Result;
use crate::escalate::{Escalation, Escalations, ListFilter};
use crate::town::Town;

/// An active convoy (open or staged) and how far along it is.
#[derive(Debug, Clone, Serialize)]
pub struct ConvoyLine {
    pub id: String,
    pub name: String,
    pub status: String,
    pub progress: Progress,
    /// Why nothing moves it (`ready`, `stuck`, `empty`), when it is stranded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stranded: Option<String>,
}

/// The active convoys (oldest first) and the problems of the stranded ones. A convoy whose
/// ready work is all in the scheduler's queue (`queued`) is moving: not stranded.
pub(super) fn convoys(
    town: &Town,
    queued: &HashSet<String>,
) -> Result<(Vec<ConvoyLine>, Vec<Problem>)> {
    let service = Convoys::new(town);
    let mut active: Vec<_> = service
        .all()?
        .into_iter()
        .filter(|c| c.is_active())
        .collect();
    if active.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    active.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
    let mut stranded = service.stranded()?;
    stranded.retain(|s| !(s.reason == "ready" && s.ready.iter().all(|b| queued.contains(b))));
    let locator = service.locator()?;
    let mut lines = Vec::with_capacity(active.len());
    for c in active {
        let mut states = locator.states(&c.beads, None, &HashSet::new())?;
        // Beads the convoy gave up on count as convoy `show` counts them.
        for s in states.iter_mut() {
            if c.skipped.contains(&s.id) {
                s.skipped = true;
            }
        }
        let why = stranded
            .iter()
            .find(|s| s.id == c.id)
            .map(|s| s.reason.clone());
        lines.push(ConvoyLine {
            progress: Progress::of(&states),
            stranded: why,
            id: c.id,
            name: c.name,
            status: c.status,
        });
    }
    let problems = stranded
        .iter()
        .map(|s| Problem {
            kind: ProblemKind::StrandedConvoy,
            subject: s.id.clone(),
            rig: None,
            bead: s.ready.first().cloned(),
            message: match s.reason.as_str() {
                "ready" => format!(
                    "convoy {} ({}) has ready work nobody is on ({}); `git sling` it or `git convoy launch {}`",
                    s.id,
                    s.name,
                    s.ready.join(", "),
                    s.id
                ),
                "empty" => format!("convoy {} ({}) tracks no beads", s.id, s.name),
                _ => format!(
                    "convoy {} ({}) has open work that is neither ready nor in anyone's hands",
                    s.id, s.name
                ),
            },
        })
        .collect();
    Ok((lines, problems))
}

/// Live advisory locks on the town's board.
pub(super) fn locks(town: &Town) -> Result<Vec<Lock>> {
    Board::new(town).locks()
}

/// Escalations not closed yet (open or acknowledged), counted by severity.
#[derive(Debug, Clone, Serialize)]
pub struct EscalationsSection {
    /// Not acknowledged by anyone yet.
    pub open: usize,
    pub acked: usize,
    /// `CRITICAL`, `HIGH`, `MEDIUM`, `LOW` → how many are open or acknowledged.
    pub by_severity: std::collections::BTreeMap<String, usize>,
    /// Most severe first, then oldest.
    pub list: Vec<Escalation>,
}

/// The town's escalations that are not closed, read through `Escalations::list`.
pub(super) fn escalations(town: &Town) -> Result<EscalationsSection> {
    let list = Escalations::new(town).list(&ListFilter::default())?;
    let mut by_severity = std::collections::BTreeMap::new();
    for e in &list {
        *by_severity
            .entry(e.severity.as_str().to_string())
            .or_insert(0) += 1;
    }
    Ok(EscalationsSection {
        open: list.iter().filter(|e| e.status == "open").count(),
        acked: list.iter().filter(|e| e.status == "acked").count(),
        by_severity,
        list,
    })
}
