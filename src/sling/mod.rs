//! Dispatch: `git sling BEAD... [TARGET]` puts work on an agent's hook and starts it.
//! Per bead: pick the agent (an idle polecat of the rig, its sandbox refreshed onto the
//! current base, else a new one), attach (one write), pour the formula onto the bead, start
//! the session. Over capacity the dispatch is queued instead (`queue`); if anything after
//! the attach fails it is rolled back and counted against the bead: after
//! [`MAX_DISPATCH_FAILURES`] the bead is not dispatched automatically again.

pub mod queue;
pub mod ready;

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::agent::hook::{self, Attachment, Hooked};
use crate::agent::lifecycle::StartSpec;
use crate::agent::{Address, Agent, Agents, Role, STATE_IDLE};
use crate::bead::id::record_path;
use crate::bead::molecule;
use crate::bead::ops::carry_count;
use crate::bead::record::Stamp;
use crate::bead::{Beads, COLLECTION};
use crate::error::{Error, Result};
use crate::formula::{self, CookMode, CookOptions, Parsed};
use crate::records;
use crate::store::{Actor, Outcome, Store};
use crate::town::{settings, Rig};

/// Dispatch failures after which a bead is no longer dispatched automatically.
pub const MAX_DISPATCH_FAILURES: u64 = 3;

/// What a queue run did.
#[derive(Debug, Clone, Serialize)]
pub struct QueueRun {
    pub rig: String,
    pub dispatched: Vec<Dispatch>,
    /// Dispatches still waiting (no capacity left, or paused).
    pub waiting: usize,
    pub paused: bool,
}

/// Where slung work goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A rig: an idle polecat of it, or a new one.
    Rig(String),
    /// One agent.
    Agent(Address),
}

impl Target {
    pub fn describe(&self) -> String {
        match self {
            Target::Rig(r) => r.clone(),
            Target::Agent(a) => a.to_string(),
        }
    }
}

/// The formula to pour onto each slung bead.
pub struct FormulaChoice<'a> {
    pub parsed: Parsed,
    pub resolver: &'a dyn formula::Resolver,
}

/// What to dispatch, and how.
pub struct SlingSpec<'a> {
    pub beads: Vec<String>,
    pub target: Target,
    pub runtime: Option<String>,
    /// The formula (already loaded by the caller) and its vars; `None`: no molecule.
    pub formula: Option<FormulaChoice<'a>>,
    pub vars: Map<String, Value>,
    pub force: bool,
    /// Attach only; do not start a session (`git agent hook BEAD --to`).
    pub no_start: bool,
}

/// What happened to one bead.
#[derive(Debug, Clone, Serialize)]
pub struct Dispatch {
    pub bead: String,
    /// `started`, `hooked` (attached, the agent's session already runs or was not
    /// wanted), `queued` (no capacity), or `failed`.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub molecule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Dispatch failures counted on the bead so far.
    pub failures: u64,
}

impl Dispatch {
    fn new(bead: &str, outcome: &str) -> Dispatch {
        Dispatch {
            bead: bead.to_string(),
            outcome: outcome.to_string(),
            agent: None,
            molecule: None,
            runtime: None,
            reason: None,
            failures: 0,
        }
    }
}

/// The dispatcher of a town.
pub struct Sling<'t> {
    pub agents: Agents<'t>,
}

impl<'t> Sling<'t> {
    pub fn new(agents: Agents<'t>) -> Self {
        Sling { agents }
    }

    fn rig_of(&self, target: &Target) -> Result<Rig> {
        let name = match target {
            Target::Rig(r) => r.clone(),
            Target::Agent(a) => a.rig.clone().ok_or_else(|| {
                Error::invalid(format!(
                    "{a} works in the town, not a rig: sling its beads to a rig or a rig's agent"
                ))
            })?,
        };
        let rig = self.agents.town.rigs().get(&name)?;
        rig.check_not_parked()?;
        Ok(rig)
    }

