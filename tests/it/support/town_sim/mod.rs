//! The town simulation (docs/SIMULATION.md), shared by the integration test
//! (tests/it/simulation.rs) and the benchmark (benches/town.rs, which includes this file):
//! a town of R rigs whose A scripted agents (the demo's agent, `gastown::demo`) work B beads
//! with dependencies, shared files (conflicting edits) and a flaky gate, through sling →
//! work → done → merge queue, while faults are injected — agent sessions and the driver's
//! own commands killed with SIGKILL at random moments drawn from a replayable seed — and
//! supervision runs periodically. At the end `checks::run` proves nothing was lost or done
//! twice; the report carries throughput, command latencies, commits per bead and memory.
//!
//! The seed replays the plan: the beads and their dependencies, which share files or break
//! the gate, the gate's flakes (keyed by the candidate's tip), and every fault decision in
//! the order the driver makes them. Process scheduling is the OS's, so a replay drives the
//! same kinds of faults into the same places, not the same interleaving instant by instant.

#![allow(dead_code)]

pub mod checks;

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::sample::Rng;

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Spec {
    pub rigs: usize,
    /// Polecats working at once, over all rigs (each rig gets its share as its cap).
    pub agents: usize,
    pub beads: usize,
    pub seed: u64,
    /// An empty directory for the town, its rigs and the driver's files.
    pub dir: PathBuf,
    /// Where the suite's `git-*` binaries are.
    pub bin_dir: PathBuf,
    /// Kill agent sessions and the driver's commands with SIGKILL at random.
    pub faults: bool,
    /// Give up (a violation) when not settled after this long.
    pub timeout: Duration,
}

impl Spec {
    /// The seed from `GT_SIM_SEED`, else a fresh one (printed by the caller, so a failing
    /// run can be replayed).
    pub fn seed_from_env() -> u64 {
        std::env::var("GT_SIM_SEED")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1);
                (nanos ^ (u64::from(std::process::id()) << 32)) % 1_000_000_007
            })
    }
}

/// One rig of the simulated town.
#[derive(Debug, Clone)]
pub struct SimRig {
    pub name: String,
    pub path: PathBuf,
    pub cap: usize,
    /// The beads filed for it (rework beads the queue files come on top).
    pub work: Vec<String>,
}

/// Faults injected, by kind.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Faults {
    pub sessions_killed: usize,
    pub commands_killed: BTreeMap<String, usize>,
}

/// What a run measured and found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub seed: u64,
    pub rigs: usize,
    pub agents: usize,
    pub beads: usize,
    pub elapsed_s: f64,
    pub merged_beads: usize,
    pub beads_per_minute: f64,
    /// Command → (runs, p50 ms, p99 ms), for runs that were not killed.
    pub latency: BTreeMap<String, (usize, f64, f64)>,
    pub commits_per_bead: f64,
    pub target_commits_per_bead: f64,
    pub peak_rss_kb: u64,
    pub faults: Faults,
    pub rework_beads: usize,
    pub convoys: usize,
    pub rejections: usize,
    pub conflicts: usize,
    /// Everything that is wrong at the end; empty when nothing was lost or done twice.
    pub violations: Vec<String>,
    /// What is worth knowing but loses nothing (leaked identities, say).
    pub findings: Vec<String>,
    /// Per merged request, submission to merge (ms): what a worker's handed-in work waits.
    pub mq_waits: Vec<f64>,
}

/// A town being simulated.
pub struct Sim {
    pub spec: Spec,
    pub town: PathBuf,
    pub rigs: Vec<SimRig>,
    env: Vec<(String, String)>,
    rng: Rng,
    timings: BTreeMap<String, Vec<f64>>,
    faults: Faults,
    peak_rss_kb: u64,
    timings_file: PathBuf,
    /// Commands running, one lane per rig: (rig index, the command).
    running: Vec<(usize, Running)>,
    /// Per rig, what its lane runs next once it is free.
    backlog: Vec<Vec<Job>>,
}

/// A driver command on its way.
struct Running {
    name: String,
    child: std::process::Child,
    started: Instant,
    kill_after: Option<Duration>,
}

