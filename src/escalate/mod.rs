//! Escalations (docs/ESCALATION.md): a problem an agent, the merge queue or patrol cannot
//! solve, raised to the people above it. Each is a record in the town store
//! (`escalations/<id>.json`, work collection) with a severity (CRITICAL P0 .. LOW P3), an
//! optional category and bead, and a life of open → acked → closed.
//!
//! Raising one is the record's write, then its **routing** (route.rs): the severity's routes
//! from town settings (`escalation.routes.*`: mail to addresses, the notify command), then a
//! write recording what was delivered. The record is the fact; routing follows it and is
//! safe to redo: mail goes out with an id derived from the escalation id and its bump
//! number, so a retry after a crash finds it sent, and a routing never recorded is finished
//! by the next `stale` (patrol). `stale` bumps unacknowledged escalations one severity up
//! after `escalation.stale_threshold`, at most `escalation.max_reescalations` times, and
//! routes the new severity.

pub mod notify;
pub mod route;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use crate::bead::ops::carry_count;
use crate::bead::record::{Origin, Record, Stamp};
use crate::bead::schema::now_rfc3339;
use crate::bead::{Beads, COLLECTION};
use crate::error::{Error, Result};
use crate::records;
use crate::store::{Actor, Outcome, Snapshot, Store};
use crate::town::{settings, Town};

pub use route::Delivery;

/// Where escalation records live in the town store's work collection.
pub const DIR: &str = "escalations";

/// The categories Gas Town designed (gastown.md §8).
pub const CATEGORIES: [&str; 7] = [
    "decision",
    "help",
    "blocked",
    "failed",
    "emergency",
    "gate_timeout",
    "lifecycle",
];

pub const OPEN: &str = "open";
pub const ACKED: &str = "acked";
pub const CLOSED: &str = "closed";

/// Limits that keep an escalation a note for a person (the summary becomes a mail subject).
const MAX_SUMMARY_CHARS: usize = 180;
const MAX_BODY_BYTES: usize = 64 << 10;

/// How urgent: CRITICAL (P0) .. LOW (P3). Ordered most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Severity {
    Critical,
    High,
    /// Gas Town's default.
    #[default]
    Medium,
    Low,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    /// `CRITICAL`, `high`, `P1`, `1`: any case, or the priority it maps to.
    pub fn parse(text: &str) -> Result<Severity> {
        let t = text.trim().to_ascii_uppercase();
        let by_priority = t.strip_prefix('P').unwrap_or(&t);
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str() == t || by_priority == s.priority().to_string())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown severity '{}': use CRITICAL, HIGH, MEDIUM or LOW",
                    text.escape_debug()
                ))
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
        }
    }

    /// Its bead priority: CRITICAL 0 .. LOW 3.
    pub fn priority(self) -> u8 {
        self as u8
    }

    /// One step more urgent; `None` for CRITICAL.
    pub fn up(self) -> Option<Severity> {
        match self {
            Severity::Critical => None,
            Severity::High => Some(Severity::Critical),
            Severity::Medium => Some(Severity::High),
            Severity::Low => Some(Severity::Medium),
        }
    }

    /// The priority of its mail.
    pub fn mail_priority(self) -> &'static str {
        crate::mail::PRIORITIES[self as usize]
    }

    /// The setting naming where it is routed.
    pub fn routes_key(self) -> String {
        format!("escalation.routes.{}", self.as_str().to_ascii_lowercase())
    }
}

impl Serialize for Severity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What to escalate.
#[derive(Debug, Clone, Default)]
pub struct EscalationSpec {
    pub severity: Severity,
    /// One line: it becomes the subject of its mail.
    pub summary: String,
    pub body: String,
    /// One of [`CATEGORIES`].
    pub category: Option<String>,
    /// A bead it is about (a unique prefix will do; found in the town or a rig by prefix).
    pub bead: Option<String>,
    /// A merge request it is about (the merge queue's escalations).
    pub mr: Option<String>,
    /// The rig it is about.
    pub rig: Option<String>,
    /// Who raises it as a mail sender (an agent address); default: the actor's name.
    pub from: Option<String>,
    /// Makes creation idempotent: the id derives from the key, and creating it again
    /// returns the existing escalation (`created: false`) without a new record. For
    /// automatic escalations (an MR's max retries, a polecat's repeated deaths).
    pub key: Option<String>,
}

