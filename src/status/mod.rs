//! `git gastown status`: the town at a glance, as one read-only document — rigs, agents with
//! their hooks and liveness, the merge queues, queued dispatches, convoys, escalations, advisory locks —
//! with the problems that need a person first. The dashboard's `/api/status` serves this same document.
//!
//! Nothing here writes: every fact is read from the stores' tips (one snapshot per store)
//! and from the plain files beside them (session files, liveness locks, the merge queue's
//! last report). It runs in a status line, so each store is opened and read once.

mod problems;
mod town_wide;

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::agent::lifecycle::{AgentView, SessionView};
use crate::agent::{Agents, Role};
use crate::bead::COLLECTION;
use crate::error::Result;
use crate::mq::{self, MergeRequest};
use crate::records;
use crate::sling::queue::{self, Queued};
use crate::store::{Snapshot, Store};
use crate::town::{settings, Rig, Town};

pub use problems::{short_duration, Problem, ProblemKind};
pub use town_wide::{ConvoyLine, EscalationsSection};

/// The whole document (`git gastown status --json`, the dashboard's `/api/status`).
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub town: TownSummary,
    pub generated_at: DateTime<Utc>,
    /// What needs a person, most urgent first (dead sessions holding work lead).
    pub problems: Vec<Problem>,
    pub rigs: Vec<RigStatus>,
    pub agents: AgentsSection,
    /// One entry per rig whose store could be read.
    pub merge_queue: Vec<MergeQueueStatus>,
    /// Dispatches waiting for a slot, per rig, most urgent first.
    pub dispatch_queue: Vec<QueuedDispatch>,
    /// Active convoys (open or staged), oldest first, with their progress.
    pub convoys: Vec<ConvoyLine>,
    /// Escalations not closed yet, by severity.
    pub escalations: EscalationsSection,
    /// Live advisory locks on the town's board.
    pub locks: Vec<crate::board::Lock>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TownSummary {
    pub root: PathBuf,
    /// A repository with no town: a town of this one rig.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lone_rig: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RigStatus {
    pub name: String,
    pub path: PathBuf,
    pub prefix: String,
    pub parked: bool,
    /// Its repository could be opened (a missing rig is also listed under problems).
    pub available: bool,
    pub agents: usize,
    pub alive: usize,
    pub merge_queue_depth: usize,
    pub queued_dispatches: usize,
}

/// Agents by role and state, and each agent's line.
#[derive(Debug, Clone, Serialize)]
pub struct AgentsSection {
    pub total: usize,
    /// Agents whose session is alive right now.
    pub alive: usize,
    /// role → state → count (`idle`, `working`).
    pub by_role: BTreeMap<String, BTreeMap<String, usize>>,
    pub list: Vec<AgentStatus>,
}

/// Whether an agent's session lives, from its OS lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Liveness {
    Alive,
    /// A session was started and no process of it is left.
    Dead,
    /// No session was ever started here.
    None,
}

#[derive(Debug, Clone, Serialize)]
pub struct AgentStatus {
    pub address: String,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rig: Option<String>,
    pub state: String,
    pub hook: Option<String>,
    /// The hooked bead's title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    pub liveness: Liveness,
    /// Seconds since the last activity the runtime's hooks reported (else since the start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quiet_for_s: Option<i64>,
    /// Alive with work and quiet longer than `patrol.stuck_after`.
    pub stuck: bool,
    pub session: Option<SessionView>,
}

