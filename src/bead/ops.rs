//! Writes to the bead store. Every public function here is one logical write: one commit
//! under the collection lock, or an error and nothing written.

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Map, Value};

use super::id::{adaptive_length, hash_id, record_path};
use super::index::Index;
use super::record::{Member, Origin, Record, Register, Stamp};
use super::schema::{self, now_rfc3339};
use super::{COLLECTION, FORMAT_VERSION, WISP_COLLECTION};
use crate::error::{Error, Result};
use crate::store::{Actor, Outcome, Snapshot, Store, WriteBatch};

/// Commit header carrying the number of bead records (for adaptive id length).
pub const COUNT_HEADER: &str = "gastown-beads";
const CONFIG_PATH: &str = "meta/config.json";

/// Store-wide settings, shared by every clone through the store itself.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Config {
    pub prefix: String,
    pub types: Vec<String>,
    pub statuses: Vec<String>,
    pub format: u32,
}

/// Keys `git bead config` may set.
pub const CONFIG_KEYS: [&str; 3] = ["prefix", "types", "statuses"];

impl Config {
    fn from_registers(registers: &BTreeMap<String, Register>) -> Result<Config> {
        let text = |k: &str| {
            registers
                .get(k)
                .and_then(|r| r.v.as_str())
                .unwrap_or("")
                .to_string()
        };
        let list = |k: &str| {
            text(k)
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let format = registers
            .get("format")
            .and_then(|r| r.v.as_u64())
            .unwrap_or(1) as u32;
        if format > FORMAT_VERSION {
            return Err(Error::invalid(format!(
                "this bead store has format {format}, newer than this gastown understands ({FORMAT_VERSION}); upgrade gastown"
            )));
        }
        Ok(Config {
            prefix: text("prefix"),
            types: list("types"),
            statuses: list("statuses"),
            format,
        })
    }
}

/// A bead to create.
#[derive(Debug, Clone, Default)]
pub struct NewBead {
    /// An explicit id (kept as is); otherwise one is generated.
    pub id: Option<String>,
    pub title: String,
    /// Any other fields, by their bd JSON names (description, issue_type, priority, ...).
    pub fields: Map<String, Value>,
    pub labels: Vec<String>,
    /// Parent (an id or unique prefix): the new bead becomes `<parent>.N`.
    pub parent: Option<String>,
    /// (target id or prefix, dependency type).
    pub deps: Vec<(String, String)>,
}

/// The bead store of one repository: the shared beads, or the clone-local wisps.
pub struct Beads<'s> {
    pub store: &'s Store,
    pub collection: &'static str,
}

/// What a modification closure gets: the record, this write's stamp, and the snapshot and
/// index it was read from.
pub struct Edit<'a, 'r> {
    pub record: &'a mut Record,
    pub stamp: &'a Stamp,
    pub snap: &'a Snapshot<'r>,
    pub index: Option<&'a Index>,
    pub config: &'a Config,
    pub actor: &'a Actor,
}

impl<'a, 'r> Edit<'a, 'r> {
    pub fn set(&mut self, key: &str, value: Value) -> bool {
        self.record.set(key, value, self.stamp)
    }

    /// Set the status, keeping `closed_at` (and close bookkeeping) consistent with it.
    pub fn set_status(&mut self, status: &str) -> bool {
        let mut changed = self.set("status", json!(status));
        if status == "closed" {
            if self.record.get("closed_at").is_none() || changed {
                changed |= self.set("closed_at", json!(now_rfc3339()));
            }
        } else {
            changed |= self.set("closed_at", Value::Null);
        }
        if status == "in_progress" && self.record.get("started_at").is_none() {
            changed |= self.set("started_at", json!(now_rfc3339()));
        }
        changed
    }

    pub fn index(&self) -> Result<&Index> {
        self.index
            .ok_or_else(|| Error::Git("index not loaded for this edit".into()))
    }
}

/// What `modify_in` did: every named record (changed or not) and the ids it changed.
pub struct Modified {
    pub records: Vec<Record>,
    pub changed: Vec<String>,
}