/// One re-escalation: from, to, when, by whom.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Bump {
    pub number: u32,
    pub from: Severity,
    pub to: Severity,
    pub at: String,
    pub by: String,
}

/// An escalation as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Escalation {
    pub id: String,
    pub severity: Severity,
    /// 0 (CRITICAL) .. 3 (LOW).
    pub priority: u8,
    pub summary: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bead: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rig: Option<String>,
    /// open, acked or closed.
    pub status: String,
    pub from: String,
    pub escalated_by: String,
    pub escalated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acked_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acked_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_reason: Option<String>,
    pub original_severity: Severity,
    pub reescalation_count: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_reescalated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_reescalated_by: Option<String>,
    pub bumps: Vec<Bump>,
    /// What each routing delivered: one per severity it had (bump 0 = as raised).
    pub deliveries: Vec<Delivery>,
}

impl Escalation {
    /// The routing of its current severity has not been recorded (a crash, or in progress).
    pub fn routing_pending(&self) -> bool {
        !self
            .deliveries
            .iter()
            .any(|d| d.bump == self.reescalation_count)
    }

    /// The delivery of its current severity, once recorded.
    pub fn current_delivery(&self) -> Option<&Delivery> {
        self.deliveries
            .iter()
            .find(|d| d.bump == self.reescalation_count)
    }
}

/// What `create` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Escalated {
    #[serde(flatten)]
    pub escalation: Escalation,
    /// False when `key` named an escalation that already existed.
    pub created: bool,
}

/// What `ack` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Acked {
    #[serde(flatten)]
    pub escalation: Escalation,
    /// False when it was already acknowledged.
    pub changed: bool,
}

/// One re-escalation made by `stale`.
#[derive(Debug, Clone, Serialize)]
pub struct Bumped {
    pub id: String,
    pub summary: String,
    pub from: Severity,
    pub to: Severity,
    pub reescalation_count: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
}

/// What `stale` did.
#[derive(Debug, Clone, Serialize, Default)]
pub struct StaleReport {
    pub threshold_secs: u64,
    pub max_reescalations: u64,
    /// Unacknowledged escalations looked at.
    pub checked: usize,
    pub bumped: Vec<Bumped>,
    /// Escalations whose routing a crash had left unrecorded, routed now.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repaired: Vec<Delivery>,
    /// Past the threshold but already bumped `max_reescalations` times (or CRITICAL).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub at_max: Vec<String>,
    /// Set with `dry_run`: what would be bumped; nothing was written or sent.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
}

/// Which escalations `list` shows.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub severity: Option<Severity>,
    /// Only open (not acknowledged, not closed) ones.
    pub unacked: bool,
    /// Closed ones too.
    pub all: bool,
}

/// The town's escalations.
pub struct Escalations<'t> {
    pub town: &'t Town,
    store: &'t Store,
}

pub fn path_of(id: &str) -> String {
    format!("{DIR}/{id}.json")
}

fn parse_category(text: &str) -> Result<String> {
    let t = text.trim().to_ascii_lowercase().replace('-', "_");
    if CATEGORIES.contains(&t.as_str()) {
        Ok(t)
    } else {
        Err(Error::invalid(format!(
            "unknown category '{}': use {}",
            text.escape_debug(),
            CATEGORIES.join(", ")
        )))
    }
}

