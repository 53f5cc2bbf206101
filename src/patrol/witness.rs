//! Witness work: every polecat's facts sorted into Gas Town's zombie classes
//! (`internal/witness/handlers.go`), each with one decided action.
//!
//! | class | facts | action |
//! |---|---|---|
//! | `stuck-in-done` | done intent older than 60 s, session alive | stop the session, finish `done` |
//! | `done-intent-dead` | done intent, session dead | finish `done` |
//! | `bead-closed-while-running` | hooked bead closed or gone, session alive | stop the session, clear the hook; the sandbox stays |
//! | `closed-bead-on-hook` | the same, session dead | clear the hook |
//! | `dispatch-not-started` | hooked by a sling past `patrol.start_grace` (30 s), never started, session dead | start it |
//! | `dead-session-hooked` | working, hook set, session dead | restart (same sandbox, same hook, resumed); the 4th death escalates and releases the bead |
//! | `no-progress` | session alive, no activity past `patrol.stuck_after` | restart, counted as a death |
//! | `self-reported-stuck` | the hooked bead is `blocked` or labelled `stuck` | escalate once |
//! | `idle-dirty-sandbox` | no hook, session ended, uncommitted files | checkpoint (deacon) |
//! | `sandbox-missing` | the sandbox directory is gone | release the hooked bead; report |
//!
//! Restart comes first and a dirty sandbox is never removed. Deaths are counted on the bead
//! (`session_deaths`, with the dead session's start time as `last_session_death`, so a death
//! is counted once however many passes see it) and so survive restarts and clones.

use serde_json::{json, Value};

use super::facts::Polecat;
use super::{deacon, Acted, Finding, Pass, MAX_RESTARTS};
use crate::agent::done::{DoneSpec, DoneStatus};
use crate::agent::hook;
use crate::agent::lifecycle::StartSpec;
use crate::agent::{Address, STATE_IDLE, STATE_WORKING};
use crate::bead::id::record_path;
use crate::bead::ops::carry_count;
use crate::bead::record::{Record, Stamp};
use crate::bead::schema::now_rfc3339;
use crate::bead::COLLECTION;
use crate::error::{Error, Result};
use crate::records;
use crate::session::Sessions;
use crate::store::{Actor, Outcome, Store};
use crate::town::Rig;

/// A `done` intent older than this with its session still alive is stuck.
const DONE_GRACE_SECS: i64 = 60;

pub(crate) fn run(
    pass: &Pass<'_, '_>,
    rig: &Rig,
    store: &Store,
    polecats: &[Polecat],
) -> Vec<Finding> {
    let stuck_after = pass.seconds(Some(store), "patrol.stuck_after", 1800) as i64;
    let mut out = Vec::new();
    for p in polecats {
        if let Some(f) = classify(pass, rig, store, p, stuck_after) {
            out.push(f);
        }
    }
    out
}

fn closed_or_gone(bead: Option<&Record>) -> bool {
    match bead {
        None => true,
        Some(r) => r.is_deleted() || matches!(r.status(), "closed" | "tombstone"),
    }
}

