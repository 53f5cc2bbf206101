//! Agents, with Gas Town's three layers: a durable **identity** record (`agents/...` in its
//! store's work collection: role, rig, state, hook, runtime, sandbox, branch, and its CV),
//! a **sandbox** (a git worktree on its own branch, kept until nuked), and a **session**
//! (a process, see `crate::session`). Rig agents live in their rig's store, beside the beads
//! they work on, so attaching work and `done` are single commits; the mayor and deacon live
//! in the town's store.

pub mod activity;
pub mod address;
pub mod done;
pub mod handoff;
pub mod hook;
pub mod lifecycle;
pub mod namepool;
pub mod prime;
pub mod sandbox;
pub mod seance;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Value};

pub use address::{Address, Role};

use crate::bead::ops::carry_count;
use crate::bead::record::{Record, Stamp};
use crate::bead::COLLECTION;
use crate::error::{Error, Result};
use crate::gitcmd;
use crate::records;
use crate::store::{Actor, Outcome, Snapshot, Store};
use crate::town::{settings, Rig, Town};

/// Identity states. `nuked` frees the name; the record (and its CV) stays.
pub const STATE_IDLE: &str = "idle";
pub const STATE_WORKING: &str = "working";
pub const STATE_NUKED: &str = "nuked";

/// An agent's identity, as `git agent list|show` report it.
#[derive(Debug, Clone, Serialize)]
pub struct Agent {
    pub address: Address,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rig: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub state: String,
    pub hook: Option<String>,
    pub runtime: Option<String>,
    pub sandbox: Option<PathBuf>,
    pub branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// When the identity was last added (a nuked name reused gets a new one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added_at: Option<String>,
    /// The runtime's own session id (from its SessionStart hook), for resuming.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_session_id: Option<String>,
    /// Completed assignments (the CV), newest last.
    pub completions: Vec<Value>,
    /// The note the previous session left for the next (`git agent handoff -m`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handoff: Option<Value>,
    /// Attached by a dispatch whose session start has not been recorded yet
    /// ([`hook::START_PENDING`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub start_pending: bool,
}

impl Agent {
    fn from_record(address: Address, record: &Record) -> Agent {
        let text = |k: &str| record.str(k).map(str::to_string);
        let mut completions: Vec<(String, Value)> = record
            .comments
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        completions.sort_by(|a, b| a.0.cmp(&b.0));
        Agent {
            role: address.role,
            rig: address.rig.clone(),
            name: address.name.clone(),
            state: text("state").unwrap_or_else(|| STATE_IDLE.to_string()),
            hook: text("hook"),
            runtime: text("runtime"),
            sandbox: text("sandbox").map(PathBuf::from),
            branch: text("branch"),
            created_at: text("created_at"),
            added_at: text("added_at").or_else(|| text("created_at")),
            runtime_session_id: text("runtime_session_id"),
            completions: completions.into_iter().map(|(_, v)| v).collect(),
            handoff: record.get("handoff").cloned(),
            start_pending: record
                .get(hook::START_PENDING)
                .and_then(Value::as_bool)
                .unwrap_or(false),
            address,
        }
    }

    pub fn is_live(&self) -> bool {
        self.state != STATE_NUKED
    }
}

/// What `nuke` would lose, or lost with `--force`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct AtRisk {
    pub uncommitted: Vec<String>,
    pub unmerged_commits: Vec<String>,
    pub hook: Option<String>,
}

impl AtRisk {
    pub fn is_empty(&self) -> bool {
        self.uncommitted.is_empty() && self.unmerged_commits.is_empty()
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.uncommitted.is_empty() {
            parts.push(format!(
                "{} uncommitted file(s) ({})",
                self.uncommitted.len(),
                preview(&self.uncommitted)
            ));
        }
        if !self.unmerged_commits.is_empty() {
            parts.push(format!(
                "{} unmerged commit(s) ({})",
                self.unmerged_commits.len(),
                preview(&self.unmerged_commits)
            ));
        }
        parts.join(" and ")
    }
}