/// Check what needs no store: one line naming what is wrong.
fn validate(spec: &EscalationSpec) -> Result<()> {
    let summary = spec.summary.trim();
    if summary.is_empty() {
        return Err(Error::invalid(
            "the summary is empty: say what needs attention",
        ));
    }
    if summary.chars().any(char::is_control) {
        return Err(Error::invalid(
            "the summary must be one line without control characters (details go in -m BODY)",
        ));
    }
    let n = summary.chars().count();
    if n > MAX_SUMMARY_CHARS {
        return Err(Error::invalid(format!(
            "the summary has {n} characters, at most {MAX_SUMMARY_CHARS} (details go in -m BODY)"
        )));
    }
    if spec.body.len() > MAX_BODY_BYTES {
        return Err(Error::invalid(format!(
            "the body has {} bytes, at most {MAX_BODY_BYTES}",
            spec.body.len()
        )));
    }
    if let Some(c) = &spec.category {
        parse_category(c)?;
    }
    Ok(())
}

/// A fresh id: `esc-` and eight base-36 characters.
fn new_id(seed: &str, nonce: u32) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let seed = format!("{seed}|{nanos}|{}", std::process::id());
    crate::bead::id::hash_id("esc", &seed, nonce, 8)
}

/// The id an idempotency key gives.
pub fn keyed_id(key: &str, nonce: u32) -> String {
    crate::bead::id::hash_id("esc", &format!("keyed|{key}"), nonce, 8)
}

/// Seconds since an RFC 3339 time (0 when it does not parse or is in the future).
fn age_secs(at: &str, now: chrono::DateTime<chrono::Utc>) -> u64 {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| {
            (now - t.with_timezone(&chrono::Utc))
                .num_milliseconds()
                .max(0) as u64
                / 1000
        })
        .unwrap_or(0)
}

impl<'t> Escalations<'t> {
    pub fn new(town: &'t Town) -> Self {
        Escalations {
            town,
            store: &town.store,
        }
    }

