//! The escalations the queue raises (docs/ESCALATION.md): a request rejected for the
//! `merge_queue.max_retries`-th time (category `failed`, HIGH) and a gate that timed out
//! (category `gate_timeout`, MEDIUM). Raised right after the rejection's write, in the
//! town's store (the request lives in the rig's). The escalation's id derives from the
//! request and its retry count, so a pass re-run after a crash raises it once.

use crate::escalate::{EscalationSpec, Escalations, Severity};
use crate::store::Actor;
use crate::town::Town;

use super::record::{GateFailure, MergeRequest};

/// How much of a gate's log goes into the escalation's body.
const LOG_TAIL_CHARS: usize = 4000;

/// The escalation a rejection of `mr` calls for, if any.
pub fn spec_for(
    rig: &str,
    mr: &MergeRequest,
    escalated: bool,
    why: &str,
    failure: Option<&GateFailure>,
) -> Option<EscalationSpec> {
    let timed_out = failure.is_some_and(|f| f.kind == "timeout");
    let (severity, category) = if escalated {
        (Severity::High, "failed")
    } else if timed_out {
        (Severity::Medium, "gate_timeout")
    } else {
        return None;
    };
    let branch: String = mr.branch.chars().take(60).collect();
    let summary = if escalated {
        format!(
            "merge request {} ({branch}) rejected {} times: {why}",
            mr.id,
            mr.retries + 1
        )
    } else {
        format!("merge request {} ({branch}): {why}", mr.id)
    };
    let summary: String = summary.chars().take(180).collect();
    let mut body = vec![
        format!("Rig: {rig}"),
        format!("Merge request: {}", mr.id),
        format!("Branch: {} -> {}", mr.branch, mr.target),
        format!("Commit: {}", mr.commit),
    ];
    if let Some(b) = &mr.bead {
        body.push(format!("Bead: {b}"));
    }
    if let Some(w) = &mr.worker {
        body.push(format!("Worker: {w}"));
    }
    body.push(format!("Rejections: {}", mr.retries + 1));
    if escalated {
        body.push(
            "It reached merge_queue.max_retries: its bead is blocked until a person decides (`git mq retry` or `git mq reject`).".into(),
        );
    }
    if let Some(f) = failure.filter(|f| !f.log_tail.is_empty()) {
        let tail: Vec<char> = f.log_tail.chars().collect();
        let tail: String = tail[tail.len().saturating_sub(LOG_TAIL_CHARS)..]
            .iter()
            .collect();
        body.push(format!("\nGate '{}' ({}):\n{tail}", f.gate, f.kind));
    }
    Some(EscalationSpec {
        severity,
        summary,
        body: body.join("\n"),
        category: Some(category.into()),
        bead: mr.bead.clone(),
        mr: Some(mr.id.clone()),
        rig: Some(rig.to_string()),
        from: Some(format!("{rig}/refinery")),
        key: Some(format!("mq/{rig}/{}/{}/{category}", mr.id, mr.retries)),
    })
}

/// Raise the escalation of a rejection: its id, or why it could not be raised (the
/// rejection itself stands either way).
pub fn raise(
    town: &Town,
    actor: &Actor,
    rig: &str,
    mr: &MergeRequest,
    escalated: bool,
    why: &str,
    failure: Option<&GateFailure>,
) -> Option<Result<String, String>> {
    let spec = spec_for(rig, mr, escalated, why, failure)?;
    let escalations = Escalations::new(town);
    let made = escalations.create(actor, &spec).or_else(|e| {
        // A bead the town cannot find (deleted, or in a rig it does not list) must not
        // cost the escalation: raised without the link, the body still names it.
        if spec.bead.is_some() {
            let bare = EscalationSpec {
                bead: None,
                ..spec.clone()
            };
            escalations.create(actor, &bare)
        } else {
            Err(e)
        }
    });
    Some(
        made.map(|e| e.escalation.id)
            .map_err(|e| crate::error::one_line(&e.to_string())),
    )
}
