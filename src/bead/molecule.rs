//! Molecules: a cooked formula poured into beads. The root is a bead of type `molecule`;
//! every step is a child bead `<root>.<step>`; `needs` become blocking dependencies, so the
//! steps come ready in order. Wisps are the same in the clone-local wisp collection.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::graph::not_ready_reason;
use super::id::record_path;
use super::index::Index;
use super::ops::{new_hash_id, Beads, NewBead, COUNT_HEADER};
use super::query::has_ancestor;
use super::record::{Record, Stamp};
use super::schema::{self, now_rfc3339};
use crate::error::{Error, Result};
use crate::formula::Cooked;
use crate::store::{Actor, Outcome, Snapshot, Store};

/// What a pour created; serialises as `{"molecule": ROOT, "steps": [STEP, ...]}` (records
/// without their comments).
#[derive(Debug, Clone, Serialize)]
pub struct Poured {
    #[serde(rename = "molecule", serialize_with = "record_summary")]
    pub root: Record,
    #[serde(serialize_with = "record_summaries")]
    pub steps: Vec<Record>,
}

fn record_summary<S: serde::Serializer>(record: &Record, s: S) -> Result<S::Ok, S::Error> {
    record.to_json(false).serialize(s)
}

fn record_summaries<S: serde::Serializer>(records: &[Record], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(records.iter().map(|r| r.to_json(false)))
}

fn optional_record_summary<S: serde::Serializer>(
    record: &Option<Record>,
    s: S,
) -> Result<S::Ok, S::Error> {
    record.as_ref().map(|r| r.to_json(false)).serialize(s)
}

/// Pour `cooked` as a molecule (a wisp in the clone-local store with `wisp`), bonded to the
/// work bead `on` (an id or unique prefix in the shared store) when given: the bead records
/// `attached_molecule`, `attached_formula` and `attached_at`. A persistent molecule and its
/// attachment are one commit; a wisp lives in another ref, so the attachment is the one
/// commit on the shared store.
pub fn pour_on(
    store: &Store,
    actor: &Actor,
    cooked: &Cooked,
    on: Option<&str>,
    wisp: bool,
) -> Result<Poured> {
    let main = Beads::new(store);
    let main_snap = main.snapshot()?;
    let config = main.config(&main_snap)?;
    let on = match on {
        Some(on) => Some(main.resolve(&main_snap, &config, on, &mut None)?),
        None => None,
    };
    if !wisp {
        return pour(&main, actor, cooked, on.as_deref());
    }
    let wisps = Beads::wisps(store);
    wisps.init(actor, &config.prefix)?;
    let poured = pour(&wisps, actor, cooked, on.as_deref())?;
    if let Some(on) = &on {
        store.write(main.collection, actor, |snap, batch| {
            let bead = attach(snap, batch, actor, on, &poured.root.id, &cooked.formula)?;
            super::ops::carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!("bead attach {on}: {}", bead.title()),
                value: (),
            })
        })?;
    }
    Ok(poured)
}

