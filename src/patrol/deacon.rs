//! Deacon work: what Gas Town's Deacon patrol and its dogs did on timers, done once per pass
//! and only where the facts call for it — stale hooks, the scheduler's queue,
//! `dispatch.auto`, molecule gates that came due (`gates.rs`), wisp reaping, checkpoints of
//! dead sessions' dirty sandboxes, housekeeping (`gc --auto`) — plus the town-wide duties of
//! other services (convoy repair, stale escalations, expired advisory locks; `town.rs`).

use serde_json::json;

use super::facts::Polecat;
use super::{Acted, Finding, Pass};
use crate::agent::{hook, Address, STATE_WORKING};
use crate::bead::id::record_path;
use crate::bead::ops::carry_count;
use crate::bead::record::Stamp;
use crate::bead::schema::now_rfc3339;
use crate::bead::{Beads, COLLECTION};
use crate::error::Result;
use crate::gitcmd;
use crate::records;
use crate::session::Sessions;
use crate::sling::{queue, FormulaChoice, Sling, SlingSpec, Target};
use crate::store::{gc, Outcome, Store};
use crate::town::{settings, Rig};

pub(crate) use super::gates::gates;
pub(crate) use super::town::{escalate, town_duties};

pub(crate) fn rig_duties(
    pass: &Pass<'_, '_>,
    rig: &Rig,
    store: &Store,
    polecats: &[Polecat],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut duty = |result: Result<Vec<Finding>>, what: &str| match result {
        Ok(found) => out.extend(found),
        Err(err) => out.push(Finding {
            outcome: "failed".into(),
            error: Some(crate::error::one_line(&err.to_string())),
            ..Finding::new("deacon", what, format!("the {what} duty could not run"))
        }),
    };
    duty(stale_hooks(pass, rig, store, polecats), "stale-hook");
    duty(idle_checkpoints(pass, store, polecats), "checkpoint");
    duty(
        super::half_made::half_made(pass, store, polecats),
        "half-made",
    );
    if !rig.parked {
        duty(drain_queue(pass, rig, store), "queue");
        duty(auto_dispatch(pass, rig, store), "dispatch");
    }
    duty(gates(pass, store), "gate");
    duty(reap_wisps(pass, store), "wisp-reaping");
    duty(housekeeping(pass, store, &rig.path), "housekeeping");
    out
}

/// Beads `hooked` on an agent that is gone, has moved on, or never started and is not
/// alive past `patrol.stale_hook_after`: released (back to `open`). Working agents whose
/// session died are the witness's (restart first), and work handed in by `done` (in
/// progress with a merge request) is the merge queue's.
fn stale_hooks(
    pass: &Pass<'_, '_>,
    rig: &Rig,
    store: &Store,
    polecats: &[Polecat],
) -> Result<Vec<Finding>> {
    let beads = Beads::new(store);
    let snap = beads.snapshot()?;
    let index = beads.index(&snap)?;
    let hooked: Vec<(String, String)> = index
        .rows
        .iter()
        .filter(|r| index.status(r) == "hooked")
        .map(|r| (index.id(r).to_string(), index.assignee(r).to_string()))
        .collect();
    if hooked.is_empty() {
        return Ok(Vec::new());
    }
    let threshold = pass.seconds(Some(store), "patrol.stale_hook_after", 3600) as i64;
    let sessions = Sessions::new(&store.state_dir());
    let mut out = Vec::new();
    for (bead, holder) in hooked {
        let Ok(address) = Address::parse(&holder) else {
            continue; // a person's claim, not an agent's hook
        };
        if address.rig.as_deref() != Some(rig.name.as_str()) {
            continue;
        }
        let agent = records::read(&snap, &address.record_path())?;
        let why = match &agent {
            None => "its agent does not exist".to_string(),
            Some(a) if a.str("state") == Some(crate::agent::STATE_NUKED) => {
                "its agent was nuked".to_string()
            }
            Some(a) if a.str("hook") != Some(bead.as_str()) => {
                "its agent's hook holds something else".to_string()
            }
            Some(a) => {
                let alive = sessions.is_alive(&address.session_name()).unwrap_or(false);
                let working = a.str("state") == Some(STATE_WORKING);
                let polecat_seen = polecats.iter().any(|p| p.agent.address == address);
                if alive || (working && polecat_seen) {
                    continue;
                }
                let record = records::read(&snap, &record_path(&bead))?;
                let since = record
                    .as_ref()
                    .and_then(|r| r.str("attached_at"))
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
                let age = since.map(|t| (pass.now - t.with_timezone(&chrono::Utc)).num_seconds());
                match age {
                    Some(age) if age > threshold => format!(
                        "hooked {age} s ago and never started (patrol.stale_hook_after = {threshold} s)"
                    ),
                    _ => continue,
                }
            }
        };
        let f = Finding::new("deacon", "stale-hook", why)
            .agent(&address)
            .bead(Some(&bead))
            .action("unhook");
        out.push(pass.act(f, || unhook_stale(pass, store, &bead, &address)));
    }
    Ok(out)
}