/// One rig's merge queue.
#[derive(Debug, Clone, Serialize)]
pub struct MergeQueueStatus {
    pub rig: String,
    /// Open requests (waiting or held).
    pub depth: usize,
    pub by_status: BTreeMap<String, usize>,
    /// The open requests in queue order (the first five).
    pub next: Vec<QueuedMerge>,
    /// The pid of a pass running now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running_pid: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_pass: Option<LastPass>,
    /// A pass was killed between moving the target and recording it.
    pub unfinished_merge: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueuedMerge {
    pub id: String,
    pub branch: String,
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bead: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    pub retries: u64,
    /// Why the last pass held it, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held: Option<String>,
}

/// The report of a rig's last merge-queue pass, in short.
#[derive(Debug, Clone, Serialize)]
pub struct LastPass {
    pub started_at: String,
    pub merged: u64,
    pub rejected: u64,
    pub conflicts: u64,
    pub held: u64,
    pub millis: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueuedDispatch {
    pub rig: String,
    #[serde(flatten)]
    pub entry: Queued,
}

/// How many open requests `next` shows.
const NEXT_SHOWN: usize = 5;

/// Gather the town's status. Read only: nothing is written, locked or started.
pub fn gather(town: &Town) -> Result<Status> {
    let now = Utc::now();
    let rigs = town.rigs().list()?;
    let views = Agents::new(town).list_views(None, false)?;

    let mut out = Status {
        town: TownSummary {
            root: town.root.clone(),
            lone_rig: town.lone_rig.clone(),
        },
        generated_at: now,
        problems: Vec::new(),
        rigs: Vec::new(),
        agents: AgentsSection {
            total: 0,
            alive: 0,
            by_role: BTreeMap::new(),
            list: Vec::new(),
        },
        merge_queue: Vec::new(),
        dispatch_queue: Vec::new(),
        convoys: Vec::new(),
        escalations: town_wide::escalations(town)?,
        locks: town_wide::locks(town)?,
    };
    let mut by_rig: BTreeMap<Option<String>, Vec<AgentView>> = BTreeMap::new();
    for view in views {
        by_rig
            .entry(view.agent.address.rig.clone())
            .or_default()
            .push(view);
    }

    // The town's own agents (mayor, deacon) live in the town's store.
    if let Some(town_agents) = by_rig.remove(&None) {
        let snap = town.store.snapshot(COLLECTION)?;
        let stuck_after = stuck_after_s(None, &town.store)?;
        for view in town_agents {
            out.agents
                .list
                .push(agent_status(&snap, view, now, stuck_after));
        }
    }

    for rig in &rigs {
        let opened;
        let store: &Store = if rig.lone {
            &town.store
        } else {
            match rig.open_store() {
                Ok(s) => {
                    opened = s;
                    &opened
                }
                Err(e) => {
                    out.problems.push(Problem::rig_unavailable(rig, &e));
                    out.rigs.push(rig_line(rig, false));
                    continue;
                }
            }
        };
        let snap = store.snapshot(COLLECTION)?;
        let rig_store = (!rig.lone).then_some(store);
        let stuck_after = stuck_after_s(rig_store, &town.store)?;
        let mut line = rig_line(rig, true);
        for view in by_rig.remove(&Some(rig.name.clone())).unwrap_or_default() {
            let status = agent_status(&snap, view, now, stuck_after);
            line.agents += 1;
            line.alive += usize::from(status.liveness == Liveness::Alive);
            if let Some(problem) = problems::interrupted_done(store, &status) {
                out.problems.push(problem);
            }
            out.agents.list.push(status);
        }
        let mq = merge_queue(store, rig_store, town, rig, now)?;
        line.merge_queue_depth = mq.depth;
        out.problems.extend(problems::held_merges(&mq));
        out.merge_queue.push(mq);
        let waiting = queue::waiting(store)?;
        line.queued_dispatches = waiting.len();
        out.dispatch_queue
            .extend(waiting.into_iter().map(|entry| QueuedDispatch {
                rig: rig.name.clone(),
                entry,
            }));
        out.rigs.push(line);
    }

    let queued: std::collections::HashSet<String> = out
        .dispatch_queue
        .iter()
        .map(|q| q.entry.bead.clone())
        .collect();
    let (convoys, stranded) = town_wide::convoys(town, &queued)?;
    out.convoys = convoys;
    out.problems.extend(stranded);

    for agent in &out.agents.list {
        out.agents.total += 1;
        out.agents.alive += usize::from(agent.liveness == Liveness::Alive);
        *out.agents
            .by_role
            .entry(agent.role.as_str().to_string())
            .or_default()
            .entry(agent.state.clone())
            .or_default() += 1;
        out.problems.extend(problems::of_agent(agent));
    }
    problems::sort(&mut out.problems);
    Ok(out)
}

fn rig_line(rig: &Rig, available: bool) -> RigStatus {
    RigStatus {
        name: rig.name.clone(),
        path: rig.path.clone(),
        prefix: rig.prefix.clone(),
        parked: rig.parked,
        available,
        agents: 0,
        alive: 0,
        merge_queue_depth: 0,
        queued_dispatches: 0,
    }
}

/// `patrol.stuck_after` in seconds (rig over town over the default).
fn stuck_after_s(rig: Option<&Store>, town: &Store) -> Result<i64> {
    let value = settings::effective(rig, town, "patrol.stuck_after")?.value;
    Ok(value
        .as_str()
        .and_then(settings::parse_duration)
        .unwrap_or(30 * 60) as i64)
}

fn agent_status(
    snap: &Snapshot<'_>,
    view: AgentView,
    now: DateTime<Utc>,
    stuck_after_s: i64,
) -> AgentStatus {
    let agent = view.agent;
    let session = view.session;
    let liveness = match &session {
        None => Liveness::None,
        Some(s) if s.alive => Liveness::Alive,
        Some(_) => Liveness::Dead,
    };
    let quiet_for_s = session.as_ref().filter(|s| s.alive).map(|s| {
        (now - s.last_activity.unwrap_or(s.started_at))
            .num_seconds()
            .max(0)
    });
    let stuck = agent.hook.is_some() && quiet_for_s.is_some_and(|q| q >= stuck_after_s);
    let hook_title = agent.hook.as_deref().and_then(|bead| {
        records::read(snap, &crate::bead::id::record_path(bead))
            .ok()
            .flatten()
            .and_then(|r| r.str("title").map(str::to_string))
    });
    AgentStatus {
        address: agent.address.to_string(),
        role: agent.role,
        rig: agent.rig,
        state: agent.state,
        hook: agent.hook,
        hook_title,
        runtime: agent.runtime,
        liveness,
        quiet_for_s,
        stuck,
        session,
    }
}

fn merge_queue(
    store: &Store,
    rig_store: Option<&Store>,
    town: &Town,
    rig: &Rig,
    now: DateTime<Utc>,
) -> Result<MergeQueueStatus> {
    let mrs = mq::list(store)?;
    let mut by_status = BTreeMap::new();
    for m in &mrs {
        *by_status.entry(m.status.clone()).or_insert(0) += 1;
    }
    let mut open: Vec<MergeRequest> = mrs.into_iter().filter(MergeRequest::is_open).collect();
    let starve_after = settings::effective(rig_store, &town.store, "merge_queue.starve_after")?
        .value
        .as_str()
        .and_then(settings::parse_duration)
        .unwrap_or(3600);
    mq::order::sort(&mut open, now, starve_after);
    let last = mq::journal::last(store);
    // A request the last pass held, and still open: its reason.
    let held: BTreeMap<String, String> = last
        .as_ref()
        .and_then(|l| l["decisions"].as_array())
        .map(|decisions| {
            decisions
                .iter()
                .filter(|d| d["outcome"] == "held")
                .filter_map(|d| {
                    let id = d["mr"].as_str()?.to_string();
                    let why = d["reason"].as_str().unwrap_or("held").to_string();
                    Some((id, why))
                })
                .collect()
        })
        .unwrap_or_default();
    let next = open
        .iter()
        .map(|m| QueuedMerge {
            id: m.id.clone(),
            branch: m.branch.clone(),
            target: m.target.clone(),
            bead: m.bead.clone(),
            worker: m.worker.clone(),
            retries: m.retries,
            held: held.get(&m.id).cloned(),
        })
        .enumerate()
        // Every held request is shown, however far back in the queue.
        .filter(|(i, q)| *i < NEXT_SHOWN || q.held.is_some())
        .map(|(_, q)| q)
        .collect();
    let last_pass = last.as_ref().map(|l| {
        let n = |k: &str| l[k].as_u64().unwrap_or(0);
        LastPass {
            started_at: l["started_at"].as_str().unwrap_or_default().to_string(),
            merged: n("merged"),
            rejected: n("rejected"),
            conflicts: n("conflicts"),
            held: n("held"),
            millis: n("millis"),
        }
    });
    Ok(MergeQueueStatus {
        rig: rig.name.clone(),
        depth: open.len(),
        by_status,
        next,
        running_pid: mq::journal::Slot::holder(store).and_then(|h| h["pid"].as_u64()),
        last_pass,
        unfinished_merge: mq::journal::Journal::pending(store)
            .map(|j| j.is_some())
            .unwrap_or(true),
    })
}