/// Turn a step id from a formula into an id component.
fn id_part(step: &str) -> String {
    step.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Pour `cooked` as a molecule in `beads` (the bead store, or the wisp store for a wisp),
/// in one commit. With `on`, the molecule is bonded to that bead of the main store: the bead
/// records `attached_molecule` / `attached_formula` (in the same commit for a persistent
/// molecule).
pub fn pour(beads: &Beads<'_>, actor: &Actor, cooked: &Cooked, on: Option<&str>) -> Result<Poured> {
    let wisp = beads.collection != super::COLLECTION;
    if cooked.steps.is_empty() {
        return Err(Error::invalid(format!(
            "formula {} has no steps to pour",
            cooked.formula
        )));
    }
    beads.store.write(beads.collection, actor, |snap, batch| {
        let config = beads.config(snap)?;
        let now = chrono::Utc::now();
        let count: usize = snap
            .header(COUNT_HEADER)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let infix = if wisp { "-wisp" } else { "-mol" };
        let seed = format!(
            "{}|{}|{}|{:?}",
            cooked.formula,
            actor.name,
            now.timestamp_nanos_opt().unwrap_or(0),
            cooked.vars
        );
        let root_id = new_hash_id(
            snap,
            &format!("{}{infix}", config.prefix),
            &seed,
            count + 1,
            &HashSet::new(),
        )?;
        let mut metadata = Map::new();
        metadata.insert("formula".into(), json!(cooked.formula));
        metadata.insert("formula_kind".into(), json!(cooked.kind));
        metadata.insert("source".into(), json!(cooked.source));
        metadata.insert("vars".into(), json!(cooked.vars));
        metadata.insert("steps".into(), json!(cooked.steps.len()));
        if let Some(on) = on {
            metadata.insert("on".into(), json!(on));
        }
        let mut fields = Map::new();
        fields.insert("issue_type".into(), json!("molecule"));
        fields.insert("mol_type".into(), json!(if wisp { "wisp" } else { "work" }));
        fields.insert("source_formula".into(), json!(cooked.formula));
        fields.insert("description".into(), json!(cooked.description));
        fields.insert("metadata".into(), Value::Object(metadata));
        if wisp {
            fields.insert("ephemeral".into(), json!(true));
        }
        let mut plan = vec![NewBead {
            id: Some(root_id.clone()),
            title: cooked.formula.clone(),
            fields,
            labels: vec![format!("formula:{}", cooked.formula)],
            parent: None,
            deps: Vec::new(),
        }];
        let step_id = |step: &str| format!("{root_id}.{}", id_part(step));
        for (i, step) in cooked.steps.iter().enumerate() {
            let mut fields = Map::new();
            for (key, value) in [
                ("description", &step.description),
                ("acceptance_criteria", &step.acceptance),
                ("notes", &step.notes),
            ] {
                if !value.is_empty() {
                    fields.insert(key.into(), json!(value));
                }
            }
            let mut metadata = step.metadata.clone();
            metadata.insert("step".into(), json!(step.id));
            metadata.insert("molecule".into(), json!(root_id));
            match schema::normalize_type(&step.issue_type, &config.types) {
                Ok(t) => {
                    fields.insert("issue_type".into(), json!(t));
                }
                Err(_) => {
                    metadata.insert("step_type".into(), json!(step.issue_type));
                }
            }
            if let Some(p) = step.priority {
                fields.insert("priority".into(), json!(p));
            }
            if let Some(a) = &step.assignee {
                fields.insert("assignee".into(), json!(a));
            }
            if wisp {
                fields.insert("ephemeral".into(), json!(true));
            }
            fields.insert("metadata".into(), Value::Object(metadata));
            // Distinct creation times (the index keeps milliseconds) keep the formula order.
            let created = now + chrono::Duration::milliseconds(i as i64 + 1);
            fields.insert(
                "created_at".into(),
                json!(created.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
            );
            plan.push(NewBead {
                id: Some(step_id(&step.id)),
                title: step.title.clone(),
                fields,
                labels: step.labels.clone(),
                parent: Some(
                    step.parent
                        .as_deref()
                        .map(step_id)
                        .unwrap_or_else(|| root_id.clone()),
                ),
                deps: step
                    .needs
                    .iter()
                    .map(|n| (step_id(n), "blocks".to_string()))
                    .collect(),
            });
        }
        let mut created = beads.create_in(snap, batch, actor, &plan, "")?;
        if let (Some(on), false) = (on, wisp) {
            attach(snap, batch, actor, on, &root_id, &cooked.formula)?;
        }
        let root = created.remove(0);
        Ok(Outcome::Commit {
            message: format!(
                "mol {} {root_id}: {} ({} steps)",
                if wisp { "wisp" } else { "pour" },
                cooked.formula,
                created.len()
            ),
            value: Poured {
                root,
                steps: created,
            },
        })
    })
}

/// Record on the work bead which molecule runs it; returns the changed bead.
pub fn attach(
    snap: &Snapshot<'_>,
    batch: &mut crate::store::WriteBatch,
    actor: &Actor,
    on: &str,
    root: &str,
    formula: &str,
) -> Result<Record> {
    let bytes = snap
        .read(&record_path(on))?
        .ok_or_else(|| Error::NotFound(on.to_string()))?;
    let mut record = Record::parse(&bytes)?;
    if record.is_deleted() {
        return Err(Error::invalid(format!("bead {on} was deleted")));
    }
    let stamp = Stamp(batch.clock, actor.name.clone());
    let now = now_rfc3339();
    record.set("attached_molecule", json!(root), &stamp);
    record.set("attached_formula", json!(formula), &stamp);
    record.set("attached_at", json!(now), &stamp);
    record.set("updated_at", json!(now), &stamp);
    batch.put(record_path(on), record.to_bytes());
    Ok(record)
}

/// The rows of a molecule's steps (all descendants of the root), oldest first.
pub fn step_rows(index: &Index, root: &str) -> Vec<usize> {
    let mut rows: Vec<usize> = (0..index.len())
        .filter(|&i| has_ancestor(index, &index.rows[i], root))
        .collect();
    rows.sort_by_key(|&i| (index.rows[i].created_ms, i));
    rows
}

/// A step is ready like any bead, except that a wisp's steps are ephemeral by design.
fn step_ready(index: &Index, row: &super::index::Row, now_ms: i64) -> bool {
    match not_ready_reason(index, row, now_ms) {
        None => true,
        Some(reason) => reason == "ephemeral",
    }
}

/// Rows that are the parent of some open row (containers still in progress).
fn open_containers(index: &Index, rows: &[usize]) -> HashSet<u32> {
    rows.iter()
        .filter(|&&i| index.status(&index.rows[i]) != "closed")
        .map(|&i| index.rows[i].parent)
        .collect()
}

/// Where a molecule stands: every step with its state (`done`, `current`, `ready`,
/// `blocked`, `pending`), progress counts and the next ready steps.
pub fn progress(index: &Index, root: &str, now_ms: i64) -> Result<Value> {
    let Some(root_row) = index.get(root) else {
        return Err(Error::NotFound(root.to_string()));
    };
    let rows = step_rows(index, root);
    let containers = open_containers(index, &rows);
    let mut steps = Vec::new();
    let mut next = Vec::new();
    let mut done = 0;
    for &i in &rows {
        let row = &index.rows[i];
        let status = index.status(row);
        let state = match status {
            "closed" => "done",
            "in_progress" | "hooked" => "current",
            "open" if containers.contains(&(i as u32)) => "pending",
            "open" if step_ready(index, row, now_ms) => "ready",
            "open" if index.is_blocked(row) => "blocked",
            _ => "pending",
        };
        if state == "done" {
            done += 1;
        }
        if state == "ready" {
            next.push(index.id(row).to_string());
        }
        let mut step = json!({
            "id": index.id(row),
            "title": index.title(row),
            "status": status,
            "state": state,
        });
        if !index.assignee(row).is_empty() {
            step["assignee"] = json!(index.assignee(row));
        }
        let needs: Vec<&str> = index
            .deps(row)
            .filter(|(_, k, _)| *k == "blocks")
            .map(|(t, _, _)| t)
            .collect();
        if !needs.is_empty() {
            step["needs"] = json!(needs);
        }
        if row.parent != super::index::NONE && index.id(&index.rows[row.parent as usize]) != root {
            step["parent"] = json!(index.id(&index.rows[row.parent as usize]));
        }
        steps.push(step);
    }
    Ok(json!({
        "molecule": {
            "id": root,
            "title": index.title(root_row),
            "status": index.status(root_row),
        },
        "progress": {"done": done, "total": rows.len()},
        "complete": done == rows.len(),
        "next": next,
        "steps": steps,
    }))
}

/// Which store and full id a molecule argument names.
pub fn find<'s>(store: &'s Store, mol: &str) -> Result<(Beads<'s>, String)> {
    let beads = Beads::for_id(store, mol);
    let snap = beads.snapshot()?;
    let config = beads.config(&snap)?;
    let id = beads.resolve(&snap, &config, mol, &mut None)?;
    let record = beads.load(&snap, &id)?;
    if record.issue_type() != "molecule" {
        return Err(Error::invalid(format!(
            "{id} is not a molecule (its type is {})",
            record.issue_type()
        )));
    }
    Ok((beads, id))
}

/// The molecule the actor has a step in progress in, else the newest open molecule.
pub fn current<'s>(store: &'s Store, actor: &Actor) -> Result<(Beads<'s>, String)> {
    let mut newest: Option<(i64, &'static str, String)> = None;
    for collection in [super::COLLECTION, super::WISP_COLLECTION] {
        let beads = Beads { store, collection };
        let Ok(snap) = beads.snapshot() else { continue };
        let index: Index = beads.index(&snap)?;
        for row in &index.rows {
            let status = index.status(row);
            if index.assignee(row) == actor.name && (status == "in_progress" || status == "hooked")
            {
                if let Some(mol) = molecule_of(&index, index.id(row)) {
                    if index
                        .get(&mol)
                        .is_some_and(|r| index.issue_type(r) == "molecule")
                    {
                        return Ok((beads, mol));
                    }
                }
            }
            if index.issue_type(row) == "molecule"
                && status != "closed"
                && newest.as_ref().is_none_or(|(t, _, _)| row.created_ms > *t)
            {
                newest = Some((row.created_ms, collection, index.id(row).to_string()));
            }
        }
    }
    match newest {
        Some((_, collection, id)) => Ok((Beads { store, collection }, id)),
        None => Err(Error::invalid(
            "no molecule in progress; pour one with `git mol pour FORMULA`",
        )),
    }
}

/// The molecule a bead belongs to: its nearest ancestor of type `molecule`, else its parent.
pub fn molecule_of(index: &Index, id: &str) -> Option<String> {
    let row = index.get(id)?;
    let mut cur = row.parent;
    let mut hops = 0;
    let mut first = None;
    while cur != super::index::NONE && hops <= index.len() {
        let parent = &index.rows[cur as usize];
        first.get_or_insert_with(|| index.id(parent).to_string());
        if index.issue_type(parent) == "molecule" {
            return Some(index.id(parent).to_string());
        }
        cur = parent.parent;
        hops += 1;
    }
    first
}

/// Where `close --continue` left a molecule. Fields in alphabetical order, as bd's JSON
/// has them.
#[derive(Debug, Clone, Serialize)]
pub struct Continued {
    pub auto_advanced: bool,
    pub closed_step: String,
    pub molecule_complete: bool,
    pub molecule_id: Option<String>,
    /// The step now claimed for the actor.
    #[serde(serialize_with = "optional_record_summary")]
    pub next_step: Option<Record>,
}

/// `close STEP... --continue`: close the steps (one commit, `Beads::close`), then advance
/// the molecule of the last one (a second commit, which sees the step closed).
pub fn close_and_continue(
    beads: &Beads<'_>,
    actor: &Actor,
    ids: &[String],
    spec: &super::CloseSpec,
    now_ms: i64,
) -> Result<Continued> {
    let closed = beads.close(actor, ids, spec)?;
    let last = closed
        .last()
        .ok_or_else(|| Error::invalid("no bead id given"))?;
    continue_after_close(beads, actor, &last.id, now_ms)
}

/// `close --continue`, after `step` was closed: close containers whose steps are all closed,
/// then either close the molecule (every step closed) or claim its next ready step for
/// `actor`. One commit; bd's JSON shape.
pub fn continue_after_close(
    beads: &Beads<'_>,
    actor: &Actor,
    step: &str,
    now_ms: i64,
) -> Result<Continued> {
    beads.store.write(beads.collection, actor, |snap, batch| {
        let index = beads.index(snap)?;
        let answer = |next: Option<Record>, complete: bool, mol: &Option<String>| Continued {
            auto_advanced: next.is_some(),
            closed_step: step.to_string(),
            molecule_complete: complete,
            molecule_id: mol.clone(),
            next_step: next,
        };
        let molecule = molecule_of(&index, step);
        let Some(mol) = molecule.clone() else {
            return Ok(Outcome::Unchanged(answer(None, false, &None)));
        };
        let stamp = Stamp(batch.clock, actor.name.clone());
        let rows = step_rows(&index, &mol);
        let mut closed: HashSet<usize> = rows
            .iter()
            .copied()
            .filter(|&i| index.status(&index.rows[i]) == "closed")
            .collect();
        let mut touched = Vec::new();
        // Close finished containers, innermost first (rows are sorted parents-first).
        for &i in rows.iter().rev() {
            if closed.contains(&i) {
                continue;
            }
            let children: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|&c| index.rows[c].parent as usize == i)
                .collect();
            if !children.is_empty() && children.iter().all(|c| closed.contains(c)) {
                closed.insert(i);
                touched.push((
                    index.id(&index.rows[i]).to_string(),
                    "all child steps closed",
                ));
            }
        }
        let complete = rows.iter().all(|i| closed.contains(i));
        if complete && index.get(&mol).is_some_and(|r| index.status(r) != "closed") {
            touched.push((mol.clone(), "all steps closed"));
        }
        for (id, reason) in &touched {
            let mut record = beads.load(snap, id)?;
            record.set("status", json!("closed"), &stamp);
            record.set("closed_at", json!(now_rfc3339()), &stamp);
            record.set("close_reason", json!(reason), &stamp);
            record.set("updated_at", json!(now_rfc3339()), &stamp);
            batch.put(record_path(id), record.to_bytes());
        }
        let mut next = None;
        if !complete {
            let containers: HashSet<u32> = rows
                .iter()
                .filter(|i| !closed.contains(i))
                .map(|&i| index.rows[i].parent)
                .collect();
            let candidate = rows.iter().copied().find(|&i| {
                let row = &index.rows[i];
                !closed.contains(&i)
                    && !containers.contains(&(i as u32))
                    && step_ready(&index, row, now_ms)
                    && (index.assignee(row).is_empty() || index.assignee(row) == actor.name)
            });
            if let Some(i) = candidate {
                let id = index.id(&index.rows[i]).to_string();
                let mut record = beads.load(snap, &id)?;
                record.set("assignee", json!(actor.name), &stamp);
                record.set("status", json!("in_progress"), &stamp);
                if record.get("started_at").is_none() {
                    record.set("started_at", json!(now_rfc3339()), &stamp);
                }
                record.set("updated_at", json!(now_rfc3339()), &stamp);
                batch.put(record_path(&id), record.to_bytes());
                next = Some(record);
                touched.push((id, "claimed"));
            }
        }
        let value = answer(next, complete, &molecule);
        if touched.is_empty() {
            return Ok(Outcome::Unchanged(value));
        }
        super::ops::carry_count(snap, batch, 0);
        let ids: Vec<&str> = touched.iter().map(|(id, _)| id.as_str()).collect();
        Ok(Outcome::Commit {
            message: format!("mol continue {mol}: {}", ids.join(", ")),
            value,
        })
    })
}

