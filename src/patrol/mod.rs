//! `git patrol`: one mechanical, idempotent supervision pass over the town (or one rig),
//! doing what Gas Town's daemon, Boot, Deacon, Witness and Refinery loops did — without a
//! daemon and without an LLM watching an idle town. Cron, CI, a git hook, a lazy tick or a
//! person runs it; it looks, acts where the facts say so, reports, and exits.
//!
//! - **Witness** (`witness.rs`): every polecat's session (its OS lock), hook, bead, done
//!   intent and activity; each of Gas Town's zombie classes gets one decided action.
//! - **Deacon** (`deacon.rs`): stale hooks, the scheduler's queue, `dispatch.auto`,
//!   molecule gates that came due, wisp reaping, checkpoints, housekeeping.
//! - **Refinery** (`refinery.rs`): a merge-queue pass for rigs with queued requests.
//!
//! A pass holds `<town state>/patrol/patrol.lock` (a flock: the kernel drops it when a pass
//! dies), so a second concurrent pass returns at once. Liveness comes from the kernel's
//! locks, never from heartbeats, so a pass over a quiet town reads a few files per agent
//! and writes nothing: no commit, no mail. Facts are re-checked right before anything
//! destructive (stopping a session, releasing a bead).

pub mod cron;
mod deacon;
mod facts;
mod gates;
mod half_made;
pub mod lazy;
mod refinery;
mod town;
mod witness;

use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::agent::Agents;
use crate::error::Result;
use crate::formula::Library;
use crate::store::{Actor, Store, WriteLock};
use crate::town::{settings, Rig, Town};

/// Deaths of one bead's session that patrol answers with a restart; the next escalates.
pub const MAX_RESTARTS: u64 = 3;

/// What to patrol, and how.
pub struct PatrolSpec<'a> {
    /// One rig only (default: every rig of the town).
    pub rig: Option<String>,
    /// Report what would be done; change nothing.
    pub dry_run: bool,
    /// Formulas, for queued dispatches and `dispatch.auto`.
    pub library: &'a Library,
}

/// One thing a pass saw, and what it did about it.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// `witness`, `deacon` or `refinery`.
    pub duty: &'static str,
    /// What was seen: a zombie class (`dead-session-hooked`, `stuck-in-done`, ...) or a
    /// deacon duty (`stale-hook`, `queue`, `gate`, ...).
    pub class: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bead: Option<String>,
    pub detail: String,
    /// The decided action (`restart`, `finish-done`, `stop-session`, `escalate-release`,
    /// `checkpoint`, `unhook`, ... or `none` when it is only reported).
    pub action: String,
    /// `done`, `planned` (dry run), `skipped` (the facts changed on re-check), `failed`,
    /// or `reported` (nothing to do but tell).
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Finding {
    fn new(duty: &'static str, class: &str, detail: impl Into<String>) -> Finding {
        Finding {
            duty,
            class: class.to_string(),
            agent: None,
            bead: None,
            detail: detail.into(),
            action: "none".to_string(),
            outcome: "reported".to_string(),
            error: None,
        }
    }

    fn agent(mut self, agent: impl ToString) -> Finding {
        self.agent = Some(agent.to_string());
        self
    }

    fn bead(mut self, bead: Option<&str>) -> Finding {
        self.bead = bead.map(str::to_string);
        self
    }

    fn action(mut self, action: &str) -> Finding {
        self.action = action.to_string();
        self
    }

    /// Whether the pass acted (or, dry, would act) on it.
    pub fn acted(&self) -> bool {
        matches!(self.outcome.as_str(), "done" | "planned" | "failed")
    }
}

/// What a pass found and did in one rig.
#[derive(Debug, Clone, Serialize)]
pub struct RigPatrol {
    pub rig: String,
    /// Polecats looked at.
    pub polecats: usize,
    pub findings: Vec<Finding>,
}

/// The report of a pass (`git patrol --json`).
#[derive(Debug, Clone, Serialize)]
pub struct PatrolReport {
    /// Set when another pass held the patrol lock: this one did nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    pub dry_run: bool,
    pub started_at: String,
    pub rigs: Vec<RigPatrol>,
    /// Town-wide findings (convoys, escalations, advisory locks, the town's housekeeping).
    pub town: Vec<Finding>,
    /// Findings acted on (or, dry, to act on).
    pub actions: usize,
    /// Findings that failed.
    pub failures: usize,
    pub millis: u64,
}

impl PatrolReport {
    fn all(&self) -> impl Iterator<Item = &Finding> {
        self.rigs
            .iter()
            .flat_map(|r| r.findings.iter())
            .chain(self.town.iter())
    }

    /// 0 when every action succeeded (or nothing needed doing), 1 when one failed.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.failures > 0)
    }
}

/// The patrol of a town.
pub struct Patrol<'t> {
    pub town: &'t Town,
}

/// What every duty of one pass shares.
pub(crate) struct Pass<'a, 't> {
    pub town: &'t Town,
    pub agents: Agents<'t>,
    pub actor: &'a Actor,
    pub dry_run: bool,
    pub now: DateTime<Utc>,
    pub library: &'a Library,
}

impl Pass<'_, '_> {
    /// A duration setting in seconds (rig over town over default).
    pub fn seconds(&self, store: Option<&Store>, key: &str, fallback: u64) -> u64 {
        settings::effective(store, &self.town.store, key)
            .ok()
            .and_then(|s| match &s.value {
                serde_json::Value::String(t) => settings::parse_duration(t),
                serde_json::Value::Number(n) => n.as_u64(),
                _ => None,
            })
            .unwrap_or(fallback)
    }

