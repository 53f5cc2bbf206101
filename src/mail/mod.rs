//! Mail: messages between agents and the overseer, in the town's own collection
//! (`refs/gastown/mail`), so mail traffic never touches the work collection or `ready`
//! (docs/MAIL.md).
//!
//! One send is one write and one message record, whatever the fan-out: a group send stores
//! one message whose `to` lists every mailbox it reached. What each recipient has done with
//! it (read, acked, archived, delivered into a session) is a stamped member `state:mailbox`
//! of the record, so two agents reading one message on two clones both keep their mark
//! after sync. Mail informs; state decides: the merge queue and patrol read records, never
//! a message.

pub mod address;
pub mod index;
pub mod lists;
pub mod nudge;

use std::sync::atomic::{AtomicU32, Ordering};

use serde::Serialize;
use serde_json::{json, Value};

pub use address::{parse_mailbox, Resolver, OVERSEER};
pub use index::MailIndex;
pub use lists::{ListDef, ListKind, ListSpec, Lists};

use crate::bead::record::{Origin, Record, Stamp};
use crate::error::{Error, Result};
use crate::records;
use crate::store::{Actor, Outcome, Snapshot, Store};
use crate::town::Town;

/// The town's mail collection: `refs/gastown/mail`.
pub const COLLECTION: &str = "mail";

pub const TYPES: [&str; 5] = ["task", "notification", "reply", "escalation", "protocol"];
/// In rank order (urgent first).
pub const PRIORITIES: [&str; 4] = ["urgent", "high", "normal", "low"];

/// Gas Town's protocol subjects (`POLECAT_DONE nux`, `HELP: stuck`, ...). A message whose
/// subject starts with one is of type `protocol` unless told otherwise. They notify: the
/// facts they mention are records that the queue and patrol read.
pub const PROTOCOL_SUBJECTS: &[&str] = &[
    "POLECAT_DONE",
    "MERGE_READY",
    "MERGED",
    "MERGE_FAILED",
    "REWORK_REQUEST",
    "RECOVERED_BEAD",
    "RECOVERY_NEEDED",
    "HELP",
    "HANDOFF",
    "LIFECYCLE",
    "GUPP_VIOLATION",
    "ORPHANED_WORK",
    "SWARM_START",
    "DISPATCH_ATTEMPT",
    "DISPATCH_OK",
    "DISPATCH_FAIL",
    "IDLE_PASSIVATED",
];

/// Per-recipient states, stored as members `state:mailbox`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Read,
    Acked,
    Archived,
    /// Shown in the recipient's live session by `check --inject` (not read yet).
    Delivered,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Read => "read",
            State::Acked => "acked",
            State::Archived => "archived",
            State::Delivered => "delivered",
        }
    }
}

/// Limits that keep one message a message (a body is text for a reader, not a file store).
const MAX_SUBJECT_CHARS: usize = 200;
const MAX_BODY_BYTES: usize = 1 << 20;
const MAX_PAYLOAD_BYTES: usize = 64 << 10;

/// The rank of a priority name (0 urgent .. 3 low); unknown names rank as normal.
pub fn priority_rank(name: &str) -> u8 {
    PRIORITIES.iter().position(|p| *p == name).unwrap_or(2) as u8
}

fn priority_name(rank: u8) -> &'static str {
    PRIORITIES.get(rank as usize).copied().unwrap_or("normal")
}

/// Whether a subject is one of the protocol subjects.
pub fn is_protocol_subject(subject: &str) -> bool {
    let word = subject.split([' ', ':']).next().unwrap_or("");
    PROTOCOL_SUBJECTS.contains(&word)
}

/// A message to send, its recipients already resolved (`Resolver`).
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    /// Mailboxes, queues and channels it goes to.
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// The addresses as the sender wrote them (`group:ops`, `*/witness`).
    pub sent_to: Vec<String>,
    pub subject: String,
    pub body: String,
    pub kind: Option<String>,
    pub priority: Option<String>,
    pub payload: Option<Value>,
}