    /// Resolve bead ids (unique prefixes too) in the rig's store; refuses unknown, closed
    /// and deferred beads before anything is written.
    pub fn resolve_beads(&self, store: &Store, ids: &[String]) -> Result<Vec<String>> {
        let beads = Beads::new(store);
        let snap = beads.snapshot()?;
        let config = beads.config(&snap)?;
        let mut index = None;
        let mut out = Vec::new();
        for id in ids {
            let full = beads.resolve(&snap, &config, id, &mut index)?;
            let record = beads.load(&snap, &full)?;
            match record.status() {
                "closed" => return Err(Error::invalid(format!("bead {full} is closed"))),
                "deferred" => return Err(Error::invalid(format!("bead {full} is deferred"))),
                _ => {}
            }
            if !out.contains(&full) {
                out.push(full);
            }
        }
        Ok(out)
    }

    /// Dispatch every bead of `spec`, one by one. A bead that fails is reported, not fatal
    /// to the others (unless the input itself is bad, which changes nothing).
    pub fn sling(&self, actor: &Actor, spec: &SlingSpec<'_>) -> Result<Vec<Dispatch>> {
        if let Target::Agent(a) = &spec.target {
            if a.rig.is_none() {
                return self.sling_to_town_agent(actor, a, spec);
            }
        }
        let rig = self.rig_of(&spec.target)?;
        let store = rig.open_store()?;
        if let Target::Agent(a) = &spec.target {
            self.agents.get(a)?; // unknown agents are bad input
        }
        let beads = self.resolve_beads(&store, &spec.beads)?;
        if let Some(name) = &spec.runtime {
            // An unknown runtime is bad input, refused before a polecat is made or a bead
            // hooked (a known one whose binary is missing fails the start: a dispatch failure).
            crate::runtime::Runtimes::from_repo(store.repo()).get(name)?;
        }
        if let [bead] = beads.as_slice() {
            // One bead: a bead on another hook is the caller's error (exit 4), not a report.
            return match self.try_dispatch(actor, &rig, &store, bead, spec) {
                Err(err @ Error::Conflict(_)) => Err(err),
                Ok(d) => Ok(vec![d]),
                Err(err) => Ok(vec![failed(&store, bead, &err)]),
            };
        }
        let mut out = Vec::new();
        for bead in &beads {
            out.push(self.dispatch_one(actor, &rig, &store, bead, spec));
        }
        Ok(out)
    }

    /// The mayor (or deacon): town beads, the town's store, the town root as working
    /// directory; no capacity limit (polecats only) and no branch to merge into.
    fn sling_to_town_agent(
        &self,
        actor: &Actor,
        address: &Address,
        spec: &SlingSpec<'_>,
    ) -> Result<Vec<Dispatch>> {
        let store = Store::open(&self.agents.town.root)?;
        self.agents.ensure(actor, address)?;
        let beads = self.resolve_beads(&store, &spec.beads)?;
        let mut out = Vec::new();
        for bead in &beads {
            let attachment = Attachment {
                formula: spec.formula.as_ref().map(|f| f.parsed.formula.name.clone()),
                molecule: None,
                vars: spec.vars.clone(),
                convoy: None,
                dispatched_by: actor.name.clone(),
                merge_strategy: "none".into(),
                target_branch: None,
                start_pending: !spec.no_start,
            };
            if let Err(err) = self.attach(actor, &store, bead, address, &attachment, spec.force) {
                if beads.len() == 1 && matches!(err, Error::Conflict(_)) {
                    return Err(err);
                }
                out.push(failed(&store, bead, &err));
                continue;
            }
            let rest = (|| -> Result<(Option<String>, Option<String>)> {
                let molecule = match &spec.formula {
                    Some(choice) => {
                        Some(self.pour(actor, &store, bead, "", address, choice, &spec.vars)?)
                    }
                    None => None,
                };
                if spec.no_start || self.agents.is_alive(address)? {
                    return Ok((molecule, None));
                }
                let start = StartSpec {
                    runtime: spec.runtime.clone(),
                    prompt: None,
                    resume: false,
                };
                Ok((
                    molecule,
                    Some(self.agents.start(actor, address, &start)?.runtime),
                ))
            })();
            let mut d = match rest {
                Ok((molecule, runtime)) => {
                    let mut d = Dispatch::new(
                        bead,
                        if runtime.is_some() {
                            "started"
                        } else {
                            "hooked"
                        },
                    );
                    d.molecule = molecule;
                    d.runtime = runtime;
                    d
                }
                Err(err) => {
                    let reason = crate::error::one_line(&err.to_string());
                    let mut d = Dispatch::new(bead, "failed");
                    d.failures = self
                        .undo_attach(actor, &store, bead, address, Some(&reason))
                        .unwrap_or(0);
                    d.reason = Some(reason);
                    d
                }
            };
            d.agent = Some(address.clone());
            out.push(d);
        }
        Ok(out)
    }