fn classify(
    pass: &Pass<'_, '_>,
    rig: &Rig,
    store: &Store,
    p: &Polecat,
    stuck_after: i64,
) -> Option<Finding> {
    let address = &p.agent.address;
    let me = p.address();
    if let Some(intent) = &p.intent {
        let bead = intent["bead"].as_str().map(str::to_string);
        let age = p.intent_age_secs.unwrap_or(0);
        if p.alive && age <= DONE_GRACE_SECS {
            return None; // a `done` running right now
        }
        let class = if p.alive {
            "stuck-in-done"
        } else {
            "done-intent-dead"
        };
        let detail = format!("an interrupted `done` ({age} s old), session {}", life(p));
        let f = Finding::new("witness", class, detail)
            .agent(&me)
            .bead(bead.as_deref())
            .action(if p.alive {
                "stop-finish-done"
            } else {
                "finish-done"
            });
        return Some(pass.act(f, || finish_done(pass, store, p)));
    }
    let bead_id = p.hook()?;
    let bead = p.bead.as_ref();
    if !p.sandbox_exists {
        let f = Finding::new(
            "witness",
            "sandbox-missing",
            format!(
                "{} is gone; the bead goes back to open (`git agent nuke {me}` frees the name)",
                p.sandbox
                    .as_ref()
                    .map(|s| s.display().to_string())
                    .unwrap_or_else(|| "the sandbox".into())
            ),
        )
        .agent(&me)
        .bead(Some(bead_id));
        if p.alive || closed_or_gone(bead) {
            return Some(f);
        }
        return Some(pass.act(f.action("release"), || {
            release(store, pass.actor, address, bead_id, None, "sandbox missing")
        }));
    }
    if closed_or_gone(bead) {
        let state = bead
            .map(|b| b.status().to_string())
            .unwrap_or_else(|| "gone".into());
        if p.alive {
            let f = Finding::new(
                "witness",
                "bead-closed-while-running",
                format!("bead is {state} while its session runs; the sandbox is kept"),
            )
            .agent(&me)
            .bead(Some(bead_id))
            .action("stop-session");
            return Some(pass.act(f, || stop_closed(pass, store, p, bead_id)));
        }
        let f = Finding::new(
            "witness",
            "closed-bead-on-hook",
            format!("bead is {state}; the hook is cleared"),
        )
        .agent(&me)
        .bead(Some(bead_id))
        .action("clear-hook");
        return Some(pass.act(f, || clear_hook(store, pass.actor, address, bead_id)));
    }
    let bead = bead.expect("not gone");
    if rig.parked {
        return None; // parked rigs start nothing; their agents wait
    }
    if !p.alive {
        if p.agent.state != STATE_WORKING {
            if p.agent.start_pending {
                return interrupted_dispatch(pass, store, p, bead_id, bead);
            }
            return None; // hooked, never started: a stale hook (deacon) once it is old
        }
        return Some(death(
            pass,
            store,
            p,
            bead_id,
            bead,
            "dead-session-hooked",
            "session died",
        ));
    }
    let self_stuck = bead.status() == "blocked" || bead.label_names().any(|l| l == "stuck");
    if self_stuck {
        if bead.get("stuck_escalated_at").is_some() {
            return None;
        }
        let f = Finding::new(
            "witness",
            "self-reported-stuck",
            "the agent says it is stuck",
        )
        .agent(&me)
        .bead(Some(bead_id))
        .action("escalate");
        return Some(pass.act(f, || escalate_stuck(pass, store, p, bead_id)));
    }
    if let Some(last) = p.last_progress() {
        let idle = (pass.now - last).num_seconds();
        if idle > stuck_after {
            return Some(death(
                pass,
                store,
                p,
                bead_id,
                bead,
                "no-progress",
                &format!("no activity for {idle} s (patrol.stuck_after = {stuck_after} s)"),
            ));
        }
    }
    None
}

/// A dispatch attached the bead and was cut off before its session start (killed, or the
/// machine went down): start it, as the sling would have. Given `patrol.start_grace` (30 s)
/// first: a sling's start follows its attach within a second or two, so one that is
/// starting the session right now is not raced.
fn interrupted_dispatch(
    pass: &Pass<'_, '_>,
    store: &Store,
    p: &Polecat,
    bead_id: &str,
    bead: &Record,
) -> Option<Finding> {
    let age = bead
        .str("attached_at")
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| (pass.now - t.with_timezone(&chrono::Utc)).num_seconds())?;
    if age <= pass.seconds(Some(store), "patrol.start_grace", 30) as i64 {
        return None;
    }
    let f = Finding::new(
        "witness",
        "dispatch-not-started",
        format!("hooked by a dispatch {age} s ago whose session never started"),
    )
    .agent(p.address())
    .bead(Some(bead_id))
    .action("start");
    Some(pass.act(f, || {
        let (alive, hooked) = recheck(pass, store, p, bead_id)?;
        if !hooked {
            return Ok(Acted::Skipped("the hook changed meanwhile".into()));
        }
        if alive {
            return Ok(Acted::Skipped("the session started meanwhile".into()));
        }
        let started = pass.agents.start(
            pass.actor,
            &p.agent.address,
            &StartSpec {
                runtime: None,
                prompt: None,
                resume: false,
            },
        )?;
        Ok(Acted::Done(Some(format!(
            "started (pid {})",
            started.session.pid
        ))))
    }))
}