/// One write: the stale bead back to `open`, and the holder's hook cleared if it points at
/// it. Re-checked inside the write: the bead must still be hooked on that holder, and its
/// session must not have come alive.
fn unhook_stale(pass: &Pass<'_, '_>, store: &Store, bead: &str, holder: &Address) -> Result<Acted> {
    if Sessions::new(&store.state_dir())
        .is_alive(&holder.session_name())
        .unwrap_or(false)
    {
        return Ok(Acted::Skipped("its session is alive".into()));
    }
    let actor = pass.actor;
    store.write(COLLECTION, actor, |snap, batch| {
        let Some(record) = records::read(snap, &record_path(bead))? else {
            return Ok(Outcome::Unchanged(Acted::Skipped(
                "the bead is gone".into(),
            )));
        };
        if record.status() != "hooked"
            || hook::holder_of(&record).as_deref() != Some(holder.to_string().as_str())
        {
            return Ok(Outcome::Unchanged(Acted::Skipped(
                "the bead moved meanwhile".into(),
            )));
        }
        let stamp = Stamp(batch.clock, actor.name.clone());
        hook::release_in(snap, batch, &stamp, bead, holder)?;
        carry_count(snap, batch, 0);
        Ok(Outcome::Commit {
            message: format!("patrol: unhook stale {bead} from {holder}"),
            value: Acted::Done(None),
        })
    })
}

/// Idle polecats whose session ended with uncommitted files (`idle-dirty-sandbox`): a
/// checkpoint commit. Each ended session is looked at once (a marker per session), so a
/// quiet town runs no `git status` at all.
fn idle_checkpoints(
    pass: &Pass<'_, '_>,
    store: &Store,
    polecats: &[Polecat],
) -> Result<Vec<Finding>> {
    let mut out = Vec::new();
    for p in polecats {
        if p.alive || p.hook().is_some() || p.intent.is_some() || !p.sandbox_exists {
            continue;
        }
        let Some(session) = &p.session else { continue };
        let marker = marker_path(store, &p.session_name);
        let key = session.started_at.to_rfc3339();
        if std::fs::read_to_string(&marker).is_ok_and(|k| k.trim() == key) {
            continue;
        }
        let sandbox = p.sandbox.as_ref().expect("exists");
        let dirty = gitcmd::dirty_paths(sandbox).unwrap_or_default();
        if dirty.is_empty() {
            if !pass.dry_run {
                write_marker(&marker, &key);
            }
            continue;
        }
        let f = Finding::new(
            "deacon",
            "idle-dirty-sandbox",
            format!(
                "{} uncommitted file(s) left by an ended session; the sandbox is kept",
                dirty.len()
            ),
        )
        .agent(p.address())
        .action("checkpoint");
        out.push(pass.act(f, || {
            let made = checkpoint_if_dirty(pass, store, p)?;
            write_marker(&marker, &key);
            Ok(match made {
                Some(c) => Acted::Done(Some(format!("checkpointed as {c}"))),
                None => Acted::Skipped("nothing left to checkpoint".into()),
            })
        }));
    }
    Ok(out)
}

fn marker_path(store: &Store, session: &str) -> std::path::PathBuf {
    store
        .state_dir()
        .join("patrol")
        .join("checked")
        .join(format!("{session}.session"))
}

fn write_marker(path: &std::path::Path, key: &str) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(path, format!("{key}\n"));
}