/// What a send reports: the new message as its sender sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Sent {
    #[serde(flatten)]
    pub message: Summary,
    /// Channel messages pruned by the channel's retention in the same write.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pruned: Vec<String>,
    /// A keyed send ([`Mail::send_keyed`]) or a fixed-id one ([`Mail::send_once`]) found its message already sent: nothing written.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub already: bool,
}

/// A message as a list shows it (from the index), with the viewer's own states.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub id: String,
    pub from: String,
    pub to: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<String>,
    pub subject: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub priority: String,
    pub thread: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    pub created: String,
    pub read: bool,
    pub acked: bool,
    pub archived: bool,
    pub delivered: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
}

/// A whole message.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    #[serde(flatten)]
    pub summary: Summary,
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    pub sent_to: Vec<String>,
    pub read_by: Vec<String>,
    pub acked_by: Vec<String>,
    pub archived_by: Vec<String>,
    pub delivered_to: Vec<String>,
}

/// What a read, ack, archive or delivery mark changed.
#[derive(Debug, Clone, Serialize)]
pub struct Marked {
    pub id: String,
    pub state: &'static str,
    pub by: String,
    /// False when it was already so.
    pub changed: bool,
}

/// The town's mail.
pub struct Mail<'t> {
    pub town: &'t Town,
    pub store: &'t Store,
}

/// Where a message's record lives: 256 shards, as beads.
pub fn message_path(id: &str) -> String {
    format!("messages/{:02x}/{id}.json", crate::bead::id::shard(id))
}

fn format_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A fresh message id: `m-` and ten base-36 characters of a hash of who, when and a
/// process-wide counter (collisions are checked against the tip in the write).
fn new_id(seed: &str, nonce: u32) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let seed = format!("{seed}|{nanos}|{}|{n}", std::process::id());
    crate::bead::id::hash_id("m", &seed, nonce, 10)
}

/// The id of a keyed message: the same key gives the same id on every retry and clone.
pub fn keyed_id(key: &str, nonce: u32) -> String {
    crate::bead::id::hash_id("m", &format!("keyed|{key}"), nonce, 10)
}

/// Check a message before anything is written: one line naming what is wrong.
pub fn validate(out: &Outgoing) -> Result<()> {
    let subject = out.subject.trim();
    if subject.is_empty() {
        return Err(Error::invalid(
            "the subject is empty: give one with -s SUBJECT",
        ));
    }
    if subject.chars().any(char::is_control) {
        return Err(Error::invalid(
            "the subject must be one line without control characters",
        ));
    }
    if subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(Error::invalid(format!(
            "the subject has {} characters, at most {MAX_SUBJECT_CHARS}",
            subject.chars().count()
        )));
    }
    if out.body.len() > MAX_BODY_BYTES {
        return Err(Error::invalid(format!(
            "the body has {} bytes, at most {MAX_BODY_BYTES}",
            out.body.len()
        )));
    }
    if out.to.is_empty() {
        return Err(Error::invalid("no recipient: name at least one address"));
    }
    if let Some(kind) = &out.kind {
        if !TYPES.contains(&kind.as_str()) {
            return Err(Error::invalid(format!(
                "unknown message type '{}': use {}",
                kind.escape_debug(),
                TYPES.join(", ")
            )));
        }
    }
    if let Some(p) = &out.priority {
        if !PRIORITIES.contains(&p.as_str()) {
            return Err(Error::invalid(format!(
                "unknown priority '{}': use {}",
                p.escape_debug(),
                PRIORITIES.join(", ")
            )));
        }
    }
    if let Some(payload) = &out.payload {
        let size = serde_json::to_vec(payload).map(|v| v.len()).unwrap_or(0);
        if size > MAX_PAYLOAD_BYTES {
            return Err(Error::invalid(format!(
                "the payload has {size} bytes of JSON, at most {MAX_PAYLOAD_BYTES}"
            )));
        }
    }
    Ok(())
}

