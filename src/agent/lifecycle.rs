//! Sessions of agents: start (the one place a session is started, so the scheduler's
//! capacity is checked on every path), stop, restart, peek, attach, and what `list` shows of
//! a session. Session files and liveness locks live in the common git dir of the store that
//! holds the agent (`crate::session`); the runtime comes from `crate::runtime`.

use std::ffi::OsString;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use super::{hook, identity, seance, Address, Agent, Agents, Nuked, Role, STATE_WORKING};
use crate::error::{Error, Result};
use crate::runtime::{self, HookCommands, LaunchRequest, Runtimes};
use crate::session::{self, Backend, SessionInfo, SessionSpec, Sessions};
use crate::store::{Actor, Store};
use crate::town::settings;

/// What `git agent list|show` report of a session.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub name: String,
    pub backend: String,
    pub alive: bool,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_activity: Option<DateTime<Utc>>,
    /// `working` or `waiting`, as the runtime's hooks last reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_session_id: Option<String>,
}

/// An agent and its session, as `list` and `show` report them.
#[derive(Debug, Clone, Serialize)]
pub struct AgentView {
    #[serde(flatten)]
    pub agent: Agent,
    pub session: Option<SessionView>,
}

/// The session of `agent` in `store` (the store holding its record), if one was started.
fn session_view_in(store: &Store, agent: &Agent) -> Result<Option<SessionView>> {
    let sessions = sessions_of(store);
    let name = agent.address.session_name();
    let Some(info) = sessions.info(&name)? else {
        return Ok(None);
    };
    let state_dir = store.state_dir();
    let address = agent.address.to_string();
    Ok(Some(SessionView {
        alive: sessions.is_alive(&name)?,
        backend: info.backend.name().to_string(),
        pid: info.pid,
        started_at: info.started_at,
        last_activity: session::last_activity(&state_dir, &address).ok().flatten(),
        working_state: session::agent_state(&state_dir, &address)
            .ok()
            .flatten()
            .map(|s| state_name(s.state)),
        runtime_session_id: session::runtime_session(&state_dir, &name)
            .ok()
            .flatten()
            .map(|r| r.id),
        name,
    }))
}

fn state_name(state: session::AgentState) -> String {
    match state {
        session::AgentState::Working => "working".to_string(),
        session::AgentState::Waiting => "waiting".to_string(),
    }
}

/// How to start a session.
#[derive(Debug, Clone, Default)]
pub struct StartSpec {
    /// `--agent`: the runtime, overriding the rig's and town's `agent.default`.
    pub runtime: Option<String>,
    /// The first prompt; by default a beacon naming the hook.
    pub prompt: Option<String>,
    /// Resume the runtime's previous session (its recorded id) where the runtime can.
    pub resume: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Started {
    pub agent: Address,
    pub runtime: String,
    pub session: SessionInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed: Option<String>,
}

/// Live sessions counted against the scheduler's limits.
#[derive(Debug, Clone, Serialize)]
pub struct Capacity {
    pub rig_polecats: usize,
    pub max_polecats: u64,
    pub town_sessions: usize,
    pub max_sessions: u64,
}

impl Capacity {
    /// Why another polecat session may not start now, if it may not.
    pub fn full_reason(&self) -> Option<String> {
        if self.max_polecats > 0 && self.rig_polecats as u64 >= self.max_polecats {
            return Some(format!(
                "{} of scheduler.max_polecats = {} polecat sessions are live",
                self.rig_polecats, self.max_polecats
            ));
        }
        if self.max_sessions > 0 && self.town_sessions as u64 >= self.max_sessions {
            return Some(format!(
                "{} of scheduler.max_sessions = {} sessions are live in the town",
                self.town_sessions, self.max_sessions
            ));
        }
        None
    }
}

/// The sessions kept beside a store.
fn sessions_of(store: &Store) -> Sessions {
    Sessions::new(&store.state_dir())
}

fn setting_u64(store: Option<&Store>, town: &Store, key: &str) -> Result<u64> {
    Ok(settings::effective(store, town, key)?
        .value
        .as_u64()
        .unwrap_or(0))
}

impl Agents<'_> {
    /// The session of `agent`, if one was ever started.
    pub fn session_view(&self, agent: &Agent) -> Result<Option<SessionView>> {
        let (store, _) = self.store_for(&agent.address)?;
        session_view_in(&store, agent)
    }

