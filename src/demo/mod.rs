//! `git gastown demo`: the whole propulsion loop on a throwaway town, with no LLM and no
//! network. A town with one rig, M beads with dependencies (one pair edits the same file,
//! one breaks the gate on its first try), N polecats running the built-in scripted agent
//! (`agent.sh`, registered as the custom runtime `demo` through git config), the merge
//! queue merging their work as `done` starts its passes, and the mayor's loop done
//! mechanically: sling what is ready until everything is closed. The simulation
//! (tests/it/simulation.rs, benches/town.rs) runs the same agent at scale.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Map};

use crate::agent::Agents;
use crate::bead::ops::NewBead;
use crate::bead::Beads;
use crate::error::{Error, Result};
use crate::gitcmd;
use crate::sling::{Sling, SlingSpec, Target};
use crate::store::{Actor, Store};
use crate::town::{Settings, Town};

/// The scripted agent (a POSIX sh script): see the comment at its top.
pub const AGENT_SCRIPT: &str = include_str!("agent.sh");
/// The name the scripted agent is registered under.
pub const RUNTIME: &str = "demo";
/// The demo's gate: refuses a tree holding `broken/` (what `[breaks-gate]` beads add).
pub const GATE: &str = "test ! -e broken";
/// The rig's name in the demo town.
pub const RIG: &str = "app";

/// What to build and run.
#[derive(Debug, Clone)]
pub struct DemoSpec {
    pub agents: usize,
    pub beads: usize,
    /// Where the town and the rig are made (an empty or new directory).
    pub dir: PathBuf,
    /// Give up waiting after this long (the report says what was left).
    pub timeout: Duration,
}

/// One bead of the demo at the end.
#[derive(Debug, Clone, Serialize)]
pub struct BeadOutcome {
    pub id: String,
    pub title: String,
    pub status: String,
}

/// What the demo did.
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    pub town: PathBuf,
    pub rig: String,
    pub rig_path: PathBuf,
    pub agents: usize,
    /// The beads it filed, then the rework beads the merge queue filed for conflicts.
    pub beads: Vec<BeadOutcome>,
    pub closed: usize,
    /// Every bead closed within the time limit.
    pub finished: bool,
    pub elapsed_ms: u64,
    /// Dispatches the mayor's loop made (sling calls that started or queued a bead).
    pub dispatches: usize,
    /// `git log --oneline` of the rig's target branch, newest first.
    pub landed: Vec<String>,
    /// The convoy tracking the filed beads, as it ended.
    pub convoy: Option<crate::convoy::Convoy>,
    /// The town's activity stream (`git gastown feed`), oldest first.
    pub feed: Vec<crate::feed::Event>,
    /// The town at the end (`git gastown status`).
    pub status: crate::status::Status,
}

/// A town built for the demo.
pub struct DemoTown {
    pub town_root: PathBuf,
    pub rig_path: PathBuf,
    pub filed: Vec<String>,
    /// The convoy tracking them.
    pub convoy: String,
}

/// The environment the demo's processes need, to be set on the demo's own process before
/// anything starts (sessions and detached passes inherit it): the suite's binaries first
/// on PATH (`bin_dir`, the running binary's directory), and a git config of the demo's own
/// (`<dir>/gitconfig`: an identity, no signing, none of the user's hooks or aliases).
pub fn environment(dir: &Path, bin_dir: &Path) -> Result<Vec<(String, String)>> {
    let config = dir.join("gitconfig");
    std::fs::write(
        &config,
        "[user]\n\tname = Gas Town demo\n\temail = demo@gastown.local\n[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n",
    )
    .map_err(|e| Error::io(format!("writing {}", config.display()), e))?;
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
    Ok(vec![
        ("PATH".into(), format!("{}:{path}", bin_dir.display())),
        ("GIT_CONFIG_GLOBAL".into(), config.display().to_string()),
        ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
        ("GT_ACTOR".into(), "mayor".into()),
    ])
}