/// A message record as a send writes it (the benchmark builds its 10k messages with this).
pub fn build_record(
    id: &str,
    from: &str,
    out: &Outgoing,
    thread: &str,
    reply_to: Option<&str>,
    stamp: &Stamp,
) -> Record {
    let mut record = Record::new(
        id.to_string(),
        Origin {
            at: stamp.clone(),
            nonce: String::new(),
        },
    );
    let kind = out.kind.clone().unwrap_or_else(|| {
        if reply_to.is_some() {
            "reply".into()
        } else if is_protocol_subject(&out.subject) {
            "protocol".into()
        } else {
            "notification".into()
        }
    });
    let fields = [
        ("from", json!(from)),
        ("to", json!(out.to)),
        ("cc", json!(out.cc)),
        ("sent_to", json!(out.sent_to)),
        ("subject", json!(out.subject.trim())),
        ("body", json!(out.body)),
        ("type", json!(kind)),
        (
            "priority",
            json!(out.priority.as_deref().unwrap_or("normal")),
        ),
        ("thread", json!(thread)),
        ("reply_to", json!(reply_to)),
        ("created_at", json!(crate::bead::schema::now_rfc3339())),
        ("payload", out.payload.clone().unwrap_or(Value::Null)),
    ];
    for (k, v) in fields {
        if !v.is_null() && v != json!([]) {
            record.set(k, v, stamp);
        }
    }
    record
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

/// Mailboxes for which `state` is on.
fn with_state(record: &Record, state: State) -> Vec<String> {
    let prefix = format!("{}:", state.as_str());
    record
        .label_names()
        .filter_map(|l| l.strip_prefix(&prefix).map(str::to_string))
        .collect()
}

impl<'t> Mail<'t> {
    pub fn new(town: &'t Town) -> Self {
        Mail {
            town,
            store: &town.store,
        }
    }

    pub fn snapshot(&self) -> Result<Snapshot<'t>> {
        self.store.snapshot(COLLECTION)
    }

    pub fn index(&self, snap: &Snapshot<'_>) -> Result<MailIndex> {
        MailIndex::for_snapshot(self.store, snap)
    }

    /// Send one message from `from`: one write, one record.
    pub fn send(&self, actor: &Actor, from: &str, out: &Outgoing) -> Result<Sent> {
        self.write_message(actor, from, out, None, None, None)
    }

    /// Send one message under a fixed id (`m-` and ten base-36 characters), at most once:
    /// when a message with that id exists, nothing is written and `false` comes back. A
    /// notice derived from a fact (a convoy's landing) uses it so a retry after a crash
    /// finds it already sent.
    pub fn send_once(
        &self,
        actor: &Actor,
        from: &str,
        id: &str,
        out: &Outgoing,
    ) -> Result<(Sent, bool)> {
        if let Some(existing) = records::read(&self.snapshot()?, &message_path(id))? {
            let message = message_from_record(&existing, 0, from).summary;
            return Ok((
                Sent {
                    message,
                    pruned: Vec::new(),
                    already: true,
                },
                false,
            ));
        }
        let sent = self.write_message(actor, from, out, None, Some(id), None)?;
        let fresh = sent.message.id == id && !sent.pruned.contains(&id.to_string());
        Ok((sent, fresh))
    }

    /// Send at most once per `key` (e.g. an escalation id and its bump number): the id is
    /// derived from the key, so a retry after a crash finds the message already there and
    /// writes nothing (`Sent::already` is then true). The key is kept on the record.
    pub fn send_keyed(&self, actor: &Actor, from: &str, key: &str, out: &Outgoing) -> Result<Sent> {
        self.write_message(actor, from, out, None, None, Some(key))
    }

    /// Reply to `id` (a unique prefix will do): to its sender unless `out.to` says
    /// otherwise, in its thread, subject `Re: ...` unless given.
    pub fn reply(&self, actor: &Actor, from: &str, id: &str, out: &Outgoing) -> Result<Sent> {
        self.write_message(actor, from, out, Some(id), None, None)
    }

    fn write_message(
        &self,
        actor: &Actor,
        from: &str,
        out: &Outgoing,
        reply_to: Option<&str>,
        fixed_id: Option<&str>,
        key: Option<&str>,
    ) -> Result<Sent> {
        if reply_to.is_none() {
            validate(out)?;
        }
        let lists = if out.to.iter().any(|t| t.starts_with("channel:")) {
            Some(self.lists()?)
        } else {
            None
        };
        self.store.write(COLLECTION, actor, |snap, batch| {
            let stamp = Stamp(batch.clock, actor.name.clone());
            let mut out = out.clone();
            let mut index = None;
            let (thread_of_original, original) = match reply_to {
                Some(text) => {
                    let idx = self.index(snap)?;
                    let id = resolve_id(&idx, text)?;
                    let row = idx.get(&id).expect("resolved ids exist");
                    if out.to.is_empty() {
                        out.to = vec![idx.from(row).to_string()];
                        out.sent_to = out.to.clone();
                    }
                    if out.subject.trim().is_empty() {
                        let subject = idx.subject(row);
                        out.subject = if subject.starts_with("Re: ") {
                            subject.to_string()
                        } else {
                            format!("Re: {subject}")
                        };
                    }
                    let thread = match idx.thread(row) {
                        "" => id.clone(),
                        t => t.to_string(),
                    };
                    index = Some(idx);
                    (Some(thread), Some(id))
                }
                None => (None, None),
            };
            if reply_to.is_some() {
                validate(&out)?;
            }
            if let Some(id) = fixed_id {
                // Sent meanwhile (a concurrent retry): the same message, not a second one.
                if let Some(existing) = records::read(snap, &message_path(id))? {
                    return Ok(Outcome::Unchanged(Sent {
                        message: message_from_record(&existing, 0, from).summary,
                        pruned: Vec::new(),
                        already: true,
                    }));
                }
            }
            let mut nonce = 0;
            let id = match fixed_id {
                Some(id) => id.to_string(),
                None => loop {
                    let id = match key {
                        Some(key) => keyed_id(key, nonce),
                        None => new_id(&format!("{}|{from}|{}", actor.name, out.subject), nonce),
                    };
                    let path = message_path(&id);
                    if snap.resolve(&path)?.is_none() {
                        break id;
                    }
                    if let Some(key) = key {
                        let existing = records::read(snap, &path)?.expect("resolved");
                        if existing.str("key") == Some(key) {
                            return Ok(Outcome::Unchanged(Sent {
                                message: message_from_record(&existing, 0, from).summary,
                                pruned: Vec::new(),
                                already: true,
                            }));
                        }
                    }
                    nonce += 1;
                },
            };
            let thread = thread_of_original.unwrap_or_else(|| id.clone());
            let mut record = build_record(&id, from, &out, &thread, original.as_deref(), &stamp);
            if let Some(key) = key {
                record.set("key", json!(key), &stamp);
            }
            records::put(batch, &message_path(&id), &record);
            let mut pruned = Vec::new();
            if let Some(lists) = &lists {
                for channel in out.to.iter().filter_map(|t| t.strip_prefix("channel:")) {
                    let Some(def) = lists.get(ListKind::Channel, channel) else {
                        continue;
                    };
                    if def.retain_count.is_none() && def.retain_hours.is_none() {
                        continue;
                    }
                    let idx = match index.take() {
                        Some(i) => i,
                        None => self.index(snap)?,
                    };
                    pruned.extend(prune_channel(snap, batch, &idx, def, &stamp)?);
                    index = Some(idx);
                }
            }
            let sent = Sent {
                message: message_from_record(&record, 0, from).summary,
                pruned,
                already: false,
            };
            let mut subject: String = sent.message.subject.chars().take(60).collect();
            if subject.len() < sent.message.subject.len() {
                subject.push('…');
            }
            Ok(Outcome::Commit {
                message: format!("mail send {id}: {subject} -> {}", out.to.join(", ")),
                value: sent,
            })
        })
    }

    /// Set `state` for `mailbox` on each message (unique prefixes will do), in one write.
    /// Refuses, changing nothing, a message that is not the mailbox's.
    pub fn mark(
        &self,
        actor: &Actor,
        mailbox: &str,
        ids: &[String],
        state: State,
    ) -> Result<Vec<Marked>> {
        let lists = self.lists()?;
        let subscriptions = lists.subscriptions(mailbox);
        self.store.write(COLLECTION, actor, |snap, batch| {
            let index = self.index(snap)?;
            let stamp = Stamp(batch.clock, actor.name.clone());
            let mut out = Vec::new();
            let mut changed_any = false;
            for text in ids {
                let id = resolve_id(&index, text)?;
                let row = index.get(&id).expect("resolved ids exist");
                if !visible_to(&index, row, mailbox, &subscriptions) {
                    return Err(Error::invalid(format!(
                        "message {id} is not in the mailbox of {mailbox}"
                    )));
                }
                let mut record = Record::parse(&snap.read_blob(row.blob)?)?;
                let mut changed =
                    record.set_label(&format!("{}:{mailbox}", state.as_str()), true, &stamp);
                if state == State::Acked {
                    changed |= record.set_label(&format!("read:{mailbox}"), true, &stamp);
                }
                if changed {
                    records::put(batch, &message_path(&id), &record);
                    changed_any = true;
                }
                out.push(Marked {
                    id,
                    state: state.as_str(),
                    by: mailbox.to_string(),
                    changed,
                });
            }
            if !changed_any {
                return Ok(Outcome::Unchanged(out));
            }
            let ids: Vec<&str> = out
                .iter()
                .filter(|m| m.changed)
                .map(|m| m.id.as_str())
                .collect();
            Ok(Outcome::Commit {
                message: format!("mail {} {}: {mailbox}", state.as_str(), ids.join(" ")),
                value: out,
            })
        })
    }

    /// The mailbox's messages, newest first: those not archived (all with `all`), only
    /// unread ones with `unread`. Queue messages show to their claimant, channel messages
    /// to subscribers.
    pub fn inbox(&self, mailbox: &str, all: bool, unread: bool) -> Result<Vec<Summary>> {
        let snap = self.snapshot()?;
        let index = self.index(&snap)?;
        let subscriptions = Lists::load(&snap)?.subscriptions(mailbox);
        let mut rows: Vec<&index::Row> = index
            .rows
            .iter()
            .filter(|r| visible_to(&index, r, mailbox, &subscriptions))
            .filter(|r| all || !index.has_state(r, "archived", mailbox))
            .filter(|r| !unread || !index.has_state(r, "read", mailbox))
            .collect();
        rows.sort_by(|a, b| {
            b.created_ms
                .cmp(&a.created_ms)
                .then_with(|| index.id(a).cmp(index.id(b)))
        });
        Ok(rows
            .into_iter()
            .map(|r| summary(&index, r, mailbox))
            .collect())
    }

    /// New mail: unread and not archived; with `undelivered`, also not yet shown in the
    /// mailbox's session.
    pub fn fresh(&self, mailbox: &str, undelivered: bool) -> Result<Vec<Summary>> {
        let mut out = self.inbox(mailbox, false, true)?;
        if undelivered {
            out.retain(|s| !s.delivered);
        }
        Ok(out)
    }

    /// One whole message, with `viewer`'s own states.
    pub fn get(&self, viewer: &str, id: &str) -> Result<Message> {
        let snap = self.snapshot()?;
        let index = self.index(&snap)?;
        let id = resolve_id(&index, id)?;
        let row = index.get(&id).expect("resolved ids exist");
        message(&snap, row, viewer)
    }

    /// Every message of the thread `id` belongs to, oldest first.
    pub fn thread(&self, viewer: &str, id: &str) -> Result<Vec<Message>> {
        let snap = self.snapshot()?;
        let index = self.index(&snap)?;
        let id = resolve_id(&index, id)?;
        let row = index.get(&id).expect("resolved ids exist");
        let thread = match index.thread(row) {
            "" => id.as_str(),
            t => t,
        };
        let mut rows: Vec<&index::Row> = index
            .rows
            .iter()
            .filter(|r| index.thread(r) == thread || index.id(r) == thread)
            .collect();
        rows.sort_by(|a, b| {
            a.created_ms
                .cmp(&b.created_ms)
                .then_with(|| index.id(a).cmp(index.id(b)))
        });
        rows.into_iter()
            .map(|r| message(&snap, r, viewer))
            .collect()
    }

    /// Messages to or from `viewer` (every message with `everyone`) whose subject, sender
    /// or body contains `text`, ignoring case; newest first.
    pub fn search(&self, viewer: &str, text: &str, everyone: bool) -> Result<Vec<Summary>> {
        if text.trim().is_empty() {
            return Err(Error::invalid("nothing to search for: give a text"));
        }
        let needle = text.to_lowercase();
        let snap = self.snapshot()?;
        let index = self.index(&snap)?;
        let subscriptions = Lists::load(&snap)?.subscriptions(viewer);
        let mut hits = Vec::new();
        for row in &index.rows {
            if !everyone
                && index.from(row) != viewer
                && !visible_to(&index, row, viewer, &subscriptions)
            {
                continue;
            }
            let cheap = index.subject(row).to_lowercase().contains(&needle)
                || index.from(row).to_lowercase().contains(&needle);
            let hit = cheap || {
                let record = Record::parse(&snap.read_blob(row.blob)?)?;
                record
                    .str("body")
                    .is_some_and(|b| b.to_lowercase().contains(&needle))
            };
            if hit {
                hits.push(row);
            }
        }
        hits.sort_by_key(|r| std::cmp::Reverse(r.created_ms));
        Ok(hits
            .into_iter()
            .map(|r| summary(&index, r, viewer))
            .collect())
    }

    /// Messages held by a queue or a channel (`queue:NAME`, `channel:NAME`), oldest
    /// first; a queue's archived (done) messages only with `all`.
    pub fn held_by(&self, list: &str, all: bool) -> Result<Vec<Summary>> {
        let snap = self.snapshot()?;
        let index = self.index(&snap)?;
        let mut rows: Vec<&index::Row> = index
            .rows
            .iter()
            .filter(|r| index.to(r).any(|t| t == list))
            .filter(|r| {
                all || !index.states(r).any(|s| s.starts_with("archived:"))
                    || list.starts_with("channel:")
            })
            .collect();
        rows.sort_by(|a, b| {
            a.created_ms
                .cmp(&b.created_ms)
                .then_with(|| index.id(a).cmp(index.id(b)))
        });
        Ok(rows.into_iter().map(|r| summary(&index, r, "")).collect())
    }

    /// Claim the next unclaimed message of queue `name` for `mailbox` (fifo, or by
    /// priority when the queue says so). `None` when there is nothing to claim.
    pub fn claim(&self, actor: &Actor, mailbox: &str, name: &str) -> Result<Option<Message>> {
        let lists = self.lists()?;
        let def = lists.get(ListKind::Queue, name).ok_or_else(|| {
            Error::invalid(format!("no queue '{name}' (see `git mail queue list`)"))
        })?;
        if !def.members.is_empty() {
            let members = Resolver::new(self.town, &lists).resolve_all(&def.members)?;
            if !members.iter().any(|m| m == mailbox) {
                return Err(Error::invalid(format!(
                    "{mailbox} is not a member of queue '{name}'"
                )));
            }
        }
        let by_priority = def.order.as_deref() == Some("priority");
        let target = format!("queue:{name}");
        self.store.write(COLLECTION, actor, |snap, batch| {
            let index = self.index(snap)?;
            let mut open: Vec<&index::Row> = index
                .rows
                .iter()
                .filter(|r| index.to(r).any(|t| t == target))
                .filter(|r| index.claimed_by(r).is_empty())
                .filter(|r| !index.states(r).any(|s| s.starts_with("archived:")))
                .collect();
            open.sort_by_key(|r| {
                (
                    if by_priority { r.priority } else { 0 },
                    r.created_ms,
                    index.id(r).to_string(),
                )
            });
            let Some(row) = open.first() else {
                return Ok(Outcome::Unchanged(None));
            };
            let id = index.id(row).to_string();
            let stamp = Stamp(batch.clock, actor.name.clone());
            let mut record = Record::parse(&snap.read_blob(row.blob)?)?;
            record.set("claimed_by", json!(mailbox), &stamp);
            record.set(
                "claimed_at",
                json!(crate::bead::schema::now_rfc3339()),
                &stamp,
            );
            records::put(batch, &message_path(&id), &record);
            let mut msg = message_from_record(
                &record,
                index.get(&id).map(|r| r.created_ms).unwrap_or(0),
                mailbox,
            );
            msg.summary.claimed_by = Some(mailbox.to_string());
            Ok(Outcome::Commit {
                message: format!("mail claim {id}: {target} by {mailbox}"),
                value: Some(msg),
            })
        })
    }

    /// Give a claimed queue message back to its queue (its claimant or the overseer).
    pub fn release(&self, actor: &Actor, mailbox: &str, id: &str) -> Result<Summary> {
        self.store.write(COLLECTION, actor, |snap, batch| {
            let index = self.index(snap)?;
            let id = resolve_id(&index, id)?;
            let row = index.get(&id).expect("resolved ids exist");
            let claimant = index.claimed_by(row);
            if claimant.is_empty() {
                return Err(Error::invalid(format!("message {id} is not claimed")));
            }
            if claimant != mailbox && mailbox != OVERSEER {
                return Err(Error::invalid(format!(
                    "message {id} is claimed by {claimant}, not {mailbox}"
                )));
            }
            let stamp = Stamp(batch.clock, actor.name.clone());
            let mut record = Record::parse(&snap.read_blob(row.blob)?)?;
            record.set("claimed_by", Value::Null, &stamp);
            record.set("claimed_at", Value::Null, &stamp);
            records::put(batch, &message_path(&id), &record);
            let mut s = summary(&index, row, mailbox);
            s.claimed_by = None;
            Ok(Outcome::Commit {
                message: format!("mail release {id} by {mailbox}"),
                value: s,
            })
        })
    }
}

