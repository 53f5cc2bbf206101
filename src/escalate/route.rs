//! Routing an escalation by its severity: the routes of `escalation.routes.<severity>`
//! (town settings; defaults as Gas Town's: LOW recorded only, MEDIUM `mail:mayor`, HIGH
//! also `mail:overseer`, CRITICAL also `notify`). `mail:ADDRESS` sends one message of type
//! `escalation` to every mail address named (any address `git mail send` takes); `notify`
//! runs the notify command (notify.rs).
//!
//! A routing may be redone (a crash before its delivery was recorded): its mail is sent
//! with a key derived from the escalation id and bump number, so the second attempt finds
//! the message and sends nothing. The notify command is told the same key
//! (`GT_ESCALATION_DELIVERY`) so a webhook can drop a repeat.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::notify::{self, NotifyRun};
use super::{Escalation, Severity};
use crate::bead::record::Record;
use crate::bead::schema::now_rfc3339;
use crate::error::Result;
use crate::mail::{Mail, Outgoing, Resolver};
use crate::store::Actor;
use crate::town::{settings, Town};

/// Comments of an escalation record holding its deliveries, one per bump.
pub const DELIVERY_PREFIX: &str = "delivery/";

pub fn delivery_key(bump: u32) -> String {
    format!("{DELIVERY_PREFIX}{bump:03}")
}

/// What one routing delivered.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Delivery {
    pub escalation: String,
    /// 0: as raised; n: after the n-th re-escalation.
    pub bump: u32,
    pub severity: String,
    /// The routes it followed (`mail:mayor`, `notify`).
    pub routes: Vec<String>,
    /// The message sent, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mailed_to: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<NotifyRun>,
    /// What failed (an unknown address, an unset notify command, a failed send).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    pub at: String,
}

impl Delivery {
    /// The delivery of a severity with no routes: recorded only.
    pub fn nothing(escalation: &str, bump: u32, severity: Severity) -> Delivery {
        Delivery {
            escalation: escalation.to_string(),
            bump,
            severity: severity.as_str().to_string(),
            routes: Vec::new(),
            mail: None,
            mailed_to: Vec::new(),
            notify: None,
            errors: Vec::new(),
            at: now_rfc3339(),
        }
    }

    /// Whether something it was told to do failed.
    pub fn failed(&self) -> bool {
        !self.errors.is_empty() || self.notify.as_ref().is_some_and(|n| n.status != "ok")
    }
}

/// The routes configured for `severity` (empty: recorded only).
pub fn plan(town: &Town, severity: Severity) -> Result<Vec<String>> {
    let value = settings::effective(None, &town.store, &severity.routes_key())?.value;
    Ok(strings(&value))
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        Value::String(s) if !s.trim().is_empty() => vec![s.trim().to_string()],
        _ => Vec::new(),
    }
}

/// Put `delivery` on the escalation's record (a grow-only comment, so two clones that
/// both routed one bump keep one entry each way they meet).
pub fn put_delivery(record: &mut Record, delivery: &Delivery) {
    record.comments.insert(
        delivery_key(delivery.bump),
        serde_json::to_value(delivery).expect("serialises"),
    );
}

/// The mail key of a routing: the same escalation and bump always give the same message.
pub fn mail_key(escalation: &str, bump: u32) -> String {
    format!("escalation/{escalation}/{bump}")
}

/// Follow the routes of the escalation's current severity. Never fails: what goes wrong
/// is in `errors` (or the notify run's status).
pub fn deliver(town: &Town, actor: &Actor, e: &Escalation) -> Delivery {
    let bump = e.reescalation_count;
    let mut delivery = Delivery::nothing(&e.id, bump, e.severity);
    let routes = match plan(town, e.severity) {
        Ok(r) => r,
        Err(err) => {
            delivery.errors.push(err.to_string());
            return delivery;
        }
    };
    delivery.routes = routes.clone();
    let mut addresses = Vec::new();
    let mut notify = false;
    for route in &routes {
        if let Some(address) = route.strip_prefix("mail:") {
            addresses.push(address.trim().to_string());
        } else if route == "notify" {
            notify = true;
        } else {
            delivery.errors.push(format!(
                "{}: unknown route '{}' (use mail:ADDRESS or notify)",
                e.severity.routes_key(),
                route.escape_debug()
            ));
        }
    }
    let payload = serde_json::to_value(e).expect("serialises");
    if !addresses.is_empty() {
        send_mail(town, actor, e, &addresses, &payload, &mut delivery);
    }
    if notify {
        run_notify(town, e, &payload, &mut delivery);
    }
    delivery.at = now_rfc3339();
    delivery
}