/// A driver command to start: (timing name, tool, args).
type Job = (String, &'static str, Vec<String>);

/// The share of beads that append to one of a few shared files (they conflict).
const SHARED_PERCENT: u64 = 12;
/// The share of beads whose first try breaks the gate.
const BREAKS_PERCENT: u64 = 6;
/// One candidate in this many fails the gate at random (keyed by its tip and the seed).
const FLAKE_ONE_IN: u64 = 25;
/// The chance, per driver command, that it is killed (percent).
const KILL_COMMAND_PERCENT: u64 = 10;
/// The chance, per tick, that one live agent session is killed (percent).
const KILL_SESSION_PERCENT: u64 = 4;

impl Sim {
    /// Build the town: `<dir>/town`, rigs `r0..` at `<dir>/r0..`, the scripted agent as
    /// every rig's runtime, the settings, and the beads (one write per rig).
    pub fn build(spec: Spec) -> Sim {
        std::fs::create_dir_all(&spec.dir).unwrap();
        let dir = std::fs::canonicalize(&spec.dir).unwrap();
        let home = dir.join("home");
        std::fs::create_dir_all(&home).unwrap();
        let env = {
            let mut env = gastown::demo::environment(&home, &spec.bin_dir).unwrap();
            env.push(("HOME".into(), home.display().to_string()));
            env.push(("LC_ALL".into(), "C".into()));
            env.push(("TZ".into(), "UTC".into()));
            env.push(("GIT_EDITOR".into(), ":".into()));
            env.push(("GT_LOCK_TIMEOUT_MS".into(), "60000".into()));
            env.push((
                "GT_SIM_TIMINGS".into(),
                dir.join("done-times").display().to_string(),
            ));
            env
        };
        // The library calls below run git too: in this process, with the same config.
        for (k, v) in &env {
            if k.starts_with("GIT_") {
                std::env::set_var(k, v);
            }
        }
        let mut rng = Rng(spec.seed.max(1));
        let actor = gastown::store::Actor {
            name: "mayor".into(),
            email: "mayor@gastown.local".into(),
        };
        let town = dir.join("town");
        gastown::town::Town::init(&town, |_| Ok(actor.clone())).unwrap();
        let script = dir.join("agent.sh");
        let gate = format!(
            "{} && [ $(( $(printf '%s' \"$GT_MQ_TIP.{}\" | cksum | cut -d' ' -f1) % {FLAKE_ONE_IN} )) -ne 0 ]",
            gastown::demo::GATE,
            spec.seed
        );
        let mut rigs = Vec::new();
        let per_rig_beads = spec.beads.div_ceil(spec.rigs.max(1));
        for r in 0..spec.rigs {
            let name = format!("r{r}");
            let path = dir.join(&name);
            gastown::demo::new_project(&path).unwrap();
            let t = gastown::town::Town::discover(&town).unwrap();
            t.rigs()
                .add(&actor, &name, &path.display().to_string(), Some(&name))
                .unwrap();
            gastown::demo::install_runtime(&path, &script).unwrap();
            let store = gastown::store::Store::open(&path).unwrap();
            let settings = gastown::town::Settings::new(&store);
            let cap = (spec.agents / spec.rigs + usize::from(r < spec.agents % spec.rigs)).max(1);
            for (key, value) in [
                ("agent.default", gastown::demo::RUNTIME.to_string()),
                ("scheduler.max_polecats", cap.to_string()),
                ("merge_queue.auto", "true".into()),
                ("merge_queue.max_retries", "50".into()),
                ("merge_queue.gates.test", gate.clone()),
                // Half-made polecats (a sling killed inside `worktree add`) are nuked by
                // the periodic patrols within the run rather than after ten minutes.
                ("patrol.half_made_after", "20s".into()),
            ] {
                settings.set(&actor, key, Some(&value)).unwrap();
            }
            let count = per_rig_beads.min(spec.beads.saturating_sub(r * per_rig_beads));
            let work = file_beads(&store, &actor, &mut rng, count);
            // Convoys of ten beads each: every one must land exactly once.
            let convoys = gastown::convoy::Convoys::new(&t);
            for (n, chunk) in work.chunks(10).enumerate() {
                convoys
                    .create(
                        &actor,
                        &gastown::convoy::NewConvoy {
                            name: format!("{name} batch {n}"),
                            beads: chunk.to_vec(),
                            ..Default::default()
                        },
                    )
                    .unwrap();
            }
            rigs.push(SimRig {
                name,
                path,
                cap,
                work,
            });
        }
        Sim {
            timings_file: dir.join("done-times"),
            spec,
            town,
            rigs,
            env,
            rng,
            timings: BTreeMap::new(),
            faults: Faults::default(),
            peak_rss_kb: 0,
            running: Vec::new(),
            backlog: Vec::new(),
        }
    }

    /// `git-<tool> args` in `dir` with the simulation's environment, in a process group of
    /// its own (so a kill takes its git children too).
    pub fn command(&self, tool: &str, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.spec.bin_dir.join(format!("git-{tool}")));
        cmd.env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        cmd
    }

    /// Start a driver command; with faults on, it is to be killed with SIGKILL at a random
    /// moment now and then.
    fn start(&mut self, rig: usize, job: Job) {
        let kill_after = (self.spec.faults && self.rng.below(100) < KILL_COMMAND_PERCENT)
            .then(|| Duration::from_millis(self.rng.below(300)));
        let args: Vec<&str> = job.2.iter().map(String::as_str).collect();
        let child = self
            .command(job.1, &self.rigs[rig].path.clone(), &args)
            .spawn()
            .unwrap();
        self.running.push((
            rig,
            Running {
                name: job.0,
                child,
                started: Instant::now(),
                kill_after,
            },
        ));
    }

    /// Look at every running command: record the finished ones, kill the doomed ones.
    fn poll(&mut self) {
        let mut still = Vec::new();
        for (rig, mut r) in std::mem::take(&mut self.running) {
            if let Some(kb) = peak_rss_kb(r.child.id()) {
                self.peak_rss_kb = self.peak_rss_kb.max(kb);
            }
            if r.child.try_wait().unwrap().is_some() {
                self.timings
                    .entry(r.name.clone())
                    .or_default()
                    .push(r.started.elapsed().as_secs_f64() * 1000.0);
                continue;
            }
            if r.kill_after
                .is_some_and(|after| r.started.elapsed() >= after)
            {
                kill_group(r.child.id());
                let _ = r.child.wait();
                *self
                    .faults
                    .commands_killed
                    .entry(r.name.clone())
                    .or_default() += 1;
                continue;
            }
            still.push((rig, r));
        }
        self.running = still;
    }

    fn lane_free(&self, rig: usize) -> bool {
        !self.running.iter().any(|(r, _)| *r == rig)
    }

    /// Run one command to its end (setup and tests' own use), timed and killable alike.
    pub fn run(&mut self, rig: usize, name: &str, tool: &'static str, args: &[&str]) {
        self.start(
            rig,
            (
                name.to_string(),
                tool,
                args.iter().map(|a| a.to_string()).collect(),
            ),
        );
        while !self.lane_free(rig) {
            std::thread::sleep(Duration::from_millis(3));
            self.poll();
        }
    }

    /// Drive the town until every bead is closed and everything is quiet, or the timeout;
    /// then check the end state. The report.
    pub fn drive(mut self) -> Report {
        let started = Instant::now();
        let mut violations = Vec::new();
        let mut last_supervision = Instant::now();
        loop {
            let states: Vec<checks::RigState> =
                self.rigs.iter().map(checks::RigState::read).collect();
            if states.iter().all(checks::RigState::settled) && checks::convoys_settled(&self.town) {
                break;
            }
            if started.elapsed() > self.spec.timeout {
                violations.push(format!(
                    "not settled after {:?}: {}",
                    self.spec.timeout,
                    states
                        .iter()
                        .map(|s| s.describe())
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
                break;
            }
            if self.backlog.len() != self.rigs.len() {
                self.backlog = vec![Vec::new(); self.rigs.len()];
            }
            // One lane per rig: while its last command runs, the rig waits; the rigs do not
            // wait for each other. Supervision every 2 s goes after the rig's sling.
            let supervise = last_supervision.elapsed() >= Duration::from_secs(2);
            if supervise {
                last_supervision = Instant::now();
            }
            for (i, state) in states.iter().enumerate() {
                if supervise && self.backlog[i].is_empty() {
                    self.backlog[i] = self.supervision(i);
                }
                if !self.lane_free(i) {
                    continue;
                }
                let free = self.rigs[i].cap.saturating_sub(state.busy_polecats);
                if free > 0 && state.ready_unqueued > 0 {
                    let n = free.min(state.ready_unqueued).to_string();
                    let name = self.rigs[i].name.clone();
                    self.start(
                        i,
                        (
                            "sling --ready".into(),
                            "sling",
                            vec!["--ready".into(), n, name],
                        ),
                    );
                } else if free > 0 && !state.for_a_person.is_empty() {
                    let name = self.rigs[i].name.clone();
                    self.start(
                        i,
                        (
                            "sling BEAD (a person)".into(),
                            "sling",
                            vec![state.for_a_person[0].clone(), name],
                        ),
                    );
                } else if !self.backlog[i].is_empty() {
                    let job = self.backlog[i].remove(0);
                    self.start(i, job);
                }
            }
            if self.spec.faults && self.rng.below(100) < KILL_SESSION_PERCENT {
                self.kill_a_session();
            }
            for _ in 0..10 {
                std::thread::sleep(Duration::from_millis(10));
                self.poll();
            }
        }
        for (_, mut r) in std::mem::take(&mut self.running) {
            let _ = r.child.wait();
        }
        let elapsed = started.elapsed();
        // Detached passes and queue runs finish on their own; give them a moment.
        checks::wait_quiet(&self.spec.dir, Duration::from_secs(20));
        // Then the patrol that cron would run next, unkilled: its housekeeping removes what
        // killed git commands left and nothing else will (a `packed-refs.lock` once it is
        // past git's own 1 s wait by a margin: `gc::STALE_PACKED_REFS_LOCK`).
        if self.spec.bin_dir.join("git-patrol").is_file() {
            let due = elapsed + gastown::store::gc::STALE_PACKED_REFS_LOCK + Duration::from_secs(1);
            std::thread::sleep(due.saturating_sub(started.elapsed()));
            let _ = self.command("patrol", &self.town, &[]).output();
            checks::wait_quiet(&self.spec.dir, Duration::from_secs(20));
        }
        self.collect_done_timings();
        let mut report = Report {
            seed: self.spec.seed,
            rigs: self.spec.rigs,
            agents: self.spec.agents,
            beads: self.spec.beads,
            elapsed_s: elapsed.as_secs_f64(),
            peak_rss_kb: self.peak_rss_kb,
            faults: self.faults.clone(),
            ..Report::default()
        };
        report.violations = violations;
        checks::run(&self, &mut report);
        report.beads_per_minute = report.merged_beads as f64 / (elapsed.as_secs_f64() / 60.0);
        for (name, values) in &self.timings {
            let mut v = values.clone();
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            report.latency.insert(
                name.clone(),
                (v.len(), percentile(&v, 50.0), percentile(&v, 99.0)),
            );
        }
        let mut waits = std::mem::take(&mut report.mq_waits);
        waits.sort_by(|a, b| a.partial_cmp(b).unwrap());
        if !waits.is_empty() {
            report.latency.insert(
                "mq, submitted → merged".into(),
                (
                    waits.len(),
                    percentile(&waits, 50.0),
                    percentile(&waits, 99.0),
                ),
            );
        }
        report
    }

    /// What a supervisor does between the agents' own moves, for rig `i`: with
    /// `git patrol` installed, a patrol pass; otherwise its mechanical part by hand — a
    /// merge pass and a queue run (a killed detached one leaves its work to the next), and
    /// a session start for every agent holding work without a live session (killed, or its
    /// sling killed between the attach and the start).
    fn supervision(&self, i: usize) -> Vec<Job> {
        let rig = &self.rigs[i];
        if self.spec.bin_dir.join("git-patrol").is_file() {
            // The first rig's lane runs the whole-town pass (the town's duties too:
            // landing convoys a killed command left complete), the others their own rig.
            if i == 0 {
                // Patrol does not land a complete convoy that a killed command left open
                // (found by the simulation); any convoy command that sees it does.
                return vec![
                    ("patrol".into(), "patrol", Vec::new()),
                    ("convoy list".into(), "convoy", vec!["list".into()]),
                ];
            }
            return vec![(
                "patrol --rig".into(),
                "patrol",
                vec!["--rig".into(), rig.name.clone()],
            )];
        }
        let mut jobs: Vec<Job> = vec![
            ("mq run".into(), "mq", vec!["run".into()]),
            (
                "sling queue run".into(),
                "sling",
                vec!["queue".into(), "run".into()],
            ),
        ];
        for address in checks::stranded_agents(&self.town, &rig.name) {
            jobs.push(("agent start".into(), "agent", vec!["start".into(), address]));
        }
        jobs
    }

    /// SIGKILL the process group of one live agent session, picked at random.
    fn kill_a_session(&mut self) {
        let mut live: Vec<u32> = Vec::new();
        for rig in &self.rigs {
            let dir = rig.path.join(".git/gastown/sessions");
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !name.ends_with(".json") || name.ends_with(".runtime.json") {
                    continue;
                }
                let Ok(text) = std::fs::read(e.path()) else {
                    continue;
                };
                let Ok(info) = serde_json::from_slice::<Value>(&text) else {
                    continue;
                };
                if let Some(pid) = info["pid"].as_u64() {
                    if Path::new(&format!("/proc/{pid}")).exists() {
                        live.push(pid as u32);
                    }
                }
            }
        }
        if live.is_empty() {
            return;
        }
        live.sort();
        let pid = *self.rng.pick(&live);
        kill_group(pid);
        self.faults.sessions_killed += 1;
    }

    fn collect_done_timings(&mut self) {
        let Ok(text) = std::fs::read_to_string(&self.timings_file) else {
            return;
        };
        for line in text.lines() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            if let [name, ms, status] = parts[..] {
                if status == "0" {
                    if let Ok(ms) = ms.parse::<f64>() {
                        self.timings
                            .entry(format!("agent {name}"))
                            .or_default()
                            .push(ms);
                    }
                }
            }
        }
    }
}