impl Modified {
    /// The commit message of a modification: `bead VERB ID: TITLE`, or the ids for many.
    pub fn message(&self, verb: &str) -> String {
        match self.changed.as_slice() {
            [one] => {
                let title = self
                    .records
                    .iter()
                    .find(|r| &r.id == one)
                    .map(|r| r.title())
                    .unwrap_or_default();
                format!("bead {verb} {one}: {title}")
            }
            many => {
                let ids: Vec<&str> = many.iter().map(String::as_str).collect();
                format!("bead {verb} {}", summarize_ids(&ids))
            }
        }
    }
}

impl<'s> Beads<'s> {
    pub fn new(store: &'s Store) -> Self {
        Beads {
            store,
            collection: COLLECTION,
        }
    }

    /// Ephemeral molecules: the same records in a collection sync never pushes.
    pub fn wisps(store: &'s Store) -> Self {
        Beads {
            store,
            collection: WISP_COLLECTION,
        }
    }

    /// The store holding `id`: wisp ids (`<prefix>-wisp-…`) live in the wisp collection.
    pub fn for_id(store: &'s Store, id: &str) -> Self {
        if id.contains("wisp-") {
            Beads::wisps(store)
        } else {
            Beads::new(store)
        }
    }

    /// The current snapshot; an error if the store was never initialised.
    pub fn snapshot(&self) -> Result<Snapshot<'s>> {
        let snap = self.store.snapshot(self.collection)?;
        if !snap.exists() {
            return Err(Error::NotInitialized("bead"));
        }
        Ok(snap)
    }

    pub fn config(&self, snap: &Snapshot<'_>) -> Result<Config> {
        let bytes = snap
            .read(CONFIG_PATH)?
            .ok_or(Error::NotInitialized("bead"))?;
        let registers: BTreeMap<String, Register> = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Git(format!("corrupt {CONFIG_PATH}: {e}")))?;
        Config::from_registers(&registers)
    }

    pub fn index(&self, snap: &Snapshot<'_>) -> Result<Index> {
        Index::for_snapshot(self.store, self.collection, snap)
    }

    /// Create the store with `prefix`. Re-running with the same prefix changes nothing.
    pub fn init(&self, actor: &Actor, prefix: &str) -> Result<(Config, bool)> {
        let prefix = schema::normalize_prefix(prefix)?;
        let prefix = prefix.as_str();
        self.store.write(self.collection, actor, |snap, batch| {
            if let Some(bytes) = snap.read(CONFIG_PATH)? {
                let registers: BTreeMap<String, Register> = serde_json::from_slice(&bytes)
                    .map_err(|e| Error::Git(format!("corrupt {CONFIG_PATH}: {e}")))?;
                let config = Config::from_registers(&registers)?;
                if config.prefix != prefix {
                    return Err(Error::invalid(format!(
                        "the bead store already exists with prefix '{}'; change it with `git bead config set prefix {prefix}`",
                        config.prefix
                    )));
                }
                return Ok(Outcome::Unchanged((config, false)));
            }
            let stamp = Stamp(batch.clock, actor.name.clone());
            let mut registers = BTreeMap::new();
            for (k, v) in [("prefix", json!(prefix)), ("format", json!(FORMAT_VERSION))] {
                registers.insert(k.to_string(), Register { v, at: stamp.clone() });
            }
            batch.put(CONFIG_PATH, config_bytes(&registers));
            batch.header(COUNT_HEADER, "0");
            Ok(Outcome::Commit {
                message: format!("bead init: prefix {prefix}"),
                value: (Config::from_registers(&registers)?, true),
            })
        })
    }

    /// Set a store-wide setting.
    pub fn set_config(&self, actor: &Actor, key: &str, value: &str) -> Result<Config> {
        if !CONFIG_KEYS.contains(&key) {
            return Err(Error::invalid(format!(
                "unknown config key '{key}' (known: {})",
                CONFIG_KEYS.join(", ")
            )));
        }
        let normalized;
        let value = if key == "prefix" {
            normalized = schema::normalize_prefix(value)?;
            normalized.as_str()
        } else {
            value
        };
        self.store.write(self.collection, actor, |snap, batch| {
            let bytes = snap
                .read(CONFIG_PATH)?
                .ok_or(Error::NotInitialized("bead"))?;
            let mut registers: BTreeMap<String, Register> = serde_json::from_slice(&bytes)
                .map_err(|e| Error::Git(format!("corrupt {CONFIG_PATH}: {e}")))?;
            registers.insert(
                key.to_string(),
                Register {
                    v: json!(value),
                    at: Stamp(batch.clock, actor.name.clone()),
                },
            );
            batch.put(CONFIG_PATH, config_bytes(&registers));
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!("bead config: {key} = {value}"),
                value: Config::from_registers(&registers)?,
            })
        })
    }

    /// Resolve a full id, an id without its prefix, or a unique prefix of either.
    pub fn resolve(
        &self,
        snap: &Snapshot<'_>,
        config: &Config,
        partial: &str,
        index: &mut Option<Index>,
    ) -> Result<String> {
        let partial = partial.trim();
        if partial.is_empty() || partial.contains('/') {
            return Err(Error::NotFound(partial.to_string()));
        }
        let prefixed = format!("{}-{partial}", config.prefix);
        for candidate in [partial, prefixed.as_str()] {
            if schema::validate_id(candidate).is_err() {
                continue;
            }
            if let Some(bytes) = snap.read(&record_path(candidate))? {
                let record = Record::parse(&bytes)?;
                if record.is_deleted() {
                    return Err(Error::invalid(format!("bead {candidate} was deleted")));
                }
                return Ok(candidate.to_string());
            }
        }
        if index.is_none() {
            *index = Some(self.index(snap)?);
        }
        let index = index.as_ref().expect("just loaded");
        let mut found: Vec<&str> = index.with_prefix(partial).collect();
        if !partial.starts_with(&format!("{}-", config.prefix)) {
            found.extend(index.with_prefix(&prefixed));
        }
        found.sort_unstable();
        found.dedup();
        match found.as_slice() {
            [one] => Ok(one.to_string()),
            [] => Err(Error::NotFound(partial.to_string())),
            many => Err(Error::Ambiguous {
                prefix: partial.to_string(),
                candidates: many.iter().take(10).map(|s| s.to_string()).collect(),
            }),
        }
    }

    /// Read one bead.
    pub fn load(&self, snap: &Snapshot<'_>, id: &str) -> Result<Record> {
        let bytes = snap
            .read(&record_path(id))?
            .ok_or_else(|| Error::NotFound(id.to_string()))?;
        Record::parse(&bytes)
    }

    /// Create beads in one commit.
    pub fn create(&self, actor: &Actor, beads: Vec<NewBead>) -> Result<Vec<Record>> {
        if beads.is_empty() {
            return Err(Error::invalid("nothing to create"));
        }
        for bead in &beads {
            if bead.title.trim().is_empty() {
                return Err(Error::invalid("a bead needs a non-empty title"));
            }
            if bead.title.chars().count() > 500 {
                return Err(Error::invalid(format!(
                    "title too long ({} characters, at most 500): '{}…'",
                    bead.title.chars().count(),
                    bead.title.chars().take(40).collect::<String>()
                )));
            }
        }
        self.store.write(self.collection, actor, |snap, batch| {
            check_explicit_parents(snap, &self.config(snap)?, &beads)?;
            let created = self.create_in(snap, batch, actor, &beads, "")?;
            let ids: Vec<&str> = created.iter().map(|r| r.id.as_str()).collect();
            let message = match created.as_slice() {
                [one] => format!("bead create {}: {}", one.id, one.title()),
                _ => format!(
                    "bead create {} beads: {}",
                    created.len(),
                    summarize_ids(&ids)
                ),
            };
            Ok(Outcome::Commit {
                message,
                value: created,
            })
        })
    }

    /// The records for `beads`, put into `batch` (the body of a create, for writes that
    /// create beads among other changes). Generated ids get `<prefix><infix>-<hash>`.
    /// Dependencies and parents may name beads created earlier in the same list.
    pub fn create_in(
        &self,
        snap: &Snapshot<'_>,
        batch: &mut WriteBatch,
        actor: &Actor,
        beads: &[NewBead],
        infix: &str,
    ) -> Result<Vec<Record>> {
        let config = self.config(snap)?;
        let mut index = None;
        let stamp = Stamp(batch.clock, actor.name.clone());
        let count: usize = snap
            .header(COUNT_HEADER)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let mut taken: HashSet<String> = HashSet::new();
        let mut created = Vec::new();
        let now = now_rfc3339();
        for (n, bead) in beads.iter().enumerate() {
            let parent = match &bead.parent {
                Some(p) if taken.contains(p) => Some(p.clone()),
                Some(p) => Some(self.resolve(snap, &config, p, &mut index)?),
                None => None,
            };
            let id = match (&bead.id, &parent) {
                (Some(id), _) => {
                    schema::validate_id(id)?;
                    if taken.contains(id) || snap.resolve(&record_path(id))?.is_some() {
                        return Err(Error::invalid(format!("bead {id} already exists")));
                    }
                    id.clone()
                }
                (None, Some(parent)) => next_child_id(snap, parent, &taken)?,
                (None, None) => {
                    let seed = format!(
                        "{}|{}|{}|{}|{}",
                        bead.title,
                        text_field(&bead.fields, "description"),
                        actor.name,
                        now,
                        n
                    );
                    let prefix = format!("{}{infix}", config.prefix);
                    new_hash_id(snap, &prefix, &seed, count + created.len() + 1, &taken)?
                }
            };
            taken.insert(id.clone());
            let mut record = Record::new(
                id.clone(),
                Origin {
                    at: stamp.clone(),
                    nonce: nonce(&id),
                },
            );
            let mut fields = bead.fields.clone();
            validate_fields(&mut fields, &config)?;
            record.set("title", json!(bead.title.trim()), &stamp);
            record.set("status", json!("open"), &stamp);
            record.set("priority", json!(2), &stamp);
            record.set("issue_type", json!("task"), &stamp);
            record.set("created_at", json!(now), &stamp);
            record.set("created_by", json!(actor.name), &stamp);
            record.set("updated_at", json!(now), &stamp);
            for (key, value) in fields {
                record.set(&key, value, &stamp);
            }
            if record.status() == "closed" && record.get("closed_at").is_none() {
                record.set("closed_at", json!(now), &stamp);
            }
            for label in &bead.labels {
                record.set_label(&schema::validate_label(label)?, true, &stamp);
            }
            if let Some(parent) = &parent {
                add_dep(
                    &mut record,
                    parent,
                    "parent-child",
                    &stamp,
                    &actor.name,
                    &now,
                );
            }
            for (target, kind) in &bead.deps {
                let kind = schema::validate_dep_type(kind)?;
                let target = if taken.contains(target) {
                    target.clone()
                } else {
                    self.resolve(snap, &config, target, &mut index)?
                };
                if target == id {
                    return Err(Error::invalid(format!("bead {id} cannot depend on itself")));
                }
                add_dep(&mut record, &target, &kind, &stamp, &actor.name, &now);
            }
            batch.put(record_path(&id), record.to_bytes());
            created.push(record);
        }
        carry_count(snap, batch, created.len());
        Ok(created)
    }

    /// Apply `change` to each of `ids` in one commit. `change` returns whether it changed
    /// the record; unchanged records are not rewritten, and with nothing changed there is
    /// no commit. `with_index` loads the dependency index for the closure.
    pub fn modify(
        &self,
        actor: &Actor,
        verb: &str,
        ids: &[String],
        with_index: bool,
        mut change: impl FnMut(&mut Edit<'_, '_>) -> Result<bool>,
    ) -> Result<Vec<Record>> {
        if ids.is_empty() {
            return Err(Error::invalid("no bead id given"));
        }
        self.store.write(self.collection, actor, |snap, batch| {
            let modified = self.modify_in(snap, batch, actor, ids, with_index, &mut change)?;
            if modified.changed.is_empty() {
                return Ok(Outcome::Unchanged(modified.records));
            }
            let message = modified.message(verb);
            Ok(Outcome::Commit {
                message,
                value: modified.records,
            })
        })
    }

    /// The body of `modify`, for a write that changes beads among other records: resolves
    /// `ids`, applies `change` to each and puts the changed records into `batch`.
    pub fn modify_in(
        &self,
        snap: &Snapshot<'_>,
        batch: &mut WriteBatch,
        actor: &Actor,
        ids: &[String],
        with_index: bool,
        mut change: impl FnMut(&mut Edit<'_, '_>) -> Result<bool>,
    ) -> Result<Modified> {
        let config = self.config(snap)?;
        let mut index = if with_index {
            Some(self.index(snap)?)
        } else {
            None
        };
        let stamp = Stamp(batch.clock, actor.name.clone());
        let mut resolved = Vec::new();
        for partial in ids {
            let id = self.resolve(snap, &config, partial, &mut index)?;
            if !resolved.contains(&id) {
                resolved.push(id);
            }
        }
        let mut records = Vec::new();
        let mut changed = Vec::new();
        for id in resolved {
            let mut record = self.load(snap, &id)?;
            let was_changed = change(&mut Edit {
                record: &mut record,
                stamp: &stamp,
                snap,
                index: index.as_ref(),
                config: &config,
                actor,
            })?;
            if was_changed {
                record.set("updated_at", json!(now_rfc3339()), &stamp);
                batch.put(record_path(&id), record.to_bytes());
                changed.push(id);
            }
            records.push(record);
        }
        if !changed.is_empty() {
            carry_count(snap, batch, 0);
        }
        Ok(Modified { records, changed })
    }
}