fn send_mail(
    town: &Town,
    actor: &Actor,
    e: &Escalation,
    addresses: &[String],
    payload: &Value,
    delivery: &mut Delivery,
) {
    let mail = Mail::new(town);
    let lists = match mail.lists() {
        Ok(l) => l,
        Err(err) => {
            delivery.errors.push(format!("mail: {err}"));
            return;
        }
    };
    let resolver = Resolver::new(town, &lists);
    let mut to: Vec<String> = Vec::new();
    for address in addresses {
        match resolver.resolve(address, 0) {
            Ok(found) => {
                for r in found {
                    if !to.contains(&r) {
                        to.push(r);
                    }
                }
            }
            Err(err) => delivery.errors.push(format!("mail:{address}: {err}")),
        }
    }
    if to.is_empty() {
        return;
    }
    let out = Outgoing {
        to: to.clone(),
        sent_to: addresses.to_vec(),
        subject: subject(e),
        body: body(e),
        kind: Some("escalation".into()),
        priority: Some(e.severity.mail_priority().into()),
        payload: Some(payload.clone()),
        ..Outgoing::default()
    };
    match mail.send_keyed(actor, &e.from, &mail_key(&e.id, e.reescalation_count), &out) {
        Ok(sent) => {
            delivery.mail = Some(sent.message.id);
            delivery.mailed_to = sent.message.to;
        }
        Err(err) => delivery.errors.push(format!("mail: {err}")),
    }
}

fn run_notify(town: &Town, e: &Escalation, payload: &Value, delivery: &mut Delivery) {
    let setting = |key: &str| settings::effective(None, &town.store, key).map(|s| s.value);
    let argv = match setting("escalation.notify_command") {
        Ok(v) => strings(&v),
        Err(err) => {
            delivery.errors.push(err.to_string());
            return;
        }
    };
    if argv.is_empty() {
        delivery.errors.push(
            "notify: escalation.notify_command is not set (git gastown config set escalation.notify_command PROGRAM,ARG...)".into(),
        );
        return;
    }
    let timeout = setting("escalation.notify_timeout")
        .ok()
        .and_then(|v| v.as_str().and_then(settings::parse_duration))
        .unwrap_or(30)
        .max(1);
    let mut input = serde_json::to_vec_pretty(payload).expect("serialises");
    input.push(b'\n');
    let env = [
        ("GT_ESCALATION_ID", e.id.clone()),
        ("GT_ESCALATION_SEVERITY", e.severity.as_str().to_string()),
        (
            "GT_ESCALATION_DELIVERY",
            mail_key(&e.id, e.reescalation_count),
        ),
    ];
    delivery.notify = Some(notify::run(
        &argv,
        &input,
        Duration::from_secs(timeout),
        &town.root,
        &env,
    ));
}

/// `[HIGH] summary`, `[CRITICAL, re-escalated] summary`: at most a mail subject's length.
fn subject(e: &Escalation) -> String {
    let tag = if e.reescalation_count > 0 {
        format!("[{}, re-escalated]", e.severity.as_str())
    } else {
        format!("[{}]", e.severity.as_str())
    };
    let text = format!("{tag} {}", e.summary);
    if text.chars().count() <= 200 {
        return text;
    }
    let mut short: String = text.chars().take(199).collect();
    short.push('…');
    short
}

fn body(e: &Escalation) -> String {
    let mut lines = vec![format!(
        "Escalation {} ({}, P{}) raised by {} at {}.",
        e.id,
        e.severity.as_str(),
        e.priority,
        e.escalated_by,
        e.escalated_at
    )];
    if let Some(b) = e.bumps.last() {
        lines.push(format!(
            "Re-escalated from {} (unacknowledged; bump {} by {}).",
            b.from.as_str(),
            b.number,
            b.by
        ));
    }
    for (label, value) in [
        ("Category", &e.category),
        ("Bead", &e.bead),
        ("Merge request", &e.mr),
        ("Rig", &e.rig),
    ] {
        if let Some(v) = value {
            lines.push(format!("{label}: {v}"));
        }
    }
    if !e.body.is_empty() {
        lines.push(String::new());
        lines.push(e.body.clone());
    }
    lines.push(String::new());
    lines.push(format!(
        "Acknowledge it with `git escalate ack {}`; close it with `git escalate close {} --reason TEXT`.",
        e.id, e.id
    ));
    lines.join("\n")
}