    pub fn snapshot(&self) -> Result<Snapshot<'t>> {
        self.store.snapshot(COLLECTION)
    }

    /// Raise an escalation: one write for the record, then its routing (mail, notify
    /// command) and a write recording what was delivered. A routing failure is recorded
    /// on the escalation (`deliveries[].errors`), never an error: the record stands.
    pub fn create(&self, actor: &Actor, spec: &EscalationSpec) -> Result<Escalated> {
        validate(spec)?;
        let category = spec.category.as_deref().map(parse_category).transpose()?;
        let bead = match &spec.bead {
            Some(text) => Some(find_bead(self.town, text)?),
            None => None,
        };
        let plan = route::plan(self.town, spec.severity)?;
        let summary = spec.summary.trim().to_string();
        let from = spec
            .from
            .clone()
            .filter(|f| !f.trim().is_empty())
            .unwrap_or_else(|| actor.name.clone());
        let (escalation, created) = self.store.write(COLLECTION, actor, |snap, batch| {
            if !snap.exists() {
                return Err(Error::NotInitialized("bead"));
            }
            let mut nonce = 0;
            let id = loop {
                let id = match &spec.key {
                    Some(key) => keyed_id(key, nonce),
                    None => new_id(&format!("{}|{summary}", actor.name), nonce),
                };
                match records::read(snap, &path_of(&id))? {
                    None => break id,
                    Some(existing)
                        if spec.key.is_some() && existing.str("key") == spec.key.as_deref() =>
                    {
                        return Ok(Outcome::Unchanged((from_record(&existing), false)));
                    }
                    Some(_) => nonce += 1,
                }
            };
            let stamp = Stamp(batch.clock, actor.name.clone());
            let mut record = Record::new(
                id.clone(),
                Origin {
                    at: stamp.clone(),
                    nonce: String::new(),
                },
            );
            let now = now_rfc3339();
            let fields = [
                ("severity", json!(spec.severity.as_str())),
                ("original_severity", json!(spec.severity.as_str())),
                ("priority", json!(spec.severity.priority())),
                ("summary", json!(summary)),
                ("body", json!(spec.body)),
                ("category", json!(category)),
                ("bead", json!(bead.as_ref().map(|b| &b.0))),
                (
                    "rig",
                    json!(spec
                        .rig
                        .clone()
                        .or_else(|| bead.as_ref().and_then(|b| b.1.clone()))),
                ),
                ("mr", json!(spec.mr)),
                ("status", json!(OPEN)),
                ("from", json!(from)),
                ("escalated_by", json!(actor.name)),
                ("escalated_at", json!(now)),
                ("reescalation_count", json!(0)),
                ("key", json!(spec.key)),
            ];
            for (k, v) in fields {
                if !v.is_null() && v != json!("") {
                    record.set(k, v, &stamp);
                }
            }
            if plan.is_empty() {
                // Nothing to send: the routing is recorded with the record, one write.
                let delivery = Delivery::nothing(&id, 0, spec.severity);
                route::put_delivery(&mut record, &delivery);
            }
            records::put(batch, &path_of(&id), &record);
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!(
                    "escalate {id} {}: {}",
                    spec.severity.as_str(),
                    summary.chars().take(60).collect::<String>()
                ),
                value: (from_record(&record), true),
            })
        })?;
        let escalation = if escalation.routing_pending() {
            self.route_and_record(actor, vec![escalation])?
                .pop()
                .expect("one in, one out")
        } else {
            escalation
        };
        Ok(Escalated {
            escalation,
            created,
        })
    }

    /// Every escalation the filter lets through: most severe first, then oldest first.
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<Escalation>> {
        let snap = self.snapshot()?;
        let mut out: Vec<Escalation> = all_in(&snap)?
            .into_iter()
            .filter(|e| filter.all || e.status != CLOSED)
            .filter(|e| !filter.unacked || e.status == OPEN)
            .filter(|e| filter.severity.is_none_or(|s| e.severity == s))
            .collect();
        out.sort_by(|a, b| {
            a.severity
                .cmp(&b.severity)
                .then_with(|| a.escalated_at.cmp(&b.escalated_at))
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(out)
    }

    /// One escalation (a unique prefix will do).
    pub fn get(&self, id: &str) -> Result<Escalation> {
        let snap = self.snapshot()?;
        let id = resolve_id(&snap, id)?;
        Ok(from_record(
            &records::read(&snap, &path_of(&id))?.expect("resolved ids exist"),
        ))
    }

    /// Acknowledge: someone has it. Stops re-escalation. Already acknowledged: nothing
    /// written (`changed: false`); closed: refused.
    pub fn ack(&self, actor: &Actor, id: &str) -> Result<Acked> {
        self.store.write(COLLECTION, actor, |snap, batch| {
            let id = resolve_id(snap, id)?;
            let path = path_of(&id);
            let mut record = records::read(snap, &path)?.expect("resolved ids exist");
            let current = from_record(&record);
            match current.status.as_str() {
                CLOSED => {
                    return Err(Error::invalid(format!(
                        "escalation {id} is closed; there is nothing to acknowledge"
                    )))
                }
                ACKED => {
                    return Ok(Outcome::Unchanged(Acked {
                        escalation: current,
                        changed: false,
                    }))
                }
                _ => {}
            }
            let stamp = Stamp(batch.clock, actor.name.clone());
            record.set("status", json!(ACKED), &stamp);
            record.set("acked_by", json!(actor.name), &stamp);
            record.set("acked_at", json!(now_rfc3339()), &stamp);
            records::put(batch, &path, &record);
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!("escalation ack {id}"),
                value: Acked {
                    escalation: from_record(&record),
                    changed: true,
                },
            })
        })
    }

    /// Close with a reason. A closed one is refused.
    pub fn close(&self, actor: &Actor, id: &str, reason: &str) -> Result<Escalation> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::invalid(
                "the reason is empty: say how it was resolved with --reason",
            ));
        }
        if reason.len() > MAX_BODY_BYTES {
            return Err(Error::invalid(format!(
                "the reason has {} bytes, at most {MAX_BODY_BYTES}",
                reason.len()
            )));
        }
        self.store.write(COLLECTION, actor, |snap, batch| {
            let id = resolve_id(snap, id)?;
            let path = path_of(&id);
            let mut record = records::read(snap, &path)?.expect("resolved ids exist");
            if record.str("status") == Some(CLOSED) {
                return Err(Error::invalid(format!(
                    "escalation {id} is already closed ({})",
                    record.str("closed_reason").unwrap_or("no reason")
                )));
            }
            let stamp = Stamp(batch.clock, actor.name.clone());
            record.set("status", json!(CLOSED), &stamp);
            record.set("closed_by", json!(actor.name), &stamp);
            record.set("closed_at", json!(now_rfc3339()), &stamp);
            record.set("closed_reason", json!(reason), &stamp);
            records::put(batch, &path, &record);
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!(
                    "escalation close {id}: {}",
                    reason.lines().next().unwrap_or("")
                ),
                value: from_record(&record),
            })
        })
    }

    /// Re-escalate what nobody acknowledged: each open escalation older than
    /// `escalation.stale_threshold` (since it was raised or last bumped) goes one severity
    /// up, at most `escalation.max_reescalations` times, in one write; then each bump is
    /// routed and the deliveries recorded in one more. Routings a crash left unrecorded are
    /// finished too. Nothing to do: nothing written.
    pub fn stale(&self, actor: &Actor) -> Result<StaleReport> {
        self.stale_run(actor, false)
    }

    /// [`Escalations::stale`] that only reports what it would bump (no write, no mail).
    pub fn stale_dry_run(&self, actor: &Actor) -> Result<StaleReport> {
        self.stale_run(actor, true)
    }

    fn stale_run(&self, actor: &Actor, dry_run: bool) -> Result<StaleReport> {
        let setting = |key: &str| settings::effective(None, self.store, key).map(|s| s.value);
        let threshold = setting("escalation.stale_threshold")?
            .as_str()
            .and_then(settings::parse_duration)
            .unwrap_or(4 * 3600);
        let max = setting("escalation.max_reescalations")?
            .as_u64()
            .unwrap_or(2);
        let mut report = StaleReport {
            threshold_secs: threshold,
            max_reescalations: max,
            dry_run,
            ..Default::default()
        };
        let snap = self.snapshot()?;
        if !snap.exists() {
            return Ok(report);
        }
        let now = chrono::Utc::now();
        let open: Vec<Escalation> = all_in(&snap)?
            .into_iter()
            .filter(|e| e.status == OPEN)
            .collect();
        report.checked = open.len();
        let decide = |e: &Escalation| -> Option<Severity> {
            let since = e.last_reescalated_at.as_deref().unwrap_or(&e.escalated_at);
            if age_secs(since, now) < threshold {
                return None;
            }
            e.severity
                .up()
                .filter(|_| (e.reescalation_count as u64) < max)
        };
        let due: Vec<&Escalation> = open.iter().filter(|e| decide(e).is_some()).collect();
        report.at_max = open
            .iter()
            .filter(|e| decide(e).is_none())
            .filter(|e| {
                let since = e.last_reescalated_at.as_deref().unwrap_or(&e.escalated_at);
                age_secs(since, now) >= threshold
            })
            .map(|e| e.id.clone())
            .collect();
        // Routings never recorded (a crash after the record's write): finished here.
        let pending: Vec<Escalation> = open
            .iter()
            .filter(|e| e.routing_pending() && decide(e).is_none())
            .cloned()
            .collect();
        if dry_run {
            report.bumped = due
                .iter()
                .map(|e| Bumped {
                    id: e.id.clone(),
                    summary: e.summary.clone(),
                    from: e.severity,
                    to: decide(e).expect("due"),
                    reescalation_count: e.reescalation_count + 1,
                    delivery: None,
                })
                .collect();
            return Ok(report);
        }
        let mut bumped_now: Vec<Escalation> = Vec::new();
        if !due.is_empty() {
            let mut unrouted = Vec::new();
            for s in Severity::ALL {
                if route::plan(self.town, s)?.is_empty() {
                    unrouted.push(s);
                }
            }
            let ids: Vec<String> = due.iter().map(|e| e.id.clone()).collect();
            bumped_now = self.store.write(COLLECTION, actor, |snap, batch| {
                let stamp = Stamp(batch.clock, actor.name.clone());
                let at = now_rfc3339();
                let mut out = Vec::new();
                let mut words = Vec::new();
                for id in &ids {
                    let path = path_of(id);
                    let Some(mut record) = records::read(snap, &path)? else {
                        continue;
                    };
                    let e = from_record(&record);
                    // Decided again on the tip: an ack or a bump may have landed meanwhile.
                    if e.status != OPEN {
                        continue;
                    }
                    let Some(to) = decide(&e) else { continue };
                    let number = e.reescalation_count + 1;
                    record.set("severity", json!(to.as_str()), &stamp);
                    record.set("priority", json!(to.priority()), &stamp);
                    record.set("reescalation_count", json!(number), &stamp);
                    record.set("last_reescalated_at", json!(at), &stamp);
                    record.set("last_reescalated_by", json!(actor.name), &stamp);
                    let bump = Bump {
                        number,
                        from: e.severity,
                        to,
                        at: at.clone(),
                        by: actor.name.clone(),
                    };
                    record.comments.insert(
                        format!("bump/{number:03}"),
                        serde_json::to_value(&bump).expect("serialises"),
                    );
                    if unrouted.contains(&to) {
                        route::put_delivery(&mut record, &Delivery::nothing(id, number, to));
                    }
                    records::put(batch, &path, &record);
                    words.push(format!("{id} {}->{}", e.severity.as_str(), to.as_str()));
                    out.push(from_record(&record));
                }
                if out.is_empty() {
                    return Ok(Outcome::Unchanged(out));
                }
                carry_count(snap, batch, 0);
                Ok(Outcome::Commit {
                    message: format!("escalation stale: {}", words.join(", ")),
                    value: out,
                })
            })?;
        }
        let mut to_route: Vec<Escalation> = bumped_now
            .iter()
            .filter(|e| e.routing_pending())
            .cloned()
            .collect();
        to_route.extend(pending);
        let routed = if to_route.is_empty() {
            Vec::new()
        } else {
            self.route_and_record(actor, to_route)?
        };
        let routed: BTreeMap<String, Escalation> =
            routed.into_iter().map(|e| (e.id.clone(), e)).collect();
        for e in &bumped_now {
            let e = routed.get(&e.id).unwrap_or(e);
            let last = e.bumps.last().expect("bumped");
            report.bumped.push(Bumped {
                id: e.id.clone(),
                summary: e.summary.clone(),
                from: last.from,
                to: last.to,
                reescalation_count: e.reescalation_count,
                delivery: e.current_delivery().cloned(),
            });
        }
        report.repaired = routed
            .values()
            .filter(|e| !bumped_now.iter().any(|b| b.id == e.id))
            .filter_map(|e| e.current_delivery().cloned())
            .collect();
        Ok(report)
    }

    /// Route each escalation's current severity, then record every delivery in one write.
    /// A delivery some other process recorded meanwhile is kept (mail went out once either
    /// way: its id is derived from the escalation and bump).
    fn route_and_record(&self, actor: &Actor, list: Vec<Escalation>) -> Result<Vec<Escalation>> {
        let deliveries: Vec<Delivery> = list
            .iter()
            .map(|e| route::deliver(self.town, actor, e))
            .collect();
        self.store.write(COLLECTION, actor, |snap, batch| {
            let mut out = Vec::new();
            let mut changed = Vec::new();
            for d in &deliveries {
                let path = path_of(&d.escalation);
                let Some(mut record) = records::read(snap, &path)? else {
                    continue;
                };
                let key = route::delivery_key(d.bump);
                if !record.comments.contains_key(&key) {
                    route::put_delivery(&mut record, d);
                    records::put(batch, &path, &record);
                    changed.push(d.escalation.clone());
                }
                out.push(from_record(&record));
            }
            if changed.is_empty() {
                return Ok(Outcome::Unchanged(out));
            }
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!("escalation routed: {}", changed.join(", ")),
                value: out,
            })
        })
    }
}

