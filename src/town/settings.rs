//! Shared town and rig policy (`git gastown config`): one file per key,
//! `settings/<key>.json`, in the store's work collection, so settings travel with sync and
//! two clones setting different keys both keep theirs. The file is a register map with one
//! stamped last-writer-wins register, `{"value": {"v": …, "at": [clock, actor]}}`: sync
//! joins register maps by stamp, so two clones setting the same key converge on the later
//! write (a bare register would be joined as opaque bytes). A rig's value overrides the
//! town's, which overrides the built-in default.
//! Machine-local settings (paths to agent binaries) are git config (`gastown.*`) instead.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use crate::bead::ops::carry_count;
use crate::bead::record::{Register, Stamp};
use crate::bead::COLLECTION;
use crate::error::{Error, Result};
use crate::store::{Actor, Outcome, Snapshot, Store};

const DIR: &str = "settings";

/// The type a setting's value must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Bool,
    Text,
    /// Comma-separated list of words.
    List,
    /// A duration such as `30s`, `5m`, `4h`, `2d`.
    Duration,
}

/// A setting the suite knows: key (a `*` matches one dotted word), type, default, meaning.
pub struct Known {
    pub key: &'static str,
    pub kind: Kind,
    pub default: Option<&'static str>,
    pub about: &'static str,
}