    fn dispatch_one(
        &self,
        actor: &Actor,
        rig: &Rig,
        store: &Store,
        bead: &str,
        spec: &SlingSpec<'_>,
    ) -> Dispatch {
        self.try_dispatch(actor, rig, store, bead, spec)
            .unwrap_or_else(|err| failed(store, bead, &err))
    }

    fn try_dispatch(
        &self,
        actor: &Actor,
        rig: &Rig,
        store: &Store,
        bead: &str,
        spec: &SlingSpec<'_>,
    ) -> Result<Dispatch> {
        let failures = failures_of(store, bead);
        if failures >= MAX_DISPATCH_FAILURES && !spec.force {
            return Err(Error::invalid(format!(
                "bead {bead} failed to dispatch {failures} times; fix the cause and sling it with --force"
            )));
        }
        // The agent: the one named, or an idle polecat, or a new one (capacity permitting).
        let wants_polecat = matches!(&spec.target, Target::Rig(_))
            || matches!(&spec.target, Target::Agent(a) if a.role == Role::Polecat);
        let queue_if_full = || -> Result<Option<Dispatch>> {
            if !wants_polecat || spec.no_start {
                return Ok(None);
            }
            let Some(reason) = self.agents.capacity(&rig.name)?.full_reason() else {
                return Ok(None);
            };
            queue::enqueue(store, actor, &self.queue_entry(actor, store, bead, spec))?;
            let mut d = Dispatch::new(bead, "queued");
            d.reason = Some(reason);
            d.failures = failures;
            Ok(Some(d))
        };
        if let Some(queued) = queue_if_full()? {
            return Ok(queued);
        }
        // A bead already on a hook fails here, before a polecat is picked or made for it
        // (the attach below still decides races).
        if !spec.force {
            refuse_if_hooked(&store.snapshot(COLLECTION)?, bead)?;
        }
        // Work branches from (and later merges into) the epic's integration branch when the
        // bead is under one, else the rig's target.
        let base = match crate::mq::integration::target_for(&store.snapshot(COLLECTION)?, bead)? {
            Some(branch) => branch,
            None => target_branch(self, rig, store)?,
        };
        let attachment = Attachment {
            formula: spec.formula.as_ref().map(|f| f.parsed.formula.name.clone()),
            molecule: None,
            vars: spec.vars.clone(),
            convoy: None,
            dispatched_by: actor.name.clone(),
            merge_strategy: "mr".into(),
            target_branch: Some(base.clone()),
            start_pending: !spec.no_start,
        };
        // 1. Attach: one write, exactly one concurrent attach of a bead wins. An idle polecat
        // may be taken by a concurrent dispatch (another sling, a queue run) between our
        // pick and our attach: then the next idle one, or a new one, is tried.
        let mut tries = 0;
        let address = loop {
            let agent = match &spec.target {
                Target::Agent(a) => self.agents.get(a)?,
                Target::Rig(_) => self.idle_or_new_polecat(actor, rig, &base)?,
            };
            match self.attach(actor, store, bead, &agent.address, &attachment, spec.force) {
                Ok(_) => break agent.address,
                Err(Error::Conflict(_))
                    if matches!(spec.target, Target::Rig(_))
                        && tries < 8
                        && refuse_if_hooked(&store.snapshot(COLLECTION)?, bead).is_ok() =>
                {
                    // The dispatch that took it may have taken the last slot too.
                    if let Some(queued) = queue_if_full()? {
                        return Ok(queued);
                    }
                    tries += 1;
                }
                Err(err) => return Err(err),
            }
        };
        // 2. Everything after the attach is rolled back on failure.
        enum Next {
            Done(Option<String>, Option<String>, &'static str),
            /// Another dispatch took the last slot between our check and our start.
            Full(String),
        }
        let rest = (|| -> Result<Next> {
            let molecule = match &spec.formula {
                Some(choice) => {
                    Some(self.pour(actor, store, bead, &base, &address, choice, &spec.vars)?)
                }
                None => None,
            };
            if spec.no_start || self.agents.is_alive(&address)? {
                return Ok(Next::Done(molecule, None, "hooked"));
            }
            let start = StartSpec {
                runtime: spec.runtime.clone(),
                prompt: None,
                resume: false,
            };
            Ok(
                match self.agents.start_within_capacity(actor, &address, &start)? {
                    Ok(started) => Next::Done(molecule, Some(started.runtime), "started"),
                    Err(reason) => Next::Full(reason),
                },
            )
        })();
        match rest {
            Ok(Next::Done(molecule, runtime, outcome)) => {
                let _ = settle_queue(store, actor, bead);
                let mut d = Dispatch::new(bead, outcome);
                d.agent = Some(address);
                d.molecule = molecule;
                d.runtime = runtime;
                d.failures = failures;
                Ok(d)
            }
            Ok(Next::Full(reason)) => {
                // Not a failure of the bead: undo the attach and wait for a slot.
                self.undo_attach(actor, store, bead, &address, None)?;
                queue::enqueue(store, actor, &self.queue_entry(actor, store, bead, spec))?;
                let mut d = Dispatch::new(bead, "queued");
                d.reason = Some(reason);
                d.failures = failures;
                Ok(d)
            }
            Err(err) => {
                let reason = crate::error::one_line(&err.to_string());
                let failures = self
                    .undo_attach(actor, store, bead, &address, Some(&reason))
                    .unwrap_or(failures + 1);
                let mut d = Dispatch::new(bead, "failed");
                d.agent = Some(address);
                d.reason = Some(reason);
                d.failures = failures;
                Ok(d)
            }
        }
    }

    fn queue_entry(
        &self,
        actor: &Actor,
        store: &Store,
        bead: &str,
        spec: &SlingSpec<'_>,
    ) -> queue::Queued {
        queue::Queued {
            bead: bead.to_string(),
            status: queue::QUEUED.into(),
            target: spec.target.describe(),
            priority: priority_of(store, bead),
            runtime: spec.runtime.clone(),
            formula: spec.formula.as_ref().map(|f| f.parsed.formula.name.clone()),
            vars: spec.vars.clone(),
            no_formula: spec.formula.is_none(),
            dispatched_by: actor.name.clone(),
            queued_at: String::new(),
        }
    }

    /// Attach `bead` to `address`'s hook (one write on the rig store). Unlike
    /// `git agent hook`, attaching a bead already on this very hook is refused too (without
    /// `force`): of concurrent slings of one bead exactly one succeeds.
    pub fn attach(
        &self,
        actor: &Actor,
        store: &Store,
        bead: &str,
        address: &Address,
        attachment: &Attachment,
        force: bool,
    ) -> Result<Hooked> {
        store.write(COLLECTION, actor, |snap, batch| {
            if !force {
                refuse_if_hooked(snap, bead)?;
            }
            let stamp = Stamp(batch.clock, actor.name.clone());
            let hooked = hook::attach_in(snap, batch, &stamp, bead, address, attachment, force)?;
            carry_count(snap, batch, 0);
            // The subject says `hook` as `git agent hook` does; the feed tells a dispatch.
            batch.op("sling");
            Ok(Outcome::Commit {
                message: format!("hook {bead} -> {address}: {}", hooked.title),
                value: hooked,
            })
        })
    }

    /// Cook the formula for this bead and pour it, recording `attached_molecule` (one write).
    #[allow(clippy::too_many_arguments)]
    fn pour(
        &self,
        actor: &Actor,
        store: &Store,
        bead: &str,
        base: &str,
        address: &Address,
        choice: &FormulaChoice<'_>,
        vars: &Map<String, Value>,
    ) -> Result<String> {
        let mut cook_vars = std::collections::BTreeMap::new();
        let declared = |name: &str| choice.parsed.formula.vars.iter().any(|v| v.name == name);
        for (k, v) in [
            ("issue", bead.to_string()),
            ("base_branch", base.to_string()),
        ] {
            if declared(k) {
                cook_vars.insert(k.to_string(), v);
            }
        }
        if declared("branch") {
            if let Ok(agent) = self.agents.get(address) {
                if let Some(branch) = agent.branch {
                    cook_vars.insert("branch".to_string(), branch);
                }
            }
        }
        for (k, v) in vars {
            cook_vars.insert(
                k.clone(),
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string()),
            );
        }
        let cooked = formula::cook(
            &choice.parsed,
            choice.resolver,
            &CookOptions {
                vars: cook_vars,
                mode: CookMode::Runtime,
                preset: None,
            },
        )?;
        let poured = molecule::pour_on(store, actor, &cooked, Some(bead), false)?;
        Ok(poured.root.id)
    }