fn preview(items: &[String]) -> String {
    let mut shown: Vec<String> = items
        .iter()
        .take(3)
        .map(|s| s.escape_debug().to_string())
        .collect();
    if items.len() > 3 {
        shown.push(format!("{} more", items.len() - 3));
    }
    shown.join(", ")
}

/// What `nuke` did.
#[derive(Debug, Clone, Serialize)]
pub struct Nuked {
    pub address: Address,
    pub sandbox_removed: Option<PathBuf>,
    pub branch_deleted: Option<String>,
    /// The bead released from the hook (back to `open`).
    pub released: Option<String>,
    pub discarded: AtRisk,
    /// Whether a live session was stopped first.
    pub session_stopped: bool,
}

/// The agents of a town.
pub struct Agents<'t> {
    pub town: &'t Town,
}

impl<'t> Agents<'t> {
    pub fn new(town: &'t Town) -> Self {
        Agents { town }
    }

    /// The store an address's record lives in (opened), and its rig.
    pub fn store_for(&self, address: &Address) -> Result<(Store, Option<Rig>)> {
        match &address.rig {
            None => Ok((Store::open(&self.town.root)?, None)),
            Some(name) => {
                let rig = self.town.rigs().get(name)?;
                Ok((rig.open_store()?, Some(rig)))
            }
        }
    }

    /// Resolve user input to an address: a full address, or `<rig>/<name>` when exactly
    /// one of the rig's polecats and crew has that name.
    pub fn resolve(&self, text: &str) -> Result<Address> {
        let parse_error = match Address::parse(text) {
            Ok(address) => return Ok(address),
            Err(e) => e,
        };
        let parts: Vec<&str> = text.split('/').collect();
        if let [rig, name] = parts.as_slice() {
            let valid = address::validate_agent_name(name).is_ok()
                && crate::town::rigs::validate_name(rig).is_ok();
            if valid {
                let rig = self.town.rigs().get(rig)?;
                let store = rig.open_store()?;
                let snap = store.snapshot(COLLECTION)?;
                let found: Vec<Address> = [Role::Polecat, Role::Crew]
                    .into_iter()
                    .map(|role| Address::named(&rig.name, role, name))
                    .filter(|a| snap.read(&a.record_path()).ok().flatten().is_some())
                    .collect();
                return match found.as_slice() {
                    [one] => Ok(one.clone()),
                    [] => Err(Error::invalid(format!("no agent named '{text}'"))),
                    _ => Err(Error::invalid(format!(
                        "'{text}' is ambiguous: {} and {}",
                        found[0], found[1]
                    ))),
                };
            }
        }
        Err(parse_error)
    }

    /// The agent `address`, or a one-line error when it does not exist.
    pub fn get(&self, address: &Address) -> Result<Agent> {
        let (store, _) = self.store_for(address)?;
        let snap = store.snapshot(COLLECTION)?;
        read_agent(&snap, address)?.ok_or_else(|| unknown(address))
    }

    /// Every agent of the town (or of one rig), nuked ones included only when asked.
    pub fn list(&self, rig: Option<&str>, include_nuked: bool) -> Result<Vec<Agent>> {
        let mut out = Vec::new();
        let rigs = match rig {
            Some(name) => vec![self.town.rigs().get(name)?],
            None => {
                let town_snap = self.town.store.snapshot(COLLECTION)?;
                if !self.town.is_lone_rig() {
                    out.extend(agents_in(&town_snap, None)?);
                }
                self.town.rigs().list()?
            }
        };
        for rig in rigs {
            let store = match rig.open_store() {
                Ok(store) => store,
                Err(_) => continue, // a missing rig is reported by `rig list`, not here
            };
            let snap = store.snapshot(COLLECTION)?;
            out.extend(agents_in(&snap, Some(&rig.name))?);
        }
        if !include_nuked {
            out.retain(Agent::is_live);
        }
        Ok(out)
    }