    /// Agents with their sessions, as `git agent list` shows them (each rig's store opened
    /// once, however many agents it holds).
    pub fn list_views(&self, rig: Option<&str>, include_nuked: bool) -> Result<Vec<AgentView>> {
        let agents = self.list(rig, include_nuked)?;
        let mut stores: std::collections::HashMap<Option<String>, Store> = Default::default();
        let mut out = Vec::with_capacity(agents.len());
        for agent in agents {
            let key = agent.address.rig.clone();
            if !stores.contains_key(&key) {
                let (store, _) = self.store_for(&agent.address)?;
                stores.insert(key.clone(), store);
            }
            let session = session_view_in(&stores[&key], &agent)?;
            out.push(AgentView { agent, session });
        }
        Ok(out)
    }

    /// One agent with its session (`git agent show`).
    pub fn view(&self, address: &Address) -> Result<AgentView> {
        let agent = self.get(address)?;
        let session = self.session_view(&agent)?;
        Ok(AgentView { agent, session })
    }

    /// Stop the session (if one runs) and start it again — with the runtime it last ran
    /// unless `spec` names one, resuming the runtime's session when `spec.resume`.
    pub fn restart(&self, actor: &Actor, address: &Address, spec: &StartSpec) -> Result<Started> {
        let agent = self.get(address)?;
        self.stop_with(actor, address, seance::RESTARTED)?;
        let spec = StartSpec {
            runtime: spec.runtime.clone().or(agent.runtime),
            ..spec.clone()
        };
        self.start(actor, address, &spec)
    }

    /// `git agent nuke`: refuse at-risk work first (changing nothing, the session left
    /// running), then stop the session, then remove the sandbox and free the name.
    pub fn retire(&self, actor: &Actor, address: &Address, force: bool) -> Result<Nuked> {
        if address.role.is_named() && !force {
            let agent = self.get(address)?;
            if agent.is_live() {
                let rig = self
                    .town
                    .rigs()
                    .get(address.rig.as_deref().unwrap_or_default())?;
                let risk = self.at_risk(&agent, &rig)?;
                if !risk.is_empty() {
                    return Err(super::refusal(address, &risk));
                }
            }
        }
        let stopped = if address.role.is_named() && self.get(address)?.is_live() {
            self.stop_with(actor, address, seance::NUKED)?
        } else {
            false
        };
        let mut nuked = self.nuke(actor, address, force)?;
        nuked.session_stopped = stopped;
        Ok(nuked)
    }

    /// Whether the agent's session is alive right now (from its OS lock).
    pub fn is_alive(&self, address: &Address) -> Result<bool> {
        let (store, _) = self.store_for(address)?;
        sessions_of(&store).is_alive(&address.session_name())
    }

    /// Live sessions against the limits, for a rig (polecats) and the town (everything).
    pub fn capacity(&self, rig: &str) -> Result<Capacity> {
        let mut rig_polecats = 0;
        let mut town_sessions = 0;
        let mut rig_store = None;
        for r in self.town.rigs().list()? {
            let Ok(store) = r.open_store() else { continue };
            for status in sessions_of(&store).list()? {
                if !status.alive {
                    continue;
                }
                town_sessions += 1;
                if r.name == rig
                    && status.info.name.starts_with(&format!("gt-{rig}-"))
                    && !status.info.name.starts_with(&format!("gt-{rig}-crew-"))
                    && !["witness", "refinery"]
                        .iter()
                        .any(|x| status.info.name == format!("gt-{rig}-{x}"))
                {
                    rig_polecats += 1;
                }
            }
            if r.name == rig {
                rig_store = Some(store);
            }
        }
        if !self.town.is_lone_rig() {
            town_sessions += sessions_of(&self.town.store)
                .list()?
                .iter()
                .filter(|s| s.alive)
                .count();
        }
        Ok(Capacity {
            rig_polecats,
            max_polecats: setting_u64(
                rig_store.as_ref(),
                &self.town.store,
                "scheduler.max_polecats",
            )?,
            town_sessions,
            max_sessions: setting_u64(
                rig_store.as_ref(),
                &self.town.store,
                "scheduler.max_sessions",
            )?,
        })
    }