    /// Undo an attach (one write, after burning a poured molecule); with a failure reason,
    /// the failure is counted on the bead. Returns the bead's failure count.
    fn undo_attach(
        &self,
        actor: &Actor,
        store: &Store,
        bead: &str,
        address: &Address,
        failure: Option<&str>,
    ) -> Result<u64> {
        let molecule = {
            let snap = store.snapshot(COLLECTION)?;
            records::read(&snap, &record_path(bead))?
                .and_then(|r| r.str("attached_molecule").map(str::to_string))
        };
        if let Some(root) = &molecule {
            let _ = molecule::burn(&Beads::new(store), actor, root);
        }
        store.write(COLLECTION, actor, |snap, batch| {
            let stamp = Stamp(batch.clock, actor.name.clone());
            let agent_path = address.record_path();
            if let Some(mut agent) = records::read(snap, &agent_path)? {
                if agent.str("hook") == Some(bead) {
                    agent.set("hook", Value::Null, &stamp);
                    records::put(batch, &agent_path, &agent);
                }
            }
            let path = record_path(bead);
            let mut record =
                records::read(snap, &path)?.ok_or_else(|| Error::NotFound(bead.to_string()))?;
            let mut failures = record
                .get("dispatch_failures")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            if let Some(reason) = failure {
                failures += 1;
                record.set("dispatch_failures", json!(failures), &stamp);
                record.set("last_dispatch_error", json!(reason), &stamp);
            }
            record.set("attached_molecule", Value::Null, &stamp);
            if hook::holder_of(&record).as_deref() == Some(address.to_string().as_str()) {
                record.set("status", json!("open"), &stamp);
                record.set("assignee", Value::Null, &stamp);
            }
            records::put(batch, &path, &record);
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: match failure {
                    Some(reason) => {
                        format!("sling failed {bead} -> {address} ({failures}): {reason}")
                    }
                    None => format!("sling deferred {bead} -> {address}: no capacity"),
                },
                value: failures,
            })
        })
    }

    /// An idle polecat of the rig (live, empty hook, no live session, clean sandbox), its
    /// sandbox refreshed onto the current base; else a new polecat.
    fn idle_or_new_polecat(&self, actor: &Actor, rig: &Rig, base: &str) -> Result<Agent> {
        // A polecat whose branch still has a request in flight (waiting, in conflict, or
        // rejected and not yet redone) is kept for it: its next commit on that branch
        // supersedes the request and carries its beads, so new work there would close them
        // without their change (found by the town simulation), and a rework or a retry is
        // queued back to it.
        // Agents and requests come from one snapshot: `done` frees a polecat and files its
        // request in one commit, and two reads could see the polecat idle without it.
        let store = rig.open_store()?;
        let snap = store.snapshot(COLLECTION)?;
        let requests = crate::mq::record::list_in(&snap)?;
        let in_flight: Vec<&str> = requests
            .iter()
            .filter(|m| {
                [
                    crate::mq::record::OPEN,
                    crate::mq::record::CONFLICT,
                    crate::mq::record::REJECTED,
                ]
                .contains(&m.status.as_str())
            })
            .map(|m| m.branch.as_str())
            .collect();
        // Work the queue merged by rebasing is on the target as new commits, and its pin is
        // dropped: a branch whose tip is a merged request's commit holds nothing more.
        let merged: std::collections::HashSet<&str> = requests
            .iter()
            .filter(|m| m.status == crate::mq::record::MERGED)
            .map(|m| m.commit.as_str())
            .collect();
        for agent in crate::agent::live_rig_agents_in(&snap, &rig.name)? {
            if agent.role != Role::Polecat || agent.hook.is_some() || agent.state != STATE_IDLE {
                continue;
            }
            if agent
                .branch
                .as_ref()
                .is_some_and(|b| in_flight.contains(&b.as_str()))
            {
                continue;
            }
            if self.agents.is_alive(&agent.address)? {
                continue;
            }
            if self.refresh_sandbox(&agent, rig, base, &merged).is_ok() {
                return Ok(agent);
            }
        }
        // A new sandbox starts on the base itself (an integration branch's work starts there):
        // it is visible as idle to concurrent dispatchers from its first write, so nothing may
        // touch its worktree after it is made.
        self.agents.add_polecat_on(actor, rig, base)
    }

    /// Put an idle polecat's branch back on the base, if its sandbox holds nothing of value
    /// (no uncommitted files; every commit merged or kept by a merge request's pin).
    fn refresh_sandbox(
        &self,
        agent: &Agent,
        rig: &Rig,
        base: &str,
        merged: &std::collections::HashSet<&str>,
    ) -> Result<()> {
        let (Some(path), Some(branch)) = (&agent.sandbox, &agent.branch) else {
            return Err(Error::invalid("no sandbox"));
        };
        if !path.is_dir() {
            return Err(Error::invalid("sandbox missing"));
        }
        let risk = self.agents.at_risk(agent, rig)?;
        let merged_tip = || {
            crate::gitcmd::probe(
                &rig.path,
                ["rev-parse", "--verify", "--quiet", branch.as_str()],
            )
            .is_some_and(|tip| merged.contains(tip.trim()))
        };
        let holds_work =
            !risk.uncommitted.is_empty() || (!risk.unmerged_commits.is_empty() && !merged_tip());
        if holds_work {
            return Err(Error::invalid("sandbox holds work"));
        }
        crate::agent::sandbox::refresh(rig, path, branch, base)
    }
}