    pub fn flag(&self, store: Option<&Store>, key: &str) -> bool {
        settings::effective(store, &self.town.store, key)
            .ok()
            .and_then(|s| s.value.as_bool())
            .unwrap_or(false)
    }

    /// Run `act` unless this is a dry run, and record its outcome on `finding`.
    pub fn act(&self, mut finding: Finding, act: impl FnOnce() -> Result<Acted>) -> Finding {
        if self.dry_run {
            finding.outcome = "planned".into();
            return finding;
        }
        match act() {
            Ok(Acted::Done(more)) => {
                finding.outcome = "done".into();
                if let Some(more) = more {
                    finding.detail = format!("{}; {more}", finding.detail);
                }
            }
            Ok(Acted::Skipped(why)) => {
                finding.outcome = "skipped".into();
                finding.detail = format!("{}; {why}", finding.detail);
            }
            Err(err) => {
                finding.outcome = "failed".into();
                finding.error = Some(crate::error::one_line(&err.to_string()));
            }
        }
        finding
    }
}

/// What an action came to.
pub(crate) enum Acted {
    /// Done, with an optional note for the report.
    Done(Option<String>),
    /// Not done: the facts changed when re-checked (the reason).
    Skipped(String),
}

impl<'t> Patrol<'t> {
    pub fn new(town: &'t Town) -> Self {
        Patrol { town }
    }

    /// The directory of the town's patrol files (lock, last pass).
    pub fn dir(&self) -> PathBuf {
        self.town.store.state_dir().join("patrol")
    }

    /// The patrol lock, if it is free now (held until dropped).
    pub fn try_lock(&self) -> Result<Option<WriteLock>> {
        WriteLock::try_acquire(&self.dir().join("patrol.lock"))
    }

    /// One pass. A pass already running makes this one return at once (`skipped`).
    pub fn run(&self, actor: &Actor, spec: &PatrolSpec<'_>) -> Result<PatrolReport> {
        let started = Instant::now();
        let now = Utc::now();
        let mut report = PatrolReport {
            skipped: None,
            dry_run: spec.dry_run,
            started_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            rigs: Vec::new(),
            town: Vec::new(),
            actions: 0,
            failures: 0,
            millis: 0,
        };
        // A dry run changes nothing, so it need not wait for (or keep out) a real pass.
        let _lock = if spec.dry_run {
            None
        } else {
            match self.try_lock()? {
                Some(lock) => Some(lock),
                None => {
                    report.skipped = Some(match lazy::last_pass(&self.dir()) {
                        Some(last) if last.pid.is_some() => format!(
                            "a patrol is running (pid {}); it covers this one",
                            last.pid.unwrap_or_default()
                        ),
                        _ => "a patrol is running; it covers this one".to_string(),
                    });
                    return Ok(report);
                }
            }
        };
        if !spec.dry_run {
            lazy::record_start(&self.dir());
        }
        let rigs = match &spec.rig {
            Some(name) => vec![self.town.rigs().get(name)?],
            None => self.town.rigs().list()?,
        };
        let pass = Pass {
            town: self.town,
            agents: Agents::new(self.town),
            actor,
            dry_run: spec.dry_run,
            now,
            library: spec.library,
        };
        for rig in &rigs {
            report.rigs.push(patrol_rig(&pass, rig));
        }
        if spec.rig.is_none() {
            report.town = deacon::town_duties(&pass);
        }
        report.actions = report.all().filter(|f| f.acted()).count();
        report.failures = report.all().filter(|f| f.outcome == "failed").count();
        report.millis = started.elapsed().as_millis() as u64;
        if !spec.dry_run {
            lazy::record_end(&self.dir(), &report);
        }
        Ok(report)
    }
}

/// Witness, deacon and refinery work in one rig. A rig that cannot be opened (its path
/// gone) is reported, never a reason to stop the pass.
fn patrol_rig(pass: &Pass<'_, '_>, rig: &Rig) -> RigPatrol {
    let mut out = RigPatrol {
        rig: rig.name.clone(),
        polecats: 0,
        findings: Vec::new(),
    };
    let store = match rig.open_store() {
        Ok(store) => store,
        Err(err) => {
            out.findings.push(
                Finding::new(
                    "deacon",
                    "rig-missing",
                    crate::error::one_line(&err.to_string()),
                )
                .action("none"),
            );
            return out;
        }
    };
    if rig.parked {
        out.findings.push(Finding::new(
            "deacon",
            "rig-parked",
            "parked: no restarts or dispatch",
        ));
    }
    let facts = match facts::gather(pass, rig, &store) {
        Ok(facts) => facts,
        Err(err) => {
            out.findings.push(Finding::new(
                "witness",
                "unreadable",
                format!(
                    "the rig's agents could not be read: {}",
                    crate::error::one_line(&err.to_string())
                ),
            ));
            return out;
        }
    };
    out.polecats = facts.polecats.len();
    out.findings.extend(facts.problems.iter().cloned());
    out.findings
        .extend(witness::run(pass, rig, &store, &facts.polecats));
    out.findings
        .extend(deacon::rig_duties(pass, rig, &store, &facts.polecats));
    out.findings.extend(refinery::run(pass, rig, &store));
    out
}