    /// Add a polecat to `rig`: a name from the pool (or `name`), a record and a sandbox.
    pub fn add_polecat(&self, actor: &Actor, rig: &Rig, name: Option<&str>) -> Result<Agent> {
        self.add(actor, rig, Role::Polecat, name, None)
    }

    /// A polecat whose sandbox starts on `base` (an epic's integration branch) instead of
    /// the rig's target.
    pub fn add_polecat_on(&self, actor: &Actor, rig: &Rig, base: &str) -> Result<Agent> {
        self.add(actor, rig, Role::Polecat, None, Some(base))
    }

    /// Add a crew member (a long-lived workspace) to `rig`.
    pub fn add_crew(&self, actor: &Actor, rig: &Rig, name: &str) -> Result<Agent> {
        self.add(actor, rig, Role::Crew, Some(name), None)
    }

    fn add(
        &self,
        actor: &Actor,
        rig: &Rig,
        role: Role,
        name: Option<&str>,
        base: Option<&str>,
    ) -> Result<Agent> {
        rig.check_not_parked()?;
        if let Some(n) = name {
            address::validate_agent_name(n)?;
        }
        let store = rig.open_store()?;
        let setting = |key: &str| settings::effective(Some(&store), &self.town.store, key);
        let pool = if role == Role::Polecat && name.is_none() {
            let theme = setting("namepool.theme")?;
            let custom: Vec<String> = setting("namepool.names")?
                .value
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            namepool::theme(theme.value.as_str().unwrap_or("mad-max"), &custom)?
        } else {
            Vec::new()
        };
        let target = setting("merge_queue.target")?;
        let base = match base {
            Some(b) => b.to_string(),
            None => sandbox::target_branch(&rig.path, target.value.as_str()),
        };
        let kind_dir = if role == Role::Polecat {
            "polecats"
        } else {
            "crew"
        };
        let copy: Vec<String> = setting("sandbox.copy")?
            .value
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let setup_cmd = setting("sandbox.setup")?.value.as_str().map(str::to_string);

        // 1. Reserve the name (under the rig's write lock: concurrent adds never collide).
        let agent = store.write(COLLECTION, actor, |snap, batch| {
            let chosen = match name {
                Some(n) => n.to_string(),
                None => {
                    let live = live_names(snap, role)?;
                    namepool::pick(&pool, |n| live.contains(n))
                }
            };
            let address = Address::named(&rig.name, role, &chosen);
            let path = address.record_path();
            let existing = records::read(snap, &path)?;
            if let Some(rec) = &existing {
                if rec.str("state") != Some(STATE_NUKED) {
                    return Err(Error::invalid(format!("agent {address} already exists")));
                }
            }
            let mut record =
                existing.unwrap_or_else(|| records::named_record(&address.to_string()));
            let stamp = Stamp(batch.clock, actor.name.clone());
            let sandbox_path = sandbox::path_for(rig, kind_dir, &chosen);
            let branch = format!("{}/{chosen}", role.as_str());
            for (k, v) in [
                ("role", json!(role.as_str())),
                ("rig", json!(rig.name)),
                ("name", json!(chosen)),
                ("state", json!(STATE_IDLE)),
                ("hook", Value::Null),
                ("sandbox", json!(sandbox_path.to_string_lossy())),
                ("branch", json!(branch)),
                ("base", json!(base)),
                // When this name was (re)taken: `created_at` stays the first time.
                ("added_at", json!(crate::bead::schema::now_rfc3339())),
            ] {
                record.set(k, v, &stamp);
            }
            if record.get("created_at").is_none() {
                record.set(
                    "created_at",
                    json!(crate::bead::schema::now_rfc3339()),
                    &stamp,
                );
            }
            records::put(batch, &path, &record);
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!("agent add {address}"),
                value: Agent::from_record(address, &record),
            })
        })?;

        // 2. Make the sandbox; on failure give the name back.
        let sandbox_path = agent.sandbox.clone().expect("set above");
        let branch = agent.branch.clone().expect("set above");
        let env = identity_env(self.town, &agent);
        let setup = sandbox::Setup {
            copy: &copy,
            command: setup_cmd.as_deref(),
            env: &env,
        };
        if let Err(err) = sandbox::create(
            rig,
            &sandbox_path,
            &branch,
            &base,
            &agent.address.to_string(),
            &setup,
        ) {
            let _ = self.set_fields(
                actor,
                &agent.address,
                "agent add rolled back",
                &[("state", json!(STATE_NUKED)), ("sandbox", Value::Null)],
            );
            return Err(err);
        }
        Ok(agent)
    }

    /// Set fields of an agent's record in one commit (no commit when nothing changes).
    pub fn set_fields(
        &self,
        actor: &Actor,
        address: &Address,
        why: &str,
        fields: &[(&str, Value)],
    ) -> Result<Agent> {
        self.update_record(actor, address, why, |record, stamp| {
            let mut changed = false;
            for (k, v) in fields {
                changed |= record.set(k, v.clone(), stamp);
            }
            changed
        })
    }

    /// Change an agent's record with `change` (true: it changed) in one commit; no commit
    /// when nothing changed.
    pub(crate) fn update_record(
        &self,
        actor: &Actor,
        address: &Address,
        why: &str,
        change: impl Fn(&mut Record, &Stamp) -> bool,
    ) -> Result<Agent> {
        let (store, _) = self.store_for(address)?;
        store.write(COLLECTION, actor, |snap, batch| {
            let path = address.record_path();
            let mut record = records::read(snap, &path)?.ok_or_else(|| unknown(address))?;
            let stamp = Stamp(batch.clock, actor.name.clone());
            let changed = change(&mut record, &stamp);
            let agent = Agent::from_record(address.clone(), &record);
            if !changed {
                return Ok(Outcome::Unchanged(agent));
            }
            records::put(batch, &path, &record);
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!("{why} {address}"),
                value: agent,
            })
        })
    }

    /// Ensure a singleton agent (mayor, deacon, witness, refinery) has a record.
    pub fn ensure(&self, actor: &Actor, address: &Address) -> Result<Agent> {
        if address.role.is_named() {
            return self.get(address);
        }
        let (store, rig) = self.store_for(address)?;
        let workdir = match &rig {
            Some(rig) => rig.path.clone(),
            None => self.town.root.clone(),
        };
        store.write(COLLECTION, actor, |snap, batch| {
            let path = address.record_path();
            if let Some(record) = records::read(snap, &path)? {
                if record.str("state") != Some(STATE_NUKED) {
                    return Ok(Outcome::Unchanged(Agent::from_record(
                        address.clone(),
                        &record,
                    )));
                }
            }
            let mut record = records::read(snap, &path)?
                .unwrap_or_else(|| records::named_record(&address.to_string()));
            let stamp = Stamp(batch.clock, actor.name.clone());
            for (k, v) in [
                ("role", json!(address.role.as_str())),
                ("rig", json!(address.rig)),
                ("state", json!(STATE_IDLE)),
                ("sandbox", json!(workdir.to_string_lossy())),
            ] {
                record.set(k, v, &stamp);
            }
            if record.get("created_at").is_none() {
                record.set(
                    "created_at",
                    json!(crate::bead::schema::now_rfc3339()),
                    &stamp,
                );
            }
            records::put(batch, &path, &record);
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!("agent add {address}"),
                value: Agent::from_record(address.clone(), &record),
            })
        })
    }

    /// What removing the agent's sandbox would lose right now.
    pub fn at_risk(&self, agent: &Agent, rig: &Rig) -> Result<AtRisk> {
        let mut risk = AtRisk {
            hook: agent.hook.clone(),
            ..AtRisk::default()
        };
        let (Some(path), Some(branch)) = (&agent.sandbox, &agent.branch) else {
            return Ok(risk);
        };
        if !path.exists() || !sandbox::is_worktree_of(rig, path)? {
            return Ok(risk);
        }
        risk.uncommitted = gitcmd::dirty_paths(path)?;
        let store = rig.open_store()?;
        let target = settings::effective(Some(&store), &self.town.store, "merge_queue.target")?;
        let target = sandbox::target_branch(&rig.path, target.value.as_str());
        let mut keep = vec![target];
        keep.push("--remotes".to_string());
        // Work pinned for merge requests (`Store::pin_work`) is not lost either.
        keep.push("--glob=refs/gastown/local/work/*".to_string());
        // One `--not` before all of them: each further `--not` would flip the sense back.
        let mut args: Vec<String> = vec![
            "log".into(),
            "--format=%h %s".into(),
            branch.clone(),
            "--not".into(),
        ];
        args.extend(keep);
        args.push("--".into());
        risk.unmerged_commits = gitcmd::run(&rig.path, &args)?
            .lines()
            .map(str::to_string)
            .collect();
        Ok(risk)
    }

    /// Remove a polecat's or crew member's sandbox and free its name. Refuses (changing
    /// nothing) while the sandbox holds uncommitted or unmerged work, unless `force`.
    /// The caller stops the session first.
    pub fn nuke(&self, actor: &Actor, address: &Address, force: bool) -> Result<Nuked> {
        if !address.role.is_named() {
            return Err(Error::invalid(format!(
                "{address} has no sandbox to nuke; only polecats and crew do"
            )));
        }
        let agent = self.get(address)?;
        if !agent.is_live() {
            return Err(Error::invalid(format!("{address} is already nuked")));
        }
        let rig = self
            .town
            .rigs()
            .get(address.rig.as_deref().expect("named roles have rigs"))?;
        let risk = self.at_risk(&agent, &rig)?;
        if !risk.is_empty() && !force {
            return Err(refusal(address, &risk));
        }
        let mut sandbox_removed = None;
        if let Some(path) = &agent.sandbox {
            if path.exists() {
                if !sandbox::is_worktree_of(&rig, path)? {
                    return Err(Error::invalid(format!(
                        "{} is not a worktree of rig '{}'; not removing it",
                        path.display(),
                        rig.name
                    )));
                }
                sandbox_removed = Some(path.clone());
            }
            sandbox::remove(&rig, path, agent.branch.as_deref())?;
        }
        let store = rig.open_store()?;
        let released = agent.hook.clone();
        store.write(COLLECTION, actor, |snap, batch| {
            let path = address.record_path();
            let mut record = records::read(snap, &path)?.ok_or_else(|| unknown(address))?;
            let stamp = Stamp(batch.clock, actor.name.clone());
            for (k, v) in [
                ("state", json!(STATE_NUKED)),
                ("hook", Value::Null),
                ("sandbox", Value::Null),
            ] {
                record.set(k, v, &stamp);
            }
            seance::close_in(&mut record, &stamp, seance::NUKED);
            records::put(batch, &path, &record);
            if let Some(bead) = &released {
                hook::release_bead_in(snap, batch, &stamp, bead, address)?;
            }
            carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: format!("agent nuke {address}"),
                value: Nuked {
                    address: address.clone(),
                    sandbox_removed: sandbox_removed.clone(),
                    branch_deleted: agent.branch.clone(),
                    released: released.clone(),
                    discarded: risk.clone(),
                    session_stopped: false,
                },
            })
        })
    }

    /// The agent whose sandbox contains `dir` (from the worktree's marker), else `GT_AGENT`.
    pub fn whoami(&self, dir: &Path) -> Result<Address> {
        if let Some(owner) = sandbox::owner(dir) {
            return Address::parse(&owner);
        }
        if let Some(env) = std::env::var("GT_AGENT").ok().filter(|s| !s.is_empty()) {
            return self.resolve(&env);
        }
        Err(Error::invalid(
            "not inside an agent's sandbox, and GT_AGENT is not set; run this in a sandbox or pass an address",
        ))
    }
}