/// Whether the message is in `mailbox`: addressed to it, claimed by it, or posted to a
/// channel it subscribes to.
fn visible_to(
    index: &MailIndex,
    row: &index::Row,
    mailbox: &str,
    subscriptions: &[String],
) -> bool {
    index.is_addressed_to(row, mailbox)
        || index.claimed_by(row) == mailbox
        || (!subscriptions.is_empty()
            && index.to(row).any(|t| subscriptions.iter().any(|s| s == t)))
}

/// Tombstone the channel's messages beyond its retention (the new one counts as one).
fn prune_channel(
    snap: &Snapshot<'_>,
    batch: &mut crate::store::WriteBatch,
    index: &MailIndex,
    def: &ListDef,
    stamp: &Stamp,
) -> Result<Vec<String>> {
    let target = format!("channel:{}", def.name);
    let mut rows: Vec<&index::Row> = index
        .rows
        .iter()
        .filter(|r| index.to(r).any(|t| t == target))
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.created_ms));
    let keep = def
        .retain_count
        .map(|n| n.saturating_sub(1) as usize)
        .unwrap_or(usize::MAX);
    let cutoff = def
        .retain_hours
        .map(|h| chrono::Utc::now().timestamp_millis() - (h as i64) * 3_600_000);
    let mut pruned = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        if i >= keep || cutoff.is_some_and(|c| row.created_ms < c) {
            let id = index.id(row).to_string();
            let mut record = Record::parse(&snap.read_blob(row.blob)?)?;
            record.deleted = Some(stamp.clone());
            records::put(batch, &message_path(&id), &record);
            pruned.push(id);
        }
    }
    Ok(pruned)
}