    /// Start the agent's session in its sandbox. Refuses a live session, a parked rig, a
    /// missing sandbox or runtime binary, and (for polecats) a start beyond the scheduler's
    /// capacity: this is the one place sessions start, so every path is capped.
    pub fn start(&self, actor: &Actor, address: &Address, spec: &StartSpec) -> Result<Started> {
        self.start_within_capacity(actor, address, spec)?
            .map_err(|reason| Error::Conflict(format!("cannot start {address}: {reason}")))
    }

    /// [`Agents::start`], with a start refused for capacity as `Ok(Err(reason))`, so a
    /// dispatcher can queue the work instead of counting a failure.
    pub fn start_within_capacity(
        &self,
        actor: &Actor,
        address: &Address,
        spec: &StartSpec,
    ) -> Result<std::result::Result<Started, String>> {
        let agent = if address.role.is_named() {
            self.get(address)?
        } else {
            self.ensure(actor, address)?
        };
        if !agent.is_live() {
            return Err(Error::invalid(format!(
                "{address} was nuked; add it again first"
            )));
        }
        let (store, rig) = self.store_for(address)?;
        if let Some(rig) = &rig {
            rig.check_not_parked()?;
        }
        let cwd: PathBuf = agent
            .sandbox
            .clone()
            .filter(|p| p.is_dir())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "{address} has no sandbox on this machine; nuke it and add it again"
                ))
            })?;
        let rig_store = rig.as_ref().map(|_| &store);
        let default = settings::effective(rig_store, &self.town.store, "agent.default")?;
        let name = runtime::resolve_name(spec.runtime.as_deref(), default.value.as_str(), None)
            .to_string();
        let runtimes = Runtimes::from_repo(store.repo());
        let rt = runtimes.get(&name)?;
        rt.require_binary()?;
        let sessions = sessions_of(&store);
        let session_name = address.session_name();
        let hooks_dir = sessions.hooks_dir(&session_name)?;
        let resume_id = if spec.resume {
            session::runtime_session(&store.state_dir(), &session_name)?
                .filter(|r| r.runtime == name && !rt.resume.is_empty())
                .map(|r| r.id)
        } else {
            None
        };
        let prompt = match (&spec.prompt, &agent.hook) {
            (Some(p), _) => p.clone(),
            (None, Some(bead)) => beacon(address, &actor.name, Some(bead)),
            (None, None) => beacon(address, &actor.name, None),
        };
        let ident = identity(self.town, &agent);
        let commands = hook_commands();
        let launch = rt.launch(&LaunchRequest {
            identity: &ident,
            prompt: Some(&prompt),
            resume: resume_id.as_deref(),
            hooks_dir: &hooks_dir,
            hook_commands: &commands,
        })?;
        launch.write_files()?;
        let backend = Backend::choose(
            store.config_string("gastown.session.backend").as_deref(),
            &store.state_dir(),
        )?;
        let session = {
            // Checking capacity and starting under one town-wide lock: two starts racing for
            // the last slot cannot both win.
            let _slot = self.town.store.lock("sessions")?;
            if sessions.is_alive(&session_name)? {
                return Err(Error::Conflict(format!(
                    "{address}'s session is already running; `git agent stop {address}` first"
                )));
            }
            if address.role == Role::Polecat {
                let rig_name = address.rig.as_deref().unwrap_or_default();
                if let Some(reason) = self.capacity(rig_name)?.full_reason() {
                    return Ok(Err(reason));
                }
            }
            // The last session is dead (checked above, under the lock): git lock files
            // its killed commands left would fail every git command of the new one.
            if address.role.is_named() {
                super::sandbox::clear_stale_git_locks(&cwd, agent.branch.as_deref());
            }
            sessions.start(
                &backend,
                &SessionSpec::from_launch(&session_name, &cwd, &launch),
            )?
        };
        // The record and the session history change in one write: runtime, state, and a
        // new history entry (with the runtime's session id if its hook already reported it).
        let started = seance::stamp_time(&session.started_at);
        let runtime_id = self
            .fresh_runtime_id(
                &store.state_dir(),
                &session_name,
                &name,
                &session.started_at,
            )
            .or_else(|| resume_id.clone());
        let hook = agent.hook.clone();
        self.update_record(actor, address, "agent start", |record, stamp| {
            let mut changed = record.set("runtime", json!(name), stamp);
            if hook.is_some() {
                changed |= record.set("state", json!(STATE_WORKING), stamp);
            }
            if record
                .get(hook::START_PENDING)
                .is_some_and(|v| !v.is_null())
            {
                changed |= record.set(hook::START_PENDING, Value::Null, stamp);
            }
            changed |= seance::open_in(
                record,
                stamp,
                &name,
                &started,
                hook.as_deref(),
                resume_id.as_deref(),
                runtime_id.as_deref(),
            );
            changed
        })?;
        Ok(Ok(Started {
            agent: address.clone(),
            runtime: name,
            session,
            resumed: resume_id,
        }))
    }

    /// Stop the agent's session; false when none was running. Records nothing: `stop_as`
    /// also closes the session's history entry (`git agent seance`).
    pub fn stop(&self, address: &Address) -> Result<bool> {
        let (store, _) = self.store_for(address)?;
        let sessions = sessions_of(&store);
        let name = address.session_name();
        if sessions.info(&name)?.is_none() {
            return Ok(false);
        }
        sessions.stop(&name)
    }

    /// The last `lines` lines of the agent's session output.
    pub fn peek(&self, address: &Address, lines: usize) -> Result<String> {
        let (store, _) = self.store_for(address)?;
        let sessions = sessions_of(&store);
        let name = address.session_name();
        if sessions.info(&name)?.is_none() {
            return Err(Error::invalid(format!("{address} has never had a session")));
        }
        sessions.peek(&name, lines)
    }

    /// The command a person runs to join the agent's terminal.
    pub fn attach_command(&self, address: &Address) -> Result<Vec<OsString>> {
        let (store, _) = self.store_for(address)?;
        let sessions = sessions_of(&store);
        let name = address.session_name();
        if !sessions.is_alive(&name)? {
            return Err(Error::invalid(format!(
                "{address} has no live session to attach to"
            )));
        }
        sessions.attach_command(&name)
    }
}