/// Add (or revive) a dependency member.
pub fn add_dep(
    record: &mut Record,
    target: &str,
    kind: &str,
    stamp: &Stamp,
    actor: &str,
    now: &str,
) -> bool {
    if let Some(existing) = record.deps.get(target) {
        if existing.on && existing.data.get("type").and_then(Value::as_str) == Some(kind) {
            return false;
        }
    }
    let mut data = Map::new();
    data.insert("type".into(), json!(kind));
    data.insert("created_at".into(), json!(now));
    data.insert("created_by".into(), json!(actor));
    record.deps.insert(
        target.to_string(),
        Member {
            on: true,
            at: stamp.clone(),
            data,
        },
    );
    true
}

fn config_bytes(registers: &BTreeMap<String, Register>) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(registers).expect("config serialises");
    bytes.push(b'\n');
    bytes
}

/// Keep the record count header current across writes.
pub fn carry_count(snap: &Snapshot<'_>, batch: &mut WriteBatch, added: usize) {
    let count: usize = batch
        .header_value(COUNT_HEADER)
        .or_else(|| snap.header(COUNT_HEADER))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    batch.header(COUNT_HEADER, (count + added).to_string());
}

fn text_field<'a>(fields: &'a Map<String, Value>, key: &str) -> &'a str {
    fields.get(key).and_then(Value::as_str).unwrap_or("")
}