/// A message id from an exact id or a unique prefix.
pub fn resolve_id(index: &MailIndex, text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::invalid("an empty message id"));
    }
    if index.get(text).is_some() {
        return Ok(text.to_string());
    }
    let found: Vec<&str> = index.with_prefix(text).take(5).collect();
    match found.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(Error::invalid(format!(
            "no message '{}' (see `git mail inbox --all`)",
            text.escape_debug()
        ))),
        _ => Err(Error::Ambiguous {
            prefix: text.to_string(),
            candidates: found.iter().map(|s| s.to_string()).collect(),
        }),
    }
}

fn summary(index: &MailIndex, row: &index::Row, viewer: &str) -> Summary {
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Summary {
        id: index.id(row).to_string(),
        from: index.from(row).to_string(),
        to: index.to(row).map(str::to_string).collect(),
        cc: index.cc(row).map(str::to_string).collect(),
        subject: index.subject(row).to_string(),
        kind: index.kind(row).to_string(),
        priority: priority_name(row.priority).to_string(),
        thread: index.thread(row).to_string(),
        reply_to: opt(index.reply_to(row)),
        created: format_ms(row.created_ms),
        read: index.has_state(row, "read", viewer),
        acked: index.has_state(row, "acked", viewer),
        archived: index.has_state(row, "archived", viewer),
        delivered: index.has_state(row, "delivered", viewer),
        claimed_by: opt(index.claimed_by(row)),
    }
}