/// File `count` beads in one write: titles say what the scripted agent does; about a
/// third depend on an earlier bead of the rig (their order is the dependency order).
fn file_beads(
    store: &gastown::store::Store,
    actor: &gastown::store::Actor,
    rng: &mut Rng,
    count: usize,
) -> Vec<String> {
    let beads = gastown::bead::Beads::new(store);
    let mut ids: Vec<String> = Vec::new();
    // Small batches: a dependency names a bead that must exist already.
    let mut pending: Vec<gastown::bead::ops::NewBead> = Vec::new();
    let flush = |pending: &mut Vec<gastown::bead::ops::NewBead>, ids: &mut Vec<String>| {
        if pending.is_empty() {
            return;
        }
        let made = beads.create(actor, std::mem::take(pending)).unwrap();
        ids.extend(made.into_iter().map(|r| r.id));
    };
    for i in 0..count {
        let mut title = format!("Simulated change {i}");
        if rng.below(100) < SHARED_PERCENT {
            title.push_str(&format!(" [shared: shared/hot{}.txt]", rng.below(3)));
        }
        if rng.below(100) < BREAKS_PERCENT {
            title.push_str(" [breaks-gate]");
        }
        let mut fields = Map::new();
        fields.insert("priority".into(), json!(rng.below(5)));
        let deps = if !ids.is_empty() && rng.below(3) == 0 {
            let on = ids[rng.below(ids.len() as u64) as usize].clone();
            vec![(on, "blocks".to_string())]
        } else {
            Vec::new()
        };
        pending.push(gastown::bead::ops::NewBead {
            title,
            fields,
            deps,
            ..Default::default()
        });
        if pending.len() >= 50 {
            flush(&mut pending, &mut ids);
        }
    }
    flush(&mut pending, &mut ids);
    ids
}