/// Every bead of a molecule (root first, then steps), read from `snap`.
pub fn members(
    beads: &Beads<'_>,
    snap: &Snapshot<'_>,
    index: &Index,
    root: &str,
) -> Result<Vec<Record>> {
    let mut out = vec![beads.load(snap, root)?];
    for i in step_rows(index, root) {
        out.push(Record::parse(&snap.read_blob(index.rows[i].blob)?)?);
    }
    Ok(out)
}

/// Discard a molecule: tombstone the root and every step, in one commit.
pub fn burn(beads: &Beads<'_>, actor: &Actor, root: &str) -> Result<usize> {
    beads.store.write(beads.collection, actor, |snap, batch| {
        let index = beads.index(snap)?;
        let members = members(beads, snap, &index, root)?;
        let stamp = Stamp(batch.clock, actor.name.clone());
        let mut n = 0;
        for mut record in members {
            if record.is_deleted() {
                continue;
            }
            record.deleted = Some(stamp.clone());
            batch.put(record_path(&record.id), record.to_bytes());
            n += 1;
        }
        if n == 0 {
            return Ok(Outcome::Unchanged(0));
        }
        super::ops::carry_count(snap, batch, 0);
        Ok(Outcome::Commit {
            message: format!("mol burn {root}: {n} beads"),
            value: n,
        })
    })
}