/// Every escalation of a snapshot.
fn all_in(snap: &Snapshot<'_>) -> Result<Vec<Escalation>> {
    Ok(records::list(snap, DIR)?
        .into_iter()
        .filter(|(_, r)| !r.is_deleted())
        .map(|(_, r)| from_record(&r))
        .collect())
}

/// An escalation id from an exact id, one without `esc-`, or a unique prefix.
pub fn resolve_id(snap: &Snapshot<'_>, text: &str) -> Result<String> {
    let text = text.trim();
    let unknown = || {
        Error::invalid(format!(
            "no escalation '{}' (see `git escalate list --all`)",
            text.escape_debug()
        ))
    };
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(unknown());
    }
    for candidate in [text.to_string(), format!("esc-{text}")] {
        if records::read(snap, &path_of(&candidate))?.is_some_and(|r| !r.is_deleted()) {
            return Ok(candidate);
        }
    }
    let mut found: Vec<String> = Vec::new();
    for (path, _) in snap.walk(DIR)? {
        let Some(id) = path
            .strip_prefix(&format!("{DIR}/"))
            .and_then(|p| p.strip_suffix(".json"))
        else {
            continue;
        };
        if id.starts_with(text) || id.starts_with(&format!("esc-{text}")) {
            found.push(id.to_string());
        }
    }
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(unknown()),
        many => Err(Error::Ambiguous {
            prefix: text.to_string(),
            candidates: many.iter().take(10).cloned().collect(),
        }),
    }
}

