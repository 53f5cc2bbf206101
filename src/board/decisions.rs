//! Decisions, numbered as architecture decision records (`ADR-001`, ...): what was decided,
//! why, in what context, by whom, and where it has been told since (`propagated_to`: the
//! bulletin posts that carried it, e.g. a convoy's landing summary).
//!
//! A record is named by a random id and carries its number, so two clones deciding at once
//! keep both decisions after sync; should they have taken one number, the one created
//! first keeps it and the other shows as `ADR-NNN.2` (docs/BOARD.md).

use std::sync::atomic::{AtomicU32, Ordering};

use serde::Serialize;
use serde_json::{json, Value};

use super::{Board, COLLECTION};
use crate::bead::record::{Origin, Record, Stamp};
use crate::error::{Error, Result};
use crate::records;
use crate::store::{Actor, Outcome, Snapshot};

/// A decision as readers see it (the seed's DECISIONS.json shape, plus the title).
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub id: String,
    pub title: String,
    /// When it was recorded (RFC 3339).
    pub date: String,
    pub context: String,
    pub decision: String,
    pub rationale: String,
    /// Who recorded it.
    pub source: String,
    /// Where it has been told: bulletin post ids.
    pub propagated_to: Vec<String>,
    #[serde(skip)]
    pub(crate) record_id: String,
    #[serde(skip)]
    pub(crate) number: u64,
}

/// What `decide` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Decided {
    #[serde(flatten)]
    pub decision: Decision,
}

const MAX_FIELD_BYTES: usize = 16 << 10;

fn check_text(what: &str, text: &str, required: bool) -> Result<()> {
    if required && text.trim().is_empty() {
        return Err(Error::invalid(format!("the {what} is empty")));
    }
    if text.len() > MAX_FIELD_BYTES {
        return Err(Error::invalid(format!(
            "the {what} has {} bytes, at most {MAX_FIELD_BYTES}",
            text.len()
        )));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Error::invalid(format!("the {what} has control characters")));
    }
    Ok(())
}

fn new_id(seed: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let seed = format!("{seed}|{nanos}|{}|{n}", std::process::id());
    crate::bead::id::hash_id("d", &seed, 0, 10)
}

fn strings(record: &Record, key: &str) -> Vec<String> {
    record
        .get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Every decision of a snapshot, in number order, with display ids.
pub(crate) fn list(snap: &Snapshot<'_>) -> Result<Vec<Decision>> {
    let mut rows: Vec<(Origin, Decision)> = Vec::new();
    for (_, record) in records::list(snap, "decisions")? {
        if record.is_deleted() {
            continue;
        }
        let number = record.get("number").and_then(Value::as_u64).unwrap_or(0);
        let text = |k: &str| record.str(k).unwrap_or("").to_string();
        rows.push((
            record.origin.clone(),
            Decision {
                id: String::new(),
                title: text("title"),
                date: text("date"),
                context: text("context"),
                decision: text("decision"),
                rationale: text("rationale"),
                source: text("source"),
                propagated_to: strings(&record, "propagated_to"),
                record_id: record.id.clone(),
                number,
            },
        ));
    }
    rows.sort_by(|(oa, a), (ob, b)| (a.number, oa).cmp(&(b.number, ob)));
    let mut out: Vec<Decision> = Vec::with_capacity(rows.len());
    let mut repeat = 1;
    for (_, mut d) in rows {
        repeat = match out.last() {
            Some(prev) if prev.number == d.number => repeat + 1,
            _ => 1,
        };
        d.id = if repeat == 1 {
            format!("ADR-{:03}", d.number)
        } else {
            format!("ADR-{:03}.{repeat}", d.number)
        };
        out.push(d);
    }
    Ok(out)
}

/// Record `decision` records as propagated to `target` (a post id), in `batch`.
pub(crate) fn mark_propagated(
    snap: &Snapshot<'_>,
    batch: &mut crate::store::WriteBatch,
    decision: &Decision,
    target: &str,
    stamp: &Stamp,
) -> Result<()> {
    let path = format!("decisions/{}.json", decision.record_id);
    if let Some(mut record) = records::read(snap, &path)? {
        let mut to = strings(&record, "propagated_to");
        if !to.iter().any(|t| t == target) {
            to.push(target.to_string());
            record.set("propagated_to", json!(to), stamp);
            records::put(batch, &path, &record);
        }
    }
    Ok(())
}

impl Board<'_> {
    /// Record a decision; it takes the next ADR number.
    pub fn decide(
        &self,
        actor: &Actor,
        title: &str,
        decision: &str,
        rationale: &str,
        context: &str,
    ) -> Result<Decided> {
        let title = title.trim();
        check_text("title", title, true)?;
        if title.contains('\n') || title.chars().count() > 200 {
            return Err(Error::invalid(
                "the title must be one line of at most 200 characters",
            ));
        }
        check_text("decision (--decision)", decision, true)?;
        check_text("rationale (--rationale)", rationale, true)?;
        check_text("context (--context)", context, false)?;
        self.store.write(COLLECTION, actor, |snap, batch| {
            let existing = list(snap)?;
            let number = existing.iter().map(|d| d.number).max().unwrap_or(0) + 1;
            let stamp = Stamp(batch.clock, actor.name.clone());
            let mut id = new_id(&actor.name);
            while snap.read(&format!("decisions/{id}.json"))?.is_some() {
                id = new_id(&actor.name);
            }
            let mut record = Record::new(
                id.clone(),
                Origin {
                    at: stamp.clone(),
                    nonce: String::new(),
                },
            );
            let date = crate::bead::schema::now_rfc3339();
            for (k, v) in [
                ("number", json!(number)),
                ("title", json!(title)),
                ("date", json!(date)),
                ("context", json!(context.trim())),
                ("decision", json!(decision.trim())),
                ("rationale", json!(rationale.trim())),
                ("source", json!(actor.name)),
            ] {
                record.set(k, v, &stamp);
            }
            records::put(batch, &format!("decisions/{id}.json"), &record);
            let shown = Decision {
                id: format!("ADR-{number:03}"),
                title: title.to_string(),
                date,
                context: context.trim().to_string(),
                decision: decision.trim().to_string(),
                rationale: rationale.trim().to_string(),
                source: actor.name.clone(),
                propagated_to: Vec::new(),
                record_id: id,
                number,
            };
            Ok(Outcome::Commit {
                message: format!("board decide ADR-{number:03}: {title}"),
                value: Decided { decision: shown },
            })
        })
    }

    /// Every decision, oldest first.
    pub fn decisions(&self) -> Result<Vec<Decision>> {
        list(&self.snapshot()?)
    }

    /// The `n` most recent decisions, newest first (what prime shows).
    pub fn recent_decisions(&self, n: usize) -> Result<Vec<Decision>> {
        let mut all = self.decisions()?;
        all.reverse();
        all.truncate(n);
        Ok(all)
    }
}