/// A WIP commit of everything uncommitted in the polecat's sandbox, on its own branch
/// `checkpoint/polecat/<name>` (the sandbox's branch, index and files are left exactly as
/// they were; an earlier checkpoint stays reachable as a second parent). The branch@commit,
/// or None when the sandbox is clean.
pub(crate) fn checkpoint_if_dirty(
    pass: &Pass<'_, '_>,
    store: &Store,
    p: &Polecat,
) -> Result<Option<String>> {
    let Some(sandbox) = p.sandbox.as_ref().filter(|s| s.is_dir()) else {
        return Ok(None);
    };
    if gitcmd::dirty_paths(sandbox)?.is_empty() {
        return Ok(None);
    }
    let name = p
        .agent
        .name
        .clone()
        .unwrap_or_else(|| p.session_name.clone());
    let branch = format!("checkpoint/{}/{name}", p.agent.role.as_str());
    let dir = store.state_dir().join("patrol");
    std::fs::create_dir_all(&dir)
        .map_err(|e| crate::error::Error::io(format!("creating {}", dir.display()), e))?;
    let index = dir.join(format!("{}.index", p.session_name));
    let _ = std::fs::remove_file(&index);
    let index_str = index.to_string_lossy().into_owned();
    let actor = pass.actor;
    let env: Vec<(&str, &str)> = vec![
        ("GIT_INDEX_FILE", index_str.as_str()),
        ("GIT_AUTHOR_NAME", actor.name.as_str()),
        ("GIT_AUTHOR_EMAIL", actor.email.as_str()),
        ("GIT_COMMITTER_NAME", actor.name.as_str()),
        ("GIT_COMMITTER_EMAIL", actor.email.as_str()),
    ];
    let git = |args: &[&str]| -> Result<String> {
        let out = gitcmd::output(sandbox, args, &env, None)?;
        if !out.status.success() {
            return Err(crate::error::Error::Git(format!(
                "checkpoint of {}: git {}: {}",
                sandbox.display(),
                args.first().copied().unwrap_or(""),
                crate::error::one_line(&String::from_utf8_lossy(&out.stderr))
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let result = (|| {
        git(&["read-tree", "HEAD"])?;
        git(&["add", "--all"])?;
        let tree = git(&["write-tree"])?;
        if tree == git(&["rev-parse", "HEAD^{tree}"])? {
            return Ok(None); // only ignored files differ
        }
        let head = git(&["rev-parse", "HEAD"])?;
        let previous = store.branch_tip(&branch)?;
        let message = format!(
            "WIP: checkpoint (auto) of {}\n\nBead: {}\nSession: {}\n",
            p.address(),
            p.hook().unwrap_or("-"),
            p.session_name
        );
        let mut args = vec!["commit-tree", tree.as_str(), "-p", head.as_str()];
        if let Some(prev) = &previous {
            args.extend(["-p", prev.as_str()]);
        }
        args.extend(["-m", message.as_str()]);
        let commit = git(&args)?;
        if !store.move_branch(
            &branch,
            &commit,
            previous.as_deref(),
            actor,
            "patrol: checkpoint",
        )? {
            return Err(crate::error::Error::Conflict(format!(
                "{branch} moved during the checkpoint; the next pass tries again"
            )));
        }
        Ok(Some(format!(
            "{branch}@{}",
            &commit[..commit.len().min(10)]
        )))
    })();
    let _ = std::fs::remove_file(&index);
    result
}

/// Queued dispatches start while capacity allows (`git sling queue run`).
fn drain_queue(pass: &Pass<'_, '_>, rig: &Rig, store: &Store) -> Result<Vec<Finding>> {
    let waiting = queue::waiting(store)?;
    if waiting.is_empty() {
        return Ok(Vec::new());
    }
    let f = Finding::new(
        "deacon",
        "queue",
        format!("{} dispatch(es) wait", waiting.len()),
    )
    .action("drain-queue");
    if pass.dry_run {
        return Ok(vec![pass.act(f, || Ok(Acted::Done(None)))]);
    }
    let sling = Sling::new(crate::agent::Agents::new(pass.town));
    let run = sling.drain(pass.actor, &rig.name, pass.library)?;
    if run.dispatched.is_empty() {
        let why = if run.paused { "paused" } else { "no capacity" };
        return Ok(vec![Finding {
            detail: format!("{} dispatch(es) wait ({why})", run.waiting),
            ..f.action("none")
        }]);
    }
    Ok(run
        .dispatched
        .into_iter()
        .map(|d| dispatch_finding("queue", d))
        .collect())
}

fn dispatch_finding(class: &str, d: crate::sling::Dispatch) -> Finding {
    let failed = d.outcome == "failed";
    Finding {
        outcome: if failed { "failed" } else { "done" }.into(),
        error: d.reason.clone().filter(|_| failed),
        agent: d.agent.as_ref().map(|a| a.to_string()),
        bead: Some(d.bead.clone()),
        ..Finding::new("deacon", class, format!("dispatch {}", d.outcome)).action("sling")
    }
}

/// `dispatch.auto`: ready, unassigned beads are slung to the rig — as many as the
/// scheduler's free slots (`scheduler.max_polecats`), else `dispatch.batch` per pass.
fn auto_dispatch(pass: &Pass<'_, '_>, rig: &Rig, store: &Store) -> Result<Vec<Finding>> {
    if !pass.flag(Some(store), "dispatch.auto") {
        return Ok(Vec::new());
    }
    let capacity = pass.agents.capacity(&rig.name)?;
    let slots = if capacity.max_polecats > 0 {
        capacity
            .max_polecats
            .saturating_sub(capacity.rig_polecats as u64)
    } else {
        settings::effective(Some(store), &pass.town.store, "dispatch.batch")?
            .value
            .as_u64()
            .unwrap_or(3)
    };
    if slots == 0 || capacity.full_reason().is_some() {
        return Ok(Vec::new());
    }
    let picked = crate::sling::ready::pickable(store, slots as usize, pass.now.timestamp_millis())?;
    if picked.is_empty() {
        return Ok(Vec::new());
    }
    if pass.dry_run {
        return Ok(picked
            .iter()
            .map(|id| {
                let f = Finding::new("deacon", "dispatch", "ready and unassigned (dispatch.auto)")
                    .bead(Some(id))
                    .action("sling");
                pass.act(f, || Ok(Acted::Done(None)))
            })
            .collect());
    }
    let formula = settings::effective(Some(store), &pass.town.store, "workflow.default_formula")?
        .value
        .as_str()
        .map(str::to_string);
    let parsed = match &formula {
        Some(name) => Some(pass.library.load(name)?),
        None => None,
    };
    let spec = SlingSpec {
        beads: picked,
        target: Target::Rig(rig.name.clone()),
        runtime: None,
        formula: parsed.map(|parsed| FormulaChoice {
            parsed,
            resolver: pass.library,
        }),
        vars: serde_json::Map::new(),
        force: false,
        no_start: false,
    };
    let sling = Sling::new(crate::agent::Agents::new(pass.town));
    Ok(sling
        .sling(pass.actor, &spec)?
        .into_iter()
        .map(|d| dispatch_finding("dispatch", d))
        .collect())
}

/// Closed wisps older than `patrol.wisp_ttl` (24 h) are deleted from the clone-local wisp
/// store (one write).
fn reap_wisps(pass: &Pass<'_, '_>, store: &Store) -> Result<Vec<Finding>> {
    if store
        .refs_under(&Store::ref_name(crate::bead::WISP_COLLECTION))?
        .is_empty()
    {
        return Ok(Vec::new());
    }
    let wisps = Beads::wisps(store);
    let snap = wisps.snapshot()?;
    let index = wisps.index(&snap)?;
    let ttl_ms = pass.seconds(Some(store), "patrol.wisp_ttl", 86_400) as i64 * 1000;
    let cutoff = pass.now.timestamp_millis() - ttl_ms;
    let old: Vec<String> = index
        .rows
        .iter()
        .filter(|r| index.status(r) == "closed" && r.updated_ms > 0 && r.updated_ms < cutoff)
        .map(|r| index.id(r).to_string())
        .collect();
    if old.is_empty() {
        return Ok(Vec::new());
    }
    let f = Finding::new(
        "deacon",
        "wisp-reaping",
        format!(
            "{} closed wisp bead(s) older than {} s",
            old.len(),
            ttl_ms / 1000
        ),
    )
    .action("delete");
    Ok(vec![pass.act(f, || {
        wisps.delete(pass.actor, &old)?;
        Ok(Acted::Done(None))
    })])
}

/// `gc --auto` for the store: only when over git's thresholds, and never waiting for
/// another gc.
pub(crate) fn housekeeping(
    pass: &Pass<'_, '_>,
    store: &Store,
    cwd: &std::path::Path,
) -> Result<Vec<Finding>> {
    if pass.dry_run {
        return Ok(Vec::new());
    }
    let report = gc::run(store, cwd, true, false)?;
    if !report.ran {
        return Ok(Vec::new());
    }
    let mut f = Finding::new(
        "deacon",
        "housekeeping",
        format!(
            "gc --auto: {} → {} loose objects, {} → {} packs",
            report.loose_before, report.loose_after, report.packs_before, report.packs_after
        ),
    )
    .action("gc");
    f.outcome = "done".into();
    Ok(vec![f])
}

/// One write: mark a bead field with the time (so a later pass does not repeat an action).
pub(crate) fn mark_bead(pass: &Pass<'_, '_>, store: &Store, bead: &str, field: &str) -> Result<()> {
    let actor = pass.actor;
    store.write(COLLECTION, actor, |snap, batch| {
        let path = record_path(bead);
        let Some(mut record) = records::read(snap, &path)? else {
            return Ok(Outcome::Unchanged(()));
        };
        let stamp = Stamp(batch.clock, actor.name.clone());
        record.set(field, json!(now_rfc3339()), &stamp);
        records::put(batch, &path, &record);
        carry_count(snap, batch, 0);
        Ok(Outcome::Commit {
            message: format!("patrol: {bead} {field}"),
            value: (),
        })
    })
}
