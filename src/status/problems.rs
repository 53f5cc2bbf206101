//! What in the town needs a person, derived from the facts `status` gathered: nothing here
//! reads more than one small file. Sorted most urgent first: work held by a dead session is
//! work nobody is doing.

use serde::Serialize;

use super::{AgentStatus, Liveness, MergeQueueStatus};
use crate::agent::done::pending_intent;
use crate::agent::{Address, STATE_WORKING};
use crate::error::Error;
use crate::store::Store;
use crate::town::Rig;

/// The kinds of problem, in order of urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// Work is hooked and the session that had it is gone.
    DeadSessionWithWork,
    /// `git agent done` was killed half way: running it again (or patrol) finishes it.
    InterruptedDone,
    /// A live session with work has been quiet longer than `patrol.stuck_after`.
    StuckAgent,
    /// A convoy with open work that no agent or queue is moving.
    StrandedConvoy,
    /// The merge queue could not decide a request (a dirty checkout, a missing gate, races).
    HeldMerge,
    /// A pass died between moving the target and recording it; the next pass finishes it.
    UnfinishedMerge,
    /// A registered rig whose repository cannot be opened.
    RigUnavailable,
}

impl ProblemKind {
    /// How the text view names it.
    pub fn label(self) -> &'static str {
        match self {
            ProblemKind::DeadSessionWithWork => "dead session with work",
            ProblemKind::InterruptedDone => "interrupted done",
            ProblemKind::StuckAgent => "stuck agent",
            ProblemKind::StrandedConvoy => "stranded convoy",
            ProblemKind::HeldMerge => "held merge",
            ProblemKind::UnfinishedMerge => "unfinished merge",
            ProblemKind::RigUnavailable => "rig unavailable",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    /// What it is about: an agent's address, a merge request, a convoy, a rig.
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rig: Option<String>,
    /// The bead concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bead: Option<String>,
    /// One line saying what is wrong and what to run.
    pub message: String,
}

impl Problem {
    pub(super) fn rig_unavailable(rig: &Rig, error: &Error) -> Problem {
        Problem {
            kind: ProblemKind::RigUnavailable,
            subject: rig.name.clone(),
            rig: Some(rig.name.clone()),
            bead: None,
            message: error.to_string(),
        }
    }
}

/// The problems one agent's line shows.
pub(super) fn of_agent(agent: &AgentStatus) -> Option<Problem> {
    let problem = |kind, message: String| Problem {
        kind,
        subject: agent.address.clone(),
        rig: agent.rig.clone(),
        bead: agent.hook.clone(),
        message,
    };
    let hook = agent.hook.as_deref()?;
    // Work started and nothing runs it: a session that died, or a working agent whose
    // session files are gone.
    let dead = agent.liveness == Liveness::Dead
        || (agent.liveness == Liveness::None && agent.state == STATE_WORKING);
    if dead {
        return Some(problem(
            ProblemKind::DeadSessionWithWork,
            format!(
                "{} holds {hook} but its session is dead; `git agent restart {}` resumes it",
                agent.address, agent.address
            ),
        ));
    }
    if agent.stuck {
        let quiet = agent.quiet_for_s.unwrap_or(0);
        return Some(problem(
            ProblemKind::StuckAgent,
            format!(
                "{} has been quiet for {} on {hook}; `git agent peek {}` shows its last output",
                agent.address,
                short_duration(quiet),
                agent.address
            ),
        ));
    }
    None
}

/// An interrupted `done` of the agent, from its intent file.
pub(super) fn interrupted_done(store: &Store, agent: &AgentStatus) -> Option<Problem> {
    let address = Address::parse(&agent.address).ok()?;
    let intent = pending_intent(store, &address)?;
    let bead = intent["bead"].as_str().map(str::to_string);
    Some(Problem {
        kind: ProblemKind::InterruptedDone,
        subject: agent.address.clone(),
        rig: agent.rig.clone(),
        message: format!(
            "{}'s `git agent done` was interrupted; run it again (or `git patrol`) to finish",
            agent.address
        ),
        bead,
    })
}

/// Requests the last pass held, and a merge a killed pass left unrecorded.
pub(super) fn held_merges(mq: &MergeQueueStatus) -> Vec<Problem> {
    let mut out: Vec<Problem> = mq
        .next
        .iter()
        .filter_map(|m| {
            let why = m.held.as_deref()?;
            Some(Problem {
                kind: ProblemKind::HeldMerge,
                subject: m.id.clone(),
                rig: Some(mq.rig.clone()),
                bead: m.bead.clone(),
                message: format!(
                    "{} ({}) is held: {}",
                    m.id,
                    m.branch,
                    why.lines().next().unwrap_or_default()
                ),
            })
        })
        .collect();
    if mq.unfinished_merge {
        out.push(Problem {
            kind: ProblemKind::UnfinishedMerge,
            subject: mq.rig.clone(),
            rig: Some(mq.rig.clone()),
            bead: None,
            message: format!(
                "a merge-queue pass of rig '{}' was killed after moving its target; `git mq run --rig {}` records it",
                mq.rig, mq.rig
            ),
        });
    }
    out
}

/// Most urgent first; within a kind, by subject (a stable order for a status line).
pub(super) fn sort(problems: &mut [Problem]) {
    problems.sort_by(|a, b| a.kind.cmp(&b.kind).then_with(|| a.subject.cmp(&b.subject)));
}

/// `45s`, `12m`, `3h`, `2d`.
pub fn short_duration(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::Role;

    fn agent(address: &str, state: &str, hook: Option<&str>, liveness: Liveness) -> AgentStatus {
        AgentStatus {
            address: address.into(),
            role: Role::Polecat,
            rig: Some("web".into()),
            state: state.into(),
            hook: hook.map(str::to_string),
            hook_title: None,
            runtime: None,
            liveness,
            quiet_for_s: None,
            stuck: false,
            session: None,
        }
    }

    #[test]
    fn work_without_a_live_session_is_a_problem_and_idle_agents_are_not() {
        let dead = agent("web/polecats/a", "working", Some("wb-1"), Liveness::Dead);
        assert_eq!(
            of_agent(&dead).unwrap().kind,
            ProblemKind::DeadSessionWithWork
        );
        // Working with no session files at all: the same.
        let gone = agent("web/polecats/b", "working", Some("wb-2"), Liveness::None);
        assert_eq!(
            of_agent(&gone).unwrap().kind,
            ProblemKind::DeadSessionWithWork
        );
        // Hooked but never started, or dead with nothing hooked: nothing to report.
        assert!(of_agent(&agent(
            "web/polecats/c",
            "idle",
            Some("wb-3"),
            Liveness::None
        ))
        .is_none());
        assert!(of_agent(&agent("web/polecats/d", "idle", None, Liveness::Dead)).is_none());
        let mut stuck = agent("web/polecats/e", "working", Some("wb-4"), Liveness::Alive);
        assert!(of_agent(&stuck).is_none());
        stuck.stuck = true;
        stuck.quiet_for_s = Some(3600);
        let p = of_agent(&stuck).unwrap();
        assert_eq!(p.kind, ProblemKind::StuckAgent);
        assert!(p.message.contains("60m"), "{}", p.message);
    }

    #[test]
    fn problems_sort_by_urgency_then_subject() {
        let p = |kind, subject: &str| Problem {
            kind,
            subject: subject.into(),
            rig: None,
            bead: None,
            message: String::new(),
        };
        let mut list = vec![
            p(ProblemKind::HeldMerge, "mr-1"),
            p(ProblemKind::StuckAgent, "b"),
            p(ProblemKind::DeadSessionWithWork, "z"),
            p(ProblemKind::DeadSessionWithWork, "a"),
        ];
        sort(&mut list);
        let order: Vec<(&str, ProblemKind)> =
            list.iter().map(|p| (p.subject.as_str(), p.kind)).collect();
        assert_eq!(
            order,
            [
                ("a", ProblemKind::DeadSessionWithWork),
                ("z", ProblemKind::DeadSessionWithWork),
                ("b", ProblemKind::StuckAgent),
                ("mr-1", ProblemKind::HeldMerge)
            ]
        );
    }
}