/// Write the scripted agent to `script` and register it in `repo`'s git config as the
/// runtime `demo` (prompt by argument), sessions as detached processes.
pub fn install_runtime(repo: &Path, script: &Path) -> Result<()> {
    std::fs::write(script, AGENT_SCRIPT)
        .map_err(|e| Error::io(format!("writing {}", script.display()), e))?;
    std::fs::set_permissions(script, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::io(format!("making {} executable", script.display()), e))?;
    let command = script.display().to_string();
    for (key, value) in [
        ("gastown.runtime.demo.command", command.as_str()),
        ("gastown.runtime.demo.prompt", "arg"),
        ("gastown.session.backend", "process"),
    ] {
        gitcmd::run(repo, ["config", key, value])?;
    }
    Ok(())
}

/// A new repository at `path` on `main` with one commit.
pub fn new_project(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path)
        .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
    gitcmd::run(path, ["init", "--quiet", "-b", "main"])?;
    std::fs::write(
        path.join("README.md"),
        "# app\n\nA project worked on by the Gas Town demo's scripted agents.\n",
    )
    .map_err(|e| Error::io("writing README.md", e))?;
    gitcmd::run(path, ["add", "README.md"])?;
    gitcmd::run(path, ["commit", "--quiet", "-m", "Initial commit"])?;
    Ok(())
}

/// The demo's beads: `count` of them in rounds of `width` (each bead of a round depends on
/// the one `width` before it), the second and third of the first round appending to the
/// same file (one of them conflicts and is reworked), the fourth breaking the gate once.
pub fn plan(count: usize, width: usize) -> Vec<(String, Option<usize>)> {
    let width = width.max(1);
    (0..count)
        .map(|i| {
            let mut title = format!("Add module {} of the app", i + 1);
            if count >= 3 && (i == 1 || i == 2) {
                title.push_str(" [shared: CHANGELOG]");
            }
            if count >= 4 && i == 3 {
                title.push_str(" [breaks-gate]");
            }
            (title, i.checked_sub(width))
        })
        .collect()
}

/// Build the town: `<dir>/town` (the town), `<dir>/app` (the rig, prefix `app`), the
/// runtime, the settings (agent.default, the cap, the gate) and the beads.
pub fn build(spec: &DemoSpec, actor: &Actor) -> Result<DemoTown> {
    if spec.agents == 0 || spec.beads == 0 {
        return Err(Error::invalid(
            "the demo needs at least one agent and one bead",
        ));
    }
    let town_root = spec.dir.join("town");
    let rig_path = spec.dir.join(RIG);
    Town::init(&town_root, |_| Ok(actor.clone()))?;
    new_project(&rig_path)?;
    let town = Town::discover(&town_root)?;
    town.rigs()
        .add(actor, RIG, &rig_path.display().to_string(), Some(RIG))?;
    install_runtime(&rig_path, &spec.dir.join("demo-agent.sh"))?;
    let rig_store = Store::open(&rig_path)?;
    let settings = Settings::new(&rig_store);
    let cap = spec.agents.to_string();
    for (key, value) in [
        ("agent.default", RUNTIME),
        ("scheduler.max_polecats", cap.as_str()),
        ("merge_queue.auto", "true"),
        ("merge_queue.gates.test", GATE),
    ] {
        settings.set(actor, key, Some(value))?;
    }
    let beads = Beads::new(&rig_store);
    let mut filed: Vec<String> = Vec::new();
    for (title, after) in plan(spec.beads, spec.agents) {
        let mut fields = Map::new();
        fields.insert(
            "description".into(),
            json!("Filed by `git gastown demo`; the scripted agent adds this bead's line."),
        );
        let deps = after
            .map(|i| vec![(filed[i].clone(), "blocks".to_string())])
            .unwrap_or_default();
        let created = beads.create(
            actor,
            vec![NewBead {
                title,
                fields,
                deps,
                ..Default::default()
            }],
        )?;
        filed.push(created[0].id.clone());
    }
    let convoy = crate::convoy::Convoys::new(&town).create(
        actor,
        &crate::convoy::NewConvoy {
            name: "The demo's beads".into(),
            beads: filed.clone(),
            ..Default::default()
        },
    )?;
    Ok(DemoTown {
        town_root,
        rig_path,
        filed,
        convoy: convoy.id,
    })
}