/// Why `nuke` refuses: exactly what would be lost.
fn refusal(address: &Address, risk: &AtRisk) -> Error {
    Error::invalid(format!(
        "refusing to nuke {address}: its sandbox has {}; commit and finish the work, or pass --force to discard it",
        risk.describe()
    ))
}

fn unknown(address: &Address) -> Error {
    Error::invalid(format!("no agent {address} (see `git agent list`)"))
}

fn read_agent(snap: &Snapshot<'_>, address: &Address) -> Result<Option<Agent>> {
    Ok(records::read(snap, &address.record_path())?
        .map(|r| Agent::from_record(address.clone(), &r)))
}

/// The live agents of `rig` in a snapshot of its store, for a caller that must read them
/// together with other records of the same commit (sling reads them with the merge requests).
pub fn live_rig_agents_in(snap: &Snapshot<'_>, rig: &str) -> Result<Vec<Agent>> {
    let mut out = agents_in(snap, Some(rig))?;
    out.retain(Agent::is_live);
    Ok(out)
}

/// The agents recorded in one store (`rig` None: the town's own agents).
fn agents_in(snap: &Snapshot<'_>, rig: Option<&str>) -> Result<Vec<Agent>> {
    let mut out = Vec::new();
    for (path, record) in records::list(snap, "agents")? {
        let rel = path.trim_start_matches("agents/").trim_end_matches(".json");
        let address = match (rig, rel.split_once('/')) {
            (Some(rig), Some(("polecats", name))) => Address::named(rig, Role::Polecat, name),
            (Some(rig), Some(("crew", name))) => Address::named(rig, Role::Crew, name),
            (Some(rig), None) => match Role::parse(rel) {
                Ok(role) if !role.is_town_role() => Address::rig_role(rig, role),
                _ => continue,
            },
            (None, None) => match Role::parse(rel) {
                Ok(role) if role.is_town_role() => Address::town(role),
                _ => continue,
            },
            _ => continue,
        };
        out.push(Agent::from_record(address, &record));
    }
    Ok(out)
}