/// The first prompt of a session: who it is, what is on its hook, what to run.
pub fn beacon(address: &Address, sender: &str, hook: Option<&str>) -> String {
    let now = Utc::now().format("%Y-%m-%d %H:%M UTC");
    match hook {
        Some(bead) => format!(
            "[GAS TOWN] {address} <- {sender} • {now} • hook: {bead}. Run `git agent prime` to see your work, do it, commit, then run `git agent done`."
        ),
        None => format!(
            "[GAS TOWN] {address} <- {sender} • {now} • your hook is empty. Run `git agent prime` for your instructions."
        ),
    }
}

/// The commands runtime hooks call: our own binaries by absolute path when they sit beside
/// this one (a runtime's PATH may differ from ours), else `git agent` / `git mail`.
fn hook_commands() -> HookCommands {
    let dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(PathBuf::from));
    let beside = |bin: &str| dir.as_ref().map(|d| d.join(bin)).filter(|p| p.is_file());
    match (beside("git-agent"), beside("git-mail")) {
        (Some(agent), Some(mail)) => {
            HookCommands::with_programs(&[&agent.to_string_lossy()], &[&mail.to_string_lossy()])
        }
        (Some(agent), None) => {
            HookCommands::with_programs(&[&agent.to_string_lossy()], &["git", "mail"])
        }
        _ => HookCommands::default(),
    }
}