/// The percentile `p` of sorted values (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// VmHWM of a running process, in KiB.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// SIGKILL a process group (and the process, should it have left the group).
pub fn kill_group(pid: u32) {
    for target in [format!("-{pid}"), pid.to_string()] {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &target])
            .stderr(Stdio::null())
            .status();
    }
}

impl Report {
    /// The report as text: what ran, the checks, the figures.
    pub fn render(&self) -> String {
        let mut out = format!(
            "town simulation: seed {} (replay: GT_SIM_SEED={}), {} rigs, {} agents, {} beads\n",
            self.seed, self.seed, self.rigs, self.agents, self.beads
        );
        out.push_str(&format!(
            "  {:.1} s, {} beads merged ({:.1} beads merged/min), {} rework beads, {} rejections, {} conflicts, {} convoys\n",
            self.elapsed_s, self.merged_beads, self.beads_per_minute, self.rework_beads, self.rejections, self.conflicts, self.convoys
        ));
        out.push_str(&format!(
            "  faults: {} sessions killed, commands killed {:?}\n",
            self.faults.sessions_killed, self.faults.commands_killed
        ));
        out.push_str(&format!(
            "  commits per bead: {:.1} in refs/gastown, {:.2} on the target branches; peak RSS of a command {} KiB\n",
            self.commits_per_bead, self.target_commits_per_bead, self.peak_rss_kb
        ));
        out.push_str("  latency (ms)               runs      p50      p99\n");
        for (name, (runs, p50, p99)) in &self.latency {
            out.push_str(&format!("    {name:<24} {runs:>6} {p50:>8.1} {p99:>8.1}\n"));
        }
        for f in &self.findings {
            out.push_str(&format!("  finding: {f}\n"));
        }
        if self.violations.is_empty() {
            out.push_str("  checks: nothing lost, nothing done twice, nothing left behind\n");
        } else {
            out.push_str(&format!("  VIOLATIONS ({}):\n", self.violations.len()));
            for v in &self.violations {
                out.push_str(&format!("    - {v}\n"));
            }
        }
        out
    }
}