/// Every key `git gastown config` accepts. Later domains add rows here.
#[rustfmt::skip]
pub const KNOWN: &[Known] = &[
    Known { key: "agent.default", kind: Kind::Text, default: Some("claude"), about: "runtime for new sessions (claude, codex, ... or a custom runtime)" },
    Known { key: "namepool.theme", kind: Kind::Text, default: Some("mad-max"), about: "polecat names: mad-max, minerals, wasteland or custom" },
    Known { key: "namepool.names", kind: Kind::List, default: None, about: "names of the custom pool (namepool.theme = custom)" },
    Known { key: "sandbox.setup", kind: Kind::Text, default: None, about: "command run (by sh, in the new sandbox) after a sandbox is created" },
    Known { key: "sandbox.copy", kind: Kind::List, default: None, about: "untracked files copied from the rig into each new sandbox (e.g. .env)" },
    Known { key: "scheduler.max_polecats", kind: Kind::Int, default: Some("0"), about: "live polecat sessions per rig (0: no limit)" },
    Known { key: "scheduler.max_sessions", kind: Kind::Int, default: Some("0"), about: "live sessions in the town (0: no limit)" },
    Known { key: "scheduler.paused", kind: Kind::Bool, default: Some("false"), about: "queued dispatches wait (git sling queue pause|resume)" },
    Known { key: "workflow.default_formula", kind: Kind::Text, default: None, about: "formula poured onto slung beads (e.g. mol-polecat-work)" },
    Known { key: "dispatch.auto", kind: Kind::Bool, default: Some("false"), about: "patrol slings ready beads to idle polecats" },
    Known { key: "merge_queue.target", kind: Kind::Text, default: None, about: "branch merge requests target (default: the rig's HEAD branch)" },
    Known { key: "merge_queue.auto", kind: Kind::Bool, default: Some("true"), about: "done starts a merge-queue pass" },
    Known { key: "merge_queue.strategy", kind: Kind::Text, default: Some("rebase"), about: "rebase or merge branches onto the target" },
    Known { key: "merge_queue.batch_size", kind: Kind::Int, default: Some("1"), about: "merge requests tested together" },
    Known { key: "merge_queue.max_retries", kind: Kind::Int, default: Some("5"), about: "gate failures before escalation" },
    Known { key: "merge_queue.delete_merged", kind: Kind::Bool, default: Some("true"), about: "delete merged branches" },
    Known { key: "merge_queue.gates.*", kind: Kind::Text, default: None, about: "a gate command run before merging (by sh, in the scratch worktree)" },
    Known { key: "merge_queue.gate_timeout", kind: Kind::Duration, default: Some("30m"), about: "a gate running longer fails (timeout)" },
    Known { key: "merge_queue.gate_timeouts.*", kind: Kind::Duration, default: None, about: "the timeout of one gate (overrides merge_queue.gate_timeout)" },
    Known { key: "merge_queue.gates_parallel", kind: Kind::Bool, default: Some("true"), about: "run the gates at the same time (false: one after another)" },
    Known { key: "merge_queue.starve_after", kind: Kind::Duration, default: Some("1h"), about: "a request waiting longer goes ahead of newer ones, whatever their score" },
    Known { key: "patrol.stuck_after", kind: Kind::Duration, default: Some("30m"), about: "no activity for this long: stuck" },
    Known { key: "patrol.lazy_after", kind: Kind::Duration, default: None, about: "commands start a background patrol when the last is older" },
    Known { key: "patrol.half_made_after", kind: Kind::Duration, default: Some("10m"), about: "a polecat that never ran, whose sandbox a killed sling left unmade this long, is nuked by patrol" },
    Known { key: "patrol.start_grace", kind: Kind::Duration, default: Some("30s"), about: "a bead a sling hooked this long ago whose session never started is started by patrol" },
    Known { key: "patrol.stale_hook_after", kind: Kind::Duration, default: Some("1h"), about: "a bead hooked this long on an agent that never started is released" },
    Known { key: "patrol.wisp_ttl", kind: Kind::Duration, default: Some("24h"), about: "closed wisps older than this are deleted by patrol" },
    Known { key: "dispatch.batch", kind: Kind::Int, default: Some("3"), about: "beads dispatch.auto slings per rig and pass when no scheduler limit applies" },
    Known { key: "escalation.stale_threshold", kind: Kind::Duration, default: Some("4h"), about: "unacknowledged escalations are bumped after this" },
    Known { key: "escalation.max_reescalations", kind: Kind::Int, default: Some("2"), about: "bumps per escalation" },
    Known { key: "hooks.locked_paths", kind: Kind::Text, default: Some("warn"), about: "pre-push hook when a pushed commit touches a path another agent has locked: warn or refuse" },
    Known { key: "escalation.notify_command", kind: Kind::List, default: None, about: "program and arguments (comma-separated, no shell) run by the notify route, the escalation as JSON on stdin" },
    Known { key: "escalation.notify_timeout", kind: Kind::Duration, default: Some("30s"), about: "the notify command is killed after this (its failure is recorded)" },
    Known { key: "escalation.routes.low", kind: Kind::List, default: None, about: "where LOW escalations go: mail:ADDRESS and notify (default: recorded only)" },
    Known { key: "escalation.routes.medium", kind: Kind::List, default: Some("mail:mayor"), about: "where MEDIUM escalations go: mail:ADDRESS and notify" },
    Known { key: "escalation.routes.high", kind: Kind::List, default: Some("mail:mayor,mail:overseer"), about: "where HIGH escalations go: mail:ADDRESS and notify" },
    Known { key: "escalation.routes.critical", kind: Kind::List, default: Some("mail:mayor,mail:overseer,notify"), about: "where CRITICAL escalations go: mail:ADDRESS and notify" },
    Known { key: "telemetry.logs_url", kind: Kind::Text, default: None, about: "OTLP/HTTP endpoint commands send their events to (GT_OTEL_LOGS_URL overrides)" },
    Known { key: "telemetry.metrics_url", kind: Kind::Text, default: None, about: "OTLP/HTTP endpoint commands send their counters to (GT_OTEL_METRICS_URL overrides)" },
];

/// The register's name inside a setting's file.
const VALUE: &str = "value";

/// A setting as stored or defaulted, for `config get|list`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Setting {
    pub key: String,
    pub value: Value,
    /// `rig`, `town` or `default`.
    pub source: String,
    /// The rig whose value this is (source `rig`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rig: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_by: Option<String>,
}

/// What `config set|unset` did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Changed {
    #[serde(flatten)]
    pub setting: Setting,
    /// False when the value was already so (nothing was written).
    pub changed: bool,
}