impl Sling<'_> {
    /// Start queued dispatches of `rig`, most urgent first, while capacity allows (one
    /// `sling` per entry). A paused queue (`scheduler.paused`) starts nothing.
    pub fn drain(
        &self,
        actor: &Actor,
        rig_name: &str,
        library: &formula::Library,
    ) -> Result<QueueRun> {
        let rig = self.agents.town.rigs().get(rig_name)?;
        let store = rig.open_store()?;
        let paused =
            settings::effective(Some(&store), &self.agents.town.store, "scheduler.paused")?
                .value
                .as_bool()
                .unwrap_or(false);
        let mut run = QueueRun {
            rig: rig.name.clone(),
            dispatched: Vec::new(),
            waiting: 0,
            paused,
        };
        let waiting = queue::waiting(&store)?;
        if paused || rig.parked {
            run.waiting = waiting.len();
            return Ok(run);
        }
        for (i, entry) in waiting.iter().enumerate() {
            if self.agents.capacity(&rig.name)?.full_reason().is_some() {
                run.waiting = waiting.len() - i;
                break;
            }
            let target = match entry.target.contains('/') {
                true => match Address::parse(&entry.target) {
                    Ok(a) => Target::Agent(a),
                    Err(_) => Target::Rig(rig.name.clone()),
                },
                false => Target::Rig(rig.name.clone()),
            };
            let parsed = match (&entry.formula, entry.no_formula) {
                (Some(name), false) => Some(library.load(name)?),
                _ => None,
            };
            let spec = SlingSpec {
                beads: vec![entry.bead.clone()],
                target,
                runtime: entry.runtime.clone(),
                formula: parsed.map(|parsed| FormulaChoice {
                    parsed,
                    resolver: library,
                }),
                vars: entry.vars.clone(),
                force: false,
                no_start: false,
            };
            let outcome = match self.resolve_beads(&store, &spec.beads) {
                Ok(_) => self.dispatch_one(actor, &rig, &store, &entry.bead, &spec),
                Err(err) => {
                    // Closed or deleted meanwhile: the entry is moot.
                    let _ = settle_queue(&store, actor, &entry.bead);
                    let mut d = Dispatch::new(&entry.bead, "failed");
                    d.reason = Some(crate::error::one_line(&err.to_string()));
                    d
                }
            };
            if outcome.outcome == "failed" && outcome.failures >= MAX_DISPATCH_FAILURES {
                // The circuit breaker: stop retrying this one automatically.
                let _ = settle_queue(&store, actor, &entry.bead);
            }
            run.dispatched.push(outcome);
        }
        Ok(run)
    }
}