fn validate_fields(fields: &mut Map<String, Value>, config: &Config) -> Result<()> {
    if let Some(v) = fields.get("issue_type").and_then(Value::as_str) {
        let t = schema::normalize_type(v, &config.types)?;
        fields.insert("issue_type".into(), json!(t));
    }
    if let Some(v) = fields.get("status").and_then(Value::as_str) {
        let s = schema::normalize_status(v, &config.statuses)?;
        fields.insert("status".into(), json!(s));
    }
    if let Some(v) = fields.get("priority") {
        let p = match v {
            Value::Number(n) => schema::parse_priority(&n.to_string())?,
            Value::String(s) => schema::parse_priority(s)?,
            other => return Err(Error::invalid(format!("bad priority {other}"))),
        };
        fields.insert("priority".into(), json!(p));
    }
    Ok(())
}

pub fn new_hash_id(
    snap: &Snapshot<'_>,
    prefix: &str,
    seed: &str,
    count: usize,
    taken: &HashSet<String>,
) -> Result<String> {
    let mut len = adaptive_length(count);
    loop {
        for nonce in 0..10u32 {
            let id = hash_id(prefix, seed, nonce + (len as u32) * 10, len);
            if !taken.contains(&id) && snap.resolve(&record_path(&id))?.is_none() {
                return Ok(id);
            }
        }
        if len >= 13 {
            return Err(Error::Git("could not find a free bead id".into()));
        }
        len += 1;
    }
}