/// The mayor's loop, mechanically: sling every ready, unassigned bead that is not already
/// waiting in the queue to the rig, until every bead is closed and the convoy landed, or
/// `timeout` passes. The
/// agents, `done`, the merge queue and the scheduler's queue do the rest.
pub fn run(built: &DemoTown, spec: &DemoSpec, actor: &Actor) -> Result<DemoReport> {
    let started = Instant::now();
    let town = Town::discover(&built.town_root)?;
    let store = Store::open(&built.rig_path)?;
    let mut dispatches = 0;
    let finished = loop {
        let outcomes = outcomes(&store, &built.filed)?;
        // The convoy lands in the merge pass's write after the one that closes its last
        // bead: the demo shows the landed convoy, so it waits for that write too.
        let landed = || {
            crate::convoy::Convoys::new(&town)
                .get(&built.convoy)
                .is_ok_and(|c| c.status == "landed")
        };
        if outcomes.iter().all(|b| b.status == "closed") && landed() {
            break true;
        }
        if started.elapsed() > spec.timeout {
            break false;
        }
        let ready = crate::sling::ready::pickable(
            &store,
            usize::MAX,
            chrono::Utc::now().timestamp_millis(),
        )?;
        if !ready.is_empty() {
            let agents = Agents::new(&town);
            let sling = Sling::new(agents);
            let spec = SlingSpec {
                beads: ready,
                target: Target::Rig(RIG.to_string()),
                runtime: None,
                formula: None,
                vars: Map::new(),
                force: false,
                no_start: false,
            };
            // A dispatch that fails is rolled back and counted on its bead; the next round
            // tries it again (the circuit breaker stops it after three).
            if let Ok(done) = Sling::sling(&sling, actor, &spec) {
                dispatches += done.iter().filter(|d| d.outcome != "failed").count();
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let beads = outcomes(&store, &built.filed)?;
    let landed = gitcmd::run(
        &built.rig_path,
        ["log", "--oneline", "--no-decorate", "main"],
    )?
    .lines()
    .map(str::to_string)
    .collect();
    Ok(DemoReport {
        town: built.town_root.clone(),
        rig: RIG.into(),
        rig_path: built.rig_path.clone(),
        agents: Agents::new(&town).list(Some(RIG), false)?.len(),
        closed: beads.iter().filter(|b| b.status == "closed").count(),
        beads,
        finished,
        elapsed_ms: started.elapsed().as_millis() as u64,
        dispatches,
        landed,
        convoy: crate::convoy::Convoys::new(&town).get(&built.convoy).ok(),
        feed: crate::feed::Feed::new(&town)?.events(&crate::feed::Filter::default())?,
        status: crate::status::gather(&town)?,
    })
}

/// End every session still running in the demo's rig (none when it finished: `done`
/// ends its own).
pub fn stop_sessions(built: &DemoTown) -> Result<()> {
    let town = Town::discover(&built.town_root)?;
    let agents = Agents::new(&town);
    for agent in agents.list(Some(RIG), false)? {
        let _ = agents.stop(&agent.address);
    }
    Ok(())
}

/// The filed beads, then every other bead of the store (rework the queue filed), by id.
fn outcomes(store: &Store, filed: &[String]) -> Result<Vec<BeadOutcome>> {
    let beads = Beads::new(store);
    let snap = beads.snapshot()?;
    let index = beads.index(&snap)?;
    let mut out: Vec<BeadOutcome> = Vec::new();
    let mut others: Vec<BeadOutcome> = Vec::new();
    for row in &index.rows {
        let b = BeadOutcome {
            id: index.id(row).to_string(),
            title: index.title(row).to_string(),
            status: index.status(row).to_string(),
        };
        if b.status == "tombstone" {
            continue;
        }
        if filed.contains(&b.id) {
            out.push(b);
        } else {
            others.push(b);
        }
    }
    out.sort_by_key(|b| filed.iter().position(|f| *f == b.id));
    others.sort_by(|a, b| a.id.cmp(&b.id));
    out.extend(others);
    Ok(out)
}
