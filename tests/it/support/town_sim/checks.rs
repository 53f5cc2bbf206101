//! What the simulation watches while it runs (through the library: readers take no lock)
//! and what it checks at the end: nothing lost, nothing done twice, nothing left behind.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gastown::agent::{Agents, Role};
use gastown::bead::Beads;
use gastown::mq::record::MergeRequest;
use gastown::store::Store;
use gastown::town::Town;

use super::{Report, Sim, SimRig};

/// One rig at one moment.
#[derive(Debug, Default)]
pub struct RigState {
    pub name: String,
    pub open_beads: usize,
    pub ready_unqueued: usize,
    /// Ready beads automatic dispatch leaves to a person (released after 4 session
    /// deaths, or 3 failed dispatches): the driver, playing the person who read the
    /// escalation, slings them by name.
    pub for_a_person: Vec<String>,
    pub queued: usize,
    pub unfinished_mrs: usize,
    pub busy_polecats: usize,
    pub live_sessions: usize,
}

impl RigState {
    pub fn read(rig: &SimRig) -> RigState {
        let mut state = RigState {
            name: rig.name.clone(),
            ..RigState::default()
        };
        let Ok(store) = Store::open(&rig.path) else {
            return state;
        };
        let beads = Beads::new(&store);
        let Ok(snap) = beads.snapshot() else {
            return state;
        };
        let Ok(index) = beads.index(&snap) else {
            return state;
        };
        state.open_beads = index
            .rows
            .iter()
            .filter(|r| !["closed", "tombstone"].contains(&index.status(r)))
            .count();
        let queued: BTreeSet<String> = gastown::sling::queue::waiting(&store)
            .map(|q| q.into_iter().map(|e| e.bead).collect())
            .unwrap_or_default();
        state.queued = queued.len();
        let filter = gastown::bead::query::Filter {
            unassigned: true,
            ..Default::default()
        };
        let now = chrono::Utc::now().timestamp_millis();
        if let Ok((rows, _)) = gastown::bead::query::ready(
            &snap,
            &index,
            &filter,
            gastown::bead::query::Sort::Priority,
            100_000,
            now,
        ) {
            let pickable =
                gastown::sling::ready::pickable(&store, usize::MAX, now).unwrap_or_default();
            state.ready_unqueued = pickable.len();
            state.for_a_person = rows
                .into_iter()
                .map(|i| index.id(&index.rows[i]).to_string())
                .filter(|id| !queued.contains(id) && !pickable.contains(id))
                .collect();
        }
        state.unfinished_mrs = gastown::mq::record::list_in(&snap)
            .map(|mrs| mrs.iter().filter(|m| unfinished(m)).count())
            .unwrap_or(0);
        if let Ok(town) = Town::discover(&rig.path) {
            if let Ok(views) = Agents::new(&town).list_views(Some(&rig.name), false) {
                for v in views {
                    let alive = v.session.as_ref().is_some_and(|s| s.alive);
                    state.live_sessions += usize::from(alive);
                    if v.agent.role == Role::Polecat && (alive || v.agent.hook.is_some()) {
                        state.busy_polecats += 1;
                    }
                }
            }
        }
        state
    }

    /// Every bead closed, nothing queued or waiting to merge, no session running.
    pub fn settled(&self) -> bool {
        self.open_beads == 0
            && self.queued == 0
            && self.unfinished_mrs == 0
            && self.live_sessions == 0
    }

    pub fn describe(&self) -> String {
        format!(
            "{}: {} beads not closed ({} ready), {} queued, {} requests unfinished, {} busy polecats, {} live sessions",
            self.name,
            self.open_beads,
            self.ready_unqueued,
            self.queued,
            self.unfinished_mrs,
            self.busy_polecats,
            self.live_sessions
        )
    }
}

fn unfinished(mr: &MergeRequest) -> bool {
    ["open", "conflict"].contains(&mr.status.as_str())
        || (mr.status == "rejected" && mr.superseded_by.is_none())
}

/// No convoy is still open (a complete one is landed by the next command that sees it, or
/// by patrol's town duties).
pub fn convoys_settled(town_root: &Path) -> bool {
    let Ok(town) = Town::discover(town_root) else {
        return false;
    };
    gastown::convoy::Convoys::new(&town)
        .all()
        .is_ok_and(|all| all.iter().all(|c| !c.is_active()))
}