fn message(snap: &Snapshot<'_>, row: &index::Row, viewer: &str) -> Result<Message> {
    let record = Record::parse(&snap.read_blob(row.blob)?)?;
    Ok(message_from_record(&record, row.created_ms, viewer))
}

fn message_from_record(record: &Record, created_ms: i64, viewer: &str) -> Message {
    let opt = |k: &str| record.str(k).map(str::to_string);
    let has = |state: State| {
        record
            .label_names()
            .any(|l| l == format!("{}:{viewer}", state.as_str()))
    };
    Message {
        summary: Summary {
            id: record.id.clone(),
            from: opt("from").unwrap_or_default(),
            to: strings(record, "to"),
            cc: strings(record, "cc"),
            subject: opt("subject").unwrap_or_default(),
            kind: opt("type").unwrap_or_default(),
            priority: opt("priority").unwrap_or_else(|| "normal".into()),
            thread: opt("thread").unwrap_or_default(),
            reply_to: opt("reply_to"),
            created: opt("created_at").unwrap_or_else(|| format_ms(created_ms)),
            read: has(State::Read),
            acked: has(State::Acked),
            archived: has(State::Archived),
            delivered: has(State::Delivered),
            claimed_by: opt("claimed_by"),
        },
        body: opt("body").unwrap_or_default(),
        payload: record.get("payload").cloned(),
        sent_to: strings(record, "sent_to"),
        read_by: with_state(record, State::Read),
        acked_by: with_state(record, State::Acked),
        archived_by: with_state(record, State::Archived),
        delivered_to: with_state(record, State::Delivered),
    }
}