fn life(p: &Polecat) -> &'static str {
    if p.alive {
        "alive"
    } else {
        "dead"
    }
}

/// A death of the bead's session: restart after each of the first [`MAX_RESTARTS`]; the
/// next escalates and releases the bead. A session that is still alive (no progress) is
/// stopped first.
fn death(
    pass: &Pass<'_, '_>,
    store: &Store,
    p: &Polecat,
    bead_id: &str,
    bead: &Record,
    class: &str,
    why: &str,
) -> Finding {
    let key = p.session_key();
    let counted = bead.str("last_session_death") == Some(key.as_str());
    let deaths = deaths_of(bead) + u64::from(!counted);
    let me = p.address();
    let escalate = deaths > MAX_RESTARTS;
    let detail = format!("{why}; death {deaths} of this bead's sessions");
    let action = if escalate {
        "escalate-release"
    } else {
        "restart"
    };
    let f = Finding::new("witness", class, detail)
        .agent(&me)
        .bead(Some(bead_id))
        .action(action);
    pass.act(f, || {
        // Re-check right before acting: a session that came back, or a hook that moved,
        // is not ours to touch.
        let (alive, hooked) = recheck(pass, store, p, bead_id)?;
        if !hooked {
            return Ok(Acted::Skipped("the hook changed meanwhile".into()));
        }
        if class == "dead-session-hooked" && alive {
            return Ok(Acted::Skipped("the session is alive again".into()));
        }
        if alive {
            pass.agents.stop(&p.agent.address)?;
        }
        let checkpoint = deacon::checkpoint_if_dirty(pass, store, p)?;
        let note = checkpoint.map(|c| format!("checkpointed as {c}"));
        if escalate {
            // Escalated first (keyed: raising it again after a crash finds it raised), so
            // released work is never left without a person told.
            let escalated = escalate_death(pass, p, bead_id, deaths)?;
            release(
                store,
                pass.actor,
                &p.agent.address,
                bead_id,
                Some((deaths, &key)),
                "deaths",
            )?;
            let mut notes: Vec<String> = note.into_iter().collect();
            notes.push(format!("bead released to open; {escalated}"));
            return Ok(Acted::Done(Some(notes.join("; "))));
        }
        if !counted {
            record_death(store, pass.actor, bead_id, deaths, &key)?;
        }
        let started = pass.agents.restart(
            pass.actor,
            &p.agent.address,
            &StartSpec {
                runtime: None,
                prompt: None,
                resume: true,
            },
        )?;
        let mut notes: Vec<String> = note.into_iter().collect();
        notes.push(format!(
            "restarted (pid {}{})",
            started.session.pid,
            started
                .resumed
                .as_deref()
                .map(|id| format!(", resuming {id}"))
                .unwrap_or_default()
        ));
        Ok(Acted::Done(Some(notes.join("; "))))
    })
}