/// The settings of one store.
pub struct Settings<'s> {
    store: &'s Store,
}

/// Find the row for `key`, if the suite knows it.
pub fn known(key: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|k| pattern_matches(k.key, key))
}

/// The row for `key`, or the one-line error naming it. Only known keys reach a path, so a
/// key never escapes `settings/`.
pub fn require_known(key: &str) -> Result<&'static Known> {
    known(key).ok_or_else(|| {
        Error::invalid(format!(
            "unknown setting '{key}' (see `git gastown config list --known`)"
        ))
    })
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Int => "int",
            Kind::Bool => "bool",
            Kind::Text => "text",
            Kind::List => "list",
            Kind::Duration => "duration",
        }
    }
}

fn pattern_matches(pattern: &str, key: &str) -> bool {
    let mut p = pattern.split('.');
    let mut k = key.split('.');
    loop {
        match (p.next(), k.next()) {
            (None, None) => return true,
            (Some("*"), Some(word)) if valid_word(word) => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

fn valid_word(word: &str) -> bool {
    !word.is_empty()
        && word.len() <= 64
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Check and normalise a value for `key`: ints become numbers, bools true/false, lists arrays.
pub fn parse_value(key: &str, text: &str) -> Result<Value> {
    let row = require_known(key)?;
    let bad = |what: &str| Error::invalid(format!("bad value '{text}' for {key}: expected {what}"));
    Ok(match row.kind {
        Kind::Int => json!(text
            .trim()
            .parse::<u64>()
            .map_err(|_| bad("a whole number"))?),
        Kind::Bool => match text.trim() {
            "true" | "yes" | "on" | "1" => json!(true),
            "false" | "no" | "off" | "0" => json!(false),
            _ => return Err(bad("true or false")),
        },
        Kind::Text => {
            if text.contains(['\0', '\n']) {
                return Err(bad("one line of text"));
            }
            json!(text)
        }
        Kind::List => {
            let items: Vec<&str> = text
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            if items.iter().any(|s| s.contains(['\0', '\n'])) {
                return Err(bad("a comma-separated list"));
            }
            json!(items)
        }
        Kind::Duration => {
            parse_duration(text).ok_or_else(|| bad("a duration such as 30s, 5m, 4h or 2d"))?;
            json!(text.trim())
        }
    })
}

/// `30s`, `5m`, `4h`, `2d` (or plain seconds) as seconds.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = digits.parse().ok()?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    n.checked_mul(mult)
}

fn path_of(key: &str) -> String {
    format!("{DIR}/{key}.json")
}

impl<'s> Settings<'s> {
    pub fn new(store: &'s Store) -> Self {
        Settings { store }
    }

    /// Every setting stored here (set, not unset).
    pub fn stored(&self) -> Result<BTreeMap<String, Register>> {
        let snap = self.store.snapshot(COLLECTION)?;
        stored_in(&snap)
    }

    /// The stored value of a known `key`, if set here.
    pub fn get(&self, key: &str) -> Result<Option<Register>> {
        require_known(key)?;
        let snap = self.store.snapshot(COLLECTION)?;
        read_register(&snap, key)
    }

    /// Set (or, with `None`, unset) `key`, as the `source` layer (`town` or `rig`, for the
    /// answer). One commit; nothing when the value is already so.
    pub fn set(&self, actor: &Actor, key: &str, value: Option<&str>) -> Result<Changed> {
        let parsed = match value {
            Some(text) => parse_value(key, text)?,
            None => {
                require_known(key)?;
                Value::Null
            }
        };
        self.store.write(COLLECTION, actor, |snap, batch| {
            if !snap.exists() {
                return Err(Error::NotInitialized("bead"));
            }
            let current = read_register(snap, key)?
                .map(|r| r.v)
                .unwrap_or(Value::Null);
            let setting = Setting {
                key: key.to_string(),
                value: parsed.clone(),
                source: String::new(),
                rig: None,
                set_by: Some(actor.name.clone()),
            };
            if current == parsed {
                return Ok(Outcome::Unchanged(Changed {
                    setting,
                    changed: false,
                }));
            }
            let register = Register {
                v: parsed.clone(),
                at: Stamp(batch.clock, actor.name.clone()),
            };
            let file = BTreeMap::from([(VALUE.to_string(), register)]);
            let mut bytes = serde_json::to_vec(&file).expect("registers serialise");
            bytes.push(b'\n');
            batch.put(path_of(key), bytes);
            carry_count(snap, batch, 0);
            let message = match value {
                Some(text) => format!("config set {key} = {text}"),
                None => format!("config unset {key}"),
            };
            Ok(Outcome::Commit {
                message,
                value: Changed {
                    setting,
                    changed: true,
                },
            })
        })
    }
}

/// Every setting stored in a snapshot, unset ones left out.
pub(crate) fn stored_in(snap: &Snapshot<'_>) -> Result<BTreeMap<String, Register>> {
    let mut out = BTreeMap::new();
    for (path, oid) in snap.walk(DIR)? {
        let Some(key) = path
            .strip_prefix(&format!("{DIR}/"))
            .and_then(|p| p.strip_suffix(".json"))
        else {
            continue;
        };
        if let Some(register) = parse_register(&path, &snap.read_blob(oid)?)? {
            out.insert(key.to_string(), register);
        }
    }
    Ok(out)
}

fn read_register(snap: &Snapshot<'_>, key: &str) -> Result<Option<Register>> {
    let path = path_of(key);
    match snap.read(&path)? {
        Some(bytes) => parse_register(&path, &bytes),
        None => Ok(None),
    }
}

/// The register of a setting's file; `None` when it is unset.
fn parse_register(path: &str, bytes: &[u8]) -> Result<Option<Register>> {
    let mut file: BTreeMap<String, Register> = serde_json::from_slice(bytes)
        .map_err(|e| Error::Git(format!("corrupt setting {path}: {e}")))?;
    Ok(file.remove(VALUE).filter(|r| !r.v.is_null()))
}

/// The effective value of `key`: the rig's, else the town's, else the default. A lone
/// repository passes its store as the town and no rig.
pub fn effective(rig: Option<&Store>, town: &Store, key: &str) -> Result<Setting> {
    effective_for(rig.map(|s| (s, None)), town, key)
}

/// [`effective`], naming the rig in the answer.
pub fn effective_for(
    rig: Option<(&Store, Option<&str>)>,
    town: &Store,
    key: &str,
) -> Result<Setting> {
    let row = require_known(key)?;
    if let Some((store, name)) = rig {
        if let Some(register) = Settings::new(store).get(key)? {
            return Ok(stored_setting(key, "rig", name, register));
        }
    }
    if let Some(register) = Settings::new(town).get(key)? {
        return Ok(stored_setting(key, "town", None, register));
    }
    Ok(Setting {
        key: key.into(),
        value: match row.default {
            Some(text) => parse_value(key, text)?,
            None => Value::Null,
        },
        source: "default".into(),
        rig: None,
        set_by: None,
    })
}

fn stored_setting(key: &str, source: &str, rig: Option<&str>, register: Register) -> Setting {
    Setting {
        key: key.into(),
        value: register.v,
        source: source.into(),
        rig: rig.map(str::to_string),
        set_by: Some(register.at.1),
    }
}

/// Every effective setting: each key stored in the rig or the town, and each known key
/// with a default.
pub fn effective_all(rig: Option<(&Store, Option<&str>)>, town: &Store) -> Result<Vec<Setting>> {
    let mut keys: std::collections::BTreeSet<String> = KNOWN
        .iter()
        .filter(|k| k.default.is_some() && !k.key.contains('*'))
        .map(|k| k.key.to_string())
        .collect();
    keys.extend(Settings::new(town).stored()?.into_keys());
    if let Some((store, _)) = rig {
        keys.extend(Settings::new(store).stored()?.into_keys());
    }
    // A key another version of the suite knows, synced here, is shown by neither layer.
    keys.into_iter()
        .filter(|k| known(k).is_some())
        .map(|k| effective_for(rig, town, &k))
        .collect()
}

/// Whether `store` is a town (its store records one).
pub fn is_town(store: &Store) -> Result<bool> {
    let snap = store.snapshot(COLLECTION)?;
    Ok(snap.read(super::TOWN_META)?.is_some())
}

/// Record that `store` is a town named `name`; false when it already was.
pub(crate) fn mark_town(store: &Store, actor: &Actor, name: &str) -> Result<bool> {
    store.write(COLLECTION, actor, |snap, batch| {
        if snap.read(super::TOWN_META)?.is_some() {
            return Ok(Outcome::Unchanged(false));
        }
        let stamp = Stamp(batch.clock, actor.name.clone());
        let mut registers = BTreeMap::new();
        registers.insert(
            "name".to_string(),
            Register {
                v: json!(name),
                at: stamp.clone(),
            },
        );
        registers.insert(
            "created_at".to_string(),
            Register {
                v: json!(crate::bead::schema::now_rfc3339()),
                at: stamp,
            },
        );
        let mut bytes = serde_json::to_vec(&registers).expect("registers serialise");
        bytes.push(b'\n');
        batch.put(super::TOWN_META, bytes);
        carry_count(snap, batch, 0);
        Ok(Outcome::Commit {
            message: format!("town init: {name}"),
            value: true,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_one_word_per_star() {
        assert!(known("merge_queue.gates.test").is_some());
        assert!(known("merge_queue.gates.a.b").is_none());
        assert!(known("merge_queue.gates.").is_none());
        assert!(known("scheduler.max_polecats").is_some());
        assert!(known("scheduler.max_polecat").is_none());
    }

    #[test]
    fn setting_files_join_by_stamp_not_by_bytes() {
        let file = |v: Value, clock: u64, who: &str| {
            let register = Register {
                v,
                at: Stamp(clock, who.into()),
            };
            serde_json::to_vec(&BTreeMap::from([(VALUE.to_string(), register)])).unwrap()
        };
        // The earlier write has the larger bytes: a join by bytes would keep it. Settings
        // files join as register maps (the rule sync declares for settings/).
        let join = |a: &[u8], b: &[u8]| {
            let a: BTreeMap<String, Register> = serde_json::from_slice(a).unwrap();
            let b: BTreeMap<String, Register> = serde_json::from_slice(b).unwrap();
            serde_json::to_vec(&crate::sync::merge::join_registers(&a, &b)).unwrap()
        };
        let earlier = file(json!(9), 5, "a");
        let later = file(json!(1), 6, "b");
        let ab = join(&earlier, &later);
        let ba = join(&later, &earlier);
        assert_eq!(ab, ba);
        assert_eq!(parse_register("x", &ab).unwrap().unwrap().v, json!(1));
        // An unset (null) later write wins too, and reads as unset.
        let unset = file(Value::Null, 7, "a");
        let joined = join(&later, &unset);
        assert_eq!(parse_register("x", &joined).unwrap(), None);
    }

    #[test]
    fn only_known_keys_reach_a_path() {
        for bad in [
            "../x",
            "settings/../../x",
            "merge_queue.gates.a/b",
            "merge_queue.gates..",
            "",
        ] {
            assert!(require_known(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn values_are_typed() {
        assert_eq!(
            parse_value("scheduler.max_polecats", "3").unwrap(),
            json!(3)
        );
        assert!(parse_value("scheduler.max_polecats", "-1").is_err());
        assert_eq!(parse_value("dispatch.auto", "on").unwrap(), json!(true));
        assert_eq!(
            parse_value("sandbox.copy", ".env, .envrc").unwrap(),
            json!([".env", ".envrc"])
        );
        assert!(parse_value("patrol.stuck_after", "soon").is_err());
        assert_eq!(parse_duration("4h"), Some(14400));
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("99999999999999999999d"), None);
    }
}