/// Names held by live agents of `role` in this store.
fn live_names(snap: &Snapshot<'_>, role: Role) -> Result<std::collections::HashSet<String>> {
    let dir = if role == Role::Polecat {
        "agents/polecats"
    } else {
        "agents/crew"
    };
    Ok(records::list(snap, dir)?
        .into_iter()
        .filter(|(_, r)| r.str("state") != Some(STATE_NUKED))
        .filter_map(|(p, _)| {
            Path::new(&p)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .collect())
}

/// Who a session of `agent` is: its environment (GT_ROOT, GT_RIG, GT_ROLE, GT_AGENT,
/// GT_ACTOR/BD_ACTOR, GIT_AUTHOR_*/GIT_COMMITTER_*, GT_SESSION).
pub fn identity(town: &Town, agent: &Agent) -> crate::runtime::Identity {
    let address = agent.address.to_string();
    let email_local: String = address
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '.'
            }
        })
        .collect();
    crate::runtime::Identity {
        root: town.root.clone(),
        rig: agent.rig.clone(),
        role: agent.role.as_str().to_string(),
        session: agent.address.session_name(),
        author_name: address.clone(),
        author_email: format!("{email_local}@gastown.local"),
        address,
    }
}

/// The identity environment as strings (for commands run on the agent's behalf).
pub fn identity_env(town: &Town, agent: &Agent) -> Vec<(String, String)> {
    identity(town, agent)
        .env()
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect()
}