/// Agents of `rig` holding a bead with no live session: killed, or their sling was killed
/// between the attach and the start.
pub fn stranded_agents(town_root: &Path, rig: &str) -> Vec<String> {
    let Ok(town) = Town::discover(town_root) else {
        return Vec::new();
    };
    let Ok(views) = Agents::new(&town).list_views(Some(rig), false) else {
        return Vec::new();
    };
    views
        .into_iter()
        .filter(|v| v.agent.hook.is_some() && !v.session.as_ref().is_some_and(|s| s.alive))
        .map(|v| v.agent.address.to_string())
        .collect()
}

/// Processes (other than this one) whose working directory is under `dir`.
pub fn processes_under(dir: &Path) -> Vec<(u32, String)> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(cwd) = std::fs::read_link(e.path().join("cwd")) else {
            continue;
        };
        if !cwd.starts_with(dir) {
            continue;
        }
        // A zombie holds nothing; a container's init may never reap it.
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        if stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        {
            continue;
        }
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        out.push((pid, cmdline.trim().to_string()));
    }
    out
}

/// Wait (up to `limit`) until no process works under `dir`.
pub fn wait_quiet(dir: &Path, limit: Duration) {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let started = Instant::now();
    while !processes_under(&dir).is_empty() && started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn git(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("git runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every end-state check; what is wrong goes into `report.violations`, the counts into the
/// report's figures.
pub fn run(sim: &Sim, report: &mut Report) {
    let v = &mut report.violations;
    let mut gastown_commits = 0usize;
    let mut target_commits = 0usize;
    let mut work_beads = 0usize;
    for rig in &sim.rigs {
        let store = Store::open(&rig.path).expect("rig store opens");
        let beads = Beads::new(&store);
        let snap = beads.snapshot().unwrap();
        let index = beads.index(&snap).unwrap();
        let mrs = gastown::mq::record::list_in(&snap).unwrap();
        work_beads += rig.work.len();

        // 1. Every bead closed, each by exactly one merged request (a rework bead and the
        // bead it reworks by the same one), and closed by exactly one write in the history.
        let mut closers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let ms = |t: &str| chrono::DateTime::parse_from_rfc3339(t).map(|t| t.timestamp_millis());
        for mr in mrs.iter().filter(|m| m.status == "merged") {
            for b in mr.beads_to_close() {
                closers.entry(b).or_default().push(mr.id.clone());
            }
            if let (Ok(from), Some(Ok(to))) = (ms(&mr.created_at), mr.decided_at.as_deref().map(ms))
            {
                report.mq_waits.push((to - from) as f64);
            }
        }
        report.rejections += mrs
            .iter()
            .filter(|m| m.failure.is_some() || m.status == "rejected")
            .count();
        report.conflicts += mrs.iter().filter(|m| m.rework_bead.is_some()).count();
        let (_, log, _) = git(&rig.path, &["log", "--format=%s", "refs/gastown/beads"]);
        let mut close_writes: BTreeMap<String, usize> = BTreeMap::new();
        for subject in log.lines() {
            if let Some((_, list)) = subject.split_once(": closes ") {
                for id in list.split(", ") {
                    *close_writes.entry(id.trim().to_string()).or_default() += 1;
                }
            } else if subject.starts_with("close ")
                || subject.starts_with("bead close")
                || subject.starts_with("reopen")
            {
                v.push(format!(
                    "{}: a close or reopen outside the merge queue: {subject}",
                    rig.name
                ));
            }
        }
        for row in &index.rows {
            let id = index.id(row);
            let status = index.status(row);
            if status == "tombstone" {
                continue;
            }
            if !rig.work.iter().any(|w| w == id) {
                report.rework_beads += 1;
            }
            if status != "closed" {
                v.push(format!("{}: bead {id} is {status}, not closed", rig.name));
                continue;
            }
            match closers.get(id).map(Vec::len).unwrap_or(0) {
                1 => {}
                n => v.push(format!(
                    "{}: bead {id} closed by {n} merged requests: {:?}",
                    rig.name,
                    closers.get(id)
                )),
            }
            match close_writes.get(id).copied().unwrap_or(0) {
                1 => {}
                n => v.push(format!(
                    "{}: bead {id} closed by {n} writes in the history",
                    rig.name
                )),
            }
        }
        for id in &rig.work {
            if index.rows.iter().all(|r| index.id(r) != id) {
                v.push(format!("{}: bead {id} is gone", rig.name));
            }
        }
        report.merged_beads += rig
            .work
            .iter()
            .filter(|id| closers.contains_key(*id))
            .count();

        // 2. Every work bead's change (its marker line) is on the target exactly once: in
        // the tree, and added by exactly one commit of its history.
        let (_, tree, _) = git(
            &rig.path,
            &["grep", "-h", "-E", "^bead [a-z0-9.-]+$", "main", "--"],
        );
        let mut in_tree: BTreeMap<String, usize> = BTreeMap::new();
        for line in tree.lines() {
            let marker = line.rsplit_once(':').map_or(line, |(_, l)| l);
            *in_tree
                .entry(marker.trim_start_matches("bead ").to_string())
                .or_default() += 1;
        }
        let (_, patch, _) = git(
            &rig.path,
            &["log", "-p", "--format=", "--no-renames", "main"],
        );
        let mut added: BTreeMap<String, usize> = BTreeMap::new();
        for line in patch.lines() {
            if let Some(id) = line.strip_prefix("+bead ") {
                *added.entry(id.trim().to_string()).or_default() += 1;
            }
        }
        for id in &rig.work {
            let t = in_tree.get(id).copied().unwrap_or(0);
            let a = added.get(id).copied().unwrap_or(0);
            if t != 1 || a != 1 {
                v.push(format!(
                    "{}: bead {id}'s change is {t} times in main's tree, added by {a} commits",
                    rig.name
                ));
            }
        }
        for id in in_tree.keys().filter(|id| !rig.work.contains(id)) {
            v.push(format!(
                "{}: main holds a change of an unknown bead {id}",
                rig.name
            ));
        }
        let (_, broken, _) = git(
            &rig.path,
            &["ls-tree", "-r", "--name-only", "main", "broken/"],
        );
        if !broken.trim().is_empty() {
            v.push(format!(
                "{}: main holds what breaks the gate: {}",
                rig.name,
                broken.trim()
            ));
        }

        // 3. Nothing left behind: sandboxes belong to agents, no session alive, no lock held.
        let town = Town::discover(&rig.path).unwrap();
        let agents = Agents::new(&town)
            .list_views(Some(&rig.name), false)
            .unwrap();
        let mut sandboxes: BTreeSet<String> = BTreeSet::new();
        for a in &agents {
            if a.session.as_ref().is_some_and(|s| s.alive) {
                v.push(format!(
                    "{}: session of {} still alive",
                    rig.name, a.agent.address
                ));
            }
            if let Some(hook) = &a.agent.hook {
                v.push(format!(
                    "{}: {} still holds {hook}",
                    rig.name, a.agent.address
                ));
            }
            if let Some(p) = &a.agent.sandbox {
                if !p.is_dir() {
                    // A sling killed between reserving a new polecat's name and making its
                    // sandbox: an idle identity with nothing in it, never picked again
                    // (a leak, not a loss; patrol's to clean up).
                    report.findings.push(format!(
                        "{}: {} has no sandbox (its sling was killed while adding it)",
                        rig.name, a.agent.address
                    ));
                    continue;
                }
                sandboxes.insert(canonical(p));
            }
        }
        let (_, worktrees, _) = git(&rig.path, &["worktree", "list", "--porcelain"]);
        let scratch = canonical(&rig.path.join(".git/gastown/mq/scratch"));
        for wt in worktrees
            .lines()
            .filter_map(|l| l.strip_prefix("worktree "))
        {
            let wt = canonical(Path::new(wt));
            if wt != canonical(&rig.path) && wt != scratch && !sandboxes.contains(&wt) {
                v.push(format!("{}: worktree {wt} belongs to no agent", rig.name));
            }
        }
        for kind in ["polecats", "crew"] {
            let dir = town.root.join("rigs").join(&rig.name).join(kind);
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let p = canonical(&e.path());
                if !sandboxes.contains(&p) {
                    v.push(format!(
                        "{}: sandbox directory {p} belongs to no agent",
                        rig.name
                    ));
                }
            }
        }
        locks_free(&rig.path.join(".git"), &rig.name, v);
        fsck(&rig.path, &rig.name, v);

        // Figures: commits of the gastown refs, and of the target, per bead.
        let (_, refs, _) = git(
            &rig.path,
            &["for-each-ref", "--format=%(refname)", "refs/gastown/"],
        );
        let refs: Vec<&str> = refs.lines().collect();
        let mut args = vec!["rev-list", "--count"];
        args.extend(refs.iter().copied());
        if !refs.is_empty() {
            gastown_commits += git(&rig.path, &args).1.trim().parse::<usize>().unwrap_or(0);
        }
        target_commits += git(&rig.path, &["rev-list", "--count", "main"])
            .1
            .trim()
            .parse::<usize>()
            .unwrap_or(1)
            - 1;
    }
    // 4. Every convoy landed exactly once: recorded once (one landing write in the town's
    // history), its one "Convoy landed" message sent.
    let town = Town::discover(&sim.town).unwrap();
    let (_, town_log, _) = git(&sim.town, &["log", "--format=%s", "refs/gastown/beads"]);
    let convoys = gastown::convoy::Convoys::new(&town).all().unwrap();
    report.convoys = convoys.len();
    for c in &convoys {
        let writes = town_log
            .lines()
            .filter(|l| {
                l.strip_prefix("convoy land ")
                    .is_some_and(|ids| ids.split(", ").any(|i| i.trim() == c.id))
            })
            .count();
        if c.status != "landed" || c.landings != 1 || writes != 1 {
            v.push(format!(
                "convoy {} ({}): status {}, {} landings, {} landing writes",
                c.id, c.name, c.status, c.landings, writes
            ));
        }
        if c.mailed != c.landings {
            v.push(format!(
                "convoy {}: landing message sent for landing {} of {}",
                c.id, c.mailed, c.landings
            ));
        }
    }
    locks_free(&sim.town.join(".git"), "town", v);
    fsck(&sim.town, "town", v);
    let leftover = processes_under(&std::fs::canonicalize(&sim.spec.dir).unwrap());
    for (pid, cmd) in leftover {
        v.push(format!("process {pid} still runs in the town: {cmd}"));
    }
    // A sling killed inside `git worktree add` leaves a half-made sandbox with git's
    // index.lock: an idle polecat never picked again (a leak, not a loss; patrol's to
    // clean up). Reported apart, like a polecat with no sandbox.
    let (leaks, rest): (Vec<String>, Vec<String>) = std::mem::take(&mut report.violations)
        .into_iter()
        .partition(|m| m.contains("/.git/worktrees/") && m.ends_with("/index.lock"));
    report.violations = rest;
    report.findings.extend(leaks);
    report.commits_per_bead = gastown_commits as f64 / work_beads.max(1) as f64;
    report.target_commits_per_bead = target_commits as f64 / work_beads.max(1) as f64;
}

fn canonical(p: &Path) -> String {
    std::fs::canonicalize(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// No lock is held under `git_dir` (flock probes of the suite's lock files), and git left
/// no lock file of its own (a stale `*.lock` blocks the next writer of that ref or index).
fn locks_free(git_dir: &Path, what: &str, v: &mut Vec<String>) {
    let mut stack = vec![git_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "lock") {
                continue;
            }
            let ours = p.components().any(|c| c.as_os_str() == "gastown");
            if !ours {
                v.push(format!(
                    "{what}: git lock file left behind: {}",
                    p.display()
                ));
                continue;
            }
            // flock(1) exits with -E's code when the lock is held by someone else.
            let probe = Command::new("flock")
                .args(["-n", "-E", "99"])
                .arg(&p)
                .arg("true")
                .stdin(Stdio::null())
                .status();
            match probe.map(|s| s.code()) {
                Ok(Some(0)) => {}
                Ok(Some(99)) => v.push(format!("{what}: lock still held: {}", p.display())),
                other => v.push(format!(
                    "{what}: lock {} not probed: {other:?}",
                    p.display()
                )),
            }
        }
    }
}

fn fsck(dir: &Path, what: &str, v: &mut Vec<String>) {
    let (ok, _, stderr) = git(dir, &["fsck", "--strict", "--no-progress"]);
    if !ok || stderr.contains("error") {
        v.push(format!(
            "{what}: git fsck --strict: {}",
            stderr.lines().take(5).collect::<Vec<_>>().join(" | ")
        ));
    }
}