/// The branch work merges into, for a rig.
fn target_branch(sling: &Sling<'_>, rig: &Rig, store: &Store) -> Result<String> {
    let configured =
        settings::effective(Some(store), &sling.agents.town.store, "merge_queue.target")?;
    Ok(crate::agent::sandbox::target_branch(
        &rig.path,
        configured.value.as_str(),
    ))
}

/// A bead on anyone's hook is a conflict (exit 4) naming the holder.
fn refuse_if_hooked(snap: &crate::store::Snapshot<'_>, bead: &str) -> Result<()> {
    if let Some(record) = records::read(snap, &record_path(bead))? {
        if let Some(holder) = hook::holder_of(&record) {
            return Err(Error::Conflict(format!(
                "bead {bead} is on {holder}'s hook; pass --force to take it"
            )));
        }
    }
    Ok(())
}

/// A dispatch that failed before anything was attached.
fn failed(store: &Store, bead: &str, err: &Error) -> Dispatch {
    let mut d = Dispatch::new(bead, "failed");
    d.reason = Some(crate::error::one_line(&err.to_string()));
    d.failures = failures_of(store, bead);
    d
}

fn failures_of(store: &Store, bead: &str) -> u64 {
    store
        .snapshot(COLLECTION)
        .ok()
        .and_then(|snap| records::read(&snap, &record_path(bead)).ok().flatten())
        .and_then(|r| r.get("dispatch_failures").and_then(Value::as_u64))
        .unwrap_or(0)
}

fn priority_of(store: &Store, bead: &str) -> i64 {
    store
        .snapshot(COLLECTION)
        .ok()
        .and_then(|snap| records::read(&snap, &record_path(bead)).ok().flatten())
        .map(|r| r.priority())
        .unwrap_or(2)
}

/// A dispatch that started no longer waits in the queue.
fn settle_queue(store: &Store, actor: &Actor, bead: &str) -> Result<()> {
    store.write(COLLECTION, actor, |snap, batch| {
        let stamp = Stamp(batch.clock, actor.name.clone());
        if !queue::settle_in(snap, batch, &stamp, bead, queue::DISPATCHED)? {
            return Ok(Outcome::Unchanged(()));
        }
        carry_count(snap, batch, 0);
        Ok(Outcome::Commit {
            message: format!("sling queue dispatched {bead}"),
            value: (),
        })
    })
}