pub(crate) fn deaths_of(bead: &Record) -> u64 {
    bead.get("session_deaths")
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// The facts again, fresh: whether the session lives, and whether the bead is still on
/// the agent's hook (and not closed).
fn recheck(pass: &Pass<'_, '_>, store: &Store, p: &Polecat, bead_id: &str) -> Result<(bool, bool)> {
    let _ = pass;
    let alive = Sessions::new(&store.state_dir()).is_alive(&p.session_name)?;
    let snap = store.snapshot(COLLECTION)?;
    let agent = records::read(&snap, &p.agent.address.record_path())?;
    let bead = records::read(&snap, &record_path(bead_id))?;
    let hooked = agent.as_ref().and_then(|a| a.str("hook")) == Some(bead_id)
        && !closed_or_gone(bead.as_ref());
    Ok((alive, hooked))
}

/// One write: the bead's death count.
fn record_death(store: &Store, actor: &Actor, bead: &str, deaths: u64, key: &str) -> Result<()> {
    store.write(COLLECTION, actor, |snap, batch| {
        let path = record_path(bead);
        let mut record = records::read(snap, &path)?.ok_or_else(|| Error::NotFound(bead.into()))?;
        let stamp = Stamp(batch.clock, actor.name.clone());
        if record.str("last_session_death") == Some(key) {
            return Ok(Outcome::Unchanged(()));
        }
        record.set("session_deaths", json!(deaths), &stamp);
        record.set("last_session_death", json!(key), &stamp);
        records::put(batch, &path, &record);
        carry_count(snap, batch, 0);
        Ok(Outcome::Commit {
            message: format!("patrol: {bead} session death {deaths}"),
            value: (),
        })
    })
}

/// One write: take the bead off the agent's hook (back to `open`, no assignee), the agent
/// idle; with `deaths`, the bead's death count too. Re-checked inside the write: only a
/// bead still on this agent's hook is released.
fn release(
    store: &Store,
    actor: &Actor,
    address: &Address,
    bead: &str,
    deaths: Option<(u64, &str)>,
    why: &str,
) -> Result<Acted> {
    store.write(COLLECTION, actor, |snap, batch| {
        let agent_path = address.record_path();
        let Some(mut agent) = records::read(snap, &agent_path)? else {
            return Ok(Outcome::Unchanged(Acted::Skipped(
                "the agent is gone".into(),
            )));
        };
        if agent.str("hook") != Some(bead) {
            return Ok(Outcome::Unchanged(Acted::Skipped(
                "the hook changed meanwhile".into(),
            )));
        }
        let stamp = Stamp(batch.clock, actor.name.clone());
        agent.set("hook", Value::Null, &stamp);
        agent.set("state", json!(STATE_IDLE), &stamp);
        records::put(batch, &agent_path, &agent);
        let path = record_path(bead);
        if let Some(mut record) = records::read(snap, &path)? {
            let mine = hook::holder_of(&record).as_deref() == Some(address.to_string().as_str());
            if mine && !record.is_deleted() && record.status() != "closed" {
                record.set("status", json!("open"), &stamp);
                record.set("assignee", Value::Null, &stamp);
            }
            if let Some((n, key)) = deaths {
                record.set("session_deaths", json!(n), &stamp);
                record.set("last_session_death", json!(key), &stamp);
            }
            record.set("updated_at", json!(now_rfc3339()), &stamp);
            records::put(batch, &path, &record);
        }
        carry_count(snap, batch, 0);
        Ok(Outcome::Commit {
            message: format!("patrol: release {bead} from {address} ({why})"),
            value: Acted::Done(None),
        })
    })
}

/// One write: clear the agent's hook (the bead is closed or gone), the agent idle.
fn clear_hook(store: &Store, actor: &Actor, address: &Address, bead: &str) -> Result<Acted> {
    store.write(COLLECTION, actor, |snap, batch| {
        let path = address.record_path();
        let Some(mut agent) = records::read(snap, &path)? else {
            return Ok(Outcome::Unchanged(Acted::Skipped(
                "the agent is gone".into(),
            )));
        };
        if agent.str("hook") != Some(bead) {
            return Ok(Outcome::Unchanged(Acted::Skipped(
                "the hook changed meanwhile".into(),
            )));
        }
        let stamp = Stamp(batch.clock, actor.name.clone());
        agent.set("hook", Value::Null, &stamp);
        agent.set("state", json!(STATE_IDLE), &stamp);
        records::put(batch, &path, &agent);
        carry_count(snap, batch, 0);
        Ok(Outcome::Commit {
            message: format!("patrol: clear {address}'s hook ({bead} is closed)"),
            value: Acted::Done(None),
        })
    })
}

/// Stop a session whose bead was closed (re-checked first), keep its sandbox, clear the hook.
fn stop_closed(pass: &Pass<'_, '_>, store: &Store, p: &Polecat, bead_id: &str) -> Result<Acted> {
    let snap = store.snapshot(COLLECTION)?;
    let bead = records::read(&snap, &record_path(bead_id))?;
    if !closed_or_gone(bead.as_ref()) {
        return Ok(Acted::Skipped("the bead was reopened".into()));
    }
    if !Sessions::new(&store.state_dir()).is_alive(&p.session_name)? {
        clear_hook(store, pass.actor, &p.agent.address, bead_id)?;
        return Ok(Acted::Done(Some("the session had ended by itself".into())));
    }
    pass.agents.stop(&p.agent.address)?;
    clear_hook(store, pass.actor, &p.agent.address, bead_id)?;
    Ok(Acted::Done(Some("session stopped, sandbox kept".into())))
}

/// Finish an interrupted `done` (stopping a session stuck in it first), as `git agent done`
/// run again would: never a second merge request, never lost work.
fn finish_done(pass: &Pass<'_, '_>, store: &Store, p: &Polecat) -> Result<Acted> {
    let intent = p.intent.as_ref().expect("an intent");
    if Sessions::new(&store.state_dir()).is_alive(&p.session_name)? {
        if p.intent_age_secs.unwrap_or(0) <= DONE_GRACE_SECS {
            return Ok(Acted::Skipped("its `done` is running".into()));
        }
        pass.agents.stop(&p.agent.address)?;
    }
    let status = intent["status"]
        .as_str()
        .and_then(|s| DoneStatus::parse(s).ok())
        .unwrap_or(DoneStatus::Completed);
    let report = pass.agents.done(
        pass.actor,
        &p.agent.address,
        &DoneSpec {
            status,
            note: intent["note"].as_str().map(str::to_string),
            commit: false,
            no_merge: intent["no_merge"].as_bool().unwrap_or(false),
        },
    )?;
    Ok(Acted::Done(Some(match &report.merge_request {
        Some(mr) => format!("merge request {}", mr.id),
        None => "done recorded".to_string(),
    })))
}

/// The agent said it is stuck: escalate once (marked on the bead so later passes do not
/// repeat it).
fn escalate_stuck(pass: &Pass<'_, '_>, store: &Store, p: &Polecat, bead_id: &str) -> Result<Acted> {
    let escalated = super::deacon::escalate(
        pass,
        "help",
        &format!("{} reports it is stuck on {bead_id}", p.address()),
        Some(bead_id),
        &format!("patrol-stuck-{bead_id}-{}", p.session_key()),
    )?;
    deacon::mark_bead(pass, store, bead_id, "stuck_escalated_at")?;
    Ok(Acted::Done(Some(escalated)))
}

/// The 4th death: a person (or the mayor) decides what happens to the work.
fn escalate_death(pass: &Pass<'_, '_>, p: &Polecat, bead_id: &str, deaths: u64) -> Result<String> {
    super::deacon::escalate(
        pass,
        "lifecycle",
        &format!(
            "{bead_id}: {}'s session died {deaths} times; released after {MAX_RESTARTS} restarts",
            p.address()
        ),
        Some(bead_id),
        &format!("patrol-deaths-{bead_id}-{deaths}"),
    )
}