/// The bead `text` names, and its rig: looked up in the town's store, then in the rigs
/// whose prefix it starts with, then in the other rigs.
fn find_bead(town: &Town, text: &str) -> Result<(String, Option<String>)> {
    let text = text.trim();
    let lookup = |store: &Store| -> Result<Option<String>> {
        let beads = Beads::new(store);
        let snap = beads.snapshot()?;
        let Ok(config) = beads.config(&snap) else {
            return Ok(None);
        };
        match beads.resolve(&snap, &config, text, &mut None) {
            Ok(id) => Ok(Some(id)),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    };
    if let Some(id) = lookup(&town.store)? {
        return Ok((id, town.lone_rig.clone()));
    }
    if !town.is_lone_rig() {
        let mut rigs = town.rigs().list()?;
        rigs.sort_by_key(|r| !text.starts_with(&format!("{}-", r.prefix)));
        for rig in rigs {
            let Ok(store) = rig.open_store() else {
                continue;
            };
            if let Some(id) = lookup(&store)? {
                return Ok((id, Some(rig.name)));
            }
        }
    }
    Err(Error::invalid(format!(
        "--bead: no bead matches '{}' in the town or its rigs",
        text.escape_debug()
    )))
}

fn from_record(record: &Record) -> Escalation {
    let text = |k: &str| record.str(k).map(str::to_string);
    let severity = |k: &str| {
        record
            .str(k)
            .and_then(|s| Severity::parse(s).ok())
            .unwrap_or_default()
    };
    let mut bumps = Vec::new();
    let mut deliveries = Vec::new();
    for (key, value) in &record.comments {
        if key.starts_with("bump/") {
            if let Some(b) = bump_from(value) {
                bumps.push(b);
            }
        } else if key.starts_with(route::DELIVERY_PREFIX) {
            if let Ok(d) = serde_json::from_value::<Delivery>(value.clone()) {
                deliveries.push(d);
            }
        }
    }
    bumps.sort_by_key(|b| b.number);
    deliveries.sort_by_key(|d| d.bump);
    let current = severity("severity");
    Escalation {
        id: record.id.clone(),
        severity: current,
        priority: current.priority(),
        summary: text("summary").unwrap_or_default(),
        body: text("body").unwrap_or_default(),
        category: text("category"),
        bead: text("bead"),
        mr: text("mr"),
        rig: text("rig"),
        status: text("status").unwrap_or_else(|| OPEN.into()),
        from: text("from").unwrap_or_default(),
        escalated_by: text("escalated_by").unwrap_or_default(),
        escalated_at: text("escalated_at").unwrap_or_default(),
        acked_by: text("acked_by"),
        acked_at: text("acked_at"),
        closed_by: text("closed_by"),
        closed_at: text("closed_at"),
        closed_reason: text("closed_reason"),
        original_severity: record
            .str("original_severity")
            .map(|_| severity("original_severity"))
            .unwrap_or(current),
        reescalation_count: record
            .get("reescalation_count")
            .and_then(Value::as_u64)
            .unwrap_or(0) as u32,
        last_reescalated_at: text("last_reescalated_at"),
        last_reescalated_by: text("last_reescalated_by"),
        bumps,
        deliveries,
    }
}

fn bump_from(value: &Value) -> Option<Bump> {
    Some(Bump {
        number: value.get("number")?.as_u64()? as u32,
        from: Severity::parse(value.get("from")?.as_str()?).ok()?,
        to: Severity::parse(value.get("to")?.as_str()?).ok()?,
        at: value.get("at")?.as_str()?.to_string(),
        by: value.get("by")?.as_str()?.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_parse_map_to_priorities_and_bump_up() {
        assert_eq!(Severity::parse("high").unwrap(), Severity::High);
        assert_eq!(Severity::parse("P0").unwrap(), Severity::Critical);
        assert_eq!(Severity::parse("3").unwrap(), Severity::Low);
        assert!(Severity::parse("urgent").is_err());
        assert!(Severity::parse("P4").is_err());
        let p: Vec<u8> = Severity::ALL.iter().map(|s| s.priority()).collect();
        assert_eq!(p, [0, 1, 2, 3]);
        assert_eq!(Severity::Low.up(), Some(Severity::Medium));
        assert_eq!(Severity::Critical.up(), None);
        assert_eq!(Severity::High.mail_priority(), "high");
        assert_eq!(Severity::Critical.mail_priority(), "urgent");
        assert_eq!(Severity::Low.routes_key(), "escalation.routes.low");
        for s in Severity::ALL {
            assert!(settings::known(&s.routes_key()).is_some(), "{s:?}");
        }
    }

    #[test]
    fn bad_specs_are_refused_before_any_write() {
        let ok = EscalationSpec {
            summary: "tests hang".into(),
            ..Default::default()
        };
        assert!(validate(&ok).is_ok());
        for (spec, needle) in [
            (
                EscalationSpec {
                    summary: "  ".into(),
                    ..ok.clone()
                },
                "summary is empty",
            ),
            (
                EscalationSpec {
                    summary: "a\nb".into(),
                    ..ok.clone()
                },
                "one line",
            ),
            (
                EscalationSpec {
                    summary: "x".repeat(181),
                    ..ok.clone()
                },
                "at most 180",
            ),
            (
                EscalationSpec {
                    category: Some("whatever".into()),
                    ..ok.clone()
                },
                "unknown category",
            ),
        ] {
            let err = validate(&spec).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
        assert_eq!(parse_category("gate-timeout").unwrap(), "gate_timeout");
    }

    #[test]
    fn keyed_ids_are_stable_and_ages_are_measured_from_rfc3339() {
        assert_eq!(keyed_id("mq|web|mr-1|4", 0), keyed_id("mq|web|mr-1|4", 0));
        assert_ne!(keyed_id("mq|web|mr-1|4", 0), keyed_id("mq|web|mr-1|4", 1));
        assert!(keyed_id("k", 0).starts_with("esc-"));
        let now = chrono::Utc::now();
        let earlier = (now - chrono::Duration::seconds(90)).to_rfc3339();
        assert_eq!(age_secs(&earlier, now), 90);
        assert_eq!(age_secs("not a time", now), 0);
    }
}