/// bd refuses an explicit child id (`P.N`) whose parent P is missing: it would be an orphan.
/// (Molecule steps, `<root>.<step>`, are created with their root and skip this.)
fn check_explicit_parents(snap: &Snapshot<'_>, config: &Config, beads: &[NewBead]) -> Result<()> {
    for id in beads.iter().filter_map(|b| b.id.as_deref()) {
        schema::validate_explicit_id(id)?;
        let Some(parent) = super::id::numbered_parent(id, &config.prefix) else {
            continue;
        };
        let live = match snap.read(&record_path(parent))? {
            Some(bytes) => !Record::parse(&bytes)?.is_deleted(),
            None => beads.iter().any(|b| b.id.as_deref() == Some(parent)),
        };
        if !live {
            return Err(Error::invalid(format!(
                "cannot create {id}: its parent {parent} does not exist (create {parent} first, or use --parent)"
            )));
        }
    }
    Ok(())
}

fn next_child_id(snap: &Snapshot<'_>, parent: &str, taken: &HashSet<String>) -> Result<String> {
    for n in 1u32.. {
        let id = format!("{parent}.{n}");
        if !taken.contains(&id) && snap.resolve(&record_path(&id))?.is_none() {
            return Ok(id);
        }
    }
    unreachable!("u32 children exhausted")
}

