//! Molecule gates (`[steps.gate]` in a formula, kept as the step bead's `metadata.gate`
//! `{type, id, timeout}`): a step that waits for something outside the agent. Patrol closes
//! a ready gated step when its wait is over, which lets the molecule go on:
//!
//! - `timer`: `timeout` has passed since the step became ready (its last blocker closed,
//!   else since it was created);
//! - `human`: a person approved it (the label `approved`: `git bead label add STEP approved`);
//! - `bead`: the bead named by `id` is closed;
//! - `mail`: the message named by `id` has a reply in its thread.
//!
//! Other types (`gh:run`, `gh:pr`) are reported as waiting. A gate that is not over when its
//! `timeout` has passed is escalated once (category `gate_timeout`).

use chrono::{DateTime, Utc};

use super::{deacon, Acted, Finding, Pass};
use crate::bead::id::record_path;
use crate::bead::record::Record;
use crate::bead::rules::CloseSpec;
use crate::bead::Beads;
use crate::error::Result;
use crate::records;
use crate::store::Store;
use crate::town::settings::parse_duration;

/// A gate's wait, as the pass judges it now.
enum Wait {
    Over(String),
    Waiting,
    /// Not a type patrol can check.
    Unchecked,
}

pub(crate) fn gates(pass: &Pass<'_, '_>, store: &Store) -> Result<Vec<Finding>> {
    let mut out = Vec::new();
    let mut collections = vec![Beads::new(store)];
    if !store
        .refs_under(&Store::ref_name(crate::bead::WISP_COLLECTION))?
        .is_empty()
    {
        collections.push(Beads::wisps(store));
    }
    for beads in collections {
        let snap = beads.snapshot()?;
        let index = beads.index(&snap)?;
        // Gated steps are molecule steps (`<root>.<step>`), open and no longer blocked.
        let candidates: Vec<String> = index
            .rows
            .iter()
            .filter(|r| index.id(r).contains('.') && index.status(r) == "open")
            .filter(|r| !index.is_blocked(r))
            .map(|r| index.id(r).to_string())
            .collect();
        for id in candidates {
            let Some(step) = records::read(&snap, &record_path(&id))? else {
                continue;
            };
            let Some(gate) = step.get("metadata").and_then(|m| m.get("gate")).cloned() else {
                continue;
            };
            let kind = gate["type"].as_str().unwrap_or("").to_string();
            let target = gate["id"].as_str().unwrap_or("").to_string();
            let timeout = gate["timeout"].as_str().and_then(parse_duration);
            let since = ready_since(&snap, &step);
            let overdue = match (timeout, since) {
                (Some(t), Some(s)) => (pass.now - s).num_seconds() >= t as i64,
                _ => false,
            };
            let wait = match kind.as_str() {
                "timer" if timeout.is_some() && since.is_some() => match overdue {
                    true => Wait::Over("its timer elapsed".into()),
                    false => Wait::Waiting,
                },
                "timer" => Wait::Unchecked,
                "human" if step.label_names().any(|l| l == "approved") => {
                    Wait::Over("a person approved it".into())
                }
                "human" => Wait::Waiting,
                "bead" => match records::read(&snap, &record_path(&target))? {
                    Some(b) if b.status() == "closed" => Wait::Over(format!("{target} is closed")),
                    _ => Wait::Waiting,
                },
                "mail" => match crate::mail::Mail::new(pass.town).thread("overseer", &target) {
                    Ok(thread) if thread.len() > 1 => Wait::Over(format!("{target} has a reply")),
                    _ => Wait::Waiting,
                },
                _ => Wait::Unchecked,
            };
            match wait {
                Wait::Over(why) => {
                    let f = Finding::new("deacon", "gate", format!("{kind} gate: {why}"))
                        .bead(Some(&id))
                        .action("close-step");
                    let beads = &beads;
                    out.push(pass.act(f, || {
                        beads.close(
                            pass.actor,
                            std::slice::from_ref(&id),
                            &CloseSpec {
                                reason: Some(format!("gate: {why}")),
                                force: false,
                            },
                        )?;
                        Ok(Acted::Done(None))
                    }));
                }
                Wait::Waiting | Wait::Unchecked if overdue && kind != "timer" => {
                    if step.get("gate_escalated_at").is_some() {
                        continue;
                    }
                    let f = Finding::new(
                        "deacon",
                        "gate-timeout",
                        format!("{kind} gate still waits past its timeout"),
                    )
                    .bead(Some(&id))
                    .action("escalate");
                    out.push(pass.act(f, || {
                        let done = deacon::escalate(
                            pass,
                            "gate_timeout",
                            &format!("{id}: its {kind} gate is past its timeout"),
                            Some(&id),
                            &format!("patrol-gate-{id}"),
                        )?;
                        if beads.collection == crate::bead::COLLECTION {
                            deacon::mark_bead(pass, store, &id, "gate_escalated_at")?;
                        }
                        Ok(Acted::Done(Some(done)))
                    }));
                }
                Wait::Unchecked => out.push(
                    Finding::new(
                        "deacon",
                        "gate",
                        format!("a {kind} gate waits (patrol does not check this type)"),
                    )
                    .bead(Some(&id)),
                ),
                _ => {}
            }
        }
    }
    Ok(out)
}

/// When a step became ready: the latest close of the steps it needs, else its creation.
fn ready_since(snap: &crate::store::Snapshot<'_>, step: &Record) -> Option<DateTime<Utc>> {
    let parse = |t: &str| {
        DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    let mut latest: Option<DateTime<Utc>> = None;
    for (target, kind, _) in step.live_deps() {
        if kind != "blocks" {
            continue;
        }
        if let Ok(Some(blocker)) = records::read(snap, &record_path(target)) {
            if let Some(t) = blocker.str("closed_at").and_then(parse) {
                latest = Some(latest.map_or(t, |l| l.max(t)));
            }
        }
    }
    latest.or_else(|| step.str("created_at").and_then(parse))
}
