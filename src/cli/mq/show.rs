//! `git mq show ID`.

use super::rig_of;
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::{Error, Result};
use crate::mq::{MergeQueue, MergeRequest};
use crate::town::Town;

/// Show one merge request
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Its id (e.g. gt-mr-1a2b3c4d5e) or a unique prefix
    id: String,
}

pub fn run(ctx: &Ctx, town: &Town, rig: Option<&str>, args: Args) -> Result<i32> {
    // Without --rig, every rig is searched: an id names its rig by its prefix.
    let rigs = match rig {
        Some(_) => vec![rig_of(ctx, town, rig)?],
        None => town
            .rigs()
            .list()
            .or_else(|_| Ok::<_, Error>(vec![rig_of(ctx, town, None)?]))?,
    };
    let mut found: Vec<MergeRequest> = Vec::new();
    let mut last_err = None;
    for rig in rigs {
        match MergeQueue::new(town, rig)?.show(&args.id) {
            Ok(mr) => found.push(mr),
            Err(e) => last_err = Some(e),
        }
    }
    let mr = match found.len() {
        1 => found.remove(0),
        0 => {
            return Err(last_err
                .unwrap_or_else(|| Error::invalid(format!("no merge request '{}'", args.id))))
        }
        _ => {
            return Err(Error::Ambiguous {
                prefix: args.id,
                candidates: found.into_iter().map(|m| m.id).collect(),
            })
        }
    };
    if ctx.global.json {
        return print_json(&mr).map(|()| 0);
    }
    print_text(&describe(&mr)).map(|()| 0)
}

/// The text view of a request (also printed by `retry` and `reject`).
pub fn describe(mr: &MergeRequest) -> String {
    let mut s = format!("{} [{}]\n", text::line(&mr.id), mr.status);
    let failure = mr.failure.as_ref().map(|f| {
        format!(
            "gate {} {}{}",
            f.gate,
            f.kind,
            f.exit_status
                .map(|e| format!(" (exit {e})"))
                .unwrap_or_default()
        )
    });
    for (k, v) in [
        ("branch", Some(mr.branch.clone())),
        ("target", Some(mr.target.clone())),
        ("commit", Some(mr.commit.clone())),
        ("bead", mr.bead.clone()),
        ("worker", mr.worker.clone()),
        ("convoy", mr.convoy.clone()),
        ("priority", Some(mr.priority.to_string())),
        ("retries", Some(mr.retries.to_string())),
        ("created", Some(mr.created_at.clone())),
        ("decided", mr.decided_at.clone()),
        ("merged as", mr.merge_commit.clone()),
        ("reason", mr.reason.clone()),
        ("failure", failure),
        (
            "conflicts",
            (!mr.conflict_files.is_empty()).then(|| mr.conflict_files.join(", ")),
        ),
        ("rework", mr.rework_bead.clone()),
        (
            "also closes",
            (!mr.closes.is_empty()).then(|| mr.closes.join(", ")),
        ),
        ("supersedes", mr.supersedes.clone()),
        ("superseded by", mr.superseded_by.clone()),
        ("escalated", mr.escalated.then(|| "yes".to_string())),
    ] {
        if let Some(v) = v {
            s.push_str(&format!("  {k}: {}\n", text::line(&v)));
        }
    }
    if let Some(tail) = mr
        .failure
        .as_ref()
        .map(|f| &f.log_tail)
        .filter(|t| !t.is_empty())
    {
        s.push_str("  log:\n");
        for line in tail.lines() {
            s.push_str(&format!("    {}\n", text::line(line)));
        }
    }
    s
}
