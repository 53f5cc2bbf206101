//! Polecats whose making was cut off (`half-made-sandbox`): a sling killed between
//! reserving a new polecat's name and finishing its `git worktree add` leaves an idle
//! identity whose sandbox is missing, or a worktree git never finished (its `index.lock`
//! still there, files missing). Sling skips such a polecat for good, so each one is a slot
//! lost to the rig (found by the town simulation). Nothing was ever done there — the
//! identity never ran a session, holds no hook and completed nothing — so patrol nukes it:
//! the half-made worktree and its branch go, the name is free for the next polecat.

use super::facts::Polecat;
use super::{Acted, Finding, Pass};
use crate::error::Result;
use crate::store::Store;

pub(crate) fn half_made(
    pass: &Pass<'_, '_>,
    store: &Store,
    polecats: &[Polecat],
) -> Result<Vec<Finding>> {
    // A worktree add takes seconds; this is far beyond one still running (a big checkout
    // on a loaded machine included).
    let after = pass.seconds(Some(store), "patrol.half_made_after", 600) as i64;
    let mut out = Vec::new();
    for p in polecats {
        let a = &p.agent;
        let never_ran = p.session.is_none()
            && a.runtime.is_none()
            && a.completions.is_empty()
            && a.hook.is_none()
            && p.intent.is_none()
            && !p.alive;
        if !never_ran {
            continue;
        }
        let Some(why) = what_is_missing(p) else {
            continue;
        };
        let age = a
            .added_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| (pass.now - t.with_timezone(&chrono::Utc)).num_seconds());
        if age.is_none_or(|age| age <= after) {
            continue;
        }
        let f = Finding::new(
            "deacon",
            "half-made-sandbox",
            format!("{why}; the polecat never ran, so its name is freed"),
        )
        .agent(p.address())
        .action("nuke");
        out.push(pass.act(f, || {
            // Nothing to lose by construction (checked above); a half checkout shows as
            // uncommitted deletions, which `force` lets go.
            pass.agents.nuke(pass.actor, &a.address, true)?;
            Ok(Acted::Done(None))
        }));
    }
    Ok(out)
}

/// What a cut-off `worktree add` left, if anything.
fn what_is_missing(p: &Polecat) -> Option<String> {
    let sandbox = p.sandbox.as_ref()?;
    if !p.sandbox_exists {
        return Some(format!("its sandbox {} was never made", sandbox.display()));
    }
    let Some(git_dir) = crate::agent::sandbox::worktree_git_dir(sandbox) else {
        return Some(format!(
            "{} has no .git: git never finished it",
            sandbox.display()
        ));
    };
    git_dir.join("index.lock").exists().then(|| {
        format!(
            "{} was left half checked out (git's index.lock is still there)",
            sandbox.display()
        )
    })
}