/// A creation nonce: unique per process, time and id, so two clones minting one id differ.
pub fn nonce(id: &str) -> String {
    use sha2::{Digest, Sha256};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let digest = Sha256::digest(format!("{id}|{now}|{}|{n}", std::process::id()).as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn summarize_ids(ids: &[&str]) -> String {
    if ids.len() <= 8 {
        ids.join(", ")
    } else {
        format!("{}, … (+{} more)", ids[..8].join(", "), ids.len() - 8)
    }
}

impl Beads<'_> {
    /// `ready --claim`: under the lock, claim the first ready bead for the actor.
    pub fn claim_first_ready(
        &self,
        actor: &Actor,
        filter: &super::query::Filter,
        sort: super::query::Sort,
        now_ms: i64,
    ) -> Result<Option<Record>> {
        self.store.write(self.collection, actor, |snap, batch| {
            let config = self.config(snap)?;
            let index = self.index(snap)?;
            let filter = super::query::Filter {
                unassigned: true,
                ..filter.clone()
            };
            let (rows, _) = super::query::ready(snap, &index, &filter, sort, 0, now_ms)?;
            let Some(&first) = rows.first() else {
                return Ok(Outcome::Unchanged(None));
            };
            let id = index.id(&index.rows[first]).to_string();
            let mut record = self.load(snap, &id)?;
            let stamp = Stamp(batch.clock, actor.name.clone());
            super::rules::claim(&mut Edit {
                record: &mut record,
                stamp: &stamp,
                snap,
                index: Some(&index),
                config: &config,
                actor,
            })?;
            record.set("updated_at", json!(now_rfc3339()), &stamp);
            batch.put(record_path(&id), record.to_bytes());
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!("bead claim {id}: {}", record.title()),
                value: Some(record),
            })
        })
    }
}