/// The digest text of a molecule: one line per step with its state and close reason.
pub fn digest_text(members: &[Record]) -> String {
    let mut out = String::new();
    for step in members.iter().skip(1) {
        let mark = if step.status() == "closed" { "x" } else { " " };
        out.push_str(&format!("- [{mark}] {}: {}", step.id, step.title()));
        if let Some(reason) = step.str("close_reason") {
            out.push_str(&format!(" — {reason}"));
        }
        out.push('\n');
    }
    out
}

/// Squash a molecule into one closed digest bead in the main store that summarises its steps;
/// the molecule's beads are then closed (`keep`) or tombstoned. Returns the digest.
pub fn squash(
    beads: &Beads<'_>,
    main: &Beads<'_>,
    actor: &Actor,
    root: &str,
    summary: Option<&str>,
    keep: bool,
) -> Result<Record> {
    let snap = beads.snapshot()?;
    let index = beads.index(&snap)?;
    let members = members(beads, &snap, &index, root)?;
    let done = members
        .iter()
        .skip(1)
        .filter(|r| r.status() == "closed")
        .count();
    let total = members.len() - 1;
    let formula = members[0].str("source_formula").unwrap_or("").to_string();
    let mut description = String::new();
    if let Some(summary) = summary {
        description.push_str(summary.trim());
        description.push_str("\n\n");
    }
    description.push_str(&format!(
        "Squashed molecule {root} ({formula}): {done}/{total} steps closed.\n\n"
    ));
    description.push_str(&digest_text(&members));
    let mut fields = Map::new();
    fields.insert("issue_type".into(), json!("event"));
    fields.insert("status".into(), json!("closed"));
    fields.insert("close_reason".into(), json!(format!("digest of {root}")));
    fields.insert("description".into(), json!(description));
    fields.insert(
        "metadata".into(),
        json!({"molecule": root, "formula": formula, "steps": total, "closed_steps": done}),
    );
    let digest_bead = NewBead {
        title: format!("Digest: {}", members[0].title()),
        fields,
        labels: vec!["digest".into(), format!("formula:{formula}")],
        ..NewBead::default()
    };
    let same_store = beads.collection == main.collection;
    let digest = main.store.write(main.collection, actor, |snap, batch| {
        let mut created =
            main.create_in(snap, batch, actor, std::slice::from_ref(&digest_bead), "")?;
        if same_store {
            let stamp = Stamp(batch.clock, actor.name.clone());
            for record in &members {
                let mut record = beads.load(snap, &record.id)?;
                retire(&mut record, &stamp, keep, root);
                batch.put(record_path(&record.id), record.to_bytes());
            }
        }
        let digest = created.remove(0);
        Ok(Outcome::Commit {
            message: format!("mol squash {root}: digest {}", digest.id),
            value: digest,
        })
    })?;
    if !same_store {
        // A wisp: its beads live in the local store, retired in a second commit there.
        beads.modify(
            actor,
            "squash",
            &members.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
            false,
            |edit| {
                retire(edit.record, edit.stamp, keep, root);
                Ok(true)
            },
        )?;
    }
    Ok(digest)
}

fn retire(record: &mut Record, stamp: &Stamp, keep: bool, root: &str) {
    if keep {
        if record.status() != "closed" {
            record.set("status", json!("closed"), stamp);
            record.set("closed_at", json!(now_rfc3339()), stamp);
            record.set(
                "close_reason",
                json!(format!("squashed with {root}")),
                stamp,
            );
        }
    } else {
        record.deleted.get_or_insert_with(|| stamp.clone());
    }
    record.set("updated_at", json!(now_rfc3339()), stamp);
}
